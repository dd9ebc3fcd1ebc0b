/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#include <config.h>
#include "ofproto-ext/stats.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "controller/binding.h"
#include "controller/ct-limits.h"
#include "controller/firewall.h"
#include "controller/metrics.h"
#include "coverage.h"
#include "ofproto-ext/stats-collect.h"
#include "ofproto-ext/vnic-stats.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/vlog.h"
#include "ovsdb-idl.h"
#include "openvswitch/poll-loop.h"
#include "schema/bulkhead-idl.h"
#include "timeval.h"
#include "unixctl.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(stats);

COVERAGE_DEFINE(stats_db_write);

/* How long "vnic/stats" waits for a fresh sample before it answers with
 * the last one. */
#define FRESH_TIMEOUT_MS 2000

/* A "vnic/stats" waiting for a fresh sample. */
struct stats_request {
    struct unixctl_conn *conn;  /* Whom to answer. */
    char *port;                 /* The vNIC asked for, or NULL: all. */
    bool json;                  /* --format=json. */
    unsigned long long int seq; /* The first sample that may answer it. */
};

/* The controller's statistics. */
struct bh_stats {
    struct stats_collect *collect;  /* Reads the switch. */
    struct vnic_stats_table table;  /* The counters. */
    long long int interval;     /* Sampling interval as last run (ms). */
    long long int next_db;      /* When to write the Tenant DB next. */
    struct stats_request *requests;  /* Waiting "vnic/stats". */
    size_t n_requests;          /* Number of 'requests'. */
    long long int requests_deadline;  /* When they are answered anyway. */

    /* For the commands. */
    const struct binding *binding;  /* The bound vNICs, as last run. */
    const struct firewall *fw;  /* Names rules. */
    struct ovsdb_idl *tdb;      /* The Tenant DB. */
};

/* Returns new statistics, with no counter yet. */
struct bh_stats *
bh_stats_create(void)
{
    struct bh_stats *s = xzalloc(sizeof *s);

    s->collect = stats_collect_create();
    vnic_stats_table_init(&s->table);
    return s;
}

/* Frees 's', answering whoever waits. */
void
bh_stats_destroy(struct bh_stats *s)
{
    if (s) {
        for (size_t i = 0; i < s->n_requests; i++) {
            unixctl_command_reply_error(s->requests[i].conn, "exiting");
            free(s->requests[i].port);
        }
        free(s->requests);
        stats_collect_destroy(s->collect);
        vnic_stats_table_destroy(&s->table);
        free(s);
    }
}

/* Returns true if the statistics' connection to the switch is up. */
bool
bh_stats_is_connected(const struct bh_stats *s)
{
    return stats_collect_is_connected(s->collect);
}

/* Names rule 'key' into 'ds' (a vnic_stats_rule_namer). */
static bool
name_rule(uint32_t key, struct ds *ds, void *s_)
{
    const struct bh_stats *s = s_;

    return s->fw && s->tdb && firewall_describe_rule(s->fw, s->tdb, key,
                                                     false, ds);
}

/* Takes a sample of the switch's counters into 's''s table. */
static void
take_sample(struct bh_stats *s, const struct bh_stats_ctx *ctx,
            const struct stats_flow *flows, size_t n_flows,
            const struct stats_port *ports, size_t n_ports)
{
    size_t n = hmap_count(&ctx->binding->vnics);
    struct stats_vnic_info *infos = xmalloc(MAX(n, 1) * sizeof *infos);
    const struct vnic *v;
    size_t n_infos = 0;

    BINDING_FOR_EACH_VNIC (v, ctx->binding) {
        if (v->state != VNIC_BOUND || v->ofport <= 0) {
            continue;
        }
        struct stats_vnic_info *info = &infos[n_infos++];
        *info = (struct stats_vnic_info) {
            .iface_id = v->iface_id,
            .binding = v->iface_uuid,
            .port_row = v->port_uuid,
            .tenant = v->tenant,
            .network = v->port.network,
            .port = v->port.name,
            .zone = v->zone,
            .ofport = v->ofport,
        };
        if (ctx->limits) {
            ct_limits_get_vnic(ctx->limits, v->zone, &info->n_conns,
                               &info->n_cap);
        }
    }
    vnic_stats_table_update(&s->table, infos, n_infos, flows, n_flows,
                            ports, n_ports, time_msec());
    free(infos);
}

/* Writes the counters of every bound vNIC whose Port's statistics differ
 * into the Tenant DB. */
static void
write_db(struct bh_stats *s, const struct bh_stats_ctx *ctx)
{
    const struct vnic *v;

    BINDING_FOR_EACH_VNIC (v, ctx->binding) {
        const struct vnic_stats *vs = vnic_stats_find(&s->table, v->iface_id);
        const struct bhrec_port *port;

        if (v->state != VNIC_BOUND || !vs
            || !(port = bhrec_port_get_for_uuid(ctx->tdb, &v->port_uuid))) {
            continue;
        }

        const char *keys[VNIC_STATS_DB_N];
        int64_t values[VNIC_STATS_DB_N];
        vnic_stats_format_db(vs, keys, values);
        bool same = port->n_statistics == VNIC_STATS_DB_N;
        for (size_t i = 0; same && i < VNIC_STATS_DB_N; i++) {
            same = (!strcmp(port->key_statistics[i], keys[i])
                    && port->value_statistics[i] == values[i]);
        }
        if (!same) {
            bhrec_port_set_statistics(port, keys, values, VNIC_STATS_DB_N);
            COVERAGE_INC(stats_db_write);
        }
    }
}

/* Answers the "vnic/stats" request 'r' from the current counters. */
static void
answer(struct bh_stats *s, const struct stats_request *r)
{
    const char *iface_id = NULL;

    if (r->port) {
        const struct vnic *v = (s->binding
                                ? binding_lookup(s->binding, r->port)
                                : NULL);
        if (!v || v->state != VNIC_BOUND) {
            char *error = xasprintf("%s: no vNIC of that name or iface-id "
                                    "is bound on this host", r->port);
            unixctl_command_reply_error(r->conn, error);
            free(error);
            return;
        }
        iface_id = v->iface_id;
        if (!vnic_stats_find(&s->table, iface_id)) {
            char *error = xasprintf("%s: no statistics yet%s", r->port,
                                    (s->interval
                                     ? " (not read from the switch yet)"
                                     : " (bulkhead-stats-interval is 0)"));
            unixctl_command_reply_error(r->conn, error);
            free(error);
            return;
        }
    }

    if (r->json) {
        struct json *j = vnic_stats_to_json(&s->table, iface_id, name_rule,
                                            s);
        char *text = json_to_string(j, JSSF_SORT | JSSF_PRETTY);
        unixctl_command_reply(r->conn, text);
        free(text);
        json_destroy(j);
        return;
    }

    struct ds out = DS_EMPTY_INITIALIZER;
    if (iface_id) {
        vnic_stats_format_vnic(vnic_stats_find(&s->table, iface_id), &out,
                               name_rule, s);
    } else {
        if (!s->interval) {
            ds_put_cstr(&out, "statistics are off "
                        "(bulkhead-stats-interval is 0)\n");
        }
        vnic_stats_format_table(&s->table, &out);
    }
    unixctl_command_reply(r->conn, ds_cstr(&out));
    ds_destroy(&out);
}

/* Answers the waiting "vnic/stats" that sample 'seq' may answer (all if
 * 'seq' is ULLONG_MAX). */
static void
answer_all(struct bh_stats *s, unsigned long long int seq)
{
    size_t n = 0;

    for (size_t i = 0; i < s->n_requests; i++) {
        if (seq >= s->requests[i].seq) {
            answer(s, &s->requests[i]);
            free(s->requests[i].port);
        } else {
            s->requests[n++] = s->requests[i];
        }
    }
    s->n_requests = n;
}

/* Returns how often 's' should read the switch: at once for a waiting
 * "vnic/stats", else at the configured interval (ms, 0: never). */
static long long int
sample_interval(const struct bh_stats *s, const struct bh_stats_ctx *ctx)
{
    return s->n_requests ? 1 : ctx->interval;
}

/* Runs 's': reads the switch at its interval, counts what it read, and
 * writes the Tenant DB at its own interval. */
void
bh_stats_run(struct bh_stats *s, const struct bh_stats_ctx *ctx)
{
    const struct stats_flow *flows;
    const struct stats_port *ports;
    size_t n_flows, n_ports;

    s->binding = ctx->binding;
    s->fw = ctx->fw;
    s->tdb = ctx->tdb;
    if (ctx->interval != s->interval) {
        s->interval = ctx->interval;
        stats_collect_sample_now(s->collect);
    }
    if (ctx->bridge) {
        stats_collect_set_bridge(s->collect, ctx->bridge);
    }
    if (ctx->busy && !s->n_requests) {
        /* While the switch takes a whole table, no sample begins (the
         * counters of a half-made table say nothing, and reading thousands
         * of them would slow the switch down): the next is an interval
         * after it has it.  A waiting "vnic/stats" still reads at once. */
        stats_collect_postpone(s->collect, ctx->interval);
    }
    stats_collect_run(s->collect, sample_interval(s, ctx));
    unsigned long long int seq;
    /* Counting a sample is O(vNICs): not in a turn that finishes a vNIC's
     * installation (the next turn counts it). */
    if (!ctx->hold
        && stats_collect_take(s->collect, &flows, &n_flows, &ports, &n_ports,
                              &seq)) {
        take_sample(s, ctx, flows, n_flows, ports, n_ports);
        answer_all(s, seq);
    }
    if (s->n_requests && (time_msec() >= s->requests_deadline
                          || !stats_collect_is_connected(s->collect))) {
        answer_all(s, ULLONG_MAX);
    }

    long long int now = time_msec();
    if (!ctx->hold && ctx->db_interval && ctx->tdb_txn && s->table.gen
        && now >= s->next_db) {
        s->next_db = now + ctx->db_interval;
        write_db(s, ctx);
    }
}

/* Arranges for the poll loop to wake when 's' has something to do. */
void
bh_stats_wait(const struct bh_stats *s, const struct bh_stats_ctx *ctx)
{
    stats_collect_wait(s->collect, sample_interval(s, ctx));
    if (s->n_requests) {
        poll_timer_wait_until(s->requests_deadline);
    }
    /* Without a transaction to write with (one in flight, the Tenant DB
     * away), the IDL wakes the loop once it can: waiting for a time
     * already past would spin. */
    if (ctx->db_interval && s->table.gen && ctx->tdb_txn && !ctx->hold) {
        poll_timer_wait_until(s->next_db);
    }
}

/* Appends the counters to 'ds' in the Prometheus text format (a
 * metrics_source_func). */
static void
format_prometheus(struct ds *ds, void *s_)
{
    struct bh_stats *s = s_;

    vnic_stats_format_prometheus(&s->table, ds, name_rule, s);
}

/* Makes the counters part of the text that 'm' serves. */
void
bh_stats_add_metrics(struct bh_stats *s, struct metrics *m)
{
    metrics_add_source(m, "vnic-stats", format_prometheus, s);
}

/* "vnic/stats [--format=json] [PORT]": reads the switch at once and shows
 * every vNIC's counters, or one vNIC's with its rules. */
static void
cmd_stats(struct unixctl_conn *conn, int argc, const char *argv[],
          void *s_)
{
    struct bh_stats *s = s_;
    struct stats_request r = { .conn = conn };

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--format=json")) {
            r.json = true;
        } else if (!strcmp(argv[i], "--format=table")) {
            r.json = false;
        } else if (argv[i][0] == '-') {
            char *error = xasprintf("%s: unknown option (vnic/stats "
                                    "[--format=json|table] [PORT])",
                                    argv[i]);
            unixctl_command_reply_error(conn, error);
            free(error);
            free(r.port);
            return;
        } else if (r.port) {
            unixctl_command_reply_error(conn, "one PORT at most");
            free(r.port);
            return;
        } else {
            r.port = xstrdup(argv[i]);
        }
    }

    if (!s->interval || !stats_collect_is_connected(s->collect)) {
        answer(s, &r);
        free(r.port);
        return;
    }
    if (!s->n_requests) {
        s->requests_deadline = time_msec() + FRESH_TIMEOUT_MS;
    }
    r.seq = stats_collect_sample_now(s->collect);
    s->requests = xrealloc(s->requests,
                           (s->n_requests + 1) * sizeof *s->requests);
    s->requests[s->n_requests++] = r;
}

/* Registers the statistics' commands. */
void
bh_stats_register_commands(struct bh_stats *s, struct ovsdb_idl *tdb,
                           const struct firewall *fw)
{
    s->tdb = tdb;
    s->fw = fw;
    unixctl_command_register("vnic/stats", "[--format=json|table] [PORT]",
                             0, 2, cmd_stats, s);
}
