/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* bulkhead-fleet-sim: many simulated hosts' Tenant DB clients in one
 * process, for utilities/bulkhead-bench-fleet (issue 11 item 6).
 *
 * Each host of HOSTS-FILE (one line per host: its system-id, then the
 * iface-ids of its vNICs) gets its own IDL connection to the Tenant DB with
 * the conditions a controller would ask for: the same tdb-monitor.c, fed
 * with the host's system-id and iface-ids in place of its Interfaces.  Like
 * a controller, each host registers its Chassis row and claims the Ports of
 * its vNICs once its view is settled, so that the conditions of its peers
 * find it.  No switch, no flows: a host "has" a change once its IDL
 * received it and its conditions settled again.
 *
 * Commands (ovs-appctl -t PATH):
 *   fleet/status            hosts, how many are connected and settled
 *   fleet/mark              starts a measurement: forgets what hosts got
 *   fleet/report            per host: rows per table, IDL cells, updates
 *                           since the mark, and when the last one came
 *   exit */

#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "command-line.h"
#include "controller/tdb-monitor.h"
#include "daemon.h"
#include "fatal-signal.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovsdb-idl.h"
#include "process.h"
#include "schema/bulkhead-idl.h"
#include "simap.h"
#include "sset.h"
#include "timeval.h"
#include "unixctl.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(fleet_sim);

/* One simulated host. */
struct sim_host {
    char *name;                 /* Its system-id. */
    struct sset iface_ids;      /* Its vNICs' iface-ids. */
    struct ovsdb_idl_loop loop; /* Its Tenant DB connection. */
    struct tdb_monitor *monitor;  /* Its conditions. */
    unsigned int seqno;         /* IDL seqno at the last turn. */
    bool settled;               /* Its view was settled at the last turn. */
    unsigned long long int updates;  /* Turns with news since the mark. */
    long long int last_update;  /* When the last of those ended (ms), or
                                 * 0. */
};

/* The fleet. */
struct fleet {
    struct sim_host *hosts;     /* The hosts. */
    size_t n_hosts;             /* Their number. */
    long long int mark;         /* When "fleet/mark" was run (ms). */
    bool monitor_all;           /* --monitor-all: no conditions. */
    bool exiting;               /* "exit" was run. */
};

/* Registers 'h''s Chassis row if it is missing and claims the Ports of its
 * vNICs, in 'txn', as a controller does (without the claim rules: the
 * fleet's hosts never share a Port). */
static void
host_write(struct sim_host *h, struct ovsdb_idl_txn *txn)
{
    const struct bhrec_chassis *self = NULL, *ch;
    const struct bhrec_port *port;

    BHREC_CHASSIS_FOR_EACH (ch, h->loop.idl) {
        if (!strcmp(ch->name, h->name)) {
            self = ch;
        }
    }
    if (!self) {
        struct bhrec_chassis *row = bhrec_chassis_insert(txn);
        bhrec_chassis_set_name(row, h->name);
        bhrec_chassis_set_hostname(row, h->name);
        bhrec_chassis_set_version(row, "fleet-sim");
        return;
    }
    BHREC_PORT_FOR_EACH (port, h->loop.idl) {
        if (port->chassis != self
            && sset_contains(&h->iface_ids, port->iface_id)) {
            bhrec_port_set_chassis(port, self);
        }
    }
}

/* One turn of host 'h'. */
static void
host_run(struct fleet *f, struct sim_host *h)
{
    struct ovsdb_idl_txn *txn = ovsdb_idl_loop_run(&h->loop);
    struct tdb_monitor_input in = {
        .system_id = h->name,
        .iface_ids = &h->iface_ids,
        .monitor_all = f->monitor_all,
    };

    tdb_monitor_run(h->monitor, &in);
    /* A host that is not connected has a view of nothing, settled or
     * not: it is not counted as settled. */
    bool settled = (tdb_monitor_is_settled(h->monitor)
                    && ovsdb_idl_is_connected(h->loop.idl)
                    && ovsdb_idl_has_ever_connected(h->loop.idl));
    unsigned int seqno = ovsdb_idl_get_seqno(h->loop.idl);
    if (seqno != h->seqno || settled != h->settled) {
        if (seqno != h->seqno) {
            h->updates++;
        }
        h->seqno = seqno;
        h->settled = settled;
        h->last_update = time_msec();
    }
    if (settled && txn && ovsdb_idl_has_ever_connected(h->loop.idl)) {
        host_write(h, txn);
    }
    ovsdb_idl_loop_commit_and_wait(&h->loop);
    tdb_monitor_wait(h->monitor);
}

/* Reads the hosts of 'file_name' into 'f' and connects each to 'remote'. */
static void
read_hosts(struct fleet *f, const char *file_name, const char *remote)
{
    FILE *file = fopen(file_name, "r");
    size_t allocated = 0;
    struct ds line = DS_EMPTY_INITIALIZER;

    if (!file) {
        ovs_fatal(errno, "%s: open failed", file_name);
    }
    while (!ds_get_line(&line, file)) {
        char *save = NULL;
        char *word = strtok_r(ds_cstr(&line), " \t", &save);
        if (!word) {
            continue;
        }
        if (f->n_hosts >= allocated) {
            f->hosts = x2nrealloc(f->hosts, &allocated, sizeof *f->hosts);
        }
        struct sim_host *h = &f->hosts[f->n_hosts++];
        memset(h, 0, sizeof *h);
        h->name = xstrdup(word);
        sset_init(&h->iface_ids);
        while ((word = strtok_r(NULL, " \t", &save))) {
            sset_add(&h->iface_ids, word);
        }
        h->loop = (struct ovsdb_idl_loop) OVSDB_IDL_LOOP_INITIALIZER(
            ovsdb_idl_create_unconnected(&bhrec_idl_class, true));
        /* The conditions before the first connection. */
        h->monitor = tdb_monitor_create(h->loop.idl);
        struct tdb_monitor_input in = {
            .system_id = h->name,
            .iface_ids = &h->iface_ids,
            .monitor_all = f->monitor_all,
        };
        tdb_monitor_run(h->monitor, &in);
        ovsdb_idl_set_remote(h->loop.idl, remote, true);
    }
    ds_destroy(&line);
    fclose(file);
}

/* "fleet/status". */
static void
cmd_status(struct unixctl_conn *conn, int argc OVS_UNUSED,
           const char *argv[] OVS_UNUSED, void *f_)
{
    struct fleet *f = f_;
    size_t connected = 0, settled = 0;
    struct process_info info;

    for (size_t i = 0; i < f->n_hosts; i++) {
        connected += ovsdb_idl_has_ever_connected(f->hosts[i].loop.idl);
        settled += f->hosts[i].settled;
    }
    char *s = xasprintf("hosts %"PRIuSIZE" connected %"PRIuSIZE" settled "
                        "%"PRIuSIZE" rss_kb %lu\n", f->n_hosts, connected,
                        settled, (get_process_info(getpid(), &info)
                                  ? info.rss : 0));
    unixctl_command_reply(conn, s);
    free(s);
}

/* "fleet/mark". */
static void
cmd_mark(struct unixctl_conn *conn, int argc OVS_UNUSED,
         const char *argv[] OVS_UNUSED, void *f_)
{
    struct fleet *f = f_;

    f->mark = time_msec();
    for (size_t i = 0; i < f->n_hosts; i++) {
        f->hosts[i].updates = 0;
        f->hosts[i].last_update = 0;
    }
    unixctl_command_reply(conn, NULL);
}

/* "fleet/report": one line per host, "NAME settled|changing rows
 * TENANT NETWORK PORT GROUP RULE CHASSIS cells N updates N latency_ms N"
 * (latency -1: nothing since the mark). */
static void
cmd_report(struct unixctl_conn *conn, int argc OVS_UNUSED,
           const char *argv[] OVS_UNUSED, void *f_)
{
    static const struct ovsdb_idl_table_class *const tables[] = {
        &bhrec_table_tenant, &bhrec_table_network, &bhrec_table_port,
        &bhrec_table_security_group, &bhrec_table_rule, &bhrec_table_chassis,
    };
    struct fleet *f = f_;
    struct ds s = DS_EMPTY_INITIALIZER;

    for (size_t i = 0; i < f->n_hosts; i++) {
        struct sim_host *h = &f->hosts[i];
        struct simap usage = SIMAP_INITIALIZER(&usage);

        ds_put_format(&s, "%s %s rows", h->name,
                      h->settled ? "settled" : "changing");
        for (size_t t = 0; t < ARRAY_SIZE(tables); t++) {
            ds_put_format(&s, " %"PRIuSIZE,
                          tdb_monitor_count_rows(h->loop.idl, tables[t]));
        }
        ovsdb_idl_get_memory_usage(h->loop.idl, &usage);
        ds_put_format(&s, " cells %u updates %llu latency_ms %lld\n",
                      simap_get(&usage, "idl-cells-Bulkhead"), h->updates,
                      h->updates ? h->last_update - f->mark : -1);
        simap_destroy(&usage);
    }
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

/* "exit". */
static void
cmd_exit(struct unixctl_conn *conn, int argc OVS_UNUSED,
         const char *argv[] OVS_UNUSED, void *f_)
{
    struct fleet *f = f_;

    f->exiting = true;
    unixctl_command_reply(conn, NULL);
}

/* Prints the usage and exits. */
static void OVS_NO_RETURN
usage(void)
{
    printf("%s: simulated hosts' Tenant DB clients, for the fleet "
           "benchmark\n"
           "usage: %s [OPTIONS] REMOTE HOSTS-FILE\n"
           "HOSTS-FILE has one line per host: SYSTEM-ID IFACE-ID...\n"
           "  --monitor-all           no conditions: every row\n"
           "  --unixctl=SOCKET        control socket\n",
           program_name, program_name);
    daemon_usage();
    vlog_usage();
    exit(EXIT_SUCCESS);
}

int
main(int argc, char *argv[])
{
    enum {
        OPT_UNIXCTL = UCHAR_MAX + 1,
        OPT_MONITOR_ALL,
        VLOG_OPTION_ENUMS,
        DAEMON_OPTION_ENUMS,
    };
    static const struct option long_options[] = {
        {"unixctl", required_argument, NULL, OPT_UNIXCTL},
        {"monitor-all", no_argument, NULL, OPT_MONITOR_ALL},
        {"help", no_argument, NULL, 'h'},
        VLOG_LONG_OPTIONS,
        DAEMON_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    struct fleet f = { .hosts = NULL };
    char *unixctl_path = NULL;
    struct unixctl_server *unixctl;

    set_program_name(argv[0]);
    fatal_ignore_sigpipe();
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
        case OPT_MONITOR_ALL:
            f.monitor_all = true;
            break;
        case 'h':
            usage();
        VLOG_OPTION_HANDLERS
        DAEMON_OPTION_HANDLERS
        case '?':
            exit(EXIT_FAILURE);
        default:
            abort();
        }
    }
    free(short_options);
    if (argc - optind != 2) {
        ovs_fatal(0, "REMOTE and HOSTS-FILE expected; try --help");
    }

    daemonize_start(false);
    if (unixctl_server_create(unixctl_path, &unixctl)) {
        exit(EXIT_FAILURE);
    }
    read_hosts(&f, argv[optind + 1], argv[optind]);
    unixctl_command_register("fleet/status", "", 0, 0, cmd_status, &f);
    unixctl_command_register("fleet/mark", "", 0, 0, cmd_mark, &f);
    unixctl_command_register("fleet/report", "", 0, 0, cmd_report, &f);
    unixctl_command_register("exit", "", 0, 0, cmd_exit, &f);
    daemonize_complete();
    VLOG_INFO("%"PRIuSIZE" hosts", f.n_hosts);

    while (!f.exiting) {
        for (size_t i = 0; i < f.n_hosts; i++) {
            host_run(&f, &f.hosts[i]);
        }
        unixctl_server_run(unixctl);
        unixctl_server_wait(unixctl);
        if (f.exiting) {
            poll_immediate_wake();
        }
        poll_block();
    }

    unixctl_server_destroy(unixctl);
    for (size_t i = 0; i < f.n_hosts; i++) {
        tdb_monitor_destroy(f.hosts[i].monitor);
        ovsdb_idl_loop_destroy(&f.hosts[i].loop);
        sset_destroy(&f.hosts[i].iface_ids);
        free(f.hosts[i].name);
    }
    free(f.hosts);
    return 0;
}
