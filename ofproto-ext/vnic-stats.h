/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef VNIC_STATS_H
#define VNIC_STATS_H 1

/* Per-vNIC and per-rule counters, from what the switch counts.
 *
 * Everything comes from OVS: the port statistics of each vNIC's port (what
 * it sent and received) and the statistics of the flows whose cookie names
 * the vNIC (pipeline.h, "Cookies"): its own drop flows in port security and
 * in both verdict tables of its firewall, and, per rule of its class, the
 * two flows of table RULE_STATS that count the connections the rule let in
 * at this vNIC and all of their packets.
 *
 * A switch's counter restarts from 0 when its flow or port is made anew (a
 * flow replaced because its match or actions changed, a port re-created).
 * So each counter here is the sum of the increments seen, per source: a
 * reading below the last one is a source that restarted, and counts
 * whole.  The counters are thus monotonic for the life of a binding.  They
 * start from the switch's own counters when the controller starts, so they
 * survive a controller restart (the switch's flows keep their counters
 * across it, ofctrl.h), and start from 0 when the vNIC is bound anew (a new
 * port key or ofport); what a flow counted before it was replaced while
 * the controller was not running is lost. */

#include <stdbool.h>
#include <stdint.h>
#include "openvswitch/hmap.h"
#include "openvswitch/uuid.h"

struct ds;
struct json;

/* A counter of the switch that may restart from 0: the sum of the
 * increments seen. */
struct stats_counter {
    uint64_t total;             /* Increments seen so far. */
    uint64_t last;              /* Last reading. */
    bool seen;                  /* 'last' is valid. */
};

uint64_t stats_counter_update(struct stats_counter *, uint64_t reading);

/* What vNIC counters count. */
enum vnic_counter {
    VC_SENT_PACKETS,            /* Sent by the VM (the port's rx). */
    VC_SENT_BYTES,
    VC_RECV_PACKETS,            /* Received by the VM (the port's tx). */
    VC_RECV_BYTES,
    VC_DROP_SPOOF,              /* Dropped by port security. */
    VC_DROP_EGRESS,             /* Dropped by its egress firewall. */
    VC_DROP_INGRESS,            /* Dropped by its ingress firewall. */
    VC_CONN_CAP,                /* Times found at its connection cap. */
    VC_NEW_CONNS,               /* New connections its rules let in. */
    VC_N
};

/* One reading of a flow of the switch, as a flow stats reply gives it. */
struct stats_flow {
    uint8_t table_id;           /* Its table. */
    uint16_t priority;          /* Its priority. */
    uint64_t cookie;            /* Its cookie. */
    uint32_t match_hash;        /* A hash of its match. */
    bool drops;                 /* It has no action. */
    uint64_t packets;           /* Its packet counter. */
    uint64_t bytes;             /* Its byte counter. */
};

/* One reading of a port of the switch. */
struct stats_port {
    int64_t ofport;             /* Its OpenFlow port. */
    uint64_t rx_packets;        /* Received by the switch (UINT64_MAX: not
                                 * known). */
    uint64_t rx_bytes;
    uint64_t tx_packets;        /* Sent by the switch. */
    uint64_t tx_bytes;
};

/* A vNIC as the controller has it bound, when a sample is taken. */
struct stats_vnic_info {
    const char *iface_id;       /* Its iface-id. */
    const char *tenant;         /* Its tenant's name. */
    const char *network;        /* Its network's name. */
    const char *port;           /* Its Port's name. */
    struct uuid binding;        /* Its Interface row: a new one is a new
                                 * binding. */
    struct uuid port_row;       /* Its Tenant DB Port: so is a new one. */
    uint16_t zone;              /* Its port key. */
    int64_t ofport;             /* Its OpenFlow port. */
    uint32_t n_conns;           /* Conntrack entries of its zone, as last
                                 * checked. */
    uint64_t n_cap;             /* Times found at its connection cap. */
};

/* The counters of one rule at one vNIC. */
struct rule_stats {
    struct hmap_node node;      /* In vnic_stats's 'rules', by key. */
    uint32_t key;               /* The rule's key. */
    uint64_t conns;             /* Connections it let in. */
    uint64_t packets;           /* Their packets, both directions. */
    uint64_t bytes;             /* Their bytes. */
    uint64_t seen_gen;          /* The last sample its flows were in. */
};

/* The counters of one bound vNIC. */
struct vnic_stats {
    struct hmap_node node;      /* In vnic_stats_table's 'vnics', by
                                 * iface-id. */
    char *iface_id;             /* Its iface-id. */
    char *tenant;               /* Its tenant. */
    char *network;              /* Its network. */
    char *port;                 /* Its Port's name. */
    struct uuid binding;        /* Its Interface row, as bound. */
    struct uuid port_row;       /* Its Tenant DB Port, as bound. */
    uint16_t zone;              /* Its port key, as bound. */
    int64_t ofport;             /* Its OpenFlow port, as bound. */
    uint64_t c[VC_N];           /* Its counters. */
    uint32_t n_conns;           /* Its conntrack entries, last checked. */
    struct hmap rules;          /* Contains struct rule_stats. */
    double rate[4];             /* Sent and received, packets and bytes
                                 * per second, over the last interval. */
    uint64_t rate_base[4];      /* The counters the rates were last
                                 * computed from. */
    long long int rate_time;    /* When, in ms (0: not yet). */
    uint64_t seen_gen;          /* The last sample it was in. */
};

/* The counters of every bound vNIC, and the readings of the flows they
 * come from. */
struct vnic_stats_table {
    struct hmap vnics;          /* Contains struct vnic_stats. */
    struct hmap flows;          /* Readings of the vNICs' flows, by
                                 * cookie, table, priority and match. */
    struct hmap ports;          /* Readings of the switch's ports, bound
                                 * or not, by ofport. */
    uint64_t gen;               /* Samples taken. */
    long long int last_sample;  /* When the last one was taken (ms; 0:
                                 * never). */
};

void vnic_stats_table_init(struct vnic_stats_table *);
void vnic_stats_table_destroy(struct vnic_stats_table *);
void vnic_stats_table_update(struct vnic_stats_table *,
                             const struct stats_vnic_info *, size_t n_vnics,
                             const struct stats_flow *, size_t n_flows,
                             const struct stats_port *, size_t n_ports,
                             long long int now);
struct vnic_stats *vnic_stats_find(const struct vnic_stats_table *,
                                   const char *iface_id);
const struct vnic_stats **vnic_stats_sorted(const struct vnic_stats_table *);

/* Names rule 'key' into 's' ("acme/web#2"); returns false if unknown. */
typedef bool vnic_stats_rule_namer(uint32_t key, struct ds *s, void *aux);

/* A rule of a vNIC and its name (vnic_stats_named_rules()). */
struct vnic_named_rule {
    const struct rule_stats *rule;  /* The rule. */
    char *name;                     /* Its name ("acme/web#2"). */
};

struct vnic_named_rule *vnic_stats_named_rules(const struct vnic_stats *,
                                               vnic_stats_rule_namer *,
                                               void *aux);
void vnic_stats_named_rules_free(struct vnic_named_rule *, size_t n);

void vnic_stats_format_table(const struct vnic_stats_table *, struct ds *);
void vnic_stats_format_vnic(const struct vnic_stats *, struct ds *,
                            vnic_stats_rule_namer *, void *aux);
struct json *vnic_stats_to_json(const struct vnic_stats_table *,
                                const char *iface_id,
                                vnic_stats_rule_namer *, void *aux);
void vnic_stats_format_prometheus(const struct vnic_stats_table *,
                                  struct ds *, vnic_stats_rule_namer *,
                                  void *aux);
/* Entries of the Tenant DB's Port.statistics. */
#define VNIC_STATS_DB_N 9
void vnic_stats_format_db(const struct vnic_stats *, const char **keys,
                          int64_t *values);

#endif /* vnic-stats.h */
