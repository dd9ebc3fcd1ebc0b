/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef VSWITCHD_RPC_H
#define VSWITCHD_RPC_H 1

/* A client of ovs-vswitchd's control socket, that never blocks.
 *
 * ovs-vswitchd answers the commands that "ovs-appctl" sends it (unixctl:
 * JSON-RPC requests whose method is the command and whose parameters are
 * its arguments, as strings) on $OVS_RUNDIR/ovs-vswitchd.PID.ctl, PID from
 * its pidfile, $OVS_RUNDIR/ovs-vswitchd.pid.  Some of what the controller
 * needs of ovs-vswitchd has no OpenFlow message (conntrack zone limits,
 * ct-limits.h) or is only there (ofproto/trace, trace.h), so it talks to
 * that socket too.  A vswitchd_rpc is one connection to it:
 *
 *   - vswitchd_rpc_connect() reads the pidfile and opens the socket; the
 *     caller decides when to try (and how long to wait after a failure);
 *
 *   - vswitchd_rpc_send() sends a command and returns at once; the answer
 *     comes to the request's callback, from vswitchd_rpc_run() in a later
 *     turn of the main loop, exactly once: ovs-vswitchd's reply, its error,
 *     or the loss of the connection before an answer;
 *
 *   - a request unanswered after the timeout given to vswitchd_rpc_create()
 *     drops the connection (ovs-vswitchd may be stuck; the controller never
 *     is), and so does an error on the socket: every request still waiting
 *     then gets VSWITCHD_RPC_LOST, and vswitchd_rpc_run() returns why, so
 *     that the caller can connect again when it sees fit.
 *
 * Requests on one connection are answered in order.  A caller that must
 * not wait behind another's slow command uses a connection of its own. */

#include <stdbool.h>
#include <stddef.h>
#include "openvswitch/compiler.h"

struct svec;

/* What became of a request. */
enum vswitchd_rpc_status {
    VSWITCHD_RPC_OK,            /* ovs-vswitchd answered: 'text' is its
                                 * reply. */
    VSWITCHD_RPC_ERROR,         /* ovs-vswitchd refused the command: 'text'
                                 * is its error message. */
    VSWITCHD_RPC_LOST,          /* The connection failed or timed out
                                 * first: 'text' says why. */
};

/* Called once per request, from vswitchd_rpc_run(), with what became of
 * it and the 'aux' given to vswitchd_rpc_send().  'text' is valid only
 * during the call.  The callback may send other requests. */
typedef void vswitchd_rpc_cb(enum vswitchd_rpc_status, const char *text,
                             void *aux);

struct vswitchd_rpc *vswitchd_rpc_create(long long int timeout_ms);
void vswitchd_rpc_destroy(struct vswitchd_rpc *);

char *vswitchd_rpc_connect(struct vswitchd_rpc *) OVS_WARN_UNUSED_RESULT;
void vswitchd_rpc_close(struct vswitchd_rpc *);
bool vswitchd_rpc_is_connected(const struct vswitchd_rpc *);
const char *vswitchd_rpc_target(const struct vswitchd_rpc *);
long int vswitchd_rpc_pid(const struct vswitchd_rpc *);

int vswitchd_rpc_send(struct vswitchd_rpc *, const char *command,
                      const struct svec *args, vswitchd_rpc_cb *, void *aux);
size_t vswitchd_rpc_n_pending(const struct vswitchd_rpc *);

int vswitchd_rpc_run(struct vswitchd_rpc *);
void vswitchd_rpc_wait(const struct vswitchd_rpc *);

#endif /* vswitchd-rpc.h */
