/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#include <config.h>
#include "controller/ofctrl.h"

#include <errno.h>
#include <string.h>
#include "controller/ct-zone.h"
#include "controller/firewall.h"
#include "controller/flow-table.h"
#include "controller/pipeline.h"
#include "coverage.h"
#include "dirs.h"
#include "flow.h"
#include "hash.h"
#include "openflow/nicira-ext.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/match.h"
#include "openvswitch/ofp-bundle.h"
#include "openvswitch/ofp-errors.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofp-meter.h"
#include "openvswitch/ofp-msgs.h"
#include "openvswitch/ofp-packet.h"
#include "openvswitch/ofp-print.h"
#include "openvswitch/ofp-switch.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofp-util.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/rconn.h"
#include "openvswitch/vlog.h"
#include "byte-order.h"
#include "lib/of-fanout.h"
#include "lib/of-recv.h"
#include "socket-util.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ofctrl);

/* Milliseconds between two counts of the static flows while probing (see
 * 'probe_until' in struct ofctrl). */
#define OFCTRL_PROBE_INTERVAL 200

COVERAGE_DEFINE(ofctrl_bundle);
COVERAGE_DEFINE(ofctrl_full_sync);
COVERAGE_DEFINE(ofctrl_dump);
COVERAGE_DEFINE(ofctrl_flow_add);
COVERAGE_DEFINE(ofctrl_flow_mod);
COVERAGE_DEFINE(ofctrl_verify);
COVERAGE_DEFINE(ofctrl_repair);
COVERAGE_DEFINE(ofctrl_table_emptied);
COVERAGE_DEFINE(ofctrl_flow_del);
COVERAGE_DEFINE(ofctrl_flow_refused);
COVERAGE_DEFINE(ofctrl_meter_mod);
COVERAGE_DEFINE(ofctrl_staged_put);

/* Staging (see ofctrl_put()): a put of at least OFCTRL_STAGE_MIN flow_mods
 * onto a switch whose table 0 holds no flow is sent over up to
 * OFCTRL_STAGE_CONNS connections, at least OFCTRL_STAGE_PART_MIN flow_mods
 * each. */
#define OFCTRL_STAGE_MIN 2000
#define OFCTRL_STAGE_CONNS 8
#define OFCTRL_STAGE_PART_MIN 1000

/* The OpenFlow version spoken to the switch. */
#define OFCTRL_VERSION OFP15_VERSION

/* A flow the switch holds (as far as we know). */
struct installed_flow {
    struct bh_flow_key key;     /* Identity; 'key.node' in 'installed'. */
    uint64_t cookie;            /* Its cookie. */
    void *wire;                 /* Its actions, encoded (see bh_flow). */
    size_t wire_len;            /* Length of 'wire' in bytes. */
    unsigned int seen_check;    /* The last check whose dump showed it
                                 * (see struct ofctrl's 'check'). */
};

/* What a flow was on the switch when a check's dump was requested, kept
 * for a key the controller changed since (see struct ofctrl). */
struct journal_entry {
    struct installed_flow flow; /* 'flow.key.node' in 'journal'; its
                                 * cookie and actions if 'present'. */
    bool present;               /* The flow was installed then. */
};

/* A barrier sent after a bundle, whose reply confirms it. */
struct pending_barrier {
    struct ovs_list node;       /* In 'barriers', oldest first. */
    ovs_be32 xid;               /* The barrier request's xid. */
    uint64_t seqno;             /* The put it confirms. */
};

/* A flow_mod sent in a bundle, not confirmed by a barrier reply yet: an
 * error from the switch names it by its xid. */
struct sent_mod {
    struct hmap_node node;      /* In 'sent', by xid. */
    ovs_be32 xid;               /* The flow_mod's (and bundle_add's) xid. */
    uint64_t cookie;            /* The cookie of the flow it concerned. */
    uint32_t meter_id;          /* For a meter_mod: its meter, else 0. */
    uint64_t seqno;             /* The put that sent it. */
};

/* The flows of one cookie (one vNIC, one network, the pipeline) that the
 * switch refused one of: withheld from the switch, so that what they
 * concern fails closed, until they change or the next verification. */
struct refusal {
    struct hmap_node node;      /* In 'refused', by cookie. */
    uint64_t cookie;            /* The cookie withheld. */
    char *error;                /* What the switch said. */
};

/* Where reading the switch's table after a (re)connection stands. */
enum dump_state {
    DUMP_NEEDED,                /* Not asked yet. */
    DUMP_WAITING,               /* Asked, replies coming in. */
    DUMP_DONE,                  /* 'installed' is the switch's table. */
};

/* A meter the switch holds (as far as we know). */
struct installed_meter {
    struct hmap_node node;      /* In 'meters', by id. */
    struct bh_meter m;          /* Its id and band. */
    bool seen;                  /* Still wanted, during a comparison. */
    unsigned int seen_check;    /* The last check whose dump showed it. */
};

/* A put sent in stages (see ofctrl_put()). */
struct stage {
    uint64_t seqno;             /* The put it carries. */
    bool meters_sent;           /* Its meters went first; its flows wait
                                 * for their confirmation. */
    struct ovs_list parts[OFCTRL_STAGE_CONNS];  /* struct ofpbuf: the
                                 * flow_mods past table 0, a bundle and a
                                 * barrier per connection, until sent. */
    struct ovs_list gate;       /* struct ofpbuf: table 0's flow_mods in a
                                 * bundle, last, on the main connection. */
    struct ovs_list meters_after;   /* struct ofpbuf: meter deletions, after
                                     * 'gate'. */
    struct of_fanout *fanout;   /* Its connections. */
};

/* The flow installer (see ofctrl.h). */
struct ofctrl {
    struct rconn *rconn;        /* Connection to the bridge. */
    ofctrl_packet_in_cb *packet_in;  /* Called for each packet-in, or
                                      * NULL. */
    void *packet_in_aux;        /* Its argument. */
    char *target;               /* "unix:RUNDIR/BRIDGE.mgmt", or NULL. */
    unsigned int conn_seqno;    /* rconn's seqno at the last full put. */
    bool need_full;             /* Next put compares the whole table. */
    enum dump_state dump;       /* Reading the switch's table. */
    ovs_be32 dump_xid;          /* xid of the flow stats request. */
    ovs_be32 meter_dump_xid;    /* xid of the meter config request. */
    int dump_parts;             /* Replies (flows, meters) still awaited. */
    struct hmap meters;         /* Contains struct installed_meter. */
    long long int retry_at;     /* After a refused bundle: not before. */
    struct hmap installed;      /* Contains struct installed_flow. */
    struct ovs_list barriers;   /* Contains struct pending_barrier. */
    uint64_t put_seqno;         /* Sequence number of the last put. */
    uint64_t acked_seqno;       /* Last put the switch confirmed. */
    uint32_t bundle_id;         /* Id of the last bundle. */
    uint64_t n_bundles;         /* Bundles sent. */
    uint64_t n_errors;          /* Errors received. */
    uint64_t n_dumps;           /* Times the switch's table was read. */
    bool stale_checked;         /* ofctrl_remove_stale() ran for this
                                 * connection. */
    uint64_t n_stale;           /* Flows it removed. */
    uint64_t n_foreign;         /* Flows found that we did not want. */
    struct hmap sent;           /* Contains struct sent_mod. */
    struct hmap refused;        /* Contains struct refusal. */
    uint64_t n_refused;         /* Flows the switch refused. */

    /* Verification: reading the switch's table again, while connected, to
     * find and repair what changed behind the controller's back. */
    long long int verify_interval;  /* Milliseconds between two, 0: off. */
    long long int next_verify;  /* When the next one starts. */
    bool verifying;             /* The pending comparison is one. */
    struct hmap expected;       /* During one: what was installed before,
                                 * struct installed_flow. */
    size_t n_differ;            /* Flows the last dump showed different
                                 * from 'expected'. */
    uint64_t n_verified;        /* Verifications finished. */
    uint64_t verify_seqno;      /* The put of the verification whose
                                 * barrier reply is awaited, or 0. */
    uint64_t n_repaired;        /* Flows they found wrong and repaired. */

    /* A check: a verification while the installed copy is known, which
     * lets puts go on while the switch's table is read.  The dump shows
     * the switch as it was when its request went out (the switch handles
     * one connection's messages in order), so each flow it shows is
     * compared with the installed copy as it was then: the copy itself
     * for keys no put changed since, the journal for the others.  What
     * differs is repaired by the next put. */
    bool checking;              /* Its dump is being read. */
    unsigned int check;         /* Its number, stamped on what it saw. */
    struct hmap journal;        /* struct journal_entry: the keys sent
                                 * since the request, as they were. */
    struct hmap touched_meters; /* struct installed_meter: ids of the
                                 * meters sent since the request. */
    struct hmap repair;         /* struct bh_flow_key: keys whose installed
                                 * copy is now what the switch showed, to
                                 * compare with the desired table. */
    struct hmap force;          /* struct bh_flow_key: keys the switch
                                 * showed unlike their journal, so whose
                                 * state after the puts since is unknown:
                                 * deleted and added again. */
    bool meters_differ;         /* The dump's meters differed: the next put
                                 * compares every meter. */
    size_t n_check_differ;      /* Flows it found different so far. */
    bool repair_pending;        /* Finished, its repair not yet sent. */

    /* The probe: for a while after br-int's fail_mode or controllers
     * changed (ofctrl_probe_for()), a count of the pipeline's static
     * flows every OFCTRL_PROBE_INTERVAL ms.  OVS empties a bridge's table
     * (flows and meters) on such a change (connmgr.c), once it applies it,
     * which the controller would not see otherwise until the next
     * verification: a count of 0 starts one at once. */
    long long int probe_until;  /* Probing ends then. */
    long long int next_probe;   /* When the next count is asked. */
    ovs_be32 probe_xid;         /* xid of the count awaited, or 0. */
    uint64_t n_emptied;         /* Times the table was found emptied. */

    /* Staging. */
    struct stage *stage;        /* The put being sent in stages, or NULL. */
    struct ovs_list *gate_msgs; /* During a put that may stage: where table
                                 * 0's flow_mods go, else NULL. */
    bool stage_failed;          /* A staged put failed on this connection:
                                 * one bundle from now on. */
    uint64_t n_staged;          /* Puts sent in stages. */
};

static void stage_destroy(struct ofctrl *);
static void stage_run(struct ofctrl *);

/* Returns a new flow installer, not connected yet. */
struct ofctrl *
ofctrl_create(void)
{
    struct ofctrl *c = xzalloc(sizeof *c);

    c->rconn = rconn_create(0, 8, DSCP_DEFAULT, 1u << OFCTRL_VERSION);
    c->need_full = true;
    hmap_init(&c->installed);
    hmap_init(&c->expected);
    hmap_init(&c->sent);
    hmap_init(&c->refused);
    hmap_init(&c->meters);
    hmap_init(&c->journal);
    hmap_init(&c->touched_meters);
    hmap_init(&c->repair);
    hmap_init(&c->force);
    ovs_list_init(&c->barriers);
    return c;
}

static void
installed_free(struct installed_flow *f)
{
    bh_flow_key_destroy(&f->key);
    free(f->wire);
    free(f);
}

/* Forgets the flows expected by a verification. */
static void
expected_clear(struct ofctrl *c)
{
    struct installed_flow *f;

    HMAP_FOR_EACH_POP (f, key.node, &c->expected) {
        installed_free(f);
    }
}

/* Returns the flow with 'key' in 'flows' (of struct installed_flow), or
 * NULL. */
static struct installed_flow *
flows_find(const struct hmap *flows, const struct bh_flow_key *key)
{
    struct installed_flow *f;

    HMAP_FOR_EACH_WITH_HASH (f, key.node, bh_flow_key_hash(key), flows) {
        if (bh_flow_key_equals(&f->key, key)) {
            return f;
        }
    }
    return NULL;
}

/* Returns true if 'c' knows of a flow in 'table_id' on the switch. */
static bool
installed_in_table(const struct ofctrl *c, uint8_t table_id)
{
    const struct installed_flow *f;

    HMAP_FOR_EACH (f, key.node, &c->installed) {
        if (f->key.table_id == table_id) {
            return true;
        }
    }
    return false;
}

/* Returns how many flows differ between 'c->installed', just read from the
 * switch, and 'c->expected': missing, added, or with other actions or
 * cookie. */
static size_t
count_differences(const struct ofctrl *c)
{
    const struct installed_flow *f, *e;
    size_t n = 0;

    HMAP_FOR_EACH (f, key.node, &c->installed) {
        e = flows_find(&c->expected, &f->key);
        if (!e || e->cookie != f->cookie || e->wire_len != f->wire_len
            || memcmp(e->wire, f->wire, f->wire_len)) {
            n++;
        }
    }
    HMAP_FOR_EACH (e, key.node, &c->expected) {
        if (!flows_find(&c->installed, &e->key)) {
            n++;
        }
    }
    return n;
}

/* Forgets every installed meter. */
static void
meters_clear(struct ofctrl *c)
{
    struct installed_meter *m;

    HMAP_FOR_EACH_POP (m, node, &c->meters) {
        free(m);
    }
}

/* Returns the installed meter 'id', or NULL. */
static struct installed_meter *
meter_find(const struct ofctrl *c, uint32_t id)
{
    struct installed_meter *m;

    HMAP_FOR_EACH_WITH_HASH (m, node, hash_int(id, 0), &c->meters) {
        if (m->m.id == id) {
            return m;
        }
    }
    return NULL;
}

/* Records that the switch holds meter 'bm'. */
static struct installed_meter *
meter_insert(struct ofctrl *c, const struct bh_meter *bm)
{
    struct installed_meter *m = xzalloc(sizeof *m);

    m->m = *bm;
    hmap_insert(&c->meters, &m->node, hash_int(bm->id, 0));
    return m;
}

/* Forgets every installed flow. */
static void
installed_clear(struct ofctrl *c)
{
    struct installed_flow *f;

    HMAP_FOR_EACH_POP (f, key.node, &c->installed) {
        installed_free(f);
    }
}

/* Forgets the pending barriers. */
static void
barriers_clear(struct ofctrl *c)
{
    struct pending_barrier *b;

    LIST_FOR_EACH_POP (b, node, &c->barriers) {
        free(b);
    }
}

/* Forgets the flow_mods sent by the puts up to 'seqno' (UINT64_MAX: all):
 * the switch confirmed or refused them. */
static void
sent_clear(struct ofctrl *c, uint64_t seqno)
{
    struct sent_mod *m;

    HMAP_FOR_EACH_SAFE (m, node, &c->sent) {
        if (m->seqno <= seqno) {
            hmap_remove(&c->sent, &m->node);
            free(m);
        }
    }
}

/* Returns the refusal of 'cookie', or NULL. */
static struct refusal *
refusal_find(const struct ofctrl *c, uint64_t cookie)
{
    struct refusal *r;

    HMAP_FOR_EACH_WITH_HASH (r, node, hash_uint64(cookie), &c->refused) {
        if (r->cookie == cookie) {
            return r;
        }
    }
    return NULL;
}

/* Forgets refusal 'r'. */
static void
refusal_remove(struct ofctrl *c, struct refusal *r)
{
    hmap_remove(&c->refused, &r->node);
    free(r->error);
    free(r);
}

/* Forgets every refusal: the flows they withheld are tried again. */
static void
refused_clear(struct ofctrl *c)
{
    struct refusal *r;

    HMAP_FOR_EACH_SAFE (r, node, &c->refused) {
        refusal_remove(c, r);
    }
}

/* Returns 'f', or NULL if the switch refused a flow of its cookie: the
 * flow is then withheld, as if nobody wanted it. */
static const struct bh_flow *
wanted(const struct ofctrl *c, const struct bh_flow *f)
{
    return f && !hmap_is_empty(&c->refused) && refusal_find(c, f->cookie)
           ? NULL : f;
}

static void check_clear(struct ofctrl *);

/* Frees 'c'. */
void
ofctrl_destroy(struct ofctrl *c)
{
    if (c) {
        stage_destroy(c);
        rconn_destroy(c->rconn);
        installed_clear(c);
        hmap_destroy(&c->installed);
        expected_clear(c);
        hmap_destroy(&c->expected);
        barriers_clear(c);
        sent_clear(c, UINT64_MAX);
        hmap_destroy(&c->sent);
        refused_clear(c);
        hmap_destroy(&c->refused);
        meters_clear(c);
        hmap_destroy(&c->meters);
        check_clear(c);
        hmap_destroy(&c->journal);
        hmap_destroy(&c->touched_meters);
        hmap_destroy(&c->repair);
        hmap_destroy(&c->force);
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

/* Empties 'keys', a set of struct bh_flow_key, and keeps it usable. */
static void
keys_clear(struct hmap *keys)
{
    struct bh_flow_key *key;

    HMAP_FOR_EACH_POP (key, node, keys) {
        bh_flow_key_destroy(key);
        free(key);
    }
}

/* Adds a copy of 'key' to 'keys', a set of struct bh_flow_key, unless it is
 * there already. */
static void
keys_add(struct hmap *keys, const struct bh_flow_key *key)
{
    uint32_t hash = bh_flow_key_hash(key);
    struct bh_flow_key *k;

    HMAP_FOR_EACH_WITH_HASH (k, node, hash, keys) {
        if (bh_flow_key_equals(k, key)) {
            return;
        }
    }
    k = xmalloc(sizeof *k);
    bh_flow_key_clone(k, key);
    hmap_insert(keys, &k->node, hash);
}

/* Returns the journal entry of 'key' of the check under way, or NULL. */
static struct journal_entry *
journal_find(const struct ofctrl *c, const struct bh_flow_key *key)
{
    struct journal_entry *j;

    HMAP_FOR_EACH_WITH_HASH (j, flow.key.node, bh_flow_key_hash(key),
                             &c->journal) {
        if (bh_flow_key_equals(&j->flow.key, key)) {
            return j;
        }
    }
    return NULL;
}

/* Before a put sends a change to 'key', whose installed copy is 'have'
 * (NULL: none): while a check's dump is awaited, keeps what the switch held
 * for 'key' at its request, if this is the first change since. */
static void
journal_note(struct ofctrl *c, const struct bh_flow_key *key,
             const struct installed_flow *have)
{
    if (!c->checking || journal_find(c, key)) {
        return;
    }
    struct journal_entry *j = xzalloc(sizeof *j);
    bh_flow_key_clone(&j->flow.key, key);
    if (have) {
        j->present = true;
        j->flow.cookie = have->cookie;
        j->flow.wire = xmemdup(have->wire, have->wire_len);
        j->flow.wire_len = have->wire_len;
        j->flow.seen_check = have->seen_check;
    }
    hmap_insert(&c->journal, &j->flow.key.node, bh_flow_key_hash(key));
}

/* Returns true if 'id' is a meter that a put changed since the request of
 * the check under way. */
static bool
meter_touched(const struct ofctrl *c, uint32_t id)
{
    const struct installed_meter *m;

    HMAP_FOR_EACH_WITH_HASH (m, node, hash_int(id, 0), &c->touched_meters) {
        if (m->m.id == id) {
            return true;
        }
    }
    return false;
}

/* Forgets what a check kept of the puts since its request. */
static void
journal_clear(struct ofctrl *c)
{
    struct journal_entry *j;
    struct installed_meter *m;

    HMAP_FOR_EACH_POP (j, flow.key.node, &c->journal) {
        bh_flow_key_destroy(&j->flow.key);
        free(j->flow.wire);
        free(j);
    }
    HMAP_FOR_EACH_POP (m, node, &c->touched_meters) {
        free(m);
    }
}

/* Forgets the check under way, or the repair it left, if any. */
static void
check_clear(struct ofctrl *c)
{
    journal_clear(c);
    keys_clear(&c->repair);
    keys_clear(&c->force);
    c->checking = false;
    c->repair_pending = false;
    c->meters_differ = false;
    c->n_check_differ = 0;
}

/* Forgets what the switch holds: the next put reads its table first and
 * then sends the whole difference.  A check under way gives way to that
 * comparison, which does its job. */
static void
ofctrl_restart_sync(struct ofctrl *c)
{
    if (c->checking || c->repair_pending) {
        c->verifying = true;
        check_clear(c);
    }
    c->need_full = true;
    c->dump = DUMP_NEEDED;
    installed_clear(c);
    meters_clear(c);
}

/* Returns true if 'a' and 'b' have the same cookie and actions. */
static bool
same_content(const struct installed_flow *a, const struct installed_flow *b)
{
    return (a->cookie == b->cookie && a->wire_len == b->wire_len
            && !memcmp(a->wire, b->wire, a->wire_len));
}

/* Compares flow 'f' of a check's dump with what was installed at its
 * request, and takes 'f'. */
static void
check_flow(struct ofctrl *c, struct installed_flow *f)
{
    struct journal_entry *j = journal_find(c, &f->key);

    f->seen_check = c->check;
    if (j) {
        /* Changed since: if the switch did not hold what the change was
         * computed from, what it holds now is unknown. */
        j->flow.seen_check = c->check;
        if (!j->present || !same_content(&j->flow, f)) {
            c->n_check_differ++;
            keys_add(&c->force, &f->key);
        }
        installed_free(f);
        return;
    }
    struct installed_flow *have = flows_find(&c->installed, &f->key);
    if (have && same_content(have, f)) {
        have->seen_check = c->check;
        installed_free(f);
        return;
    }
    /* Added or changed behind the controller's back: the switch holds
     * 'f', and the next put compares it with the desired table. */
    c->n_check_differ++;
    if (have) {
        hmap_remove(&c->installed, &have->key.node);
        installed_free(have);
    }
    hmap_insert(&c->installed, &f->key.node, bh_flow_key_hash(&f->key));
    keys_add(&c->repair, &f->key);
}

/* Ends a check whose dump was read whole: what was installed at its request
 * and the dump did not show is missing on the switch. */
static void
check_finish(struct ofctrl *c)
{
    struct installed_flow *f;
    struct journal_entry *j;
    struct installed_meter *m;

    HMAP_FOR_EACH_SAFE (f, key.node, &c->installed) {
        if (f->seen_check != c->check && !journal_find(c, &f->key)) {
            c->n_check_differ++;
            keys_add(&c->repair, &f->key);
            hmap_remove(&c->installed, &f->key.node);
            installed_free(f);
        }
    }
    HMAP_FOR_EACH (j, flow.key.node, &c->journal) {
        if (j->present && j->flow.seen_check != c->check) {
            c->n_check_differ++;
            keys_add(&c->force, &j->flow.key);
        }
    }
    HMAP_FOR_EACH_SAFE (m, node, &c->meters) {
        if (m->seen_check != c->check && !meter_touched(c, m->m.id)) {
            c->meters_differ = true;
            hmap_remove(&c->meters, &m->node);
            free(m);
        }
    }
    journal_clear(c);
    c->checking = false;
    if (c->n_check_differ || c->meters_differ) {
        c->repair_pending = true;
    } else {
        c->n_verified++;
    }
}

/* Notes that one part of reading the switch (its flows, its meters) is
 * finished; when both are, the installed copy is the switch's. */
static void
dump_part_done(struct ofctrl *c)
{
    if (--c->dump_parts > 0) {
        return;
    }
    if (c->verifying) {
        c->n_differ = count_differences(c);
        expected_clear(c);
    }
    if (c->checking) {
        check_finish(c);
    }
    c->dump = DUMP_DONE;
    c->n_dumps++;
    COVERAGE_INC(ofctrl_dump);
    VLOG_INFO("the switch holds %"PRIuSIZE" flows and %"PRIuSIZE" meters",
              hmap_count(&c->installed), hmap_count(&c->meters));
}

/* Calls 'cb' with 'aux' for each flow of the flow stats reply 'oh' (one
 * part of a multipart reply), and returns true if it was the last part. */
bool
ofctrl_decode_flow_stats(const struct ofp_header *oh,
                         ofctrl_flow_stats_cb *cb, void *aux)
{
    struct ofpbuf msg = ofpbuf_const_initializer(oh, ntohs(oh->length));
    struct ofpbuf ofpacts;
    uint64_t stub[1024 / 8];

    ofpbuf_use_stub(&ofpacts, stub, sizeof stub);
    for (;;) {
        struct ofputil_flow_stats fs;
        int error = ofputil_decode_flow_stats_reply(&fs, &msg, false,
                                                    &ofpacts);
        if (error) {
            if (error != EOF) {
                static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
                VLOG_WARN_RL(&rl, "bad flow stats reply from the switch: %s",
                             ofperr_to_string(error));
            }
            break;
        }
        cb(&fs, aux);
    }
    ofpbuf_uninit(&ofpacts);
    return !ofpmp_more(oh);
}

/* Adds flow 'fs' of a dump to 'c_->installed', or, during a check,
 * compares it with what was installed (an ofctrl_flow_stats_cb). */
static void
add_installed(const struct ofputil_flow_stats *fs, void *c_)
{
    struct ofctrl *c = c_;
    struct installed_flow *f = xzalloc(sizeof *f);

    f->key.table_id = fs->table_id;
    f->key.priority = fs->priority;
    minimatch_init(&f->key.match, &fs->match);
    f->cookie = ntohll(fs->cookie);
    bh_ofpacts_to_wire(fs->ofpacts, fs->ofpacts_len, &f->wire,
                       &f->wire_len);
    if (c->checking) {
        check_flow(c, f);
    } else {
        hmap_insert(&c->installed, &f->key.node, bh_flow_key_hash(&f->key));
    }
}

/* Adds the flows of the flow stats reply 'oh' to 'c->installed' (see
 * add_installed()). */
static void
ofctrl_recv_dump(struct ofctrl *c, const struct ofp_header *oh)
{
    if (ofctrl_decode_flow_stats(oh, add_installed, c)) {
        dump_part_done(c);
    }
}

/* Adds the meters of the meter config reply 'oh' to 'c->meters'.  Only
 * meters of the form Bulkhead writes (one drop band, in packets) are taken
 * as they are; any other is recorded with a rate of 0, so that it is
 * rewritten if wanted and deleted if not. */
static void
ofctrl_recv_meter_dump(struct ofctrl *c, const struct ofp_header *oh)
{
    struct ofpbuf msg = ofpbuf_const_initializer(oh, ntohs(oh->length));
    struct ofpbuf bands;

    ofpbuf_init(&bands, 64);
    for (;;) {
        struct ofputil_meter_config mc;
        if (ofputil_decode_meter_config(&msg, &mc, &bands)) {
            break;
        }
        struct bh_meter bm = { .id = mc.meter_id };
        if (mc.n_bands == 1 && mc.bands[0].type == OFPMBT13_DROP
            && mc.flags & OFPMF13_PKTPS) {
            bm.rate = mc.bands[0].rate;
            bm.burst = mc.bands[0].burst_size;
        }
        struct installed_meter *m = meter_find(c, bm.id);
        if (!c->checking) {
            if (!m) {
                meter_insert(c, &bm);
            }
        } else if (!meter_touched(c, bm.id)) {
            /* A check: the switch's meter replaces the installed copy if
             * they differ, and the next put compares every meter. */
            if (!m) {
                m = meter_insert(c, &bm);
                c->meters_differ = true;
            } else if (m->m.rate != bm.rate || m->m.burst != bm.burst) {
                m->m = bm;
                c->meters_differ = true;
            }
            m->seen_check = c->check;
        }
    }
    ofpbuf_uninit(&bands);
    if (!ofpmp_more(oh)) {
        dump_part_done(c);
    }
}

/* Returns a description of the owner of the flows with 'cookie', for a
 * log message.  The caller frees it. */
static char *
cookie_owner(uint64_t cookie)
{
    uint32_t id = cookie & 0xffffffff;

    switch (cookie >> 56) {
    case PL_COOKIE_VNIC:
        return xasprintf("the vNIC of conntrack zone %"PRIu32, id);
    case PL_COOKIE_NETWORK:
        return xasprintf("network %#"PRIx32, id);
    case PL_COOKIE_RULE:
        return xasprintf("rule %#"PRIx64" of firewall class %#"PRIx32,
                         (cookie >> 32) & 0xffffff, id);
    case PL_COOKIE_PIPELINE:
        return xstrdup("the pipeline");
    default:
        return xasprintf("cookie %#"PRIx64, cookie);
    }
}

/* Handles the error 'oh' from the switch.  A bundle is atomic: if the
 * switch refused one of its flow_mods at commit, it holds what it held
 * before; if it refused one as it was added, it committed the others.
 * Either way the installed copy no longer says what the switch holds: the
 * table is read again and compared whole.  If the error names a flow_mod,
 * every flow of its cookie (all of one vNIC, one network, or the pipeline)
 * is withheld from then on, so that what it concerned fails closed rather
 * than being left half-made or in its old state; logged, counted, shown
 * by vnic/show and connection-status, and tried again when those flows
 * change and at the next verification. */
static void
ofctrl_recv_error(struct ofctrl *c, const struct ofp_header *oh)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);
    enum ofperr error = ofperr_decode_msg(oh, NULL);
    struct sent_mod *m = NULL, *candidate;

    HMAP_FOR_EACH_WITH_HASH (candidate, node, hash_int(oh->xid, 0),
                             &c->sent) {
        if (candidate->xid == oh->xid) {
            m = candidate;
            break;
        }
    }

    c->n_errors++;
    if (m && m->meter_id) {
        /* A flow that refers to a meter the switch does not hold is
         * refused in turn, and withheld: closed. */
        VLOG_ERR_RL(&rl, "switch refused a change to meter %"PRIu32": %s",
                    m->meter_id, ofperr_to_string(error));
        return;
    }
    ofctrl_restart_sync(c);
    if (m && pipeline_cookie_is_ours(m->cookie)) {
        char *owner = cookie_owner(m->cookie);
        VLOG_ERR_RL(&rl, "switch refused a flow of %s (cookie %#"PRIx64
                    "): %s; withholding all its flows (fail closed)",
                    owner, m->cookie, ofperr_to_string(error));
        free(owner);
        COVERAGE_INC(ofctrl_flow_refused);
        c->n_refused++;
        if (!refusal_find(c, m->cookie)) {
            struct refusal *r = xmalloc(sizeof *r);
            r->cookie = m->cookie;
            r->error = xstrdup(ofperr_to_string(error));
            hmap_insert(&c->refused, &r->node, hash_uint64(r->cookie));
        }
        c->retry_at = 0;
    } else if (error == OFPERR_OFPBFC_MSG_FAILED) {
        /* The commit failed because of a flow_mod whose own error came
         * first and was handled above. */
    } else {
        char *s = ofp_to_string(oh, ntohs(oh->length), NULL, NULL, 1);
        VLOG_ERR_RL(&rl, "switch refused a change; reading its table "
                    "again: %s", s);
        free(s);
        c->retry_at = time_msec() + 2000;
    }
}

/* Returns true if a probe may be sent: none awaited, connected, and the
 * installed copy settled (not being read or staged). */
static bool
probe_may_run(const struct ofctrl *c)
{
    return (time_msec() < c->probe_until && !c->probe_xid
            && rconn_is_connected(c->rconn) && !c->need_full
            && c->dump == DUMP_DONE && !c->stage && !c->checking
            && !c->repair_pending && !hmap_is_empty(&c->installed));
}

/* Asks the switch how many of the pipeline's static flows it holds (see
 * 'next_probe'), if it is time and the installed copy is settled. */
static void
ofctrl_probe_run(struct ofctrl *c)
{
    long long int now = time_msec();

    if (now < c->next_probe || !probe_may_run(c)) {
        return;
    }
    c->next_probe = now + OFCTRL_PROBE_INTERVAL;

    struct ofputil_flow_stats_request fsr = {
        .aggregate = true,
        .table_id = OFPTT_ALL,
        .out_port = OFPP_ANY,
        .out_group = OFPG_ANY,
        .cookie = htonll(pipeline_cookie(PL_COOKIE_PIPELINE, 0)),
        .cookie_mask = OVS_BE64_MAX,
    };
    match_init_catchall(&fsr.match);
    struct ofpbuf *msg = ofputil_encode_flow_stats_request(
        &fsr, OFPUTIL_P_OF15_OXM);
    ovs_be32 xid = ((struct ofp_header *) msg->data)->xid;
    if (!rconn_send(c->rconn, msg, NULL)) {
        c->probe_xid = xid;
    }
}

/* Handles the probe's answer 'oh': a table without the static flows was
 * emptied behind the controller's back, and is read and repaired now. */
static void
ofctrl_recv_probe(struct ofctrl *c, const struct ofp_header *oh)
{
    struct ofputil_aggregate_stats stats;

    c->probe_xid = 0;
    if (ofputil_decode_aggregate_stats_reply(&stats, oh)
        || stats.flow_count || c->need_full || c->stage) {
        return;
    }
    COVERAGE_INC(ofctrl_table_emptied);
    c->n_emptied++;
    VLOG_WARN("the switch's table was emptied (br-int's fail_mode or "
              "controllers changed?): reading and repairing it");
    ofctrl_verify_now(c);
}

/* Handles one message 'oh' from the switch to 'c_' (a bh_recv_cb).
 * Returns true if it confirmed a put: the turn then reads no more, so that
 * the marks it allows go out before the rest of a table read. */
static bool
ofctrl_recv(void *c_, const struct ofp_header *oh)
{
    struct ofctrl *c = c_;
    uint64_t acked = c->acked_seqno;
    enum ofptype type;

    if (ofptype_decode(&type, oh)) {
        return false;
    }
    switch (type) {
    case OFPTYPE_ECHO_REQUEST:
        rconn_send(c->rconn, ofputil_encode_echo_reply(oh), NULL);
        break;

    case OFPTYPE_FLOW_STATS_REPLY:
        if (c->dump == DUMP_WAITING && oh->xid == c->dump_xid) {
            ofctrl_recv_dump(c, oh);
        }
        break;

    case OFPTYPE_METER_CONFIG_STATS_REPLY:
        if (c->dump == DUMP_WAITING && oh->xid == c->meter_dump_xid) {
            ofctrl_recv_meter_dump(c, oh);
        }
        break;

    case OFPTYPE_AGGREGATE_STATS_REPLY:
        if (c->probe_xid && oh->xid == c->probe_xid) {
            ofctrl_recv_probe(c, oh);
        }
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
            sent_clear(c, b->seqno);
            if (c->verify_seqno && b->seqno >= c->verify_seqno) {
                c->verify_seqno = 0;
                c->n_verified++;
            }
            free(b);
            if (match) {
                break;
            }
        }
        break;

    case OFPTYPE_ERROR:
        ofctrl_recv_error(c, oh);
        break;

    case OFPTYPE_PACKET_IN:
        if (c->packet_in) {
            struct ofputil_packet_in pin;
            if (!ofputil_decode_packet_in(oh, true, NULL, NULL, &pin, NULL,
                                          NULL, NULL)) {
                c->packet_in(&pin, c->packet_in_aux);
            }
        }
        break;

    default:
        break;
    }
    return c->acked_seqno != acked;
}

/* Sets the switch's fragment handling to "nx-match": flows then see the
 * L4 header of a first fragment as they see a whole packet's, and may
 * match nw_frag.  In OpenFlow's "normal" mode, OVS's default, every
 * fragment's ports and ICMP type and code read as 0 (ofproto-dpif), so
 * port security could not tell a fragmented neighbor discovery message or
 * MLD query from anything else, nor a first fragment that hides its L4
 * header from one that does not.  Sent before every read of the switch's
 * table (after each connection, and at each verification), so that a
 * change by hand does not last.  A nonzero miss send length makes this
 * service connection get asynchronous messages: the packets the firewall's
 * log flows send (no table misses: every table ends in a flow). */
static void
ofctrl_send_switch_config(struct ofctrl *c)
{
    struct ofputil_switch_config config = {
        .frag = OFPUTIL_FRAG_NX_MATCH,
        .invalid_ttl_to_controller = -1,
        .miss_send_len = 128,
    };

    rconn_send(c->rconn, ofputil_encode_set_config(&config, OFCTRL_VERSION),
               NULL);
    /* NXT_PACKET_IN2: the only format that carries a controller action's
     * userdata. */
    rconn_send(c->rconn,
               ofputil_encode_set_packet_in_format(OFCTRL_VERSION,
                                                   OFPUTIL_PACKET_IN_NXT2),
               NULL);
}

/* Makes 'c' call 'cb' with 'aux' for every packet the switch sends to the
 * controller. */
void
ofctrl_set_packet_in_cb(struct ofctrl *c, ofctrl_packet_in_cb *cb, void *aux)
{
    c->packet_in = cb;
    c->packet_in_aux = aux;
}

/* Sets the switch's fragment handling, then asks it for every flow it
 * holds. */
static void
ofctrl_send_dump(struct ofctrl *c)
{
    struct ofputil_flow_stats_request fsr = {
        .aggregate = false,
        .table_id = OFPTT_ALL,
        .out_port = OFPP_ANY,
        .out_group = OFPG_ANY,
    };

    ofctrl_send_switch_config(c);
    match_init_catchall(&fsr.match);
    struct ofpbuf *msg = ofputil_encode_flow_stats_request(
        &fsr, OFPUTIL_P_OF15_OXM);
    c->dump_xid = ((struct ofp_header *) msg->data)->xid;
    struct ofpbuf *mmsg = ofputil_encode_meter_request(
        OFCTRL_VERSION, OFPUTIL_METER_CONFIG, OFPM13_ALL);
    c->meter_dump_xid = ((struct ofp_header *) mmsg->data)->xid;
    /* rconn_send() takes both, sent or not. */
    int error = rconn_send(c->rconn, msg, NULL);
    if (error) {
        ofpbuf_delete(mmsg);
    } else {
        error = rconn_send(c->rconn, mmsg, NULL);
    }
    if (!error) {
        c->dump = DUMP_WAITING;
        c->dump_parts = 2;
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
        stage_destroy(c);
        c->stage_failed = false;
        bool checking = c->checking || c->repair_pending;
        ofctrl_restart_sync(c);
        c->verifying = false;
        c->stale_checked = false;
        c->probe_xid = 0;
        expected_clear(c);
        barriers_clear(c);
        sent_clear(c, UINT64_MAX);
        if (checking) {
            /* The new connection's comparison does its job. */
            c->n_verified++;
        }
        if (c->verify_seqno) {
            /* Its answer is lost; the new connection's comparison does
             * its job. */
            c->verify_seqno = 0;
            c->n_verified++;
        }
    }
    /* While a staged put is in flight the switch's table changes through
     * other connections: it is not read before they are done. */
    if (rconn_is_connected(c->rconn) && c->dump == DUMP_DONE
        && !c->need_full && c->verify_interval && !c->stage
        && time_msec() >= c->next_verify) {
        ofctrl_verify_now(c);
    }
    if (rconn_is_connected(c->rconn) && c->dump == DUMP_NEEDED
        && !c->stage) {
        ofctrl_send_dump(c);
    }
    ofctrl_probe_run(c);
    /* A read of the whole table comes as many large replies: a turn's
     * worth of them at a time. */
    bh_rconn_recv_turn(c->rconn, ofctrl_recv, c);
    stage_run(c);
}

/* Arranges for the poll loop to wake up when 'c' has work. */
void
ofctrl_wait(struct ofctrl *c)
{
    rconn_run_wait(c->rconn);
    rconn_recv_wait(c->rconn);
    if (c->verify_interval && rconn_is_connected(c->rconn)) {
        poll_timer_wait_until(c->next_verify);
    }
    if (probe_may_run(c)) {
        poll_timer_wait_until(c->next_probe);
    }
    if (c->dump == DUMP_NEEDED && rconn_is_connected(c->rconn)
        && !c->stage) {
        poll_immediate_wake();
    }
    if (c->stage) {
        of_fanout_wait(c->stage->fanout);
        if (of_fanout_get_state(c->stage->fanout) != OF_FANOUT_BUSY) {
            poll_immediate_wake();
        }
    }
}

/* Makes 'c' read the switch's table again every 'interval_ms' milliseconds
 * (0: never) and repair what differs from what it installed. */
void
ofctrl_set_verify_interval(struct ofctrl *c, long long int interval_ms)
{
    if (interval_ms != c->verify_interval) {
        c->verify_interval = interval_ms;
        c->next_verify = time_msec() + interval_ms;
    }
}

/* Makes 'c' count the switch's static flows for the next 'ms'
 * milliseconds (see 'probe_until' in struct ofctrl): br-int's fail_mode or
 * controllers changed, and OVS empties its table when it applies that. */
void
ofctrl_probe_for(struct ofctrl *c, long long int ms)
{
    long long int now = time_msec();

    c->probe_until = MAX(c->probe_until, now + ms);
    c->next_probe = MIN(c->next_probe, now);
}

/* Starts a verification now: the switch's table is read again and the next
 * put compares it whole with the desired table, repairing differences.  If
 * a comparison is already pending, that one counts as the verification. */
void
ofctrl_verify_now(struct ofctrl *c)
{
    if (c->stage) {
        /* Once the staged put is done (see ofctrl_run()). */
        c->next_verify = time_msec();
        return;
    }
    c->next_verify = time_msec() + c->verify_interval;
    if (c->checking || c->repair_pending) {
        /* A check under way counts as this verification. */
        return;
    }
    if (!c->need_full && c->dump == DUMP_DONE && hmap_is_empty(&c->refused)
        && rconn_is_connected(c->rconn)) {
        /* A check: puts go on while the switch's table is read. */
        COVERAGE_INC(ofctrl_verify);
        c->check++;
        c->checking = true;
        ofctrl_send_dump(c);
        if (c->dump != DUMP_WAITING) {
            /* Not sent: the connection is going down, and the next one
             * compares everything anyway. */
            c->checking = false;
        }
        return;
    }
    /* Withheld flows are tried again: the whole table is read again and
     * compared whole, and puts wait for that. */
    refused_clear(c);
    if (!c->need_full) {
        COVERAGE_INC(ofctrl_verify);
        expected_clear(c);
        hmap_swap(&c->installed, &c->expected);
        ofctrl_restart_sync(c);
    }
    /* A comparison already pending counts as this verification. */
    c->verifying = true;
}

/* Returns the number of verifications finished so far. */
uint64_t
ofctrl_verifications(const struct ofctrl *c)
{
    return c->n_verified;
}

/* Returns the number of flows that verifications found wrong and
 * repaired. */
uint64_t
ofctrl_repaired(const struct ofctrl *c)
{
    return c->n_repaired;
}

/* Returns true if 'c' is connected to the switch. */
bool
ofctrl_is_connected(const struct ofctrl *c)
{
    return rconn_is_connected(c->rconn);
}

/* Returns a number that changes whenever 'c' connects to the switch or
 * loses its connection. */
unsigned int
ofctrl_connection_seqno(const struct ofctrl *c)
{
    return rconn_get_connection_seqno(c->rconn);
}

/* Returns true if the next put will replace the whole table. */
bool
ofctrl_needs_full(const struct ofctrl *c)
{
    return c->need_full;
}

/* Returns true if a put sent in stages is in flight (see ofctrl_put()):
 * puts wait for it. */
bool
ofctrl_is_staging(const struct ofctrl *c)
{
    return c->stage != NULL;
}

/* Returns the sequence number of the last put that the switch confirmed:
 * every flow sent by that put or before it is in place. */
uint64_t
ofctrl_acked_seqno(const struct ofctrl *c)
{
    return c->acked_seqno;
}

/* Appends to 'msgs' the flow_mod that does 'command' on the flow with
 * 'key', 'cookie' and actions 'ofpacts', wrapped for the bundle
 * 'c->bundle_id'; to 'c->gate_msgs' instead if it is set and the flow is in
 * table 0. */
static void
bundle_flow_mod(struct ofctrl *c, struct ovs_list *msgs, int command,
                const struct bh_flow_key *key, uint64_t cookie,
                const struct ofpact *ofpacts, size_t ofpacts_len)
{
    struct ofputil_flow_mod fm = {
        .priority = key->priority,
        .new_cookie = htonll(cookie),
        .table_id = key->table_id,
        .command = command,
        .buffer_id = UINT32_MAX,
        .out_port = OFPP_ANY,
        .out_group = OFPG_ANY,
        .ofpacts = CONST_CAST(struct ofpact *, ofpacts),
        .ofpacts_len = ofpacts_len,
    };
    fm.match = key->match;

    struct ofpbuf *fm_msg = ofputil_encode_flow_mod(&fm,
                                                    OFPUTIL_P_OF15_OXM);
    struct sent_mod *m = xzalloc(sizeof *m);
    m->xid = ((struct ofp_header *) fm_msg->data)->xid;
    m->cookie = cookie;
    m->seqno = c->put_seqno + 1;
    hmap_insert(&c->sent, &m->node, hash_int(m->xid, 0));

    struct ofputil_bundle_add_msg bam = {
        .bundle_id = c->bundle_id,
        .flags = OFPBF_ATOMIC | OFPBF_ORDERED,
        .msg = fm_msg->data,
    };
    if (c->gate_msgs && key->table_id == 0) {
        msgs = c->gate_msgs;
    }
    ovs_list_push_back(msgs, &ofputil_encode_bundle_add(OFCTRL_VERSION,
                                                        &bam)->list_node);
    ofpbuf_delete(fm_msg);
}

/* Returns the installed flow with 'key', or NULL. */
static struct installed_flow *
installed_find(const struct ofctrl *c, const struct bh_flow_key *key)
{
    return flows_find(&c->installed, key);
}

/* Makes the installed copy of 'key' be 'want' (NULL: absent), and adds to
 * 'msgs' what tells the switch so.  A flow that stays gets its actions
 * changed in place (modify), which keeps its counters and its age; only a
 * new cookie needs an add, which keeps the counters. */
static void
sync_key(struct ofctrl *c, struct ovs_list *msgs,
         const struct bh_flow_key *key, const struct bh_flow *want)
{
    struct installed_flow *have = installed_find(c, key);

    if (want) {
        if (have && have->cookie == want->cookie
            && have->wire_len == want->wire_len
            && !memcmp(have->wire, want->wire, want->wire_len)) {
            return;
        }
        if (VLOG_IS_DBG_ENABLED()) {
            struct ds s = DS_EMPTY_INITIALIZER;
            bh_flow_format(want, &s);
            VLOG_DBG("%s: %s", have ? "changed" : "missing", ds_cstr(&s));
            ds_destroy(&s);
        }
        journal_note(c, key, have);
        if (have && have->cookie == want->cookie) {
            bundle_flow_mod(c, msgs, OFPFC_MODIFY_STRICT, key, want->cookie,
                            want->ofpacts, want->ofpacts_len);
            COVERAGE_INC(ofctrl_flow_mod);
        } else {
            /* An add replaces a flow with the same match and priority. */
            bundle_flow_mod(c, msgs, OFPFC_ADD, key, want->cookie,
                            want->ofpacts, want->ofpacts_len);
            COVERAGE_INC(ofctrl_flow_add);
        }
        if (!have) {
            have = xzalloc(sizeof *have);
            bh_flow_key_clone(&have->key, key);
            hmap_insert(&c->installed, &have->key.node,
                        bh_flow_key_hash(key));
        }
        free(have->wire);
        have->wire = xmemdup(want->wire, want->wire_len);
        have->wire_len = want->wire_len;
        have->cookie = want->cookie;
    } else if (have) {
        if (VLOG_IS_DBG_ENABLED()) {
            struct ds s = DS_EMPTY_INITIALIZER;
            minimatch_format(&have->key.match, NULL, NULL, &s,
                             have->key.priority);
            VLOG_DBG("not wanted: table=%d,%s", have->key.table_id,
                     ds_cstr(&s));
            ds_destroy(&s);
        }
        journal_note(c, key, have);
        bundle_flow_mod(c, msgs, OFPFC_DELETE_STRICT, key, have->cookie,
                        NULL, 0);
        COVERAGE_INC(ofctrl_flow_del);
        hmap_remove(&c->installed, &have->key.node);
        installed_free(have);
    }
}

static void ofctrl_send_bundle(struct ofctrl *, struct ovs_list *msgs);

/* Appends to 'msgs' the meter_mod that does 'command' on meter 'm', and
 * records it so that an error names it. */
static void
meter_mod(struct ofctrl *c, struct ovs_list *msgs, uint16_t command,
          const struct bh_meter *m)
{
    struct ofputil_meter_band band = {
        .type = OFPMBT13_DROP,
        .rate = m->rate,
        .burst_size = m->burst,
    };
    struct ofputil_meter_mod mm = {
        .command = command,
        .meter = {
            .meter_id = m->id,
            .flags = OFPMF13_PKTPS | OFPMF13_BURST | OFPMF13_STATS,
            .n_bands = command == OFPMC13_DELETE ? 0 : 1,
            .bands = &band,
        },
    };
    struct ofpbuf *msg = ofputil_encode_meter_mod(OFCTRL_VERSION, &mm);
    struct sent_mod *s = xzalloc(sizeof *s);

    if (c->checking && !meter_touched(c, m->id)) {
        struct installed_meter *t = xzalloc(sizeof *t);
        t->m.id = m->id;
        hmap_insert(&c->touched_meters, &t->node, hash_int(m->id, 0));
    }

    s->xid = ((struct ofp_header *) msg->data)->xid;
    s->meter_id = m->id;
    s->seqno = c->put_seqno + 1;
    hmap_insert(&c->sent, &s->node, hash_int(s->xid, 0));
    ovs_list_push_back(msgs, &msg->list_node);
    COVERAGE_INC(ofctrl_meter_mod);
}

/* What sync_meters() passes to sync_one_meter(). */
struct meter_sync {
    struct ofctrl *c;           /* The installer. */
    struct ovs_list *msgs;      /* Meter mods to send before the bundle. */
};

/* Makes the switch hold the wanted meter 'm' (see sync_meters()). */
static void
sync_one_meter(const struct bh_meter *m, void *ms_)
{
    struct meter_sync *ms = ms_;
    struct installed_meter *have = meter_find(ms->c, m->id);

    if (!have) {
        meter_mod(ms->c, ms->msgs, OFPMC13_ADD, m);
        have = meter_insert(ms->c, m);
    } else if (have->m.rate != m->rate || have->m.burst != m->burst) {
        meter_mod(ms->c, ms->msgs, OFPMC13_MODIFY, m);
        have->m = *m;
    }
    have->seen = true;
}

/* Adds to 'before' the meter_mods that add or change the meters 'desired'
 * wants, which must precede the bundle whose flows refer to them, and to
 * 'after' the deletions of the meters nobody wants, which must follow the
 * bundle that deletes the flows that refer to them (deleting a meter
 * deletes its flows).  Meters are not part of OpenFlow bundles.  'full'
 * compares every meter with what the switch holds; otherwise only the
 * meters whose wanted state changed are looked at. */
static void
sync_meters(struct ofctrl *c, struct flow_table *desired, bool full,
            struct ovs_list *before, struct ovs_list *after)
{
    struct meter_sync ms = { .c = c, .msgs = before };
    struct hmap ids = HMAP_INITIALIZER(&ids);
    struct installed_meter *m;

    flow_table_take_meter_changes(desired, &ids);
    if (full) {
        /* Every meter: the switch's are known only from its dump. */
        HMAP_FOR_EACH (m, node, &c->meters) {
            m->seen = false;
        }
        flow_table_for_each_meter(desired, sync_one_meter, &ms);
        HMAP_FOR_EACH_SAFE (m, node, &c->meters) {
            if (!m->seen) {
                meter_mod(c, after, OFPMC13_DELETE, &m->m);
                hmap_remove(&c->meters, &m->node);
                free(m);
            }
        }
    } else {
        /* Only the meters whose wanted state changed. */
        for (struct hmap_node *node = hmap_first(&ids); node;
             node = hmap_next(&ids, node)) {
            uint32_t id = flow_table_meter_change_id(node);
            const struct bh_meter *want = flow_table_find_meter(desired, id);
            if (want) {
                sync_one_meter(want, &ms);
            } else if ((m = meter_find(c, id)) != NULL) {
                meter_mod(c, after, OFPMC13_DELETE, &m->m);
                hmap_remove(&c->meters, &m->node);
                free(m);
            }
        }
    }
    flow_table_meter_changes_destroy(&ids);
}

/* Logs and counts 'n' flows that Bulkhead did not add, about to be
 * deleted. */
static void
note_foreign(struct ofctrl *c, size_t n)
{
    if (n) {
        VLOG_WARN("removing %"PRIuSIZE" flows that Bulkhead did not add "
                  "(foreign cookie)", n);
        c->n_foreign += n;
    }
}

/* Logs and counts 'n' flows that a verification found different on the
 * switch from what was installed, about to be repaired. */
static void
note_repaired(struct ofctrl *c, size_t n)
{
    if (n) {
        VLOG_WARN("the switch's flow table differed from what was "
                  "installed in %"PRIuSIZE" flows: repairing them", n);
        COVERAGE_ADD(ofctrl_repair, n);
        c->n_repaired += n;
    }
}

/* Adds to 'msgs' the repair of what the last check found: the flows whose
 * installed copy it set to the switch's are compared with 'desired'; those
 * in an unknown state are deleted and, if wanted, added again.  Returns
 * the number of foreign flows (a cookie not of Bulkhead's) it deletes. */
static size_t
sync_repairs(struct ofctrl *c, struct ovs_list *msgs,
             const struct flow_table *desired)
{
    struct bh_flow_key *key;
    size_t n_foreign = 0;

    HMAP_FOR_EACH (key, node, &c->force) {
        struct installed_flow *have = flows_find(&c->installed, key);
        bundle_flow_mod(c, msgs, OFPFC_DELETE_STRICT, key, 0, NULL, 0);
        COVERAGE_INC(ofctrl_flow_del);
        if (have) {
            hmap_remove(&c->installed, &have->key.node);
            installed_free(have);
        }
        sync_key(c, msgs, key, wanted(c, flow_table_find(desired, key)));
    }
    HMAP_FOR_EACH (key, node, &c->repair) {
        const struct bh_flow *want = wanted(c, flow_table_find(desired,
                                                               key));
        struct installed_flow *have = flows_find(&c->installed, key);
        if (!want && have && !pipeline_cookie_is_ours(have->cookie)) {
            n_foreign++;
        }
        sync_key(c, msgs, key, want);
    }
    keys_clear(&c->force);
    keys_clear(&c->repair);
    return n_foreign;
}

/* Adds to 'msgs' what makes the switch hold exactly 'desired', comparing
 * every flow: the deletion of every installed flow not desired (flows that
 * someone else added included), and every desired flow missing or
 * different. */
static void
sync_all(struct ofctrl *c, struct ovs_list *msgs,
         const struct flow_table *desired)
{
    struct installed_flow *have;
    const struct bh_flow *f;
    size_t n_foreign = 0;

    HMAP_FOR_EACH_SAFE (have, key.node, &c->installed) {
        if (!wanted(c, flow_table_find(desired, &have->key))) {
            if (!pipeline_cookie_is_ours(have->cookie)) {
                n_foreign++;
            }
            sync_key(c, msgs, &have->key, NULL);
        }
    }
    FLOW_TABLE_FOR_EACH (f, desired) {
        sync_key(c, msgs, &f->key, wanted(c, f));
    }
    note_foreign(c, n_foreign);
}

/* Returns a barrier request whose reply confirms put 'seqno', recorded as
 * awaited; the caller sends it. */
static struct ofpbuf *
put_barrier(struct ofctrl *c, uint64_t seqno)
{
    struct ofpbuf *barrier = ofputil_encode_barrier_request(OFCTRL_VERSION);
    struct pending_barrier *b = xmalloc(sizeof *b);

    b->xid = ((struct ofp_header *) barrier->data)->xid;
    b->seqno = seqno;
    ovs_list_push_back(&c->barriers, &b->node);
    return barrier;
}

static uint64_t stage_put(struct ofctrl *, struct ovs_list *msgs,
                          struct ovs_list *gate,
                          struct ovs_list *meters_before,
                          struct ovs_list *meters_after);

/* Brings the switch to 'desired' (see ofctrl.h) and returns the sequence
 * number that ofctrl_acked_seqno() reaches once it is done, or 0 if nothing
 * could be sent (not connected, the switch's table not read yet, or a staged
 * put still in flight).  Takes the changes recorded in 'desired'
 * (flow_table_take_changes()).
 *
 * Staging.  A put onto a switch whose table 0 holds no flow (its first
 * after a cold start of the switch, or after someone emptied it) writes
 * flows that no packet can reach yet: every packet enters at table 0.  If
 * it carries at least OFCTRL_STAGE_MIN flow_mods, those past table 0 go
 * over several connections at once, a bundle each, which ovs-vswitchd
 * reads in proportionally fewer turns of its main loop (see of-fanout.h);
 * once the switch confirmed them all, table 0's flows go in one last
 * bundle on the main connection, whose barrier confirms the put: the
 * pipeline opens at once, whole, as a single bundle would have opened it.
 * Meters the flows refer to are confirmed before the connections send.  A
 * staging that fails (an error, a connection lost or not made) leaves the
 * gate shut: the table is read again, and every later put on this
 * connection goes as one bundle.  Puts wait while a staged one is in
 * flight. */
uint64_t
ofctrl_put(struct ofctrl *c, struct flow_table *desired)
{
    struct ovs_list msgs = OVS_LIST_INITIALIZER(&msgs);
    struct ovs_list meters_before = OVS_LIST_INITIALIZER(&meters_before);
    struct ovs_list meters_after = OVS_LIST_INITIALIZER(&meters_after);
    bool full = c->need_full;

    if (!rconn_is_connected(c->rconn) || c->stage
        || (full && (c->dump != DUMP_DONE || time_msec() < c->retry_at))) {
        /* A staged put in flight: the changes wait in 'desired'. */
        return 0;
    }
    struct hmap changed = HMAP_INITIALIZER(&changed);
    flow_table_take_changes(desired, &changed);

    c->bundle_id++;
    /* The repair of a finished check goes with this put. */
    bool repair = !full && c->repair_pending;
    /* Only a comparison of the whole table (or its repair) can be large
     * enough to stage, and only while nothing reaches the flows it
     * writes. */
    struct ovs_list gate = OVS_LIST_INITIALIZER(&gate);
    bool may_stage = ((full || repair) && !c->stage_failed
                      && !installed_in_table(c, 0));
    c->gate_msgs = may_stage ? &gate : NULL;
    if (full || (repair && c->meters_differ)
        || flow_table_meters_changed(desired)) {
        sync_meters(c, desired, full || repair, &meters_before,
                    &meters_after);
    }
    if (full) {
        /* Compare everything with what the switch holds. */
        COVERAGE_INC(ofctrl_full_sync);
        sync_all(c, &msgs, desired);
        c->need_full = false;
        if (c->verifying) {
            /* What the dump showed different from what was installed is
             * repaired by this put along with the changes it carries. */
            note_repaired(c, c->n_differ);
            c->n_differ = 0;
            c->verifying = false;
            /* Finished once the switch answered it (an error it raises
             * comes before the barrier reply). */
            c->verify_seqno = c->put_seqno + 1;
        } else {
            VLOG_INFO("synchronized the switch's flow table: %"PRIuSIZE
                      " flows, %"PRIuSIZE" changes",
                      hmap_count(&c->installed),
                      ovs_list_size(&msgs) + ovs_list_size(&gate));
        }
    } else {
        /* A change to withheld flows tries them again: all of their
         * cookie, so the whole table is compared with the installed
         * copy. */
        const struct bh_flow_key *key;
        bool retry = false;
        HMAP_FOR_EACH (key, node, &changed) {
            const struct bh_flow *f = flow_table_find(desired, key);
            struct refusal *r = f ? refusal_find(c, f->cookie) : NULL;
            if (r) {
                refusal_remove(c, r);
                retry = true;
            }
        }
        if (retry) {
            sync_all(c, &msgs, desired);
        } else {
            HMAP_FOR_EACH (key, node, &changed) {
                sync_key(c, &msgs, key, flow_table_find(desired, key));
            }
        }
        if (repair) {
            note_foreign(c, sync_repairs(c, &msgs, desired));
            note_repaired(c, c->n_check_differ);
            c->n_check_differ = 0;
            c->meters_differ = false;
            c->repair_pending = false;
        }
    }
    bh_flow_keys_destroy(&changed);
    c->gate_msgs = NULL;
    if (may_stage && ovs_list_size(&msgs) >= OFCTRL_STAGE_MIN) {
        if (repair) {
            /* Finished once the switch answered it. */
            c->verify_seqno = c->put_seqno + 1;
        }
        return stage_put(c, &msgs, &gate, &meters_before, &meters_after);
    }
    ovs_list_push_back_all(&msgs, &gate);

    if (ovs_list_is_empty(&msgs) && ovs_list_is_empty(&meters_before)
        && ovs_list_is_empty(&meters_after) && !full && c->put_seqno) {
        /* Nothing to change: the last put stands for this one too. */
        if (repair) {
            /* The puts since the check made the repair. */
            c->n_verified++;
        }
        return c->put_seqno;
    }
    if (repair) {
        /* Finished once the switch answered it. */
        c->verify_seqno = c->put_seqno + 1;
    }

    struct ofpbuf *msg;
    LIST_FOR_EACH_POP (msg, list_node, &meters_before) {
        rconn_send(c->rconn, msg, NULL);
    }
    if (!ovs_list_is_empty(&msgs)) {
        ofctrl_send_bundle(c, &msgs);
    }
    LIST_FOR_EACH_POP (msg, list_node, &meters_after) {
        rconn_send(c->rconn, msg, NULL);
    }
    /* The barrier confirms the bundle, or, after a reconnection that found
     * the table as wanted, that the switch holds what it was read to hold:
     * either way vNICs waiting for their installed marks get them. */
    rconn_send(c->rconn, put_barrier(c, ++c->put_seqno), NULL);
    return c->put_seqno;
}

/* Appends to 'out' the bundle 'bundle_id' that carries the flow_mods in
 * 'msgs' (wrapped for it), atomic and ordered: its opening, them, its
 * commit.  Empties 'msgs'. */
static void
append_bundle(struct ofctrl *c, struct ovs_list *out, uint32_t bundle_id,
              struct ovs_list *msgs)
{
    struct ofputil_bundle_ctrl_msg bc = {
        .bundle_id = bundle_id,
        .type = OFPBCT_OPEN_REQUEST,
        .flags = OFPBF_ATOMIC | OFPBF_ORDERED,
    };
    ovs_list_push_back(out, &ofputil_encode_bundle_ctrl_request(
                           OFCTRL_VERSION, &bc)->list_node);
    ovs_list_push_back_all(out, msgs);
    bc.type = OFPBCT_COMMIT_REQUEST;
    ovs_list_push_back(out, &ofputil_encode_bundle_ctrl_request(
                           OFCTRL_VERSION, &bc)->list_node);
    c->n_bundles++;
    COVERAGE_INC(ofctrl_bundle);
}

/* Sends the flow_mods in 'msgs' as one atomic, ordered bundle. */
static void
ofctrl_send_bundle(struct ofctrl *c, struct ovs_list *msgs)
{
    struct ovs_list out = OVS_LIST_INITIALIZER(&out);
    struct ofpbuf *msg;

    append_bundle(c, &out, c->bundle_id, msgs);
    LIST_FOR_EACH_POP (msg, list_node, &out) {
        rconn_send(c->rconn, msg, NULL);
    }
}

/* Frees the staged put of 'c', if any, and what it had left to send, and
 * closes its connections. */
static void
stage_destroy(struct ofctrl *c)
{
    struct stage *st = c->stage;

    if (st) {
        for (size_t i = 0; i < OFCTRL_STAGE_CONNS; i++) {
            ofpbuf_list_delete(&st->parts[i]);
        }
        ofpbuf_list_delete(&st->gate);
        ofpbuf_list_delete(&st->meters_after);
        of_fanout_destroy(st->fanout);
        free(st);
        c->stage = NULL;
    }
}

/* Handles an error that came on a staging connection (an
 * of_fanout_error_cb): as one on the main connection. */
static void
stage_error(void *c_, const struct ofp_header *oh)
{
    ofctrl_recv_error(c_, oh);
}

/* Sends the put whose flow_mods are 'msgs' (past table 0) and 'gate'
 * (table 0) in stages (see ofctrl_put()), with the meter mods
 * 'meters_before' and 'meters_after', and returns its sequence number.
 * Takes the messages. */
static uint64_t
stage_put(struct ofctrl *c, struct ovs_list *msgs, struct ovs_list *gate,
          struct ovs_list *meters_before, struct ovs_list *meters_after)
{
    struct stage *st = xzalloc(sizeof *st);
    size_t n = ovs_list_size(msgs);
    size_t n_gate = ovs_list_size(gate);

    st->fanout = of_fanout_create(c->target, 1u << OFCTRL_VERSION,
                                  OFCTRL_STAGE_CONNS, stage_error, c);
    c->stage = st;
    st->seqno = ++c->put_seqno;

    /* Part i takes the flow_mods from n*i/n_parts on. */
    size_t n_parts = MAX(1, MIN(OFCTRL_STAGE_CONNS,
                                n / OFCTRL_STAGE_PART_MIN));
    for (size_t i = 0; i < OFCTRL_STAGE_CONNS; i++) {
        ovs_list_init(&st->parts[i]);
        if (i >= n_parts) {
            continue;
        }
        struct ovs_list part = OVS_LIST_INITIALIZER(&part);
        size_t end = n * (i + 1) / n_parts;
        for (size_t k = n * i / n_parts; k < end; k++) {
            ovs_list_push_back(&part, ovs_list_pop_front(msgs));
        }
        append_bundle(c, &st->parts[i], c->bundle_id, &part);
        ovs_list_push_back(&st->parts[i], &ofputil_encode_barrier_request(
                               OFCTRL_VERSION)->list_node);
    }
    ovs_list_init(&st->gate);
    if (!ovs_list_is_empty(gate)) {
        append_bundle(c, &st->gate, c->bundle_id, gate);
    }
    ovs_list_init(&st->meters_after);
    ovs_list_push_back_all(&st->meters_after, meters_after);

    if (!ovs_list_is_empty(meters_before)) {
        /* The meters first, spread too, each list confirmed by a
         * barrier: a flow_mod that names a meter the switch does not hold
         * yet is refused. */
        struct ovs_list lists[OFCTRL_STAGE_CONNS];
        for (size_t i = 0; i < OFCTRL_STAGE_CONNS; i++) {
            ovs_list_init(&lists[i]);
        }
        for (size_t i = 0; !ovs_list_is_empty(meters_before); i++) {
            ovs_list_push_back(&lists[i % OFCTRL_STAGE_CONNS],
                               ovs_list_pop_front(meters_before));
        }
        for (size_t i = 0; i < OFCTRL_STAGE_CONNS; i++) {
            if (!ovs_list_is_empty(&lists[i])) {
                ovs_list_push_back(&lists[i], &ofputil_encode_barrier_request(
                                       OFCTRL_VERSION)->list_node);
            }
        }
        of_fanout_send(st->fanout, lists);
        st->meters_sent = true;
    } else {
        of_fanout_send(st->fanout, st->parts);
    }
    c->n_staged++;
    COVERAGE_INC(ofctrl_staged_put);
    VLOG_INFO("staging %"PRIuSIZE" flow changes over %"PRIuSIZE
              " connections, then %"PRIuSIZE" in table 0", n, n_parts,
              n_gate);
    return st->seqno;
}

/* Runs the staging connections of 'c' and follows its staged put: once
 * its meters are confirmed, sends its flows; once they are confirmed,
 * sends table 0's bundle and the barrier that confirms the put.  If a part
 * failed, drops the rest: the table is read again and compared whole. */
static void
stage_run(struct ofctrl *c)
{
    struct stage *st = c->stage;

    if (!st) {
        return;
    }
    of_fanout_run(st->fanout);
    enum of_fanout_state state = of_fanout_get_state(st->fanout);
    if (state == OF_FANOUT_BUSY) {
        return;
    }
    if (state == OF_FANOUT_FAILED || c->need_full) {
        VLOG_WARN("a staged put over several connections failed: reading "
                  "the switch's table again; later puts go as one bundle");
        c->stage_failed = true;
        if (!c->need_full) {
            ofctrl_restart_sync(c);
        }
        stage_destroy(c);
        return;
    }
    if (st->meters_sent) {
        st->meters_sent = false;
        of_fanout_send(st->fanout, st->parts);
        return;
    }

    ovs_list_push_back_all(&st->gate, &st->meters_after);
    ovs_list_push_back(&st->gate, &put_barrier(c, st->seqno)->list_node);
    struct ofpbuf *msg;
    LIST_FOR_EACH_POP (msg, list_node, &st->gate) {
        rconn_send(c->rconn, msg, NULL);
    }
    stage_destroy(c);
}

/* Returns true if the switch's table was just read after a (re)connection
 * and ofctrl_remove_stale() should run now, before anything else is
 * sent. */
bool
ofctrl_needs_stale_check(const struct ofctrl *c)
{
    return (rconn_is_connected(c->rconn) && c->dump == DUMP_DONE
            && c->need_full && !c->stale_checked && !c->verifying);
}

/* Returns the zone of the vNIC that meter 'id' belongs to (its broadcast
 * meter, or its default deny's log meter), or 0 if 'id' is no vNIC's. */
static uint32_t
vnic_meter_zone(uint32_t id)
{
    uint32_t zone = id & 0xffffff;

    if (zone < 1 || zone > CT_ZONE_MAX) {
        return 0;
    }
    return id == zone || id == FIREWALL_DENY_METER(zone) ? zone : 0;
}

/* Deletes at once, in one bundle, the flows of vNICs that are not there
 * any more: flows with a vNIC cookie (or a rule statistics cookie, which
 * names a vNIC too) whose zone ('zone_ofport[Z]', the
 * ofport of the Interface that keeps zone Z, or 0) no Interface keeps, or
 * that match another ofport than the one of the Interface that keeps it.
 * Such flows were made for a vNIC that left while the controller was down;
 * if its tap name came back (libvirt reuses vnetN, and OVS gives a name its
 * old ofport), they would let a newcomer send and receive as the departed
 * VM until the databases are read.  Returns the number of flows deleted. */
size_t
ofctrl_remove_stale(struct ofctrl *c, const int64_t *zone_ofport)
{
    struct ovs_list msgs = OVS_LIST_INITIALIZER(&msgs);
    struct installed_flow *f;
    size_t n = 0;

    c->stale_checked = true;
    c->bundle_id++;
    HMAP_FOR_EACH_SAFE (f, key.node, &c->installed) {
        unsigned int kind = f->cookie >> 56;
        if (kind != PL_COOKIE_VNIC && kind != PL_COOKIE_VNIC_RULE) {
            continue;
        }
        uint32_t zone = f->cookie & 0xffffffff;
        int64_t ofport = zone <= CT_ZONE_MAX ? zone_ofport[zone] : 0;
        struct match m;
        minimatch_expand(&f->key.match, &m);
        bool stale = (!ofport
                      || (m.wc.masks.in_port.ofp_port
                          && ofp_to_u16(m.flow.in_port.ofp_port) != ofport));
        if (stale) {
            bundle_flow_mod(c, &msgs, OFPFC_DELETE_STRICT, &f->key, 0,
                            NULL, 0);
            hmap_remove(&c->installed, &f->key.node);
            installed_free(f);
            n++;
        }
    }
    /* Their meters (a vNIC's broadcast meter is its zone, its default
     * deny's log meter FIREWALL_DENY_METER(zone)) go after them: deleting a
     * meter deletes the flows that use it.  Other meters (a logged rule's,
     * the host's) are no vNIC's: whether they are wanted is known only
     * once the databases are read, and the full put deletes them then if
     * not (after the flows that use them). */
    struct ovs_list meter_msgs = OVS_LIST_INITIALIZER(&meter_msgs);
    struct installed_meter *m;
    HMAP_FOR_EACH_SAFE (m, node, &c->meters) {
        uint32_t zone = vnic_meter_zone(m->m.id);
        if (zone && !zone_ofport[zone]) {
            meter_mod(c, &meter_msgs, OFPMC13_DELETE, &m->m);
            hmap_remove(&c->meters, &m->node);
            free(m);
        }
    }
    if (n) {
        VLOG_WARN("removed %"PRIuSIZE" flows of vNICs that left while the "
                  "controller was down", n);
        c->n_stale += n;
        ofctrl_send_bundle(c, &msgs);
    }
    struct ofpbuf *msg;
    LIST_FOR_EACH_POP (msg, list_node, &meter_msgs) {
        rconn_send(c->rconn, msg, NULL);
    }
    return n;
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
    if (c->n_staged || c->stage || c->stage_failed) {
        ds_put_format(s, "  puts staged over several connections: %"PRIu64
                      "%s%s\n", c->n_staged,
                      c->stage ? ", one in flight" : "",
                      c->stage_failed ? ", one failed on this connection"
                      : "");
    }
    ds_put_format(s, "  table reads: %"PRIu64", foreign flows removed: %"
                  PRIu64"\n", c->n_dumps, c->n_foreign);
    if (c->n_stale) {
        ds_put_format(s, "  stale vNIC flows removed at start: %"PRIu64"\n",
                      c->n_stale);
    }
    if (c->n_refused) {
        ds_put_format(s, "  flows refused by the switch: %"PRIu64
                      ", owners withheld now: %"PRIuSIZE"\n", c->n_refused,
                      hmap_count(&c->refused));
    }
    if (c->n_verified) {
        ds_put_format(s, "  verifications: %"PRIu64", flows repaired: %"
                      PRIu64"\n", c->n_verified, c->n_repaired);
    }
    if (c->n_emptied) {
        ds_put_format(s, "  table found emptied by the switch: %"PRIu64
                      " times\n", c->n_emptied);
    }
    ds_put_format(s, "  put seqno: %"PRIu64", acked: %"PRIu64"%s\n",
                  c->put_seqno, c->acked_seqno,
                  c->need_full ? ", full comparison pending" : "");
}

/* Returns how many flows the switch holds, as far as 'c' knows: its copy
 * of the switch's table. */
size_t
ofctrl_n_installed(const struct ofctrl *c)
{
    return hmap_count(&c->installed);
}

/* Returns what the switch said when it refused a flow of 'cookie', whose
 * flows are therefore withheld, or NULL if they are not. */
const char *
ofctrl_refused(const struct ofctrl *c, uint64_t cookie)
{
    const struct refusal *r = refusal_find(c, cookie);

    return r ? r->error : NULL;
}

/* Returns the number of flows the switch refused so far. */
uint64_t
ofctrl_n_refused(const struct ofctrl *c)
{
    return c->n_refused;
}

/* Returns how many owners (cookies) have their flows withheld now because
 * the switch refused one of them. */
size_t
ofctrl_n_withheld(const struct ofctrl *c)
{
    return hmap_count(&c->refused);
}
