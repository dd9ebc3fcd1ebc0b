/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef FW_RULES_H
#define FW_RULES_H 1

/* The firewall's rule compiler: typed rules in, flows of table RULES out.
 *
 * A "class" is the set of security groups of one or more local vNICs: every
 * vNIC with the same groups shares one class and so one copy of the rules'
 * flows.  The firewall tables (pipeline.h) put, before they look the rules
 * up, the class of the vNIC being protected in reg12 and the direction of
 * the rules to apply in reg11 (1 egress, 2 ingress), and every rule flow
 * matches the connection's original direction (ct_nw_src, ct_tp_dst...),
 * never the packet's own fields: so one rule flow decides both directions
 * of a connection and every packet of it, established ones included, which
 * is what makes revocation immediate.  An allowing flow writes the rule's
 * key in reg13.
 *
 * Port ranges become bitwise matches on ct_tp_dst (at most 2 x 16 per
 * range).  A rule whose remote is a group becomes a conjunctive match:
 * dimension 1 is the group's member addresses, each on its member's
 * network (metadata), dimension 2 the rule's class, direction, protocol
 * and ports; the address flows are shared by every class and rule that
 * name the group at one priority (the flow table merges their
 * conjunction() actions).  A member's address flows are added apart
 * (fw_add_member_flows()), under an owner of their own, so that a member
 * joins or leaves with O(1) flow changes and nothing else is recompiled.
 * A group with no member address matches nothing: its conjunction lacks
 * dimension 1.  Conjunctive matches that could both match one packet must have
 * different priorities (ovs-fields(7)), so a class's group rules are
 * spread over as few priority levels as keep overlapping ones apart. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include "policies/policy.h"

struct flow_table;

/* An IPv4 or IPv6 prefix. */
struct fw_prefix {
    int family;                 /* AF_INET or AF_INET6. */
    struct in6_addr addr;       /* The address (IPv4: mapped). */
    unsigned int plen;          /* Prefix length, in the family's bits. */
};

/* A range of ports, inclusive. */
struct fw_port_range {
    uint16_t lo;                /* First port. */
    uint16_t hi;                /* Last port. */
};

/* What a rule's remote is. */
enum fw_remote {
    FW_REMOTE_ANY,              /* Any address. */
    FW_REMOTE_PREFIX,           /* One prefix. */
    FW_REMOTE_GROUP,            /* The addresses of a group's members. */
};

/* One address (or prefix) of a member of a remote group. */
struct fw_member_addr {
    uint32_t net_key;           /* The member's network (metadata). */
    struct fw_prefix prefix;    /* Its address or allowed prefix. */
};

/* A rule, parsed. */
struct fw_rule {
    uint32_t key;               /* Its key (24 bits, non-zero): cookie
                                 * bits 55-32, ct_mark of what it allows. */
    enum policy_direction direction;  /* Ingress or egress. */
    int family;                 /* AF_INET, AF_INET6, or 0 for both. */
    int proto;                  /* IP protocol, or -1 for any. */
    struct fw_port_range *ports;  /* Destination port ranges, sorted and
                                   * merged; none: every port. */
    size_t n_ports;             /* Number of 'ports'. */
    enum fw_remote remote;      /* Kind of remote. */
    struct fw_prefix prefix;    /* The remote, if FW_REMOTE_PREFIX. */
};

/* The conjunction that the members of a group rule's remote group join
 * (dimension 1), as fw_compile_class() placed it. */
struct fw_conj {
    uint32_t id;                /* Conjunction id, 0: none (no group rule,
                                 * or one not placed: see
                                 * fw_compile_class()). */
    uint16_t priority;          /* Its priority in table RULES. */
    enum policy_direction direction;  /* The rule's direction. */
    int family;                 /* The rule's family, or 0 for both. */
};

/* Evaluation directions (reg11). */
#define FW_DIR_EGRESS 1
#define FW_DIR_INGRESS 2
#define FW_OTHER_DIR(DIR) (3 - (DIR))

/* Most group rules per class (conjunction ids are class << 12 | index). */
#define FW_MAX_CLASS_RULES 4095

char *fw_rule_parse(const char *direction, const char *ethertype,
                    const char *protocol, const char *ports,
                    const char *remote_cidr, struct fw_rule *);
void fw_rule_destroy(struct fw_rule *);
bool fw_prefix_parse(const char *, struct fw_prefix *);
bool fw_prefix_contains(const struct fw_prefix *, const struct fw_prefix *);
void fw_prefix_format(const struct fw_prefix *, char *buf, size_t size);
size_t fw_port_masks(uint16_t lo, uint16_t hi, uint16_t *values,
                     uint16_t *masks);

uint64_t fw_rule_cookie(uint32_t rule_key, uint32_t class_id);
size_t fw_compile_class(struct flow_table *, const char *owner,
                        uint32_t class_id, const struct fw_rule *,
                        size_t n_rules, struct fw_conj *conjs);
void fw_add_member_flows(struct flow_table *, const char *owner,
                         uint32_t class_id, const struct fw_conj *,
                         const struct fw_member_addr *, size_t n);
size_t fw_aggregate_addrs(const struct fw_member_addr *, size_t n,
                          struct fw_member_addr **out);

#endif /* fw-rules.h */
