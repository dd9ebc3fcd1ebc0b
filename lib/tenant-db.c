/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#include <config.h>
#include "lib/tenant-db.h"

#include <stdlib.h>
#include <string.h>
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/shash.h"
#include "ovsdb-idl.h"
#include "smap.h"
#include "sset.h"
#include "policies/policy.h"
#include "schema/bulkhead-idl.h"
#include "util.h"
#include "uuid.h"

/* The rows of one tenant, found by name. */
struct tdb_tenant {
    struct hmap_node node;      /* In tdb_index's 'by_uuid'. */
    const struct bhrec_tenant *row;   /* The Tenant row. */
    struct shash networks;      /* Name -> const struct bhrec_network *. */
    struct shash groups;        /* Name -> const struct bhrec_security_group
                                 * *. */
    struct shash ports;         /* Name -> const struct bhrec_port *. */
};

/* The whole Tenant DB, indexed by tenant. */
struct tdb_index {
    struct hmap by_uuid;        /* Contains struct tdb_tenant. */
    struct shash by_name;       /* Tenant name -> struct tdb_tenant *. */
};

/* Returns the entry of 'index' for Tenant row 'row', or NULL. */
static struct tdb_tenant *
tdb_find(const struct tdb_index *index, const struct bhrec_tenant *row)
{
    struct tdb_tenant *t;

    if (!row) {
        return NULL;
    }
    HMAP_FOR_EACH_WITH_HASH (t, node, uuid_hash(&row->header_.uuid),
                             &index->by_uuid) {
        if (t->row == row) {
            return t;
        }
    }
    return NULL;
}

/* Builds an index of every row of the Tenant DB in 'idl'. */
static void
tdb_index_build(struct tdb_index *index, const struct ovsdb_idl *idl)
{
    const struct bhrec_tenant *tenant;
    const struct bhrec_network *net;
    const struct bhrec_security_group *group;
    const struct bhrec_port *port;

    hmap_init(&index->by_uuid);
    shash_init(&index->by_name);
    BHREC_TENANT_FOR_EACH (tenant, idl) {
        struct tdb_tenant *t = xzalloc(sizeof *t);
        t->row = tenant;
        shash_init(&t->networks);
        shash_init(&t->groups);
        shash_init(&t->ports);
        hmap_insert(&index->by_uuid, &t->node,
                    uuid_hash(&tenant->header_.uuid));
        shash_add(&index->by_name, tenant->name, t);
    }
    BHREC_NETWORK_FOR_EACH (net, idl) {
        struct tdb_tenant *t = tdb_find(index, net->tenant);
        if (t) {
            shash_add(&t->networks, net->name, net);
        }
    }
    BHREC_SECURITY_GROUP_FOR_EACH (group, idl) {
        struct tdb_tenant *t = tdb_find(index, group->tenant);
        if (t) {
            shash_add(&t->groups, group->name, group);
        }
    }
    BHREC_PORT_FOR_EACH (port, idl) {
        struct tdb_tenant *t = tdb_find(index, port->network->tenant);
        if (t) {
            shash_add(&t->ports, port->name, port);
        }
    }
}

/* Frees what 'index' holds. */
static void
tdb_index_destroy(struct tdb_index *index)
{
    struct tdb_tenant *t;

    HMAP_FOR_EACH_POP (t, node, &index->by_uuid) {
        shash_destroy(&t->networks);
        shash_destroy(&t->groups);
        shash_destroy(&t->ports);
        free(t);
    }
    hmap_destroy(&index->by_uuid);
    shash_destroy(&index->by_name);
}

/* Returns, with their number in '*n', the tables' columns that
 * tenant_db_read(), tenant_db_apply() and tenant_db_delete_tenant() read
 * or write, which an IDL created without monitoring everything must
 * monitor: the policy columns of Tenant, Network, Security_Group, Rule and
 * Port, and Tenant's external_ids (its generation, see
 * bump_generation()).  Not the columns that controllers write
 * (Port.chassis, up, statistics), nor Port's requested_chassis, the other
 * tables' external_ids, Chassis or Mirror. */
const struct ovsdb_idl_column *const *
tenant_db_policy_columns(size_t *n)
{
    static const struct ovsdb_idl_column *const columns[] = {
        &bhrec_tenant_col_name,
        &bhrec_tenant_col_position,
        &bhrec_tenant_col_external_ids,
        &bhrec_network_col_name,
        &bhrec_network_col_tenant,
        &bhrec_network_col_position,
        &bhrec_network_col_type,
        &bhrec_network_col_segment,
        &bhrec_network_col_cidrs,
        &bhrec_network_col_mtu,
        &bhrec_security_group_col_name,
        &bhrec_security_group_col_tenant,
        &bhrec_security_group_col_position,
        &bhrec_security_group_col_rules,
        &bhrec_rule_col_position,
        &bhrec_rule_col_direction,
        &bhrec_rule_col_ethertype,
        &bhrec_rule_col_protocol,
        &bhrec_rule_col_ports,
        &bhrec_rule_col_remote_cidr,
        &bhrec_rule_col_remote_group,
        &bhrec_rule_col_log,
        &bhrec_port_col_name,
        &bhrec_port_col_iface_id,
        &bhrec_port_col_network,
        &bhrec_port_col_position,
        &bhrec_port_col_mac,
        &bhrec_port_col_ips,
        &bhrec_port_col_allowed_addresses,
        &bhrec_port_col_security_groups,
        &bhrec_port_col_port_security,
        &bhrec_port_col_broadcast_limit,
        &bhrec_port_col_max_connections,
        &bhrec_port_col_log_denied,
    };

    *n = ARRAY_SIZE(columns);
    return columns;
}


/* Reading. */

/* A row with its position and name, for sorting. */
struct sort_item {
    int64_t position;           /* The row's "position" column. */
    const char *name;           /* Its name, to break ties. */
    const void *row;            /* The row itself. */
};

static int
compare_sort_items(const void *a_, const void *b_)
{
    const struct sort_item *a = a_;
    const struct sort_item *b = b_;

    if (a->position != b->position) {
        return a->position < b->position ? -1 : 1;
    }
    return strcmp(a->name, b->name);
}

/* Returns the rows in 'map' (name -> row), whose position is found by
 * 'get_position', sorted by position and then name.  Stores their number
 * in '*n'.  The caller frees the array. */
static struct sort_item *
sorted_rows(const struct shash *map, int64_t (*get_position)(const void *),
            size_t *n)
{
    struct sort_item *items = xmalloc(shash_count(map) * sizeof *items + 1);
    struct shash_node *node;

    *n = 0;
    SHASH_FOR_EACH (node, map) {
        struct sort_item *item = &items[(*n)++];
        item->row = node->data;
        item->name = node->name;
        item->position = get_position(node->data);
    }
    qsort(items, *n, sizeof *items, compare_sort_items);
    return items;
}

static int64_t
network_position(const void *row)
{
    return ((const struct bhrec_network *) row)->position;
}

static int64_t
group_position(const void *row)
{
    return ((const struct bhrec_security_group *) row)->position;
}

static int64_t
port_position(const void *row)
{
    return ((const struct bhrec_port *) row)->position;
}

static int64_t
tenant_position(const void *row)
{
    return ((const struct tdb_tenant *) row)->row->position;
}

/* Fills 'rule', zero-initialized or fresh from policy_group_add_rule(),
 * from Rule row 'row'.  Leaves 'rule->path' alone. */
void
tenant_db_rule_from_row(const struct bhrec_rule *row,
                        struct policy_rule *rule)
{
    policy_direction_from_string(row->direction, &rule->direction);
    rule->ethertype = nullable_xstrdup(row->ethertype);
    free(rule->protocol);
    rule->protocol = xstrdup(row->protocol);
    rule->ports = nullable_xstrdup(row->ports);
    free(rule->remote);
    rule->remote = (row->remote_group
                    ? xasprintf("@%s", row->remote_group->name)
                    : xstrdup(row->remote_cidr ? row->remote_cidr : "any"));
    rule->log = row->log;
}

/* Frees what 'rule' holds and zeroes it. */
void
tenant_db_rule_clear(struct policy_rule *rule)
{
    policy_rule_destroy(rule);
    memset(rule, 0, sizeof *rule);
}

/* Returns the rules of 'group' sorted by position. */
static const struct bhrec_rule **
sorted_rules(const struct bhrec_security_group *group)
{
    const struct bhrec_rule **rules = xmalloc(group->n_rules * sizeof *rules
                                              + 1);
    for (size_t i = 0; i < group->n_rules; i++) {
        const struct bhrec_rule *r = group->rules[i];
        size_t j = i;
        while (j > 0 && rules[j - 1]->position > r->position) {
            rules[j] = rules[j - 1];
            j--;
        }
        rules[j] = r;
    }
    return rules;
}

/* Compares security groups by name, for sorting. */
static int
compare_group_names(const void *a, const void *b)
{
    return strcmp((*(const struct bhrec_security_group *const *) a)->name,
                  (*(const struct bhrec_security_group *const *) b)->name);
}

/* Fills 'port', zero-initialized or fresh from policy_tenant_add_port()
 * with a null name, from Port row 'row'.  Leaves 'port->path' alone. */
void
tenant_db_port_from_row(const struct bhrec_port *row,
                        struct policy_port *port)
{
    port->name = xstrdup(row->name);
    port->iface_id = xstrdup(row->iface_id);
    port->network = xstrdup(row->network->name);
    port->mac = xstrdup(row->mac);
    for (size_t i = 0; i < row->n_ips; i++) {
        svec_add(&port->ips, row->ips[i]);
    }

    /* "MAC IP", or "IP" alone for the port's own MAC. */
    port->allowed = xcalloc(row->n_allowed_addresses + 1,
                            sizeof *port->allowed);
    for (size_t i = 0; i < row->n_allowed_addresses; i++) {
        const char *a = row->allowed_addresses[i];
        const char *space = strchr(a, ' ');
        struct policy_address *pa = &port->allowed[port->n_allowed++];
        pa->mac = space ? xmemdup0(a, space - a) : NULL;
        pa->ip = xstrdup(space ? space + 1 : a);
    }

    const struct bhrec_security_group **groups
        = xmalloc(row->n_security_groups * sizeof *groups + 1);
    nullable_memcpy(groups, row->security_groups,
                    row->n_security_groups * sizeof *groups);
    qsort(groups, row->n_security_groups, sizeof *groups,
          compare_group_names);
    for (size_t i = 0; i < row->n_security_groups; i++) {
        svec_add(&port->groups, groups[i]->name);
    }
    free(groups);

    port->port_security = row->port_security;
    port->broadcast_limit = (row->n_broadcast_limit
                             ? row->broadcast_limit[0] : 0);
    port->max_connections = (row->n_max_connections
                             ? row->max_connections[0] : 0);
    port->log_denied = row->n_log_denied && row->log_denied[0];
}

/* Frees what 'port' holds and zeroes it. */
void
tenant_db_port_clear(struct policy_port *port)
{
    policy_port_destroy(port);
    memset(port, 0, sizeof *port);
}

/* Fills 'net', zero-initialized or fresh from policy_tenant_add_network()
 * with a null name, from Network row 'row'.  Leaves 'net->path' alone. */
void
tenant_db_network_from_row(const struct bhrec_network *row,
                           struct policy_network *net)
{
    net->name = xstrdup(row->name);
    policy_net_type_from_string(row->type, &net->type);
    net->segment = row->segment;
    for (size_t i = 0; i < row->n_cidrs; i++) {
        svec_add(&net->cidrs, row->cidrs[i]);
    }
    net->mtu = row->n_mtu ? row->mtu[0] : 0;
}

/* Frees what 'net' holds and zeroes it. */
void
tenant_db_network_clear(struct policy_network *net)
{
    policy_network_destroy(net);
    memset(net, 0, sizeof *net);
}

/* Adds the networks of 't' to 'tenant', in their order. */
static void
read_networks(struct policy_tenant *tenant, const struct tdb_tenant *t)
{
    size_t n;
    struct sort_item *items = sorted_rows(&t->networks, network_position,
                                          &n);

    for (size_t i = 0; i < n; i++) {
        tenant_db_network_from_row(items[i].row,
                                   policy_tenant_add_network(tenant, NULL));
    }
    free(items);
}

/* Adds the security groups of 't', with their rules, to 'tenant', in
 * their order. */
static void
read_groups(struct policy_tenant *tenant, const struct tdb_tenant *t)
{
    size_t n;
    struct sort_item *items = sorted_rows(&t->groups, group_position, &n);

    for (size_t i = 0; i < n; i++) {
        const struct bhrec_security_group *row = items[i].row;
        struct policy_group *group = policy_tenant_add_group(tenant,
                                                             row->name);
        const struct bhrec_rule **rules = sorted_rules(row);

        for (size_t j = 0; j < row->n_rules; j++) {
            tenant_db_rule_from_row(rules[j], policy_group_add_rule(group));
        }
        free(rules);
    }
    free(items);
}

/* Adds the ports of 't' to 'tenant', in their order. */
static void
read_ports(struct policy_tenant *tenant, const struct tdb_tenant *t)
{
    size_t n;
    struct sort_item *items = sorted_rows(&t->ports, port_position, &n);

    for (size_t i = 0; i < n; i++) {
        tenant_db_port_from_row(items[i].row,
                                policy_tenant_add_port(tenant, NULL));
    }
    free(items);
}

/* Returns the whole Tenant DB in 'idl' as a policy, tenants and their
 * objects in the order they were loaded. */
struct policy *
tenant_db_read(const struct ovsdb_idl *idl)
{
    struct policy *policy = policy_create();
    struct tdb_index index;
    size_t n_tenants;

    tdb_index_build(&index, idl);
    struct sort_item *tenants = sorted_rows(&index.by_name, tenant_position,
                                            &n_tenants);
    for (size_t i = 0; i < n_tenants; i++) {
        const struct tdb_tenant *t = tenants[i].row;
        struct policy_tenant *tenant = policy_add_tenant(policy,
                                                         t->row->name);

        read_networks(tenant, t);
        read_groups(tenant, t);
        read_ports(tenant, t);
    }
    free(tenants);
    tdb_index_destroy(&index);
    return policy;
}

/* Writing. */

/* Initializes 'changes' to none. */
void
tenant_db_changes_init(struct tenant_db_changes *changes)
{
    memset(changes, 0, sizeof *changes);
    svec_init(&changes->lines);
}

/* Frees what 'changes' holds. */
void
tenant_db_changes_destroy(struct tenant_db_changes *changes)
{
    svec_destroy(&changes->lines);
}

/* Records a change: 'op' is '+', '~' or '-'. */
static void
note(struct tenant_db_changes *changes, char op, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
static void
note(struct tenant_db_changes *changes, char op, const char *format, ...)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    va_list args;

    ds_put_format(&s, "%c ", op);
    va_start(args, format);
    ds_put_format_valist(&s, format, args);
    va_end(args);
    svec_add_nocopy(&changes->lines, ds_steal_cstr(&s));
    if (op == '+') {
        changes->n_created++;
    } else if (op == '~') {
        changes->n_updated++;
    } else {
        changes->n_deleted++;
    }
}

/* Returns true if the 'n' sorted strings in 'a' hold the same set as
 * 'svec'. */
static bool
set_equals_svec(char **a, size_t n, const struct svec *svec)
{
    struct svec sorted;
    bool equal;

    svec_clone(&sorted, svec);
    svec_sort_unique(&sorted);
    equal = sorted.n == n;
    for (size_t i = 0; equal && i < n; i++) {
        equal = !strcmp(a[i], sorted.names[i]);
    }
    svec_destroy(&sorted);
    return equal;
}

/* Collects the names of changed columns for a '~' line. */
static void
changed(struct ds *what, const char *column)
{
    ds_put_format(what, "%s%s", what->length ? ", " : "", column);
}

/* Makes 'row' (NULL to insert one) hold network 'net' at 'position' of
 * tenant 'trow'.  Returns the row. */
static const struct bhrec_network *
apply_network(struct ovsdb_idl_txn *txn, const struct bhrec_tenant *trow,
              const char *tname, const struct bhrec_network *row,
              const struct policy_network *net, int64_t position,
              struct tenant_db_changes *changes)
{
    const char *type = policy_net_type_to_string(net->type);
    const char **cidrs = (const char **) net->cidrs.names;
    struct ds what = DS_EMPTY_INITIALIZER;
    bool new = !row;

    if (new) {
        row = bhrec_network_insert(txn);
        bhrec_network_set_name(row, net->name);
        bhrec_network_set_tenant(row, trow);
        note(changes, '+', "network %s/%s (%s %"PRId64")", tname,
             net->name, type, net->segment);
    }
    if (new || strcmp(row->type, type)) {
        bhrec_network_set_type(row, type);
        changed(&what, "type");
    }
    if (new || row->segment != net->segment) {
        bhrec_network_set_segment(row, net->segment);
        changed(&what, "segment");
    }
    if (new || !set_equals_svec(row->cidrs, row->n_cidrs, &net->cidrs)) {
        bhrec_network_set_cidrs(row, cidrs, net->cidrs.n);
        changed(&what, "cidrs");
    }
    if (new || row->n_mtu != (net->mtu != 0)
        || (net->mtu && row->mtu[0] != net->mtu)) {
        bhrec_network_set_mtu(row, &net->mtu, net->mtu != 0);
        changed(&what, "mtu");
    }
    if (new || row->position != position) {
        bhrec_network_set_position(row, position);
        changed(&what, "position");
    }
    if (!new && what.length) {
        note(changes, '~', "network %s/%s (%s)", tname, net->name,
             ds_cstr(&what));
    }
    ds_destroy(&what);
    return row;
}

/* Splits rule 'rule''s remote into the Rule row's columns: a CIDR or
 * "any" into '*cidr', "@group" into '*group' using 'groups' (name -> row,
 * including groups inserted in this transaction). */
static void
rule_remote(const struct policy_rule *rule, const struct shash *groups,
            const char **cidr, const struct bhrec_security_group **group)
{
    if (rule->remote[0] == '@') {
        *cidr = NULL;
        *group = shash_find_data(groups, rule->remote + 1);
    } else {
        *cidr = rule->remote;
        *group = NULL;
    }
}

/* Lets go of Rule row 'rule', which its group no longer holds.  The
 * server deletes such an orphan itself (the IDL never sends a delete for a
 * row of a non-root table), but it checks references first: a rule that
 * still names a group deleted in the same transaction, its own group
 * included, would make the transaction fail.  So the reference goes
 * first. */
static void
release_rule(const struct bhrec_rule *rule)
{
    if (rule->remote_group) {
        bhrec_rule_set_remote_group(rule, NULL);
    }
}

/* Records the deletion of Rule row 'rule' of group 'gname' of tenant
 * 'tname'. */
static void
note_rule_deleted(struct tenant_db_changes *changes, const char *tname,
                  const char *gname, const struct bhrec_rule *rule)
{
    struct policy_rule old;

    memset(&old, 0, sizeof old);
    tenant_db_rule_from_row(rule, &old);
    char *text = policy_rule_to_string(&old);
    note(changes, '-', "rule %s/%s: %s", tname, gname, text);
    free(text);
    tenant_db_rule_clear(&old);
}

/* Makes the rules of Security_Group row 'grow' those of 'group': rules are
 * matched by content, so an unchanged rule keeps its row. */
static void
apply_rules(struct ovsdb_idl_txn *txn, const char *tname,
            const struct bhrec_security_group *grow,
            const struct policy_group *group, const struct shash *groups,
            bool new_group, struct tenant_db_changes *changes)
{
    size_t n_old = new_group ? 0 : grow->n_rules;
    bool *used = xcalloc(n_old + 1, sizeof *used);
    struct bhrec_rule **rows = xmalloc((group->n_rules + 1) * sizeof *rows);
    bool modified = n_old != group->n_rules;

    for (size_t i = 0; i < group->n_rules; i++) {
        const struct policy_rule *rule = &group->rules[i];
        const struct bhrec_rule *match = NULL;

        for (size_t j = 0; !match && j < n_old; j++) {
            struct policy_rule old;
            if (used[j]) {
                continue;
            }
            memset(&old, 0, sizeof old);
            tenant_db_rule_from_row(grow->rules[j], &old);
            if (policy_rule_equal(&old, rule)) {
                match = grow->rules[j];
                used[j] = true;
            }
            tenant_db_rule_clear(&old);
        }

        char *text = policy_rule_to_string(rule);
        if (!match) {
            const char *cidr;
            const struct bhrec_security_group *remote_group;

            match = bhrec_rule_insert(txn);
            bhrec_rule_set_direction(match, policy_direction_to_string(
                                         rule->direction));
            bhrec_rule_set_ethertype(match, rule->ethertype);
            bhrec_rule_set_protocol(match, rule->protocol);
            bhrec_rule_set_ports(match, rule->ports);
            rule_remote(rule, groups, &cidr, &remote_group);
            bhrec_rule_set_remote_cidr(match, cidr);
            bhrec_rule_set_remote_group(match, remote_group);
            bhrec_rule_set_log(match, rule->log);
            bhrec_rule_set_position(match, i);
            note(changes, '+', "rule %s/%s #%"PRIuSIZE": %s", tname,
                 group->name, i + 1, text);
            modified = true;
        } else if (match->position != i) {
            bhrec_rule_set_position(match, i);
            note(changes, '~', "rule %s/%s #%"PRIuSIZE": %s (position)",
                 tname, group->name, i + 1, text);
        }
        free(text);
        rows[i] = CONST_CAST(struct bhrec_rule *, match);
    }
    for (size_t j = 0; j < n_old; j++) {
        if (!used[j]) {
            note_rule_deleted(changes, tname, grow->name, grow->rules[j]);
            release_rule(grow->rules[j]);
            modified = true;
        }
    }
    if (modified) {
        bhrec_security_group_set_rules(grow, rows, group->n_rules);
    }
    free(rows);
    free(used);
}

/* Makes 'row' (NULL to insert one) hold port 'port' at 'position'. */
static void
apply_port(struct ovsdb_idl_txn *txn, const char *tname,
           const struct bhrec_port *row, const struct policy_port *port,
           int64_t position, const struct shash *networks,
           const struct shash *groups, struct tenant_db_changes *changes)
{
    const struct bhrec_network *net = shash_find_data(networks,
                                                      port->network);
    const char *iface_id = policy_port_iface_id(port);
    struct ds what = DS_EMPTY_INITIALIZER;
    bool new = !row;

    if (new) {
        row = bhrec_port_insert(txn);
        bhrec_port_set_name(row, port->name);
        note(changes, '+', "port %s/%s (network %s, %s)", tname,
             port->name, port->network, port->mac);
    }
    if (new || strcmp(row->iface_id, iface_id)) {
        bhrec_port_set_iface_id(row, iface_id);
        changed(&what, "iface_id");
    }
    if (new || row->network != net) {
        bhrec_port_set_network(row, net);
        changed(&what, "network");
    }
    /* MACs are stored in one canonical form (lower case), so that a
     * document that differs only in their case changes nothing. */
    char *mac = policy_mac_canonical(port->mac);
    if (new || strcmp(row->mac, mac)) {
        bhrec_port_set_mac(row, mac);
        changed(&what, "mac");
    }
    free(mac);
    if (new || !set_equals_svec(row->ips, row->n_ips, &port->ips)) {
        bhrec_port_set_ips(row, (const char **) port->ips.names,
                           port->ips.n);
        changed(&what, "ips");
    }

    struct svec allowed = SVEC_EMPTY_INITIALIZER;
    for (size_t i = 0; i < port->n_allowed; i++) {
        const struct policy_address *a = &port->allowed[i];
        char *amac = a->mac ? policy_mac_canonical(a->mac) : NULL;
        svec_add_nocopy(&allowed, (amac
                                   ? xasprintf("%s %s", amac, a->ip)
                                   : xstrdup(a->ip)));
        free(amac);
    }
    if (new || !set_equals_svec(row->allowed_addresses,
                                row->n_allowed_addresses, &allowed)) {
        bhrec_port_set_allowed_addresses(row, (const char **) allowed.names,
                                         allowed.n);
        changed(&what, "allowed_addresses");
    }
    svec_destroy(&allowed);

    bool same_groups = !new && row->n_security_groups == port->groups.n;
    struct bhrec_security_group **grows
        = xmalloc((port->groups.n + 1) * sizeof *grows);
    for (size_t i = 0; i < port->groups.n; i++) {
        grows[i] = shash_find_data(groups, port->groups.names[i]);
        bool found = false;
        for (size_t j = 0; same_groups && j < row->n_security_groups; j++) {
            found = found || row->security_groups[j] == grows[i];
        }
        same_groups = same_groups && found;
    }
    if (!same_groups) {
        bhrec_port_set_security_groups(row, grows, port->groups.n);
        changed(&what, "security_groups");
    }
    free(grows);

    if (new || row->port_security != port->port_security) {
        bhrec_port_set_port_security(row, port->port_security);
        changed(&what, "port_security");
    }
    if (new || row->n_broadcast_limit != (port->broadcast_limit != 0)
        || (port->broadcast_limit
            && row->broadcast_limit[0] != port->broadcast_limit)) {
        bhrec_port_set_broadcast_limit(row, &port->broadcast_limit,
                                       port->broadcast_limit != 0);
        changed(&what, "broadcast_limit");
    }
    if (new || row->n_max_connections != (port->max_connections != 0)
        || (port->max_connections
            && row->max_connections[0] != port->max_connections)) {
        bhrec_port_set_max_connections(row, &port->max_connections,
                                       port->max_connections != 0);
        changed(&what, "max_connections");
    }
    if (new || (row->n_log_denied && row->log_denied[0]) != port->log_denied) {
        bhrec_port_set_log_denied(row, &port->log_denied, port->log_denied);
        changed(&what, "log_denied");
    }
    if (new || row->position != position) {
        bhrec_port_set_position(row, position);
        changed(&what, "position");
    }
    if (!new && what.length) {
        note(changes, '~', "port %s/%s (%s)", tname, port->name,
             ds_cstr(&what));
    }
    ds_destroy(&what);
}

/* The key of Tenant.external_ids that counts the tenant's edits. */
#define GENERATION_KEY "bulkhead-generation"

/* Makes the transaction that changes tenant 'row' (inserted by it, if
 * 'new') also check that the tenant's generation is still the one read,
 * and count one more.  Every edit validates the whole tenant as it read it
 * and writes only what differs: two edits at once, each valid alone, would
 * otherwise both commit and store what nobody validated (two ports with
 * one IP, two with one name) or lose one's change (two rules added to one
 * group).  With it, the second to commit fails, and is read, validated and
 * tried again (TXN_TRY_AGAIN). */
static void
bump_generation(const struct bhrec_tenant *row, bool new)
{
    struct smap ids;

    if (!new) {
        bhrec_tenant_verify_external_ids(row);
    }
    smap_clone(&ids, &row->external_ids);
    unsigned long long int generation = smap_get_ullong(&ids, GENERATION_KEY,
                                                        0);
    smap_replace_nocopy(&ids, GENERATION_KEY,
                        xasprintf("%llu", generation + 1));
    bhrec_tenant_set_external_ids(row, &ids);
    smap_destroy(&ids);
}

/* Returns how many rows 'changes' has created, updated and deleted. */
static size_t
count_changes(const struct tenant_db_changes *changes)
{
    return changes->n_created + changes->n_updated + changes->n_deleted;
}

/* Makes the Tenant DB hold 'tenant', which has 'position' among the
 * tenants; 't' holds its current rows, or is NULL for a new tenant. */
static void
apply_tenant(struct ovsdb_idl_txn *txn, const struct tdb_tenant *t,
             const struct policy_tenant *tenant, int64_t position,
             struct tenant_db_changes *changes)
{
    const char *tname = tenant->name;
    const struct bhrec_tenant *trow = t ? t->row : NULL;
    struct shash networks = SHASH_INITIALIZER(&networks);
    struct shash groups = SHASH_INITIALIZER(&groups);
    size_t n_changes = count_changes(changes);

    if (!trow) {
        trow = bhrec_tenant_insert(txn);
        bhrec_tenant_set_name(trow, tname);
        bhrec_tenant_set_position(trow, position);
        note(changes, '+', "tenant %s", tname);
    } else if (trow->position != position) {
        bhrec_tenant_set_position(trow, position);
        note(changes, '~', "tenant %s (position)", tname);
    }

    /* Networks and groups first: rules and ports refer to them. */
    for (size_t i = 0; i < tenant->n_networks; i++) {
        const struct policy_network *net = &tenant->networks[i];
        const struct bhrec_network *row
            = t ? shash_find_data(&t->networks, net->name) : NULL;
        shash_add(&networks, net->name,
                  apply_network(txn, trow, tname, row, net, i, changes));
    }
    struct bool_and_row {
        const struct bhrec_security_group *row;
        bool new;
    } *grows = xmalloc((tenant->n_groups + 1) * sizeof *grows);
    for (size_t i = 0; i < tenant->n_groups; i++) {
        const struct policy_group *group = &tenant->groups[i];
        const struct bhrec_security_group *row
            = t ? shash_find_data(&t->groups, group->name) : NULL;
        grows[i].new = !row;
        if (!row) {
            row = bhrec_security_group_insert(txn);
            bhrec_security_group_set_name(row, group->name);
            bhrec_security_group_set_tenant(row, trow);
            bhrec_security_group_set_position(row, i);
            note(changes, '+', "security group %s/%s", tname, group->name);
        } else if (row->position != i) {
            bhrec_security_group_set_position(row, i);
            note(changes, '~', "security group %s/%s (position)", tname,
                 group->name);
        }
        grows[i].row = row;
        shash_add(&groups, group->name, row);
    }
    for (size_t i = 0; i < tenant->n_groups; i++) {
        apply_rules(txn, tname, grows[i].row, &tenant->groups[i], &groups,
                    grows[i].new, changes);
    }
    free(grows);

    struct sset ports = SSET_INITIALIZER(&ports);
    for (size_t i = 0; i < tenant->n_ports; i++) {
        const struct policy_port *port = &tenant->ports[i];
        const struct bhrec_port *row
            = t ? shash_find_data(&t->ports, port->name) : NULL;
        apply_port(txn, tname, row, port, i, &networks, &groups, changes);
        sset_add(&ports, port->name);
    }

    /* Whatever the tenant no longer has, in name order.  'networks',
     * 'groups' and 'ports' hold the names it keeps. */
    if (t) {
        const struct shash_node **nodes = shash_sort(&t->ports);
        for (size_t i = 0; i < shash_count(&t->ports); i++) {
            if (!sset_contains(&ports, nodes[i]->name)) {
                bhrec_port_delete(nodes[i]->data);
                note(changes, '-', "port %s/%s", tname, nodes[i]->name);
            }
        }
        free(nodes);

        nodes = shash_sort(&t->groups);
        for (size_t i = 0; i < shash_count(&t->groups); i++) {
            if (!shash_find(&groups, nodes[i]->name)) {
                const struct bhrec_security_group *g = nodes[i]->data;
                note(changes, '-', "security group %s/%s", tname, g->name);
                const struct bhrec_rule **rules = sorted_rules(g);
                for (size_t j = 0; j < g->n_rules; j++) {
                    note_rule_deleted(changes, tname, g->name, rules[j]);
                    release_rule(rules[j]);
                }
                free(rules);
                bhrec_security_group_delete(g);
            }
        }
        free(nodes);

        nodes = shash_sort(&t->networks);
        for (size_t i = 0; i < shash_count(&t->networks); i++) {
            if (!shash_find(&networks, nodes[i]->name)) {
                bhrec_network_delete(nodes[i]->data);
                note(changes, '-', "network %s/%s", tname, nodes[i]->name);
            }
        }
        free(nodes);
    }
    sset_destroy(&ports);
    shash_destroy(&networks);
    shash_destroy(&groups);
    if (count_changes(changes) != n_changes) {
        bump_generation(trow, !t);
    }
}

/* Adds to 'txn' the changes that make the Tenant DB in 'idl' hold the
 * tenants of 'policy' exactly, leaving other tenants alone, and describes
 * them in 'changes'.  'policy' must have passed policy_validate() against
 * the rest of the database. */
void
tenant_db_apply(struct ovsdb_idl_txn *txn, const struct ovsdb_idl *idl,
                const struct policy *policy,
                struct tenant_db_changes *changes)
{
    struct tdb_index index;
    int64_t next_position = 0;
    struct shash_node *node;

    tdb_index_build(&index, idl);
    SHASH_FOR_EACH (node, &index.by_name) {
        const struct tdb_tenant *t = node->data;
        next_position = MAX(next_position, t->row->position + 1);
    }
    for (size_t i = 0; i < policy->n_tenants; i++) {
        const struct policy_tenant *tenant = &policy->tenants[i];
        const struct tdb_tenant *t = shash_find_data(&index.by_name,
                                                     tenant->name);
        /* A new tenant goes after those already there; one that exists
         * keeps its place. */
        int64_t position = t ? t->row->position : next_position++;
        apply_tenant(txn, t, tenant, position, changes);
    }
    tdb_index_destroy(&index);
}

/* Adds to 'txn' the deletion of tenant 'name' and everything it owns. */
void
tenant_db_delete_tenant(struct ovsdb_idl_txn *txn,
                        const struct ovsdb_idl *idl, const char *name,
                        struct tenant_db_changes *changes)
{
    struct tdb_index index;

    tdb_index_build(&index, idl);
    const struct tdb_tenant *t = shash_find_data(&index.by_name, name);
    if (t) {
        struct policy_tenant empty = { .name = CONST_CAST(char *, name) };
        apply_tenant(txn, t, &empty, t->row->position, changes);
        /* Not while another edit adds to it (see bump_generation()). */
        bhrec_tenant_verify_external_ids(t->row);
        bhrec_tenant_delete(t->row);
        note(changes, '-', "tenant %s", name);
    }
    tdb_index_destroy(&index);
}

/* Looks up the Port that 'name' names in 'idl': the one whose iface_id is
 * 'name', or else one whose name is 'name' (names are unique only within a
 * network).  Stores it in '*portp' (NULL if none) and returns how many
 * Ports 'name' names: 0, 1, or more for a name that several networks'
 * Ports have (then '*portp' is one of them). */
size_t
tenant_db_find_port(const struct ovsdb_idl *idl, const char *name,
                    const struct bhrec_port **portp)
{
    const struct bhrec_port *port;
    size_t n = 0;

    *portp = NULL;
    BHREC_PORT_FOR_EACH (port, idl) {
        if (!strcmp(port->iface_id, name)) {
            *portp = port;
            return 1;
        }
        if (!strcmp(port->name, name)) {
            *portp = port;
            n++;
        }
    }
    return n;
}

/* Returns NULL if what a controller takes from Port row 'row' is valid, or
 * else a message (which the caller frees) naming the first problem the
 * document validator finds.  The Tenant DB may be written by anything, not
 * only by bulkhead-ctl: the port, its network and its security groups
 * (with their rules, and the groups those rules name) are checked as a
 * one-network tenant, with the same code as a policy document. */
char *
tenant_db_check_port(const struct bhrec_port *row)
{
    const struct bhrec_network *nrow = row->network;
    struct policy *policy = policy_create();
    struct policy_tenant *t = policy_add_tenant(policy, nrow->tenant->name);
    struct sset names = SSET_INITIALIZER(&names);
    struct sset remotes = SSET_INITIALIZER(&remotes);

    /* Names are only unique per tenant: a group, or a rule's remote group,
     * of another tenant could pass for one of the port's own by name. */
    for (size_t i = 0; i < row->n_security_groups; i++) {
        const struct bhrec_security_group *g = row->security_groups[i];
        if (g->tenant != nrow->tenant) {
            policy_destroy(policy);
            return xasprintf("port \"%s\": security group \"%s\" is of "
                             "another tenant", row->name, g->name);
        }
        for (size_t j = 0; j < g->n_rules; j++) {
            const struct bhrec_security_group *rg
                = g->rules[j]->remote_group;
            if (rg && rg->tenant != g->tenant) {
                policy_destroy(policy);
                return xasprintf("security group \"%s\" rule #%"PRId64
                                 ": remote group \"%s\" is of another "
                                 "tenant", g->name,
                                 g->rules[j]->position + 1, rg->name);
            }
        }
    }

    tenant_db_network_from_row(nrow, policy_tenant_add_network(t, NULL));
    for (size_t i = 0; i < row->n_security_groups; i++) {
        const struct bhrec_security_group *g = row->security_groups[i];
        if (!sset_add(&names, g->name)) {
            continue;
        }
        struct policy_group *group = policy_tenant_add_group(t, g->name);
        for (size_t j = 0; j < g->n_rules; j++) {
            const struct bhrec_rule *r = g->rules[j];
            tenant_db_rule_from_row(r, policy_group_add_rule(group));
            if (r->remote_group) {
                sset_add(&remotes, r->remote_group->name);
            }
        }
    }
    /* A group that a rule names must exist in the tenant. */
    const char *name;
    SSET_FOR_EACH (name, &remotes) {
        if (!sset_contains(&names, name)) {
            policy_tenant_add_group(t, name);
        }
    }
    tenant_db_port_from_row(row, policy_tenant_add_port(t, NULL));
    policy_renumber(policy);

    struct policy_errors errors;
    policy_errors_init(&errors, "Tenant DB");
    policy_validate(policy, NULL, &errors);
    char *problem = (errors.n
                     ? xstrdup(errors.errors[0].message
                               + strlen("Tenant DB: "))
                     : NULL);
    policy_errors_destroy(&errors);
    sset_destroy(&names);
    sset_destroy(&remotes);
    policy_destroy(policy);
    return problem;
}
