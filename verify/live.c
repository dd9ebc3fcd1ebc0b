/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Liveness of struct flow's bits per table, for the checker's memo of
 * table traversals (Documentation/verify.md, "Cost").  A table's live bits
 * are those that some flow reachable from it may read before a flow on
 * the way writes them: its matches, move sources, conntrack zones, output
 * registers and the tags that exits are judged on.  For the registers, the
 * values that reachable flows test exactly are kept besides (a register
 * that holds none of them behaves as any other such value).
 *
 * The checker's soundness does not rest on this analysis: a memo entry is
 * computed from a superset of the space, whatever bits are freed. */

#include <config.h>

#include "verify/verify-private.h"

#include <string.h>
#include "hash.h"
#include "openvswitch/match.h"
#include "openvswitch/meta-flow.h"
#include "openvswitch/ofp-actions.h"
#include "util.h"

/* An edge of the analysis: a lookup of 'target' after the bits 'kill'
 * were written on the way. */
struct live_edge {
    struct hmap_node node;      /* In live_table 'edges'. */
    uint8_t target;             /* Table looked up. */
    uint64_t kill[HS_N];        /* Bits written before. */
};

/* A table's summary: what its flows read themselves, and the lookups
 * they make. */
struct live_table {
    struct vfy_live own;        /* Read by the table's flows. */
    struct hmap edges;          /* struct live_edge, deduplicated. */
    struct hmap shapes;         /* struct live_shape: actions walked. */
};

/* The shape of a list of actions walked already: actions that differ only
 * in the values they set read and write the same bits.  (Two shapes with
 * one hash would only make the live bits smaller than they are, which
 * costs the memo sharing, never soundness.) */
struct live_shape {
    struct hmap_node node;      /* In live_table 'shapes', by hash. */
};

/* Returns the hash of the shape of 'len' bytes of actions 'ofpacts'. */
static uint32_t
actions_shape(const struct ofpact *ofpacts, size_t len)
{
    const struct ofpact *a;
    uint32_t hash = 0;

    OFPACT_FOR_EACH (a, ofpacts, len) {
        if (a->type == OFPACT_SET_FIELD) {
            const struct ofpact_set_field *sf = ofpact_get_SET_FIELD(a);
            hash = hash_add(hash, a->type);
            hash = hash_add(hash, sf->field->id);
            hash = hash_bytes(ofpact_set_field_mask(sf), sf->field->n_bytes,
                              hash);
        } else {
            hash = hash_bytes(a, a->len, hash);
        }
    }
    return hash_finish(hash, len);
}

/* Adds 'val' to the exact values of register 'r' of 'l'. */
static void
add_val(struct vfy_live *l, int r, uint32_t val)
{
    if (l->reg_read[r]) {
        return;
    }
    for (size_t i = 0; i < l->n_vals[r]; i++) {
        if (l->vals[r][i] == val) {
            return;
        }
    }
    if (l->n_vals[r] >= VFY_LIVE_VALS) {
        l->reg_read[r] = true;
        l->n_vals[r] = 0;
    } else {
        l->vals[r][l->n_vals[r]++] = val;
    }
}

/* Marks the bits 'm' as read (otherwise than by a test) in 'l', but those
 * in 'kill'. */
static void
add_reads(struct vfy_live *l, const uint64_t m[HS_N], const uint64_t *kill)
{
    uint64_t bits[HS_N];

    for (size_t i = 0; i < HS_N; i++) {
        bits[i] = m[i] & ~(kill ? kill[i] : 0);
        l->m[i] |= bits[i];
    }
    const struct flow *f = (const struct flow *) bits;
    for (int r = 0; r < FLOW_N_REGS; r++) {
        if (f->regs[r]) {
            l->reg_read[r] = true;
            l->n_vals[r] = 0;
        }
    }
}

/* Adds field 'mf''s bits to 'm'. */
static void
field_bits(const struct mf_field *mf, uint64_t m[HS_N])
{
    struct hs_cube bits;

    hs_field_bits(mf, &bits);
    for (size_t i = 0; i < HS_N; i++) {
        m[i] |= bits.m[i];
    }
}

/* Adds subfield 'sf''s bits to 'm'. */
static void
subfield_bits(const struct mf_subfield *sf, uint64_t m[HS_N])
{
    union mf_subvalue ones;

    memset(&ones, 0xff, sizeof ones);
    mf_write_subfield_flow(sf, &ones, (struct flow *) m);
}

/* Adds a lookup of 'target' after 'kill' to 't', once. */
static void
add_edge(struct live_table *t, uint8_t target, const uint64_t kill[HS_N])
{
    uint32_t hash = hash_bytes(kill, HS_N * sizeof *kill, target);
    struct live_edge *e;

    HMAP_FOR_EACH_WITH_HASH (e, node, hash, &t->edges) {
        if (e->target == target && !memcmp(e->kill, kill, sizeof e->kill)) {
            return;
        }
    }
    e = xmalloc(sizeof *e);
    e->target = target;
    memcpy(e->kill, kill, sizeof e->kill);
    hmap_insert(&t->edges, &e->node, hash);
}

/* The bits of struct flow the analysis needs. */
struct live_bits {
    uint64_t exit[HS_N];        /* What an exit is judged on. */
    uint64_t in_port[HS_N];     /* in_port. */
    uint64_t vlan[HS_N];        /* The VLAN headers. */
    uint64_t ct[HS_N];          /* What conntrack sets. */
};

/* Walks 'len' bytes of actions 'ofpacts' of a flow of table 'table',
 * 'kill' being the bits written before them (updated). */
static void
walk_actions(struct live_table *t, uint8_t table, const struct ofpact *ofpacts,
             size_t len, uint64_t kill[HS_N], const struct live_bits *lb)
{
    const struct ofpact *a;

    OFPACT_FOR_EACH (a, ofpacts, len) {
        uint64_t m[HS_N];

        memset(m, 0, sizeof m);
        switch (a->type) {
        case OFPACT_OUTPUT:
        case OFPACT_ENQUEUE: {
            ofp_port_t port = (a->type == OFPACT_OUTPUT
                               ? ofpact_get_OUTPUT(a)->port
                               : ofpact_get_ENQUEUE(a)->port);
            add_reads(&t->own, lb->exit, kill);
            if (port == OFPP_IN_PORT) {
                add_reads(&t->own, lb->in_port, kill);
            }
            break;
        }
        case OFPACT_OUTPUT_REG:
            subfield_bits(&ofpact_get_OUTPUT_REG(a)->src, m);
            add_reads(&t->own, m, kill);
            add_reads(&t->own, lb->exit, kill);
            break;
        case OFPACT_SET_FIELD: {
            const struct ofpact_set_field *sf = ofpact_get_SET_FIELD(a);
            struct flow_wildcards wc;
            memset(&wc, 0, sizeof wc);
            mf_mask_field_masked(sf->field, ofpact_set_field_mask(sf), &wc);
            const uint64_t *w = (const uint64_t *) &wc.masks;
            for (size_t i = 0; i < HS_N; i++) {
                kill[i] |= w[i];
            }
            break;
        }
        case OFPACT_REG_MOVE: {
            const struct ofpact_reg_move *rm = ofpact_get_REG_MOVE(a);
            subfield_bits(&rm->src, m);
            add_reads(&t->own, m, kill);
            memset(m, 0, sizeof m);
            subfield_bits(&rm->dst, m);
            for (size_t i = 0; i < HS_N; i++) {
                kill[i] |= m[i];
            }
            break;
        }
        case OFPACT_SET_VLAN_VID:
        case OFPACT_SET_VLAN_PCP:
        case OFPACT_STRIP_VLAN:
        case OFPACT_PUSH_VLAN:
            add_reads(&t->own, lb->vlan, kill);
            break;
        case OFPACT_SET_ETH_SRC:
        case OFPACT_SET_ETH_DST:
        case OFPACT_SET_IPV4_SRC:
        case OFPACT_SET_IPV4_DST:
        case OFPACT_SET_L4_SRC_PORT:
        case OFPACT_SET_L4_DST_PORT:
        case OFPACT_SET_TUNNEL:
            /* Written, but not counted as such: reading them before is
             * only over-approximated. */
            break;
        case OFPACT_CT: {
            const struct ofpact_conntrack *oc = ofpact_get_CT(a);
            if (oc->zone_src.field) {
                subfield_bits(&oc->zone_src, m);
                add_reads(&t->own, m, kill);
            }
            if (oc->recirc_table != NX_CT_RECIRC_NONE) {
                uint64_t k[HS_N];
                for (size_t i = 0; i < HS_N; i++) {
                    k[i] = kill[i] | lb->ct[i];
                }
                add_edge(t, oc->recirc_table, k);
            } else {
                for (size_t i = 0; i < HS_N; i++) {
                    kill[i] |= lb->ct[i];
                }
            }
            break;
        }
        case OFPACT_CT_CLEAR:
            for (size_t i = 0; i < HS_N; i++) {
                kill[i] |= lb->ct[i];
            }
            break;
        case OFPACT_CLONE: {
            const struct ofpact_nest *on = ofpact_get_CLONE(a);
            uint64_t k[HS_N];
            memcpy(k, kill, sizeof k);
            walk_actions(t, table, on->actions,
                         ofpact_nest_get_action_len(on), k, lb);
            break;
        }
        case OFPACT_RESUBMIT: {
            /* resubmit(P,T) sets in_port for T's match only: the actions
             * of T's flows see the packet's own (so in_port is not
             * killed). */
            const struct ofpact_resubmit *r = ofpact_get_RESUBMIT(a);
            uint8_t target = r->table_id == 255 ? table : r->table_id;
            add_edge(t, target, kill);
            break;
        }
        case OFPACT_GOTO_TABLE:
            add_edge(t, ofpact_get_GOTO_TABLE(a)->table_id, kill);
            break;
        case OFPACT_EXIT:
            return;
        default:
            /* Changes nothing the analysis tracks, or is opaque (which
             * the checker reports whatever the space). */
            break;
        }
    }
}

/* Adds flow 'f''s match and actions to its table's summary. */
static void
summarize_flow(struct live_table *t, const struct vfy_flow *f,
               const struct live_bits *lb)
{
    const struct hs_sparse *s = f->match;
    const size_t regs_w = offsetof(struct flow, regs) / sizeof(uint64_t);
    uint64_t kill[HS_N];

    for (size_t i = 0; i < s->n; i++) {
        size_t w = s->idx[i];
        t->own.m[w] |= HS_SM(s, i);
        if (w < regs_w || w >= regs_w + FLOW_N_REGS / 2) {
            continue;
        }
        /* Two registers per word, in memory order. */
        uint32_t v[2], m[2];
        uint64_t sv = HS_SV(s, i), sm = HS_SM(s, i);
        memcpy(v, &sv, sizeof v);
        memcpy(m, &sm, sizeof m);
        for (int k = 0; k < 2; k++) {
            int r = (w - regs_w) * 2 + k;
            if (m[k] == UINT32_MAX) {
                add_val(&t->own, r, v[k]);
            } else if (m[k]) {
                t->own.reg_read[r] = true;
                t->own.n_vals[r] = 0;
            }
        }
    }
    if (f->is_clause) {
        return;                 /* Its actions are conjunction() only. */
    }
    uint32_t shape = actions_shape(f->ofpacts, f->ofpacts_len);
    if (hmap_first_with_hash(&t->shapes, shape)) {
        return;
    }
    struct live_shape *ls = xmalloc(sizeof *ls);
    hmap_insert(&t->shapes, &ls->node, shape);
    memset(kill, 0, sizeof kill);
    walk_actions(t, f->table_id, f->ofpacts, f->ofpacts_len, kill, lb);
}

/* Merges into 'dst' what 'src' reads, but the bits in 'kill'.  Returns
 * true if 'dst' changed. */
static bool
merge(struct vfy_live *dst, const struct vfy_live *src, const uint64_t *kill)
{
    bool changed = false;

    for (size_t i = 0; i < HS_N; i++) {
        uint64_t w = dst->m[i] | (src->m[i] & ~(kill ? kill[i] : 0));
        changed |= w != dst->m[i];
        dst->m[i] = w;
    }
    const struct flow *k = (const struct flow *) kill;
    for (int r = 0; r < FLOW_N_REGS; r++) {
        if ((k && k->regs[r] == UINT32_MAX) || dst->reg_read[r]) {
            continue;
        }
        if (src->reg_read[r]) {
            dst->reg_read[r] = true;
            dst->n_vals[r] = 0;
            changed = true;
            continue;
        }
        for (size_t i = 0; i < src->n_vals[r]; i++) {
            uint8_t n = dst->n_vals[r];
            bool was_read = dst->reg_read[r];
            add_val(dst, r, src->vals[r][i]);
            changed |= n != dst->n_vals[r] || was_read != dst->reg_read[r];
        }
    }
    return changed;
}

/* The summaries of every table, kept from run to run. */
struct vfy_live_state {
    struct live_table tables[256]; /* Per table. */
    struct live_bits lb;        /* Bits the analysis needs. */
};

/* Returns a state with every table empty. */
struct vfy_live_state *
vfy_live_create(void)
{
    struct vfy_live_state *st = xzalloc(sizeof *st);

    for (size_t i = 0; i < 256; i++) {
        hmap_init(&st->tables[i].edges);
        hmap_init(&st->tables[i].shapes);
    }
    struct live_bits *lb = &st->lb;
    field_bits(mf_from_id(MFF_VLAN_TCI), lb->exit);
    field_bits(mf_from_id(MFF_TUN_ID), lb->exit);
    field_bits(mf_from_id(MFF_IN_PORT), lb->in_port);
    memset(&((struct flow *) lb->vlan)->vlans, 0xff,
           sizeof ((struct flow *) 0)->vlans);
    static const enum mf_field_id ct_ids[] = {
        MFF_CT_STATE, MFF_CT_ZONE, MFF_CT_MARK, MFF_CT_LABEL,
        MFF_CT_NW_PROTO, MFF_CT_NW_SRC, MFF_CT_NW_DST, MFF_CT_IPV6_SRC,
        MFF_CT_IPV6_DST, MFF_CT_TP_SRC, MFF_CT_TP_DST,
    };
    for (size_t i = 0; i < ARRAY_SIZE(ct_ids); i++) {
        field_bits(mf_from_id(ct_ids[i]), lb->ct);
    }
    return st;
}

/* Empties the summary of table 'table' of 'st'. */
void
vfy_live_reset_table(struct vfy_live_state *st, uint8_t table)
{
    struct live_table *t = &st->tables[table];
    struct live_edge *e;

    HMAP_FOR_EACH_POP (e, node, &t->edges) {
        free(e);
    }
    struct live_shape *ls;
    HMAP_FOR_EACH_POP (ls, node, &t->shapes) {
        free(ls);
    }
    memset(&t->own, 0, sizeof t->own);
}

/* Adds flow 'f' to its table's summary in 'st'. */
void
vfy_live_add_flow(struct vfy_live_state *st, const struct vfy_flow *f)
{
    summarize_flow(&st->tables[f->table_id], f, &st->lb);
}

/* Adds to table 'table''s summary in 'st' that the bits 'm' are read
 * (otherwise than by tests). */
void
vfy_live_add_reads(struct vfy_live_state *st, uint8_t table,
                   const uint64_t m[HS_N])
{
    add_reads(&st->tables[table].own, m, NULL);
}

/* Frees 'st'. */
void
vfy_live_destroy(struct vfy_live_state *st)
{
    if (st) {
        for (size_t i = 0; i < 256; i++) {
            vfy_live_reset_table(st, i);
            hmap_destroy(&st->tables[i].edges);
            hmap_destroy(&st->tables[i].shapes);
        }
        free(st);
    }
}

/* Computes 'live[T]' for every table T from the summaries of 'st'. */
void
vfy_live_solve(const struct vfy_live_state *st, struct vfy_live live[256])
{
    for (size_t i = 0; i < 256; i++) {
        live[i] = st->tables[i].own;
    }
    bool changed = true;
    while (changed) {
        changed = false;
        for (size_t i = 0; i < 256; i++) {
            const struct live_edge *e;
            HMAP_FOR_EACH (e, node, &st->tables[i].edges) {
                changed |= merge(&live[i], &live[e->target], e->kill);
            }
        }
    }
}
