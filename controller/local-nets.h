/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef LOCAL_NETS_H
#define LOCAL_NETS_H 1

/* Networks with vNICs on this host, and their flooding.
 *
 * A network is local while at least one vNIC bound here is on it.  This
 * module keeps each local network's members (iface-id -> ofport and zone)
 * and the uplink's ofport, and owns the flows of each network (owner
 * "net:KEY", pipeline_add_network()): broadcast and multicast flooded to
 * its members
 * and, for a VLAN network, the uplink's tagging, untagging and unknown
 * unicast, and of its flood buckets (owner "net:KEY/BUCKET", one flow
 * each, see PL_FLOOD_BUCKET).  It follows the binding module's tracked
 * changes, so only networks whose membership changed get their flows
 * recomputed, and of a large network only the buckets whose members
 * changed; an uplink that changes recomputes every network's flows. */

#include <stdbool.h>
#include <stdint.h>
#include "openvswitch/hmap.h"
#include "uuid.h"

struct binding;
struct flow_table;
struct ovsdb_idl;
struct ovsrec_bridge;

/* The local networks. */
struct local_nets {
    struct hmap nets;           /* Contains struct local_net, by key. */
    char *uplink_name;          /* Name the uplink was looked up by. */
    int64_t uplink_ofport;      /* The uplink's ofport, or 0. */
    struct uuid uplink_uuid;    /* The uplink's Interface, if found. */
};

void local_nets_init(struct local_nets *);
void local_nets_destroy(struct local_nets *);

void local_nets_recompute(struct local_nets *, const struct binding *,
                          const struct ovsrec_bridge *, const char *uplink,
                          struct flow_table *);
bool local_nets_handle_uplink(struct local_nets *, struct ovsdb_idl *,
                              const struct ovsrec_bridge *,
                              const char *uplink, bool ovs_changed,
                              bool ports_changed);
bool local_nets_handle_binding(struct local_nets *, const struct binding *,
                               struct flow_table *);

#endif /* local-nets.h */
