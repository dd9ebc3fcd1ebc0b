/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef OF_RECV_H
#define OF_RECV_H 1

/* Reading a switch's OpenFlow messages a turn of the main loop at a time.
 *
 * A read of a whole flow table, or of thousands of counters, comes as many
 * large replies (about a hundred of 64 kB for 40,000 flows).  Reading them
 * all in one turn would make the rest of the loop (a vNIC to install) wait
 * for all of them; bh_rconn_recv_turn() reads for at most
 * BH_RECV_BUDGET_US (but always one message) and asks the loop to come
 * back at once for the rest.  A handler may also end the turn's reading
 * after its message: the installer does after a confirmation of flows,
 * so that the vNICs they serve are marked installed in this turn rather
 * than after 2 ms more of a table read queued behind it. */

#include <stdbool.h>

struct ofp_header;
struct rconn;

/* How long one turn spends reading one connection's messages, at most (but
 * for the first), in microseconds. */
#define BH_RECV_BUDGET_US 2000

/* Handles one message 'oh' received for 'aux'.  Returns true to read no
 * more in this turn. */
typedef bool bh_recv_cb(void *aux, const struct ofp_header *oh);

void bh_rconn_recv_turn(struct rconn *, bh_recv_cb *, void *aux);

#endif /* lib/of-recv.h */
