/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef OVERLAY_H
#define OVERLAY_H 1

/* The overlay engine node: VXLAN networks across hosts.
 *
 * A VXLAN network is carried to another chassis only while this host has a
 * vNIC bound on it.  For each such network, the Tenant DB says which of
 * its Ports are bound on which other chassis, and each Chassis row gives
 * its encapsulation address: that is the whole mapping, pushed by the
 * control plane, so nothing is ever learned from traffic.  The node owns
 * the flows "ovl:KEY" of each network (pipeline_add_overlay(): frames of
 * the VNI accepted from those chassis only, unicast to each remote vNIC's
 * chassis, broadcast and multicast to each of those chassis once) and
 * "ovl:tunnel", the output into br-int's VXLAN port.
 *
 * Changes: a vNIC bound or gone here recomputes its network if it is a
 * VXLAN one; a Port of the Tenant DB that changes recomputes the local
 * networks it is, or was, a remote vNIC of; a Chassis that changes or
 * goes recomputes every local VXLAN network; the VXLAN port's ofport
 * changing recomputes everything.  A network that loses its last local
 * vNIC loses its flows. */

#include <stdbool.h>
#include <stdint.h>
#include "openvswitch/hmap.h"

struct binding;
struct bhrec_chassis;
struct flow_table;
struct ovsdb_idl;
struct ds;

/* The overlay's owner prefix. */
#define OVERLAY_OWNERS "ovl:"

/* The overlay's state. */
struct overlay {
    struct hmap nets;           /* struct ovl_net, by network key: the local
                                 * VXLAN networks. */
    int64_t tunnel_ofport;      /* br-int's VXLAN port, or 0. */
    struct hmap shared_ips;     /* struct ovl_shared_ip, by address: the
                                 * encapsulation addresses that several
                                 * chassis publish (unreachable). */
};

void overlay_init(struct overlay *);
void overlay_destroy(struct overlay *);

void overlay_recompute(struct overlay *, const struct binding *,
                       struct ovsdb_idl *tdb, const struct bhrec_chassis *,
                       int64_t tunnel_ofport, struct flow_table *);
bool overlay_handle_binding(struct overlay *, const struct binding *,
                            struct ovsdb_idl *tdb,
                            const struct bhrec_chassis *,
                            struct flow_table *);
bool overlay_handle_tdb(struct overlay *, const struct binding *,
                        struct ovsdb_idl *tdb, const struct bhrec_chassis *,
                        struct flow_table *);
bool overlay_tunnel_changed(const struct overlay *, int64_t tunnel_ofport);
char *overlay_chassis_unreachable(const struct overlay *,
                                  struct ovsdb_idl *tdb,
                                  const char *self_name,
                                  const struct bhrec_chassis *);
void overlay_format_vnis(const struct overlay *, struct ds *);
void overlay_register_commands(const struct overlay *, struct ovsdb_idl *tdb,
                               const char **self);

#endif /* overlay.h */
