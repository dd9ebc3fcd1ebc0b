/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#include <config.h>
#include "controller/trace.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "controller/binding.h"
#include "controller/firewall.h"
#include "controller/flow-table.h"
#include "controller/pipeline.h"
#include "controller/vswitchd-rpc.h"
#include "coverage.h"
#include "flow.h"
#include "lib/tenant-db.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/list.h"
#include "openvswitch/meta-flow.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofp-parse.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "schema/bulkhead-idl.h"
#include "svec.h"
#include "unixctl.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(trace);

COVERAGE_DEFINE(trace_request);

/* A trace request unanswered after this long drops the connection, and
 * the command is answered with an error. */
#define TRACE_TIMEOUT_MS (30 * 1000)

/* Conntrack recirculations traced at most for one command (a broadcast
 * makes one per receiver with a firewall); the rest are only counted. */
#define MAX_STAGES 64

/* The line that ofproto/trace puts around the banner of a recirculation:
 * 79 '='. */
#define SEPARATOR_LEN 79

/* The module. */
struct trace {
    const struct binding *binding;  /* vNICs: by name, by zone. */
    const struct firewall *fw;      /* Rules, by key. */
    struct ovsdb_idl *tdb;          /* The Tenant DB. */
    const struct flow_table *flows; /* The flows the controller wants. */
    char *bridge;                   /* The integration bridge's name. */
    struct vswitchd_rpc *rpc;       /* Its own connection to ovs-vswitchd,
                                     * made on the first command. */
    struct ovs_list jobs;           /* struct trace_job, in progress. */
};

/* One request to ovs-vswitchd of a trace: the packet entering the bridge,
 * or going on after conntrack. */
struct trace_stage {
    struct ovs_list node;       /* In its job's 'stages'. */
    char *flow;                 /* The flow to trace. */
    int table;                  /* -1: the packet enters the bridge
                                 * (ofproto/trace); else the table that
                                 * conntrack resumes at (trace-packet-out
                                 * with resubmit). */
    char *banner;               /* What the stage is, or NULL for the
                                 * first. */
    const char *side;           /* "egress" or "ingress" for a firewall
                                 * side's conntrack, else NULL. */
    char *vnic;                 /* The vNIC of that side, for its verdict
                                 * line. */
};

/* One "trace" command in progress. */
struct trace_job {
    struct ovs_list node;       /* In the module's 'jobs'. */
    struct trace *trace;        /* The module. */
    struct unixctl_conn *conn;  /* Waits for the answer. */
    struct svec ct_next;        /* --ct-next states, in order. */
    size_t n_ct_used;           /* States of 'ct_next' used so far. */
    struct ovs_list stages;     /* struct trace_stage to trace, in order;
                                 * the first one's request is in flight. */
    size_t n_stages;            /* Stages made so far. */
    size_t n_untraced;          /* Recirculations past MAX_STAGES. */
    struct ds out;              /* The answer so far. */
};

/* Creates the module: vNICs come from 'binding', rules from 'fw' and
 * 'tdb', and the flows that the controller installs from 'flows'. */
struct trace *
trace_create(const struct binding *binding, const struct firewall *fw,
             struct ovsdb_idl *tdb, const struct flow_table *flows)
{
    struct trace *t = xzalloc(sizeof *t);

    t->binding = binding;
    t->fw = fw;
    t->tdb = tdb;
    t->flows = flows;
    t->bridge = xstrdup("br-int");
    t->rpc = vswitchd_rpc_create(TRACE_TIMEOUT_MS);
    ovs_list_init(&t->jobs);
    return t;
}

/* Frees 'stage'. */
static void
stage_free(struct trace_stage *stage)
{
    free(stage->flow);
    free(stage->banner);
    free(stage->vnic);
    free(stage);
}

/* Frees 'job', without answering its command. */
static void
job_free(struct trace_job *job)
{
    struct trace_stage *stage;

    ovs_list_remove(&job->node);
    LIST_FOR_EACH_POP (stage, node, &job->stages) {
        stage_free(stage);
    }
    svec_destroy(&job->ct_next);
    ds_destroy(&job->out);
    free(job);
}

/* Frees 't'.  Commands in progress are never answered (the daemon is
 * exiting). */
void
trace_destroy(struct trace *t)
{
    struct trace_job *job;

    if (!t) {
        return;
    }
    vswitchd_rpc_destroy(t->rpc);
    LIST_FOR_EACH_SAFE (job, node, &t->jobs) {
        job_free(job);
    }
    free(t->bridge);
    free(t);
}

/* Notes the name of the integration bridge, and hands ovs-vswitchd's
 * answers to the commands that wait for them. */
void
trace_run(struct trace *t, const char *bridge)
{
    if (bridge && strcmp(bridge, t->bridge)) {
        free(t->bridge);
        t->bridge = xstrdup(bridge);
    }
    int error = vswitchd_rpc_run(t->rpc);
    if (error) {
        /* The commands that waited were answered; the next one connects
         * again. */
        VLOG_INFO("%s: %s", vswitchd_rpc_target(t->rpc),
                  error == EOF ? "ovs-vswitchd closed the connection"
                  : error == ETIMEDOUT ? "no answer to a trace"
                  : ovs_strerror(error));
    }
}

/* Arranges for the poll loop to wake up when trace_run() has work. */
void
trace_wait(const struct trace *t)
{
    vswitchd_rpc_wait(t->rpc);
}

/* Naming what a cookie stands for. */

/* Appends to 's' the tenant and name of the network whose key is
 * 'net_key' ("acme/lan"), from a vNIC bound on it or else from the Tenant
 * DB.  Returns false if neither knows it. */
static bool
put_network(const struct trace *t, uint32_t net_key, struct ds *s)
{
    const struct bhrec_network *n;
    const struct vnic *v;

    BINDING_FOR_EACH_VNIC (v, t->binding) {
        if (v->state == VNIC_BOUND && v->net_key == net_key) {
            ds_put_format(s, "%s/%s", v->tenant, v->port.network);
            return true;
        }
    }
    BHREC_NETWORK_FOR_EACH (n, t->tdb) {
        enum policy_net_type type;
        if (policy_net_type_from_string(n->type, &type)
            && pipeline_network_key(type, n->segment) == net_key) {
            ds_put_format(s, "%s/%s", n->tenant ? n->tenant->name : "?",
                          n->name);
            return true;
        }
    }
    return false;
}

/* Appends to 's' the tenant, network and name of vNIC 'v' (bound). */
static void
put_vnic(const struct vnic *v, struct ds *s)
{
    ds_put_format(s, "%s/%s/%s", v->tenant, v->port.network, v->port.name);
}

/* Appends to 's' what 'cookie' stands for, by its layout (pipeline.md,
 * "Cookies"): "pipeline", "vnic acme/lan/web1", "network acme/lan", "rule
 * acme/web#2 (ingress tcp 22 from @admin), class 0x1234"...  Returns false,
 * appending nothing, if Bulkhead writes no such cookie. */
bool
trace_name_cookie(const struct trace *t, uint64_t cookie, struct ds *s)
{
    unsigned int kind = cookie >> 56;
    uint32_t middle = (cookie >> 32) & 0xffffff;
    uint32_t id = cookie;

    if (kind == PL_COOKIE_PIPELINE && !middle && !id) {
        ds_put_cstr(s, "pipeline");
    } else if (kind == PL_COOKIE_VNIC && !middle) {
        const struct vnic *v = binding_find_by_zone(t->binding, id);
        ds_put_cstr(s, "vnic ");
        if (v) {
            put_vnic(v, s);
        } else {
            ds_put_format(s, "of zone %"PRIu32", which no vNIC here has",
                          id);
        }
    } else if (kind == PL_COOKIE_NETWORK && !middle) {
        ds_put_cstr(s, "network ");
        if (!put_network(t, id, s)) {
            ds_put_format(s, "of key %#"PRIx32", unknown", id);
        }
    } else if (kind == PL_COOKIE_RULE && middle) {
        ds_put_cstr(s, "rule ");
        if (!firewall_describe_rule(t->fw, t->tdb, middle, true, s)) {
            ds_put_format(s, "of key %#"PRIx32", unknown", middle);
        }
        if (id) {
            ds_put_format(s, ", class %#"PRIx32, id);
        } else {
            /* The connection log's flows are shared by every class. */
            ds_put_cstr(s, ", connection log");
        }
    } else if (kind == PL_COOKIE_RULE) {
        ds_put_format(s, "remote group addresses, class %#"PRIx32, id);
    } else if (kind == PL_COOKIE_VNIC_RULE && middle) {
        const struct vnic *v = binding_find_by_zone(t->binding, id);
        ds_put_cstr(s, "statistics of rule ");
        if (!firewall_describe_rule(t->fw, t->tdb, middle, false, s)) {
            ds_put_format(s, "of key %#"PRIx32, middle);
        }
        ds_put_cstr(s, " at vnic ");
        if (v) {
            put_vnic(v, s);
        } else {
            ds_put_format(s, "of zone %"PRIu32, id);
        }
    } else if (kind == PL_COOKIE_MIRROR && !middle && !id) {
        ds_put_cstr(s, "mirror: what an analysis, GRE or ERSPAN port "
                    "sends, dropped");
    } else if (kind == PL_COOKIE_MIRROR && !middle) {
        const struct vnic *v = binding_find_by_zone(t->binding, id);
        ds_put_cstr(s, "mirror copies of vnic ");
        if (v) {
            put_vnic(v, s);
        } else {
            ds_put_format(s, "of zone %"PRIu32, id);
        }
    } else {
        return false;
    }
    return true;
}

/* Reading ovs-vswitchd's trace. */

/* A flow that a trace hit, as ofproto/trace prints it:
 * "TABLE. MATCH, priority PRIORITY, cookie COOKIE" (no ", cookie" for
 * 0). */
struct hit {
    uint8_t table;              /* Its table. */
    uint16_t priority;          /* Its priority. */
    char *match;                /* Its match, "" for all. */
    uint64_t cookie;            /* Its cookie. */
};

/* Parses 'line', a line of ofproto/trace's output, into 'hit' (whose
 * 'match' the caller frees).  Returns false if it is not a flow that the
 * trace hit. */
static bool
parse_hit(const char *line, struct hit *hit)
{
    const char *p = line + strspn(line, " ");
    char *end;

    unsigned long int table = strtoul(p, &end, 10);
    if (end == p || end[0] != '.' || end[1] != ' ' || table > UINT8_MAX) {
        return false;
    }
    p = end + 2;

    /* The match ends at the last ", priority " (or there is none). */
    const char *prio = !strncmp(p, "priority ", 9) ? p : NULL;
    for (const char *q = strstr(p, ", priority "); q;
         q = strstr(q + 1, ", priority ")) {
        prio = q + 2;
    }
    if (!prio) {
        /* "No match.", a fragment dropped, ... */
        return false;
    }
    const char *digits = prio + strlen("priority ");
    unsigned long int priority = strtoul(digits, &end, 10);
    if (end == digits || priority > UINT16_MAX) {
        return false;
    }
    unsigned long long int cookie = 0;
    if (!strncmp(end, ", cookie ", 9)) {
        const char *hex = end + 9;
        cookie = strtoull(hex, &end, 16);
        if (end == hex) {
            return false;
        }
    }
    if (*end) {
        return false;
    }

    hit->table = table;
    hit->priority = priority;
    hit->match = xmemdup0(p, prio == p ? 0 : prio - 2 - p);
    hit->cookie = cookie;
    return true;
}

/* Returns true if the controller installs the flow 'hit', with its
 * cookie: the desired table has its key with that cookie. */
static bool
hit_is_ours(const struct trace *t, const struct hit *hit)
{
    struct bh_flow_key key;
    char *error = bh_flow_key_from_string(hit->table, hit->priority,
                                          hit->match, &key);

    if (error) {
        /* A match that the controller cannot even parse is none of its
         * flows'. */
        free(error);
        return false;
    }
    const struct bh_flow *f = flow_table_find(t->flows, &key);
    bool ours = f && f->cookie == hit->cookie;
    bh_flow_key_destroy(&key);
    return ours;
}

/* What a stage's trace says of the firewall side it went through. */
struct verdict {
    bool seen;                  /* A flow of Bulkhead's in table RULES was
                                 * hit. */
    uint32_t rule;              /* The key of its rule, 0 if it was the
                                 * table's default (nothing allowed). */
};

/* Appends to 's' the annotation of 'hit': what its cookie stands for, or
 * why it is not Bulkhead's.  Notes in 'verdict' the first flow of Bulkhead's
 * in table RULES. */
static void
put_annotation(const struct trace *t, const struct hit *hit,
               struct verdict *verdict, struct ds *s)
{
    struct ds what = DS_EMPTY_INITIALIZER;

    if (!trace_name_cookie(t, hit->cookie, &what)) {
        ds_put_cstr(s, "[not Bulkhead's]");
    } else if (!hit_is_ours(t, hit)) {
        ds_put_format(s, "[not Bulkhead's: the controller did not install "
                      "this flow; its cookie reads \"%s\"]", ds_cstr(&what));
    } else {
        ds_put_format(s, "[%s]", ds_cstr(&what));
        if (hit->table == PL_T_RULES && !verdict->seen) {
            unsigned int kind = hit->cookie >> 56;
            verdict->seen = (kind == PL_COOKIE_RULE
                             || kind == PL_COOKIE_PIPELINE);
            verdict->rule = (kind == PL_COOKIE_RULE
                             ? (hit->cookie >> 32) & 0xffffff : 0);
        }
    }
    ds_destroy(&what);
}

/* Returns true if 'line' is the line of 79 '=' around a recirculation's
 * banner. */
static bool
is_separator(const char *line)
{
    return (strlen(line) == SEPARATOR_LEN
            && strspn(line, "=") == SEPARATOR_LEN);
}

/* Returns the next line of the text that '*textp' points into, which it
 * cuts at the line's end (a writable copy), and advances '*textp' to the
 * line after; returns NULL at the end of the text. */
static char *
next_line(char **textp)
{
    char *line = *textp;

    if (!line || !*line) {
        return NULL;
    }
    char *nl = strchr(line, '\n');
    if (nl) {
        *nl = '\0';
        *textp = nl + 1;
    } else {
        *textp = NULL;
    }
    return line;
}

/* Appends to 'job->out' the lines of 'text' (ovs-vswitchd's trace), up to
 * its first recirculation, each flow followed by its annotation, and notes
 * in 'verdict' what table RULES gave.  Stores in '*tablesp' the tables that
 * the conntrack recirculations it forked resume at, in order (the caller
 * frees it), and returns how many there are. */
static size_t
put_stage_output(struct trace_job *job, const char *text,
                 struct verdict *verdict, int **tablesp)
{
    struct ds lines = DS_EMPTY_INITIALIZER;
    size_t n_forks = 0, allocated = 0;
    char *copy = xstrdup(text);
    char *p = copy;
    char *line;

    while ((line = next_line(&p)) && !is_separator(line)) {
        ds_put_cstr(&lines, line);
        struct hit hit;
        if (parse_hit(line, &hit)) {
            ds_put_cstr(&lines, "  ");
            put_annotation(job->trace, &hit, verdict, &lines);
            free(hit.match);
        }
        ds_put_char(&lines, '\n');

        static const char forked[] = "The forked pipeline will be resumed "
                                     "at table ";
        const char *f = strstr(line, forked);
        if (f) {
            if (n_forks >= allocated) {
                *tablesp = x2nrealloc(*tablesp, &allocated, sizeof **tablesp);
            }
            (*tablesp)[n_forks++] = atoi(f + strlen(forked));
        }
    }
    free(copy);

    /* One line's end, not the blank lines before a recirculation. */
    while (ds_chomp(&lines, '\n')) {
        continue;
    }
    ds_put_format(&job->out, "%s\n", ds_cstr(&lines));
    ds_destroy(&lines);
    return n_forks;
}

/* Conntrack, emulated. */

/* Returns the ct_state that the next conntrack recirculation of 'job'
 * resumes with: the next --ct-next state, or trk|new. */
static uint32_t
next_ct_state(struct trace_job *job)
{
    uint32_t state = CS_TRACKED | CS_NEW;

    if (job->n_ct_used < job->ct_next.n) {
        struct ds error = DS_EMPTY_INITIALIZER;
        /* Checked when the command came. */
        ignore(parse_ct_state(job->ct_next.names[job->n_ct_used++], 0,
                              &state, &error));
        ds_destroy(&error);
    }
    return state;
}

/* Takes 'frozen', the flow of a conntrack recirculation as ofproto/trace
 * prints it ("recirc_id=0x2,ct_state=new|trk,ct_zone=2,eth,udp,reg6=0x1,
 * ...,tp_src=1111,tp_dst=53"), and returns it as ofproto/trace-packet-out
 * parses it, without the recirculation, the packet type or any conntrack
 * field, and with tp_src and tp_dst under their protocol's names.  Stores
 * its conntrack zone in '*zone' (0 if none). */
static char *
thawed_flow(const char *frozen, uint32_t *zone)
{
    struct ds out = DS_EMPTY_INITIALIZER;
    const char *l4 = NULL;
    char *copy = xstrdup(frozen);
    char *p = copy;
    char *key, *value;

    *zone = 0;
    while (ofputil_parse_key_value(&p, &key, &value)) {
        if (!strcmp(key, "ct_zone")) {
            ignore(str_to_uint(value, 0, zone));
            continue;
        } else if (!strcmp(key, "recirc_id") || !strcmp(key, "eth")
                   || !strncmp(key, "ct_", 3)) {
            continue;
        }
        if (!*value) {
            static const char *const protos[][2] = {
                { "tcp", "tcp" }, { "tcp6", "tcp" },
                { "udp", "udp" }, { "udp6", "udp" },
                { "sctp", "sctp" }, { "sctp6", "sctp" },
            };
            for (size_t i = 0; i < ARRAY_SIZE(protos); i++) {
                if (!strcmp(key, protos[i][0])) {
                    l4 = protos[i][1];
                }
            }
        }
        if (out.length) {
            ds_put_char(&out, ',');
        }
        if (l4 && (!strcmp(key, "tp_src") || !strcmp(key, "tp_dst"))) {
            ds_put_format(&out, "%s_%s=%s", l4, key + 3, value);
        } else if (*value) {
            ds_put_format(&out, "%s=%s", key, value);
        } else {
            ds_put_cstr(&out, key);
        }
    }
    free(copy);
    return ds_steal_cstr(&out);
}

/* Appends to 'ct' the conntrack fields of a connection whose original
 * direction is 'flow''s (its reverse if 'state' has rpl), and to 'conn' a
 * description of it ("udp 10.1.0.11:1111 > 10.1.0.12:53").  Appends
 * nothing for a flow that is not IP, or a 'state' without an entry. */
static void
put_ct_tuple(const struct flow *flow, uint32_t state, struct ds *ct,
             struct ds *conn)
{
    bool v4 = flow->dl_type == htons(ETH_TYPE_IP);
    bool v6 = flow->dl_type == htons(ETH_TYPE_IPV6);

    if ((!v4 && !v6)
        || !(state & (CS_NEW | CS_ESTABLISHED | CS_REPLY_DIR))) {
        return;
    }

    uint8_t proto = flow->nw_proto;
    bool ports = (proto == IPPROTO_TCP || proto == IPPROTO_UDP
                  || proto == IPPROTO_SCTP);
    bool icmp = proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6;
    bool rpl = (state & CS_REPLY_DIR) != 0;
    /* Conntrack keeps an ICMP message's type and code where ports go. */
    uint16_t sport = ntohs(rpl && ports ? flow->tp_dst : flow->tp_src);
    uint16_t dport = ntohs(rpl && ports ? flow->tp_src : flow->tp_dst);
    struct ds src = DS_EMPTY_INITIALIZER;
    struct ds dst = DS_EMPTY_INITIALIZER;

    if (v4) {
        ovs_be32 a = rpl ? flow->nw_dst : flow->nw_src;
        ovs_be32 b = rpl ? flow->nw_src : flow->nw_dst;
        ds_put_format(&src, IP_FMT, IP_ARGS(a));
        ds_put_format(&dst, IP_FMT, IP_ARGS(b));
    } else {
        ipv6_format_addr(rpl ? &flow->ipv6_dst : &flow->ipv6_src, &src);
        ipv6_format_addr(rpl ? &flow->ipv6_src : &flow->ipv6_dst, &dst);
    }
    const char *f = v4 ? "nw" : "ipv6";
    ds_put_format(ct, ",ct_%s_src=%s,ct_%s_dst=%s,ct_nw_proto=%"PRIu8,
                  f, ds_cstr(&src), f, ds_cstr(&dst), proto);
    if (ports || icmp) {
        ds_put_format(ct, ",ct_tp_src=%"PRIu16",ct_tp_dst=%"PRIu16,
                      sport, dport);
    }

    static const struct { uint8_t proto; const char *name; } names[] = {
        { IPPROTO_TCP, "tcp" }, { IPPROTO_UDP, "udp" },
        { IPPROTO_SCTP, "sctp" }, { IPPROTO_ICMP, "icmp" },
        { IPPROTO_ICMPV6, "icmpv6" },
    };
    const char *name = NULL;
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        if (names[i].proto == proto) {
            name = names[i].name;
        }
    }
    if (name) {
        ds_put_format(conn, "%s ", name);
    } else {
        ds_put_format(conn, "ip proto %"PRIu8" ", proto);
    }
    if (ports) {
        ds_put_format(conn, v4 ? "%s:%"PRIu16" > %s:%"PRIu16
                      : "[%s]:%"PRIu16" > [%s]:%"PRIu16,
                      ds_cstr(&src), sport, ds_cstr(&dst), dport);
    } else {
        ds_put_format(conn, "%s > %s", ds_cstr(&src), ds_cstr(&dst));
        if (icmp) {
            ds_put_format(conn, " type %"PRIu16" code %"PRIu16, sport, dport);
        }
    }
    ds_destroy(&src);
    ds_destroy(&dst);
}

/* Adds to 'job' the stage that goes on from a conntrack recirculation
 * that resumes at 'table' with the flow 'frozen' (as ofproto/trace printed
 * it), emulating conntrack's answer.  Notes in 'job''s answer why, if it
 * cannot. */
static void
add_ct_stage(struct trace_job *job, const char *frozen, int table)
{
    const struct trace *t = job->trace;
    uint32_t zone;
    char *text = thawed_flow(frozen, &zone);
    uint32_t state = next_ct_state(job);
    struct flow flow;
    char *error = parse_ofp_exact_flow(&flow, NULL, NULL, text, NULL);

    if (error) {
        ds_put_format(&job->out, "\n(a conntrack recirculation in zone "
                      "%"PRIu32" is not traced: its flow does not parse: "
                      "%s)\n", zone, error);
        free(error);
        free(text);
        return;
    }

    struct ds ct = DS_EMPTY_INITIALIZER;
    struct ds conn = DS_EMPTY_INITIALIZER;
    struct ds state_s = DS_EMPTY_INITIALIZER;
    put_ct_tuple(&flow, state, &ct, &conn);
    format_flags(&state_s, ct_state_to_string, state, '|');

    struct trace_stage *stage = xzalloc(sizeof *stage);
    stage->flow = xasprintf("ct_state=%s,ct_zone=%"PRIu32",%s%s",
                            ds_cstr(&state_s), zone, text, ds_cstr(&ct));
    stage->table = table;

    /* Which firewall side, of which vNIC. */
    const struct vnic *v = binding_find_by_zone(t->binding, zone);
    struct ds who = DS_EMPTY_INITIALIZER;
    if (v) {
        put_vnic(v, &who);
    } else {
        ds_put_format(&who, "zone %"PRIu32, zone);
    }
    /* Every ct() of the firewall resumes at the zone check, with its step
     * in reg15: a lookup is followed by its side's rules. */
    uint32_t step = (flow.regs[15] >> PL_CT_STEP_SHIFT) & PL_CT_STEP_MASK;
    stage->side = (table != PL_T_ZONE_CHECK ? NULL
                   : step == PL_CT_EGRESS_LOOKUP ? "egress"
                   : step == PL_CT_INGRESS_LOOKUP ? "ingress" : NULL);
    stage->vnic = ds_steal_cstr(&who);

    struct ds banner = DS_EMPTY_INITIALIZER;
    ds_put_format(&banner, "conntrack zone %"PRIu32, zone);
    if (stage->side) {
        ds_put_format(&banner, ": the %s firewall of %s", stage->side,
                      stage->vnic);
    }
    ds_put_format(&banner, ", resumed at table %d", table);
    if (table == PL_T_ZONE_CHECK && pipeline_ct_step_table(step)) {
        ds_put_format(&banner, " (the zone check), then %d",
                      pipeline_ct_step_table(step));
    }
    ds_put_char(&banner, '\n');
    ds_put_format(&banner, "emulated: ct_state=%s", ds_cstr(&state_s));
    if (conn.length) {
        ds_put_format(&banner, ", original direction %s", ds_cstr(&conn));
    }
    stage->banner = ds_steal_cstr(&banner);
    ovs_list_push_back(&job->stages, &stage->node);

    ds_destroy(&ct);
    ds_destroy(&conn);
    ds_destroy(&state_s);
    free(text);
}

/* Reads the recirculations that ofproto/trace appended to 'text' after its
 * trace of the stage itself, and adds a stage for each of the first
 * 'n_forks' (those the stage forked, which resume at 'tables'; the others
 * are theirs, traced with ovs-vswitchd's guess of conntrack, which the
 * stages replace).
 *
 * Each recirculation is a banner between two separators, then its trace,
 * which starts with the frozen flow ("Flow: ...").  (What follows is of no
 * use: after trace-packet-out, ovs-vswitchd cannot thaw it, a
 * "Recirculation conflict".) */
static void
add_ct_stages(struct trace_job *job, const char *text, const int *tables,
              size_t n_forks)
{
    size_t n_separators = 0, n_added = 0;
    char *copy = xstrdup(text);
    char *p = copy;
    char *line;

    while (n_added < n_forks && (line = next_line(&p))) {
        if (is_separator(line)) {
            n_separators++;
        } else if (n_separators && n_separators % 2 == 0
                   && n_separators / 2 > n_added
                   && !strncmp(line, "Flow: ", 6)) {
            /* The trace of recirculation K follows separator 2K. */
            add_ct_stage(job, line + 6, tables[n_added++]);
        }
    }
    if (n_added < n_forks) {
        ds_put_format(&job->out, "\n(%"PRIuSIZE" conntrack recirculations "
                      "not traced: ofproto/trace shows no flow for them)\n",
                      n_forks - n_added);
    }
    free(copy);
}

/* Answering. */

static void send_stage(struct trace_job *);

/* Answers 'job''s command with 'error', and frees it. */
static void
job_fail(struct trace_job *job, const char *error)
{
    unixctl_command_reply_error(job->conn, error);
    job_free(job);
}

/* Appends 'stage''s banner to 'job''s answer, as ofproto/trace shows a
 * recirculation's. */
static void
put_banner(struct trace_job *job, const struct trace_stage *stage)
{
    ds_put_char(&job->out, '\n');
    ds_put_char_multiple(&job->out, '=', SEPARATOR_LEN);
    ds_put_format(&job->out, "\n%s\n", stage->banner);
    ds_put_char_multiple(&job->out, '=', SEPARATOR_LEN);
    ds_put_cstr(&job->out, "\n\n");
}

/* Handles what became of the request of the first stage of 'job_'. */
static void
stage_done(enum vswitchd_rpc_status status, const char *text, void *job_)
{
    struct trace_job *job = job_;
    struct trace_stage *stage = CONTAINER_OF(ovs_list_pop_front(&job->stages),
                                             struct trace_stage, node);

    if (status == VSWITCHD_RPC_LOST) {
        char *error = xasprintf("ovs-vswitchd did not answer: %s", text);
        job_fail(job, error);
        free(error);
        stage_free(stage);
        return;
    } else if (status == VSWITCHD_RPC_ERROR && stage->table < 0) {
        /* The MICROFLOW, as ofproto/trace says. */
        char *error = xasprintf("ofproto/trace: %s", text);
        job_fail(job, error);
        free(error);
        stage_free(stage);
        return;
    }

    if (stage->banner) {
        put_banner(job, stage);
    }
    if (status == VSWITCHD_RPC_ERROR) {
        ds_put_format(&job->out, "(not traced: ofproto/trace-packet-out "
                      "%s: %s)\n", stage->flow, text);
    } else {
        struct verdict verdict = { .seen = false };
        int *tables = NULL;
        size_t n_forks = put_stage_output(job, text, &verdict, &tables);
        if (stage->side && verdict.seen) {
            ds_put_format(&job->out, "\nVerdict of the %s firewall of %s: ",
                          stage->side, stage->vnic);
            if (!verdict.rule) {
                ds_put_cstr(&job->out, "denied, no rule allows it (default "
                            "drop)\n");
            } else {
                ds_put_cstr(&job->out, "allowed by rule ");
                if (!firewall_describe_rule(job->trace->fw, job->trace->tdb,
                                            verdict.rule, true,
                                            &job->out)) {
                    ds_put_format(&job->out, "of key %#"PRIx32,
                                  verdict.rule);
                }
                ds_put_char(&job->out, '\n');
            }
        }

        size_t room = MAX_STAGES - MIN(job->n_stages, MAX_STAGES);
        size_t n = MIN(n_forks, room);
        job->n_untraced += n_forks - n;
        job->n_stages += n;
        if (n) {
            add_ct_stages(job, text, tables, n);
        }
        free(tables);
    }
    stage_free(stage);

    if (!ovs_list_is_empty(&job->stages)) {
        send_stage(job);
        return;
    }
    if (job->n_untraced) {
        ds_put_format(&job->out, "\n(%"PRIuSIZE" more conntrack "
                      "recirculations not traced)\n", job->n_untraced);
    }
    unixctl_command_reply(job->conn, ds_cstr(&job->out));
    job_free(job);
}

/* Sends the request of the first stage of 'job'.  Answers the command
 * with an error if it cannot. */
static void
send_stage(struct trace_job *job)
{
    const struct trace_stage *stage = CONTAINER_OF(
        ovs_list_front(&job->stages), struct trace_stage, node);
    struct trace *t = job->trace;
    struct svec args = SVEC_EMPTY_INITIALIZER;
    const char *command;

    svec_add(&args, t->bridge);
    svec_add(&args, stage->flow);
    if (stage->table < 0) {
        command = "ofproto/trace";
    } else {
        command = "ofproto/trace-packet-out";
        svec_add_nocopy(&args, xasprintf("resubmit(,%d)", stage->table));
    }
    COVERAGE_INC(trace_request);
    int error = vswitchd_rpc_send(t->rpc, command, &args, stage_done, job);
    svec_destroy(&args);
    if (error) {
        char *msg = xasprintf("ovs-vswitchd is not reachable: %s: %s",
                              vswitchd_rpc_target(t->rpc),
                              ovs_strerror(error));
        job_fail(job, msg);
        free(msg);
    }
}

/* The command. */

/* Finds the vNIC that 'name' names, bound on this host.  Returns it, or
 * NULL with an error message in '*errorp' (which the caller frees). */
static const struct vnic *
resolve_port(const struct trace *t, const char *name, char **errorp)
{
    const struct vnic *v = binding_lookup(t->binding, name);

    if (v && v->state == VNIC_BOUND) {
        return v;
    } else if (v && v->state == VNIC_UNKNOWN) {
        *errorp = xasprintf("vNIC \"%s\" (interface %s) is not bound: no "
                            "Port of the Tenant DB has its iface-id \"%s\"",
                            name, v->iface_name, v->iface_id);
        return NULL;
    } else if (v) {
        *errorp = xasprintf("vNIC \"%s\" (interface %s) is not bound: %s%s%s",
                            name, v->iface_name, vnic_state_name(v->state),
                            v->reason ? ": " : "",
                            v->reason ? v->reason : "");
        return NULL;
    }

    const struct bhrec_port *port;
    size_t n = tenant_db_find_port(t->tdb, name, &port);
    if (!n) {
        *errorp = xasprintf("no port \"%s\": no vNIC on this host, nor Port "
                            "of the Tenant DB, has that iface-id or name",
                            name);
    } else if (n > 1) {
        *errorp = xasprintf("%"PRIuSIZE" tenants have a port \"%s\"; give "
                            "its iface-id", n, name);
    } else {
        const struct bhrec_network *net = port->network;
        *errorp = xasprintf("port \"%s\" (%s/%s/%s) is not bound on this "
                            "host%s%s", name,
                            net && net->tenant ? net->tenant->name : "?",
                            net ? net->name : "?", port->name,
                            port->chassis ? ": its chassis is " : "",
                            port->chassis ? port->chassis->name : "");
    }
    return NULL;
}

/* Returns an error message (which the caller frees) if 'microflow' gives
 * in_port, which the command sets, or a field that no frame from a VM
 * carries (a register, metadata, a tunnel or conntrack field, the packet
 * mark...: the pipeline's own, which the trace would start with as if a
 * flow had set them), or NULL.  Anything else is ofproto/trace's to
 * judge. */
static char *
check_microflow(const char *microflow)
{
    char *copy = xstrdup(microflow);
    char *p = copy;
    char *key, *value;
    char *error = NULL;

    while (!error && ofputil_parse_key_value(&p, &key, &value)) {
        const struct mf_field *mf = mf_from_name(key);
        if (!strcmp(key, "in_port")) {
            error = xstrdup("MICROFLOW must not give in_port: the command "
                            "sets it to the vNIC's ofport");
        } else if (mf && mf->id < MFF_ETH_SRC) {
            error = xasprintf("MICROFLOW must not give %s: no frame from a "
                              "VM carries it (registers, metadata, tunnel "
                              "and conntrack fields are the pipeline's; "
                              "--ct-next gives conntrack's answers)", key);
        }
    }
    free(copy);
    return error;
}

/* "trace PORT MICROFLOW [--ct-next STATE]...". */
static void
cmd_trace(struct unixctl_conn *conn, int argc, const char *argv[],
          void *t_)
{
    struct trace *t = t_;
    struct svec ct_next = SVEC_EMPTY_INITIALIZER;
    const char *microflow = NULL;
    char *error = NULL;

    for (int i = 2; !error && i < argc; i++) {
        if (!strcmp(argv[i], "--ct-next")) {
            struct ds msg = DS_EMPTY_INITIALIZER;
            uint32_t state;
            if (i + 1 >= argc) {
                error = xstrdup("--ct-next needs a STATE (e.g. "
                                "\"trk,est\")");
            } else if (!parse_ct_state(argv[i + 1], 0, &state, &msg)
                       || !validate_ct_state(state, &msg)) {
                ds_chomp(&msg, '\n');
                error = xasprintf("--ct-next: %s", ds_cstr(&msg));
            } else {
                svec_add(&ct_next, argv[++i]);
            }
            ds_destroy(&msg);
        } else if (argv[i][0] == '-') {
            error = xasprintf("%s: unknown option (trace takes --ct-next "
                              "STATE)", argv[i]);
        } else if (microflow) {
            error = xasprintf("%s: one MICROFLOW only", argv[i]);
        } else {
            microflow = argv[i];
        }
    }
    if (!error && !microflow) {
        error = xstrdup("a MICROFLOW is needed (ofproto/trace syntax, "
                        "without in_port)");
    }
    if (!error) {
        error = check_microflow(microflow);
    }
    const struct vnic *v = error ? NULL : resolve_port(t, argv[1], &error);
    if (!error) {
        char *why = vswitchd_rpc_connect(t->rpc);
        if (why) {
            error = xasprintf("ovs-vswitchd is not reachable: %s", why);
            free(why);
        }
    }
    if (error) {
        unixctl_command_reply_error(conn, error);
        free(error);
        svec_destroy(&ct_next);
        return;
    }

    struct trace_job *job = xzalloc(sizeof *job);
    job->trace = t;
    job->conn = conn;
    job->ct_next = ct_next;
    ovs_list_init(&job->stages);
    ds_init(&job->out);
    ovs_list_push_back(&t->jobs, &job->node);

    ds_put_cstr(&job->out, "Trace of a packet from vNIC ");
    put_vnic(v, &job->out);
    ds_put_format(&job->out, " (iface-id %s, interface %s, ofport "
                  "%"PRId64") on %s\n\n", v->iface_id, v->iface_name,
                  v->ofport, t->bridge);

    struct trace_stage *stage = xzalloc(sizeof *stage);
    stage->flow = xasprintf("in_port=%"PRId64",%s", v->ofport, microflow);
    stage->table = -1;
    ovs_list_push_back(&job->stages, &stage->node);
    job->n_stages = 1;
    send_stage(job);
}

/* Registers "trace". */
void
trace_register_commands(struct trace *t)
{
    unixctl_command_register("trace", "PORT MICROFLOW [--ct-next STATE]...",
                             2, INT_MAX, cmd_trace, t);
}
