/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef BINDING_H
#define BINDING_H 1

/* vNIC binding: iface-id to Port, claims and releases.
 *
 * A vNIC is an Interface on the integration bridge whose external_ids
 * carry "iface-id" and that has an ofport.  The binding module finds them,
 * looks each one up in the Tenant DB by Port.iface_id (never by the OVS
 * port's name: libvirt names taps vnet0, vnet1, ... and reuses the names),
 * and:
 *
 *   - binds it if a Port has that iface-id, the Port (with its network and
 *     groups) is valid, when the hypervisor wrote "attached-mac" the MAC
 *     agrees, and no other vNIC of the network comes first for one of the
 *     L2 addresses it wants (mac-owners.h has the rule): converts the Port
 *     through the Tenant DB library (tenant-db.h) into the policy model,
 *     gives the vNIC a conntrack zone (ct-zone.h), claims the Port for this
 *     chassis;
 *   - reports it as "unknown" (no Port) or "refused" (why is in its
 *     'reason');
 *   - unbinds it when its Interface, its iface-id or its Port goes away:
 *     its zone is freed and the Port is released.  A vNIC that was refused
 *     because another came first for an L2 address is judged again when
 *     that other one leaves or changes.
 *
 * A run reads rows first, then decides: binding_handle_ovs_changes() and
 * binding_handle_tdb_changes() (in that order, in one run) read the rows
 * of the vNICs that changed and place their L2 bids, and the second one,
 * like binding_recompute(), then decides what becomes of them and of the
 * vNICs whose L2 rivals changed, so that no vNIC is bound and refused
 * again in one run because of the order in which rows were read.
 *
 * It computes no flow.  What it changed in a run is tracked: one
 * binding_change per vNIC whose binding or flow inputs changed, which the
 * nodes after it (vnic-flows.h, local-nets.h) consume, and which
 * binding_clear_tracked() forgets after the run.  A vNIC keeps a signature
 * of everything its flows depend on, so a change is tracked only if it
 * matters.  Installed marks are if-status.h's job; binding tells it what
 * changed. */

#include <stdbool.h>
#include <stdint.h>
#include "controller/mac-owners.h"
#include "hmapx.h"
#include "openvswitch/hmap.h"
#include "openvswitch/list.h"
#include "policies/policy.h"
#include "uuid.h"
#include "uuidset.h"

struct ct_limits;
struct ct_zones;
struct ds;
struct flow_table;
struct ofctrl;
struct overlay;
struct if_status;
struct ovsdb_idl;
struct ovsdb_idl_index;
struct ovsdb_idl_txn;
struct ovsrec_bridge;
struct bhrec_chassis;

/* What became of a vNIC. */
enum vnic_state {
    VNIC_BOUND,                 /* Bound to a Port: has flows. */
    VNIC_UNKNOWN,               /* No Port has its iface-id. */
    VNIC_REFUSED,               /* Invalid rows, an attached-mac that
                                 * disagrees with Port.mac, or an L2 address
                                 * that another vNIC wants first. */
};

/* A vNIC on the integration bridge.  Other modules read it; only binding.c
 * writes it. */
struct vnic {
    struct hmap_node node;      /* In binding's 'vnics', by iface-id. */
    struct hmap_node port_node; /* In 'vnics_by_port', by 'row_port', if
                                 * 'by_port'. */
    struct hmap_node iface_node;  /* In 'vnics_by_iface'. */
    char *iface_id;             /* external_ids:iface-id. */
    char *iface_name;           /* The OVS Interface's name. */
    struct uuid iface_uuid;     /* The Interface row. */
    int64_t ofport;             /* Its OpenFlow port. */
    enum vnic_state state;      /* Bound, unknown or refused. */
    char *reason;               /* Why refused, or NULL. */

    /* If bound. */
    struct uuid port_uuid;      /* Tenant DB Port. */
    char *tenant;               /* Tenant name. */
    struct policy_port port;    /* The Port, in the policy model. */
    enum policy_net_type net_type;  /* Its network's type. */
    int64_t segment;            /* Its network's VLAN ID or VNI. */
    uint32_t net_key;           /* Its network's key (pipeline.h). */
    struct uuid net_uuid;       /* Its network's Tenant DB row. */
    uint16_t zone;              /* Conntrack zone and port key. */
    int64_t net_mtu;            /* Its network's MTU. */
    struct svec net_cidrs;      /* Its network's prefixes (on-link
                                 * destinations of neighbor discovery,
                                 * sources of DHCP servers). */
    int64_t iface_mtu;          /* Its Interface's MTU, or 0 if unknown. */

    /* What its rows alone say, as last read; the L2 verdict comes on top,
     * once every row of the run was read. */
    enum vnic_state row_state;  /* VNIC_BOUND if its rows are valid. */
    char *row_reason;           /* Why its rows are refused, or NULL. */
    int64_t row_ofport;         /* The ofport its rows were read with. */
    struct uuid row_port;       /* The Port its iface-id names, if any. */
    bool row_changed;           /* Its rows changed since last decided. */
    struct mac_bid bid;         /* Its L2 addresses, placed if its rows are
                                 * valid (mac-owners.h). */

    /* Bookkeeping. */
    char *signature;            /* Inputs of its flows (the zone aside), or
                                 * NULL before its rows were first read. */
    char *groups_digest;        /* What else its rows' check reads (its
                                 * groups' rules...), or NULL. */
    bool by_port;               /* In 'vnics_by_port'. */
    bool claim_pending;         /* Its Port still needs claiming. */
    bool seen;                  /* Found in this walk. */
    bool decided;               /* Was decided on at least once. */
    struct ovs_list pending_node;  /* In 'pending', if 'pending'. */
    bool pending;               /* Its rows were read, or its L2 rivals
                                 * changed, in this run: to decide. */
};

/* What changed for one vNIC in this run. */
struct binding_change {
    struct hmap_node node;      /* In 'changes', by iface-id. */
    char *iface_id;             /* The vNIC. */
    bool was_bound;             /* Bound before the change... */
    uint32_t old_net_key;       /* ...on this network. */
    int64_t old_ofport;         /* ...at this ofport. */
};

/* What the binding module works from, in one run. */
struct binding_input {
    const struct ovsrec_bridge *br_int;        /* The integration bridge. */
    const struct bhrec_chassis *chassis;       /* This host, or NULL. */
    struct ovsdb_idl *ovs_idl;                 /* The local OVSDB. */
    struct ovsdb_idl *tdb_idl;                 /* The Tenant DB. */
    struct ovsdb_idl_index *port_by_iface_id;  /* Tenant DB Port index. */
    const char *uplink;         /* Name of the uplink interface, or NULL. */
    bool ports_changed;         /* Bridges or Ports changed in the local
                                 * OVSDB since the last run. */
    struct ovsdb_idl_txn *ovs_txn;   /* For stale marks, or NULL. */
    struct ovsdb_idl_txn *tdb_txn;   /* For Port claims, or NULL. */
    struct ct_zones *zones;          /* Conntrack zones. */
    struct if_status *ifs;           /* Installed marks. */
};

/* The vNICs of this host. */
struct binding {
    struct hmap vnics;          /* Contains struct vnic, by iface-id. */
    struct hmap vnics_by_port;  /* vnics whose iface-id a Port has, by
                                 * that Port's UUID. */
    struct hmap vnics_by_iface; /* vnics, by Interface UUID. */
    struct hmapx claim_retry;   /* vnics whose claim must be retried. */
    struct hmapx wait_self;     /* vnics refused while this host had no
                                 * Chassis row: read again once it has. */
    struct hmap changes;        /* struct binding_change of this run. */
    struct mac_owners macs;     /* The L2 bids of the vnics. */
    struct ovs_list pending;    /* vnics to decide on, in the order their
                                 * rows were read. */
    bool strays_released;       /* Stray Port claims were let go. */
    struct hmap group_digests;  /* Digests of security groups' rules, by
                                 * group (binding.c), valid while the
                                 * Tenant DB IDL's seqno is... */
    unsigned int group_digests_seqno;  /* ...this one. */
    struct uuidset no_ofport;   /* Interfaces on br-int, at the last walk,
                                 * with an iface-id but no ofport yet:
                                 * when theirs comes, each is looked at
                                 * alone, without a walk. */
    struct hmap duplicates;     /* struct binding_duplicate, by Interface
                                 * UUID, as the last walk found them. */
};

/* An Interface on the integration bridge refused because another
 * Interface holds its iface-id: it has no vNIC of its own, but vnic/list,
 * vnic/show and the metrics show it. */
struct binding_duplicate {
    struct hmap_node node;      /* In struct binding's 'duplicates'. */
    struct uuid iface_uuid;     /* The Interface. */
    char *iface_name;           /* Its name. */
    char *iface_id;             /* Its iface-id, another Interface's. */
    int64_t ofport;             /* Its OpenFlow port. */
    bool seen;                  /* Found by the walk under way. */
};

void binding_init(struct binding *);
void binding_destroy(struct binding *);

void binding_recompute(struct binding *, const struct binding_input *);
void binding_recheck_claims(struct binding *, const struct binding_input *);
void binding_release_strays(struct binding *, const struct binding_input *);
bool binding_handle_ovs_changes(struct binding *,
                                const struct binding_input *);
bool binding_handle_tdb_changes(struct binding *,
                                const struct binding_input *);
void binding_clear_tracked(struct binding *);

const struct vnic *binding_find(const struct binding *, const char *iface_id);
bool vnic_is_analysis_port(const struct vnic *);
const struct vnic *binding_lookup(const struct binding *, const char *name);
const struct vnic *binding_find_by_zone(const struct binding *,
                                        uint32_t zone);

/* Iterates over the vNICs of binding B. */
#define BINDING_FOR_EACH_VNIC(VNIC, B) \
    HMAP_FOR_EACH (VNIC, node, &(B)->vnics)

/* Iterates over the changes of this run of binding B. */
#define BINDING_FOR_EACH_CHANGE(CHANGE, B) \
    HMAP_FOR_EACH (CHANGE, node, &(B)->changes)

const char *vnic_state_name(enum vnic_state);

void binding_register_commands(const struct binding *,
                               const struct if_status *,
                               const struct flow_table *,
                               const struct ofctrl *,
                               const struct ct_limits *,
                               const struct ovsdb_idl *tdb,
                               const struct overlay *, const char **self);

#endif /* binding.h */
