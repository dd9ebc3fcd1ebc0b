/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#include <config.h>
#include "ofproto-ext/vnic-stats.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "controller/metrics.h"
#include "controller/pipeline.h"
#include "hash.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "util.h"
#include "uuid.h"

/* The reading of one flow, kept to count its increments. */
struct flow_reading {
    struct hmap_node node;      /* In vnic_stats_table's 'flows'. */
    uint64_t cookie;            /* Its cookie. */
    uint8_t table_id;           /* Its table. */
    uint16_t priority;          /* Its priority. */
    uint32_t match_hash;        /* A hash of its match. */
    struct stats_counter packets;   /* Its packets. */
    struct stats_counter bytes;     /* Its bytes. */
    uint64_t seen_gen;          /* The last sample it was in. */
};

/* The reading of one port of the switch, kept whether a vNIC is bound to
 * it or not: a vNIC bound to a port counts what the port counted since
 * the sample before, not what it counted for the vNIC bound there before
 * (another tenant's, perhaps), and nothing of an interval at whose start
 * another vNIC had the port. */
struct port_reading {
    struct hmap_node node;      /* In vnic_stats_table's 'ports'. */
    int64_t ofport;             /* Its OpenFlow port. */
    struct stats_counter c[4];  /* Its rx and tx, packets and bytes. */
    uint64_t seen_gen;          /* The last sample it was in. */
    bool owned;                 /* A vNIC had it at that sample... */
    struct uuid owner_binding;  /* ...with this Interface row... */
    struct uuid owner_port;     /* ...and this Tenant DB Port... */
    uint16_t owner_zone;        /* ...and this port key. */
};

/* Returns how much 'c' grew with 'reading', and counts it: the whole
 * reading the first time (what the switch counted before the controller
 * looked), and if the reading went down (its flow or port was made anew
 * and counts from 0 again). */
uint64_t
stats_counter_update(struct stats_counter *c, uint64_t reading)
{
    uint64_t delta = (!c->seen || reading < c->last ? reading
                      : reading - c->last);

    c->total += delta;
    c->last = reading;
    c->seen = true;
    return delta;
}

/* Initializes 't', empty. */
void
vnic_stats_table_init(struct vnic_stats_table *t)
{
    hmap_init(&t->vnics);
    hmap_init(&t->flows);
    hmap_init(&t->ports);
    t->gen = 0;
    t->last_sample = 0;
}

/* Frees 'v'. */
static void
vnic_stats_free(struct vnic_stats *v)
{
    struct rule_stats *r;

    HMAP_FOR_EACH_POP (r, node, &v->rules) {
        free(r);
    }
    hmap_destroy(&v->rules);
    free(v->iface_id);
    free(v->tenant);
    free(v->network);
    free(v->port);
    free(v);
}

/* Frees what 't' holds. */
void
vnic_stats_table_destroy(struct vnic_stats_table *t)
{
    struct vnic_stats *v;
    struct flow_reading *f;

    HMAP_FOR_EACH_POP (v, node, &t->vnics) {
        vnic_stats_free(v);
    }
    hmap_destroy(&t->vnics);
    HMAP_FOR_EACH_POP (f, node, &t->flows) {
        free(f);
    }
    hmap_destroy(&t->flows);
    struct port_reading *p;
    HMAP_FOR_EACH_POP (p, node, &t->ports) {
        free(p);
    }
    hmap_destroy(&t->ports);
}

/* Returns the counters of vNIC 'iface_id', or NULL. */
struct vnic_stats *
vnic_stats_find(const struct vnic_stats_table *t, const char *iface_id)
{
    struct vnic_stats *v;

    HMAP_FOR_EACH_WITH_HASH (v, node, hash_string(iface_id, 0), &t->vnics) {
        if (!strcmp(v->iface_id, iface_id)) {
            return v;
        }
    }
    return NULL;
}

/* Returns the counters of 'info''s vNIC, made anew (from 0) if it was not
 * there or is bound anew (another Interface row, Port row, port key or
 * ofport). */
static struct vnic_stats *
vnic_stats_get(struct vnic_stats_table *t, const struct stats_vnic_info *info)
{
    struct vnic_stats *v = vnic_stats_find(t, info->iface_id);

    if (v && (v->zone != info->zone || v->ofport != info->ofport
              || !uuid_equals(&v->binding, &info->binding)
              || !uuid_equals(&v->port_row, &info->port_row))) {
        hmap_remove(&t->vnics, &v->node);
        vnic_stats_free(v);
        v = NULL;
    }
    if (!v) {
        v = xzalloc(sizeof *v);
        v->iface_id = xstrdup(info->iface_id);
        v->binding = info->binding;
        v->port_row = info->port_row;
        v->zone = info->zone;
        v->ofport = info->ofport;
        hmap_init(&v->rules);
        hmap_insert(&t->vnics, &v->node, hash_string(v->iface_id, 0));
    }
    free(v->tenant);
    free(v->network);
    free(v->port);
    v->tenant = xstrdup(info->tenant ? info->tenant : "");
    v->network = xstrdup(info->network ? info->network : "");
    v->port = xstrdup(info->port ? info->port : info->iface_id);
    v->n_conns = info->n_conns;
    v->c[VC_CONN_CAP] = info->n_cap;
    v->seen_gen = t->gen;
    return v;
}

/* Returns the counters of rule 'key' at 'v', created if needed. */
static struct rule_stats *
rule_stats_get(struct vnic_stats *v, uint32_t key)
{
    struct rule_stats *r;

    HMAP_FOR_EACH_WITH_HASH (r, node, hash_int(key, 0), &v->rules) {
        if (r->key == key) {
            return r;
        }
    }
    r = xzalloc(sizeof *r);
    r->key = key;
    hmap_insert(&v->rules, &r->node, hash_int(key, 0));
    return r;
}

/* Returns the hash of the identity of flow 'f'. */
static uint32_t
flow_identity_hash(uint64_t cookie, uint8_t table_id, uint16_t priority,
                   uint32_t match_hash)
{
    uint32_t hash = hash_uint64(cookie);

    hash = hash_add(hash, table_id);
    hash = hash_add(hash, priority);
    return hash_finish(hash_add(hash, match_hash), 12);
}

/* Counts flow reading 'f' in 't': returns the growth of its packets and
 * bytes in '*packets' and '*bytes'. */
static void
flow_reading_update(struct vnic_stats_table *t, const struct stats_flow *f,
                    uint64_t *packets, uint64_t *bytes)
{
    uint32_t hash = flow_identity_hash(f->cookie, f->table_id, f->priority,
                                       f->match_hash);
    struct flow_reading *r;

    HMAP_FOR_EACH_WITH_HASH (r, node, hash, &t->flows) {
        if (r->cookie == f->cookie && r->table_id == f->table_id
            && r->priority == f->priority
            && r->match_hash == f->match_hash) {
            goto found;
        }
    }
    r = xzalloc(sizeof *r);
    r->cookie = f->cookie;
    r->table_id = f->table_id;
    r->priority = f->priority;
    r->match_hash = f->match_hash;
    hmap_insert(&t->flows, &r->node, hash);

found:
    r->seen_gen = t->gen;
    *packets = stats_counter_update(&r->packets, f->packets);
    *bytes = (f->bytes == UINT64_MAX ? 0
              : stats_counter_update(&r->bytes, f->bytes));
}

/* Returns the vNIC counter that 'f', a flow with the vNIC's own cookie,
 * counts, or VC_N if none. */
static enum vnic_counter
vnic_flow_counter(const struct stats_flow *f)
{
    if (f->table_id == PL_T_PORT_SECURITY && f->drops) {
        return VC_DROP_SPOOF;
    } else if (f->table_id == PL_T_EGRESS_VERDICT && f->priority == 210) {
        return VC_DROP_EGRESS;
    } else if (f->table_id == PL_T_INGRESS_VERDICT && f->priority == 210) {
        return VC_DROP_INGRESS;
    }
    return VC_N;
}

/* Returns true if 'r', as last read, was another vNIC's than 'v' (NULL:
 * none's now). */
static bool
port_changed_owner(const struct port_reading *r, const struct vnic_stats *v)
{
    return r->owned && (!v || !uuid_equals(&r->owner_binding, &v->binding)
                        || !uuid_equals(&r->owner_port, &v->port_row)
                        || r->owner_zone != v->zone);
}

/* Counts port reading 'p' in 't', bound to vNIC 'v' (NULL: to none):
 * stores the growth of its rx and tx packets and bytes (0 where the switch
 * does not count) in 'growth'.  Growth over an interval at whose start
 * another vNIC had the port is nobody's: that vNIC's traffic and 'v''s
 * are mixed in it (the binding changed between the two samples), and
 * neither one's counters take it, unless the port was made anew since
 * (its reading went down), when all of it came after. */
static void
port_reading_update(struct vnic_stats_table *t, const struct stats_port *p,
                    const struct vnic_stats *v, uint64_t growth[4])
{
    const uint64_t readings[4] = {
        p->rx_packets, p->rx_bytes, p->tx_packets, p->tx_bytes,
    };
    uint32_t hash = hash_uint64(p->ofport);
    struct port_reading *r;

    HMAP_FOR_EACH_WITH_HASH (r, node, hash, &t->ports) {
        if (r->ofport == p->ofport) {
            goto found;
        }
    }
    r = xzalloc(sizeof *r);
    r->ofport = p->ofport;
    hmap_insert(&t->ports, &r->node, hash);

found:
    r->seen_gen = t->gen;
    bool mixed = port_changed_owner(r, v);
    for (int i = 0; i < 4; i++) {
        bool remade = (readings[i] != UINT64_MAX && r->c[i].seen
                       && readings[i] < r->c[i].last);
        growth[i] = (readings[i] == UINT64_MAX ? 0
                     : stats_counter_update(&r->c[i], readings[i]));
        if (mixed && !remade) {
            growth[i] = 0;
        }
    }
    r->owned = v != NULL;
    if (v) {
        r->owner_binding = v->binding;
        r->owner_port = v->port_row;
        r->owner_zone = v->zone;
    }
}

/* Computes 'v''s rates from its counters at 'now'. */
static void
update_rates(struct vnic_stats *v, long long int now)
{
    static const enum vnic_counter which[4] = {
        VC_SENT_PACKETS, VC_SENT_BYTES, VC_RECV_PACKETS, VC_RECV_BYTES,
    };

    for (int i = 0; i < 4; i++) {
        if (v->rate_time && now > v->rate_time) {
            v->rate[i] = ((v->c[which[i]] - v->rate_base[i]) * 1000.0
                          / (now - v->rate_time));
        }
        v->rate_base[i] = v->c[which[i]];
    }
    v->rate_time = now;
}

/* Takes one sample: the bound vNICs 'vnics', and the readings of the
 * switch's flows 'flows' (those whose cookie is of kind VNIC or
 * VNIC_RULE) and ports 'ports', at time 'now' (ms).  vNICs no longer bound
 * are forgotten, and so are flows no longer there. */
void
vnic_stats_table_update(struct vnic_stats_table *t,
                        const struct stats_vnic_info *vnics, size_t n_vnics,
                        const struct stats_flow *flows, size_t n_flows,
                        const struct stats_port *ports, size_t n_ports,
                        long long int now)
{
    struct hmap by_zone = HMAP_INITIALIZER(&by_zone);
    struct hmap by_ofport = HMAP_INITIALIZER(&by_ofport);

    t->gen++;
    t->last_sample = now;

    /* Indexes of this sample's vNICs by zone and by ofport. */
    struct vnic_ref {
        struct hmap_node node;  /* In 'by_zone' or 'by_ofport'. */
        struct vnic_stats *v;   /* The vNIC. */
    };
    struct vnic_ref *zrefs = xmalloc(MAX(n_vnics, 1) * sizeof *zrefs);
    struct vnic_ref *prefs = xmalloc(MAX(n_vnics, 1) * sizeof *prefs);
    for (size_t i = 0; i < n_vnics; i++) {
        struct vnic_stats *v = vnic_stats_get(t, &vnics[i]);
        zrefs[i].v = prefs[i].v = v;
        hmap_insert(&by_zone, &zrefs[i].node, hash_int(v->zone, 0));
        hmap_insert(&by_ofport, &prefs[i].node, hash_int(v->ofport, 0));
    }

    for (size_t i = 0; i < n_flows; i++) {
        const struct stats_flow *f = &flows[i];
        unsigned int kind = f->cookie >> 56;
        uint32_t zone = f->cookie & 0xffffffff;
        struct vnic_ref *ref;
        struct vnic_stats *v = NULL;

        HMAP_FOR_EACH_WITH_HASH (ref, node, hash_int(zone, 0), &by_zone) {
            if (ref->v->zone == zone) {
                v = ref->v;
                break;
            }
        }
        if (!v) {
            continue;
        }
        if (kind == PL_COOKIE_VNIC) {
            enum vnic_counter c = vnic_flow_counter(f);
            if (c != VC_N) {
                uint64_t packets, bytes;
                flow_reading_update(t, f, &packets, &bytes);
                v->c[c] += packets;
            }
        } else if (kind == PL_COOKIE_VNIC_RULE) {
            struct rule_stats *r = rule_stats_get(
                v, (f->cookie >> 32) & 0xffffff);
            uint64_t packets, bytes;
            r->seen_gen = t->gen;
            flow_reading_update(t, f, &packets, &bytes);
            r->packets += packets;
            r->bytes += bytes;
            if (f->priority == 200) {
                r->conns += packets;
                v->c[VC_NEW_CONNS] += packets;
            }
        }
    }

    for (size_t i = 0; i < n_ports; i++) {
        const struct stats_port *p = &ports[i];
        struct vnic_stats *v = NULL;
        struct vnic_ref *ref;
        uint64_t growth[4];

        HMAP_FOR_EACH_WITH_HASH (ref, node, hash_int(p->ofport, 0),
                                 &by_ofport) {
            if (ref->v->ofport == p->ofport) {
                v = ref->v;
                break;
            }
        }
        port_reading_update(t, p, v, growth);
        if (v) {
            /* The switch's rx is what the VM sent. */
            v->c[VC_SENT_PACKETS] += growth[0];
            v->c[VC_SENT_BYTES] += growth[1];
            v->c[VC_RECV_PACKETS] += growth[2];
            v->c[VC_RECV_BYTES] += growth[3];
        }
    }
    hmap_destroy(&by_zone);
    hmap_destroy(&by_ofport);
    free(zrefs);
    free(prefs);

    /* Rates; what is no longer bound, or no longer on the switch, goes. */
    struct vnic_stats *v;
    HMAP_FOR_EACH_SAFE (v, node, &t->vnics) {
        if (v->seen_gen != t->gen) {
            hmap_remove(&t->vnics, &v->node);
            vnic_stats_free(v);
            continue;
        }
        update_rates(v, now);
        /* A rule deleted, or no longer this vNIC's, goes with its flows
         * (when rules are counted at all). */
        struct rule_stats *rs;
        HMAP_FOR_EACH_SAFE (rs, node, &v->rules) {
            if (rs->seen_gen != t->gen) {
                hmap_remove(&v->rules, &rs->node);
                free(rs);
            }
        }
    }
    struct flow_reading *r;
    HMAP_FOR_EACH_SAFE (r, node, &t->flows) {
        if (r->seen_gen != t->gen) {
            hmap_remove(&t->flows, &r->node);
            free(r);
        }
    }
    struct port_reading *pr;
    HMAP_FOR_EACH_SAFE (pr, node, &t->ports) {
        if (pr->seen_gen != t->gen) {
            hmap_remove(&t->ports, &pr->node);
            free(pr);
        }
    }
}

/* Compares two vNICs by tenant, then Port name, for qsort(). */
static int
compare_vnics(const void *a_, const void *b_)
{
    const struct vnic_stats *const *a = a_, *const *b = b_;
    int cmp = strcmp((*a)->tenant, (*b)->tenant);

    return cmp ? cmp : strcmp((*a)->port, (*b)->port);
}

/* Returns the vNICs of 't' sorted by tenant and Port, in an array that the
 * caller frees. */
const struct vnic_stats **
vnic_stats_sorted(const struct vnic_stats_table *t)
{
    const struct vnic_stats **a = xmalloc(MAX(hmap_count(&t->vnics), 1)
                                          * sizeof *a);
    const struct vnic_stats *v;
    size_t n = 0;

    HMAP_FOR_EACH (v, node, &t->vnics) {
        a[n++] = v;
    }
    qsort(a, n, sizeof *a, compare_vnics);
    return a;
}

/* Compares 'a' and 'b' as text, but runs of digits by their value, so that
 * "acme/web#2" comes before "acme/web#10". */
static int
compare_naturally(const char *a, const char *b)
{
    while (*a && *b) {
        if (isdigit((unsigned char) *a) && isdigit((unsigned char) *b)) {
            char *end_a, *end_b;
            unsigned long long int x = strtoull(a, &end_a, 10);
            unsigned long long int y = strtoull(b, &end_b, 10);
            if (x != y) {
                return x < y ? -1 : 1;
            }
            a = end_a;
            b = end_b;
        } else if (*a != *b) {
            return (unsigned char) *a < (unsigned char) *b ? -1 : 1;
        } else {
            a++;
            b++;
        }
    }
    return !*a && !*b ? 0 : !*a ? -1 : 1;
}

/* Orders named rules by name (naturally), then key, for qsort(). */
static int
compare_named_rules(const void *a_, const void *b_)
{
    const struct vnic_named_rule *a = a_, *b = b_;
    int cmp = compare_naturally(a->name, b->name);

    return (cmp ? cmp
            : a->rule->key < b->rule->key ? -1 : a->rule->key > b->rule->key);
}

/* Appends rule 'key''s name to 's', or its key if 'namer' does not know
 * it. */
static void
put_rule_name(uint32_t key, struct ds *s, vnic_stats_rule_namer *namer,
              void *aux)
{
    if (!namer || !namer(key, s, aux)) {
        ds_put_format(s, "rule-%06"PRIx32, key);
    }
}

/* Returns the rules of 'v' with their names from 'namer' (with 'aux'; their
 * keys if it is NULL), sorted by name, then key, in an array of
 * hmap_count(&v->rules) that the caller frees with
 * vnic_stats_named_rules_free(): a rule's key is a hash, its name says
 * where it is in its group. */
struct vnic_named_rule *
vnic_stats_named_rules(const struct vnic_stats *v,
                       vnic_stats_rule_namer *namer, void *aux)
{
    size_t n = hmap_count(&v->rules);
    struct vnic_named_rule *named = xmalloc(MAX(n, 1) * sizeof *named);
    const struct rule_stats *r;
    size_t i = 0;

    HMAP_FOR_EACH (r, node, &v->rules) {
        struct ds name = DS_EMPTY_INITIALIZER;
        put_rule_name(r->key, &name, namer, aux);
        named[i].rule = r;
        named[i++].name = ds_steal_cstr(&name);
    }
    qsort(named, n, sizeof *named, compare_named_rules);
    return named;
}

/* Frees 'named', of 'n' rules, from vnic_stats_named_rules(). */
void
vnic_stats_named_rules_free(struct vnic_named_rule *named, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(named[i].name);
    }
    free(named);
}

/* Appends to 's' a table of every vNIC's counters. */
void
vnic_stats_format_table(const struct vnic_stats_table *t, struct ds *s)
{
    const struct vnic_stats **a = vnic_stats_sorted(t);
    size_t n = hmap_count(&t->vnics);

    ds_put_format(s, "%-16s %-10s %-10s %10s %12s %10s %12s %8s %8s %8s "
                  "%8s %8s\n", "PORT", "TENANT", "NETWORK", "SENT-PKTS",
                  "SENT-BYTES", "RECV-PKTS", "RECV-BYTES", "SPOOFED",
                  "EG-DENY", "IN-DENY", "NEW-CONN", "CT-CAP");
    for (size_t i = 0; i < n; i++) {
        const struct vnic_stats *v = a[i];
        ds_put_format(s, "%-16s %-10s %-10s %10"PRIu64" %12"PRIu64
                      " %10"PRIu64" %12"PRIu64" %8"PRIu64" %8"PRIu64
                      " %8"PRIu64" %8"PRIu64" %8"PRIu64"\n", v->port,
                      v->tenant, v->network, v->c[VC_SENT_PACKETS],
                      v->c[VC_SENT_BYTES], v->c[VC_RECV_PACKETS],
                      v->c[VC_RECV_BYTES], v->c[VC_DROP_SPOOF],
                      v->c[VC_DROP_EGRESS], v->c[VC_DROP_INGRESS],
                      v->c[VC_NEW_CONNS], v->c[VC_CONN_CAP]);
    }
    free(a);
}

/* Appends to 's' everything known of 'v', its rules included. */
void
vnic_stats_format_vnic(const struct vnic_stats *v, struct ds *s,
                       vnic_stats_rule_namer *namer, void *aux)
{
    ds_put_format(s, "vNIC %s (tenant %s, network %s, iface-id %s, zone "
                  "%"PRIu16", ofport %"PRId64")\n", v->port, v->tenant,
                  v->network, v->iface_id, v->zone, v->ofport);
    ds_put_format(s, "  sent:     %"PRIu64" packets, %"PRIu64" bytes "
                  "(%.1f packets/s, %.1f bytes/s)\n", v->c[VC_SENT_PACKETS],
                  v->c[VC_SENT_BYTES], v->rate[0], v->rate[1]);
    ds_put_format(s, "  received: %"PRIu64" packets, %"PRIu64" bytes "
                  "(%.1f packets/s, %.1f bytes/s)\n", v->c[VC_RECV_PACKETS],
                  v->c[VC_RECV_BYTES], v->rate[2], v->rate[3]);
    ds_put_format(s, "  dropped:  %"PRIu64" by port security, %"PRIu64
                  " by the egress firewall, %"PRIu64" by the ingress "
                  "firewall\n", v->c[VC_DROP_SPOOF], v->c[VC_DROP_EGRESS],
                  v->c[VC_DROP_INGRESS]);
    ds_put_format(s, "  connections: %"PRIu64" new allowed, %"PRIu32
                  " tracked now, connection cap reached %"PRIu64
                  " times\n", v->c[VC_NEW_CONNS], v->n_conns,
                  v->c[VC_CONN_CAP]);

    struct vnic_named_rule *rules = vnic_stats_named_rules(v, namer, aux);
    size_t n = hmap_count(&v->rules);
    if (n) {
        ds_put_cstr(s, "  rules:\n");
    }
    for (size_t i = 0; i < n; i++) {
        const struct rule_stats *r = rules[i].rule;
        ds_put_format(s, "    %s: %"PRIu64" connections, %"PRIu64" packets, "
                      "%"PRIu64" bytes\n", rules[i].name, r->conns,
                      r->packets, r->bytes);
    }
    vnic_stats_named_rules_free(rules, n);
}

/* Returns the counters of 'v' as JSON. */
static struct json *
vnic_to_json(const struct vnic_stats *v, vnic_stats_rule_namer *namer,
             void *aux)
{
    struct json *o = json_object_create();
    struct json *dir;

    json_object_put_string(o, "port", v->port);
    json_object_put_string(o, "tenant", v->tenant);
    json_object_put_string(o, "network", v->network);
    json_object_put_string(o, "iface_id", v->iface_id);
    json_object_put(o, "zone", json_integer_create(v->zone));
    json_object_put(o, "ofport", json_integer_create(v->ofport));
    for (int recv = 0; recv < 2; recv++) {
        dir = json_object_create();
        json_object_put(dir, "packets", json_integer_create(
                            v->c[recv ? VC_RECV_PACKETS : VC_SENT_PACKETS]));
        json_object_put(dir, "bytes", json_integer_create(
                            v->c[recv ? VC_RECV_BYTES : VC_SENT_BYTES]));
        json_object_put(dir, "packets_per_second",
                        json_real_create(v->rate[recv * 2]));
        json_object_put(dir, "bytes_per_second",
                        json_real_create(v->rate[recv * 2 + 1]));
        json_object_put(o, recv ? "received" : "sent", dir);
    }
    dir = json_object_create();
    json_object_put(dir, "port_security",
                    json_integer_create(v->c[VC_DROP_SPOOF]));
    json_object_put(dir, "egress_firewall",
                    json_integer_create(v->c[VC_DROP_EGRESS]));
    json_object_put(dir, "ingress_firewall",
                    json_integer_create(v->c[VC_DROP_INGRESS]));
    json_object_put(o, "dropped", dir);
    json_object_put(o, "new_connections",
                    json_integer_create(v->c[VC_NEW_CONNS]));
    json_object_put(o, "tracked_connections",
                    json_integer_create(v->n_conns));
    json_object_put(o, "connection_cap_reached",
                    json_integer_create(v->c[VC_CONN_CAP]));

    struct json *rules = json_array_create_empty();
    struct vnic_named_rule *a = vnic_stats_named_rules(v, namer, aux);
    for (size_t i = 0; i < hmap_count(&v->rules); i++) {
        struct json *r = json_object_create();
        json_object_put_string(r, "rule", a[i].name);
        json_object_put(r, "key", json_integer_create(a[i].rule->key));
        json_object_put(r, "connections",
                        json_integer_create(a[i].rule->conns));
        json_object_put(r, "packets", json_integer_create(a[i].rule->packets));
        json_object_put(r, "bytes", json_integer_create(a[i].rule->bytes));
        json_array_add(rules, r);
    }
    vnic_stats_named_rules_free(a, hmap_count(&v->rules));
    json_object_put(o, "rules", rules);
    return o;
}

/* Returns the counters of vNIC 'iface_id' (NULL: of every vNIC, in an
 * array) as JSON, or NULL if 'iface_id' has none. */
struct json *
vnic_stats_to_json(const struct vnic_stats_table *t, const char *iface_id,
                   vnic_stats_rule_namer *namer, void *aux)
{
    if (iface_id) {
        const struct vnic_stats *v = vnic_stats_find(t, iface_id);
        return v ? vnic_to_json(v, namer, aux) : NULL;
    }

    const struct vnic_stats **a = vnic_stats_sorted(t);
    struct json *array = json_array_create_empty();
    for (size_t i = 0; i < hmap_count(&t->vnics); i++) {
        json_array_add(array, vnic_to_json(a[i], namer, aux));
    }
    free(a);
    return array;
}

/* Appends to 's' the labels that name 'v', without the closing brace. */
static void
put_vnic_labels(struct ds *s, const struct vnic_stats *v)
{
    metrics_put_label(s, true, "tenant", v->tenant);
    metrics_put_label(s, false, "network", v->network);
    metrics_put_label(s, false, "port", v->port);
}

/* Appends one sample of metric 'name' for 'v' to 's', with one more label
 * 'label' (NULL: none) of value 'lvalue' and a second one 'label2' (NULL:
 * none) of value 'lvalue2'. */
static void
put_sample(struct ds *s, const char *name, const struct vnic_stats *v,
           const char *label, const char *lvalue, const char *label2,
           const char *lvalue2, uint64_t value)
{
    ds_put_cstr(s, name);
    put_vnic_labels(s, v);
    if (label) {
        metrics_put_label(s, false, label, lvalue);
    }
    if (label2) {
        metrics_put_label(s, false, label2, lvalue2);
    }
    ds_put_format(s, "} %"PRIu64"\n", value);
}

/* Appends the samples of 'v''s rules to 's' for metric 'name': 'what' 0
 * for their connections, 1 for their packets, 2 for their bytes. */
static void
put_rule_samples(struct ds *s, const char *name, const struct vnic_stats *v,
                 int what, vnic_stats_rule_namer *namer, void *aux)
{
    struct vnic_named_rule *rules = vnic_stats_named_rules(v, namer, aux);

    for (size_t j = 0; j < hmap_count(&v->rules); j++) {
        const struct rule_stats *r = rules[j].rule;
        put_sample(s, name, v, "rule", rules[j].name, NULL, NULL,
                   what == 0 ? r->conns : what == 1 ? r->packets : r->bytes);
    }
    vnic_stats_named_rules_free(rules, hmap_count(&v->rules));
}

/* The metric families of the vNICs' counters. */
enum vnic_metric {
    VM_PACKETS, VM_BYTES, VM_DROPPED, VM_CONNS, VM_TRACKED, VM_CAP,
    VM_PPS, VM_BPS, VM_RULE_CONNS, VM_RULE_PACKETS, VM_RULE_BYTES,
};

/* Appends to 's' the counters of every vNIC in the Prometheus text
 * exposition format, one family after the other. */
void
vnic_stats_format_prometheus(const struct vnic_stats_table *t, struct ds *s,
                             vnic_stats_rule_namer *namer, void *aux)
{
    static const struct {
        enum vnic_metric id;
        const char *name;
        const char *type;
        const char *help;
    } metrics[] = {
        { VM_PACKETS, "bulkhead_vnic_packets_total", "counter",
          "Packets a vNIC sent (egress) and received (ingress)." },
        { VM_BYTES, "bulkhead_vnic_bytes_total", "counter",
          "Bytes a vNIC sent (egress) and received (ingress)." },
        { VM_DROPPED, "bulkhead_vnic_dropped_packets_total", "counter",
          "Packets of a vNIC dropped, by reason and direction." },
        { VM_CONNS, "bulkhead_vnic_connections_total", "counter",
          "New connections a vNIC's firewall rules let in." },
        { VM_TRACKED, "bulkhead_vnic_tracked_connections", "gauge",
          "Conntrack entries of a vNIC's zone at the last check." },
        { VM_CAP, "bulkhead_vnic_connection_cap_reached_total", "counter",
          "Times a vNIC was found at its connection cap." },
        { VM_PPS, "bulkhead_vnic_packets_per_second", "gauge",
          "Packets per second of a vNIC over the last interval." },
        { VM_BPS, "bulkhead_vnic_bytes_per_second", "gauge",
          "Bytes per second of a vNIC over the last interval." },
        { VM_RULE_CONNS, "bulkhead_rule_connections_total", "counter",
          "Connections a firewall rule let in at a vNIC." },
        { VM_RULE_PACKETS, "bulkhead_rule_packets_total", "counter",
          "Packets of the connections a rule let in at a vNIC, both "
          "directions." },
        { VM_RULE_BYTES, "bulkhead_rule_bytes_total", "counter",
          "Bytes of the connections a rule let in at a vNIC, both "
          "directions." },
    };
    const struct vnic_stats **a = vnic_stats_sorted(t);
    size_t n = hmap_count(&t->vnics);

    for (size_t m = 0; m < ARRAY_SIZE(metrics); m++) {
        const char *name = metrics[m].name;

        metrics_put_family(s, name, metrics[m].type, metrics[m].help);
        for (size_t i = 0; i < n; i++) {
            const struct vnic_stats *v = a[i];

            switch (metrics[m].id) {
            case VM_PACKETS:
            case VM_BYTES: {
                bool bytes = metrics[m].id == VM_BYTES;
                put_sample(s, name, v, "direction", "egress", NULL, NULL,
                           v->c[bytes ? VC_SENT_BYTES : VC_SENT_PACKETS]);
                put_sample(s, name, v, "direction", "ingress", NULL, NULL,
                           v->c[bytes ? VC_RECV_BYTES : VC_RECV_PACKETS]);
                break;
            }
            case VM_DROPPED:
                put_sample(s, name, v, "reason", "port_security",
                           "direction", "egress", v->c[VC_DROP_SPOOF]);
                put_sample(s, name, v, "reason", "firewall", "direction",
                           "egress", v->c[VC_DROP_EGRESS]);
                put_sample(s, name, v, "reason", "firewall", "direction",
                           "ingress", v->c[VC_DROP_INGRESS]);
                break;
            case VM_CONNS:
                put_sample(s, name, v, NULL, NULL, NULL, NULL,
                           v->c[VC_NEW_CONNS]);
                break;
            case VM_TRACKED:
                put_sample(s, name, v, NULL, NULL, NULL, NULL, v->n_conns);
                break;
            case VM_CAP:
                put_sample(s, name, v, NULL, NULL, NULL, NULL,
                           v->c[VC_CONN_CAP]);
                break;
            case VM_PPS:
            case VM_BPS:
                for (int recv = 0; recv < 2; recv++) {
                    ds_put_cstr(s, name);
                    put_vnic_labels(s, v);
                    metrics_put_label(s, false, "direction",
                                      recv ? "ingress" : "egress");
                    ds_put_format(s, "} %.3f\n",
                                  v->rate[recv * 2
                                          + (metrics[m].id == VM_BPS)]);
                }
                break;
            case VM_RULE_CONNS:
            case VM_RULE_PACKETS:
            case VM_RULE_BYTES:
                put_rule_samples(s, name, v,
                                 metrics[m].id - VM_RULE_CONNS, namer, aux);
                break;
            }
        }
    }
    free(a);
}

/* The keys of the Tenant DB's Port.statistics map, and what they count. */
static const struct {
    const char *key;
    enum vnic_counter c;
} db_keys[] = {
    { "tx_packets", VC_SENT_PACKETS },
    { "tx_bytes", VC_SENT_BYTES },
    { "rx_packets", VC_RECV_PACKETS },
    { "rx_bytes", VC_RECV_BYTES },
    { "dropped_port_security", VC_DROP_SPOOF },
    { "dropped_egress_firewall", VC_DROP_EGRESS },
    { "dropped_ingress_firewall", VC_DROP_INGRESS },
    { "new_connections", VC_NEW_CONNS },
    { "connection_cap_reached", VC_CONN_CAP },
};

/* Stores in 'keys' and 'values' (arrays of VNIC_STATS_DB_N entries; the
 * keys are static strings) the counters of 'v' as the Tenant DB's
 * Port.statistics map has them, sorted by key as OVSDB keeps them. */
void
vnic_stats_format_db(const struct vnic_stats *v, const char **keys,
                     int64_t *values)
{
    BUILD_ASSERT(ARRAY_SIZE(db_keys) == VNIC_STATS_DB_N);
    size_t order[ARRAY_SIZE(db_keys)];

    for (size_t i = 0; i < ARRAY_SIZE(db_keys); i++) {
        size_t j = i;
        while (j > 0 && strcmp(db_keys[order[j - 1]].key, db_keys[i].key)
                        > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    for (size_t i = 0; i < ARRAY_SIZE(db_keys); i++) {
        keys[i] = db_keys[order[i]].key;
        values[i] = MIN(v->c[db_keys[order[i]].c], INT64_MAX);
    }
}
