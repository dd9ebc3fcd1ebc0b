/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef ENGINE_H
#define ENGINE_H 1

/* The incremental processing engine.
 *
 * The controller's work is a fixed-order table of nodes (bulkhead-
 * controller.c has it; Documentation/controller.md draws it).  Each node
 * turns its inputs (database tables, the tracked changes of nodes before
 * it) into its own state and, for nodes that compute flows, into the flows
 * it owns in the engine's desired flow table (flow-table.h), under owner
 * names that start with the node's 'owners' prefix.
 *
 * Every node has a recompute(), which computes everything from scratch,
 * and a change handler per input.  On each run, the engine calls the
 * handlers of each node in order; a handler applies the changes of its
 * input that concern the node and returns true, or returns false if it
 * cannot (a change too broad, or not tracked).  Then, and only then, that
 * node alone recomputes: the engine removes every flow the node owns and
 * calls its recompute().  A node that recomputes still reports what
 * changed to the nodes after it, so they can stay incremental.
 *
 * engine_force_recompute() makes the next run recompute every node (the
 * "recompute" command, or changes that were not tracked); it does not run
 * anything itself.  Per-node counts of handled runs and recomputes are
 * kept for "engine/stats", and each node's module counts its recomputes
 * in a coverage counter. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "controller/flow-table.h"

struct ds;
struct engine_ctx;

/* One input of a node and its change handler. */
struct engine_handler {
    const char *input;          /* What it reads: "ovs", "tdb", "binding"... */
    bool (*handle)(struct engine_ctx *);  /* False: cannot, recompute. */
};

/* A node of the engine. */
struct engine_node {
    const char *name;           /* Its name, for diagnostics. */
    const char *owners;         /* Owner prefix of its flows, or NULL. */
    void (*recompute)(struct engine_ctx *);    /* Everything anew. */
    const struct engine_handler *handlers;     /* Its inputs. */
    size_t n_handlers;                         /* Number of 'handlers'. */
    void (*clear_tracked)(struct engine_ctx *);  /* After a run, or NULL. */
};

/* Per-node statistics. */
struct engine_stats {
    uint64_t n_handled;         /* Runs in which every handler coped. */
    uint64_t n_recomputed;      /* Runs in which the node recomputed. */
    long long int total_us;     /* Time spent in the node, all runs. */
    long long int max_us;       /* The longest of its runs. */
};

/* The engine. */
struct engine {
    const struct engine_node *nodes;   /* In order. */
    size_t n_nodes;                    /* Number of 'nodes'. */
    struct engine_stats *stats;        /* One per node. */
    struct flow_table flows;           /* The desired flow table. */
    bool force;                        /* Next run recomputes everything. */
    uint64_t n_runs;                   /* Runs so far. */
};

void engine_init(struct engine *, const struct engine_node *, size_t n);
void engine_destroy(struct engine *);
void engine_run(struct engine *, struct engine_ctx *, bool tracked);
void engine_force_recompute(struct engine *);
struct flow_table *engine_flows(struct engine *);
void engine_format_stats(const struct engine *, struct ds *);
void engine_format_node_flows(const struct engine *,
                              const struct engine_node *, struct ds *);
void engine_register_commands(const struct engine *);

#endif /* engine.h */
