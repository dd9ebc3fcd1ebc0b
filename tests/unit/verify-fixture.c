/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Flow tables from the controller's own compiler (verify-fixture.h). */

#include <config.h>

#include "tests/unit/verify-fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "controller/flow-table.h"
#include "controller/fw-rules.h"
#include "controller/pipeline.h"
#include "flow.h"
#include "openvswitch/dynamic-string.h"
#include "util.h"
#include "verify/verify.h"

/* The firewall class of network 'net'. */
static uint32_t
net_class(size_t net)
{
    return 0x100 + net;
}

/* The key of rule 'i' of network 'net'. */
static uint32_t
rule_key(size_t net, size_t i)
{
    return ((net + 1) << 8) | (i + 1);
}

/* Number of rules per class. */
#define N_RULES 5

/* Fills 'rules' with the benchmark's group's rules for network 'net'. */
static void
make_rules(size_t net, struct fw_rule rules[N_RULES])
{
    static const char *const specs[N_RULES][3] = {
        { "ingress", "tcp", "22" },
        { "ingress", "tcp", "80" },
        { "ingress", "tcp", "443" },
        { "ingress", "icmp", NULL },
        { "egress", "any", NULL },
    };
    for (size_t i = 0; i < N_RULES; i++) {
        char *error = fw_rule_parse(specs[i][0], NULL, specs[i][1],
                                    specs[i][2], NULL, &rules[i]);
        ovs_assert(!error);
        rules[i].key = rule_key(net, i);
        if (i >= 1 && i <= 3) {
            rules[i].remote = FW_REMOTE_GROUP;
        }
    }
}

/* vNIC 'i''s MAC and address ('variant' other than 0 changes the
 * address). */
static void
vnic_addr(size_t i, int variant, struct eth_addr *mac, struct fw_prefix *ip)
{
    char s[64];

    memset(mac, 0, sizeof *mac);
    mac->ea[0] = 2;
    mac->ea[3] = i >> 16;
    mac->ea[4] = i >> 8;
    mac->ea[5] = i;
    snprintf(s, sizeof s, "10.%d.%d.%d", (int) ((i >> 16) + variant * 64),
             (int) (i >> 8) & 0xff, (int) (i & 0xff));
    ovs_assert(fw_prefix_parse(s, ip));
}

/* Adds vNIC 'i''s own flows to 'ft'. */
static void
add_vnic(const struct vfy_fixture *fx, struct flow_table *ft, size_t i,
         int variant)
{
    size_t net = i / fx->per_net;
    struct pl_address addr;
    struct pl_vnic v;
    char iface[32];

    memset(&v, 0, sizeof v);
    snprintf(iface, sizeof iface, "vm%"PRIuSIZE, i);
    v.iface_id = iface;
    v.key = i + 1;
    v.ofport = i + 1;
    v.net_key = pipeline_network_key(POLICY_NET_VLAN, 101 + net);
    vnic_addr(i, variant, &v.mac, &addr.ip);
    addr.mac = v.mac;
    v.addrs = &addr;
    v.n_addrs = 1;
    v.port_security = true;
    v.fw_class = net_class(net);
    pipeline_add_vnic(ft, &v);

    /* Its rule statistics, as controller/firewall.c writes them. */
    for (size_t r = 0; r < N_RULES; r++) {
        uint32_t key = rule_key(net, r);
        uint64_t cookie = (pipeline_cookie(PL_COOKIE_VNIC_RULE, v.key)
                           | (uint64_t) key << 32);
        char *match = xasprintf("reg14=%"PRIu32",reg13=%#"PRIx32, v.key,
                                key);
        char *new_match = xasprintf("ct_state=+trk+new,%s", match);
        flow_table_add(ft, iface, PL_T_RULE_STATS, 200, cookie, new_match,
                       "drop");
        flow_table_add(ft, iface, PL_T_RULE_STATS, 100, cookie, match,
                       "drop");
        free(new_match);
        free(match);
    }
}

/* Returns the flows of 'ft' as text, and destroys it. */
static char *
take_text(struct flow_table *ft)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    ovs_assert(!ft->n_errors);
    flow_table_format(ft, NULL, &s);
    flow_table_destroy(ft);
    return ds_steal_cstr(&s);
}

/* Returns the whole table's flows as text (the caller frees it). */
char *
vfy_fixture_flows(const struct vfy_fixture *fx)
{
    struct flow_table ft;

    flow_table_init(&ft);
    pipeline_add_static(&ft);
    for (size_t net = 0; net < fx->n_nets; net++) {
        int64_t *members = xmalloc(fx->per_net * sizeof *members);
        struct fw_member_addr *addrs = xmalloc(fx->per_net * sizeof *addrs);
        uint32_t key = pipeline_network_key(POLICY_NET_VLAN, 101 + net);

        for (size_t j = 0; j < fx->per_net; j++) {
            size_t i = net * fx->per_net + j;
            struct eth_addr mac;
            add_vnic(fx, &ft, i, 0);
            members[j] = i + 1;
            addrs[j].net_key = key;
            vnic_addr(i, 0, &mac, &addrs[j].prefix);
        }
        struct pl_network n = {
            .key = key, .type = POLICY_NET_VLAN, .segment = 101 + net,
            .members = members, .n_members = fx->per_net,
            .uplink_ofport = VFY_FIXTURE_UPLINK,
        };
        pipeline_add_network(&ft, &n);

        struct fw_rule rules[N_RULES];
        struct fw_conj conjs[N_RULES];
        char owner[32];
        make_rules(net, rules);
        snprintf(owner, sizeof owner, "fw:%"PRIuSIZE, net);
        fw_compile_class(&ft, owner, net_class(net), rules, N_RULES, conjs);
        for (size_t r = 0; r < N_RULES; r++) {
            if (conjs[r].id) {
                fw_add_member_flows(&ft, owner, net_class(net), &conjs[r],
                                    addrs, fx->per_net);
            }
            fw_rule_destroy(&rules[r]);
        }
        free(members);
        free(addrs);
    }
    return take_text(&ft);
}

/* Returns the own flows of vNIC 'vnic' as text; 'variant' 0 is what
 * vfy_fixture_flows() gives it, others change its address. */
char *
vfy_fixture_vnic_flows(const struct vfy_fixture *fx, size_t vnic,
                       int variant)
{
    struct flow_table ft;

    flow_table_init(&ft);
    add_vnic(fx, &ft, vnic, variant);
    return take_text(&ft);
}

/* Fills 'map' with the fixture's vNICs and uplink. */
void
vfy_fixture_portmap(const struct vfy_fixture *fx, struct vfy_portmap *map)
{
    for (size_t net = 0; net < fx->n_nets; net++) {
        char network[32];
        snprintf(network, sizeof network, "t%"PRIuSIZE"/net", net);
        for (size_t j = 0; j < fx->per_net; j++) {
            size_t i = net * fx->per_net + j;
            char name[32];
            snprintf(name, sizeof name, "vm%"PRIuSIZE, i);
            vfy_portmap_add_vnic(map, u16_to_ofp(i + 1), network, name);
        }
        vfy_portmap_add_vlan(map, 101 + net, network);
    }
    vfy_portmap_set_uplink(map, u16_to_ofp(VFY_FIXTURE_UPLINK));
}
