/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Unit tests of the isolation verifier (verify/verify.h): small
 * hand-written tables with known answers, and tables written by the
 * controller's own compiler (verify-fixture.c). */

#include <config.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "openvswitch/dynamic-string.h"
#include "flow.h"
#include "openvswitch/json.h"
#include "svec.h"
#include "tests/unit/verify-fixture.h"
#include "util.h"
#include "verify/hspace.h"
#include "verify/verify.h"

/* The port map of the hand-written tables: vNICs 1 and 2 on acme/lan,
 * 3 and 4 on beta/lan; uplink 9 (VLAN 100 acme, 200 beta); tunnel 10
 * (VNI 5001 acme, 5002 beta). */
static const char map_json[] =
    "{\"vnics\": {\"1\": {\"network\": \"acme/lan\", \"name\": \"a1\"},"
    "             \"2\": {\"network\": \"acme/lan\", \"name\": \"a2\"},"
    "             \"3\": {\"network\": \"beta/lan\", \"name\": \"b3\"},"
    "             \"4\": {\"network\": \"beta/lan\", \"name\": \"b4\"}},"
    " \"uplink\": {\"port\": 9, \"vlans\": {\"100\": \"acme/lan\","
    "                                      \"200\": \"beta/lan\"}},"
    " \"tunnel\": {\"port\": 10, \"vnis\": {\"5001\": \"acme/lan\","
    "                                      \"5002\": \"beta/lan\"}}}";

/* A pipeline of that map that isolates: port security sets metadata
 * (acme 0x64, beta 0xc8) and goes to 30, which forwards per (metadata,
 * dl_dst) through reg7 and table 50. */
static const char base_flows[] =
    "NXST_FLOW reply (xid=0x4):\n"
    " cookie=0xf00000000000000, duration=2.1s, table=0, n_packets=3, "
    "n_bytes=180, idle_age=1, priority=50,vlan_tci=0x1000/0x1000 "
    "actions=drop\n"
    " cookie=0xf00000000000000, table=0, priority=0 actions=goto_table:10\n"
    " cookie=0x100000000000001, table=10, priority=100,in_port=1 "
    "actions=set_field:0x64->metadata,set_field:1->reg6,goto_table:30\n"
    " cookie=0x100000000000002, table=10, priority=100,in_port=2 "
    "actions=set_field:0x64->metadata,set_field:2->reg6,goto_table:30\n"
    " cookie=0x100000000000003, table=10, priority=100,in_port=3 "
    "actions=set_field:0xc8->metadata,set_field:3->reg6,goto_table:30\n"
    " cookie=0x100000000000004, table=10, priority=100,in_port=4 "
    "actions=set_field:0xc8->metadata,set_field:4->reg6,goto_table:30\n"
    " table=10, priority=0 actions=drop\n"
    " table=30, priority=100,metadata=0x64,dl_dst=02:00:00:00:00:01 "
    "actions=set_field:1->reg7,goto_table:50\n"
    " table=30, priority=100,metadata=0x64,dl_dst=02:00:00:00:00:02 "
    "actions=set_field:2->reg7,goto_table:50\n"
    " table=30, priority=100,metadata=0xc8,dl_dst=02:00:00:00:00:03 "
    "actions=set_field:3->reg7,goto_table:50\n"
    " table=30, priority=100,metadata=0xc8,dl_dst=02:00:00:00:00:04 "
    "actions=set_field:4->reg7,goto_table:50\n"
    " table=30, priority=10,metadata=0x64 actions=set_field:9->reg7,"
    "goto_table:50\n"
    " table=30, priority=0 actions=drop\n"
    " table=50, priority=100,metadata=0x64,reg7=9 actions=push_vlan:0x8100,"
    "set_field:4196->vlan_vid,output:9\n"
    " table=50, priority=10,reg7=0 actions=drop\n"
    " table=50, priority=0 actions=output:NXM_NX_REG7[0..15]\n";

/* A checker's run: the table, the map and the checker. */
struct run {
    struct vfy_flows *flows;    /* The table. */
    struct vfy_portmap *map;    /* The map. */
    struct vfy_checker *ck;     /* The checker, after a full run. */
    char *report;               /* Its text report. */
};

/* Checks 'base' followed by 'extra' (either may be NULL) with the test
 * port map. */
static void
run_check(struct run *r, const char *base, const char *extra)
{
    r->flows = vfy_flows_create();
    r->map = vfy_portmap_create();
    char *error = vfy_flows_parse(r->flows, base ? base : "", "base");
    ck_assert_msg(!error, "%s", error);
    if (extra) {
        error = vfy_flows_parse(r->flows, extra, "extra");
        ck_assert_msg(!error, "%s", error);
    }
    struct json *j = json_from_string(map_json);
    error = vfy_portmap_from_json(r->map, j, "map");
    ck_assert_msg(!error, "%s", error);
    json_destroy(j);
    r->ck = vfy_checker_create();
    vfy_checker_run_full(r->ck, r->flows, r->map);

    struct ds s = DS_EMPTY_INITIALIZER;
    vfy_checker_format(r->ck, &s, NULL, NULL);
    r->report = ds_steal_cstr(&s);
}

/* Frees 'r'. */
static void
run_destroy(struct run *r)
{
    vfy_checker_destroy(r->ck);
    vfy_flows_destroy(r->flows);
    vfy_portmap_destroy(r->map);
    free(r->report);
}

/* Asserts that 'r' found no leak. */
static void
assert_isolated(const struct run *r)
{
    ck_assert_msg(vfy_checker_is_isolated(r->ck), "%s", r->report);
    ck_assert(!strncmp(r->report, "isolated", 8));
}

/* Asserts that 'r' found a leak and that its report has 'needle'. */
static void
assert_leak(const struct run *r, const char *needle)
{
    ck_assert_msg(!vfy_checker_is_isolated(r->ck), "no leak found");
    ck_assert_msg(strstr(r->report, needle), "\"%s\" not in:\n%s", needle,
                  r->report);
}

START_TEST(test_isolated)
{
    struct run r;

    run_check(&r, base_flows, NULL);
    assert_isolated(&r);
    ck_assert_uint_eq(vfy_checker_n_leaks(r.ck), 0);
    ck_assert(strstr(r.report, "4 vNICs checked"));
    run_destroy(&r);
}
END_TEST

START_TEST(test_leak_through_resubmit)
{
    struct run r;

    /* acme's frames to one MAC go through table 31, which sends them to
     * beta's vNIC 3. */
    run_check(&r, base_flows,
              "table=30, priority=200,metadata=0x64,"
              "dl_dst=02:00:00:00:00:99 actions=resubmit(,31)\n"
              "table=31, priority=10 actions=set_field:3->reg7,"
              "resubmit(,50)\n");
    assert_leak(&r, "to port 3 (vNIC b3 of beta/lan)");
    assert_leak(&r, "dl_dst=02:00:00:00:00:99");
    assert_leak(&r, "table 31 priority 10");
    /* From both acme vNICs, nothing from beta's. */
    ck_assert_uint_eq(vfy_checker_n_leaks(r.ck), 2);
    ck_assert(strstr(r.report, "from port 1 "));
    ck_assert(strstr(r.report, "from port 2 "));
    run_destroy(&r);
}
END_TEST

START_TEST(test_table_miss_in_resubmit_goes_on)
{
    struct run r;

    /* Table 77 is empty: the resubmit finds nothing and the actions after
     * it still run. */
    run_check(&r, base_flows,
              "table=30, priority=200,metadata=0x64,tcp,tp_dst=25 "
              "actions=resubmit(,77),output:4\n");
    assert_leak(&r, "to port 4 (vNIC b4 of beta/lan)");
    assert_leak(&r, "tp_dst=25");
    run_destroy(&r);
}
END_TEST

START_TEST(test_leak_behind_conjunction)
{
    struct run r;

    /* Table 60 leaks only for acme's frames (dimension 1) to TCP port 80
     * (dimension 2); the clause flows themselves do nothing. */
    static const char conj[] =
        "table=30, priority=200,tcp actions=resubmit(,60),resubmit(,50)\n"
        "table=60, priority=100,metadata=0x64 "
        "actions=conjunction(7,1/2)\n"
        "table=60, priority=100,tcp,tp_dst=80 actions=conjunction(7,2/2)\n"
        "table=60, priority=100,conj_id=7 actions=set_field:3->reg7\n";
    run_check(&r, base_flows, conj);
    assert_leak(&r, "to port 3 (vNIC b3 of beta/lan)");
    assert_leak(&r, "tp_dst=80");
    ck_assert_uint_eq(vfy_checker_n_leaks(r.ck), 2);
    run_destroy(&r);

    /* Dimension 1 now matches only beta's frames: beta to beta, no leak;
     * and acme's TCP 80 frames no longer meet the conjunction. */
    char *safe = xstrdup(conj);
    char *p = strstr(safe, "metadata=0x64");
    memcpy(p, "metadata=0xc8", 13);
    run_check(&r, base_flows, safe);
    assert_isolated(&r);
    run_destroy(&r);
    free(safe);
}
END_TEST

START_TEST(test_leak_for_one_vlan_tag)
{
    struct run r;

    /* A vNIC's frame tagged 200 (beta's VLAN) bypasses table 0's drop of
     * tagged frames and is sent to the uplink as it is. */
    run_check(&r, base_flows,
              "table=0, priority=100,in_port=1,dl_vlan=200 "
              "actions=output:9\n");
    assert_leak(&r, "uplink port 9 with VLAN 200 (beta/lan)");
    assert_leak(&r, "in_port=1,dl_vlan=200");
    ck_assert_uint_eq(vfy_checker_n_leaks(r.ck), 1);
    run_destroy(&r);

    /* Retagged with acme's own tag: no leak. */
    run_check(&r, base_flows,
              "table=0, priority=100,in_port=1,dl_vlan=200 "
              "actions=set_field:4196->vlan_vid,output:9\n");
    assert_isolated(&r);
    run_destroy(&r);

    /* beta's flows sending untagged to the uplink leak. */
    run_check(&r, base_flows,
              "table=30, priority=20,metadata=0xc8 actions=output:9\n");
    assert_leak(&r, "uplink port 9 untagged");
    run_destroy(&r);
}
END_TEST

START_TEST(test_leak_for_one_tun_id)
{
    struct run r;

    /* acme's multicast goes into the tunnel with beta's VNI when its
     * VLAN PCP is 5, acme's VNI otherwise. */
    static const char flows[] =
        "table=30, priority=150,metadata=0x64,"
        "dl_dst=01:00:00:00:00:00/01:00:00:00:00:00 "
        "actions=set_field:5001->tun_id,resubmit(,51)\n"
        "table=51, priority=100,tun_id=5001 actions=output:10\n"
        "table=0, priority=100,in_port=2,dl_vlan_pcp=5 "
        "actions=strip_vlan,set_field:0x64->metadata,"
        "set_field:5002->tun_id,output:10\n";
    run_check(&r, base_flows, flows);
    assert_leak(&r, "tunnel port 10 with VNI 5002 (beta/lan)");
    assert_leak(&r, "in_port=2,dl_vlan=0,dl_vlan_pcp=5");
    ck_assert_uint_eq(vfy_checker_n_leaks(r.ck), 1);
    run_destroy(&r);
}
END_TEST

START_TEST(test_leak_only_when_established)
{
    struct run r;

    /* After conntrack, an established connection's packets to beta's
     * MAC go to vNIC 3. */
    run_check(&r, base_flows,
              "table=30, priority=200,ip,metadata=0x64 "
              "actions=ct(zone=NXM_NX_REG6[0..15],table=31)\n"
              "table=31, priority=100,ct_state=+trk+est,"
              "dl_dst=02:00:00:00:00:03 actions=output:3\n"
              "table=31, priority=50,ct_state=+trk "
              "actions=resubmit(,50)\n");
    assert_leak(&r, "to port 3 (vNIC b3 of beta/lan)");
    assert_leak(&r, "only if conntrack says ct_state=+est+trk after ct "
                "in table 31");
    assert_leak(&r, "conntrack zone 1, recirculated to table 31");
    run_destroy(&r);
}
END_TEST

START_TEST(test_shadowed_leak_is_unreachable)
{
    struct run r;

    /* The leaking flow is below a drop that takes all it matches. */
    run_check(&r, base_flows,
              "table=30, priority=300,metadata=0x64,tcp actions=drop\n"
              "table=30, priority=200,metadata=0x64,tcp,tp_dst=22 "
              "actions=output:3\n"
              "table=30, priority=250,metadata=0x64,udp actions=drop\n"
              "table=30, priority=240,metadata=0x64,udp,tp_dst=53 "
              "actions=resubmit(,31)\n"
              "table=31, priority=1 actions=output:4\n");
    assert_isolated(&r);
    run_destroy(&r);

    /* Shadowed only in part: the rest leaks. */
    run_check(&r, base_flows,
              "table=30, priority=300,metadata=0x64,tcp,tp_src=1 "
              "actions=drop\n"
              "table=30, priority=200,metadata=0x64,tcp,tp_dst=22 "
              "actions=output:3\n");
    assert_leak(&r, "to port 3");
    ck_assert(!strstr(r.report, "tp_src=1,"));
    run_destroy(&r);

    /* Two overlapping flows of one priority: OVS may pick either, so the
     * drop does not hide the leak. */
    run_check(&r, base_flows,
              "table=30, priority=300,metadata=0x64,tcp actions=drop\n"
              "table=30, priority=300,metadata=0x64,tcp,tp_dst=22 "
              "actions=output:3\n");
    assert_leak(&r, "to port 3");
    run_destroy(&r);
}
END_TEST

START_TEST(test_uplink_and_tunnel_inputs)
{
    struct run r;

    /* The uplink's VLAN 100 (acme) is let in as beta's. */
    run_check(&r, base_flows,
              "table=0, priority=100,in_port=9,dl_vlan=100 "
              "actions=strip_vlan,set_field:0xc8->metadata,goto_table:30\n"
              "table=0, priority=100,in_port=9,dl_vlan=200 "
              "actions=strip_vlan,set_field:0xc8->metadata,goto_table:30\n");
    assert_leak(&r, "from port 9 (uplink VLAN 100 of acme/lan) to port 3 "
                "(vNIC b3 of beta/lan)");
    assert_leak(&r, "packet: in_port=9,dl_vlan=100,");
    ck_assert(!strstr(r.report, "uplink VLAN 200 of"));
    run_destroy(&r);

    /* The tunnel's VNI 5002 (beta) is let in as acme's. */
    run_check(&r, base_flows,
              "table=0, priority=100,in_port=10,tun_id=5002 "
              "actions=set_field:0x64->metadata,goto_table:30\n");
    assert_leak(&r, "from port 10 (tunnel VNI 5002 of beta/lan) to port 1");
    run_destroy(&r);

    /* The base table takes nothing from either. */
    run_check(&r, base_flows, NULL);
    assert_isolated(&r);
    ck_assert(strstr(r.report, "(and 2 uplink VLANs, 2 tunnel VNIs)"));
    run_destroy(&r);
}
END_TEST

START_TEST(test_counterexample_fields)
{
    struct run r;

    run_check(&r, base_flows,
              "table=30, priority=200,metadata=0xc8,ipv6,"
              "ipv6_dst=fd00::7,udp6,tp_dst=4789,in_port=4,"
              "dl_src=02:00:00:00:00:04 "
              "actions=output:2\n");
    assert_leak(&r, "from port 4 (vNIC b4 of beta/lan) to port 2 (vNIC a2 "
                "of acme/lan)");
    assert_leak(&r, "packet: in_port=4,dl_src=02:00:00:00:00:04,"
                "dl_dst=00:00:00:00:00:00,dl_type=0x86dd,ipv6_src=::,"
                "ipv6_dst=fd00::7,nw_proto=17,");
    assert_leak(&r, "tp_dst=4789");
    ck_assert_uint_eq(vfy_checker_n_leaks(r.ck), 1);

    struct json *j = vfy_checker_to_json(r.ck, NULL, NULL);
    char *s = json_to_string(j, JSSF_SORT);
    ck_assert_msg(strstr(s, "\"exit_network\":\"acme/lan\""), "%s", s);
    ck_assert(strstr(s, "\"in_port\":4"));
    ck_assert(strstr(s, "\"input\":\"vNIC b4\""));
    ck_assert(strstr(s, "\"isolated\":false"));
    free(s);
    json_destroy(j);
    run_destroy(&r);
}
END_TEST

START_TEST(test_sinks_and_opaque)
{
    struct run r;

    /* The controller, LOCAL and ports outside the map are no network. */
    run_check(&r, base_flows,
              "table=30, priority=200,arp actions=controller,LOCAL,"
              "output:77\n");
    assert_isolated(&r);
    run_destroy(&r);

    /* NORMAL is not modeled: it may reach anything. */
    run_check(&r, base_flows,
              "table=30, priority=200,metadata=0x64,arp actions=NORMAL\n");
    assert_leak(&r, "opaque: output:NORMAL");
    run_destroy(&r);

    /* Output to the input port itself (a vNIC of its own network). */
    run_check(&r, base_flows,
              "table=30, priority=200,arp actions=in_port\n");
    assert_isolated(&r);
    run_destroy(&r);
}
END_TEST

START_TEST(test_clone_changes_stay_inside)
{
    struct run r;

    /* The clone's rewrite of metadata does not leak out of it: after it,
     * the frame is acme's again. */
    run_check(&r, base_flows,
              "table=30, priority=200,metadata=0x64,arp "
              "actions=clone(set_field:0xc8->metadata),resubmit(,32)\n"
              "table=32, priority=10,metadata=0xc8 actions=output:3\n");
    assert_isolated(&r);
    run_destroy(&r);

    /* A move copies what the register knows: reg6 (the input vNIC) to
     * reg7, so acme's frames go back to their own vNICs. */
    run_check(&r, base_flows,
              "table=30, priority=200,metadata=0x64,arp "
              "actions=move:NXM_NX_REG6[]->NXM_NX_REG7[],resubmit(,50)\n");
    assert_isolated(&r);
    run_destroy(&r);
}
END_TEST

/* Actions whose effect the checker once took from the OpenFlow spec or
 * guessed, where OVS does otherwise (ofproto-dpif-xlate.c): each table
 * leaks from a1 (acme) to b3 (beta) in OVS, checked with ofproto/trace. */
START_TEST(test_actions_as_ovs_does)
{
    static const char *const leaky[] = {
        /* resubmit(P,T): P is the in_port of T's lookup only; the flow
         * found outputs with the packet's own in_port, so to P too. */
        "table=0, priority=10,in_port=1 actions=resubmit(3,1)\n"
        "table=1, priority=10,in_port=3 actions=output:3\n",
        /* push_vlan's new tag has VID 0, not the old tag's. */
        "table=0, priority=10,in_port=1,dl_vlan=100 "
        "actions=push_vlan:0x8100,resubmit(,1)\n"
        "table=1, priority=10,dl_vlan=100 actions=output:9\n"
        "table=1, priority=0 actions=output:3\n",
        /* mod_vlan_pcp pushes a tag on an untagged frame. */
        "table=0, priority=10,in_port=1,vlan_tci=0x0000/0x1000 "
        "actions=mod_vlan_pcp:3,resubmit(,1)\n"
        "table=1, priority=10,vlan_tci=0x0000/0x1000 actions=output:2\n"
        "table=1, priority=0 actions=output:3\n",
        /* mod_nw_src leaves an ARP packet's arp_spa as it was. */
        "table=0, priority=10,in_port=1 "
        "actions=mod_nw_src:10.0.0.9,resubmit(,1)\n"
        "table=1, priority=10,arp,arp_spa=10.0.0.9 actions=output:2\n"
        "table=1, priority=5,arp actions=output:3\n",
        /* Likewise mod_nw_dst (which once aborted the checker). */
        "table=0, priority=10,in_port=1 "
        "actions=mod_nw_dst:10.0.0.9,mod_dl_dst:02:00:00:00:00:02,"
        "mod_tp_dst:80,resubmit(,1)\n"
        "table=1, priority=10,arp,arp_tpa=10.0.0.9 actions=output:2\n"
        "table=1, priority=5,arp actions=output:3\n",
        /* output:REG with a reserved port: 0xfffc is ALL. */
        "table=0, priority=10,in_port=1 "
        "actions=load:0xfffc->NXM_NX_REG0[0..15],"
        "output:NXM_NX_REG0[0..15]\n",
        /* Same, the register not fixed: 0xfff0-0xffff, FLOOD among
         * them, but no port of the map. */
        "table=0, priority=10,in_port=1,tcp "
        "actions=load:0xfff->NXM_NX_REG0[4..15],"
        "move:NXM_OF_TCP_DST[0..3]->NXM_NX_REG0[0..3],"
        "output:NXM_NX_REG0[0..15]\n",
        /* A clause with a note is still a clause: it takes nothing from
         * the flows below it. */
        "table=0, priority=100,in_port=1 "
        "actions=conjunction(1,1/2),note:aa\n"
        "table=0, priority=100,ip actions=conjunction(1,2/2)\n"
        "table=0, priority=100,conj_id=1 actions=output:2\n"
        "table=0, priority=10,in_port=1 actions=output:3\n",
        /* A conj_id flow matches when clauses of another priority do. */
        "table=0, priority=100,in_port=1 actions=conjunction(1,1/2)\n"
        "table=0, priority=100,ip actions=conjunction(1,2/2)\n"
        "table=0, priority=50,conj_id=1 actions=output:3\n"
        "table=0, priority=10,in_port=1 actions=output:2\n",
    };
    struct run r;

    for (size_t i = 0; i < ARRAY_SIZE(leaky); i++) {
        run_check(&r, leaky[i], NULL);
        assert_leak(&r, "from port 1 (vNIC a1 of acme/lan)");
        run_destroy(&r);
    }

    /* What the model still knows: a tag pushed and given acme's VID, and
     * mod_nw_src on IPv4 only. */
    run_check(&r,
              "table=0, priority=10,in_port=1 actions=push_vlan:0x8100,"
              "set_field:4196->vlan_vid,resubmit(,1)\n"
              "table=1, priority=10,dl_vlan=100 actions=output:9\n"
              "table=1, priority=0 actions=output:3\n"
              "table=0, priority=10,in_port=2,ip "
              "actions=mod_nw_src:10.0.0.9,resubmit(,2)\n"
              "table=2, priority=10,ip,nw_src=10.0.0.9 actions=output:1\n"
              "table=2, priority=0 actions=output:4\n", NULL);
    assert_isolated(&r);
    run_destroy(&r);
}
END_TEST

START_TEST(test_incremental)
{
    struct run r;
    static const char leak[] =
        "table=30, priority=200,metadata=0x64,dl_dst=02:00:00:00:00:03 "
        "actions=set_field:3->reg7,goto_table:50\n";

    run_check(&r, base_flows, NULL);
    assert_isolated(&r);

    char *error = vfy_flows_parse(r.flows, leak, "leak");
    ck_assert(!error);
    size_t n = vfy_checker_run_incremental(r.ck, r.flows, r.map);
    ck_assert(!vfy_checker_is_isolated(r.ck));
    ck_assert_uint_eq(vfy_checker_n_leaks(r.ck), 2);
    /* Only acme's vNICs look metadata 0x64 up in table 30. */
    ck_assert_uint_eq(n, 2);

    error = vfy_flows_parse_remove(r.flows, leak, "leak");
    ck_assert(!error);
    n = vfy_checker_run_incremental(r.ck, r.flows, r.map);
    ck_assert_uint_eq(n, 2);
    ck_assert(vfy_checker_is_isolated(r.ck));

    /* Nothing changed: nothing to follow. */
    ck_assert_uint_eq(vfy_checker_run_incremental(r.ck, r.flows, r.map), 0);
    ck_assert(vfy_checker_is_isolated(r.ck));
    run_destroy(&r);
}
END_TEST

START_TEST(test_bad_input)
{
    struct vfy_flows *flows = vfy_flows_create();

    char *error = vfy_flows_parse(flows, base_flows, "f");
    ck_assert(!error);
    size_t n = vfy_flows_count(flows);
    error = vfy_flows_parse(flows, "table=1,priority=5 actions=drop\n\n"
                            "table=1,priority=5,frobnicate=1 actions=drop\n",
                            "flows.txt");
    ck_assert(error);
    ck_assert_msg(strstr(error, "flows.txt:3: "), "%s", error);
    free(error);
    ck_assert_uint_eq(vfy_flows_count(flows), n);
    vfy_flows_destroy(flows);

    static const char *const bad[][2] = {
        { "[]", "map.json: expected a JSON object" },
        { "{\"vnics\": {\"x\": {\"network\": \"a/b\"}}}",
          "map.json: vnics.x" },
        { "{\"vnics\": {\"1\": {\"network\": \"ab\"}}}",
          "map.json: vnics.1.network: expected a network name" },
        { "{\"vnics\": {}, \"uplink\": {\"port\": 0}}",
          "map.json: uplink.port" },
        { "{\"vnics\": {}, \"tunnel\": {\"port\": 5, \"vnis\": "
          "{\"1\": 3}}}", "map.json: tunnel.vnis.1: expected a network" },
        { "{\"vnics\": {}, \"color\": 1}", "map.json: color: unknown member" },
    };
    struct vfy_portmap *map = vfy_portmap_create();
    vfy_portmap_add_vnic(map, u16_to_ofp(1), "a/b", "keep");
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct json *j = json_from_string(bad[i][0]);
        error = vfy_portmap_from_json(map, j, "map.json");
        ck_assert_msg(error && strstr(error, bad[i][1]), "%s: %s",
                      bad[i][0], error ? error : "no error");
        free(error);
        json_destroy(j);
    }
    /* The map is unchanged. */
    struct json *j = vfy_portmap_to_json(map);
    char *s = json_to_string(j, JSSF_SORT);
    ck_assert_str_eq(s, "{\"vnics\":{\"1\":{\"name\":\"keep\","
                     "\"network\":\"a/b\"}}}");
    free(s);
    json_destroy(j);
    vfy_portmap_destroy(map);
}
END_TEST

/* The controller's compiler's table for 'fx', checked. */
static void
run_fixture(const struct vfy_fixture *fx, struct vfy_flows **flows,
            struct vfy_portmap **map, struct vfy_checker **ck)
{
    char *text = vfy_fixture_flows(fx);

    *flows = vfy_flows_create();
    char *error = vfy_flows_parse(*flows, text, "fixture");
    ck_assert_msg(!error, "%s", error);
    free(text);
    *map = vfy_portmap_create();
    vfy_fixture_portmap(fx, *map);
    *ck = vfy_checker_create();
    vfy_checker_run_full(*ck, *flows, *map);
}

START_TEST(test_shared_traversal_judged_per_input)
{
    struct run r;

    /* Table 40 reads nothing, so one traversal of it (the memo's) serves
     * vNIC 1 (acme) and vNIC 3 (beta): each of them leaks to the other's
     * network, and must be reported with its own packet. */
    run_check(&r,
              "table=0, priority=10,in_port=1 actions=set_field:1->reg1,"
              "goto_table:40\n"
              "table=0, priority=10,in_port=3 actions=set_field:3->reg1,"
              "goto_table:40\n"
              "table=0, priority=0 actions=drop\n"
              "table=40, priority=0 actions=output:1,output:3\n", NULL);
    ck_assert_uint_eq(vfy_checker_n_leaks(r.ck), 2);
    assert_leak(&r, "from port 1 (vNIC a1 of acme/lan) to port 3 "
                "(vNIC b3 of beta/lan)");
    assert_leak(&r, "from port 3 (vNIC b3 of beta/lan) to port 1 "
                "(vNIC a1 of acme/lan)");
    assert_leak(&r, "packet: in_port=3,");

    /* Table 40 now sends acme's packets (reg1=1) to vNIC 2 only: beta's
     * leak remains, acme's is gone. */
    char *error = vfy_flows_parse(
        r.flows, "table=40, priority=10,reg1=1 actions=output:2\n",
        "fix");
    ck_assert(!error);
    vfy_checker_run_incremental(r.ck, r.flows, r.map);
    struct ds s = DS_EMPTY_INITIALIZER;
    vfy_checker_format(r.ck, &s, NULL, NULL);
    ck_assert_uint_eq(vfy_checker_n_leaks(r.ck), 1);
    ck_assert_msg(strstr(ds_cstr(&s), "from port 3 (vNIC b3 of beta/lan) "
                         "to port 1"), "%s", ds_cstr(&s));
    ds_destroy(&s);
    run_destroy(&r);
}
END_TEST

START_TEST(test_controller_table_is_isolated)
{
    struct vfy_fixture fx = { .n_nets = 2, .per_net = 3 };
    struct vfy_flows *flows;
    struct vfy_portmap *map;
    struct vfy_checker *ck;

    run_fixture(&fx, &flows, &map, &ck);
    struct ds s = DS_EMPTY_INITIALIZER;
    vfy_checker_format(ck, &s, NULL, NULL);
    ck_assert_msg(vfy_checker_is_isolated(ck), "%s", ds_cstr(&s));
    ds_destroy(&s);

    /* A flow that the compiler would never write: vNIC 4's MAC (network
     * t1) in t0's L2 table. */
    char *error = vfy_flows_parse(
        flows, "table=30,priority=100,metadata=0x65,"
        "dl_dst=02:00:00:00:00:03,actions=set_field:4->reg7,"
        "set_field:4->reg8,goto_table:41\n", "bug");
    ck_assert(!error);
    size_t n = vfy_checker_run_incremental(ck, flows, map);
    /* Network t0's three vNICs and its VLAN on the uplink, of 8 inputs. */
    ck_assert_uint_eq(n, 4);
    ds_init(&s);
    vfy_checker_format(ck, &s, NULL, NULL);
    ck_assert_msg(!vfy_checker_is_isolated(ck), "%s", ds_cstr(&s));
    ck_assert_msg(strstr(ds_cstr(&s), "to port 4 (vNIC vm3 of t1/net)"),
                  "%s", ds_cstr(&s));
    ds_destroy(&s);

    vfy_checker_destroy(ck);
    vfy_flows_destroy(flows);
    vfy_portmap_destroy(map);
}
END_TEST

/* A flow table kept twice, so that a checker can check one incrementally
 * and another the other in full. */
struct twin {
    struct vfy_flows *inc;      /* For incremental runs. */
    struct vfy_flows *full;     /* For full runs. */
};

/* Adds ('remove': removes) the flows of 'text' to both tables of 'tw'. */
static void
twin_apply(struct twin *tw, const char *text, bool remove)
{
    struct vfy_flows *both[2] = { tw->inc, tw->full };

    for (int i = 0; i < 2; i++) {
        char *error = (remove
                       ? vfy_flows_parse_remove(both[i], text, "step")
                       : vfy_flows_parse(both[i], text, "step"));
        ck_assert_msg(!error, "%s", error);
    }
}

/* Returns a random number below 'n' from '*seed'. */
static size_t
next_random(uint32_t *seed, size_t n)
{
    *seed = *seed * 1103515245 + 12345;
    return (*seed >> 8) % n;
}

/* Returns checker 'ck''s text report, but of each counterexample only its
 * first line (which input leaks, and where), unnumbered, sorted: flows of
 * one priority may be followed in another order after the index changed,
 * which orders the counterexamples otherwise and may find another packet
 * for one input and exit first. */
static char *
report(const struct vfy_checker *ck)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    struct svec blocks = SVEC_EMPTY_INITIALIZER;

    vfy_checker_format(ck, &s, NULL, NULL);
    char *text = ds_steal_cstr(&s);
    for (char *p = text; *p;) {
        char *end = strstr(p, "\n\n");
        size_t len = end ? end - p : strlen(p);
        if (!strncmp(p, "leak ", 5) && strchr(p, ':')) {
            size_t skip = strchr(p, ':') - p;
            size_t line = strcspn(p, "\n");
            svec_add_nocopy(&blocks, xmemdup0(p + skip, MIN(line, len)
                                                        - skip));
        } else {
            svec_add_nocopy(&blocks, xmemdup0(p, len));
        }
        p += len + (end ? 2 : 0);
    }
    svec_sort(&blocks);
    char *joined = svec_join(&blocks, "\n\n", "\n");
    svec_destroy(&blocks);
    free(text);
    return joined;
}

/* The port map of test_incremental_matches_full(): the fixture's vNICs
 * (ports 1 to 6) and two ports that its flows never name as vNICs (7 and
 * 8), each plugged or not, of a network. */
struct test_ports {
    bool plugged[9];            /* By port: a vNIC of the map. */
    const char *network[9];     /* By port: its network, if plugged. */
    bool renamed[9];            /* By port: its name is not the first. */
};

/* Makes 'map' what 'tp' says (with the fixture's uplink and VLANs). */
static void
test_ports_to_map(const struct test_ports *tp, struct vfy_portmap *map)
{
    for (int port = 1; port <= 8; port++) {
        vfy_portmap_remove_vnic(map, u16_to_ofp(port));
        if (tp->plugged[port]) {
            char name[32];
            snprintf(name, sizeof name, "%s%d",
                     tp->renamed[port] ? "new" : port <= 6 ? "vm" : "sp",
                     port <= 6 ? port - 1 : port);
            vfy_portmap_add_vnic(map, u16_to_ofp(port), tp->network[port],
                                 name);
        }
    }
}

START_TEST(test_incremental_matches_full)
{
    /* Flows that the steps below add and remove: leaks (another network's
     * vNIC in t0's L2 table, a port out of the security group's reach, a
     * VLAN of t1 for t0's uplink traffic, a conjunction with a leaking
     * action), fixes of them, and flows that change nothing.  The steps
     * also plug and unplug vNICs (with their flows or without), plug
     * vNICs on ports 7 and 8, which flows of the pool output to, and
     * move a vNIC to another network or rename it (a full run). */
    static const char *const pool[] = {
        "table=30,priority=100,metadata=0x65,dl_dst=02:00:00:00:00:03,"
        "actions=set_field:4->reg7,goto_table:40\n",
        "table=30,priority=200,metadata=0x65,dl_dst=02:00:00:00:00:03,"
        "actions=drop\n",
        "table=50,priority=120,reg7=2,tcp,tp_dst=80,actions=output:5\n",
        "table=50,priority=130,reg7=2,actions=output:2\n",
        "table=50,priority=100,metadata=0x65,reg7=60000,ip,"
        "actions=push_vlan:0x8100,set_field:4198->vlan_vid,output:60000\n",
        "table=60,priority=3000,conj_id=77,actions=output:6\n"
        "table=60,priority=3000,ct_state=+trk-inv,metadata=0x65,ip,"
        "ct_nw_src=10.0.0.1/32,actions=conjunction(77,1/2)\n"
        "table=60,priority=3000,ct_state=+trk-inv,reg11=2,"
        "ct_nw_proto=6,ct_tp_dst=8080,actions=conjunction(77,2/2)\n",
        "table=60,priority=3000,ct_state=+trk-inv,metadata=0x65,ip,"
        "ct_nw_src=10.0.0.2/32,actions=conjunction(77,1/2)\n",
        "table=60,priority=3100,ct_state=+trk-inv,metadata=0x65,ip,"
        "ct_nw_src=10.0.0.0/31,actions=drop\n",
        "table=60,priority=3000,ct_state=+trk-inv,metadata=0x66,ip,"
        "ct_nw_src=10.0.0.4/32,actions=conjunction(1052674,1/2)\n",
        "table=41,priority=120,reg7=5,udp,actions=goto_table:50\n",
        "table=10,priority=150,in_port=2,actions=set_field:0x66->metadata,"
        "set_field:2->reg6,goto_table:30\n",
        "table=61,priority=100,reg14=1,reg13=0x1ff,actions=drop\n",
        "table=25,priority=100,reg6=3,dl_dst=01:00:00:00:00:00/"
        "01:00:00:00:00:00,actions=meter:3,goto_table:30\n",
        /* To ports that are no vNIC but at times (7 and 8, below), and to
         * whatever port of the map the ARP opcode says. */
        "table=50,priority=120,reg7=1,arp,actions=output:7\n",
        "table=50,priority=120,reg7=4,arp,actions=output:8\n",
        "table=50,priority=110,reg7=2,arp,actions="
        "move:NXM_OF_ARP_OP[]->NXM_NX_REG5[0..15],"
        "output:NXM_NX_REG5[0..15]\n",
    };
    static const char *const nets[] = { "t0/net", "t1/net", "t9/net" };
    struct vfy_fixture fx = { .n_nets = 2, .per_net = 3 };
    size_t n_leaky = 0, n_isolated = 0;
    size_t n_map_incremental = 0, n_map_full = 0, n_map_leaky = 0;

    for (uint32_t round = 0; round < 12; round++) {
        uint32_t seed = round * 7919 + 1;
        char *text = vfy_fixture_flows(&fx);
        struct twin tw = { vfy_flows_create(), vfy_flows_create() };
        twin_apply(&tw, text, false);

        /* The base table's flows, one a line, to remove some at times. */
        struct svec lines = SVEC_EMPTY_INITIALIZER;
        for (char *save = NULL, *l = strtok_r(text, "\n", &save); l;
             l = strtok_r(NULL, "\n", &save)) {
            svec_add(&lines, l);
        }
        bool in_pool[ARRAY_SIZE(pool)] = { false };
        bool *removed = xcalloc(lines.n, sizeof *removed);
        size_t n_vnics = fx.n_nets * fx.per_net;
        int *variant = xcalloc(n_vnics, sizeof *variant);
        bool *has_flows = xmalloc(n_vnics * sizeof *has_flows);
        struct test_ports tp;
        memset(&tp, 0, sizeof tp);
        for (size_t v = 0; v < n_vnics; v++) {
            has_flows[v] = true;
            tp.plugged[v + 1] = true;
            tp.network[v + 1] = nets[v / fx.per_net];
        }

        struct vfy_portmap *map = vfy_portmap_create();
        vfy_fixture_portmap(&fx, map);
        struct vfy_checker *ck = vfy_checker_create();
        vfy_checker_run_full(ck, tw.inc, map);

        for (int step = 0; step < 24; step++) {
            size_t n_ops = 1 + next_random(&seed, 3);
            bool map_changed = false, moved = false;
            bool touched[9] = { false };
            for (size_t op = 0; op < n_ops; op++) {
                size_t kind = next_random(&seed, 5);
                if (kind == 0) {
                    size_t i = next_random(&seed, ARRAY_SIZE(pool));
                    twin_apply(&tw, pool[i], in_pool[i]);
                    in_pool[i] = !in_pool[i];
                } else if (kind == 1) {
                    size_t i = next_random(&seed, lines.n);
                    twin_apply(&tw, lines.names[i], !removed[i]);
                    removed[i] = !removed[i];
                } else if (kind == 2) {
                    /* A vNIC's address changes (all its flows go and
                     * come back, as the benchmark does). */
                    size_t v = next_random(&seed, n_vnics);
                    if (!has_flows[v]) {
                        continue;
                    }
                    char *old = vfy_fixture_vnic_flows(&fx, v, variant[v]);
                    variant[v] = !variant[v];
                    char *new = vfy_fixture_vnic_flows(&fx, v, variant[v]);
                    twin_apply(&tw, old, true);
                    twin_apply(&tw, new, false);
                    free(old);
                    free(new);
                } else if (moved) {
                    /* After a move, the map stays as it is in this step
                     * (so that the move is what the next run sees). */
                } else if (kind == 3) {
                    /* A vNIC of the fixture is unplugged or plugged
                     * again (as it was: its network and name), with its
                     * own flows or without. */
                    size_t v = next_random(&seed, n_vnics);
                    bool with_flows = next_random(&seed, 2);
                    int port = v + 1;
                    if (with_flows && has_flows[v] == tp.plugged[port]) {
                        char *f = vfy_fixture_vnic_flows(&fx, v, variant[v]);
                        twin_apply(&tw, f, has_flows[v]);
                        has_flows[v] = !has_flows[v];
                        free(f);
                    }
                    tp.plugged[port] = !tp.plugged[port];
                    touched[port] = map_changed = true;
                } else {
                    /* A vNIC on port 7 or 8 (no flow of the fixture's
                     * names it) is plugged, of any network, or unplugged;
                     * or a vNIC that was there before this step moves to
                     * another network or is renamed (no other change
                     * of the map follows in the step). */
                    int port = 1 + next_random(&seed, 8);
                    if (port <= 6 && !next_random(&seed, 3)) {
                        port = 7 + next_random(&seed, 2);
                    }
                    if (!next_random(&seed, 4)) {
                        if (!tp.plugged[port] || touched[port]) {
                            continue;
                        }
                        if (next_random(&seed, 2)) {
                            tp.renamed[port] = !tp.renamed[port];
                        } else {
                            size_t k = next_random(&seed, 2);
                            if (nets[k] == tp.network[port]) {
                                k = 2;
                            }
                            tp.network[port] = nets[k];
                        }
                        moved = map_changed = true;
                    } else if (port >= 7 && !touched[port]) {
                        /* (Unplugged and plugged again in one step on
                         * another network would be a move.) */
                        tp.plugged[port] = !tp.plugged[port];
                        tp.network[port] = nets[next_random(&seed, 3)];
                        tp.renamed[port] = false;
                        touched[port] = map_changed = true;
                    }
                }
            }
            test_ports_to_map(&tp, map);

            /* The controller hands a new map over each time; a map
             * changed in place must do as well. */
            struct vfy_portmap *m = step % 2 ? vfy_portmap_clone(map) : map;
            vfy_checker_run_incremental(ck, tw.inc, m);
            if (m != map) {
                vfy_portmap_destroy(m);
            }
            struct vfy_checker *ref = vfy_checker_create();
            vfy_checker_run_full(ref, tw.full, map);

            char *got = report(ck), *want = report(ref);
            if (strcmp(got, want)) {
                fprintf(stderr, "incremental:\n%s\nfull:\n%s", got, want);
            }
            ck_assert_msg(!strcmp(got, want), "round %"PRIu32" step %d: "
                          "the reports differ (on stderr)", round, step);
            ck_assert_uint_eq(vfy_flows_count(tw.inc),
                              vfy_flows_count(tw.full));
            /* A vNIC that moved or was renamed is a full run; vNICs
             * plugged and unplugged are not. */
            ck_assert_int_eq(vfy_checker_last_full(ck), moved);
            if (vfy_checker_is_isolated(ref)) {
                n_isolated++;
            } else {
                n_leaky++;
            }
            if (map_changed && !moved) {
                n_map_incremental++;
                n_map_leaky += !vfy_checker_is_isolated(ref);
            }
            n_map_full += moved;
            free(got);
            free(want);
            vfy_checker_destroy(ref);
        }
        vfy_checker_destroy(ck);
        vfy_portmap_destroy(map);
        vfy_flows_destroy(tw.inc);
        vfy_flows_destroy(tw.full);
        svec_destroy(&lines);
        free(removed);
        free(variant);
        free(has_flows);
        free(text);
    }
    /* Both verdicts were compared, many times, after port map changes
     * too. */
    ck_assert_uint_ge(n_leaky, 20);
    ck_assert_uint_ge(n_isolated, 20);
    ck_assert_uint_ge(n_map_incremental, 40);
    ck_assert_uint_ge(n_map_leaky, 10);
    ck_assert_uint_ge(n_map_full, 5);
}
END_TEST

/* Runs 'ck' incrementally on 'flows' with 'map', then asserts that its
 * report is a full run's, that it was full or not as 'full' says, and,
 * unless 'n' is SIZE_MAX, that it followed 'n' inputs. */
static void
check_map_step(struct vfy_checker *ck, struct vfy_flows *flows,
               const struct vfy_portmap *map, bool full, size_t n)
{
    size_t got_n = vfy_checker_run_incremental(ck, flows, map);
    struct vfy_checker *ref = vfy_checker_create();
    vfy_checker_run_full(ref, flows, map);
    char *got = report(ck), *want = report(ref);

    ck_assert_msg(!strcmp(got, want), "incremental:\n%s\nfull:\n%s", got,
                  want);
    ck_assert_int_eq(vfy_checker_last_full(ck), full);
    if (n != SIZE_MAX) {
        ck_assert_uint_eq(got_n, n);
    }
    free(got);
    free(want);
    vfy_checker_destroy(ref);
}

START_TEST(test_incremental_port_map)
{
    struct run r;

    /* acme's packets to MAC 7 go to port 7; beta's ARP packets go to the
     * port that the low 4 bits of their opcode say (any port 0 to 15). */
    run_check(&r, base_flows,
              "table=30, priority=100,metadata=0x64,"
              "dl_dst=02:00:00:00:00:07 actions=set_field:7->reg7,"
              "goto_table:50\n"
              "table=30, priority=200,metadata=0xc8,arp "
              "actions=load:0->NXM_NX_REG5[4..15],"
              "move:NXM_OF_ARP_OP[0..3]->NXM_NX_REG5[0..3],"
              "output:NXM_NX_REG5[0..15]\n");
    assert_leak(&r, "from port 3 (vNIC b3 of beta/lan) to port 1 (vNIC a1 "
                "of acme/lan)");
    ck_assert(!strstr(r.report, "to port 7"));

    /* Port 8, which no flow names, becomes acme's vNIC: beta's ARP
     * packets leak to it.  Followed: beta's two vNICs (their ARP packets
     * reach whatever port the map has) and port 8's own. */
    vfy_portmap_add_vnic(r.map, u16_to_ofp(8), "acme/lan", "a8");
    check_map_step(r.ck, r.flows, r.map, false, 3);
    struct ds s = DS_EMPTY_INITIALIZER;
    vfy_checker_format(r.ck, &s, NULL, NULL);
    ck_assert_msg(strstr(ds_cstr(&s), "from port 4 (vNIC b4 of beta/lan) "
                         "to port 8 (vNIC a8 of acme/lan)"), "%s",
                  ds_cstr(&s));
    ck_assert(strstr(ds_cstr(&s), "5 vNICs checked"));
    ds_destroy(&s);

    /* Port 7, where acme's packets went, becomes beta's vNIC: no flow
     * changed, but acme's vNICs leak to it now.  Followed: acme's vNICs 1
     * and 2 (they reached port 7; not 8, which no flow of table 10 lets
     * in: it reached no port), beta's two, and port 7's own. */
    vfy_portmap_add_vnic(r.map, u16_to_ofp(7), "beta/lan", "b7");
    check_map_step(r.ck, r.flows, r.map, false, 5);
    ds_init(&s);
    vfy_checker_format(r.ck, &s, NULL, NULL);
    ck_assert_msg(strstr(ds_cstr(&s), "from port 1 (vNIC a1 of acme/lan) "
                         "to port 7 (vNIC b7 of beta/lan)"), "%s",
                  ds_cstr(&s));
    ds_destroy(&s);

    /* vNIC 7 moves to acme, then is renamed: full runs. */
    vfy_portmap_add_vnic(r.map, u16_to_ofp(7), "acme/lan", "b7");
    check_map_step(r.ck, r.flows, r.map, true, SIZE_MAX);
    vfy_portmap_add_vnic(r.map, u16_to_ofp(7), "acme/lan", "a7");
    check_map_step(r.ck, r.flows, r.map, true, SIZE_MAX);

    /* vNIC 3 (beta) and 8 (acme) go, their flows stay: vNIC 3's leaks go
     * with it, and nothing leaks to port 8 any more. */
    vfy_portmap_remove_vnic(r.map, u16_to_ofp(3));
    vfy_portmap_remove_vnic(r.map, u16_to_ofp(8));
    check_map_step(r.ck, r.flows, r.map, false, SIZE_MAX);
    ds_init(&s);
    vfy_checker_format(r.ck, &s, NULL, NULL);
    ck_assert_msg(!strstr(ds_cstr(&s), "from port 3")
                  && !strstr(ds_cstr(&s), "to port 8"), "%s", ds_cstr(&s));
    ck_assert(strstr(ds_cstr(&s), "4 vNICs checked"));
    ds_destroy(&s);

    /* Nothing changed: nothing to follow. */
    check_map_step(r.ck, r.flows, r.map, false, 0);

    /* The uplink moves: a full run. */
    vfy_portmap_set_uplink(r.map, u16_to_ofp(11));
    check_map_step(r.ck, r.flows, r.map, true, SIZE_MAX);
    run_destroy(&r);
}
END_TEST

START_TEST(test_port_of_no_network)
{
    struct run r;

    /* acme's packets to MAC 7 go to port 7; what port 8 sends goes into
     * beta's network, and to port 7 if it is ARP. */
    run_check(&r, base_flows,
              "table=30, priority=100,metadata=0x64,"
              "dl_dst=02:00:00:00:00:07 actions=set_field:7->reg7,"
              "goto_table:50\n"
              "table=10, priority=200,in_port=8,arp actions=output:7\n"
              "table=10, priority=100,in_port=8 "
              "actions=set_field:0xc8->metadata,goto_table:30\n");
    ck_assert_msg(!strstr(r.report, "to port 7"), "%s", r.report);

    /* Ports 7 and 8 belong to no network: nothing may reach either, and
     * nothing either sends may reach a network or the other. */
    vfy_portmap_add_sealed(r.map, u16_to_ofp(7), "x7");
    vfy_portmap_add_sealed(r.map, u16_to_ofp(8), "x8");
    check_map_step(r.ck, r.flows, r.map, false, SIZE_MAX);
    struct ds s = DS_EMPTY_INITIALIZER;
    vfy_checker_format(r.ck, &s, NULL, NULL);
    const char *want[] = {
        "4 vNICs checked (and 2 ports of no network, 2 uplink VLANs",
        "from port 1 (vNIC a1 of acme/lan) to port 7 (x7, of no network)",
        "from port 2 (vNIC a2 of acme/lan) to port 7 (x7, of no network)",
        "from port 8 (x8 of no network) to port 3 (vNIC b3 of beta/lan)",
        "from port 8 (x8 of no network) to port 7 (x7, of no network)",
    };
    for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
        ck_assert_msg(strstr(ds_cstr(&s), want[i]), "\"%s\" not in:\n%s",
                      want[i], ds_cstr(&s));
    }
    ck_assert_msg(!strstr(ds_cstr(&s), "from port 7"), "%s", ds_cstr(&s));
    ds_destroy(&s);

    /* The JSON map says so with a null network, and reads back alike. */
    struct json *j = vfy_portmap_to_json(r.map);
    char *text = json_to_string(j, JSSF_SORT);
    ck_assert_msg(strstr(text, "\"7\":{\"name\":\"x7\",\"network\":null}"),
                  "%s", text);
    struct vfy_portmap *back = vfy_portmap_create();
    char *error = vfy_portmap_from_json(back, j, "map");
    ck_assert_msg(!error, "%s", error);
    ck_assert(vfy_portmap_equal(back, r.map));
    vfy_portmap_destroy(back);
    json_destroy(j);
    free(text);

    /* Port 7 becomes acme's vNIC: a full run, and acme reaching it is no
     * leak any more; port 8 still reaches it. */
    vfy_portmap_add_vnic(r.map, u16_to_ofp(7), "acme/lan", "a7");
    check_map_step(r.ck, r.flows, r.map, true, SIZE_MAX);
    ds_init(&s);
    vfy_checker_format(r.ck, &s, NULL, NULL);
    ck_assert_msg(!strstr(ds_cstr(&s), "from port 1")
                  && strstr(ds_cstr(&s), "from port 8 (x8 of no network) "
                            "to port 7 (vNIC a7 of acme/lan)"),
                  "%s", ds_cstr(&s));
    ds_destroy(&s);
    run_destroy(&r);
}
END_TEST

/* Returns a sparse cube over the 6 low bits of word 0 of struct flow from
 * '*seed': each bit fixed to 0 or 1, or free. */
static struct hs_sparse *
random_cube(uint32_t *seed)
{
    struct hs_cube c;

    memset(&c, 0, sizeof c);
    for (int bit = 0; bit < 6; bit++) {
        size_t kind = next_random(seed, 3);
        if (kind) {
            c.m[0] |= UINT64_C(1) << bit;
            c.v[0] |= (uint64_t) (kind == 2) << bit;
        }
    }
    return hs_sparse_from_cube(&c);
}

START_TEST(test_emptiness_matches_enumeration)
{
    /* A cube minus up to 7 cubes, over 6 bits: the emptiness test agrees
     * with the 64 packets one by one, its witness is in the set, and it
     * leaves the cube it was given as it was. */
    uint32_t seed = 12345;

    for (int round = 0; round < 3000; round++) {
        struct hs_sparse *cs = random_cube(&seed);
        struct hs_sparse *subs[7];
        size_t n = next_random(&seed, 8);
        for (size_t i = 0; i < n; i++) {
            subs[i] = random_cube(&seed);
        }
        struct hs_cube c, before, witness;
        hs_cube_from_sparse(&c, cs);
        before = c;

        bool any = false;
        for (uint64_t p = 0; p < 64 && !any; p++) {
            bool in = !((p ^ c.v[0]) & c.m[0]);
            for (size_t i = 0; i < n && in; i++) {
                /* A cube that fixes no bit has no word: it holds every
                 * packet. */
                in = (subs[i]->n
                      && ((p ^ HS_SV(subs[i], 0)) & HS_SM(subs[i], 0)));
            }
            any = in;
        }
        const struct hs_sparse *const *s
            = (const struct hs_sparse *const *) subs;
        bool got = hs_nonempty(&c, s, n, &witness, 1000);
        ck_assert_msg(got == any, "round %d", round);
        ck_assert_int_eq(hs_is_nonempty(&c, s, n, 1000), any);
        ck_assert(!memcmp(&c, &before, sizeof c));
        if (got) {
            /* Every packet of the witness cube is in the set. */
            ck_assert(!((witness.v[0] ^ c.v[0]) & c.m[0]));
            ck_assert(!(c.m[0] & ~witness.m[0]));
            for (size_t i = 0; i < n; i++) {
                ck_assert(!hs_intersects(&witness, subs[i]));
            }
        }
        free(cs);
        for (size_t i = 0; i < n; i++) {
            free(subs[i]);
        }
    }
}
END_TEST

/* The test suite. */
static Suite *
verify_suite(void)
{
    Suite *s = suite_create("verify");
    TCase *tc = tcase_create("verify");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_isolated);
    tcase_add_test(tc, test_leak_through_resubmit);
    tcase_add_test(tc, test_table_miss_in_resubmit_goes_on);
    tcase_add_test(tc, test_leak_behind_conjunction);
    tcase_add_test(tc, test_leak_for_one_vlan_tag);
    tcase_add_test(tc, test_leak_for_one_tun_id);
    tcase_add_test(tc, test_leak_only_when_established);
    tcase_add_test(tc, test_shadowed_leak_is_unreachable);
    tcase_add_test(tc, test_uplink_and_tunnel_inputs);
    tcase_add_test(tc, test_counterexample_fields);
    tcase_add_test(tc, test_sinks_and_opaque);
    tcase_add_test(tc, test_clone_changes_stay_inside);
    tcase_add_test(tc, test_actions_as_ovs_does);
    tcase_add_test(tc, test_incremental);
    tcase_add_test(tc, test_bad_input);
    tcase_add_test(tc, test_shared_traversal_judged_per_input);
    tcase_add_test(tc, test_controller_table_is_isolated);
    tcase_add_test(tc, test_incremental_matches_full);
    tcase_add_test(tc, test_incremental_port_map);
    tcase_add_test(tc, test_port_of_no_network);
    tcase_add_test(tc, test_emptiness_matches_enumeration);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(verify_suite());

    srunner_run_all(sr, CK_ENV);
    int n_failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return n_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
