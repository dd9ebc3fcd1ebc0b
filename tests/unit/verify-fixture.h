/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef VERIFY_FIXTURE_H
#define VERIFY_FIXTURE_H 1

/* Flow tables written by the controller's own compiler (controller/
 * pipeline.c, controller/fw-rules.c), for the verifier's tests and its
 * benchmark. */

#include <stdbool.h>
#include <stddef.h>

struct vfy_portmap;

/* A host with 'n_nets' VLAN networks (VLAN 101, 102...), one tenant each,
 * with 'per_net' vNICs each, all with port security and their tenant's
 * one security group (ingress TCP 22 from anywhere, TCP 80, TCP 443 and
 * ICMP from the group, egress anything), rule statistics on, and an
 * uplink (ofport 60000).  vNIC i (from 0) has ofport and zone i + 1. */
struct vfy_fixture {
    size_t n_nets;              /* Networks. */
    size_t per_net;             /* vNICs per network. */
};

char *vfy_fixture_flows(const struct vfy_fixture *);
char *vfy_fixture_vnic_flows(const struct vfy_fixture *, size_t vnic,
                             int variant);
void vfy_fixture_portmap(const struct vfy_fixture *, struct vfy_portmap *);

/* The uplink's ofport. */
#define VFY_FIXTURE_UPLINK 60000

#endif /* verify-fixture.h */
