/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#include <config.h>
#include "ofproto-ext/stats-collect.h"

#include <stdlib.h>
#include <string.h>
#include "controller/pipeline.h"
#include "coverage.h"
#include "dirs.h"
#include "hash.h"
#include "lib/of-recv.h"
#include "openflow/openflow-1.1.h"
#include "netdev.h"
#include "ofproto-ext/vnic-stats.h"
#include "openvswitch/match.h"
#include "openvswitch/ofp-errors.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofp-msgs.h"
#include "openvswitch/ofp-port.h"
#include "openvswitch/ofp-protocol.h"
#include "openvswitch/ofp-util.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/rconn.h"
#include "openvswitch/vconn.h"
#include "openvswitch/vlog.h"
#include "openvswitch/poll-loop.h"
#include "socket-util.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(stats_collect);

COVERAGE_DEFINE(stats_sample);

/* OpenFlow 1.3: its flow stats entries have the counters at fixed
 * offsets (OpenFlow 1.5 moved them into OXS fields after the match), so
 * that a reply is read without decoding any match or action
 * (recv_flows()). */
#define STATS_OF_VERSION OFP13_VERSION

/* The cookie and mask of the flows asked for: kinds VNIC (1) and
 * VNIC_RULE (5) differ in bit 58 only. */
#define STATS_COOKIE ((uint64_t) PL_COOKIE_VNIC << 56)
#define STATS_COOKIE_MASK (0xfbULL << 56)
BUILD_ASSERT_DECL((((uint64_t) PL_COOKIE_VNIC_RULE << 56) & STATS_COOKIE_MASK)
                  == STATS_COOKIE);

/* The counters reader. */
struct stats_collect {
    struct rconn *rconn;        /* To the bridge's management socket. */
    char *target;               /* Its name, or NULL before a bridge. */
    unsigned int conn_seqno;    /* The connection the requests went on. */
    long long int next;         /* When to ask next (ms). */
    bool waiting;               /* Requests are out. */
    ovs_be32 flow_xid;          /* The flow stats request's xid. */
    ovs_be32 port_xid;          /* The port stats request's xid. */
    int parts;                  /* Replies not finished yet. */
    unsigned long long int sent_seq;    /* Samples asked for. */

    /* The sample being read, then the last complete one. */
    struct stats_flow *flows;   /* Flows read. */
    size_t n_flows, allocated_flows;
    struct stats_port *ports;   /* Ports read. */
    size_t n_ports, allocated_ports;
    bool ready;                 /* A complete sample awaits the taker. */
};

/* Returns a new reader, connected to nothing yet. */
struct stats_collect *
stats_collect_create(void)
{
    struct stats_collect *sc = xzalloc(sizeof *sc);

    sc->rconn = rconn_create(0, 8, DSCP_DEFAULT, 1u << STATS_OF_VERSION);
    return sc;
}

/* Frees 'sc'. */
void
stats_collect_destroy(struct stats_collect *sc)
{
    if (sc) {
        rconn_destroy(sc->rconn);
        free(sc->target);
        free(sc->flows);
        free(sc->ports);
        free(sc);
    }
}

/* Connects 'sc' to the management socket of 'bridge' (if not already). */
void
stats_collect_set_bridge(struct stats_collect *sc, const char *bridge)
{
    char *target = xasprintf("unix:%s/%s.mgmt", ovs_rundir(), bridge);

    if (!sc->target || strcmp(sc->target, target)) {
        free(sc->target);
        sc->target = target;
        rconn_connect(sc->rconn, target, target);
        sc->waiting = false;
        sc->next = 0;
    } else {
        free(target);
    }
}

/* Returns true if 'sc' is connected to the switch. */
bool
stats_collect_is_connected(const struct stats_collect *sc)
{
    return rconn_is_connected(sc->rconn);
}

/* Makes the next run ask at once (or as soon as the sample being read is
 * in), and returns the sequence number that sample will have. */
unsigned long long int
stats_collect_sample_now(struct stats_collect *sc)
{
    sc->next = 0;
    return sc->sent_seq + 1;
}

/* Makes the next sample wait 'interval' ms from now (it is not due while
 * the switch is busy, and is then a whole interval away). */
void
stats_collect_postpone(struct stats_collect *sc, long long int interval)
{
    sc->next = time_msec() + interval;
}

/* Sends the two requests of one sample. */
static void
send_requests(struct stats_collect *sc)
{
    struct ofputil_flow_stats_request fsr = {
        .aggregate = false,
        .table_id = OFPTT_ALL,
        .out_port = OFPP_ANY,
        .out_group = OFPG_ANY,
        .cookie = htonll(STATS_COOKIE),
        .cookie_mask = htonll(STATS_COOKIE_MASK),
    };

    match_init_catchall(&fsr.match);
    struct ofpbuf *fmsg = ofputil_encode_flow_stats_request(
        &fsr, ofputil_protocol_from_ofp_version(STATS_OF_VERSION));
    struct ofpbuf *pmsg = ofputil_encode_dump_ports_request(STATS_OF_VERSION,
                                                            OFPP_ANY);
    sc->flow_xid = ((struct ofp_header *) fmsg->data)->xid;
    sc->port_xid = ((struct ofp_header *) pmsg->data)->xid;
    sc->n_flows = sc->n_ports = 0;
    /* rconn_send() takes both, sent or not. */
    int error = rconn_send(sc->rconn, fmsg, NULL);
    if (error) {
        ofpbuf_delete(pmsg);
    } else {
        error = rconn_send(sc->rconn, pmsg, NULL);
    }
    if (!error) {
        sc->sent_seq++;
        sc->waiting = true;
        sc->parts = 2;
        sc->conn_seqno = rconn_get_connection_seqno(sc->rconn);
    }
}

/* Adds the flows of flow stats reply 'oh' (one part of an OpenFlow 1.3
 * multipart reply) to the sample being read.  Only the fixed fields of
 * each entry are read: its table, priority, cookie and counters; its match
 * is hashed as the switch encoded it (the same flow, the same bytes), and
 * it "drops" if no instruction follows the match.  At 2,000 vNICs a sample
 * has 40,000 flows: decoding their matches and actions cost most of the
 * collection's CPU. */
static void
recv_flows(struct stats_collect *sc, const struct ofp_header *oh)
{
    struct ofpbuf msg = ofpbuf_const_initializer(oh, ntohs(oh->length));
    enum ofpraw raw;

    if (ofpraw_pull(&raw, &msg)
        || (raw != OFPRAW_OFPST11_FLOW_REPLY
            && raw != OFPRAW_OFPST13_FLOW_REPLY)) {
        return;
    }
    while (msg.size) {
        const struct ofp11_flow_stats *fs = msg.data;
        size_t len = msg.size >= sizeof *fs ? ntohs(fs->length) : 0;
        const struct ofp11_match_header *mh = (const void *) (fs + 1);
        size_t match_len = (len >= sizeof *fs + sizeof *mh
                            ? ntohs(mh->length) : 0);
        if (len > msg.size || len % 8 || match_len < sizeof *mh
            || sizeof *fs + ROUND_UP(match_len, 8) > len) {
            static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
            VLOG_WARN_RL(&rl, "bad flow stats entry from the switch");
            return;
        }
        if (sc->n_flows >= sc->allocated_flows) {
            sc->flows = x2nrealloc(sc->flows, &sc->allocated_flows,
                                   sizeof *sc->flows);
        }
        sc->flows[sc->n_flows++] = (struct stats_flow) {
            .table_id = fs->table_id,
            .priority = ntohs(fs->priority),
            .cookie = ntohll(fs->cookie),
            .match_hash = hash_bytes(mh, match_len, 0),
            .drops = sizeof *fs + ROUND_UP(match_len, 8) == len,
            .packets = ntohll(fs->packet_count),
            .bytes = ntohll(fs->byte_count),
        };
        ofpbuf_pull(&msg, len);
    }
}

/* Adds the ports of port stats reply 'oh' to the sample being read. */
static void
recv_ports(struct stats_collect *sc, const struct ofp_header *oh)
{
    struct ofpbuf msg = ofpbuf_const_initializer(oh, ntohs(oh->length));

    for (;;) {
        struct ofputil_port_stats ps;
        if (ofputil_decode_port_stats(&ps, &msg)) {
            break;
        }
        if (sc->n_ports >= sc->allocated_ports) {
            sc->ports = x2nrealloc(sc->ports, &sc->allocated_ports,
                                   sizeof *sc->ports);
        }
        sc->ports[sc->n_ports++] = (struct stats_port) {
            .ofport = ofp_to_u16(ps.port_no),
            .rx_packets = ps.stats.rx_packets,
            .rx_bytes = ps.stats.rx_bytes,
            .tx_packets = ps.stats.tx_packets,
            .tx_bytes = ps.stats.tx_bytes,
        };
        netdev_free_custom_stats_counters(&ps.custom_stats);
    }
}

/* Handles message 'oh' from the switch to 'sc_' (a bh_recv_cb). */
static bool
recv_msg(void *sc_, const struct ofp_header *oh)
{
    struct stats_collect *sc = sc_;
    enum ofptype type;

    if (ofptype_decode(&type, oh)) {
        return false;
    }
    if (type == OFPTYPE_ECHO_REQUEST) {
        rconn_send(sc->rconn, ofputil_encode_echo_reply(oh), NULL);
        return false;
    }
    if (!sc->waiting) {
        return false;
    }
    if (type == OFPTYPE_FLOW_STATS_REPLY && oh->xid == sc->flow_xid) {
        recv_flows(sc, oh);
    } else if (type == OFPTYPE_PORT_STATS_REPLY && oh->xid == sc->port_xid) {
        recv_ports(sc, oh);
    } else if (type == OFPTYPE_ERROR
               && (oh->xid == sc->flow_xid || oh->xid == sc->port_xid)) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
        VLOG_WARN_RL(&rl, "the switch refused a statistics request");
        sc->waiting = false;
        return false;
    } else {
        return false;
    }
    if (!ofpmp_more(oh) && !--sc->parts) {
        sc->waiting = false;
        sc->ready = true;
        COVERAGE_INC(stats_sample);
    }
    return false;
}

/* Runs 'sc': keeps its connection up, asks for a sample every 'interval'
 * ms (0: never) and reads the replies. */
void
stats_collect_run(struct stats_collect *sc, long long int interval)
{
    if (!sc->target) {
        return;
    }
    rconn_run(sc->rconn);
    if (sc->waiting
        && sc->conn_seqno != rconn_get_connection_seqno(sc->rconn)) {
        /* The connection went down with the requests. */
        sc->waiting = false;
        sc->next = 0;
    }
    /* A sample comes as many large replies: a turn's worth of them at a
     * time. */
    bh_rconn_recv_turn(sc->rconn, recv_msg, sc);
    long long int now = time_msec();
    if (interval > 0 && rconn_is_connected(sc->rconn) && !sc->waiting
        && !sc->ready && now >= sc->next) {
        sc->next = now + interval;
        send_requests(sc);
    }
}

/* Arranges for the poll loop to wake when 'sc' has something to do. */
void
stats_collect_wait(const struct stats_collect *sc, long long int interval)
{
    if (!sc->target) {
        return;
    }
    rconn_run_wait(sc->rconn);
    rconn_recv_wait(sc->rconn);
    if (sc->ready) {
        poll_immediate_wake();
    } else if (interval > 0 && rconn_is_connected(sc->rconn)
               && !sc->waiting) {
        poll_timer_wait_until(sc->next);
    }
}

/* If a complete sample was read since the last call, points '*flows' and
 * '*ports' to it (valid until the next run), stores its sequence number in
 * '*seq' (samples asked for so far, this one included) and returns
 * true. */
bool
stats_collect_take(struct stats_collect *sc,
                   const struct stats_flow **flows, size_t *n_flows,
                   const struct stats_port **ports, size_t *n_ports,
                   unsigned long long int *seq)
{
    if (!sc->ready) {
        return false;
    }
    sc->ready = false;
    *seq = sc->sent_seq;
    *flows = sc->flows;
    *n_flows = sc->n_flows;
    *ports = sc->ports;
    *n_ports = sc->n_ports;
    return true;
}
