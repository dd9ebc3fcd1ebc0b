/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#include <config.h>
#include "lib/of-recv.h"

#include "openvswitch/ofpbuf.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/rconn.h"
#include "timeval.h"

/* Calls 'cb' with 'aux' for each message waiting on 'rconn': at most 50, and
 * after the first only while BH_RECV_BUDGET_US has not passed, and until
 * 'cb' returns true.  If it stops before 'rconn' is empty, the poll loop
 * wakes at once for the rest. */
void
bh_rconn_recv_turn(struct rconn *rconn, bh_recv_cb *cb, void *aux)
{
    long long int deadline = time_usec() + BH_RECV_BUDGET_US;

    for (int i = 0; i < 50; i++) {
        if (i && time_usec() >= deadline) {
            poll_immediate_wake();
            break;
        }
        struct ofpbuf *msg = rconn_recv(rconn);
        if (!msg) {
            break;
        }
        bool stop = cb(aux, msg->data);
        ofpbuf_delete(msg);
        if (stop) {
            poll_immediate_wake();
            break;
        }
    }
}
