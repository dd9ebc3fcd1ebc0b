/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* bulkhead-controller: the per-hypervisor daemon.
 *
 * The main loop keeps the order ovn-controller's has:
 *
 *   1. read both databases (the local Open_vSwitch DB and the Tenant DB);
 *   2. make sure this host is set up: its configuration, br-int with
 *      fail_mode=secure, its Chassis row (chassis.h);
 *   3. run the incremental engine (engine.h), whose nodes, below, bind
 *      vNICs and compute the desired flows;
 *   4. flush the conntrack zones that changed hands, send ovs-vswitchd
 *      the zones' conntrack limits that changed (ct-limits.h), send the
 *      switch the difference between the desired flows and what it holds
 *      (ofctrl.h), and write installed marks for what it confirmed
 *      (if-status.h);
 *   5. commit both databases' transactions;
 *   6. once the switch confirmed every flow put, hand the isolation
 *      verifier (isolation.h) its port map if it changed: no work that
 *      can wait sits between a vNIC's flows and its installed mark.
 *
 * Nothing is computed, nor sent to the switch, before both databases have
 * been read once: a restarted controller leaves the switch's flows alone
 * until it knows what they should be, and then sends only the difference.
 * This file wires modules together; it reads none of their internals. */

#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "command-line.h"
#include "controller/binding.h"
#include "controller/chassis.h"
#include "controller/ct-limits.h"
#include "controller/ct-zone.h"
#include "controller/engine.h"
#include "controller/firewall.h"
#include "controller/fw-log.h"
#include "controller/if-status.h"
#include "controller/isolation.h"
#include "controller/local-nets.h"
#include "controller/metrics.h"
#include "controller/mirror.h"
#include "controller/overlay.h"
#include "controller/tdb-monitor.h"
#include "controller/ofctrl.h"
#include "controller/pipeline.h"
#include "controller/trace.h"
#include "ofproto-ext/stats.h"
#include "controller/vnic-flows.h"
#include "coverage.h"
#include "daemon.h"
#include "dirs.h"
#include "fatal-signal.h"
#include "hash.h"
#include "memory.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vconn.h"
#include "openvswitch/vlog.h"
#include "ovsdb-idl.h"
#include "schema/bulkhead-idl.h"
#include "simap.h"
#include "smap.h"
#include "sset.h"
#include "stream.h"
#include "svec.h"
#include "timeval.h"
#include "unixctl.h"
#include "util.h"
#include "vswitch-idl.h"

VLOG_DEFINE_THIS_MODULE(bulkhead_controller);

COVERAGE_DEFINE(controller_txn_failed);

/* What the engine's nodes work from in one run, and their state. */
struct engine_ctx {
    /* Set by the main loop for each run. */
    struct binding_input in;    /* Databases, rows and transactions. */
    bool ovs_changed;           /* The switch's database changed. */
    int64_t tunnel_ofport;      /* br-int's VXLAN port, or 0. */
    int64_t mirror_tnls[MIRROR_N_TNLS];  /* br-int's tunnel ports for
                                         * mirrors (GRE, ERSPAN), or 0. */

    /* The nodes' state. */
    struct flow_table *flows;   /* The engine's desired flows. */
    struct binding binding;     /* vNICs. */
    struct firewall fw;         /* Firewall classes and rules. */
    struct local_nets nets;     /* Local networks. */
    struct overlay overlay;     /* VXLAN networks across hosts. */
    struct mirror mirror;       /* Mirrors to analysis ports. */
    struct ct_zones zones;      /* Conntrack zones. */
    struct ct_limits *limits;   /* Their conntrack limits. */
    struct if_status *ifs;      /* Installed marks. */
};

/* Everything the daemon has. */
struct controller {
    struct ovsdb_idl_loop ovs;  /* Local Open_vSwitch database. */
    struct ovsdb_idl_loop tdb;  /* Tenant DB. */
    struct ovsdb_idl_index *port_by_iface_id;  /* Tenant DB index. */
    struct tdb_monitor *tdbm;   /* What the Tenant DB IDL asks for. */
    struct sset iface_ids;      /* The iface-ids of the local Interfaces,
                                 * what the conditions start from. */
    uint64_t iface_ids_gen;     /* Bumped when they change (from 1). */
    struct hmap iface_id_rows;  /* struct iface_id_row, by Interface row:
                                 * 'iface_ids' kept from tracked changes. */
    struct chassis_config cfg;  /* Current configuration. */
    char *tdb_remote;           /* Remote the Tenant DB IDL uses. */
    enum { TDB_UNKNOWN, TDB_UP, TDB_DOWN } tdb_state;  /* Last logged. */
    struct ofctrl *ofctrl;      /* The flow installer. */
    struct fw_log *fw_log;      /* The firewall's connection log. */
    struct trace *trace;        /* The "trace" command. */
    struct bh_stats *stats;     /* Per-vNIC and per-rule statistics. */
    struct isolation *isolation;  /* The isolation verifier. */
    uint32_t map_hash;          /* Fingerprint of the last port map. */
    bool map_valid;             /* 'map_hash' was computed. */
    uint64_t put_seqno;         /* The last flow put's sequence number. */
    uint64_t full_put_seqno;    /* The last put that replaced or read
                                 * back the whole table. */
    unsigned int map_ovs_seqno; /* Local OVSDB seqno it was taken at. */
    unsigned int map_tdb_seqno; /* Tenant DB seqno it was taken at. */
    struct bh_stats_ctx stats_ctx;  /* Their input, as last run. */
    struct metrics *metrics;    /* Health and Prometheus metrics. */
    struct engine engine;       /* Incremental processing. */
    struct engine_ctx ctx;      /* The engine's nodes' context. */
    char *bridge_sig;           /* br-int's bridge_signature(), as last
                                 * seen, or NULL. */
    unsigned int bridge_seqno;  /* Local OVSDB seqno it was taken at. */
    int64_t probe_cfg;          /* After a change of it, the next_cfg that
                                 * ovs-vswitchd's cur_cfg must reach before
                                 * the switch has applied the change... */
    long long int probe_cfg_deadline;  /* ...waited for until then (msec;
                                        * 0: nothing awaited). */
    unsigned int tunnel_seqno;  /* Local OVSDB seqno when the VXLAN port
                                 * was last checked. */
    struct unixctl_conn *recompute_conn;  /* "recompute" waiting, or
                                           * NULL. */
    char *recompute_reply;      /* Its engine verdict, once computed, while
                                 * the switch's table is being checked. */
    uint64_t recompute_verify;  /* Verifications to wait for. */
    char *chassis_lock;         /* Name of the Tenant DB lock that this
                                 * host's Chassis row goes with, or NULL
                                 * (no system-id). */
    bool lock_contended;        /* Last seen: another controller holds
                                 * it (logged once per episode). */
    bool chassis_foreign;       /* The Chassis row of this host's name is
                                 * another host's (chassis_row_is_foreign()):
                                 * its lock is not asked for. */
    char *chassis_problem;      /* Why this host binds nothing, for
                                 * /healthz: its Chassis row is another
                                 * host's, or another controller holds its
                                 * lock; NULL if neither. */
    bool renaming;              /* This host's Chassis row is being
                                 * renamed to a new system-id: the old
                                 * name's lock is kept until it is. */
    struct uuid chassis_uuid;   /* This host's Chassis row as last used
                                 * (zero: none). */
    char *vnis;                 /* What this host's overlay flows map each
                                 * VNI to (overlay_format_vnis()), as last
                                 * computed, or NULL... */
    uint64_t vnis_seqno;        /* ...and the put that carries those flows
                                 * (0: not sent yet). */
    bool tdb_txn_writable;      /* The Tenant DB transaction being
                                 * committed was one that could be written
                                 * (a transaction without the lock fails,
                                 * meaninglessly). */
    bool txn_failed;            /* A transaction on either database failed
                                 * (a claim another host made first, a
                                 * connection lost): what it wrote is
                                 * looked at again. */
    bool marks_checked;         /* The marks of every Interface were looked
                                 * at since the start (if_status_recheck_all():
                                 * an earlier run's stale ones go). */
    uint64_t recompute_repaired;  /* Flows repaired before it. */
    bool exiting;               /* "exit" was requested. */
    bool tracked;               /* No tracked change was dropped. */
    bool synced;                /* Both databases were read: the engine
                                 * ran in the last turn. */
};

static char *ovs_remote;        /* Local OVSDB, from the command line. */
static char *unixctl_path;      /* --unixctl, or NULL for the default. */
static char *metrics_target;    /* --metrics, or NULL: no endpoint. */

static void parse_options(int argc, char *argv[]);
static void usage(void) OVS_NO_RETURN;
static void register_commands(struct controller *);

/* The engine's nodes. */

/* Sets 'ctx->ovs_changed' if the local OVSDB reports a change to a
 * Bridge, a Port or an Interface since the last run, and
 * 'ctx->in.ports_changed' if to a Bridge or a Port. */
static void
note_ovs_changes(struct engine_ctx *ctx, struct ovsdb_idl *idl)
{
    const struct ovsrec_interface *iface;
    const struct ovsrec_port *port;
    const struct ovsrec_bridge *br;

    /* The IDL also lists a Port or a Bridge whose referenced rows changed
     * (an Interface's new ofport, a mark): only one that came, went or
     * changed its ports or interfaces changes what is on br-int. */
    ctx->in.ports_changed = false;
    ctx->ovs_changed = false;
    OVSREC_PORT_FOR_EACH_TRACKED (port, idl) {
        if (ovsrec_port_is_new(port) || ovsrec_port_is_deleted(port)
            || ovsrec_port_is_updated(port, OVSREC_PORT_COL_INTERFACES)) {
            ctx->in.ports_changed = true;
            break;
        }
    }
    OVSREC_BRIDGE_FOR_EACH_TRACKED (br, idl) {
        if (ovsrec_bridge_is_new(br) || ovsrec_bridge_is_deleted(br)
            || ovsrec_bridge_is_updated(br, OVSREC_BRIDGE_COL_PORTS)) {
            ctx->in.ports_changed = true;
            break;
        }
    }
    OVSREC_INTERFACE_FOR_EACH_TRACKED (iface, idl) {
        ctx->ovs_changed = true;
        break;
    }
    ctx->ovs_changed = ctx->ovs_changed || ctx->in.ports_changed;
}

/* Node "pipeline": the flows that depend on nothing. */
static void
pipeline_node_recompute(struct engine_ctx *ctx)
{
    pipeline_add_static(ctx->flows);
}

/* Node "binding". */
static void
binding_node_recompute(struct engine_ctx *ctx)
{
    binding_recompute(&ctx->binding, &ctx->in);
}

static bool
binding_node_ovs(struct engine_ctx *ctx)
{
    return (!ctx->ovs_changed
            || binding_handle_ovs_changes(&ctx->binding, &ctx->in));
}

static bool
binding_node_tdb(struct engine_ctx *ctx)
{
    return binding_handle_tdb_changes(&ctx->binding, &ctx->in);
}

static void
binding_node_clear(struct engine_ctx *ctx)
{
    binding_clear_tracked(&ctx->binding);
}

/* Node "firewall". */
static void
firewall_node_recompute(struct engine_ctx *ctx)
{
    firewall_recompute(&ctx->fw, &ctx->binding, ctx->in.tdb_idl,
                       ctx->flows);
}

static bool
firewall_node_binding(struct engine_ctx *ctx)
{
    return firewall_handle_binding(&ctx->fw, &ctx->binding, ctx->in.tdb_idl,
                                   ctx->flows);
}

static bool
firewall_node_tdb(struct engine_ctx *ctx)
{
    return firewall_handle_tdb(&ctx->fw, ctx->in.tdb_idl, ctx->flows);
}

/* Node "vnic_flows". */
static void
vnic_flows_node_recompute(struct engine_ctx *ctx)
{
    vnic_flows_recompute(&ctx->binding, &ctx->fw, ctx->flows);
}

static bool
vnic_flows_node_binding(struct engine_ctx *ctx)
{
    return vnic_flows_handle_binding(&ctx->binding, &ctx->fw, ctx->flows);
}

/* Node "local_nets". */
static void
local_nets_node_recompute(struct engine_ctx *ctx)
{
    local_nets_recompute(&ctx->nets, &ctx->binding, ctx->in.br_int,
                         ctx->in.uplink, ctx->flows);
}

static bool
local_nets_node_uplink(struct engine_ctx *ctx)
{
    return local_nets_handle_uplink(&ctx->nets, ctx->in.ovs_idl,
                                    ctx->in.br_int, ctx->in.uplink,
                                    ctx->ovs_changed, ctx->in.ports_changed);
}

static bool
local_nets_node_binding(struct engine_ctx *ctx)
{
    return local_nets_handle_binding(&ctx->nets, &ctx->binding, ctx->flows);
}

/* Node "overlay". */
static void
overlay_node_recompute(struct engine_ctx *ctx)
{
    overlay_recompute(&ctx->overlay, &ctx->binding, ctx->in.tdb_idl,
                      ctx->in.chassis, ctx->tunnel_ofport, ctx->flows);
}

static bool
overlay_node_tunnel(struct engine_ctx *ctx)
{
    return !overlay_tunnel_changed(&ctx->overlay, ctx->tunnel_ofport);
}

static bool
overlay_node_binding(struct engine_ctx *ctx)
{
    return overlay_handle_binding(&ctx->overlay, &ctx->binding,
                                  ctx->in.tdb_idl, ctx->in.chassis,
                                  ctx->flows);
}

static bool
overlay_node_tdb(struct engine_ctx *ctx)
{
    return overlay_handle_tdb(&ctx->overlay, &ctx->binding, ctx->in.tdb_idl,
                              ctx->in.chassis, ctx->flows);
}

/* Node "mirror". */
static void
mirror_node_recompute(struct engine_ctx *ctx)
{
    mirror_recompute(&ctx->mirror, &ctx->binding, ctx->in.br_int,
                     ctx->in.uplink, ctx->in.tdb_idl, ctx->mirror_tnls,
                     ctx->flows);
}

static bool
mirror_node_tunnels(struct engine_ctx *ctx)
{
    return !mirror_tunnels_changed(&ctx->mirror, ctx->mirror_tnls);
}

/* The mirrors' change handler for the configured uplink: the uplink is
 * never an analysis port. */
static bool
mirror_node_uplink(struct engine_ctx *ctx)
{
    return mirror_handle_uplink(&ctx->mirror, ctx->in.uplink);
}

static bool
mirror_node_ovs(struct engine_ctx *ctx)
{
    return !ctx->ovs_changed || mirror_handle_ovs(&ctx->mirror,
                                                  ctx->in.ovs_idl);
}

static bool
mirror_node_binding(struct engine_ctx *ctx)
{
    return mirror_handle_binding(&ctx->mirror, &ctx->binding,
                                 ctx->in.ovs_idl, ctx->in.tdb_idl);
}

static bool
mirror_node_tdb(struct engine_ctx *ctx)
{
    return mirror_handle_tdb(&ctx->mirror, ctx->in.tdb_idl);
}

/* Node "ct_limits": the conntrack limit each vNIC's zone wants; no
 * flows.  The main loop applies them after the engine. */
static void
ct_limits_node_recompute(struct engine_ctx *ctx)
{
    ct_limits_recompute(ctx->limits, &ctx->binding);
}

static bool
ct_limits_node_binding(struct engine_ctx *ctx)
{
    return ct_limits_handle_binding(ctx->limits, &ctx->binding);
}

static const struct engine_handler binding_handlers[] = {
    { "ovs", binding_node_ovs },
    { "tdb", binding_node_tdb },
};
static const struct engine_handler firewall_handlers[] = {
    { "binding", firewall_node_binding },
    { "tdb", firewall_node_tdb },
};
static const struct engine_handler vnic_flows_handlers[] = {
    { "binding", vnic_flows_node_binding },
};
static const struct engine_handler local_nets_handlers[] = {
    { "uplink", local_nets_node_uplink },
    { "binding", local_nets_node_binding },
};
static const struct engine_handler overlay_handlers[] = {
    { "tunnel", overlay_node_tunnel },
    { "binding", overlay_node_binding },
    { "tdb", overlay_node_tdb },
};
static const struct engine_handler mirror_handlers[] = {
    { "tunnels", mirror_node_tunnels },
    { "uplink", mirror_node_uplink },
    { "ovs", mirror_node_ovs },
    { "binding", mirror_node_binding },
    { "tdb", mirror_node_tdb },
};
static const struct engine_handler ct_limits_handlers[] = {
    { "binding", ct_limits_node_binding },
};

/* The nodes, in the order they run.  A node reads only the nodes before
 * it. */
static const struct engine_node nodes[] = {
    { "pipeline", "pipeline", pipeline_node_recompute, NULL, 0, NULL },
    { "binding", NULL, binding_node_recompute, binding_handlers,
      ARRAY_SIZE(binding_handlers), binding_node_clear },
    { "firewall", FIREWALL_OWNERS, firewall_node_recompute,
      firewall_handlers, ARRAY_SIZE(firewall_handlers), NULL },
    { "vnic_flows", VNIC_FLOWS_OWNERS, vnic_flows_node_recompute,
      vnic_flows_handlers, ARRAY_SIZE(vnic_flows_handlers), NULL },
    { "local_nets", "net:", local_nets_node_recompute, local_nets_handlers,
      ARRAY_SIZE(local_nets_handlers), NULL },
    { "overlay", OVERLAY_OWNERS, overlay_node_recompute, overlay_handlers,
      ARRAY_SIZE(overlay_handlers), NULL },
    { "mirror", MIRROR_OWNERS, mirror_node_recompute, mirror_handlers,
      ARRAY_SIZE(mirror_handlers), NULL },
    { "ct_limits", NULL, ct_limits_node_recompute, ct_limits_handlers,
      ARRAY_SIZE(ct_limits_handlers), NULL },
};

/* The Tenant DB connection. */

/* Points the Tenant DB IDL at the configured remote, and logs connection
 * state changes (once each, the first failure to connect included). */
static void
update_tdb_remote(struct controller *c)
{
    if (!c->tdb_remote || strcmp(c->tdb_remote, c->cfg.remote)) {
        VLOG_INFO("Tenant DB: %s", c->cfg.remote);
        free(c->tdb_remote);
        c->tdb_remote = xstrdup(c->cfg.remote);
        ovsdb_idl_set_remote(c->tdb.idl, c->tdb_remote, true);
        c->tdb_state = TDB_UNKNOWN;
    }
    if (ovsdb_idl_is_connected(c->tdb.idl)) {
        if (c->tdb_state != TDB_UP) {
            c->tdb_state = TDB_UP;
            VLOG_INFO("%s: connected to the Tenant DB", c->tdb_remote);
        }
    } else if (c->tdb_state != TDB_DOWN
               && (c->tdb_state == TDB_UP
                   || ovsdb_idl_get_last_error(c->tdb.idl))) {
        /* Down after being up, or a first attempt that failed. */
        c->tdb_state = TDB_DOWN;
        VLOG_WARN("%s: not connected to the Tenant DB; keeping the "
                  "installed flows and retrying", c->tdb_remote);
    }
}

/* A local Interface with an iface-id. */
struct iface_id_row {
    struct hmap_node node;      /* In 'iface_id_rows', by 'uuid'. */
    struct uuid uuid;           /* The Interface row. */
    char *iface_id;             /* Its iface-id. */
};

/* Returns the entry of Interface row 'uuid' in 'rows', or NULL. */
static struct iface_id_row *
find_iface_id_row(const struct hmap *rows, const struct uuid *uuid)
{
    struct iface_id_row *r;

    HMAP_FOR_EACH_WITH_HASH (r, node, uuid_hash(uuid), rows) {
        if (uuid_equals(&r->uuid, uuid)) {
            return r;
        }
    }
    return NULL;
}

/* Brings 'rows' up to the local OVSDB's tracked Interface changes (every
 * insertion since the IDL began is tracked until the engine first takes
 * the changes) and returns true if an iface-id came, went or changed.
 * Work is proportional to the changed Interfaces: a new ofport or a mark
 * costs a lookup. */
static bool
update_iface_id_rows(struct hmap *rows, struct ovsdb_idl *ovs_idl)
{
    const struct ovsrec_interface *iface;
    bool changed = false;

    OVSREC_INTERFACE_FOR_EACH_TRACKED (iface, ovs_idl) {
        const char *id = (ovsrec_interface_is_deleted(iface) ? NULL
                          : smap_get(&iface->external_ids, "iface-id"));
        struct iface_id_row *r = find_iface_id_row(rows,
                                                   &iface->header_.uuid);
        if (id && !*id) {
            id = NULL;
        }
        if (r && id && !strcmp(r->iface_id, id)) {
            continue;
        }
        if (!r && !id) {
            continue;
        }
        changed = true;
        if (r) {
            hmap_remove(rows, &r->node);
            free(r->iface_id);
            free(r);
        }
        if (id) {
            r = xmalloc(sizeof *r);
            r->uuid = iface->header_.uuid;
            r->iface_id = xstrdup(id);
            hmap_insert(rows, &r->node, uuid_hash(&r->uuid));
        }
    }
    return changed;
}

/* Brings the Tenant DB's conditions up to date (tdb-monitor.h) with this
 * host's configuration and its Interfaces' iface-ids, reading those only
 * when the local OVSDB changed.  Returns true if the Tenant DB IDL holds a
 * settled view: no condition change is in flight, or none can be, the
 * Tenant DB being unreachable (the controller then works from its last
 * copy). */
static bool
update_tdb_monitor(struct controller *c)
{
    if (update_iface_id_rows(&c->iface_id_rows, c->ovs.idl)) {
        struct sset ids = SSET_INITIALIZER(&ids);
        const struct iface_id_row *r;

        HMAP_FOR_EACH (r, node, &c->iface_id_rows) {
            sset_add(&ids, r->iface_id);
        }
        if (!sset_equals(&ids, &c->iface_ids)) {
            sset_swap(&ids, &c->iface_ids);
            c->iface_ids_gen++;
        }
        sset_destroy(&ids);
    }

    struct tdb_monitor_input in = {
        .system_id = c->cfg.system_id,
        .iface_ids = &c->iface_ids,
        .iface_ids_gen = c->iface_ids_gen,
        .monitor_all = c->cfg.monitor_all,
        .port_by_iface_id = c->port_by_iface_id,
        .tracked = true,
    };
    tdb_monitor_run(c->tdbm, &in);
    return (tdb_monitor_is_settled(c->tdbm)
            || !ovsdb_idl_is_connected(c->tdb.idl));
}

/* "recompute". */

/* Appends the flows of every node to 's', node by node. */
static void
format_node_flows(const struct engine *e, struct svec *per_node)
{
    for (size_t i = 0; i < e->n_nodes; i++) {
        struct ds s = DS_EMPTY_INITIALIZER;
        if (e->nodes[i].owners) {
            engine_format_node_flows(e, &e->nodes[i], &s);
        }
        svec_add_nocopy(per_node, ds_steal_cstr(&s));
    }
}

/* Returns the name of the Tenant DB lock of chassis 'name' (the caller
 * frees it).  A lock name is an OVSDB identifier ([A-Za-z_][A-Za-z0-9_]*),
 * a system-id is any string (often a UUID): letters and digits stay, '_'
 * becomes "__" and any other byte "_XX" (hex), so that two names never
 * share a lock. */
static char *
chassis_lock_name(const char *name)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    ds_put_cstr(&s, "bulkhead_chassis_");
    for (const char *p = name; *p; p++) {
        unsigned char ch = *p;
        if (isalnum(ch)) {
            ds_put_char(&s, ch);
        } else if (ch == '_') {
            ds_put_cstr(&s, "__");
        } else {
            ds_put_format(&s, "_%02x", ch);
        }
    }
    return ds_steal_cstr(&s);
}

/* On a change of system-id, renames this host's Chassis row, whose lock it
 * holds, to the new name (unless a row has that name already), in 'txn' if
 * nonnull: the Ports it holds stay held, and no vNIC is unbound; a new row
 * would leave the old one holding them, and this host refusing its own
 * VMs.  Returns true while the rename is not committed: the old name's
 * lock, which the write needs, is kept until then. */
static bool
rename_chassis(struct controller *c, struct ovsdb_idl_txn *txn)
{
    const char *name = c->cfg.system_id;
    const struct bhrec_chassis *row = (uuid_is_zero(&c->chassis_uuid) ? NULL
                                       : bhrec_chassis_get_for_uuid(
                                           c->tdb.idl, &c->chassis_uuid));

    if (!name || !row || !ovsdb_idl_has_lock(c->tdb.idl)) {
        return false;
    }
    if (!strcmp(row->name, name)) {
        /* Written: done once no transaction is in flight (if it failed,
         * the row has its old name again, and it is written again). */
        return c->tdb.committing_txn != NULL;
    }
    if (chassis_find_row(c->tdb.idl, name)) {
        return false;
    }
    if (txn) {
        VLOG_INFO("chassis %s is renamed %s (external_ids:system-id): the "
                  "Ports it holds stay held", row->name, name);
        bhrec_chassis_set_name(row, name);
    }
    return true;
}

/* Notes whether the Chassis row of this host's name is another host's
 * (chassis_row_is_foreign()), logging each change, and returns it.  Such a
 * host is not that chassis: it neither asks for the row's lock (which it
 * would get whenever the other host's controller restarts) nor writes. */
static bool
update_chassis_foreign(struct controller *c)
{
    const struct bhrec_chassis *named = (c->cfg.system_id
                                         ? chassis_find_row(c->tdb.idl,
                                                            c->cfg.system_id)
                                         : NULL);
    bool foreign = named && chassis_row_is_foreign(named, &c->cfg);
    if (foreign != c->chassis_foreign) {
        c->chassis_foreign = foreign;
        if (foreign) {
            const char *owner = smap_get(&named->external_ids,
                                         CHASSIS_HOST_ID_KEY);
            VLOG_ERR("chassis %s: the Tenant DB's Chassis row of this name "
                     "is another host's (external_ids:%s=%s; this host's "
                     "is %s): is this host's external_ids:system-id another "
                     "host's too?  This host writes nothing to the Tenant "
                     "DB and binds no vNIC.  If it replaces that host, set "
                     "its external_ids:bulkhead-host-id to %s, or delete "
                     "the row", c->cfg.system_id, CHASSIS_HOST_ID_KEY, owner,
                     c->cfg.host_id ? c->cfg.host_id : "unknown", owner);
        } else {
            VLOG_INFO("chassis %s: no other host's row has this name now",
                      c->cfg.system_id);
        }
    }
    return foreign;
}

/* Asks the Tenant DB for the lock of this host's chassis (its system-id):
 * one controller per chassis name writes to the Tenant DB.  Two hosts with
 * one system-id (a cloned image) would otherwise share one Chassis row and
 * rewrite its encapsulation address and each other's claims without end;
 * the second one now writes nothing (it claims and releases nothing).  On
 * a change of system-id, the old name's lock is kept while the row is
 * renamed (rename_chassis(), with 'txn').  No lock is asked for while the
 * row of this host's name is another host's (update_chassis_foreign()).
 * Returns true if this controller may write to the Tenant DB. */
static bool
update_chassis_lock(struct controller *c, struct ovsdb_idl_txn *txn)
{
    bool foreign = update_chassis_foreign(c);
    char *want = (c->cfg.system_id && !foreign
                  ? chassis_lock_name(c->cfg.system_id) : NULL);
    bool changed = !nullable_string_is_equal(want, c->chassis_lock);

    c->renaming = changed && rename_chassis(c, txn);
    if (changed && !c->renaming) {
        ovsdb_idl_set_lock(c->tdb.idl, want);
        free(c->chassis_lock);
        c->chassis_lock = want;
        c->lock_contended = false;
    } else {
        free(want);
    }
    if (!c->chassis_lock) {
        return !foreign;
    }
    bool contended = ovsdb_idl_is_lock_contended(c->tdb.idl);
    if (contended != c->lock_contended) {
        c->lock_contended = contended;
        if (contended) {
            VLOG_ERR("chassis %s: another controller holds its Tenant DB "
                     "lock (is this host's external_ids:system-id another "
                     "host's too?): this host writes nothing to the Tenant "
                     "DB, and claims and releases nothing",
                     c->cfg.system_id);
        } else {
            VLOG_INFO("chassis %s: the Tenant DB lock is free again",
                      c->cfg.system_id);
        }
    }
    return ovsdb_idl_has_lock(c->tdb.idl);
}

/* Keeps 'c->chassis_problem' up to date: a host whose chassis is refused
 * binds nothing, and is not healthy, whatever its connections. */
static void
update_chassis_problem(struct controller *c)
{
    char *problem = (c->chassis_foreign
                     ? xasprintf("chassis %s is another host's (this host "
                                 "is %s): no vNIC is bound",
                                 c->cfg.system_id,
                                 c->cfg.host_id ? c->cfg.host_id
                                 : "unknown")
                     : c->chassis_lock && c->lock_contended
                     ? xasprintf("chassis %s: another controller holds its "
                                 "Tenant DB lock (a system-id shared with "
                                 "another host?): nothing is claimed",
                                 c->cfg.system_id)
                     : NULL);

    if (nullable_string_is_equal(problem, c->chassis_problem)) {
        free(problem);
    } else {
        free(c->chassis_problem);
        c->chassis_problem = problem;
    }
}

/* Notes that a transaction on database 'db' ended without being committed:
 * at the next turn, the claims of every bound vNIC, its marks, and the
 * Ports this host holds without a vNIC here are looked at again (what the
 * transaction wrote may be lost, and nothing else would write it again):
 * lookups, not a recompute. */
static void
note_txn_failed(struct controller *c, const char *db)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

    VLOG_INFO_RL(&rl, "a transaction on the %s was not committed: the "
                 "claims and marks it wrote are looked at again", db);
    COVERAGE_INC(controller_txn_failed);
    c->txn_failed = true;
}

/* Runs the engine again with every node recomputing, notes whether each
 * node's flows came out as incremental processing had left them, and has
 * the switch's table checked; answer_recompute() answers once that is
 * done. */
static void
finish_recompute(struct controller *c)
{
    struct svec before = SVEC_EMPTY_INITIALIZER;
    struct svec after = SVEC_EMPTY_INITIALIZER;
    struct ds changed = DS_EMPTY_INITIALIZER;

    format_node_flows(&c->engine, &before);
    engine_force_recompute(&c->engine);
    engine_run(&c->engine, &c->ctx, true);
    format_node_flows(&c->engine, &after);

    for (size_t i = 0; i < c->engine.n_nodes; i++) {
        if (strcmp(before.names[i], after.names[i])) {
            VLOG_ERR("node %s: incremental processing had diverged from a "
                     "full recompute:\nbefore:\n%s\nafter:\n%s",
                     c->engine.nodes[i].name, before.names[i],
                     after.names[i]);
            ds_put_format(&changed, " %s", c->engine.nodes[i].name);
        }
    }
    c->recompute_reply = (changed.length
                          ? xasprintf("recomputed: flows CHANGED in%s (see "
                                      "log)", ds_cstr(&changed))
                          : xstrdup("recomputed: flows unchanged"));
    /* The switch's table is checked too: the answer waits for that. */
    c->recompute_repaired = ofctrl_repaired(c->ofctrl);
    c->recompute_verify = ofctrl_verifications(c->ofctrl) + 1;
    ofctrl_verify_now(c->ofctrl);
    ct_limits_check_now(c->ctx.limits);
    svec_destroy(&before);
    svec_destroy(&after);
    ds_destroy(&changed);
}

/* Answers the waiting "recompute" once the switch's table was checked (or
 * cannot be: not connected). */
static void
answer_recompute(struct controller *c)
{
    if (ofctrl_is_connected(c->ofctrl)
        && ofctrl_verifications(c->ofctrl) < c->recompute_verify) {
        return;
    }
    uint64_t repaired = ofctrl_repaired(c->ofctrl) - c->recompute_repaired;
    char *reply = (!ofctrl_is_connected(c->ofctrl)
                   ? xasprintf("%s; switch not connected", c->recompute_reply)
                   : repaired
                   ? xasprintf("%s; switch: %"PRIu64" flows repaired",
                               c->recompute_reply, repaired)
                   : xstrdup(c->recompute_reply));
    size_t withheld = ofctrl_n_withheld(c->ofctrl);
    if (withheld) {
        char *s = xasprintf("%s; switch refused flows of %"PRIuSIZE" owners "
                            "(withheld, see log)", reply, withheld);
        free(reply);
        reply = s;
    }
    unixctl_command_reply(c->recompute_conn, reply);
    free(reply);
    free(c->recompute_reply);
    c->recompute_reply = NULL;
    c->recompute_conn = NULL;
}

/* Right after the switch's table was read on a (re)connection, and before
 * anything else (the Tenant DB may not even be read yet): removes the flows
 * of vNICs whose Interface no longer keeps their zone (ofctrl.h), or keeps
 * it for another iface-id than the one it has now (given to another VM in
 * place while the controller was down). */
static void
remove_stale_flows(struct controller *c, const struct ovsrec_bridge *br)
{
    int64_t *zone_ofport = xcalloc(CT_ZONE_MAX + 1, sizeof *zone_ofport);

    for (size_t i = 0; i < br->n_ports; i++) {
        const struct ovsrec_port *p = br->ports[i];
        for (size_t j = 0; j < p->n_interfaces; j++) {
            const struct ovsrec_interface *iface = p->interfaces[j];
            unsigned int zone;
            if (iface->n_ofport && iface->ofport[0] > 0
                && !if_status_iface_rebound(iface)
                && str_to_uint(smap_get_def(&iface->external_ids,
                                            CT_ZONE_KEY, ""), 10, &zone)
                && zone >= CT_ZONE_MIN && zone <= CT_ZONE_MAX) {
                zone_ofport[zone] = iface->ofport[0];
            }
        }
    }
    ofctrl_remove_stale(c->ofctrl, zone_ofport);
    free(zone_ofport);
}

/* The main loop. */

/* Returns what the isolation verifier's port map is made of, now. */
static struct isolation_input
isolation_input(const struct controller *c)
{
    return (struct isolation_input) {
        .binding = &c->ctx.binding,
        .nets = &c->ctx.nets,
        .mirror = &c->ctx.mirror,
        .br_int = c->ctx.in.br_int,
        .tunnel_ofport = c->ctx.tunnel_ofport,
        .mirror_tnls = c->ctx.mirror_tnls,
        .tdb = c->tdb.idl,
    };
}

/* Returns true if the isolation verifier's port map may differ from the
 * last one handed over: a fingerprint of what it is made of changed
 * (isolation_input_hash()).  Taken only when a database changed. */
static bool
portmap_may_have_changed(struct controller *c)
{
    unsigned int ovs_seqno = ovsdb_idl_get_seqno(c->ovs.idl);
    unsigned int tdb_seqno = ovsdb_idl_get_seqno(c->tdb.idl);

    /* What the map is made of changes only with one database or the
     * other: a turn woken by anything else walks no vNIC. */
    if (c->map_valid && ovs_seqno == c->map_ovs_seqno
        && tdb_seqno == c->map_tdb_seqno) {
        return false;
    }
    c->map_ovs_seqno = ovs_seqno;
    c->map_tdb_seqno = tdb_seqno;

    struct isolation_input in = isolation_input(c);
    uint32_t hash = isolation_input_hash(&in);
    if (c->map_valid && hash == c->map_hash) {
        return false;
    }
    c->map_hash = hash;
    c->map_valid = true;
    return true;
}

/* Keeps br-int's VXLAN port as the configuration wants it and notes its
 * ofport, whenever the switch's database changed (the bridge's ports are
 * not walked on every turn of the loop). */
static void
update_tunnel(struct controller *c, const struct ovsrec_bridge *br,
              struct ovsdb_idl_txn *ovs_txn)
{
    unsigned int seqno = ovsdb_idl_get_seqno(c->ovs.idl);

    if (seqno == c->tunnel_seqno) {
        return;
    }
    const struct ovsrec_interface *iface = chassis_ensure_tunnel(br, &c->cfg,
                                                                 ovs_txn);
    c->ctx.tunnel_ofport = (c->cfg.encap_ip && iface && iface->n_ofport
                            && iface->ofport[0] > 0 ? iface->ofport[0] : 0);
    if (ovs_txn) {
        c->tunnel_seqno = seqno;
    }
}

/* Returns what of bridge 'br' makes OVS empty its table when it changes:
 * its row, fail_mode and controllers' targets (connmgr.c).  The caller
 * frees it. */
static char *
bridge_signature(const struct ovsrec_bridge *br)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    ds_put_format(&s, UUID_FMT" %s", UUID_ARGS(&br->header_.uuid),
                  br->fail_mode ? br->fail_mode : "");
    for (size_t i = 0; i < br->n_controller; i++) {
        ds_put_format(&s, " %s", br->controller[i]->target);
    }
    return ds_steal_cstr(&s);
}

/* Probes the switch's table if br-int 'br' changed in a way that makes
 * OVS empty it (bridge_signature()): the table is then repaired at once.
 * The probe goes on until ovs-vswitchd has applied the change (its
 * 'cur_cfg' reaches the 'next_cfg' of the change, as ovs-vsctl waits for
 * it), however long a loaded host takes, and 5 s more; at most a minute
 * (after that, the periodic verification repairs).  Looks at the bridge
 * only when the local OVSDB changed. */
static void
note_bridge_change(struct controller *c, const struct ovsrec_bridge *br,
                   const struct ovsrec_open_vswitch *ovs)
{
    unsigned int seqno = ovsdb_idl_get_seqno(c->ovs.idl);
    long long int now = time_msec();

    if (!c->bridge_sig || seqno != c->bridge_seqno) {
        c->bridge_seqno = seqno;

        char *sig = bridge_signature(br);
        if (!c->bridge_sig || strcmp(sig, c->bridge_sig)) {
            free(c->bridge_sig);
            c->bridge_sig = sig;
            c->probe_cfg = ovs ? ovs->next_cfg : 0;
            c->probe_cfg_deadline = now + 60 * 1000;
        } else {
            free(sig);
        }
    }
    if (c->probe_cfg_deadline) {
        /* Still probing: the probe's timer wakes the loop, which then
         * reads 'cur_cfg' (whose changes wake nothing). */
        ofctrl_probe_for(c->ofctrl, 5000);
        if ((ovs && ovs->cur_cfg >= c->probe_cfg)
            || now >= c->probe_cfg_deadline) {
            c->probe_cfg_deadline = 0;
        }
    }
}

/* Publishes in this host's Chassis row, 'chassis' (NULL if none), what its
 * overlay flows map each VNI to (CHASSIS_VNIS_KEY), once the switch has
 * confirmed the put that carries them: 'seqno' is this turn's (0: none
 * sent).  The other chassis use a VNI with this one only for the network
 * it says (overlay.c, chassis_confirms()), so that no host sends frames
 * of one network to a host whose switch takes them for another's: one
 * that has not read a change of segments yet, or is cut off from the
 * Tenant DB (its flows stay, and so does what its row says).  Written
 * only with 'tdb_write', and again if anything else changes it. */
static void
update_vnis(struct controller *c, uint64_t seqno,
            const struct bhrec_chassis *chassis,
            struct ovsdb_idl_txn *tdb_write)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    overlay_format_vnis(&c->ctx.overlay, &s);
    if (!c->vnis || strcmp(c->vnis, ds_cstr(&s))) {
        free(c->vnis);
        c->vnis = ds_steal_cstr(&s);
        c->vnis_seqno = 0;
    }
    ds_destroy(&s);
    if (!c->vnis_seqno) {
        c->vnis_seqno = seqno;
    }
    if (!chassis || !tdb_write || !c->vnis_seqno
        || ofctrl_acked_seqno(c->ofctrl) < c->vnis_seqno) {
        return;
    }

    /* Empty if there is no VXLAN network here, never absent: a row
     * without the key is taken on trust (chassis.h). */
    const char *old = smap_get(&chassis->external_ids, CHASSIS_VNIS_KEY);
    if (!nullable_string_is_equal(old, c->vnis)) {
        bhrec_chassis_update_external_ids_setkey(chassis, CHASSIS_VNIS_KEY,
                                                 c->vnis);
    }
}

/* One turn of the main loop. */
static void
controller_run(struct controller *c)
{
    /* 1. Read both databases. */
    if_status_start_turn(c->ctx.ifs, time_usec());
    struct ovsdb_idl_txn *ovs_txn = ovsdb_idl_loop_run(&c->ovs);
    struct ovsdb_idl_txn *tdb_txn = ovsdb_idl_loop_run(&c->tdb);
    const struct ovsrec_open_vswitch *ovs
        = ovsrec_open_vswitch_first(c->ovs.idl);

    /* 2. This host. */
    chassis_config_read(&c->cfg, ovs);
    /* Until the local OVSDB was read, the configuration is unknown: connect
     * to no Tenant DB rather than to the default one. */
    const struct ovsrec_bridge *br = NULL;
    bool settled = false;
    if (ovsdb_idl_has_ever_connected(c->ovs.idl)) {
        /* The conditions first: a first connection asks only for them. */
        settled = update_tdb_monitor(c);
        update_tdb_remote(c);
        br = chassis_ensure_bridge(c->ovs.idl, &c->cfg, ovs, ovs_txn);
    }
    if (br) {
        ofctrl_set_bridge(c->ofctrl, br->name);
        update_tunnel(c, br, ovs_txn);
        note_bridge_change(c, br, ovs);
    }
    ofctrl_set_verify_interval(c->ofctrl, c->cfg.verify_interval);
    /* Whatever the transport, a unix socket included (where OVS does not
     * probe by default): a Tenant DB that stops answering would otherwise
     * hold back a condition change, and every local change with it. */
    ovsdb_idl_set_probe_interval(c->tdb.idl, c->cfg.remote_probe_interval);
    firewall_set_log_rate(&c->ctx.fw, c->cfg.log_rate, c->ctx.flows);
    firewall_set_rule_stats(&c->ctx.fw, c->cfg.rule_stats, c->ctx.flows);
    firewall_set_log_host_rate(&c->ctx.fw, c->cfg.log_host_rate,
                               c->ctx.flows);
    fw_log_set_host_rate(c->fw_log, c->cfg.log_host_rate);
    /* While the Tenant DB IDL holds a partial view (a condition change in
     * flight, even if the Tenant DB is unreachable), nothing is written to
     * it: not this chassis's row (which may be on its way), not a claim
     * nor a release. */
    bool may_write = update_chassis_lock(
        c, tdb_monitor_is_settled(c->tdbm) ? tdb_txn : NULL);
    update_chassis_problem(c);
    struct ovsdb_idl_txn *tdb_write = (tdb_monitor_is_settled(c->tdbm)
                                       && may_write ? tdb_txn : NULL);
    const struct bhrec_chassis *chassis = NULL;
    if (c->renaming) {
        chassis = bhrec_chassis_get_for_uuid(c->tdb.idl, &c->chassis_uuid);
    } else if (ovsdb_idl_has_ever_connected(c->tdb.idl)) {
        /* Without the lock (on its way in the first turns, or held by
         * another controller) the row is read but not written: vNICs stay
         * bound as it says, and nothing is claimed.  A host whose own old
         * session still holds the lock after a partition, or whose lock a
         * clone took while it restarted, keeps its VMs' flows. */
        chassis = chassis_ensure_row(c->tdb.idl, &c->cfg, tdb_write,
                                     BULKHEAD_VERSION);
    }
    struct uuid chassis_uuid = chassis ? chassis->header_.uuid : UUID_ZERO;
    if (!uuid_is_zero(&c->chassis_uuid)
        && !uuid_equals(&chassis_uuid, &c->chassis_uuid)) {
        /* This host lost its Chassis row, or has another: every vNIC is
         * decided on again (a row that comes where there was none is
         * handled by the claims that wait for it). */
        c->tracked = false;
    }
    c->chassis_uuid = chassis_uuid;
    ofctrl_run(c->ofctrl);
    if (br && ofctrl_needs_stale_check(c->ofctrl)) {
        remove_stale_flows(c, br);
    }

    /* Nothing is computed, nor sent to the switch, before both databases
     * were read once, nor while the Tenant DB IDL's view is partial: the
     * changes wait, tracked, for the condition change to complete, and
     * then reach the engine as the inserts and deletes they are. */
    c->synced = (br && ovsdb_idl_has_ever_connected(c->tdb.idl)
                 && settled);
    if (c->synced) {
        /* 3. The engine. */
        c->ctx.in = (struct binding_input) {
            .br_int = br,
            .chassis = chassis,
            .ovs_idl = c->ovs.idl,
            .tdb_idl = c->tdb.idl,
            .port_by_iface_id = c->port_by_iface_id,
            .uplink = c->cfg.uplink,
            .ovs_txn = ovs_txn,
            .tdb_txn = tdb_write,
            .zones = &c->ctx.zones,
            .ifs = c->ctx.ifs,
        };
        note_ovs_changes(&c->ctx, c->ovs.idl);
        mirror_read_tunnels(&c->ctx.mirror, br, c->ovs.idl,
                            c->ctx.mirror_tnls);
        /* The next put compares the whole table anyway: no need to
         * record what changes. */
        flow_table_set_untracked(engine_flows(&c->engine),
                                 ofctrl_needs_full(c->ofctrl));
        if (c->txn_failed) {
            /* Claims made again, Ports held without a vNIC let go. */
            binding_recheck_claims(&c->ctx.binding, &c->ctx.in);
        }
        engine_run(&c->engine, &c->ctx, c->tracked);
        binding_release_strays(&c->ctx.binding, &c->ctx.in);
        mirror_ensure_tunnels(&c->ctx.mirror, br, ovs_txn);
        if (c->recompute_conn && !c->recompute_reply) {
            finish_recompute(c);
        }
        /* The engine took every change so far. */
        ovsdb_idl_track_clear(c->ovs.idl);
        ovsdb_idl_track_clear(c->tdb.idl);
        c->tracked = true;

        /* 4. The switch, then the marks. */
        /* Zones freed once the switch confirmed their old flows gone:
         * their last flush goes before anything else. */
        ct_zones_thaw(&c->ctx.zones, ofctrl_acked_seqno(c->ofctrl));
        if (ofctrl_is_connected(c->ofctrl)) {
            struct simap_node *node;
            SIMAP_FOR_EACH (node, &c->ctx.zones.flush) {
                ofctrl_flush_zone(c->ofctrl, node->data);
            }
            simap_clear(&c->ctx.zones.flush);
            hmap_shrink(&c->ctx.zones.flush.map);   /* Grown by a cold
                                                     * start. */
        }
        ct_limits_run(c->ctx.limits, br->datapath_type,
                      ofctrl_connection_seqno(c->ofctrl),
                      c->cfg.verify_interval);
        bool full = ofctrl_needs_full(c->ofctrl);
        /* A comparison of the whole table (after a connection: ovs-vswitchd
         * restarted, say) waits for the zone limits, so that no vNIC's
         * flows come before its zone's limit. */
        uint64_t seqno = (!full || ct_limits_is_settled(c->ctx.limits)
                          ? ofctrl_put(c->ofctrl, engine_flows(&c->engine))
                          : 0);
        if (seqno || !ofctrl_is_staging(c->ofctrl)) {
            /* While a staged put is in flight, puts wait: the last one
             * sent is still that one. */
            c->put_seqno = seqno;
        }
        ct_zones_note_put(&c->ctx.zones, seqno);
        if (full && seqno) {
            c->full_put_seqno = seqno;
        }
        if_status_note_put(c->ctx.ifs, seqno);
        update_vnis(c, seqno, chassis, tdb_write);
        struct if_status_ctx ifs_ctx = {
            .ovs_idl = c->ovs.idl,
            .tdb_idl = c->tdb.idl,
            .chassis = chassis,
            .ovs_txn = ovs_txn,
            .tdb_txn = tdb_write,
            .ofctrl = c->ofctrl,
        };
        if (c->txn_failed || !c->marks_checked) {
            if_status_recheck_all(c->ctx.ifs, &ifs_ctx);
            c->txn_failed = false;
            c->marks_checked = true;
        }
        if_status_run(c->ctx.ifs, &ifs_ctx, ofctrl_acked_seqno(c->ofctrl));
        if (c->recompute_reply) {
            answer_recompute(c);
        }
    }

    /* 5. The isolation verifier, on what the switch has now.  Its copy of
     * the table is the switch's, whatever the Tenant DB's state: the
     * bridge stays while a condition change is in flight (a vNIC bound
     * or gone changes the Port condition), or the copy would be read
     * whole again, and checked in full, at every vNIC. */
    isolation_set_bridge(c->isolation, br ? br->name : NULL,
                         c->cfg.isolation_verify,
                         c->cfg.isolation_max_flows);

    /* 6. Statistics. */
    c->stats_ctx = (struct bh_stats_ctx) {
        .bridge = c->synced ? br->name : NULL,
        .interval = c->cfg.stats_interval,
        .busy = ofctrl_acked_seqno(c->ofctrl) < c->full_put_seqno,
        .hold = if_status_marking(c->ctx.ifs),
        .db_interval = c->cfg.stats_db_interval,
        .binding = &c->ctx.binding,
        .fw = &c->ctx.fw,
        .limits = c->ctx.limits,
        .tdb = c->tdb.idl,
        .tdb_txn = c->synced ? tdb_write : NULL,
    };
    bh_stats_run(c->stats, &c->stats_ctx);

    /* 7. Commit.  0: a transaction ended without being committed. */
    if (!ovsdb_idl_loop_commit_and_wait(&c->ovs)) {
        note_txn_failed(c, "local OVSDB");
    }
    if_status_note_commit(c->ctx.ifs, time_usec());
    if (c->tdb.open_txn) {
        c->tdb_txn_writable = tdb_write != NULL;
    }
    if (!ovsdb_idl_loop_commit_and_wait(&c->tdb) && c->tdb_txn_writable) {
        note_txn_failed(c, "Tenant DB");
    }

    /* 8. The verifier's port map, once the switch confirmed every flow
     * put and the marks went out: a vNIC's installation waits for none of
     * it.  Without background checks, only when a request asks for it:
     * no vNIC's change walks every vNIC for it. */
    if (!isolation_wants_portmap(c->isolation)) {
        return;
    }
    if (c->synced && ofctrl_acked_seqno(c->ofctrl) >= c->put_seqno) {
        if (portmap_may_have_changed(c)) {
            struct isolation_input in = isolation_input(c);
            isolation_update_portmap(c->isolation, &in);
        }
        isolation_release_requests(c->isolation);
    } else if (!c->synced || !ofctrl_is_connected(c->ofctrl)) {
        /* Nothing to wait for: answered from what there is (the worker
         * says what it lacks). */
        isolation_release_requests(c->isolation);
    }
}

/* Subscribes the local OVSDB IDL to what the controller reads. */
static void
ovs_idl_register(struct ovsdb_idl *ovs_idl)
{
    ovsdb_idl_add_table(ovs_idl, &ovsrec_table_open_vswitch);
    ovsdb_idl_add_column(ovs_idl, &ovsrec_open_vswitch_col_external_ids);
    ovsdb_idl_add_column(ovs_idl, &ovsrec_open_vswitch_col_bridges);
    /* Read only while the switch's table is probed (note_bridge_change()):
     * ovs-vswitchd's every reconfiguration need not wake the controller. */
    ovsdb_idl_add_column(ovs_idl, &ovsrec_open_vswitch_col_next_cfg);
    ovsdb_idl_omit_alert(ovs_idl, &ovsrec_open_vswitch_col_next_cfg);
    ovsdb_idl_add_column(ovs_idl, &ovsrec_open_vswitch_col_cur_cfg);
    ovsdb_idl_omit_alert(ovs_idl, &ovsrec_open_vswitch_col_cur_cfg);
    ovsdb_idl_add_table(ovs_idl, &ovsrec_table_bridge);
    ovsdb_idl_add_column(ovs_idl, &ovsrec_bridge_col_name);
    ovsdb_idl_add_column(ovs_idl, &ovsrec_bridge_col_ports);
    ovsdb_idl_add_column(ovs_idl, &ovsrec_bridge_col_fail_mode);
    ovsdb_idl_add_column(ovs_idl, &ovsrec_bridge_col_datapath_type);
    /* A change of br-int's controllers, as of its fail_mode, empties its
     * table (bridge_signature()). */
    ovsdb_idl_add_column(ovs_idl, &ovsrec_bridge_col_controller);
    ovsdb_idl_add_table(ovs_idl, &ovsrec_table_controller);
    ovsdb_idl_add_column(ovs_idl, &ovsrec_controller_col_target);
    ovsdb_idl_add_table(ovs_idl, &ovsrec_table_port);
    ovsdb_idl_add_column(ovs_idl, &ovsrec_port_col_name);
    ovsdb_idl_add_column(ovs_idl, &ovsrec_port_col_interfaces);
    ovsdb_idl_add_table(ovs_idl, &ovsrec_table_interface);
    ovsdb_idl_add_column(ovs_idl, &ovsrec_interface_col_name);
    ovsdb_idl_add_column(ovs_idl, &ovsrec_interface_col_type);
    ovsdb_idl_add_column(ovs_idl, &ovsrec_interface_col_external_ids);
    ovsdb_idl_add_column(ovs_idl, &ovsrec_interface_col_ofport);
    ovsdb_idl_add_column(ovs_idl, &ovsrec_interface_col_options);
    ovsdb_idl_add_column(ovs_idl, &ovsrec_interface_col_mtu);
    ovsdb_idl_track_add_column(ovs_idl, &ovsrec_interface_col_mtu);
    ovsdb_idl_track_add_column(ovs_idl, &ovsrec_interface_col_name);
    ovsdb_idl_track_add_column(ovs_idl, &ovsrec_interface_col_external_ids);
    ovsdb_idl_track_add_column(ovs_idl, &ovsrec_interface_col_ofport);
    ovsdb_idl_track_add_column(ovs_idl, &ovsrec_port_col_interfaces);
    ovsdb_idl_track_add_column(ovs_idl, &ovsrec_bridge_col_ports);
}

int
main(int argc, char *argv[])
{
    struct unixctl_server *unixctl;
    struct controller c;

    ovs_cmdl_proctitle_init(argc, argv);
    set_program_name(argv[0]);
    service_start(&argc, &argv);
    fatal_ignore_sigpipe();
    parse_options(argc, argv);

    daemonize_start(false);
    int retval = unixctl_server_create(unixctl_path, &unixctl);
    if (retval) {
        exit(EXIT_FAILURE);
    }

    memset(&c, 0, sizeof c);
    c.ovs = (struct ovsdb_idl_loop) OVSDB_IDL_LOOP_INITIALIZER(
        ovsdb_idl_create(ovs_remote, &ovsrec_idl_class, false, true));
    ovs_idl_register(c.ovs.idl);
    chassis_index_ports(c.ovs.idl);

    c.tdb = (struct ovsdb_idl_loop) OVSDB_IDL_LOOP_INITIALIZER(
        ovsdb_idl_create_unconnected(&bhrec_idl_class, true));
    c.port_by_iface_id = ovsdb_idl_index_create1(c.tdb.idl,
                                                 &bhrec_port_col_iface_id);
    ovsdb_idl_track_add_all(c.tdb.idl);
    c.tdbm = tdb_monitor_create(c.tdb.idl);
    sset_init(&c.iface_ids);
    hmap_init(&c.iface_id_rows);
    /* The controllers write Port.statistics; nothing reads it back. */
    ovsdb_idl_omit_alert(c.tdb.idl, &bhrec_port_col_statistics);
    /* Nor Tenant.external_ids, which counts bulkhead-ctl's edits. */
    ovsdb_idl_omit(c.tdb.idl, &bhrec_tenant_col_external_ids);
    c.ofctrl = ofctrl_create();

    engine_init(&c.engine, nodes, ARRAY_SIZE(nodes));
    c.ctx.flows = engine_flows(&c.engine);
    binding_init(&c.ctx.binding);
    firewall_init(&c.ctx.fw);
    local_nets_init(&c.ctx.nets);
    overlay_init(&c.ctx.overlay);
    mirror_init(&c.ctx.mirror);
    ct_zones_init(&c.ctx.zones);
    c.ctx.limits = ct_limits_create();
    c.ctx.ifs = if_status_create();

    register_commands(&c);
    tdb_monitor_register_commands(c.tdbm);
    engine_register_commands(&c.engine);
    binding_register_commands(&c.ctx.binding, c.ctx.ifs, c.ctx.flows,
                              c.ofctrl, c.ctx.limits, c.tdb.idl,
                              &c.ctx.overlay,
                              (const char **) &c.cfg.system_id);
    ct_zones_register_commands(&c.ctx.zones);
    firewall_register_commands(&c.ctx.fw, c.tdb.idl);
    overlay_register_commands(&c.ctx.overlay, c.tdb.idl,
                              (const char **) &c.cfg.system_id);
    mirror_register_commands(&c.ctx.mirror, c.tdb.idl);
    c.fw_log = fw_log_create(&c.ctx.binding, &c.ctx.fw, c.tdb.idl);
    ofctrl_set_packet_in_cb(c.ofctrl, fw_log_packet_in, c.fw_log);
    c.trace = trace_create(&c.ctx.binding, &c.ctx.fw, c.tdb.idl,
                           c.ctx.flows);
    trace_register_commands(c.trace);
    c.stats = bh_stats_create();
    bh_stats_register_commands(c.stats, c.tdb.idl, &c.ctx.fw);
    char *error = metrics_create(metrics_target, &(struct metrics_ctx) {
            .ovs_idl = c.ovs.idl,
            .tdb_idl = c.tdb.idl,
            .tdb_remote = (const char *const *) &c.tdb_remote,
            .chassis_problem = (const char *const *) &c.chassis_problem,
            .ofctrl = c.ofctrl,
            .binding = &c.ctx.binding,
            .engine = &c.engine,
            .version = BULKHEAD_VERSION,
        }, &c.metrics);
    if (error) {
        ovs_fatal(0, "--metrics=%s: %s", metrics_target, error);
    }
    bh_stats_add_metrics(c.stats, c.metrics);
    c.isolation = isolation_create(c.trace);
    isolation_add_metrics(c.isolation, c.metrics);

    daemonize_complete();
    VLOG_INFO("bulkhead-controller %s starting; local OVSDB %s",
              BULKHEAD_VERSION, ovs_remote);

    while (!c.exiting) {
        memory_run();
        if (memory_should_report()) {
            struct simap usage = SIMAP_INITIALIZER(&usage);
            simap_increase(&usage, "vnics", hmap_count(&c.ctx.binding.vnics));
            simap_increase(&usage, "desired-flows",
                           flow_table_count(c.ctx.flows));
            memory_report(&usage);
            simap_destroy(&usage);
        }

        controller_run(&c);
        trace_run(c.trace, c.cfg.bridge);
        isolation_run(c.isolation);
        metrics_run(c.metrics);
        unixctl_server_run(unixctl);

        unixctl_server_wait(unixctl);
        ofctrl_wait(c.ofctrl);
        if (ovsdb_idl_has_ever_connected(c.ovs.idl)) {
            /* It runs only then (see controller_run()): its deadline would
             * otherwise stay in the past, and the loop spin. */
            tdb_monitor_wait(c.tdbm);
        }
        trace_wait(c.trace);
        isolation_wait(c.isolation);
        bh_stats_wait(c.stats, &c.stats_ctx);
        metrics_wait(c.metrics);
        if (c.synced) {
            ct_limits_wait(c.ctx.limits);
        }
        memory_wait();
        if (c.exiting
            || (c.synced && c.recompute_conn && !c.recompute_reply)) {
            poll_immediate_wake();
        }
        poll_block();
    }

    unixctl_server_destroy(unixctl);
    binding_destroy(&c.ctx.binding);
    fw_log_destroy(c.fw_log);
    isolation_destroy(c.isolation);
    trace_destroy(c.trace);
    bh_stats_destroy(c.stats);
    metrics_destroy(c.metrics);
    firewall_destroy(&c.ctx.fw);
    local_nets_destroy(&c.ctx.nets);
    overlay_destroy(&c.ctx.overlay);
    mirror_destroy(&c.ctx.mirror);
    ct_zones_destroy(&c.ctx.zones);
    ct_limits_destroy(c.ctx.limits);
    if_status_destroy(c.ctx.ifs);
    engine_destroy(&c.engine);
    ofctrl_destroy(c.ofctrl);
    ovsdb_idl_loop_destroy(&c.ovs);
    tdb_monitor_destroy(c.tdbm);
    sset_destroy(&c.iface_ids);
    struct iface_id_row *r;
    HMAP_FOR_EACH_POP (r, node, &c.iface_id_rows) {
        free(r->iface_id);
        free(r);
    }
    hmap_destroy(&c.iface_id_rows);
    ovsdb_idl_loop_destroy(&c.tdb);
    chassis_config_clear(&c.cfg);
    free(c.tdb_remote);
    free(c.chassis_lock);
    free(c.chassis_problem);
    free(c.bridge_sig);
    service_stop();
    return 0;
}

/* Diagnostics (ovs-appctl -t bulkhead-controller ...).  The modules
 * register their own; these are the daemon's. */

/* "exit": stops the daemon, leaving every flow and binding in place, so
 * that a restart is hitless. */
static void
cmd_exit(struct unixctl_conn *conn, int argc OVS_UNUSED,
         const char *argv[] OVS_UNUSED, void *c_)
{
    struct controller *c = c_;

    c->exiting = true;
    unixctl_command_reply(conn, NULL);
}

/* "connection-status". */
static void
cmd_connection_status(struct unixctl_conn *conn, int argc OVS_UNUSED,
                      const char *argv[] OVS_UNUSED, void *c_)
{
    struct controller *c = c_;
    struct ds s = DS_EMPTY_INITIALIZER;

    ds_put_format(&s, "local OVSDB: %s (%s)\n", ovs_remote,
                  ovsdb_idl_is_connected(c->ovs.idl) ? "connected"
                  : "not connected");
    ds_put_format(&s, "Tenant DB: %s (%s)\n",
                  c->tdb_remote ? c->tdb_remote : "none",
                  ovsdb_idl_is_connected(c->tdb.idl) ? "connected"
                  : "not connected");
    if (c->chassis_foreign) {
        ds_put_format(&s, "  chassis %s: another host's (this host is %s): "
                      "nothing is written, no vNIC is bound\n",
                      c->cfg.system_id,
                      c->cfg.host_id ? c->cfg.host_id : "unknown");
    } else if (!c->chassis_lock) {
        ds_put_cstr(&s, "  chassis: none (no external_ids:system-id)\n");
    } else {
        ds_put_format(&s, "  chassis %s: lock %s\n", c->cfg.system_id,
                      (ovsdb_idl_has_lock(c->tdb.idl) ? "held"
                       : c->lock_contended
                       ? "held by another controller: nothing is written"
                       : "asked for"));
    }
    ofctrl_format_status(c->ofctrl, &s);
    ct_limits_format_status(c->ctx.limits, &s);
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

/* "recompute": the next turn of the main loop recomputes every node and
 * checks, node by node, that incremental processing had come to the same
 * flows.  The reply waits for it. */
static void
cmd_recompute(struct unixctl_conn *conn, int argc OVS_UNUSED,
              const char *argv[] OVS_UNUSED, void *c_)
{
    struct controller *c = c_;

    if (c->recompute_conn) {
        unixctl_command_reply_error(conn, "a recompute is already waiting");
        return;
    }
    c->recompute_conn = conn;
    poll_immediate_wake();
}

static void
register_commands(struct controller *c)
{
    unixctl_command_register("exit", "", 0, 0, cmd_exit, c);
    unixctl_command_register("connection-status", "", 0, 0,
                             cmd_connection_status, c);
    unixctl_command_register("recompute", "", 0, 0, cmd_recompute, c);
}

/* Command line. */

static void
parse_options(int argc, char *argv[])
{
    enum {
        OPT_UNIXCTL = UCHAR_MAX + 1,
        OPT_METRICS,
        VLOG_OPTION_ENUMS,
        DAEMON_OPTION_ENUMS,
    };
    static const struct option long_options[] = {
        {"unixctl", required_argument, NULL, OPT_UNIXCTL},
        {"metrics", required_argument, NULL, OPT_METRICS},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        VLOG_LONG_OPTIONS,
        DAEMON_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    char *short_options = ovs_cmdl_long_options_to_short_options(
        long_options);

    for (;;) {
        int c = getopt_long(argc, argv, short_options, long_options, NULL);
        if (c == -1) {
            break;
        }
        switch (c) {
        case OPT_UNIXCTL:
            unixctl_path = optarg;
            break;
        case OPT_METRICS:
            metrics_target = optarg;
            break;
        case 'h':
            usage();
        case 'V':
            printf("%s (Bulkhead) %s\n", program_name, BULKHEAD_VERSION);
            exit(EXIT_SUCCESS);
        VLOG_OPTION_HANDLERS
        DAEMON_OPTION_HANDLERS
        case '?':
            exit(EXIT_FAILURE);
        default:
            abort();
        }
    }
    free(short_options);

    argc -= optind;
    argv += optind;
    if (argc > 1) {
        ovs_fatal(0, "at most one argument (the local OVSDB) expected; "
                  "try --help");
    }
    ovs_remote = (argc
                  ? xstrdup(argv[0])
                  : xasprintf("unix:%s/db.sock", ovs_rundir()));
}

static void
usage(void)
{
    printf("%s: Bulkhead controller, one per hypervisor\n"
           "usage: %s [OPTIONS] [OVSDB]\n"
           "where OVSDB is the local Open_vSwitch database "
           "(default: unix:%s/db.sock).\n"
           "\nIts configuration is in the Open_vSwitch row's external_ids:\n"
           "  system-id, bulkhead-host-id, bulkhead-remote,\n"
           "  bulkhead-bridge, bulkhead-uplink, bulkhead-datapath-type,\n"
           "  bulkhead-encap-ip, bulkhead-log-rate, bulkhead-log-host-rate,\n"
           "  bulkhead-monitor-all, bulkhead-stats-interval,\n"
           "  bulkhead-stats-db-interval, bulkhead-rule-stats,\n"
           "  bulkhead-isolation-verify,\n"
           "  bulkhead-isolation-verify-max-flows,\n"
           "  bulkhead-remote-probe-interval, bulkhead-verify-interval\n"
           "(see Documentation/controller.md, \"Configuration\").\n",
           program_name, program_name, ovs_rundir());
    daemon_usage();
    vlog_usage();
    printf("\nOther options:\n"
           "  --unixctl=SOCKET        override default control socket name\n"
           "  --metrics=ADDR:PORT     serve Prometheus metrics (/metrics)\n"
           "                          and health (/healthz) over HTTP on\n"
           "                          ADDR:PORT (IPv4, or [IPv6]; port 0:\n"
           "                          any free port); default: off\n"
           "  -h, --help              display this help message\n"
           "  -V, --version           display version information\n");
    exit(EXIT_SUCCESS);
}
