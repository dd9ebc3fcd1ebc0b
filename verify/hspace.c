/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Ternary cubes over struct flow and lazy subtraction (hspace.h). */

#include <config.h>

#include "verify/hspace.h"

#include <string.h>
#include "hash.h"
#include "openvswitch/match.h"
#include "openvswitch/meta-flow.h"
#include "util.h"

/* Makes 'c' the cube of 'match'. */
void
hs_cube_from_match(struct hs_cube *c, const struct match *match)
{
    const uint64_t *fv = (const uint64_t *) &match->flow;
    const uint64_t *fm = (const uint64_t *) &match->wc.masks;

    for (size_t i = 0; i < HS_N; i++) {
        c->m[i] = fm[i];
        c->v[i] = fv[i] & fm[i];
    }
}

/* Returns a sparse copy of 'c' (the caller frees it). */
struct hs_sparse *
hs_sparse_from_cube(const struct hs_cube *c)
{
    uint32_t n = 0;

    for (size_t i = 0; i < HS_N; i++) {
        n += c->m[i] != 0;
    }

    struct hs_sparse *s = xmalloc(sizeof *s + 2 * n * sizeof s->w[0]);
    uint32_t hash = 0;
    s->n = n;
    n = 0;
    for (size_t i = 0; i < HS_N; i++) {
        if (c->m[i]) {
            s->idx[n] = i;
            HS_SV(s, n) = c->v[i] & c->m[i];
            HS_SM(s, n) = c->m[i];
            hash = hash_add64(hash, HS_SV(s, n));
            hash = hash_add64(hash, HS_SM(s, n) ^ i);
            n++;
        }
    }
    s->hash = hash_finish(hash, n);
    return s;
}

/* Returns the sparse cube of 'match' (the caller frees it). */
struct hs_sparse *
hs_sparse_from_match(const struct match *match)
{
    struct hs_cube c;

    hs_cube_from_match(&c, match);
    return hs_sparse_from_cube(&c);
}

/* Makes 'c' a dense copy of 's'. */
void
hs_cube_from_sparse(struct hs_cube *c, const struct hs_sparse *s)
{
    memset(c, 0, sizeof *c);
    for (uint32_t i = 0; i < s->n; i++) {
        c->v[s->idx[i]] = HS_SV(s, i);
        c->m[s->idx[i]] = HS_SM(s, i);
    }
}

/* Returns true if 'a' and 'b' are the same cube. */
bool
hs_sparse_equal(const struct hs_sparse *a, const struct hs_sparse *b)
{
    return (a->hash == b->hash && a->n == b->n
            && !memcmp(a->idx, b->idx, a->n)
            && !memcmp(a->w, b->w, 2 * a->n * sizeof a->w[0]));
}

/* Returns true if 'c' and 's' have a packet in common. */
bool
hs_intersects(const struct hs_cube *c, const struct hs_sparse *s)
{
    for (uint32_t i = 0; i < s->n; i++) {
        size_t w = s->idx[i];
        if ((c->v[w] ^ HS_SV(s, i)) & c->m[w] & HS_SM(s, i)) {
            return false;
        }
    }
    return true;
}

/* Returns true if every packet of 'c' is in 's'. */
bool
hs_covers(const struct hs_sparse *s, const struct hs_cube *c)
{
    for (uint32_t i = 0; i < s->n; i++) {
        size_t w = s->idx[i];
        uint64_t sm = HS_SM(s, i);
        if ((sm & ~c->m[w]) || ((c->v[w] ^ HS_SV(s, i)) & sm)) {
            return false;
        }
    }
    return true;
}

/* Intersects 'c' with 's' (which must intersect it). */
void
hs_and(struct hs_cube *c, const struct hs_sparse *s)
{
    for (uint32_t i = 0; i < s->n; i++) {
        size_t w = s->idx[i];
        c->v[w] |= HS_SV(s, i);
        c->m[w] |= HS_SM(s, i);
    }
}

/* Returns true if 's' fixes any of the bits set in 'bits->m'. */
bool
hs_sparse_touches(const struct hs_sparse *s, const struct hs_cube *bits)
{
    for (uint32_t i = 0; i < s->n; i++) {
        if (HS_SM(s, i) & bits->m[s->idx[i]]) {
            return true;
        }
    }
    return false;
}

/* Returns true if sparse cubes 'a' and 'b' have a packet in common. */
bool
hs_sparse_intersect(const struct hs_sparse *a, const struct hs_sparse *b)
{
    uint32_t i = 0, j = 0;

    while (i < a->n && j < b->n) {
        if (a->idx[i] < b->idx[j]) {
            i++;
        } else if (a->idx[i] > b->idx[j]) {
            j++;
        } else {
            if ((HS_SV(a, i) ^ HS_SV(b, j)) & HS_SM(a, i) & HS_SM(b, j)) {
                return false;
            }
            i++;
            j++;
        }
    }
    return true;
}

/* Returns true if dense cubes 'a' and 'b' have a packet in common. */
bool
hs_cube_intersects(const struct hs_cube *a, const struct hs_cube *b)
{
    for (size_t i = 0; i < HS_N; i++) {
        if ((a->v[i] ^ b->v[i]) & a->m[i] & b->m[i]) {
            return false;
        }
    }
    return true;
}

/* Sets in 'bits->m' the bits of struct flow that field 'mf' occupies (and
 * clears the rest). */
void
hs_field_bits(const struct mf_field *mf, struct hs_cube *bits)
{
    struct flow_wildcards wc;

    memset(&wc, 0, sizeof wc);
    mf_mask_field(mf, &wc);
    memset(bits, 0, sizeof *bits);
    memcpy(bits->m, &wc.masks, sizeof bits->m);
}

/* hs_nonempty()'s recursion.  'subs' may be reordered.  'c' is split in
 * place: it is as it was when this returns. */
static bool
nonempty__(struct hs_cube *c, const struct hs_sparse **subs, size_t n,
           struct hs_cube *witness, int *budget)
{
    /* Keep only what meets 'c' (moved to the front of 'subs'); anything
     * that covers it empties it. */
    size_t n_live = 0;
    for (size_t i = 0; i < n; i++) {
        const struct hs_sparse *s = subs[i];
        if (hs_intersects(c, s)) {
            if (hs_covers(s, c)) {
                return false;
            }
            subs[i] = subs[n_live];
            subs[n_live++] = s;
        }
    }
    if (!n_live || --*budget <= 0) {
        *witness = *c;
        return true;
    }

    /* Split on a bit that subs[0] fixes and 'c' does not: the half with
     * the other value is disjoint from subs[0]. */
    const struct hs_sparse *s = subs[0];
    size_t w = 0;
    uint64_t bit = 0;
    bool s_value = false;
    for (uint32_t i = 0; i < s->n; i++) {
        uint64_t free_bits = HS_SM(s, i) & ~c->m[s->idx[i]];
        if (free_bits) {
            w = s->idx[i];
            bit = free_bits & -free_bits;
            s_value = (HS_SV(s, i) & bit) != 0;
            break;
        }
    }
    ovs_assert(bit);

    bool found = false;
    c->m[w] |= bit;
    for (int pass = 0; pass < 2 && !found; pass++) {
        /* Pass 0: the half without 's'; pass 1: the half within it.
         * (Pass 0 reorders only the cubes after 's'.) */
        bool value = pass == 0 ? !s_value : s_value;
        c->v[w] = value ? c->v[w] | bit : c->v[w] & ~bit;
        found = nonempty__(c, pass == 0 ? subs + 1 : subs,
                           pass == 0 ? n_live - 1 : n_live, witness, budget);
    }
    c->m[w] &= ~bit;
    c->v[w] &= ~bit;
    return found;
}

bool
hs_nonempty(const struct hs_cube *c, const struct hs_sparse *const *subs,
            size_t n, struct hs_cube *witness, int budget)
{
    const struct hs_sparse *stack[64];
    const struct hs_sparse **copy = (n <= ARRAY_SIZE(stack) ? stack
                                     : xmalloc(n * sizeof *copy));
    struct hs_cube split = *c;

    if (n) {
        memcpy(copy, subs, n * sizeof *subs);
    }
    bool nonempty = nonempty__(&split, copy, n, witness, &budget);
    if (copy != stack) {
        free(copy);
    }
    return nonempty;
}

/* Returns true if the packet of 'c' with zeros (or, with 'ones', ones) in
 * every free bit is in 's'. */
static bool
point_in(const struct hs_cube *c, const struct hs_sparse *s, bool ones)
{
    for (uint32_t i = 0; i < s->n; i++) {
        size_t w = s->idx[i];
        uint64_t v = ones ? c->v[w] | ~c->m[w] : c->v[w];
        if ((v ^ HS_SV(s, i)) & HS_SM(s, i)) {
            return false;
        }
    }
    return true;
}

bool
hs_is_nonempty(const struct hs_cube *c, const struct hs_sparse *const *subs,
               size_t n, int budget)
{
    /* Most often, the packet with zeros in every free bit, or the one
     * with ones, is outside every subtracted cube. */
    bool zero_out = true, ones_out = true;

    for (size_t i = 0; i < n && (zero_out || ones_out); i++) {
        zero_out = zero_out && !point_in(c, subs[i], false);
        ones_out = ones_out && !point_in(c, subs[i], true);
    }
    if (zero_out || ones_out) {
        return true;
    }

    struct hs_cube witness;
    return hs_nonempty(c, subs, n, &witness, budget);
}
