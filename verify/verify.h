/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef VERIFY_H
#define VERIFY_H 1

/* The isolation verifier: proves, on an OpenFlow table as the switch holds
 * it, that no packet entering from a vNIC of one network can leave on a
 * vNIC of another, into the overlay tunnel with another network's VNI, or
 * onto the uplink with another network's VLAN tag, whatever its headers,
 * and that nothing reaches, or comes from, a port of no network (a VM's
 * port that is not bound).
 *
 * It follows the table by header-space reachability (sets of ternary
 * "cubes" over struct flow, never single packets) and shares no code with
 * the pipeline's generator (controller/pipeline.c and the modules that
 * write flows): it must be able to catch their bugs.  Documentation/
 * verify.md gives the model: what each match and action does to a header
 * space, what is treated as opaque and why that is safe.
 *
 * Three parts:
 *
 *   - struct vfy_flows: the flow table (added and removed one flow at a
 *     time, or parsed from "ovs-ofctl -O OpenFlow15 dump-flows" text), which
 *     remembers what changed since the last check;
 *
 *   - struct vfy_portmap: which ofport is which network's vNIC, which is the
 *     uplink and with which VLAN tag per network, which is the tunnel and
 *     with which VNI per network;
 *
 *   - struct vfy_checker: the verdicts per input port, kept between runs so
 *     that a re-check after a few flows changed only follows the input
 *     ports whose traversal those flows can affect. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "openvswitch/types.h"

struct ds;
struct json;
struct match;
struct ofpact;

/* The flow table. */

struct vfy_flows *vfy_flows_create(void);
void vfy_flows_destroy(struct vfy_flows *);

/* Adds a flow, or replaces the one with the same table, priority and match
 * (as the switch does).  Copies 'match' and 'ofpacts'. */
void vfy_flows_add(struct vfy_flows *, uint8_t table_id, uint16_t priority,
                   const struct match *, ovs_be64 cookie,
                   const struct ofpact *ofpacts, size_t ofpacts_len);

/* Removes the flow with exactly this table, priority and match; returns
 * false if there is none. */
bool vfy_flows_remove(struct vfy_flows *, uint8_t table_id,
                      uint16_t priority, const struct match *);

/* Removes every flow. */
void vfy_flows_clear(struct vfy_flows *);

/* Returns how many flows the table holds. */
size_t vfy_flows_count(const struct vfy_flows *);

/* Adds the flows of 'text', the output of "ovs-ofctl [-O OpenFlowXX]
 * dump-flows BRIDGE" (one flow per line, statistics fields and reply
 * headers ignored).  Returns NULL, or an error message naming 'file_name',
 * the line and the problem (the caller frees it), in which case the table
 * is unchanged. */
char *vfy_flows_parse(struct vfy_flows *, const char *text,
                      const char *file_name) OVS_WARN_UNUSED_RESULT;

/* Largest file vfy_read_file() reads: a dump of 1,000,000 flows. */
#define VFY_FILE_MAX_BYTES (512 * 1024 * 1024)

/* Reads file 'file_name' whole into '*text' (the caller frees it), for
 * vfy_flows_parse() and the port map.  Returns NULL, or an error naming the
 * file (the caller frees it), in which case '*text' is NULL: only a
 * regular file of at most VFY_FILE_MAX_BYTES is read. */
char *vfy_read_file(const char *file_name, char **text)
    OVS_WARN_UNUSED_RESULT;

/* vfy_read_file() in two steps, for a caller that must not block on the
 * read (the controller's main loop hands the file to its verifier thread):
 * vfy_open_file() opens and checks 'file_name' (never blocks) into '*fdp';
 * vfy_read_fd() reads it whole into '*text' and closes it.  Each returns
 * NULL or an error naming the file (the caller frees it). */
char *vfy_open_file(const char *file_name, int *fdp) OVS_WARN_UNUSED_RESULT;
char *vfy_read_fd(int fd, const char *file_name, char **text)
    OVS_WARN_UNUSED_RESULT;

/* Removes the flows of 'text' (the same syntax), each identified by its
 * table, priority and match; the actions are ignored.  Returns NULL, or an
 * error as vfy_flows_parse() does (then nothing is removed); a flow of
 * 'text' that the table does not hold is no error. */
char *vfy_flows_parse_remove(struct vfy_flows *, const char *text,
                             const char *file_name) OVS_WARN_UNUSED_RESULT;

/* The port map. */

struct vfy_portmap *vfy_portmap_create(void);
void vfy_portmap_destroy(struct vfy_portmap *);
struct vfy_portmap *vfy_portmap_clone(const struct vfy_portmap *);
bool vfy_portmap_equal(const struct vfy_portmap *,
                       const struct vfy_portmap *);

/* 'port' is a vNIC of 'network' ("TENANT/NETWORK"), called 'name' in
 * reports. */
void vfy_portmap_add_vnic(struct vfy_portmap *, ofp_port_t port,
                          const char *network, const char *name);

/* 'port', called 'name' in reports, belongs to no network: a tenant VM's
 * port whose binding was refused or whose Port is unknown, or any other
 * port of the bridge that is neither a vNIC nor a trunk nor an operator's
 * analysis port.  No packet from anywhere may reach it, and none it sends
 * may reach a vNIC or a trunk. */
void vfy_portmap_add_sealed(struct vfy_portmap *, ofp_port_t port,
                            const char *name);

/* Returns true if 'port' is a vNIC or a port of no network in the map. */
bool vfy_portmap_has_port(const struct vfy_portmap *, ofp_port_t port);

/* 'port' is no vNIC any more (nothing if it was none). */
void vfy_portmap_remove_vnic(struct vfy_portmap *, ofp_port_t port);

/* 'port' is the uplink; VLAN 'vid' on it is 'network'. */
void vfy_portmap_set_uplink(struct vfy_portmap *, ofp_port_t port);
void vfy_portmap_add_vlan(struct vfy_portmap *, uint16_t vid,
                          const char *network);

/* 'port' is the (flow-based) overlay tunnel; VNI 'vni' is 'network'. */
void vfy_portmap_set_tunnel(struct vfy_portmap *, ofp_port_t port);
void vfy_portmap_add_vni(struct vfy_portmap *, uint32_t vni,
                         const char *network);

/* Reads the port map from the JSON document 'json' (verify.md, "Port
 * map"), whose name is 'file_name' in errors.  Returns NULL or an error
 * (the caller frees it), in which case the map is unchanged. */
char *vfy_portmap_from_json(struct vfy_portmap *, const struct json *,
                            const char *file_name) OVS_WARN_UNUSED_RESULT;
struct json *vfy_portmap_to_json(const struct vfy_portmap *);

/* Checking. */

/* Appends to 'ds' what 'cookie' stands for ("vnic acme/lan/web1", "rule
 * acme/web#2"...), or nothing. */
typedef void vfy_cookie_namer(uint64_t cookie, struct ds *ds, void *aux);

struct vfy_checker *vfy_checker_create(void);
void vfy_checker_destroy(struct vfy_checker *);

/* Checks every input port of 'map' on 'flows' from scratch. */
void vfy_checker_run_full(struct vfy_checker *, struct vfy_flows *,
                          const struct vfy_portmap *);

/* Checks again only the input ports whose traversal the flows added or
 * removed since the last run can affect.  'map' may differ from the last
 * run's by vNICs added and removed: a removed vNIC's input goes, an added
 * one's is followed, and so is every input that reached the port of one
 * of them.  Any other change of the map (the uplink, the tunnel, a VLAN or
 * VNI, a vNIC's network or name) means a full run.  Returns how many input
 * ports it followed (every one after a full run). */
size_t vfy_checker_run_incremental(struct vfy_checker *, struct vfy_flows *,
                                   const struct vfy_portmap *);

/* Returns true if the last run was a full one. */
bool vfy_checker_last_full(const struct vfy_checker *);

/* Returns true if the last run found no leak. */
bool vfy_checker_is_isolated(const struct vfy_checker *);

/* Returns how many leaks (counterexamples) the last run found. */
size_t vfy_checker_n_leaks(const struct vfy_checker *);

/* Appends the verdict: "isolated" and what was checked, or every
 * counterexample: the input port and its network, a concrete packet (in
 * ovs-ofctl's flow syntax, injectable with netdev-dummy/receive or
 * ofproto/trace), the flows it hits (table, priority, cookie, and what
 * 'namer' says of the cookie if nonnull), and where it leaves (the port
 * and the network it belongs to, the VNI or the VLAN tag). */
void vfy_checker_format(const struct vfy_checker *, struct ds *,
                        vfy_cookie_namer *namer, void *aux);

/* The same as JSON, for scripts. */
struct json *vfy_checker_to_json(const struct vfy_checker *,
                                 vfy_cookie_namer *namer, void *aux);

#endif /* verify/verify.h */
