/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#include <config.h>
#include "controller/fw-rules.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "controller/flow-table.h"
#include "controller/pipeline.h"
#include "openvswitch/dynamic-string.h"
#include "packets.h"
#include "sset.h"
#include "util.h"

/* Priorities in table RULES: rules with an address or no remote above the
 * levels of group rules (a hard match wins over conjunctions of its
 * priority or below, and any allow is an allow). */
#define FW_PRIO_PLAIN 2000
#define FW_PRIO_GROUP_TOP 1000

/* Parses 's', an IPv4 or IPv6 address or prefix, into 'p'.  Returns false
 * if it is neither. */
bool
fw_prefix_parse(const char *s, struct fw_prefix *p)
{
    ovs_be32 ip;
    unsigned int plen;
    char *error;

    memset(p, 0, sizeof *p);
    error = ip_parse_cidr(s, &ip, &plen);
    if (!error) {
        p->family = AF_INET;
        in6_addr_set_mapped_ipv4(&p->addr, ip & be32_prefix_mask(plen));
        p->plen = plen;
        return true;
    }
    free(error);
    error = ipv6_parse_cidr(s, &p->addr, &plen);
    if (!error) {
        struct in6_addr mask = ipv6_create_mask(plen);
        p->family = AF_INET6;
        p->addr = ipv6_addr_bitand(&p->addr, &mask);
        p->plen = plen;
        return true;
    }
    free(error);
    return false;
}

/* Returns true if prefix 'p' holds address 'a' (of any length). */
bool
fw_prefix_contains(const struct fw_prefix *p, const struct fw_prefix *a)
{
    if (p->family != a->family) {
        return false;
    }
    struct in6_addr mask = ipv6_create_mask(p->plen
                                           + (p->family == AF_INET ? 96 : 0));
    struct in6_addr masked = ipv6_addr_bitand(&a->addr, &mask);
    return ipv6_addr_equals(&masked, &p->addr);
}

/* Formats 'p' as "ADDR/PLEN" into 'buf' of 'size' bytes. */
void
fw_prefix_format(const struct fw_prefix *p, char *buf, size_t size)
{
    char addr[INET6_ADDRSTRLEN];

    if (p->family == AF_INET) {
        ovs_be32 ip = in6_addr_get_mapped_ipv4(&p->addr);
        inet_ntop(AF_INET, &ip, addr, sizeof addr);
    } else {
        inet_ntop(AF_INET6, &p->addr, addr, sizeof addr);
    }
    snprintf(buf, size, "%s/%u", addr, p->plen);
}

/* An IPv6 address (IPv4: mapped) as a 128-bit number, for aggregating
 * prefixes. */
struct addr128 {
    uint64_t hi;                /* Bits 127-64. */
    uint64_t lo;                /* Bits 63-0. */
};

/* Returns 'a' as a number. */
static struct addr128
addr128_from_in6(const struct in6_addr *a)
{
    struct addr128 x = { 0, 0 };
    for (int i = 0; i < 8; i++) {
        x.hi = (x.hi << 8) | a->s6_addr[i];
        x.lo = (x.lo << 8) | a->s6_addr[i + 8];
    }
    return x;
}

/* Returns 'x' as an address. */
static struct in6_addr
addr128_to_in6(struct addr128 x)
{
    struct in6_addr a;
    for (int i = 7; i >= 0; i--) {
        a.s6_addr[i] = x.hi & 0xff;
        a.s6_addr[i + 8] = x.lo & 0xff;
        x.hi >>= 8;
        x.lo >>= 8;
    }
    return a;
}

/* Returns <0, 0 or >0 as 'a' is below, equal to or above 'b'. */
static int
addr128_cmp(struct addr128 a, struct addr128 b)
{
    return (a.hi != b.hi ? (a.hi < b.hi ? -1 : 1)
            : a.lo != b.lo ? (a.lo < b.lo ? -1 : 1) : 0);
}

/* Returns 'x' plus one (0 past the last address). */
static struct addr128
addr128_inc(struct addr128 x)
{
    x.lo++;
    x.hi += !x.lo;
    return x;
}

/* Returns the number of low bits of 'x' that are 0 (128 if all). */
static int
addr128_ctz(struct addr128 x)
{
    return x.lo ? ctz64(x.lo) : x.hi ? 64 + ctz64(x.hi) : 128;
}

/* Returns 'x' with its 'n' low bits (0 to 128) set to 'one'. */
static struct addr128
addr128_fill_low(struct addr128 x, int n, bool one)
{
    uint64_t lo = n >= 64 ? UINT64_MAX : (UINT64_C(1) << n) - 1;
    uint64_t hi = (n <= 64 ? 0
                   : n >= 128 ? UINT64_MAX : (UINT64_C(1) << (n - 64)) - 1);
    x.lo = one ? x.lo | lo : x.lo & ~lo;
    x.hi = one ? x.hi | hi : x.hi & ~hi;
    return x;
}

/* Returns the largest k such that a block of 2**k addresses that starts at
 * 'lo' ends at 'hi' or before it ('lo' <= 'hi'). */
static int
addr128_span_log2(struct addr128 lo, struct addr128 hi)
{
    /* n = hi - lo, the block's size less one. */
    struct addr128 n = { hi.hi - lo.hi - (hi.lo < lo.lo), hi.lo - lo.lo };
    if (n.hi == UINT64_MAX && n.lo == UINT64_MAX) {
        return 128;
    }
    /* floor(log2(n + 1)). */
    n = addr128_inc(n);
    return n.hi ? 64 + log_2_floor(n.hi) : log_2_floor(n.lo);
}

/* Compares two addresses of members by network, family, first address and
 * then largest prefix first, for qsort(). */
static int
compare_member_addrs(const void *a_, const void *b_)
{
    const struct fw_member_addr *a = a_, *b = b_;

    if (a->net_key != b->net_key) {
        return a->net_key < b->net_key ? -1 : 1;
    }
    if (a->prefix.family != b->prefix.family) {
        return a->prefix.family < b->prefix.family ? -1 : 1;
    }
    int cmp = memcmp(&a->prefix.addr, &b->prefix.addr,
                     sizeof a->prefix.addr);
    return (cmp ? cmp
            : a->prefix.plen != b->prefix.plen
            ? (a->prefix.plen < b->prefix.plen ? -1 : 1) : 0);
}

/* Appends to '*out' (holding '*n', room for '*allocated') the fewest
 * prefixes that hold exactly the addresses from 'lo' to 'hi' of network
 * 'net_key' and 'family'. */
static void
put_range_prefixes(uint32_t net_key, int family, struct addr128 lo,
                   struct addr128 hi, struct fw_member_addr **out, size_t *n,
                   size_t *allocated)
{
    int base = family == AF_INET ? 96 : 0;   /* An IPv4 prefix's bits. */

    for (;;) {
        int k = MIN(addr128_ctz(lo), addr128_span_log2(lo, hi));
        if (*n >= *allocated) {
            *out = x2nrealloc(*out, allocated, sizeof **out);
        }
        struct fw_member_addr *a = &(*out)[(*n)++];
        memset(a, 0, sizeof *a);
        a->net_key = net_key;
        a->prefix.family = family;
        a->prefix.addr = addr128_to_in6(lo);
        a->prefix.plen = 128 - k - base;

        struct addr128 end = addr128_fill_low(lo, k, true);
        if (addr128_cmp(end, hi) >= 0) {
            return;
        }
        lo = addr128_inc(end);
    }
}

/* Returns in '*out' (which the caller frees) the fewest prefixes that hold
 * exactly the addresses that the 'n' prefixes 'addrs' hold, network by
 * network and family by family, sorted, and their number (at most 'n':
 * the fewest aligned blocks that make up a range is never more than any
 * other way to make it up of them).
 * A security group's members sit mostly in a few subnets, handed out in
 * order by whatever allocates their addresses: a hundred members of one
 * /24 in a row become a handful of prefixes, each one flow. */
size_t
fw_aggregate_addrs(const struct fw_member_addr *addrs, size_t n,
                   struct fw_member_addr **out)
{
    struct fw_member_addr *sorted = xmalloc(MAX(n, 1) * sizeof *sorted);
    size_t n_out = 0, allocated = MAX(n, 1);

    *out = xmalloc(allocated * sizeof **out);
    if (n) {
        memcpy(sorted, addrs, n * sizeof *sorted);
    }
    qsort(sorted, n, sizeof *sorted, compare_member_addrs);
    for (size_t i = 0; i < n; ) {
        const struct fw_member_addr *first = &sorted[i];
        int base = first->prefix.family == AF_INET ? 96 : 0;
        struct addr128 lo = addr128_from_in6(&first->prefix.addr);
        struct addr128 hi = addr128_fill_low(lo, 128 - base
                                             - first->prefix.plen, true);
        lo = addr128_fill_low(lo, 128 - base - first->prefix.plen, false);

        /* Every following prefix that overlaps the range or continues it
         * joins it. */
        for (i++; i < n; i++) {
            const struct fw_member_addr *next = &sorted[i];
            if (next->net_key != first->net_key
                || next->prefix.family != first->prefix.family) {
                break;
            }
            struct addr128 nlo = addr128_from_in6(&next->prefix.addr);
            int host_bits = 128 - base - next->prefix.plen;
            struct addr128 nhi = addr128_fill_low(nlo, host_bits, true);
            nlo = addr128_fill_low(nlo, host_bits, false);

            /* The address after the range, unless 'hi' is the last. */
            struct addr128 after = addr128_inc(hi);
            bool last = hi.hi == UINT64_MAX && hi.lo == UINT64_MAX;
            if (!last && addr128_cmp(nlo, after) > 0) {
                break;
            }
            if (addr128_cmp(nhi, hi) > 0) {
                hi = nhi;
            }
        }
        put_range_prefixes(first->net_key, first->prefix.family, lo, hi,
                           out, &n_out, &allocated);
    }
    free(sorted);
    return n_out;
}

/* Compares two port ranges by their first port, for qsort(). */
static int
compare_ranges(const void *a_, const void *b_)
{
    const struct fw_port_range *a = a_, *b = b_;

    return a->lo < b->lo ? -1 : a->lo > b->lo;
}

/* Parses 'ports' ("22", "80,443", "8000-8080" and lists of them) into
 * 'rule''s ranges, sorted and merged.  Returns an explanation (which the
 * caller frees) or NULL. */
static char *
parse_ports(const char *ports, struct fw_rule *rule)
{
    const char *p = ports;
    size_t allocated = 0;

    for (;;) {
        char *end;
        long lo, hi;

        errno = 0;
        lo = hi = strtol(p, &end, 10);
        if (end == p || *p == '-' || *p == '+') {
            return xasprintf("ports \"%s\" is not a list of ports and "
                             "ranges", ports);
        }
        if (*end == '-') {
            p = end + 1;
            hi = strtol(p, &end, 10);
            if (end == p || *p == '-' || *p == '+') {
                return xasprintf("ports \"%s\" is not a list of ports and "
                                 "ranges", ports);
            }
        }
        if (errno || lo < 1 || hi > 65535 || lo > hi) {
            return xasprintf("ports \"%s\" holds a port outside 1-65535 or "
                             "a reversed range", ports);
        }
        if (rule->n_ports >= POLICY_RULE_PORTS_MAX) {
            return xasprintf("ports \"%.40s...\" lists more than %d ports "
                             "and ranges", ports, POLICY_RULE_PORTS_MAX);
        }
        if (rule->n_ports >= allocated) {
            rule->ports = x2nrealloc(rule->ports, &allocated,
                                     sizeof *rule->ports);
        }
        rule->ports[rule->n_ports++] = (struct fw_port_range) { lo, hi };
        if (!*end) {
            break;
        } else if (*end != ',') {
            return xasprintf("ports \"%s\" is not a list of ports and "
                             "ranges", ports);
        }
        p = end + 1;
    }

    /* Sorted, overlapping and adjacent ranges merged. */
    qsort(rule->ports, rule->n_ports, sizeof *rule->ports, compare_ranges);
    size_t n = 0;
    for (size_t i = 0; i < rule->n_ports; i++) {
        struct fw_port_range *r = &rule->ports[i];
        if (n && r->lo <= (uint32_t) rule->ports[n - 1].hi + 1) {
            rule->ports[n - 1].hi = MAX(rule->ports[n - 1].hi, r->hi);
        } else {
            rule->ports[n++] = *r;
        }
    }
    rule->n_ports = n;
    return NULL;
}

/* Parses a Rule row's columns into 'rule' (zeroed first; its 'key' and,
 * for a group remote, its 'remote' are the caller's to set).  'remote_cidr' is
 * NULL for "any" or a group.  Returns NULL, or an explanation that the
 * caller frees: the controller trusts no row, and a rule it cannot parse
 * allows nothing. */
char *
fw_rule_parse(const char *direction, const char *ethertype,
              const char *protocol, const char *ports,
              const char *remote_cidr, struct fw_rule *rule)
{
    memset(rule, 0, sizeof *rule);
    rule->proto = -1;

    if (!policy_direction_from_string(direction, &rule->direction)) {
        return xasprintf("direction \"%s\" is not ingress or egress",
                         direction);
    }
    if (ethertype) {
        if (!strcmp(ethertype, "ipv4")) {
            rule->family = AF_INET;
        } else if (!strcmp(ethertype, "ipv6")) {
            rule->family = AF_INET6;
        } else {
            return xasprintf("ethertype \"%s\" is not ipv4 or ipv6",
                             ethertype);
        }
    }

    int need = 0;
    if (!strcmp(protocol, "any")) {
        rule->proto = -1;
    } else if (!strcmp(protocol, "tcp")) {
        rule->proto = IPPROTO_TCP;
    } else if (!strcmp(protocol, "udp")) {
        rule->proto = IPPROTO_UDP;
    } else if (!strcmp(protocol, "icmp")) {
        rule->proto = IPPROTO_ICMP;
        need = AF_INET;
    } else if (!strcmp(protocol, "icmpv6")) {
        rule->proto = IPPROTO_ICMPV6;
        need = AF_INET6;
    } else if (protocol[0] && strlen(protocol) <= 3
               && strspn(protocol, "0123456789") == strlen(protocol)
               && atoi(protocol) <= 255) {
        rule->proto = atoi(protocol);
    } else {
        return xasprintf("protocol \"%s\" is not any, tcp, udp, icmp, "
                         "icmpv6 or 0-255", protocol);
    }
    if (need) {
        if (rule->family && rule->family != need) {
            return xasprintf("protocol \"%s\" does not go with ethertype "
                             "\"%s\"", protocol, ethertype);
        }
        rule->family = need;
    }

    if (ports) {
        if (rule->proto != IPPROTO_TCP && rule->proto != IPPROTO_UDP) {
            return xasprintf("ports given for protocol \"%s\", which has "
                             "none", protocol);
        }
        char *error = parse_ports(ports, rule);
        if (error) {
            return error;
        }
    }

    if (remote_cidr && strcmp(remote_cidr, "any")) {
        if (!fw_prefix_parse(remote_cidr, &rule->prefix)) {
            return xasprintf("remote \"%s\" is not a CIDR", remote_cidr);
        }
        if (rule->family && rule->family != rule->prefix.family) {
            return xasprintf("remote \"%s\" is not of the rule's family",
                             remote_cidr);
        }
        rule->family = rule->prefix.family;
        rule->remote = FW_REMOTE_PREFIX;
    }
    return NULL;
}

/* Frees what 'rule' holds. */
void
fw_rule_destroy(struct fw_rule *rule)
{
    free(rule->ports);
    rule->ports = NULL;
    rule->n_ports = 0;
}

/* Covers the ports 'lo' to 'hi' with bitwise matches: stores them in
 * 'values' and 'masks' (32 entries at most each) and returns how many. */
size_t
fw_port_masks(uint16_t lo, uint16_t hi, uint16_t *values, uint16_t *masks)
{
    uint32_t port = lo;
    size_t n = 0;

    while (port <= hi) {
        /* The largest aligned block that starts at 'port' and ends by
         * 'hi'. */
        uint32_t size = port ? port & -port : 0x10000;
        while (port + size - 1 > hi) {
            size >>= 1;
        }
        values[n] = port;
        masks[n] = ~(size - 1) & 0xffff;
        n++;
        port += size;
    }
    return n;
}

/* Returns the cookie of the flows of the rule 'rule_key' in class
 * 'class_id' (0 for flows shared by a class's rules). */
uint64_t
fw_rule_cookie(uint32_t rule_key, uint32_t class_id)
{
    return (pipeline_cookie(PL_COOKIE_RULE, class_id)
            | ((uint64_t) (rule_key & 0xffffff) << 32));
}

/* Returns true if one packet could match both group rules 'a' and 'b'. */
static bool
rules_overlap(const struct fw_rule *a, const struct fw_rule *b)
{
    if (a->direction != b->direction
        || (a->family && b->family && a->family != b->family)
        || (a->proto >= 0 && b->proto >= 0 && a->proto != b->proto)) {
        return false;
    }
    if (a->n_ports && b->n_ports) {
        for (size_t i = 0; i < a->n_ports; i++) {
            for (size_t j = 0; j < b->n_ports; j++) {
                if (a->ports[i].lo <= b->ports[j].hi
                    && b->ports[j].lo <= a->ports[i].hi) {
                    return true;
                }
            }
        }
        return false;
    }
    return true;
}

/* Appends to 'match' the match on the original direction's remote address
 * 'p' of a rule in 'direction'. */
static void
put_remote(struct ds *match, enum policy_direction direction,
           const struct fw_prefix *p)
{
    char s[INET6_ADDRSTRLEN + 8];
    bool v4 = p->family == AF_INET;

    fw_prefix_format(p, s, sizeof s);
    /* Ingress: the remote opened the connection, it is the source. */
    ds_put_format(match, ",%s,ct_%s_%s=%s", v4 ? "ip" : "ipv6",
                  v4 ? "nw" : "ipv6",
                  direction == POLICY_INGRESS ? "src" : "dst", s);
}

/* Adds the flows of 'rule' (number 'index' in its class) at 'priority':
 * one per port match, each with 'actions'.
 *
 * And, if it has ports, one for its later fragments (nw_frag=later)
 * without them: OVS fills a packet's ct_tp_src and ct_tp_dst only from its
 * L4 header (lib/flow.c), which a later fragment lacks.  These let nothing
 * through alone: conntrack passes a fragment on only once its whole
 * datagram came (ipf.c; the kernel's ct() passes the datagram whole), and
 * its first fragment, ports included, meets the rules on each side; a
 * later fragment without it is held at the next ct() or dropped by the
 * receiver.  Rules that differ only in their ports share that flow: group
 * rules' conjunctions are merged by the flow table, and of plain rules
 * the first one's stands.
 *
 * Of plain rules of the class with one match (a rule that two of a port's
 * groups both have, or a later fragment's flow), likewise, the first
 * rule's flow stands and is counted: 'plain_matches' holds the plain
 * rules' matches added so far. */
static void
add_rule_flows(struct flow_table *ft, const char *owner, uint32_t class_id,
               const struct fw_rule *rule, uint16_t priority,
               const char *actions, struct sset *plain_matches)
{
    uint64_t cookie = fw_rule_cookie(rule->key, class_id);
    struct ds match = DS_EMPTY_INITIALIZER;

    ds_put_format(&match, "ct_state=+trk-inv,reg11=%d,reg12=%#"PRIx32,
                  rule->direction == POLICY_EGRESS ? FW_DIR_EGRESS
                  : FW_DIR_INGRESS, class_id);
    if (rule->remote == FW_REMOTE_PREFIX) {
        put_remote(&match, rule->direction, &rule->prefix);
    } else if (rule->family) {
        ds_put_cstr(&match, rule->family == AF_INET ? ",ip" : ",ipv6");
    }
    if (rule->proto >= 0) {
        ds_put_format(&match, ",ct_nw_proto=%d", rule->proto);
    }
    bool conj = !strncmp(actions, "conjunction(", 12);
    if (!rule->n_ports
        && (conj || sset_add(plain_matches, ds_cstr(&match)))) {
        flow_table_add(ft, owner, PL_T_RULES, priority, cookie,
                       ds_cstr(&match), actions);
    }
    size_t base = match.length;
    if (rule->n_ports) {
        static const char *const families[] = { ",ip", ",ipv6" };
        for (size_t i = 0; i < ARRAY_SIZE(families); i++) {
            ds_truncate(&match, base);
            if (!rule->family || !i) {
                ds_put_format(&match, "%s,nw_frag=later",
                              rule->family ? "" : families[i]);
                if (conj || sset_add(plain_matches, ds_cstr(&match))) {
                    flow_table_add(ft, owner, PL_T_RULES, priority, cookie,
                                   ds_cstr(&match), actions);
                }
            }
        }
    }
    for (size_t i = 0; i < rule->n_ports; i++) {
        uint16_t values[32], masks[32];
        size_t n = fw_port_masks(rule->ports[i].lo, rule->ports[i].hi,
                                 values, masks);
        for (size_t j = 0; j < n; j++) {
            ds_truncate(&match, base);
            if (masks[j] == 0xffff) {
                ds_put_format(&match, ",ct_tp_dst=%"PRIu16, values[j]);
            } else {
                ds_put_format(&match, ",ct_tp_dst=%#"PRIx16"/%#"PRIx16,
                              values[j], masks[j]);
            }
            if (conj || sset_add(plain_matches, ds_cstr(&match))) {
                flow_table_add(ft, owner, PL_T_RULES, priority, cookie,
                               ds_cstr(&match), actions);
            }
        }
    }
    ds_destroy(&match);
}

/* Adds the flows of a group rule but its members' addresses: the rest of
 * its match (dimension 2 of the conjunction 'conj->id', at
 * 'conj->priority') and the flow that the conjunction leads to. */
static void
add_group_rule(struct flow_table *ft, const char *owner, uint32_t class_id,
               const struct fw_rule *rule, const struct fw_conj *conj,
               struct sset *plain_matches)
{
    char *actions = xasprintf("conjunction(%"PRIu32",2/2)", conj->id);
    add_rule_flows(ft, owner, class_id, rule, conj->priority, actions,
                   plain_matches);
    free(actions);

    char *match = xasprintf("conj_id=%"PRIu32, conj->id);
    actions = xasprintf("set_field:%#"PRIx32"->reg13", rule->key);
    flow_table_add(ft, owner, PL_T_RULES, conj->priority,
                   fw_rule_cookie(rule->key, class_id), match, actions);
    free(actions);
    free(match);
}

/* Adds to 'ft', owned by 'owner', the flows of one member of the remote
 * group of a rule of class 'class_id': its 'n' addresses 'addrs' (those of
 * the rule's family), dimension 1 of the rule's conjunction 'conj'.  A
 * member's flows are its own: it joins or leaves a group with O(1) flow
 * changes, and a group without members matches nothing (a conjunction
 * with no flow in one dimension never matches). */
void
fw_add_member_flows(struct flow_table *ft, const char *owner,
                    uint32_t class_id, const struct fw_conj *conj,
                    const struct fw_member_addr *addrs, size_t n)
{
    uint64_t cookie = fw_rule_cookie(0, class_id);
    char *actions = xasprintf("conjunction(%"PRIu32",1/2)", conj->id);
    struct ds match = DS_EMPTY_INITIALIZER;

    for (size_t i = 0; i < n; i++) {
        const struct fw_member_addr *m = &addrs[i];
        if (conj->family && m->prefix.family != conj->family) {
            continue;
        }
        ds_clear(&match);
        ds_put_format(&match, "ct_state=+trk-inv,metadata=%#"PRIx32,
                      m->net_key);
        put_remote(&match, conj->direction, &m->prefix);
        flow_table_add(ft, owner, PL_T_RULES, conj->priority, cookie,
                       ds_cstr(&match), actions);
    }
    ds_destroy(&match);
    free(actions);
}

/* Adds to 'ft', owned by 'owner', the flows of table RULES for the class
 * 'class_id' (20 bits, non-zero) whose rules are the 'n_rules' of 'rules',
 * in order, but for the addresses of their remote groups' members: stores
 * in 'conjs[i]' the conjunction that rule i's members join (id 0 if it is
 * no group rule), for fw_add_member_flows().
 *
 * Group rules that may match the same packet need distinct priorities
 * (levels below FW_PRIO_GROUP_TOP, down to 1, above the table's drop): a
 * group rule that finds no free level, or past FW_MAX_CLASS_RULES, is not
 * placed and allows nothing (id 0).  Returns how many were not. */
size_t
fw_compile_class(struct flow_table *ft, const char *owner, uint32_t class_id,
                 const struct fw_rule *rules, size_t n_rules,
                 struct fw_conj *conjs)
{
    /* The level of each group rule placed so far, or -1. */
    int *levels = xmalloc(MAX(n_rules, 1) * sizeof *levels);
    size_t n_unplaced = 0;
    struct sset plain_matches = SSET_INITIALIZER(&plain_matches);

    for (size_t i = 0; i < n_rules; i++) {
        const struct fw_rule *r = &rules[i];
        levels[i] = -1;
        memset(&conjs[i], 0, sizeof conjs[i]);

        if (r->remote != FW_REMOTE_GROUP) {
            char *actions = xasprintf("set_field:%#"PRIx32"->reg13", r->key);
            add_rule_flows(ft, owner, class_id, r, FW_PRIO_PLAIN, actions,
                           &plain_matches);
            free(actions);
            continue;
        }
        if (i >= FW_MAX_CLASS_RULES) {
            n_unplaced++;
            continue;
        }
        /* The lowest level at which no group rule that could match the
         * same packet is. */
        int level = 0;
        for (;;) {
            bool clash = false;
            for (size_t j = 0; j < i && !clash; j++) {
                clash = levels[j] == level && rules_overlap(&rules[j], r);
            }
            if (!clash) {
                break;
            }
            level++;
        }
        if (level >= FW_PRIO_GROUP_TOP) {
            n_unplaced++;
            continue;
        }
        levels[i] = level;
        conjs[i].id = (class_id << 12) | (uint32_t) (i + 1);
        conjs[i].priority = FW_PRIO_GROUP_TOP - level;
        conjs[i].direction = r->direction;
        conjs[i].family = r->family;
        add_group_rule(ft, owner, class_id, r, &conjs[i], &plain_matches);
    }
    sset_destroy(&plain_matches);
    free(levels);
    return n_unplaced;
}
