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
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/list.h"
#include "openvswitch/vlog.h"
#include "schema/bulkhead-idl.h"
#include "smap.h"
#include "stopwatch.h"
#include "timeval.h"
#include "util.h"
#include "uuid.h"
#include "uuidset.h"
#include "vswitch-idl.h"

VLOG_DEFINE_THIS_MODULE(if_status);

COVERAGE_DEFINE(if_status_mark);
COVERAGE_DEFINE(if_status_remark);
COVERAGE_DEFINE(if_status_stale_mark);

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
    bool tenant_marked;         /* Its tenant mark was written for this
                                 * binding (Interface and Port). */

    /* When its last installation went through each step (usec, monotonic;
     * 0: not yet), for "vnic/show" and the stopwatches. */
    long long int t_read;       /* The turn that read the change. */
    long long int t_sent;       /* Its flows went to the switch. */
    long long int t_acked;      /* The turn that read the switch's
                                 * confirmation. */
    long long int t_marked;     /* The Interface mark was committed. */
};

/* The number of states. */
#define N_IF_STATES (IFS_UNMARK + 1)

/* The marks of every vNIC. */
struct if_status {
    struct hmap entries;        /* Contains struct if_entry. */
    struct ovs_list lists[N_IF_STATES];  /* Entries by state (IFS_UP's stays
                                          * empty): work is proportional to
                                          * the entries that can move. */
    long long int turn_start;   /* When the current turn of the main loop
                                 * began (usec, monotonic). */
    struct if_entry **marked;   /* Entries marked in this turn, to stamp
                                 * when the mark is committed. */
    size_t n_marked, allocated_marked;  /* Their number, and room. */
    struct uuidset stale;       /* Interfaces that are no vNIC's (any more)
                                 * but may carry marks: they go at the next
                                 * write (if_status_unmark_iface()). */
};

/* The stopwatches of an installation (see if_status_note_commit()). */
#define SW_TOTAL "vnic-install"
#define SW_CONTROLLER "vnic-install-controller"
#define SW_SWITCH "vnic-install-switch"

/* Returns a new, empty set of marks. */
struct if_status *
if_status_create(void)
{
    struct if_status *ifs = xmalloc(sizeof *ifs);

    hmap_init(&ifs->entries);
    for (size_t i = 0; i < N_IF_STATES; i++) {
        ovs_list_init(&ifs->lists[i]);
    }
    ifs->turn_start = time_usec();
    ifs->marked = NULL;
    ifs->n_marked = ifs->allocated_marked = 0;
    uuidset_init(&ifs->stale);
    stopwatch_create(SW_TOTAL, SW_US);
    stopwatch_create(SW_CONTROLLER, SW_US);
    stopwatch_create(SW_SWITCH, SW_US);
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
        free(ifs->marked);
        uuidset_destroy(&ifs->stale);
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
    struct if_entry *e = find_entry(ifs, iface_id);

    if (!e || !uuid_equals(&e->iface, iface) || !uuid_equals(&e->port, port)) {
        /* Another binding: its tenant mark is to be written. */
        e = get_entry(ifs, iface_id, iface);
        e->tenant_marked = false;
    }

    /* A change on top of one still on its way is timed from the first. */
    if (e->state != IFS_FLOWS_CHANGED && e->state != IFS_FLOWS_SENT) {
        e->t_read = ifs->turn_start;
        e->t_sent = e->t_acked = e->t_marked = 0;
    }
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
    struct if_entry *e = get_entry(ifs, iface_id, iface);

    e->tenant_marked = false;
    set_state(ifs, e, IFS_UNMARK);
}

/* Forgets vNIC 'iface_id', whose Interface went away. */
void
if_status_gone(struct if_status *ifs, const char *iface_id)
{
    struct if_entry *e = find_entry(ifs, iface_id);

    if (e) {
        for (size_t i = 0; i < ifs->n_marked; i++) {
            if (ifs->marked[i] == e) {
                ifs->marked[i] = ifs->marked[--ifs->n_marked];
                break;
            }
        }
        set_state(ifs, e, IFS_UP);
        hmap_remove(&ifs->entries, &e->node);
        entry_free(e);
    }
}

/* Sends 'e', if installed (IFS_UP), back to 'step' (see
 * if_status_recheck()). */
static void
recheck_entry(struct if_status *ifs, struct if_entry *e, enum if_state step)
{
    if (e->state == IFS_UP) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
        VLOG_INFO_RL(&rl, "%s: %s mark missing, written again", e->iface_id,
                     step == IFS_MARK_IFACE ? "Interface" : "Port up");
        COVERAGE_INC(if_status_remark);
        set_state(ifs, e, step);
    }
}

/* Records that a mark of installed vNIC 'iface_id' is missing from its row:
 * the Interface's (step IFS_MARK_IFACE) or its Port's up (IFS_MARK_PORT),
 * lost with a transaction whose database connection went, or taken off by
 * hand.  It goes back to that step, and is written again; its installation
 * is not timed again. */
void
if_status_recheck(struct if_status *ifs, const char *iface_id,
                  enum if_state step)
{
    struct if_entry *e = find_entry(ifs, iface_id);

    if (e) {
        recheck_entry(ifs, e, step);
    }
}

/* Returns true if 'iface' carries a mark or a zone of Bulkhead's. */
static bool
iface_has_marks(const struct ovsrec_interface *iface)
{
    return (smap_get(&iface->external_ids, "bulkhead-installed")
            || smap_get(&iface->external_ids, CT_ZONE_KEY));
}

/* Returns true if 'iface' is the Interface of a vNIC known here that is
 * bound, or on its way to be: its marks are its own. */
static bool
iface_is_held(const struct if_status *ifs,
              const struct ovsrec_interface *iface)
{
    const char *iface_id = smap_get(&iface->external_ids, "iface-id");
    const struct if_entry *e = iface_id ? find_entry(ifs, iface_id) : NULL;

    return (e && e->state != IFS_UNMARK
            && uuid_equals(&e->iface, &iface->header_.uuid));
}

/* Records that Interface 'iface' is no vNIC's any more (it lost its
 * iface-id, say) while it stays: its marks go with the next write to the
 * local OVSDB, unless a vNIC binds it again first. */
void
if_status_unmark_iface(struct if_status *ifs, const struct uuid *iface)
{
    uuidset_insert(&ifs->stale, iface);
}

/* Looks at the marks of every installed vNIC in the rows of 'ctx' (a
 * transaction failed, and what it wrote may be lost; or the controller
 * started): those missing are written again (if_status_recheck()), and
 * marks on an Interface that is no bound vNIC's (an unmarking lost with
 * its transaction, or left by an earlier run) go.  Costs a lookup per vNIC
 * and per Interface. */
void
if_status_recheck_all(struct if_status *ifs, const struct if_status_ctx *ctx)
{
    const struct ovsrec_interface *row;
    struct if_entry *e;

    OVSREC_INTERFACE_FOR_EACH (row, ctx->ovs_idl) {
        if (iface_has_marks(row) && !iface_is_held(ifs, row)) {
            if_status_unmark_iface(ifs, &row->header_.uuid);
        }
    }

    HMAP_FOR_EACH (e, node, &ifs->entries) {
        if (e->state != IFS_UP) {
            continue;
        }
        const struct ovsrec_interface *iface
            = ovsrec_interface_get_for_uuid(ctx->ovs_idl, &e->iface);
        const struct bhrec_port *port
            = bhrec_port_get_for_uuid(ctx->tdb_idl, &e->port);
        if (iface && !if_status_iface_is_marked(iface)) {
            recheck_entry(ifs, e, IFS_MARK_IFACE);
        } else if (port && ctx->chassis && port->chassis == ctx->chassis
                   && !if_status_port_is_up(port)) {
            recheck_entry(ifs, e, IFS_MARK_PORT);
        }
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
    long long int now = time_usec();
    LIST_FOR_EACH_POP (e, list_node, &ifs->lists[IFS_FLOWS_CHANGED]) {
        e->state = IFS_FLOWS_SENT;
        e->seqno = seqno;
        e->t_sent = now;
        ovs_list_push_back(&ifs->lists[IFS_FLOWS_SENT], &e->list_node);
    }
}

/* The tenant an Interface belongs to.  The hypervisor may say it when it
 * plugs a VM (IFACE_TENANT_KEY, never written nor removed here).  The
 * controller remembers the tenant of the Port it first bound the
 * Interface to (BOUND_TENANT_KEY), for the iface-id it bound it under
 * (BOUND_IFACE_ID_KEY): a mark for another iface-id is stale (the
 * hypervisor gave the Interface to another VM) and goes. */
#define IFACE_TENANT_KEY "bulkhead-tenant"
#define BOUND_TENANT_KEY "bulkhead-bound-tenant"
#define BOUND_IFACE_ID_KEY "bulkhead-bound-iface-id"

/* Returns the name of the tenant whose Port alone may bind 'iface' under
 * 'iface_id', or NULL if any tenant's may: the hypervisor's, else the
 * controller's mark for 'iface_id'.  Stores in '*key' the external_ids
 * key it comes from. */
const char *
if_status_iface_tenant(const struct ovsrec_interface *iface,
                       const char *iface_id, const char **key)
{
    const char *tenant = smap_get(&iface->external_ids, IFACE_TENANT_KEY);
    if (tenant) {
        *key = IFACE_TENANT_KEY;
        return tenant;
    }

    const char *bound = smap_get(&iface->external_ids, BOUND_TENANT_KEY);
    const char *bound_for = smap_get(&iface->external_ids,
                                     BOUND_IFACE_ID_KEY);
    *key = BOUND_TENANT_KEY;
    return bound && bound_for && !strcmp(bound_for, iface_id) ? bound : NULL;
}

/* Remembers on 'iface', bound under 'iface_id' to a Port of tenant
 * 'tenant', that this Interface is that tenant's as long as it keeps its
 * iface-id: a Port of another tenant that later takes the iface-id (once
 * the first Port was deleted or renamed, with the VM still running) does
 * not take the VM. */
static void
mark_iface_tenant(const struct ovsrec_interface *iface, const char *iface_id,
                  const char *tenant)
{
    const char *bound = smap_get(&iface->external_ids, BOUND_TENANT_KEY);
    const char *bound_for = smap_get(&iface->external_ids,
                                     BOUND_IFACE_ID_KEY);
    /* A mark for another iface-id, which unmark_iface_tenant() may have
     * taken off in this very transaction (the IDL still shows it), is
     * written anew whole. */
    bool for_iface_id = bound_for && !strcmp(bound_for, iface_id);

    if (!for_iface_id || !bound || strcmp(bound, tenant)) {
        ovsrec_interface_update_external_ids_setkey(iface, BOUND_TENANT_KEY,
                                                    tenant);
    }
    if (!for_iface_id) {
        ovsrec_interface_update_external_ids_setkey(iface,
                                                    BOUND_IFACE_ID_KEY,
                                                    iface_id);
    }
}

/* Writes the tenant mark of bound vNIC 'e' on its Interface, if it is
 * there, from its Port's tenant.  Returns false if the Interface, the Port
 * or its tenant is not there (yet). */
static bool
mark_entry_tenant(const struct if_status_ctx *ctx, const struct if_entry *e)
{
    const struct ovsrec_interface *iface
        = ovsrec_interface_get_for_uuid(ctx->ovs_idl, &e->iface);
    const struct bhrec_port *port = bhrec_port_get_for_uuid(ctx->tdb_idl,
                                                            &e->port);

    if (iface && port && port->network && port->network->tenant) {
        mark_iface_tenant(iface, e->iface_id, port->network->tenant->name);
        return true;
    }
    return false;
}

/* Removes the controller's tenant mark from 'iface' if the Interface no
 * longer has the iface-id it was written for (it holds another vNIC, or
 * none).  A mark for its iface-id stays, the Port gone or not. */
static void
unmark_iface_tenant(const struct ovsrec_interface *iface)
{
    const char *bound_for = smap_get(&iface->external_ids,
                                     BOUND_IFACE_ID_KEY);
    const char *iface_id = smap_get(&iface->external_ids, "iface-id");

    if (bound_for && (!iface_id || strcmp(iface_id, bound_for))) {
        ovsrec_interface_update_external_ids_delkey(iface,
                                                    BOUND_IFACE_ID_KEY);
        if (smap_get(&iface->external_ids, BOUND_TENANT_KEY)) {
            ovsrec_interface_update_external_ids_delkey(iface,
                                                        BOUND_TENANT_KEY);
        }
    }
}

/* Returns true if the controller bound 'iface' under another iface-id
 * than the one it has now: the hypervisor gave the Interface to another VM
 * in place (its external_ids:iface-id changed) while the controller was not
 * looking, and what the Interface keeps of the former vNIC (its conntrack
 * zone, the flows that match its ofport) is not the new one's. */
bool
if_status_iface_rebound(const struct ovsrec_interface *iface)
{
    const char *bound_for = smap_get(&iface->external_ids,
                                     BOUND_IFACE_ID_KEY);
    const char *iface_id = smap_get(&iface->external_ids, "iface-id");

    return bound_for && (!iface_id || strcmp(iface_id, bound_for));
}

/* Returns true if 'iface' carries the mark of an installed vNIC. */
bool
if_status_iface_is_marked(const struct ovsrec_interface *iface)
{
    return smap_get_bool(&iface->external_ids, "bulkhead-installed", false);
}

/* Returns true if 'port' says it is up. */
bool
if_status_port_is_up(const struct bhrec_port *port)
{
    return port->n_up && port->up[0];
}

/* Writes the Interface's mark and zone. */
static void
mark_iface(const struct ovsrec_interface *iface, uint16_t zone)
{
    char zone_s[16];

    snprintf(zone_s, sizeof zone_s, "%"PRIu16, zone);
    if (!if_status_iface_is_marked(iface)) {
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

/* Removes the Interface's mark and zone, and its tenant mark if it was
 * written for another iface-id. */
static void
unmark_iface(const struct ovsrec_interface *iface)
{
    unmark_iface_tenant(iface);
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
        e->t_acked = ifs->turn_start;
        set_state(ifs, e, IFS_MARK_IFACE);
    }

    if (ctx->ovs_txn) {
        struct uuidset_node *stale;
        UUIDSET_FOR_EACH (stale, &ifs->stale) {
            const struct ovsrec_interface *iface
                = ovsrec_interface_get_for_uuid(ctx->ovs_idl, &stale->uuid);
            if (iface && iface_has_marks(iface)
                && !iface_is_held(ifs, iface)) {
                static struct vlog_rate_limit rl
                    = VLOG_RATE_LIMIT_INIT(5, 20);
                VLOG_INFO_RL(&rl, "interface %s is no bound vNIC's: its "
                             "marks go", iface->name);
                COVERAGE_INC(if_status_stale_mark);
                unmark_iface(iface);
            }
        }
        uuidset_clear(&ifs->stale);
        LIST_FOR_EACH_SAFE (e, list_node, &ifs->lists[IFS_UNMARK]) {
            const struct ovsrec_interface *iface
                = ovsrec_interface_get_for_uuid(ctx->ovs_idl, &e->iface);
            if (iface) {
                unmark_iface(iface);
            }
            if_status_gone(ifs, e->iface_id);
        }
        /* A vNIC is its tenant's from its binding on, not only once the
         * switch confirms its flows: a Port of another tenant that takes
         * its iface-id in between must find the mark. */
        for (enum if_state st = IFS_FLOWS_CHANGED; st <= IFS_FLOWS_SENT;
             st++) {
            LIST_FOR_EACH (e, list_node, &ifs->lists[st]) {
                if (!e->tenant_marked) {
                    e->tenant_marked = mark_entry_tenant(ctx, e);
                }
            }
        }
        LIST_FOR_EACH_SAFE (e, list_node, &ifs->lists[IFS_MARK_IFACE]) {
            const struct ovsrec_interface *iface
                = ovsrec_interface_get_for_uuid(ctx->ovs_idl, &e->iface);
            if (iface) {
                mark_iface(iface, e->zone);
                mark_entry_tenant(ctx, e);
                COVERAGE_INC(if_status_mark);
                if (e->t_read && e->t_sent && e->t_acked && !e->t_marked) {
                    if (ifs->n_marked >= ifs->allocated_marked) {
                        ifs->marked = x2nrealloc(ifs->marked,
                                                 &ifs->allocated_marked,
                                                 sizeof *ifs->marked);
                    }
                    ifs->marked[ifs->n_marked++] = e;
                }
            }
            set_state(ifs, e, IFS_MARK_PORT);
        }
    }

    if (ctx->tdb_txn && ctx->chassis) {
        LIST_FOR_EACH_SAFE (e, list_node, &ifs->lists[IFS_MARK_PORT]) {
            const struct bhrec_port *port = bhrec_port_get_for_uuid(
                ctx->tdb_idl, &e->port);
            if (port && port->chassis != ctx->chassis) {
                /* The claim is on its way (or waits): up goes with it, or
                 * after it, never before, and never forgotten. */
                continue;
            }
            if (port && !if_status_port_is_up(port)) {
                bool up = true;
                bhrec_port_set_up(port, &up, 1);
            }
            set_state(ifs, e, IFS_UP);
        }
    }
}

/* Notes that a turn of the main loop begins, at 'now' (usec, monotonic):
 * what it reads and confirms is timed from there. */
void
if_status_start_turn(struct if_status *ifs, long long int now)
{
    ifs->turn_start = now;
}

/* Records one sample in stopwatch 'name': 'usec' microseconds. */
static void
stopwatch_sample(const char *name, long long int usec)
{
    stopwatch_start(name, 0);
    stopwatch_stop(name, MAX(usec, 0));
}

/* Stores in '*total' how long 'e''s last installation took until 'end'
 * (usec), and in '*sw' the switch's share of it. */
static void
entry_timing(const struct if_entry *e, long long int end,
             long long int *total, long long int *sw)
{
    *total = end - e->t_read;
    *sw = e->t_acked - e->t_sent;
}

/* Notes that the marks written in this turn were handed to the local
 * OVSDB at 'now' (usec, monotonic): their vNICs' installations are timed,
 * for "vnic/show", and the slowest of them goes into the stopwatches
 * "vnic-install" (change read to mark committed), "vnic-install-switch"
 * (flows sent to confirmation read: the switch's share) and
 * "vnic-install-controller" (the rest: the controller's own share).  One
 * sample per commit, not per vNIC: a cold start that marks thousands of
 * vNICs at once is one installation, and costs three samples. */
void
if_status_note_commit(struct if_status *ifs, long long int now)
{
    const struct if_entry *slowest = NULL;

    for (size_t i = 0; i < ifs->n_marked; i++) {
        struct if_entry *e = ifs->marked[i];
        e->t_marked = now;
        if (!slowest || e->t_read < slowest->t_read) {
            slowest = e;
        }
    }
    if (slowest) {
        long long int total, sw;
        entry_timing(slowest, now, &total, &sw);
        stopwatch_sample(SW_TOTAL, total);
        stopwatch_sample(SW_SWITCH, sw);
        stopwatch_sample(SW_CONTROLLER, total - sw);
    }
    ifs->n_marked = 0;
}

/* Returns true if the last if_status_run() marked vNICs installed whose
 * marks the caller has not committed yet (if_status_note_commit()). */
bool
if_status_marking(const struct if_status *ifs)
{
    return ifs->n_marked > 0;
}

/* Describes in 's' how long the last installation of 'iface_id' took, or
 * nothing if it is not over or was not timed. */
void
if_status_format_timing(const struct if_status *ifs, const char *iface_id,
                        struct ds *s)
{
    const struct if_entry *e = find_entry(ifs, iface_id);

    if (e && e->t_read && e->t_sent && e->t_acked && e->t_marked) {
        long long int total, sw;
        entry_timing(e, e->t_marked, &total, &sw);
        ds_put_format(s, "install time: %.1f ms (controller %.1f ms, "
                      "switch %.1f ms)\n", total / 1000.0,
                      (total - sw) / 1000.0, sw / 1000.0);
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
