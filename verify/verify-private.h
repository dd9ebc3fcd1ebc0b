/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef VERIFY_PRIVATE_H
#define VERIFY_PRIVATE_H 1

/* What verify.c (flow table, port map) and check.c (the checker) share. */

#include "openvswitch/hmap.h"
#include "openvswitch/shash.h"
#include "verify/hspace.h"
#include "verify/verify.h"

struct mf_field;

/* One flow of the table. */
struct vfy_flow {
    struct hmap_node node;      /* In vfy_flows 'flows', by identity. */
    uint8_t table_id;           /* OpenFlow table. */
    uint16_t priority;          /* OpenFlow priority. */
    ovs_be64 cookie;            /* Cookie, for reports. */
    struct hs_sparse *match;    /* The match, conj_id left out. */
    struct hs_sparse *full;     /* The match as given (identity). */
    uint32_t conj_id;           /* The conj_id it matches, if 'is_conj'. */
    bool is_conj;               /* Matches conj_id=N. */
    bool is_clause;             /* Only conjunction() actions. */
    bool no_effect;             /* Actions change nothing, output nothing
                                 * ("drop", note, meter...). */
    struct ofpact *ofpacts;     /* Actions. */
    size_t ofpacts_len;         /* Their length in bytes. */
};

/* A flow table change, for incremental checking and for updating the
 * table's index. */
struct vfy_change {
    uint8_t table_id;           /* Table of the flow. */
    bool added;                 /* Added (else removed). */
    struct vfy_flow *flow;      /* The flow: a removed one is kept (owned
                                 * here) until the changes are forgotten,
                                 * so that the index can find it. */
};

/* Candidate index fields, in order of preference. */
#define VFY_N_KEYS 12

/* The index of one table (built by check.c, then updated by the changes
 * of its flows). */
struct vfy_table {
    bool dirty;                 /* Flows changed since the index was built
                                 * or updated. */
    int key;                    /* Index field (VFY_N_KEYS: none). */
    struct hmap buckets;        /* vfy_bucket by the key's value. */
    struct vfy_flow **wild;     /* Flows without an exact key, by priority. */
    size_t n_wild;              /* Number of them. */
    size_t allocated_wild;      /* Allocated size of 'wild'. */
    struct vfy_flow **all;      /* Every ordinary flow, by priority. */
    size_t n_all;               /* Number of them. */
    size_t allocated_all;       /* Allocated size of 'all'. */
    struct hmap conjs;          /* vfy_conj by id: the clauses. */
    size_t n_effect;            /* Flows of 'all' with an effect. */
    bool no_effect;             /* Every flow is without effect. */
};

/* The flow table. */
struct vfy_flows {
    struct hmap flows;          /* vfy_flow by (table, priority, match). */
    struct vfy_table tables[256]; /* Index per table. */
    struct vfy_change *changes; /* Changes since the checker last ran. */
    size_t n_changes;           /* Number of them. */
    size_t allocated_changes;   /* Allocated size of 'changes'. */
    bool overflow;              /* Too many changes: check everything. */
};

/* A vNIC of the port map, or a port of no network. */
struct vfy_vnic {
    ofp_port_t port;            /* Its ofport. */
    char *network;              /* "TENANT/NETWORK", or for a port of no
                                 * network a label of its own without a
                                 * '/', which no network and no other port
                                 * has: it is alone in a network of one. */
    char *name;                 /* Its name in reports. */
    bool sealed;                /* A port of no network. */
};

/* The port map. */
struct vfy_portmap {
    struct vfy_vnic *vnics;     /* vNICs, sorted by port. */
    size_t n_vnics;             /* Number of them. */
    size_t allocated_vnics;     /* Allocated size of 'vnics'. */
    bool has_uplink;            /* Whether there is an uplink. */
    ofp_port_t uplink;          /* Its port. */
    struct vfy_tag *vlans;      /* VLAN id to network. */
    size_t n_vlans;             /* Number of them. */
    bool has_tunnel;            /* Whether there is a tunnel. */
    ofp_port_t tunnel;          /* Its port. */
    struct vfy_tag *vnis;       /* VNI to network. */
    size_t n_vnis;              /* Number of them. */
    uint64_t version;           /* Bumped at every change. */
};

/* A VLAN or VNI of a network. */
struct vfy_tag {
    uint32_t id;                /* VLAN id or VNI. */
    char *network;              /* "TENANT/NETWORK". */
};

const struct vfy_vnic *vfy_portmap_find_vnic(const struct vfy_portmap *,
                                             ofp_port_t);
bool vfy_tags_equal(const struct vfy_tag *, const struct vfy_tag *,
                    size_t n);
const char *vfy_portmap_vlan_network(const struct vfy_portmap *,
                                     uint32_t vid);
const char *vfy_portmap_vni_network(const struct vfy_portmap *,
                                    uint32_t vni);

void vfy_flows_forget_changes(struct vfy_flows *);
void vfy_tables_clear(struct vfy_flows *);

/* Values of a register that the flows reachable from a table test
 * exactly, kept up to this many (beyond: the register counts as read). */
#define VFY_LIVE_VALS 8

/* What a lookup of a table with no caller to return to may depend on
 * (live.c): a liveness analysis over the flows reachable from it. */
struct vfy_live {
    uint64_t m[HS_N];           /* Bits some reachable flow may read before
                                 * writing them (matches, move sources,
                                 * output registers, exits' tags). */
    bool reg_read[FLOW_N_REGS]; /* Register read otherwise than by exact
                                 * tests, or with too many values. */
    uint8_t n_vals[FLOW_N_REGS]; /* Number of values tested exactly. */
    uint32_t vals[FLOW_N_REGS][VFY_LIVE_VALS]; /* Those values. */
};

struct vfy_live_state *vfy_live_create(void);
void vfy_live_destroy(struct vfy_live_state *);
void vfy_live_reset_table(struct vfy_live_state *, uint8_t table);
void vfy_live_add_flow(struct vfy_live_state *, const struct vfy_flow *);
void vfy_live_add_reads(struct vfy_live_state *, uint8_t table,
                        const uint64_t m[HS_N]);
void vfy_live_solve(const struct vfy_live_state *, struct vfy_live live[256]);

/* Index fields (check.c). */
const struct mf_field *vfy_key_field(int key);

#endif /* verify/verify-private.h */
