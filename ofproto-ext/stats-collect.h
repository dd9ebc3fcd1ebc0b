/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef STATS_COLLECT_H
#define STATS_COLLECT_H 1

/* Reading the switch's counters, over OpenFlow.
 *
 * A connection of its own to the bridge's management socket (so that the
 * controller's flow installation is never queued behind a reply), which
 * asks at each interval for exactly two things: the statistics of every
 * flow whose cookie is of kind VNIC or VNIC_RULE (one flow stats request,
 * selected by cookie and mask, pipeline.h), and those of every port (one
 * port stats request).  Never one request per vNIC.  The connection sets no
 * miss send length, so the switch sends it no packet-in. */

#include <stdbool.h>
#include <stddef.h>

struct stats_collect;
struct stats_flow;
struct stats_port;

struct stats_collect *stats_collect_create(void);
void stats_collect_destroy(struct stats_collect *);
void stats_collect_set_bridge(struct stats_collect *, const char *bridge);
void stats_collect_run(struct stats_collect *, long long int interval);
void stats_collect_wait(const struct stats_collect *,
                        long long int interval);
bool stats_collect_is_connected(const struct stats_collect *);
bool stats_collect_take(struct stats_collect *,
                        const struct stats_flow **, size_t *n_flows,
                        const struct stats_port **, size_t *n_ports,
                        unsigned long long int *seq);
unsigned long long int stats_collect_sample_now(struct stats_collect *);
void stats_collect_postpone(struct stats_collect *, long long int interval);

#endif /* stats-collect.h */
