/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef POLICY_H
#define POLICY_H 1

/* Policy documents.
 *
 * A policy document (DESIGN.md section 7, docs/policy.md) describes tenants:
 * their networks, security groups with their rules, and ports (vNICs).
 * This module holds the in-memory form of a document, a "policy", and the
 * three things done with it:
 *
 *   - policy_parse_*() reads JSON text with jansson into a policy.  Syntax
 *     errors, unknown keys and values of the wrong type are reported here.
 *
 *   - policy_validate() checks a policy's meaning: addresses, ranges,
 *     uniqueness of names, segments and iface-ids, references between
 *     objects.  It may be given a "context", the tenants that will stay in
 *     the Tenant DB beside the ones checked, so that uniqueness is checked
 *     across the whole database.
 *
 *   - policy_to_json() prints a policy back as a document in canonical form
 *     (defaults and empty lists left out), which policy_parse_*() reads back
 *     to an equal policy.
 *
 * Every object remembers its "path", a JSON pointer into the document
 * ("/tenants/0/ports/3"), and errors are reported against paths.  A
 * policy_errors collector turns a path into FILE:LINE:COLUMN when the
 * policy came from text, or into a plain prefix (a command's name) when it
 * was built from command-line arguments.
 *
 * A policy that policy_validate() accepts is safe to apply: every name it
 * refers to exists in the same tenant, and no two ports anywhere claim the
 * same vNIC. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "openvswitch/shash.h"
#include "openvswitch/types.h"
#include "sset.h"

struct ds;
#include "svec.h"

struct json_pos_index;

/* Network types. */
enum policy_net_type {
    POLICY_NET_VLAN,            /* 802.1Q segment, "vlan". */
    POLICY_NET_VXLAN,           /* VXLAN overlay segment, "vxlan". */
};

/* Rule directions, seen from the vNIC. */
enum policy_direction {
    POLICY_INGRESS,             /* Traffic to the vNIC. */
    POLICY_EGRESS,              /* Traffic from the vNIC. */
};

/* Limits of the values a document may hold. */
#define POLICY_VLAN_MIN 1
#define POLICY_VLAN_MAX 4094
#define POLICY_VNI_MIN 1
#define POLICY_VNI_MAX 16777215
#define POLICY_SEGMENT_UNSET INT64_MIN
#define POLICY_MTU_MIN 68
#define POLICY_MTU_MAX 65535

/* A network's MTU when its "mtu" is not given: VXLAN over IPv4 takes 50
 * bytes of the underlay's 1500. */
#define POLICY_VLAN_MTU_DEFAULT 1500
#define POLICY_VXLAN_MTU_DEFAULT 1450

/* A port's "broadcast_limit", in packets per second. */
#define POLICY_BROADCAST_LIMIT_MIN 1
#define POLICY_BROADCAST_LIMIT_MAX 1000000
#define POLICY_BROADCAST_LIMIT_DEFAULT 1000

/* A port's "max_connections": the conntrack entries its zone may hold.
 * The default lets a few VMs at their cap still leave room in the host's
 * table (Documentation/policy.md). */
#define POLICY_MAX_CONNECTIONS_MIN 1
#define POLICY_MAX_CONNECTIONS_MAX 1000000
#define POLICY_MAX_CONNECTIONS_DEFAULT 32768

/* Largest policy document read, in bytes: several times a document of
 * 10,000 ports. */
#define POLICY_DOC_MAX_BYTES (64 * 1024 * 1024)

/* Most rules in one security group, and in all the groups of one port
 * together: the controller places rules that may match the same packet at
 * distinct priorities, and has this many for them. */
#define POLICY_PORT_RULES_MAX 1000

/* Most ports and ranges in one rule's "ports", and in all the rules of
 * one port's groups together: each costs the port's class up to 32 flows
 * (a range is matched bitwise), and one tenant's policy must not fill the
 * host's switch. */
#define POLICY_RULE_PORTS_MAX 64
#define POLICY_PORT_PORTS_MAX 1024

/* Most IPs, and most allowed addresses, of one port: each is a flow of
 * its port security, and of every group it is a member of, on every host
 * of the group's members. */
#define POLICY_PORT_ADDRESSES_MAX 256

/* One rule of a security group. */
struct policy_rule {
    char *path;                 /* JSON pointer of the rule object. */
    enum policy_direction direction;
    char *ethertype;            /* "ipv4", "ipv6", or NULL: follows remote. */
    char *protocol;             /* "any", "tcp", "udp", "icmp", "icmpv6" or
                                 * a decimal IP protocol number 0-255. */
    char *ports;                /* "80,443,8000-8080" or NULL: all ports. */
    char *remote;               /* CIDR, "any", or "@group". */
    bool log;                   /* Log the connections it allows. */
};

/* A security group: an allow-list of rules. */
struct policy_group {
    char *path;                 /* JSON pointer of the group object. */
    char *name;                 /* Unique within the tenant. */
    struct policy_rule *rules;  /* The rules, in document order. */
    size_t n_rules;             /* Number of 'rules'. */
    size_t allocated_rules;     /* Allocated size of 'rules'. */
};

/* A layer-2 segment. */
struct policy_network {
    char *path;                 /* JSON pointer of the network object. */
    char *name;                 /* Unique within the tenant. */
    enum policy_net_type type;  /* VLAN or VXLAN. */
    int64_t segment;            /* VLAN ID or VNI, or POLICY_SEGMENT_UNSET
                                 * if the document left it out. */
    struct svec cidrs;          /* IPv4/IPv6 prefixes, may be empty. */
    int64_t mtu;                /* 0 if not given. */
};

/* An address pair that a port may use besides its own ("allowed_addresses"
 * entry). */
struct policy_address {
    char *mac;                  /* NULL: the port's own MAC. */
    char *ip;                   /* An IPv4/IPv6 address or prefix. */
};

/* A vNIC. */
struct policy_port {
    char *path;                 /* JSON pointer of the port object. */
    char *name;                 /* Unique within the tenant. */
    char *iface_id;             /* NULL: same as 'name'. */
    char *network;              /* Name of a network of the same tenant. */
    char *mac;                  /* Its Ethernet address. */
    struct svec ips;            /* Its IPv4/IPv6 addresses. */
    struct policy_address *allowed;  /* "allowed_addresses". */
    size_t n_allowed;           /* Number of 'allowed'. */
    struct svec groups;         /* Names of security groups of the tenant. */
    bool port_security;         /* Anti-spoofing and firewall on (default). */
    int64_t broadcast_limit;    /* Broadcast and multicast packets/s it may
                                 * send; 0 if not given (the default,
                                 * POLICY_BROADCAST_LIMIT_DEFAULT). */
    int64_t max_connections;    /* Conntrack entries its zone may hold; 0 if
                                 * not given (the default,
                                 * POLICY_MAX_CONNECTIONS_DEFAULT). */
    bool log_denied;            /* Log what its firewall denies by default
                                 * (off by default). */
};

/* A tenant and everything it owns. */
struct policy_tenant {
    char *path;                 /* JSON pointer of the tenant object. */
    char *name;                 /* Unique in the Tenant DB. */
    struct policy_network *networks;    /* In document order. */
    size_t n_networks;                  /* Number of 'networks'. */
    size_t allocated_networks;          /* Allocated size of 'networks'. */
    struct policy_group *groups;        /* In document order. */
    size_t n_groups;                    /* Number of 'groups'. */
    size_t allocated_groups;            /* Allocated size of 'groups'. */
    struct policy_port *ports;          /* In document order. */
    size_t n_ports;                     /* Number of 'ports'. */
    size_t allocated_ports;             /* Allocated size of 'ports'. */
};

/* A whole document. */
struct policy {
    struct policy_tenant *tenants;  /* In document order. */
    size_t n_tenants;               /* Number of 'tenants'. */
    size_t allocated_tenants;       /* Allocated size of 'tenants'. */
};

/* Collects error messages against paths (see the comment at the top). */
struct policy_errors {
    char *file;                     /* Document name, or a prefix. */
    struct json_pos_index *index;   /* Path to position, or NULL. */
    struct policy_error *errors;    /* The errors, in the order found. */
    size_t n;                       /* Number of 'errors'. */
    size_t allocated;               /* Allocated size of 'errors'. */
};

/* One error (see struct policy_errors). */
struct policy_error {
    int line;                   /* 1-based, or 0 if unknown. */
    int column;                 /* 1-based, or 0 if unknown. */
    size_t seq;                 /* Order in which it was found. */
    char *message;              /* "FILE:LINE:COLUMN: message". */
};

void policy_errors_init(struct policy_errors *, const char *file);
void policy_errors_destroy(struct policy_errors *);
void policy_error(struct policy_errors *, const char *path,
                  const char *format, ...)
    __attribute__((format(printf, 3, 4)));
void policy_errors_sort(struct policy_errors *);
void policy_errors_print(const struct policy_errors *, FILE *);
void policy_put_printable(struct ds *, const char *);
void policy_fputs_printable(const char *, FILE *);

/* The longest iface-id (bytes). */
#define POLICY_IFACE_ID_MAX_LEN 255
const char *policy_check_iface_id(const char *);
bool policy_parse_host_ip(const char *, ovs_be32 *ip);
const char *policy_check_name(const char *);

struct policy *policy_create(void);
void policy_destroy(struct policy *);
struct policy_tenant *policy_add_tenant(struct policy *, const char *name);
struct policy_network *policy_tenant_add_network(struct policy_tenant *,
                                                 const char *name);
struct policy_group *policy_tenant_add_group(struct policy_tenant *,
                                             const char *name);
struct policy_rule *policy_group_add_rule(struct policy_group *);
struct policy_port *policy_tenant_add_port(struct policy_tenant *,
                                           const char *name);
void policy_tenant_remove_network(struct policy_tenant *, size_t index);
void policy_tenant_remove_group(struct policy_tenant *, size_t index);
void policy_tenant_remove_port(struct policy_tenant *, size_t index);
void policy_group_remove_rule(struct policy_group *, size_t index);
void policy_renumber(struct policy *);

struct policy_tenant *policy_find_tenant(const struct policy *,
                                         const char *name);
struct policy_network *policy_find_network(const struct policy_tenant *,
                                           const char *name);
struct policy_group *policy_find_group(const struct policy_tenant *,
                                       const char *name);
struct policy_port *policy_find_port(const struct policy_tenant *,
                                     const char *name);
const char *policy_port_iface_id(const struct policy_port *);
char *policy_mac_canonical(const char *mac);

struct policy *policy_parse_file(const char *file_name,
                                 struct policy_errors *);
struct policy *policy_parse_string(const char *text,
                                   struct policy_errors *);

void policy_validate(const struct policy *, const struct policy *context,
                     struct policy_errors *);

char *policy_to_string(const struct policy *);

void policy_network_destroy(struct policy_network *);
void policy_port_destroy(struct policy_port *);
void policy_rule_destroy(struct policy_rule *);
bool policy_rule_equal(const struct policy_rule *,
                       const struct policy_rule *);
char *policy_rule_to_string(const struct policy_rule *);

const char *policy_net_type_to_string(enum policy_net_type);
bool policy_net_type_from_string(const char *, enum policy_net_type *);
const char *policy_direction_to_string(enum policy_direction);
bool policy_direction_from_string(const char *, enum policy_direction *);

#endif /* policy.h */
