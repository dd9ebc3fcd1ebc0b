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
#include <inttypes.h>
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

/* Aggregates the 'n' addresses "NET_KEY ADDR[/PLEN]" of 'in' and returns
 * the prefixes, one "NET_KEY PREFIX" a line (the caller frees it). */
static char *
aggregate(const char *const *in, size_t n)
{
    struct fw_member_addr *addrs = xzalloc(MAX(n, 1) * sizeof *addrs);
    for (size_t i = 0; i < n; i++) {
        char prefix[64];
        ck_assert_int_eq(sscanf(in[i], "%"SCNx32" %63s", &addrs[i].net_key,
                                prefix), 2);
        ck_assert_msg(fw_prefix_parse(prefix, &addrs[i].prefix), "%s",
                      in[i]);
    }

    struct fw_member_addr *out;
    size_t n_out = fw_aggregate_addrs(addrs, n, &out);
    ck_assert_uint_le(n_out, n);
    struct ds s = DS_EMPTY_INITIALIZER;
    for (size_t i = 0; i < n_out; i++) {
        char prefix[64];
        fw_prefix_format(&out[i].prefix, prefix, sizeof prefix);
        ds_put_format(&s, "%#"PRIx32" %s\n", out[i].net_key, prefix);
    }
    free(out);
    free(addrs);
    return ds_steal_cstr(&s);
}

/* Checks that aggregating 'in' gives 'expected'. */
#define CHECK_AGGREGATE(EXPECTED, ...)                                  \
    do {                                                                \
        const char *const in_[] = { __VA_ARGS__ };                      \
        char *got_ = aggregate(in_, ARRAY_SIZE(in_));                   \
        ck_assert_str_eq(got_, EXPECTED);                               \
        free(got_);                                                     \
    } while (0)

START_TEST(test_aggregate_addresses)
{
    /* A hundred members in a row, as the benchmark's tenants have them
     * (10.1.0.10 to 10.1.0.109): eight prefixes. */
    const char *row[100];
    for (size_t i = 0; i < ARRAY_SIZE(row); i++) {
        row[i] = xasprintf("65 10.1.0.%"PRIuSIZE, 109 - i);
    }
    char *got = aggregate(row, ARRAY_SIZE(row));
    ck_assert_str_eq(got,
        "0x65 10.1.0.10/31\n0x65 10.1.0.12/30\n0x65 10.1.0.16/28\n"
        "0x65 10.1.0.32/27\n0x65 10.1.0.64/27\n0x65 10.1.0.96/29\n"
        "0x65 10.1.0.104/30\n0x65 10.1.0.108/31\n");
    free(got);
    for (size_t i = 0; i < ARRAY_SIZE(row); i++) {
        free(CONST_CAST(char *, row[i]));
    }

    /* Nothing is added: neighbours that are no block stay apart. */
    CHECK_AGGREGATE("0x65 10.1.0.11/32\n0x65 10.1.0.12/32\n",
                    "65 10.1.0.12", "65 10.1.0.11");
    /* Duplicates, and addresses inside an allowed prefix. */
    CHECK_AGGREGATE("0x65 10.0.0.0/23\n",
                    "65 10.0.0.5", "65 10.0.1.0/24", "65 10.0.0.0/24",
                    "65 10.0.0.5");
    /* Networks and families never mix. */
    CHECK_AGGREGATE("0x1 10.0.0.0/32\n0x1 2001:db8::/127\n"
                    "0x2 10.0.0.1/32\n",
                    "2 10.0.0.1", "1 10.0.0.0", "1 2001:db8::1",
                    "1 2001:db8::");
    /* The ends of the address spaces. */
    CHECK_AGGREGATE("0x1 255.255.255.254/31\n",
                    "1 255.255.255.255", "1 255.255.255.254");
    CHECK_AGGREGATE("0x1 0.0.0.0/0\n",
                    "1 255.255.255.255", "1 0.0.0.0/0", "1 0.0.0.0");
    CHECK_AGGREGATE("0x1 ::/0\n",
                    "1 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "1 ::/1",
                    "1 8000::/1");
    /* Across the 64-bit halves: one range, two blocks. */
    CHECK_AGGREGATE("0x1 ::8000:0:0:0/65\n0x1 0:0:0:1::/65\n",
                    "1 ::1:0:0:0:0/65", "1 ::ffff:ffff:ffff:ffff",
                    "1 ::8000:0:0:0/65");
    CHECK_AGGREGATE("0x1 ::/64\n",
                    "1 ::ffff:ffff:ffff:ffff/65",
                    "1 ::7fff:ffff:ffff:ffff/65");
    got = aggregate(NULL, 0);
    ck_assert_str_eq(got, "");
    free(got);
}
END_TEST

/* Random sets of addresses of one /24 and their prefixes hold exactly the
 * same addresses, with no prefix inside another. */
START_TEST(test_aggregate_addresses_exact)
{
    uint32_t seed = 1;
    for (int round = 0; round < 500; round++) {
        bool in[256] = { false };
        struct fw_member_addr addrs[64];
        size_t n = 1 + round % 64;

        memset(addrs, 0, sizeof addrs);
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245 + 12345;
            unsigned int host = (seed >> 16) & 0xff;
            unsigned int plen = round % 3 ? 32 : 29 + (seed >> 8) % 4;
            char s[32];
            snprintf(s, sizeof s, "192.0.2.%u/%u", host, plen);
            addrs[i].net_key = 7;
            ck_assert(fw_prefix_parse(s, &addrs[i].prefix));
            unsigned int first = host & ~((1u << (32 - plen)) - 1);
            for (unsigned int h = first; h < first + (1u << (32 - plen));
                 h++) {
                in[h] = true;
            }
        }

        struct fw_member_addr *out;
        size_t n_out = fw_aggregate_addrs(addrs, n, &out);
        ck_assert_uint_le(n_out, n);
        int covered[256] = { 0 };
        for (size_t i = 0; i < n_out; i++) {
            for (unsigned int h = 0; h < 256; h++) {
                struct fw_prefix a;
                char s[32];
                snprintf(s, sizeof s, "192.0.2.%u", h);
                ck_assert(fw_prefix_parse(s, &a));
                covered[h] += fw_prefix_contains(&out[i].prefix, &a);
            }
        }
        for (unsigned int h = 0; h < 256; h++) {
            ck_assert_int_eq(covered[h], in[h] ? 1 : 0);
        }
        free(out);
    }
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
    tcase_add_test(tc, test_aggregate_addresses);
    tcase_add_test(tc, test_aggregate_addresses_exact);
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
