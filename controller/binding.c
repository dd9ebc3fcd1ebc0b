/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#include <config.h>
#include "controller/binding.h"

#include <stdlib.h>
#include <string.h>
#include "controller/ct-zone.h"
#include "controller/flow-table.h"
#include "controller/if-status.h"
#include "controller/ofctrl.h"
#include "controller/pipeline.h"
#include "coverage.h"
#include "hash.h"
#include "lib/tenant-db.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "ovsdb-idl.h"
#include "schema/bulkhead-idl.h"
#include "smap.h"
#include "svec.h"
#include "unixctl.h"
#include "util.h"
#include "vswitch-idl.h"

VLOG_DEFINE_THIS_MODULE(binding);

COVERAGE_DEFINE(binding_vnic_changed);
COVERAGE_DEFINE(binding_walk);
COVERAGE_DEFINE(binding_recompute);
COVERAGE_DEFINE(binding_duplicate_iface_id);
COVERAGE_DEFINE(binding_invalid_row);

/* Initializes 'b' with no vNICs. */
void
binding_init(struct binding *b)
{
    hmap_init(&b->vnics);
    hmap_init(&b->vnics_by_port);
    hmap_init(&b->vnics_by_iface);
    hmapx_init(&b->claim_retry);
    hmap_init(&b->changes);
    b->strays_released = false;
}

/* Forgets what 'v' was bound to. */
static void
vnic_clear_binding(struct vnic *v)
{
    free(v->tenant);
    v->tenant = NULL;
    tenant_db_port_clear(&v->port);
    memset(&v->port, 0, sizeof v->port);
    svec_init(&v->port.ips);
    svec_init(&v->port.groups);
}

static void
vnic_free(struct vnic *v)
{
    vnic_clear_binding(v);
    svec_destroy(&v->port.ips);
    svec_destroy(&v->port.groups);
    free(v->iface_id);
    free(v->iface_name);
    free(v->reason);
    free(v->signature);
    free(v);
}

/* Frees what 'b' holds. */
void
binding_destroy(struct binding *b)
{
    struct vnic *v;

    binding_clear_tracked(b);
    HMAP_FOR_EACH_POP (v, node, &b->vnics) {
        vnic_free(v);
    }
    hmap_destroy(&b->vnics);
    hmap_destroy(&b->vnics_by_port);
    hmap_destroy(&b->vnics_by_iface);
    hmapx_destroy(&b->claim_retry);
    hmap_destroy(&b->changes);
}

/* Returns the vNIC with 'iface_id', or NULL. */
static struct vnic *
find_vnic(const struct binding *b, const char *iface_id)
{
    struct vnic *v;

    HMAP_FOR_EACH_WITH_HASH (v, node, hash_string(iface_id, 0), &b->vnics) {
        if (!strcmp(v->iface_id, iface_id)) {
            return v;
        }
    }
    return NULL;
}

/* Returns the vNIC with 'iface_id', or NULL. */
const struct vnic *
binding_find(const struct binding *b, const char *iface_id)
{
    return find_vnic(b, iface_id);
}

/* Returns the vNIC bound to the Port with 'uuid', or NULL. */
static struct vnic *
find_vnic_by_port(const struct binding *b, const struct uuid *uuid)
{
    struct vnic *v;

    HMAP_FOR_EACH_WITH_HASH (v, port_node, uuid_hash(uuid),
                             &b->vnics_by_port) {
        if (uuid_equals(&v->port_uuid, uuid)) {
            return v;
        }
    }
    return NULL;
}

/* Returns the vNIC whose Interface row is 'uuid', or NULL. */
static struct vnic *
find_vnic_by_iface(const struct binding *b, const struct uuid *uuid)
{
    struct vnic *v;

    HMAP_FOR_EACH_WITH_HASH (v, iface_node, uuid_hash(uuid),
                             &b->vnics_by_iface) {
        if (uuid_equals(&v->iface_uuid, uuid)) {
            return v;
        }
    }
    return NULL;
}

/* Indexes 'v' by the Port it is bound to ('bound'), or not. */
static void
index_by_port(struct binding *b, struct vnic *v, bool bound)
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

/* Returns the vNIC named 'name' (an iface-id, a port name, or an OVS
 * interface name), or NULL. */
const struct vnic *
binding_lookup(const struct binding *b, const char *name)
{
    const struct vnic *v = find_vnic(b, name);

    if (!v) {
        HMAP_FOR_EACH (v, node, &b->vnics) {
            if ((v->state == VNIC_BOUND && !strcmp(v->port.name, name))
                || !strcmp(v->iface_name, name)) {
                return v;
            }
        }
    }
    return v;
}

/* Records, once per run, that 'v' changed: what it was bound to before the
 * change. */
static void
track_change(struct binding *b, const struct vnic *v)
{
    struct binding_change *c;
    uint32_t hash = hash_string(v->iface_id, 0);

    HMAP_FOR_EACH_WITH_HASH (c, node, hash, &b->changes) {
        if (!strcmp(c->iface_id, v->iface_id)) {
            return;
        }
    }
    c = xzalloc(sizeof *c);
    c->iface_id = xstrdup(v->iface_id);
    c->was_bound = v->state == VNIC_BOUND && v->signature;
    c->old_net_key = v->net_key;
    c->old_ofport = v->ofport;
    hmap_insert(&b->changes, &c->node, hash);
}

/* Forgets the changes of this run. */
void
binding_clear_tracked(struct binding *b)
{
    struct binding_change *c;

    HMAP_FOR_EACH_POP (c, node, &b->changes) {
        free(c->iface_id);
        free(c);
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

    ds_put_format(&s, "%"PRId64"|%"PRIu16"|%s|%s|%"PRId64"|%s|%s|%d|",
                  ofport, zone, port->mac, net->type, net->segment,
                  net->tenant->name, port->name, port->port_security);
    for (size_t i = 0; i < port->n_ips; i++) {
        ds_put_format(&s, "%s,", port->ips[i]);
    }
    ds_put_char(&s, '|');
    for (size_t i = 0; i < port->n_allowed_addresses; i++) {
        ds_put_format(&s, "%s,", port->allowed_addresses[i]);
    }
    ds_put_char(&s, '|');
    for (size_t i = 0; i < port->n_security_groups; i++) {
        ds_put_format(&s, UUID_FMT",",
                      UUID_ARGS(&port->security_groups[i]->header_.uuid));
    }
    ds_put_format(&s, "|%"PRId64, (port->n_broadcast_limit
                                    ? port->broadcast_limit[0] : 0));
    return ds_steal_cstr(&s);
}

/* Releases the Port that bound vNIC 'v' was bound to, if this chassis
 * still holds it.  By UUID: the Port's iface-id may have changed. */
static void
release_port(const struct binding_input *in, const struct vnic *v)
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
            struct vnic *v, const struct ovsrec_interface *iface,
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
    if (!uuid_equals(&v->iface_uuid, &iface->header_.uuid)) {
        hmap_remove(&b->vnics_by_iface, &v->iface_node);
        v->iface_uuid = iface->header_.uuid;
        hmap_insert(&b->vnics_by_iface, &v->iface_node,
                    uuid_hash(&v->iface_uuid));
    }
    if (!port) {
        state = VNIC_UNKNOWN;
    } else if (attached && strcasecmp(attached, port->mac)) {
        state = VNIC_REFUSED;
        reason = xasprintf("attached-mac %s is not the port's MAC %s",
                           attached, port->mac);
    }

    /* The signature is taken before the row is checked: a row that does
     * not change is not checked again. */
    uint16_t zone = (state == VNIC_BOUND
                     ? ct_zones_assign(in->zones, v->iface_id,
                                       &iface->external_ids)
                     : 0);
    char *sig = (state == VNIC_BOUND
                 ? vnic_signature(port, ofport, zone)
                 : xasprintf("%d|%s", state, reason ? reason : ""));
    if (!new && v->signature && !strcmp(sig, v->signature)) {
        free(sig);
        free(reason);
        return;
    }
    if (state == VNIC_BOUND) {
        /* The controller trusts no row: the Tenant DB may be written by
         * anything.  What the validator refuses gets no flow. */
        char *problem = tenant_db_check_port(port);
        if (problem) {
            state = VNIC_REFUSED;
            reason = xasprintf("invalid in the Tenant DB: %s", problem);
            free(problem);
            COVERAGE_INC(binding_invalid_row);
            ct_zones_release(in->zones, v->iface_id);
            zone = 0;
            /* Keep the row's signature: it is checked again only once it
             * changes. */
        }
    }

    /* Something changed. */
    COVERAGE_INC(binding_vnic_changed);
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
    track_change(b, v);
    if (!new && v->state == VNIC_BOUND
        && (state != VNIC_BOUND
            || !uuid_equals(&v->port_uuid, &port->header_.uuid))) {
        /* Unbound, or bound to another Port: the old Port is let go. */
        release_port(in, v);
    }

    vnic_clear_binding(v);
    v->state = state;
    free(v->reason);
    v->reason = reason;
    v->ofport = ofport;
    v->zone = zone;
    free(v->signature);
    v->signature = sig;
    if (state == VNIC_BOUND) {
        const struct bhrec_network *bn = port->network;
        v->port_uuid = port->header_.uuid;
        v->tenant = xstrdup(bn->tenant->name);
        tenant_db_port_from_row(port, &v->port);
        policy_net_type_from_string(bn->type, &v->net_type);
        v->segment = bn->segment;
        v->net_key = pipeline_network_key(v->net_type, bn->segment);
        index_by_port(b, v, true);
        if_status_flows_changed(in->ifs, v->iface_id, &v->iface_uuid,
                                &v->port_uuid, zone);
    } else {
        index_by_port(b, v, false);
        if_status_unbound(in->ifs, v->iface_id, &v->iface_uuid);
        ct_zones_release(in->zones, v->iface_id);
    }
}

/* Claims the Port of bound vNIC 'v' for this chassis if another (or none)
 * holds it. */
static void
vnic_claim(struct binding *b, const struct binding_input *in,
           struct vnic *v)
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
    const struct bhrec_port *port = bhrec_port_get_for_uuid(in->tdb_idl,
                                                            &v->port_uuid);
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

/* Removes 'v': its zone, its claim, its marks. */
static void
vnic_remove(struct binding *b, const struct binding_input *in,
            struct vnic *v)
{
    VLOG_INFO("%s: %s went away", v->iface_id, v->iface_name);
    track_change(b, v);
    ct_zones_release(in->zones, v->iface_id);
    if (v->state == VNIC_BOUND) {
        release_port(in, v);
    }
    if_status_gone(in->ifs, v->iface_id);
    index_by_port(b, v, false);
    hmapx_find_and_delete(&b->claim_retry, v);
    hmap_remove(&b->vnics, &v->node);
    hmap_remove(&b->vnics_by_iface, &v->iface_node);
    vnic_free(v);
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

/* Lets go of Ports still claimed by this chassis whose vNIC is not here,
 * for instance one unplugged while the controller was down.  Looks at every
 * Port, so it runs once, with the first run that can write. */
static void
release_strays(struct binding *b, const struct binding_input *in)
{
    const struct bhrec_port *port;

    if (!in->chassis || !in->tdb_txn) {
        return;
    }
    b->strays_released = true;
    BHREC_PORT_FOR_EACH (port, in->tdb_idl) {
        const struct vnic *v = find_vnic_by_port(b, &port->header_.uuid);
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

/* Returns true if vNIC 'v''s Interface still exists with its iface-id and
 * an ofport: it holds the iface-id against any other Interface. */
static bool
iface_holds(const struct binding_input *in, const struct vnic *v)
{
    const struct ovsrec_interface *iface = ovsrec_interface_get_for_uuid(
        in->ovs_idl, &v->iface_uuid);

    return (iface && iface->n_ofport && iface->ofport[0] > 0
            && nullable_string_is_equal(smap_get(&iface->external_ids,
                                                 "iface-id"),
                                        v->iface_id));
}

/* Brings up to date the vNIC of Interface 'iface' on br-int, if it is one.
 * With 'all', it is looked at even if nothing it depends on changed. */
static void
walk_iface(struct binding *b, const struct binding_input *in,
           const struct ovsrec_interface *iface, bool all)
{
    if (!all && !iface_changed(iface)) {
        /* A vNIC whose Interface did not change: nothing to look at, not
         * even its external_ids. */
        struct vnic *known = find_vnic_by_iface(b, &iface->header_.uuid);
        if (known && !known->claim_pending && !known->seen) {
            known->seen = true;
            return;
        }
    }

    const char *iface_id = smap_get(&iface->external_ids, "iface-id");
    int64_t ofport = iface->n_ofport ? iface->ofport[0] : 0;
    bool new = false;

    if (!iface_id || !*iface_id || ofport <= 0) {
        return;
    }

    struct vnic *v = find_vnic(b, iface_id);
    if (v && !uuid_equals(&v->iface_uuid, &iface->header_.uuid)
        && iface_holds(in, v)) {
        /* One vNIC, one Interface: the Interface that has the iface-id keeps
         * it, whatever the order of rows in br-int; the newcomer gets
         * nothing and changes nothing. */
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
        VLOG_WARN_RL(&rl, "%s: iface-id already bound to interface %s; "
                     "interface %s refused", iface_id, v->iface_name,
                     iface->name);
        COVERAGE_INC(binding_duplicate_iface_id);
        return;
    }
    if (v && v->seen) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
        VLOG_WARN_RL(&rl, "%s: iface-id used by both %s and %s; %s ignored",
                     iface_id, v->iface_name, iface->name, iface->name);
        return;
    }
    if (!v) {
        v = xzalloc(sizeof *v);
        v->iface_id = xstrdup(iface_id);
        v->iface_name = xstrdup(iface->name);
        v->iface_uuid = iface->header_.uuid;
        svec_init(&v->port.ips);
        svec_init(&v->port.groups);
        hmap_insert(&b->vnics, &v->node, hash_string(iface_id, 0));
        hmap_insert(&b->vnics_by_iface, &v->iface_node,
                    uuid_hash(&v->iface_uuid));
        new = true;
        /* A mark left from an earlier binding must not vouch for this
         * one. */
        if (in->ovs_txn && smap_get(&iface->external_ids,
                                    "bulkhead-installed")) {
            ovsrec_interface_update_external_ids_delkey(iface,
                                                        "bulkhead-installed");
        }
    }
    v->seen = true;
    vnic_update(b, in, v, iface, ofport, new);
    vnic_claim(b, in, v);
}

/* Walks br-int's ports and brings every vNIC up to date.  With 'all', every
 * vNIC is looked at; otherwise only those whose Interface changed, or whose
 * claim waits.  vNICs not found any more are removed. */
static void
binding_walk(struct binding *b, const struct binding_input *in, bool all)
{
    const struct ovsrec_bridge *br = in->br_int;
    struct vnic *v;

    COVERAGE_INC(binding_walk);
    HMAP_FOR_EACH (v, node, &b->vnics) {
        v->seen = false;
    }
    /* With 'all' (a restart, say), Interfaces that kept a zone come first,
     * so that they all get theirs back before a newcomer takes the lowest
     * free zone. */
    for (int pass = all ? 0 : 1; pass < 2; pass++) {
        for (size_t i = 0; i < br->n_ports; i++) {
            const struct ovsrec_port *p = br->ports[i];
            for (size_t j = 0; j < p->n_interfaces; j++) {
                const struct ovsrec_interface *iface = p->interfaces[j];
                bool kept = smap_get(&iface->external_ids,
                                     CT_ZONE_KEY) != NULL;
                if (!all || kept == !pass) {
                    walk_iface(b, in, iface, all);
                }
            }
        }
    }
    HMAP_FOR_EACH_SAFE (v, node, &b->vnics) {
        if (!v->seen) {
            vnic_remove(b, in, v);
        }
    }
    if (!b->strays_released) {
        release_strays(b, in);
    }
}

/* Looks at every vNIC anew, as after a restart: a vNIC is tracked as
 * changed only if its flows' inputs did change. */
void
binding_recompute(struct binding *b, const struct binding_input *in)
{
    COVERAGE_INC(binding_recompute);
    binding_walk(b, in, true);
}

/* Handles changes to the switch's database (the caller calls it only when
 * a Bridge, Port or Interface changed): walks br-int, looking closely only
 * at the Interfaces that changed. */
bool
binding_handle_ovs_changes(struct binding *b, const struct binding_input *in)
{
    const struct ovsrec_interface *iface;

    /* Ports that come or go, or Interfaces that come, go, or gain or lose
     * an iface-id or an ofport, need the walk, which finds out what is on
     * br-int (and costs a lookup per Interface that did not change). */
    bool walk = in->ports_changed;
    OVSREC_INTERFACE_FOR_EACH_TRACKED (iface, in->ovs_idl) {
        if (walk) {
            break;
        }
        if (ovsrec_interface_is_new(iface)
            || ovsrec_interface_is_deleted(iface)) {
            walk = true;
            break;
        }
        const char *iface_id = smap_get(&iface->external_ids, "iface-id");
        struct vnic *v = find_vnic_by_iface(b, &iface->header_.uuid);
        int64_t ofport = iface->n_ofport ? iface->ofport[0] : 0;
        if (v ? (!iface_id || strcmp(iface_id, v->iface_id) || ofport <= 0)
              : iface_id != NULL) {
            walk = true;
        }
    }
    if (walk) {
        binding_walk(b, in, false);
        return true;
    }

    /* Only Interfaces of known vNICs changed, in place (a name, an
     * attached-mac, an ofport, our own marks): each one alone. */
    OVSREC_INTERFACE_FOR_EACH_TRACKED (iface, in->ovs_idl) {
        struct vnic *v = find_vnic_by_iface(b, &iface->header_.uuid);
        if (v) {
            vnic_update(b, in, v, iface, iface->ofport[0], false);
            vnic_claim(b, in, v);
        }
    }
    return true;
}

/* Brings the vNIC 'v' (a Tenant DB change concerns it, or its claim waits)
 * up to date when the
 * switch's database did not change: its Interface row and ofport are the
 * ones it had. */
static void
refresh_vnic(struct binding *b, const struct binding_input *in,
             struct vnic *v)
{
    const struct ovsrec_interface *iface = ovsrec_interface_get_for_uuid(
        in->ovs_idl, &v->iface_uuid);

    if (iface) {
        vnic_update(b, in, v, iface, v->ofport, false);
        vnic_claim(b, in, v);
    }
}

/* Returns true if tracked Port 'port' changed in a way that may matter to a
 * vNIC: anything but its 'up', 'statistics', 'position' and 'external_ids'
 * columns, and its 'chassis' set to this 'chassis' (this controller's own
 * writes). */
static bool
port_change_matters(const struct bhrec_port *port,
                    const struct bhrec_chassis *chassis)
{
    static const enum bhrec_port_column_id ignored[] = {
        BHREC_PORT_COL_UP, BHREC_PORT_COL_STATISTICS,
        BHREC_PORT_COL_CHASSIS, BHREC_PORT_COL_POSITION,
        BHREC_PORT_COL_EXTERNAL_IDS,
    };

    if (bhrec_port_is_new(port) || bhrec_port_is_deleted(port)) {
        return true;
    }
    if (bhrec_port_is_updated(port, BHREC_PORT_COL_CHASSIS)
        && (!chassis || port->chassis != chassis)) {
        return true;
    }
    for (enum bhrec_port_column_id c = 0; c < BHREC_PORT_N_COLUMNS; c++) {
        bool skip = false;
        for (size_t i = 0; i < ARRAY_SIZE(ignored); i++) {
            skip = skip || ignored[i] == c;
        }
        if (!skip && bhrec_port_is_updated(port, c)) {
            return true;
        }
    }
    return false;
}

/* Handles the changes to the Tenant DB: Port changes concern the vNICs
 * bound to them or carrying their iface-id; Network and Tenant changes,
 * which may concern many vNICs at once, return false (a recompute, which
 * looks at every vNIC but tracks only those that changed). */
bool
binding_handle_tdb_changes(struct binding *b, const struct binding_input *in)
{
    const struct bhrec_network *net;
    const struct bhrec_tenant *tenant;
    const struct bhrec_port *port;
    struct hmapx dirty = HMAPX_INITIALIZER(&dirty);

    BHREC_NETWORK_FOR_EACH_TRACKED (net, in->tdb_idl) {
        return false;
    }
    BHREC_TENANT_FOR_EACH_TRACKED (tenant, in->tdb_idl) {
        return false;
    }
    BHREC_PORT_FOR_EACH_TRACKED (port, in->tdb_idl) {
        if (!port_change_matters(port, in->chassis)) {
            continue;
        }
        struct vnic *v = find_vnic_by_port(b, &port->header_.uuid);
        if (v) {
            hmapx_add(&dirty, v);
        }
        if (!bhrec_port_is_deleted(port)) {
            v = find_vnic(b, port->iface_id);
            if (v) {
                hmapx_add(&dirty, v);
            }
        }
    }
    /* Claims that could not be written before. */
    struct hmapx_node *node;
    HMAPX_FOR_EACH (node, &b->claim_retry) {
        hmapx_add(&dirty, node->data);
    }
    HMAPX_FOR_EACH (node, &dirty) {
        refresh_vnic(b, in, node->data);
    }
    hmapx_destroy(&dirty);
    if (!b->strays_released) {
        release_strays(b, in);
    }
    return true;
}

/* Returns the name of 'state'. */
const char *
vnic_state_name(enum vnic_state state)
{
    return (state == VNIC_BOUND ? "bound"
            : state == VNIC_UNKNOWN ? "unknown"
            : "refused");
}

/* Diagnostics. */

/* What the vNIC commands read. */
struct binding_diag {
    const struct binding *binding;      /* The vNICs. */
    const struct if_status *ifs;        /* Their marks. */
    const struct flow_table *flows;     /* The desired flows. */
    const struct ofctrl *ofctrl;        /* Whose flows the switch refused. */
};

/* Appends one line per vNIC, sorted by iface-id, to 's'. */
static void
binding_list(const struct binding_diag *d, struct ds *s)
{
    struct svec lines = SVEC_EMPTY_INITIALIZER;
    const struct vnic *v;

    HMAP_FOR_EACH (v, node, &d->binding->vnics) {
        struct ds line = DS_EMPTY_INITIALIZER;
        ds_put_format(&line, "%s %s ofport=%"PRId64" %s", v->iface_id,
                      v->iface_name, v->ofport, vnic_state_name(v->state));
        if (v->state == VNIC_BOUND) {
            ds_put_format(&line, " tenant=%s network=%s port=%s zone=%"
                          PRIu16"%s", v->tenant, v->port.network,
                          v->port.name, v->zone,
                          if_status_is_installed(d->ifs, v->iface_id)
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

/* Describes vNIC 'v' in 's'. */
static void
binding_show(const struct binding_diag *d, const struct vnic *v,
             struct ds *s)
{
    ds_put_format(s, "iface-id: %s\ninterface: %s\nofport: %"PRId64"\n"
                  "state: %s\n", v->iface_id, v->iface_name, v->ofport,
                  vnic_state_name(v->state));
    if (v->reason) {
        ds_put_format(s, "reason: %s\n", v->reason);
    }
    if (v->state == VNIC_BOUND) {
        ds_put_format(s, "tenant: %s\nnetwork: %s (key %#"PRIx32")\n"
                      "port: %s\nct zone: %"PRIu16"\ncookie: %#"PRIx64"\n"
                      "installed: %s (%s)\n", v->tenant,
                      v->port.network, v->net_key, v->port.name, v->zone,
                      pipeline_cookie(PL_COOKIE_VNIC, v->zone),
                      if_status_is_installed(d->ifs, v->iface_id)
                      ? "yes" : "not yet",
                      if_state_name(if_status_get(d->ifs, v->iface_id)));
        const char *refused = ofctrl_refused(
            d->ofctrl, pipeline_cookie(PL_COOKIE_VNIC, v->zone));
        if (refused) {
            ds_put_format(s, "switch: refused its flows (%s): all withheld, "
                          "its traffic is dropped\n", refused);
        }
        refused = ofctrl_refused(d->ofctrl,
                                 pipeline_cookie(PL_COOKIE_NETWORK,
                                                 v->net_key));
        if (refused) {
            ds_put_format(s, "switch: refused its network's flows (%s): all "
                          "withheld, no flooding nor uplink\n", refused);
        }
    }
}

/* Appends, per tenant and network, the vNICs bound here to 's'. */
static void
binding_tenants(const struct binding_diag *d, struct ds *s)
{
    struct svec lines = SVEC_EMPTY_INITIALIZER;
    const struct vnic *v;

    HMAP_FOR_EACH (v, node, &d->binding->vnics) {
        if (v->state == VNIC_BOUND) {
            svec_add_nocopy(&lines, xasprintf("%s\t%s\t%s (%s, zone %"
                                              PRIu16")", v->tenant,
                                              v->port.network, v->port.name,
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

/* "vnic/list" and "tenant/show". */
static void
cmd_list(struct unixctl_conn *conn, int argc OVS_UNUSED,
         const char *argv[], void *d_)
{
    const struct binding_diag *d = d_;
    struct ds s = DS_EMPTY_INITIALIZER;

    if (!strcmp(argv[0], "vnic/list")) {
        binding_list(d, &s);
    } else {
        binding_tenants(d, &s);
    }
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

/* "vnic/show PORT" and "vnic/flows PORT". */
static void
cmd_vnic(struct unixctl_conn *conn, int argc OVS_UNUSED,
         const char *argv[], void *d_)
{
    const struct binding_diag *d = d_;
    const struct vnic *v = binding_lookup(d->binding, argv[1]);
    struct ds s = DS_EMPTY_INITIALIZER;

    if (!v) {
        ds_put_format(&s, "no vNIC \"%s\" on this host (give an iface-id, "
                      "a port name or an interface name)", argv[1]);
        unixctl_command_reply_error(conn, ds_cstr(&s));
    } else {
        if (!strcmp(argv[0], "vnic/flows")) {
            char *owner = pipeline_vnic_owner(v->iface_id);
            flow_table_format(d->flows, owner, &s);
            free(owner);
        } else {
            binding_show(d, v, &s);
        }
        unixctl_command_reply(conn, ds_cstr(&s));
    }
    ds_destroy(&s);
}

/* Registers the vNIC commands, which read 'b', 'ifs', 'flows' and
 * 'ofctrl'. */
void
binding_register_commands(const struct binding *b,
                          const struct if_status *ifs,
                          const struct flow_table *flows,
                          const struct ofctrl *ofctrl)
{
    struct binding_diag *d = xmalloc(sizeof *d);

    d->binding = b;
    d->ifs = ifs;
    d->flows = flows;
    d->ofctrl = ofctrl;
    unixctl_command_register("vnic/list", "", 0, 0, cmd_list, d);
    unixctl_command_register("tenant/show", "", 0, 0, cmd_list, d);
    unixctl_command_register("vnic/show", "PORT", 1, 1, cmd_vnic, d);
    unixctl_command_register("vnic/flows", "PORT", 1, 1, cmd_vnic, d);
}
