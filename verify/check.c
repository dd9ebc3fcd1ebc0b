/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* The isolation checker (verify.h): header-space traversal of the flow
 * table from every vNIC, verdicts and counterexamples, and incremental
 * re-checks.  Documentation/verify.md describes the model. */

#include <config.h>

#include "verify/verify-private.h"

#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "bitmap.h"
#include "dp-packet.h"
#include "flow.h"
#include "hash.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/match.h"
#include "openvswitch/meta-flow.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofp-port.h"
#include "packets.h"
#include "util.h"

/* OVS stops a packet's translation beyond this resubmit depth. */
#define MAX_DEPTH 64

/* Most exec_actions() calls nested on the checker thread's stack (see
 * exec_actions()). */
#define MAX_NESTING 128

/* Conntrack recirculations followed for one packet at most. */
#define MAX_RECIRCS 16

/* Table lookups per input port before the rest is deemed opaque. */
#define MAX_LOOKUPS 2000000

/* Splits allowed to one emptiness check: at an exit (a possible leak),
 * and at every flow on the way (where running out only means following
 * a set that may be empty, which is safe). */
#define SPLIT_BUDGET 256
#define FLOW_SPLIT_BUDGET 16

/* Conjunctions whose clauses give more cubes than this shadow nothing
 * below them (their exact extent is not computed). */
#define MAX_CONJ_CUBES 8

/* Counterexamples kept per input port. */
#define MAX_LEAKS_PER_PORT 32

/* Entries a table gets in a run before the memo judges whether they are
 * found again often enough to be worth keeping, besides twice the number
 * of inputs of the largest network: a lookup that fans out to every vNIC
 * of a network (an L2 table) makes as many entries below it before the
 * next one can find them again. */
#define MEMO_TRIAL 64

/* Steps of a path kept for a report. */
#define MAX_STEPS 256

/* Index fields, in order of preference among equally selective ones. */
static const enum mf_field_id key_ids[VFY_N_KEYS] = {
    MFF_IN_PORT, MFF_REG7, MFF_REG8, MFF_REG6, MFF_REG14, MFF_REG12,
    MFF_ETH_DST, MFF_REG13, MFF_REG5, MFF_METADATA, MFF_TUN_ID, MFF_REG11,
};

/* Where an index field lies in struct flow. */
struct key_info {
    const struct mf_field *mf;  /* The field. */
    size_t n;                   /* Number of words (1 or 2). */
    size_t w[2];                /* Their indexes. */
    uint64_t mask[2];           /* The field's bits in each. */
};

/* The words of struct flow that a field occupies. */
struct field_words {
    uint8_t n;                  /* Their number, or FIELD_ANYWHERE. */
    uint8_t idx[4];             /* Their indexes. */
};

/* A field whose words are not known (variable length): any word. */
#define FIELD_ANYWHERE UINT8_MAX

/* Bits of struct flow that the checker needs to know about. */
struct layout {
    struct key_info keys[VFY_N_KEYS]; /* Index fields. */
    struct hs_cube hdr;         /* Bits of the packet's own headers. */
    struct hs_cube ct_free;     /* What conntrack sets (ct_* but zone). */
    struct hs_cube nat_free;    /* What NAT may rewrite. */
    struct hs_cube initial;     /* A vNIC's packet, in_port aside. */
    uint8_t hdr_words[HS_N];    /* The nonzero words of 'hdr'... */
    size_t n_hdr_words;         /* ...and their number. */
    struct field_words fields[MFF_N_IDS]; /* Per field, its words. */
};

static struct layout layout;

/* Returns the index field numbered 'key'. */
const struct mf_field *
vfy_key_field(int key)
{
    return key < VFY_N_KEYS ? mf_from_id(key_ids[key]) : NULL;
}

/* Adds field 'id''s bits to 'c->m'. */
static void
add_field_bits(struct hs_cube *c, enum mf_field_id id)
{
    struct hs_cube bits;

    hs_field_bits(mf_from_id(id), &bits);
    for (size_t i = 0; i < HS_N; i++) {
        c->m[i] |= bits.m[i];
    }
}

/* Computes 'layout' once. */
static void
layout_init(void)
{
    static bool done;
    if (done) {
        return;
    }
    done = true;

    for (int k = 0; k < VFY_N_KEYS; k++) {
        struct key_info *ki = &layout.keys[k];
        struct hs_cube bits;

        ki->mf = mf_from_id(key_ids[k]);
        hs_field_bits(ki->mf, &bits);
        for (size_t i = 0; i < HS_N; i++) {
            if (bits.m[i]) {
                ovs_assert(ki->n < 2);
                ki->w[ki->n] = i;
                ki->mask[ki->n] = bits.m[i];
                ki->n++;
            }
        }
    }

    static const enum mf_field_id hdr_ids[] = {
        MFF_ETH_SRC, MFF_ETH_DST, MFF_ETH_TYPE, MFF_VLAN_TCI,
        MFF_IPV4_SRC, MFF_IPV4_DST, MFF_IPV6_SRC, MFF_IPV6_DST,
        MFF_IPV6_LABEL, MFF_IP_PROTO, MFF_IP_DSCP, MFF_IP_ECN, MFF_IP_TTL,
        MFF_IP_FRAG, MFF_ARP_SHA, MFF_ARP_THA, MFF_TCP_SRC, MFF_TCP_DST,
        MFF_TCP_FLAGS, MFF_ND_TARGET,
    };
    for (size_t i = 0; i < ARRAY_SIZE(hdr_ids); i++) {
        add_field_bits(&layout.hdr, hdr_ids[i]);
    }
    for (size_t i = 0; i < HS_N; i++) {
        if (layout.hdr.m[i]) {
            layout.hdr_words[layout.n_hdr_words++] = i;
        }
    }
    for (size_t id = 0; id < MFF_N_IDS; id++) {
        struct field_words *fw = &layout.fields[id];
        const struct mf_field *mf = mf_from_id(id);
        struct hs_cube bits;
        if (mf->variable_len) {
            fw->n = FIELD_ANYWHERE;
            continue;
        }
        hs_field_bits(mf, &bits);
        for (size_t i = 0; i < HS_N; i++) {
            if (bits.m[i]) {
                ovs_assert(fw->n < ARRAY_SIZE(fw->idx));
                fw->idx[fw->n++] = i;
            }
        }
    }

    static const enum mf_field_id ct_ids[] = {
        MFF_CT_STATE, MFF_CT_MARK, MFF_CT_LABEL, MFF_CT_NW_PROTO,
        MFF_CT_NW_SRC, MFF_CT_NW_DST, MFF_CT_IPV6_SRC, MFF_CT_IPV6_DST,
        MFF_CT_TP_SRC, MFF_CT_TP_DST,
    };
    for (size_t i = 0; i < ARRAY_SIZE(ct_ids); i++) {
        add_field_bits(&layout.ct_free, ct_ids[i]);
    }

    static const enum mf_field_id nat_ids[] = {
        MFF_IPV4_SRC, MFF_IPV4_DST, MFF_IPV6_SRC, MFF_IPV6_DST,
        MFF_TCP_SRC, MFF_TCP_DST,
    };
    for (size_t i = 0; i < ARRAY_SIZE(nat_ids); i++) {
        add_field_bits(&layout.nat_free, nat_ids[i]);
    }

    /* A packet from a vNIC: everything before the Ethernet header
     * (tunnel, metadata, registers, conntrack, recirculation...) is zero,
     * but what the datapath or the host may set on its own. */
    memset(&layout.initial, 0, sizeof layout.initial);
    size_t l2 = offsetof(struct flow, dl_dst) / sizeof(uint64_t);
    for (size_t i = 0; i < l2; i++) {
        layout.initial.m[i] = UINT64_MAX;
    }
    struct hs_cube loose;
    memset(&loose, 0, sizeof loose);
    add_field_bits(&loose, MFF_SKB_PRIORITY);
    add_field_bits(&loose, MFF_PKT_MARK);
    add_field_bits(&loose, MFF_DP_HASH);
    add_field_bits(&loose, MFF_ACTSET_OUTPUT);
    for (size_t i = 0; i < HS_N; i++) {
        layout.initial.m[i] &= ~loose.m[i];
    }
}

/* Returns true if 'c' fixes every bit of key 'k', and then its value. */
static bool
cube_key(const struct hs_cube *c, int k, uint64_t val[2])
{
    const struct key_info *ki = &layout.keys[k];

    val[0] = val[1] = 0;
    for (size_t i = 0; i < ki->n; i++) {
        if ((c->m[ki->w[i]] & ki->mask[i]) != ki->mask[i]) {
            return false;
        }
        val[i] = c->v[ki->w[i]] & ki->mask[i];
    }
    return true;
}

/* Finds word 'w' in 's'; returns its position or -1. */
static int
sparse_find(const struct hs_sparse *s, size_t w)
{
    for (uint32_t i = 0; i < s->n; i++) {
        if (s->idx[i] == w) {
            return i;
        }
        if (s->idx[i] > w) {
            break;
        }
    }
    return -1;
}

/* Stores in 'val' and 'mask' the bits of key 'k' that 's' fixes. */
static void
sparse_key(const struct hs_sparse *s, int k, uint64_t val[2],
           uint64_t mask[2])
{
    const struct key_info *ki = &layout.keys[k];

    val[0] = val[1] = mask[0] = mask[1] = 0;
    for (size_t i = 0; i < ki->n; i++) {
        int j = sparse_find(s, ki->w[i]);
        if (j >= 0) {
            mask[i] = HS_SM(s, j) & ki->mask[i];
            val[i] = HS_SV(s, j) & mask[i];
        }
    }
}

/* Returns true if 's' fixes every bit of key 'k', and then its value. */
static bool
sparse_key_exact(const struct hs_sparse *s, int k, uint64_t val[2])
{
    const struct key_info *ki = &layout.keys[k];
    uint64_t mask[2];

    sparse_key(s, k, val, mask);
    for (size_t i = 0; i < ki->n; i++) {
        if (mask[i] != ki->mask[i]) {
            return false;
        }
    }
    return true;
}

/* The table index. */

/* Flows whose index field has one value. */
struct vfy_bucket {
    struct hmap_node node;      /* In vfy_table 'buckets'. */
    uint64_t val[2];            /* The value. */
    struct vfy_flow **flows;    /* Its flows, by priority. */
    size_t n;                   /* Number of them. */
    size_t allocated;           /* Allocated size of 'flows'. */
};

/* One clause of a conjunction. */
struct vfy_clause {
    const struct vfy_flow *flow; /* The clause's flow. */
    uint8_t dim;                /* Its dimension, from 0. */
    uint8_t n_dims;             /* Number of dimensions. */
};

/* The clauses of one conjunction id in one table. */
struct vfy_conj {
    struct hmap_node node;      /* In vfy_table 'conjs'. */
    uint32_t id;                /* Conjunction id. */
    struct vfy_clause *clauses; /* Its clauses. */
    size_t n;                   /* Number of them. */
    size_t allocated;           /* Allocated size of 'clauses'. */
    uint64_t mask[HS_N];        /* Bits its clauses fix, and those of the
                                 * flows that match it. */
    uint8_t words[HS_N];        /* The nonzero words of 'mask'... */
    size_t n_words;             /* ...and their number. */
    bool dirty;                 /* Clauses or bits changed: 'words' and
                                 * 'hulls' are to be computed again. */
    struct hs_sparse **hulls;   /* Per dimension, the hull of its clauses
                                 * (NULL: none): a space that misses one
                                 * meets no clause of that dimension. */
    size_t n_hulls;             /* Number of dimensions (0 if the clauses
                                 * disagree on it: no hulls then). */
    int min_prio, max_prio;     /* Lowest and highest priority of its
                                 * clauses. */
};

/* Appends 'f' to '*flows'. */
static void
push_flow(struct vfy_flow ***flows, size_t *n, size_t *allocated,
          struct vfy_flow *f)
{
    if (*n >= *allocated) {
        *flows = x2nrealloc(*flows, allocated, sizeof **flows);
    }
    (*flows)[(*n)++] = f;
}

/* Returns the position of the first of the 'n' flows of 'flows' (by
 * decreasing priority) whose priority is lower than 'priority'. */
static size_t
priority_end(struct vfy_flow *const *flows, size_t n, uint16_t priority)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (flows[mid]->priority >= priority) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/* Inserts 'f' into '*flows', kept by decreasing priority, after the flows
 * of its priority. */
static void
insert_flow(struct vfy_flow ***flows, size_t *n, size_t *allocated,
            struct vfy_flow *f)
{
    size_t pos = priority_end(*flows, *n, f->priority);

    push_flow(flows, n, allocated, f);
    memmove(&(*flows)[pos + 1], &(*flows)[pos],
            (*n - 1 - pos) * sizeof **flows);
    (*flows)[pos] = f;
}

/* Removes 'f' from the 'n' flows of 'flows' (by decreasing priority), where
 * it must be. */
static void
erase_flow(struct vfy_flow **flows, size_t *n, const struct vfy_flow *f)
{
    size_t i = priority_end(flows, *n, f->priority);

    while (i-- > 0 && flows[i] != f) {
        ovs_assert(flows[i]->priority == f->priority);
    }
    ovs_assert(i < *n);
    memmove(&flows[i], &flows[i + 1], (*n - i - 1) * sizeof *flows);
    (*n)--;
}

/* Compares flows by decreasing priority. */
static int
compare_priority(const void *a_, const void *b_)
{
    const struct vfy_flow *const *a = a_, *const *b = b_;

    return (int) (*b)->priority - (int) (*a)->priority;
}

/* Frees the hulls of 'cj'. */
static void
conj_free_hulls(struct vfy_conj *cj)
{
    for (size_t i = 0; i < cj->n_hulls; i++) {
        free(cj->hulls[i]);
    }
    free(cj->hulls);
    cj->hulls = NULL;
    cj->n_hulls = 0;
}

/* Frees the index of 't'. */
static void
table_clear(struct vfy_table *t)
{
    struct vfy_bucket *b;
    HMAP_FOR_EACH_POP (b, node, &t->buckets) {
        free(b->flows);
        free(b);
    }
    struct vfy_conj *cj;
    HMAP_FOR_EACH_POP (cj, node, &t->conjs) {
        conj_free_hulls(cj);
        free(cj->clauses);
        free(cj);
    }
    free(t->wild);
    free(t->all);
    t->wild = t->all = NULL;
    t->n_wild = t->n_all = t->allocated_wild = t->allocated_all = 0;
    t->n_effect = 0;
}

/* Frees every table index of 'flows' (verify.c calls it). */
void
vfy_tables_clear(struct vfy_flows *flows)
{
    for (size_t i = 0; i < ARRAY_SIZE(flows->tables); i++) {
        table_clear(&flows->tables[i]);
    }
}

/* Compares uint32_t values. */
static int
compare_u32(const void *a_, const void *b_)
{
    const uint32_t *a = a_, *b = b_;

    return *a < *b ? -1 : *a > *b;
}

/* Picks the index field of 't': the one with most distinct exact values. */
static int
choose_key(struct vfy_flow **all, size_t n)
{
    uint32_t *hashes = xmalloc((n ? n : 1) * sizeof *hashes);
    size_t best_count = 0;
    int best = VFY_N_KEYS;

    for (int k = 0; k < VFY_N_KEYS; k++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            uint64_t val[2];
            if (sparse_key_exact(all[i]->match, k, val)) {
                hashes[m++] = hash_2words(hash_uint64(val[0]),
                                          hash_uint64(val[1]));
            }
        }
        qsort(hashes, m, sizeof *hashes, compare_u32);
        size_t distinct = 0;
        for (size_t i = 0; i < m; i++) {
            distinct += !i || hashes[i] != hashes[i - 1];
        }
        if (distinct > best_count) {
            best_count = distinct;
            best = k;
        }
    }
    free(hashes);
    return best_count > 1 ? best : VFY_N_KEYS;
}

/* Stores in 'idx' the indexes of the nonzero words of 'm' and returns
 * their number. */
static size_t
nonzero_words(const uint64_t m[HS_N], uint8_t idx[HS_N])
{
    size_t n = 0;

    for (size_t i = 0; i < HS_N; i++) {
        if (m[i]) {
            idx[n++] = i;
        }
    }
    return n;
}

static const struct vfy_conj *find_conj(const struct vfy_table *,
                                        uint32_t id);
static struct hs_sparse *clause_hull(const struct vfy_clause *const *,
                                     size_t n);

/* Computes the hull of each dimension of 'cj''s clauses. */
static void
conj_hulls(struct vfy_conj *cj)
{
    const struct vfy_clause **cls = xmalloc((cj->n ? cj->n : 1)
                                            * sizeof *cls);

    /* Every clause must give the same number of dimensions, so that a
     * conjunction flow of any priority looks at all of them. */
    conj_free_hulls(cj);
    cj->n_hulls = cj->n ? cj->clauses[0].n_dims : 0;
    cj->min_prio = INT_MAX;
    cj->max_prio = INT_MIN;
    for (size_t i = 0; i < cj->n; i++) {
        cj->min_prio = MIN(cj->min_prio, cj->clauses[i].flow->priority);
        cj->max_prio = MAX(cj->max_prio, cj->clauses[i].flow->priority);
        if (cj->clauses[i].n_dims != cj->n_hulls
            || cj->clauses[i].dim >= cj->n_hulls) {
            cj->n_hulls = 0;
        }
    }
    cj->hulls = xcalloc(MAX(cj->n_hulls, 1), sizeof *cj->hulls);
    for (size_t d = 0; d < cj->n_hulls; d++) {
        size_t n = 0;
        for (size_t i = 0; i < cj->n; i++) {
            if (cj->clauses[i].dim == d) {
                cls[n++] = &cj->clauses[i];
            }
        }
        cj->hulls[d] = n ? clause_hull(cls, n) : NULL;
    }
    free(cls);
}

/* Adds the bits that 'm' fixes to those of 'cj'. */
static void
conj_add_mask(struct vfy_conj *cj, const struct hs_sparse *m)
{
    for (size_t i = 0; i < m->n; i++) {
        cj->mask[m->idx[i]] |= HS_SM(m, i);
    }
    cj->dirty = true;
}

/* Returns conjunction 'id' of 't', created (with the bits of the flows
 * that match it, if 'scan') if it has none. */
static struct vfy_conj *
get_conj(struct vfy_table *t, uint32_t id, bool scan)
{
    struct vfy_conj *cj = CONST_CAST(struct vfy_conj *, find_conj(t, id));

    if (!cj) {
        cj = xzalloc(sizeof *cj);
        cj->id = id;
        hmap_insert(&t->conjs, &cj->node, hash_int(id, 0));
        for (size_t i = 0; scan && i < t->n_all; i++) {
            const struct vfy_flow *g = t->all[i];
            if (g->is_conj && g->conj_id == id) {
                conj_add_mask(cj, g->match);
            }
        }
    }
    return cj;
}

/* Adds clause flow 'f' to the conjunctions of 't' it names ('scan': see
 * get_conj()). */
static void
add_clauses(struct vfy_table *t, const struct vfy_flow *f, bool scan)
{
    const struct ofpact *a;

    OFPACT_FOR_EACH (a, f->ofpacts, f->ofpacts_len) {
        if (a->type != OFPACT_CONJUNCTION) {
            continue;           /* A note. */
        }
        const struct ofpact_conjunction *oc = ofpact_get_CONJUNCTION(a);
        struct vfy_conj *cj = get_conj(t, oc->id, scan);
        if (cj->n >= cj->allocated) {
            cj->clauses = x2nrealloc(cj->clauses, &cj->allocated,
                                     sizeof *cj->clauses);
        }
        struct vfy_clause *cl = &cj->clauses[cj->n++];
        cl->flow = f;
        cl->dim = oc->clause;
        cl->n_dims = oc->n_clauses;
        conj_add_mask(cj, f->match);
    }
}

/* Removes clause flow 'f' from the conjunctions of 't' it names; a
 * conjunction left without clauses goes.  (The bits of a conjunction stay:
 * more bits only make its cache finer.) */
static void
remove_clauses(struct vfy_table *t, const struct vfy_flow *f)
{
    const struct ofpact *a;

    OFPACT_FOR_EACH (a, f->ofpacts, f->ofpacts_len) {
        if (a->type != OFPACT_CONJUNCTION) {
            continue;           /* A note. */
        }
        const struct ofpact_conjunction *oc = ofpact_get_CONJUNCTION(a);
        struct vfy_conj *cj = CONST_CAST(struct vfy_conj *,
                                         find_conj(t, oc->id));
        size_t i = 0;
        while (cj && i < cj->n && cj->clauses[i].flow != f) {
            i++;
        }
        ovs_assert(cj && i < cj->n);
        cj->clauses[i] = cj->clauses[--cj->n];
        cj->dirty = true;
        if (!cj->n) {
            hmap_remove(&t->conjs, &cj->node);
            conj_free_hulls(cj);
            free(cj->clauses);
            free(cj);
        }
    }
}

/* Computes again what depends on the clauses of the conjunctions of 't'
 * that changed. */
static void
refresh_conjs(struct vfy_table *t)
{
    struct vfy_conj *cj;

    HMAP_FOR_EACH (cj, node, &t->conjs) {
        if (cj->dirty) {
            cj->dirty = false;
            cj->n_words = nonzero_words(cj->mask, cj->words);
            conj_hulls(cj);
        }
    }
}

/* Returns the bucket of 't' for the key's value 'val', created if
 * 'create', or NULL. */
static struct vfy_bucket *
find_bucket(struct vfy_table *t, const uint64_t val[2], bool create)
{
    uint32_t hash = hash_2words(hash_uint64(val[0]), hash_uint64(val[1]));
    struct vfy_bucket *b;

    HMAP_FOR_EACH_WITH_HASH (b, node, hash, &t->buckets) {
        if (b->val[0] == val[0] && b->val[1] == val[1]) {
            return b;
        }
    }
    if (!create) {
        return NULL;
    }
    b = xzalloc(sizeof *b);
    b->val[0] = val[0];
    b->val[1] = val[1];
    hmap_insert(&t->buckets, &b->node, hash);
    return b;
}

/* Adds ordinary flow 'f' to the index of 't', whose key is chosen. */
static void
index_add(struct vfy_table *t, struct vfy_flow *f)
{
    uint64_t val[2];

    insert_flow(&t->all, &t->n_all, &t->allocated_all, f);
    t->n_effect += !f->no_effect;
    if (f->is_conj) {
        struct vfy_conj *cj = CONST_CAST(struct vfy_conj *,
                                         find_conj(t, f->conj_id));
        if (cj) {
            conj_add_mask(cj, f->match);
        }
    }
    if (t->key == VFY_N_KEYS || !sparse_key_exact(f->match, t->key, val)) {
        insert_flow(&t->wild, &t->n_wild, &t->allocated_wild, f);
    } else {
        struct vfy_bucket *b = find_bucket(t, val, true);
        insert_flow(&b->flows, &b->n, &b->allocated, f);
    }
}

/* Removes ordinary flow 'f' from the index of 't'. */
static void
index_remove(struct vfy_table *t, struct vfy_flow *f)
{
    uint64_t val[2];

    erase_flow(t->all, &t->n_all, f);
    t->n_effect -= !f->no_effect;
    if (t->key == VFY_N_KEYS || !sparse_key_exact(f->match, t->key, val)) {
        erase_flow(t->wild, &t->n_wild, f);
    } else {
        struct vfy_bucket *b = find_bucket(t, val, false);
        ovs_assert(b);
        erase_flow(b->flows, &b->n, f);
        if (!b->n) {
            hmap_remove(&t->buckets, &b->node);
            free(b->flows);
            free(b);
        }
    }
}

/* Builds the index of 't' from its flows: the ordinary ones, 'all' (by
 * decreasing priority), and the clauses, already in its conjunctions.
 * With 'rekey', or if it has none, chooses its key. */
static void
index_build(struct vfy_table *t, bool rekey)
{
    struct vfy_flow **all = t->all;
    size_t n_all = t->n_all;

    if (rekey || t->key == VFY_N_KEYS) {
        t->key = choose_key(all, n_all);
    }
    if (n_all) {
        qsort(all, n_all, sizeof *all, compare_priority);
    }
    t->all = NULL;
    t->n_all = t->allocated_all = 0;
    t->n_effect = 0;
    struct vfy_conj *cj;
    HMAP_FOR_EACH (cj, node, &t->conjs) {
        cj->dirty = true;
    }
    /* Inserting at the end of the sorted lists costs no move. */
    for (size_t j = 0; j < n_all; j++) {
        index_add(t, all[j]);
    }
    free(all);
    refresh_conjs(t);
}

/* Indexes again, from every flow, the tables of 'flows' marked in
 * 'rebuild'; with 'rekey', chooses their index field again. */
static void
index_rebuild(struct vfy_flows *flows, const bool rebuild[256], bool rekey)
{
    struct vfy_flow *f;
    bool any = false;

    for (size_t i = 0; i < ARRAY_SIZE(flows->tables); i++) {
        if (rebuild[i]) {
            table_clear(&flows->tables[i]);
            any = true;
        }
    }
    if (!any) {
        return;
    }
    HMAP_FOR_EACH (f, node, &flows->flows) {
        struct vfy_table *t = &flows->tables[f->table_id];
        if (!rebuild[f->table_id]) {
            continue;
        }
        if (f->is_clause) {
            add_clauses(t, f, false);
        } else {
            push_flow(&t->all, &t->n_all, &t->allocated_all, f);
        }
    }
    for (size_t i = 0; i < ARRAY_SIZE(flows->tables); i++) {
        if (rebuild[i]) {
            index_build(&flows->tables[i], rekey);
        }
    }
}

/* Applies change 'c' to the index of its table. */
static void
index_apply(struct vfy_table *t, const struct vfy_change *c)
{
    struct vfy_flow *f = c->flow;

    if (f->is_clause) {
        if (c->added) {
            add_clauses(t, f, true);
        } else {
            remove_clauses(t, f);
        }
    } else if (c->added) {
        index_add(t, f);
    } else {
        index_remove(t, f);
    }
}

/* Brings the index of every changed table of 'flows' up to date: by its
 * changed flows, or anew if they are many (or it has no index field yet);
 * with 'rekey', every table anew, choosing its index field again. */
static void
index_tables(struct vfy_flows *flows, bool rekey)
{
    size_t n_changes[256];
    bool rebuild[256];

    memset(n_changes, 0, sizeof n_changes);
    for (size_t i = 0; !rekey && i < flows->n_changes; i++) {
        n_changes[flows->changes[i].table_id]++;
    }
    for (size_t i = 0; i < ARRAY_SIZE(flows->tables); i++) {
        const struct vfy_table *t = &flows->tables[i];
        rebuild[i] = rekey || (t->dirty
                               && (t->key == VFY_N_KEYS
                                   || n_changes[i] > 64 + t->n_all / 8));
    }
    for (size_t i = 0; !rekey && i < flows->n_changes; i++) {
        const struct vfy_change *c = &flows->changes[i];
        if (!rebuild[c->table_id]) {
            index_apply(&flows->tables[c->table_id], c);
        }
    }
    index_rebuild(flows, rebuild, rekey);
    for (size_t i = 0; i < ARRAY_SIZE(flows->tables); i++) {
        struct vfy_table *t = &flows->tables[i];
        if (t->dirty || rebuild[i]) {
            refresh_conjs(t);
            t->no_effect = !t->n_effect;
            t->dirty = false;
        }
    }
}

/* Returns the clauses of conjunction 'id' in 't', or NULL. */
static const struct vfy_conj *
find_conj(const struct vfy_table *t, uint32_t id)
{
    const struct vfy_conj *cj;

    HMAP_FOR_EACH_WITH_HASH (cj, node, hash_int(id, 0), &t->conjs) {
        if (cj->id == id) {
            return cj;
        }
    }
    return NULL;
}

/* The memory of a run's memo: allocated by moving a pointer, freed all at
 * once when the run ends. */

/* A block of an arena. */
struct arena_chunk {
    struct arena_chunk *next;   /* The block allocated before. */
    uint64_t data[];            /* Its memory. */
};

/* An arena. */
struct arena {
    struct arena_chunk *chunks; /* Its blocks, the newest first. */
    char *next;                 /* The newest block's free memory... */
    size_t left;                /* ...and its size. */
};

/* Size of an arena's block, unless an allocation needs more. */
#define ARENA_CHUNK (256 * 1024)

/* Returns 'size' bytes of zeros from 'a', aligned for any of the memo's
 * structures. */
static void *
arena_zalloc(struct arena *a, size_t size)
{
    size = ROUND_UP(MAX(size, 1), 8);
    if (size > a->left) {
        size_t n = MAX(size, ARENA_CHUNK);
        struct arena_chunk *c = xmalloc(sizeof *c + n);
        c->next = a->chunks;
        a->chunks = c;
        a->next = (char *) c->data;
        a->left = n;
    }
    void *p = a->next;
    a->next += size;
    a->left -= size;
    return memset(p, 0, size);
}

/* Returns a copy of the 'size' bytes at 'p' from 'a'. */
static void *
arena_memdup(struct arena *a, const void *p, size_t size)
{
    return memcpy(arena_zalloc(a, size), p, size);
}

/* Makes room in '*array', from 'a', for one more of its 'n' elements of
 * 'elem_size' bytes ('*allocated' of them fit). */
static void
arena_reserve(struct arena *a, void **array, size_t n, size_t *allocated,
              size_t elem_size)
{
    if (n >= *allocated) {
        *allocated = MAX(4, 2 * *allocated);
        void *bigger = arena_zalloc(a, *allocated * elem_size);
        if (n) {
            memcpy(bigger, *array, n * elem_size);
        }
        *array = bigger;
    }
}

/* Frees everything allocated from 'a'. */
static void
arena_clear(struct arena *a)
{
    while (a->chunks) {
        struct arena_chunk *c = a->chunks;
        a->chunks = c->next;
        free(c);
    }
    a->next = NULL;
    a->left = 0;
}

/* Lookup records, for incremental checks. */

/* What lookups of a table looked like, projected on two fields (or, in
 * vfy_checker 'exit_recs', a port that exits were judged on). */
struct rec {
    struct hmap_node node;      /* In rec_set 'recs'. */
    bool exact[2];              /* Whether each field was fixed. */
    uint64_t val[2][2];         /* Its value, if so. */
    unsigned long *ports;       /* Input ports (by index) that looked. */
    uint64_t stamp;             /* Serial of the last memo entry that
                                 * listed it. */
};

/* The lookup records of one table. */
struct rec_set {
    int keys[2];                /* Projection fields (VFY_N_KEYS: none). */
    struct hmap recs;           /* struct rec by projection. */
};

/* A packet's way through the table. */

/* One step of a path. */
struct step {
    uint8_t table;              /* Table. */
    bool is_ct;                 /* A conntrack recirculation, not a flow. */
    uint16_t priority;          /* Flow's priority. */
    ovs_be64 cookie;            /* Flow's cookie. */
    uint16_t zone;              /* is_ct: the zone, if known. */
    bool zone_known;            /* is_ct: whether 'zone' is known. */
    uint8_t ct_v, ct_m;         /* Not is_ct: the ct_state that the path
                                 * required once past the flow (value and
                                 * mask). */
};

/* A counterexample. */
struct leak {
    char *packet;               /* The input packet, ovs-ofctl syntax. */
    char *bytes;                /* The same packet's bytes, in hex. */
    char *exit;                 /* Where it leaves. */
    char *exit_network;         /* Network reached, or NULL. */
    ofp_port_t exit_port;       /* Port it leaves on (OFPP_NONE: opaque). */
    char *ct_note;              /* "only if conntrack says ...", or NULL. */
    bool inexact;               /* Witness not proven (split budget). */
    struct step *steps;         /* Flows on the path. */
    size_t n_steps;             /* Number of them. */
    uint64_t key;               /* For deduplication. */
};

/* What an input is. */
enum input_kind {
    IN_VNIC,                    /* A vNIC: anything it sends. */
    IN_VLAN,                    /* The uplink: frames with one VLAN tag. */
    IN_VNI,                     /* The tunnel: frames with one VNI. */
};

/* One input and its verdict. */
struct input {
    enum input_kind kind;       /* What it is. */
    uint32_t tag;               /* IN_VLAN: the VID; IN_VNI: the VNI. */
    ofp_port_t port;            /* Its ofport. */
    char *network;              /* Its network (a port of no network's
                                 * label: struct vfy_vnic). */
    bool sealed;                /* A port of no network. */
    size_t net_id;              /* Its network's number in this run. */
    char *name;                 /* In reports: "vNIC web1", "uplink VLAN
                                 * 101", "tunnel VNI 5001". */
    struct leak *leaks;         /* Counterexamples. */
    size_t n_leaks;             /* Number of them. */
    bool truncated;             /* More leaks than kept. */
};

/* The checker. */
struct vfy_checker {
    bool ran;                   /* Has run at least once. */
    bool last_full;             /* The last run was a full one. */
    struct vfy_portmap *map;    /* A copy of the last run's map. */
    struct input *inputs;       /* Input ports. */
    size_t n_inputs;            /* Number of them. */
    struct rec_set recs[256];   /* Lookup records per table. */
    struct hmap exit_recs;      /* struct rec by port ('val[0][0]'): the
                                 * ports that exits were judged on
                                 * (OFPP_ANY: every port of the map). */
    size_t n_flows;             /* Flows in the table at the last run. */
    size_t n_followed;          /* Ports followed by the last run. */
    struct vfy_live *live;      /* Live bits per table (this run). */
    struct vfy_live_state *live_state; /* Tables' summaries for them. */
    bool live_no_effect[256];   /* Per table, whether it was without
                                 * effect when its summary was made... */
    size_t live_removed[256];   /* ...and flows removed since (still in
                                 * the summary). */
    uint8_t live_words[256][HS_N]; /* Per table, the nonzero words of its
                                 * live bits... */
    size_t n_live_words[256];   /* ...and their number. */
    uint32_t free_regs[256];    /* Per table, the registers it reads only
                                 * by exact tests (a bit per register). */
    struct hmap memo;           /* struct memo_entry (this run). */
    struct hmap conj_memo;      /* struct conj_memo (this run). */
    struct arena arena;         /* The memo entries' memory (this run). */
    struct memo_entry **done;   /* Entries, in the order completed. */
    size_t n_done;              /* Number of them. */
    size_t allocated_done;      /* Allocated size of 'done'. */
    uint64_t serial;            /* Serial of the last entry made. */
    uint32_t memo_trial;        /* MEMO_TRIAL and the largest network's
                                 * inputs, twice. */
    uint32_t memo_made[256];    /* Entries made per table (this run). */
    uint32_t memo_hits[256];    /* Entries found again per table. */
};

/* An exit recorded in a memo entry. */
struct mexit {
    ofp_port_t port;            /* The port (OFPP_NONE: opaque). */
    struct hs_sparse *c;        /* Trunks: the set that leaves... */
    struct hs_sparse **subs;    /* ...minus these... */
    size_t n_subs;              /* ...(number of them). */
};

/* A memo entry: what a lookup of 'table' with nothing to return to does
 * with the space 'key' minus 'subs' (Documentation/verify.md, "Cost"):
 * its exits, and those of the memoized lookups it made ('kids').  It and
 * its arrays but 'exits' are in the checker's arena. */
struct memo_entry {
    struct hmap_node node;      /* In vfy_checker 'memo'. */
    uint8_t table;              /* Table looked up. */
    int depth;                  /* Resubmit depth. */
    int n_recircs;              /* Conntrack recirculations nested. */
    uint64_t *key;              /* The space (a superset of the caller's),
                                 * on the table's live words. */
    const struct hs_sparse **subs; /* Its subtracted cubes: flows' matches
                                 * or cached conjunction cubes, which last
                                 * as long as the run. */
    size_t n_subs;              /* Number of them. */
    bool done;                  /* Computed. */
    uint64_t serial;            /* Its number. */
    struct mexit *exits;        /* Exits of its own lookups. */
    size_t n_exits, allocated_exits; /* Their number, allocated size. */
    struct memo_entry **kids;   /* Memoized lookups it made. */
    size_t n_kids, allocated_kids; /* Their number, allocated size. */
    struct rec **recs;          /* Lookup records of its own lookups. */
    size_t n_recs, allocated_recs; /* Their number, allocated size. */
    unsigned long *users;       /* Inputs that used it (or NULL). */
    bool users_borrowed;        /* 'users' is a parent's. */
    size_t vnet[2];             /* Networks whose verdict is cached... */
    int8_t vres[2];             /* ...-1 none, 0 safe, 1 may leak. */
};

/* A set of packets on its way: a cube minus subtracted cubes, and what
 * the header fields rewritten on the way were on input. */
struct branch {
    struct hs_cube c;           /* The cube. */
    const struct hs_sparse **subs; /* Subtracted cubes (owned array). */
    size_t n_subs;              /* Number of them. */
    const struct orig *orig;    /* Rewritten header bits, or NULL. */
    size_t allocated_subs;      /* From branch_alloc(): size of 'subs'. */
    struct branch *next;        /* In the spare list of struct ctx. */
};

/* The input values of header bits rewritten on the way. */
struct orig {
    uint64_t w[HS_N];           /* 1-bits: rewritten. */
    struct hs_cube c;           /* What they were before. */
    struct orig *next;          /* In the owner's list. */
};

/* What a flow's remaining actions are, once a resubmit returns. */
struct frame {
    bool restore;               /* Restore in_port, then go up. */
    struct hs_cube *saved;      /* restore: in_port's bits to restore. */
    const struct ofpact *ofpacts; /* Otherwise, the actions... */
    size_t len;                 /* ...their length... */
    uint8_t table;              /* ...and the table of their flow. */
    int depth;                  /* Resubmit depth there. */
    const struct frame *up;     /* The frame above, or NULL. */
};

/* A traversal from one input port. */
struct ctx {
    struct vfy_checker *ck;     /* The checker. */
    struct vfy_flows *flows;    /* The table. */
    const struct vfy_portmap *map; /* The port map. */
    size_t idx;                 /* Input's index in 'ck->inputs'. */
    struct input *in;           /* The input. */
    size_t n_lookups;           /* Lookups so far. */
    int n_recircs;              /* Conntrack recirculations now nested. */
    int nesting;                /* exec_actions() calls now nested. */
    struct step steps[MAX_STEPS]; /* The path so far. */
    size_t n_steps;             /* Its length (may exceed MAX_STEPS). */
    struct hs_cube in_port_bits; /* in_port's bits. */
    const struct hs_cube *restore_in_port; /* For the next lookup_raw()
                                 * and the next follow_flow() in it: the
                                 * in_port that the actions of a flow it
                                 * takes see (resubmit(P,T)), or NULL. */
    struct memo_entry *collect; /* Entry being computed, or NULL. */
    struct branch *spare;       /* Branches freed, for branch_alloc(). */
};

static void lookup(struct ctx *, const struct branch *, uint8_t table,
                   const struct frame *, int depth);
static void lookup_raw(struct ctx *, const struct branch *, uint8_t table,
                       const struct frame *, int depth);
static void exec_actions(struct ctx *, struct branch *,
                         const struct ofpact *, size_t len, uint8_t table,
                         const struct frame *, int depth);

/* Pushes a step on the path. */
static void
push_step(struct ctx *ctx, const struct step *s)
{
    if (ctx->n_steps < MAX_STEPS) {
        ctx->steps[ctx->n_steps] = *s;
    }
    ctx->n_steps++;
}

/* Notes in record 'r' the input of 'ctx', or, while a memo entry is
 * computed, the entry (whose users get it when the run ends). */
static void
rec_note(struct ctx *ctx, struct rec *r)
{
    if (ctx->collect) {
        /* The inputs that use the entry get it when the run ends. */
        struct memo_entry *e = ctx->collect;
        if (r->stamp != e->serial) {
            r->stamp = e->serial;
            arena_reserve(&ctx->ck->arena, (void **) &e->recs, e->n_recs,
                          &e->allocated_recs, sizeof *e->recs);
            e->recs[e->n_recs++] = r;
        }
    } else {
        bitmap_set1(r->ports, ctx->idx);
    }
}

/* Records that input 'ctx->idx' looked up 'table' with cube 'c'. */
static void
record_lookup(struct ctx *ctx, uint8_t table, const struct hs_cube *c)
{
    struct rec_set *rs = &ctx->ck->recs[table];
    bool exact[2];
    uint64_t val[2][2];
    uint32_t hash = 0;

    for (int i = 0; i < 2; i++) {
        exact[i] = rs->keys[i] < VFY_N_KEYS
                   && cube_key(c, rs->keys[i], val[i]);
        if (!exact[i]) {
            val[i][0] = val[i][1] = 0;
        }
        hash = hash_add(hash, exact[i]);
        hash = hash_add64(hash, val[i][0]);
        hash = hash_add64(hash, val[i][1]);
    }
    hash = hash_finish(hash, 0);

    struct rec *r;
    HMAP_FOR_EACH_WITH_HASH (r, node, hash, &rs->recs) {
        if (r->exact[0] == exact[0] && r->exact[1] == exact[1]
            && !memcmp(r->val, val, sizeof val)) {
            goto found;
        }
    }
    r = xzalloc(sizeof *r);
    memcpy(r->exact, exact, sizeof exact);
    memcpy(r->val, val, sizeof val);
    r->ports = bitmap_allocate(ctx->ck->n_inputs);
    hmap_insert(&rs->recs, &r->node, hash);

found:
    rec_note(ctx, r);
}

/* Records that input 'ctx->idx' had an exit judged on 'port' (OFPP_ANY:
 * on the ports of the map, whichever they are): its verdict depends on
 * what the map says of that port. */
static void
record_exit(struct ctx *ctx, ofp_port_t port)
{
    struct hmap *recs = &ctx->ck->exit_recs;
    uint32_t hash = hash_int(ofp_to_u16(port), 0);
    struct rec *r;

    HMAP_FOR_EACH_WITH_HASH (r, node, hash, recs) {
        if (r->val[0][0] == ofp_to_u16(port)) {
            rec_note(ctx, r);
            return;
        }
    }
    r = xzalloc(sizeof *r);
    r->exact[0] = true;
    r->val[0][0] = ofp_to_u16(port);
    r->ports = bitmap_allocate(ctx->ck->n_inputs);
    hmap_insert(recs, &r->node, hash);
    rec_note(ctx, r);
}

/* Returns a branch with room for 'n' subtracted cubes and none yet, from
 * 'ctx''s spare ones if it has some. */
static struct branch *
branch_alloc(struct ctx *ctx, size_t n)
{
    struct branch *x = ctx->spare;

    if (x) {
        ctx->spare = x->next;
    } else {
        x = xzalloc(sizeof *x);
    }
    if (x->allocated_subs < MAX(n, 1)) {
        x->allocated_subs = MAX(n, 16);
        x->subs = xrealloc(x->subs, x->allocated_subs * sizeof *x->subs);
    }
    x->n_subs = 0;
    return x;
}

/* Returns a copy of the branch 'b' (its own subs array). */
static struct branch *
branch_clone(struct ctx *ctx, const struct branch *b)
{
    struct branch *x = branch_alloc(ctx, b->n_subs);

    x->c = b->c;
    if (b->n_subs) {
        memcpy(x->subs, b->subs, b->n_subs * sizeof *b->subs);
    }
    x->n_subs = b->n_subs;
    x->orig = b->orig;
    return x;
}

/* Gives 'x', from branch_alloc(), back to 'ctx''s spare ones. */
static void
branch_free(struct ctx *ctx, struct branch *x)
{
    x->next = ctx->spare;
    ctx->spare = x;
}

/* Forgets what 'b' knows of the bits in 'bits->m', before they are
 * written: subtracted cubes that fix any of them no longer describe the
 * packet (dropping them over-approximates), and their input values are
 * saved for the counterexample ('*owned' collects what is allocated). */
static void
touch(struct branch *b, const struct hs_cube *bits, struct orig **owned)
{
    size_t n = 0;
    for (size_t i = 0; i < b->n_subs; i++) {
        if (!hs_sparse_touches(b->subs[i], bits)) {
            b->subs[n++] = b->subs[i];
        }
    }
    b->n_subs = n;

    bool need = false;
    for (size_t j = 0; j < layout.n_hdr_words && !need; j++) {
        size_t i = layout.hdr_words[j];
        uint64_t w = bits->m[i] & layout.hdr.m[i];
        need = (w & ~(b->orig ? b->orig->w[i] : 0)) != 0;
    }
    if (need) {
        struct orig *o = xmalloc(sizeof *o);
        if (b->orig) {
            memcpy(o->w, b->orig->w, sizeof o->w);
            o->c = b->orig->c;
        } else {
            memset(o->w, 0, sizeof o->w);
            memset(&o->c, 0, sizeof o->c);
        }
        for (size_t i = 0; i < HS_N; i++) {
            uint64_t w = bits->m[i] & layout.hdr.m[i] & ~o->w[i];
            o->w[i] |= w;
            o->c.v[i] |= b->c.v[i] & w;
            o->c.m[i] |= b->c.m[i] & w;
        }
        o->next = *owned;
        *owned = o;
        b->orig = o;
    }
}

/* Makes the bits of 'bits->m' free (any value) in 'b'. */
static void
free_bits(struct branch *b, const struct hs_cube *bits, struct orig **owned)
{
    touch(b, bits, owned);
    for (size_t i = 0; i < HS_N; i++) {
        b->c.m[i] &= ~bits->m[i];
        b->c.v[i] &= ~bits->m[i];
    }
}

/* Writes 'value' under 'mask' into field 'mf' of 'b' if it is a register
 * or 'metadata' (the most frequent writes, which need no input values
 * saved): directly in the word that holds it.  Returns false for another
 * field. */
static bool
write_reg(struct branch *b, const struct mf_field *mf,
          const union mf_value *value, const union mf_value *mask)
{
    struct flow *fm = (struct flow *) b->c.m;
    struct flow *fv = (struct flow *) b->c.v;
    size_t w;
    union {
        uint64_t w;
        uint32_t r[2];
        ovs_be64 be64;
    } bits = { .w = 0 };

    if (mf->id >= MFF_REG0 && mf->id < MFF_REG0 + FLOW_N_REGS) {
        int r = mf->id - MFF_REG0;
        uint32_t m = ntohl(mask->be32);
        fm->regs[r] |= m;
        fv->regs[r] = (fv->regs[r] & ~m) | (ntohl(value->be32) & m);
        w = offsetof(struct flow, regs) / sizeof(uint64_t) + r / 2;
        bits.r[r % 2] = m;
    } else if (mf->id == MFF_METADATA) {
        fm->metadata |= mask->be64;
        fv->metadata = (fv->metadata & ~mask->be64)
                       | (value->be64 & mask->be64);
        w = offsetof(struct flow, metadata) / sizeof(uint64_t);
        bits.be64 = mask->be64;
    } else {
        return false;
    }

    /* Subtracted cubes that fix a written bit no longer describe it. */
    size_t n = 0;
    for (size_t i = 0; i < b->n_subs; i++) {
        int j = sparse_find(b->subs[i], w);
        if (j < 0 || !(HS_SM(b->subs[i], j) & bits.w)) {
            b->subs[n++] = b->subs[i];
        }
    }
    b->n_subs = n;
    return true;
}

/* Writes 'value' under 'mask' into field 'mf' of 'b'. */
static void
write_field(struct branch *b, const struct mf_field *mf,
            const union mf_value *value, const union mf_value *mask,
            struct orig **owned)
{
    struct flow_wildcards wc;
    struct hs_cube bits;

    if (write_reg(b, mf, value, mask)) {
        return;
    }

    memset(&wc, 0, sizeof wc);
    mf_mask_field_masked(mf, mask, &wc);
    memcpy(bits.m, &wc.masks, sizeof bits.m);
    touch(b, &bits, owned);
    mf_set_flow_value_masked(mf, value, mask, (struct flow *) b->c.v);
    const struct field_words *fw = &layout.fields[mf->id];
    bool anywhere = fw->n == FIELD_ANYWHERE;
    for (size_t j = 0; j < (anywhere ? HS_N : fw->n); j++) {
        size_t i = anywhere ? j : fw->idx[j];
        b->c.m[i] |= bits.m[i];
        b->c.v[i] &= b->c.m[i];
    }
}

/* Writes all of field 'id' with 'value' (the field's own width). */
static void
write_field_exact(struct branch *b, enum mf_field_id id,
                  const union mf_value *value, struct orig **owned)
{
    union mf_value mask;

    memset(&mask, 0xff, sizeof mask);
    write_field(b, mf_from_id(id), value, &mask, owned);
}

/* Returns true if every packet of 'b' meets the prerequisites of field
 * 'mf' (mf_are_prereqs_ok()), as the bits that 'b' fixes tell: only then
 * does OVS surely write the field with set_field (otherwise it ignores
 * the action for the packets that lack it). */
static bool
prereqs_sure(const struct branch *b, const struct mf_field *mf)
{
    const struct flow *v = (const struct flow *) b->c.v;
    const struct flow *m = (const struct flow *) b->c.m;
    bool fixed = true;

    /* Every packet is Ethernet (every input is, and only opaque actions
     * change packet_type), whatever a widened space says of it. */
    switch (mf->prereqs) {
    case MFP_NONE:
    case MFP_ETHERNET:
        return true;
    case MFP_VLAN_VID:
        fixed = fixed && (m->vlans[0].tci & htons(VLAN_CFI));
        break;
    case MFP_ARP:
    case MFP_IPV4:
    case MFP_IPV6:
    case MFP_MPLS:
    case MFP_IP_ANY:
    case MFP_NSH:
        fixed = fixed && m->dl_type == OVS_BE16_MAX;
        break;
    case MFP_TCP:
    case MFP_UDP:
    case MFP_SCTP:
    case MFP_ICMPV4:
    case MFP_ICMPV6:
        fixed = (fixed && m->dl_type == OVS_BE16_MAX && m->nw_proto == 0xff
                 && (m->nw_frag & FLOW_NW_FRAG_LATER));
        break;
    case MFP_ND:
    case MFP_ND_SOLICIT:
    case MFP_ND_ADVERT:
        fixed = (fixed && m->dl_type == OVS_BE16_MAX && m->nw_proto == 0xff
                 && (m->nw_frag & FLOW_NW_FRAG_LATER)
                 && m->tp_src == OVS_BE16_MAX && m->tp_dst == OVS_BE16_MAX);
        break;
    case MFP_CT_VALID:
    default:
        fixed = false;
        break;
    }
    if (!fixed) {
        return false;
    }

    struct match match;
    memset(&match, 0, sizeof match);
    match.flow = *v;
    match.wc.masks = *m;
    match.flow.packet_type = htonl(PT_ETH);
    return mf_are_match_prereqs_ok(mf, &match);
}

/* Writes 'value' under 'mask' into field 'mf' of 'b' where 'sure' (every
 * packet of 'b' has the field), else makes those bits free: the packets
 * that lack the field keep what they had, which is among the values
 * freed. */
static void
write_field_if(struct branch *b, bool sure, const struct mf_field *mf,
               const union mf_value *value, const union mf_value *mask,
               struct orig **owned)
{
    if (sure) {
        write_field(b, mf, value, mask, owned);
    } else {
        struct flow_wildcards wc;
        struct hs_cube bits;

        memset(&wc, 0, sizeof wc);
        mf_mask_field_masked(mf, mask, &wc);
        memset(&bits, 0, sizeof bits);
        memcpy(bits.m, &wc.masks, sizeof bits.m);
        free_bits(b, &bits, owned);
    }
}

/* Writes all of field 'id' with 'value' where 'sure', as
 * write_field_if(). */
static void
write_field_exact_if(struct branch *b, bool sure, enum mf_field_id id,
                     const union mf_value *value, struct orig **owned)
{
    union mf_value mask;

    memset(&mask, 0xff, sizeof mask);
    write_field_if(b, sure, mf_from_id(id), value, &mask, owned);
}

/* Returns true if every packet of 'b' is IP, not a later fragment: those
 * that OVS's mod_tp_src and mod_tp_dst rewrite. */
static bool
l4_sure(const struct branch *b)
{
    const struct flow *v = (const struct flow *) b->c.v;
    const struct flow *m = (const struct flow *) b->c.m;

    return (prereqs_sure(b, mf_from_id(MFF_IP_DSCP))
            && (m->nw_frag & FLOW_NW_FRAG_LATER)
            && !(v->nw_frag & FLOW_NW_FRAG_LATER));
}

/* Copies subfield 'src' of 'b' into 'dst', as far as 'b' knows it. */
static void
move_field(struct branch *b, const struct mf_subfield *src,
           const struct mf_subfield *dst, struct orig **owned)
{
    union mf_subvalue v, m, ones;
    struct hs_cube bits;

    mf_read_subfield(src, (const struct flow *) b->c.v, &v);
    mf_read_subfield(src, (const struct flow *) b->c.m, &m);

    memset(&bits, 0, sizeof bits);
    memset(&ones, 0xff, sizeof ones);
    mf_write_subfield_flow(dst, &ones, (struct flow *) bits.m);
    free_bits(b, &bits, owned);
    mf_write_subfield_flow(dst, &m, (struct flow *) b->c.m);
    mf_write_subfield_flow(dst, &v, (struct flow *) b->c.v);
    for (size_t i = 0; i < HS_N; i++) {
        b->c.v[i] &= b->c.m[i];
    }
}

/* Counterexamples. */

/* Returns true if 'b' knows its in_port, and then stores it in '*port'. */
static bool
known_in_port(const struct branch *b, ofp_port_t *port)
{
    const struct mf_field *mf = mf_from_id(MFF_IN_PORT);
    union mf_value v, m;

    mf_get_value(mf, (const struct flow *) b->c.v, &v);
    mf_get_value(mf, (const struct flow *) b->c.m, &m);
    *port = u16_to_ofp(ntohs(v.be16));
    return m.be16 == OVS_BE16_MAX;
}

/* Returns the bytes of a packet with the headers of 'p', in hexadecimal
 * without spaces (what "netdev-dummy/receive PORT HEX" takes). */
static char *
packet_hex(const struct flow *p)
{
    struct dp_packet *packet = dp_packet_new(0);
    struct ds s = DS_EMPTY_INITIALIZER;

    flow_compose(packet, p, NULL, 64);
    const uint8_t *data = dp_packet_data(packet);
    for (size_t i = 0; i < dp_packet_size(packet); i++) {
        ds_put_format(&s, "%02x", data[i]);
    }
    dp_packet_delete(packet);
    return ds_steal_cstr(&s);
}

/* Appends packet 'p' in ovs-ofctl's flow syntax. */
static void
format_packet(struct ds *s, const struct flow *p)
{
    ds_put_format(s, "in_port=%"PRIu16, ofp_to_u16(p->in_port.ofp_port));
    if (p->vlans[0].tci & htons(VLAN_CFI)) {
        ds_put_format(s, ",dl_vlan=%d,dl_vlan_pcp=%d",
                      vlan_tci_to_vid(p->vlans[0].tci),
                      vlan_tci_to_pcp(p->vlans[0].tci));
    }
    ds_put_format(s, ",dl_src="ETH_ADDR_FMT",dl_dst="ETH_ADDR_FMT
                  ",dl_type=0x%04"PRIx16, ETH_ADDR_ARGS(p->dl_src),
                  ETH_ADDR_ARGS(p->dl_dst), ntohs(p->dl_type));

    uint16_t type = ntohs(p->dl_type);
    bool l4 = false;
    if (type == ETH_TYPE_IP) {
        ds_put_format(s, ",nw_src="IP_FMT",nw_dst="IP_FMT,
                      IP_ARGS(p->nw_src), IP_ARGS(p->nw_dst));
        l4 = true;
    } else if (type == ETH_TYPE_IPV6) {
        ds_put_cstr(s, ",ipv6_src=");
        ipv6_format_addr(&p->ipv6_src, s);
        ds_put_cstr(s, ",ipv6_dst=");
        ipv6_format_addr(&p->ipv6_dst, s);
        l4 = true;
    } else if (type == ETH_TYPE_ARP || type == ETH_TYPE_RARP) {
        ds_put_format(s, ",arp_op=%d,arp_spa="IP_FMT",arp_tpa="IP_FMT
                      ",arp_sha="ETH_ADDR_FMT",arp_tha="ETH_ADDR_FMT,
                      p->nw_proto, IP_ARGS(p->nw_src), IP_ARGS(p->nw_dst),
                      ETH_ADDR_ARGS(p->arp_sha), ETH_ADDR_ARGS(p->arp_tha));
    }
    if (l4) {
        ds_put_format(s, ",nw_proto=%d,nw_ttl=%d", p->nw_proto, p->nw_ttl);
        if (p->nw_tos) {
            ds_put_format(s, ",nw_tos=%d", p->nw_tos & IP_DSCP_MASK);
        }
        if (p->nw_frag) {
            ds_put_format(s, ",nw_frag=%s",
                          (p->nw_frag & FLOW_NW_FRAG_LATER ? "later"
                           : "first"));
        }
        int proto = p->nw_proto;
        if (proto == IPPROTO_TCP || proto == IPPROTO_UDP
            || proto == IPPROTO_SCTP) {
            ds_put_format(s, ",tp_src=%"PRIu16",tp_dst=%"PRIu16,
                          ntohs(p->tp_src), ntohs(p->tp_dst));
        } else if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) {
            ds_put_format(s, ",icmp_type=%"PRIu16",icmp_code=%"PRIu16,
                          ntohs(p->tp_src), ntohs(p->tp_dst));
            if (proto == IPPROTO_ICMPV6
                && (ntohs(p->tp_src) == 135 || ntohs(p->tp_src) == 136)) {
                ds_put_cstr(s, ",nd_target=");
                ipv6_format_addr(&p->nd_target, s);
            }
        }
    }
}

/* Narrows 'w' (a nonempty part of 'b') to a 'nice' packet where the space
 * allows: IPv4 and TCP if the type and protocol are free, not a
 * fragment, TTL 64. */
static void
nicer(const struct branch *b, struct hs_cube *w)
{
    struct match m[4];

    for (int i = 0; i < 4; i++) {
        match_init_catchall(&m[i]);
    }
    match_set_dl_type(&m[0], htons(ETH_TYPE_IP));
    match_set_nw_proto(&m[1], IPPROTO_TCP);
    match_set_nw_frag_masked(&m[2], 0, FLOW_NW_FRAG_MASK);
    match_set_nw_ttl(&m[3], 64);
    for (int i = 0; i < 4; i++) {
        struct hs_sparse *s = hs_sparse_from_match(&m[i]);
        if (hs_intersects(w, s) && !hs_covers(s, w)) {
            struct hs_cube try = *w, out;
            hs_and(&try, s);
            if (hs_nonempty(&try, b->subs, b->n_subs, &out, SPLIT_BUDGET)) {
                *w = out;
            }
        }
        free(s);
        if (i == 0 && ntohs(((struct flow *) w->v)->dl_type) != ETH_TYPE_IP) {
            break;
        }
    }
}

/* Records a counterexample from 'b' (the leaking set, which the caller
 * knows to be nonempty) leaving as 'exit' on 'port'; 'key' deduplicates
 * the exits of one input. */
static void
add_leak(struct ctx *ctx, const struct branch *b, ofp_port_t port,
         const char *exit, const char *network, uint64_t key)
{
    struct input *in = ctx->in;

    for (size_t i = 0; i < in->n_leaks; i++) {
        if (in->leaks[i].key == key) {
            return;
        }
    }
    if (in->n_leaks >= MAX_LEAKS_PER_PORT) {
        in->truncated = true;
        return;
    }

    struct hs_cube w;
    bool exact = hs_nonempty(&b->c, b->subs, b->n_subs, &w, SPLIT_BUDGET);
    if (!exact) {
        w = b->c;
    } else {
        /* A witness inside the budget is exact only if every subtracted
         * cube misses it. */
        for (size_t i = 0; i < b->n_subs; i++) {
            if (hs_intersects(&w, b->subs[i])) {
                exact = false;
            }
        }
        nicer(b, &w);
    }

    /* The input packet: the witness, but its input values where headers
     * were rewritten on the way. */
    struct flow p;
    uint64_t *pw = (uint64_t *) &p;
    for (size_t i = 0; i < HS_N; i++) {
        pw[i] = w.v[i];
        if (b->orig) {
            pw[i] = (pw[i] & ~b->orig->w[i]) | b->orig->c.v[i];
        }
    }
    p.in_port.ofp_port = in->port;

    in->leaks = xrealloc(in->leaks, (in->n_leaks + 1) * sizeof *in->leaks);
    struct leak *l = &in->leaks[in->n_leaks++];
    memset(l, 0, sizeof *l);
    struct ds s = DS_EMPTY_INITIALIZER;
    format_packet(&s, &p);
    l->packet = ds_steal_cstr(&s);
    l->bytes = packet_hex(&p);
    l->exit = xstrdup(exit);
    l->exit_network = network ? xstrdup(network) : NULL;
    l->exit_port = port;
    l->inexact = !exact;
    l->key = key;
    size_t n = MIN(ctx->n_steps, MAX_STEPS);
    l->steps = xmemdup(ctx->steps, (n ? n : 1) * sizeof *l->steps);
    l->n_steps = n;

    /* What conntrack must say: per recirculation, the ct_state that the
     * flows after it (up to the next one) required.  Each flow's step
     * holds what the path required so far; a ct(commit) on the way forgets
     * it (the branch's ct_* fields are free again), so the steps are
     * combined rather than the last one taken. */
    uint8_t last_v = 0, last_m = 0;
    for (size_t i = n; i-- > 0;) {
        const struct step *st = &l->steps[i];
        if (!st->is_ct) {
            last_v |= st->ct_v & st->ct_m;
            last_m |= st->ct_m;
            continue;
        }
        if (last_m & ~CS_TRACKED) {
            ds_put_format(&s, "%sct_state=", s.length ? ", " : "");
            format_flags_masked(&s, NULL, ct_state_to_string, last_v,
                                last_m, UINT8_MAX);
            ds_put_format(&s, " after ct in table %d", st->table);
        }
        last_v = last_m = 0;
    }
    l->ct_note = s.length ? ds_steal_cstr(&s) : NULL;
    ds_destroy(&s);
}

/* Records in 'e' an exit on 'port' (OFPP_NONE: opaque), of the set 'b'
 * if it is a trunk. */
static void
memo_add_exit(struct memo_entry *e, ofp_port_t port, const struct branch *b)
{
    if (e->n_exits >= e->allocated_exits) {
        e->exits = x2nrealloc(e->exits, &e->allocated_exits,
                              sizeof *e->exits);
    }
    struct mexit *x = &e->exits[e->n_exits++];
    x->port = port;
    x->c = NULL;
    x->subs = NULL;
    x->n_subs = 0;
    if (b) {
        x->c = hs_sparse_from_cube(&b->c);
        x->subs = xmalloc((b->n_subs ? b->n_subs : 1) * sizeof *x->subs);
        for (size_t i = 0; i < b->n_subs; i++) {
            const struct hs_sparse *s = b->subs[i];
            x->subs[i] = xmemdup(s, sizeof *s + 2 * s->n * sizeof s->w[0]);
        }
        x->n_subs = b->n_subs;
    }
}

/* Records that 'b' reaches something unmodeled ('what'). */
static void
opaque(struct ctx *ctx, const struct branch *b, const char *what)
{
    if (ctx->collect) {
        memo_add_exit(ctx->collect, OFPP_NONE, NULL);
        return;
    }
    char *exit = xasprintf("opaque: %s (may reach any port)", what);
    add_leak(ctx, b, OFPP_NONE, exit, NULL, hash_string(what, 1) | 1);
    free(exit);
}

/* Returns a sparse cube of VLAN 'vid' tagged packets. */
static struct hs_sparse *
vlan_cube(uint16_t vid)
{
    struct match m;

    match_init_catchall(&m);
    match_set_vlan_vid(&m, htons(VLAN_CFI | vid));
    return hs_sparse_from_match(&m);
}

/* Returns a sparse cube of packets with tun_id 'vni'. */
static struct hs_sparse *
vni_cube(uint32_t vni)
{
    struct match m;

    match_init_catchall(&m);
    match_set_tun_id(&m, htonll(vni));
    return hs_sparse_from_match(&m);
}

/* Checks 'b' leaving on a trunk (uplink or tunnel): what is not tagged
 * with one of the input network's own tags leaks. */
static void
check_trunk(struct ctx *ctx, const struct branch *b, ofp_port_t port,
            bool uplink)
{
    const struct vfy_portmap *map = ctx->map;
    const struct vfy_tag *tags = uplink ? map->vlans : map->vnis;
    size_t n_tags = uplink ? map->n_vlans : map->n_vnis;
    struct branch x = *b;
    struct hs_sparse **own = xmalloc((n_tags + 1) * sizeof *own);
    size_t n_own = 0;

    x.subs = xmalloc((b->n_subs + n_tags + 1) * sizeof *x.subs);
    if (b->n_subs) {
        memcpy(x.subs, b->subs, b->n_subs * sizeof *x.subs);
    }
    for (size_t i = 0; i < n_tags; i++) {
        if (!strcmp(tags[i].network, ctx->in->network)) {
            own[n_own] = uplink ? vlan_cube(tags[i].id)
                                : vni_cube(tags[i].id);
            x.subs[x.n_subs++] = own[n_own++];
        }
    }

    struct hs_cube w;
    if (hs_nonempty(&x.c, x.subs, x.n_subs, &w, SPLIT_BUDGET)) {
        const struct flow *f = (const struct flow *) w.v;
        const char *net;
        char *exit;
        uint64_t id;
        if (uplink) {
            bool tagged = (f->vlans[0].tci & htons(VLAN_CFI)) != 0;
            id = tagged ? vlan_tci_to_vid(f->vlans[0].tci) : 0xffff;
            net = tagged ? vfy_portmap_vlan_network(map, id) : NULL;
            exit = (tagged
                    ? xasprintf("uplink port %"PRIu16" with VLAN %"PRIu64
                                " (%s)", ofp_to_u16(port), id,
                                net ? net : "no network")
                    : xasprintf("uplink port %"PRIu16" untagged",
                                ofp_to_u16(port)));
        } else {
            id = ntohll(f->tunnel.tun_id);
            net = vfy_portmap_vni_network(map, id);
            exit = xasprintf("tunnel port %"PRIu16" with VNI %"PRIu64
                             " (%s)", ofp_to_u16(port), id,
                             net ? net : "no network");
        }
        add_leak(ctx, &x, port, exit, net,
                 ((uint64_t) ofp_to_u16(port) << 32) | (id & 0xffffffff));
        free(exit);
    }
    for (size_t i = 0; i < n_own; i++) {
        free(own[i]);
    }
    free(own);
    free(x.subs);
}

/* 'b' leaves on 'port' (a real port number). */
static void
check_exit(struct ctx *ctx, const struct branch *b, ofp_port_t port)
{
    ofp_port_t in_port;

    /* Whatever the map says of 'port' now, the verdict depends on it: an
     * incremental run follows the input again if that port is added to
     * the map or removed from it. */
    record_exit(ctx, port);
    if (known_in_port(b, &in_port) && in_port == port) {
        return;                 /* OpenFlow never outputs to in_port. */
    }

    const struct vfy_vnic *vnic = vfy_portmap_find_vnic(ctx->map, port);
    if (ctx->collect) {
        /* Judged per input network when the entry is used. */
        bool trunk = ((ctx->map->has_uplink && port == ctx->map->uplink)
                      || (ctx->map->has_tunnel && port == ctx->map->tunnel));
        if (vnic || trunk) {
            memo_add_exit(ctx->collect, port, trunk ? b : NULL);
        }
        return;
    }
    if (vnic) {
        if (strcmp(vnic->network, ctx->in->network)) {
            char *exit = (vnic->sealed
                          ? xasprintf("port %"PRIu16" (%s, of no network)",
                                      ofp_to_u16(port), vnic->name)
                          : xasprintf("port %"PRIu16" (vNIC %s of %s)",
                                      ofp_to_u16(port), vnic->name,
                                      vnic->network));
            add_leak(ctx, b, port, exit,
                     vnic->sealed ? NULL : vnic->network,
                     (uint64_t) ofp_to_u16(port) << 32);
            free(exit);
        }
    } else if (ctx->map->has_uplink && port == ctx->map->uplink) {
        check_trunk(ctx, b, port, true);
    } else if (ctx->map->has_tunnel && port == ctx->map->tunnel) {
        check_trunk(ctx, b, port, false);
    }
    /* Other ports (analysis ports, LOCAL...) are sinks that reach no
     * network. */
}

static void output(struct ctx *, const struct branch *, ofp_port_t);

/* Returns true if 'port' agrees with the bits of subfield 'sf' that 'b'
 * fixes. */
static bool
port_fits(const struct branch *b, const struct mf_subfield *sf,
          uint16_t port)
{
    uint64_t v = mf_get_subfield(sf, (const struct flow *) b->c.v);
    uint64_t m = mf_get_subfield(sf, (const struct flow *) b->c.m);

    return sf->n_bits >= 16 || port >> sf->n_bits == 0
           ? ((port ^ v) & m) == 0 : false;
}

/* Output to the port that subfield 'sf' holds. */
static void
output_reg(struct ctx *ctx, const struct branch *b,
           const struct mf_subfield *sf)
{
    uint64_t m = mf_get_subfield(sf, (const struct flow *) b->c.m);
    uint64_t all = sf->n_bits >= 64 ? UINT64_MAX
                                    : (UINT64_C(1) << sf->n_bits) - 1;

    if (m == all) {
        uint64_t v = mf_get_subfield(sf, (const struct flow *) b->c.v);
        if (v <= UINT16_MAX) {
            /* A reserved port (ALL, FLOOD, IN_PORT...) is one, as in
             * xlate_output_reg_action(). */
            output(ctx, b, u16_to_ofp(v));
        }
        return;
    }

    /* Not fixed: every port of the map and every reserved port that the
     * known bits allow, with the register narrowed to it (which ports
     * those are depends on the map). */
    const struct vfy_portmap *map = ctx->map;
    record_exit(ctx, OFPP_ANY);
    size_t n_reserved = ofp_to_u16(OFPP_NONE) - ofp_to_u16(OFPP_IN_PORT) + 1;
    size_t n = map->n_vnics + 2 + n_reserved;
    for (size_t i = 0; i < n; i++) {
        ofp_port_t port;
        if (i < map->n_vnics) {
            port = map->vnics[i].port;
        } else if (i == map->n_vnics && map->has_uplink) {
            port = map->uplink;
        } else if (i == map->n_vnics + 1 && map->has_tunnel) {
            port = map->tunnel;
        } else if (i >= map->n_vnics + 2) {
            port = u16_to_ofp(ofp_to_u16(OFPP_IN_PORT)
                              + (i - map->n_vnics - 2));
        } else {
            continue;
        }
        if (!port_fits(b, sf, ofp_to_u16(port))) {
            continue;
        }
        struct branch *x = branch_clone(ctx, b);
        union mf_subvalue sv, ones;
        memset(&sv, 0, sizeof sv);
        memset(&ones, 0xff, sizeof ones);
        sv.u8[sizeof sv - 2] = ofp_to_u16(port) >> 8;
        sv.u8[sizeof sv - 1] = ofp_to_u16(port) & 0xff;
        mf_write_subfield_flow(sf, &sv, (struct flow *) x->c.v);
        mf_write_subfield_flow(sf, &ones, (struct flow *) x->c.m);
        if (hs_is_nonempty(&x->c, x->subs, x->n_subs, SPLIT_BUDGET)) {
            output(ctx, x, port);
        }
        branch_free(ctx, x);
    }
}

/* Output to 'port' (maybe a reserved one). */
static void
output(struct ctx *ctx, const struct branch *b, ofp_port_t port)
{
    ofp_port_t in_port;

    switch (port) {
    case OFPP_IN_PORT:
        if (!known_in_port(b, &in_port)) {
            opaque(ctx, b, "output to an unknown in_port");
            return;
        }
        /* Output to in_port is allowed with OFPP_IN_PORT: check it as an
         * exit (bypassing the in_port rule). */
        {
            struct branch x = *b;
            ((struct flow *) x.c.m)->in_port.ofp_port = 0;
            check_exit(ctx, &x, in_port);
        }
        return;
    case OFPP_CONTROLLER:
    case OFPP_LOCAL:
    case OFPP_NONE:
        return;                 /* Sinks: no network behind them. */
    case OFPP_NORMAL:
        opaque(ctx, b, "output:NORMAL");
        return;
    case OFPP_FLOOD:
    case OFPP_ALL:
        opaque(ctx, b, "output to FLOOD or ALL");
        return;
    case OFPP_TABLE:
        opaque(ctx, b, "output:TABLE");
        return;
    default:
        check_exit(ctx, b, port);
        return;
    }
}

/* Goes on with the frame above 'up' once a list of actions is done. */
static void
go_up(struct ctx *ctx, struct branch *b, const struct frame *up)
{
    if (!up) {
        return;                 /* The packet's way ends here. */
    }
    if (up->restore) {
        for (size_t i = 0; i < HS_N; i++) {
            uint64_t bits = ctx->in_port_bits.m[i];
            if (bits) {
                b->c.v[i] = (b->c.v[i] & ~bits) | up->saved->v[i];
                b->c.m[i] = (b->c.m[i] & ~bits) | up->saved->m[i];
            }
        }
        go_up(ctx, b, up->up);
    } else {
        exec_actions(ctx, b, up->ofpacts, up->len, up->table, up->up,
                     up->depth);
    }
}

/* Looks up 'table' from within a flow's actions: what follows 'a' in
 * them runs after it (a resubmit or goto_table); with 'in_port' other
 * than OFPP_IN_PORT, in_port is that port for the lookup only. */
static void
resubmit(struct ctx *ctx, struct branch *b, const struct ofpact *a,
         const struct ofpact *end, uint8_t cur_table, uint8_t table,
         ofp_port_t in_port, const struct frame *up, int depth)
{
    struct frame rest = {
        .ofpacts = ofpact_next(a),
        .len = (const uint8_t *) end - (const uint8_t *) ofpact_next(a),
        .table = cur_table,
        .depth = depth,
        .up = up,
    };
    struct frame restore;
    struct hs_cube saved;
    const struct frame *cont = rest.len ? &rest : up;

    if (in_port != OFPP_IN_PORT) {
        memset(&saved, 0, sizeof saved);
        for (size_t i = 0; i < HS_N; i++) {
            saved.v[i] = b->c.v[i] & ctx->in_port_bits.m[i];
            saved.m[i] = b->c.m[i] & ctx->in_port_bits.m[i];
        }
        memset(&restore, 0, sizeof restore);
        restore.restore = true;
        restore.saved = &saved;
        restore.up = cont;
        cont = &restore;

        struct orig *owned = NULL;
        union mf_value value;
        value.be16 = htons(ofp_to_u16(in_port));
        write_field_exact(b, MFF_IN_PORT, &value, &owned);
        ovs_assert(!owned);

        /* OVS looks the table up with in_port P, but runs the actions of
         * the flow it finds with the packet's own in_port
         * (rule_dpif_lookup_from_table() restores it): outputs to P, to
         * IN_PORT and further lookups see that one.  'restore' goes on
         * only with what no flow takes. */
        ctx->restore_in_port = &saved;
    }
    lookup(ctx, b, table, cont, depth + 1);
    ctx->restore_in_port = NULL;
}

/* Conntrack: the recirculated copy of 'b' looks up 'oc->recirc_table' with
 * the ct_* fields free but +trk, in the zone given. */
static void
conntrack(struct ctx *ctx, const struct branch *b,
          const struct ofpact_conntrack *oc)
{
    struct orig *owned = NULL;
    struct branch *x = branch_clone(ctx, b);
    struct step st = {
        .table = oc->recirc_table,
        .is_ct = true,
    };

    if (ctx->n_recircs >= MAX_RECIRCS) {
        opaque(ctx, b, "too many conntrack recirculations");
        branch_free(ctx, x);
        return;
    }

    free_bits(x, &layout.ct_free, &owned);
    const struct ofpact *a;
    OFPACT_FOR_EACH (a, oc->actions, ofpact_ct_get_action_len(oc)) {
        if (a->type == OFPACT_NAT) {
            free_bits(x, &layout.nat_free, &owned);
        }
    }

    union mf_value value, mask;
    memset(&value, 0, sizeof value);
    memset(&mask, 0, sizeof mask);
    value.u8 = CS_TRACKED;
    mask.u8 = CS_TRACKED;
    write_field(x, mf_from_id(MFF_CT_STATE), &value, &mask, &owned);

    if (oc->zone_src.field) {
        uint64_t zm = mf_get_subfield(&oc->zone_src, (struct flow *) b->c.m);
        uint64_t all = (UINT64_C(1) << MIN(oc->zone_src.n_bits, 16)) - 1;
        if ((zm & all) == all) {
            st.zone = mf_get_subfield(&oc->zone_src, (struct flow *) b->c.v);
            st.zone_known = true;
        }
    } else {
        st.zone = oc->zone_imm;
        st.zone_known = true;
    }
    struct hs_cube zbits;
    hs_field_bits(mf_from_id(MFF_CT_ZONE), &zbits);
    if (st.zone_known) {
        value.be16 = htons(st.zone);
        write_field_exact(x, MFF_CT_ZONE, &value, &owned);
    } else {
        free_bits(x, &zbits, &owned);
    }

    if (oc->recirc_table != NX_CT_RECIRC_NONE) {
        ctx->n_recircs++;
        push_step(ctx, &st);
        lookup(ctx, x, oc->recirc_table, NULL, 0);
        ctx->n_steps--;
        ctx->n_recircs--;
    }
    branch_free(ctx, x);
    while (owned) {
        struct orig *next = owned->next;
        free(owned);
        owned = next;
    }
}

static void exec_actions__(struct ctx *, struct branch *,
                           const struct ofpact *, size_t len, uint8_t table,
                           const struct frame *up, int depth);

/* Runs 'len' bytes of actions 'ofpacts' of a flow of 'table' on 'b', then
 * goes on with 'up'.  What follows a resubmit in a flow runs nested in it
 * (go_up()), so that a flow of many resubmits in a row nests as deep as it
 * has resubmits, which MAX_DEPTH does not bound: past MAX_NESTING, the
 * packet's way is opaque (a possible leak) rather than a stack that
 * overflows and takes the controller with it. */
static void
exec_actions(struct ctx *ctx, struct branch *b, const struct ofpact *ofpacts,
             size_t len, uint8_t table, const struct frame *up, int depth)
{
    if (ctx->nesting >= MAX_NESTING) {
        opaque(ctx, b, "actions nested too deeply (resubmits in a row)");
        return;
    }
    ctx->nesting++;
    exec_actions__(ctx, b, ofpacts, len, table, up, depth);
    ctx->nesting--;
}

/* Does the work of exec_actions(). */
static void
exec_actions__(struct ctx *ctx, struct branch *b, const struct ofpact *ofpacts,
               size_t len, uint8_t table, const struct frame *up, int depth)
{
    const struct ofpact *end = ofpact_end(ofpacts, len);
    struct orig *owned = NULL;
    bool done = false;
    const struct ofpact *a;

    for (a = ofpacts; a < end && !done; a = ofpact_next(a)) {
        union mf_value value, mask;

        memset(&value, 0, sizeof value);
        memset(&mask, 0, sizeof mask);
        switch (a->type) {
        case OFPACT_OUTPUT:
            output(ctx, b, ofpact_get_OUTPUT(a)->port);
            break;
        case OFPACT_ENQUEUE:
            output(ctx, b, ofpact_get_ENQUEUE(a)->port);
            break;
        case OFPACT_OUTPUT_REG:
            output_reg(ctx, b, &ofpact_get_OUTPUT_REG(a)->src);
            break;
        case OFPACT_CONTROLLER:
            /* A sink: Bulkhead's controller sends no packet-out. */
            break;
        case OFPACT_SET_FIELD: {
            const struct ofpact_set_field *sf = ofpact_get_SET_FIELD(a);
            write_field_if(b, prereqs_sure(b, sf->field), sf->field,
                           sf->value, ofpact_set_field_mask(sf), &owned);
            break;
        }
        case OFPACT_REG_MOVE: {
            const struct ofpact_reg_move *rm = ofpact_get_REG_MOVE(a);
            move_field(b, &rm->src, &rm->dst, &owned);
            break;
        }
        case OFPACT_SET_VLAN_VID: {
            const struct ofpact_vlan_vid *vv = ofpact_get_SET_VLAN_VID(a);
            const struct flow *m = (const struct flow *) b->c.m;
            const struct flow *v = (const struct flow *) b->c.v;
            bool tagged = (m->vlans[0].tci & htons(VLAN_CFI))
                          && (v->vlans[0].tci & htons(VLAN_CFI));
            if (!tagged && !vv->push_vlan_if_needed) {
                /* Untagged packets stay so, tagged ones get the VID. */
                struct hs_cube bits;
                hs_field_bits(mf_from_id(MFF_VLAN_TCI), &bits);
                free_bits(b, &bits, &owned);
            } else {
                value.be16 = htons(VLAN_CFI | vv->vlan_vid);
                mask.be16 = htons(VLAN_CFI | VLAN_VID_MASK);
                write_field(b, mf_from_id(MFF_VLAN_TCI), &value, &mask,
                            &owned);
            }
            break;
        }
        case OFPACT_SET_VLAN_PCP: {
            /* As OVS: a tagged packet, or with mod_vlan_pcp an untagged
             * one too (pushing a tag), gets the PCP. */
            const struct ofpact_vlan_pcp *vp = ofpact_get_SET_VLAN_PCP(a);
            const struct flow *m = (const struct flow *) b->c.m;
            const struct flow *v = (const struct flow *) b->c.v;
            bool tagged = (m->vlans[0].tci & htons(VLAN_CFI))
                          && (v->vlans[0].tci & htons(VLAN_CFI));
            if (!tagged && !vp->push_vlan_if_needed) {
                struct hs_cube bits;
                memset(&bits, 0, sizeof bits);
                ((struct flow *) bits.m)->vlans[0].tci
                    = htons(VLAN_PCP_MASK);
                free_bits(b, &bits, &owned);
            } else {
                value.be16 = htons((vp->vlan_pcp << VLAN_PCP_SHIFT)
                                   | VLAN_CFI);
                mask.be16 = htons(VLAN_PCP_MASK | VLAN_CFI);
                write_field(b, mf_from_id(MFF_VLAN_TCI), &value, &mask,
                            &owned);
            }
            break;
        }
        case OFPACT_STRIP_VLAN: {
            /* The inner tag, if any, becomes the outer one. */
            struct hs_cube bits;
            memset(&bits, 0, sizeof bits);
            uint64_t *vm = (uint64_t *) ((struct flow *) bits.m)->vlans;
            memset(vm, 0xff, sizeof ((struct flow *) 0)->vlans);
            struct flow *v = (struct flow *) b->c.v;
            struct flow *m = (struct flow *) b->c.m;
            union flow_vlan_hdr inner_v = v->vlans[1], inner_m = m->vlans[1];
            touch(b, &bits, &owned);
            v->vlans[0] = inner_v;
            m->vlans[0] = inner_m;
            v->vlans[1].qtag = 0;
            m->vlans[1].qtag = OVS_BE32_MAX;
            break;
        }
        case OFPACT_PUSH_VLAN: {
            struct hs_cube bits;
            memset(&bits, 0, sizeof bits);
            uint64_t *vm = (uint64_t *) ((struct flow *) bits.m)->vlans;
            memset(vm, 0xff, sizeof ((struct flow *) 0)->vlans);
            struct flow *v = (struct flow *) b->c.v;
            struct flow *m = (struct flow *) b->c.m;
            union flow_vlan_hdr outer_v = v->vlans[0], outer_m = m->vlans[0];
            touch(b, &bits, &owned);
            v->vlans[1] = outer_v;
            m->vlans[1] = outer_m;
            /* As OVS (do_xlate_actions()): the new tag has VID 0 and PCP
             * 0, whatever the old one had. */
            v->vlans[0].tci = htons(VLAN_CFI);
            m->vlans[0].tci = OVS_BE16_MAX;
            v->vlans[0].tpid = ofpact_get_PUSH_VLAN(a)->ethertype;
            m->vlans[0].tpid = OVS_BE16_MAX;
            break;
        }
        case OFPACT_SET_ETH_SRC:
            value.mac = ofpact_get_SET_ETH_SRC(a)->mac;
            write_field_exact(b, MFF_ETH_SRC, &value, &owned);
            break;
        case OFPACT_SET_ETH_DST:
            value.mac = ofpact_get_SET_ETH_DST(a)->mac;
            write_field_exact(b, MFF_ETH_DST, &value, &owned);
            break;
        /* OVS rewrites these only in the packets that have the field
         * (IPv4 addresses: IPv4; TOS and TTL: IP; ports: IP but later
         * fragments), not, say, an ARP packet's addresses. */
        case OFPACT_SET_IPV4_SRC:
            value.be32 = ofpact_get_SET_IPV4_SRC(a)->ipv4;
            write_field_exact_if(b, prereqs_sure(b, mf_from_id(MFF_IPV4_SRC)),
                                 MFF_IPV4_SRC, &value, &owned);
            break;
        case OFPACT_SET_IPV4_DST:
            value.be32 = ofpact_get_SET_IPV4_DST(a)->ipv4;
            write_field_exact_if(b, prereqs_sure(b, mf_from_id(MFF_IPV4_DST)),
                                 MFF_IPV4_DST, &value, &owned);
            break;
        case OFPACT_SET_IP_DSCP:
            value.u8 = ofpact_get_SET_IP_DSCP(a)->dscp;
            write_field_exact_if(b, prereqs_sure(b, mf_from_id(MFF_IP_DSCP)),
                                 MFF_IP_DSCP, &value, &owned);
            break;
        case OFPACT_SET_IP_ECN:
            value.u8 = ofpact_get_SET_IP_ECN(a)->ecn;
            write_field_exact_if(b, prereqs_sure(b, mf_from_id(MFF_IP_ECN)),
                                 MFF_IP_ECN, &value, &owned);
            break;
        case OFPACT_SET_IP_TTL:
            value.u8 = ofpact_get_SET_IP_TTL(a)->ttl;
            write_field_exact_if(b, prereqs_sure(b, mf_from_id(MFF_IP_TTL)),
                                 MFF_IP_TTL, &value, &owned);
            break;
        case OFPACT_DEC_TTL: {
            /* TTL becomes unknown; an expired one goes to the controller,
             * a sink. */
            struct hs_cube bits;
            hs_field_bits(mf_from_id(MFF_IP_TTL), &bits);
            free_bits(b, &bits, &owned);
            break;
        }
        case OFPACT_SET_L4_SRC_PORT:
            value.be16 = htons(ofpact_get_SET_L4_SRC_PORT(a)->port);
            write_field_exact_if(b, l4_sure(b), MFF_TCP_SRC, &value,
                                 &owned);
            break;
        case OFPACT_SET_L4_DST_PORT:
            value.be16 = htons(ofpact_get_SET_L4_DST_PORT(a)->port);
            write_field_exact_if(b, l4_sure(b), MFF_TCP_DST, &value,
                                 &owned);
            break;
        case OFPACT_SET_TUNNEL:
            value.be64 = htonll(ofpact_get_SET_TUNNEL(a)->tun_id);
            write_field_exact(b, MFF_TUN_ID, &value, &owned);
            break;
        case OFPACT_WRITE_METADATA: {
            const struct ofpact_metadata *md = ofpact_get_WRITE_METADATA(a);
            value.be64 = md->metadata;
            mask.be64 = md->mask;
            write_field(b, mf_from_id(MFF_METADATA), &value, &mask, &owned);
            break;
        }
        case OFPACT_SET_QUEUE:
        case OFPACT_POP_QUEUE:
        case OFPACT_FIN_TIMEOUT:
        case OFPACT_METER:
        case OFPACT_NOTE:
        case OFPACT_SAMPLE:
        case OFPACT_CLEAR_ACTIONS:
        case OFPACT_CONJUNCTION:
        case OFPACT_DEBUG_SLOW:
            break;
        case OFPACT_EXIT:
            /* Stops the packet's translation: nothing after, nothing
             * above. */
            up = NULL;
            done = true;
            break;
        case OFPACT_CT_CLEAR: {
            free_bits(b, &layout.ct_free, &owned);
            struct hs_cube bits = layout.ct_free;
            for (size_t i = 0; i < HS_N; i++) {
                b->c.m[i] |= bits.m[i];
            }
            break;
        }
        case OFPACT_CT:
            conntrack(ctx, b, ofpact_get_CT(a));
            if (ofpact_get_CT(a)->recirc_table == NX_CT_RECIRC_NONE) {
                free_bits(b, &layout.ct_free, &owned);
            }
            break;
        case OFPACT_CLONE: {
            const struct ofpact_nest *on = ofpact_get_CLONE(a);
            struct branch *x = branch_clone(ctx, b);
            exec_actions(ctx, x, on->actions, ofpact_nest_get_action_len(on),
                         table, NULL, depth);
            branch_free(ctx, x);
            break;
        }
        case OFPACT_RESUBMIT: {
            const struct ofpact_resubmit *r = ofpact_get_RESUBMIT(a);
            if (r->with_ct_orig) {
                opaque(ctx, b, "resubmit with ct");
            } else if (depth >= MAX_DEPTH) {
                opaque(ctx, b, "resubmit depth beyond 64");
            } else {
                resubmit(ctx, b, a, end, table,
                         r->table_id == 255 ? table : r->table_id,
                         r->in_port, up, depth);
            }
            up = NULL;
            done = true;
            break;
        }
        case OFPACT_GOTO_TABLE:
            if (depth >= MAX_DEPTH) {
                opaque(ctx, b, "resubmit depth beyond 64");
            } else {
                resubmit(ctx, b, a, end, table,
                         ofpact_get_GOTO_TABLE(a)->table_id, OFPP_IN_PORT,
                         up, depth);
            }
            up = NULL;
            done = true;
            break;
        default:
            /* learn, group, bundle, multipath, encap, MPLS, stack,
             * write_actions, check_pkt_larger...: not modeled. */
            opaque(ctx, b, ofpact_name(a->type));
            break;
        }
    }
    if (!done) {
        go_up(ctx, b, up);
    }
    while (owned) {
        struct orig *next = owned->next;
        free(owned);
        owned = next;
    }
}

/* Follows the part of 'b' within 'm' (a flow's match, or a conjunction's
 * cube) and not within 'taken' (what flows above took) into flow 'f''s
 * actions. */
static void
follow_flow(struct ctx *ctx, const struct branch *b, const struct vfy_flow *f,
            const struct hs_sparse *m, const struct hs_sparse **taken,
            size_t n_taken, const struct frame *up, int depth)
{
    const struct hs_sparse *few[32];
    const struct hs_cube *rip = ctx->restore_in_port;
    struct branch branch, *x = &branch;
    size_t n_max = b->n_subs + n_taken;

    ctx->restore_in_port = NULL;

    x->c = b->c;
    hs_and(&x->c, m);
    x->subs = (n_max <= ARRAY_SIZE(few) ? few
               : xmalloc(n_max * sizeof *x->subs));
    x->n_subs = 0;
    x->orig = b->orig;

    bool empty = false;
    for (size_t i = 0; i < b->n_subs + n_taken && !empty; i++) {
        const struct hs_sparse *s = (i < b->n_subs ? b->subs[i]
                                     : taken[i - b->n_subs]);
        if (hs_intersects(&x->c, s)) {
            if (hs_covers(s, &x->c)) {
                empty = true;
            }
            x->subs[x->n_subs++] = s;
        }
    }
    if (!empty && x->n_subs) {
        empty = !hs_is_nonempty(&x->c, x->subs, x->n_subs,
                                FLOW_SPLIT_BUDGET);
    }
    if (!empty && rip) {
        /* resubmit(P,T): the actions see the packet's own in_port.  What
         * the subtracted cubes said of in_port was of P: drop those. */
        size_t n = 0;
        for (size_t i = 0; i < x->n_subs; i++) {
            if (!hs_sparse_touches(x->subs[i], &ctx->in_port_bits)) {
                x->subs[n++] = x->subs[i];
            }
        }
        x->n_subs = n;
        for (size_t i = 0; i < HS_N; i++) {
            uint64_t bits = ctx->in_port_bits.m[i];
            x->c.v[i] = (x->c.v[i] & ~bits) | rip->v[i];
            x->c.m[i] = (x->c.m[i] & ~bits) | rip->m[i];
        }
    }
    if (!empty) {
        const struct flow *cv = (const struct flow *) x->c.v;
        const struct flow *cm = (const struct flow *) x->c.m;
        struct step st = {
            .table = f->table_id,
            .priority = f->priority,
            .cookie = f->cookie,
            .ct_v = cv->ct_state,
            .ct_m = cm->ct_state,
        };
        push_step(ctx, &st);
        exec_actions(ctx, x, f->ofpacts, f->ofpacts_len, f->table_id, up,
                     depth);
        ctx->n_steps--;
    }
    if (x->subs != few) {
        free(x->subs);
    }
}

/* What the flows of one lookup took, kept on the stack while few. */
struct taken {
    const struct hs_sparse **v; /* The cubes, by decreasing priority. */
    size_t n;                   /* Number of them. */
    size_t allocated;           /* Allocated size of 'v'. */
    const struct hs_sparse *buf[32]; /* 'v' while they fit. */
};

/* Makes 'tk' empty. */
static void
taken_init(struct taken *tk)
{
    tk->v = tk->buf;
    tk->n = 0;
    tk->allocated = ARRAY_SIZE(tk->buf);
}

/* Appends 's' to 'tk'. */
static void
taken_push(struct taken *tk, const struct hs_sparse *s)
{
    if (tk->n >= tk->allocated) {
        if (tk->v == tk->buf) {
            tk->v = xmemdup(tk->buf, sizeof tk->buf);
        }
        tk->v = x2nrealloc(tk->v, &tk->allocated, sizeof *tk->v);
    }
    tk->v[tk->n++] = s;
}

/* Frees what 'tk' allocated. */
static void
taken_destroy(struct taken *tk)
{
    if (tk->v != tk->buf) {
        free(tk->v);
    }
}

/* Enumerates the cubes of a conjunction: 'acc' intersected with one
 * clause of each dimension from 'dim' on.  Returns false if there are more
 * than 'max' of them. */
static bool
conj_cubes(const struct hs_cube *acc, const struct hs_cube *c,
           const struct vfy_clause *const *dims[], const size_t n_dim[],
           size_t dim, size_t n_dims, struct hs_sparse ***out, size_t *n,
           size_t max)
{
    if (dim == n_dims) {
        if (*n >= max) {
            return false;
        }
        if (out) {
            *out = xrealloc(*out, (*n + 1) * sizeof **out);
            (*out)[*n] = hs_sparse_from_cube(acc);
        }
        (*n)++;
        return true;
    }
    for (size_t i = 0; i < n_dim[dim]; i++) {
        const struct hs_sparse *cl = dims[dim][i]->flow->match;
        struct hs_cube tmp;

        if (!hs_intersects(acc, cl)) {
            continue;
        }
        tmp = *acc;
        hs_and(&tmp, cl);
        if (!hs_cube_intersects(&tmp, c)) {
            continue;
        }
        if (!conj_cubes(&tmp, c, dims, n_dim, dim + 1, n_dims, out, n,
                        max)) {
            return false;
        }
    }
    return true;
}

/* Returns the bitwise hull of the matches of the 'n' (at least one)
 * clauses 'cls': the bits they all fix, to the same value. */
static struct hs_sparse *
clause_hull(const struct vfy_clause *const *cls, size_t n)
{
    const struct hs_sparse *first = cls[0]->flow->match;
    size_t nw = first->n;
    uint8_t idx[HS_N];
    uint64_t v[HS_N], m[HS_N];

    for (size_t k = 0; k < nw; k++) {
        idx[k] = first->idx[k];
        v[k] = HS_SV(first, k);
        m[k] = HS_SM(first, k);
    }
    for (size_t i = 1; i < n && nw; i++) {
        const struct hs_sparse *s = cls[i]->flow->match;
        size_t out = 0, j = 0;
        for (size_t k = 0; k < nw; k++) {
            while (j < s->n && s->idx[j] < idx[k]) {
                j++;
            }
            if (j < s->n && s->idx[j] == idx[k]) {
                uint64_t mk = m[k] & HS_SM(s, j) & ~(v[k] ^ HS_SV(s, j));
                if (mk) {
                    idx[out] = idx[k];
                    m[out] = mk;
                    v[out] = v[k] & mk;
                    out++;
                }
            }
        }
        nw = out;
    }

    struct hs_cube c;
    memset(&c, 0, sizeof c);
    for (size_t k = 0; k < nw; k++) {
        c.v[idx[k]] = v[k];
        c.m[idx[k]] = m[k];
    }
    return hs_sparse_from_cube(&c);
}

/* Returns a hash of the words 'idx' ('n' of them) of 'c'. */
static uint32_t
words_hash(const struct hs_cube *c, const uint8_t *idx, size_t n)
{
    uint32_t hash = 0;

    for (size_t i = 0; i < n; i++) {
        hash = hash_add64(hash, c->v[idx[i]]);
        hash = hash_add64(hash, c->m[idx[i]]);
    }
    return hash_finish(hash, n);
}

/* Stores in 'w' the words 'idx' ('n' of them) of 'c', as words_copy()
 * returns them. */
static void
words_store(const struct hs_cube *c, const uint8_t *idx, size_t n,
            uint64_t *w)
{
    for (size_t i = 0; i < n; i++) {
        w[i] = c->v[idx[i]];
        w[n + i] = c->m[idx[i]];
    }
}

/* Returns a copy of the words 'idx' ('n' of them) of 'c': their values,
 * then their masks. */
static uint64_t *
words_copy(const struct hs_cube *c, const uint8_t *idx, size_t n)
{
    uint64_t *w = xmalloc((2 * n + 1) * sizeof *w);

    words_store(c, idx, n, w);
    return w;
}

/* Returns true if the words 'idx' ('n' of them) of 'c' are 'w' (as
 * words_copy() gives them). */
static bool
words_equal(const struct hs_cube *c, const uint8_t *idx, size_t n,
            const uint64_t *w)
{
    for (size_t i = 0; i < n; i++) {
        if (w[i] != c->v[idx[i]] || w[n + i] != c->m[idx[i]]) {
            return false;
        }
    }
    return true;
}

/* What a conjunction flow does with the spaces that agree on the bits its
 * match and its clauses fix (a conj_memo's key). */
struct conj_memo {
    struct hmap_node node;      /* In vfy_checker 'conj_memo'. */
    const struct vfy_flow *flow; /* The conjunction flow. */
    uint64_t *key;              /* The space on those bits (its words
                                 * 'words' of the conjunction). */
    bool match;                 /* Every dimension has a clause. */
    bool exact;                 /* 'cubes' is its exact extent. */
    struct hs_sparse **cubes;   /* If so, its cubes. */
    size_t n_cubes;             /* Number of them. */
    struct hs_sparse *hull;     /* The dimensions' hulls, intersected, or
                                 * NULL if they do not meet. */
};

/* Computes 'cm' for conjunction flow 'f' of clauses 'cj' and the space
 * 'c'. */
static void
conj_memo_compute(struct conj_memo *cm, const struct vfy_conj *cj,
                  const struct vfy_flow *f, const struct hs_cube *c)
{
    size_t n_dims = 0;
    for (size_t i = 0; i < cj->n; i++) {
        if (cj->clauses[i].flow->priority == f->priority) {
            n_dims = MAX(n_dims, cj->clauses[i].n_dims);
        }
    }
    cm->match = n_dims > 0;
    if (!cm->match) {
        return;
    }

    /* The clauses at the conjunction's priority that meet the space,
     * per dimension. */
    const struct vfy_clause **dims[64];
    size_t n_dim[64];
    struct hs_cube base;
    hs_cube_from_sparse(&base, f->match);
    struct hs_cube within = *c;
    hs_and(&within, f->match);
    for (size_t d = 0; d < n_dims; d++) {
        dims[d] = xmalloc((cj->n ? cj->n : 1) * sizeof *dims[d]);
        n_dim[d] = 0;
    }
    for (size_t i = 0; i < cj->n; i++) {
        const struct vfy_clause *cl = &cj->clauses[i];
        if (cl->dim < n_dims && cl->flow->priority == f->priority
            && cl->n_dims == n_dims
            && hs_intersects(&within, cl->flow->match)) {
            dims[cl->dim][n_dim[cl->dim]++] = cl;
        }
    }
    for (size_t d = 0; d < n_dims; d++) {
        cm->match = cm->match && n_dim[d] > 0;
    }

    if (cm->match) {
        const struct vfy_clause *const **cdims
            = (const struct vfy_clause *const **) dims;
        cm->exact = conj_cubes(&base, c, cdims, n_dim, 0, n_dims, NULL,
                               &cm->n_cubes, MAX_CONJ_CUBES);
        cm->n_cubes = 0;
        if (cm->exact) {
            conj_cubes(&base, c, cdims, n_dim, 0, n_dims, &cm->cubes,
                       &cm->n_cubes, MAX_CONJ_CUBES);
        }
        struct hs_cube hull;
        memset(&hull, 0, sizeof hull);
        bool meet = true;
        for (size_t d = 0; d < n_dims && meet; d++) {
            struct hs_sparse *hs = clause_hull(dims[d], n_dim[d]);
            if (hs_intersects(&hull, hs)) {
                hs_and(&hull, hs);
            } else {
                meet = false;
            }
            free(hs);
        }
        cm->hull = meet ? hs_sparse_from_cube(&hull) : NULL;
    }
    for (size_t d = 0; d < n_dims; d++) {
        free(dims[d]);
    }
}

/* Returns what conjunction flow 'f' of clauses 'cj' does with 'c', from
 * the checker's cache. */
static const struct conj_memo *
conj_memo_get(struct vfy_checker *ck, const struct vfy_conj *cj,
              const struct vfy_flow *f, const struct hs_cube *c)
{
    struct hs_cube k;

    for (size_t i = 0; i < cj->n_words; i++) {
        size_t w = cj->words[i];
        k.m[w] = c->m[w] & cj->mask[w];
        k.v[w] = c->v[w] & k.m[w];
    }
    uint32_t hash = hash_pointer(f, words_hash(&k, cj->words, cj->n_words));
    struct conj_memo *cm;

    HMAP_FOR_EACH_WITH_HASH (cm, node, hash, &ck->conj_memo) {
        if (cm->flow == f && words_equal(&k, cj->words, cj->n_words,
                                         cm->key)) {
            return cm;
        }
    }
    cm = xzalloc(sizeof *cm);
    cm->flow = f;
    cm->key = words_copy(&k, cj->words, cj->n_words);
    conj_memo_compute(cm, cj, f, c);
    hmap_insert(&ck->conj_memo, &cm->node, hash);
    return cm;
}

/* Frees the checker's cache of conjunctions. */
static void
conj_memo_clear(struct vfy_checker *ck)
{
    struct conj_memo *cm;

    HMAP_FOR_EACH_POP (cm, node, &ck->conj_memo) {
        free(cm->key);
        for (size_t i = 0; i < cm->n_cubes; i++) {
            free(cm->cubes[i]);
        }
        free(cm->cubes);
        free(cm->hull);
        free(cm);
    }
}

/* Follows 'b' into conjunction flow 'f' of table 't', minus the first
 * 'n_above' cubes of 'taken'.  Appends to 'taken' what the conjunction
 * surely takes from the flows below it (cubes that the checker's cache
 * owns). */
static void
follow_conj(struct ctx *ctx, const struct branch *b, const struct vfy_table *t,
            const struct vfy_flow *f, struct taken *taken, size_t n_above,
            const struct frame *up, int depth)
{
    const struct vfy_conj *cj = find_conj(t, f->conj_id);
    if (!cj) {
        return;                 /* No clause: matches nothing. */
    }
    for (size_t d = 0; d < cj->n_hulls; d++) {
        if (cj->hulls[d] && !hs_intersects(&b->c, cj->hulls[d])) {
            return;             /* No clause of dimension 'd' meets it. */
        }
    }
    if (cj->min_prio != f->priority || cj->max_prio != f->priority) {
        /* Clauses at another priority than the flow's: OVS looks the flow
         * up with conj_id once the clauses of any one priority match
         * (classifier_lookup__()), and then a flow of a priority between
         * the two may win.  Follow all of its match, take nothing from
         * the flows below it: an over-approximation. */
        follow_flow(ctx, b, f, f->match, taken->v, n_above, up, depth);
        return;
    }
    const struct conj_memo *cm = conj_memo_get(ctx->ck, cj, f, &b->c);
    if (!cm->match) {
        return;
    }

    /* The conjunction's exact cubes (clause by clause), which the flows
     * below must not take, if they are few enough; one cube that holds
     * them all (each dimension's hull) is what is followed when there are
     * several: over-approximating the part that goes through the flow's
     * actions is safe, and spares following the same actions once per
     * member address. */
    if (cm->exact && cm->n_cubes == 1) {
        follow_flow(ctx, b, f, cm->cubes[0], taken->v, n_above, up, depth);
    } else if (!cm->exact || cm->n_cubes > 1) {
        struct hs_cube hull_all = b->c;
        hs_and(&hull_all, f->match);
        if (cm->hull && hs_intersects(&hull_all, cm->hull)) {
            hs_and(&hull_all, cm->hull);
            struct hs_sparse *m = hs_sparse_from_cube(&hull_all);
            follow_flow(ctx, b, f, m, taken->v, n_above, up, depth);
            free(m);
        }
    }
    for (size_t i = 0; cm->exact && i < cm->n_cubes; i++) {
        taken_push(taken, cm->cubes[i]);
    }
}

/* Looks up 'table' with 'b': every flow, by priority, takes the part of
 * 'b' it matches that no flow above it took.  The rest is dropped. */
static void
lookup_raw(struct ctx *ctx, const struct branch *b, uint8_t table,
       const struct frame *up, int depth)
{
    const struct vfy_table *t = &ctx->flows->tables[table];

    /* A lookup of resubmit(P,T): 'up' restores in_port for what no flow
     * takes; a flow's actions go on above it, with in_port restored by
     * follow_flow(). */
    const struct hs_cube *rip = ctx->restore_in_port;
    ctx->restore_in_port = NULL;
    ovs_assert(!rip || (up && up->restore));
    const struct frame *fup = rip ? up->up : up;

    if (++ctx->n_lookups > MAX_LOOKUPS) {
        opaque(ctx, b, "traversal too large");
        return;
    }
    record_lookup(ctx, table, &b->c);

    if (t->no_effect) {
        /* Nothing here changes or sends the packet (statistics, mirror
         * tables without mirrors): a caller goes on as it is. */
        if (up) {
            struct branch *x = branch_clone(ctx, b);
            go_up(ctx, x, up);
            branch_free(ctx, x);
        }
        return;
    }

    /* Candidates: the flows with the key's value and those without a
     * key, merged by priority; or all. */
    struct vfy_flow *const *l1 = t->all, *const *l2 = NULL;
    size_t n1 = t->n_all, n2 = 0;
    uint64_t val[2];
    if (t->key < VFY_N_KEYS && cube_key(&b->c, t->key, val)) {
        uint32_t hash = hash_2words(hash_uint64(val[0]),
                                    hash_uint64(val[1]));
        const struct vfy_bucket *bk;
        l1 = NULL;
        n1 = 0;
        HMAP_FOR_EACH_WITH_HASH (bk, node, hash, &t->buckets) {
            if (bk->val[0] == val[0] && bk->val[1] == val[1]) {
                l1 = bk->flows;
                n1 = bk->n;
                break;
            }
        }
        l2 = t->wild;
        n2 = t->n_wild;
    }

    struct taken taken;
    taken_init(&taken);
    size_t i1 = 0, i2 = 0;

    /* Flows of one priority that overlap: OVS may pick either, so neither
     * takes anything from the other; only what flows of higher priority
     * took ('n_above' first entries of 'taken') is subtracted. */
    int cur_prio = -1;
    size_t n_above = 0;
    int covered_prio = -1;
    size_t n_sub = SIZE_MAX;
    while (i1 < n1 || i2 < n2) {
        const struct vfy_flow *f;
        if (i2 >= n2 || (i1 < n1 && l1[i1]->priority >= l2[i2]->priority)) {
            f = l1[i1++];
        } else {
            f = l2[i2++];
        }
        if (f->priority < covered_prio) {
            break;
        }
        if ((int) f->priority != cur_prio) {
            cur_prio = f->priority;
            n_above = taken.n;
        }
        if (!hs_intersects(&b->c, f->match)) {
            continue;
        }
        if (f->is_conj) {
            ctx->restore_in_port = rip;
            follow_conj(ctx, b, t, f, &taken, n_above, fup, depth);
            ctx->restore_in_port = NULL;
            continue;
        }
        if (f->no_effect) {
            /* What a flow without effect takes goes on with the
             * continuation unchanged, as what no flow matches does: if
             * every flow below is so too, let all of it go on at once
             * below; otherwise, follow this flow alone. */
            bool rest_no_effect = true;
            for (size_t j1 = i1, j2 = i2;
                 rest_no_effect && (j1 < n1 || j2 < n2);) {
                const struct vfy_flow *g = j1 < n1 ? l1[j1++] : l2[j2++];
                rest_no_effect = g->no_effect
                                 || !hs_intersects(&b->c, g->match);
            }
            if (rest_no_effect) {
                n_sub = n_above;
                break;
            }
            if (up) {
                ctx->restore_in_port = rip;
                follow_flow(ctx, b, f, f->match, taken.v, n_above, fup,
                            depth);
            }
        } else {
            ctx->restore_in_port = rip;
            follow_flow(ctx, b, f, f->match, taken.v, n_above, fup,
                        depth);
        }
        if (hs_covers(f->match, &b->c)) {
            covered_prio = f->priority;
        }
        taken_push(&taken, f->match);
    }

    /* What no flow took (or only flows without effect): a table miss does
     * nothing, so a resubmit's caller goes on; at the end of the pipeline
     * (no caller), that is a drop. */
    n_sub = MIN(n_sub, taken.n);
    if (up && (covered_prio < 0 || n_sub < taken.n)) {
        struct branch *x = branch_alloc(ctx, b->n_subs + n_sub);
        x->c = b->c;
        x->orig = b->orig;
        bool empty = false;
        for (size_t i = 0; i < b->n_subs + n_sub && !empty; i++) {
            const struct hs_sparse *s = (i < b->n_subs ? b->subs[i]
                                         : taken.v[i - b->n_subs]);
            if (hs_intersects(&x->c, s)) {
                empty = hs_covers(s, &x->c);
                x->subs[x->n_subs++] = s;
            }
        }
        if (!empty && (!x->n_subs
                       || hs_is_nonempty(&x->c, x->subs, x->n_subs,
                                         FLOW_SPLIT_BUDGET))) {
            go_up(ctx, x, up);
        }
        branch_free(ctx, x);
    }
    taken_destroy(&taken);
}

/* The memo of table traversals. */

/* Returns true if register 'r''s value 'v' is one that the flows
 * reachable through 'l' test. */
static bool
live_val(const struct vfy_live *l, int r, uint32_t v)
{
    for (size_t i = 0; i < l->n_vals[r]; i++) {
        if (l->vals[r][i] == v) {
            return true;
        }
    }
    return false;
}

/* Stores in the live words of 'key' (the others are left as they are) the
 * space that a lookup of 'table' with 'b' is memoized as: 'b''s cube with
 * the bits that no reachable flow reads freed, and so a register that
 * holds a value no reachable flow tests (a superset of 'b'), minus those
 * of 'b''s subtracted cubes that only fix bits left ('subs', 'n_subs'). */
static void
memo_key(const struct ctx *ctx, const struct branch *b, uint8_t table,
         struct hs_cube *key, const struct hs_sparse **subs, size_t *n_subs)
{
    const struct vfy_checker *ck = ctx->ck;
    const struct vfy_live *l = &ck->live[table];
    const uint8_t *words = ck->live_words[table];

    for (size_t j = 0; j < ck->n_live_words[table]; j++) {
        size_t i = words[j];
        key->m[i] = b->c.m[i] & l->m[i];
        key->v[i] = b->c.v[i] & l->m[i];
    }

    /* Registers that hold a value no reachable flow tests. */
    const size_t regs_w = offsetof(struct flow, regs) / sizeof(uint64_t);
    union {
        uint64_t w[FLOW_N_REGS / 2];
        uint32_t r[FLOW_N_REGS];
    } freed;
    bool any_freed = false;
    memset(&freed, 0, sizeof freed);
    struct flow *km = (struct flow *) key->m;
    struct flow *kv = (struct flow *) key->v;
    const struct flow *cm = (const struct flow *) b->c.m;
    const struct flow *cv = (const struct flow *) b->c.v;
    for (uint32_t regs = ck->free_regs[table]; regs; regs &= regs - 1) {
        int r = raw_ctz(regs);
        if (cm->regs[r] == UINT32_MAX && !live_val(l, r, cv->regs[r])) {
            km->regs[r] = kv->regs[r] = 0;
            freed.r[r] = UINT32_MAX;
            any_freed = true;
        }
    }

    *n_subs = 0;
    for (size_t i = 0; i < b->n_subs; i++) {
        const struct hs_sparse *s = b->subs[i];
        bool inside = true;
        for (size_t j = 0; j < s->n && inside; j++) {
            size_t w = s->idx[j];
            uint64_t keep = l->m[w];
            if (any_freed && w >= regs_w && w < regs_w + FLOW_N_REGS / 2) {
                keep &= ~freed.w[w - regs_w];
            }
            inside = !(HS_SM(s, j) & ~keep);
        }
        if (inside) {
            subs[(*n_subs)++] = s;
        }
    }
}

/* Returns the entry of 'ctx''s memo for ('table', 'key', 'subs'), or
 * NULL; 'hash' is their hash. */
static struct memo_entry *
memo_find(const struct ctx *ctx, uint32_t hash, uint8_t table, int depth,
          const struct hs_cube *key, const struct hs_sparse *const *subs,
          size_t n_subs)
{
    struct memo_entry *e;

    HMAP_FOR_EACH_WITH_HASH (e, node, hash, &ctx->ck->memo) {
        if (e->table != table || e->depth != depth
            || e->n_recircs != ctx->n_recircs || e->n_subs != n_subs
            || !words_equal(key, ctx->ck->live_words[table],
                            ctx->ck->n_live_words[table], e->key)) {
            continue;
        }
        bool same = true;
        for (size_t i = 0; i < n_subs && same; i++) {
            same = hs_sparse_equal(e->subs[i], subs[i]);
        }
        if (same) {
            return e;
        }
    }
    return NULL;
}

/* Returns true if exit 'x' may leak for input 'in'. */
static bool
mexit_may_leak(const struct ctx *ctx, const struct mexit *x,
               const struct input *in)
{
    const struct vfy_portmap *map = ctx->map;

    if (x->port == OFPP_NONE) {
        return true;
    }
    const struct vfy_vnic *vnic = vfy_portmap_find_vnic(map, x->port);
    if (vnic) {
        return strcmp(vnic->network, in->network) != 0;
    }
    bool uplink = map->has_uplink && x->port == map->uplink;
    const struct vfy_tag *tags = uplink ? map->vlans : map->vnis;
    size_t n_tags = uplink ? map->n_vlans : map->n_vnis;
    const struct hs_sparse **subs
        = xmalloc((x->n_subs + n_tags + 1) * sizeof *subs);
    struct hs_sparse **own = xmalloc((n_tags + 1) * sizeof *own);
    size_t n = x->n_subs, n_own = 0;

    if (x->n_subs) {
        memcpy(subs, x->subs, x->n_subs * sizeof *subs);
    }
    for (size_t i = 0; i < n_tags; i++) {
        if (!strcmp(tags[i].network, in->network)) {
            own[n_own] = uplink ? vlan_cube(tags[i].id)
                                : vni_cube(tags[i].id);
            subs[n++] = own[n_own++];
        }
    }
    struct hs_cube c;
    hs_cube_from_sparse(&c, x->c);
    bool leak = hs_is_nonempty(&c, subs, n, SPLIT_BUDGET);
    for (size_t i = 0; i < n_own; i++) {
        free(own[i]);
    }
    free(own);
    free(subs);
    return leak;
}

/* Returns true if entry 'e' (its exits or its kids') may leak for the
 * input of 'ctx'. */
static bool
memo_may_leak(const struct ctx *ctx, struct memo_entry *e)
{
    const struct input *in = ctx->in;

    for (int i = 0; i < 2; i++) {
        if (e->vres[i] >= 0 && e->vnet[i] == in->net_id) {
            return e->vres[i];
        }
    }
    bool leak = false;
    for (size_t i = 0; i < e->n_exits && !leak; i++) {
        leak = mexit_may_leak(ctx, &e->exits[i], in);
    }
    for (size_t i = 0; i < e->n_kids && !leak; i++) {
        leak = memo_may_leak(ctx, e->kids[i]);
    }
    e->vnet[1] = e->vnet[0];
    e->vres[1] = e->vres[0];
    e->vnet[0] = in->net_id;
    e->vres[0] = leak;
    return leak;
}

/* Looks up 'table' with 'b', with nothing to return to, through the memo:
 * the entry of a superset of 'b' is computed once; an input whose network
 * none of its exits may leak to only uses it, the others follow 'b' itself
 * (the exact traversal, with counterexamples). */
static void
memo_lookup(struct ctx *ctx, const struct branch *b, uint8_t table,
            int depth)
{
    struct vfy_checker *ck = ctx->ck;
    const struct hs_sparse *few[32];
    const struct hs_sparse **subs = (b->n_subs <= ARRAY_SIZE(few) ? few
                                     : xmalloc(b->n_subs * sizeof *subs));
    struct hs_cube key;         /* Only its live words are set. */
    size_t n_subs;

    memo_key(ctx, b, table, &key, subs, &n_subs);
    uint32_t hash = hash_add(words_hash(&key, ck->live_words[table],
                                        ck->n_live_words[table]), table);
    hash = hash_add(hash, depth);
    hash = hash_add(hash, ctx->n_recircs);
    for (size_t i = 0; i < n_subs; i++) {
        hash = hash_add(hash, subs[i]->hash);
    }
    hash = hash_finish(hash, n_subs);

    struct memo_entry *e = memo_find(ctx, hash, table, depth, &key, subs,
                                     n_subs);
    if (e) {
        ck->memo_hits[table]++;
    } else {
        ck->memo_made[table]++;
    }
    if (e && !e->done) {
        /* A lookup within its own computation: follow it as it is. */
        if (subs != few) {
            free(subs);
        }
        lookup_raw(ctx, b, table, NULL, depth);
        return;
    }
    if (!e) {
        size_t n_words = ck->n_live_words[table];
        e = arena_zalloc(&ck->arena, sizeof *e);
        e->table = table;
        e->depth = depth;
        e->n_recircs = ctx->n_recircs;
        e->key = arena_zalloc(&ck->arena, 2 * n_words * sizeof *e->key);
        words_store(&key, ck->live_words[table], n_words, e->key);
        e->n_subs = n_subs;
        e->subs = arena_memdup(&ck->arena, subs, n_subs * sizeof *subs);
        e->serial = ++ck->serial;
        e->vres[0] = e->vres[1] = -1;
        hmap_insert(&ck->memo, &e->node, hash);

        struct branch x = {
            .subs = e->subs,
            .n_subs = n_subs,
            .orig = NULL,
        };
        memset(&x.c, 0, sizeof x.c);
        for (size_t j = 0; j < ck->n_live_words[table]; j++) {
            size_t i = ck->live_words[table][j];
            x.c.m[i] = key.m[i];
            x.c.v[i] = key.v[i];
        }
        struct memo_entry *saved = ctx->collect;
        ctx->collect = e;
        lookup_raw(ctx, &x, table, NULL, depth);
        ctx->collect = saved;
        e->done = true;
        if (ck->n_done >= ck->allocated_done) {
            ck->done = x2nrealloc(ck->done, &ck->allocated_done,
                                  sizeof *ck->done);
        }
        ck->done[ck->n_done++] = e;
    }
    if (subs != few) {
        free(subs);
    }

    if (ctx->collect) {
        struct memo_entry *p = ctx->collect;
        arena_reserve(&ck->arena, (void **) &p->kids, p->n_kids,
                      &p->allocated_kids, sizeof *p->kids);
        p->kids[p->n_kids++] = e;
    } else if (memo_may_leak(ctx, e)) {
        lookup_raw(ctx, b, table, NULL, depth);
    } else {
        if (!e->users) {
            e->users = arena_zalloc(&ck->arena,
                                    bitmap_n_bytes(MAX(ck->n_inputs, 1)));
        }
        bitmap_set1(e->users, ctx->idx);
    }
}

/* Looks up 'table' with 'b' (see lookup_raw()), through the memo when
 * nothing is to be done after it. */
static void
lookup(struct ctx *ctx, const struct branch *b, uint8_t table,
       const struct frame *up, int depth)
{
    const struct vfy_checker *ck = ctx->ck;

    /* A table whose entries are seldom found again (its lookups differ in
     * bits that it reads) is not memoized any more in this run. */
    if (up || !ck->live
        || (ck->memo_made[table] >= ck->memo_trial
            && ck->memo_hits[table] < ck->memo_made[table] / 8)) {
        lookup_raw(ctx, b, table, up, depth);
    } else {
        memo_lookup(ctx, b, table, depth);
    }
}

/* Hands the lookup records of the memo's entries to the inputs that used
 * them, then empties the memo. */
static void
memo_finish(struct vfy_checker *ck)
{
    size_t n_longs = BITMAP_N_LONGS(MAX(ck->n_inputs, 1));

    /* An entry is completed after the entries it used: from the last
     * completed on, users go down to the kids. */
    for (size_t i = ck->n_done; i-- > 0;) {
        struct memo_entry *e = ck->done[i];
        if (!e->users) {
            continue;
        }
        for (size_t k = 0; k < e->n_kids; k++) {
            struct memo_entry *kid = e->kids[k];
            if (!kid->users) {
                /* Most entries have one parent: share its set. */
                kid->users = e->users;
                kid->users_borrowed = true;
                continue;
            } else if (kid->users == e->users) {
                continue;
            } else if (kid->users_borrowed) {
                kid->users = arena_memdup(&ck->arena, kid->users,
                                          n_longs * sizeof *kid->users);
                kid->users_borrowed = false;
            }
            for (size_t j = 0; j < n_longs; j++) {
                kid->users[j] |= e->users[j];
            }
        }
        for (size_t k = 0; k < e->n_recs; k++) {
            for (size_t j = 0; j < n_longs; j++) {
                e->recs[k]->ports[j] |= e->users[j];
            }
        }
    }

    for (size_t i = 0; i < ck->n_done; i++) {
        struct memo_entry *e = ck->done[i];
        for (size_t j = 0; j < e->n_exits; j++) {
            struct mexit *x = &e->exits[j];
            free(x->c);
            for (size_t k = 0; k < x->n_subs; k++) {
                free(x->subs[k]);
            }
            free(x->subs);
        }
        free(e->exits);
    }
    hmap_clear(&ck->memo);
    arena_clear(&ck->arena);
    free(ck->done);
    ck->done = NULL;
    ck->n_done = ck->allocated_done = 0;
    free(ck->live);
    ck->live = NULL;
    conj_memo_clear(ck);
}

/* Makes the liveness summary of table 'i' of 'flows' anew. */
static void
live_summarize_table(struct vfy_checker *ck, const struct vfy_flows *flows,
                     uint8_t i)
{
    const struct vfy_table *t = &flows->tables[i];

    vfy_live_reset_table(ck->live_state, i);
    ck->live_no_effect[i] = t->no_effect;
    ck->live_removed[i] = 0;
    if (t->no_effect) {
        /* Whatever matches, the packet goes on unchanged: only the
         * fields that its lookups are recorded on (for incremental
         * checks) matter. */
        struct hs_cube bits;
        memset(&bits, 0, sizeof bits);
        for (int k = 0; k < 2; k++) {
            int key = k ? 9 : t->key; /* 9: MFF_METADATA. */
            if (key < VFY_N_KEYS) {
                add_field_bits(&bits, key_ids[key]);
            }
        }
        vfy_live_add_reads(ck->live_state, i, bits.m);
        return;
    }
    for (size_t j = 0; j < t->n_all; j++) {
        vfy_live_add_flow(ck->live_state, t->all[j]);
    }
    const struct vfy_conj *cj;
    HMAP_FOR_EACH (cj, node, &t->conjs) {
        for (size_t j = 0; j < cj->n; j++) {
            vfy_live_add_flow(ck->live_state, cj->clauses[j].flow);
        }
    }
}

/* Brings the liveness summaries of the tables of 'flows' up to date: every
 * one anew with 'full', else by the flows changed since the last run.  A
 * summary is a union over the table's flows: an added flow is added to
 * it; a removed one is left in (the live bits are then larger than they
 * need be, which costs sharing, not soundness) until they are many or the
 * table changed between having effects and not, when the table's summary
 * is made anew. */
static void
live_update(struct vfy_checker *ck, const struct vfy_flows *flows, bool full)
{
    bool redo[256];

    for (size_t i = 0; i < 256; i++) {
        const struct vfy_table *t = &flows->tables[i];
        redo[i] = full || t->no_effect != ck->live_no_effect[i];
    }
    for (size_t i = 0; !full && i < flows->n_changes; i++) {
        const struct vfy_change *c = &flows->changes[i];
        const struct vfy_table *t = &flows->tables[c->table_id];
        if (!c->added
            && ++ck->live_removed[c->table_id] > 64 + t->n_all / 8) {
            redo[c->table_id] = true;
        }
    }
    for (size_t i = 0; i < 256; i++) {
        if (redo[i]) {
            live_summarize_table(ck, flows, i);
        }
    }
    for (size_t i = 0; !full && i < flows->n_changes; i++) {
        const struct vfy_change *c = &flows->changes[i];
        if (c->added && !redo[c->table_id]
            && !flows->tables[c->table_id].no_effect) {
            vfy_live_add_flow(ck->live_state, c->flow);
        }
    }
}

/* Starts a run's memo: the live bits of every table, from the tables'
 * summaries (all made anew with 'full'). */
static void
memo_start(struct vfy_checker *ck, const struct vfy_flows *flows, bool full)
{
    live_update(ck, flows, full);
    ck->live = xmalloc(256 * sizeof *ck->live);
    memset(ck->memo_made, 0, sizeof ck->memo_made);
    memset(ck->memo_hits, 0, sizeof ck->memo_hits);
    vfy_live_solve(ck->live_state, ck->live);
    for (size_t i = 0; i < 256; i++) {
        const struct vfy_live *l = &ck->live[i];
        const struct flow *lm = (const struct flow *) l->m;
        ck->n_live_words[i] = nonzero_words(l->m, ck->live_words[i]);
        ck->free_regs[i] = 0;
        for (int r = 0; r < FLOW_N_REGS; r++) {
            if (lm->regs[r] && !l->reg_read[r]) {
                ck->free_regs[i] |= UINT32_C(1) << r;
            }
        }
    }
}

/* The checker. */

struct vfy_checker *
vfy_checker_create(void)
{
    struct vfy_checker *ck = xzalloc(sizeof *ck);

    layout_init();
    hmap_init(&ck->memo);
    hmap_init(&ck->conj_memo);
    hmap_init(&ck->exit_recs);
    ck->live_state = vfy_live_create();
    for (size_t i = 0; i < ARRAY_SIZE(ck->recs); i++) {
        hmap_init(&ck->recs[i].recs);
        ck->recs[i].keys[0] = ck->recs[i].keys[1] = VFY_N_KEYS;
    }
    return ck;
}

/* Frees the leaks of 'in'. */
static void
input_clear_leaks(struct input *in)
{
    for (size_t i = 0; i < in->n_leaks; i++) {
        struct leak *l = &in->leaks[i];
        free(l->packet);
        free(l->bytes);
        free(l->exit);
        free(l->exit_network);
        free(l->ct_note);
        free(l->steps);
    }
    free(in->leaks);
    in->leaks = NULL;
    in->n_leaks = 0;
    in->truncated = false;
}

/* Frees what input 'in' holds. */
static void
input_destroy(struct input *in)
{
    input_clear_leaks(in);
    free(in->network);
    free(in->name);
}

/* Frees every record of 'recs'. */
static void
recs_clear(struct hmap *recs)
{
    struct rec *r;

    HMAP_FOR_EACH_POP (r, node, recs) {
        free(r->ports);
        free(r);
    }
}

/* Forgets every input and record of 'ck'. */
static void
checker_clear(struct vfy_checker *ck)
{
    for (size_t i = 0; i < ck->n_inputs; i++) {
        input_destroy(&ck->inputs[i]);
    }
    free(ck->inputs);
    ck->inputs = NULL;
    ck->n_inputs = 0;
    for (size_t i = 0; i < ARRAY_SIZE(ck->recs); i++) {
        recs_clear(&ck->recs[i].recs);
    }
    recs_clear(&ck->exit_recs);
}

void
vfy_checker_destroy(struct vfy_checker *ck)
{
    if (ck) {
        checker_clear(ck);
        for (size_t i = 0; i < ARRAY_SIZE(ck->recs); i++) {
            hmap_destroy(&ck->recs[i].recs);
        }
        hmap_destroy(&ck->exit_recs);
        hmap_destroy(&ck->memo);
        hmap_destroy(&ck->conj_memo);
        arena_clear(&ck->arena);
        vfy_live_destroy(ck->live_state);
        vfy_portmap_destroy(ck->map);
        free(ck);
    }
}

/* Returns the number of inputs of the network of 'ck' that has most. */
static size_t
largest_network(const struct vfy_checker *ck)
{
    size_t *count = xcalloc(ck->n_inputs + 1, sizeof *count);
    size_t max = 0;

    for (size_t i = 0; i < ck->n_inputs; i++) {
        size_t id = ck->inputs[i].net_id;
        if (id <= ck->n_inputs) {
            max = MAX(max, ++count[id]);
        }
    }
    free(count);
    return max;
}

/* Numbers the networks of the inputs of 'ck' (for the memo's verdicts)
 * and sizes the memo's trial by the largest. */
static void
number_networks(struct vfy_checker *ck)
{
    struct shash nets = SHASH_INITIALIZER(&nets);

    for (size_t i = 0; i < ck->n_inputs; i++) {
        struct input *in = &ck->inputs[i];
        void *id = shash_find_data(&nets, in->network);
        if (!id) {
            id = (void *) (uintptr_t) (shash_count(&nets) + 1);
            shash_add(&nets, in->network, id);
        }
        in->net_id = (uintptr_t) id;
    }
    shash_destroy(&nets);
    ck->memo_trial = MEMO_TRIAL + 2 * largest_network(ck);
}

/* Makes 'in' the input of vNIC 'v', with no verdict yet. */
static void
input_init_vnic(struct input *in, const struct vfy_vnic *v)
{
    memset(in, 0, sizeof *in);
    in->kind = IN_VNIC;
    in->port = v->port;
    in->network = xstrdup(v->network);
    in->sealed = v->sealed;
    in->name = (v->sealed ? xstrdup(v->name)
                : xasprintf("vNIC %s", v->name));
}

/* Returns the inputs of 'map' in the order a full run checks them (and
 * reports them): every vNIC by port, the uplink per VLAN, the tunnel per
 * VNI, in the map's order; '*n' is their number. */
static struct input *
map_inputs(const struct vfy_portmap *map, size_t *n)
{
    size_t n_max = map->n_vnics + (map->has_uplink ? map->n_vlans : 0)
                   + (map->has_tunnel ? map->n_vnis : 0);
    struct input *inputs = xcalloc(MAX(n_max, 1), sizeof *inputs);

    *n = 0;
    for (size_t i = 0; i < map->n_vnics; i++) {
        input_init_vnic(&inputs[(*n)++], &map->vnics[i]);
    }
    for (size_t i = 0; map->has_uplink && i < map->n_vlans; i++) {
        struct input *in = &inputs[(*n)++];
        in->kind = IN_VLAN;
        in->tag = map->vlans[i].id;
        in->port = map->uplink;
        in->network = xstrdup(map->vlans[i].network);
        in->name = xasprintf("uplink VLAN %"PRIu32, in->tag);
    }
    for (size_t i = 0; map->has_tunnel && i < map->n_vnis; i++) {
        struct input *in = &inputs[(*n)++];
        in->kind = IN_VNI;
        in->tag = map->vnis[i].id;
        in->port = map->tunnel;
        in->network = xstrdup(map->vnis[i].network);
        in->name = xasprintf("tunnel VNI %"PRIu32, in->tag);
    }
    return inputs;
}

/* Follows every packet of input 'idx' through the table. */
static void
follow_input(struct vfy_checker *ck, struct vfy_flows *flows,
             const struct vfy_portmap *map, size_t idx)
{
    struct ctx *ctx = xzalloc(sizeof *ctx);
    struct branch b;

    ctx->ck = ck;
    ctx->flows = flows;
    ctx->map = map;
    ctx->idx = idx;
    ctx->in = &ck->inputs[idx];
    hs_field_bits(mf_from_id(MFF_IN_PORT), &ctx->in_port_bits);

    b.c = layout.initial;
    b.subs = NULL;
    b.n_subs = 0;
    b.orig = NULL;
    struct orig *owned = NULL;
    union mf_value value;
    memset(&value, 0, sizeof value);
    value.be16 = htons(ofp_to_u16(ctx->in->port));
    write_field_exact(&b, MFF_IN_PORT, &value, &owned);
    if (ctx->in->kind == IN_VLAN) {
        /* Tagged with its VID (any PCP, any TPID OVS parses). */
        union mf_value mask;
        memset(&mask, 0, sizeof mask);
        value.be16 = htons(VLAN_CFI | ctx->in->tag);
        mask.be16 = htons(VLAN_CFI | VLAN_VID_MASK);
        write_field(&b, mf_from_id(MFF_VLAN_TCI), &value, &mask, &owned);
    } else if (ctx->in->kind == IN_VNI) {
        /* Its VNI; the rest of the tunnel header is anything. */
        struct hs_cube tnl;
        memset(&tnl, 0, sizeof tnl);
        for (size_t i = 0; i < offsetof(struct flow, metadata) / 8; i++) {
            tnl.m[i] = UINT64_MAX;
        }
        free_bits(&b, &tnl, &owned);
        value.be64 = htonll(ctx->in->tag);
        write_field_exact(&b, MFF_TUN_ID, &value, &owned);
    }
    /* That is the input packet, not a rewrite on the way. */
    b.orig = NULL;
    while (owned) {
        struct orig *next = owned->next;
        free(owned);
        owned = next;
    }
    lookup(ctx, &b, 0, NULL, 0);
    while (ctx->spare) {
        struct branch *x = ctx->spare;
        ctx->spare = x->next;
        free(x->subs);
        free(x);
    }
    free(ctx);
}

void
vfy_checker_run_full(struct vfy_checker *ck, struct vfy_flows *flows,
                     const struct vfy_portmap *map)
{
    checker_clear(ck);
    index_tables(flows, true);

    /* Every vNIC, the uplink per VLAN, the tunnel per VNI. */
    ck->inputs = map_inputs(map, &ck->n_inputs);
    for (size_t i = 0; i < ARRAY_SIZE(ck->recs); i++) {
        struct rec_set *rs = &ck->recs[i];
        int key = flows->tables[i].key;
        int md = 9;             /* MFF_METADATA in key_ids[]. */
        rs->keys[0] = key;
        rs->keys[1] = key == md ? VFY_N_KEYS : md;
    }
    number_networks(ck);
    memo_start(ck, flows, true);
    for (size_t i = 0; i < ck->n_inputs; i++) {
        follow_input(ck, flows, map, i);
    }
    memo_finish(ck);
    ck->ran = true;
    ck->last_full = true;
    vfy_portmap_destroy(ck->map);
    ck->map = vfy_portmap_clone(map);
    ck->n_flows = vfy_flows_count(flows);
    ck->n_followed = ck->n_inputs;

    vfy_flows_forget_changes(flows);
}

/* How the port map changed since the last run. */
enum map_change {
    MAP_SAME,                   /* Not at all. */
    MAP_VNICS,                  /* vNICs were added or removed, and that
                                 * is all. */
    MAP_OTHER,                  /* Anything else (a full run is due). */
};

/* Compares 'new' with 'old', the map of the last run.  With MAP_VNICS,
 * '*ports' (which the caller frees) holds the '*n_ports' ports of the
 * vNICs added or removed.  A vNIC whose port stays but whose network or
 * name changes, a changed uplink, tunnel, VLAN or VNI, or a vNIC added or
 * removed on the uplink's or the tunnel's port is MAP_OTHER. */
static enum map_change
map_diff(const struct vfy_portmap *old, const struct vfy_portmap *new,
         ofp_port_t **ports, size_t *n_ports)
{
    *ports = NULL;
    *n_ports = 0;
    if (old->has_uplink != new->has_uplink
        || (old->has_uplink && old->uplink != new->uplink)
        || old->has_tunnel != new->has_tunnel
        || (old->has_tunnel && old->tunnel != new->tunnel)
        || old->n_vlans != new->n_vlans || old->n_vnis != new->n_vnis
        || !vfy_tags_equal(old->vlans, new->vlans, old->n_vlans)
        || !vfy_tags_equal(old->vnis, new->vnis, old->n_vnis)) {
        return MAP_OTHER;
    }

    size_t i = 0, j = 0, allocated = 0;
    while (i < old->n_vnics || j < new->n_vnics) {
        const struct vfy_vnic *a = i < old->n_vnics ? &old->vnics[i] : NULL;
        const struct vfy_vnic *b = j < new->n_vnics ? &new->vnics[j] : NULL;
        ofp_port_t port;
        if (a && b && a->port == b->port) {
            if (strcmp(a->network, b->network) || strcmp(a->name, b->name)) {
                goto other;
            }
            i++;
            j++;
            continue;
        } else if (a && (!b || ofp_to_u16(a->port) < ofp_to_u16(b->port))) {
            port = a->port;
            i++;
        } else {
            port = b->port;
            j++;
        }
        if ((new->has_uplink && port == new->uplink)
            || (new->has_tunnel && port == new->tunnel)) {
            goto other;
        }
        if (*n_ports >= allocated) {
            *ports = x2nrealloc(*ports, &allocated, sizeof **ports);
        }
        (*ports)[(*n_ports)++] = port;
    }
    return *n_ports ? MAP_VNICS : MAP_SAME;

other:
    free(*ports);
    *ports = NULL;
    *n_ports = 0;
    return MAP_OTHER;
}

/* ORs the 'n' bits of 'src' from bit 's' on into 'dst' from bit 'd' on. */
static void
bits_or_range(unsigned long *dst, size_t d, const unsigned long *src,
              size_t s, size_t n)
{
    while (n) {
        size_t so = s % BITMAP_ULONG_BITS, doff = d % BITMAP_ULONG_BITS;
        size_t k = MIN(n, BITMAP_ULONG_BITS - MAX(so, doff));
        unsigned long v = src[s / BITMAP_ULONG_BITS] >> so;
        if (k < BITMAP_ULONG_BITS) {
            v &= (1UL << k) - 1;
        }
        dst[d / BITMAP_ULONG_BITS] |= v << doff;
        s += k;
        d += k;
        n -= k;
    }
}

/* A run of inputs that keep their order when inputs are renumbered. */
struct renum_run {
    size_t from;                /* First old number. */
    size_t to;                  /* Its new number. */
    size_t n;                   /* Number of inputs. */
};

/* Renumbers the inputs in every record of 'ck' ('n_old' inputs before,
 * 'n_new' after): input i becomes 'to[i]', or is forgotten if that is
 * SIZE_MAX.  The numbers keep their order: the bitmaps are moved by runs
 * of inputs, a word at a time. */
static void
recs_renumber(struct vfy_checker *ck, const size_t *to, size_t n_old,
              size_t n_new)
{
    size_t old_longs = BITMAP_N_LONGS(n_old);
    size_t new_longs = BITMAP_N_LONGS(MAX(n_new, 1));
    unsigned long *tmp = bitmap_allocate(MAX(n_new, 1));
    struct renum_run *runs = xmalloc(MAX(n_old, 1) * sizeof *runs);
    size_t n_runs = 0;

    for (size_t i = 0; i < n_old; i++) {
        if (to[i] == SIZE_MAX) {
            continue;
        }
        struct renum_run *last = n_runs ? &runs[n_runs - 1] : NULL;
        if (last && last->from + last->n == i && last->to + last->n == to[i]) {
            last->n++;
        } else {
            runs[n_runs++] = (struct renum_run) { i, to[i], 1 };
        }
    }

    for (size_t t = 0; t <= ARRAY_SIZE(ck->recs); t++) {
        struct hmap *recs = (t < ARRAY_SIZE(ck->recs) ? &ck->recs[t].recs
                             : &ck->exit_recs);
        struct rec *r;
        HMAP_FOR_EACH (r, node, recs) {
            memset(tmp, 0, new_longs * sizeof *tmp);
            for (size_t i = 0; i < n_runs; i++) {
                bits_or_range(tmp, runs[i].to, r->ports, runs[i].from,
                              runs[i].n);
            }
            if (new_longs != old_longs) {
                free(r->ports);
                r->ports = xmalloc(new_longs * sizeof *r->ports);
            }
            memcpy(r->ports, tmp, new_longs * sizeof *tmp);
        }
    }
    free(runs);
    free(tmp);
}

/* Brings the inputs of 'ck' to those of 'map', which differs from the
 * last run's map only by the vNICs on the 'n_ports' 'ports' (added or
 * removed): a removed vNIC's input goes with its verdict and records, an
 * added one's comes, the others keep theirs (renumbered: the inputs stay
 * in a full run's order).  Returns the inputs (a bitmap over the new
 * ones) that must be followed again: the added vNICs', and every input
 * that had an exit judged on one of 'ports', or on whatever port of the
 * map a register held. */
static unsigned long *
map_update_inputs(struct vfy_checker *ck, const struct vfy_portmap *map,
                  const ofp_port_t *ports, size_t n_ports)
{
    size_t n_old = ck->n_inputs;
    size_t n_old_vnics = 0;
    while (n_old_vnics < n_old && ck->inputs[n_old_vnics].kind == IN_VNIC) {
        n_old_vnics++;
    }
    size_t n_new = map->n_vnics + (n_old - n_old_vnics);
    struct input *inputs = xcalloc(MAX(n_new, 1), sizeof *inputs);
    size_t *to = xmalloc(MAX(n_old, 1) * sizeof *to);
    unsigned long *added = bitmap_allocate(MAX(n_new, 1));

    /* Both lists of vNICs are by port. */
    size_t i = 0, j = 0, k = 0;
    while (i < n_old_vnics || j < map->n_vnics) {
        const struct input *a = i < n_old_vnics ? &ck->inputs[i] : NULL;
        const struct vfy_vnic *b = j < map->n_vnics ? &map->vnics[j] : NULL;
        if (a && b && a->port == b->port) {
            inputs[k] = *a;
            to[i++] = k++;
            j++;
        } else if (a && (!b || ofp_to_u16(a->port) < ofp_to_u16(b->port))) {
            input_destroy(&ck->inputs[i]);
            to[i++] = SIZE_MAX;
        } else {
            input_init_vnic(&inputs[k], b);
            bitmap_set1(added, k++);
            j++;
        }
    }
    /* The uplink's and the tunnel's inputs are as they were. */
    for (; i < n_old; i++) {
        inputs[k] = ck->inputs[i];
        to[i] = k++;
    }
    ovs_assert(k == n_new);

    recs_renumber(ck, to, n_old, n_new);
    free(to);
    free(ck->inputs);
    ck->inputs = inputs;
    ck->n_inputs = n_new;
    number_networks(ck);

    /* Whoever reached a changed port, or any port a register held. */
    for (size_t p = 0; p <= n_ports; p++) {
        uint16_t port = ofp_to_u16(p < n_ports ? ports[p] : OFPP_ANY);
        const struct rec *r;
        HMAP_FOR_EACH_WITH_HASH (r, node, hash_int(port, 0),
                                 &ck->exit_recs) {
            if (r->val[0][0] == port) {
                bitmap_or(added, r->ports, n_new);
            }
        }
    }
    return added;
}

/* Returns true if lookup record 'r' of 'rs' may meet 'm'. */
static bool
rec_meets(const struct rec_set *rs, const struct rec *r,
          const struct hs_sparse *m)
{
    for (int i = 0; i < 2; i++) {
        if (rs->keys[i] >= VFY_N_KEYS || !r->exact[i]) {
            continue;
        }
        uint64_t val[2], mask[2];
        sparse_key(m, rs->keys[i], val, mask);
        if (((val[0] ^ r->val[i][0]) & mask[0])
            || ((val[1] ^ r->val[i][1]) & mask[1])) {
            return false;
        }
    }
    return true;
}

size_t
vfy_checker_run_incremental(struct vfy_checker *ck, struct vfy_flows *flows,
                            const struct vfy_portmap *map)
{
    ofp_port_t *ports = NULL;
    size_t n_ports = 0;
    enum map_change mc = (ck->ran ? map_diff(ck->map, map, &ports, &n_ports)
                          : MAP_OTHER);
    if (mc == MAP_OTHER || flows->overflow) {
        free(ports);
        vfy_checker_run_full(ck, flows, map);
        return ck->n_inputs;
    }

    /* The inputs that the map's change may affect (Documentation/
     * verify.md, "Incremental checks"), then those whose lookups a
     * changed flow may meet. */
    unsigned long *affected;
    if (mc == MAP_VNICS) {
        affected = map_update_inputs(ck, map, ports, n_ports);
        vfy_portmap_destroy(ck->map);
        ck->map = vfy_portmap_clone(map);
    } else {
        affected = bitmap_allocate(MAX(ck->n_inputs, 1));
    }
    free(ports);
    for (size_t i = 0; i < flows->n_changes; i++) {
        const struct vfy_change *c = &flows->changes[i];
        const struct rec_set *rs = &ck->recs[c->table_id];
        const struct rec *r;
        HMAP_FOR_EACH (r, node, &rs->recs) {
            if (rec_meets(rs, r, c->flow->match)) {
                bitmap_or(affected, r->ports, ck->n_inputs);
            }
        }
    }
    index_tables(flows, false);

    size_t n = bitmap_count1(affected, ck->n_inputs);
    if (n) {
        /* The inputs followed again make their records anew.  (Only the
         * words of 'affected' with a bit set change anything.) */
        size_t n_longs = BITMAP_N_LONGS(ck->n_inputs);
        size_t *words = xmalloc(n_longs * sizeof *words);
        size_t n_words = 0;
        for (size_t i = 0; i < n_longs; i++) {
            if (affected[i]) {
                words[n_words++] = i;
            }
        }
        for (size_t t = 0; t <= ARRAY_SIZE(ck->recs); t++) {
            struct hmap *recs = (t < ARRAY_SIZE(ck->recs)
                                 ? &ck->recs[t].recs : &ck->exit_recs);
            struct rec *r;
            HMAP_FOR_EACH (r, node, recs) {
                for (size_t j = 0; j < n_words; j++) {
                    r->ports[words[j]] &= ~affected[words[j]];
                }
            }
        }
        free(words);
    }
    size_t idx;
    memo_start(ck, flows, false);
    BITMAP_FOR_EACH_1 (idx, ck->n_inputs, affected) {
        input_clear_leaks(&ck->inputs[idx]);
        follow_input(ck, flows, map, idx);
    }
    memo_finish(ck);
    free(affected);
    ck->last_full = false;
    ck->n_flows = vfy_flows_count(flows);
    ck->n_followed = n;

    vfy_flows_forget_changes(flows);
    return n;
}

bool
vfy_checker_last_full(const struct vfy_checker *ck)
{
    return ck->last_full;
}

size_t
vfy_checker_n_leaks(const struct vfy_checker *ck)
{
    size_t n = 0;

    for (size_t i = 0; i < ck->n_inputs; i++) {
        n += ck->inputs[i].n_leaks;
    }
    return n;
}

bool
vfy_checker_is_isolated(const struct vfy_checker *ck)
{
    return vfy_checker_n_leaks(ck) == 0;
}

/* Appends step 'st' of a path. */
static void
format_step(struct ds *s, const struct step *st, vfy_cookie_namer *namer,
            void *aux)
{
    if (st->is_ct) {
        ds_put_format(s, "conntrack");
        if (st->zone_known) {
            ds_put_format(s, " zone %"PRIu16, st->zone);
        }
        ds_put_format(s, ", recirculated to table %d", st->table);
        return;
    }
    ds_put_format(s, "table %d priority %"PRIu16" cookie %#"PRIx64,
                  st->table, st->priority, ntohll(st->cookie));
    if (namer) {
        size_t len = s->length;
        ds_put_cstr(s, " (");
        size_t start = s->length;
        namer(ntohll(st->cookie), s, aux);
        if (s->length == start) {
            ds_truncate(s, len);
        } else {
            ds_put_char(s, ')');
        }
    }
}

void
vfy_checker_format(const struct vfy_checker *ck, struct ds *s,
                   vfy_cookie_namer *namer, void *aux)
{
    size_t n_leaks = vfy_checker_n_leaks(ck);

    size_t n_kind[3] = { 0, 0, 0 };
    size_t n_sealed = 0;
    for (size_t i = 0; i < ck->n_inputs; i++) {
        n_kind[ck->inputs[i].kind]++;
        n_sealed += ck->inputs[i].sealed;
    }
    struct ds what = DS_EMPTY_INITIALIZER;
    ds_put_format(&what, "%"PRIuSIZE" vNICs checked",
                  n_kind[IN_VNIC] - n_sealed);
    if (n_sealed || n_kind[IN_VLAN] || n_kind[IN_VNI]) {
        ds_put_cstr(&what, " (and ");
        if (n_sealed) {
            ds_put_format(&what, "%"PRIuSIZE" port%s of no network%s",
                          n_sealed, n_sealed > 1 ? "s" : "",
                          n_kind[IN_VLAN] || n_kind[IN_VNI] ? ", " : "");
        }
        if (n_kind[IN_VLAN] || n_kind[IN_VNI]) {
            ds_put_format(&what, "%"PRIuSIZE" uplink VLANs, %"PRIuSIZE
                          " tunnel VNIs", n_kind[IN_VLAN], n_kind[IN_VNI]);
        }
        ds_put_char(&what, ')');
    }
    ds_put_format(&what, ", %"PRIuSIZE" flows", ck->n_flows);
    if (!n_leaks) {
        ds_put_format(s, "isolated: %s\n", ds_cstr(&what));
        ds_destroy(&what);
        return;
    }
    ds_put_format(s, "LEAK: %"PRIuSIZE" counterexample%s (%s)\n", n_leaks,
                  n_leaks > 1 ? "s" : "", ds_cstr(&what));
    ds_destroy(&what);
    size_t k = 0;
    for (size_t i = 0; i < ck->n_inputs; i++) {
        const struct input *in = &ck->inputs[i];
        for (size_t j = 0; j < in->n_leaks; j++) {
            const struct leak *l = &in->leaks[j];
            ds_put_format(s, "\nleak %"PRIuSIZE": from port %"PRIu16
                          " (%s of %s) to %s\n", ++k,
                          ofp_to_u16(in->port), in->name,
                          in->sealed ? "no network" : in->network, l->exit);
            ds_put_format(s, "  packet: %s\n", l->packet);
            ds_put_format(s, "  bytes: %s\n", l->bytes);
            if (l->inexact) {
                ds_put_cstr(s, "  (the packet may not be exact: the "
                            "space was too fragmented to pick one)\n");
            }
            if (l->ct_note) {
                ds_put_format(s, "  only if conntrack says %s\n",
                              l->ct_note);
            }
            ds_put_cstr(s, "  path:\n");
            for (size_t m = 0; m < l->n_steps; m++) {
                ds_put_cstr(s, "    ");
                format_step(s, &l->steps[m], namer, aux);
                ds_put_char(s, '\n');
            }
        }
        if (in->truncated) {
            ds_put_format(s, "  (more leaks from port %"PRIu16" not "
                          "shown)\n", ofp_to_u16(in->port));
        }
    }
}

struct json *
vfy_checker_to_json(const struct vfy_checker *ck, vfy_cookie_namer *namer,
                    void *aux)
{
    struct json *j = json_object_create();
    struct json *leaks = json_array_create_empty();

    json_object_put(j, "isolated",
                    json_boolean_create(vfy_checker_is_isolated(ck)));
    json_object_put(j, "inputs_checked", json_integer_create(ck->n_inputs));
    json_object_put(j, "flows", json_integer_create(ck->n_flows));
    for (size_t i = 0; i < ck->n_inputs; i++) {
        const struct input *in = &ck->inputs[i];
        for (size_t k = 0; k < in->n_leaks; k++) {
            const struct leak *l = &in->leaks[k];
            struct json *o = json_object_create();
            json_object_put(o, "in_port",
                            json_integer_create(ofp_to_u16(in->port)));
            json_object_put_string(o, "input", in->name);
            json_object_put(o, "network",
                            (in->sealed ? json_null_create()
                             : json_string_create(in->network)));
            json_object_put_string(o, "packet", l->packet);
            json_object_put_string(o, "bytes", l->bytes);
            json_object_put_string(o, "exit", l->exit);
            if (l->exit_port != OFPP_NONE) {
                json_object_put(o, "exit_port",
                                json_integer_create(
                                    ofp_to_u16(l->exit_port)));
            }
            if (l->exit_network) {
                json_object_put_string(o, "exit_network", l->exit_network);
            }
            if (l->ct_note) {
                json_object_put_string(o, "conntrack", l->ct_note);
            }
            json_object_put(o, "exact", json_boolean_create(!l->inexact));
            struct json *path = json_array_create_empty();
            for (size_t m = 0; m < l->n_steps; m++) {
                struct ds s = DS_EMPTY_INITIALIZER;
                format_step(&s, &l->steps[m], namer, aux);
                json_array_add(path, json_string_create_nocopy(
                                   ds_steal_cstr(&s)));
            }
            json_object_put(o, "path", path);
            json_array_add(leaks, o);
        }
    }
    json_object_put(j, "leaks", leaks);
    return j;
}
