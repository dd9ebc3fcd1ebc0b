/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#include <config.h>
#include "controller/chassis.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "controller/pipeline.h"
#include "dirs.h"
#include "entropy.h"
#include "packets.h"
#include "openvswitch/vlog.h"
#include "ovsdb-idl.h"
#include "policies/policy.h"
#include "schema/bulkhead-idl.h"
#include "smap.h"
#include "util.h"
#include "uuid.h"
#include "vswitch-idl.h"

VLOG_DEFINE_THIS_MODULE(chassis);

/* Inserts a row of 'class' in 'txn' and returns it, under a random
 * temporary UUID (the database server gives the row its own).  The IDL's
 * default, uuid_generate(), seeds itself once with OpenSSL's SHA-1, and
 * initializing OpenSSL alone keeps about 2.5 MB of its pages in the
 * controller's memory for its whole life: as much as the rest of what a
 * host of 100 vNICs costs it beyond the libraries. */
static const struct ovsdb_idl_row *
insert_row(struct ovsdb_idl_txn *txn,
           const struct ovsdb_idl_table_class *class)
{
    struct uuid uuid;

    get_entropy_or_die(&uuid, sizeof uuid);
    uuid_set_bits_v4(&uuid);
    return ovsdb_idl_txn_insert(txn, class, &uuid);
}

/* Inserts a row in table 'TABLE' of the IDL whose prefix is 'PREFIX' (e.g.
 * ovsrec, port) in 'TXN' with insert_row(), and returns it as the IDL's
 * struct PREFIX_TABLE. */
#define INSERT_ROW(TXN, PREFIX, TABLE)                                  \
    CONTAINER_OF(insert_row(TXN, &PREFIX##_table_##TABLE),              \
                 struct PREFIX##_##TABLE, header_)

/* Configuration. */

/* Frees what 'cfg' holds and zeroes it. */
void
chassis_config_clear(struct chassis_config *cfg)
{
    free(cfg->system_id);
    free(cfg->host_id);
    free(cfg->remote);
    free(cfg->encap_ip);
    free(cfg->bridge);
    free(cfg->uplink);
    free(cfg->datapath_type);
    memset(cfg, 0, sizeof *cfg);
}

/* Returns the Tenant DB remote used when none is configured. */
static char *
default_tdb_remote(void)
{
    return xasprintf("unix:%s/bulkhead.sock", ovs_rundir());
}

/* Logs that external_ids:'key' "'value'" is not 'what' and that 'instead'
 * applies, once for each value that a key takes: the configuration is read
 * at every turn of the main loop, and a rate limit shared by every key
 * would show only the first bad key. */
static void
warn_bad_value(const char *key, const char *value, const char *what,
               const char *instead)
{
    static struct smap warned = SMAP_INITIALIZER(&warned);
    const char *last = smap_get(&warned, key);

    if (!last || strcmp(last, value)) {
        VLOG_WARN("external_ids:%s \"%s\" is not %s: using %s",
                  key, value, what, instead);
        smap_replace(&warned, key, value);
    }
}

/* Returns the integer that key 'key' of 'ids' (may be NULL) gives, 'dflt'
 * if it is missing, and 'dflt', with a warning, if it is not an integer
 * from 'min' to 'max'.  (smap_get_int() takes anything that is no number,
 * "5s" say, for the default, and leaves the range to its caller.) */
static int
read_int(const struct smap *ids, const char *key, int dflt, int min, int max)
{
    const char *value = ids ? smap_get(ids, key) : NULL;
    int i;

    if (!value) {
        return dflt;
    } else if (!str_to_int(value, 10, &i) || i < min || i > max) {
        char *what = xasprintf("an integer from %d to %d", min, max);
        char *instead = xasprintf("%d", dflt);
        warn_bad_value(key, value, what, instead);
        free(instead);
        free(what);
        return dflt;
    }
    return i;
}

/* Returns, in ms, the number of seconds that key 'key' of 'ids' (may be
 * NULL) gives, 'dflt' if it is missing, 0 (never) if it is 0, and the
 * default, with a warning, if it is not a number of seconds from 0 to a
 * day. */
static long long int
read_seconds(const struct smap *ids, const char *key, int dflt)
{
    const char *value = ids ? smap_get(ids, key) : NULL;
    int s;

    if (value && (!str_to_int(value, 10, &s) || s < 0 || s > 86400)) {
        char *instead = xasprintf("%d", dflt);
        warn_bad_value(key, value, "a number of seconds from 0 to 86400",
                       instead);
        free(instead);
        return dflt * 1000LL;
    }
    return (value ? s : dflt) * 1000LL;
}

/* Returns the boolean that key 'key' of 'ids' (may be NULL) gives, 'dflt'
 * if it is missing, and 'dflt', with a warning, if it is neither "true"
 * nor "false" (in any case, as smap_get_bool() reads them, which takes
 * anything else, "yes" or "off", silently for one of the two). */
static bool
read_bool(const struct smap *ids, const char *key, bool dflt)
{
    const char *value = ids ? smap_get(ids, key) : NULL;

    if (!value) {
        return dflt;
    } else if (!strcasecmp(value, "true")) {
        return true;
    } else if (!strcasecmp(value, "false")) {
        return false;
    }
    warn_bad_value(key, value, "true or false", dflt ? "true" : "false");
    return dflt;
}

/* Reads the configuration from the Open_vSwitch row 'cfg_row' (may be
 * NULL) into 'cfg'. */
void
chassis_config_read(struct chassis_config *cfg,
                    const struct ovsrec_open_vswitch *cfg_row)
{
    const struct smap *ids = cfg_row ? &cfg_row->external_ids : NULL;
    const char *remote = ids ? smap_get(ids, "bulkhead-remote") : NULL;
    const char *bridge = ids ? smap_get(ids, "bulkhead-bridge") : NULL;

    chassis_config_clear(cfg);
    cfg->system_id = ids ? nullable_xstrdup(smap_get(ids, "system-id"))
                         : NULL;
    const char *host_id = ids ? smap_get(ids, "bulkhead-host-id") : NULL;
    if (host_id && *host_id) {
        cfg->host_id = xstrdup(host_id);
    } else if (cfg_row) {
        cfg->host_id = xasprintf(UUID_FMT,
                                 UUID_ARGS(&cfg_row->header_.uuid));
    }
    cfg->remote = remote && *remote ? xstrdup(remote) : default_tdb_remote();
    const char *encap_ip = ids ? smap_get(ids, "bulkhead-encap-ip") : NULL;
    ovs_be32 ip;
    if (encap_ip && policy_parse_host_ip(encap_ip, &ip)) {
        cfg->encap_ip = xstrdup(encap_ip);
    } else if (encap_ip) {
        /* The other hosts' rule (overlay.c): an address they would refuse
         * must not give this host a tunnel that only sends. */
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 1);
        VLOG_WARN_RL(&rl, "external_ids:bulkhead-encap-ip \"%s\" is not a "
                     "unicast IPv4 address that another host can reach: "
                     "this host has no overlay", encap_ip);
    }
    cfg->bridge = xstrdup(bridge && *bridge ? bridge : "br-int");
    cfg->uplink = ids ? nullable_xstrdup(smap_get(ids, "bulkhead-uplink"))
                      : NULL;
    cfg->verify_interval = read_seconds(ids, "bulkhead-verify-interval", 60);
    cfg->log_rate = read_int(ids, "bulkhead-log-rate", 20, 1, 10000);
    cfg->log_host_rate = read_int(ids, "bulkhead-log-host-rate", 200,
                                  1, 100000);
    int probe = read_int(ids, "bulkhead-remote-probe-interval", 5000,
                         0, INT_MAX);
    cfg->remote_probe_interval = probe ? MAX(probe, 1000) : 0;
    cfg->monitor_all = read_bool(ids, "bulkhead-monitor-all", false);
    cfg->stats_interval = read_seconds(ids, "bulkhead-stats-interval", 5);
    cfg->stats_db_interval = read_seconds(ids, "bulkhead-stats-db-interval",
                                          30);
    cfg->rule_stats = read_bool(ids, "bulkhead-rule-stats", true);
    cfg->isolation_verify = read_bool(ids, "bulkhead-isolation-verify", true);
    cfg->isolation_max_flows = read_int(ids,
                                        "bulkhead-isolation-verify-max-flows",
                                        100000, 0, INT_MAX);
    cfg->datapath_type = (ids
                          ? nullable_xstrdup(smap_get(
                                                 ids,
                                                 "bulkhead-datapath-type"))
                          : NULL);
}

/* The integration bridge. */

/* Returns the bridge named 'name', or NULL. */
static const struct ovsrec_bridge *
find_bridge(struct ovsdb_idl *idl, const char *name)
{
    const struct ovsrec_bridge *br;

    OVSREC_BRIDGE_FOR_EACH (br, idl) {
        if (!strcmp(br->name, name)) {
            return br;
        }
    }
    return NULL;
}

/* Makes sure the integration bridge exists, with fail_mode=secure (so that
 * a switch without its controller forwards nothing) and the configured
 * datapath type.  Returns it, or NULL if it is being created. */
const struct ovsrec_bridge *
chassis_ensure_bridge(struct ovsdb_idl *ovs_idl,
                      const struct chassis_config *cfg,
                      const struct ovsrec_open_vswitch *ovs,
                      struct ovsdb_idl_txn *txn)
{
    const struct ovsrec_bridge *br = find_bridge(ovs_idl, cfg->bridge);
    const char *dp_type = cfg->datapath_type;

    if (!txn) {
        return br;
    }
    if (!br) {
        if (!ovs) {
            return NULL;
        }
        VLOG_INFO("creating integration bridge %s", cfg->bridge);
        struct ovsrec_interface *iface = INSERT_ROW(txn, ovsrec, interface);
        ovsrec_interface_set_name(iface, cfg->bridge);
        ovsrec_interface_set_type(iface, "internal");
        struct ovsrec_port *port = INSERT_ROW(txn, ovsrec, port);
        ovsrec_port_set_name(port, cfg->bridge);
        ovsrec_port_set_interfaces(port, &iface, 1);
        struct ovsrec_bridge *nbr = INSERT_ROW(txn, ovsrec, bridge);
        ovsrec_bridge_set_name(nbr, cfg->bridge);
        ovsrec_bridge_set_fail_mode(nbr, "secure");
        if (dp_type) {
            ovsrec_bridge_set_datapath_type(nbr, dp_type);
        }
        ovsrec_bridge_set_ports(nbr, &port, 1);
        ovsrec_open_vswitch_update_bridges_addvalue(ovs, nbr);
        return NULL;
    }
    if (!br->fail_mode || strcmp(br->fail_mode, "secure")) {
        VLOG_WARN("%s: setting fail_mode=secure", br->name);
        ovsrec_bridge_set_fail_mode(br, "secure");
        if (ovs) {
            /* As ovs-vsctl does: ovs-vswitchd's cur_cfg then tells when it
             * has applied it (and emptied the table again). */
            ovsdb_idl_txn_increment(txn, &ovs->header_,
                                    &ovsrec_open_vswitch_col_next_cfg,
                                    false);
        }
    }
    if (dp_type && strcmp(br->datapath_type, dp_type)) {
        VLOG_INFO("%s: setting datapath_type=%s", br->name, dp_type);
        ovsrec_bridge_set_datapath_type(br, dp_type);
    }
    return br;
}

/* The local OVSDB's Ports by name (see chassis_index_ports()), or NULL. */
static struct ovsdb_idl_index *port_by_name;

/* Indexes the Ports of 'ovs_idl' (which must monitor Port's 'name') by
 * name, so that chassis_find_port() does not compare the name of every
 * port of the bridge: it is called whenever the local OVSDB changed, a new
 * vNIC's ofport included. */
void
chassis_index_ports(struct ovsdb_idl *ovs_idl)
{
    port_by_name = ovsdb_idl_index_create1(ovs_idl, &ovsrec_port_col_name);
}

/* Returns the Port named 'name' of bridge 'br', or NULL.  The Ports must
 * be indexed (chassis_index_ports()). */
const struct ovsrec_port *
chassis_find_port(const struct ovsrec_bridge *br, const char *name)
{
    ovs_assert(port_by_name);

    struct ovsrec_port *key = ovsrec_port_index_init_row(port_by_name);
    ovsrec_port_index_set_name(key, name);
    const struct ovsrec_port *port = ovsrec_port_index_find(port_by_name,
                                                            key);
    ovsrec_port_index_destroy_row(key);
    /* Port names are unique in the database, but the port must be this
     * bridge's: a comparison of pointers per port. */
    for (size_t i = 0; port && i < br->n_ports; i++) {
        if (br->ports[i] == port) {
            return port;
        }
    }
    return NULL;
}

/* Makes flow-based tunnel port 'name' of type 'type' ("vxlan", "gre",
 * "erspan") on 'br' what is wanted, in 'txn': present with remote_ip=flow
 * and key=flow, and the options of 'extra' if nonnull, if 'wanted' (added,
 * or put back as it should be if someone removed or changed it), absent
 * otherwise ('why' says why in the log).  Returns its Interface, or NULL
 * if it does not exist (yet). */
const struct ovsrec_interface *
chassis_keep_flow_tunnel(const struct ovsrec_bridge *br, const char *name,
                         const char *type, const struct smap *extra,
                         bool wanted, const char *why,
                         struct ovsdb_idl_txn *txn)
{
    const struct ovsrec_port *port = chassis_find_port(br, name);
    const struct ovsrec_interface *iface = (port && port->n_interfaces == 1
                                            ? port->interfaces[0] : NULL);

    if (!txn) {
        return iface;
    }
    if (!wanted) {
        if (port) {
            VLOG_INFO("%s: removing %s: %s", br->name, name, why);
            ovsrec_bridge_update_ports_delvalue(br, port);
        }
        return NULL;
    }

    /* No local_ip: the outer source is the route's to each remote (a fixed
     * one needs a local route, which OVS's own route table cannot give the
     * userspace datapath). */
    struct smap options = SMAP_INITIALIZER(&options);
    smap_add(&options, "remote_ip", "flow");
    smap_add(&options, "key", "flow");
    if (extra) {
        const struct smap_node *node;
        SMAP_FOR_EACH (node, extra) {
            smap_replace(&options, node->key, node->value);
        }
    }
    if (!iface) {
        if (port) {
            ovsrec_bridge_update_ports_delvalue(br, port);
        }
        VLOG_INFO("%s: adding %s port %s", br->name, type, name);
        struct ovsrec_interface *niface = INSERT_ROW(txn, ovsrec, interface);
        ovsrec_interface_set_name(niface, name);
        ovsrec_interface_set_type(niface, type);
        ovsrec_interface_set_options(niface, &options);
        struct ovsrec_port *nport = INSERT_ROW(txn, ovsrec, port);
        ovsrec_port_set_name(nport, name);
        ovsrec_port_set_interfaces(nport, &niface, 1);
        ovsrec_bridge_update_ports_addvalue(br, nport);
    } else if (strcmp(iface->type, type)
               || !smap_equal(&iface->options, &options)) {
        VLOG_WARN("%s: %s was changed by hand; putting it back", br->name,
                  name);
        ovsrec_interface_set_type(iface, type);
        ovsrec_interface_set_options(iface, &options);
    }
    smap_destroy(&options);
    return iface;
}

/* Makes br-int's VXLAN port, PL_TUNNEL_PORT, what the configuration wants:
 * present when this host has an encapsulation address (and put back as it
 * should be if someone removed or changed it), absent otherwise.  Returns
 * its Interface, or NULL if it does not exist (yet). */
const struct ovsrec_interface *
chassis_ensure_tunnel(const struct ovsrec_bridge *br,
                      const struct chassis_config *cfg,
                      struct ovsdb_idl_txn *txn)
{
    return chassis_keep_flow_tunnel(br, PL_TUNNEL_PORT, "vxlan", NULL,
                                    cfg->encap_ip != NULL,
                                    "no bulkhead-encap-ip", txn);
}

/* The chassis. */

/* Returns the Chassis row named 'name' in 'tdb_idl', or NULL. */
const struct bhrec_chassis *
chassis_find_row(struct ovsdb_idl *tdb_idl, const char *name)
{
    const struct bhrec_chassis *ch;

    BHREC_CHASSIS_FOR_EACH (ch, tdb_idl) {
        if (!strcmp(ch->name, name)) {
            return ch;
        }
    }
    return NULL;
}

/* Returns true if Chassis row 'ch' is another host's: it names a host
 * (CHASSIS_HOST_ID_KEY) that is not the one 'cfg' says this is.  Two
 * hosts given one system-id (a cloned image, a copied configuration)
 * would otherwise share the row: whichever wrote last would move its
 * encapsulation address, hence every other host's traffic to its VMs, and
 * bind their vNICs.  A row that names no host yet (written before host
 * ids, or by hand) is nobody's: the first controller that may write it
 * takes it. */
bool
chassis_row_is_foreign(const struct bhrec_chassis *ch,
                       const struct chassis_config *cfg)
{
    const char *owner = smap_get(&ch->external_ids, CHASSIS_HOST_ID_KEY);

    return owner && (!cfg->host_id || strcmp(owner, cfg->host_id));
}

/* Returns this host's Chassis row, creating or updating it in 'txn'.
 * Returns NULL until it exists, and if the row of this host's name is
 * another host's (chassis_row_is_foreign()): that one is not written. */
const struct bhrec_chassis *
chassis_ensure_row(struct ovsdb_idl *tdb_idl,
                   const struct chassis_config *cfg,
                   struct ovsdb_idl_txn *txn, const char *version)
{
    const struct bhrec_chassis *ch;
    const char *name = cfg->system_id;
    char hostname[256];

    if (!name) {
        return NULL;
    }
    if (gethostname(hostname, sizeof hostname)) {
        hostname[0] = '\0';
    }
    hostname[sizeof hostname - 1] = '\0';

    ch = chassis_find_row(tdb_idl, name);
    if (ch && chassis_row_is_foreign(ch, cfg)) {
        return NULL;
    }
    if (!txn) {
        return ch;
    }
    if (!ch) {
        VLOG_INFO("registering chassis %s", name);
        struct bhrec_chassis *nch = INSERT_ROW(txn, bhrec, chassis);
        bhrec_chassis_set_name(nch, name);
        struct smap ids = SMAP_INITIALIZER(&ids);
        if (cfg->host_id) {
            smap_add(&ids, CHASSIS_HOST_ID_KEY, cfg->host_id);
        }
        smap_add(&ids, CHASSIS_VNIS_KEY, "");
        bhrec_chassis_set_external_ids(nch, &ids);
        smap_destroy(&ids);
        bhrec_chassis_set_hostname(nch, hostname);
        bhrec_chassis_set_version(nch, version);
        bhrec_chassis_set_encap_ip(nch, cfg->encap_ip);
        return NULL;
    }
    if (strcmp(ch->hostname, hostname)) {
        bhrec_chassis_set_hostname(ch, hostname);
    }
    if (strcmp(ch->version, version)) {
        bhrec_chassis_set_version(ch, version);
    }
    if (!nullable_string_is_equal(ch->encap_ip, cfg->encap_ip)) {
        bhrec_chassis_set_encap_ip(ch, cfg->encap_ip);
    }
    if (cfg->host_id
        && !smap_get(&ch->external_ids, CHASSIS_HOST_ID_KEY)) {
        VLOG_INFO("chassis %s is this host's (host id %s)", name,
                  cfg->host_id);
        bhrec_chassis_update_external_ids_setkey(ch, CHASSIS_HOST_ID_KEY,
                                                 cfg->host_id);
    }
    return ch;
}
