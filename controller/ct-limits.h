/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef CT_LIMITS_H
#define CT_LIMITS_H 1

/* Conntrack limits: a cap on the connections of each vNIC's zone.
 *
 * Every bound vNIC with port security has a conntrack zone of its own
 * (ct-zone.h), through which all of its connections, both ways, are
 * committed.  Its Port's "max_connections" (or the default) becomes that
 * zone's limit in the datapath, so that one VM that floods new connections
 * fills its own zone, not the host's table.
 *
 * OpenFlow (OVS 3.1) has no message for zone limits, so they go through
 * ovs-vswitchd's control socket, as "ovs-appctl dpctl/ct-set-limits"
 * would: one connection to $OVS_RUNDIR/ovs-vswitchd.PID.ctl, PID from its
 * pidfile, on which requests are sent without blocking and at most one is
 * outstanding.  What the module wants comes from the engine (a node that
 * reads binding's tracked changes: ct_limits_handle_binding(), or every
 * vNIC: ct_limits_recompute()); ct_limits_run(), after the engine, sends
 * what differs, many zones per request:
 *
 *   - "dpctl/ct-set-limits DP zone=Z,limit=L ...": limits to set;
 *   - "dpctl/ct-del-limits DP zone=Z1,Z2,...": limits of zones no vNIC
 *     with port security has any more;
 *   - "dpctl/ct-get-limits DP": every zone limit the datapath holds, with
 *     its count, read after every new connection to ovs-vswitchd (a new
 *     PID, a restart: the userspace datapath forgets its limits), after
 *     the switch's OpenFlow connection came back, and every verification
 *     interval.  What differs from what was applied is set again (and
 *     counted, ct_limit_repaired); limits of zones 1-65534 that no vNIC
 *     wants are deleted.
 *
 * A zone whose count reached its limit at a check is reported once, until
 * it goes below again: coverage ct_limit_reached, a WARN line naming the
 * vNIC, its zone and its limit, and ct_limits_format_vnic() ("vnic/show").
 *
 * DP is "TYPE@ovs-TYPE" for br-int's datapath type (an empty type is
 * "system"), the name under which ovs-vswitchd opens its datapath.  A
 * request is never sent with an empty zone list: ovs-vswitchd 3.1 crashes
 * on "zone=" alone. */

#include <stdbool.h>
#include <stdint.h>

struct binding;
struct ds;

struct ct_limits *ct_limits_create(void);
void ct_limits_destroy(struct ct_limits *);

void ct_limits_recompute(struct ct_limits *, const struct binding *);
bool ct_limits_handle_binding(struct ct_limits *, const struct binding *);

void ct_limits_run(struct ct_limits *, const char *datapath_type,
                   unsigned int switch_seqno, long long int interval_ms);
void ct_limits_wait(struct ct_limits *);
bool ct_limits_is_settled(const struct ct_limits *);
void ct_limits_check_now(struct ct_limits *);

void ct_limits_format_vnic(const struct ct_limits *, uint16_t zone,
                           struct ds *);
void ct_limits_get_vnic(const struct ct_limits *, uint16_t zone,
                        uint32_t *count, uint64_t *n_full);
void ct_limits_format_status(const struct ct_limits *, struct ds *);

#endif /* ct-limits.h */
