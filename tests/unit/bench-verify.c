/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* bench-verify [P [NETWORKS]]: the isolation checker's cost on a table
 * that the controller's own compiler writes for P vNICs (default 2000) on
 * NETWORKS VLAN networks (default 10), with the benchmark's firewall
 * policy (tests/unit/verify-fixture.h): a full check, then an incremental
 * one after one vNIC's flows change (its address) and after they change
 * back, then one after that vNIC is unplugged (its flows and its port in
 * the map go) and one after it is plugged again.  The table is generated
 * in this process, then checked in a fresh one (the same program, exec'd
 * with --from FILE), so that the peak RSS reported is the checker's own.
 * "bench-verify --dump [P [NETWORKS]]" prints the table instead. */

#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#include "openvswitch/dynamic-string.h"
#include "flow.h"
#include "tests/unit/verify-fixture.h"
#include "timeval.h"
#include "util.h"
#include "verify/verify.h"

/* Returns the process's CPU time in ms, as a double: on a shared machine
 * it says more than the wall clock (which bench-verify also prints). */
static double
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* Returns monotonic time in ms, as a double. */
static double
wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* Returns the process's peak RSS in MiB. */
static double
peak_rss_mib(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0;
}

/* Returns the contents of 'file_name'. */
static char *
slurp(const char *file_name)
{
    FILE *f = fopen(file_name, "r");
    if (!f) {
        ovs_fatal(errno, "%s", file_name);
    }
    struct ds s = DS_EMPTY_INITIALIZER;
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        ds_put_buffer(&s, buf, n);
    }
    fclose(f);
    return ds_steal_cstr(&s);
}

/* Applies 'text' to 'flows' ('remove': removes its flows). */
static void
apply(struct vfy_flows *flows, const char *text, bool remove)
{
    char *error = (remove ? vfy_flows_parse_remove(flows, text, "vnic")
                   : vfy_flows_parse(flows, text, "vnic"));
    if (error) {
        ovs_fatal(0, "%s", error);
    }
}

/* Checks the table of 'file_name' for 'fx' and prints the figures. */
static int
check(const struct vfy_fixture *fx, const char *file_name)
{
    double rss0 = peak_rss_mib();
    char *text = slurp(file_name);
    struct vfy_flows *flows = vfy_flows_create();
    struct vfy_portmap *map = vfy_portmap_create();
    double t0 = now_ms();
    char *error = vfy_flows_parse(flows, text, file_name);
    if (error) {
        ovs_fatal(0, "%s", error);
    }
    free(text);
    double t_parse = now_ms() - t0;
    vfy_fixture_portmap(fx, map);

    struct vfy_checker *ck = vfy_checker_create();
    t0 = now_ms();
    double w0 = wall_ms();
    vfy_checker_run_full(ck, flows, map);
    double t_full = now_ms() - t0;
    double w_full = wall_ms() - w0;
    bool isolated = vfy_checker_is_isolated(ck);

    /* One vNIC (in the middle of the first network) changes address,
     * then changes back. */
    size_t vnic = fx->per_net / 2;
    char *old = vfy_fixture_vnic_flows(fx, vnic, 0);
    char *new = vfy_fixture_vnic_flows(fx, vnic, 1);
    t0 = now_ms();
    apply(flows, old, true);
    apply(flows, new, false);
    size_t n1 = vfy_checker_run_incremental(ck, flows, map);
    double t_inc1 = now_ms() - t0;
    bool isolated1 = vfy_checker_is_isolated(ck);
    t0 = now_ms();
    apply(flows, new, true);
    apply(flows, old, false);
    size_t n2 = vfy_checker_run_incremental(ck, flows, map);
    double t_inc2 = now_ms() - t0;
    bool isolated2 = vfy_checker_is_isolated(ck);

    /* The same vNIC is unplugged (its flows go, and it leaves the port
     * map), then plugged again (as a new map, as the controller hands
     * it over). */
    struct vfy_portmap *unplugged = vfy_portmap_clone(map);
    vfy_portmap_remove_vnic(unplugged, u16_to_ofp(vnic + 1));
    t0 = now_ms();
    apply(flows, old, true);
    size_t n3 = vfy_checker_run_incremental(ck, flows, unplugged);
    double t_unplug = now_ms() - t0;
    bool isolated3 = vfy_checker_is_isolated(ck);
    bool full3 = vfy_checker_last_full(ck);
    t0 = now_ms();
    apply(flows, old, false);
    size_t n4 = vfy_checker_run_incremental(ck, flows, map);
    double t_plug = now_ms() - t0;
    bool isolated4 = vfy_checker_is_isolated(ck);
    bool full4 = vfy_checker_last_full(ck);
    vfy_portmap_destroy(unplugged);

    printf("vNICs\t%"PRIuSIZE"\nnetworks\t%"PRIuSIZE"\nflows\t%"PRIuSIZE"\n"
           "parse_ms\t%.1f\nfull_ms\t%.1f\nfull_wall_ms\t%.1f\n"
           "full_verdict\t%s\n"
           "incremental_ms\t%.1f\nincremental_ports\t%"PRIuSIZE"\n"
           "incremental_back_ms\t%.1f\nincremental_back_ports\t%"PRIuSIZE
           "\nincremental_unplug_ms\t%.1f\nincremental_unplug_ports\t%"
           PRIuSIZE"%s\nincremental_plug_ms\t%.1f\n"
           "incremental_plug_ports\t%"PRIuSIZE"%s\n"
           "verdicts_after\t%s,%s,%s,%s\npeak_rss_mib\t%.1f\n"
           "rss_before_parse_mib\t%.1f\n",
           fx->n_nets * fx->per_net, fx->n_nets, vfy_flows_count(flows),
           t_parse, t_full, w_full, isolated ? "isolated" : "LEAK", t_inc1,
           n1, t_inc2, n2, t_unplug, n3, full3 ? " (full)" : "", t_plug, n4,
           full4 ? " (full)" : "", isolated1 ? "isolated" : "LEAK",
           isolated2 ? "isolated" : "LEAK", isolated3 ? "isolated" : "LEAK",
           isolated4 ? "isolated" : "LEAK", peak_rss_mib(), rss0);
    if (!isolated) {
        struct ds s = DS_EMPTY_INITIALIZER;
        vfy_checker_format(ck, &s, NULL, NULL);
        fputs(ds_cstr(&s), stderr);
        ds_destroy(&s);
    }
    free(old);
    free(new);
    vfy_checker_destroy(ck);
    vfy_flows_destroy(flows);
    vfy_portmap_destroy(map);
    return (isolated && isolated1 && isolated2 && isolated3 && isolated4
            ? 0 : 1);
}

int
main(int argc, char *argv[])
{
    struct vfy_fixture fx = { .n_nets = 10, .per_net = 200 };
    const char *from = NULL;
    int i = 1;

    set_program_name(argv[0]);
    bool dump = argc > 1 && !strcmp(argv[1], "--dump");
    if (dump) {
        i = 2;
    } else if (argc > 2 && !strcmp(argv[1], "--from")) {
        from = argv[2];
        i = 3;
    }
    size_t p = argc > i ? atoi(argv[i]) : 2000;
    if (argc > i + 1) {
        fx.n_nets = atoi(argv[i + 1]);
    }
    if (!p || !fx.n_nets || p % fx.n_nets) {
        ovs_fatal(0, "P must be a nonzero multiple of NETWORKS");
    }
    fx.per_net = p / fx.n_nets;
    if (from) {
        return check(&fx, from);
    }

    char *text = vfy_fixture_flows(&fx);
    if (dump) {
        fputs(text, stdout);
        free(text);
        return 0;
    }
    char file_name[] = "/tmp/bench-verify-XXXXXX";
    int fd = mkstemp(file_name);
    if (fd < 0) {
        ovs_fatal(errno, "mkstemp");
    }
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    free(text);
    fflush(stdout);

    char ps[32], ns[32];
    snprintf(ps, sizeof ps, "%"PRIuSIZE, p);
    snprintf(ns, sizeof ns, "%"PRIuSIZE, fx.n_nets);
    pid_t pid = fork();
    if (!pid) {
        execl("/proc/self/exe", argv[0], "--from", file_name, ps, ns,
              (char *) NULL);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    unlink(file_name);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
}
