/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#include <config.h>
#include "controller/binding.h"

#include <stdlib.h>
#include <string.h>
#include "controller/pipeline.h"
#include "coverage.h"
#include "hash.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "ovsdb-idl.h"
#include "schema/bulkhead-idl.h"
#include "simap.h"
#include "smap.h"
#include "svec.h"
#include "util.h"
#include "uuid.h"
#include "vswitch-idl.h"

VLOG_DEFINE_THIS_MODULE(binding);

COVERAGE_DEFINE(binding_vnic_recompute);
COVERAGE_DEFINE(binding_net_recompute);
COVERAGE_DEFINE(binding_full_recompute);

/* What became of a vNIC. */
enum vnic_state {
    VNIC_BOUND,                 /* Bound to a Port: has flows. */
    VNIC_UNKNOWN,               /* No Port has its iface-id. */
    VNIC_REFUSED,               /* attached-mac disagrees with Port.mac. */
};

/* A vNIC on the integration bridge. */
struct local_vnic {
    struct hmap_node node;      /* In binding's 'vnics', by iface-id. */
    struct hmap_node port_node; /* In 'vnics_by_port', if 'by_port'. */
    struct ovs_list mark_node;  /* In 'marks', if 'marking'. */
    bool by_port;               /* In 'vnics_by_port'. */
    bool marking;               /* In 'marks'. */
    const struct ovsrec_interface *iface;  /* Its row, as of this run. */
    bool dirty;                 /* A Tenant DB change may concern it. */
    bool claim_pending;         /* Its Port still needs claiming. */
    bool iface_marked;          /* bulkhead-installed written. */
    bool clear_mark;            /* bulkhead-installed must go first. */
    bool port_marked;           /* Port.up written. */
    char *iface_id;             /* external_ids:iface-id. */
    char *iface_name;           /* The OVS Interface's name. */
    int64_t ofport;             /* Its OpenFlow port. */
    enum vnic_state state;      /* Bound, unknown or refused. */
    char *reason;               /* Why refused, or NULL. */
    char *tenant;               /* Tenant name, if bound. */
    char *network;              /* Network name, if bound. */
    char *port;                 /* Port name, if bound. */
    struct uuid port_uuid;      /* Tenant DB Port, if bound. */
    uint32_t net_key;           /* Network key, if bound. */
    uint16_t zone;              /* Conntrack zone and port key, if bound. */
    char *signature;            /* Inputs of its flows; NULL: recompute. */
    bool pending;               /* Flows changed since the last put. */
    uint64_t put_seqno;         /* Put that carried its flows, or 0. */
    bool seen;                  /* Found in this run. */
};

/* A network with vNICs bound on this host. */
struct local_net {
    struct hmap_node node;      /* In binding's 'networks', by key. */
    uint32_t key;               /* Network key. */
    enum policy_net_type type;  /* VLAN or VXLAN. */
    int64_t segment;            /* VLAN ID or VNI. */
    struct simap members;       /* iface-id -> ofport of bound vNICs. */
    bool dirty;                 /* Flooding flows need recomputing. */
};

/* Initializes 'b' with no vNICs. */
void
binding_init(struct binding *b)
{
    hmap_init(&b->vnics);
    hmap_init(&b->vnics_by_port);
    ovs_list_init(&b->marks);
    hmapx_init(&b->claim_retry);
    b->uplink_name = NULL;
    hmap_init(&b->networks);
    ct_zones_init(&b->zones);
    flow_table_init(&b->desired);
    b->uplink_ofport = 0;
    b->zones_loaded = false;
    b->need_recompute = true;
    b->strays_released = false;
}

static void
vnic_free(struct local_vnic *v)
{
    free(v->iface_id);
    free(v->iface_name);
    free(v->reason);
    free(v->tenant);
    free(v->network);
    free(v->port);
    free(v->signature);
    free(v);
}

static void
net_free(struct local_net *n)
{
    simap_destroy(&n->members);
    free(n);
}

/* Frees what 'b' holds. */
void
binding_destroy(struct binding *b)
{
    struct local_vnic *v;
    struct local_net *n;

    HMAP_FOR_EACH_POP (v, node, &b->vnics) {
        vnic_free(v);
    }
    hmap_destroy(&b->vnics);
    hmap_destroy(&b->vnics_by_port);
    hmapx_destroy(&b->claim_retry);
    free(b->uplink_name);
    HMAP_FOR_EACH_POP (n, node, &b->networks) {
        net_free(n);
    }
    hmap_destroy(&b->networks);
    ct_zones_destroy(&b->zones);
    flow_table_destroy(&b->desired);
}

/* Returns the vNIC with 'iface_id', or NULL. */
static struct local_vnic *
find_vnic(const struct binding *b, const char *iface_id)
{
    struct local_vnic *v;

    HMAP_FOR_EACH_WITH_HASH (v, node, hash_string(iface_id, 0), &b->vnics) {
        if (!strcmp(v->iface_id, iface_id)) {
            return v;
        }
    }
    return NULL;
}

/* Returns the vNIC bound to the Port with 'uuid', or NULL. */
static struct local_vnic *
find_vnic_by_port(const struct binding *b, const struct uuid *uuid)
{
    struct local_vnic *v;

    HMAP_FOR_EACH_WITH_HASH (v, port_node, uuid_hash(uuid),
                             &b->vnics_by_port) {
        if (uuid_equals(&v->port_uuid, uuid)) {
            return v;
        }
    }
    return NULL;
}

/* Indexes 'v' by the Port it is bound to ('bound'), or not. */
static void
index_by_port(struct binding *b, struct local_vnic *v, bool bound)
{
    if (v->by_port) {
        hmap_remove(&b->vnics_by_port, &v->port_node);
        v->by_port = false;
    }
    if (bound) {
        hmap_insert(&b->vnics_by_port, &v->port_node,
                    uuid_hash(&v->port_uuid));
        v->by_port = true;
    }
}

/* Puts 'v' in the list of vNICs awaiting installed marks, or takes it out
 * ('want' false). */
static void
want_mark(struct binding *b, struct local_vnic *v, bool want)
{
    if (want && !v->marking) {
        ovs_list_push_back(&b->marks, &v->mark_node);
        v->marking = true;
        v->iface_marked = v->port_marked = false;
    } else if (!want && v->marking) {
        ovs_list_remove(&v->mark_node);
        v->marking = false;
    }
}

/* Returns the vNIC named 'name' (an iface-id, a port name, or an OVS
 * interface name), or NULL. */
static const struct local_vnic *
lookup_vnic(const struct binding *b, const char *name)
{
    const struct local_vnic *v = find_vnic(b, name);

    if (!v) {
        HMAP_FOR_EACH (v, node, &b->vnics) {
            if ((v->port && !strcmp(v->port, name))
                || !strcmp(v->iface_name, name)) {
                return v;
            }
        }
    }
    return v;
}

/* Returns the local network with 'key', creating it (for 'type' and
 * 'segment') if 'create'. */
static struct local_net *
find_net(struct binding *b, uint32_t key, bool create,
         enum policy_net_type type, int64_t segment)
{
    struct local_net *n;

    HMAP_FOR_EACH_WITH_HASH (n, node, hash_int(key, 0), &b->networks) {
        if (n->key == key) {
            return n;
        }
    }
    if (!create) {
        return NULL;
    }
    n = xzalloc(sizeof *n);
    n->key = key;
    n->type = type;
    n->segment = segment;
    simap_init(&n->members);
    hmap_insert(&b->networks, &n->node, hash_int(key, 0));
    return n;
}

/* Removes 'v' from its network's members. */
static void
leave_net(struct binding *b, struct local_vnic *v)
{
    if (v->state == VNIC_BOUND) {
        struct local_net *n = find_net(b, v->net_key, false, 0, 0);
        if (n && simap_find_and_delete(&n->members, v->iface_id)) {
            n->dirty = true;
        }
    }
}

/* Returns the Tenant DB Port with 'iface_id', or NULL. */
static const struct bhrec_port *
find_port(struct ovsdb_idl_index *index, const char *iface_id)
{
    struct bhrec_port *key = bhrec_port_index_init_row(index);
    bhrec_port_set_iface_id(key, iface_id);
    const struct bhrec_port *port = bhrec_port_index_find(index, key);
    bhrec_port_index_destroy_row(key);
    return port;
}

/* Returns the signature of the inputs of the flows of a vNIC bound to
 * 'port' at 'ofport' with 'zone'.  The caller frees it. */
static char *
vnic_signature(const struct bhrec_port *port, int64_t ofport, uint16_t zone)
{
    const struct bhrec_network *net = port->network;
    struct ds s = DS_EMPTY_INITIALIZER;

    ds_put_format(&s, "%"PRId64"|%"PRIu16"|%s|%s|%"PRId64"|%s|%d|",
                  ofport, zone, port->mac, net->type, net->segment,
                  port->name, port->port_security);
    for (size_t i = 0; i < port->n_ips; i++) {
        ds_put_format(&s, "%s,", port->ips[i]);
    }
    ds_put_char(&s, '|');
    for (size_t i = 0; i < port->n_allowed_addresses; i++) {
        ds_put_format(&s, "%s,", port->allowed_addresses[i]);
    }
    return ds_steal_cstr(&s);
}

/* Computes the flows of 'v', now bound to 'port'. */
static void
vnic_add_flows(struct binding *b, struct local_vnic *v,
               const struct bhrec_port *port)
{
    struct svec ips = SVEC_EMPTY_INITIALIZER;
    struct policy_address *allowed;

    for (size_t i = 0; i < port->n_ips; i++) {
        svec_add(&ips, port->ips[i]);
    }
    allowed = xcalloc(port->n_allowed_addresses + 1, sizeof *allowed);
    for (size_t i = 0; i < port->n_allowed_addresses; i++) {
        const char *a = port->allowed_addresses[i];
        const char *space = strchr(a, ' ');
        allowed[i].mac = space ? xmemdup0(a, space - a) : NULL;
        allowed[i].ip = xstrdup(space ? space + 1 : a);
    }

    struct pl_vnic pv = {
        .iface_id = v->iface_id,
        .key = v->zone,
        .ofport = v->ofport,
        .net_key = v->net_key,
        .mac = port->mac,
        .ips = &ips,
        .allowed = allowed,
        .n_allowed = port->n_allowed_addresses,
        .port_security = port->port_security,
    };
    pipeline_add_vnic(&b->desired, &pv);

    for (size_t i = 0; i < port->n_allowed_addresses; i++) {
        free(allowed[i].mac);
        free(allowed[i].ip);
    }
    free(allowed);
    svec_destroy(&ips);
}

/* Sets 'v''s state to 'state' with 'reason' (NULL if none), and its
 * names. */
static void
vnic_set_state(struct local_vnic *v, enum vnic_state state,
               const char *reason, const struct bhrec_port *port)
{
    v->state = state;
    free(v->reason);
    v->reason = nullable_xstrdup(reason);
    free(v->tenant);
    free(v->network);
    free(v->port);
    v->tenant = port ? xstrdup(port->network->tenant->name) : NULL;
    v->network = port ? xstrdup(port->network->name) : NULL;
    v->port = port ? xstrdup(port->name) : NULL;
}

/* Releases the Port that bound vNIC 'v' was bound to, if this chassis
 * still holds it.  By UUID: the Port's iface-id may have changed. */
static void
release_port(const struct binding_input *in, const struct local_vnic *v)
{
    const struct bhrec_port *port = bhrec_port_get_for_uuid(in->tdb_idl,
                                                            &v->port_uuid);
    if (port && in->tdb_txn && in->chassis
        && port->chassis == in->chassis) {
        VLOG_INFO("%s: releasing port %s", v->iface_id, port->name);
        bhrec_port_set_chassis(port, NULL);
        bool up = false;
        bhrec_port_set_up(port, &up, 1);
    }
}

/* Brings 'v' up to date with Interface 'iface' at 'ofport' and the Tenant
 * DB.  'new' is true if 'v' was just created. */
static void
vnic_update(struct binding *b, const struct binding_input *in,
            struct local_vnic *v, const struct ovsrec_interface *iface,
            int64_t ofport, bool new)
{
    const struct bhrec_port *port = find_port(in->port_by_iface_id,
                                              v->iface_id);
    const char *attached = smap_get(&iface->external_ids, "attached-mac");
    enum vnic_state state = VNIC_BOUND;
    char *reason = NULL;

    if (strcmp(v->iface_name, iface->name)) {
        free(v->iface_name);
        v->iface_name = xstrdup(iface->name);
    }
    if (!port) {
        state = VNIC_UNKNOWN;
    } else if (attached && strcasecmp(attached, port->mac)) {
        state = VNIC_REFUSED;
        reason = xasprintf("attached-mac %s is not the port's MAC %s",
                           attached, port->mac);
    }

    uint16_t zone = state == VNIC_BOUND ? ct_zones_assign(&b->zones,
                                                          v->iface_id) : 0;
    char *sig = (state == VNIC_BOUND
                 ? vnic_signature(port, ofport, zone)
                 : xasprintf("%d|%s", state, reason ? reason : ""));
    if (!new && v->signature && !strcmp(sig, v->signature)) {
        free(sig);
        free(reason);
        return;
    }

    /* Something changed: recompute this vNIC. */
    COVERAGE_INC(binding_vnic_recompute);
    if (v->state != state || new) {
        if (state == VNIC_BOUND) {
            VLOG_INFO("%s: binding %s (port %s of tenant %s) at ofport "
                      "%"PRId64, v->iface_id, iface->name, port->name,
                      port->network->tenant->name, ofport);
        } else if (state == VNIC_UNKNOWN) {
            VLOG_WARN("%s: no port in the Tenant DB has this iface-id; "
                      "%s gets no flows", v->iface_id, iface->name);
        } else {
            VLOG_WARN("%s: refused: %s; %s gets no flows", v->iface_id,
                      reason, iface->name);
        }
    }
    if (!new) {
        leave_net(b, v);
        if (v->state == VNIC_BOUND
            && (state != VNIC_BOUND
                || !uuid_equals(&v->port_uuid, &port->header_.uuid))) {
            /* Unbound, or bound to another Port: the old Port is let go
             * and the Interface's mark must not vouch for the new state. */
            release_port(in, v);
            v->clear_mark = true;
        }
    }
    char *owner = pipeline_vnic_owner(v->iface_id);
    flow_table_clear_owner(&b->desired, owner);
    free(owner);

    vnic_set_state(v, state, reason, port);
    v->ofport = ofport;
    v->zone = zone;
    free(v->signature);
    v->signature = sig;
    v->pending = true;
    v->put_seqno = 0;
    if (state == VNIC_BOUND) {
        const struct bhrec_network *bn = port->network;
        v->port_uuid = port->header_.uuid;
        index_by_port(b, v, true);
        want_mark(b, v, true);
        enum policy_net_type type;
        policy_net_type_from_string(bn->type, &type);
        v->net_key = pipeline_network_key(type, bn->segment);
        vnic_add_flows(b, v, port);
        struct local_net *n = find_net(b, v->net_key, true, type,
                                       bn->segment);
        simap_put(&n->members, v->iface_id, ofport);
        n->dirty = true;
    } else {
        index_by_port(b, v, false);
        want_mark(b, v, v->clear_mark);
        ct_zones_release(&b->zones, v->iface_id);
    }
    free(reason);
}

/* Claims the Port of bound vNIC 'v' for this chassis if another (or none)
 * holds it. */
static void
vnic_claim(struct binding *b, const struct binding_input *in,
           struct local_vnic *v)
{
    v->claim_pending = false;
    hmapx_find_and_delete(&b->claim_retry, v);
    if (v->state != VNIC_BOUND) {
        return;
    }
    if (!in->tdb_txn || !in->chassis) {
        v->claim_pending = true;    /* Try again next run. */
        hmapx_add(&b->claim_retry, v);
        return;
    }
    const struct bhrec_port *port = find_port(in->port_by_iface_id,
                                              v->iface_id);
    if (port && port->chassis != in->chassis) {
        if (port->chassis) {
            VLOG_INFO("%s: claiming port %s from chassis %s", v->iface_id,
                      port->name, port->chassis->name);
        } else {
            VLOG_INFO("%s: claiming port %s", v->iface_id, port->name);
        }
        bhrec_port_set_chassis(port, in->chassis);
    }
}

/* Removes 'v': its flows, its network membership, its zone, its claim. */
static void
vnic_remove(struct binding *b, const struct binding_input *in,
            struct local_vnic *v)
{
    VLOG_INFO("%s: %s went away", v->iface_id, v->iface_name);
    leave_net(b, v);
    char *owner = pipeline_vnic_owner(v->iface_id);
    flow_table_clear_owner(&b->desired, owner);
    free(owner);
    ct_zones_release(&b->zones, v->iface_id);
    if (v->state == VNIC_BOUND) {
        release_port(in, v);
    }
    index_by_port(b, v, false);
    want_mark(b, v, false);
    hmapx_find_and_delete(&b->claim_retry, v);
    hmap_remove(&b->vnics, &v->node);
    vnic_free(v);
}

/* Recomputes the flooding and uplink flows of every dirty network. */
static void
update_networks(struct binding *b)
{
    struct local_net *n;

    HMAP_FOR_EACH_SAFE (n, node, &b->networks) {
        if (!n->dirty) {
            continue;
        }
        COVERAGE_INC(binding_net_recompute);
        n->dirty = false;

        char *owner = pipeline_network_owner(n->key);
        flow_table_clear_owner(&b->desired, owner);
        free(owner);
        if (simap_is_empty(&n->members)) {
            hmap_remove(&b->networks, &n->node);
            net_free(n);
            continue;
        }

        /* Members in a stable order, so that the flood flow does not change
         * when nothing did. */
        size_t n_members = simap_count(&n->members);
        int64_t *members = xmalloc(n_members * sizeof *members);
        const struct simap_node **sorted = simap_sort(&n->members);
        for (size_t i = 0; i < n_members; i++) {
            members[i] = sorted[i]->data;
        }
        free(sorted);

        struct pl_network pn = {
            .key = n->key,
            .type = n->type,
            .segment = n->segment,
            .members = members,
            .n_members = n_members,
            .uplink_ofport = b->uplink_ofport,
        };
        pipeline_add_network(&b->desired, &pn);
        free(members);
    }
}

/* Returns the ofport of the interface named 'name' on 'br', or 0. */
static int64_t
find_uplink(const struct ovsrec_bridge *br, const char *name)
{
    for (size_t i = 0; name && i < br->n_ports; i++) {
        const struct ovsrec_port *p = br->ports[i];
        for (size_t j = 0; j < p->n_interfaces; j++) {
            const struct ovsrec_interface *iface = p->interfaces[j];
            if (!strcmp(iface->name, name) && iface->n_ofport
                && iface->ofport[0] > 0) {
                return iface->ofport[0];
            }
        }
    }
    return 0;
}

/* Forgets every computed flow, so that the next binding_run() computes
 * everything anew. */
void
binding_recompute(struct binding *b)
{
    b->need_recompute = true;
}

/* Returns true if Interface 'iface' changed in a way that matters to its
 * binding since the last run (tracked changes). */
static bool
iface_changed(const struct ovsrec_interface *iface)
{
    return (ovsrec_interface_is_new(iface)
            || ovsrec_interface_is_updated(iface,
                                           OVSREC_INTERFACE_COL_EXTERNAL_IDS)
            || ovsrec_interface_is_updated(iface, OVSREC_INTERFACE_COL_OFPORT)
            || ovsrec_interface_is_updated(iface, OVSREC_INTERFACE_COL_NAME));
}

/* Marks dirty the vNICs that the Tenant DB's tracked changes may concern.
 * Returns false if a change concerns so many that every vNIC must be
 * looked at. */
static bool
mark_dirty(struct binding *b, const struct binding_input *in,
           struct hmapx *dirty)
{
    const struct bhrec_network *net;
    const struct bhrec_tenant *tenant;
    const struct bhrec_port *port;

    BHREC_NETWORK_FOR_EACH_TRACKED (net, in->tdb_idl) {
        return false;
    }
    BHREC_TENANT_FOR_EACH_TRACKED (tenant, in->tdb_idl) {
        return false;
    }
    BHREC_PORT_FOR_EACH_TRACKED (port, in->tdb_idl) {
        struct local_vnic *v = find_vnic_by_port(b, &port->header_.uuid);
        if (v) {
            v->dirty = true;
            hmapx_add(dirty, v);
        }
        if (!bhrec_port_is_deleted(port)) {
            v = find_vnic(b, port->iface_id);
            if (v) {
                v->dirty = true;
                hmapx_add(dirty, v);
            }
        }
    }
    return true;
}

/* Lets go of what this chassis holds for vNICs that are not here (any
 * more): Ports still claimed by this chassis, and conntrack zones still
 * assigned, for instance of a vNIC unplugged while the controller was
 * down.  Looks at every Port, so it runs only with a full run. */
static void
release_strays(struct binding *b, const struct binding_input *in)
{
    const struct bhrec_port *port;

    if (in->chassis && in->tdb_txn) {
        b->strays_released = true;
        BHREC_PORT_FOR_EACH (port, in->tdb_idl) {
            const struct local_vnic *v = find_vnic_by_port(
                b, &port->header_.uuid);
            if (port->chassis == in->chassis
                && (!v || v->state != VNIC_BOUND)) {
                VLOG_INFO("%s: releasing port %s, whose vNIC is not here",
                          port->iface_id, port->name);
                bhrec_port_set_chassis(port, NULL);
                bool up = false;
                bhrec_port_set_up(port, &up, 1);
            }
        }
    }

    const struct simap_node **zones = simap_sort(&b->zones.zones);
    size_t n = simap_count(&b->zones.zones);
    for (size_t i = 0; i < n; i++) {
        const struct local_vnic *v = find_vnic(b, zones[i]->name);
        if (!v || v->state != VNIC_BOUND) {
            VLOG_INFO("%s: freeing conntrack zone %u, whose vNIC is not "
                      "here", zones[i]->name, zones[i]->data);
            ct_zones_release(&b->zones, zones[i]->name);
        }
    }
    free(zones);
}

/* Returns true if the local OVSDB reports a change to a Bridge's ports, a
 * Port's interfaces or an Interface's name, ofport or external_ids since
 * the last run. */
static bool
ovs_changed(struct ovsdb_idl *idl)
{
    const struct ovsrec_interface *iface;
    const struct ovsrec_port *port;
    const struct ovsrec_bridge *br;

    OVSREC_INTERFACE_FOR_EACH_TRACKED (iface, idl) {
        return true;
    }
    OVSREC_PORT_FOR_EACH_TRACKED (port, idl) {
        return true;
    }
    OVSREC_BRIDGE_FOR_EACH_TRACKED (br, idl) {
        return true;
    }
    return false;
}

/* Brings the vNIC 'v' (dirty or awaiting a claim) up to date when the
 * switch's database did not change: its Interface row and ofport are the
 * ones it had. */
static void
refresh_vnic(struct binding *b, const struct binding_input *in,
             struct local_vnic *v)
{
    v->dirty = false;
    vnic_update(b, in, v, v->iface, v->ofport, false);
    vnic_claim(b, in, v);
}

/* Brings the vNICs and the desired flows up to date with 'in'. */
void
binding_run(struct binding *b, const struct binding_input *in)
{
    const struct ovsrec_bridge *br = in->br_int;
    struct local_vnic *v;
    bool full = b->need_recompute || !in->tracked;

    if (!b->zones_loaded) {
        ct_zones_load(&b->zones, &br->external_ids);
        b->zones_loaded = true;
    }
    if (b->need_recompute) {
        COVERAGE_INC(binding_full_recompute);
        b->need_recompute = false;
        flow_table_clear(&b->desired);
        pipeline_add_static(&b->desired);
        HMAP_FOR_EACH (v, node, &b->vnics) {
            free(v->signature);
            v->signature = NULL;
        }
        struct local_net *n;
        HMAP_FOR_EACH (n, node, &b->networks) {
            n->dirty = true;
        }
    }

    /* Walking br-int's ports is needed only if the switch's database
     * changed; otherwise only the vNICs that Tenant DB changes concern (and
     * claims to retry) are looked at, so that a run costs what changed, not
     * what is bound. */
    bool walk = full || ovs_changed(in->ovs_idl)
                || !nullable_string_is_equal(in->uplink, b->uplink_name);
    struct hmapx dirty = HMAPX_INITIALIZER(&dirty);
    if (!full && !mark_dirty(b, in, &dirty)) {
        full = walk = true;
    }
    if (!walk) {
        struct hmapx_node *node;
        HMAPX_FOR_EACH (node, &dirty) {
            refresh_vnic(b, in, node->data);
        }
        HMAPX_FOR_EACH_SAFE (node, &b->claim_retry) {
            struct local_vnic *rv = node->data;
            if (!hmapx_contains(&dirty, rv)) {
                refresh_vnic(b, in, rv);
            }
        }
        hmapx_destroy(&dirty);
        if (!b->strays_released) {
            release_strays(b, in);
        }
        update_networks(b);
        return;
    }
    hmapx_destroy(&dirty);

    free(b->uplink_name);
    b->uplink_name = nullable_xstrdup(in->uplink);
    int64_t uplink = find_uplink(br, in->uplink);
    if (uplink != b->uplink_ofport) {
        VLOG_INFO("uplink %s: ofport %"PRId64, in->uplink ? in->uplink
                  : "(none)", uplink);
        b->uplink_ofport = uplink;
        struct local_net *n;
        HMAP_FOR_EACH (n, node, &b->networks) {
            n->dirty = true;
        }
    }

    HMAP_FOR_EACH (v, node, &b->vnics) {
        v->seen = false;
    }
    for (size_t i = 0; i < br->n_ports; i++) {
        const struct ovsrec_port *p = br->ports[i];
        for (size_t j = 0; j < p->n_interfaces; j++) {
            const struct ovsrec_interface *iface = p->interfaces[j];
            const char *iface_id = smap_get(&iface->external_ids,
                                            "iface-id");
            int64_t ofport = iface->n_ofport ? iface->ofport[0] : 0;
            if (!iface_id || !*iface_id || ofport <= 0
                || (in->uplink && !strcmp(iface->name, in->uplink))) {
                continue;
            }

            bool new = false;
            v = find_vnic(b, iface_id);
            if (v && !full && !v->dirty && !v->claim_pending
                && v->iface == iface && !iface_changed(iface)) {
                /* Nothing it depends on changed. */
                v->seen = true;
                continue;
            }
            if (v && v->seen) {
                static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1,
                                                                        5);
                VLOG_WARN_RL(&rl, "%s: iface-id used by both %s and %s; "
                             "%s ignored", iface_id, v->iface_name,
                             iface->name, iface->name);
                continue;
            }
            if (!v) {
                v = xzalloc(sizeof *v);
                v->iface_id = xstrdup(iface_id);
                v->iface_name = xstrdup(iface->name);
                hmap_insert(&b->vnics, &v->node, hash_string(iface_id, 0));
                new = true;
                /* A mark left from an earlier binding must not vouch for
                 * this one. */
                if (in->ovs_txn && smap_get(&iface->external_ids,
                                            "bulkhead-installed")) {
                    ovsrec_interface_update_external_ids_delkey(
                        iface, "bulkhead-installed");
                }
            }
            v->seen = true;
            v->dirty = false;
            v->iface = iface;
            vnic_update(b, in, v, iface, ofport, new);
            vnic_claim(b, in, v);
        }
    }
    HMAP_FOR_EACH_SAFE (v, node, &b->vnics) {
        if (!v->seen) {
            vnic_remove(b, in, v);
        }
    }
    if (full || !b->strays_released) {
        release_strays(b, in);
    }
    update_networks(b);
}

/* Records that the flows changed since the last put went out with
 * 'seqno' (0: nothing could be sent). */
void
binding_note_put(struct binding *b, uint64_t seqno)
{
    struct local_vnic *v;

    if (!seqno) {
        return;
    }
    /* A bound vNIC whose flows changed waits in 'marks'; an unbound one
     * needs no sequence number. */
    LIST_FOR_EACH (v, mark_node, &b->marks) {
        if (v->pending) {
            v->pending = false;
            v->put_seqno = seqno;
        }
    }
}

/* Returns true if some vNIC still waits for its installed marks. */
bool
binding_marks_pending(const struct binding *b)
{
    return !ovs_list_is_empty(&b->marks);
}

/* Marks installed the bound vNICs whose flows the switch confirmed up to
 * 'acked_seqno': external_ids:bulkhead-installed=true on the Interface and
 * up=true on the Port.  Only vNICs waiting for it are looked at.  Returns
 * true if it wrote an Interface mark in 'in->ovs_txn'. */
bool
binding_mark_installed(struct binding *b, const struct binding_input *in,
                       uint64_t acked_seqno)
{
    struct local_vnic *v;
    bool wrote = false;

    LIST_FOR_EACH_SAFE (v, mark_node, &b->marks) {
        if (v->clear_mark && in->ovs_txn) {
            if (smap_get(&v->iface->external_ids, "bulkhead-installed")) {
                ovsrec_interface_update_external_ids_delkey(
                    v->iface, "bulkhead-installed");
            }
            v->clear_mark = false;
            if (v->state != VNIC_BOUND) {
                want_mark(b, v, false);
                continue;
            }
        }
        if (v->clear_mark || v->state != VNIC_BOUND || v->pending
            || !v->put_seqno || v->put_seqno > acked_seqno) {
            continue;
        }
        /* Each database gets its mark as soon as it can take a write. */
        if (!v->iface_marked && in->ovs_txn) {
            if (!smap_get_bool(&v->iface->external_ids,
                               "bulkhead-installed", false)) {
                ovsrec_interface_update_external_ids_setkey(
                    v->iface, "bulkhead-installed", "true");
                wrote = true;
            }
            v->iface_marked = true;
        }
        if (!v->port_marked && in->tdb_txn && in->chassis) {
            const struct bhrec_port *port = bhrec_port_get_for_uuid(
                in->tdb_idl, &v->port_uuid);
            if (port && port->chassis == in->chassis
                && !(port->n_up && port->up[0])) {
                bool up = true;
                bhrec_port_set_up(port, &up, 1);
            }
            v->port_marked = true;
        }
        if (v->iface_marked && v->port_marked) {
            want_mark(b, v, false);
        }
    }
    return wrote;
}

static const char *
state_name(const struct local_vnic *v)
{
    return (v->state == VNIC_BOUND ? "bound"
            : v->state == VNIC_UNKNOWN ? "unknown"
            : "refused");
}

/* Appends one line per vNIC, sorted by iface-id, to 's'. */
void
binding_list(const struct binding *b, struct ds *s)
{
    struct svec lines = SVEC_EMPTY_INITIALIZER;
    const struct local_vnic *v;

    HMAP_FOR_EACH (v, node, &b->vnics) {
        struct ds line = DS_EMPTY_INITIALIZER;
        ds_put_format(&line, "%s %s ofport=%"PRId64" %s", v->iface_id,
                      v->iface_name, v->ofport, state_name(v));
        if (v->state == VNIC_BOUND) {
            ds_put_format(&line, " tenant=%s network=%s port=%s zone=%"
                          PRIu16"%s", v->tenant, v->network, v->port,
                          v->zone, (!v->pending && v->put_seqno)
                          ? "" : " (installing)");
        } else if (v->reason) {
            ds_put_format(&line, " (%s)", v->reason);
        }
        svec_add_nocopy(&lines, ds_steal_cstr(&line));
    }
    svec_sort(&lines);
    char *text = svec_join(&lines, "\n", lines.n ? "\n" : "");
    ds_put_cstr(s, text);
    free(text);
    svec_destroy(&lines);
}

/* Describes the vNIC named 'name' in 's'.  Returns false if there is
 * none. */
bool
binding_show(const struct binding *b, const char *name, struct ds *s)
{
    const struct local_vnic *v = lookup_vnic(b, name);

    if (!v) {
        return false;
    }
    ds_put_format(s, "iface-id: %s\ninterface: %s\nofport: %"PRId64"\n"
                  "state: %s\n", v->iface_id, v->iface_name, v->ofport,
                  state_name(v));
    if (v->reason) {
        ds_put_format(s, "reason: %s\n", v->reason);
    }
    if (v->state == VNIC_BOUND) {
        ds_put_format(s, "tenant: %s\nnetwork: %s (key %#"PRIx32")\n"
                      "port: %s\nct zone: %"PRIu16"\ncookie: %#"PRIx64"\n"
                      "installed: %s\n", v->tenant, v->network, v->net_key,
                      v->port, v->zone,
                      pipeline_cookie(PL_COOKIE_VNIC, v->zone),
                      (!v->pending && v->put_seqno) ? "yes" : "not yet");
    }
    return true;
}

/* Appends the desired flows of the vNIC named 'name' to 's'.  Returns
 * false if there is none. */
bool
binding_flows(const struct binding *b, const char *name, struct ds *s)
{
    const struct local_vnic *v = lookup_vnic(b, name);

    if (!v) {
        return false;
    }
    char *owner = pipeline_vnic_owner(v->iface_id);
    flow_table_format(&b->desired, owner, s);
    free(owner);
    return true;
}

/* Appends, per tenant and network, the vNICs bound here to 's'. */
void
binding_tenants(const struct binding *b, struct ds *s)
{
    struct svec lines = SVEC_EMPTY_INITIALIZER;
    const struct local_vnic *v;

    HMAP_FOR_EACH (v, node, &b->vnics) {
        if (v->state == VNIC_BOUND) {
            svec_add_nocopy(&lines, xasprintf("%s\t%s\t%s (%s, zone %"
                                              PRIu16")", v->tenant,
                                              v->network, v->port,
                                              v->iface_name, v->zone));
        }
    }
    svec_sort(&lines);
    const char *tenant = NULL, *network = NULL;
    for (size_t i = 0; i < lines.n; i++) {
        char *line = lines.names[i];
        char *t = line;
        char *n = strchr(t, '\t');
        *n++ = '\0';
        char *p = strchr(n, '\t');
        *p++ = '\0';
        if (!tenant || strcmp(tenant, t)) {
            ds_put_format(s, "tenant %s\n", t);
            network = NULL;
        }
        if (!network || strcmp(network, n)) {
            ds_put_format(s, "    network %s\n", n);
        }
        ds_put_format(s, "        %s\n", p);
        tenant = t;
        network = n;
    }
    svec_destroy(&lines);
}
