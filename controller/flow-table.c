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
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "svec.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(flow_table);

COVERAGE_DEFINE(flow_table_clash);

/* Initializes 'ft' as empty. */
void
flow_table_init(struct flow_table *ft)
{
    hmap_init(&ft->flows);
    shash_init(&ft->owners);
    ft->n_clashes = 0;
    sset_init(&ft->changed);
}

static void
flow_free(struct bh_flow *f)
{
    free(f->owner);
    free(f->key);
    free(f->actions);
    free(f);
}

/* Removes every flow from 'ft'. */
void
flow_table_clear(struct flow_table *ft)
{
    struct shash_node *node;
    struct bh_flow *f;

    HMAP_FOR_EACH (f, node, &ft->flows) {
        sset_add(&ft->changed, f->key);
    }

    SHASH_FOR_EACH (node, &ft->owners) {
        struct ovs_list *list = node->data;
        LIST_FOR_EACH_POP (f, owner_node, list) {
            flow_free(f);
        }
        free(list);
    }
    shash_clear(&ft->owners);
    hmap_clear(&ft->flows);
    ft->n_clashes = 0;
}

/* Frees what 'ft' holds. */
void
flow_table_destroy(struct flow_table *ft)
{
    flow_table_clear(ft);
    hmap_destroy(&ft->flows);
    shash_destroy(&ft->owners);
    sset_destroy(&ft->changed);
}

/* Returns the active flow of 'ft' whose key is 'key' ("table=T,priority=P,
 * MATCH"), or NULL. */
const struct bh_flow *
flow_table_find(const struct flow_table *ft, const char *key)
{
    const struct bh_flow *f;

    HMAP_FOR_EACH_WITH_HASH (f, node, hash_string(key, 0), &ft->flows) {
        if (!strcmp(f->key, key)) {
            return f;
        }
    }
    return NULL;
}

/* Adds to 'ft' a flow owned by 'owner' in OpenFlow table 'table' with
 * 'priority', 'cookie', the match 'match' (ovs-ofctl syntax, "" for all) and
 * the actions 'actions'. */
void
flow_table_add(struct flow_table *ft, const char *owner, uint8_t table,
               uint16_t priority, uint64_t cookie, const char *match,
               const char *actions)
{
    struct bh_flow *f = xzalloc(sizeof *f);
    f->owner = xstrdup(owner);
    f->key = (*match
              ? xasprintf("table=%"PRIu8",priority=%"PRIu16",%s",
                          table, priority, match)
              : xasprintf("table=%"PRIu8",priority=%"PRIu16,
                          table, priority));
    f->actions = xstrdup(actions);
    f->cookie = cookie;
    ovs_list_init(&f->same_key);

    struct ovs_list *list = shash_find_data(&ft->owners, owner);
    if (!list) {
        list = xmalloc(sizeof *list);
        ovs_list_init(list);
        shash_add(&ft->owners, owner, list);
    }
    ovs_list_push_back(list, &f->owner_node);

    struct bh_flow *active = CONST_CAST(struct bh_flow *,
                                        flow_table_find(ft, f->key));
    if (active) {
        /* Someone else has this key: wait behind it. */
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);
        VLOG_WARN_RL(&rl, "%s and %s both want flow %s; %s wins",
                     active->owner, owner, f->key, active->owner);
        COVERAGE_INC(flow_table_clash);
        ovs_list_push_back(&active->same_key, &f->same_key);
        ft->n_clashes++;
    } else {
        f->active = true;
        hmap_insert(&ft->flows, &f->node, hash_string(f->key, 0));
        sset_add(&ft->changed, f->key);
    }
}

/* Removes flow 'f', which is in 'ft', promoting a flow that waited behind
 * it. */
static void
flow_table_remove(struct flow_table *ft, struct bh_flow *f)
{
    if (f->active) {
        hmap_remove(&ft->flows, &f->node);
        sset_add(&ft->changed, f->key);
        if (!ovs_list_is_empty(&f->same_key)) {
            struct bh_flow *next = CONTAINER_OF(ovs_list_pop_front(
                                                    &f->same_key),
                                                struct bh_flow, same_key);
            /* The others now wait behind 'next'. */
            ovs_list_init(&next->same_key);
            ovs_list_splice(&next->same_key, f->same_key.next,
                            &f->same_key);
            next->active = true;
            hmap_insert(&ft->flows, &next->node, hash_string(next->key, 0));
            ft->n_clashes--;
        }
    } else {
        ovs_list_remove(&f->same_key);
        ft->n_clashes--;
    }
    flow_free(f);
}

/* Removes every flow of 'owner' from 'ft'. */
void
flow_table_clear_owner(struct flow_table *ft, const char *owner)
{
    struct ovs_list *list = shash_find_and_delete(&ft->owners, owner);

    if (list) {
        struct bh_flow *f;
        LIST_FOR_EACH_POP (f, owner_node, list) {
            flow_table_remove(ft, f);
        }
        free(list);
    }
}

/* Returns true if 'owner' has any flow in 'ft'. */
bool
flow_table_has_owner(const struct flow_table *ft, const char *owner)
{
    return shash_find(&ft->owners, owner) != NULL;
}

/* Returns the number of active flows in 'ft'. */
size_t
flow_table_count(const struct flow_table *ft)
{
    return hmap_count(&ft->flows);
}

/* Moves the keys whose active flow was added, removed or replaced since
 * the last call into 'keys' (which the caller initialized). */
void
flow_table_take_changes(struct flow_table *ft, struct sset *keys)
{
    sset_swap(&ft->changed, keys);
    sset_clear(&ft->changed);
}

/* Appends 'f' to 's' in ovs-ofctl add-flow syntax. */
void
bh_flow_format(const struct bh_flow *f, struct ds *s)
{
    ds_put_format(s, "%s,cookie=%#"PRIx64",actions=%s", f->key, f->cookie,
                  f->actions);
}

/* Appends the active flows of 'ft' (only those of 'owner', if nonnull) to
 * 's', one a line, sorted. */
void
flow_table_format(const struct flow_table *ft, const char *owner,
                  struct ds *s)
{
    struct svec lines = SVEC_EMPTY_INITIALIZER;
    const struct bh_flow *f;

    FLOW_TABLE_FOR_EACH (f, ft) {
        if (!owner || !strcmp(f->owner, owner)) {
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
