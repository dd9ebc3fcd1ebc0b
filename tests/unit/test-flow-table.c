/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Unit tests of the desired flow table (controller/flow-table.c): flow
 * identity from the parsed match, several owners per flow, conjunction
 * merging, clashes and change tracking. */

#include <config.h>

#include <check.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "controller/flow-table.h"
#include "openvswitch/dynamic-string.h"
#include "util.h"

/* Returns the flows of 'ft' (of 'owner', if nonnull) as sorted text.  The
 * caller frees it. */
static char *
dump(const struct flow_table *ft, const char *owner)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    flow_table_format(ft, owner, &s);
    return ds_steal_cstr(&s);
}

/* Returns the number of changed keys recorded in 'ft', and forgets them. */
static size_t
take_changes(struct flow_table *ft)
{
    struct hmap keys = HMAP_INITIALIZER(&keys);

    flow_table_take_changes(ft, &keys);
    size_t n = hmap_count(&keys);
    bh_flow_keys_destroy(&keys);
    return n;
}

/* Returns the only flow of 'ft'. */
static const struct bh_flow *
only_flow(const struct flow_table *ft)
{
    const struct bh_flow *f;

    ck_assert_uint_eq(flow_table_count(ft), 1);
    FLOW_TABLE_FOR_EACH (f, ft) {
        return f;
    }
    return NULL;
}

START_TEST(test_same_flow_written_two_ways)
{
    struct flow_table ft;

    flow_table_init(&ft);
    /* Fields in another order, "ip" spelled as dl_type, a MAC in capitals:
     * one flow. */
    ck_assert(flow_table_add(&ft, "a", 10, 100, 1,
                             "in_port=5,ip,nw_src=10.0.0.1,"
                             "dl_src=02:00:00:00:00:0a", "drop"));
    ck_assert(flow_table_add(&ft, "b", 10, 100, 1,
                             "dl_type=0x0800,dl_src=02:00:00:00:00:0A,"
                             "nw_src=10.0.0.1,in_port=5", "drop"));
    ck_assert_uint_eq(flow_table_count(&ft), 1);
    ck_assert_uint_eq(flow_table_n_clashes(&ft), 0);
    ck_assert_uint_eq(take_changes(&ft), 1);

    /* The first owner leaving does not remove it... */
    flow_table_clear_owner(&ft, "a");
    ck_assert_uint_eq(flow_table_count(&ft), 1);
    ck_assert_uint_eq(take_changes(&ft), 0);
    ck_assert(!flow_table_has_owner(&ft, "a"));

    /* ...the last one does. */
    flow_table_clear_owner(&ft, "b");
    ck_assert_uint_eq(flow_table_count(&ft), 0);
    ck_assert_uint_eq(take_changes(&ft), 1);

    /* Untracked (the next installation compares everything), a change is
     * not recorded; tracked again, it is. */
    flow_table_set_untracked(&ft, true);
    flow_table_add(&ft, "a", 10, 100, 1, "in_port=6", "drop");
    ck_assert_uint_eq(take_changes(&ft), 0);
    flow_table_set_untracked(&ft, false);
    flow_table_clear_owner(&ft, "a");
    ck_assert_uint_eq(take_changes(&ft), 1);

    /* Another priority or table is another flow. */
    flow_table_add(&ft, "a", 10, 100, 1, "in_port=5", "drop");
    flow_table_add(&ft, "a", 10, 101, 1, "in_port=5", "drop");
    flow_table_add(&ft, "a", 11, 100, 1, "in_port=5", "drop");
    ck_assert_uint_eq(flow_table_count(&ft), 3);
    flow_table_destroy(&ft);
}
END_TEST

START_TEST(test_clash_first_owner_wins)
{
    struct flow_table ft;

    flow_table_init(&ft);
    flow_table_add(&ft, "a", 30, 100, 1, "dl_dst=02:00:00:00:00:01",
                   "output:1");
    flow_table_add(&ft, "b", 30, 100, 2, "dl_dst=02:00:00:00:00:01",
                   "output:2");
    ck_assert_uint_eq(flow_table_count(&ft), 1);
    ck_assert_uint_eq(flow_table_n_clashes(&ft), 1);

    /* The first owner wins while it is there... */
    const struct bh_flow *f = only_flow(&ft);
    ck_assert_str_eq(f->actions_text, "output:1");
    ck_assert_uint_eq(f->cookie, 1);
    ck_assert_uint_eq(take_changes(&ft), 1);

    /* ...and the other takes over when it goes. */
    flow_table_clear_owner(&ft, "a");
    f = only_flow(&ft);
    ck_assert_str_eq(f->actions_text, "output:2");
    ck_assert_uint_eq(f->cookie, 2);
    ck_assert_uint_eq(flow_table_n_clashes(&ft), 0);
    ck_assert(flow_table_has_owner(&ft, "b"));
    ck_assert_uint_eq(take_changes(&ft), 1);

    flow_table_clear_owner(&ft, "b");
    ck_assert_uint_eq(flow_table_count(&ft), 0);
    flow_table_destroy(&ft);
}
END_TEST

START_TEST(test_conjunctions_merge_and_shrink)
{
    struct flow_table ft;

    flow_table_init(&ft);
    flow_table_add(&ft, "rule:2", 40, 2000, 7, "ip,nw_src=10.0.0.5",
                   "conjunction(2,1/2)");
    flow_table_add(&ft, "rule:1", 40, 2000, 7, "nw_src=10.0.0.5,ip",
                   "conjunction(1,1/2)");
    /* The same clause twice is one clause. */
    flow_table_add(&ft, "rule:1b", 40, 2000, 7, "ip,nw_src=10.0.0.5",
                   "conjunction(1,1/2)");
    ck_assert_uint_eq(flow_table_n_clashes(&ft), 0);
    char *text = dump(&ft, NULL);
    ck_assert_str_eq(text, "table=40,priority=2000,ip,nw_src=10.0.0.5,"
                     "cookie=0x7,actions=conjunction(1,1/2),"
                     "conjunction(2,1/2)\n");
    free(text);
    ck_assert_uint_eq(take_changes(&ft), 1);

    /* An owner leaving takes its clause away, in place. */
    flow_table_clear_owner(&ft, "rule:1");
    flow_table_clear_owner(&ft, "rule:1b");
    ck_assert_uint_eq(flow_table_count(&ft), 1);
    ck_assert_str_eq(only_flow(&ft)->actions_text, "conjunction(2,1/2)");
    ck_assert_uint_eq(take_changes(&ft), 1);

    /* A flow that is not only conjunctions does not merge: a clash. */
    flow_table_add(&ft, "other", 40, 2000, 7, "ip,nw_src=10.0.0.5",
                   "drop");
    ck_assert_uint_eq(flow_table_n_clashes(&ft), 1);
    ck_assert_str_eq(only_flow(&ft)->actions_text, "conjunction(2,1/2)");
    flow_table_clear_owner(&ft, "rule:2");
    ck_assert_uint_eq(flow_table_n_clashes(&ft), 0);
    ck_assert_str_eq(only_flow(&ft)->actions_text, "drop");
    flow_table_destroy(&ft);
}
END_TEST

/* Owners that agree on a flow (conjunctions merged, or the same actions)
 * give it the smallest of their cookies, whatever the order in which they
 * came: an owner written anew (cleared, added again: it goes last) changes
 * nothing, and the cookie moves only when its owner goes. */
START_TEST(test_agreeing_owners_smallest_cookie)
{
    static const char *const orders[2][2] = { { "a", "b" }, { "b", "a" } };

    for (int o = 0; o < 2; o++) {
        for (int conj = 0; conj < 2; conj++) {
            struct flow_table ft;

            flow_table_init(&ft);
            for (int i = 0; i < 2; i++) {
                const char *owner = orders[o][i];
                bool a = !strcmp(owner, "a");
                flow_table_add(&ft, owner, 60, 1000, a ? 9 : 5,
                               "ip,nw_src=10.0.0.5",
                               !conj ? "goto_table:61"
                               : a ? "conjunction(1,1/2)"
                               : "conjunction(2,1/2)");
            }
            ck_assert_uint_eq(flow_table_n_clashes(&ft), 0);
            ck_assert_uint_eq(only_flow(&ft)->cookie, 5);
            take_changes(&ft);

            /* "b" written anew goes last: nothing changes. */
            flow_table_clear_owner(&ft, "b");
            flow_table_add(&ft, "b", 60, 1000, 5, "ip,nw_src=10.0.0.5",
                           conj ? "conjunction(2,1/2)" : "goto_table:61");
            ck_assert_uint_eq(only_flow(&ft)->cookie, 5);
            ck_assert_uint_eq(take_changes(&ft), 0);

            /* "b" goes: "a"'s cookie. */
            flow_table_clear_owner(&ft, "b");
            ck_assert_uint_eq(only_flow(&ft)->cookie, 9);
            ck_assert_uint_eq(take_changes(&ft), 1);
            flow_table_destroy(&ft);
        }
    }
}
END_TEST

/* A remote group's member flow, wanted by each rule that names the group:
 * its result is every owner's clause, however they come and go between
 * two reads, and a flow whose owners all left before a read is gone. */
START_TEST(test_many_conjunction_owners)
{
    enum { N = 2000 };
    struct flow_table ft;

    flow_table_init(&ft);
    for (int i = N; i >= 1; i--) {
        char *owner = xasprintf("rule:%d", i);
        char *actions = xasprintf("conjunction(%d,1/2)", i);
        flow_table_add(&ft, owner, 40, 2000, 7, "ip,nw_src=10.0.0.5",
                       actions);
        free(actions);
        free(owner);
    }
    /* Owners of another flow come and go before anything reads it. */
    flow_table_add(&ft, "gone:1", 40, 2000, 7, "ip,nw_src=10.0.0.6",
                   "conjunction(1,1/2)");
    flow_table_add(&ft, "gone:2", 40, 2000, 7, "ip,nw_src=10.0.0.6",
                   "conjunction(2,1/2)");
    flow_table_clear_owner(&ft, "gone:1");
    flow_table_clear_owner(&ft, "gone:2");
    ck_assert_uint_eq(take_changes(&ft), 1);

    struct ds expected = DS_EMPTY_INITIALIZER;
    for (int i = 1; i <= N; i++) {
        ds_put_format(&expected, "%sconjunction(%d,1/2)", i > 1 ? "," : "",
                      i);
    }
    ck_assert_str_eq(only_flow(&ft)->actions_text, ds_cstr(&expected));

    /* Every other owner leaves: the flow keeps the others' clauses. */
    ds_clear(&expected);
    for (int i = 1; i <= N; i++) {
        if (i % 2) {
            char *owner = xasprintf("rule:%d", i);
            flow_table_clear_owner(&ft, owner);
            free(owner);
        } else {
            ds_put_format(&expected, "%sconjunction(%d,1/2)",
                          i > 2 ? "," : "", i);
        }
    }
    ck_assert_str_eq(only_flow(&ft)->actions_text, ds_cstr(&expected));
    ck_assert_uint_eq(take_changes(&ft), 1);
    ck_assert_uint_eq(flow_table_n_clashes(&ft), 0);
    ds_destroy(&expected);
    flow_table_destroy(&ft);
}
END_TEST

START_TEST(test_readding_the_same_flow_changes_nothing)
{
    struct flow_table ft;

    flow_table_init(&ft);
    flow_table_add(&ft, "vnic:a", 10, 100, 1, "in_port=1",
                   "set_field:0x65->metadata,goto_table:20");
    take_changes(&ft);

    /* Recomputing an owner into the same flows records no change. */
    flow_table_clear_owner(&ft, "vnic:a");
    flow_table_add(&ft, "vnic:a", 10, 100, 1, "in_port=1",
                   "set_field:0x65->metadata,goto_table:20");
    /* The key went and came back: the installer looks at it and finds it
     * the same. */
    ck_assert_uint_le(take_changes(&ft), 1);
    ck_assert_uint_eq(flow_table_count(&ft), 1);

    /* A changed action or cookie is a change. */
    flow_table_clear_owner(&ft, "vnic:a");
    flow_table_add(&ft, "vnic:a", 10, 100, 2, "in_port=1",
                   "set_field:0x65->metadata,goto_table:20");
    ck_assert_uint_eq(take_changes(&ft), 1);
    ck_assert_uint_eq(only_flow(&ft)->cookie, 2);
    flow_table_destroy(&ft);
}
END_TEST

START_TEST(test_bad_flow_is_refused)
{
    struct flow_table ft;

    flow_table_init(&ft);
    ck_assert(!flow_table_add(&ft, "a", 10, 100, 1, "in_port=1,nosuch=3",
                              "drop"));
    ck_assert(!flow_table_add(&ft, "a", 10, 100, 1, "in_port=1",
                              "nosuchaction"));
    ck_assert_uint_eq(flow_table_count(&ft), 0);
    ck_assert_uint_eq(ft.n_errors, 2);
    ck_assert(!flow_table_has_owner(&ft, "a"));
    flow_table_destroy(&ft);
}
END_TEST

/* Actions reused from the flow before (parsed once) are still checked
 * against each flow's own match, and give what a parse of their own
 * would. */
START_TEST(test_reused_actions_are_checked_per_flow)
{
    const char *to_ip = "set_field:10.0.0.9->ip_dst,goto_table:20";
    struct flow_table ft, alone;

    flow_table_init(&ft);
    flow_table_init(&alone);
    ck_assert(flow_table_add(&ft, "a", 10, 100, 1, "in_port=1,ip", to_ip));
    /* ARP has no IPv4 destination to set: refused, as it would be alone. */
    ck_assert(!flow_table_add(&ft, "a", 10, 100, 1, "in_port=2,arp", to_ip));
    ck_assert(!flow_table_add(&alone, "a", 10, 100, 1, "in_port=2,arp",
                              to_ip));
    /* Nor may a goto_table go backwards from a later table. */
    ck_assert(!flow_table_add(&ft, "a", 30, 100, 1, "in_port=3,ip", to_ip));
    ck_assert(flow_table_add(&ft, "a", 10, 100, 1, "in_port=4,ip", to_ip));
    ck_assert(flow_table_add(&alone, "a", 10, 100, 1, "in_port=4,ip",
                             to_ip));
    ck_assert_uint_eq(flow_table_count(&ft), 2);
    ck_assert_uint_eq(ft.n_errors, 2);

    /* The reused actions are those a parse of their own gives. */
    struct bh_flow_key key;
    ck_assert_ptr_null(bh_flow_key_from_string(10, 100, "in_port=4,ip",
                                               &key));
    const struct bh_flow *a = flow_table_find(&ft, &key);
    const struct bh_flow *b = flow_table_find(&alone, &key);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(a->wire_len, b->wire_len);
    ck_assert(!memcmp(a->wire, b->wire, a->wire_len));
    bh_flow_key_destroy(&key);
    flow_table_destroy(&ft);
    flow_table_destroy(&alone);
}
END_TEST

START_TEST(test_owner_prefix_and_format)
{
    struct flow_table ft;

    flow_table_init(&ft);
    flow_table_add(&ft, "vnic:a", 10, 100, 1, "in_port=1", "drop");
    flow_table_add(&ft, "vnic:b", 10, 100, 1, "in_port=2", "drop");
    flow_table_add(&ft, "net:0x65", 30, 50, 2, "metadata=0x65", "drop");
    char *text = dump(&ft, "vnic:b");
    ck_assert_str_eq(text, "table=10,priority=100,in_port=2,cookie=0x1,"
                     "actions=drop\n");
    free(text);

    flow_table_clear_owner_prefix(&ft, "vnic:");
    ck_assert_uint_eq(flow_table_count(&ft), 1);
    ck_assert(flow_table_has_owner(&ft, "net:0x65"));
    flow_table_destroy(&ft);
}
END_TEST

START_TEST(test_key_from_string_finds_the_flow)
{
    struct flow_table ft;
    struct bh_flow_key key;

    flow_table_init(&ft);
    flow_table_add(&ft, "a", 60, 2000, 7,
                   "ct_state=+trk-inv,reg11=1,reg12=0x5,ct_nw_proto=17",
                   "set_field:0x9->reg13");
    flow_table_add(&ft, "a", 0, 0, 8, "", "goto_table:10");

    /* As ovs-vswitchd's ofproto/trace prints the flows it hits. */
    ck_assert_ptr_null(bh_flow_key_from_string(
                           60, 2000, "ct_state=-inv+trk,ct_nw_proto=17,"
                           "reg11=0x1,reg12=0x5", &key));
    const struct bh_flow *f = flow_table_find(&ft, &key);
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(f->cookie, 7);
    bh_flow_key_destroy(&key);

    ck_assert_ptr_null(bh_flow_key_from_string(0, 0, "", &key));
    f = flow_table_find(&ft, &key);
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(f->cookie, 8);
    bh_flow_key_destroy(&key);

    /* Another priority is another flow. */
    ck_assert_ptr_null(bh_flow_key_from_string(0, 1, "", &key));
    ck_assert_ptr_null(flow_table_find(&ft, &key));
    bh_flow_key_destroy(&key);

    char *error = bh_flow_key_from_string(0, 0, "nosuch=1", &key);
    ck_assert_ptr_nonnull(error);
    free(error);
    flow_table_destroy(&ft);
}
END_TEST

/* Returns the ids flow_table_take_meter_changes() gives, sorted, as
 * text ("3,7"). */
static char *
take_meter_changes(struct flow_table *ft)
{
    struct hmap ids = HMAP_INITIALIZER(&ids);
    uint32_t seen[16];
    size_t n = 0;

    flow_table_take_meter_changes(ft, &ids);
    for (struct hmap_node *node = hmap_first(&ids); node && n < 16;
         node = hmap_next(&ids, node)) {
        seen[n++] = flow_table_meter_change_id(node);
    }
    flow_table_meter_changes_destroy(&ids);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n; j++) {
            if (seen[j] < seen[i]) {
                uint32_t t = seen[i];
                seen[i] = seen[j];
                seen[j] = t;
            }
        }
    }
    struct ds s = DS_EMPTY_INITIALIZER;
    for (size_t i = 0; i < n; i++) {
        ds_put_format(&s, "%s%"PRIu32, i ? "," : "", seen[i]);
    }
    return ds_steal_cstr(&s);
}

/* The installer sends only the meters whose wanted state changed: a meter
 * set, changed (its id or its rate) or dropped with its owner is reported
 * once, and found by id while wanted. */
START_TEST(test_meter_changes_are_tracked)
{
    struct flow_table ft;
    char *s;

    flow_table_init(&ft);
    flow_table_set_meter(&ft, "a", 3, 20, 20);
    flow_table_set_meter(&ft, "b", 7, 20, 20);
    ck_assert(flow_table_meters_changed(&ft));
    s = take_meter_changes(&ft);
    ck_assert_str_eq(s, "3,7");
    free(s);
    ck_assert(!flow_table_meters_changed(&ft));

    /* The same again: nothing. */
    flow_table_set_meter(&ft, "a", 3, 20, 20);
    s = take_meter_changes(&ft);
    ck_assert_str_eq(s, "");
    free(s);

    /* Another rate; another id (both ids change); an owner gone. */
    flow_table_set_meter(&ft, "a", 3, 50, 50);
    ck_assert_uint_eq(flow_table_find_meter(&ft, 3)->rate, 50);
    flow_table_set_meter(&ft, "b", 9, 20, 20);
    ck_assert_ptr_null(flow_table_find_meter(&ft, 7));
    s = take_meter_changes(&ft);
    ck_assert_str_eq(s, "3,7,9");
    free(s);
    flow_table_clear_owner(&ft, "a");
    ck_assert_ptr_null(flow_table_find_meter(&ft, 3));
    ck_assert_ptr_nonnull(flow_table_find_meter(&ft, 9));
    s = take_meter_changes(&ft);
    ck_assert_str_eq(s, "3");
    free(s);
    flow_table_clear(&ft);
    s = take_meter_changes(&ft);
    ck_assert_str_eq(s, "9");
    free(s);
    flow_table_destroy(&ft);
}
END_TEST

static Suite *
flow_table_suite(void)
{
    Suite *s = suite_create("flow-table");
    TCase *tc = tcase_create("flow-table");

    tcase_add_test(tc, test_same_flow_written_two_ways);
    tcase_add_test(tc, test_clash_first_owner_wins);
    tcase_add_test(tc, test_conjunctions_merge_and_shrink);
    tcase_add_test(tc, test_readding_the_same_flow_changes_nothing);
    tcase_add_test(tc, test_bad_flow_is_refused);
    tcase_add_test(tc, test_reused_actions_are_checked_per_flow);
    tcase_add_test(tc, test_owner_prefix_and_format);
    tcase_add_test(tc, test_key_from_string_finds_the_flow);
    tcase_add_test(tc, test_meter_changes_are_tracked);
    tcase_add_test(tc, test_many_conjunction_owners);
    tcase_add_test(tc, test_agreeing_owners_smallest_cookie);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(flow_table_suite());

    srunner_run_all(sr, CK_ENV);
    int n_failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return n_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
