/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#include <config.h>
#include "controller/mirror.h"

#include <stdlib.h>
#include <string.h>
#include "controller/binding.h"
#include "controller/chassis.h"
#include "controller/flow-table.h"
#include "controller/pipeline.h"
#include "coverage.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "ovsdb-idl.h"
#include "packets.h"
#include "policies/policy.h"
#include "schema/bulkhead-idl.h"
#include "simap.h"
#include "svec.h"
#include "unixctl.h"
#include "util.h"
#include "uuid.h"
#include "vswitch-idl.h"

VLOG_DEFINE_THIS_MODULE(mirror);

COVERAGE_DEFINE(mirror_recompute);
COVERAGE_DEFINE(mirror_refused);
COVERAGE_DEFINE(mirror_invalid);

/* What became of a mirror on this host. */
enum mirror_state {
    MIRROR_ACTIVE,              /* Its copies are installed. */
    MIRROR_IDLE,                /* No source vNIC of it is bound here. */
    MIRROR_DEST_MISSING,        /* Its destination is not (yet) here. */
    MIRROR_REFUSED,             /* Its destination is not an operator's. */
    MIRROR_INVALID,             /* Its row says nothing usable. */
};

/* A tunnel port that mirrors send through. */
struct tunnel_class {
    const char *port;           /* Its name on br-int. */
    const char *type;           /* Its Interface type. */
    const char *scheme;         /* Its destinations' prefix ("gre"). */
    const char *what;           /* Its name in messages ("GRE"). */
};

/* The tunnel ports, by enum mirror_tunnel_kind. */
static const struct tunnel_class tunnel_classes[MIRROR_N_TNLS] = {
    [MIRROR_TNL_GRE] = { MIRROR_GRE_PORT, "gre", "gre", "GRE" },
    [MIRROR_TNL_ERSPAN] = { MIRROR_ERSPAN_PORT, "erspan", "erspan",
                            "ERSPAN" },
};

/* One Mirror row, as last computed. */
struct mirror_entry {
    struct hmap_node node;      /* In 'entries', by name. */
    char *name;                 /* Its name. */
    struct uuid row;            /* Its row. */
    enum mirror_state state;    /* What became of it. */
    char *reason;               /* Why it is not active, or NULL. */
    char *dest;                 /* Its destination, for diagnostics. */
    int tnl;                    /* Its tunnel (enum mirror_tunnel_kind), or
                                 * -1 for an analysis port or none. */
    char *target;               /* The analysis port's iface-id or the
                                 * collector's address, or NULL if the row
                                 * has no single destination. */
    struct svec sources;        /* iface-ids of its source vNICs here. */
    uint16_t *zones;            /* The port key of each of 'sources'. */
};

/* The copies of one vNIC's traffic on one side, gathered from every
 * mirror of it. */
struct mirror_copies {
    struct hmap_node node;      /* By (table, zone). */
    uint8_t table;              /* MIRROR_EGRESS or MIRROR_INGRESS. */
    uint32_t zone;              /* The vNIC's port key. */
    bool firewall;              /* The vNIC has a firewall (a verdict). */
    int64_t ofport;             /* The vNIC's ofport. */
    char *iface_id;             /* The vNIC. */
    uint32_t net_key;           /* Its network's key. */
    struct fw_prefix *net_cidrs;  /* Its network's prefixes that parse. */
    size_t n_net_cidrs;         /* Number of 'net_cidrs'. */
    struct ds allowed;          /* Clones of what the firewall allowed. */
    struct ds denied;           /* Clones of what it denied. */
};

/* Initializes 'm', empty. */
void
mirror_init(struct mirror *m)
{
    memset(m, 0, sizeof *m);
    hmap_init(&m->entries);
    smap_init(&m->warned);
    sset_init(&m->src_ifaces);
    sset_init(&m->src_rows);
    sset_init(&m->dest_ifaces);
    sset_init(&m->dest_rows);
    sset_init(&m->analysis);
}

/* Forgets every entry. */
static void
clear_entries(struct mirror *m)
{
    struct mirror_entry *e;

    HMAP_FOR_EACH_POP (e, node, &m->entries) {
        svec_destroy(&e->sources);
        free(e->zones);
        free(e->name);
        free(e->reason);
        free(e->dest);
        free(e->target);
        free(e);
    }
}

/* Frees what 'm' holds. */
void
mirror_destroy(struct mirror *m)
{
    clear_entries(m);
    hmap_destroy(&m->entries);
    smap_destroy(&m->warned);
    free(m->uplink);
    sset_destroy(&m->src_ifaces);
    sset_destroy(&m->src_rows);
    sset_destroy(&m->dest_ifaces);
    sset_destroy(&m->dest_rows);
    sset_destroy(&m->analysis);
}

/* Returns the text of 'uuid', in a static buffer. */
static const char *
uuid_text(const struct uuid *uuid)
{
    static char buf[UUID_LEN + 1];

    snprintf(buf, sizeof buf, UUID_FMT, UUID_ARGS(uuid));
    return buf;
}

/* Returns the copies of ('table', 'zone') in 'copies', creating them for
 * vNIC 'v' if needed. */
static struct mirror_copies *
get_copies(struct hmap *copies, uint8_t table, const struct vnic *v)
{
    uint32_t hash = hash_int(v->zone, table);
    struct mirror_copies *c;

    HMAP_FOR_EACH_WITH_HASH (c, node, hash, copies) {
        if (c->table == table && c->zone == v->zone) {
            return c;
        }
    }
    c = xzalloc(sizeof *c);
    c->table = table;
    c->zone = v->zone;
    c->firewall = v->port.port_security;
    c->ofport = v->ofport;
    c->iface_id = xstrdup(v->iface_id);
    c->net_key = v->net_key;
    c->net_cidrs = xmalloc(MAX(v->net_cidrs.n, 1) * sizeof *c->net_cidrs);
    for (size_t i = 0; i < v->net_cidrs.n; i++) {
        if (fw_prefix_parse(v->net_cidrs.names[i],
                            &c->net_cidrs[c->n_net_cidrs])) {
            c->n_net_cidrs++;
        }
    }
    ds_init(&c->allowed);
    ds_init(&c->denied);
    hmap_insert(copies, &c->node, hash);
    return c;
}

/* Where a mirror sends its copies. */
struct mirror_dest {
    int64_t ofport;             /* Analysis port, or the tunnel port. */
    ovs_be32 remote_ip;         /* The collector, or 0 for a local port. */
    int tnl;                    /* enum mirror_tunnel_kind, or -1 for a
                                 * local port. */
};

/* Appends to 'ds' the clone that sends a copy tagged 'tag' of the vNIC
 * with port key 'zone' to 'd'. */
static void
put_clone(struct ds *ds, const struct mirror_dest *d, int tag,
          uint16_t zone)
{
    if (ds->length) {
        ds_put_char(ds, ',');
    }
    if (d->remote_ip) {
        /* tun_src cleared: a frame that came from the overlay carries its
         * sender's address, which is not this host's.  The tag is the GRE
         * key or the ERSPAN session ID (10 bits); ERSPAN's index (20 bits)
         * says which vNIC. */
        ds_put_format(ds, "clone(set_field:0.0.0.0->tun_src,"
                      "set_field:"IP_FMT"->tun_dst,set_field:%d->tun_id,",
                      IP_ARGS(d->remote_ip), tag);
        if (d->tnl == MIRROR_TNL_ERSPAN) {
            ds_put_format(ds, "set_field:%"PRIu16"->tun_erspan_idx,", zone);
        }
        ds_put_format(ds, "output:%"PRId64")", d->ofport);
    } else {
        ds_put_format(ds, "clone(push_vlan:0x8100,set_field:%d->vlan_vid,"
                      "output:%"PRId64")", 0x1000 | tag, d->ofport);
    }
}

/* Adds the copies of vNIC 'v' that a mirror of direction 'dir' sending to
 * 'd' wants. */
static void
add_source(struct hmap *copies, const struct vnic *v, const char *dir,
           const struct mirror_dest *d)
{
    for (int egress = 0; egress < 2; egress++) {
        if (strcmp(dir, "both") && strcmp(dir, egress ? "out" : "in")) {
            continue;
        }
        struct mirror_copies *c = get_copies(
            copies, egress ? PL_T_MIRROR_EGRESS : PL_T_MIRROR_INGRESS, v);
        put_clone(&c->allowed, d, MIRROR_TAG(egress, false), v->zone);
        put_clone(&c->denied, d, MIRROR_TAG(egress, true), v->zone);
    }
}

/* Returns the iface-id of a source of 'e' that has MIRROR_MAX_PER_VNIC
 * mirrors already, by 'n_mirrors' (iface-id to its active mirrors), or
 * NULL if none has. */
static const char *
full_source(const struct simap *n_mirrors, const struct mirror_entry *e)
{
    for (size_t i = 0; i < e->sources.n; i++) {
        if (simap_get(n_mirrors, e->sources.names[i])
            >= MIRROR_MAX_PER_VNIC) {
            return e->sources.names[i];
        }
    }
    return NULL;
}

/* Sets the state of 'e' to 'state', for 'reason' (a malloc'd string, or
 * NULL), and logs a refusal or an invalid row once. */
static void
set_state(struct mirror *m, struct smap *warned, struct mirror_entry *e,
          enum mirror_state state, char *reason)
{
    e->state = state;
    e->reason = reason;
    if (state == MIRROR_REFUSED || state == MIRROR_INVALID) {
        const char *had = smap_get(&m->warned, e->name);
        if (!had || strcmp(had, reason)) {
            VLOG_WARN("mirror %s %s: %s; it copies nothing", e->name,
                      state == MIRROR_REFUSED ? "refused" : "invalid",
                      reason);
            if (state == MIRROR_REFUSED) {
                COVERAGE_INC(mirror_refused);
            } else {
                COVERAGE_INC(mirror_invalid);
            }
        }
        smap_replace(warned, e->name, reason);
    }
}

/* Returns what Interface 'iface' is if it is a port that carries tenants'
 * traffic and so can never be an analysis port, whatever its marks: the
 * uplink (named 'uplink', or NULL for none), whose copies would reach the
 * physical network with a tag of 1-4 that may be a tenant's VLAN, or one of
 * the controller's own tunnel ports, which its flows already use.  Returns
 * NULL for any other Interface. */
static const char *
reserved_port(const struct ovsrec_interface *iface, const char *uplink)
{
    if (uplink && !strcmp(iface->name, uplink)) {
        return "the uplink (external_ids:bulkhead-uplink)";
    } else if (!strcmp(iface->name, PL_TUNNEL_PORT)) {
        return "the VXLAN port of the overlay";
    }
    for (int t = 0; t < MIRROR_N_TNLS; t++) {
        if (!strcmp(iface->name, tunnel_classes[t].port)) {
            return "the mirrors' own tunnel port";
        }
    }
    return NULL;
}

/* Returns the analysis port or tenant Port that 'iface_id' names: sets
 * '*reason' (malloc'd) and returns a state if it is no analysis port here,
 * else fills in 'd' and returns MIRROR_ACTIVE. */
static enum mirror_state
find_analysis_port(const struct mirror *m, const struct binding *b,
                   const struct shash *ifaces, const struct sset *ambiguous,
                   const struct smap *reserved, const struct sset *port_ids,
                   const char *iface_id, struct mirror_dest *d,
                   char **reason)
{
    const struct vnic *v = binding_find(b, iface_id);

    if (sset_contains(port_ids, iface_id)
        || (v && v->state != VNIC_UNKNOWN)) {
        *reason = xasprintf("destination \"%s\" is the iface-id of a tenant "
                            "Port: an analysis port is never a tenant vNIC",
                            iface_id);
        return MIRROR_REFUSED;
    }
    const struct ovsrec_interface *iface = shash_find_data(ifaces, iface_id);
    if (!iface) {
        *reason = xasprintf("no interface with iface-id \"%s\" on the "
                            "integration bridge", iface_id);
        return MIRROR_DEST_MISSING;
    }
    if (sset_contains(ambiguous, iface_id)) {
        /* Which one the operator meant, nobody can tell: an Interface
         * added with a copied iface-id would draw the copies. */
        *reason = xasprintf("iface-id \"%s\" is on more than one interface "
                            "of the integration bridge: the copies go to "
                            "none of them", iface_id);
        return MIRROR_REFUSED;
    }
    const char *what = smap_get(reserved, iface_id);
    if (what) {
        *reason = xasprintf("interface %s (iface-id \"%s\") is %s: an "
                            "analysis port is never one", iface->name,
                            iface_id, what);
        return MIRROR_REFUSED;
    }
    if (!sset_contains(&m->analysis, iface_id)) {
        *reason = xasprintf("interface %s (iface-id \"%s\") is not marked "
                            "external_ids:"MIRROR_ANALYSIS_KEY"=true",
                            iface->name, iface_id);
        return MIRROR_REFUSED;
    }
    d->ofport = iface->ofport[0];
    d->remote_ip = 0;
    d->tnl = -1;
    return MIRROR_ACTIVE;
}

/* Adds the source vNICs of Mirror 'r' bound here to 'e->sources'. */
static void
find_sources(const struct bhrec_mirror *r, const struct binding *b,
             struct ovsdb_idl *tdb, struct mirror_entry *e)
{
    if (r->source_port) {
        const struct vnic *v = binding_find(b, r->source_port->iface_id);
        if (v && v->state == VNIC_BOUND
            && uuid_equals(&v->port_uuid, &r->source_port->header_.uuid)) {
            svec_add(&e->sources, v->iface_id);
        }
    } else {
        const struct vnic *v;
        BINDING_FOR_EACH_VNIC (v, b) {
            if (v->state != VNIC_BOUND) {
                continue;
            }
            const struct bhrec_port *p = bhrec_port_get_for_uuid(
                tdb, &v->port_uuid);
            if (p && p->network == r->source_network) {
                svec_add(&e->sources, v->iface_id);
            }
        }
        svec_sort(&e->sources);
    }
}

/* Adds the flows that drop what analysis ports ('marked', Interfaces by
 * UUID) and the tunnel ports (at 'tnl_ofports') send. */
static void
add_receive_only_flows(const struct shash *marked,
                       const int64_t tnl_ofports[MIRROR_N_TNLS],
                       struct flow_table *flows)
{
    uint64_t cookie = pipeline_cookie(PL_COOKIE_MIRROR, 0);
    const struct shash_node *node;

    SHASH_FOR_EACH (node, marked) {
        const struct ovsrec_interface *iface = node->data;
        char *owner = xasprintf(MIRROR_OWNERS"analysis:%s", node->name);
        char *match = xasprintf("in_port=%"PRId64, iface->ofport[0]);
        flow_table_add(flows, owner, PL_T_CLASSIFY, 300, cookie, match,
                       "drop");
        free(match);
        free(owner);
    }
    for (int t = 0; t < MIRROR_N_TNLS; t++) {
        if (tnl_ofports[t]) {
            char *owner = xasprintf(MIRROR_OWNERS"%s",
                                    tunnel_classes[t].scheme);
            char *match = xasprintf("in_port=%"PRId64, tnl_ofports[t]);
            flow_table_add(flows, owner, PL_T_CLASSIFY, 300, cookie, match,
                           "drop");
            free(match);
            free(owner);
        }
    }
}

/* Adds the flows of 'copies'. */
static void
add_copy_flows(const struct hmap *copies, struct flow_table *flows)
{
    const struct mirror_copies *c;

    HMAP_FOR_EACH (c, node, copies) {
        const char *reg = c->table == PL_T_MIRROR_EGRESS ? "reg6" : "reg8";
        uint64_t cookie = pipeline_cookie(PL_COOKIE_MIRROR, c->zone);
        char *owner = xasprintf(MIRROR_OWNERS"vnic:%s", c->iface_id);
        char *match = xasprintf("%s=%"PRIu32, reg, c->zone);

        flow_table_add(flows, owner, c->table, 100, cookie, match,
                       ds_cstr_ro(&c->allowed));
        if (c->firewall) {
            char *denied = xasprintf("%s,reg13=0", match);
            flow_table_add(flows, owner, c->table, 200, cookie, denied,
                           ds_cstr_ro(&c->denied));
            free(denied);
        }
        if (c->table == PL_T_MIRROR_INGRESS) {
            pipeline_add_ingress_mirror(flows, owner, cookie, c->zone,
                                        c->ofport, c->firewall, c->net_key,
                                        c->net_cidrs, c->n_net_cidrs);
            /* A flood's copy to the port it came from passes the sender's
             * ingress side but never leaves (OpenFlow does not output to
             * the input port): the vNIC did not receive it. */
            char *own = xasprintf("%s,in_port=%"PRId64, match, c->ofport);
            flow_table_add(flows, owner, c->table, 300, cookie, own, "drop");
            free(own);
        }
        free(match);
        free(owner);
    }
}

/* Computes every mirror and its flows from scratch: the Mirror rows of
 * 'tdb', the vNICs of 'b', the analysis ports on 'br', and the tunnel
 * ports' ofports 'tnl_ofports'. */
void
mirror_recompute(struct mirror *m, const struct binding *b,
                 const struct ovsrec_bridge *br, const char *uplink,
                 struct ovsdb_idl *tdb,
                 const int64_t tnl_ofports[MIRROR_N_TNLS],
                 struct flow_table *flows)
{
    struct shash ifaces = SHASH_INITIALIZER(&ifaces);
    struct sset ambiguous = SSET_INITIALIZER(&ambiguous);
    struct smap reserved = SMAP_INITIALIZER(&reserved);
    struct shash marked = SHASH_INITIALIZER(&marked);
    struct sset port_ids = SSET_INITIALIZER(&port_ids);
    struct simap n_mirrors = SIMAP_INITIALIZER(&n_mirrors);
    struct smap warned = SMAP_INITIALIZER(&warned);
    struct hmap copies = HMAP_INITIALIZER(&copies);
    const struct bhrec_mirror *r;

    COVERAGE_INC(mirror_recompute);
    clear_entries(m);
    sset_clear(&m->src_ifaces);
    sset_clear(&m->src_rows);
    sset_clear(&m->dest_ifaces);
    sset_clear(&m->dest_rows);
    sset_clear(&m->analysis);
    free(m->uplink);
    m->uplink = nullable_xstrdup(uplink);
    for (int t = 0; t < MIRROR_N_TNLS; t++) {
        m->tnls[t].ofport = tnl_ofports[t];
        m->tnls[t].wanted = false;
    }

    /* The Interfaces of br-int with an iface-id and an ofport ('ifaces',
     * by iface-id, and the iface-ids that more than one has), and which of
     * them are analysis ports: marked, no Port's, and neither the uplink
     * nor a tunnel port ('marked', by UUID; those 'reserved', by
     * iface-id, what they are). */
    for (size_t i = 0; br && i < br->n_ports; i++) {
        const struct ovsrec_port *p = br->ports[i];
        for (size_t j = 0; j < p->n_interfaces; j++) {
            const struct ovsrec_interface *iface = p->interfaces[j];
            const char *id = smap_get(&iface->external_ids, "iface-id");
            if (!id || !iface->n_ofport || iface->ofport[0] <= 0) {
                continue;
            }
            if (!shash_add_once(&ifaces, id, iface)) {
                sset_add(&ambiguous, id);
            }
            const struct vnic *v = binding_find(b, id);
            const char *what = reserved_port(iface, uplink);
            if (what) {
                smap_replace(&reserved, id, what);
            } else if (smap_get_bool(&iface->external_ids,
                                     MIRROR_ANALYSIS_KEY, false)
                       && (!v || v->state == VNIC_UNKNOWN)) {
                sset_add(&m->analysis, id);
                sset_add(&m->analysis, uuid_text(&iface->header_.uuid));
                shash_add(&marked, uuid_text(&iface->header_.uuid), iface);
            }
        }
    }

    /* The Mirror rows, by name, so that the clones of several mirrors of
     * one vNIC come in one order. */
    struct svec names = SVEC_EMPTY_INITIALIZER;
    struct shash rows = SHASH_INITIALIZER(&rows);
    BHREC_MIRROR_FOR_EACH (r, tdb) {
        if (shash_add_once(&rows, r->name, r)) {
            svec_add(&names, r->name);
        }
    }
    svec_sort(&names);
    bool have_port_ids = false;
    for (size_t i = 0; i < names.n; i++) {
        r = shash_find_data(&rows, names.names[i]);
        struct mirror_entry *e = xzalloc(sizeof *e);
        e->name = xstrdup(r->name);
        e->row = r->header_.uuid;
        e->tnl = -1;
        svec_init(&e->sources);
        hmap_insert(&m->entries, &e->node, hash_string(e->name, 0));

        /* The row as such. */
        struct mirror_dest d = { 0, 0, -1 };
        if (!r->source_port == !r->source_network) {
            e->dest = xstrdup("?");
            set_state(m, &warned, e, MIRROR_INVALID, xstrdup(
                          r->source_port ? "it names both a port and a "
                          "network as its source" : "it has no source (its "
                          "Port or Network was deleted)"));
            continue;
        }
        sset_add(&m->src_rows, uuid_text(
                     r->source_port ? &r->source_port->header_.uuid
                     : &r->source_network->header_.uuid));
        if (!!r->to_iface + !!r->to_gre + !!r->to_erspan != 1) {
            e->dest = xstrdup("?");
            set_state(m, &warned, e, MIRROR_INVALID, xstrdup(
                          "it needs one destination, an analysis port or a "
                          "GRE or ERSPAN collector"));
            continue;
        }
        if (strcmp(r->direction, "in") && strcmp(r->direction, "out")
            && strcmp(r->direction, "both")) {
            e->dest = xstrdup("?");
            set_state(m, &warned, e, MIRROR_INVALID, xasprintf(
                          "unknown direction \"%s\"", r->direction));
            continue;
        }
        find_sources(r, b, tdb, e);
        e->zones = xmalloc(e->sources.n * sizeof *e->zones);
        for (size_t j = 0; j < e->sources.n; j++) {
            e->zones[j] = binding_find(b, e->sources.names[j])->zone;
            sset_add(&m->src_ifaces, e->sources.names[j]);
        }

        /* Its destination.  A source that has the most mirrors already
         * ('full') refuses it below; it copies nothing here then. */
        const char *full = full_source(&n_mirrors, e);
        enum mirror_state state = MIRROR_ACTIVE;
        char *reason = NULL;
        if (!r->to_iface) {
            int t = r->to_gre ? MIRROR_TNL_GRE : MIRROR_TNL_ERSPAN;
            const struct tunnel_class *tc = &tunnel_classes[t];
            const char *remote = r->to_gre ? r->to_gre : r->to_erspan;
            e->tnl = t;
            e->target = xstrdup(remote);
            e->dest = xasprintf("%s:%s", tc->scheme, remote);
            ovs_be32 ip;
            if (!policy_parse_host_ip(remote, &ip)) {
                state = MIRROR_INVALID;
                reason = xasprintf("%s destination \"%s\" is not the "
                                   "unicast IPv4 address of another host",
                                   tc->what, remote);
            } else {
                /* The port is wanted for a mirror that copies something
                 * here. */
                bool copies_here = e->sources.n && !full;
                m->tnls[t].wanted = m->tnls[t].wanted || copies_here;
                d.remote_ip = ip;
                d.tnl = t;
                d.ofport = tnl_ofports[t];
                if (!d.ofport && copies_here) {
                    state = MIRROR_DEST_MISSING;
                    reason = xasprintf("the %s port %s is not ready yet",
                                       tc->what, tc->port);
                }
            }
        } else {
            e->target = xstrdup(r->to_iface);
            e->dest = xasprintf("analysis port %s", r->to_iface);
            sset_add(&m->dest_ifaces, r->to_iface);
            if (!have_port_ids) {
                const struct bhrec_port *p;
                BHREC_PORT_FOR_EACH (p, tdb) {
                    sset_add(&port_ids, p->iface_id);
                }
                have_port_ids = true;
            }
            state = find_analysis_port(m, b, &ifaces, &ambiguous, &reserved,
                                       &port_ids, r->to_iface, &d, &reason);
        }
        if (state == MIRROR_ACTIVE && !e->sources.n) {
            state = MIRROR_IDLE;
            reason = xstrdup("no source vNIC is bound on this host");
        }
        if (state == MIRROR_ACTIVE && full) {
            state = MIRROR_REFUSED;
            reason = xasprintf("vNIC %s already has %d mirrors, the most one "
                               "vNIC may have", full, MIRROR_MAX_PER_VNIC);
        }
        set_state(m, &warned, e, state, reason);
        if (state != MIRROR_ACTIVE) {
            continue;
        }

        /* Its copies. */
        for (size_t j = 0; j < e->sources.n; j++) {
            const struct vnic *v = binding_find(b, e->sources.names[j]);
            add_source(&copies, v, r->direction, &d);
            simap_increase(&n_mirrors, v->iface_id, 1);
        }
    }
    hmap_swap(&m->warned.map, &warned.map);

    /* The Interfaces that have a destination's iface-id, whatever else
     * they are, so that a change of one of them is seen even once its
     * iface-id is another. */
    for (size_t i = 0; br && !sset_is_empty(&m->dest_ifaces)
                       && i < br->n_ports; i++) {
        const struct ovsrec_port *p = br->ports[i];
        for (size_t j = 0; j < p->n_interfaces; j++) {
            const struct ovsrec_interface *iface = p->interfaces[j];
            const char *id = smap_get(&iface->external_ids, "iface-id");
            if (id && sset_contains(&m->dest_ifaces, id)) {
                sset_add(&m->dest_rows, uuid_text(&iface->header_.uuid));
            }
        }
    }

    add_receive_only_flows(&marked, tnl_ofports, flows);
    add_copy_flows(&copies, flows);

    struct mirror_copies *c;
    HMAP_FOR_EACH_POP (c, node, &copies) {
        ds_destroy(&c->allowed);
        ds_destroy(&c->denied);
        free(c->iface_id);
        free(c->net_cidrs);
        free(c);
    }
    hmap_destroy(&copies);
    svec_destroy(&names);
    shash_destroy(&rows);
    shash_destroy(&ifaces);
    sset_destroy(&ambiguous);
    smap_destroy(&reserved);
    shash_destroy(&marked);
    sset_destroy(&port_ids);
    simap_destroy(&n_mirrors);
    smap_destroy(&warned);
}

/* Change handler for the local OVSDB: false (recompute) if an Interface
 * that is, or was, an analysis port or a mirror's destination (by its
 * iface-id then or now) changed, or one that is now marked as an analysis
 * port. */
bool
mirror_handle_ovs(const struct mirror *m, struct ovsdb_idl *ovs)
{
    const struct ovsrec_interface *iface;

    OVSREC_INTERFACE_FOR_EACH_TRACKED (iface, ovs) {
        const char *uuid = uuid_text(&iface->header_.uuid);
        if (sset_contains(&m->analysis, uuid)
            || sset_contains(&m->dest_rows, uuid)) {
            return false;
        }
        /* A deleted row keeps its columns while tracked: one that had a
         * destination's iface-id may leave it unambiguous. */
        const char *id = smap_get(&iface->external_ids, "iface-id");
        if (smap_get_bool(&iface->external_ids, MIRROR_ANALYSIS_KEY, false)
            || (id && (sset_contains(&m->dest_ifaces, id)
                       || sset_contains(&m->analysis, id)))) {
            return false;
        }
    }
    return true;
}

/* Change handler for binding: false (recompute) if a vNIC that a mirror
 * copies, or whose Port or Network a mirror names, was bound, changed or
 * unbound, or one with an analysis port's or destination's iface-id, or
 * one whose Interface (in 'ovs') is marked as an analysis port: a marked
 * Interface that a tenant Port let go is an analysis port again, and gets
 * its drop, whether or not a mirror or another analysis port exists. */
bool
mirror_handle_binding(const struct mirror *m, const struct binding *b,
                      struct ovsdb_idl *ovs, struct ovsdb_idl *tdb)
{
    const struct binding_change *ch;
    bool idle = hmap_is_empty(&m->entries) && sset_is_empty(&m->analysis);

    BINDING_FOR_EACH_CHANGE (ch, b) {
        const struct vnic *v = binding_find(b, ch->iface_id);
        if (v) {
            const struct ovsrec_interface *iface
                = ovsrec_interface_get_for_uuid(ovs, &v->iface_uuid);
            if (iface && smap_get_bool(&iface->external_ids,
                                       MIRROR_ANALYSIS_KEY, false)) {
                return false;
            }
        }
        if (idle) {
            /* No mirror nor analysis port: only a marked Interface
             * matters. */
            continue;
        }
        if (sset_contains(&m->src_ifaces, ch->iface_id)
            || sset_contains(&m->dest_ifaces, ch->iface_id)
            || sset_contains(&m->analysis, ch->iface_id)) {
            return false;
        }
        if (v && v->state == VNIC_BOUND) {
            const struct bhrec_port *p = bhrec_port_get_for_uuid(
                tdb, &v->port_uuid);
            const struct uuid *net = p ? &p->network->header_.uuid : NULL;
            if (sset_contains(&m->src_rows, uuid_text(&v->port_uuid))
                || (net && sset_contains(&m->src_rows, uuid_text(net)))) {
                return false;
            }
        }
    }
    return true;
}

/* Change handler for the Tenant DB: false (recompute) if a Mirror row
 * changed, or a Port with a destination's or analysis port's iface-id (a
 * tenant Port that takes an operator's iface-id refuses the mirror). */
bool
mirror_handle_tdb(const struct mirror *m, struct ovsdb_idl *tdb)
{
    const struct bhrec_mirror *r;
    const struct bhrec_port *p;

    BHREC_MIRROR_FOR_EACH_TRACKED (r, tdb) {
        return false;
    }
    if (sset_is_empty(&m->dest_ifaces) && sset_is_empty(&m->analysis)) {
        return true;
    }
    BHREC_PORT_FOR_EACH_TRACKED (p, tdb) {
        if (bhrec_port_is_deleted(p)
            || sset_contains(&m->dest_ifaces, p->iface_id)
            || sset_contains(&m->analysis, p->iface_id)) {
            return false;
        }
    }
    return true;
}

/* Returns true if 'iface' is an analysis port, as last computed: the
 * mirrors' copies may go to it. */
bool
mirror_is_analysis_port(const struct mirror *m,
                        const struct ovsrec_interface *iface)
{
    return (!sset_is_empty(&m->analysis)
            && sset_contains(&m->analysis, uuid_text(&iface->header_.uuid)));
}

/* Change handler for the configured uplink's name 'uplink' (NULL: none):
 * false (recompute) if it is not the one the mirrors were computed with,
 * since the uplink is never an analysis port. */
bool
mirror_handle_uplink(const struct mirror *m, const char *uplink)
{
    return nullable_string_is_equal(uplink, m->uplink);
}

/* Returns true if a tunnel port's ofport in 'tnl_ofports' is not the one
 * the flows use. */
bool
mirror_tunnels_changed(const struct mirror *m,
                       const int64_t tnl_ofports[MIRROR_N_TNLS])
{
    for (int t = 0; t < MIRROR_N_TNLS; t++) {
        if (m->tnls[t].ofport != tnl_ofports[t]) {
            return true;
        }
    }
    return false;
}

/* Stores in 'tnl_ofports' the tunnel ports' ofports on 'br' (0 for one
 * that it does not have), reading them again only when the local OVSDB
 * changed. */
void
mirror_read_tunnels(struct mirror *m, const struct ovsrec_bridge *br,
                    struct ovsdb_idl *ovs, int64_t tnl_ofports[MIRROR_N_TNLS])
{
    unsigned int seqno = ovsdb_idl_get_seqno(ovs);

    for (int t = 0; t < MIRROR_N_TNLS; t++) {
        struct mirror_tunnel *tn = &m->tnls[t];
        if (seqno != m->tnl_seqno) {
            const struct tunnel_class *tc = &tunnel_classes[t];
            const struct ovsrec_port *port = chassis_find_port(br, tc->port);
            const struct ovsrec_interface *iface
                = port && port->n_interfaces == 1 ? port->interfaces[0] : NULL;
            tn->read = (iface && !strcmp(iface->type, tc->type)
                        && iface->n_ofport && iface->ofport[0] > 0
                        ? iface->ofport[0] : 0);
            tn->done = false;
        }
        tnl_ofports[t] = tn->read;
    }
    m->tnl_seqno = seqno;
}

/* Makes the tunnel ports what the mirrors want, in 'txn': each there,
 * flow-based, while a mirror through it has sources here (put back as it
 * should be if someone changed it), absent otherwise. */
void
mirror_ensure_tunnels(struct mirror *m, const struct ovsrec_bridge *br,
                      struct ovsdb_idl_txn *txn)
{
    for (int t = 0; t < MIRROR_N_TNLS; t++) {
        struct mirror_tunnel *tn = &m->tnls[t];
        const struct tunnel_class *tc = &tunnel_classes[t];

        if (!txn || (tn->done && tn->done_wanted == tn->wanted)) {
            continue;
        }
        tn->done_wanted = tn->wanted;
        tn->done = true;

        /* ERSPAN type II (version 1): the session ID is the key (tun_id),
         * the index is set per flow. */
        struct smap extra = SMAP_INITIALIZER(&extra);
        if (t == MIRROR_TNL_ERSPAN) {
            smap_add(&extra, "erspan_ver", "1");
            smap_add(&extra, "erspan_idx", "flow");
        }
        char *why = xasprintf("no %s mirror has a source here", tc->what);
        chassis_keep_flow_tunnel(br, tc->port, tc->type, &extra, tn->wanted,
                                 why, txn);
        free(why);
        smap_destroy(&extra);
    }
}

/* "mirror/list". */

/* Returns the name of a mirror state. */
static const char *
state_name(enum mirror_state state)
{
    switch (state) {
    case MIRROR_ACTIVE: return "active";
    case MIRROR_IDLE: return "idle";
    case MIRROR_DEST_MISSING: return "destination missing";
    case MIRROR_REFUSED: return "refused";
    case MIRROR_INVALID: return "invalid";
    }
    return "?";
}

/* Appends the source of Mirror 'r' to 's', as bulkhead-ctl names it. */
static void
put_source(struct ds *s, const struct bhrec_mirror *r)
{
    if (r && r->source_port) {
        const struct bhrec_port *p = r->source_port;
        ds_put_format(s, "port %s/%s/%s", p->network->tenant->name,
                      p->network->name, p->name);
    } else if (r && r->source_network) {
        ds_put_format(s, "network %s/%s", r->source_network->tenant->name,
                      r->source_network->name);
    } else {
        ds_put_cstr(s, "none");
    }
}

/* Returns the name of a mirror state in JSON. */
static const char *
state_json_name(enum mirror_state state)
{
    switch (state) {
    case MIRROR_ACTIVE: return "active";
    case MIRROR_IDLE: return "idle";
    case MIRROR_DEST_MISSING: return "destination_missing";
    case MIRROR_REFUSED: return "refused";
    case MIRROR_INVALID: return "invalid";
    }
    return "?";
}

/* Returns the source of Mirror 'r' as JSON: {"type": "port" or "network",
 * "name": as bulkhead-ctl names it}, or null. */
static struct json *
source_to_json(const struct bhrec_mirror *r)
{
    struct json *o = json_object_create();

    if (r && r->source_port) {
        const struct bhrec_port *p = r->source_port;
        json_object_put_string(o, "type", "port");
        json_object_put_format(o, "name", "%s/%s/%s",
                               p->network->tenant->name, p->network->name,
                               p->name);
    } else if (r && r->source_network) {
        json_object_put_string(o, "type", "network");
        json_object_put_format(o, "name", "%s/%s",
                               r->source_network->tenant->name,
                               r->source_network->name);
    } else {
        json_destroy(o);
        return json_null_create();
    }
    return o;
}

/* Returns the destination of 'e' as JSON: {"type": "analysis_port",
 * "iface_id": ...}, {"type": "gre" or "erspan", "remote_ip": ...}, or
 * null. */
static struct json *
dest_to_json(const struct mirror_entry *e)
{
    if (!e->target) {
        return json_null_create();
    }

    struct json *o = json_object_create();
    if (e->tnl < 0) {
        json_object_put_string(o, "type", "analysis_port");
        json_object_put_string(o, "iface_id", e->target);
    } else {
        json_object_put_string(o, "type", tunnel_classes[e->tnl].scheme);
        json_object_put_string(o, "remote_ip", e->target);
        if (e->tnl == MIRROR_TNL_ERSPAN) {
            json_object_put(o, "erspan_version", json_integer_create(1));
        }
    }
    return o;
}

/* Returns mirror 'e' (of row 'r', if it still exists) as JSON. */
static struct json *
entry_to_json(const struct mirror_entry *e, const struct bhrec_mirror *r)
{
    struct json *o = json_object_create();

    json_object_put_string(o, "name", e->name);
    json_object_put(o, "source", source_to_json(r));
    json_object_put(o, "direction", (r ? json_string_create(r->direction)
                                     : json_null_create()));
    json_object_put(o, "destination", dest_to_json(e));
    json_object_put_string(o, "state", state_json_name(e->state));
    json_object_put(o, "reason", (e->reason ? json_string_create(e->reason)
                                  : json_null_create()));

    struct json *sources = json_array_create_empty();
    for (size_t i = 0; i < e->sources.n; i++) {
        struct json *src = json_object_create();
        json_object_put_string(src, "iface_id", e->sources.names[i]);
        if (e->zones) {
            json_object_put(src, "zone", json_integer_create(e->zones[i]));
            if (e->tnl == MIRROR_TNL_ERSPAN) {
                json_object_put(src, "erspan_index",
                                json_integer_create(e->zones[i]));
            }
        }
        json_array_add(sources, src);
    }
    json_object_put(o, "sources", sources);
    return o;
}

/* Context of "mirror/list". */
struct mirror_cmd_ctx {
    const struct mirror *m;     /* The node. */
    struct ovsdb_idl *tdb;      /* The Tenant DB. */
};

/* Compares two mirror entries by name, for qsort(). */
static int
compare_entries(const void *a_, const void *b_)
{
    const struct mirror_entry *const *a = a_;
    const struct mirror_entry *const *b = b_;

    return strcmp((*a)->name, (*b)->name);
}

/* "mirror/list [--format=json|table]": every mirror of the Tenant DB, its
 * source, its vNICs bound here, its destination and its state on this
 * host. */
static void
cmd_mirror_list(struct unixctl_conn *conn, int argc, const char *argv[],
                void *ctx_)
{
    const struct mirror_cmd_ctx *ctx = ctx_;
    const struct mirror_entry *e;
    bool json = false;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--format=json")) {
            json = true;
        } else if (!strcmp(argv[i], "--format=table")) {
            json = false;
        } else {
            char *error = xasprintf("%s: unknown option (mirror/list "
                                    "[--format=json|table])", argv[i]);
            unixctl_command_reply_error(conn, error);
            free(error);
            return;
        }
    }

    size_t n = hmap_count(&ctx->m->entries);
    const struct mirror_entry **sorted = xmalloc(n * sizeof *sorted);
    size_t i = 0;
    HMAP_FOR_EACH (e, node, &ctx->m->entries) {
        sorted[i++] = e;
    }
    qsort(sorted, n, sizeof *sorted, compare_entries);

    struct ds s = DS_EMPTY_INITIALIZER;
    struct json *array = json ? json_array_create_empty() : NULL;
    for (i = 0; i < n; i++) {
        e = sorted[i];
        const struct bhrec_mirror *r = bhrec_mirror_get_for_uuid(ctx->tdb,
                                                                 &e->row);
        if (json) {
            json_array_add(array, entry_to_json(e, r));
            continue;
        }

        ds_put_format(&s, "%s: source ", e->name);
        put_source(&s, r);
        ds_put_format(&s, ", direction %s, to %s\n",
                      r ? r->direction : "?", e->dest);
        ds_put_format(&s, "  state: %s", state_name(e->state));
        if (e->reason) {
            ds_put_format(&s, " (%s)", e->reason);
        }
        ds_put_cstr(&s, "\n  sources here:");
        for (size_t j = 0; j < e->sources.n; j++) {
            ds_put_format(&s, " %s", e->sources.names[j]);
        }
        if (!e->sources.n) {
            ds_put_cstr(&s, " none");
        }
        ds_put_char(&s, '\n');
    }
    if (json) {
        char *text = json_to_string(array, JSSF_SORT | JSSF_PRETTY);
        unixctl_command_reply(conn, text);
        free(text);
        json_destroy(array);
    } else {
        unixctl_command_reply(conn, ds_cstr(&s));
    }
    ds_destroy(&s);
    free(sorted);
}

/* Registers "mirror/list". */
void
mirror_register_commands(const struct mirror *m, struct ovsdb_idl *tdb)
{
    struct mirror_cmd_ctx *ctx = xmalloc(sizeof *ctx);

    ctx->m = m;
    ctx->tdb = tdb;
    unixctl_command_register("mirror/list", "[--format=json|table]", 0, 1,
                             cmd_mirror_list, ctx);
}
