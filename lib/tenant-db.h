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
 * sorted. */

#include <stddef.h>
#include "svec.h"

struct ovsdb_idl;
struct ovsdb_idl_txn;
struct policy;

/* What tenant_db_apply() changed, or would change. */
struct tenant_db_changes {
    struct svec lines;          /* "+ port acme/vm1", "~ ...", "- ...". */
    size_t n_created;           /* Rows inserted. */
    size_t n_updated;           /* Rows modified. */
    size_t n_deleted;           /* Rows deleted. */
};

void tenant_db_changes_init(struct tenant_db_changes *);
void tenant_db_changes_destroy(struct tenant_db_changes *);

struct policy *tenant_db_read(const struct ovsdb_idl *);
void tenant_db_apply(struct ovsdb_idl_txn *, const struct ovsdb_idl *,
                     const struct policy *, struct tenant_db_changes *);
void tenant_db_delete_tenant(struct ovsdb_idl_txn *,
                             const struct ovsdb_idl *, const char *name,
                             struct tenant_db_changes *);

#endif /* tenant-db.h */
