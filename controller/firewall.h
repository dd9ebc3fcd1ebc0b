/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef FIREWALL_H
#define FIREWALL_H 1

/* The firewall engine node: security groups to flows of table RULES.
 *
 * Every bound vNIC with port security belongs to a firewall class: the set
 * of its security groups.  vNICs with the same groups share a class, and
 * so one copy of their rules' flows (fw-rules.h); a vNIC's own flows
 * (pipeline.c) only load its class into a register.  A class's id is a
 * hash of its tenant's and groups' names (20 bits, probed on a
 * collision), so it is the same after a restart, and the switch's flows
 * and their counters stay.
 *
 * Remote groups mean every member: the addresses of every Port of the
 * Tenant DB in the group, bound on this host, on another, or nowhere.
 * The node keeps each Port's groups, network and addresses, so that a
 * change of a Port recompiles only the classes whose rules name one of the
 * groups it left or joined, and a change that does not concern the
 * firewall (a claim, Port.up) recompiles nothing.  A rule or group change
 * recompiles every class.  A rule the controller cannot parse, or that
 * names a group of another tenant, allows nothing: it is logged and
 * counted (coverage firewall_rule_invalid).
 *
 * Logging.  A rule with "log" sends each new connection it allows to the
 * controller through its own meter (FIREWALL_LOG_METER); a vNIC whose Port
 * has "log_denied" sends what its default deny drops, in either direction,
 * through a meter of its own (FIREWALL_DENY_METER), so that neither a noisy
 * rule nor a scanned vNIC starves the others' lines (fw-log.h writes
 * them), and then through the host's (FIREWALL_LOG_HOST_METER), so that
 * many scanned vNICs at once cannot flood the controller either. */

#include <stdbool.h>
#include <stdint.h>
#include "openvswitch/hmap.h"
#include "openvswitch/shash.h"
#include "simap.h"

struct binding;
struct ds;
struct flow_table;
struct ovsdb_idl;

/* The owner prefix of the node's flows. */
#define FIREWALL_OWNERS "fw:"

/* The firewall's state. */
struct firewall {
    struct hmap classes;        /* Contains struct fw_class, by key. */
    struct hmap class_ids;      /* The same, by id. */
    struct shash vnics;         /* iface-id -> struct fw_class *. */
    struct hmap members;        /* struct fw_member, by Port UUID. */
    struct hmap groups;         /* struct fw_group, by group UUID: the
                                 * members of each group. */
    struct hmap rule_keys;      /* struct fw_rule_key, by Rule UUID. */
    struct hmap rule_keys_by_key;  /* The same, by key. */
    struct simap logged;        /* "KEY" of each rule with "log" that a
                                 * class has -> its direction's table
                                 * (PL_T_EGRESS_VERDICT or
                                 * PL_T_INGRESS_VERDICT). */
    struct simap verdicts;      /* iface-id of each bound vNIC with a
                                 * firewall -> its zone, with
                                 * FIREWALL_VERDICT_LOG if its Port has
                                 * "log_denied": its own default-deny
                                 * flows. */
    struct simap stats_zones;   /* iface-id of each bound vNIC with a
                                 * firewall -> its zone, as its rule
                                 * statistics flows were written. */
    bool rule_stats;            /* Count each rule at each vNIC (table
                                 * RULE_STATS; on by default). */
    uint32_t log_rate;          /* Log packets per second per rule, and per
                                 * vNIC for its default deny. */
    uint32_t log_host_rate;     /* Denied packets per second offered to the
                                 * log by the whole host. */
    size_t n_deny_logged;       /* vNICs in 'verdicts' that log their
                                 * default deny. */
};

/* The meter of logged rule KEY: kept apart from the vNICs' meters (their
 * zones, below 65536). */
#define FIREWALL_LOG_METER(KEY) (0x01000000 | (KEY))

/* The meter of the default deny of the vNIC in zone ZONE, when its Port has
 * "log_denied". */
#define FIREWALL_DENY_METER(ZONE) (0x02000000 | (ZONE))

/* The meter that every denied packet offered to the log passes after its
 * vNIC's own (FIREWALL_DENY_METER): the host's cap, in the datapath. */
#define FIREWALL_LOG_HOST_METER 0x03000000

/* In 'verdicts': the vNIC logs what its default deny drops. */
#define FIREWALL_VERDICT_LOG 0x10000

/* userdata of a log packet-in: version, verdict, side. */
#define FIREWALL_LOG_ALLOW 1
#define FIREWALL_LOG_DENY 2

void firewall_init(struct firewall *);
void firewall_destroy(struct firewall *);

void firewall_recompute(struct firewall *, const struct binding *,
                        struct ovsdb_idl *tdb, struct flow_table *);
bool firewall_handle_binding(struct firewall *, const struct binding *,
                             struct ovsdb_idl *tdb, struct flow_table *);
bool firewall_handle_tdb(struct firewall *, struct ovsdb_idl *tdb,
                         struct flow_table *);

uint32_t firewall_vnic_class(const struct firewall *, const char *iface_id);
void firewall_set_rule_stats(struct firewall *, bool,
                             struct flow_table *);
void firewall_set_log_rate(struct firewall *, uint32_t rate,
                           struct flow_table *);
void firewall_set_log_host_rate(struct firewall *, uint32_t rate,
                                struct flow_table *);
void firewall_register_commands(struct firewall *, struct ovsdb_idl *tdb);
bool firewall_describe_rule(const struct firewall *, struct ovsdb_idl *tdb,
                            uint32_t rule_key, bool with_text, struct ds *);

#endif /* firewall.h */
