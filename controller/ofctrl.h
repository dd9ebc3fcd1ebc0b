/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef OFCTRL_H
#define OFCTRL_H 1

/* The flow installer: keeps br-int's flow table equal to a desired one.
 *
 * ofctrl holds one OpenFlow 1.5 connection to the bridge's management
 * socket and a copy of what the switch holds.  ofctrl_put() sends the
 * difference between the desired table and that copy as one atomic,
 * ordered bundle, followed by a barrier, and returns a sequence number;
 * ofctrl_acked_seqno() tells which sequence number the switch has
 * confirmed, so that the caller can mark a vNIC installed only once its
 * flows are really in place.
 *
 * After every (re)connection (the controller restarted, ovs-vswitchd
 * restarted, the bridge was recreated) the switch's table is unknown:
 * ofctrl reads it with a flow stats request, and the next ofctrl_put()
 * compares the desired table with every flow the switch reported.  Flows
 * that stay are left alone, so they keep their counters and their age;
 * flows whose actions changed are modified in place; flows nobody wants,
 * including flows someone added by hand with a foreign cookie, are deleted;
 * missing ones are added; all of it in one bundle.  A controller restarted
 * with an unchanged configuration so sends no flow modification at all,
 * and no packet ever meets an empty or half-written table.  The caller must
 * not call ofctrl_put() before its databases are in sync: an empty desired
 * table would empty the switch.
 *
 * Flows are compared by identity (table, priority, normalized match) and
 * content (cookie, normalized actions): see flow-table.h.  A flow whose
 * cookie changes is re-added (which OVS does without clearing its counters);
 * one whose actions change is modified.
 *
 * Verification: every so often (ofctrl_set_verify_interval(); the
 * "recompute" command too) the switch's table is read again and compared
 * whole, and what someone changed behind the controller's back (a flow
 * deleted or modified by hand, a flow added) is repaired in one bundle,
 * logged and counted ("flows repaired" in connection-status).  Puts go on
 * while the table is read (a "check"): the switch answers a dump with its
 * table as of the request, after what was sent before it and before what
 * follows, so each dumped flow is compared with the installed copy as it
 * was at the request (a journal keeps the old state of each key a put has
 * changed since), and the next put repairs what differs.  A key whose
 * change since was computed from a state the switch did not hold is
 * deleted and added again.  Only while flows are withheld does a
 * verification read the table the way a reconnection does, holding puts
 * back until it is read.
 *
 * A flow the switch refuses (an error naming one flow_mod of a bundle: a
 * full table, an action it cannot take) is never left in its old state:
 * every flow of its cookie (one vNIC's, one network's, or the pipeline's)
 * is withheld, deleted from the switch, so that what it concerned fails
 * closed; it is logged at ERR, counted (ofctrl_n_refused(), coverage
 * ofctrl_flow_refused), reported by ofctrl_refused() for diagnostics, and
 * tried again when a flow of that cookie changes, at every verification and
 * at "recompute".
 *
 * Staging: a large put onto a switch whose table 0 is empty (its first
 * after ovs-vswitchd started with no flows) sends the flows past table 0
 * over several extra connections at once, which ovs-vswitchd reads in
 * fewer turns of its main loop, and table 0's flows last, in one bundle on
 * the main connection once the others are confirmed: no packet reaches a
 * flow before that last bundle opens the pipeline, whole.  See
 * ofctrl_put().
 *
 * Invariants: every bundle is atomic (all of it or none of it); a bundle the
 * switch refuses makes ofctrl read the switch's table again and compare it
 * whole; the installed copy describes the switch whenever no bundle is
 * outstanding; the pipeline is reachable (table 0 holds flows) only once
 * every flow of the put that wrote it is in. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ds;
struct flow_table;

struct ofp_header;
struct ofputil_flow_stats;
struct ofputil_packet_in;

/* Called for each flow of a flow stats reply. */
typedef void ofctrl_flow_stats_cb(const struct ofputil_flow_stats *,
                                  void *aux);
bool ofctrl_decode_flow_stats(const struct ofp_header *,
                              ofctrl_flow_stats_cb *, void *aux);

/* Called for each packet the switch sends to the controller. */
typedef void ofctrl_packet_in_cb(const struct ofputil_packet_in *,
                                 void *aux);

struct ofctrl *ofctrl_create(void);
void ofctrl_set_packet_in_cb(struct ofctrl *, ofctrl_packet_in_cb *,
                             void *aux);
void ofctrl_destroy(struct ofctrl *);
void ofctrl_set_bridge(struct ofctrl *, const char *bridge);
void ofctrl_run(struct ofctrl *);
void ofctrl_wait(struct ofctrl *);

bool ofctrl_is_connected(const struct ofctrl *);
unsigned int ofctrl_connection_seqno(const struct ofctrl *);
bool ofctrl_needs_full(const struct ofctrl *);
uint64_t ofctrl_put(struct ofctrl *, struct flow_table *desired);
uint64_t ofctrl_acked_seqno(const struct ofctrl *);
bool ofctrl_is_staging(const struct ofctrl *);
void ofctrl_flush_zone(struct ofctrl *, uint16_t zone);
bool ofctrl_needs_stale_check(const struct ofctrl *);
size_t ofctrl_remove_stale(struct ofctrl *, const int64_t *zone_ofport);
void ofctrl_set_verify_interval(struct ofctrl *, long long int interval_ms);
void ofctrl_verify_now(struct ofctrl *);
void ofctrl_probe_for(struct ofctrl *, long long int ms);
uint64_t ofctrl_verifications(const struct ofctrl *);
uint64_t ofctrl_repaired(const struct ofctrl *);
const char *ofctrl_refused(const struct ofctrl *, uint64_t cookie);
uint64_t ofctrl_n_refused(const struct ofctrl *);
size_t ofctrl_n_withheld(const struct ofctrl *);
size_t ofctrl_n_installed(const struct ofctrl *);
void ofctrl_format_status(const struct ofctrl *, struct ds *);

#endif /* ofctrl.h */
