/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef TENANT_DB_H
#define TENANT_DB_H 1

/* The Tenant DB seen as policies.
 *
 * tenant_db_read() turns the rows of the Tenant DB into a policy (policy.h)
 * and tenant_db_apply() makes the Tenant DB hold the tenants of a policy,
 * within one OVSDB transaction, by the smallest set of row changes: objects
 * are matched by name (rules by content), unchanged rows are left alone,
 * so loading the same document twice changes nothing and a controller
 * watching the database sees only what really changed.  Columns that
 * controllers own (Port.chassis, up, statistics) are never touched.
 *
 * The order of tenants, networks, groups, rules and ports in a document is
 * kept in each row's "position" column, so that an export gives them back
 * in the order they were loaded.  Lists that the database holds as sets
 * (a network's CIDRs, a port's IPs, allowed addresses and groups) come back
 * sorted.
 *
 * tenant_db_policy_columns() lists the columns these functions use (the
 * policy's; bulkhead-ctl's edits need no more), for an IDL that monitors
 * only what it needs: a client that needs other columns or tables adds
 * them too.
 *
 * tenant_db_read() is built from converters of one row each, which a reader
 * of single rows (bulkhead-controller) uses as they are, so that a row
 * means the same model object to everyone:
 *
 *   - tenant_db_network_from_row(), tenant_db_port_from_row() and
 *     tenant_db_rule_from_row() fill a model object that is zero-initialized
 *     or has just been added to a policy by policy_tenant_add_network() or
 *     policy_tenant_add_port() with a null name, or policy_group_add_rule().
 *     They set every member but 'path', which they leave alone (NULL, or the
 *     path policy_*_add_*() gave).  Names of referenced rows are copied: a
 *     port's network and groups (sorted), a rule's remote group ("@name").
 *     A port's 'iface_id' is always set, as the row has it, even where it
 *     equals the port's name (policy_to_string() leaves it out then).
 *
 *   - tenant_db_network_clear(), tenant_db_port_clear() and
 *     tenant_db_rule_clear() free what such an object holds ('path'
 *     included) and leave it zeroed, ready to be filled again. */

#include <stddef.h>
#include "svec.h"

struct bhrec_network;
struct bhrec_port;
struct bhrec_rule;
struct ovsdb_idl;
struct ovsdb_idl_txn;
struct policy;
struct policy_network;
struct policy_port;
struct policy_rule;

/* What tenant_db_apply() changed, or would change. */
struct tenant_db_changes {
    struct svec lines;          /* "+ port acme/vm1", "~ ...", "- ...". */
    size_t n_created;           /* Rows inserted. */
    size_t n_updated;           /* Rows modified. */
    size_t n_deleted;           /* Rows deleted. */
};

void tenant_db_changes_init(struct tenant_db_changes *);
void tenant_db_changes_destroy(struct tenant_db_changes *);

void tenant_db_network_from_row(const struct bhrec_network *,
                                struct policy_network *);
void tenant_db_network_clear(struct policy_network *);
void tenant_db_port_from_row(const struct bhrec_port *, struct policy_port *);
void tenant_db_port_clear(struct policy_port *);
void tenant_db_rule_from_row(const struct bhrec_rule *, struct policy_rule *);
void tenant_db_rule_clear(struct policy_rule *);
char *tenant_db_check_port(const struct bhrec_port *);
size_t tenant_db_find_port(const struct ovsdb_idl *, const char *name,
                           const struct bhrec_port **);

const struct ovsdb_idl_column *const *tenant_db_policy_columns(size_t *n);
struct policy *tenant_db_read(const struct ovsdb_idl *);
void tenant_db_apply(struct ovsdb_idl_txn *, const struct ovsdb_idl *,
                     const struct policy *, struct tenant_db_changes *);
void tenant_db_delete_tenant(struct ovsdb_idl_txn *,
                             const struct ovsdb_idl *, const char *name,
                             struct tenant_db_changes *);

#endif /* tenant-db.h */
