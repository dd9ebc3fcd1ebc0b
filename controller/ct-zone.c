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
#include "unixctl.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ct_zone);

/* Initializes 'z' with no zones. */
void
ct_zones_init(struct ct_zones *z)
{
    simap_init(&z->zones);
    z->used = bitmap_allocate(CT_ZONE_MAX + 1);
    simap_init(&z->flush);
    z->cooling = NULL;
    z->n_cooling = z->allocated_cooling = 0;
}

/* Frees what 'z' holds. */
void
ct_zones_destroy(struct ct_zones *z)
{
    simap_destroy(&z->zones);
    bitmap_free(z->used);
    simap_destroy(&z->flush);
    free(z->cooling);
}

/* Returns the zone of 'iface_id', or 0 if it has none. */
uint16_t
ct_zones_get(const struct ct_zones *z, const char *iface_id)
{
    return simap_get(&z->zones, iface_id);
}

/* Schedules a flush of 'zone'. */
static void
flush_zone(struct ct_zones *z, uint16_t zone)
{
    char *name = xasprintf("%"PRIu16, zone);
    simap_put(&z->flush, name, zone);
    free(name);
}

/* Returns the zone of 'iface_id', assigning one if it has none: the zone
 * its Interface's 'iface_external_ids' (may be NULL) record, if valid and
 * free, or else the lowest free one, which is flushed before use.  Returns
 * 0 if every zone is taken. */
uint16_t
ct_zones_assign(struct ct_zones *z, const char *iface_id,
                const struct smap *iface_external_ids)
{
    uint16_t zone = ct_zones_get(z, iface_id);
    unsigned int kept;

    if (zone) {
        return zone;
    }
    const char *value = (iface_external_ids
                         ? smap_get(iface_external_ids, CT_ZONE_KEY) : NULL);
    if (value && str_to_uint(value, 10, &kept) && kept >= CT_ZONE_MIN
        && kept <= CT_ZONE_MAX && !bitmap_is_set(z->used, kept)) {
        /* The zone it had: its connections are its own. */
        zone = kept;
    } else {
        size_t free_zone = bitmap_scan(z->used, 0, CT_ZONE_MIN,
                                       CT_ZONE_MAX + 1);
        if (free_zone > CT_ZONE_MAX) {
            static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
            VLOG_ERR_RL(&rl, "%s: no conntrack zone left", iface_id);
            return 0;
        }
        zone = free_zone;
        /* Whoever had it last may have left connections behind. */
        flush_zone(z, zone);
    }
    bitmap_set1(z->used, zone);
    simap_put(&z->zones, iface_id, zone);
    return zone;
}

/* Frees the zone of 'iface_id': it is flushed and forgotten, and cools
 * until the switch no longer holds the flows that used it (see
 * ct_zones_thaw()). */
void
ct_zones_release(struct ct_zones *z, const char *iface_id)
{
    uint16_t zone = ct_zones_get(z, iface_id);

    if (zone) {
        flush_zone(z, zone);
        simap_find_and_delete(&z->zones, iface_id);
        if (z->n_cooling >= z->allocated_cooling) {
            z->cooling = x2nrealloc(z->cooling, &z->allocated_cooling,
                                    sizeof *z->cooling);
        }
        z->cooling[z->n_cooling++] = (struct ct_zone_cooling) {
            .zone = zone,
            .put_seqno = 0,
        };
    }
}

/* Notes that the flow put 'put_seqno' (0 if none was sent) carries the
 * flows of the turn in which the cooling zones not yet noted were freed:
 * the deletion of their old vNICs' flows. */
void
ct_zones_note_put(struct ct_zones *z, uint64_t put_seqno)
{
    if (put_seqno) {
        for (size_t i = 0; i < z->n_cooling; i++) {
            if (!z->cooling[i].put_seqno) {
                z->cooling[i].put_seqno = put_seqno;
            }
        }
    }
}

/* Frees the cooling zones whose put the switch confirmed ('acked_seqno'):
 * each is flushed again (what its old flows committed after the first
 * flush), then is free to be assigned. */
void
ct_zones_thaw(struct ct_zones *z, uint64_t acked_seqno)
{
    size_t n = 0;

    for (size_t i = 0; i < z->n_cooling; i++) {
        const struct ct_zone_cooling *c = &z->cooling[i];
        if (c->put_seqno && c->put_seqno <= acked_seqno) {
            flush_zone(z, c->zone);
            bitmap_set0(z->used, c->zone);
        } else {
            z->cooling[n++] = *c;
        }
    }
    z->n_cooling = n;
    if (!n && z->allocated_cooling > 64) {
        /* Grown by many vNICs going at once. */
        free(z->cooling);
        z->cooling = NULL;
        z->allocated_cooling = 0;
    }
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

/* "ct-zone/list". */
static void
cmd_list(struct unixctl_conn *conn, int argc OVS_UNUSED,
         const char *argv[] OVS_UNUSED, void *z_)
{
    const struct ct_zones *z = z_;
    struct ds s = DS_EMPTY_INITIALIZER;

    ct_zones_format(z, &s);
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

/* Registers "ct-zone/list", which reads 'z'. */
void
ct_zones_register_commands(const struct ct_zones *z)
{
    unixctl_command_register("ct-zone/list", "", 0, 0, cmd_list,
                             CONST_CAST(struct ct_zones *, z));
}
