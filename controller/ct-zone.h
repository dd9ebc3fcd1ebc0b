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
 * also its port key in the pipeline (pipeline.h).  A vNIC's zone is kept on
 * its own Interface row, as external_ids:bulkhead-ct-zone=N, written with
 * its installed mark (if-status.h): a restarted controller gives every vNIC
 * the zone it had, so the switch's flows and connections stay valid, and
 * writing one vNIC's zone is one small write, not a rewrite of a map of
 * every zone of the host.
 *
 * A zone is flushed (ct_zones_take_flushes()) before its first use by a vNIC
 * that did not have it already, and when it is freed, so that a vNIC never
 * inherits another's connections, not even those of a vNIC that went away
 * while the controller was down. */

#include <stdbool.h>
#include <stdint.h>
#include "bitmap.h"
#include "simap.h"

struct ds;
struct smap;

/* Zone numbers handed out. */
#define CT_ZONE_MIN 1
#define CT_ZONE_MAX 65534

/* The Interface external_ids key that keeps a vNIC's zone. */
#define CT_ZONE_KEY "bulkhead-ct-zone"

/* The zones of this host. */
struct ct_zones {
    struct simap zones;         /* iface-id -> zone. */
    unsigned long *used;        /* Bitmap of zones in 'zones'. */
    struct simap flush;         /* Zones to flush: "N" -> zone. */
};

void ct_zones_init(struct ct_zones *);
void ct_zones_destroy(struct ct_zones *);
uint16_t ct_zones_get(const struct ct_zones *, const char *iface_id);
uint16_t ct_zones_assign(struct ct_zones *, const char *iface_id,
                         const struct smap *iface_external_ids);
void ct_zones_release(struct ct_zones *, const char *iface_id);
void ct_zones_format(const struct ct_zones *, struct ds *);
void ct_zones_register_commands(const struct ct_zones *);

#endif /* ct-zone.h */
