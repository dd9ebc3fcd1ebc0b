/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* bulkhead-verify FLOWS-FILE PORTMAP-FILE [--format=json]: proves, offline,
 * that a dump of br-int's flows isolates the networks of a port map, or
 * prints counterexamples (Documentation/verify.md).  Exit status: 0
 * isolated, 1 leak, 2 bad input. */

#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "util.h"
#include "verify/verify.h"

/* Names what a cookie stands for from its bits alone (pipeline.md,
 * "Cookies"): the tool has no controller state to name vNICs or rules. */
static void
name_cookie(uint64_t cookie, struct ds *s, void *aux OVS_UNUSED)
{
    unsigned int kind = cookie >> 56;
    unsigned int mid = (cookie >> 32) & 0xffffff;
    unsigned int low = cookie & 0xffffffff;

    switch (kind) {
    case 1:
        ds_put_format(s, "vNIC of zone %u", low);
        break;
    case 2:
        ds_put_format(s, "network key %#x", low);
        break;
    case 3:
        if (mid) {
            ds_put_format(s, "rule %#x of firewall class %#x", mid, low);
        } else {
            ds_put_format(s, "group addresses of firewall class %#x", low);
        }
        break;
    case 5:
        ds_put_format(s, "statistics of rule %#x at zone %u", mid, low);
        break;
    case 6:
        if (low) {
            ds_put_format(s, "mirror copies of zone %u", low);
        } else {
            ds_put_cstr(s, "analysis port or GRE drops");
        }
        break;
    case 15:
        ds_put_cstr(s, "pipeline");
        break;
    default:
        break;
    }
}

/* Prints the usage and exits. */
static void
usage(void)
{
    printf("%s: checks that a flow table isolates networks\n"
           "usage: %s FLOWS-FILE PORTMAP-FILE [--format=text|json]\n"
           "FLOWS-FILE is \"ovs-ofctl -O OpenFlow15 dump-flows br-int\" "
           "output;\nPORTMAP-FILE maps ofports to networks (see "
           "Documentation/verify.md).\n"
           "Exit status: 0 isolated, 1 leak, 2 bad input.\n",
           program_name, program_name);
    exit(EXIT_SUCCESS);
}

int
main(int argc, char *argv[])
{
    bool json_output = false;
    const char *files[2];
    int n_files = 0;

    set_program_name(argv[0]);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "--format=json")) {
            json_output = true;
        } else if (!strcmp(arg, "--format=text")) {
            json_output = false;
        } else if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            usage();
        } else if (arg[0] == '-' && arg[1]) {
            fprintf(stderr, "%s: unknown option %s (use --help)\n",
                    program_name, arg);
            return 2;
        } else if (n_files < 2) {
            files[n_files++] = arg;
        } else {
            fprintf(stderr, "%s: too many arguments (use --help)\n",
                    program_name);
            return 2;
        }
    }
    if (n_files != 2) {
        fprintf(stderr, "%s: expected FLOWS-FILE and PORTMAP-FILE "
                "(use --help)\n", program_name);
        return 2;
    }

    char *text;
    char *error = vfy_read_file(files[0], &text);
    struct vfy_flows *flows = vfy_flows_create();
    if (text) {
        error = vfy_flows_parse(flows, text, files[0]);
        free(text);
    }

    struct vfy_portmap *map = vfy_portmap_create();
    if (!error) {
        struct json *json = json_from_file(files[1]);
        if (json->type == JSON_STRING) {
            error = xasprintf("%s: %s", files[1], json_string(json));
        } else {
            error = vfy_portmap_from_json(map, json, files[1]);
        }
        json_destroy(json);
    }
    if (error) {
        fprintf(stderr, "%s: %s\n", program_name, error);
        free(error);
        vfy_flows_destroy(flows);
        vfy_portmap_destroy(map);
        return 2;
    }

    struct vfy_checker *ck = vfy_checker_create();
    vfy_checker_run_full(ck, flows, map);
    bool isolated = vfy_checker_is_isolated(ck);
    if (json_output) {
        struct json *j = vfy_checker_to_json(ck, name_cookie, NULL);
        char *s = json_to_string(j, JSSF_PRETTY | JSSF_SORT);
        puts(s);
        free(s);
        json_destroy(j);
    } else {
        struct ds s = DS_EMPTY_INITIALIZER;
        vfy_checker_format(ck, &s, name_cookie, NULL);
        fputs(ds_cstr(&s), stdout);
        ds_destroy(&s);
    }
    vfy_checker_destroy(ck);
    vfy_flows_destroy(flows);
    vfy_portmap_destroy(map);
    return isolated ? 0 : 1;
}
