/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef VNIC_FLOWS_H
#define VNIC_FLOWS_H 1

/* The flows of each bound vNIC: port security and its L2 lookup entries
 * (pipeline_add_vnic()), owned as "vnic:IFACE_ID".  Follows the binding
 * module's tracked changes: only vNICs that changed get their flows
 * recomputed. */

#include <stdbool.h>

struct binding;
struct firewall;
struct flow_table;

#define VNIC_FLOWS_OWNERS "vnic:"

void vnic_flows_recompute(const struct binding *, const struct firewall *,
                          struct flow_table *);
bool vnic_flows_handle_binding(const struct binding *,
                               const struct firewall *, struct flow_table *);

#endif /* vnic-flows.h */
