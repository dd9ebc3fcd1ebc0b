/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* bulkhead-controller: the per-hypervisor daemon.
 *
 * It reads its configuration from the local Open_vSwitch database
 * (external_ids of the Open_vSwitch row, DESIGN.md section 5), registers
 * this host as a Chassis in the Tenant DB, makes sure the integration
 * bridge exists with fail_mode=secure, and then loops: find and bind vNICs
 * (binding.h), compute their flows (pipeline.h), keep the switch in step
 * (ofctrl.h), and mark vNICs installed once the switch confirms them.
 *
 * Nothing is sent to the switch before both databases have been read once:
 * a restarted controller leaves the switch's flows alone until it knows
 * what they should be, and then replaces them in one atomic bundle. */

#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "command-line.h"
#include "controller/binding.h"
#include "controller/ofctrl.h"
#include "coverage.h"
#include "daemon.h"
#include "dirs.h"
#include "fatal-signal.h"
#include "memory.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vconn.h"
#include "openvswitch/vlog.h"
#include "ovsdb-idl.h"
#include "schema/bulkhead-idl.h"
#include "simap.h"
#include "smap.h"
#include "stream.h"
#include "timeval.h"
#include "unixctl.h"
#include "util.h"
#include "vswitch-idl.h"

VLOG_DEFINE_THIS_MODULE(bulkhead_controller);

/* The controller's configuration, from the Open_vSwitch row. */
struct config {
    char *system_id;            /* "system-id": chassis name. */
    char *remote;               /* "bulkhead-remote": Tenant DB. */
    char *encap_ip;             /* "bulkhead-encap-ip", or NULL. */
    char *bridge;               /* "bulkhead-bridge": integration bridge. */
    char *uplink;               /* "bulkhead-uplink", or NULL. */
    char *datapath_type;        /* "bulkhead-datapath-type", or NULL. */
};

/* Everything the daemon has. */
struct controller {
    struct ovsdb_idl_loop ovs;  /* Local Open_vSwitch database. */
    struct ovsdb_idl_loop tdb;  /* Tenant DB. */
    struct ovsdb_idl_index *port_by_iface_id;  /* Tenant DB index. */
    struct config cfg;          /* Current configuration. */
    char *tdb_remote;           /* Remote the Tenant DB IDL uses. */
    enum { TDB_UNKNOWN, TDB_UP, TDB_DOWN } tdb_state;  /* Last logged. */
    struct ofctrl *ofctrl;      /* The flow installer. */
    struct binding binding;     /* vNICs and desired flows. */
    bool exiting;               /* "exit" was requested. */
    bool tracked;               /* No tracked change was dropped. */
};

static char *ovs_remote;        /* Local OVSDB, from the command line. */
static char *unixctl_path;      /* --unixctl, or NULL for the default. */

static void parse_options(int argc, char *argv[]);
static void usage(void) OVS_NO_RETURN;
static void register_commands(struct controller *);

/* Configuration. */

static void
config_clear(struct config *cfg)
{
    free(cfg->system_id);
    free(cfg->remote);
    free(cfg->encap_ip);
    free(cfg->bridge);
    free(cfg->uplink);
    free(cfg->datapath_type);
    memset(cfg, 0, sizeof *cfg);
}

/* Returns the Tenant DB remote used when none is configured. */
static char *
default_tdb_remote(void)
{
    return xasprintf("unix:%s/bulkhead.sock", ovs_rundir());
}

/* Reads the configuration from the Open_vSwitch row 'cfg_row' (may be
 * NULL) into 'cfg'. */
static void
config_read(struct config *cfg, const struct ovsrec_open_vswitch *cfg_row)
{
    const struct smap *ids = cfg_row ? &cfg_row->external_ids : NULL;
    const char *remote = ids ? smap_get(ids, "bulkhead-remote") : NULL;
    const char *bridge = ids ? smap_get(ids, "bulkhead-bridge") : NULL;

    config_clear(cfg);
    cfg->system_id = ids ? nullable_xstrdup(smap_get(ids, "system-id"))
                         : NULL;
    cfg->remote = remote && *remote ? xstrdup(remote) : default_tdb_remote();
    cfg->encap_ip = ids ? nullable_xstrdup(smap_get(ids, "bulkhead-encap-ip"))
                        : NULL;
    cfg->bridge = xstrdup(bridge && *bridge ? bridge : "br-int");
    cfg->uplink = ids ? nullable_xstrdup(smap_get(ids, "bulkhead-uplink"))
                      : NULL;
    cfg->datapath_type = (ids
                          ? nullable_xstrdup(smap_get(
                                                 ids,
                                                 "bulkhead-datapath-type"))
                          : NULL);
}

/* The integration bridge. */

/* Returns the bridge named 'name', or NULL. */
static const struct ovsrec_bridge *
find_bridge(struct ovsdb_idl *idl, const char *name)
{
    const struct ovsrec_bridge *br;

    OVSREC_BRIDGE_FOR_EACH (br, idl) {
        if (!strcmp(br->name, name)) {
            return br;
        }
    }
    return NULL;
}

/* Makes sure the integration bridge exists, with fail_mode=secure (so that
 * a switch without its controller forwards nothing) and the configured
 * datapath type.  Returns it, or NULL if it is being created. */
static const struct ovsrec_bridge *
ensure_bridge(struct controller *c, const struct ovsrec_open_vswitch *ovs,
              struct ovsdb_idl_txn *txn)
{
    const struct ovsrec_bridge *br = find_bridge(c->ovs.idl, c->cfg.bridge);
    const char *dp_type = c->cfg.datapath_type;

    if (!txn) {
        return br;
    }
    if (!br) {
        if (!ovs) {
            return NULL;
        }
        VLOG_INFO("creating integration bridge %s", c->cfg.bridge);
        struct ovsrec_interface *iface = ovsrec_interface_insert(txn);
        ovsrec_interface_set_name(iface, c->cfg.bridge);
        ovsrec_interface_set_type(iface, "internal");
        struct ovsrec_port *port = ovsrec_port_insert(txn);
        ovsrec_port_set_name(port, c->cfg.bridge);
        ovsrec_port_set_interfaces(port, &iface, 1);
        struct ovsrec_bridge *nbr = ovsrec_bridge_insert(txn);
        ovsrec_bridge_set_name(nbr, c->cfg.bridge);
        ovsrec_bridge_set_fail_mode(nbr, "secure");
        if (dp_type) {
            ovsrec_bridge_set_datapath_type(nbr, dp_type);
        }
        ovsrec_bridge_set_ports(nbr, &port, 1);
        ovsrec_open_vswitch_update_bridges_addvalue(ovs, nbr);
        return NULL;
    }
    if (!br->fail_mode || strcmp(br->fail_mode, "secure")) {
        VLOG_WARN("%s: setting fail_mode=secure", br->name);
        ovsrec_bridge_set_fail_mode(br, "secure");
    }
    if (dp_type && strcmp(br->datapath_type, dp_type)) {
        VLOG_INFO("%s: setting datapath_type=%s", br->name, dp_type);
        ovsrec_bridge_set_datapath_type(br, dp_type);
    }
    return br;
}

/* The chassis. */

/* Returns this host's Chassis row, creating or updating it in 'txn'.
 * Returns NULL until it exists. */
static const struct bhrec_chassis *
ensure_chassis(struct controller *c, struct ovsdb_idl_txn *txn)
{
    const struct bhrec_chassis *ch;
    const char *name = c->cfg.system_id;
    char hostname[256];

    if (!name) {
        return NULL;
    }
    if (gethostname(hostname, sizeof hostname)) {
        hostname[0] = '\0';
    }
    hostname[sizeof hostname - 1] = '\0';

    BHREC_CHASSIS_FOR_EACH (ch, c->tdb.idl) {
        if (!strcmp(ch->name, name)) {
            break;
        }
    }
    if (!txn) {
        return ch;
    }
    if (!ch) {
        VLOG_INFO("registering chassis %s", name);
        struct bhrec_chassis *nch = bhrec_chassis_insert(txn);
        bhrec_chassis_set_name(nch, name);
        bhrec_chassis_set_hostname(nch, hostname);
        bhrec_chassis_set_version(nch, BULKHEAD_VERSION);
        bhrec_chassis_set_encap_ip(nch, c->cfg.encap_ip);
        return NULL;
    }
    if (strcmp(ch->hostname, hostname)) {
        bhrec_chassis_set_hostname(ch, hostname);
    }
    if (strcmp(ch->version, BULKHEAD_VERSION)) {
        bhrec_chassis_set_version(ch, BULKHEAD_VERSION);
    }
    if (!nullable_string_is_equal(ch->encap_ip, c->cfg.encap_ip)) {
        bhrec_chassis_set_encap_ip(ch, c->cfg.encap_ip);
    }
    return ch;
}

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

/* One turn of the main loop. */
static void
controller_run(struct controller *c)
{
    struct ovsdb_idl_txn *ovs_txn = ovsdb_idl_loop_run(&c->ovs);
    struct ovsdb_idl_txn *tdb_txn = ovsdb_idl_loop_run(&c->tdb);
    const struct ovsrec_open_vswitch *ovs
        = ovsrec_open_vswitch_first(c->ovs.idl);

    config_read(&c->cfg, ovs);
    /* Until the local OVSDB was read, the configuration is unknown: connect
     * to no Tenant DB rather than to the default one. */
    if (ovsdb_idl_has_ever_connected(c->ovs.idl)) {
        update_tdb_remote(c);
    }

    const struct ovsrec_bridge *br = NULL;
    if (ovsdb_idl_has_ever_connected(c->ovs.idl)) {
        br = ensure_bridge(c, ovs, ovs_txn);
    }
    if (br) {
        ofctrl_set_bridge(c->ofctrl, br->name);
    }
    const struct bhrec_chassis *chassis = NULL;
    if (ovsdb_idl_has_ever_connected(c->tdb.idl)) {
        chassis = ensure_chassis(c, tdb_txn);
    }
    ofctrl_run(c->ofctrl);

    /* Nothing is computed, nor sent to the switch, before both databases
     * were read once. */
    if (br && ovsdb_idl_has_ever_connected(c->tdb.idl)) {
        struct binding_input in = {
            .br_int = br,
            .chassis = chassis,
            .ovs_idl = c->ovs.idl,
            .tdb_idl = c->tdb.idl,
            .port_by_iface_id = c->port_by_iface_id,
            .uplink = c->cfg.uplink,
            .ovs_txn = ovs_txn,
            .tdb_txn = tdb_txn,
            .tracked = c->tracked,
        };
        binding_run(&c->binding, &in);
        /* binding_run() took every change so far. */
        ovsdb_idl_track_clear(c->ovs.idl);
        ovsdb_idl_track_clear(c->tdb.idl);
        c->tracked = true;

        if (ofctrl_is_connected(c->ofctrl)) {
            struct simap_node *node;
            SIMAP_FOR_EACH (node, &c->binding.zones.flush) {
                ofctrl_flush_zone(c->ofctrl, node->data);
            }
            simap_clear(&c->binding.zones.flush);
        }
        binding_note_put(&c->binding, ofctrl_put(c->ofctrl,
                                                 &c->binding.desired));
        bool marked = binding_mark_installed(&c->binding, &in,
                                             ofctrl_acked_seqno(c->ofctrl));
        /* Zones are written with the installed marks, after the switch
         * confirmed the flows: any write to the bridge's external_ids makes
         * ovs-vswitchd reconfigure the whole bridge, which would otherwise
         * come between a new vNIC's flows and their confirmation. */
        if (ovs_txn && (marked || !binding_marks_pending(&c->binding))) {
            ct_zones_commit(&c->binding.zones, br);
        }
    }

    ovsdb_idl_loop_commit_and_wait(&c->ovs);
    ovsdb_idl_loop_commit_and_wait(&c->tdb);
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
    struct ovsdb_idl *ovs_idl = c.ovs.idl;
    ovsdb_idl_add_table(ovs_idl, &ovsrec_table_open_vswitch);
    ovsdb_idl_add_column(ovs_idl, &ovsrec_open_vswitch_col_external_ids);
    ovsdb_idl_add_column(ovs_idl, &ovsrec_open_vswitch_col_bridges);
    ovsdb_idl_add_table(ovs_idl, &ovsrec_table_bridge);
    ovsdb_idl_add_column(ovs_idl, &ovsrec_bridge_col_name);
    ovsdb_idl_add_column(ovs_idl, &ovsrec_bridge_col_ports);
    ovsdb_idl_add_column(ovs_idl, &ovsrec_bridge_col_fail_mode);
    ovsdb_idl_add_column(ovs_idl, &ovsrec_bridge_col_datapath_type);
    ovsdb_idl_add_column(ovs_idl, &ovsrec_bridge_col_external_ids);
    ovsdb_idl_add_table(ovs_idl, &ovsrec_table_port);
    ovsdb_idl_add_column(ovs_idl, &ovsrec_port_col_name);
    ovsdb_idl_add_column(ovs_idl, &ovsrec_port_col_interfaces);
    ovsdb_idl_add_table(ovs_idl, &ovsrec_table_interface);
    ovsdb_idl_add_column(ovs_idl, &ovsrec_interface_col_name);
    ovsdb_idl_add_column(ovs_idl, &ovsrec_interface_col_type);
    ovsdb_idl_add_column(ovs_idl, &ovsrec_interface_col_external_ids);
    ovsdb_idl_add_column(ovs_idl, &ovsrec_interface_col_ofport);
    ovsdb_idl_track_add_column(ovs_idl, &ovsrec_interface_col_name);
    ovsdb_idl_track_add_column(ovs_idl, &ovsrec_interface_col_external_ids);
    ovsdb_idl_track_add_column(ovs_idl, &ovsrec_interface_col_ofport);
    ovsdb_idl_track_add_column(ovs_idl, &ovsrec_port_col_interfaces);
    ovsdb_idl_track_add_column(ovs_idl, &ovsrec_bridge_col_ports);

    c.tdb = (struct ovsdb_idl_loop) OVSDB_IDL_LOOP_INITIALIZER(
        ovsdb_idl_create_unconnected(&bhrec_idl_class, true));
    c.port_by_iface_id = ovsdb_idl_index_create1(c.tdb.idl,
                                                 &bhrec_port_col_iface_id);
    ovsdb_idl_track_add_all(c.tdb.idl);
    c.ofctrl = ofctrl_create();
    binding_init(&c.binding);
    register_commands(&c);

    daemonize_complete();
    VLOG_INFO("bulkhead-controller %s starting; local OVSDB %s",
              BULKHEAD_VERSION, ovs_remote);

    while (!c.exiting) {
        memory_run();
        if (memory_should_report()) {
            struct simap usage = SIMAP_INITIALIZER(&usage);
            simap_increase(&usage, "vnics", hmap_count(&c.binding.vnics));
            simap_increase(&usage, "desired-flows",
                           flow_table_count(&c.binding.desired));
            memory_report(&usage);
            simap_destroy(&usage);
        }

        controller_run(&c);
        unixctl_server_run(unixctl);

        unixctl_server_wait(unixctl);
        ofctrl_wait(c.ofctrl);
        memory_wait();
        if (c.exiting) {
            poll_immediate_wake();
        }
        poll_block();
    }

    unixctl_server_destroy(unixctl);
    binding_destroy(&c.binding);
    ofctrl_destroy(c.ofctrl);
    ovsdb_idl_loop_destroy(&c.ovs);
    ovsdb_idl_loop_destroy(&c.tdb);
    config_clear(&c.cfg);
    free(c.tdb_remote);
    service_stop();
    return 0;
}

/* Diagnostics (ovs-appctl -t bulkhead-controller ...). */

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

/* "vnic/list". */
static void
cmd_vnic_list(struct unixctl_conn *conn, int argc OVS_UNUSED,
              const char *argv[] OVS_UNUSED, void *c_)
{
    struct controller *c = c_;
    struct ds s = DS_EMPTY_INITIALIZER;

    binding_list(&c->binding, &s);
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

/* "vnic/show PORT" and "vnic/flows PORT". */
static void
cmd_vnic_show(struct unixctl_conn *conn, int argc OVS_UNUSED,
              const char *argv[], void *c_)
{
    struct controller *c = c_;
    struct ds s = DS_EMPTY_INITIALIZER;
    bool flows = !strcmp(argv[0], "vnic/flows");
    bool found = (flows
                  ? binding_flows(&c->binding, argv[1], &s)
                  : binding_show(&c->binding, argv[1], &s));

    if (found) {
        unixctl_command_reply(conn, ds_cstr(&s));
    } else {
        ds_put_format(&s, "no vNIC \"%s\" on this host (give an iface-id, "
                      "a port name or an interface name)", argv[1]);
        unixctl_command_reply_error(conn, ds_cstr(&s));
    }
    ds_destroy(&s);
}

/* "tenant/show". */
static void
cmd_tenant_show(struct unixctl_conn *conn, int argc OVS_UNUSED,
                const char *argv[] OVS_UNUSED, void *c_)
{
    struct controller *c = c_;
    struct ds s = DS_EMPTY_INITIALIZER;

    binding_tenants(&c->binding, &s);
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

/* "ct-zone/list". */
static void
cmd_ct_zone_list(struct unixctl_conn *conn, int argc OVS_UNUSED,
                 const char *argv[] OVS_UNUSED, void *c_)
{
    struct controller *c = c_;
    struct ds s = DS_EMPTY_INITIALIZER;

    ct_zones_format(&c->binding.zones, &s);
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
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
    ofctrl_format_status(c->ofctrl, &s);
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

/* "recompute": computes every flow anew and checks that incremental
 * processing had come to the same flows. */
static void
cmd_recompute(struct unixctl_conn *conn, int argc OVS_UNUSED,
              const char *argv[] OVS_UNUSED, void *c_)
{
    struct controller *c = c_;
    struct ds before = DS_EMPTY_INITIALIZER;
    struct ds after = DS_EMPTY_INITIALIZER;

    flow_table_format(&c->binding.desired, NULL, &before);
    binding_recompute(&c->binding);
    controller_run(c);
    flow_table_format(&c->binding.desired, NULL, &after);

    if (!strcmp(ds_cstr(&before), ds_cstr(&after))) {
        unixctl_command_reply(conn, "recomputed: flows unchanged");
    } else {
        VLOG_ERR("incremental processing had diverged from a full "
                 "recompute:\nbefore:\n%s\nafter:\n%s", ds_cstr(&before),
                 ds_cstr(&after));
        unixctl_command_reply(conn, "recomputed: flows CHANGED (see log)");
    }
    ds_destroy(&before);
    ds_destroy(&after);
}

/* "flows/dump": the desired flow table. */
static void
cmd_flows_dump(struct unixctl_conn *conn, int argc OVS_UNUSED,
               const char *argv[] OVS_UNUSED, void *c_)
{
    struct controller *c = c_;
    struct ds s = DS_EMPTY_INITIALIZER;

    flow_table_format(&c->binding.desired, NULL, &s);
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

static void
register_commands(struct controller *c)
{
    unixctl_command_register("exit", "", 0, 0, cmd_exit, c);
    unixctl_command_register("vnic/list", "", 0, 0, cmd_vnic_list, c);
    unixctl_command_register("vnic/show", "PORT", 1, 1, cmd_vnic_show, c);
    unixctl_command_register("vnic/flows", "PORT", 1, 1, cmd_vnic_show, c);
    unixctl_command_register("tenant/show", "", 0, 0, cmd_tenant_show, c);
    unixctl_command_register("ct-zone/list", "", 0, 0, cmd_ct_zone_list, c);
    unixctl_command_register("connection-status", "", 0, 0,
                             cmd_connection_status, c);
    unixctl_command_register("recompute", "", 0, 0, cmd_recompute, c);
    unixctl_command_register("flows/dump", "", 0, 0, cmd_flows_dump, c);
}

/* Command line. */

static void
parse_options(int argc, char *argv[])
{
    enum {
        OPT_UNIXCTL = UCHAR_MAX + 1,
        VLOG_OPTION_ENUMS,
        DAEMON_OPTION_ENUMS,
    };
    static const struct option long_options[] = {
        {"unixctl", required_argument, NULL, OPT_UNIXCTL},
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
           "  system-id, bulkhead-remote, bulkhead-bridge, bulkhead-uplink,\n"
           "  bulkhead-datapath-type, bulkhead-encap-ip\n",
           program_name, program_name, ovs_rundir());
    daemon_usage();
    vlog_usage();
    printf("\nOther options:\n"
           "  --unixctl=SOCKET        override default control socket name\n"
           "  -h, --help              display this help message\n"
           "  -V, --version           display version information\n");
    exit(EXIT_SUCCESS);
}
