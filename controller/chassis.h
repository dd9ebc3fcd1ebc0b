/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef CHASSIS_H
#define CHASSIS_H 1

/* This host: its configuration, its integration bridge and its Chassis row.
 *
 * The configuration lives in the Open_vSwitch row's external_ids, as OVN's
 * does (Documentation/controller.md): system-id, bulkhead-remote,
 * bulkhead-bridge, bulkhead-uplink, bulkhead-datapath-type,
 * bulkhead-encap-ip, bulkhead-monitor-all.  chassis_ensure_bridge() makes
 * sure the integration bridge exists with fail_mode=secure (a switch
 * without its controller then forwards nothing); chassis_ensure_row()
 * registers this host in the Tenant DB and keeps its row up to date. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ovsdb_idl;
struct ovsdb_idl_txn;
struct ovsrec_bridge;
struct ovsrec_interface;
struct ovsrec_open_vswitch;
struct ovsrec_port;
struct smap;
struct bhrec_chassis;

/* The host's configuration, from the Open_vSwitch row. */
struct chassis_config {
    char *system_id;            /* "system-id": chassis name, or NULL. */
    char *host_id;              /* "bulkhead-host-id", else the Open_vSwitch
                                 * row's UUID: which host a Chassis row is
                                 * (see chassis_row_is_foreign()), or NULL
                                 * without that row. */
    char *remote;               /* "bulkhead-remote": Tenant DB. */
    char *encap_ip;             /* "bulkhead-encap-ip", or NULL. */
    char *bridge;               /* "bulkhead-bridge": integration bridge. */
    char *uplink;               /* "bulkhead-uplink", or NULL. */
    char *datapath_type;        /* "bulkhead-datapath-type", or NULL. */
    long long int verify_interval;  /* "bulkhead-verify-interval", in ms:
                                     * how often the switch's table is
                                     * read and checked (0: never). */
    uint32_t log_rate;          /* "bulkhead-log-rate": log packets per
                                 * second per logged rule (1-10000). */
    uint32_t log_host_rate;     /* "bulkhead-log-host-rate": log lines per
                                 * second for the whole host (1-100000). */
    int remote_probe_interval;  /* "bulkhead-remote-probe-interval", in
                                 * ms: a Tenant DB connection silent for
                                 * so long is probed, and dropped if the
                                 * probe is not answered as long (0:
                                 * never; default 5000, at least 1000). */
    bool monitor_all;           /* "bulkhead-monitor-all": ask the Tenant
                                 * DB for every row (tdb-monitor.h). */
    long long int stats_interval;   /* "bulkhead-stats-interval", in ms: how
                                     * often statistics are read from the
                                     * switch (0: never). */
    long long int stats_db_interval;  /* "bulkhead-stats-db-interval", in
                                       * ms: how often they are written to
                                       * the Tenant DB (0: never). */
    bool rule_stats;            /* "bulkhead-rule-stats": count each rule at
                                 * each vNIC (default true). */
    bool isolation_verify;      /* "bulkhead-isolation-verify": check
                                 * isolation on the switch's flows after
                                 * each change (default true). */
    size_t isolation_max_flows; /* "bulkhead-isolation-verify-max-flows":
                                 * not above so many flows (0: no limit;
                                 * default 100000). */
};

void chassis_config_read(struct chassis_config *,
                         const struct ovsrec_open_vswitch *);
void chassis_config_clear(struct chassis_config *);

const struct ovsrec_bridge *chassis_ensure_bridge(
    struct ovsdb_idl *, const struct chassis_config *,
    const struct ovsrec_open_vswitch *, struct ovsdb_idl_txn *);
void chassis_index_ports(struct ovsdb_idl *ovs_idl);
const struct ovsrec_port *chassis_find_port(const struct ovsrec_bridge *,
                                           const char *name);
const struct ovsrec_interface *chassis_keep_flow_tunnel(
    const struct ovsrec_bridge *, const char *name, const char *type,
    const struct smap *extra, bool wanted, const char *why,
    struct ovsdb_idl_txn *);
const struct ovsrec_interface *chassis_ensure_tunnel(
    const struct ovsrec_bridge *, const struct chassis_config *,
    struct ovsdb_idl_txn *);
const struct bhrec_chassis *chassis_find_row(struct ovsdb_idl *,
                                              const char *name);
/* The key of a Chassis row's external_ids that names its host (its
 * controller's chassis_config 'host_id'). */
#define CHASSIS_HOST_ID_KEY "host-id"
/* The key of a Chassis row's external_ids where its controller says what
 * its switch maps each VNI to (overlay_format_vnis()).  A row without it is
 * a controller's from before the key: its VNIs are taken on trust, as they
 * were then.  So a new row has it from the start, empty (nothing is
 * installed yet). */
#define CHASSIS_VNIS_KEY "bulkhead-vnis"

bool chassis_row_is_foreign(const struct bhrec_chassis *,
                            const struct chassis_config *);
const struct bhrec_chassis *chassis_ensure_row(
    struct ovsdb_idl *tdb_idl, const struct chassis_config *,
    struct ovsdb_idl_txn *, const char *version);

#endif /* chassis.h */
