/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef FLOW_TABLE_H
#define FLOW_TABLE_H 1

/* A table of OpenFlow flows, as text.
 *
 * The pipeline compiler (pipeline.h) writes the flows it wants into a
 * flow_table, the "desired" table; the flow installer (ofctrl.h) keeps
 * another, the "installed" table, with what the switch holds, and sends the
 * difference.  A flow is kept as text in ovs-ofctl(8) syntax: its table,
 * priority and match (together its "key", unique in a table), its cookie and
 * its actions.  Text keeps the compiler simple and testable (flows compare as
 * sorted text), and the installer parses a flow only when it sends it.
 *
 * Every flow has an "owner", a string that names the object it serves
 * ("vnic:ID", "net:KEY", "global").  Incremental processing replaces all the
 * flows of one owner at a time: flow_table_clear_owner() then adding them
 * anew.  Two owners may ask for the same key (a misconfiguration, such as one
 * MAC on two ports of a network): the first one added wins, the other waits
 * behind it and takes over if the first goes away, and the clash is
 * counted.
 *
 * A flow_table remembers the keys whose active flow changed since the last
 * flow_table_take_changes(), so that the installer's work is proportional
 * to the change, not to the table. */

#include <stdbool.h>
#include <stdint.h>
#include "openvswitch/hmap.h"
#include "openvswitch/list.h"
#include "openvswitch/shash.h"
#include "sset.h"

struct ds;

/* One flow. */
struct bh_flow {
    struct hmap_node node;      /* In flow_table's 'flows', by key; only the
                                 * flow that is active for its key. */
    struct ovs_list owner_node; /* In its owner's list. */
    struct ovs_list same_key;   /* Other flows with the same key, waiting. */
    char *owner;                /* Owner name. */
    char *key;                  /* "table=T,priority=P,MATCH". */
    char *actions;              /* "actions" text, without "actions=". */
    uint64_t cookie;            /* OpenFlow cookie (see pipeline.h). */
    bool active;                /* In 'flows' (not waiting behind another). */
};

/* A set of flows, indexed by key and by owner. */
struct flow_table {
    struct hmap flows;          /* Active flows, by hash of key. */
    struct shash owners;        /* Owner name -> struct ovs_list of flows. */
    size_t n_clashes;           /* Flows waiting behind another. */
    struct sset changed;        /* Keys whose active flow changed. */
};

void flow_table_init(struct flow_table *);
void flow_table_destroy(struct flow_table *);
void flow_table_clear(struct flow_table *);

void flow_table_add(struct flow_table *, const char *owner, uint8_t table,
                    uint16_t priority, uint64_t cookie, const char *match,
                    const char *actions);
void flow_table_clear_owner(struct flow_table *, const char *owner);
bool flow_table_has_owner(const struct flow_table *, const char *owner);

const struct bh_flow *flow_table_find(const struct flow_table *,
                                      const char *key);
size_t flow_table_count(const struct flow_table *);
void flow_table_take_changes(struct flow_table *, struct sset *keys);

void bh_flow_format(const struct bh_flow *, struct ds *);
void flow_table_format(const struct flow_table *, const char *owner,
                       struct ds *);

/* Iterates over the active flows of FT. */
#define FLOW_TABLE_FOR_EACH(FLOW, FT) \
    HMAP_FOR_EACH (FLOW, node, &(FT)->flows)

#endif /* flow-table.h */
