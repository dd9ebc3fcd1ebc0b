/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Check unit tests of the pipeline compiler (controller/pipeline.h), the
 * flow table (controller/flow-table.h) and the conntrack zone allocator
 * (controller/ct-zone.h).
 *
 * The pipeline tests give the compiler a vNIC or a network and compare the
 * flows it writes, as sorted text, with the flows expected: a change in the
 * pipeline shows up here line by line. */

#include <config.h>
#include "controller/ct-zone.h"
#include "controller/flow-table.h"
#include "controller/pipeline.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "openvswitch/dynamic-string.h"
#include "smap.h"
#include "svec.h"
#include "util.h"

/* Returns the flows of 'ft' owned by 'owner' (all if NULL), sorted, one a
 * line.  The caller frees it. */
static char *
flows(const struct flow_table *ft, const char *owner)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    flow_table_format(ft, owner, &s);
    return ds_steal_cstr(&s);
}

/* Checks that the flows of 'owner' in 'ft' are exactly 'expected'. */
static void
check_flows(const struct flow_table *ft, const char *owner,
            const char *expected)
{
    char *actual = flows(ft, owner);
    ck_assert_str_eq(actual, expected);
    free(actual);
}

/* Appends meter 'm' to the string 's_' as "ID:RATE:BURST\n". */
static void
format_meter(const struct bh_meter *m, void *s_)
{
    ds_put_format(s_, "%"PRIu32":%"PRIu32":%"PRIu32"\n", m->id, m->rate,
                  m->burst);
}

/* Checks that the meters of 'ft' are exactly 'expected'. */
static void
check_meters(const struct flow_table *ft, const char *expected)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    flow_table_for_each_meter(ft, format_meter, &s);
    ck_assert_str_eq(ds_cstr(&s), expected);
    ds_destroy(&s);
}

/* The addresses of the vNIC make_vnic() makes. */
static struct pl_address vnic_addrs[8];

/* Adds to 'v' the address 'ip' with 'mac' (NULL: its own). */
static void
add_address(struct pl_vnic *v, const char *mac, const char *ip)
{
    struct pl_address *a = &vnic_addrs[v->n_addrs++];

    a->mac = v->mac;
    ck_assert(!mac || eth_addr_from_string(mac, &a->mac));
    ck_assert(fw_prefix_parse(ip, &a->ip));
}

/* A vNIC with the addresses 'ips', port key 1 at ofport 5 on VLAN 101. */
static void
make_vnic(struct pl_vnic *v, struct svec *ips)
{
    memset(v, 0, sizeof *v);
    v->iface_id = "vm1";
    v->key = 1;
    v->ofport = 5;
    v->net_key = pipeline_network_key(POLICY_NET_VLAN, 101);
    ck_assert(eth_addr_from_string("02:00:0a:01:00:0b", &v->mac));
    v->addrs = vnic_addrs;
    for (size_t i = 0; i < ips->n; i++) {
        add_address(v, NULL, ips->names[i]);
    }
    v->port_security = true;
    v->fw_class = 0x12;
}

START_TEST(test_network_keys_and_cookies)
{
    ck_assert_uint_eq(pipeline_network_key(POLICY_NET_VLAN, 101), 0x65);
    ck_assert_uint_eq(pipeline_network_key(POLICY_NET_VXLAN, 101),
                      0x1000065);
    ck_assert_uint_eq(pipeline_network_key(POLICY_NET_VXLAN, 16777215),
                      0x1ffffff);
    ck_assert(pipeline_cookie(PL_COOKIE_VNIC, 7) == 0x0100000000000007ULL);
    ck_assert(pipeline_cookie(PL_COOKIE_NETWORK, 0x65)
              == 0x0200000000000065ULL);
    ck_assert(pipeline_cookie(PL_COOKIE_PIPELINE, 0)
              == 0x0f00000000000000ULL);
}
END_TEST

START_TEST(test_vnic_ipv4)
{
    struct flow_table ft;
    struct svec ips = SVEC_EMPTY_INITIALIZER;
    struct pl_vnic v;

    svec_add(&ips, "10.1.0.11");
    make_vnic(&v, &ips);
    flow_table_init(&ft);
    pipeline_add_vnic(&ft, &v);
    /* Eight flows: four of port security (which load its firewall class
     * into reg9) and one that drops (and counts) the rest of its frames,
     * one of broadcast limit (its meter: the default 1000 packets/s), one
     * of L2 lookup, one that starts its ingress firewall (its zone in
     * reg8, its class in reg10). */
    check_flows(&ft, "vnic:vm1",
        "table=10,priority=1,in_port=5,cookie=0x100000000000001,"
        "actions=drop\n"
        "table=10,priority=100,in_port=5,dl_src=02:00:0a:01:00:0b,arp,"
        "arp_sha=02:00:0a:01:00:0b,arp_spa=0.0.0.0,arp_tpa=10.1.0.11,"
        "cookie=0x100000000000001,actions=set_field:0x65->metadata,"
        "set_field:1->reg6,set_field:0x12->reg9,goto_table:20\n"
        "table=10,priority=100,in_port=5,dl_src=02:00:0a:01:00:0b,arp,"
        "arp_sha=02:00:0a:01:00:0b,arp_spa=10.1.0.11,"
        "cookie=0x100000000000001,actions=set_field:0x65->metadata,"
        "set_field:1->reg6,set_field:0x12->reg9,goto_table:20\n"
        "table=10,priority=100,in_port=5,dl_src=02:00:0a:01:00:0b,ip,"
        "nw_src=10.1.0.11,cookie=0x100000000000001,"
        "actions=set_field:0x65->metadata,set_field:1->reg6,"
        "set_field:0x12->reg9,goto_table:20\n"
        "table=10,priority=100,in_port=5,dl_src=02:00:0a:01:00:0b,udp,"
        "nw_src=0.0.0.0,nw_dst=255.255.255.255,tp_src=68,tp_dst=67,"
        "cookie=0x100000000000001,actions=set_field:0x65->metadata,"
        "set_field:1->reg6,set_field:0x12->reg9,goto_table:20\n"
        "table=18,priority=100,reg15=0x1/0xffff,ct_zone=1,"
        "cookie=0x100000000000001,actions=set_field:0x12->reg10,"
        "goto_table:19\n"
        "table=25,priority=100,reg6=1,"
        "dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,"
        "cookie=0x100000000000001,actions=meter:1,goto_table:30\n"
        "table=30,priority=100,metadata=0x65,dl_dst=02:00:0a:01:00:0b,"
        "cookie=0x100000000000001,actions=set_field:5->reg7,"
        "set_field:1->reg8,goto_table:41\n");
    check_meters(&ft, "1:1000:1000\n");
    flow_table_destroy(&ft);
    svec_destroy(&ips);
}
END_TEST

START_TEST(test_vnic_no_port_security)
{
    struct flow_table ft;
    struct svec ips = SVEC_EMPTY_INITIALIZER;
    struct pl_vnic v;

    svec_add(&ips, "10.1.0.11");
    make_vnic(&v, &ips);
    v.port_security = false;
    flow_table_init(&ft);
    pipeline_add_vnic(&ft, &v);

    /* One flow in table 10 lets everything through, above the static
     * DHCP-server and RA drops (priority 200), with the lookup of its
     * mirrors' copies (no firewall, so no verdict table does it); what it
     * receives goes straight to output (a mirror of it adds its own flow
     * there, pipeline_add_ingress_mirror()). */
    char *all = flows(&ft, "vnic:vm1");
    ck_assert_ptr_nonnull(strstr(all, "table=10,priority=300,in_port=5,"
                                 "cookie=0x100000000000001,"
                                 "actions=set_field:0x65->metadata,"
                                 "set_field:1->reg6,resubmit(,62),"
                                 "goto_table:25\n"));
    ck_assert_ptr_nonnull(strstr(all, "table=41,priority=300,reg8=1,"
                                 "cookie=0x100000000000001,"
                                 "actions=goto_table:50\n"));
    ck_assert_ptr_null(strstr(all, "table=18,"));
    ck_assert_ptr_null(strstr(all, "nw_src="));
    free(all);
    /* Its broadcasts are limited all the same, here as its policy says. */
    flow_table_clear(&ft);
    v.broadcast_limit = 50;
    pipeline_add_vnic(&ft, &v);
    check_meters(&ft, "1:50:50\n");
    flow_table_destroy(&ft);
    svec_destroy(&ips);
}
END_TEST

START_TEST(test_vnic_ipv6)
{
    struct flow_table ft;
    struct svec ips = SVEC_EMPTY_INITIALIZER;
    struct pl_vnic v;

    svec_add(&ips, "2001:db8::11");
    make_vnic(&v, &ips);
    flow_table_init(&ft);
    pipeline_add_vnic(&ft, &v);
    char *all = flows(&ft, "vnic:vm1");

    /* Its address and the link-local one derived from its MAC. */
    ck_assert_ptr_nonnull(strstr(all, "ipv6,ipv6_src=2001:db8::11,"));
    ck_assert_ptr_nonnull(strstr(all, "ipv6,ipv6_src=fe80::aff:fe01:b,"));
    /* Neighbor advertisements only for its own addresses. */
    ck_assert_ptr_nonnull(strstr(all, "icmp_type=136,icmp_code=0,"
                                 "nd_target=2001:db8::11,"
                                 "nd_tll=02:00:0a:01:00:0b,"));
    ck_assert_ptr_nonnull(strstr(all, "table=10,priority=105,in_port=5,"
                                 "icmp6,icmp_type=136,icmp_code=0,"
                                 "cookie=0x100000000000001,"
                                 "actions=drop\n"));
    /* Solicitations only with its own MAC, or none (DAD). */
    ck_assert_ptr_nonnull(strstr(all, "icmp_type=135,icmp_code=0,"
                                 "nd_sll=02:00:0a:01:00:0b,"));
    ck_assert_ptr_nonnull(strstr(all, "icmp_type=135,icmp_code=0,"
                                 "nd_sll=00:00:00:00:00:00,"));
    free(all);
    flow_table_destroy(&ft);
    svec_destroy(&ips);
}
END_TEST

START_TEST(test_vnic_allowed_addresses)
{
    struct flow_table ft;
    struct svec ips = SVEC_EMPTY_INITIALIZER;
    struct pl_vnic v;

    svec_add(&ips, "10.1.0.11");
    make_vnic(&v, &ips);
    add_address(&v, "00:00:5e:00:01:0a", "10.1.0.10");
    add_address(&v, NULL, "10.1.0.128/25");
    flow_table_init(&ft);
    pipeline_add_vnic(&ft, &v);
    char *all = flows(&ft, "vnic:vm1");

    /* The VRRP pair: its MAC and IP may be sent from; the MAC's delivery
     * is the network's (test_allowed_mac), not the vNIC's. */
    ck_assert_ptr_nonnull(strstr(all, "dl_src=00:00:5e:00:01:0a,ip,"
                                 "nw_src=10.1.0.10,"));
    ck_assert_ptr_nonnull(strstr(all, "arp_sha=00:00:5e:00:01:0a,"
                                 "arp_spa=10.1.0.10,"));
    ck_assert_ptr_null(strstr(all, "dl_dst=00:00:5e:00:01:0a"));
    /* A prefix with the port's own MAC. */
    ck_assert_ptr_nonnull(strstr(all, "dl_src=02:00:0a:01:00:0b,ip,"
                                 "nw_src=10.1.0.128/25,"));
    free(all);
    flow_table_destroy(&ft);
    svec_destroy(&ips);
}
END_TEST

/* An allowed address's MAC goes to every local vNIC that may have it, and
 * where unknown unicast goes: the uplink of a VLAN network, the other
 * chassis of a VXLAN one. */
START_TEST(test_allowed_mac)
{
    struct flow_table ft;
    int64_t holders[] = { pl_vnic_target(3, 30), pl_vnic_target(7, 70) };
    struct eth_addr vmac;
    struct pl_network vlan = {
        .key = 0x65, .type = POLICY_NET_VLAN, .segment = 101,
        .uplink_ofport = 9,
    };
    struct pl_network vxlan = {
        .key = 0x1001389, .type = POLICY_NET_VXLAN, .segment = 5001,
    };

    ck_assert(eth_addr_from_string("00:00:5e:00:01:0a", &vmac));
    flow_table_init(&ft);
    pipeline_add_allowed_mac(&ft, &vlan, vmac, holders, 2);
    pipeline_add_allowed_mac(&ft, &vxlan, vmac, holders, 1);
    char *all = flows(&ft, "net:0x65/00:00:5e:00:01:0a");
    ck_assert_str_eq(all, "table=30,priority=100,metadata=0x65,"
                     "dl_dst=00:00:5e:00:01:0a,cookie=0x200000000000065,"
                     "actions=clone(set_field:3->reg7,set_field:30->reg8,"
                     "resubmit(,41)),clone(set_field:7->reg7,"
                     "set_field:70->reg8,resubmit(,41)),"
                     "clone(set_field:9->reg7,resubmit(,40))\n");
    free(all);
    all = flows(&ft, "net:0x1001389/00:00:5e:00:01:0a");
    ck_assert_str_eq(all, "table=30,priority=100,metadata=0x1001389,"
                     "dl_dst=00:00:5e:00:01:0a,cookie=0x200000001001389,"
                     "actions=clone(set_field:3->reg7,set_field:30->reg8,"
                     "resubmit(,41)),resubmit(,36)\n");
    free(all);
    flow_table_destroy(&ft);
}
END_TEST

START_TEST(test_network_without_uplink)
{
    struct flow_table ft;
    int64_t members[] = { pl_vnic_target(1, 11), pl_vnic_target(2, 12) };
    struct pl_network n = {
        .key = 0x65, .type = POLICY_NET_VLAN, .segment = 101,
        .members = members, .n_members = 2,
    };

    flow_table_init(&ft);
    pipeline_add_network(&ft, &n);
    check_flows(&ft, "net:0x65",
        "table=30,priority=50,metadata=0x65,"
        "dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,"
        "cookie=0x200000000000065,actions=clone(set_field:1->reg7,"
        "set_field:11->reg8,resubmit(,41)),clone(set_field:2->reg7,"
        "set_field:12->reg8,resubmit(,41))\n");
    flow_table_destroy(&ft);
}
END_TEST

START_TEST(test_network_with_uplink)
{
    struct flow_table ft;
    int64_t members[] = { pl_vnic_target(3, 30) };
    struct pl_network n = {
        .key = 0x66, .type = POLICY_NET_VLAN, .segment = 102,
        .members = members, .n_members = 1, .uplink_ofport = 9,
    };

    flow_table_init(&ft);
    pipeline_add_network(&ft, &n);
    check_flows(&ft, "net:0x66",
        "table=0,priority=100,in_port=9,dl_vlan=102,"
        "cookie=0x200000000000066,actions=strip_vlan,"
        "set_field:0x66->metadata,set_field:65536->reg6,goto_table:30\n"
        "table=30,priority=10,metadata=0x66,cookie=0x200000000000066,"
        "actions=set_field:9->reg7,goto_table:40\n"
        "table=30,priority=200,metadata=0x66,reg6=65536,"
        "vlan_tci=0x1000/0x1000,cookie=0x200000000000066,actions=drop\n"
        "table=30,priority=50,metadata=0x66,"
        "dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,"
        "cookie=0x200000000000066,actions=clone(set_field:3->reg7,"
        "set_field:30->reg8,resubmit(,41)),clone(set_field:9->reg7,"
        "resubmit(,40))\n"
        "table=40,priority=100,metadata=0x66,reg7=9,"
        "cookie=0x200000000000066,actions=goto_table:50\n"
        "table=50,priority=100,metadata=0x66,reg7=9,"
        "cookie=0x200000000000066,actions=push_vlan:0x8100,"
        "set_field:4198->vlan_vid,output:9\n");
    flow_table_destroy(&ft);
}
END_TEST

/* Counts the occurrences of 'needle' in 'haystack'. */
static size_t
count_str(const char *haystack, const char *needle)
{
    size_t n = 0;

    for (const char *p = haystack; (p = strstr(p, needle)); p++) {
        n++;
    }
    return n;
}

/* A large network floods through buckets: table 30's flow makes one copy
 * per bucket (and the uplink's, last), a FLOOD flow per bucket one per
 * member of it; every member is copied once, no flow carries more than
 * PL_FLOOD_CHUNK copies. */
START_TEST(test_large_flood_goes_through_buckets)
{
    enum { N = 2 * PL_FLOOD_CHUNK + 10 };
    struct flow_table ft;
    int64_t members[N];
    struct pl_network n = {
        .key = 0x66, .type = POLICY_NET_VLAN, .segment = 102,
        .members = members, .n_members = N, .uplink_ofport = 9000,
    };

    for (size_t i = 0; i < N; i++) {
        members[i] = pl_vnic_target(i + 1, i + 101);
    }
    flow_table_init(&ft);
    pipeline_add_network(&ft, &n);
    char *text = flows(&ft, NULL);
    struct svec lines = SVEC_EMPTY_INITIALIZER;
    svec_parse_words(&lines, text);

    size_t n_buckets = 0, n_out = 0, seen[N + 1] = { 0 };
    for (size_t i = 0; i < lines.n; i++) {
        const char *line = lines.names[i];
        if (strstr(line, "table=30,priority=50,")) {
            /* The head: copies to buckets, the uplink's last. */
            ck_assert_uint_eq(count_str(line, "->reg7"), 1);
            const char *up = ",clone(set_field:9000->reg7,resubmit(,40))";
            ck_assert_uint_gt(strlen(line), strlen(up));
            ck_assert_str_eq(line + strlen(line) - strlen(up), up);
            n_buckets = count_str(line, "->reg5,resubmit(,35))");
        } else if (strstr(line, "table=35,priority=100,")) {
            ck_assert_ptr_nonnull(strstr(line, "metadata=0x66,reg5="));
            ck_assert_uint_eq(count_str(line, "->reg5"), 0);
            size_t copies = count_str(line, "clone(");
            ck_assert_uint_le(copies, PL_FLOOD_CHUNK);
            n_out += copies;
            for (const char *p = line; (p = strstr(p, "clone(set_field:"));
                 p++) {
                long ofport = strtol(p + strlen("clone(set_field:"), NULL,
                                     10);
                ck_assert(ofport >= 1 && ofport <= N);
                seen[ofport]++;
            }
        }
    }
    ck_assert_uint_ge(n_buckets, N / PL_FLOOD_BUCKET);
    ck_assert_uint_eq(n_out, N);
    for (size_t i = 1; i <= N; i++) {
        ck_assert_uint_eq(seen[i], 1);
    }
    svec_destroy(&lines);
    free(text);
    flow_table_destroy(&ft);
}
END_TEST

/* A vNIC that comes or goes changes one bucket of a large network, and a
 * small network has a single bucket. */
START_TEST(test_one_vnic_changes_one_bucket)
{
    enum { N = 400 };
    int64_t members[N + 1];
    struct pl_flood_buckets before, after;

    for (size_t i = 0; i < N + 1; i++) {
        members[i] = 2 * i + 5;
    }
    pipeline_flood_buckets_init(&before, members, N);
    pipeline_flood_buckets_init(&after, members, N + 1);
    ck_assert_uint_eq(before.n, after.n);
    ck_assert_uint_gt(before.n, 1);
    size_t changed = 0;
    for (size_t b = 0; b < before.n; b++) {
        changed += !pipeline_flood_bucket_equals(&before, &after, b);
    }
    ck_assert_uint_eq(changed, 1);
    pipeline_flood_buckets_destroy(&after);

    /* The first one goes. */
    pipeline_flood_buckets_init(&after, members + 1, N - 1);
    ck_assert_uint_eq(before.n, after.n);
    changed = 0;
    for (size_t b = 0; b < before.n; b++) {
        changed += !pipeline_flood_bucket_equals(&before, &after, b);
    }
    ck_assert_uint_eq(changed, 1);
    pipeline_flood_buckets_destroy(&after);
    pipeline_flood_buckets_destroy(&before);

    pipeline_flood_buckets_init(&before, members, PL_FLOOD_BUCKET);
    ck_assert_uint_eq(before.n, 1);
    pipeline_flood_buckets_destroy(&before);
}
END_TEST

START_TEST(test_vxlan_network_stays_off_the_uplink)
{
    struct flow_table ft;
    int64_t members[] = { pl_vnic_target(3, 30) };
    struct pl_network n = {
        .key = pipeline_network_key(POLICY_NET_VXLAN, 102),
        .type = POLICY_NET_VXLAN, .segment = 102,
        .members = members, .n_members = 1, .uplink_ofport = 9,
    };

    flow_table_init(&ft);
    pipeline_add_network(&ft, &n);
    char *all = flows(&ft, NULL);
    ck_assert_ptr_null(strstr(all, "in_port=9"));
    ck_assert_ptr_null(strstr(all, "output:9"));
    ck_assert_ptr_null(strstr(all, "65536"));
    ck_assert_ptr_null(strstr(all, "reg7=9"));

    /* The network itself is there: it floods to its member, then to the
     * overlay's table, never to the uplink. */
    static const char flood[] =
        "table=30,priority=50,metadata=0x1000066,"
        "dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,"
        "cookie=0x200000001000066,actions=clone(set_field:3->reg7,"
        "set_field:30->reg8,resubmit(,41)),resubmit(,36)\n";
    ck_assert_msg(strstr(all, flood), "missing: %s\nin:\n%s", flood, all);
    free(all);
    flow_table_destroy(&ft);
}
END_TEST

START_TEST(test_overlay_network)
{
    struct flow_table ft;
    ovs_be32 chassis[] = { htonl(0xc0a80002), htonl(0xc0a80003) };
    struct pl_remote_vnic remotes[] = {
        { ETH_ADDR_C(02,00,00,00,00,21), htonl(0xc0a80002) },
        { ETH_ADDR_C(02,00,00,00,00,31), htonl(0xc0a80003) },
    };
    struct pl_overlay_net n = {
        .key = pipeline_network_key(POLICY_NET_VXLAN, 5001),
        .vni = 5001,
        .chassis = chassis, .n_chassis = ARRAY_SIZE(chassis),
        .remotes = remotes, .n_remotes = ARRAY_SIZE(remotes),
        .tunnel_ofport = 7,
    };

    flow_table_init(&ft);
    pipeline_add_overlay(&ft, &n);
    pipeline_add_tunnel_output(&ft, "ovl:tunnel", 7);
    char *all = flows(&ft, NULL);
    /* From each chassis, the VNI joins the network untagged, as from the
     * tunnel; to each remote MAC, its chassis; a broadcast and an unknown
     * unicast, each chassis once; and out into the VXLAN port. */
    static const char expected[] =
        "table=0,priority=100,in_port=7,tun_id=5001,tun_src=192.168.0.2,"
        "vlan_tci=0/0x1000,cookie=0x200000001001389,"
        "actions=set_field:0x1001389->metadata,set_field:131072->reg6,"
        "goto_table:30\n"
        "table=0,priority=100,in_port=7,tun_id=5001,tun_src=192.168.0.3,"
        "vlan_tci=0/0x1000,cookie=0x200000001001389,"
        "actions=set_field:0x1001389->metadata,set_field:131072->reg6,"
        "goto_table:30\n"
        "table=30,priority=10,metadata=0x1001389,cookie=0x200000001001389,"
        "actions=resubmit(,36)\n"
        "table=30,priority=100,metadata=0x1001389,dl_dst=02:00:00:00:00:21,"
        "cookie=0x200000001001389,actions=set_field:5001->tun_id,"
        "set_field:192.168.0.2->tun_dst,resubmit(,51)\n"
        "table=30,priority=100,metadata=0x1001389,dl_dst=02:00:00:00:00:31,"
        "cookie=0x200000001001389,actions=set_field:5001->tun_id,"
        "set_field:192.168.0.3->tun_dst,resubmit(,51)\n"
        "table=36,priority=100,metadata=0x1001389,"
        "cookie=0x200000001001389,actions=clone(set_field:5001->tun_id,"
        "set_field:192.168.0.2->tun_dst,resubmit(,51)),"
        "clone(set_field:5001->tun_id,set_field:192.168.0.3->tun_dst,"
        "resubmit(,51))\n"
        "table=51,priority=100,cookie=0xf00000000000000,actions=output:7\n";
    if (strcmp(all, expected)) {
        fprintf(stderr, "actual:\n%s", all);
    }
    ck_assert_str_eq(all, expected);
    free(all);
    flow_table_destroy(&ft);
}
END_TEST

START_TEST(test_static_flows_drop_by_default)
{
    struct flow_table ft;

    flow_table_init(&ft);
    pipeline_add_static(&ft);
    char *all = flows(&ft, NULL);
    static const char *const drops[] = {
        "table=0,priority=50,vlan_tci=0x1000/0x1000,"
        "cookie=0xf00000000000000,actions=drop\n",
        "table=0,priority=0,cookie=0xf00000000000000,"
        "actions=goto_table:10\n",
        "table=10,priority=0,cookie=0xf00000000000000,actions=drop\n",
        "table=30,priority=0,cookie=0xf00000000000000,actions=drop\n",
        "table=35,priority=0,cookie=0xf00000000000000,actions=drop\n",
        /* The firewall: default deny, on both sides. */
        "table=20,priority=0,cookie=0xf00000000000000,actions=drop\n",
        "table=21,priority=0,cookie=0xf00000000000000,actions=drop\n",
        "table=22,priority=200,reg13=0,cookie=0xf00000000000000,"
        "actions=drop\n",
        "table=21,priority=300,ct_state=+trk+inv,"
        "cookie=0xf00000000000000,actions=drop\n",
        "table=40,priority=0,cookie=0xf00000000000000,actions=drop\n",
        "table=41,priority=0,cookie=0xf00000000000000,actions=drop\n",
        "table=42,priority=300,ct_state=+trk+inv,"
        "cookie=0xf00000000000000,actions=drop\n",
        "table=43,priority=200,reg13=0,cookie=0xf00000000000000,"
        "actions=drop\n",
        "table=25,priority=0,cookie=0xf00000000000000,"
        "actions=goto_table:30\n",
        "table=50,priority=10,reg7=0,cookie=0xf00000000000000,"
        "actions=drop\n",
        "table=50,priority=0,cookie=0xf00000000000000,"
        "actions=output:NXM_NX_REG7[0..15]\n",
        "table=10,priority=200,udp,tp_dst=68,"
        "cookie=0xf00000000000000,actions=drop\n",
        "table=10,priority=200,udp6,tp_dst=546,"
        "cookie=0xf00000000000000,actions=drop\n",
        "table=10,priority=200,icmp6,icmp_type=130,"
        "cookie=0xf00000000000000,actions=drop\n",
        "table=0,priority=200,dl_type=0x8100,"
        "cookie=0xf00000000000000,actions=drop\n",
        "table=0,priority=200,dl_type=0x9200,"
        "cookie=0xf00000000000000,actions=drop\n",
        "table=0,priority=200,dl_dst=01:80:c2:00:00:00/ff:ff:ff:ff:ff:f0,"
        "cookie=0xf00000000000000,actions=drop\n",
        "table=10,priority=200,icmp6,icmp_type=134,icmp_code=0,"
        "cookie=0xf00000000000000,actions=drop\n",
    };
    for (size_t i = 0; i < ARRAY_SIZE(drops); i++) {
        ck_assert_msg(strstr(all, drops[i]), "missing: %s", drops[i]);
    }
    free(all);
    flow_table_destroy(&ft);
}
END_TEST

START_TEST(test_static_port_security_drops)
{
    struct flow_table ft;
    struct ds drops = DS_EMPTY_INITIALIZER;

    flow_table_init(&ft);
    pipeline_add_static(&ft);
    char *all = flows(&ft, NULL);

    /* Every drop of port security that does not depend on a vNIC, sorted:
     * what no VM sends (DHCP and DHCPv6 offers, RA, redirects, MLD and IGMP
     * queries, malformed ND), and first fragments that hide their ICMPv6
     * or L4 header. */
    static const char prefix[] = "table=10,priority=200,";
    static const char suffix[] = ",cookie=0xf00000000000000,actions=drop";
    for (char *line = strtok(all, "\n"); line; line = strtok(NULL, "\n")) {
        size_t len = strlen(line);
        if (!strncmp(line, prefix, strlen(prefix))
            && len > strlen(suffix)
            && !strcmp(line + len - strlen(suffix), suffix)) {
            ds_put_format(&drops, "%.*s\n",
                          (int) (len - strlen(prefix) - strlen(suffix)),
                          line + strlen(prefix));
        }
    }
    ck_assert_str_eq(ds_cstr(&drops),
        "icmp,icmp_type=5\n"
        "icmp6,icmp_type=130\n"
        "icmp6,icmp_type=134,icmp_code=0\n"
        "icmp6,icmp_type=135,icmp_code=0,nd_target=::\n"
        "icmp6,icmp_type=136,icmp_code=0,nd_target=::\n"
        "icmp6,icmp_type=137,icmp_code=0\n"
        "icmp6,nw_frag=first,icmp_type=0,icmp_code=0\n"
        "icmp6,nw_frag=first,icmp_type=131\n"
        "icmp6,nw_frag=first,icmp_type=132\n"
        "icmp6,nw_frag=first,icmp_type=133\n"
        "icmp6,nw_frag=first,icmp_type=134\n"
        "icmp6,nw_frag=first,icmp_type=135\n"
        "icmp6,nw_frag=first,icmp_type=136\n"
        "icmp6,nw_frag=first,icmp_type=137\n"
        "icmp6,nw_frag=first,icmp_type=143\n"
        "ip,nw_proto=2,nw_dst=0.0.0.0/1\n"
        "ip,nw_proto=2,nw_dst=128.0.0.0/2\n"
        "ip,nw_proto=2,nw_dst=192.0.0.0/3\n"
        "ip,nw_proto=2,nw_dst=224.0.0.1\n"
        "ip,nw_proto=2,nw_dst=240.0.0.0/4\n"
        "ipv6,nw_frag=first,nw_proto=59\n"
        "ipv6,nw_proto=0\n"
        "sctp,nw_frag=first,tp_src=0,tp_dst=0\n"
        "sctp6,nw_frag=first,tp_src=0,tp_dst=0\n"
        "tcp,nw_frag=first,tp_src=0,tp_dst=0\n"
        "tcp6,nw_frag=first,tp_src=0,tp_dst=0\n"
        "udp,nw_frag=first,tp_src=0,tp_dst=0\n"
        "udp,tp_dst=68\n"
        "udp6,nw_frag=first,tp_src=0,tp_dst=0\n"
        "udp6,tp_dst=546\n");
    ds_destroy(&drops);
    free(all);
    flow_table_destroy(&ft);
}
END_TEST

START_TEST(test_ct_zones)
{
    struct smap ids1 = SMAP_INITIALIZER(&ids1);
    struct smap ids2 = SMAP_INITIALIZER(&ids2);
    struct smap bad = SMAP_INITIALIZER(&bad);
    struct ct_zones z;

    /* A vNIC gets back the zone its Interface kept, without a flush; a
     * zone already taken, or not a zone, is not taken again. */
    smap_add(&ids1, CT_ZONE_KEY, "2");
    smap_add(&ids2, CT_ZONE_KEY, "2");
    smap_add(&bad, CT_ZONE_KEY, "0");
    ct_zones_init(&z);
    ck_assert_uint_eq(ct_zones_assign(&z, "vm1", &ids1), 2);
    ck_assert(simap_is_empty(&z.flush));
    ck_assert_uint_eq(ct_zones_assign(&z, "vm1", NULL), 2);

    /* New vNICs get the lowest free zones, flushed before their first
     * use: whoever had them may have left connections behind. */
    ck_assert_uint_eq(ct_zones_assign(&z, "vm3", &ids2), 1);
    ck_assert_uint_eq(simap_get(&z.flush, "1"), 1);
    ck_assert_uint_eq(ct_zones_assign(&z, "vm4", &bad), 3);
    ck_assert_uint_eq(ct_zones_get(&z, "vm4"), 3);
    simap_clear(&z.flush);

    /* A released zone is flushed, and cools: not given again until the
     * switch confirmed the put that took its old flows away (put 7 here),
     * then flushed again. */
    ct_zones_release(&z, "vm1");
    ck_assert_uint_eq(simap_get(&z.flush, "2"), 2);
    ck_assert_uint_eq(ct_zones_get(&z, "vm1"), 0);
    ck_assert_uint_eq(ct_zones_assign(&z, "vm5", NULL), 4);
    ct_zones_note_put(&z, 0);
    ct_zones_thaw(&z, 100);
    ck_assert_uint_eq(ct_zones_assign(&z, "vm6", NULL), 5);
    ct_zones_note_put(&z, 7);
    ct_zones_thaw(&z, 6);
    ck_assert_uint_eq(ct_zones_assign(&z, "vm7", NULL), 6);
    simap_clear(&z.flush);
    ct_zones_thaw(&z, 7);
    ck_assert_uint_eq(simap_get(&z.flush, "2"), 2);
    ck_assert_uint_eq(ct_zones_assign(&z, "vm8", NULL), 2);

    ct_zones_destroy(&z);
    smap_destroy(&ids1);
    smap_destroy(&ids2);
    smap_destroy(&bad);
}
END_TEST

static Suite *
pipeline_suite(void)
{
    Suite *s = suite_create("pipeline");
    TCase *tc = tcase_create("pipeline");

    tcase_add_test(tc, test_network_keys_and_cookies);
    tcase_add_test(tc, test_vnic_ipv4);
    tcase_add_test(tc, test_vnic_no_port_security);
    tcase_add_test(tc, test_vnic_ipv6);
    tcase_add_test(tc, test_vnic_allowed_addresses);
    tcase_add_test(tc, test_allowed_mac);
    tcase_add_test(tc, test_network_without_uplink);
    tcase_add_test(tc, test_network_with_uplink);
    tcase_add_test(tc, test_large_flood_goes_through_buckets);
    tcase_add_test(tc, test_one_vnic_changes_one_bucket);
    tcase_add_test(tc, test_vxlan_network_stays_off_the_uplink);
    tcase_add_test(tc, test_overlay_network);
    tcase_add_test(tc, test_static_flows_drop_by_default);
    tcase_add_test(tc, test_static_port_security_drops);
    tcase_add_test(tc, test_ct_zones);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(pipeline_suite());

    srunner_run_all(sr, CK_ENV);
    int n_failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return n_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
