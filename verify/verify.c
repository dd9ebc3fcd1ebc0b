/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* The verifier's flow table and port map (verify.h). */

#include <config.h>

#include "verify/verify-private.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "flow.h"
#include "hash.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/match.h"
#include "openvswitch/meta-flow.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofp-port.h"
#include "openvswitch/ofp-protocol.h"
#include "util.h"

/* Beyond this many recorded changes, the next run checks every port. */
#define MAX_CHANGES 100000

/* The flow table. */

struct vfy_flows *
vfy_flows_create(void)
{
    struct vfy_flows *flows = xzalloc(sizeof *flows);

    hmap_init(&flows->flows);
    for (size_t i = 0; i < ARRAY_SIZE(flows->tables); i++) {
        struct vfy_table *t = &flows->tables[i];
        t->dirty = true;
        t->key = VFY_N_KEYS;
        hmap_init(&t->buckets);
        hmap_init(&t->conjs);
    }
    return flows;
}

/* Frees 'f'. */
static void
flow_free(struct vfy_flow *f)
{
    free(f->match);
    free(f->full);
    free(f->ofpacts);
    free(f);
}

/* Frees the removed flows that the changes hold and forgets the
 * changes. */
static void
free_changes(struct vfy_flows *flows)
{
    for (size_t i = 0; i < flows->n_changes; i++) {
        if (!flows->changes[i].added) {
            flow_free(flows->changes[i].flow);
        }
    }
    flows->n_changes = 0;
}

/* Records that flow 'f' was added ('added') or removed; a removed flow is
 * freed here or when the changes are forgotten. */
static void
record_change(struct vfy_flows *flows, struct vfy_flow *f, bool added)
{
    flows->tables[f->table_id].dirty = true;
    if (!flows->overflow && flows->n_changes >= MAX_CHANGES) {
        /* The next run checks everything and indexes every table anew:
         * the changes are of no use. */
        flows->overflow = true;
        free_changes(flows);
    }
    if (flows->overflow) {
        if (!added) {
            flow_free(f);
        }
        return;
    }
    if (flows->n_changes >= flows->allocated_changes) {
        flows->changes = x2nrealloc(flows->changes,
                                    &flows->allocated_changes,
                                    sizeof *flows->changes);
    }
    struct vfy_change *c = &flows->changes[flows->n_changes++];
    c->table_id = f->table_id;
    c->added = added;
    c->flow = f;
}

/* Forgets the recorded changes (check.c calls it after a run). */
void
vfy_flows_forget_changes(struct vfy_flows *flows)
{
    free_changes(flows);
    flows->overflow = false;
}

void
vfy_flows_destroy(struct vfy_flows *flows)
{
    if (flows) {
        vfy_flows_clear(flows);
        vfy_flows_forget_changes(flows);
        vfy_tables_clear(flows);
        for (size_t i = 0; i < ARRAY_SIZE(flows->tables); i++) {
            hmap_destroy(&flows->tables[i].buckets);
            hmap_destroy(&flows->tables[i].conjs);
        }
        hmap_destroy(&flows->flows);
        free(flows->changes);
        free(flows);
    }
}

/* Returns the identity hash of a flow. */
static uint32_t
vflow_hash(uint8_t table_id, uint16_t priority, const struct hs_sparse *m)
{
    return hash_2words(m->hash, (table_id << 16) | priority);
}

/* Returns the flow with this identity, or NULL. */
static struct vfy_flow *
flow_find(const struct vfy_flows *flows, uint8_t table_id,
          uint16_t priority, const struct hs_sparse *full)
{
    struct vfy_flow *f;

    HMAP_FOR_EACH_WITH_HASH (f, node, vflow_hash(table_id, priority, full),
                             &flows->flows) {
        if (f->table_id == table_id && f->priority == priority
            && hs_sparse_equal(f->full, full)) {
            return f;
        }
    }
    return NULL;
}

/* Returns true if 'ofpacts' neither change nor send the packet. */
static bool
has_no_effect(const struct ofpact *ofpacts, size_t ofpacts_len)
{
    const struct ofpact *a;

    OFPACT_FOR_EACH (a, ofpacts, ofpacts_len) {
        switch (a->type) {
        case OFPACT_NOTE:
        case OFPACT_METER:
        case OFPACT_SAMPLE:
        case OFPACT_FIN_TIMEOUT:
        case OFPACT_SET_QUEUE:
        case OFPACT_POP_QUEUE:
        case OFPACT_CLEAR_ACTIONS:
            break;
        default:
            return false;
        }
    }
    return true;
}

/* Returns true if 'ofpacts' are conjunction() actions (at least one),
 * maybe with notes: OVS takes such a flow as a clause, which never matches
 * as a flow (ovs-fields(7), "Conjunctive Match Fields"). */
static bool
only_conjunctions(const struct ofpact *ofpacts, size_t ofpacts_len)
{
    const struct ofpact *a;
    bool any = false;

    OFPACT_FOR_EACH (a, ofpacts, ofpacts_len) {
        if (a->type == OFPACT_CONJUNCTION) {
            any = true;
        } else if (a->type != OFPACT_NOTE) {
            return false;
        }
    }
    return any;
}

/* Returns a copy of 's'. */
static struct hs_sparse *
sparse_clone(const struct hs_sparse *s)
{
    return xmemdup(s, sizeof *s + 2 * s->n * sizeof s->w[0]);
}

/* Adds a flow whose match is 'full' (which it takes), with 'is_conj' if it
 * matches conj_id 'conj_id'. */
static void
flows_add__(struct vfy_flows *flows, uint8_t table_id, uint16_t priority,
            struct hs_sparse *full, bool is_conj, uint32_t conj_id,
            ovs_be64 cookie, const struct ofpact *ofpacts, size_t ofpacts_len)
{
    struct vfy_flow *f = flow_find(flows, table_id, priority, full);

    if (f) {
        hmap_remove(&flows->flows, &f->node);
        record_change(flows, f, false);
    }

    f = xzalloc(sizeof *f);
    f->table_id = table_id;
    f->priority = priority;
    f->cookie = cookie;
    f->full = full;
    f->is_conj = is_conj;
    f->conj_id = conj_id;
    if (is_conj) {
        /* The conjunction's own match, without conj_id. */
        struct hs_cube c;
        hs_cube_from_sparse(&c, full);
        ((struct flow *) c.m)->conj_id = 0;
        ((struct flow *) c.v)->conj_id = 0;
        f->match = hs_sparse_from_cube(&c);
    } else {
        f->match = sparse_clone(full);
    }
    f->is_clause = only_conjunctions(ofpacts, ofpacts_len);
    f->no_effect = has_no_effect(ofpacts, ofpacts_len);
    f->ofpacts = ofpacts_len ? xmemdup(ofpacts, ofpacts_len) : NULL;
    f->ofpacts_len = ofpacts_len;
    hmap_insert(&flows->flows, &f->node, vflow_hash(table_id, priority, full));
    record_change(flows, f, true);
}

void
vfy_flows_add(struct vfy_flows *flows, uint8_t table_id, uint16_t priority,
              const struct match *match, ovs_be64 cookie,
              const struct ofpact *ofpacts, size_t ofpacts_len)
{
    flows_add__(flows, table_id, priority, hs_sparse_from_match(match),
                match->wc.masks.conj_id != 0, match->flow.conj_id, cookie,
                ofpacts, ofpacts_len);
}

/* Removes the flow with this identity, if any. */
static bool
flows_remove__(struct vfy_flows *flows, uint8_t table_id, uint16_t priority,
               const struct hs_sparse *full)
{
    struct vfy_flow *f = flow_find(flows, table_id, priority, full);

    if (!f) {
        return false;
    }
    hmap_remove(&flows->flows, &f->node);
    record_change(flows, f, false);
    return true;
}

bool
vfy_flows_remove(struct vfy_flows *flows, uint8_t table_id,
                 uint16_t priority, const struct match *match)
{
    struct hs_sparse *full = hs_sparse_from_match(match);
    bool removed = flows_remove__(flows, table_id, priority, full);

    free(full);
    return removed;
}

void
vfy_flows_clear(struct vfy_flows *flows)
{
    struct vfy_flow *f;

    HMAP_FOR_EACH_POP (f, node, &flows->flows) {
        record_change(flows, f, false);
    }
}

size_t
vfy_flows_count(const struct vfy_flows *flows)
{
    return hmap_count(&flows->flows);
}

/* Returns true if 'line' starts with 'prefix' after blanks. */
static bool
starts_with(const char *line, const char *prefix)
{
    while (isspace((unsigned char) *line)) {
        line++;
    }
    return !strncmp(line, prefix, strlen(prefix));
}

/* A parsed flow, held until the whole text parsed (compactly: a large
 * dump has tens of thousands). */
struct parsed_flow {
    struct hs_sparse *full;     /* Its match. */
    bool is_conj;               /* Whether it matches conj_id... */
    uint32_t conj_id;           /* ...this one. */
    uint8_t table_id;           /* Its table. */
    uint16_t priority;          /* Its priority. */
    ovs_be64 cookie;            /* Its cookie. */
    struct ofpact *ofpacts;     /* Its actions. */
    size_t ofpacts_len;         /* Their length. */
};

/* Parses 'text' and adds its flows to 'flows', or with 'remove' removes
 * them. */
static char *
parse_flows(struct vfy_flows *flows, const char *text, const char *file_name,
            bool remove)
{
    struct parsed_flow *parsed = NULL;
    size_t n = 0, allocated = 0;
    char *error = NULL;
    int line_number = 0;

    const char *p = text;
    while (*p && !error) {
        const char *end = strchr(p, '\n');
        size_t len = end ? end - p : strlen(p);
        char *line = xmemdup0(p, len);
        p += len + (end != NULL);
        line_number++;

        char *s = line;
        while (isspace((unsigned char) *s)) {
            s++;
        }
        size_t sl = strlen(s);
        while (sl && isspace((unsigned char) s[sl - 1])) {
            s[--sl] = '\0';
        }
        if (!*s || s[0] == '#' || starts_with(s, "OFPST_FLOW reply")
            || starts_with(s, "NXST_FLOW reply")) {
            free(line);
            continue;
        }

        struct ofputil_flow_mod fm;
        enum ofputil_protocol usable;
        char *err = parse_ofp_str(&fm, OFPFC_ADD, s, NULL, NULL, &usable);
        if (err) {
            error = xasprintf("%s:%d: %s", file_name, line_number, err);
            free(err);
        } else {
            if (n >= allocated) {
                parsed = x2nrealloc(parsed, &allocated, sizeof *parsed);
            }
            struct parsed_flow *pf = &parsed[n++];
            struct match match;
            minimatch_expand(&fm.match, &match);
            pf->full = hs_sparse_from_match(&match);
            pf->is_conj = match.wc.masks.conj_id != 0;
            pf->conj_id = match.flow.conj_id;
            pf->table_id = fm.table_id == 0xff ? 0 : fm.table_id;
            pf->priority = fm.priority;
            pf->cookie = fm.new_cookie == OVS_BE64_MAX ? 0 : fm.new_cookie;
            pf->ofpacts = fm.ofpacts;
            pf->ofpacts_len = fm.ofpacts_len;
            minimatch_destroy(&fm.match);
        }
        free(line);
    }

    for (size_t i = 0; i < n; i++) {
        struct parsed_flow *pf = &parsed[i];
        if (error) {
            free(pf->full);     /* Nothing changes. */
        } else if (remove) {
            flows_remove__(flows, pf->table_id, pf->priority, pf->full);
            free(pf->full);
        } else {
            flows_add__(flows, pf->table_id, pf->priority, pf->full,
                        pf->is_conj, pf->conj_id, pf->cookie, pf->ofpacts,
                        pf->ofpacts_len);
        }
        free(pf->ofpacts);
    }
    free(parsed);
    return error;
}

char *
vfy_flows_parse(struct vfy_flows *flows, const char *text,
                const char *file_name)
{
    return parse_flows(flows, text, file_name, false);
}

char *
vfy_flows_parse_remove(struct vfy_flows *flows, const char *text,
                       const char *file_name)
{
    return parse_flows(flows, text, file_name, true);
}

/* The port map. */

struct vfy_portmap *
vfy_portmap_create(void)
{
    return xzalloc(sizeof(struct vfy_portmap));
}

/* Frees the tags of 'tags'. */
static void
free_tags(struct vfy_tag *tags, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(tags[i].network);
    }
    free(tags);
}

/* Frees what 'map' holds and empties it. */
static void
portmap_clear(struct vfy_portmap *map)
{
    for (size_t i = 0; i < map->n_vnics; i++) {
        free(map->vnics[i].network);
        free(map->vnics[i].name);
    }
    free(map->vnics);
    free_tags(map->vlans, map->n_vlans);
    free_tags(map->vnis, map->n_vnis);
    uint64_t version = map->version;
    memset(map, 0, sizeof *map);
    map->version = version + 1;
}

void
vfy_portmap_destroy(struct vfy_portmap *map)
{
    if (map) {
        portmap_clear(map);
        free(map);
    }
}

/* Returns the index in 'map''s vNICs of the vNIC on 'port', or where it
 * would go, and sets '*found' to whether it is there. */
static size_t
find_vnic_index(const struct vfy_portmap *map, ofp_port_t port, bool *found)
{
    uint16_t key = ofp_to_u16(port);
    size_t lo = 0, hi = map->n_vnics;

    /* Ports mostly come in ascending order: try the end first. */
    if (hi && ofp_to_u16(map->vnics[hi - 1].port) < key) {
        *found = false;
        return hi;
    }
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        uint16_t p = ofp_to_u16(map->vnics[mid].port);
        if (p == key) {
            *found = true;
            return mid;
        } else if (p < key) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    *found = false;
    return lo;
}

/* Adds or replaces the port 'port' of 'map': a vNIC of 'network', or a
 * port of no network if 'sealed'. */
static void
portmap_put(struct vfy_portmap *map, ofp_port_t port, const char *network,
            const char *name, bool sealed)
{
    bool found;
    size_t i = find_vnic_index(map, port, &found);
    struct vfy_vnic *v;

    if (found) {
        v = &map->vnics[i];
        free(v->network);
        free(v->name);
    } else {
        if (map->n_vnics >= map->allocated_vnics) {
            map->vnics = x2nrealloc(map->vnics, &map->allocated_vnics,
                                    sizeof *map->vnics);
        }
        v = &map->vnics[i];
        memmove(v + 1, v, (map->n_vnics - i) * sizeof *v);
        map->n_vnics++;
        v->port = port;
    }
    v->network = (sealed
                  ? xasprintf("(no network: port %"PRIu16")",
                              ofp_to_u16(port))
                  : xstrdup(network));
    v->name = xstrdup(name ? name : "");
    v->sealed = sealed;
    map->version++;
}

void
vfy_portmap_add_vnic(struct vfy_portmap *map, ofp_port_t port,
                     const char *network, const char *name)
{
    portmap_put(map, port, network, name, false);
}

void
vfy_portmap_add_sealed(struct vfy_portmap *map, ofp_port_t port,
                       const char *name)
{
    portmap_put(map, port, NULL, name, true);
}

bool
vfy_portmap_has_port(const struct vfy_portmap *map, ofp_port_t port)
{
    return vfy_portmap_find_vnic(map, port) != NULL;
}

void
vfy_portmap_remove_vnic(struct vfy_portmap *map, ofp_port_t port)
{
    bool found;
    size_t i = find_vnic_index(map, port, &found);

    if (found) {
        struct vfy_vnic *v = &map->vnics[i];
        free(v->network);
        free(v->name);
        memmove(v, v + 1, (map->n_vnics - i - 1) * sizeof *v);
        map->n_vnics--;
        map->version++;
    }
}

void
vfy_portmap_set_uplink(struct vfy_portmap *map, ofp_port_t port)
{
    map->has_uplink = true;
    map->uplink = port;
    map->version++;
}

/* Adds or replaces tag 'id' of 'network' in '*tags'. */
static void
add_tag(struct vfy_tag **tags, size_t *n, uint32_t id, const char *network)
{
    for (size_t i = 0; i < *n; i++) {
        if ((*tags)[i].id == id) {
            free((*tags)[i].network);
            (*tags)[i].network = xstrdup(network);
            return;
        }
    }
    *tags = xrealloc(*tags, (*n + 1) * sizeof **tags);
    (*tags)[*n].id = id;
    (*tags)[*n].network = xstrdup(network);
    (*n)++;
}

void
vfy_portmap_add_vlan(struct vfy_portmap *map, uint16_t vid,
                     const char *network)
{
    add_tag(&map->vlans, &map->n_vlans, vid, network);
    map->version++;
}

void
vfy_portmap_set_tunnel(struct vfy_portmap *map, ofp_port_t port)
{
    map->has_tunnel = true;
    map->tunnel = port;
    map->version++;
}

void
vfy_portmap_add_vni(struct vfy_portmap *map, uint32_t vni,
                    const char *network)
{
    add_tag(&map->vnis, &map->n_vnis, vni, network);
    map->version++;
}

/* Returns the vNIC on 'port', or NULL. */
const struct vfy_vnic *
vfy_portmap_find_vnic(const struct vfy_portmap *map, ofp_port_t port)
{
    bool found;
    size_t i = find_vnic_index(map, port, &found);

    return found ? &map->vnics[i] : NULL;
}

/* Returns true if 'a' and 'b', 'n' tags each, are the same, in order. */
bool
vfy_tags_equal(const struct vfy_tag *a, const struct vfy_tag *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (a[i].id != b[i].id || strcmp(a[i].network, b[i].network)) {
            return false;
        }
    }
    return true;
}

/* Returns true if 'a' and 'b' map every port, VLAN and VNI alike (tags
 * added in another order differ). */
bool
vfy_portmap_equal(const struct vfy_portmap *a, const struct vfy_portmap *b)
{
    if (a->n_vnics != b->n_vnics
        || a->has_uplink != b->has_uplink
        || (a->has_uplink && a->uplink != b->uplink)
        || a->has_tunnel != b->has_tunnel
        || (a->has_tunnel && a->tunnel != b->tunnel)
        || a->n_vlans != b->n_vlans || a->n_vnis != b->n_vnis
        || !vfy_tags_equal(a->vlans, b->vlans, a->n_vlans)
        || !vfy_tags_equal(a->vnis, b->vnis, a->n_vnis)) {
        return false;
    }
    for (size_t i = 0; i < a->n_vnics; i++) {
        const struct vfy_vnic *x = &a->vnics[i], *y = &b->vnics[i];
        if (x->port != y->port || x->sealed != y->sealed
            || strcmp(x->network, y->network) || strcmp(x->name, y->name)) {
            return false;
        }
    }
    return true;
}

/* Returns a copy of the 'n' tags of 'tags'. */
static struct vfy_tag *
clone_tags(const struct vfy_tag *tags, size_t n)
{
    struct vfy_tag *copy = xmemdup(tags, n * sizeof *tags);

    for (size_t i = 0; i < n; i++) {
        copy[i].network = xstrdup(tags[i].network);
    }
    return copy;
}

/* Returns a copy of 'map'. */
struct vfy_portmap *
vfy_portmap_clone(const struct vfy_portmap *map)
{
    struct vfy_portmap *copy = xmemdup(map, sizeof *map);

    copy->vnics = xmemdup(map->vnics, map->n_vnics * sizeof *map->vnics);
    copy->allocated_vnics = map->n_vnics;
    for (size_t i = 0; i < map->n_vnics; i++) {
        copy->vnics[i].network = xstrdup(map->vnics[i].network);
        copy->vnics[i].name = xstrdup(map->vnics[i].name);
    }
    copy->vlans = clone_tags(map->vlans, map->n_vlans);
    copy->vnis = clone_tags(map->vnis, map->n_vnis);
    return copy;
}

/* Returns the network of tag 'id' in 'tags', or NULL. */
static const char *
find_tag(const struct vfy_tag *tags, size_t n, uint32_t id)
{
    for (size_t i = 0; i < n; i++) {
        if (tags[i].id == id) {
            return tags[i].network;
        }
    }
    return NULL;
}

/* Returns the network of VLAN 'vid' on the uplink, or NULL. */
const char *
vfy_portmap_vlan_network(const struct vfy_portmap *map, uint32_t vid)
{
    return find_tag(map->vlans, map->n_vlans, vid);
}

/* Returns the network of VNI 'vni' on the tunnel, or NULL. */
const char *
vfy_portmap_vni_network(const struct vfy_portmap *map, uint32_t vni)
{
    return find_tag(map->vnis, map->n_vnis, vni);
}

/* Parses 's', the name of member 'what', as an integer in [min, max]. */
static char *
parse_number(const char *s, unsigned long long max, const char *file_name,
             const char *what, unsigned long long *value)
{
    char *end;

    errno = 0;
    *value = strtoull(s, &end, 0);
    if (!*s || *end || errno || *value > max || s[0] == '-') {
        return xasprintf("%s: %s: \"%s\" is not a number from 0 to %llu",
                         file_name, what, s, max);
    }
    return NULL;
}

/* Returns the network named by 'j' (member 'what'), or an error. */
static char *
parse_network(const struct json *j, const char *file_name, const char *what,
              const char **network)
{
    if (j->type != JSON_STRING || !strchr(json_string(j), '/')) {
        return xasprintf("%s: %s: expected a network name "
                         "\"TENANT/NETWORK\"", file_name, what);
    }
    *network = json_string(j);
    return NULL;
}

/* Reads an "uplink" or "tunnel" member 'j' into 'map'. */
static char *
parse_trunk(struct vfy_portmap *map, const struct json *j, bool uplink,
            const char *file_name)
{
    const char *name = uplink ? "uplink" : "tunnel";
    const char *tags_name = uplink ? "vlans" : "vnis";

    if (j->type != JSON_OBJECT) {
        return xasprintf("%s: %s: expected an object", file_name, name);
    }
    const struct json *port = shash_find_data(json_object(j), "port");
    if (!port || port->type != JSON_INTEGER || port->integer < 1
        || port->integer > 0xfeff) {
        return xasprintf("%s: %s.port: expected an ofport from 1 to 65279",
                         file_name, name);
    }
    const struct shash_node *node;
    SHASH_FOR_EACH (node, json_object(j)) {
        if (strcmp(node->name, "port") && strcmp(node->name, tags_name)) {
            return xasprintf("%s: %s.%s: unknown member", file_name, name,
                             node->name);
        }
    }
    if (uplink) {
        vfy_portmap_set_uplink(map, u16_to_ofp(port->integer));
    } else {
        vfy_portmap_set_tunnel(map, u16_to_ofp(port->integer));
    }

    const struct json *tags = shash_find_data(json_object(j), tags_name);
    if (!tags) {
        return NULL;
    }
    if (tags->type != JSON_OBJECT) {
        return xasprintf("%s: %s.%s: expected an object", file_name, name,
                         tags_name);
    }
    SHASH_FOR_EACH (node, json_object(tags)) {
        char *what = xasprintf("%s.%s.%s", name, tags_name, node->name);
        unsigned long long id;
        const char *network;
        char *error = parse_number(node->name, uplink ? 4095 : 0xffffff,
                                   file_name, what, &id);
        if (!error) {
            error = parse_network(node->data, file_name, what, &network);
        }
        free(what);
        if (error) {
            return error;
        }
        if (uplink) {
            vfy_portmap_add_vlan(map, id, network);
        } else {
            vfy_portmap_add_vni(map, id, network);
        }
    }
    return NULL;
}

/* Reads 'json' into the empty 'map'. */
static char *
portmap_from_json__(struct vfy_portmap *map, const struct json *json,
                    const char *file_name)
{
    if (json->type != JSON_OBJECT) {
        return xasprintf("%s: expected a JSON object", file_name);
    }
    const struct shash_node *node;
    SHASH_FOR_EACH (node, json_object(json)) {
        if (strcmp(node->name, "vnics") && strcmp(node->name, "uplink")
            && strcmp(node->name, "tunnel")) {
            return xasprintf("%s: %s: unknown member", file_name,
                             node->name);
        }
    }

    const struct json *vnics = shash_find_data(json_object(json), "vnics");
    if (!vnics || vnics->type != JSON_OBJECT) {
        return xasprintf("%s: vnics: expected an object of vNICs by ofport",
                         file_name);
    }
    SHASH_FOR_EACH (node, json_object(vnics)) {
        char *what = xasprintf("vnics.%s", node->name);
        unsigned long long port;
        char *error = parse_number(node->name, 0xfeff, file_name, what,
                                   &port);
        const struct json *v = node->data;
        const char *network = NULL;
        if (!error && !port) {
            error = xasprintf("%s: %s: ofport 0 is no port", file_name, what);
        }
        if (!error && v->type != JSON_OBJECT) {
            error = xasprintf("%s: %s: expected an object", file_name, what);
        }
        bool sealed = false;
        if (!error) {
            const struct json *net = shash_find_data(json_object(v),
                                                     "network");
            char *w2 = xasprintf("%s.network", what);
            if (net && net->type == JSON_NULL) {
                sealed = true;  /* A port of no network. */
            } else {
                error = (net ? parse_network(net, file_name, w2, &network)
                         : xasprintf("%s: %s: missing", file_name, w2));
            }
            free(w2);
        }
        const struct json *name = NULL;
        if (!error) {
            name = shash_find_data(json_object(v), "name");
            if (name && name->type != JSON_STRING) {
                error = xasprintf("%s: %s.name: expected a string",
                                  file_name, what);
            }
        }
        if (!error) {
            const struct shash_node *m;
            SHASH_FOR_EACH (m, json_object(v)) {
                if (strcmp(m->name, "network") && strcmp(m->name, "name")) {
                    error = xasprintf("%s: %s.%s: unknown member",
                                      file_name, what, m->name);
                    break;
                }
            }
        }
        free(what);
        if (error) {
            return error;
        }
        portmap_put(map, u16_to_ofp(port), network,
                    name ? json_string(name) : node->name, sealed);
    }

    const struct json *j = shash_find_data(json_object(json), "uplink");
    if (j) {
        char *error = parse_trunk(map, j, true, file_name);
        if (error) {
            return error;
        }
    }
    j = shash_find_data(json_object(json), "tunnel");
    if (j) {
        char *error = parse_trunk(map, j, false, file_name);
        if (error) {
            return error;
        }
    }
    if (map->has_uplink && vfy_portmap_find_vnic(map, map->uplink)) {
        return xasprintf("%s: uplink.port: port %"PRIu16" is also a vNIC",
                         file_name, ofp_to_u16(map->uplink));
    }
    if (map->has_tunnel && (vfy_portmap_find_vnic(map, map->tunnel)
                            || (map->has_uplink
                                && map->tunnel == map->uplink))) {
        return xasprintf("%s: tunnel.port: port %"PRIu16" is already used",
                         file_name, ofp_to_u16(map->tunnel));
    }
    return NULL;
}

/* Moves 'src''s contents into 'dst'. */
static void
portmap_move(struct vfy_portmap *dst, struct vfy_portmap *src)
{
    uint64_t version = dst->version;

    portmap_clear(dst);
    *dst = *src;
    dst->version = version + 1;
    memset(src, 0, sizeof *src);
}

char *
vfy_portmap_from_json(struct vfy_portmap *map, const struct json *json,
                      const char *file_name)
{
    struct vfy_portmap tmp;

    memset(&tmp, 0, sizeof tmp);
    char *error = portmap_from_json__(&tmp, json, file_name);
    if (error) {
        portmap_clear(&tmp);
        return error;
    }
    portmap_move(map, &tmp);
    return NULL;
}

/* Returns the JSON object of 'tags'. */
static struct json *
tags_to_json(const struct vfy_tag *tags, size_t n)
{
    struct json *j = json_object_create();

    for (size_t i = 0; i < n; i++) {
        char id[16];
        snprintf(id, sizeof id, "%"PRIu32, tags[i].id);
        json_object_put_string(j, id, tags[i].network);
    }
    return j;
}

struct json *
vfy_portmap_to_json(const struct vfy_portmap *map)
{
    struct json *j = json_object_create();
    struct json *vnics = json_object_create();

    for (size_t i = 0; i < map->n_vnics; i++) {
        const struct vfy_vnic *v = &map->vnics[i];
        struct json *o = json_object_create();
        char port[8];
        json_object_put(o, "network",
                        (v->sealed ? json_null_create()
                         : json_string_create(v->network)));
        json_object_put_string(o, "name", v->name);
        snprintf(port, sizeof port, "%"PRIu16, ofp_to_u16(v->port));
        json_object_put(vnics, port, o);
    }
    json_object_put(j, "vnics", vnics);
    if (map->has_uplink) {
        struct json *o = json_object_create();
        json_object_put(o, "port",
                        json_integer_create(ofp_to_u16(map->uplink)));
        json_object_put(o, "vlans", tags_to_json(map->vlans, map->n_vlans));
        json_object_put(j, "uplink", o);
    }
    if (map->has_tunnel) {
        struct json *o = json_object_create();
        json_object_put(o, "port",
                        json_integer_create(ofp_to_u16(map->tunnel)));
        json_object_put(o, "vnis", tags_to_json(map->vnis, map->n_vnis));
        json_object_put(j, "tunnel", o);
    }
    return j;
}

/* Reading files. */

/* Opens file 'file_name' for vfy_read_fd() into '*fdp'.  Returns NULL or an
 * error (then '*fdp' is -1).  Only a regular file of at most
 * VFY_FILE_MAX_BYTES is opened: a FIFO would block its reader until a
 * writer comes, and /dev/zero would fill it with memory.  Opening does not
 * block, so the controller's main loop opens, and its verifier thread
 * reads. */
char *
vfy_open_file(const char *file_name, int *fdp)
{
    struct stat st;

    *fdp = -1;
    int fd = open(file_name, O_RDONLY | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        return xasprintf("%s: %s", file_name, ovs_strerror(errno));
    }
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        close(fd);
        return xasprintf("%s: not a regular file", file_name);
    }
    if (st.st_size > VFY_FILE_MAX_BYTES) {
        close(fd);
        return xasprintf("%s: larger than %d bytes", file_name,
                         VFY_FILE_MAX_BYTES);
    }
    *fdp = fd;
    return NULL;
}

/* Reads the file that vfy_open_file() opened as 'fd' (named 'file_name')
 * whole into '*text', and closes 'fd'.  Returns NULL or an error (then
 * '*text' is NULL).  A file that grows past VFY_FILE_MAX_BYTES (a /proc
 * file has no size) is an error. */
char *
vfy_read_fd(int fd, const char *file_name, char **text)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    char buf[65536];
    size_t n;

    *text = NULL;
    FILE *f = fdopen(fd, "r");
    if (!f) {
        close(fd);
        return xasprintf("%s: %s", file_name, ovs_strerror(errno));
    }
    while (s.length <= VFY_FILE_MAX_BYTES
           && (n = fread(buf, 1, sizeof buf, f)) > 0) {
        ds_put_buffer(&s, buf, n);
    }
    if (s.length > VFY_FILE_MAX_BYTES) {
        fclose(f);
        ds_destroy(&s);
        return xasprintf("%s: larger than %d bytes", file_name,
                         VFY_FILE_MAX_BYTES);
    }
    bool failed = ferror(f);
    fclose(f);
    if (failed) {
        ds_destroy(&s);
        return xasprintf("%s: read error", file_name);
    }
    /* The text is parsed as a C string: whatever follows a NUL byte (a
     * leaking flow, say) would be ignored, and the verdict be given on
     * part of the file. */
    const char *nul = memchr(s.string, '\0', s.length);
    if (nul) {
        char *error = xasprintf("%s: a NUL byte at offset %"PRIuSIZE": not "
                                "a text file", file_name,
                                (size_t) (nul - s.string));
        ds_destroy(&s);
        return error;
    }
    *text = ds_steal_cstr(&s);
    return NULL;
}

/* Reads file 'file_name' whole into '*text': vfy_open_file(), then
 * vfy_read_fd().  Returns NULL or an error. */
char *
vfy_read_file(const char *file_name, char **text)
{
    int fd;
    char *error = vfy_open_file(file_name, &fd);

    *text = NULL;
    return error ? error : vfy_read_fd(fd, file_name, text);
}
