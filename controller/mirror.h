/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef MIRROR_H
#define MIRROR_H 1

/* The mirror engine node: copies of vNICs' traffic for an operator's
 * analysis port or a remote collector (the Tenant DB's Mirror table).
 *
 * A Mirror names a source (one Port, or every Port of a Network), a
 * direction ("out": what the VMs send, "in": what they receive, "both")
 * and a destination: the iface-id of an analysis port on this host, or
 * "gre" or "erspan" and the IPv4 address of a collector.  Each controller
 * installs the copies of the source vNICs bound on its host, so a mirror
 * follows its VM.  The copy is made where the firewall's verdict is
 * known: in table MIRROR_EGRESS (looked up from the egress verdict, table
 * 22, and, for a vNIC without a firewall, from its port security flow) and
 * MIRROR_INGRESS (from table 43, or table 50): per mirrored vNIC and side,
 * one flow for what the firewall denied (reg13 = 0) and one for the rest,
 * each a clone per mirror that pushes the tag MIRROR_TAG() (a VLAN ID to
 * an analysis port, the GRE key or the ERSPAN session ID to a collector)
 * and outputs the copy.
 *
 * An analysis port is an operator's: an Interface on br-int marked
 * external_ids:bulkhead-analysis=true whose iface-id no Port of the Tenant
 * DB has, and that is neither the uplink nor a tunnel port of br-int.  It
 * gets no flow but a drop of whatever it sends (table 0); only mirrors'
 * copies go to it.  A mirror whose destination is a tenant Port's
 * iface-id, or an Interface not so marked, installs nothing, and is logged
 * at WARN once and counted (coverage mirror_refused).
 *
 * The GRE port, MIRROR_GRE_PORT (remote_ip=flow, key=flow), exists while a
 * GRE mirror has a source vNIC here, the ERSPAN port, MIRROR_ERSPAN_PORT
 * (the same, and erspan_ver=1, erspan_idx=flow: ERSPAN type II, whose
 * index is the mirrored vNIC's port key), while an ERSPAN mirror has;
 * what they receive is dropped.
 *
 * The node recomputes all of its flows (owners "mir:") when a Mirror row
 * changes, when a vNIC that a mirror's source names is bound or unbound,
 * when a Port with a destination's or an analysis port's iface-id changes,
 * when an analysis port or a destination Interface changes, and when a
 * tunnel port's ofport does: its cost is the mirrors and the vNICs of the
 * networks they name, and nothing while there is no mirror and no analysis
 * port. */

#include <stdbool.h>
#include <stdint.h>
#include "openvswitch/hmap.h"
#include "smap.h"
#include "sset.h"

struct binding;
struct flow_table;
struct ovsdb_idl;
struct ovsrec_bridge;
struct ovsrec_interface;
struct ovsdb_idl_txn;

/* The mirror node's owner prefix. */
#define MIRROR_OWNERS "mir:"

/* br-int's GRE port for mirrors to remote collectors. */
#define MIRROR_GRE_PORT "bh-gre"

/* br-int's ERSPAN port for mirrors to remote collectors. */
#define MIRROR_ERSPAN_PORT "bh-erspan"

/* The tunnel ports that mirrors send through. */
enum mirror_tunnel_kind {
    MIRROR_TNL_GRE,             /* MIRROR_GRE_PORT: the GRE key is the
                                 * tag. */
    MIRROR_TNL_ERSPAN,          /* MIRROR_ERSPAN_PORT: ERSPAN type II, the
                                 * session ID is the tag, the index the
                                 * vNIC's port key. */
    MIRROR_N_TNLS               /* Their number. */
};

/* The Interface mark of an analysis port. */
#define MIRROR_ANALYSIS_KEY "bulkhead-analysis"

/* The VLAN ID (analysis port), GRE key or ERSPAN session ID (collector)
 * of a copy: 1 what a
 * vNIC sent and its egress firewall allowed, 2 what it sent and its egress
 * firewall dropped, 3 what it received and its ingress firewall allowed, 4
 * what it received and its ingress firewall dropped. */
#define MIRROR_TAG(EGRESS, DENIED) (((EGRESS) ? 1 : 3) + ((DENIED) ? 1 : 0))

/* The most mirrors that may copy one vNIC (as OVS's own mirrors, per
 * bridge).  Its clones share one flow, whose actions OpenFlow limits to
 * 64 kB: a mirror over the limit is refused, in name order, rather than
 * the flow, and with it every mirror of the vNIC. */
#define MIRROR_MAX_PER_VNIC 32

/* The state of one of the mirrors' tunnel ports. */
struct mirror_tunnel {
    int64_t ofport;             /* Its ofport that the flows use, or 0. */
    int64_t read;               /* Its ofport, as last read. */
    bool done;                  /* The port is as 'wanted' says, as of the
                                 * last read... */
    bool done_wanted;           /* ...for this value of 'wanted'. */
    bool wanted;                /* A mirror through it has sources here. */
};

/* The mirror node's state. */
struct mirror {
    struct hmap entries;        /* struct mirror_entry, by name: every
                                 * Mirror row, as last computed. */
    struct smap warned;         /* Mirrors refused or invalid, and why, as
                                 * logged (each once). */
    struct sset src_ifaces;     /* iface-ids of the mirrors' source vNICs
                                 * bound here, whatever the mirrors'
                                 * state. */
    struct sset src_rows;       /* UUIDs (text) of the Ports and Networks
                                 * that mirrors name as sources. */
    struct sset dest_ifaces;    /* iface-ids that mirrors send to. */
    struct sset dest_rows;      /* UUIDs (text) of br-int's Interfaces that
                                 * have one of 'dest_ifaces', marked or
                                 * not: one whose iface-id changes may
                                 * leave a destination unambiguous. */
    struct sset analysis;       /* UUIDs (text) of the analysis ports'
                                 * Interfaces, and their iface-ids. */
    char *uplink;               /* The configured uplink's name as last
                                 * computed with (never an analysis port),
                                 * or NULL. */
    struct mirror_tunnel tnls[MIRROR_N_TNLS];  /* The tunnel ports, by
                                                * enum mirror_tunnel_kind. */
    unsigned int tnl_seqno;     /* Local OVSDB seqno of their last read. */
};

void mirror_init(struct mirror *);
void mirror_destroy(struct mirror *);

void mirror_recompute(struct mirror *, const struct binding *,
                      const struct ovsrec_bridge *, const char *uplink,
                      struct ovsdb_idl *tdb,
                      const int64_t tnl_ofports[MIRROR_N_TNLS],
                      struct flow_table *);
bool mirror_handle_ovs(const struct mirror *, struct ovsdb_idl *ovs);
bool mirror_handle_binding(const struct mirror *, const struct binding *,
                           struct ovsdb_idl *ovs, struct ovsdb_idl *tdb);
bool mirror_handle_tdb(const struct mirror *, struct ovsdb_idl *tdb);
bool mirror_handle_uplink(const struct mirror *, const char *uplink);
bool mirror_tunnels_changed(const struct mirror *,
                            const int64_t tnl_ofports[MIRROR_N_TNLS]);

void mirror_read_tunnels(struct mirror *, const struct ovsrec_bridge *,
                         struct ovsdb_idl *ovs,
                         int64_t tnl_ofports[MIRROR_N_TNLS]);
void mirror_ensure_tunnels(struct mirror *, const struct ovsrec_bridge *,
                           struct ovsdb_idl_txn *);

bool mirror_is_analysis_port(const struct mirror *,
                             const struct ovsrec_interface *);
void mirror_register_commands(const struct mirror *, struct ovsdb_idl *tdb);

#endif /* mirror.h */
