/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef VERIFY_HSPACE_H
#define VERIFY_HSPACE_H 1

/* Header spaces over struct flow, for the isolation verifier.
 *
 * A cube is a ternary pattern over the bits of struct flow: 'm' says which
 * bits are fixed, 'v' their values (always zero where 'm' is).  Dense cubes
 * (struct hs_cube) are what a traversal carries; sparse cubes (struct
 * hs_sparse) hold only the 64-bit words whose mask is nonzero, which is what
 * a flow's match usually is, so that tests against them cost a few words.
 * A set of packets is a cube minus a list of sparse cubes (lazy
 * subtraction); see Documentation/verify.md. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "openvswitch/flow.h"

struct match;
struct mf_field;

/* The number of 64-bit words in struct flow. */
#define HS_N FLOW_U64S

/* A dense cube. */
struct hs_cube {
    uint64_t v[HS_N];           /* Values of the fixed bits, 0 elsewhere. */
    uint64_t m[HS_N];           /* 1-bits: fixed bits. */
};

/* A sparse cube: words 'idx[i]' have value w[i] and mask w[n + i]. */
struct hs_sparse {
    uint32_t n;                 /* Number of words with a nonzero mask. */
    uint32_t hash;              /* Hash of the words, for equality. */
    uint8_t idx[HS_N];          /* Their indexes, increasing. */
    uint64_t w[];               /* n values, then n masks. */
};

/* The value and mask of word 'I' of sparse cube 'S'. */
#define HS_SV(S, I) ((S)->w[I])
#define HS_SM(S, I) ((S)->w[(S)->n + (I)])

void hs_cube_from_match(struct hs_cube *, const struct match *);
struct hs_sparse *hs_sparse_from_cube(const struct hs_cube *);
struct hs_sparse *hs_sparse_from_match(const struct match *);
void hs_cube_from_sparse(struct hs_cube *, const struct hs_sparse *);
bool hs_sparse_equal(const struct hs_sparse *, const struct hs_sparse *);

/* Tests and operations between a dense and a sparse cube. */
bool hs_intersects(const struct hs_cube *, const struct hs_sparse *);
bool hs_covers(const struct hs_sparse *, const struct hs_cube *);
void hs_and(struct hs_cube *, const struct hs_sparse *);
bool hs_sparse_touches(const struct hs_sparse *, const struct hs_cube *bits);
bool hs_sparse_intersect(const struct hs_sparse *, const struct hs_sparse *);

/* Dense against dense. */
bool hs_cube_intersects(const struct hs_cube *, const struct hs_cube *);

/* Bits of a field. */
void hs_field_bits(const struct mf_field *, struct hs_cube *bits);

/* Emptiness of 'c' minus 'subs' (n of them).  Returns true if the set is
 * not empty, and then stores in '*witness' a sub-cube of 'c' disjoint from
 * every subtracted cube.  'budget' bounds the number of splits: when it
 * runs out the set is deemed not empty (a safe over-approximation), and
 * '*witness' is 'c' itself, which may then be inexact. */
bool hs_nonempty(const struct hs_cube *c, const struct hs_sparse *const *subs,
                 size_t n, struct hs_cube *witness, int budget);

/* The same without a witness, faster when the set is not empty. */
bool hs_is_nonempty(const struct hs_cube *c,
                    const struct hs_sparse *const *subs, size_t n,
                    int budget);

#endif /* verify/hspace.h */
