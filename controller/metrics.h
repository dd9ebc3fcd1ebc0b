/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef METRICS_H
#define METRICS_H 1

/* The controller's metrics, in the Prometheus text exposition format.
 *
 * The main loop calls metrics_run() every turn.  It builds the text from
 * the controller's state (in the main loop: nothing here is read from
 * another thread) and, when the controller was started with
 * --metrics=ADDR:PORT, hands it to the HTTP server (metrics-server.h) at
 * most once a second, without waiting for anything: a turn that comes
 * sooner leaves a wake-up for the second's end, so that the text served is
 * never more than a second older than the controller's last turn.  The
 * health that /healthz reports (both databases and the switch connected) is
 * handed over at once, whenever it changes.
 *
 * The text is made of the controller's own gauges (bulkhead_healthy,
 * bulkhead_db_connected, bulkhead_openflow_connected, bulkhead_flows_*,
 * bulkhead_vnics, bulkhead_engine_*, bulkhead_build_info, the HTTP server's
 * counters) followed by what every "source" appends: a module with metrics
 * of its own (the per-vNIC counters) registers a function with
 * metrics_add_source(), which appends whole metric families (# HELP,
 * # TYPE, samples) with metrics_put_family() and metrics_put_label(), so
 * that every label value is escaped one way.
 *
 * "ovs-appctl -t bulkhead-controller metrics/show" prints the text as it
 * is now (built on demand, with or without --metrics); "metrics/address"
 * prints where the server listens. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "openvswitch/compiler.h"

struct binding;
struct ds;
struct engine;
struct ofctrl;
struct ovsdb_idl;

/* What the metrics are read from: set once, at creation. */
struct metrics_ctx {
    struct ovsdb_idl *ovs_idl;      /* The local Open_vSwitch DB. */
    struct ovsdb_idl *tdb_idl;      /* The Tenant DB. */
    const char *const *tdb_remote;  /* The Tenant DB's remote, or NULL. */
    const char *const *chassis_problem; /* Why this host's chassis is
                                         * refused, or NULL. */
    const struct ofctrl *ofctrl;    /* The switch connection. */
    const struct binding *binding;  /* The vNICs. */
    const struct engine *engine;    /* The engine and its flows. */
    const char *version;            /* The build's version. */
};

/* A source of more metrics: appends whole metric families to 'out'. */
typedef void metrics_source_func(struct ds *out, void *aux);

struct metrics;

char *metrics_create(const char *target, const struct metrics_ctx *,
                     struct metrics **) OVS_WARN_UNUSED_RESULT;
void metrics_destroy(struct metrics *);
void metrics_run(struct metrics *);
void metrics_wait(struct metrics *);

void metrics_add_source(struct metrics *, const char *name,
                        metrics_source_func *, void *aux);
void metrics_format(struct metrics *, struct ds *);

/* Helpers for sources. */
void metrics_put_family(struct ds *, const char *name, const char *type,
                        const char *help);
void metrics_put_label(struct ds *, bool first, const char *name,
                       const char *value);
void metrics_escape_label_value(struct ds *, const char *value);

#endif /* metrics.h */
