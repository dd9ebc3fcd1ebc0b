/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Checking the meaning of a policy (see policy.h). */

#include <config.h>
#include "policies/policy.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "openvswitch/dynamic-string.h"
#include "openvswitch/shash.h"
#include "util.h"

/* Longest name of a tenant, network, group or port. */
#define NAME_MAX_LEN 64

/* An IPv4 or IPv6 prefix; an address is a prefix of full length. */
struct prefix {
    int family;                 /* AF_INET or AF_INET6. */
    uint8_t addr[16];           /* The address, 4 or 16 bytes used. */
    unsigned int plen;          /* Prefix length. */
};

/* Returns NULL if address 'a' may be a port's own, otherwise a static
 * explanation: no VM sends from the unspecified, loopback, multicast or
 * broadcast address, and port security would let it. */
static const char *
check_host_address(const struct prefix *a)
{
    static const uint8_t zero[16];
    const uint8_t *b = a->addr;

    if (a->family == AF_INET) {
        if (!memcmp(b, zero, 4) || b[0] == 0) {
            return "is in 0.0.0.0/8 (this network)";
        } else if (b[0] == 127) {
            return "is a loopback address";
        } else if (b[0] >= 224) {
            return (b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 255
                    ? "is the broadcast address"
                    : "is a multicast or reserved address (224.0.0.0/3)");
        }
    } else {
        if (!memcmp(b, zero, 16)) {
            return "is the unspecified address";
        } else if (!memcmp(b, zero, 15) && b[15] == 1) {
            return "is the loopback address";
        } else if (b[0] == 0xff) {
            return "is a multicast address";
        }
    }
    return NULL;
}

/* Parses 's' as an IPv4 or IPv6 address, with a "/LEN" prefix length if
 * 'allow_plen'.  Returns NULL on success, otherwise a static explanation.
 * A prefix whose host bits are not zero is refused. */
static const char *
parse_prefix(const char *s, bool allow_plen, struct prefix *p)
{
    char buf[INET6_ADDRSTRLEN + 8];
    const char *slash = strchr(s, '/');
    size_t len = slash ? slash - s : strlen(s);

    if (len >= sizeof buf) {
        return "is not an IPv4 or IPv6 address";
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    memset(p, 0, sizeof *p);
    if (inet_pton(AF_INET, buf, p->addr) == 1) {
        p->family = AF_INET;
        p->plen = 32;
    } else if (inet_pton(AF_INET6, buf, p->addr) == 1) {
        p->family = AF_INET6;
        p->plen = 128;
    } else {
        return "is not an IPv4 or IPv6 address";
    }

    if (slash) {
        if (!allow_plen) {
            return "is a prefix, not an address";
        }
        const char *digits = slash + 1;
        if (!*digits || strlen(digits) > 3
            || strspn(digits, "0123456789") != strlen(digits)
            || atoi(digits) > p->plen) {
            return (p->family == AF_INET
                    ? "has a prefix length outside 0-32"
                    : "has a prefix length outside 0-128");
        }
        p->plen = atoi(digits);
        size_t n_bytes = p->family == AF_INET ? 4 : 16;
        for (size_t bit = p->plen; bit < n_bytes * 8; bit++) {
            if (p->addr[bit / 8] & (0x80 >> (bit % 8))) {
                return "has host bits set beyond its prefix length";
            }
        }
    }
    return NULL;
}

/* Returns true if address 'a' is inside prefix 'p'. */
static bool
prefix_contains(const struct prefix *p, const struct prefix *a)
{
    if (p->family != a->family || a->plen < p->plen) {
        return false;
    }
    for (size_t bit = 0; bit < p->plen; bit++) {
        uint8_t mask = 0x80 >> (bit % 8);
        if ((p->addr[bit / 8] ^ a->addr[bit / 8]) & mask) {
            return false;
        }
    }
    return true;
}

/* Returns NULL if 's' is a unicast Ethernet address "xx:xx:xx:xx:xx:xx",
 * otherwise a static explanation. */
static const char *
check_mac(const char *s)
{
    unsigned int b[6];
    int n = 0;

    if (strlen(s) != 17
        || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &b[0], &b[1], &b[2],
                  &b[3], &b[4], &b[5], &n) != 6
        || n != 17) {
        return "is not an Ethernet address (xx:xx:xx:xx:xx:xx)";
    }
    for (int i = 0; i < 17; i++) {
        if (i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char) s[i])) {
            return "is not an Ethernet address (xx:xx:xx:xx:xx:xx)";
        }
    }
    if (b[0] & 1) {
        return "is a multicast Ethernet address, not a vNIC's";
    }
    if (!(b[0] | b[1] | b[2] | b[3] | b[4] | b[5])) {
        return "is the all-zeros Ethernet address";
    }
    return NULL;
}

/* Returns NULL if 's' is a valid name for a tenant, network, group or
 * port, otherwise a static explanation. */
static const char *
check_name(const char *s)
{
    if (!*s) {
        return "is empty";
    }
    if (strlen(s) > NAME_MAX_LEN) {
        return "is longer than 64 characters";
    }
    if (!isalnum((unsigned char) s[0])) {
        return "must start with a letter or a digit";
    }
    for (const char *p = s; *p; p++) {
        if (!isalnum((unsigned char) *p) && !strchr("_.:-", *p)) {
            return "may hold only letters, digits, '_', '.', ':' and '-'";
        }
    }
    return NULL;
}

/* Returns NULL if 's' is a valid name for a tenant, network, group, port
 * or mirror, otherwise a static explanation. */
const char *
policy_check_name(const char *s)
{
    return check_name(s);
}

/* What the validator knows while it walks a policy. */
struct validate_ctx {
    struct policy_errors *errors;   /* Where errors go. */
    const struct policy *policy;    /* The policy checked. */
    const struct policy *context;   /* Tenants that stay beside it. */
    struct shash segments;          /* "vlan 101" -> struct seg_owner *. */
    struct shash iface_ids;         /* iface-id -> struct seg_owner *. */
    struct shash networks;          /* The tenant's networks by name (the
                                     * first of a name). */
    struct shash groups;            /* Its security groups, likewise. */
};

/* Who holds a segment or an iface-id first. */
struct seg_owner {
    const char *tenant;         /* Tenant name. */
    const char *object;         /* Network or port name. */
    bool in_context;            /* Held by a tenant of the context. */
};

/* Reports an error on field 'field' of the object at 'path'. */
static void
field_error(struct validate_ctx *ctx, const char *path, const char *field,
            const char *format, ...)
    __attribute__((format(printf, 4, 5)));
static void
field_error(struct validate_ctx *ctx, const char *path, const char *field,
            const char *format, ...)
{
    char *fpath = field ? xasprintf("%s/%s", path, field) : xstrdup(path);
    char *msg;
    va_list args;

    va_start(args, format);
    msg = xvasprintf(format, args);
    va_end(args);
    policy_error(ctx->errors, fpath, "%s", msg);
    free(msg);
    free(fpath);
}

/* Checks the name of an object (described as 'kind' in messages) at
 * 'path'; returns false if it was missing or invalid. */
static bool
validate_name(struct validate_ctx *ctx, const char *path,
              const char *kind, const char *name)
{
    if (!name) {
        return false;           /* The parser reported it. */
    }
    const char *problem = check_name(name);
    if (problem) {
        field_error(ctx, path, "name", "%s name \"%s\" %s", kind, name,
                    problem);
        return false;
    }
    return true;
}

/* Records that 'tenant''s 'object' holds 'key' in 'map'.  Returns the
 * previous holder if there was one. */
static const struct seg_owner *
claim(struct shash *map, const char *key, const char *tenant,
      const char *object, bool in_context)
{
    struct seg_owner *owner = shash_find_data(map, key);
    if (owner) {
        return owner;
    }
    owner = xmalloc(sizeof *owner);
    owner->tenant = tenant;
    owner->object = object;
    owner->in_context = in_context;
    shash_add(map, key, owner);
    return NULL;
}

/* Returns the name of the tenant, other than 'self', that has a network
 * ('kind' 'n'), security group ('g') or port ('p') named 'name', or NULL. */
static const char *
find_foreign(const struct validate_ctx *ctx, const char *self, char kind,
             const char *name)
{
    const struct policy *policies[2] = { ctx->policy, ctx->context };

    for (size_t k = 0; k < 2; k++) {
        const struct policy *p = policies[k];
        for (size_t i = 0; p && i < p->n_tenants; i++) {
            const struct policy_tenant *t = &p->tenants[i];
            if (!t->name || !strcmp(t->name, self)) {
                continue;
            }
            if ((kind == 'n' && policy_find_network(t, name))
                || (kind == 'g' && policy_find_group(t, name))) {
                return t->name;
            }
        }
    }
    return NULL;
}

static void
validate_network(struct validate_ctx *ctx, const struct policy_tenant *t,
                 const struct policy_network *net)
{
    const char *type = policy_net_type_to_string(net->type);

    if (!validate_name(ctx, net->path, "network", net->name)) {
        return;
    }
    if (net->segment != POLICY_SEGMENT_UNSET) {
        bool vlan = net->type == POLICY_NET_VLAN;
        int64_t min = vlan ? POLICY_VLAN_MIN : POLICY_VNI_MIN;
        int64_t max = vlan ? POLICY_VLAN_MAX : POLICY_VNI_MAX;
        if (net->segment < min || net->segment > max) {
            field_error(ctx, net->path, "segment",
                        "network \"%s\": segment %"PRId64" is outside "
                        "the %s range %"PRId64"-%"PRId64, net->name,
                        net->segment, vlan ? "VLAN ID" : "VNI", min, max);
        } else {
            char *key = xasprintf("%s %"PRId64, type, net->segment);
            const struct seg_owner *o = claim(&ctx->segments, key, t->name,
                                              net->name, false);
            if (o) {
                field_error(ctx, net->path, "segment",
                            "network \"%s\": %s segment %"PRId64" is "
                            "already used by network \"%s\" of tenant "
                            "\"%s\"%s", net->name, type, net->segment,
                            o->object, o->tenant,
                            o->in_context ? " in the Tenant DB" : "");
            }
            free(key);
        }
    }

    for (size_t i = 0; i < net->cidrs.n; i++) {
        struct prefix p;
        const char *problem = parse_prefix(net->cidrs.names[i], true, &p);
        if (!problem && !strchr(net->cidrs.names[i], '/')) {
            problem = "has no prefix length (\"/LEN\")";
        }
        if (problem) {
            char *field = xasprintf("cidrs/%"PRIuSIZE, i);
            field_error(ctx, net->path, field, "network \"%s\": CIDR \"%s\" "
                        "%s", net->name, net->cidrs.names[i], problem);
            free(field);
        }
    }
    if (net->mtu && (net->mtu < POLICY_MTU_MIN || net->mtu > POLICY_MTU_MAX)) {
        field_error(ctx, net->path, "mtu", "network \"%s\": mtu %"PRId64
                    " is outside %d-%d", net->name, net->mtu,
                    POLICY_MTU_MIN, POLICY_MTU_MAX);
    }
}

/* Returns true if 'protocol' of a rule carries ports. */
static bool
protocol_has_ports(const char *protocol)
{
    return (!strcmp(protocol, "tcp") || !strcmp(protocol, "udp")
            || !strcmp(protocol, "6") || !strcmp(protocol, "17"));
}

/* Returns how many ports and ranges the "ports" string 'ports' (may be
 * NULL) lists. */
static size_t
count_ports(const char *ports)
{
    size_t n = ports && *ports;

    for (const char *p = ports; p && *p; p++) {
        n += *p == ',';
    }
    return n;
}

/* Checks a rule's "ports" string; returns NULL or an explanation, which
 * the caller frees. */
static char *
check_ports(const char *ports)
{
    const char *p = ports;

    if (!*p) {
        return xstrdup("is empty");
    }
    size_t n = count_ports(ports);
    if (n > POLICY_RULE_PORTS_MAX) {
        return xasprintf("lists %"PRIuSIZE" ports and ranges, more than "
                         "the %d a rule may have", n, POLICY_RULE_PORTS_MAX);
    }
    for (;;) {
        char *end;
        long lo, hi;

        if (!isdigit((unsigned char) *p)) {
            return xasprintf("is not a comma list of ports and ranges "
                             "such as \"22\", \"80,443\" or \"8000-8080\"");
        }
        lo = hi = strtol(p, &end, 10);
        if (*end == '-') {
            p = end + 1;
            if (!isdigit((unsigned char) *p)) {
                return xasprintf("is not a comma list of ports and ranges "
                                 "such as \"22\", \"80,443\" or "
                                 "\"8000-8080\"");
            }
            hi = strtol(p, &end, 10);
        }
        if (lo < 1 || lo > 65535 || hi < 1 || hi > 65535) {
            return xasprintf("holds port %ld, outside 1-65535",
                             lo < 1 || lo > 65535 ? lo : hi);
        }
        if (lo > hi) {
            return xasprintf("holds the reversed range %ld-%ld", lo, hi);
        }
        if (!*end) {
            return NULL;
        }
        if (*end != ',') {
            return xasprintf("is not a comma list of ports and ranges "
                             "such as \"22\", \"80,443\" or \"8000-8080\"");
        }
        p = end + 1;
    }
}

static void
validate_rule(struct validate_ctx *ctx, const struct policy_tenant *t,
              const struct policy_group *g, const struct policy_rule *r,
              size_t index)
{
    char *what = xasprintf("security group \"%s\" rule #%"PRIuSIZE,
                           g->name, index + 1);
    int family = 0;             /* AF_INET/AF_INET6 required, 0 either. */

    if (r->ethertype) {
        if (!strcmp(r->ethertype, "ipv4")) {
            family = AF_INET;
        } else if (!strcmp(r->ethertype, "ipv6")) {
            family = AF_INET6;
        } else {
            field_error(ctx, r->path, "ethertype", "%s: ethertype \"%s\" is "
                        "not \"ipv4\" or \"ipv6\"", what, r->ethertype);
        }
    }

    const char *proto = r->protocol;
    if (!strcmp(proto, "icmp") || !strcmp(proto, "icmpv6")) {
        int need = proto[4] ? AF_INET6 : AF_INET;
        if (family && family != need) {
            field_error(ctx, r->path, "protocol", "%s: protocol \"%s\" "
                        "does not go with ethertype \"%s\"", what, proto,
                        r->ethertype);
        }
        family = need;
    } else if (strcmp(proto, "any") && strcmp(proto, "tcp")
               && strcmp(proto, "udp")) {
        if (strspn(proto, "0123456789") != strlen(proto) || !*proto
            || strlen(proto) > 3 || atoi(proto) > 255) {
            field_error(ctx, r->path, "protocol", "%s: protocol \"%s\" is "
                        "not any, tcp, udp, icmp, icmpv6 or a number 0-255",
                        what, proto);
        }
    }

    if (r->ports) {
        if (!protocol_has_ports(proto)) {
            field_error(ctx, r->path, "ports", "%s: \"ports\" given for "
                        "protocol \"%s\", which has no ports (only tcp and "
                        "udp do)", what, proto);
        } else {
            char *problem = check_ports(r->ports);
            if (problem) {
                field_error(ctx, r->path, "ports", "%s: ports \"%s\" %s",
                            what, r->ports, problem);
                free(problem);
            }
        }
    }

    const char *remote = r->remote;
    if (remote[0] == '@') {
        const char *gname = remote + 1;
        const char *slash = strchr(gname, '/');
        if (slash) {
            field_error(ctx, r->path, "remote", "%s: remote \"%s\" names a "
                        "group of another tenant; a rule may only name "
                        "groups of its own tenant \"%s\"", what, remote,
                        t->name);
        } else if (!shash_find(&ctx->groups, gname)) {
            const char *other = find_foreign(ctx, t->name, 'g', gname);
            if (other) {
                field_error(ctx, r->path, "remote", "%s: remote \"%s\" is "
                            "a group of tenant \"%s\"; a rule may only name "
                            "groups of its own tenant \"%s\"", what, remote,
                            other, t->name);
            } else {
                field_error(ctx, r->path, "remote", "%s: remote \"%s\": "
                            "tenant \"%s\" has no security group \"%s\"",
                            what, remote, t->name, gname);
            }
        }
    } else if (strcmp(remote, "any")) {
        struct prefix p;
        const char *problem = parse_prefix(remote, true, &p);
        if (problem) {
            field_error(ctx, r->path, "remote", "%s: remote \"%s\" %s (a "
                        "remote is a CIDR, \"any\" or \"@group\")", what,
                        remote, problem);
        } else if (family && family != p.family) {
            field_error(ctx, r->path, "remote", "%s: remote \"%s\" is not "
                        "an %s prefix, as %s requires", what, remote,
                        family == AF_INET ? "IPv4" : "IPv6",
                        r->ethertype ? "its ethertype" : "its protocol");
        }
    }
    free(what);
}

static void
validate_group(struct validate_ctx *ctx, const struct policy_tenant *t,
               const struct policy_group *g)
{
    if (validate_name(ctx, g->path, "security group", g->name)) {
        for (size_t i = 0; i < g->n_rules; i++) {
            validate_rule(ctx, t, g, &g->rules[i], i);
        }
        if (g->n_rules > POLICY_PORT_RULES_MAX) {
            field_error(ctx, g->path, "rules", "security group \"%s\": "
                        "%"PRIuSIZE" rules, more than the %d a group may "
                        "hold", g->name, g->n_rules, POLICY_PORT_RULES_MAX);
        }
    }
}

/* Checks that every IP of 'port' (described as 'what') parses and lies in
 * one of the CIDRs of its network 'net' (if it has any), and that no other
 * port of the network has it ('ips' maps "net ip" to a port name). */
static void
validate_port_ips(struct validate_ctx *ctx, const struct policy_port *port,
                  const struct policy_network *net, struct shash *ips)
{
    for (size_t i = 0; i < port->ips.n; i++) {
        const char *ip = port->ips.names[i];
        char *field = xasprintf("ips/%"PRIuSIZE, i);
        struct prefix a;
        const char *problem = parse_prefix(ip, false, &a);

        if (!problem) {
            problem = check_host_address(&a);
        }
        if (problem) {
            field_error(ctx, port->path, field, "port \"%s\": IP \"%s\" %s",
                        port->name, ip, problem);
        } else if (net) {
            bool inside = !net->cidrs.n;
            for (size_t j = 0; !inside && j < net->cidrs.n; j++) {
                struct prefix p;
                if (!parse_prefix(net->cidrs.names[j], true, &p)
                    && prefix_contains(&p, &a)) {
                    inside = true;
                }
            }
            if (!inside) {
                struct ds cidrs = DS_EMPTY_INITIALIZER;
                for (size_t j = 0; j < net->cidrs.n; j++) {
                    ds_put_format(&cidrs, "%s%s", j ? ", " : "",
                                  net->cidrs.names[j]);
                }
                field_error(ctx, port->path, field, "port \"%s\": IP %s is "
                            "outside every CIDR of network \"%s\" (%s)",
                            port->name, ip, net->name, ds_cstr(&cidrs));
                ds_destroy(&cidrs);
            }
            /* Compare addresses, not spellings ("2001:DB8:0::1"). */
            char addr[INET6_ADDRSTRLEN];
            inet_ntop(a.family, a.addr, addr, sizeof addr);
            char *key = xasprintf("%s %s", net->name, addr);
            const char *other = shash_find_data(ips, key);
            if (other) {
                field_error(ctx, port->path, field, "port \"%s\": IP %s is "
                            "already used by port \"%s\" on network \"%s\"",
                            port->name, ip, other, net->name);
            } else {
                shash_add(ips, key, port->name);
            }
            free(key);
        }
        free(field);
    }
}

/* Returns the key under which the MAC 'mac' of a port on network 'net' is
 * kept in the 'macs' map of a tenant: the network's name as it is (names
 * are case-sensitive: "LAN" and "lan" are two networks) and the MAC in
 * canonical form (a MAC in any case is one MAC).  The caller frees it. */
static char *
mac_key(const char *net, const char *mac)
{
    char *canonical = policy_mac_canonical(mac);
    char *key = xasprintf("%s %s", net, canonical);

    free(canonical);
    return key;
}

/* One MAC, one owner per network: reports every allowed address of 'port'
 * whose MAC is another port's own MAC on the same network ('macs', filled
 * by validate_port() for every port of the tenant), whatever its case. */
static void
validate_allowed_macs(struct validate_ctx *ctx,
                      const struct policy_port *port,
                      const struct shash *macs)
{
    for (size_t i = 0; port->network && i < port->n_allowed; i++) {
        const struct policy_address *a = &port->allowed[i];
        if (!a->mac || check_mac(a->mac)) {
            continue;
        }
        char *key = mac_key(port->network, a->mac);
        const char *owner = shash_find_data(macs, key);
        if (owner && strcmp(owner, port->name)) {
            char *apath = xasprintf("%s/allowed_addresses/%"PRIuSIZE,
                                    port->path, i);
            field_error(ctx, apath, "mac", "port \"%s\": allowed address "
                        "MAC %s is the MAC of port \"%s\" on network "
                        "\"%s\"", port->name, a->mac, owner, port->network);
            free(apath);
        }
        free(key);
    }
}

/* Reports limit 'key' of 'port' (0: not given) if it is not 'min' to
 * 'max'. */
static void
check_port_limit(struct validate_ctx *ctx, const struct policy_port *port,
                 const char *key, int64_t value, int min, int max)
{
    if (value && (value < min || value > max)) {
        field_error(ctx, port->path, key, "port \"%s\": %s %"PRId64" is "
                    "outside %d-%d", port->name, key, value, min, max);
    }
}

static void
validate_port(struct validate_ctx *ctx, const struct policy_tenant *t,
              const struct policy_port *port, struct shash *macs,
              struct shash *ips)
{
    if (!validate_name(ctx, port->path, "port", port->name)) {
        return;
    }

    const char *iface_id = policy_port_iface_id(port);
    if (port->iface_id && policy_check_iface_id(iface_id)) {
        field_error(ctx, port->path, "iface_id", "port \"%s\": iface_id "
                    "\"%s\" %s", port->name, iface_id,
                    policy_check_iface_id(iface_id));
    } else {
        const struct seg_owner *o = claim(&ctx->iface_ids, iface_id,
                                          t->name, port->name, false);
        if (o) {
            field_error(ctx, port->path,
                        port->iface_id ? "iface_id" : "name",
                        "port \"%s\": iface_id \"%s\" is already claimed by "
                        "port \"%s\" of tenant \"%s\"%s; two ports cannot "
                        "bind one vNIC", port->name, iface_id, o->object,
                        o->tenant, o->in_context ? " in the Tenant DB" : "");
        }
    }

    const struct policy_network *net = NULL;
    if (port->network) {
        net = shash_find_data(&ctx->networks, port->network);
        if (!net) {
            const char *other = find_foreign(ctx, t->name, 'n',
                                             port->network);
            if (other) {
                field_error(ctx, port->path, "network", "port \"%s\": "
                            "network \"%s\" belongs to tenant \"%s\"; a port "
                            "may only join its own tenant's networks",
                            port->name, port->network, other);
            } else {
                field_error(ctx, port->path, "network", "port \"%s\": "
                            "tenant \"%s\" has no network \"%s\"",
                            port->name, t->name, port->network);
            }
        }
    }

    if (port->mac) {
        const char *problem = check_mac(port->mac);
        if (problem) {
            field_error(ctx, port->path, "mac", "port \"%s\": MAC \"%s\" %s",
                        port->name, port->mac, problem);
        } else if (net) {
            char *key = mac_key(net->name, port->mac);
            const char *other = shash_find_data(macs, key);
            if (other) {
                field_error(ctx, port->path, "mac", "port \"%s\": MAC %s is "
                            "already used by port \"%s\" on network \"%s\"",
                            port->name, port->mac, other, net->name);
            } else {
                shash_add(macs, key, port->name);
            }
            free(key);
        }
    }

    validate_port_ips(ctx, port, net, ips);
    if (port->ips.n > POLICY_PORT_ADDRESSES_MAX) {
        field_error(ctx, port->path, "ips", "port \"%s\": %"PRIuSIZE" IPs, "
                    "more than the %d a port may have", port->name,
                    port->ips.n, POLICY_PORT_ADDRESSES_MAX);
    }
    if (port->n_allowed > POLICY_PORT_ADDRESSES_MAX) {
        field_error(ctx, port->path, "allowed_addresses", "port \"%s\": "
                    "%"PRIuSIZE" allowed addresses, more than the %d a port "
                    "may have (a prefix allows many)", port->name,
                    port->n_allowed, POLICY_PORT_ADDRESSES_MAX);
    }

    for (size_t i = 0; i < port->n_allowed; i++) {
        const struct policy_address *a = &port->allowed[i];
        char *apath = xasprintf("%s/allowed_addresses/%"PRIuSIZE,
                                port->path, i);
        const char *problem = a->mac ? check_mac(a->mac) : NULL;
        if (problem) {
            field_error(ctx, apath, "mac", "port \"%s\": allowed address "
                        "MAC \"%s\" %s", port->name, a->mac, problem);
        }
        struct prefix p;
        problem = parse_prefix(a->ip, true, &p);
        if (problem) {
            field_error(ctx, apath, "ip", "port \"%s\": allowed address IP "
                        "\"%s\" %s", port->name, a->ip, problem);
        }
        free(apath);
    }

    size_t n_rules = 0;         /* Of all its groups together. */
    size_t n_ports = 0;         /* Ports and ranges of those rules. */
    for (size_t i = 0; i < port->groups.n; i++) {
        const char *g = port->groups.names[i];
        char *field = xasprintf("security_groups/%"PRIuSIZE, i);
        const struct policy_group *pg = shash_find_data(&ctx->groups, g);
        if (pg) {
            n_rules += pg->n_rules;
            for (size_t j = 0; j < pg->n_rules; j++) {
                n_ports += count_ports(pg->rules[j].ports);
            }
        } else {
            const char *other = find_foreign(ctx, t->name, 'g', g);
            if (other) {
                field_error(ctx, port->path, field, "port \"%s\": security "
                            "group \"%s\" belongs to tenant \"%s\"; a port "
                            "may only use its own tenant's groups",
                            port->name, g, other);
            } else {
                field_error(ctx, port->path, field, "port \"%s\": tenant "
                            "\"%s\" has no security group \"%s\"",
                            port->name, t->name, g);
            }
        }
        for (size_t j = 0; j < i; j++) {
            if (!strcmp(port->groups.names[j], g)) {
                field_error(ctx, port->path, field, "port \"%s\": security "
                            "group \"%s\" is listed twice", port->name, g);
                break;
            }
        }
        free(field);
    }
    if (n_rules > POLICY_PORT_RULES_MAX && port->groups.n > 1) {
        field_error(ctx, port->path, "security_groups", "port \"%s\": its "
                    "security groups hold %"PRIuSIZE" rules together, more "
                    "than the %d a port may have", port->name, n_rules,
                    POLICY_PORT_RULES_MAX);
    }
    if (n_ports > POLICY_PORT_PORTS_MAX) {
        field_error(ctx, port->path, "security_groups", "port \"%s\": the "
                    "rules of its security groups list %"PRIuSIZE" ports "
                    "and ranges together, more than the %d a port may have",
                    port->name, n_ports, POLICY_PORT_PORTS_MAX);
    }
    check_port_limit(ctx, port, "broadcast_limit", port->broadcast_limit,
                     POLICY_BROADCAST_LIMIT_MIN, POLICY_BROADCAST_LIMIT_MAX);
    check_port_limit(ctx, port, "max_connections", port->max_connections,
                     POLICY_MAX_CONNECTIONS_MIN, POLICY_MAX_CONNECTIONS_MAX);
    if (!port->port_security && port->groups.n) {
        field_error(ctx, port->path, "port_security", "port \"%s\": "
                    "security groups need port_security; a port without it "
                    "has no firewall", port->name);
    }
    if (!port->port_security && port->max_connections) {
        field_error(ctx, port->path, "max_connections", "port \"%s\": "
                    "max_connections needs port_security; a port without it "
                    "has no firewall, hence no connection to count",
                    port->name);
    }
    if (!port->port_security && port->log_denied) {
        field_error(ctx, port->path, "log_denied", "port \"%s\": "
                    "log_denied needs port_security; a port without it has "
                    "no firewall, hence nothing denied to log", port->name);
    }
}

/* Reports each name in the 'n' objects at 'base' (of 'size' bytes each,
 * holding their path and name at 'path_ofs' and 'name_ofs') that an
 * earlier one already has. */
static void
check_duplicates(struct validate_ctx *ctx, const char *kind,
                 const char *tenant, const void *base, size_t n,
                 size_t size, size_t path_ofs, size_t name_ofs)
{
    struct sset seen = SSET_INITIALIZER(&seen);

    for (size_t i = 0; i < n; i++) {
        const char *obj = (const char *) base + i * size;
        const char *path = *(char *const *) (obj + path_ofs);
        const char *name = *(char *const *) (obj + name_ofs);
        if (name && !sset_add(&seen, name)) {
            if (tenant) {
                field_error(ctx, path, "name", "tenant \"%s\" has two %ss "
                            "named \"%s\"", tenant, kind, name);
            } else {
                field_error(ctx, path, "name", "two tenants are named "
                            "\"%s\"", name);
            }
        }
    }
    sset_destroy(&seen);
}

#define CHECK_DUPLICATES(CTX, KIND, TENANT, ARRAY, N)                   \
    check_duplicates(CTX, KIND, TENANT, ARRAY, N, sizeof *(ARRAY),      \
                     offsetof(__typeof__(*(ARRAY)), path),              \
                     offsetof(__typeof__(*(ARRAY)), name))

/* Indexes the networks and security groups of 't' by name in 'ctx', for
 * the checks of its rules and ports (policy_find_network() and
 * policy_find_group() would make them quadratic). */
static void
index_tenant(struct validate_ctx *ctx, const struct policy_tenant *t)
{
    shash_clear(&ctx->networks);
    shash_clear(&ctx->groups);
    for (size_t i = 0; i < t->n_networks; i++) {
        if (t->networks[i].name) {
            shash_add_once(&ctx->networks, t->networks[i].name,
                           &t->networks[i]);
        }
    }
    for (size_t i = 0; i < t->n_groups; i++) {
        if (t->groups[i].name) {
            shash_add_once(&ctx->groups, t->groups[i].name, &t->groups[i]);
        }
    }
}

/* Claims the segments and iface-ids of the tenants of 'context' first, so
 * that the checked policy's clashes with them are reported on its side. */
static void
claim_context(struct validate_ctx *ctx)
{
    for (size_t i = 0; ctx->context && i < ctx->context->n_tenants; i++) {
        const struct policy_tenant *t = &ctx->context->tenants[i];
        for (size_t j = 0; j < t->n_networks; j++) {
            const struct policy_network *n = &t->networks[j];
            char *key = xasprintf("%s %"PRId64,
                                  policy_net_type_to_string(n->type),
                                  n->segment);
            claim(&ctx->segments, key, t->name, n->name, true);
            free(key);
        }
        for (size_t j = 0; j < t->n_ports; j++) {
            const struct policy_port *p = &t->ports[j];
            claim(&ctx->iface_ids, policy_port_iface_id(p), t->name,
                  p->name, true);
        }
    }
}

/* Checks the meaning of 'policy' (see policy.h) and adds what is wrong to
 * 'errors'.  'context', if nonnull, holds the tenants that stay in the
 * Tenant DB beside 'policy' (none of them named in 'policy'): segments and
 * iface-ids must be unique across both, and names of their groups and
 * networks are recognized as foreign. */
void
policy_validate(const struct policy *policy, const struct policy *context,
                struct policy_errors *errors)
{
    struct validate_ctx ctx = {
        .errors = errors, .policy = policy, .context = context,
        .segments = SHASH_INITIALIZER(&ctx.segments),
        .iface_ids = SHASH_INITIALIZER(&ctx.iface_ids),
        .networks = SHASH_INITIALIZER(&ctx.networks),
        .groups = SHASH_INITIALIZER(&ctx.groups),
    };

    claim_context(&ctx);
    CHECK_DUPLICATES(&ctx, "tenant", NULL, policy->tenants,
                     policy->n_tenants);
    for (size_t i = 0; i < policy->n_tenants; i++) {
        const struct policy_tenant *t = &policy->tenants[i];
        struct shash macs = SHASH_INITIALIZER(&macs);
        struct shash ips = SHASH_INITIALIZER(&ips);

        if (!validate_name(&ctx, t->path, "tenant", t->name)) {
            continue;
        }
        CHECK_DUPLICATES(&ctx, "network", t->name, t->networks,
                         t->n_networks);
        CHECK_DUPLICATES(&ctx, "security group", t->name, t->groups,
                         t->n_groups);
        CHECK_DUPLICATES(&ctx, "port", t->name, t->ports, t->n_ports);
        index_tenant(&ctx, t);
        for (size_t j = 0; j < t->n_networks; j++) {
            validate_network(&ctx, t, &t->networks[j]);
        }
        for (size_t j = 0; j < t->n_groups; j++) {
            validate_group(&ctx, t, &t->groups[j]);
        }
        for (size_t j = 0; j < t->n_ports; j++) {
            validate_port(&ctx, t, &t->ports[j], &macs, &ips);
        }
        for (size_t j = 0; j < t->n_ports; j++) {
            validate_allowed_macs(&ctx, &t->ports[j], &macs);
        }
        shash_destroy(&macs);
        shash_destroy(&ips);
    }
    shash_destroy_free_data(&ctx.segments);
    shash_destroy_free_data(&ctx.iface_ids);
    shash_destroy(&ctx.networks);
    shash_destroy(&ctx.groups);
}
