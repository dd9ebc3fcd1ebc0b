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
 * A zone is flushed (its number put in 'flush', which the caller sends to
 * the switch) before its first use by a vNIC that did not have it already,
 * and when it is freed, so that a vNIC never inherits another's
 * connections, not even those of a vNIC that went away while the
 * controller was down.
 *
 * A freed zone is not free at once: until the switch confirmed the put
 * that took its old vNIC's flows away (ct_zones_note_put(),
 * ct_zones_thaw()), those flows can still commit connections in it, after
 * the flush sent at its release.  It "cools" until then, is flushed again,
 * and only then can another vNIC get it.  Without that, a vNIC bound in the
 * same turn as another went away (one transaction, or an Interface whose
 * iface-id changes from one tenant's Port to another's) could take the
 * zone with connections its predecessor made under its own rules. */

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
    unsigned long *used;        /* Zones in 'zones' or 'cooling'. */
    struct simap flush;         /* Zones to flush: "N" -> zone. */
    struct ct_zone_cooling *cooling; /* Freed zones not free yet. */
    size_t n_cooling;           /* Zones in 'cooling'. */
    size_t allocated_cooling;   /* Room in 'cooling'. */
};

/* A freed zone that waits for the switch before it is free. */
struct ct_zone_cooling {
    uint16_t zone;              /* The zone, still set in 'used'. */
    uint64_t put_seqno;         /* The flow put that takes its old vNIC's
                                 * flows away, 0 until one is sent. */
};

void ct_zones_init(struct ct_zones *);
void ct_zones_destroy(struct ct_zones *);
uint16_t ct_zones_get(const struct ct_zones *, const char *iface_id);
uint16_t ct_zones_assign(struct ct_zones *, const char *iface_id,
                         const struct smap *iface_external_ids);
void ct_zones_release(struct ct_zones *, const char *iface_id);
void ct_zones_note_put(struct ct_zones *, uint64_t put_seqno);
void ct_zones_thaw(struct ct_zones *, uint64_t acked_seqno);
void ct_zones_format(const struct ct_zones *, struct ds *);
void ct_zones_register_commands(const struct ct_zones *);

#endif /* ct-zone.h */
