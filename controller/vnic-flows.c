/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#include <config.h>
#include "controller/vnic-flows.h"

#include <stdlib.h>
#include "controller/binding.h"
#include "controller/firewall.h"
#include "controller/flow-table.h"
#include "controller/pipeline.h"
#include "coverage.h"
#include "util.h"

COVERAGE_DEFINE(vnic_flows_vnic);
COVERAGE_DEFINE(vnic_flows_recompute);

/* Adds the flows of bound vNIC 'v', in its firewall class of 'fw', to
 * 'flows'. */
static void
add_vnic(const struct vnic *v, const struct firewall *fw,
         struct flow_table *flows)
{
    struct pl_vnic pv = {
        .iface_id = v->iface_id,
        .key = v->zone,
        .ofport = v->ofport,
        .net_key = v->net_key,
        .mac = v->port.mac,
        .ips = &v->port.ips,
        .allowed = v->port.allowed,
        .n_allowed = v->port.n_allowed,
        .port_security = v->port.port_security,
        .fw_class = firewall_vnic_class(fw, v->iface_id),
        .broadcast_limit = v->port.broadcast_limit,
    };

    COVERAGE_INC(vnic_flows_vnic);
    pipeline_add_vnic(flows, &pv);
}

/* Computes the flows of every bound vNIC of 'b'.  The caller removed the
 * old ones. */
void
vnic_flows_recompute(const struct binding *b, const struct firewall *fw,
                     struct flow_table *flows)
{
    const struct vnic *v;

    COVERAGE_INC(vnic_flows_recompute);
    BINDING_FOR_EACH_VNIC (v, b) {
        if (v->state == VNIC_BOUND) {
            add_vnic(v, fw, flows);
        }
    }
}

/* Recomputes the flows of the vNICs that changed in this run: first
 * removes all their old flows, then adds the new ones, so that a vNIC that
 * takes over an L2 address from one refused in the same run never meets
 * the other's flow. */
bool
vnic_flows_handle_binding(const struct binding *b, const struct firewall *fw,
                          struct flow_table *flows)
{
    const struct binding_change *c;

    BINDING_FOR_EACH_CHANGE (c, b) {
        char *owner = pipeline_vnic_owner(c->iface_id);
        flow_table_clear_owner(flows, owner);
        free(owner);
    }
    BINDING_FOR_EACH_CHANGE (c, b) {
        const struct vnic *v = binding_find(b, c->iface_id);
        if (v && v->state == VNIC_BOUND) {
            add_vnic(v, fw, flows);
        }
    }
    return true;
}
