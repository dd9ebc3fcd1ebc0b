/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef FLOW_TABLE_H
#define FLOW_TABLE_H 1

/* The desired flow table: the flows the switch should hold, with their
 * owners.
 *
 * The pipeline compiler and the controller's nodes write the flows they
 * want into a flow_table with flow_table_add(), in ovs-ofctl(8) syntax; the
 * flow installer (ofctrl.h) sends the switch what changed.
 *
 * Identity.  A flow's identity is its key: (table, priority, match), where
 * the match is the parsed one, normalized by one trip through OpenFlow 1.5
 * encoding, exactly as the switch will hold it and give it back in a flow
 * dump.  So "ip,nw_src=10.0.0.1,in_port=1" and "in_port=1,ip,nw_src=10.0.0.1"
 * are one flow, and a flow the switch reports compares equal to the desired
 * one.  Actions are kept parsed and normalized the same way.  Text is kept
 * only to show flows (as the first owner wrote them).
 *
 * Owners.  Every flow is wanted by one or more owners, strings that name
 * what the flow serves ("vnic:ID", "net:KEY", "pipeline").  Incremental
 * processing replaces all the flows of one owner at a time:
 * flow_table_clear_owner() and then adding them anew.  A flow stays in the
 * table as long as one owner wants it, and goes with its last owner.  What
 * the switch gets for a key with several owners:
 *
 *   - if every owner's actions are only conjunction() actions, the union of
 *     all their clauses, in a canonical order (one installed flow, as OVN
 *     merges them), which shrinks again when an owner leaves;
 *
 *   - otherwise the first owner's actions;
 *
 * with the smallest of the owners' cookies, unless they clash (below),
 * so that the flow never depends on the order in which its owners came
 * (incremental processing and a restart's full computation add them in
 * different orders).
 *
 * Owners that want other actions for the same key are a clash: the first
 * owner's actions and cookie win; it is counted, logged, and the others
 * take over, in order, when the first goes away.  That is a last resort:
 * one MAC on two ports of a network never gets here, the binding module
 * refuses one of them first (mac-owners.h).
 *
 * A flow_table records the keys whose result (actions or cookie, or
 * presence) changed since the last flow_table_take_changes(), so that the
 * installer's work is proportional to the change, not to the table. */

#include <stdbool.h>
#include <stdint.h>
#include "openvswitch/compiler.h"
#include "openvswitch/hmap.h"
#include "openvswitch/list.h"
#include "openvswitch/match.h"
#include "openvswitch/shash.h"

struct ds;
struct ofpact;

/* A flow's identity: table, priority and normalized match. */
struct bh_flow_key {
    struct hmap_node node;      /* In a table of keys, by bh_flow_key_hash. */
    uint8_t table_id;           /* OpenFlow table. */
    uint16_t priority;          /* Priority. */
    struct minimatch match;     /* Normalized match. */
};

uint32_t bh_flow_key_hash(const struct bh_flow_key *);
bool bh_flow_key_equals(const struct bh_flow_key *,
                        const struct bh_flow_key *);
void bh_flow_key_clone(struct bh_flow_key *dst, const struct bh_flow_key *);
void bh_flow_key_destroy(struct bh_flow_key *);
void bh_flow_keys_destroy(struct hmap *keys);
char *bh_flow_key_from_string(uint8_t table, uint16_t priority,
                              const char *match, struct bh_flow_key *)
    OVS_WARN_UNUSED_RESULT;

/* One desired flow (one key), with what its owners want. */
struct bh_flow {
    struct bh_flow_key key;     /* Identity; 'key.node' is in the table. */
    struct ovs_list wants;      /* struct flow_want, in order of addition. */
    const char *key_text;       /* "table=T,priority=P,MATCH" as the first
                                 * owner wrote it, for showing. */
    /* What the switch should hold for this key. */
    uint64_t cookie;            /* Cookie. */
    const struct ofpact *ofpacts;  /* Actions: the first owner's, or
                                    * 'merged'. */
    size_t ofpacts_len;         /* Length of 'ofpacts' in bytes. */
    void *wire;                 /* 'ofpacts' as OpenFlow 1.5 instructions:
                                 * what comparisons use, since decoded
                                 * ofpacts may differ in padding. */
    size_t wire_len;            /* Length of 'wire' in bytes. */
    const char *actions_text;   /* Actions, for showing. */
    struct ofpact *merged;      /* Merged conjunctions, or NULL. */
    char *merged_text;          /* 'merged' as text, or NULL. */
    bool clash;                 /* Owners want different actions. */
    bool stale;                 /* Its wants changed since its result was
                                 * computed (see flow_table_settle()). */
    struct ovs_list stale_node; /* In the table's 'stale', if 'stale'. */
};

/* A set of desired flows, indexed by key and by owner. */
/* A meter an owner wants: a single drop band, in packets per second. */
struct bh_meter {
    uint32_t id;                /* Meter id (non-zero). */
    uint32_t rate;              /* Packets per second. */
    uint32_t burst;             /* Burst size, in packets. */
};

struct flow_table {
    struct hmap flows;          /* Contains struct bh_flow, by key hash. */
    struct shash owners;        /* Owner name -> struct flow_owner. */
    size_t n_clashes;           /* Flows whose owners disagree, of those
                                 * not stale (flow_table_n_clashes()). */
    size_t n_errors;            /* Flows refused: they did not parse. */
    struct hmap changed;        /* struct bh_flow_key copies: keys whose
                                 * result changed. */
    struct hmap meters;         /* Owners with a meter, by meter id. */
    struct hmap changed_meters; /* Ids of those meters (see
                                 * flow_table_take_meter_changes()). */
    bool untracked;             /* 'changed' and 'changed_meters' are not
                                 * kept (flow_table_set_untracked()). */
    char *last_actions;         /* The actions text of the last flow that
                                 * parsed, or NULL... */
    struct ofpact *last_ofpacts;    /* ...and them, normalized: consecutive
                                     * flows often share actions. */
    size_t last_ofpacts_len;    /* Length of 'last_ofpacts' in bytes. */
    struct ovs_list stale;      /* struct bh_flow whose result is to be
                                 * recomputed, by 'stale_node'. */
};

void flow_table_init(struct flow_table *);
void flow_table_set_untracked(struct flow_table *, bool untracked);
void flow_table_destroy(struct flow_table *);
void flow_table_clear(struct flow_table *);

bool flow_table_add(struct flow_table *, const char *owner, uint8_t table,
                    uint16_t priority, uint64_t cookie, const char *match,
                    const char *actions);
void flow_table_clear_owner(struct flow_table *, const char *owner);
void flow_table_clear_owner_prefix(struct flow_table *, const char *prefix);
void flow_table_set_meter(struct flow_table *, const char *owner,
                          uint32_t id, uint32_t rate, uint32_t burst);
void flow_table_for_each_meter(const struct flow_table *,
                               void (*cb)(const struct bh_meter *, void *),
                               void *aux);
const struct bh_meter *flow_table_find_meter(const struct flow_table *,
                                             uint32_t id);
bool flow_table_meters_changed(const struct flow_table *);
void flow_table_take_meter_changes(struct flow_table *, struct hmap *ids);
uint32_t flow_table_meter_change_id(const struct hmap_node *);
void flow_table_meter_changes_destroy(struct hmap *ids);
bool flow_table_has_owner(const struct flow_table *, const char *owner);

void flow_table_settle(const struct flow_table *);
const struct bh_flow *flow_table_find(const struct flow_table *,
                                      const struct bh_flow_key *);
size_t flow_table_count(const struct flow_table *);
size_t flow_table_n_clashes(const struct flow_table *);
void flow_table_take_changes(struct flow_table *, struct hmap *keys);

void bh_flow_format(const struct bh_flow *, struct ds *);
void bh_ofpacts_to_wire(const struct ofpact *, size_t ofpacts_len,
                        void **wire, size_t *wire_len);
void flow_table_format(const struct flow_table *, const char *owner,
                       struct ds *);
void flow_table_format_prefix(const struct flow_table *, const char *prefix,
                              struct ds *);

const struct flow_table *flow_table_settled(const struct flow_table *);

/* Iterates over the flows of FT, their results up to date. */
#define FLOW_TABLE_FOR_EACH(FLOW, FT) \
    HMAP_FOR_EACH (FLOW, key.node, &flow_table_settled(FT)->flows)

#endif /* flow-table.h */
