/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef METRICS_SERVER_H
#define METRICS_SERVER_H 1

/* The Prometheus endpoint: a small HTTP server on a thread of its own.
 *
 * The server serves two paths:
 *
 *   /metrics   the last text that metrics_server_publish() was given
 *              (the Prometheus text exposition format), 200;
 *   /healthz   200 "ok" while metrics_server_set_health() last said
 *              healthy, otherwise 503 and the reason;
 *
 * and 404 on any other path.  It is libevent's HTTP server (evhttp), run by
 * its own thread with its own event_base: it never touches the controller's
 * state, only a snapshot that the main loop publishes (the text and the
 * health, swapped under a mutex; a response holds a reference to the
 * snapshot it serves, so publishing never waits for a slow client and a
 * slow client never sees a half-written text).
 *
 * A hostile client can delay other scrapers at worst, never the
 * controller, and even that is bounded:
 *
 *   - a connection that sends or reads nothing for
 *     METRICS_SERVER_TIMEOUT seconds is closed (evhttp's timeouts);
 *   - a request line and headers over METRICS_SERVER_MAX_HEADERS bytes
 *     get 400 and the connection is closed; a request may have no body;
 *   - only GET and HEAD are served (others: 501);
 *   - at most METRICS_SERVER_MAX_CONNS connections are open at a time: a
 *     new connection beyond that closes the oldest one (which a slowloris
 *     client holds; a scrape takes milliseconds), so that many hanging
 *     connections never lock a well-behaved scraper out;
 *   - at most METRICS_SERVER_MAX_OPEN sockets, those shut down and not
 *     closed yet included: beyond, the listener pauses;
 *   - what a client sends past 2 x METRICS_SERVER_MAX_HEADERS bytes while
 *     its answer is being written is not read (pipelined requests).
 *
 * libevent 2.1 has no evhttp_set_max_connections() nor a public
 * evhttp_get_request(): the server learns of each new connection through
 * evhttp_set_bevcb() (it creates each connection's bufferevent) and of its
 * end through a filter bufferevent's free callback. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "openvswitch/compiler.h"

struct metrics_server;

/* Seconds of inactivity after which a connection is closed. */
#define METRICS_SERVER_TIMEOUT 5

/* Largest request line plus headers, in bytes. */
#define METRICS_SERVER_MAX_HEADERS 8192

/* Milliseconds without a turn of the controller's main loop after which
 * /healthz answers 503: a controller stuck is not healthy, whatever it
 * last said. */
#define METRICS_SERVER_STALL_MS 10000

/* Most connections open at a time. */
#define METRICS_SERVER_MAX_CONNS 16

/* Most sockets open at a time, connections shut down to make room and not
 * closed yet included: beyond, no connection is accepted until some are
 * (they wait in the kernel's backlog). */
#define METRICS_SERVER_MAX_OPEN (4 * METRICS_SERVER_MAX_CONNS)

/* What the server did so far (for its own metrics). */
struct metrics_server_stats {
    uint64_t n_connections;     /* Connections accepted. */
    uint64_t n_evicted;         /* Closed to make room for a new one. */
    uint64_t n_requests;        /* Requests answered, any status. */
    uint64_t n_open;            /* Connections open now. */
};

char *metrics_server_create(const char *target, struct metrics_server **)
    OVS_WARN_UNUSED_RESULT;
void metrics_server_destroy(struct metrics_server *);

void metrics_server_publish(struct metrics_server *, const char *text,
                            size_t len);
void metrics_server_beat(struct metrics_server *);
void metrics_server_set_health(struct metrics_server *, bool healthy,
                               const char *reason);

uint16_t metrics_server_port(const struct metrics_server *);
const char *metrics_server_address(const struct metrics_server *);
void metrics_server_get_stats(const struct metrics_server *,
                              struct metrics_server_stats *);

#endif /* metrics-server.h */
