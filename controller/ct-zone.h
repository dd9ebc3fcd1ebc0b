/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef CT_ZONE_H
#define CT_ZONE_H 1

/* Conntrack zones, one per vNIC.
 *
 * Every vNIC bound on the host gets a zone of its own, 1 to 65534, which is
 * also its port key in the pipeline (pipeline.h).  Assignments are kept in
 * the integration bridge's external_ids as "ct-zone-IFACE_ID=N", so that a
 * restarted controller gives every vNIC the zone it had and the switch's
 * flows and connections stay valid.  A zone freed by a vNIC that went away
 * is flushed before it is forgotten, so that a new vNIC never inherits its
 * connections. */

#include <stdbool.h>
#include <stdint.h>
#include "bitmap.h"
#include "openvswitch/shash.h"
#include "simap.h"

struct ds;
struct ovsrec_bridge;
struct smap;

/* Zone numbers handed out. */
#define CT_ZONE_MIN 1
#define CT_ZONE_MAX 65534

/* The external_ids key prefix. */
#define CT_ZONE_PREFIX "ct-zone-"

/* The zones of this host. */
struct ct_zones {
    struct simap zones;         /* iface-id -> zone. */
    unsigned long *used;        /* Bitmap of zones in 'zones'. */
    struct shash pending;       /* "ct-zone-ID" -> NULL (delete) or
                                 * "N" (set), not yet written. */
    struct simap flush;         /* Zones to flush: "N" -> zone. */
};

void ct_zones_init(struct ct_zones *);
void ct_zones_destroy(struct ct_zones *);
void ct_zones_load(struct ct_zones *, const struct smap *external_ids);
uint16_t ct_zones_get(const struct ct_zones *, const char *iface_id);
uint16_t ct_zones_assign(struct ct_zones *, const char *iface_id);
void ct_zones_release(struct ct_zones *, const char *iface_id);
bool ct_zones_commit(struct ct_zones *, const struct ovsrec_bridge *);
void ct_zones_format(const struct ct_zones *, struct ds *);

#endif /* ct-zone.h */
