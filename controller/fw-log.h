/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef FW_LOG_H
#define FW_LOG_H 1

/* The firewall's connection log.
 *
 * A rule with "log": true has flows that send the first packet of each
 * connection it allows to the controller, through a meter of the rule's
 * own (firewall.h): default 20 packets per second, Open_vSwitch
 * external_ids:bulkhead-log-rate.  This module turns each such packet into
 * one line of its own vlog module, "fw_log", at INFO:
 *
 *   verdict=allow tenant=acme network=lan port=s1 direction=ingress
 *   rule=acme/server#1 proto=udp src=10.1.0.11 dst=10.1.0.12 sport=1111
 *   dport=53
 *
 * and keeps the whole host under a cap of lines per second
 * (external_ids:bulkhead-log-host-rate, default 200): what exceeds it is
 * counted (coverage fw_log_suppressed), not written. */

#include <stdint.h>

struct binding;
struct firewall;
struct ofputil_packet_in;
struct ovsdb_idl;

struct fw_log *fw_log_create(const struct binding *, const struct firewall *,
                             struct ovsdb_idl *tdb);
void fw_log_destroy(struct fw_log *);
void fw_log_set_host_rate(struct fw_log *, uint32_t lines_per_second);
void fw_log_packet_in(const struct ofputil_packet_in *, void *fw_log);

#endif /* fw-log.h */
