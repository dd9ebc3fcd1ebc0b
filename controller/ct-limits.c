/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#include <config.h>
#include "controller/ct-limits.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "controller/binding.h"
#include "controller/ct-zone.h"
#include "controller/vswitchd-rpc.h"
#include "coverage.h"
#include "hash.h"
#include "hmapx.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "policies/policy.h"
#include "svec.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ct_limits);

COVERAGE_DEFINE(ct_limit_reached);
COVERAGE_DEFINE(ct_limit_repaired);
COVERAGE_DEFINE(ct_limit_request);

/* At most this many zones in one request, so that ovs-vswitchd's main
 * thread never spends long on one. */
#define MAX_ZONES_PER_REQUEST 500

/* A request still unanswered after this long: the connection is dropped
 * and made again (ovs-vswitchd may be stuck; the controller never is). */
#define REPLY_TIMEOUT_MS (30 * 1000)

/* Waits after a failed connection or request, doubling from the first to
 * the second. */
#define MIN_BACKOFF_MS 1000
#define MAX_BACKOFF_MS (5 * 60 * 1000)

/* How long, at most, a comparison of the switch's whole flow table waits
 * for the zone limits after a connection (see ct_limits_is_settled()). */
#define SETTLE_MAX_MS 5000

/* One zone's limit: the one wanted and the one in the datapath. */
struct ct_limit {
    struct hmap_node zone_node; /* In 'zones', by zone. */
    struct hmap_node iface_node;  /* In 'by_iface', if 'iface_id'. */
    uint16_t zone;              /* The conntrack zone. */
    char *iface_id;             /* The vNIC whose zone it is, or NULL. */
    uint64_t gen;               /* The recompute that last saw the vNIC. */
    bool is_default;            /* 'want' is the default, not the Port's. */
    uint32_t want;              /* The limit it should have; 0: none. */
    uint32_t have;              /* The limit the datapath has, as last
                                 * known; 0: none. */
    bool checked;               /* 'count' was read with 'have'. */
    uint32_t count;             /* Its connections at the last check. */
    bool full;                  /* 'count' had reached 'have' then. */
    uint64_t n_full;            /* Times it was found at its limit, for
                                 * this vNIC. */
    unsigned int known;         /* The 'epoch' of the last answer of the
                                 * datapath that gave 'have'. */
};

/* What the request in flight asks. */
enum ct_limits_op {
    OP_NONE,                    /* No request in flight. */
    OP_GET,                     /* dpctl/ct-get-limits. */
    OP_SET,                     /* dpctl/ct-set-limits. */
    OP_DEL,                     /* dpctl/ct-del-limits. */
};

/* One zone of the request in flight. */
struct ct_limit_sent {
    uint16_t zone;              /* The zone. */
    uint32_t limit;             /* OP_SET: the limit sent. */
};

/* The conntrack limits of this host (see ct-limits.h). */
struct ct_limits {
    /* Zones: what is wanted, and what the datapath has. */
    struct hmap zones;          /* Contains struct ct_limit, by zone. */
    struct hmap by_iface;       /* The same that have a vNIC, by iface-id. */
    struct hmapx dirty;         /* ct_limits whose 'want' and 'have' may
                                 * differ. */
    uint64_t gen;               /* Recomputes so far. */
    bool computed;              /* The engine computed 'want' once. */

    /* The datapath. */
    char *dp_type;              /* br-int's datapath type, or NULL. */
    char *dp;                   /* "TYPE@ovs-TYPE", or NULL. */
    unsigned int switch_seqno;  /* The switch connection's seqno. */
    long long int interval;     /* Milliseconds between checks, 0: never. */
    long long int next_check;   /* When the next check starts. */
    bool need_read;             /* Read the datapath's limits first. */
    bool after_connect;         /* The read is the first since a new
                                 * connection to ovs-vswitchd or to the
                                 * switch. */
    bool ever_read;             /* A read was answered since the start. */
    unsigned int epoch;         /* Connections to ovs-vswitchd and to the
                                 * switch so far, plus one: a 'have' known
                                 * before the last one may be stale. */
    long long int epoch_start;  /* When 'epoch' began. */
    unsigned int fail_epoch;    /* The 'epoch' of the last failure. */

    /* ovs-vswitchd's control socket. */
    struct vswitchd_rpc *rpc;   /* The connection (vswitchd-rpc.h). */
    long int pid;               /* ovs-vswitchd's pid, 0 before the first
                                 * connection. */
    long long int retry_at;     /* No connection, nor request after an
                                 * error, before then. */
    long long int backoff;      /* The next wait after a failure. */
    char *last_error;           /* The last error logged, or NULL. */

    /* The request in flight. */
    enum ct_limits_op op;       /* What it asks, or OP_NONE. */
    struct ct_limit_sent *sent; /* Its zones. */
    size_t n_sent;              /* Number of 'sent'. */

    /* Statistics. */
    uint64_t n_requests;        /* Requests sent. */
    uint64_t n_checks;          /* Reads answered. */
    uint64_t n_repaired;        /* Zones a read found other than applied. */
    uint64_t n_reached;         /* Times a zone was found at its limit. */
};

/* Returns a new set of conntrack limits, with nothing wanted and not
 * connected to ovs-vswitchd. */
struct ct_limits *
ct_limits_create(void)
{
    struct ct_limits *cl = xzalloc(sizeof *cl);

    hmap_init(&cl->zones);
    hmap_init(&cl->by_iface);
    hmapx_init(&cl->dirty);
    cl->need_read = true;
    cl->backoff = MIN_BACKOFF_MS;
    cl->epoch = 1;
    cl->epoch_start = time_msec();
    cl->rpc = vswitchd_rpc_create(REPLY_TIMEOUT_MS);
    return cl;
}

/* Forgets the request in flight, if any. */
static void
request_clear(struct ct_limits *cl)
{
    cl->op = OP_NONE;
    free(cl->sent);
    cl->sent = NULL;
    cl->n_sent = 0;
}

/* Closes the connection to ovs-vswitchd, dropping the request in flight:
 * the datapath is read again after the next connection. */
static void
disconnect(struct ct_limits *cl)
{
    vswitchd_rpc_close(cl->rpc);
    request_clear(cl);
    cl->need_read = true;
}

/* Frees 'cl'.  The limits stay in the datapath. */
void
ct_limits_destroy(struct ct_limits *cl)
{
    struct ct_limit *l;

    if (!cl) {
        return;
    }
    disconnect(cl);
    HMAP_FOR_EACH_POP (l, zone_node, &cl->zones) {
        free(l->iface_id);
        free(l);
    }
    hmap_destroy(&cl->zones);
    hmap_destroy(&cl->by_iface);
    hmapx_destroy(&cl->dirty);
    vswitchd_rpc_destroy(cl->rpc);
    free(cl->dp_type);
    free(cl->dp);
    free(cl->last_error);
    free(cl);
}

/* The zones. */

/* Returns the limit of 'zone', or NULL. */
static struct ct_limit *
limit_find(const struct ct_limits *cl, uint16_t zone)
{
    struct ct_limit *l;

    HMAP_FOR_EACH_WITH_HASH (l, zone_node, hash_int(zone, 0), &cl->zones) {
        if (l->zone == zone) {
            return l;
        }
    }
    return NULL;
}

/* Returns the limit of the zone of vNIC 'iface_id', or NULL. */
static struct ct_limit *
limit_find_by_iface(const struct ct_limits *cl, const char *iface_id)
{
    struct ct_limit *l;

    HMAP_FOR_EACH_WITH_HASH (l, iface_node, hash_string(iface_id, 0),
                             &cl->by_iface) {
        if (!strcmp(l->iface_id, iface_id)) {
            return l;
        }
    }
    return NULL;
}

/* Returns the limit of 'zone', creating it (nothing wanted, nothing known
 * in the datapath) if needed. */
static struct ct_limit *
limit_get(struct ct_limits *cl, uint16_t zone)
{
    struct ct_limit *l = limit_find(cl, zone);

    if (!l) {
        l = xzalloc(sizeof *l);
        l->zone = zone;
        hmap_insert(&cl->zones, &l->zone_node, hash_int(zone, 0));
    }
    return l;
}

/* Frees 'l' if it is of no use: no vNIC, nothing wanted, nothing in the
 * datapath. */
static void
limit_maybe_free(struct ct_limits *cl, struct ct_limit *l)
{
    if (!l->iface_id && !l->want && !l->have) {
        hmapx_find_and_delete(&cl->dirty, l);
        hmap_remove(&cl->zones, &l->zone_node);
        free(l);
    }
}

/* Takes vNIC 'l->iface_id' away from 'l' (the zone keeps its limit in the
 * datapath until it is deleted or wanted again). */
static void
limit_unown(struct ct_limits *cl, struct ct_limit *l)
{
    if (l->iface_id) {
        hmap_remove(&cl->by_iface, &l->iface_node);
        free(l->iface_id);
        l->iface_id = NULL;
    }
    l->is_default = false;
    l->checked = false;
    l->full = false;
    l->n_full = 0;
}

/* Notes that 'l''s 'want' or 'have' changed. */
static void
limit_mark(struct ct_limits *cl, struct ct_limit *l)
{
    hmapx_add(&cl->dirty, l);
}

/* Notes that 'l''s vNIC is gone, or has another zone now: the zone wants
 * no limit.  May free 'l'. */
static void
limit_release(struct ct_limits *cl, struct ct_limit *l)
{
    limit_unown(cl, l);
    l->want = 0;
    limit_mark(cl, l);
    limit_maybe_free(cl, l);
}

/* Brings the limit of vNIC 'iface_id' up to date with 'v' (NULL if it is
 * gone): a bound vNIC with port security wants its Port's max_connections,
 * or the default, on its zone; any other wants nothing. */
static void
update_vnic(struct ct_limits *cl, const char *iface_id, const struct vnic *v)
{
    struct ct_limit *l = limit_find_by_iface(cl, iface_id);
    uint16_t zone = 0;

    if (v && v->state == VNIC_BOUND && v->port.port_security) {
        zone = v->zone;
    }
    if (l && l->zone != zone) {
        /* Gone, or moved to another zone: its old zone wants nothing. */
        limit_release(cl, l);
        l = NULL;
    }
    if (!zone) {
        return;
    }
    if (!l) {
        l = limit_get(cl, zone);
        /* Another vNIC may still hold the zone, if its change comes later
         * in this run. */
        limit_unown(cl, l);
        l->iface_id = xstrdup(iface_id);
        hmap_insert(&cl->by_iface, &l->iface_node, hash_string(iface_id, 0));
    }

    bool is_default = v->port.max_connections <= 0;
    uint32_t want = (is_default ? POLICY_MAX_CONNECTIONS_DEFAULT
                     : v->port.max_connections);
    l->gen = cl->gen;
    l->is_default = is_default;
    if (l->want != want) {
        l->want = want;
        l->full = false;
        limit_mark(cl, l);
    }
}

/* Computes anew the limit every vNIC of 'b' wants.  A zone whose vNIC and
 * limit stay keeps what its checks found. */
void
ct_limits_recompute(struct ct_limits *cl, const struct binding *b)
{
    const struct vnic *v;
    struct ct_limit *l;

    cl->gen++;
    BINDING_FOR_EACH_VNIC (v, b) {
        update_vnic(cl, v->iface_id, v);
    }
    HMAP_FOR_EACH_SAFE (l, iface_node, &cl->by_iface) {
        if (l->gen != cl->gen) {
            limit_release(cl, l);
        }
    }
    cl->computed = true;
}

/* Brings up to date the limits of the vNICs that changed in this run of
 * 'b'.  Always copes. */
bool
ct_limits_handle_binding(struct ct_limits *cl, const struct binding *b)
{
    const struct binding_change *c;

    BINDING_FOR_EACH_CHANGE (c, b) {
        update_vnic(cl, c->iface_id, binding_find(b, c->iface_id));
    }
    return true;
}

/* Errors. */

/* Logs 'msg' at WARN level, unless it is the last error logged.  Takes
 * 'msg'. */
static void
note_error(struct ct_limits *cl, char *msg)
{
    /* Nothing waits for an answer that will not come soon. */
    cl->fail_epoch = cl->epoch;
    if (!cl->last_error || strcmp(cl->last_error, msg)) {
        VLOG_WARN("conntrack limits: %s; retrying", msg);
        free(cl->last_error);
        cl->last_error = msg;
    } else {
        free(msg);
    }
}

/* Waits before the next connection or request, longer each time. */
static void
back_off(struct ct_limits *cl)
{
    cl->retry_at = time_msec() + cl->backoff;
    cl->backoff = MIN(cl->backoff * 2, MAX_BACKOFF_MS);
}

/* Notes that ovs-vswitchd answered as expected. */
static void
note_success(struct ct_limits *cl)
{
    if (cl->last_error) {
        VLOG_INFO("conntrack limits: ovs-vswitchd answers again");
        free(cl->last_error);
        cl->last_error = NULL;
    }
    cl->backoff = MIN_BACKOFF_MS;
}

/* The connection. */

/* Notes a new connection to ovs-vswitchd or to the switch: what the
 * datapath was known to hold may be stale. */
static void
new_epoch(struct ct_limits *cl)
{
    cl->epoch++;
    cl->epoch_start = time_msec();
}

/* Connects to the control socket of the ovs-vswitchd that its pidfile
 * names.  Returns true if the connection is under way. */
static bool
connect_vswitchd(struct ct_limits *cl)
{
    char *error = vswitchd_rpc_connect(cl->rpc);

    if (error) {
        note_error(cl, error);
        return false;
    }
    long int pid = vswitchd_rpc_pid(cl->rpc);
    if (pid != cl->pid) {
        VLOG_INFO("%s: connected to ovs-vswitchd (pid %ld); reading its "
                  "conntrack limits", vswitchd_rpc_target(cl->rpc), pid);
        cl->pid = pid;
    }
    cl->need_read = true;
    cl->after_connect = true;
    new_epoch(cl);
    return true;
}

static vswitchd_rpc_cb handle_reply;

/* Sends 'method' with 'args' (the datapath first) as the request in
 * flight, of kind 'op'. */
static void
send_request(struct ct_limits *cl, enum ct_limits_op op, const char *method,
             const struct svec *args)
{
    cl->op = op;
    cl->n_requests++;
    COVERAGE_INC(ct_limit_request);
    VLOG_DBG("%s: %s %s%s", vswitchd_rpc_target(cl->rpc), method,
             args->names[0], args->n > 1 ? " ..." : "");
    int error = vswitchd_rpc_send(cl->rpc, method, args, handle_reply, cl);
    if (error) {
        note_error(cl, xasprintf("%s: %s", vswitchd_rpc_target(cl->rpc),
                                 ovs_strerror(error)));
        disconnect(cl);
        back_off(cl);
    }
}

/* Asks for every zone limit of the datapath. */
static void
send_read(struct ct_limits *cl)
{
    struct svec args = SVEC_EMPTY_INITIALIZER;

    svec_add(&args, cl->dp);
    send_request(cl, OP_GET, "dpctl/ct-get-limits", &args);
    svec_destroy(&args);
    cl->need_read = false;
    cl->next_check = time_msec() + cl->interval;
}

/* Sends the limits to set, or else those to delete, that differ from what
 * the datapath has: at most MAX_ZONES_PER_REQUEST in one request.  Forgets
 * the dirty zones that turn out to be in sync. */
static void
send_changes(struct ct_limits *cl)
{
    struct ct_limit_sent *set = xmalloc(MAX_ZONES_PER_REQUEST * sizeof *set);
    struct ct_limit_sent *del = xmalloc(MAX_ZONES_PER_REQUEST * sizeof *del);
    size_t n_set = 0, n_del = 0;
    struct hmapx_node *node;

    HMAPX_FOR_EACH_SAFE (node, &cl->dirty) {
        struct ct_limit *l = node->data;
        if (l->want == l->have) {
            hmapx_delete(&cl->dirty, node);
            limit_maybe_free(cl, l);
        } else if (l->want && n_set < MAX_ZONES_PER_REQUEST) {
            set[n_set++] = (struct ct_limit_sent) { l->zone, l->want };
        } else if (!l->want && n_del < MAX_ZONES_PER_REQUEST) {
            del[n_del++] = (struct ct_limit_sent) { l->zone, 0 };
        }
    }

    struct svec args = SVEC_EMPTY_INITIALIZER;
    svec_add(&args, cl->dp);
    if (n_set) {
        for (size_t i = 0; i < n_set; i++) {
            svec_add_nocopy(&args, xasprintf("zone=%"PRIu16",limit=%"PRIu32,
                                             set[i].zone, set[i].limit));
        }
        send_request(cl, OP_SET, "dpctl/ct-set-limits", &args);
        if (cl->op == OP_SET) {
            cl->sent = set;
            cl->n_sent = n_set;
            set = NULL;
        }
    } else if (n_del) {
        /* Never "zone=" alone: ovs-vswitchd 3.1 crashes on it. */
        struct ds zones = DS_EMPTY_INITIALIZER;
        ds_put_cstr(&zones, "zone=");
        for (size_t i = 0; i < n_del; i++) {
            ds_put_format(&zones, "%s%"PRIu16, i ? "," : "", del[i].zone);
        }
        svec_add_nocopy(&args, ds_steal_cstr(&zones));
        send_request(cl, OP_DEL, "dpctl/ct-del-limits", &args);
        if (cl->op == OP_DEL) {
            cl->sent = del;
            cl->n_sent = n_del;
            del = NULL;
        }
    }
    svec_destroy(&args);
    free(set);
    free(del);
}

/* Replies. */

/* Returns what the datapath's conntrack does to a new connection of a
 * full zone. */
static const char *
full_zone_effect(const struct ct_limits *cl)
{
    return (cl->dp_type && !strcmp(cl->dp_type, "system")
            ? "new connections are dropped"
            : "new connections are not tracked");
}

/* Notes what the check just read says of 'l', a vNIC's zone whose limit is
 * applied: reports it the first time it is found at its limit. */
static void
check_full(struct ct_limits *cl, struct ct_limit *l)
{
    bool full = l->count >= l->have;

    if (full && !l->full) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

        cl->n_reached++;
        l->n_full++;
        COVERAGE_INC(ct_limit_reached);
        VLOG_WARN_RL(&rl, "%s: conntrack zone %"PRIu16" reached its limit "
                     "of %"PRIu32" connections (%s): its %s until some "
                     "end", l->iface_id, l->zone, l->have,
                     l->is_default ? "the default max_connections"
                     : "its port's max_connections", full_zone_effect(cl));
    } else if (!full && l->full) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

        VLOG_INFO_RL(&rl, "%s: conntrack zone %"PRIu16" is below its limit "
                     "again (%"PRIu32" of %"PRIu32" connections)",
                     l->iface_id, l->zone, l->count, l->have);
    }
    l->full = full;
}

/* Applies 'text', the answer of dpctl/ct-get-limits: every zone limit of
 * the datapath, "zone=Z,limit=L,count=C" a line. */
static void
apply_read(struct ct_limits *cl, const char *text)
{
    struct hmapx listed = HMAPX_INITIALIZER(&listed);
    size_t n_differ = 0, n_stale = 0;
    struct ct_limit *l;

    char *copy = xstrdup(text);
    char *save_ptr = NULL;
    for (char *line = strtok_r(copy, "\n", &save_ptr); line;
         line = strtok_r(NULL, "\n", &save_ptr)) {
        uint32_t zone, limit, count;
        if (!ovs_scan(line, "zone=%"SCNu32",limit=%"SCNu32",count=%"SCNu32,
                      &zone, &limit, &count)
            || zone < CT_ZONE_MIN || zone > CT_ZONE_MAX) {
            /* The default limit, or a zone that is not a vNIC's. */
            continue;
        }
        l = limit_get(cl, zone);
        hmapx_add(&listed, l);
        if (l->have != limit) {
            if (l->iface_id || l->have) {
                n_differ++;
            } else {
                n_stale++;
            }
            l->have = limit;
            limit_mark(cl, l);
        }
        l->count = count;
        l->checked = true;
        l->known = cl->epoch;
    }
    free(copy);

    HMAP_FOR_EACH (l, zone_node, &cl->zones) {
        if (!hmapx_contains(&listed, l)) {
            /* No limit of its own. */
            if (l->have) {
                n_differ++;
                l->have = 0;
                limit_mark(cl, l);
            }
            l->checked = false;
            l->full = false;
            l->known = cl->epoch;
        } else if (l->iface_id && l->want && l->want == l->have) {
            check_full(cl, l);
        }
    }
    hmapx_destroy(&listed);

    if (cl->ever_read && n_differ) {
        cl->n_repaired += n_differ;
        COVERAGE_ADD(ct_limit_repaired, n_differ);
        if (cl->after_connect) {
            VLOG_INFO("ovs-vswitchd (pid %ld): %"PRIuSIZE" conntrack zone "
                      "limits missing or other than applied; setting them",
                      cl->pid, n_differ);
        } else {
            VLOG_WARN("%"PRIuSIZE" conntrack zone limits differed from what "
                      "was applied; setting them again", n_differ);
        }
    }
    if (n_stale) {
        VLOG_INFO("%"PRIuSIZE" conntrack zone limits that no vNIC wants; "
                  "deleting them", n_stale);
    }
    cl->ever_read = true;
    cl->after_connect = false;
    cl->n_checks++;
}

/* Handles what became of the request in flight (vswitchd-rpc.h):
 * 'status' and 'text'. */
static void
handle_reply(enum vswitchd_rpc_status status, const char *text, void *cl_)
{
    static const char *const names[] = {
        [OP_GET] = "dpctl/ct-get-limits",
        [OP_SET] = "dpctl/ct-set-limits",
        [OP_DEL] = "dpctl/ct-del-limits",
    };
    struct ct_limits *cl = cl_;
    const char *name = names[cl->op];

    if (status == VSWITCHD_RPC_LOST) {
        /* ct_limits_run() reports it, from vswitchd_rpc_run()'s return
         * value. */
        request_clear(cl);
        return;
    } else if (status == VSWITCHD_RPC_ERROR) {
        char *error = xstrdup(text);
        char *nl = strchr(error, '\n');
        if (nl) {
            *nl = '\0';
        }
        note_error(cl, xasprintf("%s %s: %s", name, cl->dp, error));
        free(error);
        /* What happened is unknown: read first, after a while. */
        cl->need_read = true;
        back_off(cl);
        request_clear(cl);
        return;
    }

    note_success(cl);
    for (size_t i = 0; i < cl->n_sent; i++) {
        const struct ct_limit_sent *s = &cl->sent[i];
        struct ct_limit *l = limit_get(cl, s->zone);
        l->have = cl->op == OP_SET ? s->limit : 0;
        l->known = cl->epoch;
        l->checked = false;
        l->full = false;
        limit_mark(cl, l);
        limit_maybe_free(cl, l);
    }
    if (cl->op == OP_GET) {
        apply_read(cl, text);
    }
    request_clear(cl);
}

/* Running. */

/* Sets the datapath to br-int's 'datapath_type' (NULL or empty: "system"). */
static void
set_datapath(struct ct_limits *cl, const char *datapath_type)
{
    const char *type = (datapath_type && *datapath_type ? datapath_type
                        : "system");

    if (!cl->dp_type || strcmp(cl->dp_type, type)) {
        free(cl->dp_type);
        free(cl->dp);
        cl->dp_type = xstrdup(type);
        cl->dp = xasprintf("%s@ovs-%s", type, type);
        VLOG_INFO("conntrack limits go to datapath %s", cl->dp);
        /* A request in flight was for the other one. */
        disconnect(cl);
        cl->retry_at = 0;
    }
}

/* Keeps the zone limits of datapath 'datapath_type' (br-int's) equal to
 * those the engine computed: connects to ovs-vswitchd, reads the
 * datapath's limits after a (re)connection, after the switch's connection
 * seqno changed from the last call ('switch_seqno') and every
 * 'interval_ms' milliseconds (0: never), and sends what differs.  Never
 * blocks; at most one request is outstanding.  Does nothing before the
 * engine computed the limits once. */
void
ct_limits_run(struct ct_limits *cl, const char *datapath_type,
              unsigned int switch_seqno, long long int interval_ms)
{
    long long int now = time_msec();

    set_datapath(cl, datapath_type);
    if (switch_seqno != cl->switch_seqno) {
        /* The switch was restarted, or its bridge recreated: whatever the
         * datapath held may be gone.  Once the switch is back, so is its
         * datapath: a failure before is not waited out. */
        cl->switch_seqno = switch_seqno;
        cl->need_read = true;
        cl->after_connect = true;
        new_epoch(cl);
        cl->retry_at = now;
        cl->backoff = MIN_BACKOFF_MS;
    }
    if (interval_ms != cl->interval) {
        cl->interval = interval_ms;
        cl->next_check = now + interval_ms;
    }
    if (!cl->computed) {
        return;
    }

    if (!vswitchd_rpc_is_connected(cl->rpc)) {
        if (now < cl->retry_at) {
            return;
        }
        if (!connect_vswitchd(cl)) {
            back_off(cl);
            return;
        }
    }
    int error = vswitchd_rpc_run(cl->rpc);
    if (error == ETIMEDOUT) {
        /* ovs-vswitchd may be stuck: wait longer each time. */
        note_error(cl, xasprintf("%s: no answer in %d seconds",
                                 vswitchd_rpc_target(cl->rpc),
                                 REPLY_TIMEOUT_MS / 1000));
        disconnect(cl);
        back_off(cl);
        return;
    } else if (error) {
        VLOG_INFO("%s: %s; connecting again", vswitchd_rpc_target(cl->rpc),
                  error == EOF ? "ovs-vswitchd closed the connection"
                  : ovs_strerror(error));
        disconnect(cl);
        cl->retry_at = time_msec() + MIN_BACKOFF_MS;
        return;
    }
    if (cl->op != OP_NONE) {
        return;
    }
    if (now < cl->retry_at) {
        return;
    }
    if (cl->interval && now >= cl->next_check) {
        cl->need_read = true;
    }
    if (cl->need_read) {
        send_read(cl);
    } else {
        send_changes(cl);
    }
}

/* Arranges for the poll loop to wake up when ct_limits_run() has work. */
void
ct_limits_wait(struct ct_limits *cl)
{
    if (!cl->computed) {
        return;
    }
    long long int settle_at = cl->epoch_start + SETTLE_MAX_MS;
    if (cl->fail_epoch != cl->epoch && time_msec() < settle_at) {
        /* ct_limits_is_settled() turns true then. */
        poll_timer_wait_until(settle_at);
    }
    if (!vswitchd_rpc_is_connected(cl->rpc)) {
        poll_timer_wait_until(cl->retry_at);
        return;
    }
    vswitchd_rpc_wait(cl->rpc);
    if (cl->op != OP_NONE) {
        return;
    }
    if (cl->need_read || !hmapx_is_empty(&cl->dirty)) {
        poll_timer_wait_until(cl->retry_at);
    }
    if (cl->interval) {
        poll_timer_wait_until(cl->next_check);
    }
}

/* Returns false while a comparison of the switch's whole flow table should
 * wait for the zone limits, so that no vNIC's flows reach a switch whose
 * datapath has no limit on its zone (a connection committed in a zone
 * before it has a limit is never counted against it): after a connection
 * to ovs-vswitchd or to the switch (an ovs-vswitchd restart, for one),
 * until an answer of ovs-vswitchd showed a limit on every zone that wants
 * one.  Waits at most SETTLE_MAX_MS from that connection, and not at all
 * once ovs-vswitchd failed a request or could not be reached: the table
 * then goes without them (the limits follow as soon as they can). */
bool
ct_limits_is_settled(const struct ct_limits *cl)
{
    if (!cl->computed || cl->fail_epoch == cl->epoch
        || time_msec() >= cl->epoch_start + SETTLE_MAX_MS) {
        return true;
    }

    const struct ct_limit *l;
    HMAP_FOR_EACH (l, iface_node, &cl->by_iface) {
        if (l->want && !(l->have && l->known == cl->epoch)) {
            return false;
        }
    }
    return true;
}

/* Makes the next ct_limits_run() read the datapath's limits, and set again
 * what differs. */
void
ct_limits_check_now(struct ct_limits *cl)
{
    cl->need_read = true;
}

/* Diagnostics. */

/* Describes the limit of 'zone', a vNIC's, for "vnic/show": nothing if it
 * has none (no port security). */
void
ct_limits_format_vnic(const struct ct_limits *cl, uint16_t zone,
                      struct ds *s)
{
    const struct ct_limit *l = limit_find(cl, zone);

    if (!l || !l->iface_id) {
        return;
    }
    ds_put_format(s, "ct limit: %"PRIu32" connections (%s)%s\n", l->want,
                  l->is_default ? "default" : "max_connections",
                  l->want == l->have ? "" : ", not applied yet");
    if (l->checked && l->have) {
        ds_put_format(s, "ct connections: %"PRIu32" at the last check",
                      l->count);
        if (l->full) {
            ds_put_format(s, ": LIMIT REACHED, %s", full_zone_effect(cl));
        }
        ds_put_char(s, '\n');
    }
}

/* Stores in '*count' the connections of the vNIC in conntrack zone 'zone'
 * at the last check (0 if never checked) and in '*n_full' how many times
 * it was found at its limit since it was bound here. */
void
ct_limits_get_vnic(const struct ct_limits *cl, uint16_t zone,
                   uint32_t *count, uint64_t *n_full)
{
    const struct ct_limit *l = limit_find(cl, zone);
    bool known = l && l->iface_id;

    *count = known && l->checked ? l->count : 0;
    *n_full = known ? l->n_full : 0;
}

/* Describes the state of 'cl' for "connection-status". */
void
ct_limits_format_status(const struct ct_limits *cl, struct ds *s)
{
    size_t n_pending = 0;
    struct hmapx_node *node;

    HMAPX_FOR_EACH (node, &cl->dirty) {
        const struct ct_limit *l = node->data;
        n_pending += l->want != l->have;
    }
    const char *target = vswitchd_rpc_target(cl->rpc);
    ds_put_format(s, "ovs-vswitchd: %s (%s)\n", target ? target : "none",
                  (vswitchd_rpc_is_connected(cl->rpc) ? "connected"
                   : "not connected"));
    ds_put_format(s, "  conntrack limits of %s: %"PRIuSIZE" zones, %"
                  PRIuSIZE" to apply\n", cl->dp ? cl->dp : "no datapath",
                  hmap_count(&cl->by_iface), n_pending);
    ds_put_format(s, "  requests: %"PRIu64", checks: %"PRIu64", zones "
                  "repaired: %"PRIu64", limits reached: %"PRIu64"\n",
                  cl->n_requests, cl->n_checks, cl->n_repaired,
                  cl->n_reached);
    if (cl->last_error) {
        ds_put_format(s, "  last error: %s\n", cl->last_error);
    }
}
