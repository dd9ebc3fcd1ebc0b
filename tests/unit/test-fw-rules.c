/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Check unit tests of the firewall's rule compiler (controller/fw-rules.h):
 * rules in, flows of table RULES out, as sorted text. */

#include <config.h>
#include "controller/fw-rules.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "controller/flow-table.h"
#include "openvswitch/dynamic-string.h"
#include "util.h"

/* Returns the flows of 'ft', sorted, one a line.  The caller frees it. */
static char *
flows(const struct flow_table *ft)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    flow_table_format(ft, NULL, &s);
    return ds_steal_cstr(&s);
}

/* Parses a rule that must parse, with key 'key'. */
static struct fw_rule
rule(uint32_t key, const char *direction, const char *ethertype,
     const char *protocol, const char *ports, const char *remote)
{
    struct fw_rule r;
    char *error = fw_rule_parse(direction, ethertype, protocol, ports,
                                remote, &r);
    ck_assert_msg(!error, "%s", error);
    r.key = key;
    return r;
}

/* Compiles 'rules' as class 0x12, whose group rules' remote groups all
 * have the 'n_members' addresses 'members', and checks the flows against
 * 'expected'. */
static void
check_class(struct fw_rule *rules, size_t n,
            const struct fw_member_addr *members, size_t n_members,
            const char *expected)
{
    struct fw_conj *conjs = xmalloc(n * sizeof *conjs);
    struct flow_table ft;

    flow_table_init(&ft);
    fw_compile_class(&ft, "fw:00012", 0x12, rules, n, conjs);
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_eq(conjs[i].id != 0,
                          rules[i].remote == FW_REMOTE_GROUP);
        if (conjs[i].id) {
            fw_add_member_flows(&ft, "fw:00012:members", 0x12, &conjs[i],
                                members, n_members);
        }
    }
    free(conjs);
    ck_assert_uint_eq(ft.n_errors, 0);
    char *actual = flows(&ft);
    ck_assert_int_eq(ft.n_clashes, 0);  /* Counted as the flows settle. */
    if (strcmp(actual, expected)) {
        /* Check's message would be too long for a whole table. */
        fprintf(stderr, "actual flows:\n%sexpected:\n%s", actual, expected);
    }
    ck_assert_msg(!strcmp(actual, expected), "flows differ (see stderr)");
    free(actual);
    flow_table_destroy(&ft);
    for (size_t i = 0; i < n; i++) {
        fw_rule_destroy(&rules[i]);
    }
}

START_TEST(test_port_masks)
{
    uint16_t v[32], m[32];

    ck_assert_uint_eq(fw_port_masks(22, 22, v, m), 1);
    ck_assert_uint_eq(v[0], 22);
    ck_assert_uint_eq(m[0], 0xffff);

    /* 8000-8080: 8000/0xffc0 (8000-8063), 8064/0xfff0 (-8079), 8080. */
    ck_assert_uint_eq(fw_port_masks(8000, 8080, v, m), 3);
    ck_assert_uint_eq(v[0], 8000);
    ck_assert_uint_eq(m[0], 0xffc0);
    ck_assert_uint_eq(v[1], 8064);
    ck_assert_uint_eq(m[1], 0xfff0);
    ck_assert_uint_eq(v[2], 8080);
    ck_assert_uint_eq(m[2], 0xffff);

    /* The whole range is at most 2 x 16 matches; 1-65535 is 16. */
    ck_assert_uint_eq(fw_port_masks(1, 65535, v, m), 16);
    ck_assert_uint_eq(fw_port_masks(32768, 65535, v, m), 1);
    ck_assert_uint_eq(m[0], 0x8000);
}
END_TEST

START_TEST(test_bad_rules_refused)
{
    static const char *const bad[][5] = {
        { "sideways", NULL, "tcp", NULL, NULL },
        { "ingress", "ipx", "tcp", NULL, NULL },
        { "ingress", NULL, "sctp", NULL, NULL },
        { "ingress", NULL, "256", NULL, NULL },
        { "ingress", NULL, "icmp", "22", NULL },
        { "ingress", NULL, "any", "22", NULL },
        { "ingress", NULL, "tcp", "0", NULL },
        { "ingress", NULL, "tcp", "90-80", NULL },
        { "ingress", NULL, "tcp", "22,", NULL },
        { "ingress", NULL, "tcp", "-22", NULL },
        { "ingress", NULL, "tcp", "65536", NULL },
        { "ingress", NULL, "tcp", "22,metadata=1", NULL },
        { "ingress", NULL, "tcp", NULL, "10.0.0.0/33" },
        { "ingress", NULL, "tcp", NULL, "10.0.0.1,metadata=1" },
        { "ingress", "ipv6", "tcp", NULL, "10.0.0.0/8" },
        { "ingress", "ipv6", "icmp", NULL, NULL },
        { "egress", NULL, "icmpv6", NULL, "10.0.0.0/8" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct fw_rule r;
        char *error = fw_rule_parse(bad[i][0], bad[i][1], bad[i][2],
                                    bad[i][3], bad[i][4], &r);
        ck_assert_msg(error, "rule %"PRIuSIZE" parsed", i);
        free(error);
        fw_rule_destroy(&r);
    }
}
END_TEST

START_TEST(test_plain_rules)
{
    struct fw_rule rules[] = {
        rule(0x101, "ingress", NULL, "tcp", "22", NULL),
        rule(0x102, "egress", NULL, "any", NULL, "any"),
        rule(0x103, "ingress", NULL, "udp", "53,8000-8015", "10.0.0.0/8"),
        rule(0x104, "ingress", NULL, "icmpv6", NULL, "2001:db8::/32"),
        rule(0x105, "egress", "ipv4", "47", NULL, NULL),
    };
    /* Sorted by match: egress (reg11=1) first. */
    check_class(rules, ARRAY_SIZE(rules), NULL, 0,
        "table=60,priority=2000,ct_state=+trk-inv,reg11=1,reg12=0x12,"
        "cookie=0x300010200000012,actions=set_field:0x102->reg13\n"
        "table=60,priority=2000,ct_state=+trk-inv,reg11=1,reg12=0x12,ip,"
        "ct_nw_proto=47,cookie=0x300010500000012,"
        "actions=set_field:0x105->reg13\n"
        "table=60,priority=2000,ct_state=+trk-inv,reg11=2,reg12=0x12,"
        "ct_nw_proto=6,ct_tp_dst=22,cookie=0x300010100000012,"
        "actions=set_field:0x101->reg13\n"
        "table=60,priority=2000,ct_state=+trk-inv,reg11=2,reg12=0x12,"
        "ct_nw_proto=6,ip,nw_frag=later,cookie=0x300010100000012,"
        "actions=set_field:0x101->reg13\n"
        "table=60,priority=2000,ct_state=+trk-inv,reg11=2,reg12=0x12,"
        "ct_nw_proto=6,ipv6,nw_frag=later,cookie=0x300010100000012,"
        "actions=set_field:0x101->reg13\n"
        "table=60,priority=2000,ct_state=+trk-inv,reg11=2,reg12=0x12,ip,"
        "ct_nw_src=10.0.0.0/8,ct_nw_proto=17,ct_tp_dst=0x1f40/0xfff0,"
        "cookie=0x300010300000012,actions=set_field:0x103->reg13\n"
        "table=60,priority=2000,ct_state=+trk-inv,reg11=2,reg12=0x12,ip,"
        "ct_nw_src=10.0.0.0/8,ct_nw_proto=17,ct_tp_dst=53,"
        "cookie=0x300010300000012,actions=set_field:0x103->reg13\n"
        "table=60,priority=2000,ct_state=+trk-inv,reg11=2,reg12=0x12,ip,"
        "ct_nw_src=10.0.0.0/8,ct_nw_proto=17,nw_frag=later,"
        "cookie=0x300010300000012,actions=set_field:0x103->reg13\n"
        "table=60,priority=2000,ct_state=+trk-inv,reg11=2,reg12=0x12,ipv6,"
        "ct_ipv6_src=2001:db8::/32,ct_nw_proto=58,"
        "cookie=0x300010400000012,actions=set_field:0x104->reg13\n");
}
END_TEST

START_TEST(test_same_rule_in_two_groups)
{
    /* A port in two groups that both allow any egress: the first rule's
     * flow stands, counted under it, and there is no clash.  Rules that
     * only overlap (22 and 22-23) keep flows of their own. */
    struct fw_rule rules[] = {
        rule(0x201, "ingress", NULL, "tcp", "22", NULL),
        rule(0x202, "ingress", NULL, "tcp", "22-23", NULL),
        rule(0x203, "egress", NULL, "any", NULL, "any"),
        rule(0x204, "egress", NULL, "any", NULL, "any"),
    };
    check_class(rules, ARRAY_SIZE(rules), NULL, 0,
        "table=60,priority=2000,ct_state=+trk-inv,reg11=1,reg12=0x12,"
        "cookie=0x300020300000012,actions=set_field:0x203->reg13\n"
        "table=60,priority=2000,ct_state=+trk-inv,reg11=2,reg12=0x12,"
        "ct_nw_proto=6,ct_tp_dst=0x16/0xfffe,cookie=0x300020200000012,"
        "actions=set_field:0x202->reg13\n"
        "table=60,priority=2000,ct_state=+trk-inv,reg11=2,reg12=0x12,"
        "ct_nw_proto=6,ct_tp_dst=22,cookie=0x300020100000012,"
        "actions=set_field:0x201->reg13\n"
        "table=60,priority=2000,ct_state=+trk-inv,reg11=2,reg12=0x12,"
        "ct_nw_proto=6,ip,nw_frag=later,cookie=0x300020100000012,"
        "actions=set_field:0x201->reg13\n"
        "table=60,priority=2000,ct_state=+trk-inv,reg11=2,reg12=0x12,"
        "ct_nw_proto=6,ipv6,nw_frag=later,cookie=0x300020100000012,"
        "actions=set_field:0x201->reg13\n");
}
END_TEST

START_TEST(test_group_rules_are_conjunctions)
{
    /* Two members on network 0x65, one with an IPv6 address too. */
    struct fw_member_addr members[3];
    memset(members, 0, sizeof members);
    for (size_t i = 0; i < 3; i++) {
        members[i].net_key = 0x65;
    }
    ck_assert(fw_prefix_parse("10.1.0.11", &members[0].prefix));
    ck_assert(fw_prefix_parse("10.1.0.12", &members[1].prefix));
    ck_assert(fw_prefix_parse("2001:db8::12", &members[2].prefix));

    struct fw_rule rules[] = {
        rule(0x201, "ingress", NULL, "tcp", "80", NULL),
        rule(0x202, "ingress", NULL, "tcp", "443", NULL),
        rule(0x203, "ingress", NULL, "icmp", NULL, NULL),
        rule(0x204, "ingress", NULL, "tcp", "1-1000", NULL),
    };
    for (size_t i = 0; i < ARRAY_SIZE(rules); i++) {
        rules[i].remote = FW_REMOTE_GROUP;
    }
    /* 80, 443 and ICMP cannot match one packet: one level, priority 1000,
     * whose address flows carry the three conjunctions (ICMP's IPv4 only);
     * 1-1000 overlaps 80 and 443: the next level down, 999, with its own
     * address flows and 16 masked port matches. */
    check_class(rules, ARRAY_SIZE(rules), members, ARRAY_SIZE(members),
        "table=60,priority=1000,conj_id=73729,cookie=0x300020100000012,"
        "actions=set_field:0x201->reg13\n"
        "table=60,priority=1000,conj_id=73730,cookie=0x300020200000012,"
        "actions=set_field:0x202->reg13\n"
        "table=60,priority=1000,conj_id=73731,cookie=0x300020300000012,"
        "actions=set_field:0x203->reg13\n"
        "table=60,priority=1000,ct_state=+trk-inv,metadata=0x65,ip,"
        "ct_nw_src=10.1.0.11/32,cookie=0x300000000000012,"
        "actions=conjunction(73729,1/2),conjunction(73730,1/2),"
        "conjunction(73731,1/2)\n"
        "table=60,priority=1000,ct_state=+trk-inv,metadata=0x65,ip,"
        "ct_nw_src=10.1.0.12/32,cookie=0x300000000000012,"
        "actions=conjunction(73729,1/2),conjunction(73730,1/2),"
        "conjunction(73731,1/2)\n"
        "table=60,priority=1000,ct_state=+trk-inv,metadata=0x65,ipv6,"
        "ct_ipv6_src=2001:db8::12/128,cookie=0x300000000000012,"
        "actions=conjunction(73729,1/2),conjunction(73730,1/2)\n"
        "table=60,priority=1000,ct_state=+trk-inv,reg11=2,reg12=0x12,"
        "ct_nw_proto=6,ct_tp_dst=443,cookie=0x300020200000012,"
        "actions=conjunction(73730,2/2)\n"
        "table=60,priority=1000,ct_state=+trk-inv,reg11=2,reg12=0x12,"
        "ct_nw_proto=6,ct_tp_dst=80,cookie=0x300020100000012,"
        "actions=conjunction(73729,2/2)\n"
        "table=60,priority=1000,ct_state=+trk-inv,reg11=2,reg12=0x12,"
        "ct_nw_proto=6,ip,nw_frag=later,cookie=0x300020100000012,"
        "actions=conjunction(73729,2/2),conjunction(73730,2/2)\n"
        "table=60,priority=1000,ct_state=+trk-inv,reg11=2,reg12=0x12,"
        "ct_nw_proto=6,ipv6,nw_frag=later,cookie=0x300020100000012,"
        "actions=conjunction(73729,2/2),conjunction(73730,2/2)\n"
        "table=60,priority=1000,ct_state=+trk-inv,reg11=2,reg12=0x12,ip,"
        "ct_nw_proto=1,cookie=0x300020300000012,actions=conjunction(73731,"
        "2/2)\n"
        "table=60,priority=999,conj_id=73732,cookie=0x300020400000012,"
        "actions=set_field:0x204->reg13\n"
        "table=60,priority=999,ct_state=+trk-inv,metadata=0x65,ip,"
        "ct_nw_src=10.1.0.11/32,cookie=0x300000000000012,"
        "actions=conjunction(73732,1/2)\n"
        "table=60,priority=999,ct_state=+trk-inv,metadata=0x65,ip,"
        "ct_nw_src=10.1.0.12/32,cookie=0x300000000000012,"
        "actions=conjunction(73732,1/2)\n"
        "table=60,priority=999,ct_state=+trk-inv,metadata=0x65,ipv6,"
        "ct_ipv6_src=2001:db8::12/128,cookie=0x300000000000012,"
        "actions=conjunction(73732,1/2)\n"
        "table=60,priority=999,ct_state=+trk-inv,reg11=2,reg12=0x12,"
        "ct_nw_proto=6,ct_tp_dst=0x10/0xfff0,cookie=0x300020400000012,"
        "actions=conjunction(73732,2/2)\n"
        "table=60,priority=999,ct_state=+trk-inv,reg11=2,reg12=0x12,"
        "ct_nw_proto=6,ct_tp_dst=0x100/0xff00,cookie=0x300020400000012,"
        "actions=conjunction(73732,2/2)\n"
        "table=60,priority=999,ct_state=+trk-inv,reg11=2,reg12=0x12,"
        "ct_nw_proto=6,ct_tp_dst=0x2/0xfffe,cookie=0x300020400000012,"
        "actions=conjunction(73732,2/2)\n"
        "table=60,priority=999,ct_state=+trk-inv,reg11=2,reg12=0x12,"
        "ct_nw_proto=6,ct_tp_dst=0x20/0xffe0,cookie=0x300020400000012,"
        "actions=conjunction(73732,2/2)\n"
        "table=60,priority=999,ct_state=+trk-inv,reg11=2,reg12=0x12,"
        "ct_nw_proto=6,ct_tp_dst=0x200/0xff00,cookie=0x300020400000012,"
        "actions=conjunction(73732,2/2)\n"
        "table=60,priority=999,ct_state=+trk-inv,reg11=2,reg12=0x12,"
        "ct_nw_proto=6,ct_tp_dst=0x300/0xff80,cookie=0x300020400000012,"
        "actions=conjunction(73732,2/2)\n"
        "table=60,priority=999,ct_state=+trk-inv,reg11=2,reg12=0x12,"
        "ct_nw_proto=6,ct_tp_dst=0x380/0xffc0,cookie=0x300020400000012,"
        "actions=conjunction(73732,2/2)\n"
        "table=60,priority=999,ct_state=+trk-inv,reg11=2,reg12=0x12,"
        "ct_nw_proto=6,ct_tp_dst=0x3c0/0xffe0,cookie=0x300020400000012,"
        "actions=conjunction(73732,2/2)\n"
        "table=60,priority=999,ct_state=+trk-inv,reg11=2,reg12=0x12,"
        "ct_nw_proto=6,ct_tp_dst=0x3e0/0xfff8,cookie=0x300020400000012,"
        "actions=conjunction(73732,2/2)\n"
        "table=60,priority=999,ct_state=+trk-inv,reg11=2,reg12=0x12,"
        "ct_nw_proto=6,ct_tp_dst=0x4/0xfffc,cookie=0x300020400000012,"
        "actions=conjunction(73732,2/2)\n"
        "table=60,priority=999,ct_state=+trk-inv,reg11=2,reg12=0x12,"
        "ct_nw_proto=6,ct_tp_dst=0x40/0xffc0,cookie=0x300020400000012,"
        "actions=conjunction(73732,2/2)\n"
        "table=60,priority=999,ct_state=+trk-inv,reg11=2,reg12=0x12,"
        "ct_nw_proto=6,ct_tp_dst=0x8/0xfff8,cookie=0x300020400000012,"
        "actions=conjunction(73732,2/2)\n"
        "table=60,priority=999,ct_state=+trk-inv,reg11=2,reg12=0x12,"
        "ct_nw_proto=6,ct_tp_dst=0x80/0xff80,cookie=0x300020400000012,"
        "actions=conjunction(73732,2/2)\n"
        "table=60,priority=999,ct_state=+trk-inv,reg11=2,reg12=0x12,"
        "ct_nw_proto=6,ct_tp_dst=1,cookie=0x300020400000012,"
        "actions=conjunction(73732,2/2)\n"
        "table=60,priority=999,ct_state=+trk-inv,reg11=2,reg12=0x12,"
        "ct_nw_proto=6,ct_tp_dst=1000,cookie=0x300020400000012,"
        "actions=conjunction(73732,2/2)\n"
        "table=60,priority=999,ct_state=+trk-inv,reg11=2,reg12=0x12,"
        "ct_nw_proto=6,ip,nw_frag=later,cookie=0x300020400000012,"
        "actions=conjunction(73732,2/2)\n"
        "table=60,priority=999,ct_state=+trk-inv,reg11=2,reg12=0x12,"
        "ct_nw_proto=6,ipv6,nw_frag=later,cookie=0x300020400000012,"
        "actions=conjunction(73732,2/2)\n");
}
END_TEST

START_TEST(test_empty_group_matches_nothing)
{
    struct fw_rule rules[] = {
        rule(0x301, "ingress", NULL, "tcp", "22", NULL),
    };
    rules[0].remote = FW_REMOTE_GROUP;
    /* Not "any": the conjunction has no flow in dimension 1, so it never
     * matches. */
    check_class(rules, ARRAY_SIZE(rules), NULL, 0,
        "table=60,priority=1000,conj_id=73729,cookie=0x300030100000012,"
        "actions=set_field:0x301->reg13\n"
        "table=60,priority=1000,ct_state=+trk-inv,reg11=2,reg12=0x12,"
        "ct_nw_proto=6,ct_tp_dst=22,cookie=0x300030100000012,"
        "actions=conjunction(73729,2/2)\n"
        "table=60,priority=1000,ct_state=+trk-inv,reg11=2,reg12=0x12,"
        "ct_nw_proto=6,ip,nw_frag=later,cookie=0x300030100000012,"
        "actions=conjunction(73729,2/2)\n"
        "table=60,priority=1000,ct_state=+trk-inv,reg11=2,reg12=0x12,"
        "ct_nw_proto=6,ipv6,nw_frag=later,cookie=0x300030100000012,"
        "actions=conjunction(73729,2/2)\n");
}
END_TEST

/* Group rules that may match the same packet take distinct priorities,
 * from 1000 down to 1, above the table's drop at 0: one more finds none
 * and is not placed (it allows nothing) rather than wrap around to the
 * top of the table. */
START_TEST(test_overlapping_group_rules_run_out)
{
    enum { N = 1001 };
    struct fw_rule *rules = xmalloc(N * sizeof *rules);
    struct fw_conj *conjs = xmalloc(N * sizeof *conjs);
    struct flow_table ft;

    for (size_t i = 0; i < N; i++) {
        rules[i] = rule(0x400 + i, "ingress", NULL, "tcp", "80", NULL);
        rules[i].remote = FW_REMOTE_GROUP;
    }
    flow_table_init(&ft);
    ck_assert_uint_eq(fw_compile_class(&ft, "fw:00012", 0x12, rules, N,
                                       conjs), 1);
    for (size_t i = 0; i < N - 1; i++) {
        ck_assert_uint_ne(conjs[i].id, 0);
        ck_assert_uint_eq(conjs[i].priority, 1000 - i);
    }
    ck_assert_uint_eq(conjs[N - 1].id, 0);
    ck_assert_uint_eq(ft.n_errors, 0);

    /* Without overlaps, every rule has the top level. */
    for (size_t i = 0; i < N; i++) {
        fw_rule_destroy(&rules[i]);
        char *port = xasprintf("%"PRIuSIZE, i + 1);
        rules[i] = rule(0x400 + i, "ingress", NULL, "tcp", port, NULL);
        rules[i].remote = FW_REMOTE_GROUP;
        free(port);
    }
    flow_table_destroy(&ft);
    flow_table_init(&ft);
    ck_assert_uint_eq(fw_compile_class(&ft, "fw:00012", 0x12, rules, N,
                                       conjs), 0);
    ck_assert_uint_eq(conjs[N - 1].priority, 1000);
    flow_table_destroy(&ft);
    for (size_t i = 0; i < N; i++) {
        fw_rule_destroy(&rules[i]);
    }
    free(rules);
    free(conjs);
}
END_TEST

static Suite *
fw_rules_suite(void)
{
    Suite *s = suite_create("fw-rules");
    TCase *tc = tcase_create("fw-rules");

    /* A thousand rules' compilation takes seconds under ASan, past
     * Check's default of 4. */
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_port_masks);
    tcase_add_test(tc, test_bad_rules_refused);
    tcase_add_test(tc, test_plain_rules);
    tcase_add_test(tc, test_same_rule_in_two_groups);
    tcase_add_test(tc, test_group_rules_are_conjunctions);
    tcase_add_test(tc, test_empty_group_matches_nothing);
    tcase_add_test(tc, test_overlapping_group_rules_run_out);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(fw_rules_suite());

    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
