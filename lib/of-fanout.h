/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef OF_FANOUT_H
#define OF_FANOUT_H 1

/* Sending lists of OpenFlow messages to a switch over several connections
 * at once.
 *
 * ovs-vswitchd reads at most 50 messages of one connection per turn of its
 * main loop, and on the userspace datapath each turn also polls every port
 * that no PMD thread polls: a bundle of 40,000 flow_mods on a bridge of
 * 2,000 such ports costs it 800 turns, two thirds of its work on them.  The
 * same messages spread over K connections take K times fewer turns.
 *
 * An of_fanout opens n connections to a switch at once and, each time it is
 * given n lists of messages (each ending in a barrier request, or empty),
 * sends each list on its connection as soon as that connection is up, and
 * follows it until the reply to its barrier: the fanout is idle ("done")
 * once every list sent so far has its reply, and failed as soon as an
 * error came on one of its connections, one went down with a list
 * unconfirmed, or one did not come up within OF_FANOUT_CONNECT_MS (and then
 * once the others have nothing outstanding).  Errors go to a callback.  The
 * connections close when it is destroyed. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ofp_header;
struct ovs_list;

/* How long a connection may take to come up, in milliseconds. */
#define OF_FANOUT_CONNECT_MS 5000

/* Handles the error 'oh' that the switch sent on one of the connections. */
typedef void of_fanout_error_cb(void *aux, const struct ofp_header *oh);

/* Where an of_fanout stands. */
enum of_fanout_state {
    OF_FANOUT_BUSY,             /* A list is not confirmed yet. */
    OF_FANOUT_DONE,             /* Every list sent so far confirmed. */
    OF_FANOUT_FAILED,           /* One failed, and the others are idle. */
};

struct of_fanout *of_fanout_create(const char *target,
                                   uint32_t allowed_versions, size_t n,
                                   of_fanout_error_cb *, void *aux);
void of_fanout_destroy(struct of_fanout *);
void of_fanout_send(struct of_fanout *, struct ovs_list *lists);
void of_fanout_run(struct of_fanout *);
void of_fanout_wait(struct of_fanout *);
enum of_fanout_state of_fanout_get_state(const struct of_fanout *);

#endif /* lib/of-fanout.h */
