/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Unit tests of the statistics' arithmetic (ofproto-ext/vnic-stats.c):
 * counters that survive the switch's resets, the cookie decoding that
 * gives each flow its vNIC and rule, rates, a vNIC bound anew, and the
 * Prometheus and Tenant DB forms. */

#include <config.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "controller/pipeline.h"
#include "ofproto-ext/vnic-stats.h"
#include "openvswitch/dynamic-string.h"
#include "util.h"
#include "uuid.h"

/* The cookie of a vNIC's flows, and of rule 'rule''s at it. */
#define VNIC_COOKIE(ZONE) (((uint64_t) PL_COOKIE_VNIC << 56) | (ZONE))
#define RULE_COOKIE(ZONE, RULE) \
    (((uint64_t) PL_COOKIE_VNIC_RULE << 56) | ((uint64_t) (RULE) << 32) \
     | (ZONE))

START_TEST(test_counter_resets)
{
    struct stats_counter c = { 0 };

    /* The first reading counts whole: what the switch counted before. */
    ck_assert_uint_eq(stats_counter_update(&c, 100), 100);
    ck_assert_uint_eq(stats_counter_update(&c, 150), 50);
    ck_assert_uint_eq(stats_counter_update(&c, 150), 0);
    /* Below the last: the source restarted from 0 and counted 20 since. */
    ck_assert_uint_eq(stats_counter_update(&c, 20), 20);
    ck_assert_uint_eq(c.total, 170);
    /* A 64-bit counter near its end, then past it (wraps to a small
     * value): the increment after the wrap counts from 0. */
    struct stats_counter w = { 0 };
    stats_counter_update(&w, UINT64_MAX - 5);
    ck_assert_uint_eq(stats_counter_update(&w, UINT64_MAX - 1), 4);
    ck_assert_uint_eq(stats_counter_update(&w, 3), 3);
    ck_assert_uint_eq(w.total, UINT64_MAX - 1 + 3);
}
END_TEST

/* A vNIC "s1" in zone 7 at ofport 3, with Interface UUID 'binding'. */
static struct stats_vnic_info
vnic_s1(const char *binding)
{
    struct stats_vnic_info info = {
        .iface_id = "s1", .tenant = "acme", .network = "lan",
        .port = "s1", .zone = 7, .ofport = 3,
    };
    ck_assert(uuid_from_string(&info.binding, binding));
    return info;
}

#define UUID1 "11111111-1111-1111-1111-111111111111"
#define UUID2 "22222222-2222-2222-2222-222222222222"

START_TEST(test_flows_and_ports)
{
    struct vnic_stats_table t;
    struct stats_vnic_info info = vnic_s1(UUID1);
    struct stats_flow flows[] = {
        /* Its port-security drop. */
        { PL_T_PORT_SECURITY, 1, VNIC_COOKIE(7), 1, true, 4, 168 },
        /* An allowing flow of port security: not a drop. */
        { PL_T_PORT_SECURITY, 100, VNIC_COOKIE(7), 2, false, 50, 5000 },
        /* Its firewall's drops. */
        { PL_T_EGRESS_VERDICT, 210, VNIC_COOKIE(7), 3, true, 1, 42 },
        { PL_T_INGRESS_VERDICT, 210, VNIC_COOKIE(7), 4, true, 2, 84 },
        /* Rule 0x42: 3 connections, 5 more packets. */
        { PL_T_RULE_STATS, 200, RULE_COOKIE(7, 0x42), 5, true, 3, 126 },
        { PL_T_RULE_STATS, 100, RULE_COOKIE(7, 0x42), 6, true, 5, 210 },
        /* Another vNIC's (zone 8): not s1's. */
        { PL_T_PORT_SECURITY, 1, VNIC_COOKIE(8), 1, true, 99, 999 },
    };
    struct stats_port ports[] = {
        { 3, 60, 6000, 10, 1000 },
        { 4, 1, 1, 1, 1 },
    };

    vnic_stats_table_init(&t);
    vnic_stats_table_update(&t, &info, 1, flows, ARRAY_SIZE(flows), ports,
                            ARRAY_SIZE(ports), 1000);
    struct vnic_stats *v = vnic_stats_find(&t, "s1");
    ck_assert_ptr_nonnull(v);
    ck_assert_uint_eq(v->c[VC_SENT_PACKETS], 60);
    ck_assert_uint_eq(v->c[VC_SENT_BYTES], 6000);
    ck_assert_uint_eq(v->c[VC_RECV_PACKETS], 10);
    ck_assert_uint_eq(v->c[VC_RECV_BYTES], 1000);
    ck_assert_uint_eq(v->c[VC_DROP_SPOOF], 4);
    ck_assert_uint_eq(v->c[VC_DROP_EGRESS], 1);
    ck_assert_uint_eq(v->c[VC_DROP_INGRESS], 2);
    ck_assert_uint_eq(v->c[VC_NEW_CONNS], 3);
    struct vnic_named_rule *rules = vnic_stats_named_rules(v, NULL, NULL);
    ck_assert_uint_eq(hmap_count(&v->rules), 1);
    ck_assert_uint_eq(rules[0].rule->key, 0x42);
    ck_assert_str_eq(rules[0].name, "rule-000042");
    ck_assert_uint_eq(rules[0].rule->conns, 3);
    ck_assert_uint_eq(rules[0].rule->packets, 8);
    ck_assert_uint_eq(rules[0].rule->bytes, 336);
    vnic_stats_named_rules_free(rules, 1);

    /* One second later: 10 more packets sent; the spoofing drop flow was
     * replaced (its counter restarted and is at 1); the rule's flows
     * went (a rule deleted): its counters go, the vNIC's new connections
     * stay. */
    flows[0].packets = 1;
    ports[0].rx_packets = 70;
    ports[0].rx_bytes = 7000;
    vnic_stats_table_update(&t, &info, 1, flows, 4, ports, 1, 2000);
    v = vnic_stats_find(&t, "s1");
    ck_assert_uint_eq(v->c[VC_SENT_PACKETS], 70);
    ck_assert_uint_eq(v->c[VC_DROP_SPOOF], 5);
    ck_assert_uint_eq(v->c[VC_NEW_CONNS], 3);
    ck_assert_uint_eq(hmap_count(&v->rules), 0);
    ck_assert(v->rate[0] > 9.99 && v->rate[0] < 10.01);
    ck_assert(v->rate[1] > 999.9 && v->rate[1] < 1000.1);
    ck_assert(v->rate[2] == 0.0);

    /* Bound anew (another Interface row, same zone and ofport): from 0,
     * but for what the switch counts now. */
    info = vnic_s1(UUID2);
    ports[0].rx_packets = 2;
    ports[0].rx_bytes = 200;
    vnic_stats_table_update(&t, &info, 1, NULL, 0, ports, 1, 3000);
    v = vnic_stats_find(&t, "s1");
    ck_assert_uint_eq(v->c[VC_SENT_PACKETS], 2);
    ck_assert_uint_eq(v->c[VC_DROP_SPOOF], 0);
    ck_assert_uint_eq(hmap_count(&v->rules), 0);

    /* Another Port row (another tenant's, perhaps) bound to the same
     * Interface: from 0, and nothing of the interval in which the port
     * changed hands (the two Ports' traffic is mixed in it)... */
    ck_assert(uuid_from_string(&info.port_row, UUID1));
    ports[0].rx_packets = 5;
    ports[0].rx_bytes = 500;
    vnic_stats_table_update(&t, &info, 1, NULL, 0, ports, 1, 3500);
    v = vnic_stats_find(&t, "s1");
    ck_assert_uint_eq(v->c[VC_SENT_PACKETS], 0);
    ck_assert_uint_eq(v->c[VC_SENT_BYTES], 0);
    /* ...then what the port counts for it. */
    ports[0].rx_packets = 8;
    ports[0].rx_bytes = 800;
    vnic_stats_table_update(&t, &info, 1, NULL, 0, ports, 1, 3600);
    v = vnic_stats_find(&t, "s1");
    ck_assert_uint_eq(v->c[VC_SENT_PACKETS], 3);
    ck_assert_uint_eq(v->c[VC_SENT_BYTES], 300);

    /* A port without a vNIC is read on: a vNIC bound to it later counts
     * from there. */
    vnic_stats_table_update(&t, NULL, 0, NULL, 0, ports, 1, 3700);
    ck_assert_ptr_null(vnic_stats_find(&t, "s1"));
    ports[0].rx_packets = 12;
    vnic_stats_table_update(&t, &info, 1, NULL, 0, ports, 1, 3800);
    v = vnic_stats_find(&t, "s1");
    ck_assert_uint_eq(v->c[VC_SENT_PACKETS], 4);

    /* Gone: forgotten. */
    vnic_stats_table_update(&t, NULL, 0, NULL, 0, NULL, 0, 4000);
    ck_assert_ptr_null(vnic_stats_find(&t, "s1"));
    vnic_stats_table_destroy(&t);
}
END_TEST

/* Names rule 0x42 "acme/web#1" (a vnic_stats_rule_namer). */
static bool
namer(uint32_t key, struct ds *s, void *aux OVS_UNUSED)
{
    if (key == 0x42) {
        ds_put_cstr(s, "acme/we\"b#1");
        return true;
    }
    return false;
}

START_TEST(test_prometheus_and_db)
{
    struct vnic_stats_table t;
    struct stats_vnic_info info = vnic_s1(UUID1);
    struct stats_flow flows[] = {
        { PL_T_RULE_STATS, 200, RULE_COOKIE(7, 0x42), 5, true, 3, 126 },
        { PL_T_RULE_STATS, 100, RULE_COOKIE(7, 0x43), 6, true, 5, 210 },
    };
    struct stats_port ports[] = { { 3, 60, 6000, 10, 1000 } };
    struct ds s = DS_EMPTY_INITIALIZER;

    info.network = "l\\an";
    vnic_stats_table_init(&t);
    vnic_stats_table_update(&t, &info, 1, flows, 2, ports, 1, 1000);
    vnic_stats_format_prometheus(&t, &s, namer, NULL);
    ck_assert_ptr_nonnull(strstr(ds_cstr(&s), "# TYPE bulkhead_vnic_packets"
                                 "_total counter\n"));
    ck_assert_ptr_nonnull(strstr(ds_cstr(&s),
        "bulkhead_vnic_packets_total{tenant=\"acme\",network=\"l\\\\an\","
        "port=\"s1\",direction=\"egress\"} 60\n"));
    ck_assert_ptr_nonnull(strstr(ds_cstr(&s),
        "bulkhead_rule_connections_total{tenant=\"acme\",network=\"l\\\\an\","
        "port=\"s1\",rule=\"acme/we\\\"b#1\"} 3\n"));
    ck_assert_ptr_nonnull(strstr(ds_cstr(&s),
        "bulkhead_rule_packets_total{tenant=\"acme\",network=\"l\\\\an\","
        "port=\"s1\",rule=\"rule-000043\"} 5\n"));
    ds_destroy(&s);

    const char *keys[VNIC_STATS_DB_N];
    int64_t values[VNIC_STATS_DB_N];
    vnic_stats_format_db(vnic_stats_find(&t, "s1"), keys, values);
    for (size_t i = 1; i < VNIC_STATS_DB_N; i++) {
        ck_assert(strcmp(keys[i - 1], keys[i]) < 0);
    }
    for (size_t i = 0; i < VNIC_STATS_DB_N; i++) {
        if (!strcmp(keys[i], "tx_packets")) {
            ck_assert_int_eq(values[i], 60);
        } else if (!strcmp(keys[i], "new_connections")) {
            ck_assert_int_eq(values[i], 3);
        }
    }
    vnic_stats_table_destroy(&t);
}
END_TEST

static Suite *
vnic_stats_suite(void)
{
    Suite *s = suite_create("vnic-stats");
    TCase *tc = tcase_create("counters");

    tcase_add_test(tc, test_counter_resets);
    tcase_add_test(tc, test_flows_and_ports);
    tcase_add_test(tc, test_prometheus_and_db);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(vnic_stats_suite());

    srunner_run_all(sr, CK_ENV);
    int n_failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return n_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
