/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef TRACE_H
#define TRACE_H 1

#include <stdbool.h>
#include <stdint.h>

/* "trace": where a vNIC's packet goes through br-int, and why.
 *
 *     ovs-appctl -t bulkhead-controller trace PORT MICROFLOW
 *                                             [--ct-next STATE]...
 *
 * PORT is a vNIC bound on this host (its iface-id, its Port's name, or its
 * interface's name, as "vnic/show" takes), MICROFLOW a flow in
 * ofproto/trace's syntax without in_port ("tcp,dl_src=...,dl_dst=...,
 * nw_src=...,nw_dst=...,tp_dst=22"): the command adds the vNIC's ofport and
 * asks ovs-vswitchd for "ofproto/trace BRIDGE in_port=OFPORT,MICROFLOW",
 * then answers with ovs-vswitchd's trace, every flow it hit followed by
 * what the flow's cookie stands for (pipeline.md, "Cookies"): "[pipeline]",
 * "[vnic acme/lan/web1]", "[network acme/lan]", "[rule acme/web#2 (ingress
 * tcp 22 from @admin), class 0x1234]", and "[not Bulkhead's]" for a flow
 * that the controller did not install (a foreign cookie, or a flow that
 * its desired table does not have with that cookie: a flow added by hand).
 *
 * Conntrack.  The firewall sends every IP packet through ct() twice, in
 * the sender's zone (resumed at the egress rules) and in the receiver's
 * (the ingress rules), and its rules match the connection's original
 * direction (ct_nw_src, ct_tp_dst...), which conntrack fills in.
 * ofproto/trace in OVS 3.1 does follow a ct() recirculation, but with the
 * ct_state that --ct-next gives (trk|new by default) and none of those
 * fields, and the commit of the first side clears them for the second:
 * the rules would never match.  So the command cuts ovs-vswitchd's trace at
 * each conntrack recirculation and traces what follows itself, one more
 * request each ("ofproto/trace-packet-out BRIDGE FLOW resubmit(,TABLE)"),
 * with the flow as ovs-vswitchd froze it and conntrack's answer emulated:
 * the next --ct-next STATE in order (default "trk,new", as OVS does), the
 * zone, and the original direction of the connection (the packet's own
 * addresses and ports, swapped if STATE has "rpl").  Nothing is looked up
 * in the real conntrack table: the trace shows what the flows do with such
 * a packet, not what the table holds.  After each firewall side, one line
 * gives its verdict: the rule that allowed the connection, or the default
 * drop.
 *
 * Nothing blocks: the requests go over a connection of the module's own to
 * ovs-vswitchd's control socket (vswitchd-rpc.h), and the answer to the
 * command is deferred until the last one is in.  Errors are answered as
 * errors: an unknown PORT, a PORT not bound on this host, a MICROFLOW that
 * ofproto/trace refuses (its own message), an unknown --ct-next STATE,
 * ovs-vswitchd unreachable. */

struct binding;
struct ds;
struct firewall;
struct flow_table;
struct ovsdb_idl;

struct trace *trace_create(const struct binding *, const struct firewall *,
                           struct ovsdb_idl *tdb, const struct flow_table *);
void trace_destroy(struct trace *);
bool trace_name_cookie(const struct trace *, uint64_t cookie, struct ds *);
void trace_register_commands(struct trace *);

void trace_run(struct trace *, const char *bridge);
void trace_wait(const struct trace *);

#endif /* trace.h */
