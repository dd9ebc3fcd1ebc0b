/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef ISOLATION_H
#define ISOLATION_H 1

/* The isolation verifier, live (verify/verify.h is the checker).
 *
 * A thread of its own keeps a copy of the flow table the switch really
 * holds, all of it, whoever wrote it: an OpenFlow flow monitor on a
 * connection of its own sends every flow at first, then every flow added,
 * changed or deleted (by the controller, by ovs-ofctl, by anyone).  After
 * each change (at most a second later, even under churn) it re-checks the
 * input ports the change can affect, with the port map the main loop
 * hands over (which ofport is which network's vNIC, which belongs to no
 * network, the uplink and its VLAN tags, the tunnel and its VNIs, from the
 * Tenant DB).  Flow
 * installation never waits for it.  Verdicts are counted in coverage
 * ("isolation_checked", "isolation_leak") and in metrics; a leak is logged
 * at ERR level with its counterexample, once per new verdict.
 *
 *     ovs-appctl -t bulkhead-controller isolation/verify [--format=json]
 *                                                         [FILE]
 *
 * answers "isolated" (ovs-appctl exits 0) or every counterexample (as an
 * error: ovs-appctl exits 2), on the live table or on FILE, a table dumped
 * with "ovs-ofctl -O OpenFlow15 dump-flows br-int" (and perhaps edited),
 * with the live port map.  "isolation/portmap" prints that map as the JSON
 * that bulkhead-verify(1) reads; "isolation/status" says what the thread
 * is doing.
 *
 * external_ids:bulkhead-isolation-verify=false on the Open_vSwitch row
 * stops the background checks, and they pause while the table has more
 * flows than external_ids:bulkhead-isolation-verify-max-flows (default
 * 100,000: a bound on the checks' CPU and memory, verify.md "Cost"); the
 * command works either way. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct binding;
struct local_nets;
struct metrics;
struct mirror;
struct ovsdb_idl;
struct ovsrec_bridge;
struct trace;

/* What the port map is made of. */
struct isolation_input {
    const struct binding *binding;      /* The vNICs: the bound ones are
                                         * their networks'. */
    const struct local_nets *nets;      /* The uplink's ofport. */
    const struct mirror *mirror;        /* The analysis ports. */
    const struct ovsrec_bridge *br_int; /* Every port of the bridge: those
                                         * of no network are the rest. */
    long long int tunnel_ofport;        /* The VXLAN port's, or 0. */
    const int64_t *mirror_tnls;         /* The mirrors' tunnel ports'
                                         * (MIRROR_N_TNLS), 0 for none. */
    struct ovsdb_idl *tdb;              /* The Tenant DB: the networks'
                                         * VLANs and VNIs. */
};

struct isolation *isolation_create(const struct trace *);
void isolation_destroy(struct isolation *);

void isolation_set_bridge(struct isolation *, const char *bridge,
                          bool enabled, size_t max_flows);
uint32_t isolation_input_hash(const struct isolation_input *);
void isolation_update_portmap(struct isolation *,
                              const struct isolation_input *);
bool isolation_wants_portmap(const struct isolation *);
void isolation_release_requests(struct isolation *);
void isolation_run(struct isolation *);
void isolation_wait(struct isolation *);
void isolation_add_metrics(struct isolation *, struct metrics *);

#endif /* controller/isolation.h */
