/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef TDB_MONITOR_H
#define TDB_MONITOR_H 1

/* What this host asks the Tenant DB for: OVSDB conditional monitoring.
 *
 * A controller needs only the rows that concern what its host hosts, so
 * each table of the Tenant DB IDL gets a condition:
 *
 *   - Tenant and Network: every row (few, small, and what every other
 *     condition starts from);
 *   - Port: the Ports whose iface_id is a local vNIC's iface-id (binding
 *     looks a vNIC's Port up by iface_id only), those this chassis holds
 *     (chassis) or is asked to take (requested_chassis), every Port of a
 *     network that one of the former is on (its peers), and every member
 *     of a remote group (security_groups includes G) wherever it lives;
 *   - Security_Group: the groups of those Ports but the members, and the
 *     groups their rules name as remote_group;
 *   - Rule (not a root table, hence by _uuid): the rules of the groups of
 *     those Ports;
 *   - Chassis: this host's (by name), and every chassis that a Port
 *     received names (its peers, the holder of a Port it may claim).
 *
 * Each condition is computed from what was received, so it is a fixpoint:
 * a Port received names groups, whose rules name remote groups, whose
 * members name chassis...  tdb_monitor_run() recomputes the conditions
 * when the inputs or the Tenant DB change and sends those that changed;
 * tdb_monitor_is_settled() is false while a condition change is in
 * flight, or when what was received calls for another one: meanwhile the
 * IDL holds a partial view, and the caller decides nothing from it.
 *
 * The module reads only the Tenant DB IDL and what the caller tells it of
 * the host, so that a fleet simulator can link it and compute exactly the
 * conditions a controller would. */

#include <stdbool.h>
#include "sset.h"

struct ds;
struct ovsdb_idl;
struct ovsdb_idl_table_class;

/* What the host tells the monitor. */
struct tdb_monitor_input {
    const char *system_id;      /* This chassis's name, or NULL. */
    const struct sset *iface_ids;  /* The iface-ids of the local vNICs. */
    uint64_t iface_ids_gen;     /* Changes whenever 'iface_ids' does, so
                                 * that an unchanged set is not compared
                                 * at every turn; 0: compare it. */
    bool monitor_all;           /* Ask for every row of every table. */
    struct ovsdb_idl_index *port_by_iface_id;  /* The Tenant DB's Ports by
                                                * iface-id, or NULL: with
                                                * it, a vNIC plugged on a
                                                * network already here
                                                * adds its clause alone. */
    bool tracked;               /* The IDL tracks every table's changes
                                 * (ovsdb_idl_track_add_all()): a Tenant
                                 * DB change that touches nothing the
                                 * conditions read is skipped without
                                 * computing them again. */
};

struct tdb_monitor *tdb_monitor_create(struct ovsdb_idl *tdb);
void tdb_monitor_destroy(struct tdb_monitor *);

void tdb_monitor_run(struct tdb_monitor *, const struct tdb_monitor_input *);
void tdb_monitor_wait(const struct tdb_monitor *);
bool tdb_monitor_is_settled(const struct tdb_monitor *);
unsigned long long int tdb_monitor_n_changes(const struct tdb_monitor *);
size_t tdb_monitor_count_rows(struct ovsdb_idl *,
                              const struct ovsdb_idl_table_class *);

void tdb_monitor_format(const struct tdb_monitor *, struct ds *);
void tdb_monitor_register_commands(const struct tdb_monitor *);

#endif /* tdb-monitor.h */
