/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#include <config.h>
#include "controller/firewall.h"

#include <stdlib.h>
#include <string.h>
#include "schema/bulkhead-idl.h"
#include "controller/binding.h"
#include "controller/flow-table.h"
#include "controller/fw-rules.h"
#include "controller/pipeline.h"
#include "coverage.h"
#include "lib/tenant-db.h"
#include "packets.h"
#include "unixctl.h"
#include "hash.h"
#include "hmapx.h"
#include "sset.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "util.h"
#include "uuid.h"

VLOG_DEFINE_THIS_MODULE(firewall);

COVERAGE_DEFINE(firewall_class_compiled);
COVERAGE_DEFINE(firewall_member_changed);
COVERAGE_DEFINE(firewall_recompute);
COVERAGE_DEFINE(firewall_rule_invalid);
COVERAGE_DEFINE(firewall_rule_unplaced);
COVERAGE_DEFINE(firewall_member_refused);

/* A firewall class: a set of security groups that local vNICs have. */
struct fw_class {
    struct hmap_node node;      /* In 'classes', by hash of 'key'. */
    struct hmap_node id_node;   /* In 'class_ids', by 'id'. */
    char *key;                  /* The groups' UUIDs, sorted, with ','. */
    uint32_t id;                /* 20 bits, non-zero. */
    struct uuid *groups;        /* The groups. */
    size_t n_groups;            /* Number of 'groups'. */
    size_t n_vnics;             /* vNICs in the class. */
    struct fw_class_conj *conjs;  /* Its group rules' conjunctions, as
                                   * last compiled. */
    size_t n_conjs;             /* Number of 'conjs'. */
    struct shash group_addrs;   /* Its remote groups' members' addresses,
                                 * as flows: group UUID -> struct sset *,
                                 * the owners of the flows of one prefix
                                 * each (member_addr_owner()). */
    struct simap logged;        /* Its rules with "log", as last compiled:
                                 * "KEY" -> their verdict table. */
    uint32_t *rule_keys;        /* The keys of its rules, as last compiled
                                 * (what its vNICs' statistics count). */
    size_t n_rule_keys;         /* Number of 'rule_keys'. */
};

/* A group rule of a class: the conjunction that the members of its remote
 * group join. */
struct fw_class_conj {
    struct uuid group;          /* The remote group. */
    struct uuid tenant;         /* The group's tenant: only Ports on its
                                 * networks are members. */
    struct fw_conj conj;        /* The conjunction. */
};

/* A security group's members: an index, so that a group's addresses are
 * found without walking every Port. */
struct fw_group {
    struct hmap_node node;      /* In 'groups', by group UUID. */
    struct uuid uuid;           /* The group. */
    struct hmapx members;       /* struct fw_member *, Ports in it. */
};

/* What the firewall needs of a Port of the Tenant DB: the groups it is a
 * member of, and the addresses it brings them. */
struct fw_member {
    struct hmap_node node;      /* In 'members', by Port UUID. */
    struct uuid port;           /* The Port. */
    struct uuid tenant;         /* Its network's tenant. */
    struct uuid *groups;        /* Its security groups. */
    size_t n_groups;            /* Number of 'groups'. */
    struct fw_member_addr *addrs;  /* Its addresses and allowed
                                    * prefixes, on its network. */
    size_t n_addrs;             /* Number of 'addrs'. */
};

/* The key of a rule: cookie bits 55-32 and ct_mark of what it allows. */
struct fw_rule_key {
    struct hmap_node node;      /* In 'rule_keys', by Rule UUID. */
    struct hmap_node key_node;  /* In 'rule_keys_by_key', by 'key'. */
    struct uuid rule;           /* The Rule. */
    uint32_t key;               /* 24 bits, non-zero. */
    bool used;                  /* Used by the last compilation. */
};

/* Initializes 'fw', empty. */
void
firewall_init(struct firewall *fw)
{
    hmap_init(&fw->classes);
    hmap_init(&fw->class_ids);
    shash_init(&fw->vnics);
    hmap_init(&fw->members);
    hmap_init(&fw->groups);
    hmap_init(&fw->rule_keys);
    hmap_init(&fw->rule_keys_by_key);
    simap_init(&fw->logged);
    simap_init(&fw->verdicts);
    simap_init(&fw->stats_zones);
    fw->rule_stats = true;
    fw->log_rate = 20;
    fw->log_host_rate = 200;
    fw->n_deny_logged = 0;
}

/* Frees 'm'. */
static void
member_free(struct fw_member *m)
{
    free(m->groups);
    free(m->addrs);
    free(m);
}

/* Frees 'c'. */
static void
class_free(struct fw_class *c)
{
    free(c->key);
    free(c->groups);
    free(c->conjs);
    free(c->rule_keys);
    struct shash_node *node;
    SHASH_FOR_EACH (node, &c->group_addrs) {
        sset_destroy(node->data);
        free(node->data);
    }
    shash_destroy(&c->group_addrs);
    simap_destroy(&c->logged);
    free(c);
}

static void clear_members(struct firewall *);
static void refresh_class_stats(const struct firewall *,
                                const struct fw_class *,
                                struct flow_table *);

/* Frees what 'fw' holds. */
void
firewall_destroy(struct firewall *fw)
{
    struct fw_class *c;
    HMAP_FOR_EACH_POP (c, node, &fw->classes) {
        class_free(c);
    }
    hmap_destroy(&fw->classes);
    hmap_destroy(&fw->class_ids);
    shash_destroy(&fw->vnics);

    clear_members(fw);
    hmap_destroy(&fw->members);
    hmap_destroy(&fw->groups);

    struct fw_rule_key *k;
    HMAP_FOR_EACH_POP (k, node, &fw->rule_keys) {
        free(k);
    }
    hmap_destroy(&fw->rule_keys);
    hmap_destroy(&fw->rule_keys_by_key);
    simap_destroy(&fw->logged);
    simap_destroy(&fw->verdicts);
    simap_destroy(&fw->stats_zones);
}

/* Members. */

/* Reads Port 'row' into a new member, or returns NULL if it brings no
 * address to any group.  The controller trusts no row: a Port without
 * port security (it may send from any address, and the validator keeps
 * it out of groups) brings none, and of its "ips" only whole addresses
 * count (a prefix there would make every host of it a member). */
static struct fw_member *
member_from_row(const struct bhrec_port *row)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);
    const struct bhrec_network *net = row->network;
    enum policy_net_type type;

    if (!row->n_security_groups || !net || !net->tenant
        || !policy_net_type_from_string(net->type, &type)) {
        return NULL;
    }
    if (!row->port_security) {
        COVERAGE_INC(firewall_member_refused);
        VLOG_WARN_RL(&rl, "port %s is in security groups without port "
                     "security: it brings no address to them", row->name);
        return NULL;
    }
    if (row->n_ips > POLICY_PORT_ADDRESSES_MAX
        || row->n_allowed_addresses > POLICY_PORT_ADDRESSES_MAX) {
        /* Written past the validator: one row, bound nowhere, would put
         * a flow per address on every host that has a rule naming one of
         * its groups. */
        COVERAGE_INC(firewall_member_refused);
        VLOG_WARN_RL(&rl, "port %s has %"PRIuSIZE" IPs and %"PRIuSIZE
                     " allowed addresses, more than the %d a port may "
                     "have: it brings no address to its groups", row->name,
                     row->n_ips, row->n_allowed_addresses,
                     POLICY_PORT_ADDRESSES_MAX);
        return NULL;
    }

    struct fw_member *m = xzalloc(sizeof *m);
    m->port = row->header_.uuid;
    m->tenant = net->tenant->header_.uuid;
    m->groups = xmalloc(row->n_security_groups * sizeof *m->groups);
    for (size_t i = 0; i < row->n_security_groups; i++) {
        m->groups[m->n_groups++] = row->security_groups[i]->header_.uuid;
    }

    /* Its addresses, and the prefixes of its allowed addresses ("MAC IP"
     * or "IP"), which it may send from: the controller trusts no row, and
     * what does not parse is left out. */
    size_t n = row->n_ips + row->n_allowed_addresses;
    m->addrs = xmalloc(MAX(n, 1) * sizeof *m->addrs);
    uint32_t net_key = pipeline_network_key(type, net->segment);
    for (size_t i = 0; i < n; i++) {
        const char *s = (i < row->n_ips ? row->ips[i]
                         : row->allowed_addresses[i - row->n_ips]);
        const char *space = strchr(s, ' ');
        struct fw_member_addr *a = &m->addrs[m->n_addrs];
        a->net_key = net_key;
        if (!fw_prefix_parse(space ? space + 1 : s, &a->prefix)) {
            continue;
        }
        if (i < row->n_ips
            && a->prefix.plen != (a->prefix.family == AF_INET ? 32 : 128)) {
            COVERAGE_INC(firewall_member_refused);
            VLOG_WARN_RL(&rl, "port %s: IP \"%s\" is a prefix, not an "
                         "address: it brings nothing to its groups",
                         row->name, s);
            continue;
        }
        m->n_addrs++;
    }
    return m;
}

/* Returns true if 'a' and 'b' say the same to the firewall. */
static bool
member_equal(const struct fw_member *a, const struct fw_member *b)
{
    if (!a || !b) {
        return a == b;
    }
    return (uuid_equals(&a->tenant, &b->tenant)
            && a->n_groups == b->n_groups
            && !memcmp(a->groups, b->groups, a->n_groups * sizeof *a->groups)
            && a->n_addrs == b->n_addrs
            && !memcmp(a->addrs, b->addrs, a->n_addrs * sizeof *a->addrs));
}

/* Returns the member for Port 'uuid', or NULL. */
static struct fw_member *
find_member(const struct firewall *fw, const struct uuid *uuid)
{
    struct fw_member *m;
    HMAP_FOR_EACH_WITH_HASH (m, node, uuid_hash(uuid), &fw->members) {
        if (uuid_equals(&m->port, uuid)) {
            return m;
        }
    }
    return NULL;
}

/* Returns the members of group 'uuid', or NULL if it has none. */
static struct fw_group *
find_group(const struct firewall *fw, const struct uuid *uuid)
{
    struct fw_group *g;
    HMAP_FOR_EACH_WITH_HASH (g, node, uuid_hash(uuid), &fw->groups) {
        if (uuid_equals(&g->uuid, uuid)) {
            return g;
        }
    }
    return NULL;
}

/* Adds member 'm' to 'fw' and to its groups' indexes. */
static void
insert_member(struct firewall *fw, struct fw_member *m)
{
    hmap_insert(&fw->members, &m->node, uuid_hash(&m->port));
    for (size_t i = 0; i < m->n_groups; i++) {
        struct fw_group *g = find_group(fw, &m->groups[i]);
        if (!g) {
            g = xzalloc(sizeof *g);
            g->uuid = m->groups[i];
            hmapx_init(&g->members);
            hmap_insert(&fw->groups, &g->node, uuid_hash(&g->uuid));
        }
        hmapx_add(&g->members, m);
    }
}

/* Takes member 'm' out of 'fw' and its groups' indexes, and frees it. */
static void
remove_member(struct firewall *fw, struct fw_member *m)
{
    hmap_remove(&fw->members, &m->node);
    for (size_t i = 0; i < m->n_groups; i++) {
        struct fw_group *g = find_group(fw, &m->groups[i]);
        if (g) {
            hmapx_find_and_delete(&g->members, m);
            if (hmapx_is_empty(&g->members)) {
                hmap_remove(&fw->groups, &g->node);
                hmapx_destroy(&g->members);
                free(g);
            }
        }
    }
    member_free(m);
}

/* Forgets every member. */
static void
clear_members(struct firewall *fw)
{
    struct fw_member *m;
    HMAP_FOR_EACH_SAFE (m, node, &fw->members) {
        remove_member(fw, m);
    }
}

/* Reads every Port anew. */
static void
read_members(struct firewall *fw, struct ovsdb_idl *tdb)
{
    clear_members(fw);
    const struct bhrec_port *row;
    BHREC_PORT_FOR_EACH (row, tdb) {
        struct fw_member *m = member_from_row(row);
        if (m) {
            insert_member(fw, m);
        }
    }
}

/* The addresses of a remote group, gathered for one compilation. */
struct fw_addr_set {
    struct hmap_node node;      /* In a set of them, by group UUID. */
    struct uuid group;          /* The group. */
    struct fw_member_addr *addrs;  /* Its members' addresses. */
    size_t n;                   /* Number of 'addrs'. */
    size_t allocated;           /* Allocated size of 'addrs'. */
};

/* Appends to '*addrs' (holding '*n', room for '*allocated') the addresses
 * of every member of group 'group' whose network is of tenant 'tenant', the
 * group's own: the index holds every Port that names the group, and only
 * the tenant's count. */
static void
gather_group_addrs(const struct firewall *fw, const struct uuid *group,
                   const struct uuid *tenant, struct fw_member_addr **addrs,
                   size_t *n, size_t *allocated)
{
    const struct fw_group *index = find_group(fw, group);
    struct hmapx_node *node;

    if (!index) {
        return;
    }
    HMAPX_FOR_EACH (node, &index->members) {
        const struct fw_member *m = node->data;
        if (!uuid_equals(&m->tenant, tenant)) {
            continue;
        }
        for (size_t j = 0; j < m->n_addrs; j++) {
            if (*n >= *allocated) {
                *addrs = x2nrealloc(*addrs, allocated, sizeof **addrs);
            }
            (*addrs)[(*n)++] = m->addrs[j];
        }
    }
}

/* Returns the addresses of group 'g', gathering them into 'sets' if they
 * are not there yet: those of every member whose network is of the
 * group's own tenant. */
static const struct fw_addr_set *
group_addresses(const struct firewall *fw, struct hmap *sets,
                const struct bhrec_security_group *g)
{
    const struct uuid *uuid = &g->header_.uuid;
    struct fw_addr_set *s;

    HMAP_FOR_EACH_WITH_HASH (s, node, uuid_hash(uuid), sets) {
        if (uuid_equals(&s->group, uuid)) {
            return s;
        }
    }
    s = xzalloc(sizeof *s);
    s->group = *uuid;
    hmap_insert(sets, &s->node, uuid_hash(uuid));

    if (g->tenant) {
        gather_group_addrs(fw, uuid, &g->tenant->header_.uuid, &s->addrs,
                           &s->n, &s->allocated);
    }
    return s;
}

/* Frees the address sets in 'sets'. */
static void
addr_sets_destroy(struct hmap *sets)
{
    struct fw_addr_set *s;
    HMAP_FOR_EACH_POP (s, node, sets) {
        free(s->addrs);
        free(s);
    }
    hmap_destroy(sets);
}

/* Rule keys. */

/* Returns the hash of what Rule 'row' of group 'g' matches: its tenant's
 * and group's names, direction, ethertype, protocol, ports, remote prefix
 * and remote group (by UUID: the group's row may not be here yet).  Not
 * its position, which other rules' deletions change: a key from it would
 * depend on the order the controller saw the rules in, and a restart
 * would give them other keys, hence other flows and counters. */
static uint32_t
rule_content_hash(const struct bhrec_rule *row,
                  const struct bhrec_security_group *g)
{
    uint32_t hash = hash_string(g->tenant ? g->tenant->name : "", 0);
    hash = hash_string(g->name, hash);
    hash = hash_string(row->direction, hash);
    hash = hash_string(row->ethertype ? row->ethertype : "", hash);
    hash = hash_string(row->protocol, hash);
    hash = hash_string(row->ports ? row->ports : "", hash);
    hash = hash_string(row->remote_cidr ? row->remote_cidr : "", hash);
    const struct ovsdb_datum *d = bhrec_rule_get_remote_group(row,
                                                              OVSDB_TYPE_UUID);
    if (d->n) {
        hash = uuid_hash(&d->keys[0].uuid) ^ hash;
    }
    return hash;
}

/* Returns the key of Rule 'row' of group 'g', giving it one if it has
 * none: 24 bits of rule_content_hash(), so that it stays the same across
 * restarts, deletions of other rules and, for rules without a remote
 * group, databases loaded anew from one policy; or the next free one on a
 * collision with a Rule that still exists ('tdb'). */
static uint32_t
rule_key(struct firewall *fw, struct ovsdb_idl *tdb,
         const struct bhrec_rule *row, const struct bhrec_security_group *g)
{
    const struct uuid *uuid = &row->header_.uuid;
    struct fw_rule_key *k;

    HMAP_FOR_EACH_WITH_HASH (k, node, uuid_hash(uuid), &fw->rule_keys) {
        if (uuid_equals(&k->rule, uuid)) {
            k->used = true;
            return k->key;
        }
    }

    uint32_t key = rule_content_hash(row, g) & 0xffffff;
    for (;;) {
        bool taken = false;
        key = key ? key : 1;
        struct fw_rule_key *other, *holder = NULL;
        HMAP_FOR_EACH_WITH_HASH (other, key_node, hash_int(key, 0),
                                 &fw->rule_keys_by_key) {
            if (other->key == key) {
                holder = other;
            }
        }
        if (holder && !bhrec_rule_get_for_uuid(tdb, &holder->rule)) {
            /* A Rule that was deleted (a row replaced by another of the
             * same content, as a document loaded anew or a change of
             * "log" may do) keeps its key only until the next full
             * compilation: give the key back now, so that the new row
             * gets the key that a restart would give it (its flows, and
             * the ct_mark of its connections, then survive a restart). */
            hmap_remove(&fw->rule_keys, &holder->node);
            hmap_remove(&fw->rule_keys_by_key, &holder->key_node);
            free(holder);
            holder = NULL;
        }
        taken = holder != NULL;
        if (!taken) {
            break;
        }
        key = (key + 1) & 0xffffff;
    }
    k = xzalloc(sizeof *k);
    k->rule = *uuid;
    k->key = key;
    k->used = true;
    hmap_insert(&fw->rule_keys, &k->node, uuid_hash(uuid));
    hmap_insert(&fw->rule_keys_by_key, &k->key_node, hash_int(key, 0));
    return key;
}

/* Returns the Rule UUID whose key is 'key', or NULL. */
static const struct uuid *
rule_by_key(const struct firewall *fw, uint32_t key)
{
    const struct fw_rule_key *k;
    HMAP_FOR_EACH_WITH_HASH (k, key_node, hash_int(key, 0),
                             &fw->rule_keys_by_key) {
        if (k->key == key) {
            return &k->rule;
        }
    }
    return NULL;
}

/* Classes. */

/* Returns the owner name of the flows of class 'id'.  The caller frees
 * it. */
static char *
class_owner(uint32_t id)
{
    return xasprintf(FIREWALL_OWNERS"%05"PRIx32, id);
}

/* Sorts rules by position, for qsort(). */
static int
compare_rule_rows(const void *a_, const void *b_)
{
    const struct bhrec_rule *const *a = a_, *const *b = b_;

    return ((*a)->position < (*b)->position ? -1
            : (*a)->position > (*b)->position);
}

/* Returns the rules of group 'g', sorted by position, in an array that the
 * caller frees (a group may have none). */
static const struct bhrec_rule **
sorted_rules(const struct bhrec_security_group *g)
{
    const struct bhrec_rule **rows = xmalloc(MAX(g->n_rules, 1)
                                             * sizeof *rows);

    for (size_t i = 0; i < g->n_rules; i++) {
        rows[i] = g->rules[i];
    }
    qsort(rows, g->n_rules, sizeof *rows, compare_rule_rows);
    return rows;
}

/* Returns the owner name of the flows of prefix 'a' of the addresses of
 * group 'group''s members in class 'id' (the caller frees it). */
static char *
member_addr_owner(uint32_t id, const struct uuid *group,
                  const struct fw_member_addr *a)
{
    char prefix[INET6_ADDRSTRLEN + 8];

    fw_prefix_format(&a->prefix, prefix, sizeof prefix);
    return xasprintf(FIREWALL_OWNERS"%05"PRIx32":"UUID_FMT":%#"PRIx32":%s",
                     id, UUID_ARGS(group), a->net_key, prefix);
}

/* Removes the flows of the members of every remote group of 'c'. */
static void
clear_member_flows(struct fw_class *c, struct flow_table *flows)
{
    struct shash_node *node;

    SHASH_FOR_EACH_SAFE (node, &c->group_addrs) {
        struct sset *owners = node->data;
        const char *owner;
        SSET_FOR_EACH (owner, owners) {
            flow_table_clear_owner(flows, owner);
        }
        sset_destroy(owners);
        free(owners);
        shash_delete(&c->group_addrs, node);
    }
}

/* Returns the first group rule of class 'c' whose remote group is 'group',
 * or NULL if none is. */
static const struct fw_class_conj *
class_group_conj(const struct fw_class *c, const struct uuid *group)
{
    for (size_t i = 0; i < c->n_conjs; i++) {
        if (uuid_equals(&c->conjs[i].group, group)) {
            return &c->conjs[i];
        }
    }
    return NULL;
}

/* Returns in '*prefixes' (which the caller frees) the addresses of the
 * members of group 'group' of tenant 'tenant' (the group's own),
 * aggregated into the fewest prefixes (fw_aggregate_addrs()), and their
 * number.  The same for every class that names the group. */
static size_t
group_prefixes(const struct firewall *fw, const struct uuid *group,
               const struct uuid *tenant, struct fw_member_addr **prefixes)
{
    struct fw_member_addr *addrs = NULL;
    size_t n = 0, allocated = 0;

    gather_group_addrs(fw, group, tenant, &addrs, &n, &allocated);
    size_t n_prefixes = fw_aggregate_addrs(addrs, n, prefixes);
    free(addrs);
    return n_prefixes;
}

/* Makes the flows of the members of group 'group' in class 'c' what its
 * members want: the 'n_prefixes' 'prefixes' of their addresses
 * (group_prefixes()) in the conjunction of each group rule of 'c' that
 * names it.  A prefix's flows are an owner of their own, so that only the
 * prefixes that come or go change: a member that joins or leaves changes
 * O(1) flows, a few where it splits or joins a prefix. */
static void
put_group_prefixes(struct fw_class *c, const struct uuid *group,
                   const struct fw_member_addr *prefixes, size_t n_prefixes,
                   struct flow_table *flows)
{
    /* Those that go, then those that come. */
    char group_s[UUID_LEN + 1];
    snprintf(group_s, sizeof group_s, UUID_FMT, UUID_ARGS(group));
    struct sset *old = shash_find_and_delete(&c->group_addrs, group_s);
    struct sset *new = xmalloc(sizeof *new);
    sset_init(new);
    char **owners = xmalloc(MAX(n_prefixes, 1) * sizeof *owners);
    for (size_t i = 0; i < n_prefixes; i++) {
        owners[i] = member_addr_owner(c->id, group, &prefixes[i]);
        sset_add(new, owners[i]);
    }
    if (old) {
        const char *owner;
        SSET_FOR_EACH (owner, old) {
            if (!sset_contains(new, owner)) {
                flow_table_clear_owner(flows, owner);
            }
        }
    }
    for (size_t i = 0; i < n_prefixes; i++) {
        if (!old || !sset_contains(old, owners[i])) {
            for (size_t j = 0; j < c->n_conjs; j++) {
                const struct fw_class_conj *cc = &c->conjs[j];
                if (uuid_equals(&cc->group, group)) {
                    fw_add_member_flows(flows, owners[i], c->id, &cc->conj,
                                        &prefixes[i], 1);
                }
            }
        }
        free(owners[i]);
    }
    free(owners);
    if (old) {
        sset_destroy(old);
        free(old);
    }
    if (sset_is_empty(new)) {
        sset_destroy(new);
        free(new);
    } else {
        shash_add(&c->group_addrs, group_s, new);
    }
}

/* Makes the flows of the members of group 'group' in class 'c', which
 * names it, what its members in 'fw' want (put_group_prefixes()). */
static void
put_group_flows(const struct firewall *fw, struct fw_class *c,
                const struct uuid *group, struct flow_table *flows)
{
    struct fw_member_addr *prefixes;
    size_t n = group_prefixes(fw, group, &class_group_conj(c, group)->tenant,
                              &prefixes);
    put_group_prefixes(c, group, prefixes, n, flows);
    free(prefixes);
}

/* Returns true if Rule 'row' names a remote group, whether or not that
 * group's row is known: the IDL shows a reference to a row it has not
 * received (yet) as a null pointer, which must never read as "any". */
static bool
rule_names_group(const struct bhrec_rule *row)
{
    return bhrec_rule_get_remote_group(row, OVSDB_TYPE_UUID)->n > 0;
}

/* Returns the UUID of the remote group that Rule 'row' names (see
 * rule_names_group()). */
static struct uuid
rule_group_uuid(const struct bhrec_rule *row)
{
    return bhrec_rule_get_remote_group(row, OVSDB_TYPE_UUID)->keys[0].uuid;
}

/* Parses Rule 'row' into 'r' (see fw_rule_parse()).  Its remote is one of
 * a CIDR, "any" (both in remote_cidr, as bulkhead-ctl writes them) or a
 * group: a row with none of them, or with both a CIDR and a group, is
 * refused, so that it allows nothing.  Returns NULL or an error that the
 * caller frees. */
static char *
parse_rule_row(const struct bhrec_rule *row, struct fw_rule *r)
{
    char *error = fw_rule_parse(row->direction, row->ethertype,
                                row->protocol, row->ports, row->remote_cidr,
                                r);
    if (!error && !row->remote_cidr && !rule_names_group(row)) {
        error = xstrdup("it names no remote (a CIDR, \"any\" or a group)");
    } else if (!error && row->remote_cidr && rule_names_group(row)) {
        error = xstrdup("it names both a CIDR and a group as its remote");
    }
    return error;
}
/* Compiles the rules of class 'c' into its flows, replacing its old
 * ones, and adds the flows of its remote groups' members. */
static void
compile_class(struct firewall *fw, struct fw_class *c, struct ovsdb_idl *tdb,
              struct flow_table *flows)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);
    char *owner = class_owner(c->id);
    struct fw_rule *rules = NULL;
    struct fw_class_conj *remotes = NULL;   /* Parallel to 'rules'. */
    size_t n_rules = 0, allocated = 0;

    COVERAGE_INC(firewall_class_compiled);
    flow_table_clear_owner(flows, owner);
    clear_member_flows(c, flows);
    simap_clear(&c->logged);
    for (size_t i = 0; i < c->n_groups; i++) {
        const struct bhrec_security_group *g
            = bhrec_security_group_get_for_uuid(tdb, &c->groups[i]);
        if (!g) {
            continue;
        }
        const struct bhrec_rule **rows = sorted_rules(g);
        for (size_t j = 0; j < g->n_rules; j++) {
            const struct bhrec_rule *row = rows[j];
            struct fw_rule r;
            char *error = parse_rule_row(row, &r);
            const struct bhrec_security_group *rg = row->remote_group;
            if (!error && rg && rg->tenant != g->tenant) {
                error = xasprintf("remote group \"%s\" is of another "
                                  "tenant", rg->name);
            }
            if (error) {
                COVERAGE_INC(firewall_rule_invalid);
                VLOG_WARN_RL(&rl, "security group %s rule #%"PRId64": %s; "
                             "it allows nothing", g->name,
                             row->position + 1, error);
                free(error);
                fw_rule_destroy(&r);
                continue;
            }
            r.key = rule_key(fw, tdb, row, g);
            if (row->log) {
                char *k = xasprintf("%06"PRIx32, r.key);
                simap_put(&c->logged, k,
                          r.direction == POLICY_EGRESS ? PL_T_EGRESS_VERDICT
                          : PL_T_INGRESS_VERDICT);
                free(k);
            }
            if (n_rules >= allocated) {
                rules = x2nrealloc(rules, &allocated, sizeof *rules);
                remotes = xrealloc(remotes, allocated * sizeof *remotes);
            }
            memset(&remotes[n_rules], 0, sizeof remotes[n_rules]);
            if (rule_names_group(row)) {
                /* A group not received yet has no members here: the rule
                 * matches nothing until it comes. */
                r.remote = FW_REMOTE_GROUP;
                remotes[n_rules].group = rule_group_uuid(row);
                if (rg && rg->tenant) {
                    remotes[n_rules].tenant = rg->tenant->header_.uuid;
                }
            }
            rules[n_rules++] = r;
        }
        free(rows);
    }

    /* The rules' keys: if they changed, so do its vNICs' statistics. */
    uint32_t *keys = xmalloc(MAX(n_rules, 1) * sizeof *keys);
    for (size_t i = 0; i < n_rules; i++) {
        keys[i] = rules[i].key;
    }
    bool keys_changed = (n_rules != c->n_rule_keys
                         || (n_rules && memcmp(keys, c->rule_keys,
                                               n_rules * sizeof *keys)));
    free(c->rule_keys);
    c->rule_keys = keys;
    c->n_rule_keys = n_rules;
    if (keys_changed) {
        refresh_class_stats(fw, c, flows);
    }

    /* The rules, then the conjunctions their groups' members join. */
    struct fw_conj *conjs = xmalloc(MAX(n_rules, 1) * sizeof *conjs);
    size_t n_unplaced = fw_compile_class(flows, owner, c->id, rules,
                                         n_rules, conjs);
    if (n_unplaced) {
        COVERAGE_ADD(firewall_rule_unplaced, n_unplaced);
        struct ds names = DS_EMPTY_INITIALIZER;
        for (size_t i = 0; i < c->n_groups; i++) {
            const struct bhrec_security_group *g
                = bhrec_security_group_get_for_uuid(tdb, &c->groups[i]);
            ds_put_format(&names, "%s%s", i ? ", " : "",
                          g ? g->name : "?");
        }
        VLOG_WARN_RL(&rl, "security groups %s: %"PRIuSIZE" of their "
                     "%"PRIuSIZE" rules overlap too many others to be "
                     "placed; they allow nothing (a port may have %d "
                     "rules)", ds_cstr(&names), n_unplaced, n_rules,
                     POLICY_PORT_RULES_MAX);
        ds_destroy(&names);
    }
    c->n_conjs = 0;
    for (size_t i = 0; i < n_rules; i++) {
        if (conjs[i].id) {
            remotes[i].conj = conjs[i];
            remotes[c->n_conjs++] = remotes[i];
        }
        fw_rule_destroy(&rules[i]);
    }
    free(c->conjs);
    c->conjs = remotes;
    free(conjs);
    free(rules);
    free(owner);

    /* The members of those groups, each group once. */
    for (size_t i = 0; i < c->n_conjs; i++) {
        bool done = false;
        for (size_t j = 0; !done && j < i; j++) {
            done = uuid_equals(&c->conjs[j].group, &c->conjs[i].group);
        }
        if (!done) {
            put_group_flows(fw, c, &c->conjs[i].group, flows);
        }
    }
}

/* Returns the class of the groups 'key', or NULL. */
static struct fw_class *
find_class(const struct firewall *fw, const char *key)
{
    struct fw_class *c;
    HMAP_FOR_EACH_WITH_HASH (c, node, hash_string(key, 0), &fw->classes) {
        if (!strcmp(c->key, key)) {
            return c;
        }
    }
    return NULL;
}

/* Returns true if a class has id 'id'. */
static bool
class_id_taken(const struct firewall *fw, uint32_t id)
{
    const struct fw_class *c;
    HMAP_FOR_EACH_WITH_HASH (c, id_node, hash_int(id, 0), &fw->class_ids) {
        if (c->id == id) {
            return true;
        }
    }
    return false;
}

/* Compares two UUIDs, for qsort(). */
static int
compare_uuids(const void *a, const void *b)
{
    return uuid_compare_3way(a, b);
}

/* Compares two strings, for qsort(). */
static int
compare_strings(const void *a_, const void *b_)
{
    const char *const *a = a_, *const *b = b_;

    return strcmp(*a, *b);
}

/* Returns a hash of the names of the tenant and groups of 'port': what a
 * class's id is made of, so that it is the same across restarts and
 * databases loaded anew from one policy (UUIDs are not). */
static uint32_t
class_id_hint(const struct bhrec_port *port)
{
    const char **names = xmalloc(port->n_security_groups * sizeof *names);
    const struct bhrec_network *net = port->network;
    uint32_t hash = hash_string(net && net->tenant ? net->tenant->name : "",
                                0);

    for (size_t i = 0; i < port->n_security_groups; i++) {
        names[i] = port->security_groups[i]->name;
    }
    qsort(names, port->n_security_groups, sizeof *names, compare_strings);
    for (size_t i = 0; i < port->n_security_groups; i++) {
        hash = hash_string(names[i], hash);
    }
    free(names);
    return hash;
}

/* Returns the key of the class of the groups of 'port' (their UUIDs,
 * sorted, with ','), or NULL if it has no group.  If 'groupsp' is
 * nonnull, stores the sorted groups there (NULL if none).  The caller frees
 * both. */
static char *
class_key(const struct bhrec_port *port, struct uuid **groupsp)
{
    if (groupsp) {
        *groupsp = NULL;
    }
    if (!port || !port->n_security_groups) {
        return NULL;
    }

    struct uuid *groups = xmalloc(port->n_security_groups * sizeof *groups);
    for (size_t i = 0; i < port->n_security_groups; i++) {
        groups[i] = port->security_groups[i]->header_.uuid;
    }
    qsort(groups, port->n_security_groups, sizeof *groups, compare_uuids);
    struct ds key = DS_EMPTY_INITIALIZER;
    for (size_t i = 0; i < port->n_security_groups; i++) {
        ds_put_format(&key, "%s"UUID_FMT, i ? "," : "",
                      UUID_ARGS(&groups[i]));
    }
    if (groupsp) {
        *groupsp = groups;
    } else {
        free(groups);
    }
    return ds_steal_cstr(&key);
}

/* Puts vNIC 'iface_id', bound to Port 'port', in the class of its groups
 * (NULL: in none), creating the class if needed (added to 'fresh'), and
 * takes it out of its old class (freed, its flows removed, if it was the
 * last vNIC in it). */
static void
set_vnic_class(struct firewall *fw, const char *iface_id,
               const struct bhrec_port *port, struct hmapx *fresh,
               struct flow_table *flows)
{
    struct fw_class *old = shash_find_and_delete(&fw->vnics, iface_id);
    struct fw_class *c = NULL;
    struct uuid *groups;
    char *key = class_key(port, &groups);

    if (key) {
        c = find_class(fw, key);
        if (!c) {
            c = xzalloc(sizeof *c);
            simap_init(&c->logged);
            shash_init(&c->group_addrs);
            c->key = key;
            key = NULL;
            c->groups = groups;
            c->n_groups = port->n_security_groups;
            groups = NULL;
            c->id = class_id_hint(port) & 0xfffff;
            while (!c->id || class_id_taken(fw, c->id)) {
                c->id = (c->id + 1) & 0xfffff;
            }
            hmap_insert(&fw->classes, &c->node, hash_string(c->key, 0));
            hmap_insert(&fw->class_ids, &c->id_node, hash_int(c->id, 0));
            hmapx_add(fresh, c);
        }
        free(key);
        free(groups);
        c->n_vnics++;
        shash_add(&fw->vnics, iface_id, c);
    }

    if (old && !--old->n_vnics) {
        char *owner = class_owner(old->id);
        flow_table_clear_owner(flows, owner);
        free(owner);
        clear_member_flows(old, flows);
        hmapx_find_and_delete(fresh, old);
        hmap_remove(&fw->classes, &old->node);
        hmap_remove(&fw->class_ids, &old->id_node);
        class_free(old);
    }
}

/* Returns the owner name of the default-deny flows of vNIC 'iface_id'.
 * The caller frees it. */
static char *
deny_owner(const char *iface_id)
{
    return xasprintf(FIREWALL_OWNERS"deny:%s", iface_id);
}

/* The owner of the host's log meter (FIREWALL_LOG_HOST_METER). */
#define HOST_LOG_OWNER FIREWALL_OWNERS"log-host"

/* Adds the default-deny flows of vNIC 'iface_id', whose 'verdict' is its
 * zone, with FIREWALL_VERDICT_LOG if its Port logs what they drop: in both
 * directions, what no rule allowed is dropped by a flow of its own (the
 * table's shared drop would do the same), so that its firewall's drops are
 * counted apart, in its statistics (the flows carry its cookie).  If it
 * logs them, each such packet is also offered to the controller, from
 * table LOG_DENY, through the vNIC's own meter and then the host's: OpenFlow
 * allows one meter instruction per flow, first in it, and the packet meets
 * its mirrors before any meter. */
static void
add_deny_flows(const struct firewall *fw, const char *iface_id,
               uint32_t verdict, struct flow_table *flows)
{
    uint32_t zone = verdict & 0xffff;
    bool log = verdict & FIREWALL_VERDICT_LOG;
    uint32_t meter = FIREWALL_DENY_METER(zone);
    uint64_t cookie = pipeline_cookie(PL_COOKIE_VNIC, zone);
    char *owner = deny_owner(iface_id);

    if (log) {
        flow_table_set_meter(flows, owner, meter, fw->log_rate,
                             fw->log_rate);
    }
    for (int egress = 0; egress < 2; egress++) {
        char *match = xasprintf("reg13=0,%s=%"PRIu32,
                                egress ? "reg6" : "reg8", zone);
        /* What it denies is offered to its mirrors (reg13 = 0: denied),
         * then dropped. */
        char *mirror = pipeline_mirror_lookup(egress);
        char *actions = (log
                         ? xasprintf("%s,resubmit(,%d)", mirror,
                                     PL_T_LOG_DENY)
                         : xstrdup(mirror));
        free(mirror);
        flow_table_add(flows, owner, (egress ? PL_T_EGRESS_VERDICT
                                      : PL_T_INGRESS_VERDICT),
                       210, cookie, match, actions);
        free(actions);
        free(match);
        if (log) {
            /* On its way out nothing set reg8 yet (the copy to its
             * destination does): the two sides' flows never both match. */
            char *log_match = (egress
                               ? xasprintf("reg6=%"PRIu32",reg8=0", zone)
                               : xasprintf("reg8=%"PRIu32, zone));
            char *log_actions = xasprintf(
                "meter:%"PRIu32",controller(max_len=128,"
                "userdata=01.%02x.%02x.00,meter_id=%"PRIu32")", meter,
                FIREWALL_LOG_DENY, egress ? FW_DIR_EGRESS : FW_DIR_INGRESS,
                (uint32_t) FIREWALL_LOG_HOST_METER);
            flow_table_add(flows, owner, PL_T_LOG_DENY, 100, cookie,
                           log_match, log_actions);
            free(log_actions);
            free(log_match);
        }
    }
    free(owner);
}

/* Makes the host's log meter exist while a vNIC logs its default deny, at
 * the host's rate. */
static void
sync_host_log_meter(const struct firewall *fw, struct flow_table *flows)
{
    if (fw->n_deny_logged) {
        flow_table_set_meter(flows, HOST_LOG_OWNER, FIREWALL_LOG_HOST_METER,
                             fw->log_host_rate, fw->log_host_rate);
    } else if (flow_table_has_owner(flows, HOST_LOG_OWNER)) {
        flow_table_clear_owner(flows, HOST_LOG_OWNER);
    }
}

/* Makes the default-deny flows of vNIC 'iface_id' what it wants: none
 * ('verdict' -1), or those of 'verdict' (see add_deny_flows()). */
static void
set_deny_flows(struct firewall *fw, const char *iface_id, int64_t verdict,
               struct flow_table *flows)
{
    struct simap_node *had = simap_find(&fw->verdicts, iface_id);

    if (had && had->data == verdict) {
        return;
    }
    if (had) {
        char *owner = deny_owner(iface_id);
        flow_table_clear_owner(flows, owner);
        free(owner);
        fw->n_deny_logged -= (had->data & FIREWALL_VERDICT_LOG) != 0;
        simap_delete(&fw->verdicts, had);
    }
    if (verdict >= 0) {
        simap_put(&fw->verdicts, iface_id, verdict);
        fw->n_deny_logged += (verdict & FIREWALL_VERDICT_LOG) != 0;
        add_deny_flows(fw, iface_id, verdict, flows);
    }
    sync_host_log_meter(fw, flows);
}

/* Returns the owner name of the rule statistics flows of vNIC 'iface_id'.
 * The caller frees it. */
static char *
stats_owner(const char *iface_id)
{
    return xasprintf(FIREWALL_OWNERS"stats:%s", iface_id);
}

/* Makes the rule statistics flows of vNIC 'iface_id' those of zone 'zone'
 * in class 'c' (none if 'c' is NULL or rule statistics are off): for each
 * rule of its class, one flow in table RULE_STATS that counts the new
 * connections the rule let in at this vNIC, and one that counts their
 * other packets, both directions. */
static void
put_stats_flows(const struct firewall *fw, const char *iface_id,
                uint32_t zone, const struct fw_class *c,
                struct flow_table *flows)
{
    char *owner = stats_owner(iface_id);

    flow_table_clear_owner(flows, owner);
    for (size_t i = 0; c && fw->rule_stats && i < c->n_rule_keys; i++) {
        uint32_t key = c->rule_keys[i];
        uint64_t cookie = (pipeline_cookie(PL_COOKIE_VNIC_RULE, zone)
                           | (uint64_t) key << 32);
        char *match = xasprintf("reg14=%"PRIu32",reg13=%#"PRIx32, zone,
                                key);
        char *new_match = xasprintf("ct_state=+trk+new,%s", match);

        flow_table_add(flows, owner, PL_T_RULE_STATS, 200, cookie,
                       new_match, "drop");
        flow_table_add(flows, owner, PL_T_RULE_STATS, 100, cookie, match,
                       "drop");
        free(new_match);
        free(match);
    }
    free(owner);
}

/* Rewrites the rule statistics flows of every vNIC in class 'c'. */
static void
refresh_class_stats(const struct firewall *fw, const struct fw_class *c,
                    struct flow_table *flows)
{
    struct shash_node *node;

    SHASH_FOR_EACH (node, &fw->vnics) {
        const struct simap_node *zone = simap_find(&fw->stats_zones,
                                                   node->name);
        if (node->data == c && zone) {
            put_stats_flows(fw, node->name, zone->data, c, flows);
        }
    }
}

/* Returns true if vNIC 'v' (NULL: gone) has a firewall: it is bound and
 * its Port has port security. */
static bool
vnic_has_firewall(const struct vnic *v)
{
    return v && v->state == VNIC_BOUND && v->port.port_security;
}

/* Takes vNIC 'v' (or 'iface_id' if it is gone) out of its class if its
 * groups now make another one, or none: the first half of place_vnic(),
 * done for every vNIC of a run before any of them is placed.  So a class
 * that empties frees its id before a class that wants the same id (that of
 * the same groups' names: the same groups, deleted and created again, or
 * a Tenant DB loaded anew from one policy) is created, which then gets the
 * id that a restarted controller gives it, instead of the next free one. */
static void
leave_vnic_class(struct firewall *fw, const char *iface_id,
                 const struct vnic *v, struct ovsdb_idl *tdb,
                 struct hmapx *fresh, struct flow_table *flows)
{
    const struct fw_class *c = shash_find_data(&fw->vnics, iface_id);
    if (!c) {
        return;
    }

    const struct bhrec_port *port = NULL;
    if (vnic_has_firewall(v)) {
        port = bhrec_port_get_for_uuid(tdb, &v->port_uuid);
    }
    char *key = class_key(port, NULL);
    if (!key || strcmp(key, c->key)) {
        set_vnic_class(fw, iface_id, NULL, fresh, flows);
    }
    free(key);
}

/* Puts vNIC 'v' (or 'iface_id' if it is gone) in its class, and logs its
 * default deny if its Port asks. */
static void
place_vnic(struct firewall *fw, const char *iface_id, const struct vnic *v,
           struct ovsdb_idl *tdb, struct hmapx *fresh,
           struct flow_table *flows)
{
    const struct bhrec_port *port = NULL;
    bool fw_on = vnic_has_firewall(v);

    if (fw_on) {
        port = bhrec_port_get_for_uuid(tdb, &v->port_uuid);
    }
    set_vnic_class(fw, iface_id, port, fresh, flows);
    set_deny_flows(fw, iface_id,
                   (!fw_on ? -1
                    : v->zone | (v->port.log_denied ? FIREWALL_VERDICT_LOG
                                 : 0)), flows);

    /* Its rule statistics: those of its class as compiled (a new class
     * has none yet; its compilation writes them). */
    const struct fw_class *c = shash_find_data(&fw->vnics, iface_id);
    if (fw_on && c) {
        simap_put(&fw->stats_zones, iface_id, v->zone);
        put_stats_flows(fw, iface_id, v->zone, c, flows);
    } else if (simap_find(&fw->stats_zones, iface_id)) {
        simap_find_and_delete(&fw->stats_zones, iface_id);
        put_stats_flows(fw, iface_id, 0, NULL, flows);
    }
}

/* Returns the owner name of the log flows of rule 'key' (the caller
 * frees it). */
static char *
log_owner(const char *key)
{
    return xasprintf(FIREWALL_OWNERS"log:%s", key);
}

/* Adds the log flows of the rule whose key is 'key' (hex), which allows
 * new connections in verdict table 'table': each one it lets in is also
 * sent to the controller, through the rule's own meter, so that one noisy
 * rule cannot starve the others' logs, nor the datapath. */
static void
add_log_flows(const struct firewall *fw, const char *key, uint8_t table,
              struct flow_table *flows)
{
    uint32_t k = strtoul(key, NULL, 16);
    uint32_t meter = FIREWALL_LOG_METER(k);
    bool egress = table == PL_T_EGRESS_VERDICT;
    char *owner = log_owner(key);

    flow_table_set_meter(flows, owner, meter, fw->log_rate, fw->log_rate);
    for (int v6 = 0; v6 < 2; v6++) {
        char *match = xasprintf("ct_state=+trk+new,%s,reg13=%#"PRIx32,
                                v6 ? "ipv6" : "ip", k);
        char *stats = pipeline_rule_stats_actions(egress);
        char *commit = pipeline_commit_actions(egress);
        char *actions = xasprintf(
            "%s,controller(max_len=128,userdata=01.%02x.%02x.00,meter_id=%"
            PRIu32"),%s", stats, FIREWALL_LOG_ALLOW,
            egress ? FW_DIR_EGRESS : FW_DIR_INGRESS, meter, commit);
        free(commit);
        flow_table_add(flows, owner, table, 150,
                       fw_rule_cookie(k, 0), match, actions);
        free(actions);
        free(stats);
        free(match);
    }
    free(owner);
}

/* Makes the log flows match the logged rules of every class: adds those
 * of rules that appeared, removes those of rules gone. */
static void
sync_log_flows(struct firewall *fw, struct flow_table *flows, bool all)
{
    struct simap want = SIMAP_INITIALIZER(&want);
    struct simap_node *node;
    struct fw_class *c;

    HMAP_FOR_EACH (c, node, &fw->classes) {
        SIMAP_FOR_EACH (node, &c->logged) {
            simap_put(&want, node->name, node->data);
        }
    }
    SIMAP_FOR_EACH (node, &fw->logged) {
        const struct simap_node *w = simap_find(&want, node->name);
        if (all || !w || w->data != node->data) {
            char *owner = log_owner(node->name);
            flow_table_clear_owner(flows, owner);
            free(owner);
        }
    }
    SIMAP_FOR_EACH (node, &want) {
        const struct simap_node *had = simap_find(&fw->logged, node->name);
        if (all || !had || had->data != node->data) {
            add_log_flows(fw, node->name, node->data, flows);
        }
    }
    simap_swap(&fw->logged, &want);
    simap_destroy(&want);
}

/* Sets the rate of each logged rule's meter, in packets per second. */
void
firewall_set_log_rate(struct firewall *fw, uint32_t rate,
                      struct flow_table *flows)
{
    if (rate != fw->log_rate) {
        struct simap_node *node;

        fw->log_rate = rate;
        sync_log_flows(fw, flows, true);
        SIMAP_FOR_EACH (node, &fw->verdicts) {
            if (node->data & FIREWALL_VERDICT_LOG) {
                char *owner = deny_owner(node->name);
                flow_table_clear_owner(flows, owner);
                free(owner);
                add_deny_flows(fw, node->name, node->data, flows);
            }
        }
    }
}

/* Sets the rate of the host's meter of denied packets offered to the log,
 * in packets per second. */
void
firewall_set_log_host_rate(struct firewall *fw, uint32_t rate,
                           struct flow_table *flows)
{
    if (rate != fw->log_host_rate) {
        fw->log_host_rate = rate;
        sync_host_log_meter(fw, flows);
    }
}

/* Turns the statistics of each rule at each vNIC on or off (their flows
 * cost two per rule and vNIC). */
void
firewall_set_rule_stats(struct firewall *fw, bool on,
                        struct flow_table *flows)
{
    if (on != fw->rule_stats) {
        const struct fw_class *c;

        fw->rule_stats = on;
        HMAP_FOR_EACH (c, node, &fw->classes) {
            refresh_class_stats(fw, c, flows);
        }
    }
}

/* Compiles the classes in 'todo'. */
static void
compile_classes(struct firewall *fw, struct hmapx *todo,
                struct ovsdb_idl *tdb, struct flow_table *flows)
{
    struct hmapx_node *node;

    HMAPX_FOR_EACH (node, todo) {
        compile_class(fw, node->data, tdb, flows);
    }
    sync_log_flows(fw, flows, false);
}

/* Compiles every class; forgets the keys of rules no class uses. */
static void
compile_all(struct firewall *fw, struct ovsdb_idl *tdb,
            struct flow_table *flows)
{
    struct hmapx all = HMAPX_INITIALIZER(&all);
    struct fw_rule_key *k;
    struct fw_class *c;

    HMAP_FOR_EACH (k, node, &fw->rule_keys) {
        k->used = false;
    }
    HMAP_FOR_EACH (c, node, &fw->classes) {
        hmapx_add(&all, c);
    }
    compile_classes(fw, &all, tdb, flows);
    hmapx_destroy(&all);
    HMAP_FOR_EACH_SAFE (k, node, &fw->rule_keys) {
        if (!k->used) {
            hmap_remove(&fw->rule_keys, &k->node);
            hmap_remove(&fw->rule_keys_by_key, &k->key_node);
            free(k);
        }
    }
}

/* Computes everything anew.  Classes that stay keep their ids. */
void
firewall_recompute(struct firewall *fw, const struct binding *b,
                   struct ovsdb_idl *tdb, struct flow_table *flows)
{
    struct hmapx fresh = HMAPX_INITIALIZER(&fresh);
    struct shash_node *node;
    const struct vnic *v;

    COVERAGE_INC(firewall_recompute);
    simap_clear(&fw->logged);   /* The engine removed their flows. */
    simap_clear(&fw->verdicts);
    fw->n_deny_logged = 0;
    simap_clear(&fw->stats_zones);
    read_members(fw, tdb);
    SHASH_FOR_EACH_SAFE (node, &fw->vnics) {
        if (!binding_find(b, node->name)) {
            set_vnic_class(fw, node->name, NULL, &fresh, flows);
        }
    }
    BINDING_FOR_EACH_VNIC (v, b) {
        leave_vnic_class(fw, v->iface_id, v, tdb, &fresh, flows);
    }
    BINDING_FOR_EACH_VNIC (v, b) {
        place_vnic(fw, v->iface_id, v, tdb, &fresh, flows);
    }
    hmapx_destroy(&fresh);
    compile_all(fw, tdb, flows);
}

/* Moves the vNICs whose binding changed in this run into their classes
 * (all out of the classes they leave first: leave_vnic_class()) and
 * compiles the classes that this creates. */
bool
firewall_handle_binding(struct firewall *fw, const struct binding *b,
                        struct ovsdb_idl *tdb, struct flow_table *flows)
{
    struct hmapx fresh = HMAPX_INITIALIZER(&fresh);
    const struct binding_change *ch;

    BINDING_FOR_EACH_CHANGE (ch, b) {
        leave_vnic_class(fw, ch->iface_id, binding_find(b, ch->iface_id),
                         tdb, &fresh, flows);
    }
    BINDING_FOR_EACH_CHANGE (ch, b) {
        place_vnic(fw, ch->iface_id, binding_find(b, ch->iface_id), tdb,
                   &fresh, flows);
    }
    compile_classes(fw, &fresh, tdb, flows);
    hmapx_destroy(&fresh);
    return true;
}

/* Handles the Tenant DB's changes: a Port's membership or addresses
 * recompile the classes whose rules name a group it left or joined; a
 * change of a group, a rule, a network or a tenant recompiles every
 * class. */
bool
firewall_handle_tdb(struct firewall *fw, struct ovsdb_idl *tdb,
                    struct flow_table *flows)
{
    const struct bhrec_security_group *g;
    const struct bhrec_network *net;
    const struct bhrec_tenant *t;
    const struct bhrec_rule *r;
    bool all = false;

    BHREC_SECURITY_GROUP_FOR_EACH_TRACKED (g, tdb) {
        all = true;
    }
    BHREC_RULE_FOR_EACH_TRACKED (r, tdb) {
        all = true;
    }
    BHREC_NETWORK_FOR_EACH_TRACKED (net, tdb) {
        all = true;
    }
    BHREC_TENANT_FOR_EACH_TRACKED (t, tdb) {
        all = true;
    }
    if (all) {
        read_members(fw, tdb);
        compile_all(fw, tdb, flows);
        return true;
    }

    /* A Port whose groups or addresses changed: the address flows of the
     * groups it left or joined, in the classes whose rules name them, and
     * nothing else. */
    const struct bhrec_port *row;
    BHREC_PORT_FOR_EACH_TRACKED (row, tdb) {
        const struct uuid *port = &row->header_.uuid;
        struct fw_member *old = find_member(fw, port);
        struct fw_member *new = (bhrec_port_is_deleted(row) ? NULL
                                 : member_from_row(row));
        if (member_equal(old, new)) {
            if (new) {
                member_free(new);
            }
            continue;
        }
        COVERAGE_INC(firewall_member_changed);

        struct uuid *groups = NULL;     /* The groups it left or joined. */
        size_t n_groups = 0, allocated = 0;
        for (int i = 0; i < 2; i++) {
            const struct fw_member *m = i ? new : old;
            for (size_t j = 0; m && j < m->n_groups; j++) {
                if (n_groups >= allocated) {
                    groups = x2nrealloc(groups, &allocated, sizeof *groups);
                }
                groups[n_groups++] = m->groups[j];
            }
        }
        if (old) {
            remove_member(fw, old);
        }
        if (new) {
            insert_member(fw, new);
        }
        /* Each group's set once, for every class that names it. */
        for (size_t i = 0; i < n_groups; i++) {
            bool seen = false;
            for (size_t j = 0; !seen && j < i; j++) {
                seen = uuid_equals(&groups[j], &groups[i]);
            }
            if (seen) {
                continue;
            }
            struct fw_member_addr *prefixes = NULL;
            size_t n = 0;
            struct fw_class *c;
            HMAP_FOR_EACH (c, node, &fw->classes) {
                const struct fw_class_conj *cc
                    = class_group_conj(c, &groups[i]);
                if (cc) {
                    if (!prefixes) {
                        n = group_prefixes(fw, &groups[i], &cc->tenant,
                                           &prefixes);
                    }
                    put_group_prefixes(c, &groups[i], prefixes, n, flows);
                }
            }
            free(prefixes);
        }
        free(groups);
    }
    return true;
}

/* Returns the class of vNIC 'iface_id', or 0 if it has none. */
uint32_t
firewall_vnic_class(const struct firewall *fw, const char *iface_id)
{
    const struct fw_class *c = shash_find_data(&fw->vnics, iface_id);
    return c ? c->id : 0;
}

/* Appends to 's' the tenant, group and number of Rule 'rule' of group 'g'
 * ("acme/web#2"), and if 'with_text' the rule itself as a policy document
 * says it ("acme/web#2 (ingress tcp 22 from @admin)"). */
static void
put_rule(const struct bhrec_security_group *g, const struct bhrec_rule *rule,
         bool with_text, struct ds *s)
{
    ds_put_format(s, "%s/%s#%"PRId64, g->tenant ? g->tenant->name : "?",
                  g->name, rule->position + 1);
    if (with_text) {
        struct policy_rule pr;
        memset(&pr, 0, sizeof pr);
        tenant_db_rule_from_row(rule, &pr);
        char *text = policy_rule_to_string(&pr);
        ds_put_format(s, " (%s)", text);
        free(text);
        tenant_db_rule_clear(&pr);
    }
}

/* Appends to 's' the tenant, group and number of the rule whose key is
 * 'rule_key' ("acme/web#2"), and if 'with_text' the rule itself
 * ("acme/web#2 (ingress tcp 22 from @admin)").  Returns false if no rule
 * has that key. */
bool
firewall_describe_rule(const struct firewall *fw, struct ovsdb_idl *tdb,
                       uint32_t rule_key, bool with_text, struct ds *s)
{
    const struct uuid *uuid = rule_by_key(fw, rule_key);
    const struct bhrec_rule *rule = (uuid ? bhrec_rule_get_for_uuid(tdb, uuid)
                                     : NULL);
    const struct bhrec_security_group *g;

    if (!rule) {
        return false;
    }
    BHREC_SECURITY_GROUP_FOR_EACH (g, tdb) {
        for (size_t i = 0; i < g->n_rules; i++) {
            if (g->rules[i] == rule) {
                put_rule(g, rule, with_text, s);
                return true;
            }
        }
    }
    return false;
}

/* "policy/check SRC DST PROTO[/PORT]". */

/* One end of a checked connection. */
struct check_end {
    const struct bhrec_port *port;  /* Its Port, or NULL for an address
                                     * that no Port has. */
    struct fw_prefix addr;      /* Its address. */
    uint32_t net_key;           /* Its network's key (a Port's). */
};

/* What the command needs: the firewall and the Tenant DB. */
struct check_aux {
    struct firewall *fw;        /* The firewall. */
    struct ovsdb_idl *tdb;      /* The Tenant DB. */
};

/* Returns the network key of 'port', or 0. */
static uint32_t
port_net_key(const struct bhrec_port *port)
{
    enum policy_net_type type;

    return (port->network
            && policy_net_type_from_string(port->network->type, &type)
            ? pipeline_network_key(type, port->network->segment) : 0);
}

/* Returns true if 'port' has address 'a' (or an allowed prefix that holds
 * it). */
static bool
port_has_address(const struct bhrec_port *port, const struct fw_prefix *a)
{
    struct fw_member *m = member_from_row(port);
    bool found = false;

    /* A port with no group is no member, but has addresses all the same. */
    for (size_t i = 0; !found && i < port->n_ips; i++) {
        struct fw_prefix p;
        found = (fw_prefix_parse(port->ips[i], &p) && p.family == a->family
                 && ipv6_addr_equals(&p.addr, &a->addr));
    }
    for (size_t i = 0; !found && m && i < m->n_addrs; i++) {
        found = fw_prefix_contains(&m->addrs[i].prefix, a);
    }
    if (m) {
        member_free(m);
    }
    return found;
}

/* Resolves 'name' (a Port's iface-id or name, or an address) into 'end';
 * 'peer', if nonnull, is the other end, whose network an address is looked
 * up on first.  Returns an error message, which the caller frees, or
 * NULL. */
static char *
resolve_end(struct ovsdb_idl *tdb, const char *name,
            const struct check_end *peer, struct check_end *end)
{
    const struct bhrec_port *port, *found = NULL;
    size_t n = 0;

    memset(end, 0, sizeof *end);
    if (fw_prefix_parse(name, &end->addr)) {
        if ((end->addr.family == AF_INET && end->addr.plen != 32)
            || (end->addr.family == AF_INET6 && end->addr.plen != 128)) {
            return xasprintf("\"%s\" is a prefix, not an address", name);
        }
        /* The Port with that address, on the peer's network if there is
         * one: tenants may use the same addresses. */
        BHREC_PORT_FOR_EACH (port, tdb) {
            if (port_has_address(port, &end->addr)
                && (!peer || !peer->port
                    || port->network == peer->port->network)) {
                found = port;
                n++;
            }
        }
        if (n > 1) {
            return xasprintf("%"PRIuSIZE" ports have address %s; name one",
                             n, name);
        }
        end->port = found;
        end->net_key = found ? port_net_key(found) : 0;
        return NULL;
    }

    n = tenant_db_find_port(tdb, name, &found);
    if (!n) {
        return xasprintf("no port or address \"%s\"", name);
    } else if (n > 1) {
        return xasprintf("%"PRIuSIZE" tenants have a port \"%s\"; give its "
                         "iface-id", n, name);
    }
    end->port = found;
    end->net_key = port_net_key(found);
    return NULL;
}

/* Returns true if 'rule' allows a connection of 'proto' to 'dport' (-1:
 * none given) with the remote end 'remote'. */
static bool
rule_allows(const struct firewall *fw, struct hmap *sets,
            const struct bhrec_rule *row, int proto, int dport,
            const struct check_end *remote)
{
    struct fw_rule r;
    char *error = parse_rule_row(row, &r);
    bool ok = !error;

    free(error);
    ok = ok && (!r.family || r.family == remote->addr.family);
    ok = ok && (r.proto < 0 || r.proto == proto);
    if (ok && r.n_ports) {
        bool in = false;
        for (size_t i = 0; i < r.n_ports; i++) {
            in = in || (dport >= r.ports[i].lo && dport <= r.ports[i].hi);
        }
        ok = in;
    }
    if (ok && r.remote == FW_REMOTE_PREFIX) {
        ok = fw_prefix_contains(&r.prefix, &remote->addr);
    } else if (ok && rule_names_group(row) && !row->remote_group) {
        /* Its group is not known (yet): it matches nothing. */
        ok = false;
    } else if (ok && row->remote_group) {
        const struct fw_addr_set *s = group_addresses(fw, sets,
                                                      row->remote_group);
        bool in = false;
        for (size_t i = 0; !in && i < s->n; i++) {
            in = (s->addrs[i].net_key == remote->net_key
                  && fw_prefix_contains(&s->addrs[i].prefix, &remote->addr));
        }
        ok = in;
    }
    fw_rule_destroy(&r);
    return ok;
}

/* Looks for a rule of 'end''s groups in 'direction' that allows the
 * connection; appends it to 's' and returns true, or returns false. */
static bool
check_side(const struct firewall *fw, struct hmap *sets,
           const struct check_end *end, const char *direction, int proto,
           int dport, const struct check_end *remote, struct ds *s)
{
    for (size_t i = 0; i < end->port->n_security_groups; i++) {
        const struct bhrec_security_group *g = end->port->security_groups[i];
        const struct bhrec_rule **rows = sorted_rules(g);
        for (size_t j = 0; j < g->n_rules; j++) {
            const struct bhrec_security_group *rg = rows[j]->remote_group;
            if (strcmp(rows[j]->direction, direction)
                || (rg && rg->tenant != g->tenant)
                || !rule_allows(fw, sets, rows[j], proto, dport, remote)) {
                continue;
            }
            put_rule(g, rows[j], true, s);
            free(rows);
            return true;
        }
        free(rows);
    }
    return false;
}

/* Appends the address of 'p' to 's', without its length. */
static void
put_check_address(struct ds *s, const struct fw_prefix *p)
{
    char buf[INET6_ADDRSTRLEN + 8];

    fw_prefix_format(p, buf, sizeof buf);
    buf[strcspn(buf, "/")] = '\0';
    ds_put_cstr(s, buf);
}

/* Returns true if 'end' has a firewall. */
static bool
has_firewall(const struct check_end *end)
{
    return end->port && end->port->port_security;
}

static void
cmd_policy_check(struct unixctl_conn *conn, int argc OVS_UNUSED,
                 const char *argv[], void *aux_)
{
    struct check_aux *aux = aux_;
    struct check_end src, dst;
    struct ds s = DS_EMPTY_INITIALIZER;
    int proto, dport = -1;
    char *error;

    /* PROTO[/PORT]. */
    char *p = xstrdup(argv[3]);
    char *slash = strchr(p, '/');
    if (slash) {
        *slash = '\0';
        dport = strlen(slash + 1) <= 5 ? atoi(slash + 1) : -1;
    }
    static const struct { const char *name; int proto; } protos[] = {
        { "tcp", 6 }, { "udp", 17 }, { "icmp", 1 }, { "icmpv6", 58 },
    };
    proto = -1;
    for (size_t i = 0; i < ARRAY_SIZE(protos); i++) {
        if (!strcmp(p, protos[i].name)) {
            proto = protos[i].proto;
        }
    }
    if (proto < 0 && p[0] && strspn(p, "0123456789") == strlen(p)
        && strlen(p) <= 3 && atoi(p) <= 255) {
        proto = atoi(p);
    }
    bool bad_port = slash && (dport < 1 || dport > 65535
                              || strspn(slash + 1, "0123456789")
                                 != strlen(slash + 1)
                              || (proto != 6 && proto != 17));
    free(p);
    if (proto < 0 || bad_port) {
        unixctl_command_reply_error(conn, "PROTO is tcp, udp, icmp, icmpv6 "
                                    "or 0-255, with /PORT (1-65535) for tcp "
                                    "and udp");
        return;
    }

    error = resolve_end(aux->tdb, argv[1], NULL, &src);
    if (!error) {
        error = resolve_end(aux->tdb, argv[2], &src, &dst);
    }
    if (!error && !src.port && dst.port) {
        /* An address given first: look it up on the destination's
         * network. */
        error = resolve_end(aux->tdb, argv[1], &dst, &src);
    }
    if (!error && !src.port && !dst.port) {
        error = xstrdup("neither end is a port of the Tenant DB");
    }
    if (error) {
        unixctl_command_reply_error(conn, error);
        free(error);
        return;
    }

    /* The ends' addresses: a named port's first address of the other's
     * family, or of the protocol's (icmpv6 is IPv6: a dual-stack port's
     * first address is often IPv4). */
    int proto_family = (proto == 1 ? AF_INET
                        : proto == 58 ? AF_INET6
                        : 0);
    for (int i = 0; i < 2; i++) {
        struct check_end *e = i ? &dst : &src;
        const struct check_end *o = i ? &src : &dst;
        int family = o->addr.family ? o->addr.family : proto_family;
        if (e->port && !e->addr.family) {
            for (size_t j = 0; j < e->port->n_ips; j++) {
                struct fw_prefix a;
                if (fw_prefix_parse(e->port->ips[j], &a)
                    && (!family || family == a.family)) {
                    e->addr = a;
                    break;
                }
            }
        }
    }
    if (!src.addr.family || !dst.addr.family
        || src.addr.family != dst.addr.family) {
        unixctl_command_reply_error(conn, "the two ends have no addresses "
                                    "of one family");
        return;
    }
    if ((proto == 1 && src.addr.family != AF_INET)
        || (proto == 58 && src.addr.family != AF_INET6)) {
        unixctl_command_reply_error(conn, "icmp is IPv4, icmpv6 IPv6");
        return;
    }
    if (src.port && dst.port && src.port->network != dst.port->network) {
        unixctl_command_reply(conn, "denied: the two ports are on different "
                              "networks, which are never joined");
        return;
    }

    struct hmap sets = HMAP_INITIALIZER(&sets);
    bool allowed = true;
    if (has_firewall(&src)) {
        ds_put_format(&s, "egress of %s: ", src.port->name);
        if (!check_side(aux->fw, &sets, &src, "egress", proto, dport, &dst,
                        &s)) {
            ds_clear(&s);
            ds_put_format(&s, "denied (default): no egress rule of %s "
                          "allows it", src.port->name);
            allowed = false;
        }
    }
    if (allowed && has_firewall(&dst)) {
        ds_put_format(&s, "%singress of %s: ", s.length ? "; " : "",
                      dst.port->name);
        if (!check_side(aux->fw, &sets, &dst, "ingress", proto, dport, &src,
                        &s)) {
            ds_clear(&s);
            ds_put_format(&s, "denied (default): no ingress rule of %s "
                          "allows it", dst.port->name);
            allowed = false;
        }
    }
    addr_sets_destroy(&sets);
    if (allowed) {
        ds_put_cstr(&s, s.length ? "" : "no firewall on either end");
        char *text = ds_steal_cstr(&s);
        ds_put_format(&s, "allowed: %s", text);
        free(text);
    }

    /* The addresses it was decided for: of a port named, its first of the
     * family (a dual-stack port's other family is checked by giving its
     * address). */
    ds_put_cstr(&s, "; checked from ");
    put_check_address(&s, &src.addr);
    ds_put_cstr(&s, " to ");
    put_check_address(&s, &dst.addr);
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

/* Registers the firewall's commands; 'tdb' is the Tenant DB they read. */
void
firewall_register_commands(struct firewall *fw, struct ovsdb_idl *tdb)
{
    struct check_aux *aux = xmalloc(sizeof *aux);

    aux->fw = fw;
    aux->tdb = tdb;
    unixctl_command_register("policy/check", "SRC DST PROTO[/PORT]", 3, 3,
                             cmd_policy_check, aux);
}
