/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* The Prometheus endpoint's HTTP server: see metrics-server.h.
 *
 * Threads: metrics_server_create() binds the socket and starts the server
 * thread, which alone runs the event_base, the evhttp and every connection.
 * The other functions are called by the main loop; they touch only the
 * snapshot and the health (under 'mutex'), the statistics (atomics), and,
 * in metrics_server_destroy(), the "stop" event, which libevent lets
 * another thread activate once evthread_use_pthreads() was called.
 *
 * Connections: evhttp accepts them from the listener it was given and asks
 * new_conn_bev() for each one's bufferevent, a socket bufferevent with
 * BEV_OPT_CLOSE_ON_FREE on which the server keeps a reference of its own.
 * When evhttp is done with a connection, it frees the bufferevent, which
 * clears its callbacks (bufferevent_free()) but, since the server still
 * holds it, neither closes the socket nor frees it: sweep() finds such
 * bufferevents (no event callback left), drops the server's reference and
 * so closes the socket, with its events removed first (never the other way
 * around, since another connection may get the same descriptor).  A
 * connection that must make room is shut down (shutdown(2)): evhttp then
 * sees the end of its stream, or an error, and frees it as usual.  (A
 * filter bufferevent's free callback would tell sooner, but libevent
 * 2.1.12 uses a filter's memory after freeing it when evhttp frees one.) */

#include <config.h>

#include "controller/metrics-server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include "coverage.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/list.h"
#include "openvswitch/vlog.h"
#include "ovs-atomic.h"
#include "ovs-thread.h"
#include "socket-util.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(metrics_server);

COVERAGE_DEFINE(metrics_http_request);
COVERAGE_DEFINE(metrics_conn_evicted);
COVERAGE_DEFINE(metrics_listener_paused);

/* One published text, shared by the responses that serve it. */
struct snapshot {
    struct ovs_refcount ref;    /* The server's, and one per response. */
    size_t len;                 /* Bytes in 'text'. */
    char text[];                /* The exposition text (not terminated). */
};

/* One connection evhttp serves, or served. */
struct conn {
    struct ovs_list node;       /* In 'conns'. */
    struct bufferevent *bev;    /* Its bufferevent (one reference ours). */
    bool evicted;               /* Shut down to make room. */
};

/* The server. */
struct metrics_server {
    /* Set by metrics_server_create(), constant afterwards. */
    char *address;              /* "ADDR:PORT" as bound, port resolved. */
    uint16_t port;              /* The bound port. */
    struct event_base *base;    /* The server thread's event loop. */
    struct evhttp *http;        /* Its HTTP server. */
    struct event *stop;         /* Activated to stop the thread. */
    struct event *sweeper;      /* Calls sweep() every second. */
    struct evconnlistener *listener;  /* Accepts connections for 'http'. */
    pthread_t thread;           /* The server thread. */

    /* What the main loop publishes. */
    struct ovs_mutex mutex;     /* Protects the members below. */
    struct snapshot *snapshot OVS_GUARDED;  /* What /metrics serves. */
    bool healthy OVS_GUARDED;   /* What /healthz says. */
    char *reason OVS_GUARDED;   /* Why not healthy, or NULL. */
    atomic_llong beat;          /* time_msec() of the main loop's last
                                 * turn (metrics_server_beat()). */

    /* The server thread's own. */
    struct ovs_list conns;      /* Connections (struct conn) whose
                                 * bufferevent is ours to free, oldest
                                 * first. */
    size_t n_conns;             /* Those of 'conns' not evicted. */
    bool paused;                /* 'listener' disabled: 'conns' holds
                                 * METRICS_SERVER_MAX_OPEN. */

    /* Statistics, written by the server thread. */
    atomic_uint64_t n_connections;  /* Connections accepted. */
    atomic_uint64_t n_evicted;  /* Connections shut down to make room. */
    atomic_uint64_t n_requests; /* Requests answered. */
    atomic_uint64_t n_open;     /* Connections open, evicted included. */
};

/* Snapshots. */

/* Returns a snapshot of the 'len' bytes of 'text', with one reference. */
static struct snapshot *
snapshot_create(const char *text, size_t len)
{
    struct snapshot *snap = xmalloc(sizeof *snap + len);

    ovs_refcount_init(&snap->ref);
    snap->len = len;
    memcpy(snap->text, text, len);
    return snap;
}

/* Drops a reference to 'snap'. */
static void
snapshot_unref(struct snapshot *snap)
{
    if (snap && ovs_refcount_unref(&snap->ref) == 1) {
        free(snap);
    }
}

/* evbuffer_add_reference()'s cleanup: a response is done with its
 * snapshot. */
static void
snapshot_release(const void *data OVS_UNUSED, size_t len OVS_UNUSED,
                 void *snap)
{
    snapshot_unref(snap);
}

/* Connections. */

/* Shuts down the oldest connection not yet shut down, so that a new one
 * can be served. */
static void
evict_oldest(struct metrics_server *s)
{
    struct conn *c;

    LIST_FOR_EACH (c, node, &s->conns) {
        if (!c->evicted) {
            c->evicted = true;
            s->n_conns--;
            evutil_socket_t fd = bufferevent_getfd(c->bev);
            if (fd >= 0) {
                /* evhttp sees the end of the stream (or an error, if it
                 * was writing) and frees the connection. */
                shutdown(fd, SHUT_RDWR);
            }
            atomic_add_relaxed(&s->n_evicted, 1, &(uint64_t) { 0 });
            COVERAGE_INC(metrics_conn_evicted);
            return;
        }
    }
}

/* Drops the server's reference to the bufferevents that evhttp is done
 * with (all of them, if 'all'), which closes their sockets. */
static void
sweep(struct metrics_server *s, bool all)
{
    struct conn *c;

    LIST_FOR_EACH_SAFE (c, node, &s->conns) {
        bufferevent_event_cb eventcb;

        bufferevent_getcb(c->bev, NULL, NULL, &eventcb, NULL);
        if (all || !eventcb) {
            ovs_list_remove(&c->node);
            if (!c->evicted) {
                s->n_conns--;
            }
            bufferevent_decref(c->bev);
            free(c);
            atomic_sub_relaxed(&s->n_open, 1, &(uint64_t) { 0 });
        }
    }
    if (s->paused && ovs_list_size(&s->conns) < METRICS_SERVER_MAX_OPEN) {
        s->paused = false;
        evconnlistener_enable(s->listener);
    }
}

/* The "sweeper" timer. */
static void
sweep_cb(evutil_socket_t fd OVS_UNUSED, short what OVS_UNUSED, void *s)
{
    sweep(s, false);
}

/* evhttp's bufferevent callback, called for every connection it accepts:
 * makes room if needed and returns the new connection's bufferevent. */
static struct bufferevent *
new_conn_bev(struct event_base *base, void *s_)
{
    struct metrics_server *s = s_;

    sweep(s, false);
    while (s->n_conns >= METRICS_SERVER_MAX_CONNS) {
        evict_oldest(s);
    }

    struct bufferevent *bev = bufferevent_socket_new(base, -1,
                                                     BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        /* evhttp makes one of its own: served, but not counted. */
        return NULL;
    }
    bufferevent_incref(bev);
    /* What a client sends while its answer is written piles up unread:
     * a client that pipelines requests without end, reading just enough
     * to stay alive, would take the host's memory. */
    bufferevent_setwatermark(bev, EV_READ, 0, 2 * METRICS_SERVER_MAX_HEADERS);

    struct conn *c = xzalloc(sizeof *c);
    c->bev = bev;
    ovs_list_push_back(&s->conns, &c->node);
    s->n_conns++;
    atomic_add_relaxed(&s->n_open, 1, &(uint64_t) { 0 });
    atomic_add_relaxed(&s->n_connections, 1, &(uint64_t) { 0 });
    if (ovs_list_size(&s->conns) >= METRICS_SERVER_MAX_OPEN) {
        /* An evicted connection keeps its socket until evhttp has seen
         * its end: a flood of connections would otherwise take every file
         * descriptor of the process.  New ones wait in the kernel's
         * backlog until some are gone. */
        s->paused = true;
        evconnlistener_disable(s->listener);
        COVERAGE_INC(metrics_listener_paused);
    }
    return bev;
}

/* Requests. */

/* Sends 'code' and 'body' on 'req', or only the headers if 'req' is a
 * HEAD request (libevent 2.1 would send the body too). */
static void
send_reply(struct evhttp_request *req, int code, const char *reason,
           struct evbuffer *body)
{
    if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
        char len[32];

        snprintf(len, sizeof len, "%"PRIuSIZE, evbuffer_get_length(body));
        evhttp_add_header(evhttp_request_get_output_headers(req),
                          "Content-Length", len);
        evbuffer_drain(body, evbuffer_get_length(body));
    }
    evhttp_send_reply(req, code, reason, body);
}

/* Sends 'code' with the plain text 'body' on 'req'. */
static void
reply_text(struct evhttp_request *req, int code, const char *reason,
           const char *body)
{
    struct evbuffer *buf = evbuffer_new();

    evbuffer_add(buf, body, strlen(body));
    evhttp_add_header(evhttp_request_get_output_headers(req),
                      "Content-Type", "text/plain; charset=utf-8");
    send_reply(req, code, reason, buf);
    evbuffer_free(buf);
}

/* /metrics: the last published snapshot, by reference. */
static void
serve_metrics(struct metrics_server *s, struct evhttp_request *req)
{
    ovs_mutex_lock(&s->mutex);
    struct snapshot *snap = s->snapshot;
    if (snap) {
        ovs_refcount_ref(&snap->ref);
    }
    ovs_mutex_unlock(&s->mutex);

    struct evbuffer *buf = evbuffer_new();
    if (snap && evbuffer_add_reference(buf, snap->text, snap->len,
                                       snapshot_release, snap)) {
        snapshot_unref(snap);
    }
    evhttp_add_header(evhttp_request_get_output_headers(req),
                      "Content-Type", "text/plain; version=0.0.4; "
                      "charset=utf-8");
    send_reply(req, HTTP_OK, "OK", buf);
    evbuffer_free(buf);
}

/* /healthz: 200 "ok", or 503 and why. */
static void
serve_healthz(struct metrics_server *s, struct evhttp_request *req)
{
    long long int beat;
    atomic_read_relaxed(&s->beat, &beat);
    long long int stalled = time_msec() - beat;

    ovs_mutex_lock(&s->mutex);
    bool healthy = s->healthy && stalled < METRICS_SERVER_STALL_MS;
    char *body = (stalled >= METRICS_SERVER_STALL_MS
                  ? xasprintf("the controller's main loop has not turned "
                              "for %lld s\n", stalled / 1000)
                  : xasprintf("%s\n", healthy ? "ok"
                              : s->reason ? s->reason : "not healthy"));
    ovs_mutex_unlock(&s->mutex);

    reply_text(req, healthy ? HTTP_OK : HTTP_SERVUNAVAIL,
               healthy ? "OK" : "Service Unavailable", body);
    free(body);
}

/* evhttp's request callback: every complete GET or HEAD request. */
static void
handle_request(struct evhttp_request *req, void *s_)
{
    struct metrics_server *s = s_;
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));

    COVERAGE_INC(metrics_http_request);
    atomic_add_relaxed(&s->n_requests, 1, &(uint64_t) { 0 });
    if (path && !strcmp(path, "/metrics")) {
        serve_metrics(s, req);
    } else if (path && !strcmp(path, "/healthz")) {
        serve_healthz(s, req);
    } else {
        reply_text(req, HTTP_NOTFOUND, "Not Found",
                   "not found: try /metrics or /healthz\n");
    }
}

/* The thread. */

/* The "stop" event: ends the server thread's loop. */
static void
stop_cb(evutil_socket_t fd OVS_UNUSED, short what OVS_UNUSED, void *s_)
{
    struct metrics_server *s = s_;

    event_base_loopbreak(s->base);
}

/* The server thread. */
static void *
server_main(void *s_)
{
    struct metrics_server *s = s_;

    event_base_loop(s->base, EVLOOP_NO_EXIT_ON_EMPTY);
    return NULL;
}

/* Creation. */

/* Parses 'target', "ADDR:PORT" (IPv4) or "[ADDR]:PORT" (IPv6), into
 * 'ss'.  Returns NULL, or an error message that the caller frees. */
static char *
parse_target(const char *target, struct sockaddr_storage *ss)
{
    char *copy = xstrdup(target);
    char *addr, *port_s;
    char *error = NULL;

    memset(ss, 0, sizeof *ss);
    if (copy[0] == '[') {
        char *end = strchr(copy, ']');
        if (!end || end[1] != ':') {
            error = xstrdup("an IPv6 address is written [ADDR]:PORT");
            goto exit;
        }
        *end = '\0';
        addr = copy + 1;
        port_s = end + 2;
    } else {
        char *colon = strrchr(copy, ':');
        if (!colon || strchr(copy, ':') != colon) {
            error = xstrdup("expected ADDR:PORT (IPv4) or [ADDR]:PORT "
                            "(IPv6)");
            goto exit;
        }
        *colon = '\0';
        addr = copy;
        port_s = colon + 1;
    }

    int port;
    if (!str_to_int(port_s, 10, &port) || port < 0 || port > 65535) {
        error = xasprintf("bad port \"%s\" (0 to 65535; 0: any free port)",
                          port_s);
        goto exit;
    }

    struct sockaddr_in *sin = (struct sockaddr_in *) ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) ss;
    if (copy[0] != '[' && inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
    } else if (copy[0] == '['
               && inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
    } else {
        error = xasprintf("bad %s address \"%s\"",
                          copy[0] == '[' ? "IPv6" : "IPv4", addr);
    }

exit:
    free(copy);
    return error;
}

/* Returns a listening socket bound to 'ss', or a negative errno value
 * (with '*what' the call that failed). */
static int
listen_on(const struct sockaddr_storage *ss, const char **what)
{
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
                    0);
    if (fd < 0) {
        *what = "socket";
        return -errno;
    }

    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one)
        || (ss->ss_family == AF_INET6
            && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one))) {
        *what = "setsockopt";
        goto error;
    }
    if (bind(fd, (const struct sockaddr *) ss, ss_length(ss))) {
        *what = "bind";
        goto error;
    }
    if (listen(fd, 64)) {
        *what = "listen";
        goto error;
    }
    return fd;

error:;
    int err = errno;
    close(fd);
    return -err;
}

/* Starts serving on 'target' ("ADDR:PORT" or "[ADDR]:PORT", port 0 for
 * any free port) on a thread of its own.  Returns NULL and the server in
 * '*sp', or an error message (a bad address, the port in use) that the
 * caller frees, and NULL in '*sp'.  /metrics serves an empty text and
 * /healthz a 503 until the first metrics_server_publish() and
 * metrics_server_set_health(). */
char *
metrics_server_create(const char *target, struct metrics_server **sp)
{
    static struct ovsthread_once once = OVSTHREAD_ONCE_INITIALIZER;
    struct sockaddr_storage ss;
    const char *what = NULL;

    *sp = NULL;
    char *error = parse_target(target, &ss);
    if (error) {
        return error;
    }
    int fd = listen_on(&ss, &what);
    if (fd < 0) {
        return xasprintf("%s: %s", what, ovs_strerror(-fd));
    }

    if (ovsthread_once_start(&once)) {
        /* Before any event_base: lets the main thread activate the
         * server thread's "stop" event. */
        evthread_use_pthreads();
        ovsthread_once_done(&once);
    }

    struct metrics_server *s = xzalloc(sizeof *s);
    ovs_mutex_init(&s->mutex);
    ovs_list_init(&s->conns);
    atomic_init(&s->n_connections, 0);
    atomic_init(&s->n_evicted, 0);
    atomic_init(&s->n_requests, 0);
    atomic_init(&s->n_open, 0);
    atomic_init(&s->beat, time_msec());
    s->reason = xstrdup("starting");

    struct sockaddr_storage bound;
    socklen_t len = sizeof bound;
    if (getsockname(fd, (struct sockaddr *) &bound, &len)) {
        error = xasprintf("getsockname: %s", ovs_strerror(errno));
        close(fd);
        goto error;
    }
    s->port = ss_get_port(&bound);
    struct ds addr = DS_EMPTY_INITIALIZER;
    ss_format_address(&bound, &addr);
    ds_put_format(&addr, ":%"PRIu16, s->port);
    s->address = ds_steal_cstr(&addr);

    s->base = event_base_new();
    s->http = s->base ? evhttp_new(s->base) : NULL;
    struct evconnlistener *listener
        = (s->http ? evconnlistener_new(s->base, NULL, NULL,
                                        LEV_OPT_CLOSE_ON_FREE
                                        | LEV_OPT_CLOSE_ON_EXEC, -1, fd)
           : NULL);
    if (!listener) {
        error = xstrdup("libevent failed to set up the server");
        close(fd);
        goto error;
    }
    s->listener = listener;
    if (!evhttp_bind_listener(s->http, listener)) {
        error = xstrdup("libevent failed to set up the server");
        evconnlistener_free(listener);
        goto error;
    }
    evhttp_set_timeout(s->http, METRICS_SERVER_TIMEOUT);
    evhttp_set_max_headers_size(s->http, METRICS_SERVER_MAX_HEADERS);
    evhttp_set_max_body_size(s->http, 0);
    evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
    evhttp_set_bevcb(s->http, new_conn_bev, s);
    evhttp_set_gencb(s->http, handle_request, s);
    s->stop = event_new(s->base, -1, 0, stop_cb, s);
    s->sweeper = event_new(s->base, -1, EV_PERSIST, sweep_cb, s);
    event_add(s->sweeper, &(struct timeval) { .tv_sec = 1 });

    s->thread = ovs_thread_create("metrics", server_main, s);
    VLOG_INFO("serving Prometheus metrics on http://%s/metrics", s->address);
    *sp = s;
    return NULL;

error:
    if (s->http) {
        evhttp_free(s->http);
    }
    if (s->base) {
        event_base_free(s->base);
    }
    free(s->address);
    free(s->reason);
    ovs_mutex_destroy(&s->mutex);
    free(s);
    return error;
}

/* Stops the server thread, closes every connection and the listening
 * socket, and frees 's'. */
void
metrics_server_destroy(struct metrics_server *s)
{
    if (!s) {
        return;
    }
    event_active(s->stop, 0, 0);
    xpthread_join(s->thread, NULL);

    /* The thread is gone: its objects are this thread's now.  Freeing the
     * evhttp frees its connections (their snapshots' references with
     * them). */
    event_free(s->stop);
    event_free(s->sweeper);
    evhttp_free(s->http);
    sweep(s, true);
    event_base_free(s->base);

    snapshot_unref(s->snapshot);
    free(s->reason);
    free(s->address);
    ovs_mutex_destroy(&s->mutex);
    free(s);
}

/* Publishing. */

/* Makes /metrics serve the 'len' bytes of 'text' (copied) from now on.
 * Responses under way keep the text they started with. */
void
metrics_server_publish(struct metrics_server *s, const char *text,
                       size_t len)
{
    struct snapshot *snap = snapshot_create(text, len);

    ovs_mutex_lock(&s->mutex);
    struct snapshot *old = s->snapshot;
    s->snapshot = snap;
    ovs_mutex_unlock(&s->mutex);

    snapshot_unref(old);
}

/* Makes /healthz answer 200 "ok" if 'healthy', else 503 with 'reason'. */
void
metrics_server_set_health(struct metrics_server *s, bool healthy,
                          const char *reason)
{
    char *copy = healthy ? NULL : xstrdup(reason ? reason : "not healthy");

    ovs_mutex_lock(&s->mutex);
    char *old = s->reason;
    s->healthy = healthy;
    s->reason = copy;
    ovs_mutex_unlock(&s->mutex);

    free(old);
}

/* Notes that the main loop turns: /healthz answers 503 once it has not
 * for METRICS_SERVER_STALL_MS (the main loop wakes at least every
 * METRICS_SERVER_STALL_MS / 2, see metrics_wait()). */
void
metrics_server_beat(struct metrics_server *s)
{
    atomic_store_relaxed(&s->beat, time_msec());
}

/* Returns the port the server listens on (the one the system chose, for
 * port 0). */
uint16_t
metrics_server_port(const struct metrics_server *s)
{
    return s->port;
}

/* Returns the address the server listens on, "ADDR:PORT" or
 * "[ADDR]:PORT". */
const char *
metrics_server_address(const struct metrics_server *s)
{
    return s->address;
}

/* Fills 'stats' with what the server did so far. */
void
metrics_server_get_stats(const struct metrics_server *s_,
                         struct metrics_server_stats *stats)
{
    struct metrics_server *s = CONST_CAST(struct metrics_server *, s_);

    atomic_read_relaxed(&s->n_connections, &stats->n_connections);
    atomic_read_relaxed(&s->n_evicted, &stats->n_evicted);
    atomic_read_relaxed(&s->n_requests, &stats->n_requests);
    atomic_read_relaxed(&s->n_open, &stats->n_open);
}
