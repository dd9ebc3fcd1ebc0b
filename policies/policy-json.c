/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Reading policy documents with jansson, and printing them back. */

#include <config.h>
#include "policies/policy.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <string.h>
#include "openvswitch/dynamic-string.h"
#include "policies/json-pos.h"
#include "util.h"

/* The version of the document format this module reads and writes. */
#define POLICY_FORMAT_VERSION 1

/* What a parser needs at hand while it walks one document. */
struct parse_ctx {
    struct policy_errors *errors;  /* Where errors go. */
};

/* Describes the type of 'json' for an error message. */
static const char *
json_type_name(const json_t *json)
{
    switch (json_typeof(json)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a real number";
    case JSON_TRUE: case JSON_FALSE: return "a boolean";
    case JSON_NULL: default: return "null";
    }
}

/* Returns 'key' as a JSON pointer token ('~' as "~0", '/' as "~1"), the
 * way json-pos records it.  The caller frees it. */
static char *
pointer_token(const char *key)
{
    struct ds token = DS_EMPTY_INITIALIZER;

    for (const char *p = key; *p; p++) {
        if (*p == '~') {
            ds_put_cstr(&token, "~0");
        } else if (*p == '/') {
            ds_put_cstr(&token, "~1");
        } else {
            ds_put_char(&token, *p);
        }
    }
    return ds_steal_cstr(&token);
}

/* Reports every member of 'object' (at 'path', described by 'what' in
 * messages) whose key is not in the NULL-terminated 'allowed' list. */
static void
check_keys(struct parse_ctx *ctx, const json_t *object, const char *path,
           const char *what, const char *const *allowed)
{
    const char *key;
    json_t *value;

    json_object_foreach ((json_t *) object, key, value) {
        const char *const *a;
        for (a = allowed; *a; a++) {
            if (!strcmp(*a, key)) {
                break;
            }
        }
        if (!*a) {
            char *token = pointer_token(key);
            char *kpath = xasprintf("%s/%s#", path, token);
            free(token);
            struct ds list = DS_EMPTY_INITIALIZER;
            for (a = allowed; *a; a++) {
                ds_put_format(&list, "%s%s", a == allowed ? "" : ", ", *a);
            }
            policy_error(ctx->errors, kpath,
                         "%s: unknown key \"%s\" (expected one of: %s)",
                         what, key, ds_cstr(&list));
            ds_destroy(&list);
            free(kpath);
        }
    }
}

/* Returns member 'key' of 'object' (at 'path') if it is present and of type
 * 'type', otherwise NULL after reporting the problem.  A missing member is
 * an error only if 'required'. */
static json_t *
get_member(struct parse_ctx *ctx, const json_t *object, const char *path,
           const char *what, const char *key, json_type type, bool required)
{
    json_t *value = json_object_get(object, key);
    static const char *names[] = {
        [JSON_OBJECT] = "an object", [JSON_ARRAY] = "an array",
        [JSON_STRING] = "a string", [JSON_INTEGER] = "an integer",
        [JSON_TRUE] = "a boolean", [JSON_FALSE] = "a boolean",
    };

    if (!value) {
        if (required) {
            policy_error(ctx->errors, path, "%s: missing required key \"%s\"",
                         what, key);
        }
        return NULL;
    }
    bool ok = (type == JSON_TRUE
               ? json_is_boolean(value)
               : json_typeof(value) == type);
    if (!ok) {
        char *vpath = xasprintf("%s/%s", path, key);
        policy_error(ctx->errors, vpath, "%s: \"%s\" must be %s, not %s",
                     what, key, names[type], json_type_name(value));
        free(vpath);
        return NULL;
    }
    return value;
}

/* Returns a copy of string member 'key' of 'object', or NULL (see
 * get_member()). */
static char *
get_string(struct parse_ctx *ctx, const json_t *object, const char *path,
           const char *what, const char *key, bool required)
{
    json_t *value = get_member(ctx, object, path, what, key, JSON_STRING,
                               required);
    return value ? xstrdup(json_string_value(value)) : NULL;
}

/* Parses the array of strings member 'key' of 'object' into 'out'. */
static void
get_string_array(struct parse_ctx *ctx, const json_t *object,
                 const char *path, const char *what, const char *key,
                 struct svec *out)
{
    json_t *array = get_member(ctx, object, path, what, key, JSON_ARRAY,
                               false);
    size_t i;
    json_t *elem;

    json_array_foreach (array, i, elem) {
        if (json_is_string(elem)) {
            svec_add(out, json_string_value(elem));
        } else {
            char *epath = xasprintf("%s/%s/%"PRIuSIZE, path, key, i);
            policy_error(ctx->errors, epath,
                         "%s: \"%s\" must hold strings, not %s",
                         what, key, json_type_name(elem));
            free(epath);
        }
    }
}

/* Describes an object of kind 'kind' named 'name' (or numbered 'i' if it
 * has no name) for error messages.  The caller frees it. */
static char *
describe(const char *kind, const char *name, size_t i)
{
    return (name
            ? xasprintf("%s \"%s\"", kind, name)
            : xasprintf("%s #%"PRIuSIZE, kind, i + 1));
}

/* Returns the "name" member of 'object' if it is a string, without
 * reporting anything (get_string() reports it later). */
static const char *
peek_name(const json_t *object)
{
    return json_string_value(json_object_get(object, "name"));
}

/* Returns true if 'json', an element of an array described by 'what' at
 * 'path', is an object, otherwise reports it. */
static bool
expect_object(struct parse_ctx *ctx, const json_t *json, const char *path,
              const char *what)
{
    if (!json_is_object(json)) {
        policy_error(ctx->errors, path, "%s must be an object, not %s",
                     what, json_type_name(json));
        return false;
    }
    return true;
}

static void
parse_network(struct parse_ctx *ctx, struct policy_tenant *tenant,
              const json_t *json, size_t i)
{
    static const char *const keys[] = {
        "name", "type", "segment", "cidrs", "mtu", NULL
    };
    char *what = describe("network", peek_name(json), i);
    char *path = xasprintf("%s/networks/%"PRIuSIZE, tenant->path, i);

    if (expect_object(ctx, json, path, what)) {
        char *name = get_string(ctx, json, path, what, "name", true);
        struct policy_network *net = policy_tenant_add_network(tenant, name);
        free(name);
        free(net->path);
        net->path = xstrdup(path);

        check_keys(ctx, json, path, what, keys);
        char *type = get_string(ctx, json, path, what, "type", true);
        if (type && !policy_net_type_from_string(type, &net->type)) {
            char *tpath = xasprintf("%s/type", path);
            policy_error(ctx->errors, tpath, "%s: type \"%s\" is not "
                         "\"vlan\" or \"vxlan\"", what, type);
            free(tpath);
        }
        free(type);

        json_t *seg = get_member(ctx, json, path, what, "segment",
                                 JSON_INTEGER, true);
        net->segment = seg ? json_integer_value(seg) : POLICY_SEGMENT_UNSET;
        if (seg && net->segment == POLICY_SEGMENT_UNSET) {
            /* The one value the model cannot hold: it means "unset". */
            char *spath = xasprintf("%s/segment", path);
            policy_error(ctx->errors, spath, "%s: segment %"PRId64" is "
                         "out of range", what, net->segment);
            free(spath);
        }
        get_string_array(ctx, json, path, what, "cidrs", &net->cidrs);
        json_t *mtu = get_member(ctx, json, path, what, "mtu",
                                 JSON_INTEGER, false);
        net->mtu = mtu ? json_integer_value(mtu) : 0;
        if (mtu && !net->mtu) {
            /* The model's 0 means "not given", so report it here. */
            char *mpath = xasprintf("%s/mtu", path);
            policy_error(ctx->errors, mpath, "%s: mtu 0 is outside %d-%d",
                         what, POLICY_MTU_MIN, POLICY_MTU_MAX);
            free(mpath);
        }
    }
    free(path);
    free(what);
}

static void
parse_rule(struct parse_ctx *ctx, struct policy_group *group,
           const char *gwhat, const json_t *json, size_t i)
{
    static const char *const keys[] = {
        "direction", "ethertype", "protocol", "ports", "remote", "log", NULL
    };
    char *what = xasprintf("%s rule #%"PRIuSIZE, gwhat, i + 1);
    char *path = xasprintf("%s/rules/%"PRIuSIZE, group->path, i);

    if (expect_object(ctx, json, path, what)) {
        struct policy_rule *rule = policy_group_add_rule(group);
        free(rule->path);
        rule->path = xstrdup(path);
        check_keys(ctx, json, path, what, keys);

        char *dir = get_string(ctx, json, path, what, "direction", true);
        if (dir && !policy_direction_from_string(dir, &rule->direction)) {
            char *dpath = xasprintf("%s/direction", path);
            policy_error(ctx->errors, dpath, "%s: direction \"%s\" is not "
                         "\"ingress\" or \"egress\"", what, dir);
            free(dpath);
        }
        free(dir);

        rule->ethertype = get_string(ctx, json, path, what, "ethertype",
                                     false);

        /* "protocol" is a name or a number; "ports" a string or one
         * number. */
        json_t *proto = json_object_get(json, "protocol");
        if (json_is_integer(proto)) {
            free(rule->protocol);
            rule->protocol = xasprintf("%"JSON_INTEGER_FORMAT,
                                       json_integer_value(proto));
        } else if (proto) {
            char *p = get_string(ctx, json, path, what, "protocol", false);
            if (p) {
                free(rule->protocol);
                rule->protocol = p;
            }
        }
        json_t *ports = json_object_get(json, "ports");
        if (json_is_integer(ports)) {
            rule->ports = xasprintf("%"JSON_INTEGER_FORMAT,
                                    json_integer_value(ports));
        } else if (ports) {
            rule->ports = get_string(ctx, json, path, what, "ports", false);
        }

        char *remote = get_string(ctx, json, path, what, "remote", true);
        if (remote) {
            free(rule->remote);
            rule->remote = remote;
        }
        json_t *log = get_member(ctx, json, path, what, "log", JSON_TRUE,
                                 false);
        rule->log = log && json_is_true(log);
    }
    free(path);
    free(what);
}

static void
parse_group(struct parse_ctx *ctx, struct policy_tenant *tenant,
            const json_t *json, size_t i)
{
    static const char *const keys[] = { "name", "rules", NULL };
    char *what = describe("security group", peek_name(json), i);
    char *path = xasprintf("%s/security_groups/%"PRIuSIZE, tenant->path, i);

    if (expect_object(ctx, json, path, what)) {
        char *name = get_string(ctx, json, path, what, "name", true);
        struct policy_group *group = policy_tenant_add_group(tenant, name);
        free(name);
        free(group->path);
        group->path = xstrdup(path);
        check_keys(ctx, json, path, what, keys);

        json_t *rules = get_member(ctx, json, path, what, "rules",
                                   JSON_ARRAY, false);
        size_t j;
        json_t *rule;
        json_array_foreach (rules, j, rule) {
            parse_rule(ctx, group, what, rule, j);
        }
    }
    free(path);
    free(what);
}

static void
parse_allowed(struct parse_ctx *ctx, struct policy_port *port,
              const char *pwhat, const json_t *json, size_t i)
{
    static const char *const keys[] = { "mac", "ip", NULL };
    char *what = xasprintf("%s allowed address #%"PRIuSIZE, pwhat, i + 1);
    char *path = xasprintf("%s/allowed_addresses/%"PRIuSIZE, port->path, i);

    if (expect_object(ctx, json, path, what)) {
        check_keys(ctx, json, path, what, keys);
        char *ip = get_string(ctx, json, path, what, "ip", true);
        char *mac = get_string(ctx, json, path, what, "mac", false);
        if (ip) {
            port->allowed = xrealloc(port->allowed, (port->n_allowed + 1)
                                     * sizeof *port->allowed);
            port->allowed[port->n_allowed].ip = ip;
            port->allowed[port->n_allowed].mac = mac;
            port->n_allowed++;
        } else {
            free(mac);
        }
    }
    free(path);
    free(what);
}

/* Returns the optional integer member 'key' of 'json' (a port's limit,
 * 'min' to 'max'), or 0 if it is not given.  The model's 0 means "not
 * given", so a 0 in the document is reported here; the validator reports
 * other values out of range. */
static int64_t
get_limit(struct parse_ctx *ctx, const json_t *json, const char *path,
          const char *what, const char *key, int min, int max)
{
    json_t *value = get_member(ctx, json, path, what, key, JSON_INTEGER,
                               false);
    int64_t limit = value ? json_integer_value(value) : 0;

    if (value && !limit) {
        char *vpath = xasprintf("%s/%s", path, key);
        policy_error(ctx->errors, vpath, "%s: %s 0 is outside %d-%d", what,
                     key, min, max);
        free(vpath);
    }
    return limit;
}

static void
parse_port(struct parse_ctx *ctx, struct policy_tenant *tenant,
           const json_t *json, size_t i)
{
    static const char *const keys[] = {
        "name", "iface_id", "network", "mac", "ips", "allowed_addresses",
        "security_groups", "port_security", "broadcast_limit",
        "max_connections", "log_denied", NULL
    };
    char *what = describe("port", peek_name(json), i);
    char *path = xasprintf("%s/ports/%"PRIuSIZE, tenant->path, i);

    if (expect_object(ctx, json, path, what)) {
        char *name = get_string(ctx, json, path, what, "name", true);
        struct policy_port *port = policy_tenant_add_port(tenant, name);
        free(name);
        free(port->path);
        port->path = xstrdup(path);
        check_keys(ctx, json, path, what, keys);

        port->iface_id = get_string(ctx, json, path, what, "iface_id",
                                    false);
        port->network = get_string(ctx, json, path, what, "network", true);
        port->mac = get_string(ctx, json, path, what, "mac", true);
        get_string_array(ctx, json, path, what, "ips", &port->ips);
        get_string_array(ctx, json, path, what, "security_groups",
                         &port->groups);
        json_t *ps = get_member(ctx, json, path, what, "port_security",
                                JSON_TRUE, false);
        port->port_security = !ps || json_is_true(ps);
        json_t *ld = get_member(ctx, json, path, what, "log_denied",
                                JSON_TRUE, false);
        port->log_denied = ld && json_is_true(ld);
        port->broadcast_limit = get_limit(ctx, json, path, what,
                                          "broadcast_limit",
                                          POLICY_BROADCAST_LIMIT_MIN,
                                          POLICY_BROADCAST_LIMIT_MAX);
        port->max_connections = get_limit(ctx, json, path, what,
                                          "max_connections",
                                          POLICY_MAX_CONNECTIONS_MIN,
                                          POLICY_MAX_CONNECTIONS_MAX);

        json_t *allowed = get_member(ctx, json, path, what,
                                     "allowed_addresses", JSON_ARRAY, false);
        size_t j;
        json_t *elem;
        json_array_foreach (allowed, j, elem) {
            parse_allowed(ctx, port, what, elem, j);
        }
    }
    free(path);
    free(what);
}

/* Parses the array member 'key' of tenant object 'json' with 'parse'. */
static void
parse_tenant_array(struct parse_ctx *ctx, struct policy_tenant *tenant,
                   const json_t *json, const char *what, const char *key,
                   void (*parse)(struct parse_ctx *, struct policy_tenant *,
                                 const json_t *, size_t))
{
    json_t *array = get_member(ctx, json, tenant->path, what, key,
                               JSON_ARRAY, false);
    size_t i;
    json_t *elem;

    json_array_foreach (array, i, elem) {
        parse(ctx, tenant, elem, i);
    }
}

static void
parse_tenant(struct parse_ctx *ctx, struct policy *policy,
             const json_t *json, size_t i)
{
    static const char *const keys[] = {
        "name", "networks", "security_groups", "ports", NULL
    };
    char *what = describe("tenant", peek_name(json), i);
    char *path = xasprintf("/tenants/%"PRIuSIZE, i);

    if (expect_object(ctx, json, path, what)) {
        char *name = get_string(ctx, json, path, what, "name", true);
        struct policy_tenant *tenant = policy_add_tenant(policy, name);
        free(name);
        free(tenant->path);
        tenant->path = xstrdup(path);
        check_keys(ctx, json, path, what, keys);

        parse_tenant_array(ctx, tenant, json, what, "networks",
                           parse_network);
        parse_tenant_array(ctx, tenant, json, what, "security_groups",
                           parse_group);
        parse_tenant_array(ctx, tenant, json, what, "ports", parse_port);
    }
    free(path);
    free(what);
}

/* Builds a policy from the parsed document 'root'. */
static struct policy *
policy_from_json(const json_t *root, struct policy_errors *errors)
{
    static const char *const keys[] = { "version", "tenants", NULL };
    struct parse_ctx ctx = { .errors = errors };
    struct policy *policy = policy_create();

    if (!json_is_object(root)) {
        policy_error(errors, "", "a policy document must be an object, "
                     "not %s", json_type_name(root));
        return policy;
    }
    check_keys(&ctx, root, "", "document", keys);

    json_t *version = get_member(&ctx, root, "", "document", "version",
                                 JSON_INTEGER, true);
    if (version && json_integer_value(version) != POLICY_FORMAT_VERSION) {
        policy_error(errors, "/version", "document: version %"
                     JSON_INTEGER_FORMAT" is not supported (expected %d)",
                     json_integer_value(version), POLICY_FORMAT_VERSION);
    }

    json_t *tenants = get_member(&ctx, root, "", "document", "tenants",
                                 JSON_ARRAY, true);
    size_t i;
    json_t *tenant;
    json_array_foreach (tenants, i, tenant) {
        parse_tenant(&ctx, policy, tenant, i);
    }
    return policy;
}

/* Parses the policy document 'text'.  Errors go to 'errors', which names
 * the document.  Returns NULL if the text is not JSON at all; otherwise a
 * policy that holds every part of the document that could be read (it is
 * meaningful only if 'errors' stayed empty). */
struct policy *
policy_parse_string(const char *text, struct policy_errors *errors)
{
    json_error_t error;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &error);

    if (!root) {
        struct policy_error *e;
        policy_error(errors, NULL, "%s", error.text);
        /* jansson knows the place of a syntax error itself. */
        e = &errors->errors[errors->n - 1];
        if (error.line > 0) {
            char *msg = xasprintf("%s:%d:%d: %s", errors->file, error.line,
                                  error.column, error.text);
            free(e->message);
            e->message = msg;
            e->line = error.line;
            e->column = error.column;
        }
        return NULL;
    }

    json_pos_index_destroy(errors->index);
    errors->index = json_pos_index_create(text, strlen(text));
    struct policy *policy = policy_from_json(root, errors);
    json_decref(root);
    return policy;
}

/* Reads and parses the policy document in 'file_name' (see
 * policy_parse_string()). */
struct policy *
policy_parse_file(const char *file_name, struct policy_errors *errors)
{
    struct ds text = DS_EMPTY_INITIALIZER;
    FILE *stream = (!strcmp(file_name, "-")
                    ? stdin : fopen(file_name, "r"));

    if (!stream) {
        policy_error(errors, NULL, "cannot open: %s", ovs_strerror(errno));
        return NULL;
    }
    /* A NUL byte, or a text past POLICY_DOC_MAX_BYTES, ends the reading
     * (/dev/zero, a device or a runaway pipe would never end it). */
    int c;
    bool nul = false, big = false;
    while ((c = getc(stream)) != EOF) {
        if (!c || text.length >= POLICY_DOC_MAX_BYTES) {
            nul = !c;
            big = !nul;
            break;
        }
        ds_put_char(&text, c);
    }
    if ((nul || big) && !ferror(stream)) {
        if (nul) {
            policy_error(errors, NULL, "contains a NUL byte: not a JSON "
                         "text");
        } else {
            policy_error(errors, NULL, "is larger than %d bytes, more than "
                         "a policy document may be", POLICY_DOC_MAX_BYTES);
        }
        if (stream != stdin) {
            fclose(stream);
        }
        ds_destroy(&text);
        return NULL;
    }
    if (ferror(stream)) {
        policy_error(errors, NULL, "cannot read: %s", ovs_strerror(errno));
        if (stream != stdin) {
            fclose(stream);
        }
        ds_destroy(&text);
        return NULL;
    }
    if (stream != stdin) {
        fclose(stream);
    }
    struct policy *policy = policy_parse_string(ds_cstr(&text), errors);
    ds_destroy(&text);
    return policy;
}

/* Printing. */

/* jansson's json_object(), json_array(), json_string() and json_integer()
 * have the same names as functions of OVS's lib/json.c, and a program that
 * links both libraries calls OVS's (an assertion failure at best).  These
 * build the same values with jansson functions whose names are its own;
 * the pragma below keeps the clashing names out of this file. */

/* Returns a new, empty JSON object. */
static json_t *
jobject(void)
{
    return json_pack("{}");
}

/* Returns a new, empty JSON array. */
static json_t *
jarray(void)
{
    return json_pack("[]");
}

/* Returns a new JSON string holding 's', or NULL if 's' is NULL or not
 * UTF-8 (as json_string() does). */
static json_t *
jstring(const char *s)
{
    return s ? json_stringn(s, strlen(s)) : NULL;
}

/* Returns a new JSON integer holding 'value'. */
static json_t *
jinteger(json_int_t value)
{
    return json_pack("I", value);
}

#pragma GCC poison json_object json_array json_string json_integer
#pragma GCC poison json_real json_equal

/* Returns 'svec' as a JSON array of strings. */
static json_t *
svec_to_json(const struct svec *svec)
{
    json_t *array = jarray();
    const char *s;
    size_t i;

    SVEC_FOR_EACH (i, s, svec) {
        json_array_append_new(array, jstring(s));
    }
    return array;
}

/* Returns true if 's' is a decimal number with no sign. */
static bool
is_decimal(const char *s)
{
    return *s && strspn(s, "0123456789") == strlen(s);
}

static json_t *
rule_to_json(const struct policy_rule *rule)
{
    json_t *json = jobject();

    json_object_set_new(json, "direction", jstring(
                            policy_direction_to_string(rule->direction)));
    if (rule->ethertype) {
        json_object_set_new(json, "ethertype", jstring(rule->ethertype));
    }
    json_object_set_new(json, "protocol",
                        (is_decimal(rule->protocol)
                         ? jinteger(atoi(rule->protocol))
                         : jstring(rule->protocol)));
    if (rule->ports) {
        json_object_set_new(json, "ports", jstring(rule->ports));
    }
    json_object_set_new(json, "remote", jstring(rule->remote));
    if (rule->log) {
        json_object_set_new(json, "log", json_true());
    }
    return json;
}

static json_t *
network_to_json(const struct policy_network *net)
{
    json_t *json = jobject();

    json_object_set_new(json, "name", jstring(net->name));
    json_object_set_new(json, "type",
                        jstring(policy_net_type_to_string(net->type)));
    json_object_set_new(json, "segment", jinteger(net->segment));
    if (net->cidrs.n) {
        json_object_set_new(json, "cidrs", svec_to_json(&net->cidrs));
    }
    if (net->mtu) {
        json_object_set_new(json, "mtu", jinteger(net->mtu));
    }
    return json;
}

static json_t *
group_to_json(const struct policy_group *group)
{
    json_t *json = jobject();

    json_object_set_new(json, "name", jstring(group->name));
    if (group->n_rules) {
        json_t *rules = jarray();
        for (size_t i = 0; i < group->n_rules; i++) {
            json_array_append_new(rules, rule_to_json(&group->rules[i]));
        }
        json_object_set_new(json, "rules", rules);
    }
    return json;
}

static json_t *
port_to_json(const struct policy_port *port)
{
    json_t *json = jobject();

    json_object_set_new(json, "name", jstring(port->name));
    if (port->iface_id && strcmp(port->iface_id, port->name)) {
        json_object_set_new(json, "iface_id", jstring(port->iface_id));
    }
    json_object_set_new(json, "network", jstring(port->network));
    json_object_set_new(json, "mac", jstring(port->mac));
    if (port->ips.n) {
        json_object_set_new(json, "ips", svec_to_json(&port->ips));
    }
    if (port->n_allowed) {
        json_t *allowed = jarray();
        for (size_t i = 0; i < port->n_allowed; i++) {
            json_t *a = jobject();
            if (port->allowed[i].mac) {
                json_object_set_new(a, "mac",
                                    jstring(port->allowed[i].mac));
            }
            json_object_set_new(a, "ip", jstring(port->allowed[i].ip));
            json_array_append_new(allowed, a);
        }
        json_object_set_new(json, "allowed_addresses", allowed);
    }
    if (port->groups.n) {
        json_object_set_new(json, "security_groups",
                            svec_to_json(&port->groups));
    }
    if (port->broadcast_limit) {
        json_object_set_new(json, "broadcast_limit",
                            jinteger(port->broadcast_limit));
    }
    if (port->max_connections) {
        json_object_set_new(json, "max_connections",
                            jinteger(port->max_connections));
    }
    if (!port->port_security) {
        json_object_set_new(json, "port_security", json_false());
    }
    if (port->log_denied) {
        json_object_set_new(json, "log_denied", json_true());
    }
    return json;
}

/* Returns 'policy' as the text of a policy document in canonical form:
 * keys in a fixed order, defaults and empty lists left out, indented by
 * two spaces, with a final new-line.  The caller frees it. */
char *
policy_to_string(const struct policy *policy)
{
    json_t *root = jobject();
    json_t *tenants = jarray();

    json_object_set_new(root, "version",
                        jinteger(POLICY_FORMAT_VERSION));
    for (size_t i = 0; i < policy->n_tenants; i++) {
        const struct policy_tenant *t = &policy->tenants[i];
        json_t *tenant = jobject();
        json_object_set_new(tenant, "name", jstring(t->name));
        if (t->n_networks) {
            json_t *a = jarray();
            for (size_t j = 0; j < t->n_networks; j++) {
                json_array_append_new(a, network_to_json(&t->networks[j]));
            }
            json_object_set_new(tenant, "networks", a);
        }
        if (t->n_groups) {
            json_t *a = jarray();
            for (size_t j = 0; j < t->n_groups; j++) {
                json_array_append_new(a, group_to_json(&t->groups[j]));
            }
            json_object_set_new(tenant, "security_groups", a);
        }
        if (t->n_ports) {
            json_t *a = jarray();
            for (size_t j = 0; j < t->n_ports; j++) {
                json_array_append_new(a, port_to_json(&t->ports[j]));
            }
            json_object_set_new(tenant, "ports", a);
        }
        json_array_append_new(tenants, tenant);
    }
    json_object_set_new(root, "tenants", tenants);

    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    char *result = xasprintf("%s\n", text);
    free(text);
    return result;
}
