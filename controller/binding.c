/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#include <config.h>
#include "controller/binding.h"

#include <stdlib.h>
#include <string.h>
#include "controller/ct-limits.h"
#include "controller/ct-zone.h"
#include "controller/firewall.h"
#include "controller/flow-table.h"
#include "controller/if-status.h"
#include "controller/ofctrl.h"
#include "controller/overlay.h"
#include "controller/pipeline.h"
#include "coverage.h"
#include "hash.h"
#include "lib/tenant-db.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "ovsdb-idl.h"
#include "packets.h"
#include "sha1.h"
#include "schema/bulkhead-idl.h"
#include "smap.h"
#include "svec.h"
#include "unixctl.h"
#include "uuidset.h"
#include "util.h"
#include "vswitch-idl.h"

VLOG_DEFINE_THIS_MODULE(binding);

/* The reason vnic/list and vnic/show give for an analysis port, whose state
 * is unknown: no Port has its iface-id, as it should be. */
#define ANALYSIS_PORT_NOTE \
    "an analysis port (external_ids:bulkhead-analysis=true): no Port, " \
    "copies of mirrors only"

COVERAGE_DEFINE(binding_vnic_changed);
COVERAGE_DEFINE(binding_walk);
COVERAGE_DEFINE(binding_recompute);
COVERAGE_DEFINE(binding_held_elsewhere);
COVERAGE_DEFINE(binding_other_tenant);
COVERAGE_DEFINE(binding_mtu_too_large);
COVERAGE_DEFINE(binding_duplicate_iface_id);
COVERAGE_DEFINE(binding_invalid_row);
COVERAGE_DEFINE(binding_mac_clash);

/* The digest of one security group's rules, as group_digest() computed it
 * while the Tenant DB IDL was at 'group_digests_seqno'. */
struct group_digest {
    struct hmap_node node;      /* In binding's 'group_digests'. */
    struct uuid group;          /* The Security_Group. */
    char hex[SHA1_HEX_DIGEST_LEN + 1];  /* SHA-1 of its name and rules. */
};

/* Forgets every group digest that 'b' keeps (group_digest()). */
static void
clear_group_digests(struct binding *b)
{
    struct group_digest *gd;

    HMAP_FOR_EACH_POP (gd, node, &b->group_digests) {
        free(gd);
    }
}

/* Initializes 'b' with no vNICs. */
void
binding_init(struct binding *b)
{
    hmap_init(&b->vnics);
    hmap_init(&b->vnics_by_port);
    hmap_init(&b->vnics_by_iface);
    hmapx_init(&b->claim_retry);
    hmapx_init(&b->wait_self);
    hmap_init(&b->changes);
    mac_owners_init(&b->macs);
    ovs_list_init(&b->pending);
    b->strays_released = false;
    uuidset_init(&b->no_ofport);
    hmap_init(&b->duplicates);
    hmap_init(&b->group_digests);
    b->group_digests_seqno = 0;
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
    svec_clear(&v->net_cidrs);
}

/* Frees 'v', whose L2 bid was withdrawn. */
static void
vnic_free(struct vnic *v)
{
    vnic_clear_binding(v);
    svec_destroy(&v->port.ips);
    svec_destroy(&v->port.groups);
    svec_destroy(&v->net_cidrs);
    free(v->iface_id);
    free(v->iface_name);
    free(v->reason);
    free(v->row_reason);
    free(v->signature);
    free(v->groups_digest);
    free(v);
}

/* Frees what 'b' holds. */
void
binding_destroy(struct binding *b)
{
    struct vnic *v;

    binding_clear_tracked(b);
    HMAP_FOR_EACH_POP (v, node, &b->vnics) {
        mac_owners_withdraw(&b->macs, &v->bid);
        vnic_free(v);
    }
    hmap_destroy(&b->vnics);
    hmap_destroy(&b->vnics_by_port);
    hmap_destroy(&b->vnics_by_iface);
    hmapx_destroy(&b->claim_retry);
    hmapx_destroy(&b->wait_self);
    hmap_destroy(&b->changes);
    mac_owners_destroy(&b->macs);
    uuidset_destroy(&b->no_ofport);
    struct binding_duplicate *dup;
    HMAP_FOR_EACH_POP (dup, node, &b->duplicates) {
        free(dup->iface_name);
        free(dup->iface_id);
        free(dup);
    }
    hmap_destroy(&b->duplicates);
    clear_group_digests(b);
    hmap_destroy(&b->group_digests);
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

/* Returns a vNIC whose iface-id the Port with 'uuid' has, as last read, or
 * NULL.  There is one, except in the run in which a Port's iface-id
 * changes. */
static struct vnic *
find_vnic_by_port(const struct binding *b, const struct uuid *uuid)
{
    struct vnic *v;

    HMAP_FOR_EACH_WITH_HASH (v, port_node, uuid_hash(uuid),
                             &b->vnics_by_port) {
        if (uuid_equals(&v->row_port, uuid)) {
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

/* Indexes 'v' by the Port 'port' whose iface-id it has, or, if 'port' is
 * NULL, not. */
static void
index_by_port(struct binding *b, struct vnic *v, const struct uuid *port)
{
    if (v->by_port) {
        hmap_remove(&b->vnics_by_port, &v->port_node);
        v->by_port = false;
    }
    if (port) {
        v->row_port = *port;
        hmap_insert(&b->vnics_by_port, &v->port_node,
                    uuid_hash(&v->row_port));
        v->by_port = true;
    }
}

/* Returns the vNIC named 'name' (an iface-id, a port name, or an OVS
 * interface name), or NULL.  A port name names a bound vNIC, or one whose
 * valid Port lost an L2 address. */
const struct vnic *
binding_lookup(const struct binding *b, const char *name)
{
    const struct vnic *v = find_vnic(b, name);

    if (!v) {
        HMAP_FOR_EACH (v, node, &b->vnics) {
            if ((v->state == VNIC_BOUND && !strcmp(v->port.name, name))
                || (mac_bid_is_placed(&v->bid)
                    && !strcmp(v->bid.port, name))
                || !strcmp(v->iface_name, name)) {
                return v;
            }
        }
    }
    return v;
}

/* Returns the bound vNIC whose conntrack zone (its port key) is 'zone', or
 * NULL. */
const struct vnic *
binding_find_by_zone(const struct binding *b, uint32_t zone)
{
    const struct vnic *v;

    BINDING_FOR_EACH_VNIC (v, b) {
        if (v->state == VNIC_BOUND && v->zone == zone) {
            return v;
        }
    }
    return NULL;
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
    c->was_bound = v->decided && v->state == VNIC_BOUND;
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
    /* A cold start grew it to a bucket per vNIC: every node that reads the
     * changes would otherwise scan them all for the next run's one. */
    hmap_shrink(&b->changes);
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
 * 'port' at 'ofport', but for its zone, which stays the same while it is
 * bound.  The caller frees it. */
static char *
vnic_signature(const struct bhrec_port *port, int64_t ofport)
{
    const struct bhrec_network *net = port->network;
    struct ds s = DS_EMPTY_INITIALIZER;

    ds_put_format(&s, "%"PRId64"|%s|%s|%"PRId64"|"UUID_FMT"|%s|%s|%d|",
                  ofport, port->mac, net->type, net->segment,
                  UUID_ARGS(&net->header_.uuid), net->tenant->name,
                  port->name, port->port_security);
    for (size_t i = 0; i < port->n_ips; i++) {
        ds_put_format(&s, "%s,", port->ips[i]);
    }
    ds_put_char(&s, '|');
    for (size_t i = 0; i < port->n_allowed_addresses; i++) {
        ds_put_format(&s, "%s,", port->allowed_addresses[i]);
    }
    ds_put_char(&s, '|');
    for (size_t i = 0; i < net->n_cidrs; i++) {
        ds_put_format(&s, "%s,", net->cidrs[i]);
    }
    ds_put_char(&s, '|');
    for (size_t i = 0; i < port->n_security_groups; i++) {
        /* And its tenant: a group given to another tenant is no longer
         * one the port may have (tenant_db_check_port()). */
        const struct bhrec_security_group *g = port->security_groups[i];
        ds_put_format(&s, UUID_FMT"@"UUID_FMT",", UUID_ARGS(&g->header_.uuid),
                      UUID_ARGS(g->tenant ? &g->tenant->header_.uuid
                                : &UUID_ZERO));
    }
    ds_put_format(&s, "|%"PRId64"|%"PRId64"|%d",
                  port->n_broadcast_limit ? port->broadcast_limit[0] : 0,
                  port->n_max_connections ? port->max_connections[0] : 0,
                  port->n_log_denied && port->log_denied[0]);
    return ds_steal_cstr(&s);
}

/* Appends 's' (NULL: none) to 'ds', its length first, so that no value
 * can pass for two. */
static void
put_field(struct ds *ds, const char *s)
{
    if (s) {
        ds_put_format(ds, "%"PRIuSIZE":%s", strlen(s), s);
    } else {
        ds_put_char(ds, '-');
    }
}

/* Returns the digest of what tenant_db_check_port() reads of group 'g':
 * its name and its rules, with the remote groups those name.  A group's
 * digest is computed once for all its vNICs while the IDL's contents stay
 * the same ('b''s cache goes whenever the IDL's seqno changes). */
static const char *
group_digest(struct binding *b, struct ovsdb_idl *idl,
             const struct bhrec_security_group *g)
{
    unsigned int seqno = ovsdb_idl_get_seqno(idl);
    uint32_t hash = uuid_hash(&g->header_.uuid);
    struct group_digest *gd;

    if (seqno != b->group_digests_seqno) {
        clear_group_digests(b);
        b->group_digests_seqno = seqno;
    }
    HMAP_FOR_EACH_WITH_HASH (gd, node, hash, &b->group_digests) {
        if (uuid_equals(&gd->group, &g->header_.uuid)) {
            return gd->hex;
        }
    }

    struct ds s = DS_EMPTY_INITIALIZER;
    struct sha1_ctx ctx;
    sha1_init(&ctx);
    put_field(&s, g->name);
    for (size_t j = 0; j < g->n_rules; j++) {
        const struct bhrec_rule *r = g->rules[j];
        const struct ovsdb_datum *rg
            = bhrec_rule_get_remote_group(r, OVSDB_TYPE_UUID);
        ds_put_format(&s, "R"UUID_FMT"|%"PRId64"|%d",
                      UUID_ARGS(&r->header_.uuid), r->position, r->log);
        put_field(&s, r->direction);
        put_field(&s, r->ethertype);
        put_field(&s, r->protocol);
        put_field(&s, r->ports);
        put_field(&s, r->remote_cidr);
        if (rg->n) {
            const struct bhrec_security_group *rgr = r->remote_group;
            ds_put_format(&s, UUID_FMT, UUID_ARGS(&rg->keys[0].uuid));
            put_field(&s, rgr ? rgr->name : NULL);
            ds_put_format(&s, UUID_FMT,
                          UUID_ARGS(rgr && rgr->tenant
                                    ? &rgr->tenant->header_.uuid
                                    : &UUID_ZERO));
        }
        if (s.length > 4096) {
            sha1_update(&ctx, s.string, s.length);
            ds_clear(&s);
        }
    }
    sha1_update(&ctx, s.string, s.length);
    ds_destroy(&s);

    uint8_t digest[SHA1_DIGEST_SIZE];
    sha1_final(&ctx, digest);
    gd = xmalloc(sizeof *gd);
    gd->group = g->header_.uuid;
    snprintf(gd->hex, sizeof gd->hex, SHA1_FMT, SHA1_ARGS(digest));
    hmap_insert(&b->group_digests, &gd->node, hash);
    return gd->hex;
}

/* Returns a digest of what tenant_db_check_port() reads of 'port''s rows
 * beyond vnic_signature(): its network's name and MTU, and its security
 * groups' (group_digest()).  A vNIC whose digest changes is checked again,
 * so that its verdict depends on its rows only, never on when it was
 * bound.  The caller frees it. */
static char *
vnic_groups_digest(struct binding *b, struct ovsdb_idl *idl,
                   const struct bhrec_port *port)
{
    const struct bhrec_network *net = port->network;
    struct ds s = DS_EMPTY_INITIALIZER;

    put_field(&s, net->name);
    ds_put_format(&s, "|%"PRId64, net->n_mtu ? net->mtu[0] : 0);
    for (size_t i = 0; i < port->n_security_groups; i++) {
        const struct bhrec_security_group *g = port->security_groups[i];
        ds_put_format(&s, "|"UUID_FMT":%s", UUID_ARGS(&g->header_.uuid),
                      group_digest(b, idl, g));
    }
    return ds_steal_cstr(&s);
}

/* Notes the MTUs of vNIC 'v' (its Interface 'iface', the network of its
 * Port 'port', if any), and warns once whenever the Interface's is larger
 * than the network's: the VM may send frames that its network cannot
 * carry (for VXLAN, that the underlay drops). */
static void
check_mtu(struct vnic *v, const struct bhrec_port *port,
          const struct ovsrec_interface *iface)
{
    const struct bhrec_network *net = port ? port->network : NULL;
    int64_t net_mtu = 0, iface_mtu = iface->n_mtu ? iface->mtu[0] : 0;

    if (net) {
        net_mtu = (net->n_mtu ? net->mtu[0]
                   : !strcmp(net->type, "vxlan") ? POLICY_VXLAN_MTU_DEFAULT
                   : POLICY_VLAN_MTU_DEFAULT);
    }
    if (net_mtu == v->net_mtu && iface_mtu == v->iface_mtu) {
        return;
    }
    v->net_mtu = net_mtu;
    v->iface_mtu = iface_mtu;
    if (net_mtu && iface_mtu > net_mtu) {
        /* Rate-limited: a host whose hypervisor leaves every tap at 1500
         * would otherwise log one line per vNIC at every start.  Every
         * vNIC's is counted, and shown by vnic/show. */
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
        COVERAGE_INC(binding_mtu_too_large);
        VLOG_WARN_RL(&rl, "%s: interface %s has MTU %"PRId64", larger "
                     "than the MTU of network %s, %"PRId64": frames over "
                     "%"PRId64" bytes are lost", v->iface_id, iface->name,
                     iface_mtu, net->name, net_mtu, net_mtu);
    }
}

/* Returns the UUID of the Chassis row that holds 'port', or NULL if none.
 * Read from the column: the IDL shows a reference to a row that this host
 * has not received (a Chassis that no condition asked for yet, the Tenant
 * DB gone in the middle of a condition change) as a null pointer, which
 * would read as a free Port. */
static const struct uuid *
port_holder(const struct bhrec_port *port)
{
    const struct ovsdb_datum *d = bhrec_port_get_chassis(port,
                                                         OVSDB_TYPE_UUID);
    return d->n ? &d->keys[0].uuid : NULL;
}

/* Returns true if 'self' (nonnull) holds 'port', by its column. */
static bool
held_here(const struct bhrec_port *port, const struct bhrec_chassis *self)
{
    const struct uuid *holder = port_holder(port);

    return holder && uuid_equals(holder, &self->header_.uuid);
}

/* Returns true if a chassis other than 'self' holds 'port' and its
 * requested_chassis does not name 'self': two hosts never take a Port from
 * each other.  A chassis that is gone holds nothing (Port.chassis is a weak
 * reference).  While this host's Chassis row is not known ('self' NULL: no
 * system-id, or the row not registered yet), every held Port is held
 * elsewhere, and a free one waits for its claim. */
static bool
held_elsewhere(const struct bhrec_port *port,
               const struct bhrec_chassis *self)
{
    if (!port_holder(port) || (self && held_here(port, self))) {
        return false;
    }
    return !(self && port->requested_chassis
             && !strcmp(port->requested_chassis, self->name));
}

/* Returns the name of the chassis that holds 'port', for messages. */
static const char *
holder_name(const struct bhrec_port *port)
{
    return port->chassis ? port->chassis->name : "(not known here)";
}

/* Releases the Port that bound vNIC 'v' was bound to, if this chassis
 * still holds it.  By UUID: the Port's iface-id may have changed.  If the
 * Tenant DB cannot be written now (it is away, or a transaction is in
 * flight), the next run that can write lets go of every Port this chassis
 * holds without a vNIC here (release_strays()). */
static void
release_port(struct binding *b, const struct binding_input *in,
             const struct vnic *v)
{
    const struct bhrec_port *port = bhrec_port_get_for_uuid(in->tdb_idl,
                                                            &v->port_uuid);
    if (!in->tdb_txn || !in->chassis) {
        b->strays_released = false;
    } else if (port && port->chassis == in->chassis) {
        VLOG_INFO("%s: releasing port %s", v->iface_id, port->name);
        bhrec_port_verify_chassis(port);  /* Unless another took it. */
        bhrec_port_set_chassis(port, NULL);
        bool up = false;
        bhrec_port_set_up(port, &up, 1);
    }
}

/* Adds 'v' to the vNICs to decide on in this run, if it is not there. */
static void
add_pending(struct binding *b, struct vnic *v)
{
    if (!v->pending) {
        ovs_list_push_back(&b->pending, &v->pending_node);
        v->pending = true;
    }
}

/* Places the L2 bid of 'v', whose rows are valid: Port 'port' wants its MAC
 * and the MACs of its allowed addresses, parsed (a valid row's MACs
 * parse).  Returns false, with no bid in place, if one did not parse. */
static bool
vnic_bid(struct binding *b, struct vnic *v, const struct bhrec_port *port)
{
    const struct bhrec_network *net = port->network;
    struct eth_addr *allowed = xmalloc((port->n_allowed_addresses + 1)
                                       * sizeof *allowed);
    size_t n_allowed = 0;
    enum policy_net_type type;
    struct eth_addr own;
    bool ok = (eth_addr_from_string(port->mac, &own)
               && policy_net_type_from_string(net->type, &type));

    /* "MAC IP", or "IP" alone for the port's own MAC. */
    for (size_t i = 0; ok && i < port->n_allowed_addresses; i++) {
        const char *a = port->allowed_addresses[i];
        const char *space = strchr(a, ' ');
        if (space) {
            char *mac = xmemdup0(a, space - a);
            ok = eth_addr_from_string(mac, &allowed[n_allowed++]);
            free(mac);
        }
    }
    if (ok) {
        mac_owners_bid(&b->macs, &v->bid, port->name, &port->header_.uuid,
                       net->name, pipeline_network_key(type, net->segment),
                       own, allowed, n_allowed);
    } else {
        mac_owners_withdraw(&b->macs, &v->bid);
    }
    free(allowed);
    return ok;
}

/* Reads the rows of 'v' anew: Interface 'iface' at 'ofport' and the Tenant
 * DB Port with its iface-id.  Works out what they alone say (valid, no
 * Port, or refused, and why), places or withdraws 'v''s L2 bid, and leaves
 * 'v' to be decided on by binding_settle(), once every row of the run was
 * read.  'new' is true if 'v' was just created. */
static void
vnic_update(struct binding *b, const struct binding_input *in,
            struct vnic *v, const struct ovsrec_interface *iface,
            int64_t ofport, bool new)
{
    const struct bhrec_port *port = find_port(in->port_by_iface_id,
                                              v->iface_id);
    const char *attached = smap_get(&iface->external_ids, "attached-mac");
    const char *owner_key;
    const char *owner = if_status_iface_tenant(iface, v->iface_id,
                                               &owner_key);
    const char *port_tenant = (port && port->network && port->network->tenant
                               ? port->network->tenant->name : NULL);
    enum vnic_state state = VNIC_BOUND;
    char *reason = NULL;

    if (strcmp(v->iface_name, iface->name)) {
        free(v->iface_name);
        v->iface_name = xstrdup(iface->name);
    }
    bool same_iface = uuid_equals(&v->iface_uuid, &iface->header_.uuid);
    if (!same_iface) {
        hmap_remove(&b->vnics_by_iface, &v->iface_node);
        v->iface_uuid = iface->header_.uuid;
        hmap_insert(&b->vnics_by_iface, &v->iface_node,
                    uuid_hash(&v->iface_uuid));
    }
    add_pending(b, v);
    check_mtu(v, port, iface);
    if (!port) {
        state = VNIC_UNKNOWN;
        if (smap_get_bool(&iface->external_ids, "bulkhead-analysis",
                          false)) {
            /* An operator's capture port: that no Port has its iface-id is
             * what it needs (mirror.c), not something to warn about. */
            reason = xstrdup(ANALYSIS_PORT_NOTE);
        }
    } else if (smap_get_bool(&iface->external_ids, "bulkhead-analysis",
                             false)) {
        /* An operator's capture port: a tenant's Port that takes its
         * iface-id must not make it that tenant's vNIC. */
        state = VNIC_REFUSED;
        reason = xstrdup("an analysis port (external_ids:bulkhead-analysis"
                         "=true) is never a tenant's vNIC");
    } else if (attached && strcasecmp(attached, port->mac)) {
        state = VNIC_REFUSED;
        reason = xasprintf("attached-mac %s is not the port's MAC %s",
                           attached, port->mac);
    } else if (owner && (!port_tenant || strcmp(owner, port_tenant))) {
        /* A Port of another tenant with the VM's iface-id (written while
         * the VM's own Port did not exist yet, or after it was deleted or
         * renamed) never takes the VM into that tenant's network. */
        state = VNIC_REFUSED;
        reason = xasprintf("the Interface is tenant %s's (external_ids:"
                           "%s): port %s of tenant %s does not take it",
                           owner, owner_key, port->name,
                           port_tenant ? port_tenant : "(none)");
        COVERAGE_INC(binding_other_tenant);
    } else if (held_elsewhere(port, in->chassis)) {
        state = VNIC_REFUSED;
        reason = xasprintf("port %s is bound on chassis %s: it binds here "
                           "once that chassis lets it go or is gone, or "
                           "once its requested_chassis names this one%s",
                           port->name, holder_name(port),
                           (in->chassis ? ""
                            : "; this host has no Chassis row yet (is "
                              "external_ids:system-id set?)"));
        COVERAGE_INC(binding_held_elsewhere);
    }

    /* The signature and the digest are taken before the row is checked: a
     * row that does not change is not checked again. */
    char *sig = (state == VNIC_BOUND
                 ? vnic_signature(port, ofport)
                 : xasprintf("%d|%s", state, reason ? reason : ""));
    char *digest = (state == VNIC_BOUND
                    ? vnic_groups_digest(b, in->tdb_idl, port) : NULL);
    /* A Port deleted and created again in one run (a document loaded
     * anew, changes that waited for a busy controller or a Tenant DB back
     * from an outage) gives the same signature from another row: the vNIC
     * is read and decided on again all the same, so that its claim, its
     * marks and whatever finds it by its Port follow the new row.  So for
     * an Interface replaced by another of the same name, iface-id and
     * ofport (libvirt's "--if-exists del-port X -- add-port BR X" of a tap
     * whose port was left behind, read in one run): its marks and zone go
     * to the new row. */
    bool same_port = (port
                      ? v->by_port && uuid_equals(&v->row_port,
                                                  &port->header_.uuid)
                      : !v->by_port);
    bool same_sig = (!new && same_iface && same_port && v->signature
                     && !strcmp(sig, v->signature));
    if (same_sig && nullable_string_is_equal(digest, v->groups_digest)) {
        free(digest);
        free(sig);
        free(reason);
        return;
    }
    if (state == VNIC_BOUND) {
        /* The controller trusts no row: the Tenant DB may be written by
         * anything.  What the validator refuses gets no flow. */
        char *problem = tenant_db_check_port(port);
        bool invalid = problem != NULL;
        if (invalid) {
            state = VNIC_REFUSED;
            reason = xasprintf("invalid in the Tenant DB: %s", problem);
            free(problem);
        }
        if (same_sig && state == v->row_state
            && nullable_string_is_equal(reason, v->row_reason)) {
            /* Only its groups' rules (or its network's name or MTU)
             * changed, and not the verdict on its rows: nothing of the
             * vNIC changes (the firewall compiles the rules). */
            free(v->groups_digest);
            v->groups_digest = digest;
            free(sig);
            free(reason);
            return;
        }
        if (invalid) {
            COVERAGE_INC(binding_invalid_row);
        } else if (!vnic_bid(b, v, port)) {
            state = VNIC_REFUSED;
            reason = xstrdup("invalid in the Tenant DB: a MAC does not "
                             "parse");
            COVERAGE_INC(binding_invalid_row);
        }
    }
    if (state == VNIC_BOUND) {
        /* Its zone, now, in the order of the walk (Interfaces that kept a
         * zone first, and before a vNIC that leaves frees its own);
         * vnic_decide() frees it if it is refused. */
        ct_zones_assign(in->zones, v->iface_id,
                        (if_status_iface_rebound(iface) ? NULL
                         : &iface->external_ids));
    } else {
        mac_owners_withdraw(&b->macs, &v->bid);
    }
    index_by_port(b, v, port ? &port->header_.uuid : NULL);

    free(v->signature);
    v->signature = sig;
    free(v->groups_digest);
    v->groups_digest = digest;
    v->row_state = state;
    free(v->row_reason);
    v->row_reason = reason;
    v->row_ofport = ofport;
    v->row_changed = true;
}

/* Decides what becomes of 'v', whose rows were read: bound if they are
 * valid and no other vNIC comes first for one of its L2 addresses,
 * otherwise unknown or refused.  Applies what changed: its zone, the Port's
 * release, its marks, a tracked change and a log line. */
static void
vnic_decide(struct binding *b, const struct binding_input *in,
            struct vnic *v)
{
    const struct bhrec_port *port = NULL;
    enum vnic_state state = v->row_state;
    char *reason = nullable_xstrdup(v->row_reason);
    bool clash = false;

    if (state == VNIC_BOUND) {
        /* The Port its rows were read with, found by its uuid: iface-ids
         * are unique in the Tenant DB, and a hash lookup costs less than
         * the index's (a cold start decides on every vNIC). */
        port = bhrec_port_get_for_uuid(in->tdb_idl, &v->row_port);
        if (!port || strcmp(port->iface_id, v->iface_id)) {
            port = find_port(in->port_by_iface_id, v->iface_id);
        }
        if (!port) {
            /* Cannot happen: its rows were read in this run. */
            state = VNIC_UNKNOWN;
        } else {
            reason = mac_owners_judge(&b->macs, &v->bid);
            if (reason) {
                state = VNIC_REFUSED;
                clash = true;
            }
        }
    }
    if (v->decided && !v->row_changed && state == v->state
        && nullable_string_is_equal(reason, v->reason)) {
        free(reason);
        return;
    }

    uint16_t zone = 0;
    if (state == VNIC_BOUND) {
        const struct ovsrec_interface *iface = ovsrec_interface_get_for_uuid(
            in->ovs_idl, &v->iface_uuid);
        /* A zone the Interface kept for another iface-id holds another
         * VM's connections: not this one's. */
        zone = ct_zones_assign(in->zones, v->iface_id,
                               (iface && !if_status_iface_rebound(iface)
                                ? &iface->external_ids : NULL));
    }

    /* Something changed. */
    COVERAGE_INC(binding_vnic_changed);
    if (v->state != state || !v->decided
        || (state == VNIC_REFUSED
            && !nullable_string_is_equal(reason, v->reason))) {
        if (state == VNIC_BOUND) {
            VLOG_INFO("%s: binding %s (port %s of tenant %s) at ofport "
                      "%"PRId64, v->iface_id, v->iface_name, port->name,
                      port->network->tenant->name, v->row_ofport);
        } else if (state == VNIC_UNKNOWN && reason) {
            VLOG_INFO("%s: %s is %s", v->iface_id, v->iface_name, reason);
        } else if (state == VNIC_UNKNOWN) {
            VLOG_WARN("%s: no port in the Tenant DB has this iface-id; "
                      "%s gets no flows", v->iface_id, v->iface_name);
        } else if (clash) {
            /* One MAC, one owner: never the order of binding decides. */
            VLOG_WARN("%s: port \"%s\" refused: %s; %s gets no flows",
                      v->iface_id, v->bid.port, reason, v->iface_name);
            COVERAGE_INC(binding_mac_clash);
        } else {
            VLOG_WARN("%s: refused: %s; %s gets no flows", v->iface_id,
                      reason, v->iface_name);
        }
    }
    track_change(b, v);
    if (v->decided && v->state == VNIC_BOUND
        && (state != VNIC_BOUND
            || !uuid_equals(&v->port_uuid, &port->header_.uuid))) {
        /* Unbound, or bound to another Port: the old Port is let go. */
        release_port(b, in, v);
    }

    vnic_clear_binding(v);
    v->state = state;
    free(v->reason);
    v->reason = reason;
    v->ofport = v->row_ofport;
    v->zone = zone;
    v->row_changed = false;
    v->decided = true;
    if (state == VNIC_BOUND) {
        const struct bhrec_network *bn = port->network;
        v->port_uuid = port->header_.uuid;
        v->tenant = xstrdup(bn->tenant->name);
        tenant_db_port_from_row(port, &v->port);
        policy_net_type_from_string(bn->type, &v->net_type);
        v->segment = bn->segment;
        v->net_uuid = bn->header_.uuid;
        v->net_key = pipeline_network_key(v->net_type, bn->segment);
        for (size_t i = 0; i < bn->n_cidrs; i++) {
            svec_add(&v->net_cidrs, bn->cidrs[i]);
        }
        if_status_flows_changed(in->ifs, v->iface_id, &v->iface_uuid,
                                &v->port_uuid, zone);
    } else {
        if_status_unbound(in->ifs, v->iface_id, &v->iface_uuid);
        ct_zones_release(in->zones, v->iface_id);
    }
}

/* Claims the Port of bound vNIC 'v' for this chassis if none holds it, or
 * if another does and the Port's requested_chassis names this one (a live
 * migration); a Port another chassis holds is never taken otherwise
 * (held_elsewhere() refused the vNIC). */
static void
vnic_claim(struct binding *b, const struct binding_input *in,
           struct vnic *v)
{
    v->claim_pending = false;
    hmapx_find_and_delete(&b->claim_retry, v);
    if (v->state != VNIC_BOUND) {
        if (v->state == VNIC_REFUSED && !in->chassis) {
            /* Perhaps held by this very chassis, not known yet: read
             * again once it is. */
            hmapx_add(&b->wait_self, v);
        }
        return;
    }
    if (!in->tdb_txn || !in->chassis) {
        v->claim_pending = true;    /* Try again next run. */
        hmapx_add(&b->claim_retry, v);
        return;
    }
    const struct bhrec_port *port = bhrec_port_get_for_uuid(in->tdb_idl,
                                                            &v->port_uuid);
    if (port && held_elsewhere(port, in->chassis)) {
        /* Read before this chassis was known: reading its rows again
         * (claim_retry) refuses it, with a signature of its own. */
        v->claim_pending = true;
        hmapx_add(&b->claim_retry, v);
        return;
    }
    if (port && !held_here(port, in->chassis)) {
        if (port_holder(port)) {
            VLOG_INFO("%s: claiming port %s from chassis %s", v->iface_id,
                      port->name, holder_name(port));
        } else {
            VLOG_INFO("%s: claiming port %s", v->iface_id, port->name);
        }
        /* Only from what this host saw: of two hosts that claim the Port
         * at once, the second one's transaction fails, and it then sees
         * the Port held elsewhere. */
        bhrec_port_verify_chassis(port);
        bhrec_port_set_chassis(port, in->chassis);
        /* Made again (a claim lost with its transaction, taken off by
         * hand): up goes with it. */
        if_status_recheck(in->ifs, v->iface_id, IFS_MARK_PORT);
    }
}

/* Removes 'v': its zone, its claim, its marks, its L2 bid (the vNICs it
 * came before for an L2 address are judged again). */
static void
vnic_remove(struct binding *b, const struct binding_input *in,
            struct vnic *v)
{
    VLOG_INFO("%s: %s went away", v->iface_id, v->iface_name);
    track_change(b, v);
    ct_zones_release(in->zones, v->iface_id);
    if (v->decided && v->state == VNIC_BOUND) {
        release_port(b, in, v);
    }
    if_status_gone(in->ifs, v->iface_id);
    if (ovsrec_interface_get_for_uuid(in->ovs_idl, &v->iface_uuid)) {
        /* It stays, as no vNIC (its iface-id or its ofport went): its
         * marks must not vouch for flows it no longer has. */
        if_status_unmark_iface(in->ifs, &v->iface_uuid);
    }
    index_by_port(b, v, NULL);
    mac_owners_withdraw(&b->macs, &v->bid);
    if (v->pending) {
        ovs_list_remove(&v->pending_node);
    }
    hmapx_find_and_delete(&b->claim_retry, v);
    hmapx_find_and_delete(&b->wait_self, v);
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
 * for instance one unplugged while the controller was down, or while the
 * Tenant DB could not be written.  Looks at every Port, so it runs once,
 * with the first run that can write, and again only when a release is
 * owed (binding_recheck_claims(), release_port()). */
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
            bhrec_port_verify_chassis(port);
            bhrec_port_set_chassis(port, NULL);
            bool up = false;
            bhrec_port_set_up(port, &up, 1);
        }
    }
}

/* Returns the refused duplicate Interface whose UUID is 'uuid', or NULL. */
static struct binding_duplicate *
find_duplicate(const struct binding *b, const struct uuid *uuid)
{
    struct binding_duplicate *dup;

    HMAP_FOR_EACH_WITH_HASH (dup, node, uuid_hash(uuid), &b->duplicates) {
        if (uuid_equals(&dup->iface_uuid, uuid)) {
            return dup;
        }
    }
    return NULL;
}

/* Forgets the duplicate 'dup'. */
static void
forget_duplicate(struct binding *b, struct binding_duplicate *dup)
{
    hmap_remove(&b->duplicates, &dup->node);
    free(dup->iface_name);
    free(dup->iface_id);
    free(dup);
}

/* Notes that Interface 'iface', with 'iface_id' and 'ofport', is refused
 * because another Interface holds 'iface_id'. */
static void
note_duplicate(struct binding *b, const struct ovsrec_interface *iface,
               const char *iface_id, int64_t ofport)
{
    struct binding_duplicate *dup = find_duplicate(b, &iface->header_.uuid);

    if (!dup) {
        dup = xzalloc(sizeof *dup);
        dup->iface_uuid = iface->header_.uuid;
        hmap_insert(&b->duplicates, &dup->node, uuid_hash(&dup->iface_uuid));
    }
    free(dup->iface_name);
    free(dup->iface_id);
    dup->iface_name = xstrdup(iface->name);
    dup->iface_id = xstrdup(iface_id);
    dup->ofport = ofport;
    dup->seen = true;
}

/* Returns true if 'v' is an analysis port: an Interface marked
 * external_ids:bulkhead-analysis=true whose iface-id no Port has. */
bool
vnic_is_analysis_port(const struct vnic *v)
{
    return v->state == VNIC_UNKNOWN && v->reason != NULL;
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

    if (!iface_id || !*iface_id) {
        return;
    }
    if (ofport <= 0) {
        uuidset_insert(&b->no_ofport, &iface->header_.uuid);
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
        note_duplicate(b, iface, iface_id, ofport);
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
        v->state = VNIC_UNKNOWN;
        mac_bid_init(&v->bid);
        svec_init(&v->port.ips);
        svec_init(&v->port.groups);
        svec_init(&v->net_cidrs);
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
}

/* Returns true if Interface 'iface', with 'iface_id' and no vNIC, may be
 * looked at alone rather than by a walk of br-int: the last walk saw it on
 * br-int without an ofport (and ports did not come or go since, or this
 * run would walk anyway), and no vNIC has its iface-id (which would need
 * the walk's judgment of which Interface holds it). */
static bool
arrives_alone(const struct binding *b, const struct ovsrec_interface *iface,
              const char *iface_id)
{
    return (uuidset_find(&b->no_ofport, &iface->header_.uuid)
            && !find_vnic(b, iface_id));
}

/* Walks br-int's ports and reads the rows of every vNIC anew.  With 'all',
 * every vNIC is looked at; otherwise only those whose Interface changed, or
 * whose claim waits.  vNICs not found any more are removed.  What becomes of
 * them is decided by binding_settle(). */
static void
binding_walk(struct binding *b, const struct binding_input *in, bool all)
{
    const struct ovsrec_bridge *br = in->br_int;
    struct vnic *v;

    COVERAGE_INC(binding_walk);
    HMAP_FOR_EACH (v, node, &b->vnics) {
        v->seen = false;
    }
    struct binding_duplicate *dup;
    HMAP_FOR_EACH (dup, node, &b->duplicates) {
        dup->seen = false;
    }
    uuidset_clear(&b->no_ofport);
    /* With 'all' (a restart, say), Interfaces that kept a zone come first,
     * so that they all get theirs back before a newcomer takes the lowest
     * free zone. */
    for (int pass = all ? 0 : 1; pass < 2; pass++) {
        for (size_t i = 0; i < br->n_ports; i++) {
            const struct ovsrec_port *p = br->ports[i];
            for (size_t j = 0; j < p->n_interfaces; j++) {
                const struct ovsrec_interface *iface = p->interfaces[j];
                if (!all || (smap_get(&iface->external_ids, CT_ZONE_KEY)
                             != NULL) == !pass) {
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
    /* A duplicate is one only as long as a walk finds it refused. */
    HMAP_FOR_EACH_SAFE (dup, node, &b->duplicates) {
        if (!dup->seen) {
            forget_duplicate(b, dup);
        }
    }
}

/* Decides, once every row of the run was read, what becomes of the vNICs
 * whose rows were read and of those whose L2 rivals changed (in that
 * order: that of the walk, in which Interfaces that kept a zone come
 * first), claims the Ports of those bound, and, once, lets go of stray
 * claims. */
static void
binding_settle(struct binding *b, const struct binding_input *in)
{
    struct hmapx touched = HMAPX_INITIALIZER(&touched);
    struct hmapx_node *node;
    struct vnic *v;

    mac_owners_take_touched(&b->macs, &touched);
    HMAPX_FOR_EACH (node, &touched) {
        add_pending(b, CONTAINER_OF(node->data, struct vnic, bid));
    }
    hmapx_destroy(&touched);

    LIST_FOR_EACH_POP (v, pending_node, &b->pending) {
        v->pending = false;
        vnic_decide(b, in, v);
        vnic_claim(b, in, v);
    }
    if (!b->strays_released) {
        release_strays(b, in);
    }
}

/* Has the next binding_settle() or binding_release_strays() let go of
 * stray claims again, as after a restart, and the next handling of Tenant
 * DB changes claim again every bound vNIC's Port that this chassis does
 * not hold: a claim or a release written in a transaction that was then
 * lost (its Tenant DB connection went) is made again.  Costs a lookup per
 * vNIC. */
void
binding_recheck_claims(struct binding *b, const struct binding_input *in)
{
    struct vnic *v;

    b->strays_released = false;
    HMAP_FOR_EACH (v, node, &b->vnics) {
        if (v->state != VNIC_BOUND || !in->chassis) {
            continue;
        }
        const struct bhrec_port *port = bhrec_port_get_for_uuid(
            in->tdb_idl, &v->port_uuid);
        if (port && !held_here(port, in->chassis)) {
            hmapx_add(&b->claim_retry, v);
        }
    }
}

/* Lets go of stray claims if a release is owed and the Tenant DB can be
 * written (see release_port()), whether or not the engine ran. */
void
binding_release_strays(struct binding *b, const struct binding_input *in)
{
    if (!b->strays_released) {
        release_strays(b, in);
    }
}

/* Looks at every vNIC anew, as after a restart: a vNIC is tracked as
 * changed only if its flows' inputs or its verdict did change. */
void
binding_recompute(struct binding *b, const struct binding_input *in)
{
    COVERAGE_INC(binding_recompute);
    binding_walk(b, in, true);
    binding_settle(b, in);
}

/* Reads tracked Interface 'iface' alone: that of a known vNIC changed in
 * place, or one the last walk saw without an ofport got one. */
static void
update_tracked_iface(struct binding *b, const struct binding_input *in,
                     const struct ovsrec_interface *iface)
{
    struct vnic *v = find_vnic_by_iface(b, &iface->header_.uuid);

    if (v) {
        vnic_update(b, in, v, iface, iface->ofport[0], false);
    } else {
        struct uuidset_node *waiting = uuidset_find(&b->no_ofport,
                                                    &iface->header_.uuid);
        if (waiting) {
            if (iface->n_ofport && iface->ofport[0] > 0) {
                uuidset_delete(&b->no_ofport, waiting);
            }
            walk_iface(b, in, iface, false);
        }
    }
}

/* Handles changes to the switch's database (the caller calls it only when
 * a Bridge, Port or Interface changed): walks br-int, looking closely only
 * at the Interfaces that changed.  binding_handle_tdb_changes(), which
 * follows in the same run, decides on them. */
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
            || ovsrec_interface_is_deleted(iface)
            || find_duplicate(b, &iface->header_.uuid)) {
            walk = true;
            break;
        }
        const char *iface_id = smap_get(&iface->external_ids, "iface-id");
        struct vnic *v = find_vnic_by_iface(b, &iface->header_.uuid);
        int64_t ofport = iface->n_ofport ? iface->ofport[0] : 0;
        if (v ? (!iface_id || strcmp(iface_id, v->iface_id) || ofport <= 0)
              : iface_id != NULL && !arrives_alone(b, iface, iface_id)) {
            walk = true;
        }
    }
    if (walk) {
        binding_walk(b, in, false);
    } else {
        /* Only Interfaces of known vNICs changed, in place (a name, an
         * attached-mac, an ofport, our own marks), or an Interface the
         * last walk saw got its ofport: each one alone. */
        OVSREC_INTERFACE_FOR_EACH_TRACKED (iface, in->ovs_idl) {
            update_tracked_iface(b, in, iface);
        }
    }

    /* Whichever way they were read: a bound vNIC whose mark went (see
     * if_status_recheck()). */
    OVSREC_INTERFACE_FOR_EACH_TRACKED (iface, in->ovs_idl) {
        struct vnic *v = find_vnic_by_iface(b, &iface->header_.uuid);
        if (v && v->state == VNIC_BOUND && !ovsrec_interface_is_deleted(iface)
            && !if_status_iface_is_marked(iface)) {
            if_status_recheck(in->ifs, v->iface_id, IFS_MARK_IFACE);
        }
    }
    return true;
}

/* Reads the rows of vNIC 'v' (a Tenant DB change concerns it, or its claim
 * waits) anew, with the Interface row and ofport it had. */
static void
refresh_vnic(struct binding *b, const struct binding_input *in,
             struct vnic *v)
{
    const struct ovsrec_interface *iface = ovsrec_interface_get_for_uuid(
        in->ovs_idl, &v->iface_uuid);

    if (iface) {
        vnic_update(b, in, v, iface, v->row_ofport, false);
    }
}

/* If tracked Port 'port', which this chassis holds, is a bound vNIC's and
 * says it is not up, has the mark written again (if_status_recheck()). */
static void
recheck_port_up(const struct binding *b, const struct binding_input *in,
                const struct bhrec_port *port)
{
    if (in->chassis && port->chassis == in->chassis
        && !bhrec_port_is_deleted(port) && !if_status_port_is_up(port)) {
        const struct vnic *v = find_vnic(b, port->iface_id);
        if (v && v->state == VNIC_BOUND
            && uuid_equals(&v->port_uuid, &port->header_.uuid)) {
            if_status_recheck(in->ifs, v->iface_id, IFS_MARK_PORT);
        }
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

/* Returns true if tracked Port 'port' was just given to this chassis while
 * its vNIC here is refused: not this controller's own claim, which only a
 * bound vNIC makes, but someone else's (an operator who moves the Port by
 * hand), which the vNIC is decided on again for. */
static bool
claimed_for_refused(const struct binding *b, const struct binding_input *in,
                    const struct bhrec_port *port)
{
    if (!in->chassis || port->chassis != in->chassis
        || !bhrec_port_is_updated(port, BHREC_PORT_COL_CHASSIS)) {
        return false;
    }
    const struct vnic *v = find_vnic(b, port->iface_id);
    return v && v->state == VNIC_REFUSED;
}

/* Adds to 'dirty' the vNICs whose Port has a security group that changed
 * or holds a Rule that changed: tenant_db_check_port() reads the groups'
 * rules, so their vNICs are checked again (vnic_update() compares their
 * digests). */
static void
add_group_vnics(struct binding *b, const struct binding_input *in,
                struct hmapx *dirty)
{
    struct uuidset groups = UUIDSET_INITIALIZER(&groups);
    struct uuidset rules = UUIDSET_INITIALIZER(&rules);
    const struct bhrec_security_group *sg;
    const struct bhrec_rule *rule;

    BHREC_SECURITY_GROUP_FOR_EACH_TRACKED (sg, in->tdb_idl) {
        uuidset_insert(&groups, &sg->header_.uuid);
    }
    BHREC_RULE_FOR_EACH_TRACKED (rule, in->tdb_idl) {
        if (!bhrec_rule_is_new(rule) && !bhrec_rule_is_deleted(rule)) {
            /* A rule that comes or goes changes its group's 'rules'. */
            uuidset_insert(&rules, &rule->header_.uuid);
        }
    }
    if (!uuidset_is_empty(&rules)) {
        BHREC_SECURITY_GROUP_FOR_EACH (sg, in->tdb_idl) {
            const struct ovsdb_datum *d
                = bhrec_security_group_get_rules(sg, OVSDB_TYPE_UUID);
            for (size_t i = 0; i < d->n; i++) {
                if (uuidset_find(&rules, &d->keys[i].uuid)) {
                    uuidset_insert(&groups, &sg->header_.uuid);
                    break;
                }
            }
        }
    }
    if (!uuidset_is_empty(&groups)) {
        struct vnic *v;
        HMAP_FOR_EACH (v, node, &b->vnics) {
            const struct bhrec_port *p
                = (v->by_port
                   ? bhrec_port_get_for_uuid(in->tdb_idl, &v->row_port)
                   : NULL);
            const struct ovsdb_datum *d
                = p ? bhrec_port_get_security_groups(p, OVSDB_TYPE_UUID)
                    : NULL;
            for (size_t i = 0; d && i < d->n; i++) {
                if (uuidset_find(&groups, &d->keys[i].uuid)) {
                    hmapx_add(dirty, v);
                    break;
                }
            }
        }
    }
    uuidset_destroy(&groups);
    uuidset_destroy(&rules);
}

/* Handles the changes to the Tenant DB: Port changes concern the vNICs
 * whose iface-id they had or have; Network and Tenant changes, and a
 * Security_Group's tenant, which may concern many vNICs at once, return
 * false (a recompute, which looks at
 * every vNIC but tracks only those that changed).  Then decides on every
 * vNIC whose rows were read in this run (binding_handle_ovs_changes()
 * included) or whose L2 rivals changed. */
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
    /* A group given to another tenant: its ports, which are the old
     * tenant's, may no longer have it (rare, by hand). */
    const struct bhrec_security_group *sg;
    BHREC_SECURITY_GROUP_FOR_EACH_TRACKED (sg, in->tdb_idl) {
        if (!bhrec_security_group_is_new(sg)
            && bhrec_security_group_is_updated(
                sg, BHREC_SECURITY_GROUP_COL_TENANT)) {
            return false;
        }
    }
    add_group_vnics(b, in, &dirty);
    BHREC_PORT_FOR_EACH_TRACKED (port, in->tdb_idl) {
        recheck_port_up(b, in, port);
        if (!port_change_matters(port, in->chassis)
            && !claimed_for_refused(b, in, port)) {
            continue;
        }
        struct vnic *v;
        HMAP_FOR_EACH_WITH_HASH (v, port_node, uuid_hash(&port->header_.uuid),
                                 &b->vnics_by_port) {
            if (uuid_equals(&v->row_port, &port->header_.uuid)) {
                hmapx_add(&dirty, v);
            }
        }
        if (!bhrec_port_is_deleted(port)) {
            v = find_vnic(b, port->iface_id);
            if (v) {
                hmapx_add(&dirty, v);
            }
        }
    }
    /* Claims that could not be written before, and vNICs refused while
     * this host had no Chassis row, once it has one. */
    struct hmapx_node *node;
    if (in->chassis && !hmapx_is_empty(&b->wait_self)) {
        HMAPX_FOR_EACH (node, &b->wait_self) {
            hmapx_add(&dirty, node->data);
        }
        hmapx_clear(&b->wait_self);
    }
    hmap_shrink(&b->claim_retry.map);   /* See binding_clear_tracked(). */
    HMAPX_FOR_EACH (node, &b->claim_retry) {
        hmapx_add(&dirty, node->data);
    }
    HMAPX_FOR_EACH (node, &dirty) {
        refresh_vnic(b, in, node->data);
    }
    hmapx_destroy(&dirty);
    binding_settle(b, in);
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
    const struct ct_limits *limits;     /* Their zones' conntrack limits. */
    const struct ovsdb_idl *tdb;        /* The Tenant DB, for Ports bound
                                         * elsewhere. */
    const struct overlay *overlay;      /* Whether their chassis are
                                         * reachable. */
    const char **self;                  /* This host's chassis name, or
                                         * NULL. */
};

/* Returns why duplicate 'dup' is refused, in a string that the caller
 * frees. */
static char *
duplicate_reason(const struct binding *b, const struct binding_duplicate *dup)
{
    const struct vnic *holder = find_vnic(b, dup->iface_id);

    return xasprintf("iface-id already bound to interface %s",
                     holder ? holder->iface_name : "?");
}

/* Returns the duplicate whose Interface is named 'name', or NULL. */
static const struct binding_duplicate *
find_duplicate_by_name(const struct binding *b, const char *name)
{
    const struct binding_duplicate *dup;

    HMAP_FOR_EACH (dup, node, &b->duplicates) {
        if (!strcmp(dup->iface_name, name)) {
            return dup;
        }
    }
    return NULL;
}

/* Appends one line per vNIC, and per Interface refused for another's
 * iface-id, sorted by iface-id, to 's'. */
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
    const struct binding_duplicate *dup;
    HMAP_FOR_EACH (dup, node, &d->binding->duplicates) {
        char *reason = duplicate_reason(d->binding, dup);
        svec_add_nocopy(&lines, xasprintf("%s %s ofport=%"PRId64" %s (%s)",
                                          dup->iface_id, dup->iface_name,
                                          dup->ofport,
                                          vnic_state_name(VNIC_REFUSED),
                                          reason));
        free(reason);
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
        if_status_format_timing(d->ifs, v->iface_id, s);
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
        ds_put_format(s, "mtu: %"PRId64" (network)", v->net_mtu);
        if (v->iface_mtu) {
            ds_put_format(s, ", %"PRId64" (interface)", v->iface_mtu);
        }
        if (v->iface_mtu > v->net_mtu) {
            ds_put_format(s, ": the interface's is larger, frames over "
                          "%"PRId64" bytes are lost", v->net_mtu);
        }
        ds_put_char(s, '\n');
        ct_limits_format_vnic(d->limits, v->zone, s);
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

    const struct binding_duplicate *dup
        = v ? NULL : find_duplicate_by_name(d->binding, argv[1]);
    if (dup) {
        /* An Interface refused for another's iface-id: no flows. */
        if (!strcmp(argv[0], "vnic/show")) {
            char *reason = duplicate_reason(d->binding, dup);
            ds_put_format(&s, "iface-id: %s\ninterface: %s\nofport: %"
                          PRId64"\nstate: %s\nreason: %s\n", dup->iface_id,
                          dup->iface_name, dup->ofport,
                          vnic_state_name(VNIC_REFUSED), reason);
            free(reason);
        }
        unixctl_command_reply(conn, ds_cstr(&s));
        ds_destroy(&s);
        return;
    }

    const struct bhrec_port *port = NULL;
    size_t n = v ? 0 : tenant_db_find_port(d->tdb, argv[1], &port);

    if (!v && n == 1 && !strcmp(argv[0], "vnic/show")) {
        /* A Port of the Tenant DB bound elsewhere, or nowhere. */
        const struct bhrec_network *net = port->network;
        const struct bhrec_chassis *ch = port->chassis;
        ds_put_format(&s, "iface-id: %s\nport: %s\n", port->iface_id,
                      port->name);
        if (net && net->tenant) {
            ds_put_format(&s, "tenant: %s\nnetwork: %s (%s %"PRId64")\n",
                          net->tenant->name, net->name, net->type,
                          net->segment);
        }
        if (ch) {
            ds_put_format(&s, "state: bound on chassis %s (%s), not on "
                          "this host\n", ch->name,
                          ch->encap_ip ? ch->encap_ip : "no encap_ip");
            char *reason = (net && !strcmp(net->type, "vxlan")
                            ? overlay_chassis_unreachable(
                                d->overlay, CONST_CAST(struct ovsdb_idl *,
                                                       d->tdb),
                                *d->self, ch)
                            : NULL);
            if (reason) {
                /* This host neither sends to it nor accepts from it. */
                ds_put_format(&s, "reach: none, chassis %s is unreachable "
                              "from this host: %s\n", ch->name, reason);
                free(reason);
            }
        } else {
            ds_put_cstr(&s, "state: not bound on any chassis\n");
        }
        unixctl_command_reply(conn, ds_cstr(&s));
    } else if (!v && n > 1) {
        ds_put_format(&s, "%"PRIuSIZE" ports are named \"%s\"; give its "
                      "iface-id", n, argv[1]);
        unixctl_command_reply_error(conn, ds_cstr(&s));
    } else if (!v) {
        ds_put_format(&s, "no vNIC \"%s\" on this host (give an iface-id, "
                      "a port name or an interface name)", argv[1]);
        unixctl_command_reply_error(conn, ds_cstr(&s));
    } else {
        if (!strcmp(argv[0], "vnic/flows")) {
            /* Its own flows, then its firewall's: its default-deny drops
             * and its rule statistics. */
            char *owners[] = {
                pipeline_vnic_owner(v->iface_id),
                xasprintf(FIREWALL_OWNERS"deny:%s", v->iface_id),
                xasprintf(FIREWALL_OWNERS"stats:%s", v->iface_id),
            };
            for (size_t i = 0; i < ARRAY_SIZE(owners); i++) {
                flow_table_format(d->flows, owners[i], &s);
                free(owners[i]);
            }
        } else {
            binding_show(d, v, &s);
        }
        unixctl_command_reply(conn, ds_cstr(&s));
    }
    ds_destroy(&s);
}

/* Registers the vNIC commands, which read 'b', 'ifs', 'flows', 'ofctrl',
 * 'limits' and, for Ports not bound here, the Tenant DB 'tdb', the overlay
 * 'overlay' and '*self', this host's chassis name (NULL until known). */
void
binding_register_commands(const struct binding *b,
                          const struct if_status *ifs,
                          const struct flow_table *flows,
                          const struct ofctrl *ofctrl,
                          const struct ct_limits *limits,
                          const struct ovsdb_idl *tdb,
                          const struct overlay *overlay, const char **self)
{
    struct binding_diag *d = xmalloc(sizeof *d);

    d->tdb = tdb;
    d->overlay = overlay;
    d->self = self;
    d->binding = b;
    d->ifs = ifs;
    d->flows = flows;
    d->ofctrl = ofctrl;
    d->limits = limits;
    unixctl_command_register("vnic/list", "", 0, 0, cmd_list, d);
    unixctl_command_register("tenant/show", "", 0, 0, cmd_list, d);
    unixctl_command_register("vnic/show", "PORT", 1, 1, cmd_vnic, d);
    unixctl_command_register("vnic/flows", "PORT", 1, 1, cmd_vnic, d);
}
