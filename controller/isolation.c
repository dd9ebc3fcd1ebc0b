/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#include <config.h>
#include "controller/isolation.h"

#include <errno.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include "controller/binding.h"
#include "controller/local-nets.h"
#include "controller/metrics.h"
#include "controller/mirror.h"
#include "controller/trace.h"
#include "coverage.h"
#include "dirs.h"
#include "flow.h"
#include "hash.h"
#include "latch.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/list.h"
#include "openvswitch/match.h"
#include "openvswitch/ofp-errors.h"
#include "openvswitch/ofp-monitor.h"
#include "openvswitch/ofp-msgs.h"
#include "openvswitch/ofp-print.h"
#include "openvswitch/ofp-protocol.h"
#include "openvswitch/ofp-util.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/rconn.h"
#include "openvswitch/vconn.h"
#include "openvswitch/vlog.h"
#include "ovs-thread.h"
#include "policies/policy.h"
#include "schema/bulkhead-idl.h"
#include "seq.h"
#include "socket-util.h"
#include "timeval.h"
#include "unixctl.h"
#include "util.h"
#include "verify/verify.h"
#include "vswitch-idl.h"

VLOG_DEFINE_THIS_MODULE(isolation);

COVERAGE_DEFINE(isolation_checked);
COVERAGE_DEFINE(isolation_leak);

/* The OpenFlow version of the monitor's connection. */
#define ISO_OF_VERSION OFP15_VERSION

/* A change is checked once the table was quiet for ISO_QUIET_MS, or
 * ISO_MAX_DELAY_MS after it at the latest (under churn). */
#define ISO_QUIET_MS 50
#define ISO_MAX_DELAY_MS 500

/* The worker names cookies with these tokens; the main loop, which has the
 * controller's state, replaces them with what the cookies stand for. */
#define COOKIE_TOKEN_START "{{cookie "
#define COOKIE_TOKEN_END "}}"

/* What the worker thread is doing (a copy is kept under the mutex). */
struct iso_status {
    bool enabled;               /* Background checks on. */
    bool too_big;               /* ...but paused: the table is over
                                 * 'max_flows'. */
    size_t max_flows;           /* The limit, 0 for none. */
    bool reading;               /* The table is kept (or being read). */
    bool connected;             /* The monitor's connection is up. */
    bool synced;                /* The table was read whole. */
    size_t n_flows;             /* Flows of the copy. */
    uint64_t n_full;            /* Full checks. */
    uint64_t n_incremental;     /* Incremental checks. */
    uint64_t n_isolated;        /* Background checks that said isolated. */
    uint64_t n_leaky;           /* Background checks that found a leak. */
    uint64_t n_resyncs;         /* Times the table was read whole again. */
    size_t n_leaks;             /* Leaks the last check found. */
    size_t last_ports;          /* Input ports the last check followed. */
    bool last_full;             /* The last check was a full one. */
    long long int last_duration;  /* How long it took (ms). */
    long long int last_when;    /* When it ended (wall ms), or 0. */
};

/* A request of "isolation/verify". */
struct iso_request {
    struct ovs_list node;       /* In 'held', 'requests', the worker's
                                 * 'waiting', then 'answers'. */
    bool portmap;               /* "isolation/portmap": answered by the
                                 * main thread once the map is current. */
    long long int when;         /* When the worker took it (ms). */
    struct unixctl_conn *conn;  /* Whom to answer (main thread only). */
    char *file_name;            /* A dumped table's name, or NULL: live. */
    int fd;                     /* That file, opened by the main thread and
                                 * read by the worker, or -1. */
    bool json;                  /* --format=json. */

    /* The answer, set by the worker. */
    bool isolated;              /* The verdict. */
    char *reply;                /* The text (with cookie tokens), or an
                                 * error if 'failed'. */
    bool failed;                /* The check could not run. */
};

/* The verifier: what the main loop and the worker share. */
struct isolation {
    const struct trace *trace;  /* Names cookies (main thread only). */
    pthread_t thread;           /* The worker. */
    struct latch exit_latch;    /* Set to stop the worker. */
    struct seq *to_worker;      /* Changed when the worker has input. */
    struct seq *to_main;        /* Changed when the main loop has output. */
    uint64_t main_seqno;        /* 'to_main' when last read. */

    struct ovs_mutex mutex;     /* Protects the members below it. */
    char *bridge OVS_GUARDED;   /* The bridge, or NULL. */
    bool enabled OVS_GUARDED;   /* Background checks wanted. */
    size_t max_flows OVS_GUARDED;  /* Not above so many flows (0: no
                                    * limit). */
    struct vfy_portmap *new_map OVS_GUARDED;  /* Handed over, or NULL. */
    struct ovs_list requests OVS_GUARDED;     /* For the worker. */
    struct ovs_list answers OVS_GUARDED;      /* For the main loop. */
    struct iso_status status OVS_GUARDED;     /* The worker's status. */
    char *leak_text OVS_GUARDED;  /* The last background leaks, or NULL. */
    uint64_t leak_seq OVS_GUARDED;  /* Bumped when 'leak_text' changes. */

    /* Main thread only. */
    struct vfy_portmap *map;    /* The map last handed over (a copy). */
    bool main_enabled;          /* 'enabled', as last set. */
    struct ovs_list held;       /* Requests that wait for a current map:
                                 * with background checks off, the map is
                                 * built only when asked for. */
    uint64_t logged_seq;        /* 'leak_seq' last logged. */
    uint64_t counted_checks;    /* Background checks counted in coverage. */
    bool said_too_big;          /* The pause was logged. */
};

/* The worker's own state. */
struct iso_worker {
    struct isolation *iso;      /* Shared state. */
    struct rconn *rconn;        /* The flow monitor's connection. */
    char *target;               /* The bridge's management socket, or
                                 * NULL. */
    bool reading;               /* 'rconn' is on 'target': the table is
                                 * kept (background checks on, or a live
                                 * request waiting). */
    struct ovs_list waiting;    /* Live requests waiting for the table. */
    unsigned int conn_seqno;    /* The connection the monitor went on. */
    bool asked;                 /* The monitor request went out. */
    ovs_be32 xid;               /* Its xid. */
    uint32_t monitor_id;        /* Its monitor id. */
    bool initial;               /* Its first reply part came. */
    bool synced;                /* The table was read whole. */
    bool enabled;               /* Background checks on. */
    size_t max_flows;           /* Not above so many flows (0: none). */
    struct vfy_flows *flows;    /* The switch's table. */
    struct vfy_checker *checker;  /* Verdicts on it. */
    struct vfy_portmap *map;    /* The port map. */
    bool map_changed;           /* A check is due now (the map changed,
                                 * or the table was read anew). */
    bool full_due;              /* The table was read anew: a full check
                                 * is due. */
    bool dirty;                 /* Flows changed since the last check. */
    long long int dirty_since;  /* When the first of them changed. */
    long long int last_change;  /* When the last of them changed. */
    struct iso_status status;   /* What it is doing. */
    char *leak_text;            /* The last background verdict's leaks. */
};

/* Appends a token for 'cookie' (a vfy_cookie_namer). */
static void
token_namer(uint64_t cookie, struct ds *ds, void *aux OVS_UNUSED)
{
    ds_put_format(ds, COOKIE_TOKEN_START "%016"PRIx64 COOKIE_TOKEN_END,
                  cookie);
}

/* The worker. */

/* Returns true if the copy of the table is too big for background checks
 * (bulkhead-isolation-verify-max-flows). */
static bool
worker_too_big(const struct iso_worker *w)
{
    return w->max_flows && vfy_flows_count(w->flows) > w->max_flows;
}

/* Publishes the worker's status and last leaks, and wakes the main loop
 * if it has something to do with them: 'answered' requests, a check to
 * count, new leaks, a pause begun or ended.  A mere flow update does not
 * wake it ("isolation/status" reads the status when asked). */
static void
worker_publish(struct iso_worker *w, bool answered)
{
    struct isolation *iso = w->iso;
    bool wake = answered;

    w->status.n_flows = vfy_flows_count(w->flows);
    w->status.reading = w->reading;
    w->status.connected = w->reading && rconn_is_connected(w->rconn);
    w->status.synced = w->synced;
    w->status.enabled = w->enabled;
    w->status.max_flows = w->max_flows;
    w->status.too_big = worker_too_big(w);
    ovs_mutex_lock(&iso->mutex);
    wake |= (iso->status.n_isolated != w->status.n_isolated
             || iso->status.n_leaky != w->status.n_leaky
             || iso->status.too_big != w->status.too_big);
    iso->status = w->status;
    if (!nullable_string_is_equal(iso->leak_text, w->leak_text)) {
        free(iso->leak_text);
        iso->leak_text = nullable_xstrdup(w->leak_text);
        iso->leak_seq++;
        wake = true;
    }
    ovs_mutex_unlock(&iso->mutex);
    if (wake) {
        seq_change(iso->to_main);
    }
}

/* Returns true if background checks may run now: wanted, the table not
 * too big, read whole, and a port map to check it with. */
static bool
worker_may_check(const struct iso_worker *w)
{
    return w->enabled && !worker_too_big(w) && w->synced && w->map;
}

/* Returns when the flows changed since the last check are due to be
 * checked: once the table was quiet for ISO_QUIET_MS, or ISO_MAX_DELAY_MS
 * after the first change at the latest. */
static long long int
worker_check_due(const struct iso_worker *w)
{
    return MIN(w->last_change + ISO_QUIET_MS,
               w->dirty_since + ISO_MAX_DELAY_MS);
}

/* Checks the copy of the table: all of it if it was read anew, else what
 * the flows changed since the last check and the map's change (vNICs
 * plugged and unplugged) can affect; the checker itself checks all of it
 * when the map changed otherwise or it never ran. */
static void
worker_check(struct iso_worker *w)
{
    long long int start = time_msec();
    size_t n = 0;

    if (w->full_due) {
        vfy_checker_run_full(w->checker, w->flows, w->map);
    } else {
        n = vfy_checker_run_incremental(w->checker, w->flows, w->map);
    }
    w->status.last_full = vfy_checker_last_full(w->checker);
    if (w->status.last_full) {
        n = 0;
        w->status.n_full++;
    } else {
        w->status.n_incremental++;
    }
    w->map_changed = w->full_due = false;
    w->dirty = false;
    w->status.last_ports = n;
    w->status.last_duration = time_msec() - start;
    w->status.last_when = time_wall_msec();
    w->status.n_leaks = vfy_checker_n_leaks(w->checker);
    if (vfy_checker_is_isolated(w->checker)) {
        w->status.n_isolated++;
        free(w->leak_text);
        w->leak_text = NULL;
    } else {
        struct ds s = DS_EMPTY_INITIALIZER;
        w->status.n_leaky++;
        vfy_checker_format(w->checker, &s, token_namer, NULL);
        free(w->leak_text);
        w->leak_text = ds_steal_cstr(&s);
    }
}

/* Sends the flow monitor's request: every flow of every table, now and as
 * it changes. */
static void
worker_ask(struct iso_worker *w)
{
    enum ofputil_protocol protocol
        = ofputil_protocol_from_ofp_version(rconn_get_version(w->rconn));
    struct ofputil_flow_monitor_request rq = {
        .id = ++w->monitor_id,
        .command = OFPFMC_ADD,
        .flags = (OFPFMF_INITIAL | OFPFMF_ADD | OFPFMF_REMOVED
                  | OFPFMF_MODIFY | OFPFMF_INSTRUCTIONS),
        .out_port = OFPP_ANY,
        .out_group = OFPG_ANY,
        .table_id = OFPTT_ALL,
    };
    struct ofpbuf *msg = ofpbuf_new(0);

    match_init_catchall(&rq.match);
    ofputil_append_flow_monitor_request(&rq, msg, protocol);
    ofpmsg_update_length(msg);
    w->xid = ((struct ofp_header *) msg->data)->xid;
    w->asked = true;
    w->initial = false;
    w->synced = false;
    w->conn_seqno = rconn_get_connection_seqno(w->rconn);
    rconn_send(w->rconn, msg, NULL);
}

/* Starts reading the table whole again (the switch paused the monitor and
 * may not tell every deletion since), on a new monitor. */
static void
worker_resync(struct iso_worker *w)
{
    enum ofputil_protocol protocol
        = ofputil_protocol_from_ofp_version(rconn_get_version(w->rconn));

    w->status.n_resyncs++;
    rconn_send(w->rconn, ofputil_encode_flow_monitor_cancel(w->monitor_id,
                                                            protocol),
               NULL);
    worker_ask(w);
}

/* Applies the flow updates of message 'oh'. */
static void
worker_recv_updates(struct iso_worker *w, const struct ofp_header *oh)
{
    struct ofpbuf msg = ofpbuf_const_initializer(oh, ntohs(oh->length));
    struct ofpbuf ofpacts;
    uint64_t stub[1024 / 8];
    bool reply = w->asked && oh->xid == w->xid;

    if (reply && !w->initial) {
        /* Whatever came before the first part of the answer is in it. */
        vfy_flows_clear(w->flows);
        w->initial = true;
        w->map_changed = w->full_due = true;
    }
    ofpbuf_use_stub(&ofpacts, stub, sizeof stub);
    for (;;) {
        struct ofputil_flow_update fu;
        int error = ofputil_decode_flow_update(&fu, &msg, &ofpacts);
        if (error) {
            if (error != EOF) {
                static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
                VLOG_WARN_RL(&rl, "bad flow update from the switch: %s",
                             ofperr_to_string(error));
                worker_resync(w);
            }
            break;
        }
        switch (fu.event) {
        case OFPFME_INITIAL:
        case OFPFME_ADDED:
        case OFPFME_MODIFIED:
            vfy_flows_add(w->flows, fu.table_id, fu.priority, &fu.match,
                          fu.cookie, fu.ofpacts, fu.ofpacts_len);
            break;
        case OFPFME_REMOVED:
            vfy_flows_remove(w->flows, fu.table_id, fu.priority, &fu.match);
            break;
        case OFPFME_PAUSED:
            break;
        case OFPFME_RESUMED:
            worker_resync(w);
            ofpbuf_uninit(&ofpacts);
            return;
        case OFPFME_ABBREV:
        default:
            break;
        }
    }
    ofpbuf_uninit(&ofpacts);
    long long int now = time_msec();
    if (!w->dirty) {
        w->dirty_since = now;
    }
    w->dirty = true;
    w->last_change = now;
    if (reply && !ofpmp_more(oh)) {
        w->synced = true;
    }
}

/* Handles message 'oh' from the switch. */
static void
worker_recv(struct iso_worker *w, const struct ofp_header *oh)
{
    enum ofptype type;

    if (ofptype_decode(&type, oh)) {
        return;
    }
    switch (type) {
    case OFPTYPE_ECHO_REQUEST:
        rconn_send(w->rconn, ofputil_encode_echo_reply(oh), NULL);
        break;
    case OFPTYPE_FLOW_MONITOR_STATS_REPLY:
        worker_recv_updates(w, oh);
        break;
    case OFPTYPE_FLOW_MONITOR_RESUMED:
        worker_resync(w);
        break;
    case OFPTYPE_ERROR:
        if (w->asked && oh->xid == w->xid) {
            static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
            VLOG_WARN_RL(&rl, "the switch refused the flow monitor");
        }
        break;
    default:
        break;
    }
}

/* Sets the answer to 'rq' from the verdicts of 'checker', as text or as
 * JSON, as 'rq' asked. */
static void
answer_verdict(struct iso_request *rq, const struct vfy_checker *checker)
{
    rq->isolated = vfy_checker_is_isolated(checker);
    if (rq->json) {
        struct json *j = vfy_checker_to_json(checker, token_namer, NULL);
        rq->reply = json_to_string(j, JSSF_PRETTY | JSSF_SORT);
        json_destroy(j);
    } else {
        struct ds s = DS_EMPTY_INITIALIZER;
        vfy_checker_format(checker, &s, token_namer, NULL);
        rq->reply = ds_steal_cstr(&s);
    }
}

/* How long a live request waits for the table to be read (ms). */
#define ISO_READ_TIMEOUT_MS 10000

/* Answers request 'rq' (not yet under the mutex) and returns true, or
 * returns false if it must wait for the table to be read. */
static bool
worker_answer(struct iso_worker *w, struct iso_request *rq)
{
    if (!w->map) {
        rq->failed = true;
        rq->reply = xstrdup("no port map yet (the databases are not read)");
        return true;
    }
    if (rq->file_name) {
        /* Read here, not in the main loop: a file of hundreds of MiB
         * (or a /proc file that never ends) takes seconds. */
        struct vfy_flows *flows = vfy_flows_create();
        char *text;
        char *error = vfy_read_fd(rq->fd, rq->file_name, &text);
        rq->fd = -1;
        if (!error) {
            error = vfy_flows_parse(flows, text, rq->file_name);
            free(text);
        }
        if (error) {
            rq->failed = true;
            rq->reply = error;
        } else {
            struct vfy_checker *checker = vfy_checker_create();
            vfy_checker_run_full(checker, flows, w->map);
            answer_verdict(rq, checker);
            vfy_checker_destroy(checker);
        }
        vfy_flows_destroy(flows);
        return true;
    }

    if (!w->synced) {
        if (w->target && time_msec() < rq->when + ISO_READ_TIMEOUT_MS) {
            return false;
        }
        rq->failed = true;
        rq->reply = xasprintf("the switch's flow table is not read yet (%s)",
                              !w->target ? "no bridge"
                              : rconn_is_connected(w->rconn) ? "reading it"
                              : "not connected to the switch");
        return true;
    }
    if (w->dirty || w->map_changed) {
        worker_check(w);
    }
    answer_verdict(rq, w->checker);
    return true;
}

/* Returns true if a request of 'w->waiting' needs the live table. */
static bool
worker_has_live_request(const struct iso_worker *w)
{
    const struct iso_request *rq;

    LIST_FOR_EACH (rq, node, &w->waiting) {
        if (!rq->file_name) {
            return true;
        }
    }
    return false;
}

/* Keeps the copy of the table while it is needed, background checks or a
 * live request, and only then: with background checks off, an idle
 * controller reads no flow update. */
static void
worker_update_reading(struct iso_worker *w)
{
    bool want = w->target && (w->enabled || worker_has_live_request(w));

    if (want && !w->reading) {
        rconn_connect(w->rconn, w->target, w->target);
    } else if (!want && w->reading) {
        rconn_disconnect(w->rconn);
        vfy_flows_clear(w->flows);
        w->dirty = false;
    } else {
        return;
    }
    w->reading = want;
    w->asked = w->synced = false;
}

/* Takes what the main loop handed over: the bridge, the switch, the map,
 * the requests (moved to 'requests', stamped). */
static void
worker_take_input(struct iso_worker *w, struct ovs_list *requests)
{
    struct isolation *iso = w->iso;
    char *bridge;
    struct vfy_portmap *map;

    ovs_mutex_lock(&iso->mutex);
    bridge = nullable_xstrdup(iso->bridge);
    w->enabled = iso->enabled;
    w->max_flows = iso->max_flows;
    map = iso->new_map;
    iso->new_map = NULL;
    ovs_list_push_back_all(requests, &iso->requests);
    ovs_mutex_unlock(&iso->mutex);

    struct iso_request *rq;
    LIST_FOR_EACH (rq, node, requests) {
        rq->when = time_msec();
    }

    char *target = (bridge ? xasprintf("unix:%s/%s.mgmt", ovs_rundir(),
                                       bridge)
                    : NULL);
    if (!nullable_string_is_equal(target, w->target)) {
        /* Another bridge: whatever was read is not its table. */
        if (w->reading) {
            rconn_disconnect(w->rconn);
            w->reading = false;
        }
        free(w->target);
        w->target = target;
        w->asked = w->synced = w->dirty = false;
        vfy_flows_clear(w->flows);
    } else {
        free(target);
    }
    free(bridge);
    if (map) {
        vfy_portmap_destroy(w->map);
        w->map = map;
        w->map_changed = true;
    }
}

/* The worker's niceness: it yields the CPU to the main loop and to
 * ovs-vswitchd, so that checking never slows installing. */
#define ISO_NICE 10

/* The worker thread's loop. */
static void *
isolation_main(void *iso_)
{
    struct isolation *iso = iso_;

    /* Linux gives each thread its own niceness. */
    if (setpriority(PRIO_PROCESS, syscall(SYS_gettid), ISO_NICE)) {
        VLOG_WARN("cannot lower the verifier thread's priority: %s",
                  ovs_strerror(errno));
    }
    struct iso_worker w = {
        .iso = iso,
        .rconn = rconn_create(0, 8, DSCP_DEFAULT, 1u << ISO_OF_VERSION),
        .flows = vfy_flows_create(),
        .checker = vfy_checker_create(),
        .waiting = OVS_LIST_INITIALIZER(&w.waiting),
    };

    while (!latch_is_set(&iso->exit_latch)) {
        uint64_t seqno = seq_read(iso->to_worker);
        struct ovs_list requests = OVS_LIST_INITIALIZER(&requests);

        worker_take_input(&w, &requests);
        ovs_list_push_back_all(&w.waiting, &requests);
        worker_update_reading(&w);
        if (w.reading) {
            rconn_run(w.rconn);
            if (rconn_is_connected(w.rconn)
                && (!w.asked
                    || w.conn_seqno != rconn_get_connection_seqno(w.rconn))) {
                worker_ask(&w);
            }
            for (int i = 0; i < 200; i++) {
                struct ofpbuf *msg = rconn_recv(w.rconn);
                if (!msg) {
                    break;
                }
                worker_recv(&w, msg->data);
                ofpbuf_delete(msg);
            }
        }

        if (worker_may_check(&w)
            && (w.map_changed
                || (w.dirty && time_msec() >= worker_check_due(&w)))) {
            worker_check(&w);
        }

        struct iso_request *rq;
        LIST_FOR_EACH_SAFE (rq, node, &w.waiting) {
            if (worker_answer(&w, rq)) {
                ovs_list_remove(&rq->node);
                ovs_list_push_back(&requests, &rq->node);
            } else {
                poll_timer_wait_until(rq->when + ISO_READ_TIMEOUT_MS);
            }
        }
        bool answered = !ovs_list_is_empty(&requests);
        if (answered) {
            ovs_mutex_lock(&iso->mutex);
            ovs_list_push_back_all(&iso->answers, &requests);
            ovs_mutex_unlock(&iso->mutex);
            /* Background checks off: let the table go. */
            worker_update_reading(&w);
        }
        worker_publish(&w, answered);

        if (w.reading) {
            rconn_run_wait(w.rconn);
            rconn_recv_wait(w.rconn);
        }
        if (worker_may_check(&w) && w.dirty) {
            poll_timer_wait_until(worker_check_due(&w));
        }
        latch_wait(&iso->exit_latch);
        seq_wait(iso->to_worker, seqno);
        poll_block();
    }

    /* Requests still waiting are answered "exiting" by the main thread. */
    ovs_mutex_lock(&iso->mutex);
    ovs_list_push_back_all(&iso->requests, &w.waiting);
    ovs_mutex_unlock(&iso->mutex);
    rconn_destroy(w.rconn);
    free(w.target);
    vfy_flows_destroy(w.flows);
    vfy_checker_destroy(w.checker);
    vfy_portmap_destroy(w.map);
    free(w.leak_text);
    return NULL;
}

/* The main loop's side. */

static void isolation_register_commands(struct isolation *);

/* Creates the verifier and starts its thread; 'trace' names cookies. */
struct isolation *
isolation_create(const struct trace *trace)
{
    struct isolation *iso = xzalloc(sizeof *iso);

    iso->trace = trace;
    latch_init(&iso->exit_latch);
    iso->to_worker = seq_create();
    iso->to_main = seq_create();
    iso->main_seqno = seq_read(iso->to_main);
    ovs_mutex_init(&iso->mutex);
    ovs_list_init(&iso->requests);
    ovs_list_init(&iso->answers);
    ovs_list_init(&iso->held);
    iso->enabled = iso->main_enabled = true;
    isolation_register_commands(iso);
    iso->thread = ovs_thread_create("isolation", isolation_main, iso);
    return iso;
}

/* Frees a request. */
static void
iso_request_free(struct iso_request *rq)
{
    free(rq->file_name);
    if (rq->fd >= 0) {
        close(rq->fd);
    }
    free(rq->reply);
    free(rq);
}

/* Stops the thread and frees 'iso'. */
void
isolation_destroy(struct isolation *iso)
{
    if (!iso) {
        return;
    }
    latch_set(&iso->exit_latch);
    xpthread_join(iso->thread, NULL);

    struct iso_request *rq;
    LIST_FOR_EACH_POP (rq, node, &iso->held) {
        unixctl_command_reply_error(rq->conn, "exiting");
        iso_request_free(rq);
    }
    LIST_FOR_EACH_POP (rq, node, &iso->requests) {
        unixctl_command_reply_error(rq->conn, "exiting");
        iso_request_free(rq);
    }
    LIST_FOR_EACH_POP (rq, node, &iso->answers) {
        unixctl_command_reply_error(rq->conn, "exiting");
        iso_request_free(rq);
    }
    vfy_portmap_destroy(iso->new_map);
    free(iso->bridge);
    free(iso->leak_text);
    vfy_portmap_destroy(iso->map);
    latch_destroy(&iso->exit_latch);
    seq_destroy(iso->to_worker);
    seq_destroy(iso->to_main);
    ovs_mutex_destroy(&iso->mutex);
    free(iso);
}

/* Tells the worker the integration bridge's name (NULL: none yet),
 * whether background checks are wanted, and above how many flows they
 * pause (0: never). */
void
isolation_set_bridge(struct isolation *iso, const char *bridge,
                     bool enabled, size_t max_flows)
{
    bool changed;

    ovs_mutex_lock(&iso->mutex);
    changed = (!nullable_string_is_equal(bridge, iso->bridge)
               || enabled != iso->enabled || max_flows != iso->max_flows);
    if (changed) {
        free(iso->bridge);
        iso->bridge = nullable_xstrdup(bridge);
        iso->enabled = enabled;
        iso->max_flows = max_flows;
    }
    ovs_mutex_unlock(&iso->mutex);
    iso->main_enabled = enabled;
    if (changed) {
        seq_change(iso->to_worker);
    }
}

/* Returns the ofport of 'iface' if it is a port of no network for the
 * port map, else 0: an Interface of br-int with an ofport that is none of
 * the uplink, the VXLAN port, the mirrors' tunnel ports and the analysis
 * ports (a bound vNIC's is taken before, by the caller).  That is a
 * tenant VM's port that is not bound (its Port unknown, refused, or bound
 * on another chassis) or any other port on the bridge: nothing of a
 * network may reach it. */
static int64_t
no_network_ofport(const struct isolation_input *in,
                  const struct ovsrec_interface *iface)
{
    if (!iface->n_ofport || iface->ofport[0] <= 0
        || iface->ofport[0] >= ofp_to_u16(OFPP_MAX)
        || iface->ofport[0] == in->nets->uplink_ofport
        || iface->ofport[0] == in->tunnel_ofport
        || mirror_is_analysis_port(in->mirror, iface)) {
        return 0;
    }
    for (int t = 0; t < MIRROR_N_TNLS; t++) {
        if (iface->ofport[0] == in->mirror_tnls[t]) {
            return 0;
        }
    }
    return iface->ofport[0];
}

/* Returns a fingerprint of what the port map is made of (the bound vNICs'
 * ofports and networks, br-int's other ports, the uplink's and the
 * tunnel's ofports, the Tenant DB's networks): the main loop builds the
 * map again only when it changed.  One hash per vNIC, port and network,
 * no allocation. */
uint32_t
isolation_input_hash(const struct isolation_input *in)
{
    uint32_t hash = hash_2words(in->nets->uplink_ofport, in->tunnel_ofport);
    const struct bhrec_network *n;

    BHREC_NETWORK_FOR_EACH (n, in->tdb) {
        hash = hash_string(n->name, hash_string(n->type,
                                                hash_int(n->segment, hash)));
        hash = hash_string(n->tenant ? n->tenant->name : "", hash);
    }

    /* Order-independent: the sum of one hash per vNIC or port. */
    uint32_t ports = 0;
    const struct vnic *v;
    BINDING_FOR_EACH_VNIC (v, in->binding) {
        if (v->state == VNIC_BOUND) {
            ports += hash_string(v->port.network,
                                 hash_string(v->tenant,
                                             hash_int(v->ofport, 0)));
        }
    }
    for (size_t i = 0; in->br_int && i < in->br_int->n_ports; i++) {
        const struct ovsrec_port *p = in->br_int->ports[i];
        for (size_t j = 0; j < p->n_interfaces; j++) {
            const struct ovsrec_interface *iface = p->interfaces[j];
            ports += hash_string(iface->name,
                                 hash_int(no_network_ofport(in, iface), 1));
        }
    }
    return hash_2words(hash, ports);
}

/* Returns the port map as the controller knows it now: its bound vNICs,
 * br-int's ports of no network, the uplink with every VLAN network's tag
 * and the tunnel with every VXLAN network's VNI, from the Tenant DB. */
static struct vfy_portmap *
build_portmap(const struct isolation_input *in)
{
    struct vfy_portmap *map = vfy_portmap_create();
    const struct vnic *v;

    BINDING_FOR_EACH_VNIC (v, in->binding) {
        if (v->state == VNIC_BOUND && v->ofport > 0
            && v->ofport < UINT16_MAX) {
            char *net = xasprintf("%s/%s", v->tenant, v->port.network);
            vfy_portmap_add_vnic(map, u16_to_ofp(v->ofport), net,
                                 v->port.name);
            free(net);
        }
    }
    for (size_t i = 0; in->br_int && i < in->br_int->n_ports; i++) {
        const struct ovsrec_port *p = in->br_int->ports[i];
        for (size_t j = 0; j < p->n_interfaces; j++) {
            const struct ovsrec_interface *iface = p->interfaces[j];
            int64_t ofport = no_network_ofport(in, iface);
            if (ofport && !vfy_portmap_has_port(map, u16_to_ofp(ofport))) {
                vfy_portmap_add_sealed(map, u16_to_ofp(ofport), iface->name);
            }
        }
    }
    if (in->nets->uplink_ofport > 0 && in->nets->uplink_ofport < UINT16_MAX) {
        vfy_portmap_set_uplink(map, u16_to_ofp(in->nets->uplink_ofport));
    }
    if (in->tunnel_ofport > 0 && in->tunnel_ofport < UINT16_MAX) {
        vfy_portmap_set_tunnel(map, u16_to_ofp(in->tunnel_ofport));
    }
    const struct bhrec_network *n;
    BHREC_NETWORK_FOR_EACH (n, in->tdb) {
        enum policy_net_type type;
        if (!n->tenant || !policy_net_type_from_string(n->type, &type)) {
            continue;
        }
        char *net = xasprintf("%s/%s", n->tenant->name, n->name);
        if (type == POLICY_NET_VLAN && n->segment >= 1
            && n->segment <= 4094) {
            vfy_portmap_add_vlan(map, n->segment, net);
        } else if (type == POLICY_NET_VXLAN && n->segment >= 0
                   && n->segment < (1 << 24)) {
            vfy_portmap_add_vni(map, n->segment, net);
        }
        free(net);
    }
    return map;
}

/* Hands the worker the port map, if it changed. */
void
isolation_update_portmap(struct isolation *iso,
                         const struct isolation_input *in)
{
    struct vfy_portmap *map = build_portmap(in);

    if (iso->map && vfy_portmap_equal(map, iso->map)) {
        vfy_portmap_destroy(map);
        return;
    }
    vfy_portmap_destroy(iso->map);
    iso->map = map;
    ovs_mutex_lock(&iso->mutex);
    vfy_portmap_destroy(iso->new_map);
    iso->new_map = vfy_portmap_clone(map);
    ovs_mutex_unlock(&iso->mutex);
    seq_change(iso->to_worker);
}

/* Returns true if the main loop should keep the port map current now:
 * background checks are on, a request waits for it, or there is none. */
bool
isolation_wants_portmap(const struct isolation *iso)
{
    return iso->main_enabled || !ovs_list_is_empty(&iso->held) || !iso->map;
}

/* Replies to "isolation/portmap" 'conn' with the map. */
static void
reply_portmap(const struct isolation *iso, struct unixctl_conn *conn)
{
    if (!iso->map) {
        unixctl_command_reply_error(conn, "no port map yet (the databases "
                                    "are not read)");
        return;
    }
    struct json *j = vfy_portmap_to_json(iso->map);
    char *s = json_to_string(j, JSSF_PRETTY | JSSF_SORT);
    unixctl_command_reply(conn, s);
    free(s);
    json_destroy(j);
}

/* Lets the requests that waited for a current port map go on: the main
 * loop calls it once the map is as current as it can be. */
void
isolation_release_requests(struct isolation *iso)
{
    struct iso_request *rq;
    bool to_worker = false;

    LIST_FOR_EACH_POP (rq, node, &iso->held) {
        if (rq->portmap) {
            reply_portmap(iso, rq->conn);
            iso_request_free(rq);
        } else {
            ovs_mutex_lock(&iso->mutex);
            ovs_list_push_back(&iso->requests, &rq->node);
            ovs_mutex_unlock(&iso->mutex);
            to_worker = true;
        }
    }
    if (to_worker) {
        seq_change(iso->to_worker);
    }
}

/* Returns 'in' with every cookie token replaced by what the cookie stands
 * for, JSON-escaped if 'json'. */
static char *
name_cookies(const struct isolation *iso, const char *in, bool json)
{
    struct ds out = DS_EMPTY_INITIALIZER;
    size_t start_len = strlen(COOKIE_TOKEN_START);

    for (;;) {
        const char *start = strstr(in, COOKIE_TOKEN_START);
        if (!start) {
            ds_put_cstr(&out, in);
            break;
        }
        ds_put_buffer(&out, in, start - in);
        char *end;
        uint64_t cookie = strtoull(start + start_len, &end, 16);
        if (strncmp(end, COOKIE_TOKEN_END, strlen(COOKIE_TOKEN_END))) {
            ds_put_buffer(&out, start, start_len);
            in = start + start_len;
            continue;
        }
        struct ds name = DS_EMPTY_INITIALIZER;
        if (!trace_name_cookie(iso->trace, cookie, &name)) {
            ds_put_cstr(&name, "not Bulkhead's");
        }
        if (json) {
            struct ds escaped = DS_EMPTY_INITIALIZER;
            json_string_escape(ds_cstr(&name), &escaped);
            /* json_string_escape() adds the quotes: the token is inside a
             * string already. */
            ds_put_buffer(&out, escaped.string + 1, escaped.length - 2);
            ds_destroy(&escaped);
        } else {
            ds_put_cstr(&out, ds_cstr(&name));
        }
        ds_destroy(&name);
        in = end + strlen(COOKIE_TOKEN_END);
    }
    return ds_steal_cstr(&out);
}

/* Answers the requests the worker is done with, counts its checks and
 * logs new leaks. */
void
isolation_run(struct isolation *iso)
{
    uint64_t seqno = seq_read(iso->to_main);
    if (seqno == iso->main_seqno) {
        return;
    }
    iso->main_seqno = seqno;

    struct ovs_list answers = OVS_LIST_INITIALIZER(&answers);
    struct iso_status st;
    char *leaks = NULL;
    uint64_t leak_seq;

    ovs_mutex_lock(&iso->mutex);
    ovs_list_push_back_all(&answers, &iso->answers);
    st = iso->status;
    leak_seq = iso->leak_seq;
    if (leak_seq != iso->logged_seq) {
        leaks = nullable_xstrdup(iso->leak_text);
    }
    ovs_mutex_unlock(&iso->mutex);

    struct iso_request *rq;
    LIST_FOR_EACH_POP (rq, node, &answers) {
        if (rq->failed) {
            unixctl_command_reply_error(rq->conn, rq->reply);
        } else {
            char *text = name_cookies(iso, rq->reply, rq->json);
            if (rq->isolated) {
                unixctl_command_reply(rq->conn, text);
            } else {
                unixctl_command_reply_error(rq->conn, text);
            }
            free(text);
        }
        iso_request_free(rq);
    }

    if (st.too_big != iso->said_too_big) {
        iso->said_too_big = st.too_big;
        if (st.too_big) {
            VLOG_WARN("background isolation checks paused: br-int has %"
                      PRIuSIZE" flows, more than "
                      "bulkhead-isolation-verify-max-flows (%"PRIuSIZE"); "
                      "isolation/verify still checks on demand",
                      st.n_flows, st.max_flows);
        } else {
            VLOG_INFO("background isolation checks resumed");
        }
    }

    uint64_t checks = st.n_isolated + st.n_leaky;
    for (; iso->counted_checks < checks; iso->counted_checks++) {
        COVERAGE_INC(isolation_checked);
    }
    if (leak_seq != iso->logged_seq) {
        iso->logged_seq = leak_seq;
        if (leaks) {
            char *text = name_cookies(iso, leaks, false);
            COVERAGE_INC(isolation_leak);
            VLOG_ERR("isolation broken on br-int's flows: %s", text);
            free(text);
        } else {
            VLOG_INFO("isolation verified again: no leak");
        }
    }
    free(leaks);
}

/* Wakes the main loop when the worker has something for it. */
void
isolation_wait(struct isolation *iso)
{
    seq_wait(iso->to_main, iso->main_seqno);
}

/* Metrics. */

/* Appends the verifier's metric families (a metrics_source_func). */
static void
isolation_metrics(struct ds *s, void *iso_)
{
    struct isolation *iso = iso_;
    struct iso_status st;

    ovs_mutex_lock(&iso->mutex);
    st = iso->status;
    ovs_mutex_unlock(&iso->mutex);

    metrics_put_family(s, "bulkhead_isolation_checks_total", "counter",
                       "Background isolation checks of br-int's flows, by "
                       "verdict.");
    ds_put_format(s, "bulkhead_isolation_checks_total{verdict=\"isolated\"} "
                  "%"PRIu64"\n", st.n_isolated);
    ds_put_format(s, "bulkhead_isolation_checks_total{verdict=\"leak\"} "
                  "%"PRIu64"\n", st.n_leaky);
    metrics_put_family(s, "bulkhead_isolation_leaks", "gauge",
                       "Leaks between networks the last isolation check "
                       "found on br-int's flows (0: isolated).");
    ds_put_format(s, "bulkhead_isolation_leaks %"PRIuSIZE"\n", st.n_leaks);
    metrics_put_family(s, "bulkhead_isolation_in_sync", "gauge",
                       "1 if the verifier holds br-int's whole flow table, "
                       "else 0.");
    ds_put_format(s, "bulkhead_isolation_in_sync %d\n", st.synced);
    metrics_put_family(s, "bulkhead_isolation_last_check_seconds", "gauge",
                       "How long the last isolation check took.");
    ds_put_format(s, "bulkhead_isolation_last_check_seconds %.3f\n",
                  st.last_duration / 1000.0);
}

/* Makes the verifier's counters a source of 'm'. */
void
isolation_add_metrics(struct isolation *iso, struct metrics *m)
{
    metrics_add_source(m, "isolation", isolation_metrics, iso);
}

/* Commands. */

/* "isolation/verify [--format=json] [FILE]". */
static void
cmd_verify(struct unixctl_conn *conn, int argc, const char *argv[],
           void *iso_)
{
    struct isolation *iso = iso_;
    const char *file = NULL;
    bool json = false;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--format=json")) {
            json = true;
        } else if (!strcmp(argv[i], "--format=text")) {
            json = false;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            char *error = xasprintf("%s: unknown option (usage: "
                                    "isolation/verify [--format=json] "
                                    "[FILE])", argv[i]);
            unixctl_command_reply_error(conn, error);
            free(error);
            return;
        } else if (file) {
            unixctl_command_reply_error(conn, "usage: isolation/verify "
                                        "[--format=json] [FILE]");
            return;
        } else {
            file = argv[i];
        }
    }
    if (file && file[0] != '/') {
        /* It would name a file in the controller's working directory, not
         * in the caller's. */
        char *error = xasprintf("%s: not an absolute path (the controller "
                                "does not run in your directory): give it "
                                "as \"$PWD/%s\"", file, file);
        unixctl_command_reply_error(conn, error);
        free(error);
        return;
    }

    struct iso_request *rq = xzalloc(sizeof *rq);
    rq->conn = conn;
    rq->json = json;
    rq->fd = -1;
    if (file) {
        /* Opened here, so that a file that is not there or no regular file
         * is refused at once; read by the worker. */
        char *error = vfy_open_file(file, &rq->fd);
        if (error) {
            unixctl_command_reply_error(conn, error);
            free(error);
            free(rq);
            return;
        }
        rq->file_name = xstrdup(file);
    }
    if (!file && !iso->main_enabled) {
        /* The map is not kept without background checks: the main loop
         * makes it current first. */
        ovs_list_push_back(&iso->held, &rq->node);
        poll_immediate_wake();
        return;
    }
    ovs_mutex_lock(&iso->mutex);
    ovs_list_push_back(&iso->requests, &rq->node);
    ovs_mutex_unlock(&iso->mutex);
    seq_change(iso->to_worker);
}

/* "isolation/portmap": the port map as JSON, for bulkhead-verify. */
static void
cmd_portmap(struct unixctl_conn *conn, int argc OVS_UNUSED,
            const char *argv[] OVS_UNUSED, void *iso_)
{
    struct isolation *iso = iso_;

    if (iso->main_enabled) {
        reply_portmap(iso, conn);
    } else {
        /* Not kept current without background checks: see
         * isolation_release_requests(). */
        struct iso_request *rq = xzalloc(sizeof *rq);
        rq->conn = conn;
        rq->portmap = true;
        rq->fd = -1;
        ovs_list_push_back(&iso->held, &rq->node);
        poll_immediate_wake();
    }
}

/* "isolation/status": what the background verifier is doing. */
static void
cmd_status(struct unixctl_conn *conn, int argc OVS_UNUSED,
           const char *argv[] OVS_UNUSED, void *iso_)
{
    struct isolation *iso = iso_;
    struct iso_status st;
    struct ds s = DS_EMPTY_INITIALIZER;

    ovs_mutex_lock(&iso->mutex);
    st = iso->status;
    ovs_mutex_unlock(&iso->mutex);

    if (!st.enabled) {
        ds_put_cstr(&s, "background checks: off\n");
    } else if (st.too_big) {
        ds_put_format(&s, "background checks: paused (the table has more "
                      "than %"PRIuSIZE" flows, "
                      "bulkhead-isolation-verify-max-flows)\n",
                      st.max_flows);
    } else {
        ds_put_cstr(&s, "background checks: on\n");
    }
    ds_put_format(&s, "switch: %s\n",
                  !st.reading ? "table not kept (read on demand)"
                  : !st.connected ? "not connected"
                  : st.synced ? "connected, table read"
                  : "connected, reading the table");
    ds_put_format(&s, "flows: %"PRIuSIZE"\n", st.n_flows);
    ds_put_format(&s, "checks: %"PRIu64" full, %"PRIu64" incremental; "
                  "%"PRIu64" isolated, %"PRIu64" with leaks\n",
                  st.n_full, st.n_incremental, st.n_isolated, st.n_leaky);
    ds_put_format(&s, "table read again: %"PRIu64" times\n", st.n_resyncs);
    if (st.last_when) {
        ds_put_format(&s, "last check: %s, %s, %lld ms",
                      st.n_leaks ? "LEAKS" : "isolated",
                      st.last_full ? "full" : "incremental",
                      st.last_duration);
        if (!st.last_full) {
            ds_put_format(&s, ", %"PRIuSIZE" input ports followed",
                          st.last_ports);
        }
        ds_put_char(&s, '\n');
    } else {
        ds_put_cstr(&s, "last check: none yet\n");
    }
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

static void
isolation_register_commands(struct isolation *iso)
{
    unixctl_command_register("isolation/verify", "[--format=json] [FILE]",
                             0, 2, cmd_verify, iso);
    unixctl_command_register("isolation/portmap", "", 0, 0, cmd_portmap,
                             iso);
    unixctl_command_register("isolation/status", "", 0, 0, cmd_status, iso);
}
