/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#include <config.h>
#include "controller/flow-table.h"

#include <stdlib.h>
#include <string.h>
#include "coverage.h"
#include "hash.h"
#include "nx-match.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/vlog.h"
#include "svec.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(flow_table);

COVERAGE_DEFINE(flow_table_clash);
COVERAGE_DEFINE(flow_table_parse_error);

/* The version whose encoding normalizes matches and actions: the one the
 * installer speaks (ofctrl.c). */
#define FLOW_TABLE_VERSION OFP15_VERSION

/* An owner: a name and the flows it wants. */
struct flow_owner {
    char *name;                 /* Owner name (the shash's key too). */
    struct ovs_list wants;      /* struct flow_want, by 'owner_node'. */
    struct bh_meter meter;      /* Its meter; id 0: none. */
    struct hmap_node meter_node;  /* In the table's 'meters' by id, if it
                                   * has a meter. */
};

/* A meter id whose wanted meter changed (added, changed or dropped). */
struct meter_change {
    struct hmap_node node;      /* In the table's 'changed_meters'. */
    uint32_t id;                /* The meter. */
};

/* What one owner wants for one key. */
struct flow_want {
    struct ovs_list flow_node;  /* In the flow's 'wants'. */
    struct ovs_list owner_node; /* In the owner's 'wants'. */
    struct bh_flow *flow;       /* The flow (key) it is about. */
    struct flow_owner *owner;   /* Who wants it. */
    uint64_t cookie;            /* Cookie it asks for. */
    struct ofpact *ofpacts;     /* Normalized actions. */
    size_t ofpacts_len;         /* Length of 'ofpacts' in bytes. */
    char *key_text;             /* "table=T,priority=P,MATCH" as written. */
    char *actions_text;         /* Actions as written. */
    bool conj_only;             /* 'ofpacts' are all conjunction(). */
};

/* Flow keys. */

/* Returns the hash of 'key'. */
uint32_t
bh_flow_key_hash(const struct bh_flow_key *key)
{
    return minimatch_hash(&key->match,
                          ((uint32_t) key->table_id << 16) | key->priority);
}

/* Returns true if 'a' and 'b' are the same key. */
bool
bh_flow_key_equals(const struct bh_flow_key *a, const struct bh_flow_key *b)
{
    return (a->table_id == b->table_id && a->priority == b->priority
            && minimatch_equal(&a->match, &b->match));
}

/* Initializes 'dst' as a copy of 'src' (not in any table). */
void
bh_flow_key_clone(struct bh_flow_key *dst, const struct bh_flow_key *src)
{
    dst->table_id = src->table_id;
    dst->priority = src->priority;
    minimatch_clone(&dst->match, &src->match);
}

/* Frees what 'key' holds. */
void
bh_flow_key_destroy(struct bh_flow_key *key)
{
    minimatch_destroy(&key->match);
}

/* Frees every key in 'keys' (struct bh_flow_key, malloc'd) and 'keys'. */
void
bh_flow_keys_destroy(struct hmap *keys)
{
    struct bh_flow_key *key;

    HMAP_FOR_EACH_POP (key, node, keys) {
        bh_flow_key_destroy(key);
        free(key);
    }
    hmap_destroy(keys);
}

/* Normalizing. */

/* Replaces 'match' by what it becomes after a trip through OpenFlow
 * encoding.  Returns false if it does not survive the trip. */
static bool
normalize_match(struct match *match)
{
    struct ofpbuf b;
    uint64_t stub[1024 / 8];

    ofpbuf_use_stub(&b, stub, sizeof stub);
    oxm_put_match(&b, match, FLOW_TABLE_VERSION);
    enum ofperr error = oxm_pull_match(&b, false, NULL, NULL, match);
    ofpbuf_uninit(&b);
    return !error;
}

/* Stores in 'out' (cleared first) what 'ofpacts' become after one trip
 * through OpenFlow encoding.  Returns false if they do not survive it. */
static bool
ofpacts_round_trip(const struct ofpact *ofpacts, size_t len,
                   struct ofpbuf *out)
{
    struct ofpbuf b;
    uint64_t stub[1024 / 8];

    ofpbuf_use_stub(&b, stub, sizeof stub);
    ofpacts_put_openflow_instructions(ofpacts, len, &b, FLOW_TABLE_VERSION);
    enum ofperr error = ofpacts_pull_openflow_instructions(
        &b, b.size, FLOW_TABLE_VERSION, NULL, NULL, out);
    ofpbuf_uninit(&b);
    return !error;
}

/* Stores in 'out' (cleared first) what 'ofpacts' become once encoding and
 * decoding no longer change them: what a flow dump gives back.  Some actions
 * need two trips (an action parsed from text remembers its text form, which
 * picks its first encoding; decoding remembers the wire form, which may pick
 * another).  Returns false if they do not survive it. */
static bool
normalize_ofpacts(const struct ofpact *ofpacts, size_t len,
                  struct ofpbuf *out)
{
    struct ofpbuf once;
    bool ok;

    ofpbuf_init(&once, len);
    ok = (ofpacts_round_trip(ofpacts, len, &once)
          && ofpacts_round_trip(once.data, once.size, out));
    ofpbuf_uninit(&once);
    return ok;
}

/* Stores in '*wire' (which the caller frees) and '*wire_len' 'ofpacts'
 * encoded as OpenFlow 1.5 instructions.  Two sets of actions do the same
 * thing exactly when their encodings are equal, whatever padding bytes
 * their decoded forms carry. */
void
bh_ofpacts_to_wire(const struct ofpact *ofpacts, size_t ofpacts_len,
                   void **wire, size_t *wire_len)
{
    struct ofpbuf b;

    ofpbuf_init(&b, ofpacts_len + 16);
    ofpacts_put_openflow_instructions(ofpacts, ofpacts_len, &b,
                                      FLOW_TABLE_VERSION);
    *wire_len = b.size;
    *wire = ofpbuf_steal_data(&b);
}

/* Returns true if 'ofpacts' holds only conjunction() actions (and at least
 * one). */
static bool
ofpacts_are_conjunctions(const struct ofpact *ofpacts, size_t len)
{
    const struct ofpact *a;

    OFPACT_FOR_EACH (a, ofpacts, len) {
        if (a->type != OFPACT_CONJUNCTION) {
            return false;
        }
    }
    return len > 0;
}

/* Owners. */

/* Returns the owner 'name' of 'ft', creating it if 'create'. */
static struct flow_owner *
find_owner(struct flow_table *ft, const char *name, bool create)
{
    struct flow_owner *o = shash_find_data(&ft->owners, name);

    if (!o && create) {
        o = xmalloc(sizeof *o);
        o->name = xstrdup(name);
        ovs_list_init(&o->wants);
        memset(&o->meter, 0, sizeof o->meter);
        shash_add(&ft->owners, name, o);
    }
    return o;
}

/* Records that what the table wants of meter 'id' may have changed. */
static void
note_meter_changed(struct flow_table *ft, uint32_t id)
{
    struct meter_change *mc;

    if (ft->untracked) {
        return;
    }
    HMAP_FOR_EACH_WITH_HASH (mc, node, hash_int(id, 0), &ft->changed_meters) {
        if (mc->id == id) {
            return;
        }
    }
    mc = xmalloc(sizeof *mc);
    mc->id = id;
    hmap_insert(&ft->changed_meters, &mc->node, hash_int(id, 0));
}

/* Makes owner 'o' want no meter. */
static void
drop_meter(struct flow_table *ft, struct flow_owner *o)
{
    if (o->meter.id) {
        note_meter_changed(ft, o->meter.id);
        hmap_remove(&ft->meters, &o->meter_node);
        memset(&o->meter, 0, sizeof o->meter);
    }
}

/* The table. */

/* Initializes 'ft' as empty. */
void
flow_table_init(struct flow_table *ft)
{
    hmap_init(&ft->flows);
    shash_init(&ft->owners);
    ft->n_clashes = 0;
    ft->n_errors = 0;
    hmap_init(&ft->changed);
    hmap_init(&ft->meters);
    hmap_init(&ft->changed_meters);
    ft->untracked = false;
    ft->last_actions = NULL;
    ft->last_ofpacts = NULL;
    ft->last_ofpacts_len = 0;
    ovs_list_init(&ft->stale);
}

/* Stops ('untracked') or resumes recording which keys and meters change.
 * While the next installation compares the whole table with the switch's
 * anyway (a cold start, a reconnection), recording tens of thousands of
 * changed keys is work for nothing. */
void
flow_table_set_untracked(struct flow_table *ft, bool untracked)
{
    ft->untracked = untracked;
}

/* Records that the result for 'key' changed. */
static void
note_changed(struct flow_table *ft, const struct bh_flow_key *key)
{
    if (ft->untracked) {
        return;
    }

    uint32_t hash = bh_flow_key_hash(key);
    struct bh_flow_key *k;

    HMAP_FOR_EACH_WITH_HASH (k, node, hash, &ft->changed) {
        if (bh_flow_key_equals(k, key)) {
            return;
        }
    }
    k = xmalloc(sizeof *k);
    bh_flow_key_clone(k, key);
    hmap_insert(&ft->changed, &k->node, hash);
}

static void
want_free(struct flow_want *w)
{
    free(w->ofpacts);
    free(w->key_text);
    free(w->actions_text);
    free(w);
}

static void
flow_free(struct bh_flow *f)
{
    bh_flow_key_destroy(&f->key);
    free(f->wire);
    free(f->merged);
    free(f->merged_text);
    free(f);
}

/* Removes every flow from 'ft'. */
void
flow_table_clear(struct flow_table *ft)
{
    struct shash_node *node;
    struct bh_flow *f;

    ovs_list_init(&ft->stale);
    HMAP_FOR_EACH_POP (f, key.node, &ft->flows) {
        note_changed(ft, &f->key);
        struct flow_want *w;
        LIST_FOR_EACH_POP (w, flow_node, &f->wants) {
            want_free(w);
        }
        flow_free(f);
    }
    SHASH_FOR_EACH (node, &ft->owners) {
        struct flow_owner *o = node->data;
        drop_meter(ft, o);
        free(o->name);
        free(o);
    }
    shash_clear(&ft->owners);
    ft->n_clashes = 0;
}

/* Frees what 'ft' holds. */
void
flow_table_destroy(struct flow_table *ft)
{
    flow_table_clear(ft);
    hmap_destroy(&ft->flows);
    shash_destroy(&ft->owners);
    bh_flow_keys_destroy(&ft->changed);
    hmap_destroy(&ft->meters);
    struct meter_change *mc;
    HMAP_FOR_EACH_POP (mc, node, &ft->changed_meters) {
        free(mc);
    }
    hmap_destroy(&ft->changed_meters);
    free(ft->last_actions);
    free(ft->last_ofpacts);
}

static void flow_update_result(struct flow_table *, struct bh_flow *);

/* Marks 'f''s result to be recomputed before it is next shown (see
 * flow_table_settle()). */
static void
mark_stale(struct flow_table *ft, struct bh_flow *f)
{
    if (!f->stale) {
        f->stale = true;
        ovs_list_push_back(&ft->stale, &f->stale_node);
    }
}

/* Returns the flow of 'ft' with 'key', or NULL, its result possibly
 * stale. */
static struct bh_flow *
find_flow(const struct flow_table *ft, const struct bh_flow_key *key)
{
    struct bh_flow *f;

    HMAP_FOR_EACH_WITH_HASH (f, key.node, bh_flow_key_hash(key),
                             &ft->flows) {
        if (bh_flow_key_equals(&f->key, key)) {
            return f;
        }
    }
    return NULL;
}

/* Recomputes the result of every flow whose wants changed since it was
 * last computed.  Adding and removing wants only marks their flow stale:
 * a flow that many owners want with conjunctions (a remote group's member,
 * for each rule that names the group) would otherwise merge them all again
 * at every addition, which is quadratic in its owners.  Every function
 * that shows a flow's result settles first; the table is const there in
 * what its user sees. */
void
flow_table_settle(const struct flow_table *ft_)
{
    struct flow_table *ft = CONST_CAST(struct flow_table *, ft_);
    struct bh_flow *f;

    LIST_FOR_EACH_POP (f, stale_node, &ft->stale) {
        f->stale = false;
        flow_update_result(ft, f);
    }
}

/* Settles 'ft' (see flow_table_settle()) and returns it. */
const struct flow_table *
flow_table_settled(const struct flow_table *ft)
{
    if (!ovs_list_is_empty(&ft->stale)) {
        flow_table_settle(ft);
    }
    return ft;
}

/* Returns the flow of 'ft' with 'key', or NULL. */
const struct bh_flow *
flow_table_find(const struct flow_table *ft, const struct bh_flow_key *key)
{
    return find_flow(flow_table_settled(ft), key);
}

/* Orders conjunction actions by id, clause and number of clauses. */
static int
compare_conjunctions(const void *a_, const void *b_)
{
    const struct ofpact_conjunction *a = *(const void *const *) a_;
    const struct ofpact_conjunction *b = *(const void *const *) b_;

    if (a->id != b->id) {
        return a->id < b->id ? -1 : 1;
    }
    if (a->clause != b->clause) {
        return a->clause < b->clause ? -1 : 1;
    }
    return a->n_clauses < b->n_clauses ? -1 : a->n_clauses > b->n_clauses;
}

/* Stores in 'out' the union of the conjunction() clauses of every owner of
 * 'f', sorted and without duplicates, normalized. */
static void
merge_conjunctions(const struct bh_flow *f, struct ofpbuf *out)
{
    const struct ofpact_conjunction **conjs = NULL;
    size_t n = 0, allocated = 0;
    const struct flow_want *w;

    LIST_FOR_EACH (w, flow_node, &f->wants) {
        const struct ofpact *a;
        OFPACT_FOR_EACH (a, w->ofpacts, w->ofpacts_len) {
            if (n >= allocated) {
                conjs = x2nrealloc(conjs, &allocated, sizeof *conjs);
            }
            conjs[n++] = ofpact_get_CONJUNCTION(a);
        }
    }
    qsort(conjs, n, sizeof *conjs, compare_conjunctions);

    struct ofpbuf merged;
    ofpbuf_init(&merged, 0);
    for (size_t i = 0; i < n; i++) {
        if (i && !compare_conjunctions(&conjs[i - 1], &conjs[i])) {
            continue;
        }
        struct ofpact_conjunction *c = ofpact_put_CONJUNCTION(&merged);
        c->id = conjs[i]->id;
        c->clause = conjs[i]->clause;
        c->n_clauses = conjs[i]->n_clauses;
    }
    normalize_ofpacts(merged.data, merged.size, out);
    ofpbuf_uninit(&merged);
    free(conjs);
}

/* Returns the want of 'f' that came first (its result's, unless merged). */
static const struct flow_want *
first_want(const struct bh_flow *f)
{
    return CONTAINER_OF(ovs_list_front(&f->wants), struct flow_want,
                        flow_node);
}

/* Returns true if 'w' wants the actions whose OpenFlow encoding is 'wire'
 * ('len' bytes): decoded ofpacts of the same actions may differ in their
 * padding bytes, their encodings do not (see bh_ofpacts_to_wire()). */
static bool
want_has_wire(const struct flow_want *w, const void *wire, size_t len)
{
    void *ww;
    size_t wl;

    bh_ofpacts_to_wire(w->ofpacts, w->ofpacts_len, &ww, &wl);
    bool same = wl == len && !memcmp(ww, wire, len);
    free(ww);
    return same;
}

/* Recomputes what the switch should hold for 'f' from its owners' wants,
 * and records a change if that differs from before. */
static void
flow_update_result(struct flow_table *ft, struct bh_flow *f)
{
    const struct flow_want *first = CONTAINER_OF(ovs_list_front(&f->wants),
                                                 struct flow_want,
                                                 flow_node);
    bool all_conj = true, clash = false;
    const struct flow_want *w;

    void *first_wire = NULL;    /* 'first''s actions encoded, once. */
    size_t first_len = 0;
    LIST_FOR_EACH (w, flow_node, &f->wants) {
        all_conj = all_conj && w->conj_only;
        if (w != first && !clash
            && !ofpacts_equal(w->ofpacts, w->ofpacts_len, first->ofpacts,
                              first->ofpacts_len)) {
            if (!first_wire) {
                bh_ofpacts_to_wire(first->ofpacts, first->ofpacts_len,
                                   &first_wire, &first_len);
            }
            clash = !want_has_wire(w, first_wire, first_len);
        }
    }
    free(first_wire);

    /* The first owner's actions, or every owner's conjunctions merged. */
    free(f->merged);
    free(f->merged_text);
    f->merged = NULL;
    f->merged_text = NULL;
    if (all_conj && clash) {
        struct ofpbuf merged;
        ofpbuf_init(&merged, 0);
        merge_conjunctions(f, &merged);
        struct ds s = DS_EMPTY_INITIALIZER;
        struct ofpact_format_params fp = { .s = &s };
        ofpacts_format(merged.data, merged.size, &fp);
        f->merged_text = ds_steal_cstr(&s);
        f->ofpacts_len = merged.size;
        f->merged = ofpbuf_steal_data(&merged);
        f->ofpacts = f->merged;
        f->actions_text = f->merged_text;
        clash = false;
    } else {
        f->ofpacts = first->ofpacts;
        f->ofpacts_len = first->ofpacts_len;
        f->actions_text = first->actions_text;
    }
    f->key_text = first->key_text;

    if (clash && !f->clash) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);
        const struct flow_want *last = CONTAINER_OF(ovs_list_back(&f->wants),
                                                    struct flow_want,
                                                    flow_node);
        VLOG_WARN_RL(&rl, "%s and %s want flow %s with different actions; "
                     "%s wins", first->owner->name, last->owner->name,
                     first->key_text, first->owner->name);
        COVERAGE_INC(flow_table_clash);
    }
    ft->n_clashes += (int) clash - (int) f->clash;
    f->clash = clash;

    /* Owners that agree on the flow (the same actions, or conjunctions
     * merged) give it the smallest of their cookies: the flow then depends
     * on who wants it, never on the order in which they came, which
     * differs between incremental processing and a full computation (a
     * restart would otherwise rewrite the cookie of a flow that nothing
     * changed).  A clash keeps the first owner's, with its actions. */
    uint64_t cookie = first->cookie;
    if (!clash) {
        LIST_FOR_EACH (w, flow_node, &f->wants) {
            cookie = MIN(cookie, w->cookie);
        }
    }

    void *wire;
    size_t wire_len;
    bh_ofpacts_to_wire(f->ofpacts, f->ofpacts_len, &wire, &wire_len);
    if (!f->wire || f->cookie != cookie || f->wire_len != wire_len
        || memcmp(f->wire, wire, wire_len)) {
        note_changed(ft, &f->key);
    }
    free(f->wire);
    f->wire = wire;
    f->wire_len = wire_len;
    f->cookie = cookie;
}

/* Parses the flow "KEY_TEXT,actions=ACTIONS" into a normalized key and
 * actions ('ofpacts', which the caller initialized).  Returns false, with a
 * log line, if it does not parse. */
static bool
parse_flow__(const char *key_text, const char *actions,
             struct bh_flow_key *key, struct ofpbuf *ofpacts)
{
    char *text = xasprintf("%s,actions=%s", key_text, actions);
    struct ofputil_flow_mod fm;
    enum ofputil_protocol usable;
    char *error = parse_ofp_str(&fm, OFPFC_ADD, text, NULL, NULL, &usable);
    bool ok = !error;

    if (ok) {
        struct match match;
        minimatch_expand(&fm.match, &match);
        ok = (normalize_match(&match)
              && normalize_ofpacts(fm.ofpacts, fm.ofpacts_len, ofpacts));
        if (ok) {
            key->table_id = fm.table_id;
            key->priority = fm.priority;
            minimatch_init(&key->match, &match);
        } else {
            error = xstrdup("does not survive OpenFlow 1.5 encoding");
        }
        minimatch_destroy(&fm.match);
        free(fm.ofpacts);
    }
    if (!ok) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);
        VLOG_ERR_RL(&rl, "flow \"%s\" refused: %s", text, error);
        COVERAGE_INC(flow_table_parse_error);
        free(error);
    }
    free(text);
    return ok;
}

/* Parses 'key_text' ("table=T,priority=P[,MATCH]") into 'key', normalized
 * as flow_table_add() normalizes the keys of its flows.  If 'ofpacts' is
 * nonnull, they are actions parsed before (for another match), and must
 * fit this match as a parse of the whole flow would require.  Returns NULL,
 * or an error message (which the caller frees) and then 'key' is not
 * initialized. */
static char *
parse_key(const char *key_text, struct ofpact *ofpacts, size_t ofpacts_len,
          struct bh_flow_key *key)
{
    char *text = xasprintf("%s,actions=drop", key_text);
    struct ofputil_flow_mod fm;
    enum ofputil_protocol usable;
    char *error = parse_ofp_str(&fm, OFPFC_ADD, text, NULL, NULL, &usable);

    free(text);
    if (error) {
        return error;
    }

    struct match match;
    minimatch_expand(&fm.match, &match);
    if (ofpacts) {
        struct ofpact_check_params cp = {
            .match = &match,
            .max_ports = OFPP_MAX,
            .table_id = fm.table_id,
            .n_tables = 255,
        };
        if (ofpacts_check(ofpacts, ofpacts_len, &cp)
            || !(usable & cp.usable_protocols)) {
            error = xstrdup("the actions do not fit the match");
        }
    }
    if (!error && !normalize_match(&match)) {
        error = xstrdup("does not survive OpenFlow 1.5 encoding");
    }
    if (!error) {
        key->table_id = fm.table_id;
        key->priority = fm.priority;
        minimatch_init(&key->match, &match);
    }
    minimatch_destroy(&fm.match);
    free(fm.ofpacts);
    return error;
}

/* Parses the flow "KEY_TEXT,actions=ACTIONS" of 'ft' into a normalized key
 * and actions ('ofpacts', which the caller initialized).  The actions of
 * the last flow that parsed are kept, parsed: a vNIC's port security flows,
 * for instance, share theirs, and parsing them is most of the work.
 * Returns false, with a log line, if the flow does not parse. */
static bool
parse_flow(struct flow_table *ft, const char *key_text, const char *actions,
           struct bh_flow_key *key, struct ofpbuf *ofpacts)
{
    if (ft->last_actions && !strcmp(actions, ft->last_actions)) {
        char *error = parse_key(key_text, ft->last_ofpacts,
                                ft->last_ofpacts_len, key);
        if (!error) {
            ofpbuf_clear(ofpacts);
            ofpbuf_put(ofpacts, ft->last_ofpacts, ft->last_ofpacts_len);
            return true;
        }
        free(error);    /* The whole flow's parse below logs why. */
    }
    if (!parse_flow__(key_text, actions, key, ofpacts)) {
        return false;
    }
    free(ft->last_actions);
    free(ft->last_ofpacts);
    ft->last_actions = xstrdup(actions);
    ft->last_ofpacts = xmemdup(ofpacts->data, ofpacts->size);
    ft->last_ofpacts_len = ofpacts->size;
    return true;
}

/* Parses 'match' (ovs-ofctl syntax, "" for all), with 'table' and
 * 'priority', into 'key', normalized as flow_table_add() normalizes the
 * keys of its flows, so that flow_table_find() finds the flow that has it.
 * Returns NULL, or an error message (which the caller frees) and then
 * 'key' is not initialized. */
char *
bh_flow_key_from_string(uint8_t table, uint16_t priority, const char *match,
                        struct bh_flow_key *key)
{
    char *key_text = xasprintf("table=%"PRIu8",priority=%"PRIu16"%s%s",
                               table, priority, *match ? "," : "", match);
    char *error = parse_key(key_text, NULL, 0, key);

    free(key_text);
    return error;
}

/* Adds to 'ft' that 'owner' wants, in OpenFlow table 'table' with
 * 'priority', a flow with 'cookie', the match 'match' (ovs-ofctl syntax, ""
 * for all) and the actions 'actions'.  Returns false if the flow does not
 * parse (a bug: logged, counted, and nothing is added). */
bool
flow_table_add(struct flow_table *ft, const char *owner, uint8_t table,
               uint16_t priority, uint64_t cookie, const char *match,
               const char *actions)
{
    char *key_text = (*match
                      ? xasprintf("table=%"PRIu8",priority=%"PRIu16",%s",
                                  table, priority, match)
                      : xasprintf("table=%"PRIu8",priority=%"PRIu16,
                                  table, priority));
    struct bh_flow_key key;
    struct ofpbuf ofpacts;

    ofpbuf_init(&ofpacts, 64);
    if (!parse_flow(ft, key_text, actions, &key, &ofpacts)) {
        ft->n_errors++;
        ofpbuf_uninit(&ofpacts);
        free(key_text);
        return false;
    }

    struct flow_want *w = xzalloc(sizeof *w);
    w->cookie = cookie;
    w->ofpacts_len = ofpacts.size;
    w->conj_only = ofpacts_are_conjunctions(ofpacts.data, ofpacts.size);
    w->ofpacts = ofpbuf_steal_data(&ofpacts);
    w->key_text = key_text;
    w->actions_text = xstrdup(actions);
    w->owner = find_owner(ft, owner, true);
    ovs_list_push_back(&w->owner->wants, &w->owner_node);

    struct bh_flow *f = find_flow(ft, &key);
    if (f) {
        bh_flow_key_destroy(&key);
    } else {
        f = xzalloc(sizeof *f);
        f->key = key;
        ovs_list_init(&f->wants);
        hmap_insert(&ft->flows, &f->key.node, bh_flow_key_hash(&f->key));
    }
    w->flow = f;
    /* Unmerged, the flow's wire is its first want's actions encoded. */
    bool same = (!f->stale && !ovs_list_is_empty(&f->wants)
                 && !f->merged && !f->clash
                 && cookie == f->cookie
                 && (ofpacts_equal(w->ofpacts, w->ofpacts_len, f->ofpacts,
                                   f->ofpacts_len)
                     || want_has_wire(w, f->wire, f->wire_len)));
    ovs_list_push_back(&f->wants, &w->flow_node);
    if (!same) {
        mark_stale(ft, f);
    }
    /* Otherwise one more owner wants what the flow already is: its result
     * stays the first owner's, and a flow that many owners share (a
     * network's, wanted by each of its vNICs) costs each one a comparison,
     * not a walk of all the others. */
    return true;
}

/* Removes want 'w' from its flow, and the flow if nobody wants it any
 * more.  Leaves 'w''s owner list alone. */
static void
flow_table_remove_want(struct flow_table *ft, struct flow_want *w)
{
    struct bh_flow *f = w->flow;
    bool was_first = first_want(f) == w;
    bool had_cookie = w->cookie == f->cookie;

    ovs_list_remove(&w->flow_node);
    want_free(w);
    if (ovs_list_is_empty(&f->wants)) {
        if (f->wire) {
            /* It had a result: the switch may hold it. */
            note_changed(ft, &f->key);
        }
        ft->n_clashes -= f->clash;
        if (f->stale) {
            ovs_list_remove(&f->stale_node);
        }
        hmap_remove(&ft->flows, &f->key.node);
        flow_free(f);
    } else if (was_first || had_cookie || f->merged || f->clash) {
        mark_stale(ft, f);
    }
    /* Otherwise the result was, and stays, the first owner's actions with
     * a cookie that another owner still gives it. */
}

/* Removes the wants of owner 'o' (which is removed from 'owners'). */
static void
flow_table_drop_owner(struct flow_table *ft, struct flow_owner *o)
{
    struct flow_want *w;

    LIST_FOR_EACH_POP (w, owner_node, &o->wants) {
        flow_table_remove_want(ft, w);
    }
    drop_meter(ft, o);
    free(o->name);
    free(o);
}

/* Makes 'owner' want meter 'id' (non-zero), a drop band at 'rate' packets
 * per second with a burst of 'burst' packets: flows of 'owner' may refer to
 * it.  An owner has at most one meter, which goes with its flows. */
void
flow_table_set_meter(struct flow_table *ft, const char *owner, uint32_t id,
                     uint32_t rate, uint32_t burst)
{
    struct flow_owner *o = find_owner(ft, owner, true);

    if (o->meter.id != id || o->meter.rate != rate
        || o->meter.burst != burst) {
        drop_meter(ft, o);
        o->meter.id = id;
        o->meter.rate = rate;
        o->meter.burst = burst;
        hmap_insert(&ft->meters, &o->meter_node, hash_int(id, 0));
        note_meter_changed(ft, id);
    }
}

/* Returns the meter with 'id' that an owner of 'ft' wants, or NULL (if
 * several owners want one id, any of theirs). */
const struct bh_meter *
flow_table_find_meter(const struct flow_table *ft, uint32_t id)
{
    const struct flow_owner *o;

    HMAP_FOR_EACH_WITH_HASH (o, meter_node, hash_int(id, 0), &ft->meters) {
        if (o->meter.id == id) {
            return &o->meter;
        }
    }
    return NULL;
}

/* Returns true if a meter was set, changed or dropped since the last
 * flow_table_take_meter_changes(). */
bool
flow_table_meters_changed(const struct flow_table *ft)
{
    return !hmap_is_empty(&ft->changed_meters);
}

/* Moves the ids of the meters whose wanted state changed since the last
 * call into 'ids' (struct meter_change nodes, to be freed with
 * flow_table_meter_changes_destroy()). */
void
flow_table_take_meter_changes(struct flow_table *ft, struct hmap *ids)
{
    hmap_swap(ids, &ft->changed_meters);
    hmap_clear(&ft->changed_meters);
}

/* Returns the meter id of 'node', a node of flow_table_take_meter_changes()'s
 * set. */
uint32_t
flow_table_meter_change_id(const struct hmap_node *node)
{
    return CONTAINER_OF(node, struct meter_change, node)->id;
}

/* Frees the set of meter ids that flow_table_take_meter_changes() gave. */
void
flow_table_meter_changes_destroy(struct hmap *ids)
{
    struct meter_change *mc;

    HMAP_FOR_EACH_POP (mc, node, ids) {
        free(mc);
    }
    hmap_destroy(ids);
}

/* Calls 'cb' with 'aux' for each meter that an owner of 'ft' wants. */
void
flow_table_for_each_meter(const struct flow_table *ft,
                          void (*cb)(const struct bh_meter *, void *aux),
                          void *aux)
{
    struct shash_node *node;

    SHASH_FOR_EACH (node, &ft->owners) {
        const struct flow_owner *o = node->data;
        if (o->meter.id) {
            cb(&o->meter, aux);
        }
    }
}

/* Removes every flow that 'owner' wants from 'ft' (flows that other owners
 * want too stay). */
void
flow_table_clear_owner(struct flow_table *ft, const char *owner)
{
    struct flow_owner *o = shash_find_and_delete(&ft->owners, owner);

    if (o) {
        flow_table_drop_owner(ft, o);
    }
}

/* Removes what every owner whose name starts with 'prefix' wants. */
void
flow_table_clear_owner_prefix(struct flow_table *ft, const char *prefix)
{
    size_t len = strlen(prefix);
    struct shash_node *node;

    SHASH_FOR_EACH_SAFE (node, &ft->owners) {
        if (!strncmp(node->name, prefix, len)) {
            struct flow_owner *o = node->data;
            shash_delete(&ft->owners, node);
            flow_table_drop_owner(ft, o);
        }
    }
}

/* Returns true if 'owner' wants any flow in 'ft'. */
bool
flow_table_has_owner(const struct flow_table *ft, const char *owner)
{
    return shash_find(&ft->owners, owner) != NULL;
}

/* Returns the number of flows (distinct keys) in 'ft'. */
size_t
flow_table_count(const struct flow_table *ft)
{
    return hmap_count(&ft->flows);
}

/* Returns the number of flows whose owners want different actions (the
 * first one's win). */
size_t
flow_table_n_clashes(const struct flow_table *ft)
{
    return flow_table_settled(ft)->n_clashes;
}

/* Moves the keys whose result changed since the last call into 'keys' (an
 * initialized, empty hmap), as malloc'd struct bh_flow_key; free them with
 * bh_flow_keys_destroy(). */
void
flow_table_take_changes(struct flow_table *ft, struct hmap *keys)
{
    flow_table_settle(ft);
    hmap_swap(&ft->changed, keys);
}

/* Appends 'f' to 's' in ovs-ofctl add-flow syntax. */
void
bh_flow_format(const struct bh_flow *f, struct ds *s)
{
    ds_put_format(s, "%s,cookie=%#"PRIx64",actions=%s", f->key_text,
                  f->cookie, f->actions_text);
}

/* Appends the flows of 'ft' (only those that 'owner' wants, if nonnull) to
 * 's', one a line, sorted. */
void
flow_table_format(const struct flow_table *ft, const char *owner,
                  struct ds *s)
{
    struct svec lines = SVEC_EMPTY_INITIALIZER;
    const struct bh_flow *f;

    flow_table_settle(ft);
    if (owner) {
        const struct flow_owner *o = shash_find_data(&ft->owners, owner);
        const struct flow_want *w;
        if (o) {
            LIST_FOR_EACH (w, owner_node, &o->wants) {
                struct ds line = DS_EMPTY_INITIALIZER;
                bh_flow_format(w->flow, &line);
                svec_add_nocopy(&lines, ds_steal_cstr(&line));
            }
        }
    } else {
        FLOW_TABLE_FOR_EACH (f, ft) {
            struct ds line = DS_EMPTY_INITIALIZER;
            bh_flow_format(f, &line);
            svec_add_nocopy(&lines, ds_steal_cstr(&line));
        }
    }
    svec_sort(&lines);
    char *text = svec_join(&lines, "\n", lines.n ? "\n" : "");
    ds_put_cstr(s, text);
    free(text);
    svec_destroy(&lines);
}

/* Appends the flows wanted by owners whose name starts with 'prefix' to
 * 's', one a line ("OWNER: FLOW"), sorted. */
void
flow_table_format_prefix(const struct flow_table *ft, const char *prefix,
                         struct ds *s)
{
    struct svec lines = SVEC_EMPTY_INITIALIZER;
    size_t len = strlen(prefix);
    const struct shash_node *node;

    flow_table_settle(ft);
    SHASH_FOR_EACH (node, &ft->owners) {
        const struct flow_owner *o = node->data;
        const struct flow_want *w;
        if (strncmp(o->name, prefix, len)) {
            continue;
        }
        LIST_FOR_EACH (w, owner_node, &o->wants) {
            struct ds line = DS_EMPTY_INITIALIZER;
            ds_put_format(&line, "%s: ", o->name);
            bh_flow_format(w->flow, &line);
            svec_add_nocopy(&lines, ds_steal_cstr(&line));
        }
    }
    svec_sort(&lines);
    for (size_t i = 0; i < lines.n; i++) {
        ds_put_format(s, "%s\n", lines.names[i]);
    }
    svec_destroy(&lines);
}
