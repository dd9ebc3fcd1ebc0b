/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#include <config.h>
#include "controller/engine.h"

#include <stdlib.h>
#include "coverage.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "timeval.h"
#include "unixctl.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(engine);

COVERAGE_DEFINE(engine_run);
COVERAGE_DEFINE(engine_node_recompute);

/* Initializes 'e' with the 'n' nodes of 'nodes' (which must outlive it),
 * to recompute every node on its first run. */
void
engine_init(struct engine *e, const struct engine_node *nodes, size_t n)
{
    e->nodes = nodes;
    e->n_nodes = n;
    e->stats = xcalloc(n, sizeof *e->stats);
    flow_table_init(&e->flows);
    e->force = true;
    e->n_runs = 0;
}

/* Frees what 'e' holds. */
void
engine_destroy(struct engine *e)
{
    free(e->stats);
    flow_table_destroy(&e->flows);
}

/* Runs every node of 'e' with 'ctx', in order.  'tracked' is false if the
 * databases' change tracking may have missed changes since the last run,
 * which makes every node recompute. */
void
engine_run(struct engine *e, struct engine_ctx *ctx, bool tracked)
{
    bool force = e->force || !tracked;

    COVERAGE_INC(engine_run);
    e->force = false;
    e->n_runs++;
    for (size_t i = 0; i < e->n_nodes; i++) {
        const struct engine_node *node = &e->nodes[i];
        long long int start = time_usec();
        bool handled = !force;

        for (size_t j = 0; handled && j < node->n_handlers; j++) {
            handled = node->handlers[j].handle(ctx);
            if (!handled) {
                VLOG_DBG("%s: input %s needs a recompute", node->name,
                         node->handlers[j].input);
            }
        }
        if (handled) {
            e->stats[i].n_handled++;
        } else {
            COVERAGE_INC(engine_node_recompute);
            e->stats[i].n_recomputed++;
            if (node->owners) {
                flow_table_clear_owner_prefix(&e->flows, node->owners);
            }
            node->recompute(ctx);
        }
        long long int spent = time_usec() - start;
        e->stats[i].total_us += spent;
        e->stats[i].max_us = MAX(e->stats[i].max_us, spent);
    }
    for (size_t i = 0; i < e->n_nodes; i++) {
        if (e->nodes[i].clear_tracked) {
            e->nodes[i].clear_tracked(ctx);
        }
    }
}

/* Makes the next engine_run() recompute every node. */
void
engine_force_recompute(struct engine *e)
{
    e->force = true;
}


/* Returns the engine's desired flow table. */
struct flow_table *
engine_flows(struct engine *e)
{
    return &e->flows;
}

/* Appends one line per node to 's': how often it coped with its changes,
 * how often it recomputed, and the time it took. */
void
engine_format_stats(const struct engine *e, struct ds *s)
{
    ds_put_format(s, "runs: %"PRIu64"\n", e->n_runs);
    for (size_t i = 0; i < e->n_nodes; i++) {
        const struct engine_stats *st = &e->stats[i];
        ds_put_format(s, "%s: handled %"PRIu64", recomputed %"PRIu64
                      "; %.1f ms in all, longest run %.2f ms\n",
                      e->nodes[i].name, st->n_handled, st->n_recomputed,
                      st->total_us / 1000.0, st->max_us / 1000.0);
    }
}

/* "engine/stats". */
static void
cmd_stats(struct unixctl_conn *conn, int argc OVS_UNUSED,
          const char *argv[] OVS_UNUSED, void *e_)
{
    const struct engine *e = e_;
    struct ds s = DS_EMPTY_INITIALIZER;

    engine_format_stats(e, &s);
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

/* "flows/dump": the desired flow table. */
static void
cmd_flows_dump(struct unixctl_conn *conn, int argc OVS_UNUSED,
               const char *argv[] OVS_UNUSED, void *e_)
{
    const struct engine *e = e_;
    struct ds s = DS_EMPTY_INITIALIZER;

    flow_table_format(&e->flows, NULL, &s);
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

/* Appends the flows that node 'node' owns, sorted, to 's'. */
void
engine_format_node_flows(const struct engine *e,
                         const struct engine_node *node, struct ds *s)
{
    flow_table_format_prefix(&e->flows, node->owners, s);
}

/* Registers "engine/stats" and "flows/dump", which read 'e'. */
void
engine_register_commands(const struct engine *e)
{
    unixctl_command_register("engine/stats", "", 0, 0, cmd_stats,
                             CONST_CAST(struct engine *, e));
    unixctl_command_register("flows/dump", "", 0, 0, cmd_flows_dump,
                             CONST_CAST(struct engine *, e));
}
