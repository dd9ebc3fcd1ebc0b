/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#include <config.h>
#include "controller/tdb-monitor.h"

#include <stdlib.h>
#include <string.h>
#include "coverage.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovsdb-data.h"
#include "ovsdb-idl.h"
#include "ovsdb-idl-provider.h"
#include "schema/bulkhead-idl.h"
#include "svec.h"
#include "timeval.h"
#include "unixctl.h"
#include "util.h"
#include "uuidset.h"

VLOG_DEFINE_THIS_MODULE(tdb_monitor);

COVERAGE_DEFINE(tdb_monitor_cond_change);
COVERAGE_DEFINE(tdb_monitor_compute);

/* The tables the monitor sets a condition on, in the order it shows
 * them. */
enum tdbm_table {
    TDBM_TENANT,
    TDBM_NETWORK,
    TDBM_PORT,
    TDBM_GROUP,
    TDBM_RULE,
    TDBM_CHASSIS,
    TDBM_N_TABLES
};

/* The kinds of clauses of the Port condition, counted for
 * "tdb/monitor-status". */
enum tdbm_port_kind {
    PK_IFACE_ID,                /* iface_id == a local vNIC's iface-id. */
    PK_CHASSIS,                 /* chassis == this chassis. */
    PK_REQUESTED,               /* requested_chassis == this chassis. */
    PK_NETWORK,                 /* network == a local network. */
    PK_MEMBER,                  /* security_groups includes a remote
                                 * group. */
    PK_MIRROR,                  /* _uuid == a Mirror's source Port. */
    PK_N_KINDS
};

/* A group, and how many Ports whose groups count are in it. */
struct group_count {
    struct hmap_node node;      /* In 'group_counts', by 'group'. */
    struct uuid group;          /* The Security_Group. */
    size_t n;                   /* Ports in it. */
};

/* A Port whose groups count, and its groups as last seen. */
struct counted_port {
    struct hmap_node node;      /* In 'counted_ports', by 'port'. */
    struct uuid port;           /* The Port. */
    struct uuid *groups;        /* Its groups. */
    size_t n_groups;            /* Their number. */
};

/* One table's condition, as last computed and sent. */
struct tdbm_table_cond {
    const struct ovsdb_idl_table_class *tc;  /* The table. */
    struct ovsdb_idl_condition cond;  /* The condition last sent. */
    char *text;                 /* Its canonical text (sorted clauses), to
                                 * tell a change, or NULL before the first
                                 * computation. */
    size_t n_clauses;           /* Its number of clauses (0 if true). */
    bool all;                   /* It is true: every row. */
};

/* The monitor. */
struct tdb_monitor {
    struct ovsdb_idl *idl;      /* The Tenant DB IDL. */
    struct tdbm_table_cond tables[TDBM_N_TABLES];  /* The conditions. */
    size_t port_kinds[PK_N_KINDS];  /* Port clauses, by kind. */

    /* The inputs of the last computation. */
    char *system_id;            /* This chassis's name, or NULL. */
    struct sset iface_ids;      /* The local vNICs' iface-ids. */
    uint64_t iface_ids_gen;     /* Their generation (see the input's). */
    bool ifaces_changed;        /* They changed since the Port condition
                                 * was last made. */
    bool self_in_chassis;       /* This chassis's row is in the Chassis
                                 * condition by UUID (a Port names it). */
    struct uuidset local_nets;  /* The local networks, as last computed. */
    struct hmap group_counts;   /* struct group_count: how many Ports whose
                                 * groups count (local ones, their
                                 * networks', held or requested) are in
                                 * each group. */
    struct hmap counted_ports;  /* struct counted_port: those Ports' groups
                                 * (a membership change is told from
                                 * these). */
    bool monitor_all;           /* Every row of every table. */
    bool no_requested;          /* The Tenant DB's schema is older than
                                 * Port.requested_chassis: no condition
                                 * names it. */
    unsigned int idl_seqno;     /* The IDL's change seqno then. */
    bool computed;              /* Computed at least once. */

    /* Progress. */
    unsigned int expected_seqno;  /* The IDL's condition seqno once every
                                   * condition sent was acknowledged. */
    bool pending;               /* The last computation changed a
                                 * condition: its reply is awaited. */
    long long int resend_at;    /* While pending, when to hand the IDL the
                                 * conditions again (msec). */
    unsigned long long int n_changes;  /* Condition changes sent. */
    unsigned long long int n_updates;  /* Changes of the IDL's contents
                                        * seen (updates received). */
    unsigned int seen_seqno;    /* The IDL's change seqno last seen. */
};

/* A column that every table has but no IDL class lists: the row's UUID,
 * for conditions on the rows of a non-root table (Rule) or on rows known
 * only by UUID. */
static const struct ovsdb_idl_column uuid_column = {
    .name = (char *) "_uuid",
    .type = OVSDB_TYPE_SCALAR_INITIALIZER(OVSDB_BASE_UUID_INIT),
};

/* Names of the tables, for "tdb/monitor-status". */
static const char *const table_names[TDBM_N_TABLES] = {
    "Tenant", "Network", "Port", "Security_Group", "Rule", "Chassis",
};

/* Names of the kinds of Port clauses, for "tdb/monitor-status". */
static const char *const port_kind_names[PK_N_KINDS] = {
    "iface_id", "chassis", "requested_chassis", "network", "member of",
    "mirror source",
};

/* A condition being computed: the clauses and their text. */
struct tdbm_builder {
    struct ovsdb_idl_condition cond;  /* The clauses. */
    struct svec text;           /* One line per clause, to compare. */
    bool all;                   /* True: every row. */
};

static void add_anchors(struct tdbm_builder *, enum tdbm_table,
                        bool requested);
static void clear_memberships(struct tdb_monitor *);
static bool check_schema(struct tdb_monitor *);

/* Creates a monitor of Tenant DB IDL 'tdb', whose tables' conditions it
 * sets at once so that a first connection asks for nothing but what every
 * host needs (Tenant, Network and, once the system-id is known, this
 * chassis), before tdb_monitor_run() knows more. */
struct tdb_monitor *
tdb_monitor_create(struct ovsdb_idl *tdb)
{
    static const struct ovsdb_idl_table_class *const classes[] = {
        [TDBM_TENANT] = &bhrec_table_tenant,
        [TDBM_NETWORK] = &bhrec_table_network,
        [TDBM_PORT] = &bhrec_table_port,
        [TDBM_GROUP] = &bhrec_table_security_group,
        [TDBM_RULE] = &bhrec_table_rule,
        [TDBM_CHASSIS] = &bhrec_table_chassis,
    };
    struct tdb_monitor *m = xzalloc(sizeof *m);

    m->idl = tdb;
    sset_init(&m->iface_ids);
    uuidset_init(&m->local_nets);
    hmap_init(&m->group_counts);
    hmap_init(&m->counted_ports);
    for (size_t i = 0; i < TDBM_N_TABLES; i++) {
        struct tdbm_table_cond *t = &m->tables[i];
        t->tc = classes[i];
        ovsdb_idl_condition_init(&t->cond);
        if (i == TDBM_TENANT || i == TDBM_NETWORK) {
            ovsdb_idl_condition_add_clause_true(&t->cond);
            t->all = true;
        } else {
            struct tdbm_builder b;
            ovsdb_idl_condition_init(&b.cond);
            svec_init(&b.text);
            add_anchors(&b, i, true);
            ovsdb_idl_condition_destroy(&t->cond);
            t->cond = b.cond;
            hmap_moved(&t->cond.clauses);
            svec_destroy(&b.text);
        }
        m->expected_seqno = MAX(m->expected_seqno,
                                ovsdb_idl_set_condition(tdb, t->tc,
                                                        &t->cond));
    }
    m->pending = true;
    return m;
}

/* Frees 'm'. */
void
tdb_monitor_destroy(struct tdb_monitor *m)
{
    if (m) {
        for (size_t i = 0; i < TDBM_N_TABLES; i++) {
            ovsdb_idl_condition_destroy(&m->tables[i].cond);
            free(m->tables[i].text);
        }
        sset_destroy(&m->iface_ids);
        uuidset_destroy(&m->local_nets);
        clear_memberships(m);
        hmap_destroy(&m->group_counts);
        hmap_destroy(&m->counted_ports);
        free(m->system_id);
        free(m);
    }
}


/* Adds to 'b' the clause "COLUMN FUNCTION UUID" ('column' is a UUID or a
 * set of UUIDs). */
static void
add_uuid_clause(struct tdbm_builder *b, const struct ovsdb_idl_column *column,
                enum ovsdb_function function, const struct uuid *uuid)
{
    /* The clause shares the datum's keys (ovsdb_datum_clone() counts
     * references), so they live on the heap. */
    struct ovsdb_datum datum = {
        .n = 1,
        .keys = xmalloc(sizeof *datum.keys),
        .values = NULL,
        .refcnt = NULL,
    };

    datum.keys[0].uuid = *uuid;
    ovsdb_idl_condition_add_clause(&b->cond, function, column, &datum);
    ovsdb_datum_destroy(&datum, &column->type);
    svec_add_nocopy(&b->text, xasprintf("%s %s "UUID_FMT, column->name,
                                        ovsdb_function_to_string(function),
                                        UUID_ARGS(uuid)));
}

/* Notes in 'b' the text of clause "COLUMN == STRING", which the caller
 * adds through the IDL's generated function for that column. */
static void
note_string_clause(struct tdbm_builder *b, const char *column, const char *s)
{
    svec_add_nocopy(&b->text, xasprintf("%s == %s", column, s));
}

/* Adds a clause "_uuid == UUID" to 'b' for every UUID in 'set'. */
static void
add_uuid_set(struct tdbm_builder *b, const struct uuidset *set)
{
    const struct uuidset_node *node;

    UUIDSET_FOR_EACH (node, set) {
        add_uuid_clause(b, &uuid_column, OVSDB_F_EQ, &node->uuid);
    }
}

/* A string no iface-id or chassis name is expected to be. */
#define ANCHOR_STRING "bulkhead:no-such-row"

/* Adds to 'cond', the condition of table 'table', one clause that matches
 * no row for each column that the table's conditions can ever name
 * (Port.requested_chassis only if 'requested').
 *
 * Why: ovsdb-server (3.1 at least) adds a column that a condition names
 * but the monitor does not carry to the monitor, which other sessions with
 * the same columns share, when the condition arrives; the rows of changes
 * recorded before that have one column less, and composing an update from
 * them reads past their end (a crash seen here under a fleet of hosts
 * changing their conditions).  With every such column named from the first
 * condition on, the monitor has them all from its creation, and no later
 * condition adds one. */
static void
add_anchors(struct tdbm_builder *b, enum tdbm_table table, bool requested)
{
    size_t n_text = b->text.n;

    switch (table) {
    case TDBM_PORT:
        add_uuid_clause(b, &uuid_column, OVSDB_F_EQ, &UUID_ZERO);
        bhrec_port_add_clause_iface_id(&b->cond, OVSDB_F_EQ, ANCHOR_STRING);
        if (requested) {
            bhrec_port_add_clause_requested_chassis(&b->cond, OVSDB_F_EQ,
                                                    ANCHOR_STRING);
        }
        add_uuid_clause(b, &bhrec_port_col_chassis, OVSDB_F_EQ, &UUID_ZERO);
        add_uuid_clause(b, &bhrec_port_col_network, OVSDB_F_EQ, &UUID_ZERO);
        add_uuid_clause(b, &bhrec_port_col_security_groups, OVSDB_F_EQ,
                        &UUID_ZERO);
        break;
    case TDBM_CHASSIS:
        bhrec_chassis_add_clause_name(&b->cond, OVSDB_F_EQ, ANCHOR_STRING);
        add_uuid_clause(b, &uuid_column, OVSDB_F_EQ, &UUID_ZERO);
        break;
    case TDBM_GROUP:
    case TDBM_RULE:
        add_uuid_clause(b, &uuid_column, OVSDB_F_EQ, &UUID_ZERO);
        break;
    case TDBM_TENANT:
    case TDBM_NETWORK:
    case TDBM_N_TABLES:
    default:
        break;
    }
    /* They match nothing: "tdb/monitor-status" does not list them. */
    while (b->text.n > n_text) {
        free(b->text.names[--b->text.n]);
    }
}

/* Adds the UUIDs of datum 'd' to 'set'. */
static void
add_datum_uuids(struct uuidset *set, const struct ovsdb_datum *d)
{
    for (size_t i = 0; d && i < d->n; i++) {
        uuidset_insert(set, &d->keys[i].uuid);
    }
}

/* Returns true if datum 'd' has one UUID, equal to 'uuid'. */
static bool
datum_is_uuid(const struct ovsdb_datum *d, const struct uuid *uuid)
{
    return d && d->n == 1 && uuid_equals(&d->keys[0].uuid, uuid);
}

/* Returns true if 'row' (from a *_get_for_uuid() lookup) was received:
 * the IDL also keeps an empty placeholder for a row that another one
 * refers to but that the conditions leave out. */
static bool
received(const struct ovsdb_idl_row *row)
{
    return row && row->new_datum;
}

/* Returns this chassis's row among those received, or NULL. */
static const struct bhrec_chassis *
find_self(struct ovsdb_idl *idl, const char *system_id)
{
    const struct bhrec_chassis *ch;

    if (system_id) {
        BHREC_CHASSIS_FOR_EACH (ch, idl) {
            if (!strcmp(ch->name, system_id)) {
                return ch;
            }
        }
    }
    return NULL;
}

/* Returns true if the groups of Port 'port' count for the conditions:
 * it is a local vNIC's, on a local network ('m->local_nets'), held by
 * this chassis 'self' (may be NULL) or requested for it. */
static bool
groups_count(const struct tdb_monitor *m, const struct bhrec_port *port,
             const struct bhrec_chassis *self)
{
    const struct ovsdb_datum *net = bhrec_port_get_network(port,
                                                           OVSDB_TYPE_UUID);
    const struct ovsdb_datum *holder = bhrec_port_get_chassis(
        port, OVSDB_TYPE_UUID);

    return (sset_contains(&m->iface_ids, port->iface_id)
            || (net && net->n
                && uuidset_find(&m->local_nets, &net->keys[0].uuid))
            || (self && datum_is_uuid(holder, &self->header_.uuid))
            || (m->system_id && port->requested_chassis
                && !strcmp(port->requested_chassis, m->system_id)));
}

/* Returns the count of 'group' in 'm', created at 0 if 'create'. */
static struct group_count *
find_group_count(struct tdb_monitor *m, const struct uuid *group,
                 bool create)
{
    struct group_count *gc;

    HMAP_FOR_EACH_WITH_HASH (gc, node, uuid_hash(group), &m->group_counts) {
        if (uuid_equals(&gc->group, group)) {
            return gc;
        }
    }
    if (create) {
        gc = xzalloc(sizeof *gc);
        gc->group = *group;
        hmap_insert(&m->group_counts, &gc->node, uuid_hash(group));
    }
    return gc;
}

/* Returns the counted Port 'port' of 'm', or NULL. */
static struct counted_port *
find_counted_port(const struct tdb_monitor *m, const struct uuid *port)
{
    struct counted_port *cp;

    HMAP_FOR_EACH_WITH_HASH (cp, node, uuid_hash(port), &m->counted_ports) {
        if (uuid_equals(&cp->port, port)) {
            return cp;
        }
    }
    return NULL;
}

/* Counts Port 'port', in the groups 'sg', among those whose groups
 * count. */
static void
count_port(struct tdb_monitor *m, const struct uuid *port,
           const struct ovsdb_datum *sg)
{
    struct counted_port *cp = xmalloc(sizeof *cp);

    cp->port = *port;
    cp->n_groups = sg->n;
    cp->groups = xmalloc(sg->n * sizeof *cp->groups);
    for (size_t i = 0; i < sg->n; i++) {
        cp->groups[i] = sg->keys[i].uuid;
        find_group_count(m, &sg->keys[i].uuid, true)->n++;
    }
    hmap_insert(&m->counted_ports, &cp->node, uuid_hash(port));
}

/* Forgets every counted Port and group count of 'm'. */
static void
clear_memberships(struct tdb_monitor *m)
{
    struct counted_port *cp;
    struct group_count *gc;

    HMAP_FOR_EACH_POP (cp, node, &m->counted_ports) {
        free(cp->groups);
        free(cp);
    }
    HMAP_FOR_EACH_POP (gc, node, &m->group_counts) {
        free(gc);
    }
}

/* Returns true if 'uuid' is one of the 'n' of 'uuids'. */
static bool
uuid_in(const struct uuid *uuid, const struct uuid *uuids, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (uuid_equals(uuid, &uuids[i])) {
            return true;
        }
    }
    return false;
}

/* Returns true if 'uuid' is a key of datum 'd' (a set of UUIDs). */
static bool
uuid_in_datum(const struct uuid *uuid, const struct ovsdb_datum *d)
{
    union ovsdb_atom atom = { .uuid = *uuid };

    return ovsdb_datum_find_key(d, &atom, OVSDB_TYPE_UUID, NULL);
}

/* Computes every table's condition into 'b' from the inputs in 'm' and
 * from what the IDL holds.  References are read as the rows received name
 * them (raw UUIDs), whether or not the rows they name were received: that
 * is what takes the fixpoint one step further. */
static void
compute(struct tdb_monitor *m, struct tdbm_builder b[TDBM_N_TABLES])
{
    struct ovsdb_idl *idl = m->idl;
    struct uuidset groups = UUIDSET_INITIALIZER(&groups);
    struct uuidset remote = UUIDSET_INITIALIZER(&remote);
    struct uuidset rules = UUIDSET_INITIALIZER(&rules);
    struct uuidset chassis = UUIDSET_INITIALIZER(&chassis);
    const struct bhrec_port *port;
    const struct uuidset_node *node;

    COVERAGE_INC(tdb_monitor_compute);
    memset(m->port_kinds, 0, sizeof m->port_kinds);
    clear_memberships(m);
    b[TDBM_TENANT].all = b[TDBM_NETWORK].all = true;
    if (m->monitor_all) {
        for (size_t i = 0; i < TDBM_N_TABLES; i++) {
            b[i].all = true;
        }
        return;
    }

    /* Ports: of local vNICs, held by or requested for this chassis. */
    const struct bhrec_chassis *self = find_self(idl, m->system_id);
    /* The local vNICs' clauses, the bulk of the condition, are added by
     * tdb_monitor_run() only when the condition is sent: compute() runs
     * at every relevant change, and costs no more than what changed. */
    m->port_kinds[PK_IFACE_ID] = sset_count(&m->iface_ids);
    if (m->system_id) {
        bhrec_chassis_add_clause_name(&b[TDBM_CHASSIS].cond, OVSDB_F_EQ,
                                      m->system_id);
        note_string_clause(&b[TDBM_CHASSIS], "name", m->system_id);
        if (!m->no_requested) {
            bhrec_port_add_clause_requested_chassis(&b[TDBM_PORT].cond,
                                                    OVSDB_F_EQ,
                                                    m->system_id);
            note_string_clause(&b[TDBM_PORT], "requested_chassis",
                               m->system_id);
            m->port_kinds[PK_REQUESTED]++;
        }
    }
    if (self) {
        add_uuid_clause(&b[TDBM_PORT], &bhrec_port_col_chassis, OVSDB_F_EQ,
                        &self->header_.uuid);
        m->port_kinds[PK_CHASSIS]++;
    }

    /* The Ports that Mirrors copy (Mirror is monitored whole: few rows),
     * so that a host names a mirror's source even when its VM runs
     * elsewhere, and installs it the moment the VM arrives. */
    const struct bhrec_mirror *mirror;
    BHREC_MIRROR_FOR_EACH (mirror, idl) {
        const struct ovsdb_datum *d
            = bhrec_mirror_get_source_port(mirror, OVSDB_TYPE_UUID);
        for (size_t i = 0; d && i < d->n; i++) {
            add_uuid_clause(&b[TDBM_PORT], &uuid_column, OVSDB_F_EQ,
                            &d->keys[i].uuid);
            m->port_kinds[PK_MIRROR]++;
        }
    }

    /* Their networks, the local ones: every Port of those. */
    uuidset_clear(&m->local_nets);
    BHREC_PORT_FOR_EACH (port, idl) {
        if (sset_contains(&m->iface_ids, port->iface_id)) {
            add_datum_uuids(&m->local_nets,
                            bhrec_port_get_network(port, OVSDB_TYPE_UUID));
        }
    }
    UUIDSET_FOR_EACH (node, &m->local_nets) {
        add_uuid_clause(&b[TDBM_PORT], &bhrec_port_col_network, OVSDB_F_EQ,
                        &node->uuid);
        m->port_kinds[PK_NETWORK]++;
    }

    /* The groups of those Ports, and the chassis of every Port. */
    BHREC_PORT_FOR_EACH (port, idl) {
        add_datum_uuids(&chassis,
                        bhrec_port_get_chassis(port, OVSDB_TYPE_UUID));
        if (groups_count(m, port, self)) {
            const struct ovsdb_datum *sg = bhrec_port_get_security_groups(
                port, OVSDB_TYPE_UUID);
            add_datum_uuids(&groups, sg);
            count_port(m, &port->header_.uuid, sg);
        }
    }

    /* Their rules, and the remote groups those name. */
    UUIDSET_FOR_EACH (node, &groups) {
        const struct bhrec_security_group *g
            = bhrec_security_group_get_for_uuid(idl, &node->uuid);
        if (!g || !received(&g->header_)) {
            continue;
        }
        const struct ovsdb_datum *d
            = bhrec_security_group_get_rules(g, OVSDB_TYPE_UUID);
        for (size_t i = 0; i < d->n; i++) {
            const struct uuid *r = &d->keys[i].uuid;
            uuidset_insert(&rules, r);
            const struct bhrec_rule *rule = bhrec_rule_get_for_uuid(idl, r);
            if (rule && received(&rule->header_)) {
                add_datum_uuids(&remote, bhrec_rule_get_remote_group(
                                    rule, OVSDB_TYPE_UUID));
            }
        }
    }

    /* A remote group means every member, wherever it lives. */
    UUIDSET_FOR_EACH (node, &remote) {
        add_uuid_clause(&b[TDBM_PORT], &bhrec_port_col_security_groups,
                        OVSDB_F_INCLUDES, &node->uuid);
        m->port_kinds[PK_MEMBER]++;
        uuidset_insert(&groups, &node->uuid);
    }
    add_uuid_set(&b[TDBM_GROUP], &groups);
    add_uuid_set(&b[TDBM_RULE], &rules);
    add_uuid_set(&b[TDBM_CHASSIS], &chassis);
    m->self_in_chassis = self && uuidset_find(&chassis, &self->header_.uuid);

    uuidset_destroy(&groups);
    uuidset_destroy(&remote);
    uuidset_destroy(&rules);
    uuidset_destroy(&chassis);
}

/* Returns true if tracked Port 'port' kept its 'iface_id', 'network' and
 * 'requested_chassis': of the columns compute() reads, at most its
 * 'chassis' and 'security_groups' changed. */
static bool
placement_unchanged(const struct bhrec_port *port)
{
    return (!bhrec_port_is_updated(port, BHREC_PORT_COL_IFACE_ID)
            && !bhrec_port_is_updated(port, BHREC_PORT_COL_NETWORK)
            && !bhrec_port_is_updated(port,
                                      BHREC_PORT_COL_REQUESTED_CHASSIS));
}

/* Returns true if tracked Port 'port' changed only in its 'chassis', now
 * 'self', and is a local vNIC's: this host's own claim coming back, which
 * the conditions already hold (by the vNIC's iface-id, and 'self' by name
 * and, since another Port names it, by UUID).  The chassis it may have
 * come from stays in the Chassis condition until the next computation: a
 * row too many, never one too few. */
static bool
is_own_claim(const struct tdb_monitor *m, const struct bhrec_port *port,
             const struct bhrec_chassis *self)
{
    return (self && port->chassis == self && m->self_in_chassis
            && sset_contains(&m->iface_ids, port->iface_id)
            && placement_unchanged(port)
            && !bhrec_port_is_updated(port,
                                      BHREC_PORT_COL_SECURITY_GROUPS));
}

/* Returns true if tracked Port 'port', whose 'security_groups' changed
 * but not its placement (placement_unchanged()), leaves the conditions as
 * they are, and then takes the change into the group counts: its groups
 * count for nothing (it is no local vNIC's, on no local network, neither
 * held by nor requested for this chassis: a member of a remote group,
 * which the server's own condition follows), or it joins only groups that
 * counted Ports are in already and leaves only groups that other counted
 * Ports are still in. */
static bool
absorb_membership(struct tdb_monitor *m, const struct bhrec_port *port,
                  const struct bhrec_chassis *self)
{
    bool counts = groups_count(m, port, self);
    struct counted_port *cp = find_counted_port(m, &port->header_.uuid);
    if (!counts || !cp) {
        return !counts && !cp;
    }

    const struct ovsdb_datum *sg = bhrec_port_get_security_groups(
        port, OVSDB_TYPE_UUID);
    for (size_t i = 0; i < sg->n; i++) {
        const struct uuid *g = &sg->keys[i].uuid;
        const struct group_count *gc = find_group_count(m, g, false);
        if (!uuid_in(g, cp->groups, cp->n_groups) && (!gc || !gc->n)) {
            return false;
        }
    }
    for (size_t i = 0; i < cp->n_groups; i++) {
        const struct uuid *g = &cp->groups[i];
        const struct group_count *gc = find_group_count(m, g, false);
        if (!uuid_in_datum(g, sg) && (!gc || gc->n <= 1)) {
            return false;
        }
    }

    /* Counted again from its new groups. */
    for (size_t i = 0; i < cp->n_groups; i++) {
        find_group_count(m, &cp->groups[i], false)->n--;
    }
    hmap_remove(&m->counted_ports, &cp->node);
    free(cp->groups);
    free(cp);
    count_port(m, &port->header_.uuid, sg);
    return true;
}

/* Returns true if a change that 'm''s IDL tracked may change a condition:
 * any of a Security_Group, Rule, Mirror or Chassis (few rows, rarely
 * changed), a Port that came or went, or a Port column compute() reads
 * (but for this host's own claims).  Others (a Port's 'up' or
 * 'statistics', a Network, a Tenant) cannot. */
static bool
tracked_changes_matter(struct tdb_monitor *m)
{
    struct ovsdb_idl *idl = m->idl;

    if (bhrec_security_group_track_get_first(idl)
        || bhrec_rule_track_get_first(idl)
        || bhrec_mirror_track_get_first(idl)
        || bhrec_chassis_track_get_first(idl)) {
        return true;
    }

    static const enum bhrec_port_column_id read[] = {
        BHREC_PORT_COL_IFACE_ID, BHREC_PORT_COL_NETWORK,
        BHREC_PORT_COL_CHASSIS, BHREC_PORT_COL_REQUESTED_CHASSIS,
        BHREC_PORT_COL_SECURITY_GROUPS,
    };
    const struct bhrec_chassis *self = NULL;
    bool self_found = false;
    const struct bhrec_port *port;
    BHREC_PORT_FOR_EACH_TRACKED (port, idl) {
        if (bhrec_port_is_new(port) || bhrec_port_is_deleted(port)) {
            return true;
        }
        for (size_t i = 0; i < ARRAY_SIZE(read); i++) {
            if (!bhrec_port_is_updated(port, read[i])) {
                continue;
            }
            if (!self_found) {
                self = find_self(idl, m->system_id);
                self_found = true;
            }
            if (read[i] == BHREC_PORT_COL_CHASSIS
                && is_own_claim(m, port, self)) {
                continue;
            }
            if (read[i] == BHREC_PORT_COL_SECURITY_GROUPS
                && placement_unchanged(port)
                && absorb_membership(m, port, self)) {
                continue;
            }
            return true;
        }
    }
    return false;
}

/* Returns true if every Port with iface-id 'id' that the IDL holds is
 * counted already and on a local network: a vNIC plugged for it changes
 * no condition but by its own iface-id clause. */
static bool
port_is_covered(const struct tdb_monitor *m, struct ovsdb_idl_index *index,
                const char *id)
{
    struct bhrec_port *key = bhrec_port_index_init_row(index);
    const struct bhrec_port *port;
    bool covered = true;

    bhrec_port_set_iface_id(key, id);
    BHREC_PORT_FOR_EACH_EQUAL (port, key, index) {
        const struct ovsdb_datum *net = bhrec_port_get_network(
            port, OVSDB_TYPE_UUID);
        if (!net || !net->n
            || !uuidset_find(&m->local_nets, &net->keys[0].uuid)
            || !find_counted_port(m, &port->header_.uuid)) {
            covered = false;
            break;
        }
    }
    bhrec_port_index_destroy_row(key);
    return covered;
}

/* Tries to take the local vNICs' new iface-ids 'iface_ids' without
 * computing the conditions again: possible when iface-ids were only added
 * and each one's Port, if the IDL holds it, is on a local network and
 * counted already (the usual hypervisor hook: a VM plugged on a network
 * that has others here).  Then only the Port condition grows, by their
 * clauses.  Returns true if it did; false, changing nothing, otherwise. */
static bool
add_iface_ids(struct tdb_monitor *m, const struct tdb_monitor_input *in)
{
    struct tdbm_table_cond *t = &m->tables[TDBM_PORT];
    struct svec added = SVEC_EMPTY_INITIALIZER;
    const char *id;

    if (!in->port_by_iface_id || !m->computed || m->monitor_all || t->all
        || m->ifaces_changed || !t->text) {
        return false;
    }
    SSET_FOR_EACH (id, in->iface_ids) {
        if (!sset_contains(&m->iface_ids, id)) {
            if (!port_is_covered(m, in->port_by_iface_id, id)) {
                svec_destroy(&added);
                return false;
            }
            svec_add(&added, id);
        }
    }
    if (sset_count(in->iface_ids) != sset_count(&m->iface_ids) + added.n) {
        /* Some went too: their networks may go. */
        svec_destroy(&added);
        return false;
    }
    for (size_t i = 0; i < added.n; i++) {
        bhrec_port_add_clause_iface_id(&t->cond, OVSDB_F_EQ,
                                       added.names[i]);
        sset_add(&m->iface_ids, added.names[i]);
    }
    t->n_clauses += added.n;
    m->port_kinds[PK_IFACE_ID] += added.n;
    svec_destroy(&added);
    return true;
}

/* Returns true if 'iface_ids' holds the same names as 'm''s. */
static bool
same_ifaces(const struct tdb_monitor *m, const struct sset *iface_ids)
{
    return sset_equals(&m->iface_ids, iface_ids);
}

/* While a condition change is awaited, how often the conditions are handed
 * to the IDL again (msec). */
#define TDBM_RESEND_MS 200

/* Recomputes the conditions if the inputs in 'in' or the Tenant DB
 * changed since the last computation, and sends those that changed (one
 * coverage count per change).  While a change is awaited, the conditions
 * are handed to the IDL again every TDBM_RESEND_MS (unchanged, the IDL
 * sends nothing) to learn the condition seqno they will be up to date at,
 * which a reconnection may have moved; not at every turn, since each time
 * costs a conversion of every clause to JSON. */
void
tdb_monitor_run(struct tdb_monitor *m, const struct tdb_monitor_input *in)
{
    bool reconnect = check_schema(m);
    unsigned int idl_seqno = ovsdb_idl_get_seqno(m->idl);
    bool config_changed = (!nullable_string_is_equal(m->system_id,
                                                     in->system_id)
                           || m->monitor_all != in->monitor_all);
    bool new_ifaces = ((!in->iface_ids_gen
                        || in->iface_ids_gen != m->iface_ids_gen)
                       && !same_ifaces(m, in->iface_ids));
    bool inputs_changed = config_changed || new_ifaces;

    if (idl_seqno != m->seen_seqno) {
        m->seen_seqno = idl_seqno;
        m->n_updates++;
    }
    if (idl_seqno != m->idl_seqno && m->computed && in->tracked
        && !tracked_changes_matter(m)) {
        m->idl_seqno = idl_seqno;
    }
    bool sent = false;
    if (new_ifaces && !config_changed && idl_seqno == m->idl_seqno
        && add_iface_ids(m, in)) {
        COVERAGE_INC(tdb_monitor_cond_change);
        m->n_changes++;
        m->pending = sent = true;
        inputs_changed = false;
    }
    if (inputs_changed) {
        m->ifaces_changed = true;
        free(m->system_id);
        m->system_id = nullable_xstrdup(in->system_id);
        m->monitor_all = in->monitor_all;
        sset_destroy(&m->iface_ids);
        sset_clone(&m->iface_ids, in->iface_ids);
    }
    m->iface_ids_gen = in->iface_ids_gen;
    if (inputs_changed || idl_seqno != m->idl_seqno || !m->computed) {
        struct tdbm_builder b[TDBM_N_TABLES];
        bool changed = false;

        for (size_t i = 0; i < TDBM_N_TABLES; i++) {
            ovsdb_idl_condition_init(&b[i].cond);
            svec_init(&b[i].text);
            b[i].all = false;
        }
        compute(m, b);
        for (size_t i = 0; i < TDBM_N_TABLES; i++) {
            struct tdbm_table_cond *t = &m->tables[i];
            if (b[i].all && (i == TDBM_TENANT || i == TDBM_NETWORK)) {
                ovsdb_idl_condition_add_clause_true(&b[i].cond);
            } else if (b[i].all) {
                /* Every row, with the columns of add_anchors() still
                 * named: "_uuid != 0" is true of every row. */
                add_anchors(&b[i], i, !m->no_requested);
                add_uuid_clause(&b[i], &uuid_column, OVSDB_F_NE,
                                &UUID_ZERO);
            } else {
                add_anchors(&b[i], i, !m->no_requested);
            }
            if (b[i].all) {
                svec_clear(&b[i].text);
                svec_add(&b[i].text, "true");
            }
            svec_sort(&b[i].text);
            char *text = svec_join(&b[i].text, "\n", "");
            bool ifaces = i == TDBM_PORT && !b[i].all;
            if (!t->text || strcmp(text, t->text)
                || (ifaces && m->ifaces_changed)) {
                changed = true;
                size_t n = b[i].text.n;
                if (ifaces) {
                    const char *id;
                    SSET_FOR_EACH (id, &m->iface_ids) {
                        bhrec_port_add_clause_iface_id(&b[i].cond,
                                                       OVSDB_F_EQ, id);
                    }
                    n += sset_count(&m->iface_ids);
                }
                ovsdb_idl_condition_destroy(&t->cond);
                t->cond = b[i].cond;
                hmap_moved(&t->cond.clauses);
                free(t->text);
                t->text = text;
                t->all = b[i].all;
                t->n_clauses = b[i].all ? 0 : n;
            } else {
                ovsdb_idl_condition_destroy(&b[i].cond);
                free(text);
            }
            svec_destroy(&b[i].text);
        }
        m->computed = true;
        m->ifaces_changed = false;
        m->idl_seqno = idl_seqno;
        sent = changed;
        if (changed) {
            COVERAGE_INC(tdb_monitor_cond_change);
            m->n_changes++;
            m->pending = true;
            VLOG_DBG("condition change %llu: %"PRIuSIZE" Port clauses, "
                     "%"PRIuSIZE" groups, %"PRIuSIZE" rules, %"PRIuSIZE
                     " chassis", m->n_changes,
                     m->tables[TDBM_PORT].n_clauses,
                     m->tables[TDBM_GROUP].n_clauses,
                     m->tables[TDBM_RULE].n_clauses,
                     m->tables[TDBM_CHASSIS].n_clauses);
        }
    }

    if (m->pending && (sent || time_msec() >= m->resend_at)) {
        unsigned int expected = 0;
        for (size_t i = 0; i < TDBM_N_TABLES; i++) {
            unsigned int x = ovsdb_idl_set_condition(m->idl,
                                                     m->tables[i].tc,
                                                     &m->tables[i].cond);
            expected = MAX(expected, x);
        }
        m->expected_seqno = expected;
        m->resend_at = time_msec() + TDBM_RESEND_MS;
    }
    if (reconnect) {
        /* The server refused the conditions of the first request, and the
         * IDL fell back to monitoring every row without a condition, which
         * takes no condition change: the next connection asks with the
         * conditions just set. */
        ovsdb_idl_force_reconnect(m->idl);
    }
    if (m->pending) {
        m->pending = (ovsdb_idl_get_condition_seqno(m->idl)
                      != m->expected_seqno);
    }
}

/* Notes whether the Tenant DB's schema, as its server last announced it,
 * has Port.requested_chassis (schema 1.3.0 on): a condition that names a
 * column the server does not have is refused, and with it the whole
 * monitor request.  On a change, the conditions are computed anew.
 * Returns true if the connection must start again: the server lacks the
 * column and the conditions sent so far named it. */
static bool
check_schema(struct tdb_monitor *m)
{
    bool lacks = (ovsdb_idl_server_has_table(m->idl, &bhrec_table_port)
                  && !ovsdb_idl_server_has_column(
                      m->idl, &bhrec_port_col_requested_chassis));

    if (lacks == m->no_requested) {
        return false;
    }
    m->no_requested = lacks;
    m->computed = false;
    if (lacks) {
        VLOG_WARN("the Tenant DB's schema is older than this controller's "
                  "(it lacks Port.requested_chassis): until it is "
                  "upgraded to this release's bulkhead.ovsschema, every "
                  "column it lacks (the IDL's warnings name them) takes "
                  "its default");
    } else {
        VLOG_INFO("the Tenant DB's schema has Port.requested_chassis now");
    }
    return lacks;
}

/* Wakes the caller's loop when the conditions are due to be handed to the
 * IDL again (see tdb_monitor_run()). */
void
tdb_monitor_wait(const struct tdb_monitor *m)
{
    if (m->pending) {
        poll_timer_wait_until(m->resend_at);
    }
}

/* Returns true if the IDL holds what the conditions ask for and the
 * conditions are what it holds calls for: nothing is in flight.  False
 * until the first computation. */
bool
tdb_monitor_is_settled(const struct tdb_monitor *m)
{
    return (m->computed && !m->pending
            && ovsdb_idl_get_condition_seqno(m->idl) == m->expected_seqno);
}

/* Returns the number of condition changes sent so far. */
unsigned long long int
tdb_monitor_n_changes(const struct tdb_monitor *m)
{
    return m->n_changes;
}

/* Returns the number of rows of table 'tc' that 'idl' holds. */
size_t
tdb_monitor_count_rows(struct ovsdb_idl *idl,
                       const struct ovsdb_idl_table_class *tc)
{
    const struct ovsdb_idl_row *row;
    size_t n = 0;

    for (row = ovsdb_idl_first_row(idl, tc); row;
         row = ovsdb_idl_next_row(row)) {
        n++;
    }
    return n;
}

/* Describes 'm' in 's': its mode, whether it is settled, and per table
 * its condition and the rows received. */
void
tdb_monitor_format(const struct tdb_monitor *m, struct ds *s)
{
    ds_put_format(s, "mode: %s\n", (m->monitor_all
                                    ? "all (bulkhead-monitor-all)"
                                    : "conditional"));
    ds_put_format(s, "state: %s (condition seqno %u, expected %u)\n",
                  tdb_monitor_is_settled(m) ? "settled" : "changing",
                  ovsdb_idl_get_condition_seqno(m->idl), m->expected_seqno);
    ds_put_format(s, "condition changes: %llu\n", m->n_changes);
    ds_put_format(s, "updates received: %llu\n", m->n_updates);
    for (size_t i = 0; i < TDBM_N_TABLES; i++) {
        const struct tdbm_table_cond *t = &m->tables[i];
        ds_put_format(s, "%s: %"PRIuSIZE" rows, ", table_names[i],
                      tdb_monitor_count_rows(m->idl, t->tc));
        if (t->all) {
            ds_put_cstr(s, "all");
        } else {
            ds_put_format(s, "%"PRIuSIZE" clauses", t->n_clauses);
        }
        if (i == TDBM_PORT && !t->all) {
            ds_put_cstr(s, " (");
            for (size_t k = 0; k < PK_N_KINDS; k++) {
                ds_put_format(s, "%s%s %"PRIuSIZE, k ? ", " : "",
                              port_kind_names[k], m->port_kinds[k]);
            }
            ds_put_char(s, ')');
        }
        ds_put_char(s, '\n');
    }
}

/* "tdb/monitor-status [-v]": tdb_monitor_format(), and with -v every
 * clause. */
static void
cmd_status(struct unixctl_conn *conn, int argc, const char *argv[],
           void *m_)
{
    const struct tdb_monitor *m = m_;
    struct ds s = DS_EMPTY_INITIALIZER;

    if (argc > 1 && strcmp(argv[1], "-v")) {
        unixctl_command_reply_error(conn, "the only option is -v");
        return;
    }
    tdb_monitor_format(m, &s);
    if (argc > 1) {
        for (size_t i = 0; i < TDBM_N_TABLES; i++) {
            const struct tdbm_table_cond *t = &m->tables[i];
            struct svec lines = SVEC_EMPTY_INITIALIZER;
            ds_put_format(&s, "%s condition:\n", table_names[i]);
            if (t->text && *t->text) {
                char *copy = xstrdup(t->text);
                char *save = NULL;
                for (char *line = strtok_r(copy, "\n", &save); line;
                     line = strtok_r(NULL, "\n", &save)) {
                    svec_add(&lines, line);
                }
                free(copy);
            }
            if (i == TDBM_PORT && !t->all) {
                /* The local vNICs' clauses, kept apart from the text
                 * (tdb_monitor_run()). */
                const char *id;
                SSET_FOR_EACH (id, &m->iface_ids) {
                    svec_add_nocopy(&lines, xasprintf("iface_id == %s", id));
                }
            }
            svec_sort(&lines);
            for (size_t k = 0; k < lines.n; k++) {
                ds_put_format(&s, "    %s\n", lines.names[k]);
            }
            if (!lines.n) {
                ds_put_cstr(&s, "    false\n");
            }
            svec_destroy(&lines);
        }
    }
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

/* Registers "tdb/monitor-status", which reads 'm'. */
void
tdb_monitor_register_commands(const struct tdb_monitor *m)
{
    unixctl_command_register("tdb/monitor-status", "[-v]", 0, 1, cmd_status,
                             CONST_CAST(struct tdb_monitor *, m));
}
