/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#include <config.h>
#include "controller/local-nets.h"

#include <stdlib.h>
#include <string.h>
#include "controller/binding.h"
#include "controller/flow-table.h"
#include "controller/pipeline.h"
#include "coverage.h"
#include "hash.h"
#include "openvswitch/vlog.h"
#include "simap.h"
#include "smap.h"
#include "util.h"
#include "vswitch-idl.h"

VLOG_DEFINE_THIS_MODULE(local_nets);

COVERAGE_DEFINE(local_nets_net_flows);
COVERAGE_DEFINE(local_nets_recompute);

/* An allowed address's MAC (other than its port's own) that local vNICs of
 * a network may have: frames to it go to each of them. */
struct allowed_mac {
    struct hmap_node node;      /* In 'allowed_macs' of struct local_net. */
    struct eth_addr mac;        /* The address. */
    struct simap holders;       /* iface-id -> copy target
                                 * (pl_vnic_target()) of the bound vNICs
                                 * that may have it. */
    bool dirty;                 /* Its flow needs writing again. */
};

/* A network with vNICs bound on this host. */
struct local_net {
    struct hmap_node node;      /* In 'nets', by key. */
    uint32_t key;               /* Network key. */
    enum policy_net_type type;  /* VLAN or VXLAN. */
    int64_t segment;            /* VLAN ID or VNI. */
    struct simap members;       /* iface-id -> copy target
                                 * (pl_vnic_target()) of bound vNICs. */
    struct hmap allowed_macs;   /* Contains struct allowed_mac, by MAC. */
    bool dirty;                 /* Flooding flows need recomputing. */
    struct pl_flood_buckets flood;  /* The members by flood bucket, as the
                                     * flows have them... */
    int64_t flood_uplink;       /* ...with this uplink ofport; 'flood.n' is
                                 * 0 while the flows are not there. */
};

/* Initializes 'ln' with no networks. */
void
local_nets_init(struct local_nets *ln)
{
    hmap_init(&ln->nets);
    ln->uplink_name = NULL;
    ln->uplink_ofport = 0;
    uuid_zero(&ln->uplink_uuid);
}

/* Frees 'am', once out of its map. */
static void
allowed_mac_free(struct allowed_mac *am)
{
    simap_destroy(&am->holders);
    free(am);
}

/* Frees 'n' (not its flows). */
static void
net_free(struct local_net *n)
{
    struct allowed_mac *am;

    HMAP_FOR_EACH_POP (am, node, &n->allowed_macs) {
        allowed_mac_free(am);
    }
    hmap_destroy(&n->allowed_macs);
    simap_destroy(&n->members);
    if (n->flood.n) {
        pipeline_flood_buckets_destroy(&n->flood);
    }
    free(n);
}

/* Removes every flow of network 'n' from 'flows'. */
static void
clear_net_flows(struct local_net *n, struct flow_table *flows)
{
    char *owner = pipeline_network_owner(n->key);
    flow_table_clear_owner(flows, owner);
    free(owner);
    for (size_t b = 0; b < n->flood.n; b++) {
        owner = pipeline_flood_bucket_owner(n->key, b);
        flow_table_clear_owner(flows, owner);
        free(owner);
    }
    if (n->flood.n) {
        pipeline_flood_buckets_destroy(&n->flood);
        n->flood.n = 0;
    }
}

/* Brings the flows of network 'n', whose flows are 'old' (with as many
 * buckets as 'new'), to 'new': only the buckets whose members changed get
 * their flow again, and the network's own flows only if a bucket became
 * empty or stopped being so.  Returns false if the network's own flows
 * must be written again anyway. */
static bool
update_buckets(const struct local_net *n, const struct pl_flood_buckets *old,
               const struct pl_flood_buckets *new, struct flow_table *flows)
{
    if (new->n == 1) {
        return false;   /* The members are in the network's own flow. */
    }
    for (size_t b = 0; b < new->n; b++) {
        bool was = old->start[b] < old->start[b + 1];
        bool is = new->start[b] < new->start[b + 1];
        if (was != is) {
            return false;
        }
    }
    for (size_t b = 0; b < new->n; b++) {
        if (!pipeline_flood_bucket_equals(old, new, b)) {
            char *owner = pipeline_flood_bucket_owner(n->key, b);
            flow_table_clear_owner(flows, owner);
            free(owner);
            pipeline_add_flood_bucket(flows, n->key, new, b);
        }
    }
    return true;
}

/* Forgets every network of 'ln' (not their flows). */
static void
local_nets_clear(struct local_nets *ln)
{
    struct local_net *n;

    HMAP_FOR_EACH_POP (n, node, &ln->nets) {
        net_free(n);
    }
}

/* Frees what 'ln' holds. */
void
local_nets_destroy(struct local_nets *ln)
{
    local_nets_clear(ln);
    hmap_destroy(&ln->nets);
    free(ln->uplink_name);
}


/* Returns the local network with 'key', or NULL. */
static struct local_net *
find_net(const struct local_nets *ln, uint32_t key)
{
    struct local_net *n;

    HMAP_FOR_EACH_WITH_HASH (n, node, hash_int(key, 0), &ln->nets) {
        if (n->key == key) {
            return n;
        }
    }
    return NULL;
}

/* Returns the allowed MAC 'mac' of 'n', creating it if 'create'. */
static struct allowed_mac *
find_allowed_mac(struct local_net *n, struct eth_addr mac, bool create)
{
    uint32_t hash = hash_uint64(eth_addr_to_uint64(mac));
    struct allowed_mac *am;

    HMAP_FOR_EACH_WITH_HASH (am, node, hash, &n->allowed_macs) {
        if (eth_addr_equals(am->mac, mac)) {
            return am;
        }
    }
    if (!create) {
        return NULL;
    }
    am = xzalloc(sizeof *am);
    am->mac = mac;
    simap_init(&am->holders);
    hmap_insert(&n->allowed_macs, &am->node, hash);
    return am;
}

/* Adds bound vNIC 'v' to its network's members, and to the holders of its
 * allowed addresses' MACs (its bid's claims past the first, its own MAC,
 * are those other than its own, without duplicates), creating the
 * network. */
static void
join(struct local_nets *ln, const struct vnic *v)
{
    struct local_net *n = find_net(ln, v->net_key);

    if (!n) {
        n = xzalloc(sizeof *n);
        n->key = v->net_key;
        n->type = v->net_type;
        n->segment = v->segment;
        simap_init(&n->members);
        hmap_init(&n->allowed_macs);
        hmap_insert(&ln->nets, &n->node, hash_int(n->key, 0));
    }
    unsigned int target = pl_vnic_target(v->ofport, v->zone);
    simap_put(&n->members, v->iface_id, target);
    for (size_t i = 1; i < v->bid.n_claims; i++) {
        struct allowed_mac *am = find_allowed_mac(n, v->bid.claims[i].mac,
                                                  true);
        simap_put(&am->holders, v->iface_id, target);
        am->dirty = true;
    }
    n->dirty = true;
}

/* Removes 'iface_id' from the members of network 'key', and from the
 * holders of its allowed MACs. */
static void
leave(struct local_nets *ln, const char *iface_id, uint32_t key)
{
    struct local_net *n = find_net(ln, key);

    if (n && simap_find_and_delete(&n->members, iface_id)) {
        struct allowed_mac *am;

        HMAP_FOR_EACH (am, node, &n->allowed_macs) {
            if (simap_find_and_delete(&am->holders, iface_id)) {
                am->dirty = true;
            }
        }
        n->dirty = true;
    }
}

/* Returns the copy targets of 'ports' (iface-id -> target) in the order of
 * their iface-ids, so that flows built from them do not change when
 * nothing did; stores their number in '*n'.  The caller frees them. */
static int64_t *
sorted_targets(const struct simap *ports, size_t *n)
{
    const struct simap_node **sorted = simap_sort(ports);
    int64_t *targets = xmalloc(MAX(simap_count(ports), 1) * sizeof *targets);

    *n = simap_count(ports);
    for (size_t i = 0; i < *n; i++) {
        targets[i] = sorted[i]->data;
    }
    free(sorted);
    return targets;
}

/* Writes again the flows of the allowed MACs of 'n' that changed (all of
 * them if 'all'), and forgets those left without holders. */
static void
update_allowed_macs(const struct local_nets *ln, struct local_net *n,
                    bool all, struct flow_table *flows)
{
    struct allowed_mac *am;

    HMAP_FOR_EACH_SAFE (am, node, &n->allowed_macs) {
        if (!am->dirty && !all) {
            continue;
        }
        am->dirty = false;
        char *owner = pipeline_allowed_mac_owner(n->key, am->mac);
        flow_table_clear_owner(flows, owner);
        free(owner);
        if (simap_is_empty(&am->holders)) {
            hmap_remove(&n->allowed_macs, &am->node);
            allowed_mac_free(am);
            continue;
        }

        size_t n_holders;
        int64_t *holders = sorted_targets(&am->holders, &n_holders);
        const struct pl_network pn = {
            .key = n->key,
            .type = n->type,
            .segment = n->segment,
            .uplink_ofport = ln->uplink_ofport,
        };
        pipeline_add_allowed_mac(flows, &pn, am->mac, holders, n_holders);
        free(holders);
    }
}

/* Returns the ofport of uplink Interface 'iface', or 0 if it has none or
 * is a vNIC: an Interface with an iface-id is never the uplink. */
static int64_t
uplink_ofport(const struct ovsrec_interface *iface)
{
    const char *iface_id = smap_get(&iface->external_ids, "iface-id");

    if (iface_id) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 60);
        VLOG_WARN_RL(&rl, "bulkhead-uplink %s is refused: it is a vNIC "
                     "(external_ids:iface-id=%s); VLAN networks stay on "
                     "this host", iface->name, iface_id);
        return 0;
    }
    return iface->n_ofport && iface->ofport[0] > 0 ? iface->ofport[0] : 0;
}

/* Returns the ofport of the interface named 'name' on 'br', or 0, and
 * remembers its row in 'ln'.  Looks at every port of 'br'. */
static int64_t
find_uplink(struct local_nets *ln, const struct ovsrec_bridge *br,
            const char *name)
{
    uuid_zero(&ln->uplink_uuid);
    for (size_t i = 0; name && i < br->n_ports; i++) {
        const struct ovsrec_port *p = br->ports[i];
        for (size_t j = 0; j < p->n_interfaces; j++) {
            const struct ovsrec_interface *iface = p->interfaces[j];
            if (!strcmp(iface->name, name)) {
                ln->uplink_uuid = iface->header_.uuid;
                return uplink_ofport(iface);
            }
        }
    }
    return 0;
}

/* Recomputes the flows of every dirty network into 'flows', and forgets
 * networks left without members. */
static void
update_flows(struct local_nets *ln, struct flow_table *flows)
{
    struct local_net *n;

    HMAP_FOR_EACH_SAFE (n, node, &ln->nets) {
        if (!n->dirty) {
            continue;
        }
        COVERAGE_INC(local_nets_net_flows);
        n->dirty = false;

        /* The uplink is in every allowed MAC's flow. */
        update_allowed_macs(ln, n, n->flood_uplink != ln->uplink_ofport,
                            flows);
        if (simap_is_empty(&n->members)) {
            clear_net_flows(n, flows);
            hmap_remove(&ln->nets, &n->node);
            net_free(n);
            continue;
        }

        /* Members in a stable order, so that the flood flow does not change
         * when nothing did. */
        size_t n_members;
        int64_t *members = sorted_targets(&n->members, &n_members);

        /* A vNIC that comes or goes changes one bucket: only its flow is
         * written again (a large network's flooding is most of a hook's
         * work otherwise). */
        struct pl_flood_buckets fb;
        pipeline_flood_buckets_init(&fb, members, n_members);
        if (n->flood.n == fb.n && n->flood_uplink == ln->uplink_ofport
            && update_buckets(n, &n->flood, &fb, flows)) {
            pipeline_flood_buckets_destroy(&n->flood);
            n->flood = fb;
            free(members);
            continue;
        }
        clear_net_flows(n, flows);
        n->flood = fb;
        n->flood_uplink = ln->uplink_ofport;

        struct pl_network pn = {
            .key = n->key,
            .type = n->type,
            .segment = n->segment,
            .members = members,
            .n_members = n_members,
            .uplink_ofport = ln->uplink_ofport,
        };
        pipeline_add_network_buckets(flows, &pn, &n->flood);
        free(members);
    }
}

/* Handles a possible change of the uplink: of its configured name
 * 'uplink', or of its ofport on 'br' if the switch's database changed
 * ('ovs_changed').  Only if ports came or went ('ports_changed') or the
 * name changed does it look at every port of 'br'; otherwise it reads the
 * uplink's own row.  Every network's flows depend on the uplink. */
bool
local_nets_handle_uplink(struct local_nets *ln, struct ovsdb_idl *ovs_idl,
                         const struct ovsrec_bridge *br, const char *uplink,
                         bool ovs_changed, bool ports_changed)
{
    bool same_name = nullable_string_is_equal(uplink, ln->uplink_name);
    int64_t ofport;

    if (!ovs_changed && same_name) {
        return true;
    }
    if (same_name && !ports_changed) {
        const struct ovsrec_interface *iface = (uplink
            ? ovsrec_interface_get_for_uuid(ovs_idl, &ln->uplink_uuid)
            : NULL);
        ofport = iface ? uplink_ofport(iface) : 0;
        if (uplink && !iface) {
            ofport = find_uplink(ln, br, uplink);
        }
    } else {
        free(ln->uplink_name);
        ln->uplink_name = nullable_xstrdup(uplink);
        ofport = find_uplink(ln, br, uplink);
    }
    if (ofport != ln->uplink_ofport) {
        VLOG_INFO("uplink %s: ofport %"PRId64, uplink ? uplink : "(none)",
                  ofport);
        ln->uplink_ofport = ofport;
        struct local_net *n;
        HMAP_FOR_EACH (n, node, &ln->nets) {
            n->dirty = true;
        }
    }
    return true;
}

/* Follows the binding module's tracked changes: vNICs that left or joined
 * a network, or moved to another ofport.  Recomputes the flows of the
 * networks concerned. */
bool
local_nets_handle_binding(struct local_nets *ln, const struct binding *b,
                          struct flow_table *flows)
{
    const struct binding_change *c;

    BINDING_FOR_EACH_CHANGE (c, b) {
        const struct vnic *v = binding_find(b, c->iface_id);
        if (c->was_bound) {
            leave(ln, c->iface_id, c->old_net_key);
        }
        if (v && v->state == VNIC_BOUND) {
            join(ln, v);
        }
    }
    update_flows(ln, flows);
    return true;
}

/* Computes every local network and its flows anew from the bound vNICs of
 * 'b' and the uplink 'uplink' on 'br'.  The caller removed the old flows. */
void
local_nets_recompute(struct local_nets *ln, const struct binding *b,
                     const struct ovsrec_bridge *br, const char *uplink,
                     struct flow_table *flows)
{
    const struct vnic *v;

    COVERAGE_INC(local_nets_recompute);
    local_nets_clear(ln);
    free(ln->uplink_name);
    ln->uplink_name = nullable_xstrdup(uplink);
    ln->uplink_ofport = find_uplink(ln, br, uplink);
    BINDING_FOR_EACH_VNIC (v, b) {
        if (v->state == VNIC_BOUND) {
            join(ln, v);
        }
    }
    update_flows(ln, flows);
}
