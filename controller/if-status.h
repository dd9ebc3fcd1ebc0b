/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef IF_STATUS_H
#define IF_STATUS_H 1

/* Installed marks: telling the hypervisor and the control plane that a
 * vNIC's flows are in place.
 *
 * A vNIC whose flows changed is "installed" only once the switch confirmed,
 * by a barrier reply, the bundle that carried them.  Then its Interface gets
 * external_ids:bulkhead-installed=true (hypervisor hooks wait on it) and its
 * conntrack zone (ct-zone.h), and its Tenant DB Port gets up=true.  A vNIC
 * that is unbound, or bound to another Port, loses the mark first, so that a
 * mark never vouches for flows that are not there; so does an Interface
 * that stays but is no vNIC any more (its iface-id went).  At the start,
 * and after a transaction that was not committed, every Interface's marks
 * are looked at: those of no bound vNIC (left by an earlier run, or an
 * unmarking lost with its connection) go, those missing from an installed
 * vNIC are written again.
 *
 * Each vNIC known here goes through an explicit state machine:
 *
 *   IFS_FLOWS_CHANGED --put--> IFS_FLOWS_SENT --barrier reply-->
 *   IFS_MARK_IFACE --ovs txn--> IFS_MARK_PORT --Tenant DB txn--> IFS_UP
 *
 * and IFS_UNMARK (remove a stale mark, then forget) for a vNIC that is not
 * bound.  A vNIC whose flows the switch refused (ofctrl.h) goes back to
 * IFS_FLOWS_CHANGED instead of being marked, until they are in place.
 * Each database gets its write as soon as it can take one; the Tenant DB
 * being away delays only Port.up.
 *
 * Timing.  Each installation is timed from the turn of the main loop that
 * read the change (the ofport of a new Interface, a Port's new policy) to
 * the commit of its Interface mark, and split into the switch's share
 * (flows sent to the turn that read their confirmation) and the
 * controller's own (the rest: computing, sending, writing the mark, and
 * waiting for a local OVSDB transaction still in flight).  "vnic/show"
 * gives a vNIC's last; the stopwatches "vnic-install",
 * "vnic-install-controller" and "vnic-install-switch" ("stopwatch/show")
 * one sample per commit of marks, its slowest vNIC's. */

#include <stdbool.h>
#include <stdint.h>

struct ds;
struct ofctrl;
struct ovsdb_idl;
struct ovsdb_idl_txn;
struct bhrec_chassis;
struct bhrec_port;
struct ovsrec_interface;
struct uuid;

/* Where a vNIC's marks stand. */
enum if_state {
    IFS_FLOWS_CHANGED,          /* Flows changed, not sent yet. */
    IFS_FLOWS_SENT,             /* Sent, waiting for the barrier reply. */
    IFS_MARK_IFACE,             /* Confirmed: Interface mark to write. */
    IFS_MARK_PORT,              /* Interface marked: Port.up to write. */
    IFS_UP,                     /* Both marks written. */
    IFS_UNMARK,                 /* Not bound: stale mark to remove. */
};

/* What if_status_run() writes with. */
struct if_status_ctx {
    struct ovsdb_idl *ovs_idl;          /* Local OVSDB. */
    struct ovsdb_idl *tdb_idl;          /* Tenant DB. */
    const struct bhrec_chassis *chassis;  /* This host, or NULL. */
    struct ovsdb_idl_txn *ovs_txn;      /* For Interface marks, or NULL. */
    struct ovsdb_idl_txn *tdb_txn;      /* For Port.up, or NULL. */
    const struct ofctrl *ofctrl;        /* Says whose flows the switch
                                         * refused, or NULL. */
};

struct if_status *if_status_create(void);
void if_status_destroy(struct if_status *);

void if_status_flows_changed(struct if_status *, const char *iface_id,
                             const struct uuid *iface,
                             const struct uuid *port, uint16_t zone);
void if_status_unbound(struct if_status *, const char *iface_id,
                       const struct uuid *iface);
void if_status_gone(struct if_status *, const char *iface_id);
bool if_status_iface_is_marked(const struct ovsrec_interface *);
bool if_status_iface_rebound(const struct ovsrec_interface *);
const char *if_status_iface_tenant(const struct ovsrec_interface *,
                                   const char *iface_id, const char **key);
bool if_status_port_is_up(const struct bhrec_port *);
void if_status_recheck(struct if_status *, const char *iface_id,
                       enum if_state step);
void if_status_recheck_all(struct if_status *,
                           const struct if_status_ctx *);
void if_status_unmark_iface(struct if_status *, const struct uuid *iface);

void if_status_start_turn(struct if_status *, long long int now);
void if_status_note_put(struct if_status *, uint64_t seqno);
void if_status_run(struct if_status *, const struct if_status_ctx *,
                   uint64_t acked_seqno);
void if_status_note_commit(struct if_status *, long long int now);
bool if_status_marking(const struct if_status *);
void if_status_format_timing(const struct if_status *, const char *iface_id,
                             struct ds *);
enum if_state if_status_get(const struct if_status *, const char *iface_id);
bool if_status_is_installed(const struct if_status *, const char *iface_id);
const char *if_state_name(enum if_state);

#endif /* if-status.h */
