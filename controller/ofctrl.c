/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#include <config.h>
#include "controller/ofctrl.h"

#include <errno.h>
#include <string.h>
#include "controller/flow-table.h"
#include "coverage.h"
#include "dirs.h"
#include "hash.h"
#include "openflow/nicira-ext.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/match.h"
#include "openvswitch/ofp-bundle.h"
#include "openvswitch/ofp-errors.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofp-msgs.h"
#include "openvswitch/ofp-print.h"
#include "openvswitch/ofp-util.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/rconn.h"
#include "openvswitch/vlog.h"
#include "socket-util.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ofctrl);

COVERAGE_DEFINE(ofctrl_bundle);
COVERAGE_DEFINE(ofctrl_full_replace);
COVERAGE_DEFINE(ofctrl_flow_add);
COVERAGE_DEFINE(ofctrl_flow_del);

/* The OpenFlow version spoken to the switch. */
#define OFCTRL_VERSION OFP15_VERSION

/* A flow the switch holds (as far as we know). */
struct installed_flow {
    struct hmap_node node;      /* In 'installed', by hash of key. */
    char *key;                  /* "table=T,priority=P,MATCH". */
    char *actions;              /* Its actions. */
    uint64_t cookie;            /* Its cookie. */
};

/* A barrier sent after a bundle, whose reply confirms it. */
struct pending_barrier {
    struct ovs_list node;       /* In 'barriers', oldest first. */
    ovs_be32 xid;               /* The barrier request's xid. */
    uint64_t seqno;             /* The put it confirms. */
};

/* The flow installer (see ofctrl.h). */
struct ofctrl {
    struct rconn *rconn;        /* Connection to the bridge. */
    char *target;               /* "unix:RUNDIR/BRIDGE.mgmt", or NULL. */
    unsigned int conn_seqno;    /* rconn's seqno at the last full put. */
    bool need_full;             /* Next put replaces the whole table. */
    long long int retry_at;     /* After a refused bundle: not before. */
    struct hmap installed;      /* Contains struct installed_flow. */
    struct ovs_list barriers;   /* Contains struct pending_barrier. */
    uint64_t put_seqno;         /* Sequence number of the last put. */
    uint64_t acked_seqno;       /* Last put the switch confirmed. */
    uint32_t bundle_id;         /* Id of the last bundle. */
    uint64_t n_bundles;         /* Bundles sent. */
    uint64_t n_errors;          /* Errors received. */
};

/* Returns a new flow installer, not connected yet. */
struct ofctrl *
ofctrl_create(void)
{
    struct ofctrl *c = xzalloc(sizeof *c);

    c->rconn = rconn_create(0, 8, DSCP_DEFAULT, 1u << OFCTRL_VERSION);
    c->need_full = true;
    hmap_init(&c->installed);
    ovs_list_init(&c->barriers);
    return c;
}

static void
installed_clear(struct ofctrl *c)
{
    struct installed_flow *f;

    HMAP_FOR_EACH_POP (f, node, &c->installed) {
        free(f->key);
        free(f->actions);
        free(f);
    }
}

static void
barriers_clear(struct ofctrl *c)
{
    struct pending_barrier *b;

    LIST_FOR_EACH_POP (b, node, &c->barriers) {
        free(b);
    }
}

/* Frees 'c'. */
void
ofctrl_destroy(struct ofctrl *c)
{
    if (c) {
        rconn_destroy(c->rconn);
        installed_clear(c);
        hmap_destroy(&c->installed);
        barriers_clear(c);
        free(c->target);
        free(c);
    }
}

/* Connects 'c' to the management socket of 'bridge' (if not already). */
void
ofctrl_set_bridge(struct ofctrl *c, const char *bridge)
{
    char *target = xasprintf("unix:%s/%s.mgmt", ovs_rundir(), bridge);

    if (!c->target || strcmp(c->target, target)) {
        VLOG_INFO("%s: connecting to switch", target);
        free(c->target);
        c->target = target;
        rconn_connect(c->rconn, target, target);
        c->need_full = true;
    } else {
        free(target);
    }
}

/* Handles one message 'msg' from the switch. */
static void
ofctrl_recv(struct ofctrl *c, const struct ofp_header *oh)
{
    enum ofptype type;

    if (ofptype_decode(&type, oh)) {
        return;
    }
    switch (type) {
    case OFPTYPE_ECHO_REQUEST:
        rconn_send(c->rconn, ofputil_encode_echo_reply(oh), NULL);
        break;

    case OFPTYPE_BARRIER_REPLY:
        while (!ovs_list_is_empty(&c->barriers)) {
            struct pending_barrier *b = CONTAINER_OF(
                ovs_list_front(&c->barriers), struct pending_barrier, node);
            ovs_list_remove(&b->node);
            bool match = b->xid == oh->xid;
            if (b->seqno > c->acked_seqno && !c->need_full) {
                c->acked_seqno = b->seqno;
            }
            free(b);
            if (match) {
                break;
            }
        }
        break;

    case OFPTYPE_ERROR: {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);
        char *s = ofp_to_string(oh, ntohs(oh->length), NULL, NULL, 1);
        VLOG_ERR_RL(&rl, "switch refused a change, will replace the whole "
                    "table: %s", s);
        free(s);
        c->n_errors++;
        /* The bundle was refused as a whole: the switch holds what it held
         * before, which the installed copy no longer says. */
        c->need_full = true;
        c->retry_at = time_msec() + 2000;
        break;
    }

    default:
        break;
    }
}

/* Runs 'c': keeps the connection up and handles what the switch sends. */
void
ofctrl_run(struct ofctrl *c)
{
    rconn_run(c->rconn);
    if (rconn_get_connection_seqno(c->rconn) != c->conn_seqno) {
        /* A new connection: the switch's table is unknown. */
        c->conn_seqno = rconn_get_connection_seqno(c->rconn);
        c->need_full = true;
        barriers_clear(c);
    }
    for (int i = 0; i < 50; i++) {
        struct ofpbuf *msg = rconn_recv(c->rconn);
        if (!msg) {
            break;
        }
        ofctrl_recv(c, msg->data);
        ofpbuf_delete(msg);
    }
}

/* Arranges for the poll loop to wake up when 'c' has work. */
void
ofctrl_wait(struct ofctrl *c)
{
    rconn_run_wait(c->rconn);
    rconn_recv_wait(c->rconn);
}

/* Returns true if 'c' is connected to the switch. */
bool
ofctrl_is_connected(const struct ofctrl *c)
{
    return rconn_is_connected(c->rconn);
}

/* Returns true if the next put will replace the whole table. */
bool
ofctrl_needs_full(const struct ofctrl *c)
{
    return c->need_full;
}

/* Returns the sequence number of the last put that the switch confirmed:
 * every flow sent by that put or before it is in place. */
uint64_t
ofctrl_acked_seqno(const struct ofctrl *c)
{
    return c->acked_seqno;
}

/* Appends to 'msgs' the flow_mod that does 'command' on the flow described
 * by 'text' (ovs-ofctl syntax), wrapped for the bundle 'c->bundle_id'.
 * Returns false if the text does not parse, which is a bug. */
static bool
bundle_flow_mod(struct ofctrl *c, struct ovs_list *msgs, int command,
                const char *text)
{
    struct ofputil_flow_mod fm;
    enum ofputil_protocol usable;
    char *error = parse_ofp_flow_mod_str(&fm, text, NULL, NULL, command,
                                         &usable);
    if (error) {
        VLOG_ERR("bad flow \"%s\": %s", text, error);
        free(error);
        return false;
    }

    struct ofpbuf *fm_msg = ofputil_encode_flow_mod(&fm,
                                                    OFPUTIL_P_OF15_OXM);
    struct ofputil_bundle_add_msg bam = {
        .bundle_id = c->bundle_id,
        .flags = OFPBF_ATOMIC | OFPBF_ORDERED,
        .msg = fm_msg->data,
    };
    ovs_list_push_back(msgs, &ofputil_encode_bundle_add(OFCTRL_VERSION,
                                                        &bam)->list_node);
    ofpbuf_delete(fm_msg);
    minimatch_destroy(&fm.match);
    free(CONST_CAST(struct ofpact *, fm.ofpacts));
    return true;
}

/* Returns the installed flow with 'key', or NULL. */
static struct installed_flow *
installed_find(const struct ofctrl *c, const char *key)
{
    struct installed_flow *f;

    HMAP_FOR_EACH_WITH_HASH (f, node, hash_string(key, 0), &c->installed) {
        if (!strcmp(f->key, key)) {
            return f;
        }
    }
    return NULL;
}

/* Makes the installed copy of 'key' be 'want' (NULL: absent), and adds to
 * 'msgs' what tells the switch so. */
static void
sync_key(struct ofctrl *c, struct ovs_list *msgs, const char *key,
         const struct bh_flow *want)
{
    struct installed_flow *have = installed_find(c, key);

    if (want) {
        if (have && have->cookie == want->cookie
            && !strcmp(have->actions, want->actions)) {
            return;
        }
        struct ds text = DS_EMPTY_INITIALIZER;
        bh_flow_format(want, &text);
        /* An add replaces a flow with the same match and priority. */
        if (bundle_flow_mod(c, msgs, OFPFC_ADD, ds_cstr(&text))) {
            COVERAGE_INC(ofctrl_flow_add);
            if (!have) {
                have = xzalloc(sizeof *have);
                have->key = xstrdup(key);
                hmap_insert(&c->installed, &have->node, hash_string(key, 0));
            }
            free(have->actions);
            have->actions = xstrdup(want->actions);
            have->cookie = want->cookie;
        }
        ds_destroy(&text);
    } else if (have) {
        if (bundle_flow_mod(c, msgs, OFPFC_DELETE_STRICT, key)) {
            COVERAGE_INC(ofctrl_flow_del);
        }
        hmap_remove(&c->installed, &have->node);
        free(have->key);
        free(have->actions);
        free(have);
    }
}

/* Brings the switch to 'desired' (see ofctrl.h) and returns the sequence
 * number that ofctrl_acked_seqno() reaches once it is done, or 0 if nothing
 * could be sent (not connected).  Takes the changes recorded in 'desired'
 * (flow_table_take_changes()). */
uint64_t
ofctrl_put(struct ofctrl *c, struct flow_table *desired)
{
    struct sset changed = SSET_INITIALIZER(&changed);
    struct ovs_list msgs = OVS_LIST_INITIALIZER(&msgs);
    bool full = c->need_full;

    if (!rconn_is_connected(c->rconn)
        || (full && time_msec() < c->retry_at)) {
        return 0;
    }
    flow_table_take_changes(desired, &changed);

    c->bundle_id++;
    if (full) {
        /* Replace the whole table in one bundle. */
        COVERAGE_INC(ofctrl_full_replace);
        installed_clear(c);
        bundle_flow_mod(c, &msgs, OFPFC_DELETE, "");
        const struct bh_flow *f;
        FLOW_TABLE_FOR_EACH (f, desired) {
            sync_key(c, &msgs, f->key, f);
        }
        c->need_full = false;
        VLOG_INFO("replacing the switch's flow table: %"PRIuSIZE" flows",
                  hmap_count(&c->installed));
    } else {
        const char *key;
        SSET_FOR_EACH (key, &changed) {
            sync_key(c, &msgs, key, flow_table_find(desired, key));
        }
    }
    sset_destroy(&changed);

    if (ovs_list_is_empty(&msgs)) {
        /* Nothing to change: the last put stands for this one too. */
        return c->put_seqno;
    }

    struct ofputil_bundle_ctrl_msg bc = {
        .bundle_id = c->bundle_id,
        .type = OFPBCT_OPEN_REQUEST,
        .flags = OFPBF_ATOMIC | OFPBF_ORDERED,
    };
    rconn_send(c->rconn, ofputil_encode_bundle_ctrl_request(OFCTRL_VERSION,
                                                            &bc), NULL);
    struct ofpbuf *msg;
    LIST_FOR_EACH_POP (msg, list_node, &msgs) {
        rconn_send(c->rconn, msg, NULL);
    }
    bc.type = OFPBCT_COMMIT_REQUEST;
    rconn_send(c->rconn, ofputil_encode_bundle_ctrl_request(OFCTRL_VERSION,
                                                            &bc), NULL);

    struct ofpbuf *barrier = ofputil_encode_barrier_request(OFCTRL_VERSION);
    struct pending_barrier *b = xmalloc(sizeof *b);
    b->xid = ((struct ofp_header *) barrier->data)->xid;
    b->seqno = ++c->put_seqno;
    ovs_list_push_back(&c->barriers, &b->node);
    rconn_send(c->rconn, barrier, NULL);

    c->n_bundles++;
    COVERAGE_INC(ofctrl_bundle);
    return c->put_seqno;
}

/* Asks the switch to flush conntrack zone 'zone'. */
void
ofctrl_flush_zone(struct ofctrl *c, uint16_t zone)
{
    struct ofpbuf *msg = ofpraw_alloc(OFPRAW_NXT_CT_FLUSH_ZONE,
                                      OFCTRL_VERSION, 0);
    struct nx_zone_id *nzi = ofpbuf_put_zeros(msg, sizeof *nzi);

    nzi->zone_id = htons(zone);
    rconn_send(c->rconn, msg, NULL);
}

/* Describes the state of 'c' for "connection-status". */
void
ofctrl_format_status(const struct ofctrl *c, struct ds *s)
{
    ds_put_format(s, "switch: %s (%s)\n", c->target ? c->target : "none",
                  rconn_is_connected(c->rconn) ? "connected"
                  : "not connected");
    ds_put_format(s, "  installed flows: %"PRIuSIZE"\n",
                  hmap_count(&c->installed));
    ds_put_format(s, "  bundles sent: %"PRIu64", errors: %"PRIu64"\n",
                  c->n_bundles, c->n_errors);
    ds_put_format(s, "  put seqno: %"PRIu64", acked: %"PRIu64"%s\n",
                  c->put_seqno, c->acked_seqno,
                  c->need_full ? ", full replacement pending" : "");
}
