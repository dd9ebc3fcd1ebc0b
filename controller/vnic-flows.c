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
#include "openvswitch/vlog.h"
#include "packets.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(vnic_flows);

COVERAGE_DEFINE(vnic_flows_vnic);
COVERAGE_DEFINE(vnic_flows_recompute);

/* Parses the MAC of allowed address 'a' (the vNIC's own, 'own', if it
 * names none) and its address into 'out'.  Returns false if one does not
 * parse. */
static bool
parse_address(const char *mac, const char *ip, struct eth_addr own,
              struct pl_address *out)
{
    out->mac = own;
    return ((!mac || eth_addr_from_string(mac, &out->mac))
            && fw_prefix_parse(ip, &out->ip));
}

/* Adds the flows of bound vNIC 'v', in its firewall class of 'fw', to
 * 'flows'.  Its rows were validated when it was bound; its values are
 * parsed here into typed fields all the same, and a value that does not
 * parse gives the vNIC no flow at all (closed). */
static void
add_vnic(const struct vnic *v, const struct firewall *fw,
         struct flow_table *flows)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);
    const struct policy_port *p = &v->port;
    size_t n = p->ips.n + p->n_allowed;
    struct pl_address *addrs = xmalloc(MAX(n, 1) * sizeof *addrs);
    struct pl_vnic pv = {
        .iface_id = v->iface_id,
        .key = v->zone,
        .ofport = v->ofport,
        .net_key = v->net_key,
        .addrs = addrs,
        .n_addrs = n,
        .port_security = p->port_security,
        .fw_class = firewall_vnic_class(fw, v->iface_id),
        .broadcast_limit = p->broadcast_limit,
    };
    bool ok = eth_addr_from_string(p->mac, &pv.mac);

    for (size_t i = 0; ok && i < n; i++) {
        ok = (i < p->ips.n
              ? parse_address(NULL, p->ips.names[i], pv.mac, &addrs[i])
              : parse_address(p->allowed[i - p->ips.n].mac,
                              p->allowed[i - p->ips.n].ip, pv.mac,
                              &addrs[i]));
    }
    /* Its network's prefixes: one that does not parse (written past the
     * validator) is left out, which only lets less through. */
    struct pl_address *cidrs = xmalloc(MAX(v->net_cidrs.n, 1)
                                       * sizeof *cidrs);
    for (size_t i = 0; i < v->net_cidrs.n; i++) {
        if (parse_address(NULL, v->net_cidrs.names[i], pv.mac,
                          &cidrs[pv.n_net_cidrs])) {
            pv.n_net_cidrs++;
        } else {
            VLOG_WARN_RL(&rl, "%s: network prefix \"%s\" does not parse; "
                         "left out", v->iface_id, v->net_cidrs.names[i]);
        }
    }
    pv.net_cidrs = cidrs;
    if (ok) {
        COVERAGE_INC(vnic_flows_vnic);
        pipeline_add_vnic(flows, &pv);
    } else {
        VLOG_ERR_RL(&rl, "%s: an address does not parse; no flows",
                    v->iface_id);
    }
    free(cidrs);
    free(addrs);
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
