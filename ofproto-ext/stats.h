/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef BH_STATS_H
#define BH_STATS_H 1

/* The controller's statistics: reads the switch's counters every
 * "bulkhead-stats-interval" (stats-collect.h), turns them into per-vNIC and
 * per-rule counters (vnic-stats.h), shows them ("vnic/stats"), and writes
 * them into the Tenant DB's Port.statistics every
 * "bulkhead-stats-db-interval", only for Ports whose counters changed. */

#include <stdbool.h>

struct binding;
struct bhrec_chassis;
struct ct_limits;
struct ds;
struct firewall;
struct metrics;
struct ovsdb_idl;
struct ovsdb_idl_txn;

/* What a run needs from the rest of the controller. */
struct bh_stats_ctx {
    const char *bridge;         /* The integration bridge, or NULL. */
    long long int interval;     /* Sampling interval, ms (0: off). */
    bool busy;                  /* The switch is taking a whole table (a
                                 * cold start or a resync): no sample is
                                 * begun until it has it. */
    bool hold;                  /* This turn commits installed marks: a
                                 * sample read meanwhile is counted, and the
                                 * Tenant DB written, in the next one. */
    long long int db_interval;  /* Tenant DB writes, ms (0: off). */
    const struct binding *binding;  /* The bound vNICs. */
    const struct firewall *fw;  /* Names the rules. */
    const struct ct_limits *limits;  /* Connection counts and caps. */
    struct ovsdb_idl *tdb;      /* The Tenant DB. */
    struct ovsdb_idl_txn *tdb_txn;   /* Its transaction, or NULL. */
};

struct bh_stats *bh_stats_create(void);
void bh_stats_destroy(struct bh_stats *);
void bh_stats_run(struct bh_stats *, const struct bh_stats_ctx *);
void bh_stats_wait(const struct bh_stats *, const struct bh_stats_ctx *);
void bh_stats_register_commands(struct bh_stats *, struct ovsdb_idl *tdb,
                                const struct firewall *);
void bh_stats_add_metrics(struct bh_stats *, struct metrics *);
bool bh_stats_is_connected(const struct bh_stats *);

#endif /* stats.h */
