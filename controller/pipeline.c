/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#include <config.h>
#include "controller/pipeline.h"

#include <arpa/inet.h>
#include <string.h>
#include "controller/flow-table.h"
#include "controller/fw-rules.h"
#include "hash.h"
#include "openvswitch/dynamic-string.h"
#include "packets.h"
#include "util.h"

/* The owner of the flows that do not depend on any vNIC or network. */
#define STATIC_OWNER "pipeline"

/* Returns the key of the network of 'type' with 'segment'. */
uint32_t
pipeline_network_key(enum policy_net_type type, int64_t segment)
{
    return (type == POLICY_NET_VXLAN ? 1u << 24 : 0) | (uint32_t) segment;
}

/* Returns the cookie for a flow of 'kind' serving the object 'id'. */
uint64_t
pipeline_cookie(enum pipeline_cookie_kind kind, uint32_t id)
{
    return ((uint64_t) kind << 56) | id;
}

/* Returns true if 'cookie' is of a kind that Bulkhead writes. */
bool
pipeline_cookie_is_ours(uint64_t cookie)
{
    unsigned int kind = cookie >> 56;

    return (kind == PL_COOKIE_VNIC || kind == PL_COOKIE_NETWORK
            || kind == PL_COOKIE_RULE || kind == PL_COOKIE_VNIC_RULE
            || kind == PL_COOKIE_MIRROR || kind == PL_COOKIE_PIPELINE);
}

/* Returns the owner name of the flows of the vNIC 'iface_id'.  The caller
 * frees it. */
char *
pipeline_vnic_owner(const char *iface_id)
{
    return xasprintf("vnic:%s", iface_id);
}

/* Returns the owner name of the flows of network 'net_key'.  The caller
 * frees it. */
char *
pipeline_network_owner(uint32_t net_key)
{
    return xasprintf("net:%#"PRIx32, net_key);
}

/* Adds to port security the drops of first fragments that hide what port
 * security, and the firewall's rules, look at.
 *
 * A first fragment must hold every header up to and including the
 * upper-layer one (RFC 7112), and neighbor discovery is never fragmented
 * (RFC 6980).  How OVS 3.1 shows a first fragment that breaks this
 * (lib/flow.c: miniflow_extract(), parse_ipv6_ext_hdrs__()), with the
 * switch's fragment handling "nx-match" (ofctrl.c sets it; in OpenFlow's
 * "normal" mode every fragment's ports and ICMP type read 0, and these
 * flows drop every first fragment of TCP, UDP, SCTP and ICMPv6):
 *
 *   - IPv6 header chain cut inside an extension header (one shorter than 8
 *     bytes or than its length field says): the userspace datapath gives
 *     up on the network layer and OpenFlow sees nw_proto=0, nw_frag=no,
 *     no L4 fields.  0 is the hop-by-hop header, which OVS always skips,
 *     so nw_proto=0 means exactly "chain cut".  The kernel datapath shows
 *     the same packet as nw_proto=59 (no next header), nw_frag=first.
 *
 *   - Chain complete but the upper-layer header cut (or in the next
 *     fragment): nw_frag=first, nw_proto the upper layer, and its fields
 *     left 0: tp_src=0,tp_dst=0 for TCP, UDP and SCTP, icmp_type=0,
 *     icmp_code=0 for ICMPv6.  No valid header has these zeros.  The same
 *     holds for IPv4 (a first fragment with no payload), except for ICMP,
 *     whose type 0 code 0 is an echo reply: left alone.
 *
 * Later fragments (nw_frag=later) carry no L4 fields at all and pass port
 * security on their source addresses: the firewall takes them through
 * conntrack, which reassembles them (Documentation/pipeline.md). */
static void
add_fragment_drops(struct flow_table *ft, uint64_t cookie)
{
    static const char *const hiding[] = {
        "ipv6,nw_proto=0",
        "ipv6,nw_frag=first,nw_proto=59",
        "tcp6,nw_frag=first,tp_src=0,tp_dst=0",
        "udp6,nw_frag=first,tp_src=0,tp_dst=0",
        "sctp6,nw_frag=first,tp_src=0,tp_dst=0",
        "icmp6,nw_frag=first,icmp_type=0,icmp_code=0",
        "tcp,nw_frag=first,tp_src=0,tp_dst=0",
        "udp,nw_frag=first,tp_src=0,tp_dst=0",
        "sctp,nw_frag=first,tp_src=0,tp_dst=0",
    };
    for (size_t i = 0; i < ARRAY_SIZE(hiding); i++) {
        flow_table_add(ft, STATIC_OWNER, PL_T_PORT_SECURITY, 200, cookie,
                       hiding[i], "drop");
    }

    /* Fragmented MLD (131, 132, 143; 130 is dropped in every form) and
     * neighbor discovery (133-137).  Their later fragments cannot be told
     * from others', but without the first no receiver reassembles them. */
    static const uint8_t nd_mld_types[] = {
        131, 132, 133, 134, 135, 136, 137, 143,
    };
    for (size_t i = 0; i < ARRAY_SIZE(nd_mld_types); i++) {
        char *match = xasprintf("icmp6,nw_frag=first,icmp_type=%d",
                                nd_mld_types[i]);
        flow_table_add(ft, STATIC_OWNER, PL_T_PORT_SECURITY, 200, cookie,
                       match, "drop");
        free(match);
    }
}

/* Adds to port security the drops of what no VM with port security may
 * send, whatever its addresses (priority 200, above every vNIC's pass flows;
 * a port without port security has a flow above these). */
static void
add_port_security_drops(struct flow_table *ft, uint64_t cookie)
{
    /* A VM may not be a DHCP or DHCPv6 server, nor a router, nor a
     * multicast querier.  Servers are recognized by where they send to,
     * the client ports, whatever port they send from: a VM sends nothing
     * to UDP 68 or 546. */
    static const char *const vm_never_sends[] = {
        "udp,tp_dst=68",                /* DHCP server. */
        "udp6,tp_dst=546",              /* DHCPv6 server. */
        "icmp6,icmp_type=130",          /* MLD query. */
        /* IGMP query.  OpenFlow cannot match the IGMP type, but every
         * general query (IGMPv1, v2, v3) goes to 224.0.0.1, where hosts
         * send no IGMP: their reports and leaves go to the group, to
         * 224.0.0.2 or to 224.0.0.22.  Nor do hosts send IGMP to a
         * unicast (or broadcast) address, where a query is accepted all
         * the same (RFC 3376 4.1.12): IGMP to anything but 224.0.0.0/4. */
        "ip,nw_proto=2,nw_dst=224.0.0.1",
        "ip,nw_proto=2,nw_dst=0.0.0.0/1",
        "ip,nw_proto=2,nw_dst=128.0.0.0/2",
        "ip,nw_proto=2,nw_dst=192.0.0.0/3",
        "ip,nw_proto=2,nw_dst=240.0.0.0/4",
        "icmp6,icmp_type=134,icmp_code=0",  /* Router advertisement. */
        "icmp6,icmp_type=137,icmp_code=0",  /* Redirect. */
        /* ICMP redirect (IPv4), of every code.  Conntrack takes it for an
         * error of the connection its quoted header names, so without this
         * a VM's redirect about its own connection with a neighbour
         * passed both firewalls as that connection's "related" packet. */
        "icmp,icmp_type=5",
        /* Malformed neighbor discovery: OVS reports a target of "::" (and
         * no link-layer address) for a message it could not parse, two
         * link-layer options for instance; Linux would take the first. */
        "icmp6,icmp_type=135,icmp_code=0,nd_target=::",
        "icmp6,icmp_type=136,icmp_code=0,nd_target=::",
    };
    for (size_t i = 0; i < ARRAY_SIZE(vm_never_sends); i++) {
        flow_table_add(ft, STATIC_OWNER, PL_T_PORT_SECURITY, 200, cookie,
                       vm_never_sends[i], "drop");
    }
    add_fragment_drops(ft, cookie);
}

/* What a firewall side lets through without conntrack nor rules (and
 * DHCP, below): ARP and neighbor discovery, which port security vetted,
 * and multicast membership, each only as its protocol sends it on a link,
 * never as anything a router forwards: router solicitations (hop limit
 * 255) to a link-scope group; router advertisements (port security drops
 * a VM's) from a link-local address with hop limit 255; MLD (queries
 * from a VM are dropped by port security) with hop limit 1 to a group;
 * IGMP (its queries too) with TTL 1 to a group.  Neighbor solicitations
 * and advertisements, with hop limit 255, are listed apart (see
 * add_firewall_side()).  So that no VM can send data past its rules in
 * one of them, to a host behind a router or from one. */
static const char *const fw_no_conntrack[] = {
    "arp",
    "icmp6,icmp_type=133,icmp_code=0,nw_ttl=255,ipv6_dst=ff02::/16",
    "icmp6,icmp_type=134,icmp_code=0,nw_ttl=255,ipv6_src=fe80::/10",
    "icmp6,icmp_type=130,icmp_code=0,nw_ttl=1,ipv6_dst=ff00::/8",
    "icmp6,icmp_type=131,icmp_code=0,nw_ttl=1,ipv6_dst=ff00::/8",
    "icmp6,icmp_type=132,icmp_code=0,nw_ttl=1,ipv6_dst=ff00::/8",
    "icmp6,icmp_type=143,icmp_code=0,nw_ttl=1,ipv6_dst=ff00::/8",
    "ip,nw_proto=2,nw_ttl=1,nw_dst=224.0.0.0/4",
};

/* Neighbor solicitations (135) and advertisements (136), with hop limit
 * 255, that either side lets through without conntrack nor rules: to a
 * link-scope group or a link-local address.  One to another address
 * passes a vNIC's egress side only if that address is in one of its
 * network's prefixes (pipeline_add_vnic()): it is on the link, where a
 * router does not take it elsewhere.  On the ingress side any destination
 * will do: a router's forwarding lowers the hop limit. */
static const char *const fw_nd_types[] = { "135", "136" };
static const char *const fw_nd_link_dsts[] = { "ff02::/16", "fe80::/10" };

/* Returns the match of neighbor discovery of ICMPv6 type 'type' (a
 * member of fw_nd_types) with hop limit 255 to 'dst' (a prefix, or NULL
 * for any).  The caller frees it. */
static char *
fw_nd_match(const char *type, const char *dst)
{
    return xasprintf("icmp6,icmp_type=%s,icmp_code=0,nw_ttl=255%s%s", type,
                     dst ? ",ipv6_dst=" : "", dst ? dst : "");
}

/* Returns the actions of a flow that lets a packet through the egress side
 * of the firewall without conntrack nor rules: it is offered to the side's
 * mirrors as allowed, then goes on.  The caller frees them. */
static char *
fw_egress_pass_actions(void)
{
    char *mirror = pipeline_mirror_lookup(true);
    char *actions = xasprintf("set_field:%#x->reg13,%s,goto_table:%d",
                              PL_MIRROR_PASS_MARK, mirror,
                              PL_T_BROADCAST_LIMIT);
    free(mirror);
    return actions;
}

/* Stores in 'matches' what passes the egress ('egress') or the ingress
 * side of the firewall without conntrack nor rules, whatever the network:
 * fw_no_conntrack, neighbor discovery (to link-scope destinations on the
 * way out, to any on the way in), and DHCP as a client.  A vNIC may ask by
 * broadcast (DHCPv6: to the All_DHCP_Relay_Agents_and_Servers group), to
 * the broadcast (group) MAC, from its own addresses or 0.0.0.0 as port
 * security holds it, and the answers of a server behind the uplink (reg6:
 * the input port key) come in, whatever the rules: from a link-local
 * address for DHCPv6 (servers and relays answer from one), from an
 * address of the network's own prefixes for DHCP (per network:
 * add_network_exceptions()), never from a host behind a router.  A
 * request and its answer are no conntrack connection (0.0.0.0:68 to
 * 255.255.255.255:67, then SERVER:67 to the new address:68).  A unicast
 * request (a lease's renewal) is a connection like any other, which the
 * vNIC's egress rules judge: without them a client renews by broadcast
 * (rebinding), and port 67 of no host is a way out. */
static void
fw_pass_matches(bool egress, struct svec *matches)
{
    for (size_t i = 0; i < ARRAY_SIZE(fw_no_conntrack); i++) {
        svec_add(matches, fw_no_conntrack[i]);
    }
    for (size_t i = 0; i < ARRAY_SIZE(fw_nd_types); i++) {
        for (size_t j = 0; j < (egress ? ARRAY_SIZE(fw_nd_link_dsts) : 1);
             j++) {
            svec_add_nocopy(matches,
                            fw_nd_match(fw_nd_types[i],
                                        egress ? fw_nd_link_dsts[j] : NULL));
        }
    }
    if (egress) {
        svec_add(matches, "udp,dl_dst=ff:ff:ff:ff:ff:ff,"
                 "nw_dst=255.255.255.255,tp_src=68,tp_dst=67");
        svec_add(matches, "udp6,dl_dst=33:33:00:01:00:02,ipv6_dst=ff02::1:2,"
                 "tp_src=546,tp_dst=547");
    } else {
        svec_add_nocopy(matches, xasprintf("udp6,reg6=%#x,ipv6_src=fe80::/10,"
                                           "tp_src=547,tp_dst=546",
                                           PL_UPLINK_KEY));
    }
}

/* Returns the actions that send the packet through conntrack in the zone
 * of the side ('egress': reg6, else reg8), looking its connection up or,
 * if 'commit', committing it with the allowing rule's key (reg13) in its
 * ct_mark; either recirculates to table ZONE_CHECK with the zone and the
 * step in reg15, so that table CT_RETURN sends the packet on to the side's
 * CT table after a lookup, to its COMMITTED table after a commit.  They
 * must end their flow.  The caller frees the string. */
static char *
ct_actions(bool egress, bool commit)
{
    enum pipeline_ct_step step = (egress
                                  ? (commit ? PL_CT_EGRESS_COMMIT
                                     : PL_CT_EGRESS_LOOKUP)
                                  : (commit ? PL_CT_INGRESS_COMMIT
                                     : PL_CT_INGRESS_LOOKUP));
    const char *zone_reg = egress ? "NXM_NX_REG6" : "NXM_NX_REG8";

    return xasprintf("set_field:%#x->reg15,"
                     "move:%s[0..15]->NXM_NX_REG15[0..15],"
                     "ct(%szone=%s[0..15],%stable=%d)",
                     (unsigned int) step << PL_CT_STEP_SHIFT, zone_reg,
                     commit ? "commit," : "", zone_reg,
                     (commit
                      ? "exec(move:NXM_NX_REG13[]->NXM_NX_CT_MARK[]),"
                      : ""), PL_T_ZONE_CHECK);
}

/* Adds the flows of one side of the firewall, the same for every vNIC: in
 * table 'start', ARP, neighbor discovery and multicast membership (IGMP,
 * MLD), which port security vetted, and DHCP as a client go on to 'next'
 * without conntrack; IP goes through conntrack in the zone of the
 * protected vNIC (reg6 on egress, reg8 on ingress) and, through the zone
 * check (ct_actions()), on to 'ct_table'; there, invalid packets are
 * dropped, and the rest, related ones (ICMP errors of a connection)
 * included, look up the rules of the class in 'class_reg' in table RULES:
 * the rules of this side ('dir') for the connection's original direction,
 * those of the other side for its replies.  'verdict' then drops what no
 * rule allowed (reg13 still 0), commits new connections with the allowing
 * rule's key in ct_mark, and goes on to 'next'.
 *
 * A commit comes back, through the zone check, to 'committed', which lets
 * on to 'next' only what conntrack tracked: OVS 3.1's userspace datapath
 * adds fragments that its reassembler let expire (lib/ipf.c, marked
 * invalid and not tracked),
 * whatever their zone or port, to the batch of whichever packet next goes
 * through a ct action, and every action after a ct() that does not
 * recirculate applies to them as well: after a plain commit they left
 * with the committed packet, to its vNIC, another tenant's included. */
static void
add_firewall_side(struct flow_table *ft, uint64_t cookie, uint8_t start,
                  uint8_t ct_table, uint8_t verdict, uint8_t committed,
                  uint8_t next, const char *class_reg, int dir)
{
    /* What passes this side without a rule is offered to the side's
     * mirrors as allowed.  Not here on the ingress side, where a flood
     * passes once per receiver and every lookup counts against OVS's limit
     * of resubmits per packet: a mirrored vNIC has flows of its own above
     * these (pipeline_add_ingress_mirror()). */
    bool egress = dir == FW_DIR_EGRESS;
    char *actions = (egress ? fw_egress_pass_actions()
                     : xasprintf("goto_table:%d", next));
    struct svec matches = SVEC_EMPTY_INITIALIZER;
    fw_pass_matches(egress, &matches);
    for (size_t i = 0; i < matches.n; i++) {
        flow_table_add(ft, STATIC_OWNER, start, 110, cookie,
                       matches.names[i], actions);
    }
    svec_destroy(&matches);
    free(actions);

    actions = ct_actions(egress, false);
    flow_table_add(ft, STATIC_OWNER, start, 100, cookie, "ip", actions);
    flow_table_add(ft, STATIC_OWNER, start, 100, cookie, "ipv6", actions);
    free(actions);
    flow_table_add(ft, STATIC_OWNER, start, 0, cookie, "", "drop");

    /* A related packet (an ICMP error of a tracked connection) carries
     * its connection's tuple in the ct_ fields and its direction in +rpl:
     * the rules judge it as they judge its connection's other packets, so
     * that a connection's revocation stops its errors too. */
    flow_table_add(ft, STATIC_OWNER, ct_table, 300, cookie,
                   "ct_state=+trk+inv", "drop");
    for (int reply = 0; reply < 2; reply++) {
        int rules = reply ? FW_OTHER_DIR(dir) : dir;
        actions = xasprintf("set_field:%d->reg11,move:%s[]->NXM_NX_REG12[],"
                            "set_field:0->reg13,resubmit(,%d),goto_table:%d",
                            rules, class_reg, PL_T_RULES, verdict);
        flow_table_add(ft, STATIC_OWNER, ct_table, 100, cookie,
                       reply ? "ct_state=+trk+rpl" : "ct_state=+trk-rpl",
                       actions);
        free(actions);
    }
    flow_table_add(ft, STATIC_OWNER, ct_table, 0, cookie, "", "drop");

    flow_table_add(ft, STATIC_OWNER, verdict, 200, cookie, "reg13=0",
                   "drop");
    char *stats = pipeline_rule_stats_actions(dir == FW_DIR_EGRESS);
    actions = pipeline_commit_actions(egress);
    char *commit = xasprintf("%s,%s", stats, actions);
    free(actions);
    flow_table_add(ft, STATIC_OWNER, verdict, 100, cookie,
                   "ct_state=+trk+new,ip", commit);
    flow_table_add(ft, STATIC_OWNER, verdict, 100, cookie,
                   "ct_state=+trk+new,ipv6", commit);
    free(commit);
    actions = xasprintf("%s,goto_table:%d", stats, next);
    flow_table_add(ft, STATIC_OWNER, verdict, 0, cookie, "", actions);
    free(actions);
    free(stats);

    actions = xasprintf("goto_table:%d", next);
    flow_table_add(ft, STATIC_OWNER, committed, 100, cookie,
                   "ct_state=+trk-inv", actions);
    free(actions);
    flow_table_add(ft, STATIC_OWNER, committed, 0, cookie, "", "drop");
}

/* Returns the actions that commit a new connection in the zone of the
 * side ('egress': reg6, else reg8) with the allowing rule's key (reg13) in
 * its ct_mark, and go on to the side's table COMMITTED (see
 * add_firewall_side()) through the zone check; they must end their flow.
 * The caller frees the string. */
char *
pipeline_commit_actions(bool egress)
{
    return ct_actions(egress, true);
}

/* Adds to 'ft', for 'owner' with 'cookie', the zone check of the vNIC
 * whose zone is 'zone': a packet back from a ct() in its zone, on either
 * side, goes on to table CT_RETURN.  Why: OVS 3.1's userspace reassembler
 * (lib/ipf.c) puts the fragments of a datagram that a ct() call completed,
 * past the 32 packets of that call's batch, into the batch of the next
 * ct() call of the datapath, whatever its zone; they come back from the
 * recirculation with their own connection's ct_state, ct_mark and ct_zone
 * but the registers (network, zones, classes, output) of the packet they
 * rode with, another tenant's included.  OpenFlow cannot compare ct_zone
 * with a register: hence a flow per vNIC, and the table's drop for the
 * rest.  It also loads the vNIC's class 'fw_class' into reg10, for its
 * ingress rules (table INGRESS_CT, which only the zone check leads to):
 * the class of the zone that conntrack used. */
static void
add_zone_check(struct flow_table *ft, const char *owner, uint64_t cookie,
               uint32_t zone, uint32_t fw_class)
{
    char *match = xasprintf("reg15=%#"PRIx32"/0xffff,ct_zone=%"PRIu32,
                            zone, zone);
    char *actions = xasprintf("set_field:%#"PRIx32"->reg10,goto_table:%d",
                              fw_class, PL_T_CT_RETURN);

    flow_table_add(ft, owner, PL_T_ZONE_CHECK, 100, cookie, match, actions);
    free(actions);
    free(match);
}

/* Returns the table that a packet back from a ct() of firewall step 'step'
 * (enum pipeline_ct_step) goes on to after the zone check, or 0 if 'step'
 * is none. */
uint8_t
pipeline_ct_step_table(uint32_t step)
{
    switch (step) {
    case PL_CT_EGRESS_LOOKUP:
        return PL_T_EGRESS_CT;
    case PL_CT_EGRESS_COMMIT:
        return PL_T_EGRESS_COMMITTED;
    case PL_CT_INGRESS_LOOKUP:
        return PL_T_INGRESS_CT;
    case PL_CT_INGRESS_COMMIT:
        return PL_T_INGRESS_COMMITTED;
    default:
        return 0;
    }
}

/* Adds the flows of tables ZONE_CHECK (its drop; each vNIC with a firewall
 * adds its own pass, add_zone_check()) and CT_RETURN, which sends
 * a packet back from conntrack on to the step after its ct(), by the step
 * in reg15. */
static void
add_ct_return(struct flow_table *ft, uint64_t cookie)
{
    flow_table_add(ft, STATIC_OWNER, PL_T_ZONE_CHECK, 0, cookie, "", "drop");
    for (uint32_t step = PL_CT_EGRESS_LOOKUP; step <= PL_CT_INGRESS_COMMIT;
         step++) {
        char *match = xasprintf("reg15=%#x/%#x", step << PL_CT_STEP_SHIFT,
                                PL_CT_STEP_MASK << PL_CT_STEP_SHIFT);
        char *actions = xasprintf("goto_table:%d",
                                  pipeline_ct_step_table(step));
        flow_table_add(ft, STATIC_OWNER, PL_T_CT_RETURN, 100, cookie, match,
                       actions);
        free(actions);
        free(match);
    }
    flow_table_add(ft, STATIC_OWNER, PL_T_CT_RETURN, 0, cookie, "", "drop");
}

/* Returns the actions that count an allowed packet in table RULE_STATS
 * under (the protected vNIC's port key, the allowing rule's key): they
 * copy the zone of the side ('egress': reg6, else reg8) into reg14 and
 * look the pair up, so that one flow per rule and vNIC counts its
 * connections' packets in both directions (a reply passes the other
 * verdict table of the same vNIC with the same rule).  The caller frees
 * the string. */
char *
pipeline_rule_stats_actions(bool egress)
{
    return xasprintf("move:%s[0..15]->NXM_NX_REG14[0..15],resubmit(,%d),"
                     "resubmit(,%d)",
                     egress ? "NXM_NX_REG6" : "NXM_NX_REG8",
                     PL_T_RULE_STATS,
                     egress ? PL_T_MIRROR_EGRESS : PL_T_MIRROR_INGRESS);
}

/* Returns the action that looks a packet up in the mirror table of its
 * side ('egress': MIRROR_EGRESS, keyed on reg6; else MIRROR_INGRESS, keyed
 * on reg8), where a mirror of the vNIC has its copies made (mirror.h): a
 * packet the firewall denied has reg13 = 0.  The caller frees it. */
char *
pipeline_mirror_lookup(bool egress)
{
    return xasprintf("resubmit(,%d)",
                     egress ? PL_T_MIRROR_EGRESS : PL_T_MIRROR_INGRESS);
}

/* Adds the firewall's flows that are the same for every vNIC: egress
 * (tables 20-22, the sender's zone in reg6 and class in reg9), ingress
 * (tables 41-43, the receiver's zone in reg8, which the copy to it loads,
 * and class in reg10, which its zone check loads) and the bottom of table
 * RULES. */
static void
add_firewall_static(struct flow_table *ft, uint64_t cookie)
{
    add_firewall_side(ft, cookie, PL_T_EGRESS_FW, PL_T_EGRESS_CT,
                      PL_T_EGRESS_VERDICT, PL_T_EGRESS_COMMITTED,
                      PL_T_BROADCAST_LIMIT, "NXM_NX_REG9",
                      FW_DIR_EGRESS);
    add_firewall_side(ft, cookie, PL_T_INGRESS_FW, PL_T_INGRESS_CT,
                      PL_T_INGRESS_VERDICT, PL_T_INGRESS_COMMITTED,
                      PL_T_OUTPUT, "NXM_NX_REG10",
                      FW_DIR_INGRESS);
    add_ct_return(ft, cookie);
    flow_table_add(ft, STATIC_OWNER, PL_T_INGRESS_PORT, 0, cookie, "",
                   "drop");
    flow_table_add(ft, STATIC_OWNER, PL_T_RULES, 0, cookie, "", "drop");
    /* Counting only: a pair with no flow of its own changes nothing. */
    flow_table_add(ft, STATIC_OWNER, PL_T_RULE_STATS, 0, cookie, "", "drop");
    /* Copies only: a vNIC that no mirror watches has no flow there. */
    flow_table_add(ft, STATIC_OWNER, PL_T_MIRROR_EGRESS, 0, cookie, "",
                   "drop");
    flow_table_add(ft, STATIC_OWNER, PL_T_MIRROR_INGRESS, 0, cookie, "",
                   "drop");
    /* The log of denied packets: a vNIC that logs none has no flow. */
    flow_table_add(ft, STATIC_OWNER, PL_T_LOG_DENY, 0, cookie, "", "drop");
}

/* Adds the flows that every br-int has: a drop at the bottom of each table
 * (so that nothing unknown passes) and the pass-through of the firewall
 * tables. */
void
pipeline_add_static(struct flow_table *ft)
{
    uint64_t cookie = pipeline_cookie(PL_COOKIE_PIPELINE, 0);
    static const uint8_t drop_tables[] = {
        PL_T_PORT_SECURITY, PL_T_L2_LOOKUP, PL_T_FLOOD,
    };
    char *actions;

    for (size_t i = 0; i < ARRAY_SIZE(drop_tables); i++) {
        flow_table_add(ft, STATIC_OWNER, drop_tables[i], 0, cookie, "",
                       "drop");
    }

    /* The overlay: nothing goes into a tunnel but what the overlay's flows
     * send there, and a frame that came from a tunnel never goes into one
     * again (no chassis relays another's frames, so there is no loop and no
     * detour).  Without the VXLAN port, table TUNNEL_OUT drops. */
    static const uint8_t tunnel_tables[] = {
        PL_T_TUNNEL_FLOOD, PL_T_TUNNEL_OUT,
    };
    for (size_t i = 0; i < ARRAY_SIZE(tunnel_tables); i++) {
        char *match = xasprintf("reg6=%d", PL_TUNNEL_KEY);
        flow_table_add(ft, STATIC_OWNER, tunnel_tables[i], 200, cookie, match,
                       "drop");
        flow_table_add(ft, STATIC_OWNER, tunnel_tables[i], 0, cookie, "",
                       "drop");
        free(match);
    }

    /* Classification: a tagged frame is dropped unless it is the uplink's
     * (higher-priority flows of each VLAN network), so a VM's 802.1Q frame
     * is never double-tagged; everything else goes to port security, which
     * knows every vNIC by its in_port and drops what comes from any other
     * port. */
    flow_table_add(ft, STATIC_OWNER, PL_T_CLASSIFY, 50, cookie,
                   "vlan_tci=0x1000/0x1000", "drop");

    /* A frame whose ethertype is a VLAN TPID but that OVS did not parse as
     * tagged (too short for a tag, or a TPID OVS does not parse, or a second
     * tag past OVS's vlan-limit of one) is a tag all the same: dropped from
     * every port.  From the uplink this drops frames with a second tag
     * inside the first (priority above the uplink's flows). */
    static const char *const tpids[] = {
        "0x8100", "0x88a8", "0x9100", "0x9200",
    };
    for (size_t i = 0; i < ARRAY_SIZE(tpids); i++) {
        char *match = xasprintf("dl_type=%s", tpids[i]);
        flow_table_add(ft, STATIC_OWNER, PL_T_CLASSIFY, 200, cookie, match,
                       "drop");
        free(match);
    }

    /* Switch control protocols are link-local: never flooded, never out
     * on the uplink, from any port, port_security off included.  A BPDU on
     * the trunk would make the physical switch's BPDU guard cut every
     * tenant of the host, or win the VLAN's root bridge.  The IEEE 802.1D
     * reserved addresses (STP, LACP, pause, LLDP, EAPOL...), the GARP/MRP
     * ones (GMRP, GVRP, MMRP, MVRP), and Cisco's (CDP, VTP, DTP, PAgP,
     * UDLD; PVST+; UplinkFast and VLAN bridge STP). */
    static const char *const control_dsts[] = {
        "01:80:c2:00:00:00/ff:ff:ff:ff:ff:f0",
        "01:80:c2:00:00:20/ff:ff:ff:ff:ff:f0",
        "01:00:0c:cc:cc:cc/ff:ff:ff:ff:ff:fe",
        "01:00:0c:cd:cd:cc/ff:ff:ff:ff:ff:fc",
    };
    for (size_t i = 0; i < ARRAY_SIZE(control_dsts); i++) {
        char *match = xasprintf("dl_dst=%s", control_dsts[i]);
        flow_table_add(ft, STATIC_OWNER, PL_T_CLASSIFY, 200, cookie, match,
                       "drop");
        free(match);
    }

    actions = xasprintf("goto_table:%d", PL_T_PORT_SECURITY);
    flow_table_add(ft, STATIC_OWNER, PL_T_CLASSIFY, 0, cookie, "", actions);
    free(actions);

    /* Output: reg7 holds the destination's ofport (0: none). */
    flow_table_add(ft, STATIC_OWNER, PL_T_OUTPUT, 10, cookie, "reg7=0",
                   "drop");
    flow_table_add(ft, STATIC_OWNER, PL_T_OUTPUT, 0, cookie, "",
                   "output:NXM_NX_REG7[0..15]");

    add_port_security_drops(ft, cookie);

    add_firewall_static(ft, cookie);

    /* What no vNIC's meter applies to (unicast, the uplink's frames) goes
     * on to the L2 lookup. */
    actions = xasprintf("goto_table:%d", PL_T_L2_LOOKUP);
    flow_table_add(ft, STATIC_OWNER, PL_T_BROADCAST_LIMIT, 0, cookie, "",
                   actions);
    free(actions);
}

/* Adds one flow for 'vnic', formatting its match from 'format'. */
static void
add_vnic_flow(struct flow_table *ft, const char *owner, uint8_t table,
              uint16_t priority, uint64_t cookie, const char *actions,
              const char *format, ...)
    __attribute__((format(printf, 7, 8)));
static void
add_vnic_flow(struct flow_table *ft, const char *owner, uint8_t table,
              uint16_t priority, uint64_t cookie, const char *actions,
              const char *format, ...)
{
    va_list args;

    va_start(args, format);
    char *match = xvasprintf(format, args);
    va_end(args);
    flow_table_add(ft, owner, table, priority, cookie, match, actions);
    free(match);
}

/* Formats 'p' into 'buf' (of INET6_ADDRSTRLEN + 5 bytes or more): the bare
 * address for a whole one, "ADDR/PLEN" for a prefix. */
static const char *
format_ip(const struct fw_prefix *p, char *buf, size_t size)
{
    fw_prefix_format(p, buf, size);
    if (p->plen == (p->family == AF_INET ? 32 : 128)) {
        *strchr(buf, '/') = '\0';
    }
    return buf;
}

/* Returns the actions of a port security flow that lets a frame of 'vnic'
 * in: it joins the vNIC's network, with the vNIC as input port.  The caller
 * frees it. */
static char *
pass_actions(const struct pl_vnic *vnic)
{
    if (!vnic->port_security) {
        /* No firewall either: its mirrors' copies are made here. */
        return xasprintf("set_field:%#"PRIx32"->metadata,set_field:%"PRIu32
                         "->reg6,resubmit(,%d),goto_table:%d", vnic->net_key,
                         vnic->key, PL_T_MIRROR_EGRESS,
                         PL_T_BROADCAST_LIMIT);
    }
    return xasprintf("set_field:%#"PRIx32"->metadata,set_field:%"PRIu32
                     "->reg6,set_field:%#"PRIx32"->reg9,goto_table:%d",
                     vnic->net_key, vnic->key, vnic->fw_class,
                     PL_T_EGRESS_FW);
}

/* Adds the port security flows that let 'vnic' (its flows owned by
 * 'owner') send from 'mac' and the address or prefix 'ip'. */
static void
add_source_flows(struct flow_table *ft, const char *owner,
                 const struct pl_vnic *vnic, uint64_t cookie,
                 const struct pl_address *a)
{
    char *pass = pass_actions(vnic);
    uint8_t t = PL_T_PORT_SECURITY;
    char mac[ETH_ADDR_STRLEN + 1];
    char ip[INET6_ADDRSTRLEN + 8];

    snprintf(mac, sizeof mac, ETH_ADDR_FMT, ETH_ADDR_ARGS(a->mac));
    format_ip(&a->ip, ip, sizeof ip);
    if (a->ip.family == AF_INET) {
        add_vnic_flow(ft, owner, t, 100, cookie, pass,
                      "in_port=%"PRId64",dl_src=%s,ip,nw_src=%s",
                      vnic->ofport, mac, ip);
        add_vnic_flow(ft, owner, t, 100, cookie, pass,
                      "in_port=%"PRId64",dl_src=%s,arp,arp_sha=%s,arp_spa=%s",
                      vnic->ofport, mac, mac, ip);
        /* An ARP probe (RFC 5227) comes from 0.0.0.0, for one of its own
         * addresses only: one for a neighbour's would make it give its
         * address up as a duplicate. */
        add_vnic_flow(ft, owner, t, 100, cookie, pass,
                      "in_port=%"PRId64",dl_src=%s,arp,arp_sha=%s,"
                      "arp_spa=0.0.0.0,arp_tpa=%s", vnic->ofport, mac, mac,
                      ip);
    } else {
        add_vnic_flow(ft, owner, t, 100, cookie, pass,
                      "in_port=%"PRId64",dl_src=%s,ipv6,ipv6_src=%s",
                      vnic->ofport, mac, ip);
        /* Duplicate address detection: from "::", with no link-layer
         * option, for one of its own addresses only (one for a
         * neighbour's would make it give its address up). */
        add_vnic_flow(ft, owner, t, 110, cookie, pass,
                      "in_port=%"PRId64",dl_src=%s,icmp6,ipv6_src=::,"
                      "icmp_type=135,icmp_code=0,nd_target=%s,"
                      "nd_sll=00:00:00:00:00:00", vnic->ofport, mac, ip);
        /* Neighbor discovery is owned like ARP: a solicitation comes
         * from one of its own addresses and names its own MAC (or none);
         * an advertisement is about one of its own addresses, comes from
         * it, and names its own MAC (or none). */
        if (a->ip.plen == 128) {
            add_vnic_flow(ft, owner, t, 110, cookie, pass,
                          "in_port=%"PRId64",dl_src=%s,icmp6,ipv6_src=%s,"
                          "icmp_type=135,icmp_code=0,nd_sll=%s",
                          vnic->ofport, mac, ip, mac);
            add_vnic_flow(ft, owner, t, 110, cookie, pass,
                          "in_port=%"PRId64",dl_src=%s,icmp6,ipv6_src=%s,"
                          "icmp_type=135,icmp_code=0,"
                          "nd_sll=00:00:00:00:00:00", vnic->ofport, mac, ip);
            add_vnic_flow(ft, owner, t, 110, cookie, pass,
                          "in_port=%"PRId64",dl_src=%s,icmp6,ipv6_src=%s,"
                          "icmp_type=136,icmp_code=0,nd_target=%s,nd_tll=%s",
                          vnic->ofport, mac, ip, ip, mac);
            add_vnic_flow(ft, owner, t, 110, cookie, pass,
                          "in_port=%"PRId64",dl_src=%s,icmp6,ipv6_src=%s,"
                          "icmp_type=136,icmp_code=0,nd_target=%s,"
                          "nd_tll=00:00:00:00:00:00", vnic->ofport, mac, ip,
                          ip);
        }
    }
    free(pass);
}

/* Adds the port security flows that IPv6 needs for 'mac' whatever the
 * addresses: the link-local address derived from the MAC, neighbor
 * solicitations that name the MAC (or none), and the duplicate address
 * detection and MLD messages sent from "::". */
static void
add_ipv6_basics(struct flow_table *ft, const char *owner,
                const struct pl_vnic *vnic, uint64_t cookie)
{
    char *pass = pass_actions(vnic);
    uint8_t t = PL_T_PORT_SECURITY;
    struct pl_address lla = { .mac = vnic->mac };
    char mac[ETH_ADDR_STRLEN + 1];

    snprintf(mac, sizeof mac, ETH_ADDR_FMT, ETH_ADDR_ARGS(vnic->mac));
    lla.ip.family = AF_INET6;
    lla.ip.plen = 128;
    in6_generate_lla(vnic->mac, &lla.ip.addr);
    add_source_flows(ft, owner, vnic, cookie, &lla);

    /* MLD reports from "::". */
    add_vnic_flow(ft, owner, t, 110, cookie, pass,
                  "in_port=%"PRId64",dl_src=%s,icmp6,ipv6_src=::,"
                  "icmp_type=143,icmp_code=0", vnic->ofport, mac);
    free(pass);
}

/* Returns the match of the answers of a DHCP server behind the uplink, to
 * network 'net_key', from an address of its IPv4 prefix 'p'.  The caller
 * frees it. */
static char *
dhcp_answer_match(uint32_t net_key, const struct fw_prefix *p)
{
    char cidr[INET6_ADDRSTRLEN + 8];

    return xasprintf("metadata=%#"PRIx32",udp,reg6=%#x,nw_src=%s,"
                     "tp_src=67,tp_dst=68", net_key, PL_UPLINK_KEY,
                     format_ip(p, cidr, sizeof cidr));
}

/* Adds the firewall's exceptions that depend on the network of 'vnic' (a
 * vNIC with port security), shared by its vNICs (one key, one cookie, the
 * network's; each vNIC's owner wants them, so that they go with the
 * last): neighbor discovery sent to an address of the network's own IPv6
 * prefixes, which is on the link (see add_firewall_side()), and the
 * answers of a DHCP server behind the uplink from an address of its own
 * IPv4 prefixes.  A network without prefixes of a family has neither. */
static void
add_network_exceptions(struct flow_table *ft, const char *owner,
                       const struct pl_vnic *vnic)
{
    uint64_t cookie = pipeline_cookie(PL_COOKIE_NETWORK, vnic->net_key);
    char *pass_out = fw_egress_pass_actions();
    char *pass_in = xasprintf("goto_table:%d", PL_T_OUTPUT);

    for (size_t i = 0; i < vnic->n_net_cidrs; i++) {
        const struct fw_prefix *p = &vnic->net_cidrs[i].ip;
        char cidr[INET6_ADDRSTRLEN + 8];

        format_ip(p, cidr, sizeof cidr);
        if (p->family == AF_INET6) {
            for (size_t t = 0; t < ARRAY_SIZE(fw_nd_types); t++) {
                char *nd = fw_nd_match(fw_nd_types[t], cidr);
                add_vnic_flow(ft, owner, PL_T_EGRESS_FW, 110, cookie,
                              pass_out, "metadata=%#"PRIx32",%s",
                              vnic->net_key, nd);
                free(nd);
            }
        } else {
            char *dhcp = dhcp_answer_match(vnic->net_key, p);
            add_vnic_flow(ft, owner, PL_T_INGRESS_FW, 110, cookie, pass_in,
                          "%s", dhcp);
            free(dhcp);
        }
    }
    free(pass_in);
    free(pass_out);
}

/* Adds the flows of 'vnic': classification, port security, L2 lookup and
 * output. */
void
pipeline_add_vnic(struct flow_table *ft, const struct pl_vnic *vnic)
{
    char *owner = pipeline_vnic_owner(vnic->iface_id);
    uint64_t cookie = pipeline_cookie(PL_COOKIE_VNIC, vnic->key);
    struct ds actions = DS_EMPTY_INITIALIZER;

    /* Port security. */
    if (!vnic->port_security) {
        char *pass = pass_actions(vnic);
        add_vnic_flow(ft, owner, PL_T_PORT_SECURITY, 300, cookie, pass,
                      "in_port=%"PRId64, vnic->ofport);
        free(pass);
    } else {
        bool has_ipv6 = false;
        for (size_t i = 0; i < vnic->n_addrs; i++) {
            add_source_flows(ft, owner, vnic, cookie, &vnic->addrs[i]);
            has_ipv6 = has_ipv6 || vnic->addrs[i].ip.family == AF_INET6;
        }

        /* DHCP discovery comes from 0.0.0.0. */
        char *pass = pass_actions(vnic);
        add_vnic_flow(ft, owner, PL_T_PORT_SECURITY, 100, cookie, pass,
                      "in_port=%"PRId64",dl_src="ETH_ADDR_FMT",udp,"
                      "nw_src=0.0.0.0,nw_dst=255.255.255.255,tp_src=68,"
                      "tp_dst=67", vnic->ofport, ETH_ADDR_ARGS(vnic->mac));
        free(pass);
        add_network_exceptions(ft, owner, vnic);

        /* What none of its flows let in is dropped by the table's last
         * flow; this one does the same for its frames alone, so that they
         * are counted apart (its spoofing drops, in its statistics). */
        add_vnic_flow(ft, owner, PL_T_PORT_SECURITY, 1, cookie, "drop",
                      "in_port=%"PRId64, vnic->ofport);

        if (has_ipv6) {
            add_ipv6_basics(ft, owner, vnic, cookie);
            /* Any other neighbor discovery from it is a lie. */
            add_vnic_flow(ft, owner, PL_T_PORT_SECURITY, 105, cookie, "drop",
                          "in_port=%"PRId64",icmp6,icmp_type=135,"
                          "icmp_code=0", vnic->ofport);
            add_vnic_flow(ft, owner, PL_T_PORT_SECURITY, 105, cookie, "drop",
                          "in_port=%"PRId64",icmp6,icmp_type=136,"
                          "icmp_code=0", vnic->ofport);
        }
    }

    /* Broadcast and multicast storms: what it sends to a group address,
     * once its egress firewall let it out, goes through its own meter,
     * whose id is its port key; the excess is dropped and counted in the
     * meter's band statistics.  Unicast never meets the meter. */
    uint32_t rate = (vnic->broadcast_limit > 0 ? vnic->broadcast_limit
                     : POLICY_BROADCAST_LIMIT_DEFAULT);
    flow_table_set_meter(ft, owner, vnic->key, rate, rate);
    ds_put_format(&actions, "meter:%"PRIu32",goto_table:%d", vnic->key,
                  PL_T_L2_LOOKUP);
    add_vnic_flow(ft, owner, PL_T_BROADCAST_LIMIT, 100, cookie,
                  ds_cstr(&actions), "reg6=%"PRIu32",dl_dst=01:00:00:00:00:00/"
                  "01:00:00:00:00:00", vnic->key);
    ds_clear(&actions);

    /* L2 lookup: frames to its MAC go to its ofport, through its ingress
     * side in its zone, as every copy to it does (put_ingress_copy()).
     * Those to an allowed address's own MAC go to every vNIC that may have
     * it, by a flow of the network's (pipeline_add_allowed_mac()). */
    ds_put_format(&actions, "set_field:%"PRId64"->reg7,set_field:%"PRIu32
                  "->reg8,goto_table:%d", vnic->ofport, vnic->key,
                  PL_T_INGRESS_FW);
    add_vnic_flow(ft, owner, PL_T_L2_LOOKUP, 100, cookie, ds_cstr(&actions),
                  "metadata=%#"PRIx32",dl_dst="ETH_ADDR_FMT, vnic->net_key,
                  ETH_ADDR_ARGS(vnic->mac));

    if (vnic->port_security) {
        /* What it receives goes through its ingress firewall, in its zone;
         * its zone check gives its rules its class. */
        add_zone_check(ft, owner, cookie, vnic->key,
                                vnic->fw_class);
    } else {
        /* A port without port security has no firewall: what comes to it
         * goes out, by a flow of its own, above the firewall's. */
        ds_clear(&actions);
        ds_put_format(&actions, "goto_table:%d", PL_T_OUTPUT);
        add_vnic_flow(ft, owner, PL_T_INGRESS_FW, 300, cookie,
                      ds_cstr(&actions), "reg8=%"PRIu32, vnic->key);
    }

    ds_destroy(&actions);
    free(owner);
}

/* Adds, for the vNIC of port key 'zone' at 'ofport' (with a firewall or
 * not) whose received frames a mirror copies, the lookups of table
 * MIRROR_INGRESS that the shared flows leave out: without a firewall, in
 * table OUTPUT above the shared output (its zone into reg8 first), which
 * only a frame that passed the vNIC's own pass in table INGRESS_FW reaches
 * with its ofport in reg7; with one, above the ingress
 * firewall's flows that pass without a rule (table
 * INGRESS_FW, with reg13 = PL_MIRROR_PASS_MARK: allowed), those of its
 * network 'net_key' included (add_network_exceptions(): the DHCP answers
 * from its IPv4 prefixes among the 'n_net_cidrs' 'net_cidrs').  Owned by
 * 'owner', cookie 'cookie'. */
void
pipeline_add_ingress_mirror(struct flow_table *ft, const char *owner,
                            uint64_t cookie, uint32_t zone, int64_t ofport,
                            bool firewall, uint32_t net_key,
                            const struct fw_prefix *net_cidrs,
                            size_t n_net_cidrs)
{
    char *actions;

    if (!firewall) {
        actions = xasprintf("set_field:%"PRIu32"->reg8,resubmit(,%d),"
                            "output:%"PRId64, zone, PL_T_MIRROR_INGRESS,
                            ofport);
        add_vnic_flow(ft, owner, PL_T_OUTPUT, 100, cookie, actions,
                      "reg7=%"PRId64, ofport);
        free(actions);
        return;
    }
    actions = xasprintf("set_field:%#x->reg13,resubmit(,%d),goto_table:%d",
                        PL_MIRROR_PASS_MARK, PL_T_MIRROR_INGRESS,
                        PL_T_OUTPUT);
    struct svec matches = SVEC_EMPTY_INITIALIZER;
    fw_pass_matches(false, &matches);
    for (size_t i = 0; i < n_net_cidrs; i++) {
        if (net_cidrs[i].family == AF_INET) {
            svec_add_nocopy(&matches, dhcp_answer_match(net_key,
                                                        &net_cidrs[i]));
        }
    }
    for (size_t i = 0; i < matches.n; i++) {
        add_vnic_flow(ft, owner, PL_T_INGRESS_FW, 111, cookie, actions,
                      "%s,reg8=%"PRIu32, matches.names[i], zone);
    }
    svec_destroy(&matches);
    free(actions);
}

/* Returns the owner name of the overlay's flows for network 'net_key'.  The
 * caller frees it. */
char *
pipeline_overlay_owner(uint32_t net_key)
{
    return xasprintf("ovl:%#"PRIx32, net_key);
}

/* Appends to 'actions' what sends a frame of VNI 'vni' to the chassis at
 * 'ip': the tunnel's key and destination, then table TUNNEL_OUT. */
static void
put_tunnel_actions(struct ds *actions, int64_t vni, ovs_be32 ip)
{
    ds_put_format(actions, "set_field:%"PRId64"->tun_id,set_field:"IP_FMT
                  "->tun_dst,resubmit(,%d)", vni, IP_ARGS(ip),
                  PL_T_TUNNEL_OUT);
}

/* Adds the overlay's flows of VXLAN network 'net': frames of its VNI from
 * the chassis that host vNICs of it join it (and only those: an unknown
 * VNI, or a known one from another address, finds no flow and is
 * dropped), frames to its remote vNICs' MACs go to their chassis, and its
 * broadcast, multicast and unknown unicast go to each of those chassis
 * once.  No MAC is ever learned: the Tenant DB says where each vNIC is;
 * a MAC it does not place (a remote vNIC's allowed address, such as a
 * VRRP MAC that moves with its master) reaches every chassis of the
 * network, whose own table delivers it to the local vNIC that may have it
 * or drops it. */
void
pipeline_add_overlay(struct flow_table *ft, const struct pl_overlay_net *net)
{
    char *owner = pipeline_overlay_owner(net->key);
    uint64_t cookie = pipeline_cookie(PL_COOKIE_NETWORK, net->key);
    struct ds actions = DS_EMPTY_INITIALIZER;
    struct ds match = DS_EMPTY_INITIALIZER;

    /* From the tunnels: untagged frames of the VNI from a known chassis
     * skip port security and the egress firewall (the sender's host
     * applied them) and meet the destination's ingress firewall. */
    ds_put_format(&actions, "set_field:%#"PRIx32"->metadata,"
                  "set_field:%d->reg6,goto_table:%d", net->key,
                  PL_TUNNEL_KEY, PL_T_L2_LOOKUP);
    for (size_t i = 0; i < net->n_chassis; i++) {
        ds_clear(&match);
        ds_put_format(&match, "in_port=%"PRId64",tun_id=%"PRId64","
                      "tun_src="IP_FMT",vlan_tci=0/0x1000",
                      net->tunnel_ofport, net->vni, IP_ARGS(net->chassis[i]));
        flow_table_add(ft, owner, PL_T_CLASSIFY, 100, cookie,
                       ds_cstr(&match), ds_cstr(&actions));
    }

    /* To its remote vNICs. */
    for (size_t i = 0; i < net->n_remotes; i++) {
        const struct pl_remote_vnic *r = &net->remotes[i];
        ds_clear(&match);
        ds_put_format(&match, "metadata=%#"PRIx32",dl_dst="ETH_ADDR_FMT,
                      net->key, ETH_ADDR_ARGS(r->mac));
        ds_clear(&actions);
        put_tunnel_actions(&actions, net->vni, r->chassis_ip);
        flow_table_add(ft, owner, PL_T_L2_LOOKUP, 100, cookie,
                       ds_cstr(&match), ds_cstr(&actions));
    }

    /* Its broadcast and multicast: a copy per chassis. */
    if (net->n_chassis) {
        ds_clear(&actions);
        for (size_t i = 0; i < net->n_chassis; i++) {
            ds_put_format(&actions, "%sclone(", i ? "," : "");
            put_tunnel_actions(&actions, net->vni, net->chassis[i]);
            ds_put_char(&actions, ')');
        }
        ds_clear(&match);
        ds_put_format(&match, "metadata=%#"PRIx32, net->key);
        flow_table_add(ft, owner, PL_T_TUNNEL_FLOOD, 100, cookie,
                       ds_cstr(&match), ds_cstr(&actions));

        /* Unknown unicast: the same copies (never of a frame that came
         * from a tunnel: table TUNNEL_FLOOD drops those). */
        ds_clear(&actions);
        ds_put_format(&actions, "resubmit(,%d)", PL_T_TUNNEL_FLOOD);
        flow_table_add(ft, owner, PL_T_L2_LOOKUP, 10, cookie,
                       ds_cstr(&match), ds_cstr(&actions));
    }
    ds_destroy(&match);
    ds_destroy(&actions);
    free(owner);
}

/* Adds, for 'owner', the flow that sends what table TUNNEL_OUT gets into
 * br-int's VXLAN port 'tunnel_ofport'. */
void
pipeline_add_tunnel_output(struct flow_table *ft, const char *owner,
                           int64_t tunnel_ofport)
{
    char *actions = xasprintf("output:%"PRId64, tunnel_ofport);

    flow_table_add(ft, owner, PL_T_TUNNEL_OUT, 100,
                   pipeline_cookie(PL_COOKIE_PIPELINE, 0), "", actions);
    free(actions);
}

/* Returns the flood bucket, among 'n_buckets' (a power of two), of the
 * vNIC 'target' (pl_vnic_target()): by its ofport alone. */
static size_t
flood_bucket_of(int64_t target, size_t n_buckets)
{
    return hash_uint64(pl_target_ofport(target)) & (n_buckets - 1);
}

/* Groups 'members' ('n_members' ofports, sorted) into the buckets of 'b'
 * (see PL_FLOOD_BUCKET): one bucket for up to PL_FLOOD_BUCKET members,
 * otherwise the smallest power of two of buckets that holds no more than
 * PL_FLOOD_BUCKET per bucket on average and PL_FLOOD_CHUNK in any. */
void
pipeline_flood_buckets_init(struct pl_flood_buckets *b,
                            const int64_t *members, size_t n_members)
{
    size_t n = 1;
    if (n_members > PL_FLOOD_BUCKET) {
        for (n = 2; n * PL_FLOOD_BUCKET < n_members
                    && n < PL_FLOOD_MAX_BUCKETS; n *= 2) {
            continue;
        }
    }
    size_t *start;
    for (;;) {
        start = xcalloc(n + 1, sizeof *start);
        for (size_t i = 0; i < n_members; i++) {
            start[flood_bucket_of(members[i], n) + 1]++;
        }
        size_t max = 0;
        for (size_t i = 1; i <= n; i++) {
            max = MAX(max, start[i]);
        }
        if (max <= PL_FLOOD_CHUNK || n >= PL_FLOOD_MAX_BUCKETS) {
            break;
        }
        free(start);
        n *= 2;
    }
    for (size_t i = 1; i <= n; i++) {
        start[i] += start[i - 1];
    }

    /* Stable: each bucket keeps the members' order. */
    size_t *next = xmemdup(start, n * sizeof *start);
    b->n = n;
    b->start = start;
    b->ofports = xmalloc(MAX(n_members, 1) * sizeof *b->ofports);
    for (size_t i = 0; i < n_members; i++) {
        b->ofports[next[flood_bucket_of(members[i], n)]++] = members[i];
    }
    free(next);
}

/* Frees what 'b' holds. */
void
pipeline_flood_buckets_destroy(struct pl_flood_buckets *b)
{
    free(b->ofports);
    free(b->start);
}

/* Returns true if bucket 'bucket' holds the same members in 'a' and 'b',
 * which have the same number of buckets. */
bool
pipeline_flood_bucket_equals(const struct pl_flood_buckets *a,
                             const struct pl_flood_buckets *b, size_t bucket)
{
    size_t n = a->start[bucket + 1] - a->start[bucket];

    return (n == b->start[bucket + 1] - b->start[bucket]
            && !memcmp(&a->ofports[a->start[bucket]],
                       &b->ofports[b->start[bucket]],
                       n * sizeof *a->ofports));
}

/* Returns the owner name of the FLOOD flow of bucket 'bucket' of network
 * 'net_key' (the caller frees it). */
char *
pipeline_flood_bucket_owner(uint32_t net_key, size_t bucket)
{
    return xasprintf("net:%#"PRIx32"/%"PRIuSIZE, net_key, bucket);
}

/* Appends to 'actions' a copy of the packet to the local vNIC 'target'
 * (pl_vnic_target()): its ofport and zone loaded, through its ingress side
 * (table INGRESS_FW: its firewall, if it has one). */
static void
put_ingress_copy(struct ds *actions, int64_t target)
{
    ds_put_format(actions, "%sclone(set_field:%"PRId64"->reg7,"
                  "set_field:%"PRIu16"->reg8,resubmit(,%d))",
                  actions->length ? "," : "", pl_target_ofport(target),
                  pl_target_zone(target), PL_T_INGRESS_FW);
}

/* Appends to 'actions' a copy of the packet to the uplink 'ofport', through
 * table INGRESS_PORT. */
static void
put_uplink_copy(struct ds *actions, int64_t ofport)
{
    ds_put_format(actions, "%sclone(set_field:%"PRId64"->reg7,"
                  "resubmit(,%d))", actions->length ? "," : "", ofport,
                  PL_T_INGRESS_PORT);
}

/* Appends to 'actions' a copy, to table INGRESS_PORT, per member of bucket
 * 'bucket' of 'b'. */
static void
put_flood_clones(struct ds *actions, const struct pl_flood_buckets *b,
                 size_t bucket)
{
    for (size_t i = b->start[bucket]; i < b->start[bucket + 1]; i++) {
        put_ingress_copy(actions, b->ofports[i]);
    }
}

/* Returns the owner name of the L2 lookup flow of allowed-address MAC 'mac'
 * on network 'net_key' (the caller frees it). */
char *
pipeline_allowed_mac_owner(uint32_t net_key, struct eth_addr mac)
{
    return xasprintf("net:%#"PRIx32"/"ETH_ADDR_FMT, net_key,
                     ETH_ADDR_ARGS(mac));
}

/* Adds, owned by pipeline_allowed_mac_owner(), the L2 lookup flow of 'mac',
 * an allowed address's MAC that differs from the port's own, on network
 * 'net' (its members are ignored): a copy to each of 'holders' (the
 * ofports of the local vNICs that may have it, sorted; at least one), each
 * through its own ingress firewall, and, since such a MAC may be shared
 * (a VRRP pair) and the Tenant DB places it on no chassis, the copies of
 * unknown unicast: to the uplink of a VLAN network, to the other chassis
 * of a VXLAN one (table TUNNEL_FLOOD, which sends no frame that came from a
 * tunnel back into one). */
void
pipeline_add_allowed_mac(struct flow_table *ft, const struct pl_network *net,
                         struct eth_addr mac, const int64_t *holders,
                         size_t n_holders)
{
    char *owner = pipeline_allowed_mac_owner(net->key, mac);
    char *match = xasprintf("metadata=%#"PRIx32",dl_dst="ETH_ADDR_FMT,
                            net->key, ETH_ADDR_ARGS(mac));
    struct ds actions = DS_EMPTY_INITIALIZER;

    for (size_t i = 0; i < n_holders; i++) {
        put_ingress_copy(&actions, holders[i]);
    }
    if (net->type == POLICY_NET_VLAN && net->uplink_ofport > 0) {
        put_uplink_copy(&actions, net->uplink_ofport);
    } else if (net->type == POLICY_NET_VXLAN) {
        ds_put_format(&actions, ",resubmit(,%d)", PL_T_TUNNEL_FLOOD);
    }
    flow_table_add(ft, owner, PL_T_L2_LOOKUP, 100,
                   pipeline_cookie(PL_COOKIE_NETWORK, net->key), match,
                   ds_cstr(&actions));
    ds_destroy(&actions);
    free(match);
    free(owner);
}

/* Adds the FLOOD flow of bucket 'bucket' (which has members) of 'b', the
 * flood buckets of network 'net_key' (which has more than one), owned by
 * pipeline_flood_bucket_owner(). */
void
pipeline_add_flood_bucket(struct flow_table *ft, uint32_t net_key,
                          const struct pl_flood_buckets *b, size_t bucket)
{
    char *owner = pipeline_flood_bucket_owner(net_key, bucket);
    char *match = xasprintf("metadata=%#"PRIx32",reg5=%"PRIuSIZE, net_key,
                            bucket + 1);
    struct ds actions = DS_EMPTY_INITIALIZER;

    put_flood_clones(&actions, b, bucket);
    flow_table_add(ft, owner, PL_T_FLOOD, 100,
                   pipeline_cookie(PL_COOKIE_NETWORK, net_key), match,
                   ds_cstr(&actions));
    ds_destroy(&actions);
    free(match);
    free(owner);
}

/* Adds the flows of network 'net': flooding of broadcast and multicast to
 * its local vNICs (each through its own ingress firewall) and, for a VLAN
 * network with an uplink, the uplink's classification, output and unknown
 * unicast. */
void
pipeline_add_network(struct flow_table *ft, const struct pl_network *net)
{
    struct pl_flood_buckets buckets;

    pipeline_flood_buckets_init(&buckets, net->members, net->n_members);
    pipeline_add_network_buckets(ft, net, &buckets);
    pipeline_flood_buckets_destroy(&buckets);
}

/* The same as pipeline_add_network(), with 'buckets' the flood buckets of
 * 'net''s members (pipeline_flood_buckets_init()), which a caller that keeps
 * them has already. */
void
pipeline_add_network_buckets(struct flow_table *ft,
                             const struct pl_network *net,
                             const struct pl_flood_buckets *buckets)
{
    char *owner = pipeline_network_owner(net->key);
    uint64_t cookie = pipeline_cookie(PL_COOKIE_NETWORK, net->key);
    bool uplink = net->uplink_ofport > 0 && net->type == POLICY_NET_VLAN;
    struct ds actions = DS_EMPTY_INITIALIZER;
    char *match;

    /* Flooding: a clone per member, so that each copy goes through its
     * destination's ingress firewall on its own.  OpenFlow never outputs
     * a packet to the port it came in on.  The members (directly, or a
     * copy per bucket; see PL_FLOOD_BUCKET), then the uplink, then the
     * other chassis of a VXLAN network. */
    for (size_t b = 0; b < buckets->n; b++) {
        if (buckets->n == 1) {
            put_flood_clones(&actions, buckets, b);
        } else if (buckets->start[b] < buckets->start[b + 1]) {
            ds_put_format(&actions, "%sclone(set_field:%"PRIuSIZE"->reg5,"
                          "resubmit(,%d))", actions.length ? "," : "", b + 1,
                          PL_T_FLOOD);
            pipeline_add_flood_bucket(ft, net->key, buckets, b);
        }
    }
    if (uplink) {
        put_uplink_copy(&actions, net->uplink_ofport);
    }
    if (net->type == POLICY_NET_VXLAN) {
        ds_put_format(&actions, "%sresubmit(,%d)", actions.length ? "," : "",
                      PL_T_TUNNEL_FLOOD);
    }
    match = xasprintf("metadata=%#"PRIx32",dl_dst=01:00:00:00:00:00/"
                      "01:00:00:00:00:00", net->key);
    flow_table_add(ft, owner, PL_T_L2_LOOKUP, 50, cookie, match,
                   actions.length ? ds_cstr(&actions) : "drop");
    free(match);

    if (uplink) {
        /* Tagged frames from the uplink join the network untagged. */
        ds_clear(&actions);
        ds_put_format(&actions, "strip_vlan,set_field:%#"PRIx32"->metadata,"
                      "set_field:%d->reg6,goto_table:%d", net->key,
                      PL_UPLINK_KEY, PL_T_L2_LOOKUP);
        match = xasprintf("in_port=%"PRId64",dl_vlan=%"PRId64,
                          net->uplink_ofport, net->segment);
        flow_table_add(ft, owner, PL_T_CLASSIFY, 100, cookie, match,
                       ds_cstr(&actions));
        free(match);

        /* A frame from the uplink that is still tagged once its tag is
         * stripped had a second tag inside the first.  With OVS's default
         * vlan-limit of one, table CLASSIFY drops it already (its ethertype
         * is a TPID); with other_config:vlan-limit=0 or 2 OVS parses both
         * tags, the network's flow above matches the outer one, and the
         * inner one would reach the network's vNICs. */
        match = xasprintf("metadata=%#"PRIx32",reg6=%d,"
                          "vlan_tci=0x1000/0x1000", net->key, PL_UPLINK_KEY);
        flow_table_add(ft, owner, PL_T_L2_LOOKUP, 200, cookie, match, "drop");
        free(match);

        /* Unknown unicast may live behind the uplink, and only there. */
        ds_clear(&actions);
        ds_put_format(&actions, "set_field:%"PRId64"->reg7,goto_table:%d",
                      net->uplink_ofport, PL_T_INGRESS_PORT);
        match = xasprintf("metadata=%#"PRIx32, net->key);
        flow_table_add(ft, owner, PL_T_L2_LOOKUP, 10, cookie, match,
                       ds_cstr(&actions));
        free(match);

        /* The physical network has no firewall of Bulkhead's. */
        ds_clear(&actions);
        ds_put_format(&actions, "goto_table:%d", PL_T_OUTPUT);
        match = xasprintf("metadata=%#"PRIx32",reg7=%"PRId64, net->key,
                          net->uplink_ofport);
        flow_table_add(ft, owner, PL_T_INGRESS_PORT, 100, cookie, match,
                       ds_cstr(&actions));
        free(match);

        /* Out on the uplink, with the network's tag. */
        ds_clear(&actions);
        ds_put_format(&actions, "push_vlan:0x8100,set_field:%"PRId64
                      "->vlan_vid,output:%"PRId64,
                      net->segment | OFPVID12_PRESENT, net->uplink_ofport);
        match = xasprintf("metadata=%#"PRIx32",reg7=%"PRId64, net->key,
                          net->uplink_ofport);
        flow_table_add(ft, owner, PL_T_OUTPUT, 100, cookie, match,
                       ds_cstr(&actions));
        free(match);
    }
    ds_destroy(&actions);
    free(owner);
}
