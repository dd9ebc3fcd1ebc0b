/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef BINDING_H
#define BINDING_H 1

/* vNIC binding and incremental flow computation.
 *
 * A vNIC is an Interface on the integration bridge whose external_ids
 * carry "iface-id".  binding_run() finds them, looks each one up in the
 * Tenant DB by Port.iface_id (never by the OVS port's name: libvirt names
 * taps vnet0, vnet1, ... and reuses the names), and:
 *
 *   - binds it if a Port has that iface-id and, when the hypervisor wrote
 *     "attached-mac", the MAC agrees: claims the Port for this chassis,
 *     gives the vNIC a conntrack zone, and computes its flows;
 *   - reports it as "unknown" (no Port) or "refused" (MAC mismatch) and
 *     gives it no flow at all;
 *   - unbinds it when its Interface, its iface-id or its Port goes away:
 *     its flows go, its zone is flushed and freed, and the Port is released.
 *
 * Incremental processing: binding_run() looks only at the Interfaces and
 * Ports that the databases report as changed (OVSDB IDL change tracking);
 * the rest of the walk over br-int's ports is pointer chasing.  A vNIC
 * looked at keeps a signature of everything its flows depend on (ofport,
 * MAC, addresses, port security, network): only if the signature changed
 * are its flows recomputed, and only a network whose membership or uplink
 * changed has its flooding flows recomputed.  Installed marks wait in a
 * list of their own.  So the work done for a change is proportional to the
 * change, not to the host.  Changes to networks or tenants, which touch
 * many vNICs at once, and anything the caller could not track, fall back
 * to looking at every vNIC.  A full recompute (binding_recompute()) must
 * always give the same flows; the "recompute" command checks it.
 *
 * Once the switch confirms a vNIC's flows (ofctrl_acked_seqno()), the
 * Interface gets external_ids:bulkhead-installed=true and the Port up=true. */

#include <stdbool.h>
#include <stdint.h>
#include "controller/ct-zone.h"
#include "controller/flow-table.h"
#include "openvswitch/hmap.h"
#include "openvswitch/list.h"
#include "hmapx.h"

struct ds;
struct ovsdb_idl;
struct ovsdb_idl_index;
struct ovsdb_idl_txn;
struct ovsrec_bridge;
struct bhrec_chassis;

/* What binding_run() works from. */
struct binding_input {
    const struct ovsrec_bridge *br_int;        /* The integration bridge. */
    const struct bhrec_chassis *chassis;       /* This host, or NULL. */
    struct ovsdb_idl *ovs_idl;                 /* The local OVSDB. */
    struct ovsdb_idl *tdb_idl;                 /* The Tenant DB. */
    struct ovsdb_idl_index *port_by_iface_id;  /* Tenant DB Port index. */
    const char *uplink;         /* Name of the uplink interface, or NULL. */
    bool tracked;               /* The IDLs' change tracking holds every
                                 * change since the last run. */
    struct ovsdb_idl_txn *ovs_txn;   /* For Interface marks, or NULL. */
    struct ovsdb_idl_txn *tdb_txn;   /* For Port claims and up, or NULL. */
};

/* The vNICs of this host and the flows they need. */
struct binding {
    struct hmap vnics;          /* Contains struct local_vnic, by iface-id. */
    struct hmap vnics_by_port;  /* Bound local_vnics, by Port UUID. */
    struct ovs_list marks;      /* local_vnics awaiting installed marks. */
    struct hmapx claim_retry;   /* local_vnics whose claim must be retried. */
    char *uplink_name;          /* Name the uplink was looked up by. */
    struct hmap networks;       /* Contains struct local_net, by key. */
    struct ct_zones zones;      /* Conntrack zones. */
    struct flow_table desired;  /* The flows the switch should hold. */
    int64_t uplink_ofport;      /* The uplink's ofport, or 0. */
    bool zones_loaded;          /* 'zones' read from the bridge. */
    bool need_recompute;        /* Next run recomputes everything. */
    bool strays_released;       /* Stray Port claims were let go. */
};

void binding_init(struct binding *);
void binding_destroy(struct binding *);
void binding_run(struct binding *, const struct binding_input *);
void binding_recompute(struct binding *);
void binding_note_put(struct binding *, uint64_t seqno);
bool binding_mark_installed(struct binding *, const struct binding_input *,
                            uint64_t acked_seqno);
bool binding_marks_pending(const struct binding *);

void binding_list(const struct binding *, struct ds *);
bool binding_show(const struct binding *, const char *name, struct ds *);
bool binding_flows(const struct binding *, const char *name, struct ds *);
void binding_tenants(const struct binding *, struct ds *);

#endif /* binding.h */
