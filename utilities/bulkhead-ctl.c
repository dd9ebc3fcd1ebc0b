/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* bulkhead-ctl: the Tenant DB's command-line client.
 *
 * Every command that changes the database works the same way: read the
 * database into a policy (tenant-db.h), change that policy as the command
 * says (a whole document for "load", one object for the row commands),
 * validate the tenants it touches against the rest of the database with
 * the very code that validates documents (policy.h), then apply them in one
 * OVSDB transaction.  So a row command can never store what a document
 * could not say, and bad input changes nothing. */

#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "command-line.h"
#include "dirs.h"
#include "lib/tenant-db.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "ovsdb-idl.h"
#include "packets.h"
#include "policies/policy.h"
#include "openvswitch/poll-loop.h"
#include "schema/bulkhead-idl.h"
#include "smap.h"
#include "stream.h"
#include "svec.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(bulkhead_ctl);

/* Global options. */
static char *db;                /* --db: the Tenant DB's remote. */
static bool dry_run;            /* --dry-run: print changes, apply none. */
static unsigned int timeout = 30;   /* --timeout: seconds, 0 for none. */
static long long int deadline = LLONG_MAX;  /* When to give up (msec). */
static unsigned int n_conflicts;   /* Transactions refused by the schema
                                    * after another edit (see commit()). */
#define MAX_CONFLICTS 3            /* How many are tried again. */

/* One command being run. */
struct ctl_ctx {
    const struct ctl_command *cmd;  /* What it is. */
    int argc;                   /* Number of arguments, with the name. */
    char **argv;                /* Arguments; argv[0] is the command. */
    struct smap options;        /* "--key[=value]" after the command. */
    struct ovsdb_idl *idl;      /* Connected Tenant DB, or NULL. */
    struct policy *policy;      /* The DB as a policy (commands that edit
                                 * it). */
    char *tenant;               /* The tenant an edit changes. */
    bool delete_tenant;         /* The edit deletes 'tenant'. */
    bool no_change;             /* The edit found nothing to do. */
};

/* A command of bulkhead-ctl. */
struct ctl_command {
    const char *name;           /* As typed. */
    int min_args;               /* Fewest arguments after the name. */
    int max_args;               /* Most arguments, INT_MAX for any. */
    const char *args;           /* Usage of its arguments. */
    const char *options;        /* Options it takes, space-separated. */
    enum { CMD_OFFLINE, CMD_READ, CMD_EDIT } kind;  /* What it needs. */
    unsigned int monitor;       /* What it reads of the DB: MON_*. */
    void (*run)(struct ctl_ctx *);  /* Does the work. */
    const char *help;           /* One line of help. */
};

/* What of the Tenant DB a command reads, for its 'monitor' bits: the IDL
 * receives only those tables and columns, so that a command does not wait
 * for (and parse) the whole database when it needs a part. */
enum {
    MON_POLICY = 1 << 0,        /* tenant_db_policy_columns(). */
    MON_BINDING = 1 << 1,       /* Port's chassis (its name), up and
                                 * requested_chassis. */
    MON_STATS = 1 << 2,         /* Port.statistics. */
    MON_REQUESTED = 1 << 3,     /* Port.requested_chassis. */
    MON_CHASSIS = 1 << 4,       /* The Chassis table. */
    MON_MIRROR = 1 << 5,        /* The Mirror table, with the names of
                                 * the tenants, networks and ports. */
};

static const struct ctl_command *find_command(const char *name);
static void usage(void) OVS_NO_RETURN;

/* Prints an error about the command in 'ctx' and exits with status 1. */
static void
ctl_fatal(const struct ctl_ctx *ctx, const char *format, ...)
    __attribute__((format(printf, 2, 3))) OVS_NO_RETURN;
static void
ctl_fatal(const struct ctl_ctx *ctx, const char *format, ...)
{
    va_list args;

    fprintf(stderr, "%s: %s: ", program_name, ctx->cmd->name);
    va_start(args, format);
    char *message = xvasprintf(format, args);
    va_end(args);
    /* It may quote what the user wrote, or a row. */
    policy_fputs_printable(message, stderr);
    free(message);
    putc('\n', stderr);
    exit(1);
}

/* Returns the value of option 'name' of the command, or NULL. */
static const char *
opt(const struct ctl_ctx *ctx, const char *name)
{
    return smap_get(&ctx->options, name);
}

/* Returns the tenant of the policy in 'ctx' named 'name', or fails. */
static struct policy_tenant *
need_tenant(const struct ctl_ctx *ctx, const char *name)
{
    struct policy_tenant *t = policy_find_tenant(ctx->policy, name);
    if (!t) {
        ctl_fatal(ctx, "no tenant \"%s\"", name);
    }
    return t;
}

/* Handles --may-exist for an object of kind 'kind' named 'name' that
 * already exists: returns if the option was given (nothing to do), fails
 * otherwise. */
static void
already_exists(struct ctl_ctx *ctx, const char *kind, const char *name)
{
    if (!opt(ctx, "may-exist")) {
        ctl_fatal(ctx, "%s \"%s\" already exists", kind, name);
    }
    ctx->no_change = true;
}

/* Handles --if-exists for an object of kind 'kind' named 'name' that does
 * not exist, like already_exists(). */
static void
not_found(struct ctl_ctx *ctx, const char *kind, const char *name)
{
    if (!opt(ctx, "if-exists")) {
        ctl_fatal(ctx, "no %s \"%s\" in tenant \"%s\"", kind, name,
                  ctx->tenant);
    }
    ctx->no_change = true;
}

/* Database access. */

/* Waits for the poll loop, giving up with an error naming 'what' once the
 * deadline (--timeout) has passed. */
static void
block_until_deadline(const char *what)
{
    if (time_msec() >= deadline) {
        ovs_fatal(0, "%s: no answer within %u seconds (--timeout)", what,
                  timeout);
    }
    poll_timer_wait_until(deadline);
    poll_block();
}

/* The columns this command monitors, for check_schema(). */
static const struct ovsdb_idl_column **monitored;
static size_t n_monitored, allocated_monitored;

/* Makes 'idl' monitor 'column', and notes it for check_schema(). */
static void
monitor_column(struct ovsdb_idl *idl, const struct ovsdb_idl_column *column)
{
    ovsdb_idl_add_column(idl, column);
    if (n_monitored >= allocated_monitored) {
        monitored = x2nrealloc(monitored, &allocated_monitored,
                               sizeof *monitored);
    }
    monitored[n_monitored++] = column;
}

/* Fails, naming them, if the database that 'idl' connected to lacks any
 * of the columns this command monitors: a Tenant DB whose schema is older
 * than this bulkhead-ctl's would otherwise answer with raw errors, or
 * with nothing (an empty mirror list). */
static void
check_schema(const struct ovsdb_idl *idl)
{
    struct svec missing = SVEC_EMPTY_INITIALIZER;

    for (size_t i = 0; i < n_monitored; i++) {
        const struct ovsdb_idl_column *column = monitored[i];
        if (!ovsdb_idl_server_has_column(idl, column)) {
            for (size_t t = 0; t < bhrec_idl_class.n_tables; t++) {
                const struct ovsdb_idl_table_class *tc
                    = &bhrec_idl_class.tables[t];
                if (column >= tc->columns
                    && column < tc->columns + tc->n_columns) {
                    svec_add_nocopy(&missing, xasprintf("%s.%s", tc->name,
                                                        column->name));
                }
            }
        }
    }
    if (missing.n) {
        svec_sort_unique(&missing);
        char *list = svec_join(&missing, ", ", "");
        /* After "ovsdb-client convert", OVS 3.1's ovsdb-server goes on
         * announcing the old schema (in _Server) until it restarts, and
         * the IDL would leave the new columns out, silently. */
        ovs_fatal(0, "%s: the Tenant DB's schema is older than this "
                  "bulkhead-ctl's (%s): it lacks %s; upgrade it to this "
                  "release's bulkhead.ovsschema (ovsdb-tool convert, or "
                  "ovsdb-client convert and a restart of its ovsdb-server)",
                  db, bhrec_get_db_version(), list);
    }
    svec_destroy(&missing);
    free(monitored);
    monitored = NULL;
    n_monitored = allocated_monitored = 0;
}

/* Makes 'idl' monitor what the MON_* bits in 'monitor' say. */
static void
add_monitored(struct ovsdb_idl *idl, unsigned int monitor)
{
    if (monitor & MON_POLICY) {
        size_t n;
        const struct ovsdb_idl_column *const *columns
            = tenant_db_policy_columns(&n);
        for (size_t i = 0; i < n; i++) {
            monitor_column(idl, columns[i]);
        }
    }
    if (monitor & MON_BINDING) {
        monitor_column(idl, &bhrec_port_col_chassis);
        monitor_column(idl, &bhrec_port_col_up);
        monitor_column(idl, &bhrec_port_col_requested_chassis);
        monitor_column(idl, &bhrec_chassis_col_name);
    }
    if (monitor & MON_STATS) {
        monitor_column(idl, &bhrec_port_col_statistics);
    }
    if (monitor & MON_REQUESTED) {
        monitor_column(idl, &bhrec_port_col_requested_chassis);
    }
    if (monitor & MON_CHASSIS) {
        monitor_column(idl, &bhrec_chassis_col_name);
        monitor_column(idl, &bhrec_chassis_col_encap_ip);
        monitor_column(idl, &bhrec_chassis_col_hostname);
        monitor_column(idl, &bhrec_chassis_col_version);
    }
    if (monitor & MON_MIRROR) {
        monitor_column(idl, &bhrec_mirror_col_name);
        monitor_column(idl, &bhrec_mirror_col_source_port);
        monitor_column(idl, &bhrec_mirror_col_source_network);
        monitor_column(idl, &bhrec_mirror_col_direction);
        monitor_column(idl, &bhrec_mirror_col_to_iface);
        monitor_column(idl, &bhrec_mirror_col_to_gre);
        monitor_column(idl, &bhrec_mirror_col_to_erspan);
        monitor_column(idl, &bhrec_tenant_col_name);
        monitor_column(idl, &bhrec_network_col_name);
        monitor_column(idl, &bhrec_network_col_tenant);
        monitor_column(idl, &bhrec_port_col_name);
        monitor_column(idl, &bhrec_port_col_network);
        monitor_column(idl, &bhrec_port_col_iface_id);
    }
}

/* Connects to the Tenant DB and waits until the tables and columns that
 * 'monitor' (MON_*) names have arrived. */
static struct ovsdb_idl *
connect_db(unsigned int monitor)
{
    if (stream_verify_name(db)) {
        ovs_fatal(0, "--db: \"%s\" is not a database remote (expected "
                  "unix:FILE, tcp:IP:PORT or ssl:IP:PORT)", db);
    }
    struct ovsdb_idl *idl = ovsdb_idl_create(db, &bhrec_idl_class, false,
                                             false);
    add_monitored(idl, monitor);
    for (;;) {
        ovsdb_idl_run(idl);
        if (!ovsdb_idl_is_alive(idl)) {
            int retval = ovsdb_idl_get_last_error(idl);
            ovs_fatal(0, "%s: database connection failed (%s)", db,
                      retval ? ovs_retval_to_string(retval)
                      : "connection closed");
        }
        if (ovsdb_idl_has_ever_connected(idl)) {
            check_schema(idl);
            return idl;
        }
        ovsdb_idl_wait(idl);
        block_until_deadline(db);
    }
}

/* Waits until the contents of 'idl' differ from those it had at 'seqno'
 * (when a transaction read them, which had to be tried again), or, after
 * a conflict with another edit, at most a second: the other edit's rows
 * come, but a conflict that the validator did not see coming would not
 * change anything. */
static void
wait_for_change(struct ovsdb_idl *idl, unsigned int seqno)
{
    long long int give_up = n_conflicts ? time_msec() + 1000 : LLONG_MAX;

    for (;;) {
        ovsdb_idl_run(idl);
        if (!ovsdb_idl_is_alive(idl)) {
            ovs_fatal(0, "%s: database connection lost", db);
        }
        if (ovsdb_idl_get_seqno(idl) != seqno || time_msec() >= give_up) {
            return;
        }
        ovsdb_idl_wait(idl);
        if (give_up != LLONG_MAX) {
            poll_timer_wait_until(give_up);
        }
        block_until_deadline(db);
    }
}

/* Moves the tenants of 'all' named in 'names' into 'named' and the others
 * into 'rest', in their order, and frees 'all'. */
static void
split_policy(struct policy *all, const struct sset *names,
             struct policy *named, struct policy *rest)
{
    memset(named, 0, sizeof *named);
    memset(rest, 0, sizeof *rest);
    for (size_t i = 0; i < all->n_tenants; i++) {
        struct policy *dst = (sset_contains(names, all->tenants[i].name)
                              ? named : rest);
        dst->tenants = xrealloc(dst->tenants, (dst->n_tenants + 1)
                                * sizeof *dst->tenants);
        dst->tenants[dst->n_tenants++] = all->tenants[i];
        dst->allocated_tenants = dst->n_tenants;
    }
    free(all->tenants);
    free(all);
}

/* Frees the tenants of a policy that lives on the stack. */
static void
policy_clear(struct policy *policy)
{
    struct policy *heap = xmemdup(policy, sizeof *policy);
    policy_destroy(heap);
    memset(policy, 0, sizeof *policy);
}

/* Prints the changes of a dry run, or a summary of applied ones. */
static void
report_changes(const struct tenant_db_changes *changes)
{
    if (dry_run) {
        for (size_t i = 0; i < changes->lines.n; i++) {
            printf("%s\n", changes->lines.names[i]);
        }
        printf("dry run: %"PRIuSIZE" to create, %"PRIuSIZE" to update, "
               "%"PRIuSIZE" to delete; nothing applied\n",
               changes->n_created, changes->n_updated, changes->n_deleted);
    } else if (changes->lines.n) {
        printf("%"PRIuSIZE" created, %"PRIuSIZE" updated, %"PRIuSIZE
               " deleted\n", changes->n_created, changes->n_updated,
               changes->n_deleted);
    } else {
        printf("no changes\n");
    }
}

/* Returns true if the transaction error 'error' is one that an edit
 * committed meanwhile may have caused. */
static bool
is_conflict(const char *error)
{
    return (strstr(error, "\"constraint violation\"")
            || strstr(error, "\"referential integrity violation\""));
}

/* Commits 'txn'.  Returns true on success, false if it must be tried
 * again; fails on any other outcome. */
static bool
commit(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn, const char *what)
{
    enum ovsdb_idl_txn_status status;

    /* ovsdb_idl_txn_commit_block(), with a deadline. */
    while ((status = ovsdb_idl_txn_commit(txn)) == TXN_INCOMPLETE) {
        ovsdb_idl_run(idl);
        ovsdb_idl_wait(idl);
        ovsdb_idl_txn_wait(txn);
        block_until_deadline(db);
    }

    switch (status) {
    case TXN_SUCCESS:
    case TXN_UNCHANGED:
        return true;
    case TXN_TRY_AGAIN:
        return false;
    case TXN_ERROR:
        /* Another edit that committed after this one read can make it
         * break the schema's indexes or references (two new networks
         * taking one VLAN, a port joining a group being deleted): read
         * again, and the validator says what is wrong.  A few times only,
         * in case the schema refuses what the validator let through. */
        if (is_conflict(ovsdb_idl_txn_get_error(txn))
            && ++n_conflicts <= MAX_CONFLICTS) {
            return false;
        }
        ovs_fatal(0, "%s: transaction failed: %s", what,
                  ovsdb_idl_txn_get_error(txn));
    case TXN_UNCOMMITTED:
    case TXN_INCOMPLETE:
    case TXN_ABORTED:
    case TXN_NOT_LOCKED:
    default:
        ovs_fatal(0, "%s: transaction failed (%s)", what,
                  ovsdb_idl_txn_status_to_string(status));
    }
}

/* Reports in 'errors' every port of 'doc' whose iface-id is the
 * destination of a Mirror of 'idl': an analysis port is never a tenant's
 * vNIC, whichever came first (mirror-add refuses the other order). */
static void
check_mirror_destinations(struct ovsdb_idl *idl, const struct policy *doc,
                          struct policy_errors *errors)
{
    struct shash dests = SHASH_INITIALIZER(&dests);
    const struct bhrec_mirror *m;

    BHREC_MIRROR_FOR_EACH (m, idl) {
        if (m->to_iface) {
            shash_add_once(&dests, m->to_iface, m);
        }
    }
    for (size_t i = 0; !shash_is_empty(&dests) && i < doc->n_tenants; i++) {
        const struct policy_tenant *t = &doc->tenants[i];
        for (size_t j = 0; j < t->n_ports; j++) {
            const struct policy_port *p = &t->ports[j];
            const char *id = policy_port_iface_id(p);
            m = id ? shash_find_data(&dests, id) : NULL;
            if (m) {
                policy_error(errors, p->path, "port \"%s\": iface_id \"%s\" "
                             "is the analysis port of mirror \"%s\": an "
                             "analysis port is never a tenant vNIC (delete "
                             "the mirror first)", p->name, id, m->name);
            }
        }
    }
    shash_destroy(&dests);
}

/* Validates the tenants 'doc' against 'context' (the rest of the DB) and
 * the mirrors of 'idl', printing every error and failing if there is one;
 * 'errors' names the source. */
static void
validate_or_fail(struct ovsdb_idl *idl, const struct policy *doc,
                 const struct policy *context, struct policy_errors *errors)
{
    policy_validate(doc, context, errors);
    check_mirror_destinations(idl, doc, errors);
    if (errors->n) {
        policy_errors_sort(errors);
        policy_errors_print(errors, stderr);
        exit(1);
    }
}

/* Applies 'doc' (already validated) and, if 'delete' is nonnull, deletes
 * tenant 'delete', in one transaction.  Returns false if the transaction
 * must be tried again. */
static bool
apply(struct ovsdb_idl *idl, const struct policy *doc, const char *delete,
      const char *what)
{
    struct tenant_db_changes changes;
    struct ovsdb_idl_txn *txn = ovsdb_idl_txn_create(idl);
    bool done = true;

    ovsdb_idl_txn_add_comment(txn, "bulkhead-ctl: %s", what);
    tenant_db_changes_init(&changes);
    tenant_db_apply(txn, idl, doc, &changes);
    if (delete) {
        tenant_db_delete_tenant(txn, idl, delete, &changes);
    }
    if (dry_run) {
        ovsdb_idl_txn_abort(txn);
    } else {
        done = commit(idl, txn, what);
    }
    if (done) {
        report_changes(&changes);
    }
    ovsdb_idl_txn_destroy(txn);
    tenant_db_changes_destroy(&changes);
    return done;
}

/* Commands. */

/* "load FILE": makes the DB hold exactly the tenants of document FILE. */
static void
cmd_load(struct ctl_ctx *ctx)
{
    const char *file = ctx->argv[1];
    struct policy_errors errors;

    policy_errors_init(&errors, file);
    struct policy *doc = policy_parse_file(file, &errors);
    if (!doc) {
        /* Not JSON at all: nothing more can be checked. */
        policy_errors_print(&errors, stderr);
        exit(1);
    }

    struct sset names = SSET_INITIALIZER(&names);
    for (size_t i = 0; i < doc->n_tenants; i++) {
        if (doc->tenants[i].name) {
            sset_add(&names, doc->tenants[i].name);
        }
    }
    for (;;) {
        unsigned int seqno = ovsdb_idl_get_seqno(ctx->idl);

        struct policy named, rest;
        split_policy(tenant_db_read(ctx->idl), &names, &named, &rest);
        validate_or_fail(ctx->idl, doc, &rest, &errors);
        policy_clear(&named);
        policy_clear(&rest);
        if (apply(ctx->idl, doc, NULL, file)) {
            break;
        }
        wait_for_change(ctx->idl, seqno);
    }
    sset_destroy(&names);
    policy_destroy(doc);
    policy_errors_destroy(&errors);
}

/* "check FILE": validates document FILE without a database. */
static void
cmd_check(struct ctl_ctx *ctx)
{
    const char *file = ctx->argv[1];
    struct policy_errors errors;

    policy_errors_init(&errors, file);
    struct policy *doc = policy_parse_file(file, &errors);
    if (doc) {
        policy_validate(doc, NULL, &errors);
    }
    if (errors.n) {
        policy_errors_sort(&errors);
        policy_errors_print(&errors, stderr);
        exit(1);
    }
    printf("%s: valid, %"PRIuSIZE" tenant%s\n", file, doc->n_tenants,
           doc->n_tenants == 1 ? "" : "s");
    policy_destroy(doc);
    policy_errors_destroy(&errors);
}

/* "export [TENANT...]": prints the DB's tenants as a document. */
static void
cmd_export(struct ctl_ctx *ctx)
{
    struct policy *all = tenant_db_read(ctx->idl);
    struct sset names = SSET_INITIALIZER(&names);
    struct policy named, rest;

    for (int i = 1; i < ctx->argc; i++) {
        if (!policy_find_tenant(all, ctx->argv[i])) {
            ctl_fatal(ctx, "no tenant \"%s\"", ctx->argv[i]);
        }
        sset_add(&names, ctx->argv[i]);
    }
    if (ctx->argc > 1) {
        split_policy(all, &names, &named, &rest);
        policy_renumber(&named);
        char *text = policy_to_string(&named);
        fputs(text, stdout);
        free(text);
        policy_clear(&named);
        policy_clear(&rest);
    } else {
        char *text = policy_to_string(all);
        fputs(text, stdout);
        free(text);
        policy_destroy(all);
    }
    sset_destroy(&names);
}

/* Returns the Port row whose iface_id is 'iface_id', or NULL. */
static const struct bhrec_port *
find_port_row(const struct shash *ports, const char *iface_id)
{
    return shash_find_data(ports, iface_id);
}

/* Prints the statistics that the controller binding Port 'row' last wrote
 * into it, for "show --stats". */
static void
show_port_stats(const struct bhrec_port *row)
{
    static const struct {
        const char *label;
        const char *packets;
        const char *bytes;
    } lines[] = {
        { "sent", "tx_packets", "tx_bytes" },
        { "received", "rx_packets", "rx_bytes" },
    };
    struct smap map = SMAP_INITIALIZER(&map);

    if (!row || !row->n_statistics) {
        printf("            statistics: none yet\n");
        return;
    }
    for (size_t i = 0; i < row->n_statistics; i++) {
        smap_add_format(&map, row->key_statistics[i], "%"PRId64,
                        row->value_statistics[i]);
    }
    for (size_t i = 0; i < ARRAY_SIZE(lines); i++) {
        printf("            %s: %s packets, %s bytes\n", lines[i].label,
               smap_get_def(&map, lines[i].packets, "?"),
               smap_get_def(&map, lines[i].bytes, "?"));
    }
    printf("            dropped: %s by port security, %s by the egress "
           "firewall, %s by the ingress firewall\n",
           smap_get_def(&map, "dropped_port_security", "?"),
           smap_get_def(&map, "dropped_egress_firewall", "?"),
           smap_get_def(&map, "dropped_ingress_firewall", "?"));
    printf("            connections: %s new, connection cap reached %s "
           "times\n", smap_get_def(&map, "new_connections", "?"),
           smap_get_def(&map, "connection_cap_reached", "?"));
    smap_destroy(&map);
}

/* Prints port 'port' of 'row' for "show", with its statistics if
 * 'stats'. */
static void
show_port(const struct policy_port *port, const struct bhrec_port *row,
          bool stats)
{
    printf("        port %s", port->name);
    if (port->iface_id && strcmp(port->iface_id, port->name)) {
        /* Fields that no name check covers, or written past one, are
         * shown escaped: a newline in one would forge a line. */
        fputs(" (iface-id ", stdout);
        policy_fputs_printable(port->iface_id, stdout);
        putchar(')');
    }
    printf("\n            addresses: %s", port->mac);
    for (size_t i = 0; i < port->ips.n; i++) {
        printf(" %s", port->ips.names[i]);
    }
    putchar('\n');
    for (size_t i = 0; i < port->n_allowed; i++) {
        printf("            allowed: %s%s%s\n",
               port->allowed[i].mac ? port->allowed[i].mac : "",
               port->allowed[i].mac ? " " : "", port->allowed[i].ip);
    }
    if (port->broadcast_limit) {
        printf("            broadcast limit: %"PRId64" packets/s\n",
               port->broadcast_limit);
    }
    if (port->max_connections) {
        printf("            max connections: %"PRId64"\n",
               port->max_connections);
    }
    if (port->log_denied) {
        printf("            log denied: yes\n");
    }
    if (!port->port_security) {
        printf("            port security: off\n");
    } else if (port->groups.n) {
        printf("            security groups:");
        for (size_t i = 0; i < port->groups.n; i++) {
            printf(" %s", port->groups.names[i]);
        }
        putchar('\n');
    } else {
        printf("            security groups: none (sends and receives "
               "nothing)\n");
    }
    if (row && row->chassis) {
        fputs("            chassis: ", stdout);
        policy_fputs_printable(row->chassis->name, stdout);
        printf(", %s\n", row->n_up && row->up[0] ? "up" : "down");
    } else {
        printf("            chassis: none (not bound)\n");
    }
    if (row && row->requested_chassis) {
        fputs("            requested chassis: ", stdout);
        policy_fputs_printable(row->requested_chassis, stdout);
        putchar('\n');
    }
    if (stats) {
        show_port_stats(row);
    }
}

/* "show [TENANT]": prints the DB as a tree. */
static void
cmd_show(struct ctl_ctx *ctx)
{
    struct policy *all = tenant_db_read(ctx->idl);
    struct shash ports = SHASH_INITIALIZER(&ports);
    const struct bhrec_port *prow;

    BHREC_PORT_FOR_EACH (prow, ctx->idl) {
        shash_add(&ports, prow->iface_id, prow);
    }
    if (ctx->argc > 1 && !policy_find_tenant(all, ctx->argv[1])) {
        ctl_fatal(ctx, "no tenant \"%s\"", ctx->argv[1]);
    }
    for (size_t i = 0; i < all->n_tenants; i++) {
        const struct policy_tenant *t = &all->tenants[i];
        if (ctx->argc > 1 && strcmp(t->name, ctx->argv[1])) {
            continue;
        }
        printf("tenant %s\n", t->name);
        for (size_t j = 0; j < t->n_networks; j++) {
            const struct policy_network *n = &t->networks[j];
            printf("    network %s (%s %"PRId64, n->name,
                   policy_net_type_to_string(n->type), n->segment);
            for (size_t k = 0; k < n->cidrs.n; k++) {
                printf(", %s", n->cidrs.names[k]);
            }
            if (n->mtu) {
                printf(", mtu %"PRId64, n->mtu);
            } else if (n->type == POLICY_NET_VXLAN) {
                printf(", mtu %d (default)", POLICY_VXLAN_MTU_DEFAULT);
            }
            printf(")\n");
            for (size_t k = 0; k < t->n_ports; k++) {
                const struct policy_port *p = &t->ports[k];
                if (!strcmp(p->network, n->name)) {
                    show_port(p, find_port_row(&ports,
                                               policy_port_iface_id(p)),
                              smap_get(&ctx->options, "stats") != NULL);
                }
            }
        }
        for (size_t j = 0; j < t->n_groups; j++) {
            const struct policy_group *g = &t->groups[j];
            printf("    security group %s\n", g->name);
            if (!g->n_rules) {
                printf("        (no rules: allows nothing)\n");
            }
            for (size_t k = 0; k < g->n_rules; k++) {
                char *text = policy_rule_to_string(&g->rules[k]);
                printf("        %"PRIuSIZE": %s\n", k + 1, text);
                free(text);
            }
        }
    }
    shash_destroy(&ports);
    policy_destroy(all);
}

/* "chassis-list": prints the hypervisors that registered. */
static void
cmd_chassis_list(struct ctl_ctx *ctx)
{
    const struct bhrec_chassis *ch;
    struct svec lines = SVEC_EMPTY_INITIALIZER;

    BHREC_CHASSIS_FOR_EACH (ch, ctx->idl) {
        svec_add_nocopy(&lines, xasprintf(
                            "%s encap_ip=%s hostname=%s version=%s",
                            ch->name, ch->encap_ip ? ch->encap_ip : "none",
                            ch->hostname, ch->version));
    }
    svec_sort(&lines);
    char *text = svec_join(&lines, "\n", lines.n ? "\n" : "");
    fputs(text, stdout);
    free(text);
    svec_destroy(&lines);
}

/* Fails, naming the chassis that are, unless a Chassis row is named
 * 'chassis': a name no host registered is more likely a mistake than a
 * host to come (--unregistered says it is one). */
static void
check_chassis_registered(struct ctl_ctx *ctx, const char *chassis)
{
    struct svec names = SVEC_EMPTY_INITIALIZER;
    const struct bhrec_chassis *c;

    BHREC_CHASSIS_FOR_EACH (c, ctx->idl) {
        if (!strcmp(c->name, chassis)) {
            svec_destroy(&names);
            return;
        }
        svec_add(&names, c->name);
    }
    svec_sort(&names);
    struct ds list = DS_EMPTY_INITIALIZER;
    for (size_t i = 0; i < names.n; i++) {
        ds_put_format(&list, "%s%s", i ? ", " : "", names.names[i]);
    }
    svec_destroy(&names);
    /* Static, so that it is still reachable when ctl_fatal() exits (the
     * tests' leak checker). */
    static char *known;
    known = list.length ? ds_steal_cstr(&list) : xstrdup("none");
    ds_destroy(&list);
    ctl_fatal(ctx, "no chassis \"%s\" is registered (registered: %s); "
              "--unregistered names it before its host registers",
              chassis, known);
}

/* "port-set-requested-chassis TENANT PORT [CHASSIS]": names the chassis
 * that may take the Port from the one that holds it (a live migration),
 * or, without CHASSIS, clears it.  Binding state, not policy: the Port
 * row changes, the tenant's document does not. */
static void
cmd_port_set_requested_chassis(struct ctl_ctx *ctx)
{
    const char *chassis = ctx->argc > 3 ? ctx->argv[3] : NULL;
    const char *problem = chassis ? policy_check_iface_id(chassis) : NULL;

    if (problem) {
        /* A chassis name is a host's system-id. */
        ctl_fatal(ctx, "chassis \"%s\" %s", chassis, problem);
    }

    for (;;) {
        unsigned int seqno = ovsdb_idl_get_seqno(ctx->idl);

        struct policy *all = tenant_db_read(ctx->idl);
        const struct policy_tenant *t = policy_find_tenant(all, ctx->argv[1]);
        const struct policy_port *p = t ? policy_find_port(t, ctx->argv[2])
                                        : NULL;
        const char *iface_id = p ? policy_port_iface_id(p) : NULL;
        const struct bhrec_port *row = NULL, *r;
        BHREC_PORT_FOR_EACH (r, ctx->idl) {
            if (iface_id && !strcmp(r->iface_id, iface_id)) {
                row = r;
                break;
            }
        }
        /* Freed before any error, which exits: the leak checker of the
         * tests would count it otherwise. */
        bool has_tenant = t != NULL, has_port = p != NULL;
        policy_destroy(all);
        if (!has_tenant) {
            ctl_fatal(ctx, "no tenant \"%s\"", ctx->argv[1]);
        }
        if (!has_port) {
            ctl_fatal(ctx, "no port \"%s\" in tenant \"%s\"", ctx->argv[2],
                      ctx->argv[1]);
        }
        if (!row) {
            ctl_fatal(ctx, "port \"%s\" has no row (try again)",
                      ctx->argv[2]);
        }
        if (nullable_string_is_equal(row->requested_chassis, chassis)) {
            printf(dry_run ? "dry run: no changes\n" : "no changes\n");
            return;
        }
        if (chassis && !opt(ctx, "unregistered")) {
            check_chassis_registered(ctx, chassis);
        }
        if (dry_run) {
            printf("port %s: requested chassis %s -> %s\n"
                   "dry run: 0 to create, 1 to update, 0 to delete; "
                   "nothing applied\n", ctx->argv[2],
                   row->requested_chassis ? row->requested_chassis : "none",
                   chassis ? chassis : "none");
            return;
        }

        struct ovsdb_idl_txn *txn = ovsdb_idl_txn_create(ctx->idl);
        ovsdb_idl_txn_add_comment(txn, "bulkhead-ctl: %s %s %s %s",
                                  ctx->argv[0], ctx->argv[1], ctx->argv[2],
                                  chassis ? chassis : "");
        bhrec_port_verify_requested_chassis(row);
        bhrec_port_set_requested_chassis(row, chassis);
        bool done = commit(ctx->idl, txn, ctx->argv[0]);
        ovsdb_idl_txn_destroy(txn);
        if (done) {
            printf("0 created, 1 updated, 0 deleted\n");
            return;
        }
        wait_for_change(ctx->idl, seqno);
    }
}

/* Mirrors.  Operator objects, not tenants' policy: they are rows of
 * their own (the Mirror table), written directly, and no policy document
 * says them. */

/* Returns the Mirror named 'name', or NULL. */
static const struct bhrec_mirror *
find_mirror(struct ovsdb_idl *idl, const char *name)
{
    const struct bhrec_mirror *r;

    BHREC_MIRROR_FOR_EACH (r, idl) {
        if (!strcmp(r->name, name)) {
            return r;
        }
    }
    return NULL;
}

/* Finds the source that 'spec' names, TENANT/NETWORK (a network) or
 * TENANT/NETWORK/PORT (a port), into '*netp' and '*portp' (NULL for a
 * network), or fails. */
static void
find_mirror_source(const struct ctl_ctx *ctx, struct ovsdb_idl *idl,
                   const char *spec, const struct bhrec_network **netp,
                   const struct bhrec_port **portp)
{
    char *copy = xstrdup(spec);
    char *save = NULL;
    char *parts[4];
    int n = 0;

    for (char *tok = strtok_r(copy, "/", &save); tok && n < 4;
         tok = strtok_r(NULL, "/", &save)) {
        parts[n++] = tok;
    }
    if ((n != 2 && n != 3) || strstr(spec, "//") || spec[0] == '/'
        || spec[strlen(spec) - 1] == '/') {
        ctl_fatal(ctx, "--source \"%s\": expected TENANT/NETWORK (a "
                  "network) or TENANT/NETWORK/PORT (a port)", spec);
    }

    const struct bhrec_tenant *t, *tenant = NULL;
    BHREC_TENANT_FOR_EACH (t, idl) {
        if (!strcmp(t->name, parts[0])) {
            tenant = t;
        }
    }
    if (!tenant) {
        ctl_fatal(ctx, "--source \"%s\": no tenant \"%s\"", spec, parts[0]);
    }
    const struct bhrec_network *net, *network = NULL;
    BHREC_NETWORK_FOR_EACH (net, idl) {
        if (net->tenant == tenant && !strcmp(net->name, parts[1])) {
            network = net;
        }
    }
    if (!network) {
        ctl_fatal(ctx, "--source \"%s\": no network \"%s\" in tenant "
                  "\"%s\"", spec, parts[1], parts[0]);
    }
    *netp = network;
    *portp = NULL;
    if (n == 3) {
        const struct bhrec_port *p;
        BHREC_PORT_FOR_EACH (p, idl) {
            if (p->network == network && !strcmp(p->name, parts[2])) {
                *portp = p;
            }
        }
        if (!*portp) {
            ctl_fatal(ctx, "--source \"%s\": no port \"%s\" on network "
                      "%s/%s", spec, parts[2], parts[0], parts[1]);
        }
    }
    free(copy);
}

/* "mirror-add NAME --source SRC [--direction DIR] --to DEST". */
static void
cmd_mirror_add(struct ctl_ctx *ctx)
{
    const char *name = ctx->argv[1];
    const char *source = opt(ctx, "source");
    const char *direction = opt(ctx, "direction");
    const char *to = opt(ctx, "to");

    const char *problem = policy_check_name(name);
    if (problem) {
        ctl_fatal(ctx, "mirror name \"%s\" %s", name, problem);
    }
    if (!source || !*source) {
        ctl_fatal(ctx, "--source is required (TENANT/NETWORK or "
                  "TENANT/NETWORK/PORT)");
    }
    if (!to || !*to) {
        ctl_fatal(ctx, "--to is required (an analysis port's iface-id, "
                  "gre:REMOTE-IP or erspan:REMOTE-IP)");
    }
    if (!direction) {
        direction = "both";
    } else if (strcmp(direction, "in") && strcmp(direction, "out")
               && strcmp(direction, "both")) {
        ctl_fatal(ctx, "--direction \"%s\": expected in, out or both",
                  direction);
    }
    const char *gre = !strncmp(to, "gre:", 4) ? to + 4 : NULL;
    const char *erspan = !strncmp(to, "erspan:", 7) ? to + 7 : NULL;
    const char *remote = gre ? gre : erspan;
    if (remote) {
        ovs_be32 ip;
        if (!policy_parse_host_ip(remote, &ip)) {
            ctl_fatal(ctx, "--to \"%s\": \"%s\" is not the unicast IPv4 "
                      "address of another host (not in 0.0.0.0/8, "
                      "127.0.0.0/8 or 224.0.0.0/3)", to, remote);
        }
    } else if (strchr(to, ':')) {
        ctl_fatal(ctx, "--to \"%s\": unknown destination type \"%.*s\" "
                  "(expected an analysis port's iface-id, gre:REMOTE-IP or "
                  "erspan:REMOTE-IP)", to, (int) (strchr(to, ':') - to), to);
    } else if ((problem = policy_check_iface_id(to))) {
        ctl_fatal(ctx, "--to \"%s\": an iface-id %s", to, problem);
    }

    for (;;) {
        unsigned int seqno = ovsdb_idl_get_seqno(ctx->idl);

        if (find_mirror(ctx->idl, name)) {
            ctl_fatal(ctx, "mirror \"%s\" already exists", name);
        }
        const struct bhrec_network *net;
        const struct bhrec_port *port;
        find_mirror_source(ctx, ctx->idl, source, &net, &port);
        if (!remote) {
            const struct bhrec_port *p;
            BHREC_PORT_FOR_EACH (p, ctx->idl) {
                if (!strcmp(p->iface_id, to)) {
                    ctl_fatal(ctx, "--to \"%s\" is the iface-id of port "
                              "%s/%s/%s, a tenant vNIC: a mirror sends only "
                              "to an analysis port (an operator's interface "
                              "whose iface-id names no port) or to a GRE "
                              "or ERSPAN collector", to,
                              p->network->tenant->name, p->network->name,
                              p->name);
                }
            }
        }

        if (dry_run) {
            printf("+ mirror %s (source %s, direction %s, to %s)\n"
                   "dry run: 1 to create, 0 to update, 0 to delete; "
                   "nothing applied\n", name, source, direction, to);
            return;
        }

        struct ovsdb_idl_txn *txn = ovsdb_idl_txn_create(ctx->idl);
        ovsdb_idl_txn_add_comment(txn, "bulkhead-ctl: mirror-add %s", name);
        const struct bhrec_mirror *r;
        BHREC_MIRROR_FOR_EACH (r, ctx->idl) {
            bhrec_mirror_verify_name(r);
        }
        if (port) {
            bhrec_port_verify_iface_id(port);
        }
        struct bhrec_mirror *m = bhrec_mirror_insert(txn);
        bhrec_mirror_set_name(m, name);
        if (port) {
            bhrec_mirror_set_source_port(m, port);
        } else {
            bhrec_mirror_set_source_network(m, net);
        }
        bhrec_mirror_set_direction(m, direction);
        if (gre) {
            bhrec_mirror_set_to_gre(m, gre);
        } else if (erspan) {
            bhrec_mirror_set_to_erspan(m, erspan);
        } else {
            bhrec_mirror_set_to_iface(m, to);
        }
        bool done = commit(ctx->idl, txn, ctx->argv[0]);
        ovsdb_idl_txn_destroy(txn);
        if (done) {
            printf("1 created, 0 updated, 0 deleted\n");
            return;
        }
        wait_for_change(ctx->idl, seqno);
    }
}

/* "mirror-del NAME". */
static void
cmd_mirror_del(struct ctl_ctx *ctx)
{
    const char *name = ctx->argv[1];

    for (;;) {
        unsigned int seqno = ovsdb_idl_get_seqno(ctx->idl);

        const struct bhrec_mirror *r = find_mirror(ctx->idl, name);
        if (!r) {
            if (!opt(ctx, "if-exists")) {
                ctl_fatal(ctx, "no mirror \"%s\"", name);
            }
            printf(dry_run ? "dry run: no changes\n" : "no changes\n");
            return;
        }
        if (dry_run) {
            printf("- mirror %s\n"
                   "dry run: 0 to create, 0 to update, 1 to delete; "
                   "nothing applied\n", name);
            return;
        }
        struct ovsdb_idl_txn *txn = ovsdb_idl_txn_create(ctx->idl);
        ovsdb_idl_txn_add_comment(txn, "bulkhead-ctl: mirror-del %s", name);
        bhrec_mirror_delete(r);
        bool done = commit(ctx->idl, txn, ctx->argv[0]);
        ovsdb_idl_txn_destroy(txn);
        if (done) {
            printf("0 created, 0 updated, 1 deleted\n");
            return;
        }
        wait_for_change(ctx->idl, seqno);
    }
}

/* "mirror-list": one line per mirror, by name. */
static void
cmd_mirror_list(struct ctl_ctx *ctx)
{
    struct svec lines = SVEC_EMPTY_INITIALIZER;
    const struct bhrec_mirror *r;

    BHREC_MIRROR_FOR_EACH (r, ctx->idl) {
        char *src = (r->source_port
                     ? xasprintf("%s/%s/%s",
                                 r->source_port->network->tenant->name,
                                 r->source_port->network->name,
                                 r->source_port->name)
                     : r->source_network
                     ? xasprintf("%s/%s", r->source_network->tenant->name,
                                 r->source_network->name)
                     : xstrdup("none (deleted)"));
        char *line = xasprintf("%s: source %s, direction %s, to %s%s",
                               r->name, src, r->direction,
                               (r->to_gre ? "gre:"
                                : r->to_erspan ? "erspan:" : ""),
                               (r->to_gre ? r->to_gre
                                : r->to_erspan ? r->to_erspan
                                : r->to_iface ? r->to_iface : "none"));
        /* One line per mirror, whatever its row holds. */
        struct ds printable = DS_EMPTY_INITIALIZER;
        policy_put_printable(&printable, line);
        svec_add_nocopy(&lines, ds_steal_cstr(&printable));
        free(line);
        free(src);
    }
    svec_sort(&lines);
    char *text = svec_join(&lines, "\n", lines.n ? "\n" : "");
    fputs(text, stdout);
    free(text);
    svec_destroy(&lines);
}

/* "tenant-add TENANT". */
static void
edit_tenant_add(struct ctl_ctx *ctx)
{
    if (policy_find_tenant(ctx->policy, ctx->tenant)) {
        already_exists(ctx, "tenant", ctx->tenant);
        return;
    }
    policy_add_tenant(ctx->policy, ctx->tenant);
}

/* "tenant-del TENANT". */
static void
edit_tenant_del(struct ctl_ctx *ctx)
{
    if (!policy_find_tenant(ctx->policy, ctx->tenant)) {
        if (!opt(ctx, "if-exists")) {
            ctl_fatal(ctx, "no tenant \"%s\"", ctx->tenant);
        }
        ctx->no_change = true;
        return;
    }
    ctx->delete_tenant = true;
}

/* Parses 's' as an integer option or argument named 'what'. */
static int64_t
parse_int(const struct ctl_ctx *ctx, const char *what, const char *s)
{
    long long int value;

    if (!str_to_llong(s, 10, &value)) {
        ctl_fatal(ctx, "%s \"%s\" is not an integer", what, s);
    }
    return value;
}

/* "net-add TENANT NETWORK TYPE SEGMENT [CIDR...] [--mtu=N]". */
static void
edit_net_add(struct ctl_ctx *ctx)
{
    struct policy_tenant *t = need_tenant(ctx, ctx->tenant);
    const char *name = ctx->argv[2];
    enum policy_net_type type;

    if (!policy_net_type_from_string(ctx->argv[3], &type)) {
        ctl_fatal(ctx, "network type \"%s\" is not \"vlan\" or \"vxlan\"",
                  ctx->argv[3]);
    }
    int64_t segment = parse_int(ctx, "segment", ctx->argv[4]);
    if (policy_find_network(t, name)) {
        already_exists(ctx, "network", name);
        return;
    }
    struct policy_network *n = policy_tenant_add_network(t, name);
    n->type = type;
    n->segment = segment;
    for (int i = 5; i < ctx->argc; i++) {
        svec_add(&n->cidrs, ctx->argv[i]);
    }
    if (opt(ctx, "mtu")) {
        n->mtu = parse_int(ctx, "mtu", opt(ctx, "mtu"));
        if (!n->mtu) {
            /* 0 means "not given" in the model: refuse it here, in the
             * validator's words. */
            ctl_fatal(ctx, "network \"%s\": mtu 0 is outside %d-%d", name,
                      POLICY_MTU_MIN, POLICY_MTU_MAX);
        }
    }
}

/* "net-del TENANT NETWORK". */
static void
edit_net_del(struct ctl_ctx *ctx)
{
    struct policy_tenant *t = need_tenant(ctx, ctx->tenant);
    const struct policy_network *n = policy_find_network(t, ctx->argv[2]);

    if (!n) {
        not_found(ctx, "network", ctx->argv[2]);
        return;
    }
    for (size_t j = 0; j < t->n_ports; j++) {
        if (!strcmp(t->ports[j].network, ctx->argv[2])) {
            ctl_fatal(ctx, "network \"%s\" still has port \"%s\"; delete "
                      "its ports first", ctx->argv[2], t->ports[j].name);
        }
    }
    policy_tenant_remove_network(t, n - t->networks);
}

/* Sets the security groups of 'port' to the comma-separated list 'list'
 * (or to the arguments from 'argv[first]' on if 'list' is NULL). */
static void
set_port_groups(struct ctl_ctx *ctx, struct policy_port *port,
                const char *list, int first)
{
    svec_clear(&port->groups);
    if (list) {
        char *copy = xstrdup(list);
        char *save = NULL;
        for (char *g = strtok_r(copy, ",", &save); g;
             g = strtok_r(NULL, ",", &save)) {
            svec_add(&port->groups, g);
        }
        free(copy);
    } else {
        for (int i = first; i < ctx->argc; i++) {
            svec_add(&port->groups, ctx->argv[i]);
        }
    }
}

/* "port-add TENANT NETWORK PORT MAC [IP...] [--iface-id=ID] [--sg=G,...]
 * [--allow=[MAC,]IP] [--no-port-security]". */
static void
edit_port_add(struct ctl_ctx *ctx)
{
    struct policy_tenant *t = need_tenant(ctx, ctx->tenant);
    const char *name = ctx->argv[3];

    if (policy_find_port(t, name)) {
        already_exists(ctx, "port", name);
        return;
    }
    struct policy_port *p = policy_tenant_add_port(t, name);
    p->network = xstrdup(ctx->argv[2]);
    p->mac = xstrdup(ctx->argv[4]);
    for (int i = 5; i < ctx->argc; i++) {
        svec_add(&p->ips, ctx->argv[i]);
    }
    p->iface_id = nullable_xstrdup(opt(ctx, "iface-id"));
    if (opt(ctx, "sg")) {
        set_port_groups(ctx, p, opt(ctx, "sg"), 0);
    }
    if (opt(ctx, "no-port-security")) {
        p->port_security = false;
    }
    const char *allow = opt(ctx, "allow");
    if (allow) {
        const char *comma = strchr(allow, ',');
        p->allowed = xzalloc(sizeof *p->allowed);
        p->allowed[0].mac = comma ? xmemdup0(allow, comma - allow) : NULL;
        p->allowed[0].ip = xstrdup(comma ? comma + 1 : allow);
        p->n_allowed = 1;
    }
}

/* "port-del TENANT PORT". */
static void
edit_port_del(struct ctl_ctx *ctx)
{
    struct policy_tenant *t = need_tenant(ctx, ctx->tenant);
    const struct policy_port *p = policy_find_port(t, ctx->argv[2]);

    if (!p) {
        not_found(ctx, "port", ctx->argv[2]);
        return;
    }
    policy_tenant_remove_port(t, p - t->ports);
}

/* "port-set-sg TENANT PORT [GROUP...]". */
static void
edit_port_set_sg(struct ctl_ctx *ctx)
{
    struct policy_tenant *t = need_tenant(ctx, ctx->tenant);
    struct policy_port *p = policy_find_port(t, ctx->argv[2]);

    if (!p) {
        ctl_fatal(ctx, "no port \"%s\" in tenant \"%s\"", ctx->argv[2],
                  ctx->tenant);
    }
    set_port_groups(ctx, p, NULL, 3);
}

/* "sg-add TENANT GROUP". */
static void
edit_sg_add(struct ctl_ctx *ctx)
{
    struct policy_tenant *t = need_tenant(ctx, ctx->tenant);

    if (policy_find_group(t, ctx->argv[2])) {
        already_exists(ctx, "security group", ctx->argv[2]);
        return;
    }
    policy_tenant_add_group(t, ctx->argv[2]);
}

/* "sg-del TENANT GROUP". */
static void
edit_sg_del(struct ctl_ctx *ctx)
{
    struct policy_tenant *t = need_tenant(ctx, ctx->tenant);
    const char *name = ctx->argv[2];
    const struct policy_group *group = policy_find_group(t, name);

    if (!group) {
        not_found(ctx, "security group", name);
        return;
    }
    for (size_t j = 0; j < t->n_ports; j++) {
        const struct policy_port *p = &t->ports[j];
        if (svec_contains_unsorted(&p->groups, name)) {
            ctl_fatal(ctx, "security group \"%s\" is used by port \"%s\"",
                      name, p->name);
        }
    }
    for (size_t j = 0; j < t->n_groups; j++) {
        const struct policy_group *g = &t->groups[j];
        for (size_t k = 0; k < g->n_rules; k++) {
            const char *remote = g->rules[k].remote;
            if (g != group && remote[0] == '@'
                && !strcmp(remote + 1, name)) {
                ctl_fatal(ctx, "security group \"%s\" is named by rule "
                          "#%"PRIuSIZE" of security group \"%s\"; change "
                          "or delete that rule first", name, k + 1,
                          g->name);
            }
        }
    }
    policy_tenant_remove_group(t, group - t->groups);
}

/* Fills 'rule' from the rule specification "DIRECTION PROTOCOL [PORTS]
 * REMOTE" in the 'n' arguments at 'args' and the options --log and
 * --ethertype. */
static void
parse_rule_spec(struct ctl_ctx *ctx, struct policy_rule *rule, char **args,
                int n)
{
    if (n < 3 || n > 4) {
        ctl_fatal(ctx, "a rule is DIRECTION PROTOCOL [PORTS] REMOTE");
    }
    if (!policy_direction_from_string(args[0], &rule->direction)) {
        ctl_fatal(ctx, "direction \"%s\" is not \"ingress\" or \"egress\"",
                  args[0]);
    }
    if (n == 3 && args[2][0]
        && strspn(args[2], "0123456789,-") == strlen(args[2])) {
        /* "rule-add T G ingress tcp 22": no remote, which would otherwise
         * be refused as the address "22". */
        ctl_fatal(ctx, "REMOTE is missing: \"%s\" reads as PORTS (a rule "
                  "is DIRECTION PROTOCOL [PORTS] REMOTE; REMOTE is a CIDR, "
                  "\"any\" or \"@group\")", args[2]);
    }
    free(rule->protocol);
    rule->protocol = xstrdup(args[1]);
    rule->ports = n == 4 ? xstrdup(args[2]) : NULL;
    free(rule->remote);
    rule->remote = xstrdup(args[n - 1]);
    rule->log = opt(ctx, "log") != NULL;
    rule->ethertype = nullable_xstrdup(opt(ctx, "ethertype"));
}

/* Returns the group named by argv[2] of the tenant of 'ctx', or fails. */
static struct policy_group *
need_group(struct ctl_ctx *ctx)
{
    struct policy_tenant *t = need_tenant(ctx, ctx->tenant);
    struct policy_group *g = policy_find_group(t, ctx->argv[2]);

    if (!g) {
        ctl_fatal(ctx, "no security group \"%s\" in tenant \"%s\"",
                  ctx->argv[2], ctx->tenant);
    }
    return g;
}

/* "rule-add TENANT GROUP DIRECTION PROTOCOL [PORTS] REMOTE [--log]
 * [--ethertype=E]". */
static void
edit_rule_add(struct ctl_ctx *ctx)
{
    struct policy_group *g = need_group(ctx);
    struct policy_rule *rule = policy_group_add_rule(g);

    parse_rule_spec(ctx, rule, &ctx->argv[3], ctx->argc - 3);
    for (size_t i = 0; i + 1 < g->n_rules; i++) {
        if (policy_rule_equal(&g->rules[i], rule)) {
            char *text = policy_rule_to_string(rule);
            policy_group_remove_rule(g, g->n_rules - 1);
            if (!opt(ctx, "may-exist")) {
                ctl_fatal(ctx, "security group \"%s\" already has rule "
                          "#%"PRIuSIZE" \"%s\"", g->name, i + 1, text);
            }
            free(text);
            ctx->no_change = true;
            return;
        }
    }
}

/* "rule-del TENANT GROUP INDEX" or "rule-del TENANT GROUP DIRECTION
 * PROTOCOL [PORTS] REMOTE". */
static void
edit_rule_del(struct ctl_ctx *ctx)
{
    struct policy_group *g = need_group(ctx);
    size_t index = SIZE_MAX;

    if (ctx->argc == 4) {
        int64_t n = parse_int(ctx, "rule number", ctx->argv[3]);
        if (n < 1 || n > g->n_rules) {
            if (!opt(ctx, "if-exists")) {
                ctl_fatal(ctx, "security group \"%s\" has no rule #%s "
                          "(it has %"PRIuSIZE")", g->name, ctx->argv[3],
                          g->n_rules);
            }
            ctx->no_change = true;
            return;
        }
        index = n - 1;
    } else {
        struct policy_rule spec;
        memset(&spec, 0, sizeof spec);
        spec.protocol = xstrdup("any");
        spec.remote = xstrdup("any");
        parse_rule_spec(ctx, &spec, &ctx->argv[3], ctx->argc - 3);
        for (size_t i = 0; i < g->n_rules && index == SIZE_MAX; i++) {
            if (policy_rule_equal(&g->rules[i], &spec)) {
                index = i;
            }
        }
        policy_rule_destroy(&spec);
        if (index == SIZE_MAX) {
            not_found(ctx, "rule like that in group", g->name);
            return;
        }
    }
    policy_group_remove_rule(g, index);
}

/* Runs an editing command: reads the DB, lets the command's 'run' change
 * one tenant, validates that tenant against the rest and applies it. */
static void
run_edit(struct ctl_ctx *ctx)
{
    struct ds what = DS_EMPTY_INITIALIZER;

    for (int i = 0; i < ctx->argc; i++) {
        ds_put_format(&what, "%s%s", i ? " " : "", ctx->argv[i]);
    }
    for (;;) {
        unsigned int seqno = ovsdb_idl_get_seqno(ctx->idl);

        ctx->policy = tenant_db_read(ctx->idl);
        ctx->tenant = ctx->argv[1];
        ctx->delete_tenant = ctx->no_change = false;
        ctx->cmd->run(ctx);
        if (ctx->no_change) {
            policy_destroy(ctx->policy);
            break;
        }

        struct sset names = SSET_INITIALIZER(&names);
        struct policy named, rest;
        struct policy_errors errors;
        char *prefix = xasprintf("%s: %s", program_name, ctx->cmd->name);

        sset_add(&names, ctx->tenant);
        split_policy(ctx->policy, &names, &named, &rest);
        if (ctx->delete_tenant) {
            policy_clear(&named);
        }
        policy_renumber(&named);
        policy_errors_init(&errors, prefix);
        validate_or_fail(ctx->idl, &named, &rest, &errors);
        bool done = apply(ctx->idl, &named,
                          ctx->delete_tenant ? ctx->tenant : NULL,
                          ds_cstr(&what));
        policy_errors_destroy(&errors);
        free(prefix);
        policy_clear(&named);
        policy_clear(&rest);
        sset_destroy(&names);
        if (done) {
            break;
        }
        wait_for_change(ctx->idl, seqno);
    }
    ds_destroy(&what);
}

/* All the commands. */
static const struct ctl_command commands[] = {
    {"load", 1, 1, "FILE", "", CMD_READ, MON_POLICY, cmd_load,
     "make the DB hold exactly the tenants of document FILE"},
    {"check", 1, 1, "FILE", "", CMD_OFFLINE, 0, cmd_check,
     "validate document FILE without a database"},
    {"export", 0, INT_MAX, "[TENANT...]", "", CMD_READ, MON_POLICY,
     cmd_export, "print tenants as a policy document"},
    {"show", 0, 1, "[TENANT]", "stats", CMD_READ, MON_POLICY | MON_BINDING,
     cmd_show, "print tenants, networks, ports and groups as a tree "
     "(with --stats, each port's counters too)"},
    {"chassis-list", 0, 0, "", "", CMD_READ, MON_CHASSIS, cmd_chassis_list,
     "list the hypervisors that registered"},
    {"tenant-add", 1, 1, "TENANT", "may-exist", CMD_EDIT, MON_POLICY,
     edit_tenant_add, "create a tenant"},
    {"tenant-del", 1, 1, "TENANT", "if-exists", CMD_EDIT, MON_POLICY,
     edit_tenant_del, "delete a tenant and everything it owns"},
    {"net-add", 4, INT_MAX, "TENANT NETWORK vlan|vxlan SEGMENT [CIDR...]",
     "may-exist mtu=", CMD_EDIT, MON_POLICY, edit_net_add,
     "create a network"},
    {"net-del", 2, 2, "TENANT NETWORK", "if-exists", CMD_EDIT, MON_POLICY,
     edit_net_del, "delete a network that has no ports"},
    {"port-add", 4, INT_MAX, "TENANT NETWORK PORT MAC [IP...]",
     "may-exist iface-id= sg= allow= no-port-security", CMD_EDIT, MON_POLICY,
     edit_port_add, "create a port (vNIC)"},
    {"port-del", 2, 2, "TENANT PORT", "if-exists", CMD_EDIT, MON_POLICY,
     edit_port_del, "delete a port"},
    {"port-set-sg", 2, INT_MAX, "TENANT PORT [GROUP...]", "", CMD_EDIT,
     MON_POLICY, edit_port_set_sg, "set the security groups of a port"},
    {"port-set-requested-chassis", 2, 3, "TENANT PORT [CHASSIS]",
     "unregistered", CMD_READ, MON_POLICY | MON_REQUESTED | MON_CHASSIS,
     cmd_port_set_requested_chassis,
     "name the chassis a port migrates to (none: clear it)"},
    {"sg-add", 2, 2, "TENANT GROUP", "may-exist", CMD_EDIT, MON_POLICY,
     edit_sg_add, "create a security group"},
    {"sg-del", 2, 2, "TENANT GROUP", "if-exists", CMD_EDIT, MON_POLICY,
     edit_sg_del, "delete a security group no port uses"},
    {"rule-add", 5, 6, "TENANT GROUP DIRECTION PROTOCOL [PORTS] REMOTE",
     "may-exist log ethertype=", CMD_EDIT, MON_POLICY, edit_rule_add,
     "add a rule to a security group"},
    {"rule-del", 3, 6, "TENANT GROUP NUMBER|DIRECTION PROTOCOL [PORTS] "
     "REMOTE", "if-exists log ethertype=", CMD_EDIT, MON_POLICY,
     edit_rule_del,
     "delete a rule, by its number in \"show\" or by its content"},
    {"mirror-add", 1, 1, "NAME --source TENANT/NETWORK[/PORT] --to "
     "IFACE-ID|gre:IP|erspan:IP", "source= direction= to=", CMD_READ,
     MON_MIRROR, cmd_mirror_add, "copy a port's or a network's traffic "
     "(--direction in, out or both, the default) to an analysis port or a "
     "GRE or ERSPAN collector"},
    {"mirror-del", 1, 1, "NAME", "if-exists", CMD_READ, MON_MIRROR,
     cmd_mirror_del, "delete a mirror"},
    {"mirror-list", 0, 0, "", "", CMD_READ, MON_MIRROR, cmd_mirror_list,
     "list the mirrors"},
};

/* Returns the command named 'name', or NULL. */
static const struct ctl_command *
find_command(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
        if (!strcmp(commands[i].name, name)) {
            return &commands[i];
        }
    }
    return NULL;
}

/* Returns the default Tenant DB remote. */
static char *
default_db(void)
{
    const char *env = getenv("BULKHEAD_DB");
    return (env && *env
            ? xstrdup(env)
            : xasprintf("unix:%s/bulkhead.sock", ovs_rundir()));
}

static void
usage(void)
{
    printf("%s: Bulkhead Tenant DB client\n"
           "usage: %s [OPTIONS] COMMAND [ARG...] [--COMMAND-OPTION...]\n"
           "\nCommands:\n", program_name, program_name);
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
        const struct ctl_command *c = &commands[i];
        printf("  %s %s\n      %s", c->name, c->args, c->help);
        if (*c->options) {
            printf(" (options:");
            char *copy = xstrdup(c->options);
            char *save = NULL;
            for (char *o = strtok_r(copy, " ", &save); o;
                 o = strtok_r(NULL, " ", &save)) {
                size_t len = strlen(o);
                if (len && o[len - 1] == '=') {
                    printf(" --%.*s VALUE", (int) len - 1, o);
                } else {
                    printf(" --%s", o);
                }
            }
            free(copy);
            printf(")");
        }
        putchar('\n');
    }
    printf("\nOptions:\n"
           "  --db=REMOTE      Tenant DB (default: $BULKHEAD_DB, or\n"
           "                   unix:$OVS_RUNDIR/bulkhead.sock)\n"
           "  --dry-run        print what would change, change nothing\n"
           "  --timeout=SECS   give up after SECS seconds (default 30, "
           "0 for never)\n"
           "  -h, --help       print this help\n"
           "  -V, --version    print the version\n");
    exit(EXIT_SUCCESS);
}

/* Parses the global options in 'argv' and returns the index of the
 * command. */
static int
parse_options(int argc, char *argv[])
{
    enum { OPT_DB = UCHAR_MAX + 1, OPT_DRY_RUN, OPT_TIMEOUT };
    static const struct option long_options[] = {
        {"db", required_argument, NULL, OPT_DB},
        {"dry-run", no_argument, NULL, OPT_DRY_RUN},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };

    for (;;) {
        int c = getopt_long(argc, argv, "+hV", long_options, NULL);
        if (c == -1) {
            break;
        }
        switch (c) {
        case OPT_DB:
            free(db);
            db = xstrdup(optarg);
            break;
        case OPT_DRY_RUN:
            dry_run = true;
            break;
        case OPT_TIMEOUT:
            if (!str_to_uint(optarg, 10, &timeout)) {
                ovs_fatal(0, "--timeout: \"%s\" is not a number of seconds",
                          optarg);
            }
            break;
        case 'h':
            usage();
        case 'V':
            printf("%s (Bulkhead) 0.1.0\n", program_name);
            exit(EXIT_SUCCESS);
        case '?':
        default:
            ovs_fatal(0, "try --help for usage");
        }
    }
    if (!db) {
        db = default_db();
    }
    return optind;
}

/* Returns true if command option 'key' is a flag: present or not, with
 * no value. */
static bool
is_flag(const char *key)
{
    static const char *const flags[] = {
        "may-exist", "if-exists", "log", "no-port-security", "stats",
    };

    for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
        if (!strcmp(key, flags[i])) {
            return true;
        }
    }
    return false;
}

/* Takes the "--key[=value]" arguments after the command name out of
 * 'ctx''s arguments into its options, checking them against the command's
 * list. */
static void
take_command_options(struct ctl_ctx *ctx)
{
    int n = 1;

    smap_init(&ctx->options);
    for (int i = 1; i < ctx->argc; i++) {
        const char *arg = ctx->argv[i];
        if (strncmp(arg, "--", 2) || !arg[2]) {
            ctx->argv[n++] = ctx->argv[i];
            continue;
        }
        const char *eq = strchr(arg, '=');
        char *key = eq ? xmemdup0(arg + 2, eq - arg - 2) : xstrdup(arg + 2);
        struct sset allowed = SSET_INITIALIZER(&allowed);
        sset_from_delimited_string(&allowed, ctx->cmd->options, " ");
        /* "KEY=" in the list: the option takes a value, "--KEY=VALUE" or
         * "--KEY VALUE". */
        char *with_value = xasprintf("%s=", key);
        bool takes_value = sset_contains(&allowed, with_value);
        free(with_value);
        if (!takes_value && !sset_contains(&allowed, key)) {
            ctl_fatal(ctx, "unknown option \"--%s\" (try --help)", key);
        }
        sset_destroy(&allowed);
        if (eq && is_flag(key)) {
            /* "--log=no" would otherwise mean --log. */
            ctl_fatal(ctx, "option \"--%s\" takes no value (\"%s\")", key,
                      arg);
        }
        const char *value = eq ? eq + 1 : "";
        if (takes_value && !eq) {
            if (i + 1 >= ctx->argc) {
                ctl_fatal(ctx, "option \"--%s\" needs a value", key);
            }
            value = ctx->argv[++i];
        }
        smap_replace(&ctx->options, key, value);
        free(key);
    }
    ctx->argc = n;
}

int
main(int argc, char *argv[])
{
    struct ctl_ctx ctx;

    set_program_name(argv[0]);
    /* Errors are reported by bulkhead-ctl itself; library warnings (a
     * slow poll interval, a transaction error it reports anyway) would
     * only add noise. */
    vlog_set_levels(NULL, VLF_CONSOLE, VLL_ERR);
    int first = parse_options(argc, argv);
    if (first >= argc) {
        ovs_fatal(0, "missing command name (try --help)");
    }

    memset(&ctx, 0, sizeof ctx);
    ctx.cmd = find_command(argv[first]);
    if (!ctx.cmd) {
        ovs_fatal(0, "unknown command \"%s\" (try --help)", argv[first]);
    }
    ctx.argc = argc - first;
    ctx.argv = &argv[first];
    take_command_options(&ctx);
    if (ctx.argc - 1 < ctx.cmd->min_args
        || ctx.argc - 1 > ctx.cmd->max_args) {
        ctl_fatal(&ctx, "wrong number of arguments; usage: %s %s",
                  ctx.cmd->name, ctx.cmd->args);
    }
    if (dry_run && ctx.cmd->kind != CMD_EDIT
        && strcmp(ctx.cmd->name, "load")
        && strcmp(ctx.cmd->name, "port-set-requested-chassis")
        && strcmp(ctx.cmd->name, "mirror-add")
        && strcmp(ctx.cmd->name, "mirror-del")) {
        ctl_fatal(&ctx, "--dry-run applies only to commands that change "
                  "the database");
    }

    if (timeout) {
        deadline = time_msec() + timeout * 1000LL;
    }
    if (ctx.cmd->kind != CMD_OFFLINE) {
        unsigned int monitor = ctx.cmd->monitor;
        if (!strcmp(ctx.cmd->name, "show") && opt(&ctx, "stats")) {
            monitor |= MON_STATS;
        }
        if (ctx.cmd->kind == CMD_EDIT || !strcmp(ctx.cmd->name, "load")) {
            /* Their ports' iface-ids are checked against mirrors'. */
            monitor |= MON_MIRROR;
        }
        ctx.idl = connect_db(monitor);
    }
    if (ctx.cmd->kind == CMD_EDIT) {
        run_edit(&ctx);
    } else {
        ctx.cmd->run(&ctx);
    }

    ovsdb_idl_destroy(ctx.idl);
    smap_destroy(&ctx.options);
    free(db);
    /* "export > backup.json" on a full disk must not succeed. */
    if (fflush(stdout) || ferror(stdout)) {
        ovs_fatal(0, "%s: could not write the standard output",
                  ctx.cmd->name);
    }
    return 0;
}
