/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* The controller's metrics: see metrics.h. */

#include <config.h>

#include "controller/metrics.h"

#include <stdlib.h>
#include <string.h>
#include "controller/binding.h"
#include "controller/engine.h"
#include "controller/flow-table.h"
#include "controller/metrics-server.h"
#include "controller/ofctrl.h"
#include "coverage.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovsdb-idl.h"
#include "timeval.h"
#include "unixctl.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(metrics);

COVERAGE_DEFINE(metrics_publish);

/* Milliseconds between two texts handed to the server, at least. */
#define METRICS_INTERVAL 1000

/* A registered source of more metrics. */
struct metrics_source {
    char *name;                 /* For diagnostics. */
    metrics_source_func *func;  /* Appends its families. */
    void *aux;                  /* Its argument. */
};

/* The metrics. */
struct metrics {
    struct metrics_ctx ctx;     /* What they are read from. */
    struct metrics_server *server;  /* The HTTP server, or NULL. */

    struct metrics_source *sources;  /* Sources, in registration order. */
    size_t n_sources;           /* Number of 'sources'. */

    long long int next_publish; /* When the next text may go (time_msec). */
    bool dirty;                 /* A turn came since the last text. */
    bool healthy;               /* The health last handed over. */
    char *reason;               /* Its reason, or NULL. */

    uint64_t engine_runs;       /* The engine's runs, at the last turn. */
    uint64_t recomputes;        /* Its node recomputes, at the last turn. */
    long long int last_recompute;  /* Wall clock of the last turn that saw
                                    * a node recompute (ms), or 0. */
    long long int last_run;     /* Wall clock of the last engine run (ms),
                                 * or 0. */
};

static void metrics_register_commands(struct metrics *);

/* Text format helpers. */

/* Appends 'value' to 's', escaped as a label value of the text format
 * wants it (backslash, double quote and line feed), without quotes. */
void
metrics_escape_label_value(struct ds *s, const char *value)
{
    for (const char *p = value; *p; p++) {
        switch (*p) {
        case '\\':
            ds_put_cstr(s, "\\\\");
            break;
        case '"':
            ds_put_cstr(s, "\\\"");
            break;
        case '\n':
            ds_put_cstr(s, "\\n");
            break;
        default:
            ds_put_char(s, *p);
            break;
        }
    }
}

/* Appends one label, name="value" with 'value' escaped, to 's': preceded
 * by '{' if 'first', else by ','.  The caller closes the set with '}'. */
void
metrics_put_label(struct ds *s, bool first, const char *name,
                  const char *value)
{
    ds_put_format(s, "%c%s=\"", first ? '{' : ',', name);
    metrics_escape_label_value(s, value);
    ds_put_char(s, '"');
}

/* Appends the "# HELP" and "# TYPE" lines of metric family 'name' of
 * 'type' ("gauge", "counter", "info"...) to 's'; 'help' is escaped as the
 * format wants (backslash and line feed). */
void
metrics_put_family(struct ds *s, const char *name, const char *type,
                   const char *help)
{
    ds_put_format(s, "# HELP %s ", name);
    for (const char *p = help; *p; p++) {
        if (*p == '\\') {
            ds_put_cstr(s, "\\\\");
        } else if (*p == '\n') {
            ds_put_cstr(s, "\\n");
        } else {
            ds_put_char(s, *p);
        }
    }
    ds_put_format(s, "\n# TYPE %s %s\n", name, type);
}

/* Appends a whole family of one sample without labels. */
static void
put_single(struct ds *s, const char *name, const char *type,
           const char *help, uint64_t value)
{
    metrics_put_family(s, name, type, help);
    ds_put_format(s, "%s %"PRIu64"\n", name, value);
}

/* Health. */

/* Returns whether the controller is healthy: both databases and the switch
 * connected, and this host's chassis not refused.  If not, stores why in
 * '*reason' (the caller frees it). */
static bool
check_health(const struct metrics *m, char **reason)
{
    struct ds why = DS_EMPTY_INITIALIZER;
    const char *tdb = (m->ctx.tdb_remote && *m->ctx.tdb_remote
                       ? *m->ctx.tdb_remote : NULL);

    if (!ovsdb_idl_is_connected(m->ctx.ovs_idl)) {
        ds_put_cstr(&why, "local OVSDB not connected; ");
    }
    if (!ovsdb_idl_is_connected(m->ctx.tdb_idl)) {
        ds_put_format(&why, "Tenant DB not connected%s%s%s; ",
                      tdb ? " (" : "", tdb ? tdb : "", tdb ? ")" : "");
    }
    if (!ofctrl_is_connected(m->ctx.ofctrl)) {
        ds_put_cstr(&why, "OpenFlow connection to the switch down; ");
    }
    if (m->ctx.chassis_problem && *m->ctx.chassis_problem) {
        ds_put_format(&why, "%s; ", *m->ctx.chassis_problem);
    }
    if (!why.length) {
        *reason = NULL;
        return true;
    }
    ds_truncate(&why, why.length - 2);
    *reason = ds_steal_cstr(&why);
    return false;
}

/* Hands the health to the server if it changed.  Returns true if it
 * changed. */
static bool
update_health(struct metrics *m)
{
    char *reason;
    bool healthy = check_health(m, &reason);

    if (healthy == m->healthy && nullable_string_is_equal(reason, m->reason)) {
        free(reason);
        return false;
    }
    if (healthy) {
        VLOG_INFO("healthy");
    } else {
        VLOG_INFO("not healthy: %s", reason);
    }
    free(m->reason);
    m->healthy = healthy;
    m->reason = reason;
    if (m->server) {
        metrics_server_set_health(m->server, healthy, reason);
    }
    return true;
}

/* Creation. */

/* Creates the metrics of the controller whose state 'ctx' points to, and,
 * if 'target' is nonnull, starts the HTTP server on it ("ADDR:PORT",
 * metrics-server.h).  Registers the "metrics/..." commands.  Returns NULL
 * and the metrics in '*mp', or an error message (the caller frees it), and
 * NULL in '*mp', if the server cannot start. */
char *
metrics_create(const char *target, const struct metrics_ctx *ctx,
               struct metrics **mp)
{
    struct metrics_server *server = NULL;

    *mp = NULL;
    if (target) {
        char *error = metrics_server_create(target, &server);
        if (error) {
            return error;
        }
    }

    struct metrics *m = xzalloc(sizeof *m);
    m->ctx = *ctx;
    m->server = server;
    m->healthy = false;
    m->reason = xstrdup("starting");
    if (server) {
        metrics_server_set_health(server, false, m->reason);
    }
    metrics_register_commands(m);
    *mp = m;
    return NULL;
}

/* Stops the server, if any, and frees 'm'. */
void
metrics_destroy(struct metrics *m)
{
    if (!m) {
        return;
    }
    metrics_server_destroy(m->server);
    for (size_t i = 0; i < m->n_sources; i++) {
        free(m->sources[i].name);
    }
    free(m->sources);
    free(m->reason);
    free(m);
}

/* Registers 'func', which appends more metric families to the text, with
 * 'aux' as its argument.  Sources are called in registration order, after
 * the controller's own families, every time the text is built: about once
 * a second with --metrics, and on metrics/show. */
void
metrics_add_source(struct metrics *m, const char *name,
                   metrics_source_func *func, void *aux)
{
    m->sources = xrealloc(m->sources,
                          (m->n_sources + 1) * sizeof *m->sources);
    m->sources[m->n_sources++] = (struct metrics_source) {
        .name = xstrdup(name),
        .func = func,
        .aux = aux,
    };
}

/* The text. */

/* Appends the controller's own families to 's'. */
static void
format_controller(struct metrics *m, struct ds *s)
{
    const struct metrics_ctx *ctx = &m->ctx;

    metrics_put_family(s, "bulkhead_build_info", "gauge",
                       "The controller's build: always 1, the version as "
                       "a label.");
    ds_put_cstr(s, "bulkhead_build_info");
    metrics_put_label(s, true, "version", ctx->version);
    ds_put_cstr(s, "} 1\n");

    put_single(s, "bulkhead_healthy", "gauge",
               "1 if both databases and the switch are connected (what "
               "/healthz says), else 0.", m->healthy);

    metrics_put_family(s, "bulkhead_db_connected", "gauge",
                       "1 if the controller is connected to the database, "
                       "else 0: db=\"local\" is the Open_vSwitch DB, "
                       "db=\"tenant\" the Tenant DB.");
    ds_put_format(s, "bulkhead_db_connected{db=\"local\"} %d\n",
                  ovsdb_idl_is_connected(ctx->ovs_idl));
    ds_put_format(s, "bulkhead_db_connected{db=\"tenant\"} %d\n",
                  ovsdb_idl_is_connected(ctx->tdb_idl));

    put_single(s, "bulkhead_openflow_connected", "gauge",
               "1 if the OpenFlow connection to the integration bridge is "
               "up, else 0.", ofctrl_is_connected(ctx->ofctrl));
    put_single(s, "bulkhead_flows_installed", "gauge",
               "Flows the controller holds installed on the integration "
               "bridge.", ofctrl_n_installed(ctx->ofctrl));
    put_single(s, "bulkhead_flows_desired", "gauge",
               "Flows the controller wants on the integration bridge.",
               flow_table_count(&ctx->engine->flows));

    size_t n[3] = { 0, 0, 0 };
    const struct vnic *v;
    HMAP_FOR_EACH (v, node, &ctx->binding->vnics) {
        if (vnic_is_analysis_port(v)) {
            /* An operator's port, not a VM waiting for its Port. */
            continue;
        }
        if (v->state < ARRAY_SIZE(n)) {
            n[v->state]++;
        }
    }
    /* Interfaces refused for another's iface-id have no vNIC of their
     * own, but are refused all the same. */
    n[VNIC_REFUSED] += hmap_count(&ctx->binding->duplicates);
    metrics_put_family(s, "bulkhead_vnics", "gauge",
                       "vNICs on the integration bridge by state: bound (to "
                       "a Port of the Tenant DB, with flows), unknown (no "
                       "Port has its iface-id), refused.");
    static const enum vnic_state states[] = {
        VNIC_BOUND, VNIC_UNKNOWN, VNIC_REFUSED,
    };
    for (size_t i = 0; i < ARRAY_SIZE(states); i++) {
        ds_put_cstr(s, "bulkhead_vnics");
        metrics_put_label(s, true, "state", vnic_state_name(states[i]));
        ds_put_format(s, "} %"PRIuSIZE"\n", n[states[i]]);
    }

    put_single(s, "bulkhead_engine_runs_total", "counter",
               "Runs of the incremental engine.", m->engine_runs);
    put_single(s, "bulkhead_engine_recomputes_total", "counter",
               "Node recomputes of the incremental engine (a node that "
               "could not process its changes incrementally).",
               m->recomputes);
    put_single(s, "bulkhead_engine_last_run_timestamp_seconds", "gauge",
               "When the engine last ran (Unix time), or 0.",
               m->last_run / 1000);
    put_single(s, "bulkhead_engine_last_recompute_timestamp_seconds",
               "gauge", "When a node of the engine last recomputed (Unix "
               "time), or 0.", m->last_recompute / 1000);

    if (m->server) {
        struct metrics_server_stats st;
        metrics_server_get_stats(m->server, &st);
        put_single(s, "bulkhead_metrics_http_connections_total", "counter",
                   "Connections the metrics endpoint accepted.",
                   st.n_connections);
        put_single(s, "bulkhead_metrics_http_connections_evicted_total",
                   "counter", "Connections the metrics endpoint closed to "
                   "stay within its connection cap.", st.n_evicted);
        put_single(s, "bulkhead_metrics_http_connections_open", "gauge",
                   "Connections open on the metrics endpoint.", st.n_open);
        put_single(s, "bulkhead_metrics_http_requests_total", "counter",
                   "Requests the metrics endpoint answered.",
                   st.n_requests);
    }
}

/* Appends the whole text to 's': the controller's families, then every
 * source's. */
void
metrics_format(struct metrics *m, struct ds *s)
{
    format_controller(m, s);
    for (size_t i = 0; i < m->n_sources; i++) {
        m->sources[i].func(s, m->sources[i].aux);
    }
}

/* Notes what the engine did since the last turn. */
static void
note_engine(struct metrics *m)
{
    const struct engine *e = m->ctx.engine;
    uint64_t recomputes = 0;

    for (size_t i = 0; i < e->n_nodes; i++) {
        recomputes += e->stats[i].n_recomputed;
    }
    if (e->n_runs != m->engine_runs) {
        m->engine_runs = e->n_runs;
        m->last_run = time_wall_msec();
    }
    if (recomputes != m->recomputes) {
        m->recomputes = recomputes;
        m->last_recompute = time_wall_msec();
    }
}

/* One turn of the main loop: notes the engine's work, hands the health to
 * the server if it changed, and a new text if the last one is a second
 * old. */
void
metrics_run(struct metrics *m)
{
    note_engine(m);
    bool health_changed = update_health(m);
    if (!m->server) {
        return;
    }
    metrics_server_beat(m->server);

    /* A change of health goes out at once, so that /metrics never
     * contradicts /healthz; everything else at most once an interval. */
    long long int now = time_msec();
    if (now < m->next_publish && !health_changed) {
        m->dirty = true;
        return;
    }
    struct ds text = DS_EMPTY_INITIALIZER;
    metrics_format(m, &text);
    metrics_server_publish(m->server, text.string, text.length);
    ds_destroy(&text);
    COVERAGE_INC(metrics_publish);
    m->next_publish = now + METRICS_INTERVAL;
    m->dirty = false;
}

/* Wakes the main loop when a text held back by metrics_run() may go. */
void
metrics_wait(struct metrics *m)
{
    if (m->server && m->dirty) {
        poll_timer_wait_until(m->next_publish);
    }
    if (m->server) {
        /* An idle loop still beats for /healthz. */
        poll_timer_wait(METRICS_SERVER_STALL_MS / 2);
    }
}

/* Commands. */

/* "metrics/show": the text, as it is now. */
static void
cmd_show(struct unixctl_conn *conn, int argc OVS_UNUSED,
         const char *argv[] OVS_UNUSED, void *m_)
{
    struct metrics *m = m_;
    struct ds s = DS_EMPTY_INITIALIZER;

    note_engine(m);
    metrics_format(m, &s);
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

/* "metrics/address": where the HTTP server listens. */
static void
cmd_address(struct unixctl_conn *conn, int argc OVS_UNUSED,
            const char *argv[] OVS_UNUSED, void *m_)
{
    struct metrics *m = m_;

    if (!m->server) {
        unixctl_command_reply_error(conn, "no metrics endpoint (start the "
                                    "controller with --metrics=ADDR:PORT)");
        return;
    }
    unixctl_command_reply(conn, metrics_server_address(m->server));
}

static void
metrics_register_commands(struct metrics *m)
{
    unixctl_command_register("metrics/show", "", 0, 0, cmd_show, m);
    unixctl_command_register("metrics/address", "", 0, 0, cmd_address, m);
}
