/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#include <config.h>
#include "controller/if-status.h"

#include <stdlib.h>
#include <string.h>
#include "controller/ct-zone.h"
#include "controller/ofctrl.h"
#include "controller/pipeline.h"
#include "coverage.h"
#include "hash.h"
#include "openvswitch/hmap.h"
#include "openvswitch/list.h"
#include "openvswitch/vlog.h"
#include "schema/bulkhead-idl.h"
#include "smap.h"
#include "util.h"
#include "uuid.h"
#include "vswitch-idl.h"

VLOG_DEFINE_THIS_MODULE(if_status);

COVERAGE_DEFINE(if_status_mark);

/* One vNIC's marks. */
struct if_entry {
    struct hmap_node node;      /* In 'entries', by iface-id. */
    struct ovs_list list_node;  /* In the list of its state, unless IFS_UP. */
    char *iface_id;             /* Its iface-id. */
    struct uuid iface;          /* Its Interface row. */
    struct uuid port;           /* Its Port row (if bound). */
    uint16_t zone;              /* Its conntrack zone (if bound). */
    enum if_state state;        /* Where its marks stand. */
    uint64_t seqno;             /* Put that carried its flows. */
};

/* The number of states. */
#define N_IF_STATES (IFS_UNMARK + 1)

/* The marks of every vNIC. */
struct if_status {
    struct hmap entries;        /* Contains struct if_entry. */
    struct ovs_list lists[N_IF_STATES];  /* Entries by state (IFS_UP's stays
                                          * empty): work is proportional to
                                          * the entries that can move. */
};

/* Returns a new, empty set of marks. */
struct if_status *
if_status_create(void)
{
    struct if_status *ifs = xmalloc(sizeof *ifs);

    hmap_init(&ifs->entries);
    for (size_t i = 0; i < N_IF_STATES; i++) {
        ovs_list_init(&ifs->lists[i]);
    }
    return ifs;
}

static void
entry_free(struct if_entry *e)
{
    free(e->iface_id);
    free(e);
}

/* Frees 'ifs'. */
void
if_status_destroy(struct if_status *ifs)
{
    if (ifs) {
        struct if_entry *e;
        HMAP_FOR_EACH_POP (e, node, &ifs->entries) {
            entry_free(e);
        }
        hmap_destroy(&ifs->entries);
        free(ifs);
    }
}

/* Returns the entry of 'iface_id', or NULL. */
static struct if_entry *
find_entry(const struct if_status *ifs, const char *iface_id)
{
    struct if_entry *e;

    HMAP_FOR_EACH_WITH_HASH (e, node, hash_string(iface_id, 0),
                             &ifs->entries) {
        if (!strcmp(e->iface_id, iface_id)) {
            return e;
        }
    }
    return NULL;
}

/* Moves 'e' to the end of the list of 'state' (no list for IFS_UP). */
static void
set_state(struct if_status *ifs, struct if_entry *e, enum if_state state)
{
    if (e->state != IFS_UP) {
        ovs_list_remove(&e->list_node);
    }
    if (state != IFS_UP) {
        ovs_list_push_back(&ifs->lists[state], &e->list_node);
    }
    e->state = state;
}

/* Returns the entry of 'iface_id', created in IFS_UNMARK if new. */
static struct if_entry *
get_entry(struct if_status *ifs, const char *iface_id,
          const struct uuid *iface)
{
    struct if_entry *e = find_entry(ifs, iface_id);

    if (!e) {
        e = xzalloc(sizeof *e);
        e->iface_id = xstrdup(iface_id);
        e->state = IFS_UNMARK;
        hmap_insert(&ifs->entries, &e->node, hash_string(iface_id, 0));
        ovs_list_push_back(&ifs->lists[IFS_UNMARK], &e->list_node);
    }
    e->iface = *iface;
    return e;
}

/* Records that the flows of bound vNIC 'iface_id' (Interface 'iface', Port
 * 'port', conntrack 'zone') changed: its marks wait for the switch. */
void
if_status_flows_changed(struct if_status *ifs, const char *iface_id,
                        const struct uuid *iface, const struct uuid *port,
                        uint16_t zone)
{
    struct if_entry *e = get_entry(ifs, iface_id, iface);

    e->port = *port;
    e->zone = zone;
    e->seqno = 0;
    set_state(ifs, e, IFS_FLOWS_CHANGED);
}

/* Records that vNIC 'iface_id', whose Interface 'iface' is still there, is
 * not bound (any more): its mark must go. */
void
if_status_unbound(struct if_status *ifs, const char *iface_id,
                  const struct uuid *iface)
{
    set_state(ifs, get_entry(ifs, iface_id, iface), IFS_UNMARK);
}

/* Forgets vNIC 'iface_id', whose Interface went away. */
void
if_status_gone(struct if_status *ifs, const char *iface_id)
{
    struct if_entry *e = find_entry(ifs, iface_id);

    if (e) {
        set_state(ifs, e, IFS_UP);
        hmap_remove(&ifs->entries, &e->node);
        entry_free(e);
    }
}

/* Records that the flows changed so far went out in the put 'seqno' (0:
 * nothing could be sent). */
void
if_status_note_put(struct if_status *ifs, uint64_t seqno)
{
    struct if_entry *e;

    if (!seqno) {
        return;
    }
    LIST_FOR_EACH_POP (e, list_node, &ifs->lists[IFS_FLOWS_CHANGED]) {
        e->state = IFS_FLOWS_SENT;
        e->seqno = seqno;
        ovs_list_push_back(&ifs->lists[IFS_FLOWS_SENT], &e->list_node);
    }
}

/* Writes the Interface's mark and zone. */
static void
mark_iface(const struct ovsrec_interface *iface, uint16_t zone)
{
    char zone_s[16];

    snprintf(zone_s, sizeof zone_s, "%"PRIu16, zone);
    if (!smap_get_bool(&iface->external_ids, "bulkhead-installed", false)) {
        ovsrec_interface_update_external_ids_setkey(iface,
                                                    "bulkhead-installed",
                                                    "true");
    }
    const char *kept = smap_get(&iface->external_ids, CT_ZONE_KEY);
    if (!kept || strcmp(kept, zone_s)) {
        ovsrec_interface_update_external_ids_setkey(iface, CT_ZONE_KEY,
                                                    zone_s);
    }
}

/* Removes the Interface's mark and zone. */
static void
unmark_iface(const struct ovsrec_interface *iface)
{
    if (smap_get(&iface->external_ids, "bulkhead-installed")) {
        ovsrec_interface_update_external_ids_delkey(iface,
                                                    "bulkhead-installed");
    }
    if (smap_get(&iface->external_ids, CT_ZONE_KEY)) {
        ovsrec_interface_update_external_ids_delkey(iface, CT_ZONE_KEY);
    }
}

/* Advances every vNIC that can go a step further, given that the switch
 * confirmed every put up to 'acked_seqno'.  Looks only at the entries that
 * can move. */
void
if_status_run(struct if_status *ifs, const struct if_status_ctx *ctx,
              uint64_t acked_seqno)
{
    struct if_entry *e;

    /* Confirmed flows: in put order, so the first unconfirmed one ends the
     * walk. */
    LIST_FOR_EACH_SAFE (e, list_node, &ifs->lists[IFS_FLOWS_SENT]) {
        if (e->seqno > acked_seqno) {
            break;
        }
        if (ctx->ofctrl
            && ofctrl_refused(ctx->ofctrl,
                              pipeline_cookie(PL_COOKIE_VNIC, e->zone))) {
            /* Withheld: wait for the next put that carries them. */
            set_state(ifs, e, IFS_FLOWS_CHANGED);
            continue;
        }
        set_state(ifs, e, IFS_MARK_IFACE);
    }

    if (ctx->ovs_txn) {
        LIST_FOR_EACH_SAFE (e, list_node, &ifs->lists[IFS_UNMARK]) {
            const struct ovsrec_interface *iface
                = ovsrec_interface_get_for_uuid(ctx->ovs_idl, &e->iface);
            if (iface) {
                unmark_iface(iface);
            }
            if_status_gone(ifs, e->iface_id);
        }
        LIST_FOR_EACH_SAFE (e, list_node, &ifs->lists[IFS_MARK_IFACE]) {
            const struct ovsrec_interface *iface
                = ovsrec_interface_get_for_uuid(ctx->ovs_idl, &e->iface);
            if (iface) {
                mark_iface(iface, e->zone);
                COVERAGE_INC(if_status_mark);
            }
            set_state(ifs, e, IFS_MARK_PORT);
        }
    }

    if (ctx->tdb_txn && ctx->chassis) {
        LIST_FOR_EACH_SAFE (e, list_node, &ifs->lists[IFS_MARK_PORT]) {
            const struct bhrec_port *port = bhrec_port_get_for_uuid(
                ctx->tdb_idl, &e->port);
            if (port && port->chassis == ctx->chassis
                && !(port->n_up && port->up[0])) {
                bool up = true;
                bhrec_port_set_up(port, &up, 1);
            }
            set_state(ifs, e, IFS_UP);
        }
    }
}

/* Returns the state of 'iface_id' (IFS_UNMARK if unknown). */
enum if_state
if_status_get(const struct if_status *ifs, const char *iface_id)
{
    const struct if_entry *e = find_entry(ifs, iface_id);

    return e ? e->state : IFS_UNMARK;
}

/* Returns true if the switch confirmed the flows of 'iface_id'. */
bool
if_status_is_installed(const struct if_status *ifs, const char *iface_id)
{
    enum if_state state = if_status_get(ifs, iface_id);

    return (state == IFS_MARK_IFACE || state == IFS_MARK_PORT
            || state == IFS_UP);
}

/* Returns the name of 'state'. */
const char *
if_state_name(enum if_state state)
{
    switch (state) {
    case IFS_FLOWS_CHANGED: return "flows-changed";
    case IFS_FLOWS_SENT: return "flows-sent";
    case IFS_MARK_IFACE: return "mark-interface";
    case IFS_MARK_PORT: return "mark-port";
    case IFS_UP: return "up";
    case IFS_UNMARK: return "unmark";
    }
    return "?";
}
