/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#include <config.h>
#include "policies/policy.h"

#include <stdarg.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "openvswitch/dynamic-string.h"
#include "packets.h"
#include "policies/json-pos.h"
#include "unicode.h"
#include "util.h"

/* Errors. */

/* Initializes 'errors' for a document named 'file' (or for a command, with
 * 'file' the prefix of its messages). */
void
policy_errors_init(struct policy_errors *errors, const char *file)
{
    memset(errors, 0, sizeof *errors);
    errors->file = xstrdup(file);
}

/* Frees what 'errors' holds, including its position index. */
void
policy_errors_destroy(struct policy_errors *errors)
{
    for (size_t i = 0; i < errors->n; i++) {
        free(errors->errors[i].message);
    }
    free(errors->errors);
    json_pos_index_destroy(errors->index);
    free(errors->file);
    memset(errors, 0, sizeof *errors);
}

/* Finds the position of 'path' or, failing that, of the nearest enclosing
 * value that has one. */
static bool
lookup_nearest(const struct json_pos_index *index, const char *path,
               int *line, int *column)
{
    char *p = xstrdup(path);
    bool found = false;

    for (;;) {
        if (json_pos_lookup(index, p, line, column)) {
            found = true;
            break;
        }
        char *slash = strrchr(p, '/');
        if (!slash) {
            break;
        }
        *slash = '\0';
    }
    free(p);
    return found;
}

/* Adds an error about the value at 'path' (a JSON pointer; append '#' to
 * point at an object member's key rather than its value). */
void
policy_error(struct policy_errors *errors, const char *path,
             const char *format, ...)
{
    struct policy_error *e;
    struct ds s = DS_EMPTY_INITIALIZER;
    va_list args;

    if (errors->n >= errors->allocated) {
        errors->errors = x2nrealloc(errors->errors, &errors->allocated,
                                    sizeof *errors->errors);
    }
    e = &errors->errors[errors->n++];
    e->line = e->column = 0;
    e->seq = errors->n - 1;
    if (errors->index && path) {
        lookup_nearest(errors->index, path, &e->line, &e->column);
    }
    if (e->line) {
        ds_put_format(&s, "%s:%d:%d: ", errors->file, e->line, e->column);
    } else {
        ds_put_format(&s, "%s: ", errors->file);
    }
    va_start(args, format);
    ds_put_format_valist(&s, format, args);
    va_end(args);
    e->message = ds_steal_cstr(&s);
}

/* Orders errors by line and column; an error of unknown place sorts
 * first. */
static int
compare_errors(const void *a_, const void *b_)
{
    const struct policy_error *a = a_;
    const struct policy_error *b = b_;

    if (a->line != b->line) {
        return a->line < b->line ? -1 : 1;
    }
    if (a->column != b->column) {
        return a->column < b->column ? -1 : 1;
    }
    /* Equal places keep the order in which they were found. */
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Sorts the errors in 'errors' by their place in the document. */
void
policy_errors_sort(struct policy_errors *errors)
{
    if (errors->n > 1) {
        qsort(errors->errors, errors->n, sizeof *errors->errors,
              compare_errors);
    }
}

/* Prints each error in 'errors' on its own line to 'stream'. */
void
policy_errors_print(const struct policy_errors *errors, FILE *stream)
{
    for (size_t i = 0; i < errors->n; i++) {
        policy_fputs_printable(errors->errors[i].message, stream);
        putc('\n', stream);
    }
}

/* Appends 's' to 'ds' with its control characters (and DEL) written as
 * "\xNN": a name or key that holds them, written past the validator or
 * refused by it, must not move a terminal's cursor, clear its screen or
 * start a line of its own in what is shown. */
void
policy_put_printable(struct ds *ds, const char *s)
{
    for (; *s; s++) {
        unsigned char c = *s;
        if (c < 0x20 || c == 0x7f) {
            ds_put_format(ds, "\\x%02x", c);
        } else {
            ds_put_char(ds, c);
        }
    }
}

/* Writes 's' to 'stream' as policy_put_printable() would. */
void
policy_fputs_printable(const char *s, FILE *stream)
{
    struct ds ds = DS_EMPTY_INITIALIZER;

    policy_put_printable(&ds, s);
    fputs(ds_cstr(&ds), stream);
    ds_destroy(&ds);
}

/* Parses 's' as the IPv4 address of a host on the underlay (a tunnel's
 * endpoint: a chassis, a mirrors' collector) into '*ip'.  Returns false
 * if it is no dotted quad, or an address no host can have as a
 * destination: 0.0.0.0/8 ("this network"), loopback
 * (127.0.0.0/8: the host itself, never another), multicast and
 * 240.0.0.0/4, whose last is the broadcast address. */
bool
policy_parse_host_ip(const char *s, ovs_be32 *ip)
{
    if (!ip_parse(s, ip)) {
        return false;
    }
    uint8_t first = ntohl(*ip) >> 24;
    return first != 0 && first != 127 && first < 224;
}

/* Returns NULL if 's' may be an iface-id (of a Port, or an analysis
 * port's), otherwise a static explanation.  An iface-id is written by
 * hypervisors' tools (libvirt: the interface's UUID): anything printable
 * but white space, up to 255 bytes. */
const char *
policy_check_iface_id(const char *s)
{
    if (!*s || strlen(s) > POLICY_IFACE_ID_MAX_LEN) {
        return "must be 1-255 characters without white space";
    }
    char *error = utf8_validate(s, NULL);
    if (error) {
        free(error);
        return "is not valid UTF-8";
    }
    for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
        if (*p <= 0x20 || *p == 0x7f) {
            return "must be 1-255 characters without white space";
        }
    }
    return NULL;
}

/* The model. */

/* Grows the array '*array' of '*n' elements of 'size' bytes by one zeroed
 * element and returns it. */
static void *
grow(void **array, size_t *n, size_t *allocated, size_t size)
{
    if (*n >= *allocated) {
        *array = x2nrealloc(*array, allocated, size);
    }
    char *elem = (char *) *array + (*n)++ * size;
    memset(elem, 0, size);
    return elem;
}

/* Removes element 'index' of the array 'array' of '*n' elements of 'size'
 * bytes, keeping the order of the others. */
static void
remove_elem(void *array, size_t *n, size_t size, size_t index)
{
    char *a = array;

    ovs_assert(index < *n);
    memmove(a + index * size, a + (index + 1) * size,
            (*n - index - 1) * size);
    (*n)--;
}

/* Returns a new, empty policy. */
struct policy *
policy_create(void)
{
    return xzalloc(sizeof(struct policy));
}

/* Frees what 'rule' holds (not 'rule' itself). */
void
policy_rule_destroy(struct policy_rule *rule)
{
    free(rule->path);
    free(rule->ethertype);
    free(rule->protocol);
    free(rule->ports);
    free(rule->remote);
}

static void
group_destroy(struct policy_group *group)
{
    for (size_t i = 0; i < group->n_rules; i++) {
        policy_rule_destroy(&group->rules[i]);
    }
    free(group->rules);
    free(group->path);
    free(group->name);
}

/* Frees what 'net' holds (not 'net' itself). */
void
policy_network_destroy(struct policy_network *net)
{
    free(net->path);
    free(net->name);
    svec_destroy(&net->cidrs);
}

/* Frees what 'port' holds (not 'port' itself). */
void
policy_port_destroy(struct policy_port *port)
{
    free(port->path);
    free(port->name);
    free(port->iface_id);
    free(port->network);
    free(port->mac);
    svec_destroy(&port->ips);
    for (size_t i = 0; i < port->n_allowed; i++) {
        free(port->allowed[i].mac);
        free(port->allowed[i].ip);
    }
    free(port->allowed);
    svec_destroy(&port->groups);
}

static void
tenant_destroy(struct policy_tenant *tenant)
{
    for (size_t i = 0; i < tenant->n_networks; i++) {
        policy_network_destroy(&tenant->networks[i]);
    }
    for (size_t i = 0; i < tenant->n_groups; i++) {
        group_destroy(&tenant->groups[i]);
    }
    for (size_t i = 0; i < tenant->n_ports; i++) {
        policy_port_destroy(&tenant->ports[i]);
    }
    free(tenant->networks);
    free(tenant->groups);
    free(tenant->ports);
    free(tenant->path);
    free(tenant->name);
}

/* Frees 'policy' and everything in it.  Accepts NULL. */
void
policy_destroy(struct policy *policy)
{
    if (policy) {
        for (size_t i = 0; i < policy->n_tenants; i++) {
            tenant_destroy(&policy->tenants[i]);
        }
        free(policy->tenants);
        free(policy);
    }
}

/* Appends a tenant named 'name' to 'policy' and returns it.  The pointer
 * stays valid until the next tenant is added or removed. */
struct policy_tenant *
policy_add_tenant(struct policy *policy, const char *name)
{
    struct policy_tenant *t = grow((void **) &policy->tenants,
                                   &policy->n_tenants,
                                   &policy->allocated_tenants, sizeof *t);
    t->name = nullable_xstrdup(name);
    t->path = xasprintf("/tenants/%"PRIuSIZE, policy->n_tenants - 1);
    return t;
}

/* Appends a network named 'name' to 'tenant' and returns it, a VLAN
 * network with segment 0 until the caller sets it. */
struct policy_network *
policy_tenant_add_network(struct policy_tenant *tenant, const char *name)
{
    struct policy_network *n = grow((void **) &tenant->networks,
                                    &tenant->n_networks,
                                    &tenant->allocated_networks, sizeof *n);
    n->name = nullable_xstrdup(name);
    n->path = xasprintf("%s/networks/%"PRIuSIZE, tenant->path,
                        tenant->n_networks - 1);
    svec_init(&n->cidrs);
    return n;
}

/* Appends a security group named 'name' to 'tenant' and returns it. */
struct policy_group *
policy_tenant_add_group(struct policy_tenant *tenant, const char *name)
{
    struct policy_group *g = grow((void **) &tenant->groups,
                                  &tenant->n_groups,
                                  &tenant->allocated_groups, sizeof *g);
    g->name = nullable_xstrdup(name);
    g->path = xasprintf("%s/security_groups/%"PRIuSIZE, tenant->path,
                        tenant->n_groups - 1);
    return g;
}

/* Appends an empty rule to 'group' and returns it: an ingress rule for
 * protocol "any" from "any" until the caller sets it. */
struct policy_rule *
policy_group_add_rule(struct policy_group *group)
{
    struct policy_rule *r = grow((void **) &group->rules, &group->n_rules,
                                 &group->allocated_rules, sizeof *r);
    r->path = xasprintf("%s/rules/%"PRIuSIZE, group->path,
                        group->n_rules - 1);
    r->protocol = xstrdup("any");
    r->remote = xstrdup("any");
    return r;
}

/* Appends a port named 'name' to 'tenant' and returns it, with port
 * security on. */
struct policy_port *
policy_tenant_add_port(struct policy_tenant *tenant, const char *name)
{
    struct policy_port *p = grow((void **) &tenant->ports, &tenant->n_ports,
                                 &tenant->allocated_ports, sizeof *p);
    p->name = nullable_xstrdup(name);
    p->path = xasprintf("%s/ports/%"PRIuSIZE, tenant->path,
                        tenant->n_ports - 1);
    svec_init(&p->ips);
    svec_init(&p->groups);
    p->port_security = true;
    return p;
}

/* Removes network 'index' from 'tenant'. */
void
policy_tenant_remove_network(struct policy_tenant *tenant, size_t index)
{
    policy_network_destroy(&tenant->networks[index]);
    remove_elem(tenant->networks, &tenant->n_networks,
                sizeof *tenant->networks, index);
}

/* Removes security group 'index' from 'tenant'. */
void
policy_tenant_remove_group(struct policy_tenant *tenant, size_t index)
{
    group_destroy(&tenant->groups[index]);
    remove_elem(tenant->groups, &tenant->n_groups, sizeof *tenant->groups,
                index);
}

/* Removes port 'index' from 'tenant'. */
void
policy_tenant_remove_port(struct policy_tenant *tenant, size_t index)
{
    policy_port_destroy(&tenant->ports[index]);
    remove_elem(tenant->ports, &tenant->n_ports, sizeof *tenant->ports,
                index);
}

/* Removes rule 'index' from 'group'. */
void
policy_group_remove_rule(struct policy_group *group, size_t index)
{
    policy_rule_destroy(&group->rules[index]);
    remove_elem(group->rules, &group->n_rules, sizeof *group->rules, index);
}

/* Replaces '*path' by a new path made from 'format'. */
static void
set_path(char **path, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
static void
set_path(char **path, const char *format, ...)
{
    va_list args;

    free(*path);
    va_start(args, format);
    *path = xvasprintf(format, args);
    va_end(args);
}

/* Gives every object of 'policy' the path it would have if 'policy' were
 * printed by policy_to_string(), e.g. after objects were removed. */
void
policy_renumber(struct policy *policy)
{
    for (size_t i = 0; i < policy->n_tenants; i++) {
        struct policy_tenant *t = &policy->tenants[i];
        set_path(&t->path, "/tenants/%"PRIuSIZE, i);
        for (size_t j = 0; j < t->n_networks; j++) {
            set_path(&t->networks[j].path, "%s/networks/%"PRIuSIZE,
                     t->path, j);
        }
        for (size_t j = 0; j < t->n_groups; j++) {
            struct policy_group *g = &t->groups[j];
            set_path(&g->path, "%s/security_groups/%"PRIuSIZE, t->path, j);
            for (size_t k = 0; k < g->n_rules; k++) {
                set_path(&g->rules[k].path, "%s/rules/%"PRIuSIZE,
                         g->path, k);
            }
        }
        for (size_t j = 0; j < t->n_ports; j++) {
            set_path(&t->ports[j].path, "%s/ports/%"PRIuSIZE, t->path, j);
        }
    }
}

/* Returns the tenant of 'policy' named 'name', or NULL. */
struct policy_tenant *
policy_find_tenant(const struct policy *policy, const char *name)
{
    for (size_t i = 0; i < policy->n_tenants; i++) {
        if (nullable_string_is_equal(policy->tenants[i].name, name)) {
            return &policy->tenants[i];
        }
    }
    return NULL;
}

/* Returns the network of 'tenant' named 'name', or NULL. */
struct policy_network *
policy_find_network(const struct policy_tenant *tenant, const char *name)
{
    for (size_t i = 0; i < tenant->n_networks; i++) {
        if (nullable_string_is_equal(tenant->networks[i].name, name)) {
            return &tenant->networks[i];
        }
    }
    return NULL;
}

/* Returns the security group of 'tenant' named 'name', or NULL. */
struct policy_group *
policy_find_group(const struct policy_tenant *tenant, const char *name)
{
    for (size_t i = 0; i < tenant->n_groups; i++) {
        if (nullable_string_is_equal(tenant->groups[i].name, name)) {
            return &tenant->groups[i];
        }
    }
    return NULL;
}

/* Returns the port of 'tenant' named 'name', or NULL. */
struct policy_port *
policy_find_port(const struct policy_tenant *tenant, const char *name)
{
    for (size_t i = 0; i < tenant->n_ports; i++) {
        if (nullable_string_is_equal(tenant->ports[i].name, name)) {
            return &tenant->ports[i];
        }
    }
    return NULL;
}

/* Returns Ethernet address 'mac' in the canonical form in which it is
 * stored and compared: lower case.  The caller frees it. */
char *
policy_mac_canonical(const char *mac)
{
    char *s = xstrdup(mac);

    for (char *p = s; *p; p++) {
        *p = tolower((unsigned char) *p);
    }
    return s;
}

/* Returns the iface-id that binds 'port' to a vNIC: its own, or its
 * name. */
const char *
policy_port_iface_id(const struct policy_port *port)
{
    return port->iface_id ? port->iface_id : port->name;
}

/* Returns true if 'a' and 'b' allow the same traffic in the same way
 * (their paths may differ). */
bool
policy_rule_equal(const struct policy_rule *a, const struct policy_rule *b)
{
    return (a->direction == b->direction
            && nullable_string_is_equal(a->ethertype, b->ethertype)
            && !strcmp(a->protocol, b->protocol)
            && nullable_string_is_equal(a->ports, b->ports)
            && !strcmp(a->remote, b->remote)
            && a->log == b->log);
}

/* Returns 'rule' as one line of text, e.g. "ingress tcp 80,443 from
 * 0.0.0.0/0".  The caller frees it. */
char *
policy_rule_to_string(const struct policy_rule *rule)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    ds_put_format(&s, "%s", policy_direction_to_string(rule->direction));
    if (rule->ethertype) {
        ds_put_format(&s, " %s", rule->ethertype);
    }
    ds_put_format(&s, " %s", rule->protocol);
    if (rule->ports) {
        ds_put_format(&s, " %s", rule->ports);
    }
    ds_put_format(&s, " %s %s",
                  rule->direction == POLICY_INGRESS ? "from" : "to",
                  rule->remote);
    if (rule->log) {
        ds_put_cstr(&s, " log");
    }
    return ds_steal_cstr(&s);
}

/* Returns the document spelling of 'type'. */
const char *
policy_net_type_to_string(enum policy_net_type type)
{
    return type == POLICY_NET_VLAN ? "vlan" : "vxlan";
}

/* Parses 's' as a network type into '*type'.  Returns false if it is
 * none. */
bool
policy_net_type_from_string(const char *s, enum policy_net_type *type)
{
    if (!strcmp(s, "vlan")) {
        *type = POLICY_NET_VLAN;
    } else if (!strcmp(s, "vxlan")) {
        *type = POLICY_NET_VXLAN;
    } else {
        return false;
    }
    return true;
}

/* Returns the document spelling of 'dir'. */
const char *
policy_direction_to_string(enum policy_direction dir)
{
    return dir == POLICY_INGRESS ? "ingress" : "egress";
}

/* Parses 's' as a direction into '*dir'.  Returns false if it is none. */
bool
policy_direction_from_string(const char *s, enum policy_direction *dir)
{
    if (!strcmp(s, "ingress")) {
        *dir = POLICY_INGRESS;
    } else if (!strcmp(s, "egress")) {
        *dir = POLICY_EGRESS;
    } else {
        return false;
    }
    return true;
}
