/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#include <config.h>
#include "controller/ct-zone.h"

#include <stdlib.h>
#include <string.h>
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "smap.h"
#include "util.h"
#include "vswitch-idl.h"

VLOG_DEFINE_THIS_MODULE(ct_zone);

/* Initializes 'z' with no zones. */
void
ct_zones_init(struct ct_zones *z)
{
    simap_init(&z->zones);
    z->used = bitmap_allocate(CT_ZONE_MAX + 1);
    shash_init(&z->pending);
    simap_init(&z->flush);
}

/* Frees what 'z' holds. */
void
ct_zones_destroy(struct ct_zones *z)
{
    simap_destroy(&z->zones);
    bitmap_free(z->used);
    shash_destroy_free_data(&z->pending);
    simap_destroy(&z->flush);
}

/* Takes the assignments recorded in a bridge's 'external_ids'.  Entries
 * that are not valid zones, or that repeat a zone, are ignored (and so
 * reassigned when their vNIC asks). */
void
ct_zones_load(struct ct_zones *z, const struct smap *external_ids)
{
    struct smap_node *node;

    SMAP_FOR_EACH (node, external_ids) {
        unsigned int zone;
        if (strncmp(node->key, CT_ZONE_PREFIX, strlen(CT_ZONE_PREFIX))
            || !str_to_uint(node->value, 10, &zone)
            || zone < CT_ZONE_MIN || zone > CT_ZONE_MAX
            || bitmap_is_set(z->used, zone)) {
            continue;
        }
        const char *iface_id = node->key + strlen(CT_ZONE_PREFIX);
        if (!simap_contains(&z->zones, iface_id)) {
            simap_put(&z->zones, iface_id, zone);
            bitmap_set1(z->used, zone);
        }
    }
}

/* Returns the zone of 'iface_id', or 0 if it has none. */
uint16_t
ct_zones_get(const struct ct_zones *z, const char *iface_id)
{
    return simap_get(&z->zones, iface_id);
}

/* Records a change of the external_ids key for 'iface_id' to write. */
static void
set_pending(struct ct_zones *z, const char *iface_id, char *value)
{
    char *key = xasprintf(CT_ZONE_PREFIX "%s", iface_id);
    free(shash_replace(&z->pending, key, value));
    free(key);
}

/* Returns the zone of 'iface_id', assigning the lowest free one if it has
 * none.  Returns 0 if every zone is taken. */
uint16_t
ct_zones_assign(struct ct_zones *z, const char *iface_id)
{
    uint16_t zone = ct_zones_get(z, iface_id);

    if (!zone) {
        size_t free_zone = bitmap_scan(z->used, 0, CT_ZONE_MIN,
                                       CT_ZONE_MAX + 1);
        if (free_zone > CT_ZONE_MAX) {
            static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
            VLOG_ERR_RL(&rl, "%s: no conntrack zone left", iface_id);
            return 0;
        }
        zone = free_zone;
        bitmap_set1(z->used, zone);
        simap_put(&z->zones, iface_id, zone);
        set_pending(z, iface_id, xasprintf("%"PRIu16, zone));
    }
    return zone;
}

/* Frees the zone of 'iface_id': it will be flushed, then forgotten. */
void
ct_zones_release(struct ct_zones *z, const char *iface_id)
{
    uint16_t zone = ct_zones_get(z, iface_id);

    if (zone) {
        char *name = xasprintf("%"PRIu16, zone);
        simap_put(&z->flush, name, zone);
        free(name);
        bitmap_set0(z->used, zone);
        /* 'iface_id' may be the very key about to be freed. */
        set_pending(z, iface_id, NULL);
        simap_find_and_delete(&z->zones, iface_id);
    }
}

/* Writes the pending assignments to 'br''s external_ids in the current
 * transaction.  Returns true if there was anything to write. */
bool
ct_zones_commit(struct ct_zones *z, const struct ovsrec_bridge *br)
{
    struct shash_node *node;
    bool any = !shash_is_empty(&z->pending);

    SHASH_FOR_EACH (node, &z->pending) {
        if (node->data) {
            ovsrec_bridge_update_external_ids_setkey(br, node->name,
                                                     node->data);
        } else {
            ovsrec_bridge_update_external_ids_delkey(br, node->name);
        }
    }
    shash_clear_free_data(&z->pending);
    return any;
}

/* Orders simap nodes by value (zone). */
static int
compare_zones(const void *a_, const void *b_)
{
    const struct simap_node *a = *(const struct simap_node *const *) a_;
    const struct simap_node *b = *(const struct simap_node *const *) b_;

    return a->data < b->data ? -1 : a->data > b->data;
}

/* Appends "IFACE_ID ZONE" lines, sorted by zone, to 's'. */
void
ct_zones_format(const struct ct_zones *z, struct ds *s)
{
    const struct simap_node **nodes = simap_sort(&z->zones);
    size_t n = simap_count(&z->zones);

    if (n) {
        qsort(nodes, n, sizeof *nodes, compare_zones);
    }
    for (size_t i = 0; i < n; i++) {
        ds_put_format(s, "%s %u\n", nodes[i]->name, nodes[i]->data);
    }
    free(nodes);
}
