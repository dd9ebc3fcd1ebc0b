/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#include <config.h>
#include "controller/overlay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "controller/binding.h"
#include "controller/chassis.h"
#include "controller/flow-table.h"
#include "controller/pipeline.h"
#include "coverage.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "policies/policy.h"
#include "schema/bulkhead-idl.h"
#include "smap.h"
#include "svec.h"
#include "unixctl.h"
#include "util.h"
#include "uuid.h"
#include "uuidset.h"

VLOG_DEFINE_THIS_MODULE(overlay);

COVERAGE_DEFINE(overlay_net_flows);
COVERAGE_DEFINE(overlay_recompute);
COVERAGE_DEFINE(overlay_shared_ip);

/* The owner of the output into the VXLAN port. */
#define TUNNEL_OWNER OVERLAY_OWNERS"tunnel"

/* A VXLAN network with vNICs bound here. */
struct ovl_net {
    struct hmap_node node;      /* In 'nets', by key. */
    uint32_t key;               /* Network key. */
    int64_t vni;                /* Its VNI. */
    struct uuid net_uuid;       /* Its Network row: what the VNI means. */
    char *name;                 /* "TENANT/NETWORK", for diagnostics. */
    size_t n_local;             /* Its vNICs bound here. */
    struct uuidset remote_ports;  /* The Ports its flows send to, as
                                   * last computed. */
    bool dirty;                 /* Its flows need computing. */

    /* Gathered while computing. */
    struct pl_remote_vnic *remotes;  /* Its remote vNICs. */
    const struct bhrec_port **rows;  /* The Port of each of 'remotes',
                                      * valid only while computing. */
    size_t n_remotes;           /* Number of 'remotes' and 'rows'. */
    size_t allocated_remotes;   /* Allocated size of 'remotes', 'rows'. */
};

/* An encapsulation address that more than one chassis publishes (a copied
 * configuration, or a host that writes another's address into its row).
 * A frame from it could be any of theirs, and a frame for one of them
 * reaches whichever host really has it: none of them is reachable. */
struct ovl_shared_ip {
    struct hmap_node node;      /* In 'shared_ips', by 'ip'. */
    ovs_be32 ip;                /* The address. */
    struct svec chassis;        /* The names of its chassis, sorted. */
    bool self;                  /* One of them is this host's. */
};

/* Initializes 'ov', empty. */
void
overlay_init(struct overlay *ov)
{
    hmap_init(&ov->nets);
    hmap_init(&ov->shared_ips);
    ov->tunnel_ofport = 0;
}

/* Frees every member of 'ips', a map of struct ovl_shared_ip. */
static void
clear_shared_ips(struct hmap *ips)
{
    struct ovl_shared_ip *s;

    HMAP_FOR_EACH_POP (s, node, ips) {
        svec_destroy(&s->chassis);
        free(s);
    }
}

/* Frees 'n'. */
static void
net_free(struct ovl_net *n)
{
    uuidset_destroy(&n->remote_ports);
    free(n->remotes);
    free(n->rows);
    free(n->name);
    free(n);
}

/* Forgets every network (not their flows). */
static void
clear_nets(struct overlay *ov)
{
    struct ovl_net *n;
    HMAP_FOR_EACH_POP (n, node, &ov->nets) {
        net_free(n);
    }
}

/* Frees what 'ov' holds. */
void
overlay_destroy(struct overlay *ov)
{
    clear_nets(ov);
    hmap_destroy(&ov->nets);
    clear_shared_ips(&ov->shared_ips);
    hmap_destroy(&ov->shared_ips);
}

/* Returns the local VXLAN network 'key', or NULL. */
static struct ovl_net *
find_net(const struct overlay *ov, uint32_t key)
{
    struct ovl_net *n;
    HMAP_FOR_EACH_WITH_HASH (n, node, hash_int(key, 0), &ov->nets) {
        if (n->key == key) {
            return n;
        }
    }
    return NULL;
}

/* Returns the local VXLAN network of bound vNIC 'v', creating it (dirty)
 * if needed. */
static struct ovl_net *
get_net(struct overlay *ov, const struct vnic *v)
{
    struct ovl_net *n = find_net(ov, v->net_key);

    if (!n) {
        n = xzalloc(sizeof *n);
        n->key = v->net_key;
        n->vni = v->segment;
        n->net_uuid = v->net_uuid;
        n->name = xasprintf("%s/%s", v->tenant, v->port.network);
        uuidset_init(&n->remote_ports);
        n->dirty = true;
        hmap_insert(&ov->nets, &n->node, hash_int(n->key, 0));
    }
    return n;
}

/* Removes the flows of network 'n' and forgets it. */
static void
drop_net(struct overlay *ov, struct ovl_net *n, struct flow_table *flows)
{
    char *owner = pipeline_overlay_owner(n->key);

    flow_table_clear_owner(flows, owner);
    free(owner);
    hmap_remove(&ov->nets, &n->node);
    net_free(n);
}

/* Returns the entry of 'ip' in 'ips' (struct ovl_shared_ip), or NULL. */
static struct ovl_shared_ip *
find_shared_ip(const struct hmap *ips, ovs_be32 ip)
{
    struct ovl_shared_ip *s;

    HMAP_FOR_EACH_WITH_HASH (s, node, hash_int((OVS_FORCE uint32_t) ip, 0),
                             ips) {
        if (s->ip == ip) {
            return s;
        }
    }
    return NULL;
}

/* Finds anew, among the chassis of 'tdb' ('self', may be NULL, is this
 * host's), the encapsulation addresses that several publish, with a WARN
 * line naming them all for each address that is new or whose chassis
 * changed, and an INFO line for each that no longer is.  Only the Chassis
 * rows that this host receives count: those of its own row and of the
 * Ports of its networks, which are all that its flows can name. */
static void
find_shared_ips(struct overlay *ov, struct ovsdb_idl *tdb,
                const struct bhrec_chassis *self)
{
    struct hmap ips = HMAP_INITIALIZER(&ips);
    const struct bhrec_chassis *ch;
    struct ovl_shared_ip *s;

    BHREC_CHASSIS_FOR_EACH (ch, tdb) {
        ovs_be32 ip;
        if (!ch->encap_ip || !policy_parse_host_ip(ch->encap_ip, &ip)) {
            continue;           /* Unreachable anyway. */
        }
        s = find_shared_ip(&ips, ip);
        if (!s) {
            s = xzalloc(sizeof *s);
            s->ip = ip;
            svec_init(&s->chassis);
            hmap_insert(&ips, &s->node, hash_int((OVS_FORCE uint32_t) ip,
                                                 0));
        }
        svec_add(&s->chassis, ch->name);
        s->self = s->self || ch == self;
    }
    HMAP_FOR_EACH_SAFE (s, node, &ips) {
        if (s->chassis.n < 2) {
            hmap_remove(&ips, &s->node);
            svec_destroy(&s->chassis);
            free(s);
            continue;
        }
        svec_sort(&s->chassis);
        const struct ovl_shared_ip *old = find_shared_ip(&ov->shared_ips,
                                                         s->ip);
        if (!old || !svec_equal(&old->chassis, &s->chassis)) {
            char *names = svec_join(&s->chassis, ", ", "");
            COVERAGE_INC(overlay_shared_ip);
            if (s->self) {
                VLOG_WARN("chassis %s publish one encapsulation address, "
                          IP_FMT", this host's: the others are unreachable "
                          "from this host, and every host that receives "
                          "their rows finds this one unreachable too, until "
                          "they change it", names, IP_ARGS(s->ip));
            } else {
                VLOG_WARN("chassis %s publish one encapsulation address, "
                          IP_FMT": none of them is reachable from this "
                          "host until all but one change it (its frames "
                          "could be any of theirs)", names, IP_ARGS(s->ip));
            }
            free(names);
        }
    }
    HMAP_FOR_EACH (s, node, &ov->shared_ips) {
        if (!find_shared_ip(&ips, s->ip)) {
            char *names = svec_join(&s->chassis, ", ", "");
            VLOG_INFO("chassis %s no longer publish one encapsulation "
                      "address, "IP_FMT, names, IP_ARGS(s->ip));
            free(names);
        }
    }
    clear_shared_ips(&ov->shared_ips);
    hmap_swap(&ov->shared_ips, &ips);
    hmap_destroy(&ips);
}

/* Returns the encapsulation address of chassis 'ch' in 'ip', or false if
 * it has none that is usable: a unicast address that a host can have
 * (policy_parse_host_ip()), not this host's own ('self', may be NULL: a
 * tunnel to itself, or frames from the underlay that claim to come from
 * it), and no other chassis's (find_shared_ips()). */
static bool
chassis_ip(const struct overlay *ov, const struct bhrec_chassis *ch,
           const struct bhrec_chassis *self, ovs_be32 *ip)
{
    ovs_be32 own;

    if (!ch->encap_ip || !policy_parse_host_ip(ch->encap_ip, ip)) {
        return false;
    }
    return (!(self && self != ch && self->encap_ip
                 && ip_parse(self->encap_ip, &own) && own == *ip)
            && !find_shared_ip(&ov->shared_ips, *ip));
}

/* Returns true if chassis 'ch' says, in its CHASSIS_VNIS_KEY, that its
 * switch maps VNI 'vni' to the network whose row is 'net_uuid', as this
 * host's flows do (see overlay_format_vnis()).  A VNI's network changes
 * on each host when that host reads the change, or, for a host cut off
 * from the Tenant DB, when it comes back: until both ends agree, a frame
 * of one tenant's network would reach the network that the VNI means at
 * the other end, another tenant's perhaps (two networks that swap their
 * segments, or a segment freed and given to another network while a host
 * is away).  So neither end sends to the other, nor accepts from it, with
 * that VNI until both say it means the same network. */
static bool
chassis_confirms(const struct bhrec_chassis *ch, int64_t vni,
                 const struct uuid *net_uuid)
{
    const char *vnis = smap_get(&ch->external_ids, CHASSIS_VNIS_KEY);
    if (!vnis) {
        /* A controller from before the key: as before it, on trust, so
         * that hosts upgraded one by one keep their tunnels. */
        return true;
    }

    char token[INT_STRLEN(int64_t) + UUID_LEN + 2];
    snprintf(token, sizeof token, "%"PRId64"="UUID_FMT, vni,
             UUID_ARGS(net_uuid));
    size_t len = strlen(token);
    for (const char *p = strstr(vnis, token); p; p = strstr(p + 1, token)) {
        if ((p == vnis || p[-1] == ',') && (p[len] == ',' || !p[len])) {
            return true;
        }
    }
    return false;
}

/* Returns the key of the VXLAN network of Port 'row', or 0 if it is on no
 * VXLAN network. */
static uint32_t
port_vxlan_key(const struct bhrec_port *row)
{
    const struct bhrec_network *net = row->network;

    return (net && !strcmp(net->type, "vxlan")
            ? pipeline_network_key(POLICY_NET_VXLAN, net->segment) : 0);
}

/* Returns true if a remote vNIC of 'n', as last computed, has one of the
 * MACs of 'bid' (a local vNIC's): the Tenant DB gives one MAC to two
 * Ports, and the remote one must go (compute_dirty()). */
static bool
has_remote_mac(const struct ovl_net *n, const struct mac_bid *bid)
{
    for (size_t i = 0; i < n->n_remotes; i++) {
        for (size_t j = 0; j < bid->n_claims; j++) {
            if (eth_addr_equals(n->remotes[i].mac, bid->claims[j].mac)) {
                return true;
            }
        }
    }
    return false;
}

/* A remote vNIC and its Port, to rank the Ports that want one MAC. */
struct ovl_ranked {
    struct pl_remote_vnic r;        /* Its MAC and chassis. */
    const struct bhrec_port *row;   /* Its Port. */
};

/* Compares two remote vNICs by MAC, then Port name, then Port UUID, for
 * qsort(): of the Ports of one network with one MAC, the first has it, by
 * the rule that ranks a host's own vNICs (mac-owners.h), which depends on
 * the rows only. */
static int
compare_ranked(const void *a_, const void *b_)
{
    const struct ovl_ranked *a = a_;
    const struct ovl_ranked *b = b_;
    int cmp = memcmp(&a->r.mac, &b->r.mac, sizeof a->r.mac);

    if (!cmp) {
        cmp = strcmp(a->row->name, b->row->name);
    }
    return cmp ? cmp : uuid_compare_3way(&a->row->header_.uuid,
                                         &b->row->header_.uuid);
}

/* Keeps, of the remote vNICs of 'n' that share a MAC (Ports written past
 * the validator), the first by compare_ranked(), with a WARN line for each
 * of the others: every host then sends the MAC to the same chassis,
 * whatever the order in which it reads the rows, and no flow clashes. */
static void
rank_remote_macs(struct ovl_net *n)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);
    struct ovl_ranked *ranked = xmalloc(MAX(n->n_remotes, 1)
                                        * sizeof *ranked);

    for (size_t i = 0; i < n->n_remotes; i++) {
        ranked[i].r = n->remotes[i];
        ranked[i].row = n->rows[i];
    }
    qsort(ranked, n->n_remotes, sizeof *ranked, compare_ranked);

    size_t n_kept = 0;
    for (size_t i = 0; i < n->n_remotes; i++) {
        const struct ovl_ranked *first = n_kept ? &ranked[n_kept - 1]
                                                : NULL;
        if (first && eth_addr_equals(first->r.mac, ranked[i].r.mac)) {
            const struct bhrec_port *a = ranked[i].row;
            const struct bhrec_port *b = first->row;
            VLOG_WARN_RL(&rl, "port %s on chassis %s has MAC "ETH_ADDR_FMT
                         ", which port %s on chassis %s has too and comes "
                         "first by name: ignored", a->name, a->chassis->name,
                         ETH_ADDR_ARGS(ranked[i].r.mac), b->name,
                         b->chassis->name);
            continue;
        }
        ranked[n_kept++] = ranked[i];
    }
    for (size_t i = 0; i < n_kept; i++) {
        n->remotes[i] = ranked[i].r;
        n->rows[i] = ranked[i].row;
    }
    n->n_remotes = n_kept;
    free(ranked);
}

/* Compares two addresses, for qsort(). */
static int
compare_ips(const void *a_, const void *b_)
{
    uint32_t a = ntohl(*(const ovs_be32 *) a_);
    uint32_t b = ntohl(*(const ovs_be32 *) b_);

    return a < b ? -1 : a > b;
}

/* Computes the flows of the dirty networks: one walk over the Ports of
 * the Tenant DB gathers the vNICs of those networks bound on other
 * chassis.  A Port whose iface-id is bound here is local, whatever its
 * chassis column says (a migration in progress). */
static void
compute_dirty(struct overlay *ov, const struct binding *b,
              struct ovsdb_idl *tdb, const struct bhrec_chassis *self,
              struct flow_table *flows)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);
    const struct bhrec_port *row;
    struct ovl_net *n;
    bool any = false;

    HMAP_FOR_EACH (n, node, &ov->nets) {
        if (n->dirty) {
            uuidset_clear(&n->remote_ports);
            n->n_remotes = 0;
            any = true;
        }
    }
    if (!any) {
        return;
    }

    BHREC_PORT_FOR_EACH (row, tdb) {
        const struct bhrec_chassis *ch = row->chassis;
        uint32_t key = port_vxlan_key(row);
        n = key ? find_net(ov, key) : NULL;
        if (!n || !n->dirty || !ch || ch == self) {
            continue;
        }
        const struct vnic *v = binding_find(b, row->iface_id);
        if (v && v->state == VNIC_BOUND) {
            continue;
        }
        struct pl_remote_vnic r;
        if (!chassis_ip(ov, ch, self, &r.chassis_ip)) {
            VLOG_WARN_RL(&rl, "port %s is bound on chassis %s, which has no "
                         "usable encapsulation address: unreachable",
                         row->name, ch->name);
            continue;
        }
        if (!chassis_confirms(ch, n->vni, &n->net_uuid)) {
            /* Usual for a moment when a network first has vNICs on both
             * hosts: the other one publishes once its switch has the
             * flows. */
            VLOG_INFO_RL(&rl, "port %s is bound on chassis %s, which does "
                         "not say that VNI %"PRId64" is network %s "
                         "(external_ids:"CHASSIS_VNIS_KEY"): unreachable "
                         "until it does", row->name, ch->name, n->vni,
                         n->name);
            continue;
        }
        if (!eth_addr_from_string(row->mac, &r.mac)
            || eth_addr_is_multicast(r.mac) || eth_addr_is_zero(r.mac)) {
            /* Written past the validator: a remote "vNIC" at the
             * broadcast address would take every local broadcast of the
             * network (its flow is above the flooding one). */
            VLOG_WARN_RL(&rl, "port %s on chassis %s has MAC \"%s\", "
                         "which is no vNIC's: ignored", row->name, ch->name,
                         row->mac);
            continue;
        }
        if (mac_owners_is_claimed(&b->macs, n->key, r.mac)) {
            /* Written past the validator too: a local vNIC's MAC.  Its
             * frames stay here, whichever flow came first. */
            VLOG_WARN_RL(&rl, "port %s on chassis %s has MAC %s, which a "
                         "vNIC of its network on this host has: ignored",
                         row->name, ch->name, row->mac);
            continue;
        }
        if (n->n_remotes >= n->allocated_remotes) {
            n->remotes = x2nrealloc(n->remotes, &n->allocated_remotes,
                                    sizeof *n->remotes);
            n->rows = xrealloc(n->rows, n->allocated_remotes
                                        * sizeof *n->rows);
        }
        n->rows[n->n_remotes] = row;
        n->remotes[n->n_remotes++] = r;
        uuidset_insert(&n->remote_ports, &row->header_.uuid);
    }

    HMAP_FOR_EACH (n, node, &ov->nets) {
        if (!n->dirty) {
            continue;
        }
        COVERAGE_INC(overlay_net_flows);
        n->dirty = false;
        rank_remote_macs(n);
        char *owner = pipeline_overlay_owner(n->key);
        flow_table_clear_owner(flows, owner);
        free(owner);
        if (ov->tunnel_ofport <= 0) {
            continue;
        }

        /* The chassis that host its remote vNICs, each once. */
        ovs_be32 *chassis = xmalloc(MAX(n->n_remotes, 1) * sizeof *chassis);
        size_t n_chassis = 0;
        for (size_t i = 0; i < n->n_remotes; i++) {
            chassis[i] = n->remotes[i].chassis_ip;
        }
        qsort(chassis, n->n_remotes, sizeof *chassis, compare_ips);
        for (size_t i = 0; i < n->n_remotes; i++) {
            if (!n_chassis || chassis[n_chassis - 1] != chassis[i]) {
                chassis[n_chassis++] = chassis[i];
            }
        }
        struct pl_overlay_net on = {
            .key = n->key,
            .vni = n->vni,
            .chassis = chassis,
            .n_chassis = n_chassis,
            .remotes = n->remotes,
            .n_remotes = n->n_remotes,
            .tunnel_ofport = ov->tunnel_ofport,
        };
        pipeline_add_overlay(flows, &on);
        free(chassis);
    }
}

/* Compares two networks by VNI, for qsort(). */
static int
compare_nets_by_vni(const void *a_, const void *b_)
{
    const struct ovl_net *const *a = a_;
    const struct ovl_net *const *b = b_;

    return (*a)->vni < (*b)->vni ? -1 : (*a)->vni > (*b)->vni;
}

/* Appends to 's' what this host's flows map each VNI to, for its Chassis
 * row's CHASSIS_VNIS_KEY: "VNI=NETWORK-UUID" for each local VXLAN network,
 * by VNI, separated by commas (nothing if there is none).  The other
 * chassis send to this one, and accept from it, only with a VNI that it
 * maps to the network that they map it to (chassis_confirms()). */
void
overlay_format_vnis(const struct overlay *ov, struct ds *s)
{
    size_t n_nets = hmap_count(&ov->nets);
    const struct ovl_net **nets = xmalloc(MAX(n_nets, 1) * sizeof *nets);
    const struct ovl_net *n;
    size_t i = 0;

    HMAP_FOR_EACH (n, node, &ov->nets) {
        nets[i++] = n;
    }
    qsort(nets, n_nets, sizeof *nets, compare_nets_by_vni);
    for (i = 0; i < n_nets; i++) {
        ds_put_format(s, "%s%"PRId64"="UUID_FMT, i ? "," : "", nets[i]->vni,
                      UUID_ARGS(&nets[i]->net_uuid));
    }
    free(nets);
}

/* Computes everything anew, with br-int's VXLAN port at 'tunnel_ofport'
 * (0: none). */
void
overlay_recompute(struct overlay *ov, const struct binding *b,
                  struct ovsdb_idl *tdb, const struct bhrec_chassis *self,
                  int64_t tunnel_ofport, struct flow_table *flows)
{
    const struct vnic *v;

    COVERAGE_INC(overlay_recompute);
    clear_nets(ov);
    find_shared_ips(ov, tdb, self);
    ov->tunnel_ofport = tunnel_ofport;
    flow_table_clear_owner(flows, TUNNEL_OWNER);
    if (tunnel_ofport > 0) {
        pipeline_add_tunnel_output(flows, TUNNEL_OWNER, tunnel_ofport);
    }
    BINDING_FOR_EACH_VNIC (v, b) {
        if (v->state == VNIC_BOUND && v->net_type == POLICY_NET_VXLAN) {
            get_net(ov, v)->n_local++;
        }
    }
    compute_dirty(ov, b, tdb, self, flows);
}

/* Returns true if br-int's VXLAN port is no longer at the ofport the flows
 * were computed for. */
bool
overlay_tunnel_changed(const struct overlay *ov, int64_t tunnel_ofport)
{
    return ov->tunnel_ofport != tunnel_ofport;
}

/* Returns true if 'key' is a VXLAN network's key. */
static bool
is_vxlan_key(uint32_t key)
{
    return key == pipeline_network_key(POLICY_NET_VXLAN, key & 0xffffff);
}

/* Follows the vNICs bound or gone here in this run: a VXLAN network gets
 * flows with its first local vNIC and loses them with its last; a vNIC
 * bound here whose Port the flows sent to another chassis (it moved here)
 * recomputes its network. */
bool
overlay_handle_binding(struct overlay *ov, const struct binding *b,
                       struct ovsdb_idl *tdb,
                       const struct bhrec_chassis *self,
                       struct flow_table *flows)
{
    const struct binding_change *ch;

    BINDING_FOR_EACH_CHANGE (ch, b) {
        if (ch->was_bound && is_vxlan_key(ch->old_net_key)) {
            struct ovl_net *n = find_net(ov, ch->old_net_key);
            if (n && n->n_local) {
                /* Its Port may be bound elsewhere already. */
                n->n_local--;
                n->dirty = true;
            }
        }
        const struct vnic *v = binding_find(b, ch->iface_id);
        if (v && v->state == VNIC_BOUND && v->net_type == POLICY_NET_VXLAN) {
            struct ovl_net *n = get_net(ov, v);
            n->n_local++;
            n->dirty = (n->dirty
                        || uuidset_find(&n->remote_ports, &v->port_uuid)
                        || has_remote_mac(n, &v->bid));
        }
    }

    struct ovl_net *n;
    HMAP_FOR_EACH_SAFE (n, node, &ov->nets) {
        if (!n->n_local) {
            drop_net(ov, n, flows);
        }
    }
    compute_dirty(ov, b, tdb, self, flows);
    return true;
}

/* Follows the Tenant DB: a Port that is, or was, a remote vNIC of a local
 * VXLAN network recomputes that network; a Chassis that changes or goes
 * recomputes them all; a Network that changes recomputes the node. */
bool
overlay_handle_tdb(struct overlay *ov, const struct binding *b,
                   struct ovsdb_idl *tdb, const struct bhrec_chassis *self,
                   struct flow_table *flows)
{
    const struct bhrec_network *net;
    const struct bhrec_chassis *chassis;
    const struct bhrec_port *row;
    struct ovl_net *n;

    BHREC_NETWORK_FOR_EACH_TRACKED (net, tdb) {
        return false;
    }
    BHREC_CHASSIS_FOR_EACH_TRACKED (chassis, tdb) {
        find_shared_ips(ov, tdb, self);
        HMAP_FOR_EACH (n, node, &ov->nets) {
            n->dirty = true;
        }
        break;
    }
    BHREC_PORT_FOR_EACH_TRACKED (row, tdb) {
        HMAP_FOR_EACH (n, node, &ov->nets) {
            if (uuidset_find(&n->remote_ports, &row->header_.uuid)) {
                n->dirty = true;
            }
        }
        uint32_t key = (bhrec_port_is_deleted(row) ? 0
                        : port_vxlan_key(row));
        n = key ? find_net(ov, key) : NULL;
        if (n && row->chassis && row->chassis != self) {
            n->dirty = true;
        }
    }
    compute_dirty(ov, b, tdb, self, flows);
    return true;
}

/* Returns why this host, chassis 'self' of 'tdb' (NULL if not known), has
 * no tunnel to chassis 'ch' (another one), neither sending to it nor
 * accepting from it, or NULL if it has one: for diagnostics; the caller
 * frees it. */
static char *
unreachable_reason(const struct overlay *ov, const struct bhrec_chassis *ch,
                   const struct bhrec_chassis *self)
{
    const struct ovl_shared_ip *shared;
    ovs_be32 ip;

    if (chassis_ip(ov, ch, self, &ip)) {
        return NULL;
    }
    shared = (ch->encap_ip && ip_parse(ch->encap_ip, &ip)
              ? find_shared_ip(&ov->shared_ips, ip) : NULL);
    if (shared) {
        char *names = svec_join(&shared->chassis, ", ", "");
        char *reason = xasprintf("encap_ip shared by chassis %s", names);
        free(names);
        return reason;
    }
    return xstrdup("no usable encap_ip");
}

/* Returns this host's Chassis row in 'tdb', 'self_name' (NULL if not
 * known), or NULL. */
static const struct bhrec_chassis *
find_self(struct ovsdb_idl *tdb, const char *self_name)
{
    const struct bhrec_chassis *ch;

    BHREC_CHASSIS_FOR_EACH (ch, tdb) {
        if (self_name && !strcmp(ch->name, self_name)) {
            return ch;
        }
    }
    return NULL;
}

/* Returns why this host (chassis 'self_name' of 'tdb', NULL if not known)
 * has no tunnel to chassis 'ch', or NULL if it has one or 'ch' is this
 * host: for diagnostics; the caller frees it. */
char *
overlay_chassis_unreachable(const struct overlay *ov, struct ovsdb_idl *tdb,
                            const char *self_name,
                            const struct bhrec_chassis *ch)
{
    const struct bhrec_chassis *self = find_self(tdb, self_name);

    return ch == self ? NULL : unreachable_reason(ov, ch, self);
}

/* "chassis/list". */

/* What the command reads. */
struct chassis_list_aux {
    const struct overlay *ov;   /* The overlay. */
    struct ovsdb_idl *tdb;      /* The Tenant DB. */
    const char **self;          /* This host's chassis name, or NULL. */
};

/* Appends to 's' the VXLAN networks of 'ov' that have vNICs at address 'ip',
 * with how many, or says there are none. */
static void
format_shared_networks(const struct overlay *ov, ovs_be32 ip, struct ds *s)
{
    const struct ovl_net *n;
    struct svec nets = SVEC_EMPTY_INITIALIZER;

    HMAP_FOR_EACH (n, node, &ov->nets) {
        size_t k = 0;
        for (size_t i = 0; i < n->n_remotes; i++) {
            k += n->remotes[i].chassis_ip == ip;
        }
        if (k) {
            svec_add_nocopy(&nets, xasprintf("%s (vni %"PRId64", %"PRIuSIZE
                                             " vNIC%s)", n->name, n->vni, k,
                                             k == 1 ? "" : "s"));
        }
    }
    svec_sort(&nets);
    if (nets.n) {
        ds_put_cstr(s, ": ");
        for (size_t i = 0; i < nets.n; i++) {
            ds_put_format(s, "%s%s", i ? ", " : "", nets.names[i]);
        }
    } else {
        ds_put_cstr(s, ": no network shared with this host");
    }
    svec_destroy(&nets);
}

/* Prints every chassis of the Tenant DB, with its encapsulation address,
 * the VXLAN networks it shares with this host and how many of their vNICs
 * it hosts, as this host's flows have them. */
static void
cmd_chassis_list(struct unixctl_conn *conn, int argc OVS_UNUSED,
                 const char *argv[] OVS_UNUSED, void *aux_)
{
    const struct chassis_list_aux *aux = aux_;
    const struct bhrec_chassis *own = find_self(aux->tdb, *aux->self);
    const struct bhrec_chassis *ch;
    struct ds s = DS_EMPTY_INITIALIZER;
    struct svec lines = SVEC_EMPTY_INITIALIZER;

    BHREC_CHASSIS_FOR_EACH (ch, aux->tdb) {
        ds_clear(&s);
        ds_put_format(&s, "%s %s", ch->name,
                      ch->encap_ip ? ch->encap_ip : "(no encap_ip)");
        if (ch == own) {
            ovs_be32 ip;
            const struct ovl_shared_ip *shared = (
                ch->encap_ip && ip_parse(ch->encap_ip, &ip)
                ? find_shared_ip(&aux->ov->shared_ips, ip) : NULL);
            ds_put_cstr(&s, " (this host");
            if (shared) {
                char *names = svec_join(&shared->chassis, ", ", "");
                ds_put_format(&s, "; encap_ip shared by chassis %s", names);
                free(names);
            }
            ds_put_char(&s, ')');
        } else {
            char *reason = unreachable_reason(aux->ov, ch, own);
            ovs_be32 ip;
            if (reason) {
                ds_put_format(&s, ": unreachable, %s", reason);
                free(reason);
            } else if (chassis_ip(aux->ov, ch, own, &ip)) {
                format_shared_networks(aux->ov, ip, &s);
            }
        }
        svec_add(&lines, ds_cstr(&s));
    }
    svec_sort(&lines);
    ds_clear(&s);
    for (size_t i = 0; i < lines.n; i++) {
        ds_put_format(&s, "%s\n", lines.names[i]);
    }
    unixctl_command_reply(conn, ds_cstr(&s));
    svec_destroy(&lines);
    ds_destroy(&s);
}

/* Registers the overlay's commands; 'tdb' is the Tenant DB, '*self' this
 * host's chassis name (NULL until known). */
void
overlay_register_commands(const struct overlay *ov, struct ovsdb_idl *tdb,
                          const char **self)
{
    struct chassis_list_aux *aux = xmalloc(sizeof *aux);

    aux->ov = ov;
    aux->tdb = tdb;
    aux->self = self;
    unixctl_command_register("chassis/list", "", 0, 0, cmd_chassis_list,
                             aux);
}
