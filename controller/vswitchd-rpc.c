/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#include <config.h>
#include "controller/vswitchd-rpc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "daemon.h"
#include "dirs.h"
#include "jsonrpc.h"
#include "openvswitch/json.h"
#include "openvswitch/list.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "socket-util.h"
#include "stream.h"
#include "svec.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(vswitchd_rpc);

/* Messages read in one vswitchd_rpc_run(), so that a chatty peer cannot
 * hold the main loop. */
#define MAX_RECV_PER_RUN 50

/* A request waiting for its answer. */
struct vswitchd_rpc_request {
    struct ovs_list node;       /* In 'pending', in the order sent. */
    struct json *id;            /* Its JSON-RPC id. */
    long long int deadline;     /* The connection is dropped if no answer
                                 * came by then. */
    vswitchd_rpc_cb *cb;        /* Told what became of it. */
    void *aux;                  /* For 'cb'. */
};

/* One connection to ovs-vswitchd's control socket. */
struct vswitchd_rpc {
    struct jsonrpc *rpc;        /* The connection, or NULL. */
    char *target;               /* The socket of the last connection, or
                                 * NULL before the first. */
    long int pid;               /* ovs-vswitchd's pid at the last
                                 * connection, 0 before the first. */
    long long int timeout;      /* Milliseconds a request may wait. */
    struct ovs_list pending;    /* struct vswitchd_rpc_request, oldest
                                 * first. */
};

/* Returns a client that is not connected, whose requests may wait
 * 'timeout_ms' milliseconds for their answers. */
struct vswitchd_rpc *
vswitchd_rpc_create(long long int timeout_ms)
{
    struct vswitchd_rpc *r = xzalloc(sizeof *r);

    r->timeout = timeout_ms;
    ovs_list_init(&r->pending);
    return r;
}

/* Frees 'req'. */
static void
request_free(struct vswitchd_rpc_request *req)
{
    json_destroy(req->id);
    free(req);
}

/* Closes the connection, if any, and forgets the requests waiting on it
 * without calling their callbacks: the caller, who closes, knows. */
void
vswitchd_rpc_close(struct vswitchd_rpc *r)
{
    struct vswitchd_rpc_request *req;

    if (r->rpc) {
        jsonrpc_close(r->rpc);
        r->rpc = NULL;
    }
    LIST_FOR_EACH_POP (req, node, &r->pending) {
        request_free(req);
    }
}

/* Closes 'r', as vswitchd_rpc_close() does, and frees it. */
void
vswitchd_rpc_destroy(struct vswitchd_rpc *r)
{
    if (r) {
        vswitchd_rpc_close(r);
        free(r->target);
        free(r);
    }
}

/* Connects to the control socket of the ovs-vswitchd that its pidfile
 * names, unless connected already.  Returns NULL if the connection is up
 * or under way (it may still fail: vswitchd_rpc_run() says so), or else
 * an error message that names the file or socket, which the caller frees.
 * Never blocks. */
char *
vswitchd_rpc_connect(struct vswitchd_rpc *r)
{
    if (r->rpc) {
        return NULL;
    }

    char *pidfile = xasprintf("%s/ovs-vswitchd.pid", ovs_rundir());
    struct stat st;
    if (stat(pidfile, &st) && errno == ENOENT) {
        /* Not running, or restarting: read_pidfile() would log it too. */
        char *error = xasprintf("%s: %s", pidfile, ovs_strerror(ENOENT));
        free(pidfile);
        return error;
    }
    pid_t pid = read_pidfile(pidfile);
    if (pid < 0) {
        char *error = xasprintf("%s: %s", pidfile, ovs_strerror(-pid));
        free(pidfile);
        return error;
    }
    free(pidfile);

    char *target = xasprintf("unix:%s/ovs-vswitchd.%ld.ctl", ovs_rundir(),
                             (long int) pid);
    struct stream *stream;
    int error = stream_open(target, &stream, DSCP_DEFAULT);
    if (error) {
        char *msg = xasprintf("%s: %s", target, ovs_strerror(error));
        free(target);
        return msg;
    }
    r->rpc = jsonrpc_open(stream);
    free(r->target);
    r->target = target;
    r->pid = pid;
    return NULL;
}

/* Returns true if 'r' has a connection (up or under way). */
bool
vswitchd_rpc_is_connected(const struct vswitchd_rpc *r)
{
    return r->rpc != NULL;
}

/* Returns the socket of the last connection ("unix:.../ovs-vswitchd.PID.
 * ctl"), or NULL if 'r' never connected. */
const char *
vswitchd_rpc_target(const struct vswitchd_rpc *r)
{
    return r->target;
}

/* Returns the pid of ovs-vswitchd at the last connection, or 0 if 'r' never
 * connected. */
long int
vswitchd_rpc_pid(const struct vswitchd_rpc *r)
{
    return r->pid;
}

/* Sends ovs-vswitchd 'command' with 'args' (what "ovs-appctl COMMAND
 * ARGS..." would send).  Returns 0 if the request went out (or is queued):
 * 'cb' will be called with 'aux', once, from a later vswitchd_rpc_run()
 * (unless 'r' is closed first).  Otherwise returns an errno value
 * (ENOTCONN if 'r' is not connected) and 'cb' is never called for it; a
 * connection that failed so is reported by the next vswitchd_rpc_run(), to
 * the other requests waiting on it, unless the caller closes it. */
int
vswitchd_rpc_send(struct vswitchd_rpc *r, const char *command,
                  const struct svec *args, vswitchd_rpc_cb *cb, void *aux)
{
    if (!r->rpc) {
        return ENOTCONN;
    }

    struct json **params = xmalloc((args->n ? args->n : 1) * sizeof *params);
    for (size_t i = 0; i < args->n; i++) {
        params[i] = json_string_create(args->names[i]);
    }
    struct jsonrpc_msg *request = jsonrpc_create_request(
        command, json_array_create(params, args->n), NULL);
    struct json *id = json_clone(request->id);
    int error = jsonrpc_send(r->rpc, request);
    if (error) {
        json_destroy(id);
        return error;
    }

    struct vswitchd_rpc_request *req = xzalloc(sizeof *req);
    req->id = id;
    req->deadline = time_msec() + r->timeout;
    req->cb = cb;
    req->aux = aux;
    ovs_list_push_back(&r->pending, &req->node);
    return 0;
}

/* Returns how many requests wait for their answers. */
size_t
vswitchd_rpc_n_pending(const struct vswitchd_rpc *r)
{
    return ovs_list_size(&r->pending);
}

/* Drops the connection because of 'error' (EOF: ovs-vswitchd closed it;
 * ETIMEDOUT: a request waited too long) and tells every waiting request.
 * Returns 'error'. */
static int
lose_connection(struct vswitchd_rpc *r, int error)
{
    struct ovs_list lost;
    char *why = (error == EOF
                 ? xasprintf("%s: ovs-vswitchd closed the connection",
                             r->target)
                 : error == ETIMEDOUT
                 ? xasprintf("%s: no answer in %lld seconds", r->target,
                             r->timeout / 1000)
                 : xasprintf("%s: %s", r->target, ovs_strerror(error)));

    jsonrpc_close(r->rpc);
    r->rpc = NULL;
    ovs_list_move(&lost, &r->pending);
    ovs_list_init(&r->pending);

    /* 'r' is closed, with nothing waiting, before the first callback: a
     * callback may use it. */
    struct vswitchd_rpc_request *req;
    LIST_FOR_EACH_POP (req, node, &lost) {
        req->cb(VSWITCHD_RPC_LOST, why, req->aux);
        request_free(req);
    }
    free(why);
    return error;
}

/* Returns the request waiting for 'msg', a reply or an error, taken out of
 * the waiting list, or NULL if none does. */
static struct vswitchd_rpc_request *
take_request(struct vswitchd_rpc *r, const struct jsonrpc_msg *msg)
{
    struct vswitchd_rpc_request *req;

    if (msg->type != JSONRPC_REPLY && msg->type != JSONRPC_ERROR) {
        return NULL;
    }
    LIST_FOR_EACH (req, node, &r->pending) {
        if (json_equal(req->id, msg->id)) {
            ovs_list_remove(&req->node);
            return req;
        }
    }
    return NULL;
}

/* Hands 'msg', the answer to 'req', to its callback. */
static void
answer(struct vswitchd_rpc_request *req, const struct jsonrpc_msg *msg)
{
    if (msg->type == JSONRPC_REPLY && msg->result
        && msg->result->type == JSON_STRING) {
        req->cb(VSWITCHD_RPC_OK, json_string(msg->result), req->aux);
        return;
    }

    /* An error, or a reply that is not the text an unixctl command
     * answers. */
    const struct json *body = msg->error ? msg->error : msg->result;
    char *text = (body && body->type == JSON_STRING
                  ? xstrdup(json_string(body))
                  : body ? json_to_string(body, 0)
                  : xstrdup("empty answer"));
    req->cb(VSWITCHD_RPC_ERROR, text, req->aux);
    free(text);
}

/* Sends what is queued, hands the answers that came to their requests'
 * callbacks, and drops the connection if it failed or a request waited
 * past its deadline.  Returns 0, or, if the connection was just lost, why:
 * EOF if ovs-vswitchd closed it, ETIMEDOUT if a request waited too long,
 * another errno value for a socket error.  Does nothing if 'r' is not
 * connected. */
int
vswitchd_rpc_run(struct vswitchd_rpc *r)
{
    if (!r->rpc) {
        return 0;
    }

    jsonrpc_run(r->rpc);
    for (int i = 0; i < MAX_RECV_PER_RUN && r->rpc; i++) {
        struct jsonrpc_msg *msg;
        int error = jsonrpc_recv(r->rpc, &msg);
        if (error == EAGAIN) {
            break;
        } else if (error) {
            return lose_connection(r, error);
        }

        struct vswitchd_rpc_request *req = take_request(r, msg);
        if (req) {
            answer(req, msg);
            request_free(req);
        }
        jsonrpc_msg_destroy(msg);
    }
    if (!r->rpc) {
        /* A callback closed it. */
        return 0;
    }

    if (!ovs_list_is_empty(&r->pending)) {
        const struct vswitchd_rpc_request *oldest;
        oldest = CONTAINER_OF(ovs_list_front(&r->pending),
                              struct vswitchd_rpc_request, node);
        if (time_msec() >= oldest->deadline) {
            return lose_connection(r, ETIMEDOUT);
        }
    }
    jsonrpc_run(r->rpc);
    int error = jsonrpc_get_status(r->rpc);
    return error ? lose_connection(r, error) : 0;
}

/* Arranges for the poll loop to wake up when vswitchd_rpc_run() has work:
 * something to send or receive, or a deadline passed. */
void
vswitchd_rpc_wait(const struct vswitchd_rpc *r)
{
    if (!r->rpc) {
        return;
    }
    jsonrpc_wait(r->rpc);
    jsonrpc_recv_wait(r->rpc);
    if (!ovs_list_is_empty(&r->pending)) {
        const struct vswitchd_rpc_request *oldest;
        oldest = CONTAINER_OF(ovs_list_front(&r->pending),
                              struct vswitchd_rpc_request, node);
        poll_timer_wait_until(oldest->deadline);
    }
}
