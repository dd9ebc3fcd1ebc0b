/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Unit tests of L2 address ownership (controller/mac-owners.c): the rank
 * of bids, verdicts that do not depend on the order of bids, and the bids
 * touched by a change. */

#include <config.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "controller/mac-owners.h"
#include "util.h"

/* The network key of the tests' network "lan". */
#define LAN 0x65

/* One bidder of a test. */
struct bidder {
    const char *port;           /* Port name. */
    const char *uuid;           /* Port UUID, as text. */
    uint32_t net_key;           /* Network key. */
    const char *own;            /* Own MAC. */
    const char *allowed[3];     /* Allowed addresses' MACs, NULL-ended. */
};

/* Returns 's' parsed as a MAC. */
static struct eth_addr
mac(const char *s)
{
    struct eth_addr ea;

    ck_assert(eth_addr_from_string(s, &ea));
    return ea;
}

/* Places the bid of 'who' as 'bid' in 'mo'.  Returns what
 * mac_owners_bid() returns. */
static bool
place(struct mac_owners *mo, struct mac_bid *bid, const struct bidder *who)
{
    struct eth_addr allowed[3];
    struct uuid uuid;
    size_t n = 0;

    ck_assert(uuid_from_string(&uuid, who->uuid));
    while (n < ARRAY_SIZE(allowed) && who->allowed[n]) {
        allowed[n] = mac(who->allowed[n]);
        n++;
    }
    return mac_owners_bid(mo, bid, who->port, &uuid, "lan", who->net_key,
                          mac(who->own), allowed, n);
}

/* Returns the verdict on 'bid' ("" if it wins).  The caller frees it. */
static char *
judge(const struct mac_owners *mo, const struct mac_bid *bid)
{
    char *why = mac_owners_judge(mo, bid);

    return why ? why : xstrdup("");
}

/* Returns the number of bids touched in 'mo' and forgets them; sets
 * '*found' to whether 'bid' was one of them. */
static size_t
take_touched(struct mac_owners *mo, const struct mac_bid *bid, bool *found)
{
    struct hmapx touched = HMAPX_INITIALIZER(&touched);

    mac_owners_take_touched(mo, &touched);
    size_t n = hmapx_count(&touched);
    if (found) {
        *found = hmapx_contains(&touched, bid);
    }
    hmapx_destroy(&touched);
    return n;
}

#define U1 "11111111-1111-1111-1111-111111111111"
#define U2 "22222222-2222-2222-2222-222222222222"
#define U3 "33333333-3333-3333-3333-333333333333"
#define U4 "44444444-4444-4444-4444-444444444444"

/* A port's own MAC comes before another's allowed address, whatever their
 * names. */
START_TEST(test_own_before_allowed)
{
    const struct bidder owner = { "z", U1, LAN, "02:00:00:00:00:01", { 0 } };
    const struct bidder thief = { "a", U2, LAN, "02:00:00:00:00:02",
                                  { "02:00:00:00:00:01" } };
    struct mac_owners mo;
    struct mac_bid a, b;

    mac_owners_init(&mo);
    mac_bid_init(&a);
    mac_bid_init(&b);
    place(&mo, &a, &owner);
    place(&mo, &b, &thief);

    char *why = judge(&mo, &a);
    ck_assert_str_eq(why, "");
    free(why);
    why = judge(&mo, &b);
    ck_assert_str_eq(why, "allowed address MAC 02:00:00:00:00:01 is the MAC "
                     "of port \"z\" on network \"lan\"");
    free(why);

    mac_owners_withdraw(&mo, &a);
    mac_owners_withdraw(&mo, &b);
    mac_owners_destroy(&mo);
}
END_TEST

/* Between two own MACs (one written in upper case), the Port name decides;
 * between equal names, the Port UUID. */
START_TEST(test_name_then_uuid)
{
    const struct bidder second = { "vm5", U1, LAN, "02:00:00:00:01:0b",
                                   { 0 } };
    const struct bidder first = { "vm4", U2, LAN, "02:00:00:00:01:0B",
                                  { 0 } };
    struct mac_owners mo;
    struct mac_bid a, b;

    mac_owners_init(&mo);
    mac_bid_init(&a);
    mac_bid_init(&b);
    place(&mo, &a, &second);
    place(&mo, &b, &first);

    char *why = judge(&mo, &a);
    ck_assert_str_eq(why, "MAC 02:00:00:00:01:0b is also the MAC of port "
                     "\"vm4\" on network \"lan\", which comes first by port "
                     "name");
    free(why);
    why = judge(&mo, &b);
    ck_assert_str_eq(why, "");
    free(why);

    /* The same name: the lower UUID comes first. */
    const struct bidder same = { "vm4", U1, LAN, "02:00:00:00:01:0b",
                                 { 0 } };
    ck_assert(place(&mo, &a, &same));
    why = judge(&mo, &b);
    ck_assert_str_eq(why, "MAC 02:00:00:00:01:0b is also the MAC of port "
                     "\"vm4\" on network \"lan\", which comes first by Port "
                     "UUID");
    free(why);
    why = judge(&mo, &a);
    ck_assert_str_eq(why, "");
    free(why);

    mac_owners_withdraw(&mo, &a);
    mac_owners_withdraw(&mo, &b);
    mac_owners_destroy(&mo);
}
END_TEST

/* Two allowed addresses share a MAC (a VRRP pair): both have it, and a
 * port whose own MAC it is comes before both. */
START_TEST(test_allowed_shared)
{
    const struct bidder x = { "x", U1, LAN, "02:00:00:00:00:01",
                              { "02:00:00:00:00:09" } };
    const struct bidder y = { "y", U2, LAN, "02:00:00:00:00:02",
                              { "02:00:00:00:00:09" } };
    const struct bidder z = { "z", U3, LAN, "02:00:00:00:00:09", { 0 } };
    struct mac_owners mo;
    struct mac_bid a, b, c;

    mac_owners_init(&mo);
    mac_bid_init(&a);
    mac_bid_init(&b);
    mac_bid_init(&c);
    place(&mo, &b, &y);
    place(&mo, &a, &x);
    ck_assert_ptr_null(mac_owners_judge(&mo, &a));
    ck_assert_ptr_null(mac_owners_judge(&mo, &b));

    bool found;
    place(&mo, &c, &z);
    ck_assert_uint_eq(take_touched(&mo, &a, &found), 2);
    ck_assert(found);
    char *why = judge(&mo, &b);
    ck_assert_str_eq(why, "allowed address MAC 02:00:00:00:00:09 is the MAC "
                     "of port \"z\" on network \"lan\"");
    free(why);
    why = judge(&mo, &a);
    ck_assert_str_eq(why, "allowed address MAC 02:00:00:00:00:09 is the MAC "
                     "of port \"z\" on network \"lan\"");
    free(why);
    ck_assert_ptr_null(mac_owners_judge(&mo, &c));

    mac_owners_withdraw(&mo, &a);
    mac_owners_withdraw(&mo, &b);
    mac_owners_withdraw(&mo, &c);
    mac_owners_destroy(&mo);
}
END_TEST

/* Addresses compete only within one network; a port's own MAC among its
 * allowed addresses is no rival of its own. */
START_TEST(test_networks_apart)
{
    const struct bidder here = { "a", U1, LAN, "02:00:00:00:00:01",
                                 { "02:00:00:00:00:01" } };
    const struct bidder there = { "b", U2, 0xc9, "02:00:00:00:00:01",
                                  { 0 } };
    struct mac_owners mo;
    struct mac_bid a, b;

    mac_owners_init(&mo);
    mac_bid_init(&a);
    mac_bid_init(&b);
    place(&mo, &a, &here);
    ck_assert_uint_eq(a.n_claims, 1);
    place(&mo, &b, &there);
    ck_assert_uint_eq(take_touched(&mo, NULL, NULL), 0);
    ck_assert_ptr_null(mac_owners_judge(&mo, &a));
    ck_assert_ptr_null(mac_owners_judge(&mo, &b));

    mac_owners_withdraw(&mo, &a);
    mac_owners_withdraw(&mo, &b);
    mac_owners_destroy(&mo);
}
END_TEST

/* The bidders of test_order_independent: "a" has M1, which "c" wants as an
 * allowed address; "b" and "d" both have M2 ("d" in upper case); "b" wants
 * M3 too, which is "e"'s. */
static const struct bidder order_bidders[] = {
    { "c", U3, LAN, "02:00:00:00:00:0c", { "02:00:00:00:00:01" } },
    { "a", U1, LAN, "02:00:00:00:00:01", { 0 } },
    { "d", U4, LAN, "02:00:00:00:00:02", { 0 } },
    { "b", U2, LAN, "02:00:00:00:00:02", { "02:00:00:00:00:03" } },
    { "e", U4, LAN, "02:00:00:00:00:03", { 0 } },
};

/* Which of 'order_bidders' win: "a" and "e"; "c" loses M1 to "a", "d"
 * loses M2 to "b", and "b" loses M3 to "e" but, refused, still comes first
 * for M2. */
static const bool order_wins[] = { false, true, false, false, true };

/* Verdicts do not depend on the order in which bids were placed: every
 * permutation of five bids gives the same winners. */
START_TEST(test_order_independent)
{
    enum { N = ARRAY_SIZE(order_bidders) };
    size_t perm[N];
    size_t n_perms = 0;

    for (size_t i = 0; i < N; i++) {
        perm[i] = i;
    }
    for (;;) {
        struct mac_owners mo;
        struct mac_bid bids[N];

        mac_owners_init(&mo);
        for (size_t i = 0; i < N; i++) {
            mac_bid_init(&bids[i]);
        }
        for (size_t i = 0; i < N; i++) {
            place(&mo, &bids[perm[i]], &order_bidders[perm[i]]);
        }
        for (size_t i = 0; i < N; i++) {
            char *why = mac_owners_judge(&mo, &bids[i]);
            ck_assert_msg(!why == order_wins[i], "bidder %s: %s",
                          order_bidders[i].port, why ? why : "wins");
            free(why);
        }
        for (size_t i = 0; i < N; i++) {
            mac_owners_withdraw(&mo, &bids[i]);
        }
        mac_owners_destroy(&mo);
        n_perms++;

        /* Next permutation, in lexicographic order. */
        size_t k = N - 1;
        while (k > 0 && perm[k - 1] > perm[k]) {
            k--;
        }
        if (!k) {
            break;
        }
        size_t l = N - 1;
        while (perm[l] < perm[k - 1]) {
            l--;
        }
        size_t t = perm[k - 1];
        perm[k - 1] = perm[l];
        perm[l] = t;
        for (size_t i = k, j = N - 1; i < j; i++, j--) {
            t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
    }
    ck_assert_uint_eq(n_perms, 120);
}
END_TEST

/* A change touches the bids that share an address with the bid before or
 * after it, and nothing else; a bid that does not change touches
 * nothing. */
START_TEST(test_touched)
{
    const struct bidder owner = { "a", U1, LAN, "02:00:00:00:00:01", { 0 } };
    const struct bidder other = { "b", U2, LAN, "02:00:00:00:00:02", { 0 } };
    const struct bidder loser = { "c", U3, LAN, "02:00:00:00:00:01", { 0 } };
    const struct bidder moved = { "a", U1, LAN, "02:00:00:00:00:02", { 0 } };
    struct mac_owners mo;
    struct mac_bid a, b, c;
    bool found;

    mac_owners_init(&mo);
    mac_bid_init(&a);
    mac_bid_init(&b);
    mac_bid_init(&c);
    place(&mo, &a, &owner);
    place(&mo, &b, &other);
    ck_assert_uint_eq(take_touched(&mo, NULL, NULL), 0);

    /* "c" arrives on "a"'s MAC: "a" is touched. */
    ck_assert(place(&mo, &c, &loser));
    ck_assert_uint_eq(take_touched(&mo, &a, &found), 1);
    ck_assert(found);
    char *reason = mac_owners_judge(&mo, &c);
    ck_assert_ptr_nonnull(reason);
    free(reason);

    /* The same bid again changes nothing. */
    ck_assert(!place(&mo, &c, &loser));
    ck_assert_uint_eq(take_touched(&mo, NULL, NULL), 0);

    /* "a" moves to "b"'s MAC: "c" (old address) and "b" (new) are
     * touched; "c" now wins. */
    ck_assert(place(&mo, &a, &moved));
    ck_assert_uint_eq(take_touched(&mo, &c, &found), 2);
    ck_assert(found);
    ck_assert_ptr_null(mac_owners_judge(&mo, &c));

    /* "a" leaves: "b" is touched and wins; "a" is no longer touched, even
     * if it was. */
    place(&mo, &a, &owner);
    mac_owners_withdraw(&mo, &a);
    ck_assert_uint_eq(take_touched(&mo, &a, &found), 2);
    ck_assert(!found);
    ck_assert(!mac_bid_is_placed(&a));
    ck_assert_ptr_null(mac_owners_judge(&mo, &b));

    mac_owners_withdraw(&mo, &b);
    mac_owners_withdraw(&mo, &c);
    mac_owners_destroy(&mo);
}
END_TEST

static Suite *
mac_owners_suite(void)
{
    Suite *s = suite_create("mac-owners");
    TCase *tc = tcase_create("rank");

    tcase_add_test(tc, test_own_before_allowed);
    tcase_add_test(tc, test_name_then_uuid);
    tcase_add_test(tc, test_allowed_shared);
    tcase_add_test(tc, test_networks_apart);
    tcase_add_test(tc, test_order_independent);
    tcase_add_test(tc, test_touched);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(mac_owners_suite());

    srunner_run_all(sr, CK_ENV);
    int n_failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return n_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
