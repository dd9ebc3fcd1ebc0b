/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef PIPELINE_H
#define PIPELINE_H 1

/* The OpenFlow pipeline of br-int.
 *
 * This module turns what the controller knows (vNICs bound on this host,
 * the networks they are on, the uplink) into OpenFlow flows, as text, in a
 * flow_table (flow-table.h).  It is a pure function of its inputs: no
 * database, no switch, so it is unit-tested on its own and incremental
 * processing can recompute any one vNIC or network at will.
 *
 * Tables (Documentation/pipeline.md has the whole story):
 *
 *    0  CLASSIFY        uplink + VLAN tag -> strip the tag, network; any
 *                       other tagged frame dropped (no double tagging);
 *                       the rest goes on to port security.
 *   10  PORT_SECURITY   in_port, source MAC, IPv4/IPv6 source, ARP sha/spa,
 *                       ND sll/tll/target checked against the vNIC's
 *                       addresses, and the frame joins the vNIC's network
 *                       with the vNIC as input port; DHCP client allowed;
 *                       DHCP/DHCPv6 server replies, router advertisements,
 *                       MLD queries and IGMP general queries from a VM
 *                       dropped, and so are first fragments that hide an
 *                       L4 or ICMPv6 header and fragmented neighbor
 *                       discovery and MLD (the switch's fragment handling
 *                       is "nx-match", see ofctrl.c); everything else,
 *                       frames of unbound ports included, dropped.
 *   18  ZONE_CHECK      every ct() of the firewall comes back here: what
 *                       conntrack saw in another zone than the one in
 *                       reg15 is dropped (see add_zone_check()).
 *   19  CT_RETURN       back to the step of the firewall after the ct().
 *   20  EGRESS_FW       the vNIC's egress firewall (20-22, conntrack in
 *                       its zone, rules in table 60).
 *   25  BROADCAST_LIMIT a vNIC's broadcast and multicast go through its
 *                       meter (meter id = its port key).
 *   30  L2_LOOKUP       (network, destination MAC) -> output ofport;
 *                       broadcast and multicast flooded to the network's
 *                       local vNICs and its uplink; unknown unicast to the
 *                       uplink only; nothing crosses networks.
 *   35  FLOOD           a large network's flood buckets (reg5 = bucket
 *                       + 1): a copy per vNIC of the bucket.
 *   36  TUNNEL_FLOOD    a VXLAN network's broadcast and multicast, one copy
 *                       per other chassis that hosts vNICs of it; never
 *                       for frames that came from a tunnel.
 *   40  INGRESS_PORT    the uplink's copies, to 50 (a copy to a vNIC
 *                       loads its zone and goes to 41; its zone check in
 *                       18 loads its class); its ingress firewall in
 *                       41-43.
 *   50  OUTPUT          output to the ofport in reg7; to the uplink, with
 *                       the network's VLAN tag pushed first.
 *   51  TUNNEL_OUT      into the VXLAN port (tun_id and tun_dst set
 *                       before); never for frames that came from a
 *                       tunnel (no chassis relays another's frames).
 *   62  MIRROR_EGRESS   looked up for what a vNIC sends, at its egress
 *                       verdict (or its port security flow without a
 *                       firewall): the mirrors' copies (mirror.h).
 *   63  MIRROR_INGRESS  the same for what a vNIC receives, at its ingress
 *                       verdict (or table OUTPUT without a firewall).
 *
 * Registers: metadata = network key, reg5 = flood bucket + 1, reg6 =
 * input port key (a vNIC's zone, PL_UPLINK_KEY or PL_TUNNEL_KEY), reg7 =
 * output ofport; the firewall's: reg8 the receiver's zone, reg9 and reg10
 * the sender's and receiver's classes, reg11 the rules' direction, reg12
 * the class looked up, reg13 the allowing rule's key, reg14 the port key
 * that table RULE_STATS counts the rule's packets under, reg15 the zone
 * and step of a ct() (enum pipeline_ct_step).  A network's key is
 * its segment, with bit 24 set for VXLAN (segments are unique per type, so
 * keys are unique, and the same on every host and across restarts).  A
 * vNIC's port key is its conntrack zone (ct-zone.h), unique on the host and
 * kept across restarts.
 *
 * Cookies say what a flow serves, so that statistics and diagnostics can
 * map a flow back to policy:
 *
 *    bits 63-56  kind: 1 vNIC, 2 network, 3 firewall rule, 5 a rule's
 *                statistics at one vNIC, 6 a mirror, 15 the pipeline
 *    bits 55-32  kinds 3 and 5: the rule's key (0: shared by a class's
 *                rules); zero otherwise
 *    bits 31-0   the vNIC's port key (kinds 1, 5 and 6), the network's
 *                key, the firewall class (kind 3); 0 for kind 15
 */

#include <stdbool.h>
#include <stdint.h>
#include "controller/fw-rules.h"
#include "packets.h"
#include "policies/policy.h"

struct flow_table;

/* OpenFlow tables. */
enum pipeline_table {
    PL_T_CLASSIFY = 0,
    PL_T_PORT_SECURITY = 10,
    PL_T_ZONE_CHECK = 18,
    PL_T_CT_RETURN = 19,
    PL_T_EGRESS_FW = 20,
    PL_T_EGRESS_CT = 21,
    PL_T_EGRESS_VERDICT = 22,
    PL_T_EGRESS_COMMITTED = 23,
    PL_T_BROADCAST_LIMIT = 25,
    PL_T_L2_LOOKUP = 30,
    PL_T_FLOOD = 35,
    PL_T_TUNNEL_FLOOD = 36,
    PL_T_INGRESS_PORT = 40,
    PL_T_INGRESS_FW = 41,
    PL_T_INGRESS_CT = 42,
    PL_T_INGRESS_VERDICT = 43,
    PL_T_INGRESS_COMMITTED = 44,
    PL_T_OUTPUT = 50,
    PL_T_TUNNEL_OUT = 51,
    PL_T_RULES = 60,
    PL_T_RULE_STATS = 61,
    PL_T_MIRROR_EGRESS = 62,
    PL_T_MIRROR_INGRESS = 63,
    PL_T_LOG_DENY = 64,
};

/* Cookie kinds (bits 63-56). */
enum pipeline_cookie_kind {
    PL_COOKIE_VNIC = 1,
    PL_COOKIE_NETWORK = 2,
    PL_COOKIE_RULE = 3,         /* Bits 55-32: the rule's key (0: shared by
                                 * a class's rules); 31-0: the class. */
    PL_COOKIE_VNIC_RULE = 5,    /* Bits 55-32: the rule's key; 31-0: the
                                 * vNIC's port key (the statistics of one
                                 * rule at one vNIC, table RULE_STATS). */
    PL_COOKIE_MIRROR = 6,       /* Bits 31-0: the mirrored vNIC's port key,
                                 * or 0 for the drops of what an analysis
                                 * port or a tunnel port sends (mirror.h). */
    PL_COOKIE_PIPELINE = 15,
};

/* The steps of the firewall that go through conntrack, in bits 16-18 of
 * reg15 while the packet is away in a ct() (bits 0-15: the zone): where
 * table CT_RETURN sends it back to. */
enum pipeline_ct_step {
    PL_CT_EGRESS_LOOKUP = 1,
    PL_CT_EGRESS_COMMIT = 2,
    PL_CT_INGRESS_LOOKUP = 3,
    PL_CT_INGRESS_COMMIT = 4,
};
#define PL_CT_STEP_SHIFT 16     /* The step's place in reg15... */
#define PL_CT_STEP_MASK 0x7     /* ...and its bits, once shifted. */

/* Flooding.  A network with up to PL_FLOOD_BUCKET local vNICs floods from
 * one flow of table L2_LOOKUP, a copy per vNIC.  A larger one spreads its
 * vNICs over a power of two of buckets, by a hash of their ofports, about
 * PL_FLOOD_BUCKET per bucket: the L2_LOOKUP flow makes one copy per
 * bucket, which a FLOOD flow of the bucket (reg5 = bucket + 1) makes into
 * a copy per vNIC of it.  A vNIC that comes or goes changes one bucket's
 * flow, whatever the size of the network.  No flow holds more than
 * PL_FLOOD_CHUNK copies: one flow's actions are limited to 64 kB (about
 * 1,170 clones). */
#define PL_FLOOD_BUCKET 64
#define PL_FLOOD_CHUNK 256
#define PL_FLOOD_MAX_BUCKETS 512

/* The input port key (reg6) of frames from the uplink (vNIC keys are
 * zones, below 65536). */
#define PL_UPLINK_KEY 0x10000

/* The input port key (reg6) of frames from the overlay's tunnels. */
#define PL_TUNNEL_KEY 0x20000

/* The name of br-int's VXLAN port: one flow-based port for every remote
 * chassis (remote_ip=flow, key=flow). */
#define PL_TUNNEL_PORT "bh-vxlan"

/* What table MIRROR_EGRESS or MIRROR_INGRESS is looked up with, in
 * reg13, for a packet that passes a firewall side without a rule's
 * verdict (ARP, neighbor discovery, DHCP, ICMP errors of a tracked
 * connection): no rule key has bit 24, and 0 means "denied". */
#define PL_MIRROR_PASS_MARK 0x1000000

/* An address a vNIC may send from: parsed, never database text. */
struct pl_address {
    struct eth_addr mac;        /* The MAC it goes with. */
    struct fw_prefix ip;        /* The address, or a prefix. */
};

/* A vNIC bound on this host.  Every value is typed: the flows are written
 * from parsed fields, never by pasting a row's text. */
struct pl_vnic {
    const char *iface_id;       /* Its iface-id; names its flows' owner. */
    uint32_t key;               /* Port key (its conntrack zone). */
    int64_t ofport;             /* OpenFlow port on br-int. */
    uint32_t net_key;           /* Its network's key. */
    struct eth_addr mac;        /* Its MAC. */
    const struct pl_address *addrs;  /* Its addresses (with its MAC), then
                                      * its allowed address pairs. */
    size_t n_addrs;             /* Number of 'addrs'. */
    bool port_security;         /* Anti-spoofing and firewall on. */
    uint32_t fw_class;          /* Its firewall class (its groups), or 0 if
                                 * it has none: everything is denied. */
    int64_t broadcast_limit;    /* Broadcast and multicast packets/s it
                                 * may send; 0: the default. */
    const struct pl_address *net_cidrs;  /* Its network's prefixes (only
                                          * 'ip' is used). */
    size_t n_net_cidrs;         /* Number of 'net_cidrs'. */
};

/* Returns local vNIC 'ofport', of zone 'zone', as the target of a copy of
 * a frame (a flood, an allowed MAC's holders): both in one number, since
 * both are below 65536 (OVS numbers ports below OFPP_MAX, 0xff00), so that
 * the flow that makes the copy loads both and sends it straight to the
 * vNIC's ingress side (table INGRESS_FW). */
static inline int64_t
pl_vnic_target(int64_t ofport, uint16_t zone)
{
    return (int64_t) zone << 16 | (ofport & 0xffff);
}

/* Returns the ofport of copy target 'target' (pl_vnic_target()). */
static inline int64_t
pl_target_ofport(int64_t target)
{
    return target & 0xffff;
}

/* Returns the zone of copy target 'target' (pl_vnic_target()). */
static inline uint16_t
pl_target_zone(int64_t target)
{
    return (target >> 16) & 0xffff;
}

/* A network with vNICs on this host. */
struct pl_network {
    uint32_t key;               /* Network key. */
    enum policy_net_type type;  /* VLAN or VXLAN. */
    int64_t segment;            /* VLAN ID or VNI. */
    const int64_t *members;     /* Its local vNICs, sorted, as copy
                                 * targets (pl_vnic_target()). */
    size_t n_members;           /* Number of 'members'. */
    int64_t uplink_ofport;      /* Uplink for a VLAN network, or 0. */
};

/* The local vNICs of a network grouped by flood bucket. */
struct pl_flood_buckets {
    size_t n;                   /* Number of buckets (a power of two). */
    int64_t *ofports;           /* Members, by bucket, sorted in each. */
    size_t *start;              /* Bucket b: ofports[start[b]] up to
                                 * ofports[start[b + 1]] (n + 1 entries). */
};

/* A vNIC of a VXLAN network bound on another chassis. */
struct pl_remote_vnic {
    struct eth_addr mac;        /* Its MAC. */
    ovs_be32 chassis_ip;        /* Its chassis's encapsulation address. */
};

/* What the overlay carries for one VXLAN network with vNICs on this
 * host. */
struct pl_overlay_net {
    uint32_t key;               /* Network key. */
    int64_t vni;                /* Its VNI. */
    const ovs_be32 *chassis;    /* Encapsulation addresses of the other
                                 * chassis that host vNICs of it. */
    size_t n_chassis;           /* Number of 'chassis'. */
    const struct pl_remote_vnic *remotes;  /* Its vNICs bound on them. */
    size_t n_remotes;           /* Number of 'remotes'. */
    int64_t tunnel_ofport;      /* br-int's VXLAN port. */
};

uint32_t pipeline_network_key(enum policy_net_type, int64_t segment);
uint64_t pipeline_cookie(enum pipeline_cookie_kind, uint32_t id);
char *pipeline_rule_stats_actions(bool egress);
char *pipeline_commit_actions(bool egress);
uint8_t pipeline_ct_step_table(uint32_t step);
char *pipeline_mirror_lookup(bool egress);
void pipeline_add_ingress_mirror(struct flow_table *, const char *owner,
                                 uint64_t cookie, uint32_t zone,
                                 int64_t ofport, bool firewall,
                                 uint32_t net_key,
                                 const struct fw_prefix *net_cidrs,
                                 size_t n_net_cidrs);
bool pipeline_cookie_is_ours(uint64_t cookie);
char *pipeline_vnic_owner(const char *iface_id);
char *pipeline_network_owner(uint32_t net_key);

void pipeline_add_static(struct flow_table *);
void pipeline_add_vnic(struct flow_table *, const struct pl_vnic *);
void pipeline_add_network(struct flow_table *, const struct pl_network *);
void pipeline_add_network_buckets(struct flow_table *,
                                  const struct pl_network *,
                                  const struct pl_flood_buckets *);
void pipeline_flood_buckets_init(struct pl_flood_buckets *,
                                 const int64_t *members, size_t n_members);
void pipeline_flood_buckets_destroy(struct pl_flood_buckets *);
bool pipeline_flood_bucket_equals(const struct pl_flood_buckets *,
                                  const struct pl_flood_buckets *,
                                  size_t bucket);
char *pipeline_flood_bucket_owner(uint32_t net_key, size_t bucket);
void pipeline_add_flood_bucket(struct flow_table *, uint32_t net_key,
                               const struct pl_flood_buckets *,
                               size_t bucket);
char *pipeline_allowed_mac_owner(uint32_t net_key, struct eth_addr);
void pipeline_add_allowed_mac(struct flow_table *, const struct pl_network *,
                              struct eth_addr, const int64_t *holders,
                              size_t n_holders);
char *pipeline_overlay_owner(uint32_t net_key);
void pipeline_add_overlay(struct flow_table *, const struct pl_overlay_net *);
void pipeline_add_tunnel_output(struct flow_table *, const char *owner,
                                int64_t tunnel_ofport);

#endif /* pipeline.h */
