/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef OFCTRL_H
#define OFCTRL_H 1

/* The flow installer: keeps br-int's flow table equal to a desired one.
 *
 * ofctrl holds one OpenFlow 1.5 connection to the bridge's management
 * socket and a copy of what it installed.  ofctrl_put() sends the
 * difference between the desired table and the installed one as one
 * atomic, ordered bundle, followed by a barrier, and returns a sequence
 * number; ofctrl_acked_seqno() tells which sequence number the switch has
 * confirmed, so that the caller can mark a vNIC installed only once its
 * flows are really in place.
 *
 * After every (re)connection (the controller restarted, ovs-vswitchd
 * restarted, the bridge was recreated) the switch's table is unknown: the
 * next ofctrl_put() replaces it whole, "delete all flows" and "add every
 * desired flow" in the same bundle, so that no packet ever meets an empty
 * or half-written table.  The caller must not call ofctrl_put() before its
 * databases are in sync: an empty desired table would wipe the switch.
 *
 * Invariants: every bundle is atomic (all of it or none of it); a bundle the
 * switch refuses makes the next put a full replacement; the installed copy
 * describes the switch whenever no bundle is outstanding. */

#include <stdbool.h>
#include <stdint.h>

struct ds;
struct flow_table;

struct ofctrl *ofctrl_create(void);
void ofctrl_destroy(struct ofctrl *);
void ofctrl_set_bridge(struct ofctrl *, const char *bridge);
void ofctrl_run(struct ofctrl *);
void ofctrl_wait(struct ofctrl *);

bool ofctrl_is_connected(const struct ofctrl *);
bool ofctrl_needs_full(const struct ofctrl *);
uint64_t ofctrl_put(struct ofctrl *, struct flow_table *desired);
uint64_t ofctrl_acked_seqno(const struct ofctrl *);
void ofctrl_flush_zone(struct ofctrl *, uint16_t zone);
void ofctrl_format_status(const struct ofctrl *, struct ds *);

#endif /* ofctrl.h */
