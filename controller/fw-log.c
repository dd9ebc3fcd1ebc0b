/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#include <config.h>
#include "controller/fw-log.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include "controller/binding.h"
#include "controller/firewall.h"
#include "controller/fw-rules.h"
#include "coverage.h"
#include "dp-packet.h"
#include "flow.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofp-packet.h"
#include "openvswitch/vlog.h"
#include "openvswitch/token-bucket.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(fw_log);

COVERAGE_DEFINE(fw_log_line);
COVERAGE_DEFINE(fw_log_suppressed);

/* Tokens a line costs: token_bucket counts tokens per millisecond. */
#define TOKENS_PER_LINE 1000

/* The connection log. */
struct fw_log {
    const struct binding *binding;  /* vNICs, to name a zone's. */
    const struct firewall *fw;      /* Rules, to name a key's. */
    struct ovsdb_idl *tdb;          /* The Tenant DB. */
    uint32_t host_rate;             /* Lines per second, host-wide. */
    struct token_bucket allow_bucket;   /* The host's cap on allow lines. */
    struct token_bucket deny_bucket;    /* The host's cap on deny lines. */
};

/* Creates a log that names vNICs from 'b' and rules from 'fw' and 'tdb'. */
struct fw_log *
fw_log_create(const struct binding *b, const struct firewall *fw,
              struct ovsdb_idl *tdb)
{
    struct fw_log *log = xzalloc(sizeof *log);

    log->binding = b;
    log->fw = fw;
    log->tdb = tdb;
    fw_log_set_host_rate(log, 200);
    return log;
}

/* Frees 'log'. */
void
fw_log_destroy(struct fw_log *log)
{
    free(log);
}

/* Caps the lines of the whole host at 'rate' per second (burst: as many)
 * for the connections logged rules allow, and as many for the packets
 * vNICs deny: two budgets, so that a flood of allowed connections on
 * logged rules (bounded per rule, not per vNIC nor per tenant) never
 * silences another vNIC's denials, which the datapath already holds to
 * the same rate with the host's meter (FIREWALL_LOG_HOST_METER). */
void
fw_log_set_host_rate(struct fw_log *log, uint32_t rate)
{
    if (rate != log->host_rate) {
        log->host_rate = rate;
        token_bucket_init(&log->allow_bucket, rate,
                          (unsigned long long) rate * TOKENS_PER_LINE);
        token_bucket_init(&log->deny_bucket, rate,
                          (unsigned long long) rate * TOKENS_PER_LINE);
    }
}

/* Appends the protocol and addresses of 'flow' to 's'. */
static void
put_packet(const struct flow *flow, struct ds *s)
{
    static const struct { uint8_t proto; const char *name; } names[] = {
        { IPPROTO_TCP, "tcp" }, { IPPROTO_UDP, "udp" },
        { IPPROTO_ICMP, "icmp" }, { IPPROTO_ICMPV6, "icmpv6" },
    };
    const char *proto = NULL;

    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        if (flow->nw_proto == names[i].proto) {
            proto = names[i].name;
        }
    }
    if (proto) {
        ds_put_format(s, " proto=%s", proto);
    } else {
        ds_put_format(s, " proto=%"PRIu8, flow->nw_proto);
    }
    if (flow->dl_type == htons(ETH_TYPE_IP)) {
        ds_put_format(s, " src="IP_FMT" dst="IP_FMT,
                      IP_ARGS(flow->nw_src), IP_ARGS(flow->nw_dst));
    } else {
        ds_put_cstr(s, " src=");
        ipv6_format_addr(&flow->ipv6_src, s);
        ds_put_cstr(s, " dst=");
        ipv6_format_addr(&flow->ipv6_dst, s);
    }
    if (flow->nw_proto == IPPROTO_ICMP || flow->nw_proto == IPPROTO_ICMPV6) {
        ds_put_format(s, " type=%"PRIu16" code=%"PRIu16,
                      ntohs(flow->tp_src), ntohs(flow->tp_dst));
    } else if (flow->nw_proto == IPPROTO_TCP || flow->nw_proto == IPPROTO_UDP
               || flow->nw_proto == IPPROTO_SCTP) {
        ds_put_format(s, " sport=%"PRIu16" dport=%"PRIu16,
                      ntohs(flow->tp_src), ntohs(flow->tp_dst));
    }
}

/* Logs the connection that packet-in 'pin' reports, if it is one of the
 * firewall's (its userdata says so) and the host's cap allows. */
void
fw_log_packet_in(const struct ofputil_packet_in *pin, void *log_)
{
    struct fw_log *log = log_;
    const uint8_t *ud = pin->userdata;

    if (pin->userdata_len != 4 || ud[0] != 1
        || (ud[1] != FIREWALL_LOG_ALLOW && ud[1] != FIREWALL_LOG_DENY)
        || (ud[2] != FW_DIR_EGRESS && ud[2] != FW_DIR_INGRESS)) {
        return;
    }
    struct token_bucket *bucket = (ud[1] == FIREWALL_LOG_ALLOW
                                   ? &log->allow_bucket
                                   : &log->deny_bucket);
    if (!token_bucket_withdraw(bucket, TOKENS_PER_LINE)) {
        COVERAGE_INC(fw_log_suppressed);
        return;
    }
    COVERAGE_INC(fw_log_line);

    const struct flow *md = &pin->flow_metadata.flow;
    bool egress = ud[2] == FW_DIR_EGRESS;
    uint32_t zone = md->regs[egress ? 6 : 8];
    const struct vnic *v = binding_find_by_zone(log->binding, zone);
    struct ds s = DS_EMPTY_INITIALIZER;

    ds_put_format(&s, "verdict=%s", (ud[1] == FIREWALL_LOG_ALLOW
                                     ? "allow" : "deny"));
    if (v) {
        ds_put_format(&s, " tenant=%s network=%s port=%s", v->tenant,
                      v->port.network, v->port.name);
    } else {
        ds_put_format(&s, " tenant=? network=? port=zone%"PRIu32, zone);
    }
    ds_put_format(&s, " direction=%s rule=", egress ? "egress" : "ingress");
    if (ud[1] == FIREWALL_LOG_DENY) {
        ds_put_cstr(&s, "default");
    } else if (!firewall_describe_rule(log->fw, log->tdb, md->regs[13],
                                       false, &s)) {
        ds_put_format(&s, "%#"PRIx32, md->regs[13]);
    }

    struct dp_packet packet;
    struct flow flow;
    dp_packet_use_const(&packet, pin->packet, pin->packet_len);
    flow_extract(&packet, &flow);
    put_packet(&flow, &s);

    VLOG_INFO("%s", ds_cstr(&s));
    ds_destroy(&s);
}
