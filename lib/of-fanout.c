/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#include <config.h>
#include "lib/of-fanout.h"

#include "lib/of-recv.h"
#include "openvswitch/list.h"
#include "openvswitch/ofp-msgs.h"
#include "openvswitch/ofp-util.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/rconn.h"
#include "openvswitch/vlog.h"
#include "socket-util.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(of_fanout);

/* One connection and what it was given to send. */
struct fanout_conn {
    struct of_fanout *fanout;   /* The fanout it belongs to. */
    struct rconn *rconn;        /* The connection; NULL once failed. */
    struct ovs_list msgs;       /* struct ofpbuf: given, not sent yet. */
    ovs_be32 barrier_xid;       /* The barrier whose reply is awaited, or
                                 * 0 if none. */
    bool was_up;                /* It has come up: from then on, its going
                                 * down fails it. */
    unsigned int conn_seqno;    /* rconn's connection seqno when it came
                                 * up. */
};

/* Messages sent over several connections (see of-fanout.h). */
struct of_fanout {
    struct fanout_conn *conns;  /* The connections. */
    size_t n;                   /* Number of 'conns'. */
    long long int deadline;     /* Connections not up by then fail. */
    bool failed;                /* One of them failed. */
    of_fanout_error_cb *error_cb;   /* Called for each error. */
    void *aux;                  /* Its argument. */
};

/* Returns a fanout of 'n' connections to 'target', speaking one of
 * 'allowed_versions', that calls 'error_cb' with 'aux' for each error the
 * switch sends on them. */
struct of_fanout *
of_fanout_create(const char *target, uint32_t allowed_versions, size_t n,
                 of_fanout_error_cb *error_cb, void *aux)
{
    struct of_fanout *f = xzalloc(sizeof *f);

    f->conns = xcalloc(n, sizeof *f->conns);
    f->n = n;
    f->deadline = time_msec() + OF_FANOUT_CONNECT_MS;
    f->error_cb = error_cb;
    f->aux = aux;
    for (size_t i = 0; i < n; i++) {
        struct fanout_conn *fc = &f->conns[i];
        fc->fanout = f;
        ovs_list_init(&fc->msgs);
        fc->rconn = rconn_create(0, 1, DSCP_DEFAULT, allowed_versions);
        rconn_connect(fc->rconn, target, target);
    }
    return f;
}

/* Closes the connection of 'fc' and drops what it did not send. */
static void
conn_close(struct fanout_conn *fc)
{
    if (fc->rconn) {
        rconn_destroy(fc->rconn);
        fc->rconn = NULL;
    }
    ofpbuf_list_delete(&fc->msgs);
    fc->barrier_xid = 0;
}

/* Marks 'fc', and so its fanout, failed. */
static void
conn_fail(struct fanout_conn *fc)
{
    conn_close(fc);
    fc->fanout->failed = true;
}

/* Closes every connection of 'f' and frees it. */
void
of_fanout_destroy(struct of_fanout *f)
{
    if (f) {
        for (size_t i = 0; i < f->n; i++) {
            conn_close(&f->conns[i]);
        }
        free(f->conns);
        free(f);
    }
}

/* Gives 'f' the lists 'lists' (one per connection, struct ofpbuf) to send,
 * each ending in a barrier request unless empty.  Takes the messages. */
void
of_fanout_send(struct of_fanout *f, struct ovs_list *lists)
{
    for (size_t i = 0; i < f->n; i++) {
        struct fanout_conn *fc = &f->conns[i];

        if (ovs_list_is_empty(&lists[i])) {
            continue;
        }
        const struct ofpbuf *last = CONTAINER_OF(ovs_list_back(&lists[i]),
                                                 struct ofpbuf, list_node);
        fc->barrier_xid = ((const struct ofp_header *) last->data)->xid;
        ovs_list_push_back_all(&fc->msgs, &lists[i]);
        if (!fc->rconn) {
            /* Failed already. */
            ofpbuf_list_delete(&fc->msgs);
            fc->barrier_xid = 0;
        }
    }
}

/* Handles the message 'oh' that came on the connection 'fc_' (a
 * bh_recv_cb). */
static bool
conn_recv(void *fc_, const struct ofp_header *oh)
{
    struct fanout_conn *fc = fc_;
    enum ofptype type;

    if (ofptype_decode(&type, oh)) {
        return false;
    }
    switch (type) {
    case OFPTYPE_ECHO_REQUEST:
        rconn_send(fc->rconn, ofputil_encode_echo_reply(oh), NULL);
        break;

    case OFPTYPE_ERROR:
        fc->fanout->failed = true;
        fc->fanout->error_cb(fc->fanout->aux, oh);
        break;

    case OFPTYPE_BARRIER_REPLY:
        if (oh->xid == fc->barrier_xid) {
            fc->barrier_xid = 0;
        }
        break;

    default:
        break;
    }
    return false;
}

/* Runs the connection 'fc': connects, sends, reads the replies. */
static void
conn_run(struct fanout_conn *fc)
{
    struct of_fanout *f = fc->fanout;

    rconn_run(fc->rconn);
    if (!rconn_is_connected(fc->rconn)) {
        if (fc->was_up) {
            /* Lost: what it was sent is in an unknown state. */
            conn_fail(fc);
        } else if (time_msec() >= f->deadline) {
            static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
            VLOG_WARN_RL(&rl, "%s: no connection within %d ms",
                         rconn_get_target(fc->rconn), OF_FANOUT_CONNECT_MS);
            conn_fail(fc);
        }
        return;
    }
    if (!fc->was_up) {
        fc->was_up = true;
        fc->conn_seqno = rconn_get_connection_seqno(fc->rconn);
    } else if (rconn_get_connection_seqno(fc->rconn) != fc->conn_seqno) {
        /* Went down and up again: what it was sent is unknown. */
        conn_fail(fc);
        return;
    }
    struct ofpbuf *msg;
    LIST_FOR_EACH_POP (msg, list_node, &fc->msgs) {
        if (rconn_send(fc->rconn, msg, NULL)) {
            conn_fail(fc);
            return;
        }
    }
    bh_rconn_recv_turn(fc->rconn, conn_recv, fc);
}

/* Runs 'f': connects, sends, and reads the replies. */
void
of_fanout_run(struct of_fanout *f)
{
    for (size_t i = 0; i < f->n; i++) {
        if (f->conns[i].rconn) {
            conn_run(&f->conns[i]);
        }
    }
}

/* Arranges for the poll loop to wake up when 'f' has work. */
void
of_fanout_wait(struct of_fanout *f)
{
    for (size_t i = 0; i < f->n; i++) {
        struct fanout_conn *fc = &f->conns[i];

        if (fc->rconn) {
            rconn_run_wait(fc->rconn);
            rconn_recv_wait(fc->rconn);
            if (!fc->was_up) {
                poll_timer_wait_until(f->deadline);
            } else if (!ovs_list_is_empty(&fc->msgs)) {
                /* Given by of_fanout_send() since the last run: nothing on
                 * the socket would wake the loop to send them. */
                poll_immediate_wake();
            }
        }
    }
}

/* Returns where 'f' stands. */
enum of_fanout_state
of_fanout_get_state(const struct of_fanout *f)
{
    for (size_t i = 0; i < f->n; i++) {
        const struct fanout_conn *fc = &f->conns[i];
        if (fc->barrier_xid || !ovs_list_is_empty(&fc->msgs)) {
            return OF_FANOUT_BUSY;
        }
    }
    return f->failed ? OF_FANOUT_FAILED : OF_FANOUT_DONE;
}
