/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Check unit tests of the policy document parser, validator and printer
 * (policies/policy.h).
 *
 * Most tests parse a small document written inline, validate it, and
 * compare the errors, sorted by place, with a list of expected ones: each
 * must begin with an exact "t.json:LINE:COLUMN: " prefix and contain a
 * given piece of the message.  Every line of a document ends in "\n", so
 * the line numbers can be counted in the source; the shared first lines
 * (ACME, LAN, WEB, P1) are one document line each. */

#include <config.h>
#include "policies/policy.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "openvswitch/dynamic-string.h"
#include "util.h"

#ifndef EXAMPLES_DIR
#error "EXAMPLES_DIR must name the directory of the example policies."
#endif

/* The name under which every inline document is parsed. */
#define DOC "t.json"

/* Document line 1: tenant "acme" opens. */
#define ACME "{\"version\": 1, \"tenants\": [{\"name\": \"acme\",\n"

/* Document line 2: the VLAN network "lan" of "acme", 10.1.0.0/24. */
#define LAN " \"networks\": [{\"name\": \"lan\", \"type\": \"vlan\", " \
            "\"segment\": 101, \"cidrs\": [\"10.1.0.0/24\"]}],\n"

/* Document line 2 of the rule tests: group "web" of "acme" opens its
 * rules. */
#define WEB " \"security_groups\": [{\"name\": \"web\", \"rules\": [\n"

/* Document line 3: port "p1" on "lan", MAC 02:00:0a:01:00:01, opens. */
#define P1 " \"ports\": [{\"name\": \"p1\", \"network\": \"lan\", " \
           "\"mac\": \"02:00:0a:01:00:01\",\n"

/* Document line 3 of the MAC tests: port "p1" on "lan" opens, no MAC. */
#define P1_NO_MAC " \"ports\": [{\"name\": \"p1\", \"network\": \"lan\",\n"

/* A name of 65 characters, one more than a name may have. */
#define NAME65 "n0123456789012345678901234567890123456789" \
               "012345678901234567890123"

/* A name of 64 characters, the longest a name may have. */
#define NAME64 "n0123456789012345678901234567890123456789" \
               "01234567890123456789012"

/* Helpers. */

/* Parses 'text' as document DOC into a new policy and, if it was JSON,
 * validates it against 'context' (may be NULL).  Initializes 'errors' and
 * leaves the errors there sorted by place.  Returns the policy, or NULL
 * if 'text' was not JSON. */
static struct policy *
parse_and_validate(const char *text, const struct policy *context,
                   struct policy_errors *errors)
{
    policy_errors_init(errors, DOC);
    struct policy *policy = policy_parse_string(text, errors);
    if (policy) {
        policy_validate(policy, context, errors);
    }
    policy_errors_sort(errors);
    return policy;
}

/* Returns all the messages of 'errors', one per line, for a failure
 * message.  The caller frees it. */
static char *
errors_to_string(const struct policy_errors *errors)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    for (size_t i = 0; i < errors->n; i++) {
        ds_put_format(&s, "    %s\n", errors->errors[i].message);
    }
    if (!errors->n) {
        ds_put_cstr(&s, "    (none)\n");
    }
    return ds_steal_cstr(&s);
}

/* Asserts that 'errors' holds exactly the errors 'expected' describes: a
 * NULL-terminated list of pairs of an exact prefix ("t.json:3:14: ") and a
 * substring of the rest of the message, in the order of the errors.
 * 'line' is the test's source line, for failure messages. */
static void
assert_errors(int line, const struct policy_errors *errors,
              const char *const *expected)
{
    size_t n_expected = 0;

    while (expected[n_expected * 2]) {
        n_expected++;
    }

    char *actual = errors_to_string(errors);
    ck_assert_msg(errors->n == n_expected,
                  "line %d: expected %zu error(s), got %zu:\n%s",
                  line, n_expected, errors->n, actual);
    for (size_t i = 0; i < n_expected; i++) {
        const char *msg = errors->errors[i].message;
        const char *prefix = expected[i * 2];
        const char *substring = expected[i * 2 + 1];
        size_t len = strlen(prefix);

        ck_assert_msg(!strncmp(msg, prefix, len)
                      && strstr(msg + len, substring),
                      "line %d: error #%zu should start with \"%s\" and "
                      "contain \"%s\"; the errors are:\n%s",
                      line, i + 1, prefix, substring, actual);
    }
    free(actual);
}

/* Parses and validates 'text' against 'context' and asserts that it
 * yields the errors 'expected' describes (see assert_errors()). */
static void
check_errors(int line, const char *text, const struct policy *context,
             const char *const *expected)
{
    struct policy_errors errors;
    struct policy *policy = parse_and_validate(text, context, &errors);

    assert_errors(line, &errors, expected);
    policy_destroy(policy);
    policy_errors_destroy(&errors);
}

/* Checks that TEXT, validated against CONTEXT, yields exactly the errors
 * given as pairs of prefix and substring. */
#define CHECK_ERRORS(TEXT, CONTEXT, ...)                                \
    check_errors(__LINE__, TEXT, CONTEXT,                               \
                 (const char *const[]) { __VA_ARGS__, NULL })

/* Checks that TEXT yields exactly one error, at PREFIX, containing
 * SUBSTRING. */
#define CHECK_ERROR(TEXT, PREFIX, SUBSTRING)                            \
    CHECK_ERRORS(TEXT, NULL, PREFIX, SUBSTRING)

/* Checks that TEXT parses and validates without errors. */
#define CHECK_VALID(TEXT)                                               \
    check_errors(__LINE__, TEXT, NULL, (const char *const[]) { NULL })

/* Parses and validates 'text', asserts that it has no errors, and returns
 * the policy; 'line' is the test's source line. */
static struct policy *
parse_valid(int line, const char *text)
{
    struct policy_errors errors;
    struct policy *policy = parse_and_validate(text, NULL, &errors);

    assert_errors(line, &errors, (const char *const[]) { NULL });
    ck_assert_msg(policy != NULL, "line %d: no policy", line);
    policy_errors_destroy(&errors);
    return policy;
}

/* The parsed and validated policy of TEXT, which must have no errors. */
#define PARSE_VALID(TEXT) parse_valid(__LINE__, TEXT)

/* Returns the text of 'file_name' (asserting it can be read).  The caller
 * frees it. */
static char *
read_text(const char *file_name)
{
    struct ds text = DS_EMPTY_INITIALIZER;
    FILE *stream = fopen(file_name, "r");
    int c;

    ck_assert_msg(stream != NULL, "%s: %s", file_name, strerror(errno));
    while ((c = getc(stream)) != EOF) {
        ds_put_char(&text, c);
    }
    fclose(stream);
    return ds_steal_cstr(&text);
}

/* The example documents in policies/examples/. */
static const char *const examples[] = {
    "demo.json", "three-tier.json", "ipv6.json",
};

/* Returns the full name of example 'i'.  The caller frees it. */
static char *
example_file(size_t i)
{
    return xasprintf("%s/%s", EXAMPLES_DIR, examples[i]);
}

/* Reads, parses and validates example 'i', asserting it has no errors, and
 * returns it. */
static struct policy *
parse_example(size_t i)
{
    char *file_name = example_file(i);
    struct policy_errors errors;

    policy_errors_init(&errors, file_name);
    struct policy *policy = policy_parse_file(file_name, &errors);
    if (policy) {
        policy_validate(policy, NULL, &errors);
    }

    char *actual = errors_to_string(&errors);
    ck_assert_msg(policy && !errors.n, "%s:\n%s", file_name, actual);
    free(actual);
    policy_errors_destroy(&errors);
    free(file_name);
    return policy;
}

/* JSON syntax: positions come from jansson. */

/* A missing comma: jansson's line and column. */
START_TEST(test_syntax_missing_comma)
{
    CHECK_ERROR("{\"version\": 1,\n"
                " \"tenants\": [\n"
                "  {\"name\": \"acme\" \"networks\": []}]}\n",
                "t.json:3:28: ", "'}' expected near '\"networks\"'");
}
END_TEST

/* A misspelled literal is an invalid token. */
START_TEST(test_syntax_invalid_token)
{
    CHECK_ERROR("{\"version\": 1,\n"
                " \"tenants\": [{\"name\": \"acme\",\n"
                "  \"networks\": nul}]}\n",
                "t.json:3:17: ", "invalid token near 'nul'");
}
END_TEST

/* A key given twice in one object is refused. */
START_TEST(test_syntax_duplicate_key)
{
    CHECK_ERROR("{\"version\": 1,\n"
                " \"tenants\": [],\n"
                " \"version\": 1}\n",
                "t.json:3:10: ", "duplicate object key");
}
END_TEST

/* Text after the document is refused. */
START_TEST(test_syntax_trailing_garbage)
{
    CHECK_ERROR("{\"version\": 1,\n"
                " \"tenants\": []} x\n",
                "t.json:2:17: ", "end of file expected near 'x'");
}
END_TEST

/* A truncated text gives no policy and one error. */
START_TEST(test_syntax_returns_null)
{
    struct policy_errors errors;

    policy_errors_init(&errors, DOC);
    ck_assert_ptr_null(policy_parse_string("{\"version\": 1,\n", &errors));
    ck_assert_uint_eq(errors.n, 1);
    ck_assert_int_eq(errors.errors[0].line, 2);
    ck_assert_str_eq(errors.errors[0].message,
                     "t.json:2:0: string or '}' expected near end of file");
    policy_errors_destroy(&errors);
}
END_TEST

/* The document must be an object. */
START_TEST(test_not_an_object)
{
    CHECK_ERROR("[\n"
                "  {\"version\": 1}]\n",
                "t.json:1:1: ",
                "a policy document must be an object, not an array");
}
END_TEST

/* A file that cannot be opened gives an error without place. */
START_TEST(test_missing_file)
{
    struct policy_errors errors;

    policy_errors_init(&errors, "missing.json");
    ck_assert_ptr_null(policy_parse_file("/nonexistent/missing.json",
                                         &errors));
    ck_assert_uint_eq(errors.n, 1);
    ck_assert_str_eq(errors.errors[0].message,
                     "missing.json: cannot open: No such file or directory");
    policy_errors_destroy(&errors);
}
END_TEST

/* Unknown keys, types, required keys. */

/* An unknown top-level key, reported at the key. */
START_TEST(test_unknown_key_document)
{
    CHECK_ERROR("{\"version\": 1,\n"
                " \"tenants\": [],\n"
                " \"tenant\": []}\n",
                "t.json:3:2: ", "document: unknown key \"tenant\" "
                "(expected one of: version, tenants)");
}
END_TEST

/* An unknown key of a port, reported at the key. */
START_TEST(test_unknown_key_port)
{
    CHECK_ERROR(ACME LAN
                " \"ports\": [{\"name\": \"p1\", \"network\": \"lan\",\n"
                "   \"mac\": \"02:00:0a:01:00:01\", \"secgroups\": []}]}]}\n",
                "t.json:4:32: ", "port \"p1\": unknown key \"secgroups\"");
}
END_TEST

/* An unknown key of a rule, reported at the key. */
START_TEST(test_unknown_key_rule)
{
    CHECK_ERROR(ACME WEB
                "  {\"direction\": \"ingress\", \"protocol\": \"tcp\",\n"
                "   \"port\": \"22\", \"remote\": \"any\"}]}]}]}\n",
                "t.json:4:4: ",
                "security group \"web\" rule #1: unknown key \"port\"");
}
END_TEST

/* An unknown key holding '/' and '~' is still found. */
START_TEST(test_unknown_key_with_slash)
{
    /* JSON pointers escape '/' and '~' in keys. */
    CHECK_ERROR(ACME
                " \"networks\": [],\n"
                "  \"a/b~c\": 1}]}\n",
                "t.json:3:3: ", "tenant \"acme\": unknown key \"a/b~c\"");
}
END_TEST

/* Columns after non-ASCII characters. */
START_TEST(test_unknown_key_utf8_columns)
{
    /* Columns count characters: "\xc3\xa9" is one. */
    CHECK_ERRORS(ACME
                 "  \"\xc3\xa9\": 1, \"\xc3\xbc\": 2}]}\n", NULL,
                 "t.json:2:3: ", "unknown key \"\xc3\xa9\"",
                 "t.json:2:11: ", "unknown key \"\xc3\xbc\"");
}
END_TEST

/* An escaped quote in a string keeps later columns right. */
START_TEST(test_escaped_quote_keeps_columns)
{
    CHECK_ERRORS("{\"version\": 1, \"tenants\": [\n"
                 "  {\"name\": \"a\\\"b\", \"x\": 1}]}\n", NULL,
                 "t.json:2:12: ", "tenant name \"a\"b\" may hold only",
                 "t.json:2:20: ", "tenant \"a\"b\": unknown key \"x\"");
}
END_TEST

/* A segment must be an integer. */
START_TEST(test_wrong_type_segment)
{
    CHECK_ERROR(ACME
                " \"networks\": [{\"name\": \"lan\", \"type\": \"vlan\",\n"
                "  \"segment\": \"101\"}]}]}\n",
                "t.json:3:14: ",
                "network \"lan\": \"segment\" must be an integer, "
                "not a string");
}
END_TEST

/* The version must be an integer. */
START_TEST(test_wrong_type_version)
{
    CHECK_ERROR("{\"version\": \"1\", \"tenants\": []}\n",
                "t.json:1:13: ",
                "document: \"version\" must be an integer, not a string");
}
END_TEST

/* Each element of "ips" must be a string. */
START_TEST(test_wrong_type_array_element)
{
    CHECK_ERROR(ACME LAN P1
                "   \"ips\": [\"10.1.0.5\", 6]}]}]}\n",
                "t.json:4:24: ",
                "port \"p1\": \"ips\" must hold strings, not an integer");
}
END_TEST

/* "port_security" must be a boolean. */
START_TEST(test_wrong_type_boolean)
{
    CHECK_ERROR(ACME LAN P1
                "   \"port_security\": \"no\"}]}]}\n",
                "t.json:4:21: ", "port \"p1\": \"port_security\" must be "
                "a boolean, not a string");
}
END_TEST

/* Each tenant must be an object. */
START_TEST(test_wrong_type_not_object)
{
    CHECK_ERROR("{\"version\": 1,\n"
                " \"tenants\": [\n"
                "  \"acme\"]}\n",
                "t.json:3:3: ", "tenant #1 must be an object, not a string");
}
END_TEST

/* "ports" may be a string or an integer, not a real. */
START_TEST(test_wrong_type_ports_real)
{
    CHECK_ERROR(ACME WEB
                "  {\"direction\": \"ingress\", \"protocol\": \"tcp\",\n"
                "   \"ports\": 22.5, \"remote\": \"any\"}]}]}]}\n",
                "t.json:4:13: ", "security group \"web\" rule #1: \"ports\" "
                "must be a string, not a real number");
}
END_TEST

/* A document needs "tenants". */
START_TEST(test_missing_tenants)
{
    CHECK_ERROR("{\"version\": 1}\n",
                "t.json:1:1: ", "document: missing required key \"tenants\"");
}
END_TEST

/* A network needs "type" and "segment". */
START_TEST(test_missing_type_and_segment)
{
    /* Two errors at one place keep the order in which they were found. */
    CHECK_ERRORS(ACME
                 " \"networks\": [\n"
                 "  {\"name\": \"lan\"}]}]}\n", NULL,
                 "t.json:3:3: ", "network \"lan\": missing required key "
                 "\"type\"",
                 "t.json:3:3: ", "network \"lan\": missing required key "
                 "\"segment\"");
}
END_TEST

/* A port needs "mac". */
START_TEST(test_missing_mac)
{
    CHECK_ERROR(ACME LAN
                " \"ports\": [\n"
                "  {\"name\": \"p1\", \"network\": \"lan\"}]}]}\n",
                "t.json:4:3: ", "port \"p1\": missing required key \"mac\"");
}
END_TEST

/* A rule needs "remote". */
START_TEST(test_missing_remote)
{
    CHECK_ERROR(ACME WEB
                "  {\"direction\": \"egress\", \"protocol\": \"any\"}]}]}]}\n",
                "t.json:3:3: ", "security group \"web\" rule #1: missing "
                "required key \"remote\"");
}
END_TEST

/* A tenant needs "name". */
START_TEST(test_missing_tenant_name)
{
    CHECK_ERROR("{\"version\": 1, \"tenants\": [\n"
                "  {\"networks\": []}]}\n",
                "t.json:2:3: ", "tenant #1: missing required key \"name\"");
}
END_TEST

/* Only version 1 is read. */
START_TEST(test_unsupported_version)
{
    CHECK_ERROR("{\"version\": 2,\n"
                " \"tenants\": []}\n",
                "t.json:1:13: ",
                "document: version 2 is not supported (expected 1)");
}
END_TEST

/* A network type is "vlan" or "vxlan". */
START_TEST(test_bad_network_type)
{
    CHECK_ERROR(ACME
                " \"networks\": [{\"name\": \"lan\", \"segment\": 7,\n"
                "  \"type\": \"gre\"}]}]}\n",
                "t.json:3:11: ",
                "network \"lan\": type \"gre\" is not \"vlan\" or \"vxlan\"");
}
END_TEST

/* A direction is "ingress" or "egress". */
START_TEST(test_bad_direction)
{
    CHECK_ERROR(ACME WEB
                "  {\"direction\": \"inbound\", \"remote\": \"any\"}]}]}]}\n",
                "t.json:3:17: ", "rule #1: direction \"inbound\" is not "
                "\"ingress\" or \"egress\"");
}
END_TEST

/* MAC addresses. */

/* A MAC needs six bytes. */
START_TEST(test_mac_not_address)
{
    CHECK_ERROR(ACME LAN P1_NO_MAC
                "   \"mac\": \"02:00:0a:01:00\"}]}]}\n",
                "t.json:4:11: ", "port \"p1\": MAC \"02:00:0a:01:00\" is "
                "not an Ethernet address");
}
END_TEST

/* A MAC is made of hex digits. */
START_TEST(test_mac_not_hex)
{
    CHECK_ERROR(ACME LAN P1_NO_MAC
                "   \"mac\": \"02:00:0a:01:00:0g\"}]}]}\n",
                "t.json:4:11: ", "MAC \"02:00:0a:01:00:0g\" is not an "
                "Ethernet address");
}
END_TEST

/* A vNIC's MAC cannot be multicast. */
START_TEST(test_mac_multicast)
{
    CHECK_ERROR(ACME LAN P1_NO_MAC
                "   \"mac\": \"01:00:5e:00:00:01\"}]}]}\n",
                "t.json:4:11: ", "MAC \"01:00:5e:00:00:01\" is a multicast "
                "Ethernet address");
}
END_TEST

/* A vNIC's MAC cannot be all zeros. */
START_TEST(test_mac_all_zeros)
{
    CHECK_ERROR(ACME LAN P1_NO_MAC
                "   \"mac\": \"00:00:00:00:00:00\"}]}]}\n",
                "t.json:4:11: ", "MAC \"00:00:00:00:00:00\" is the all-zeros "
                "Ethernet address");
}
END_TEST

/* An allowed address's MAC is checked too. */
START_TEST(test_allowed_address_bad_mac)
{
    CHECK_ERROR(ACME LAN P1
                "   \"allowed_addresses\": [{\"ip\": \"10.1.0.9\",\n"
                "     \"mac\": \"ff:ff:ff:ff:ff:ff\"}]}]}]}\n",
                "t.json:5:13: ", "port \"p1\": allowed address MAC "
                "\"ff:ff:ff:ff:ff:ff\" is a multicast");
}
END_TEST

/* IP addresses and CIDRs. */

/* A port IP must be an IPv4 address... */
START_TEST(test_ipv4_bad_address)
{
    CHECK_ERROR(ACME LAN P1
                "   \"ips\": [\"10.1.0.300\"]}]}]}\n",
                "t.json:4:12: ", "port \"p1\": IP \"10.1.0.300\" is not an "
                "IPv4 or IPv6 address");
}
END_TEST

/* ...or an IPv6 address. */
START_TEST(test_ipv6_bad_address)
{
    CHECK_ERROR(ACME LAN P1
                "   \"ips\": [\"10.1.0.5\", \"2001:db8::g\"]}]}]}\n",
                "t.json:4:24: ", "port \"p1\": IP \"2001:db8::g\" is not an "
                "IPv4 or IPv6 address");
}
END_TEST

/* A port IP is an address, not a prefix. */
START_TEST(test_port_ip_is_prefix)
{
    CHECK_ERROR(ACME LAN P1
                "   \"ips\": [\"10.1.0.5/24\"]}]}]}\n",
                "t.json:4:12: ",
                "IP \"10.1.0.5/24\" is a prefix, not an address");
}
END_TEST

/* An allowed address's IP is checked too. */
START_TEST(test_allowed_address_bad_ip)
{
    CHECK_ERROR(ACME LAN P1
                "   \"allowed_addresses\": [\n"
                "     {\"ip\": \"10.1.0.999\"}]}]}]}\n",
                "t.json:5:13: ", "port \"p1\": allowed address IP "
                "\"10.1.0.999\" is not an IPv4 or IPv6 address");
}
END_TEST

/* Prefix lengths beyond the address, or missing digits. */
START_TEST(test_cidr_bad_prefix_length)
{
    CHECK_ERRORS(ACME
                 " \"networks\": [{\"name\": \"lan\", \"type\": \"vlan\", "
                 "\"segment\": 101,\n"
                 "  \"cidrs\": [\"10.1.0.0/33\", \"10.2.0.0/\", "
                 "\"2001:db8::/129\"]}]}]}\n", NULL,
                 "t.json:3:13: ", "network \"lan\": CIDR \"10.1.0.0/33\" has "
                 "a prefix length outside 0-32",
                 "t.json:3:28: ", "CIDR \"10.2.0.0/\" has a prefix length "
                 "outside 0-32",
                 "t.json:3:41: ", "CIDR \"2001:db8::/129\" has a prefix "
                 "length outside 0-128");
}
END_TEST

/* A CIDR may not have host bits set. */
START_TEST(test_cidr_host_bits)
{
    CHECK_ERROR(ACME
                " \"networks\": [{\"name\": \"lan\", \"type\": \"vlan\", "
                "\"segment\": 101,\n"
                "  \"cidrs\": [\"10.1.0.1/24\"]}]}]}\n",
                "t.json:3:13: ", "CIDR \"10.1.0.1/24\" has host bits set");
}
END_TEST

/* A network CIDR needs a prefix length. */
START_TEST(test_cidr_no_prefix)
{
    CHECK_ERROR(ACME
                " \"networks\": [{\"name\": \"lan\", \"type\": \"vlan\", "
                "\"segment\": 101,\n"
                "  \"cidrs\": [\"10.1.0.0\"]}]}]}\n",
                "t.json:3:13: ",
                "CIDR \"10.1.0.0\" has no prefix length (\"/LEN\")");
}
END_TEST

/* A CIDR's address must parse. */
START_TEST(test_cidr_bad_address)
{
    CHECK_ERROR(ACME
                " \"networks\": [{\"name\": \"lan\", \"type\": \"vlan\", "
                "\"segment\": 101,\n"
                "  \"cidrs\": [\"10.1.0/24\"]}]}]}\n",
                "t.json:3:13: ",
                "CIDR \"10.1.0/24\" is not an IPv4 or IPv6 address");
}
END_TEST

/* A port IP must lie in one of its network's CIDRs. */
START_TEST(test_ip_outside_cidrs)
{
    CHECK_ERROR(ACME LAN P1
                "   \"ips\": [\"10.2.0.5\"]}]}]}\n",
                "t.json:4:12: ", "port \"p1\": IP 10.2.0.5 is outside every "
                "CIDR of network \"lan\" (10.1.0.0/24)");
}
END_TEST

/* An IPv6 address is outside IPv4 CIDRs. */
START_TEST(test_ip_family_outside_cidrs)
{
    CHECK_ERROR(ACME LAN P1
                "   \"ips\": [\"10.1.0.5\", \"2001:db8::5\"]}]}]}\n",
                "t.json:4:24: ",
                "IP 2001:db8::5 is outside every CIDR of network \"lan\"");
}
END_TEST

/* Two ports of a network cannot share an IP. */
START_TEST(test_duplicate_ip)
{
    CHECK_ERROR(ACME LAN
                " \"ports\": [\n"
                "  {\"name\": \"p1\", \"network\": \"lan\",\n"
                "   \"mac\": \"02:00:0a:01:00:01\", \"ips\": "
                "[\"10.1.0.5\"]},\n"
                "  {\"name\": \"p2\", \"network\": \"lan\",\n"
                "   \"mac\": \"02:00:0a:01:00:02\",\n"
                "   \"ips\": [\"10.1.0.5\"]}]}]}\n",
                "t.json:8:12: ", "port \"p2\": IP 10.1.0.5 is already used "
                "by port \"p1\" on network \"lan\"");
}
END_TEST

/* IPs compare as addresses, not as text. */
START_TEST(test_duplicate_ipv6_other_spelling)
{
    CHECK_ERROR(ACME
                " \"networks\": [{\"name\": \"v6\", \"type\": \"vxlan\", "
                "\"segment\": 7, \"cidrs\": [\"2001:db8:10::/64\"]}],\n"
                " \"ports\": [\n"
                "  {\"name\": \"p1\", \"network\": \"v6\",\n"
                "   \"mac\": \"02:00:0a:01:00:01\", \"ips\": "
                "[\"2001:db8:10::5\"]},\n"
                "  {\"name\": \"p2\", \"network\": \"v6\",\n"
                "   \"mac\": \"02:00:0a:01:00:02\",\n"
                "   \"ips\": [\"2001:DB8:10:0::5\"]}]}]}\n",
                "t.json:8:12: ", "port \"p2\": IP 2001:DB8:10:0::5 is "
                "already used by port \"p1\" on network \"v6\"");
}
END_TEST

/* Two ports of a network cannot share a MAC. */
START_TEST(test_duplicate_mac)
{
    /* MACs compare without regard to case. */
    CHECK_ERROR(ACME LAN
                " \"ports\": [\n"
                "  {\"name\": \"p1\", \"network\": \"lan\",\n"
                "   \"mac\": \"02:00:0a:01:00:01\"},\n"
                "  {\"name\": \"p2\", \"network\": \"lan\",\n"
                "   \"mac\": \"02:00:0A:01:00:01\"}]}]}\n",
                "t.json:7:11: ", "port \"p2\": MAC 02:00:0A:01:00:01 is "
                "already used by port \"p1\" on network \"lan\"");
}
END_TEST

/* One MAC, one owner: an allowed address may not take another port's MAC
 * on the same network, whatever its case, and wherever the owner stands in
 * the document. */
START_TEST(test_allowed_mac_of_another_port)
{
    CHECK_ERROR(ACME LAN
                " \"ports\": [\n"
                "  {\"name\": \"p1\", \"network\": \"lan\",\n"
                "   \"mac\": \"02:00:0a:01:00:01\",\n"
                "   \"allowed_addresses\": [{\"mac\": \"02:00:0A:01:00:02\",\n"
                "     \"ip\": \"10.1.0.9\"}]},\n"
                "  {\"name\": \"p2\", \"network\": \"lan\",\n"
                "   \"mac\": \"02:00:0a:01:00:02\"}]}]}\n",
                "t.json:6:34: ", "port \"p1\": allowed address MAC "
                "02:00:0A:01:00:02 is the MAC of port \"p2\" on network "
                "\"lan\"");
}
END_TEST

/* Network names are case-sensitive: "LAN" and "lan" are two networks, and
 * a MAC on one is no clash with the same MAC on the other, as a port's MAC
 * or as an allowed address. */
START_TEST(test_mac_networks_differ_in_case)
{
    CHECK_VALID(ACME
                " \"networks\": [\n"
                "  {\"name\": \"LAN\", \"type\": \"vlan\",\n"
                "   \"segment\": 101},\n"
                "  {\"name\": \"lan\", \"type\": \"vlan\",\n"
                "   \"segment\": 102}],\n"
                " \"ports\": [\n"
                "  {\"name\": \"p1\", \"network\": \"LAN\",\n"
                "   \"mac\": \"02:00:0a:01:00:01\"},\n"
                "  {\"name\": \"p2\", \"network\": \"lan\",\n"
                "   \"mac\": \"02:00:0A:01:00:01\"},\n"
                "  {\"name\": \"p3\", \"network\": \"lan\",\n"
                "   \"mac\": \"02:00:0a:01:00:03\",\n"
                "   \"allowed_addresses\": [{\"mac\": \"02:00:0a:01:00:04\",\n"
                "     \"ip\": \"10.1.0.9\"}]},\n"
                "  {\"name\": \"p4\", \"network\": \"LAN\",\n"
                "   \"mac\": \"02:00:0a:01:00:04\"}]}]}\n");
}
END_TEST

/* Segments and MTU. */

/* VLAN 0 is refused. */
START_TEST(test_vlan_zero)
{
    CHECK_ERROR(ACME
                " \"networks\": [{\"name\": \"lan\", \"type\": \"vlan\",\n"
                "  \"segment\": 0}]}]}\n",
                "t.json:3:14: ", "network \"lan\": segment 0 is outside the "
                "VLAN ID range 1-4094");
}
END_TEST

/* VLAN 4095 is refused. */
START_TEST(test_vlan_4095)
{
    CHECK_ERROR(ACME
                " \"networks\": [{\"name\": \"lan\", \"type\": \"vlan\",\n"
                "  \"segment\": 4095}]}]}\n",
                "t.json:3:14: ",
                "segment 4095 is outside the VLAN ID range 1-4094");
}
END_TEST

/* VNI 0 is refused. */
START_TEST(test_vni_zero)
{
    CHECK_ERROR(ACME
                " \"networks\": [{\"name\": \"ovl\", \"type\": \"vxlan\",\n"
                "  \"segment\": 0}]}]}\n",
                "t.json:3:14: ", "network \"ovl\": segment 0 is outside the "
                "VNI range 1-16777215");
}
END_TEST

/* VNI 2^24 is refused. */
START_TEST(test_vni_too_big)
{
    CHECK_ERROR(ACME
                " \"networks\": [{\"name\": \"ovl\", \"type\": \"vxlan\",\n"
                "  \"segment\": 16777216}]}]}\n",
                "t.json:3:14: ",
                "segment 16777216 is outside the VNI range 1-16777215");
}
END_TEST

/* INT64_MIN is refused, not taken for "no segment". */
START_TEST(test_segment_int64_min)
{
    /* The one integer that the model uses for "no segment". */
    CHECK_ERROR(ACME
                " \"networks\": [{\"name\": \"lan\", \"type\": \"vlan\",\n"
                "  \"segment\": -9223372036854775808}]}]}\n",
                "t.json:3:14: ", "network \"lan\": segment "
                "-9223372036854775808 is out of range");
}
END_TEST

/* The smallest and largest segments are accepted. */
START_TEST(test_segment_limits_valid)
{
    CHECK_VALID(ACME
                " \"networks\": [\n"
                "  {\"name\": \"a\", \"type\": \"vlan\", \"segment\": 1},\n"
                "  {\"name\": \"b\", \"type\": \"vlan\", \"segment\": 4094},\n"
                "  {\"name\": \"c\", \"type\": \"vxlan\", \"segment\": 1},\n"
                "  {\"name\": \"d\", \"type\": \"vxlan\",\n"
                "   \"segment\": 16777215}]}]}\n");
}
END_TEST

/* MTUs outside 68-65535 are refused, the limits accepted. */
START_TEST(test_mtu_out_of_range)
{
    CHECK_ERRORS(ACME
                 " \"networks\": [\n"
                 "  {\"name\": \"a\", \"type\": \"vlan\", \"segment\": 1,\n"
                 "   \"mtu\": 67},\n"
                 "  {\"name\": \"b\", \"type\": \"vlan\", \"segment\": 2,\n"
                 "   \"mtu\": 65536},\n"
                 "  {\"name\": \"c\", \"type\": \"vlan\", \"segment\": 3,\n"
                 "   \"mtu\": 0},\n"
                 "  {\"name\": \"d\", \"type\": \"vlan\", \"segment\": 4,\n"
                 "   \"mtu\": 68},\n"
                 "  {\"name\": \"e\", \"type\": \"vlan\", \"segment\": 5,\n"
                 "   \"mtu\": 65535}]}]}\n", NULL,
                 "t.json:4:11: ", "network \"a\": mtu 67 is outside 68-65535",
                 "t.json:6:11: ",
                 "network \"b\": mtu 65536 is outside 68-65535",
                 "t.json:8:11: ", "network \"c\": mtu 0 is outside 68-65535");
}
END_TEST

/* Two tenants cannot share a segment. */
START_TEST(test_duplicate_segment)
{
    CHECK_ERROR("{\"version\": 1, \"tenants\": [\n"
                "  {\"name\": \"acme\", \"networks\": [\n"
                "    {\"name\": \"lan\", \"type\": \"vlan\", \"segment\": "
                "101}]},\n"
                "  {\"name\": \"globex\", \"networks\": [\n"
                "    {\"name\": \"lan\", \"type\": \"vlan\", \"segment\": "
                "101}]}"
                "]}\n",
                "t.json:5:48: ", "network \"lan\": vlan segment 101 is "
                "already used by network \"lan\" of tenant \"acme\"");
}
END_TEST

/* Segments are unique per type. */
START_TEST(test_duplicate_segment_per_type)
{
    /* VLAN 101 and VNI 101 are different segments. */
    CHECK_ERROR(ACME
                " \"networks\": [\n"
                "  {\"name\": \"a\", \"type\": \"vxlan\", \"segment\": 101},\n"
                "  {\"name\": \"b\", \"type\": \"vlan\", \"segment\": 101},\n"
                "  {\"name\": \"c\", \"type\": \"vxlan\", \"segment\": "
                "101}]}]}\n",
                "t.json:5:45: ", "network \"c\": vxlan segment 101 is already "
                "used by network \"a\" of tenant \"acme\"");
}
END_TEST

/* A segment cannot clash with the Tenant DB. */
START_TEST(test_duplicate_segment_context)
{
    struct policy *context = PARSE_VALID(
        "{\"version\": 1, \"tenants\": [{\"name\": \"globex\",\n"
        " \"networks\": [{\"name\": \"wan\", \"type\": \"vxlan\",\n"
        "  \"segment\": 5000}]}]}\n");

    CHECK_ERRORS(ACME
                 " \"networks\": [{\"name\": \"lan\", \"type\": \"vxlan\",\n"
                 "  \"segment\": 5000}]}]}\n", context,
                 "t.json:3:14: ", "network \"lan\": vxlan segment 5000 is "
                 "already used by network \"wan\" of tenant \"globex\" in the "
                 "Tenant DB");
    policy_destroy(context);
}
END_TEST

/* Names. */

/* Two tenants cannot share a name. */
START_TEST(test_duplicate_tenant)
{
    CHECK_ERROR("{\"version\": 1, \"tenants\": [\n"
                "  {\"name\": \"acme\"},\n"
                "  {\"name\": \"acme\"}]}\n",
                "t.json:3:12: ", "two tenants are named \"acme\"");
}
END_TEST

/* Two networks of a tenant cannot share a name. */
START_TEST(test_duplicate_network)
{
    CHECK_ERROR(ACME
                " \"networks\": [\n"
                "  {\"name\": \"lan\", \"type\": \"vlan\", \"segment\": "
                "101},\n"
                "  {\"name\": \"lan\", \"type\": \"vlan\", \"segment\": "
                "102}]}]}\n",
                "t.json:4:12: ",
                "tenant \"acme\" has two networks named \"lan\"");
}
END_TEST

/* Two groups of a tenant cannot share a name. */
START_TEST(test_duplicate_group)
{
    CHECK_ERROR(ACME
                " \"security_groups\": [\n"
                "  {\"name\": \"web\"},\n"
                "  {\"name\": \"web\"}]}]}\n",
                "t.json:4:12: ",
                "tenant \"acme\" has two security groups named \"web\"");
}
END_TEST

/* Two ports of a tenant cannot share a name. */
START_TEST(test_duplicate_port)
{
    /* Distinct iface_ids, so that only the name clashes. */
    CHECK_ERROR(ACME LAN
                " \"ports\": [\n"
                "  {\"name\": \"p1\", \"network\": \"lan\", \"iface_id\": "
                "\"a\",\n"
                "   \"mac\": \"02:00:0a:01:00:01\"},\n"
                "  {\"name\": \"p1\", \"network\": \"lan\", \"iface_id\": "
                "\"b\",\n"
                "   \"mac\": \"02:00:0a:01:00:02\"}]}]}\n",
                "t.json:6:12: ", "tenant \"acme\" has two ports named \"p1\"");
}
END_TEST

/* Empty names, and names with bad characters. */
START_TEST(test_bad_tenant_names)
{
    CHECK_ERRORS("{\"version\": 1, \"tenants\": [\n"
                 "  {\"name\": \"\"},\n"
                 "  {\"name\": \"-acme\"},\n"
                 "  {\"name\": \"ac me\"}]}\n", NULL,
                 "t.json:2:12: ", "tenant name \"\" is empty",
                 "t.json:3:12: ", "tenant name \"-acme\" must start with a "
                 "letter or a digit",
                 "t.json:4:12: ", "tenant name \"ac me\" may hold only "
                 "letters, digits");
}
END_TEST

/* Names of networks, groups and ports are checked. */
START_TEST(test_bad_object_names)
{
    CHECK_ERRORS(ACME
                 " \"networks\": [{\"type\": \"vlan\", \"segment\": 1,\n"
                 "  \"name\": \"" NAME65 "\"}],\n"
                 " \"security_groups\": [{\"rules\": [],\n"
                 "  \"name\": \"a b\"}],\n"
                 " \"ports\": [{\"network\": \"lan\", \"mac\": "
                 "\"02:00:0a:01:00:01\",\n"
                 "  \"name\": \"vm/1\"}]}]}\n", NULL,
                 "t.json:3:11: ", "network name \"" NAME65 "\" is longer "
                 "than 64 characters",
                 "t.json:5:11: ", "security group name \"a b\" may hold only",
                 "t.json:7:11: ", "port name \"vm/1\" may hold only");
}
END_TEST

/* A 64-character name, and every allowed character. */
START_TEST(test_name_limits_valid)
{
    CHECK_VALID(ACME
                " \"networks\": [{\"type\": \"vlan\", \"segment\": 1,\n"
                "  \"name\": \"" NAME64 "\"}],\n"
                " \"security_groups\": [{\"name\": \"0_a.b:c-d\"}]}]}\n");
}
END_TEST

/* Rules. */

/* A port range must not be reversed. */
START_TEST(test_ports_reversed)
{
    CHECK_ERROR(ACME WEB
                "  {\"direction\": \"ingress\", \"protocol\": \"tcp\",\n"
                "   \"ports\": \"22,443-80\", \"remote\": \"any\"}]}]}]}\n",
                "t.json:4:13: ", "security group \"web\" rule #1: ports "
                "\"22,443-80\" holds the reversed range 443-80");
}
END_TEST

/* Ports are 1-65535. */
START_TEST(test_ports_out_of_range)
{
    CHECK_ERRORS(ACME WEB
                 "  {\"direction\": \"ingress\", \"protocol\": \"udp\",\n"
                 "   \"ports\": \"1-65536\", \"remote\": \"any\"},\n"
                 "  {\"direction\": \"ingress\", \"protocol\": \"tcp\",\n"
                 "   \"ports\": 0, \"remote\": \"any\"}]}]}]}\n", NULL,
                 "t.json:4:13: ", "rule #1: ports \"1-65536\" holds port "
                 "65536, outside 1-65535",
                 "t.json:6:13: ",
                 "rule #2: ports \"0\" holds port 0, outside 1-65535");
}
END_TEST

/* Ports are a comma list of ports and ranges. */
START_TEST(test_ports_bad_syntax)
{
    CHECK_ERRORS(ACME WEB
                 "  {\"direction\": \"ingress\", \"protocol\": \"tcp\",\n"
                 "   \"ports\": \"80;443\", \"remote\": \"any\"},\n"
                 "  {\"direction\": \"ingress\", \"protocol\": \"tcp\",\n"
                 "   \"ports\": \"80,\", \"remote\": \"any\"}]}]}]}\n", NULL,
                 "t.json:4:13: ", "rule #1: ports \"80;443\" is not a comma "
                 "list of ports and ranges",
                 "t.json:6:13: ", "rule #2: ports \"80,\" is not a comma "
                 "list of ports and ranges");
}
END_TEST

/* ICMP has no ports. */
START_TEST(test_ports_on_icmp)
{
    CHECK_ERROR(ACME WEB
                "  {\"direction\": \"ingress\", \"protocol\": \"icmp\",\n"
                "   \"ports\": \"22\", \"remote\": \"any\"}]}]}]}\n",
                "t.json:4:13: ", "rule #1: \"ports\" given for protocol "
                "\"icmp\", which has no ports");
}
END_TEST

/* Protocol "any" has no ports. */
START_TEST(test_ports_on_any)
{
    /* The protocol defaults to "any". */
    CHECK_ERROR(ACME WEB
                "  {\"direction\": \"ingress\",\n"
                "   \"ports\": \"22\", \"remote\": \"any\"}]}]}]}\n",
                "t.json:4:13: ", "rule #1: \"ports\" given for protocol "
                "\"any\", which has no ports");
}
END_TEST

/* Unknown protocol names and numbers outside 0-255. */
START_TEST(test_bad_protocol)
{
    CHECK_ERRORS(ACME WEB
                 "  {\"direction\": \"ingress\",\n"
                 "   \"protocol\": \"sctp\", \"remote\": \"any\"},\n"
                 "  {\"direction\": \"ingress\",\n"
                 "   \"protocol\": 256, \"remote\": \"any\"},\n"
                 "  {\"direction\": \"ingress\",\n"
                 "   \"protocol\": -1, \"remote\": \"any\"}]}]}]}\n", NULL,
                 "t.json:4:16: ", "rule #1: protocol \"sctp\" is not any, "
                 "tcp, udp, icmp, icmpv6 or a number 0-255",
                 "t.json:6:16: ", "rule #2: protocol \"256\" is not any",
                 "t.json:8:16: ", "rule #3: protocol \"-1\" is not any");
}
END_TEST

/* Protocol numbers, 6 and 17 with ports. */
START_TEST(test_protocol_numbers_valid)
{
    CHECK_VALID(ACME WEB
                "  {\"direction\": \"ingress\", \"protocol\": 6,\n"
                "   \"ports\": \"22\", \"remote\": \"any\"},\n"
                "  {\"direction\": \"ingress\", \"protocol\": \"17\",\n"
                "   \"ports\": 53, \"remote\": \"any\"},\n"
                "  {\"direction\": \"ingress\", \"protocol\": 47,\n"
                "   \"remote\": \"192.0.2.0/24\"}]}]}]}\n");
}
END_TEST

/* ICMP goes with IPv4, ICMPv6 with IPv6. */
START_TEST(test_protocol_ethertype_conflict)
{
    CHECK_ERRORS(ACME WEB
                 "  {\"direction\": \"ingress\", \"ethertype\": \"ipv6\",\n"
                 "   \"protocol\": \"icmp\", \"remote\": \"any\"},\n"
                 "  {\"direction\": \"ingress\", \"ethertype\": \"ipv4\",\n"
                 "   \"protocol\": \"icmpv6\", \"remote\": \"any\"}]}]}]}\n",
                 NULL,
                 "t.json:4:16: ", "rule #1: protocol \"icmp\" does not go "
                 "with ethertype \"ipv6\"",
                 "t.json:6:16: ", "rule #2: protocol \"icmpv6\" does not go "
                 "with ethertype \"ipv4\"");
}
END_TEST

/* The remote must match the ethertype. */
START_TEST(test_ethertype_remote_conflict)
{
    CHECK_ERROR(ACME WEB
                "  {\"direction\": \"ingress\", \"ethertype\": \"ipv4\",\n"
                "   \"remote\": \"2001:db8::/32\"}]}]}]}\n",
                "t.json:4:14: ", "rule #1: remote \"2001:db8::/32\" is not an "
                "IPv4 prefix, as its ethertype requires");
}
END_TEST

/* The remote must match an ICMP protocol's family. */
START_TEST(test_protocol_remote_conflict)
{
    CHECK_ERRORS(ACME WEB
                 "  {\"direction\": \"ingress\", \"protocol\": \"icmpv6\",\n"
                 "   \"remote\": \"10.0.0.0/8\"},\n"
                 "  {\"direction\": \"egress\", \"protocol\": \"icmp\",\n"
                 "   \"remote\": \"::/0\"}]}]}]}\n", NULL,
                 "t.json:4:14: ", "rule #1: remote \"10.0.0.0/8\" is not an "
                 "IPv6 prefix, as its protocol requires",
                 "t.json:6:14: ", "rule #2: remote \"::/0\" is not an IPv4 "
                 "prefix, as its protocol requires");
}
END_TEST

/* An ethertype is "ipv4" or "ipv6". */
START_TEST(test_bad_ethertype)
{
    CHECK_ERROR(ACME WEB
                "  {\"direction\": \"ingress\",\n"
                "   \"ethertype\": \"arp\", \"remote\": \"any\"}]}]}]}\n",
                "t.json:4:17: ",
                "rule #1: ethertype \"arp\" is not \"ipv4\" or \"ipv6\"");
}
END_TEST

/* A remote CIDR must parse and have no host bits. */
START_TEST(test_bad_remote)
{
    CHECK_ERRORS(ACME WEB
                 "  {\"direction\": \"ingress\",\n"
                 "   \"remote\": \"everyone\"},\n"
                 "  {\"direction\": \"ingress\",\n"
                 "   \"remote\": \"10.0.0.1/8\"}]}]}]}\n", NULL,
                 "t.json:4:14: ", "rule #1: remote \"everyone\" is not an "
                 "IPv4 or IPv6 address (a remote is a CIDR, \"any\" or "
                 "\"@group\")",
                 "t.json:6:14: ", "rule #2: remote \"10.0.0.1/8\" has host "
                 "bits set");
}
END_TEST

/* References between objects. */

/* A rule's remote group must exist... */
START_TEST(test_remote_group_missing)
{
    CHECK_ERROR(ACME WEB
                "  {\"direction\": \"ingress\",\n"
                "   \"remote\": \"@db\"}]}]}]}\n",
                "t.json:4:14: ", "rule #1: remote \"@db\": tenant \"acme\" "
                "has no security group \"db\"");
}
END_TEST

/* ...in the rule's own tenant... */
START_TEST(test_remote_group_foreign)
{
    CHECK_ERROR("{\"version\": 1, \"tenants\": [\n"
                "  {\"name\": \"globex\", \"security_groups\": [{\"name\": "
                "\"db\"}]},\n"
                "  {\"name\": \"acme\", \"security_groups\": [{\"name\": "
                "\"web\", \"rules\": [\n"
                "    {\"direction\": \"ingress\",\n"
                "     \"remote\": \"@db\"}]}]}]}\n",
                "t.json:5:16: ", "rule #1: remote \"@db\" is a group of "
                "tenant "
                "\"globex\"; a rule may only name groups of its own tenant "
                "\"acme\"");
}
END_TEST

/* ...even if the Tenant DB has it elsewhere. */
START_TEST(test_remote_group_foreign_context)
{
    struct policy *context = PARSE_VALID(
        "{\"version\": 1, \"tenants\": [{\"name\": \"globex\",\n"
        " \"security_groups\": [{\"name\": \"db\"}]}]}\n");

    CHECK_ERRORS(ACME WEB
                 "  {\"direction\": \"ingress\",\n"
                 "   \"remote\": \"@db\"}]}]}]}\n", context,
                 "t.json:4:14: ",
                 "rule #1: remote \"@db\" is a group of tenant \"globex\"");
    policy_destroy(context);
}
END_TEST

/* "@tenant/group" is refused. */
START_TEST(test_remote_group_qualified)
{
    CHECK_ERROR(ACME WEB
                "  {\"direction\": \"ingress\",\n"
                "   \"remote\": \"@globex/db\"}]}]}]}\n",
                "t.json:4:14: ", "rule #1: remote \"@globex/db\" names a "
                "group of another tenant");
}
END_TEST

/* A port's groups must exist... */
START_TEST(test_port_group_missing)
{
    CHECK_ERROR(ACME LAN P1
                "   \"security_groups\": [\"web\"]}]}]}\n",
                "t.json:4:24: ", "port \"p1\": tenant \"acme\" has no "
                "security group \"web\"");
}
END_TEST

/* ...in the port's own tenant... */
START_TEST(test_port_group_foreign)
{
    CHECK_ERROR("{\"version\": 1, \"tenants\": [\n"
                "  {\"name\": \"globex\", \"security_groups\": [{\"name\": "
                "\"web\"}]},\n"
                "  {\"name\": \"acme\", \"networks\": [{\"name\": \"lan\", "
                "\"type\": \"vlan\", \"segment\": 101}],\n"
                "   \"ports\": [{\"name\": \"p1\", \"network\": \"lan\", "
                "\"mac\": \"02:00:0a:01:00:01\",\n"
                "    \"security_groups\": [\"web\"]}]}]}\n",
                "t.json:5:25: ", "port \"p1\": security group \"web\" belongs "
                "to tenant \"globex\"; a port may only use its own tenant's "
                "groups");
}
END_TEST

/* ...even if the Tenant DB has them elsewhere. */
START_TEST(test_port_group_foreign_context)
{
    struct policy *context = PARSE_VALID(
        "{\"version\": 1, \"tenants\": [{\"name\": \"globex\",\n"
        " \"security_groups\": [{\"name\": \"web\"}]}]}\n");

    CHECK_ERRORS(ACME LAN P1
                 "   \"security_groups\": [\"web\"]}]}]}\n", context,
                 "t.json:4:24: ", "port \"p1\": security group \"web\" "
                 "belongs to tenant \"globex\"");
    policy_destroy(context);
}
END_TEST

/* A port lists a group once. */
START_TEST(test_port_group_twice)
{
    CHECK_ERROR(ACME LAN
                " \"security_groups\": [{\"name\": \"web\"}],\n"
                " \"ports\": [{\"name\": \"p1\", \"network\": \"lan\", "
                "\"mac\": \"02:00:0a:01:00:01\",\n"
                "   \"security_groups\": [\"web\", \"web\"]}]}]}\n",
                "t.json:5:31: ",
                "port \"p1\": security group \"web\" is listed twice");
}
END_TEST

/* A port cannot join another tenant's network... */
START_TEST(test_port_network_foreign)
{
    CHECK_ERROR("{\"version\": 1, \"tenants\": [\n"
                "  {\"name\": \"globex\", \"networks\": [{\"name\": \"wan\", "
                "\"type\": \"vlan\", \"segment\": 200}]},\n"
                "  {\"name\": \"acme\", \"ports\": [{\"name\": \"p1\", "
                "\"mac\": \"02:00:0a:01:00:01\",\n"
                "    \"network\": \"wan\"}]}]}\n",
                "t.json:4:16: ", "port \"p1\": network \"wan\" belongs to "
                "tenant \"globex\"; a port may only join its own tenant's "
                "networks");
}
END_TEST

/* ...nor one of another tenant in the Tenant DB. */
START_TEST(test_port_network_foreign_context)
{
    struct policy *context = PARSE_VALID(
        "{\"version\": 1, \"tenants\": [{\"name\": \"globex\",\n"
        " \"networks\": [{\"name\": \"wan\", \"type\": \"vlan\",\n"
        "  \"segment\": 200}]}]}\n");

    CHECK_ERRORS(ACME
                 " \"ports\": [{\"name\": \"p1\", \"mac\": "
                 "\"02:00:0a:01:00:01\",\n"
                 "   \"network\": \"wan\"}]}]}\n", context,
                 "t.json:3:15: ", "port \"p1\": network \"wan\" belongs to "
                 "tenant \"globex\"");
    policy_destroy(context);
}
END_TEST

/* A port's network must exist. */
START_TEST(test_port_network_missing)
{
    CHECK_ERROR(ACME LAN
                " \"ports\": [{\"name\": \"p1\", \"mac\": "
                "\"02:00:0a:01:00:01\",\n"
                "   \"network\": \"wan\"}]}]}\n",
                "t.json:4:15: ",
                "port \"p1\": tenant \"acme\" has no network \"wan\"");
}
END_TEST

/* iface-ids and port security. */

/* Two ports of a tenant cannot share an iface_id. */
START_TEST(test_iface_id_same_tenant)
{
    CHECK_ERROR(ACME LAN
                " \"ports\": [\n"
                "  {\"name\": \"p1\", \"network\": \"lan\",\n"
                "   \"mac\": \"02:00:0a:01:00:01\"},\n"
                "  {\"name\": \"p2\", \"network\": \"lan\",\n"
                "   \"mac\": \"02:00:0a:01:00:02\",\n"
                "   \"iface_id\": \"p1\"}]}]}\n",
                "t.json:8:16: ", "port \"p2\": iface_id \"p1\" is already "
                "claimed by port \"p1\" of tenant \"acme\"; two ports cannot "
                "bind one vNIC");
}
END_TEST

/* Two tenants cannot share an iface_id. */
START_TEST(test_iface_id_across_tenants)
{
    /* Both default to their name; the same MAC in two tenants is fine. */
    CHECK_ERROR("{\"version\": 1, \"tenants\": [\n"
                "  {\"name\": \"acme\", \"networks\": [{\"name\": \"lan\", "
                "\"type\": \"vlan\", \"segment\": 101}],\n"
                "   \"ports\": [{\"network\": \"lan\", \"mac\": "
                "\"02:00:0a:01:00:01\", \"name\": \"vm1\"}]},\n"
                "  {\"name\": \"globex\", \"networks\": [{\"name\": \"lan\", "
                "\"type\": \"vlan\", \"segment\": 102}],\n"
                "   \"ports\": [{\"network\": \"lan\", \"mac\": "
                "\"02:00:0a:01:00:01\",\n"
                "    \"name\": \"vm1\"}]}]}\n",
                "t.json:6:13: ", "port \"vm1\": iface_id \"vm1\" is already "
                "claimed by port \"vm1\" of tenant \"acme\"");
}
END_TEST

/* An iface_id cannot clash with the Tenant DB. */
START_TEST(test_iface_id_context)
{
    struct policy *context = PARSE_VALID(
        "{\"version\": 1, \"tenants\": [{\"name\": \"globex\",\n"
        " \"networks\": [{\"name\": \"wan\", \"type\": \"vlan\", "
        "\"segment\": 200}],\n"
        " \"ports\": [{\"name\": \"g1\", \"network\": \"wan\", "
        "\"mac\": \"02:00:0a:01:00:01\",\n"
        "  \"iface_id\": \"6f1c2d3e-0000-4000-8000-000000000001\"}]}]}\n");

    CHECK_ERRORS(ACME LAN P1
                 "   \"iface_id\": \"6f1c2d3e-0000-4000-8000-000000000001\""
                 "}]}]}\n", context,
                 "t.json:4:16: ", "port \"p1\": iface_id \"6f1c2d3e-0000-"
                 "4000-8000-000000000001\" is already claimed by port \"g1\" "
                 "of tenant \"globex\" in the Tenant DB");
    policy_destroy(context);
}
END_TEST

/* A default iface_id clashes like an explicit one. */
START_TEST(test_iface_id_default_context)
{
    /* A context port's iface_id defaults to its name, too. */
    struct policy *context = PARSE_VALID(
        "{\"version\": 1, \"tenants\": [{\"name\": \"globex\",\n"
        " \"networks\": [{\"name\": \"wan\", \"type\": \"vlan\", "
        "\"segment\": 200}],\n"
        " \"ports\": [{\"name\": \"vm1\", \"network\": \"wan\",\n"
        "  \"mac\": \"02:00:0a:01:00:01\"}]}]}\n");

    CHECK_ERRORS(ACME LAN P1
                 "   \"iface_id\": \"vm1\"}]}]}\n", context,
                 "t.json:4:16: ", "iface_id \"vm1\" is already claimed by "
                 "port \"vm1\" of tenant \"globex\" in the Tenant DB");
    policy_destroy(context);
}
END_TEST

/* An iface_id has no white space. */
START_TEST(test_iface_id_bad)
{
    CHECK_ERROR(ACME LAN P1
                "   \"iface_id\": \"tap 0\"}]}]}\n",
                "t.json:4:16: ", "port \"p1\": iface_id \"tap 0\" must be "
                "1-255 characters without white space");
}
END_TEST

/* Groups need port security. */
START_TEST(test_port_security_off_with_groups)
{
    CHECK_ERROR(ACME LAN
                " \"security_groups\": [{\"name\": \"web\"}],\n"
                " \"ports\": [{\"name\": \"p1\", \"network\": \"lan\", "
                "\"mac\": \"02:00:0a:01:00:01\",\n"
                "   \"security_groups\": [\"web\"],\n"
                "   \"port_security\": false}]}]}\n",
                "t.json:6:21: ", "port \"p1\": security groups need "
                "port_security");
}
END_TEST

/* Appends to 's' the group 'name' with 'n' rules, on one line. */
static void
put_group(struct ds *s, const char *name, size_t n)
{
    ds_put_format(s, "  {\"name\": \"%s\", \"rules\": [", name);
    for (size_t i = 0; i < n; i++) {
        ds_put_format(s, "%s{\"direction\": \"ingress\", \"protocol\": "
                      "\"tcp\", \"ports\": %"PRIuSIZE", \"remote\": "
                      "\"any\"}", i ? ", " : "", i % 65535 + 1);
    }
    ds_put_cstr(s, "]}");
}

/* A group holds at most POLICY_PORT_RULES_MAX rules, and so do the groups
 * of one port together: the controller has that many priorities for
 * rules that overlap. */
START_TEST(test_too_many_rules)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    ds_put_cstr(&s, ACME LAN " \"security_groups\": [\n");
    put_group(&s, "a", POLICY_PORT_RULES_MAX);
    ds_put_cstr(&s, ",\n");
    put_group(&s, "b", 1);
    ds_put_cstr(&s, ",\n");
    put_group(&s, "big", POLICY_PORT_RULES_MAX + 1);
    ds_put_cstr(&s, "],\n"
                P1 "   \"security_groups\": [\"a\"]},\n"
                "  {\"name\": \"p2\", \"network\": \"lan\", "
                "\"mac\": \"02:00:0a:01:00:02\",\n"
                "   \"security_groups\": [\"a\", \"b\"]}]}]}\n");
    CHECK_ERRORS(ds_cstr(&s), NULL,
                 "t.json:6:28: ", "security group \"big\": 1001 rules, "
                 "more than the 1000 a group may hold",
                 "t.json:10:23: ", "port \"p2\": its security groups hold "
                 "1001 rules together, more than the 1000 a port may have");
    ds_destroy(&s);
}
END_TEST

/* Appends to 's' a rule whose ports are the 'n' ports from 1000 on, every
 * other one. */
static void
put_rule_with_ports(struct ds *s, size_t n)
{
    ds_put_cstr(s, "{\"direction\": \"ingress\", \"protocol\": \"tcp\", "
                "\"remote\": \"any\", \"ports\": \"");
    for (size_t i = 0; i < n; i++) {
        ds_put_format(s, "%s%"PRIuSIZE, i ? "," : "", 1000 + 2 * i);
    }
    ds_put_cstr(s, "\"}");
}

/* A rule lists at most POLICY_RULE_PORTS_MAX ports and ranges, and the
 * rules of a port's groups at most POLICY_PORT_PORTS_MAX together: each
 * costs flows on the host's switch. */
START_TEST(test_too_many_ports)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    ds_put_cstr(&s, ACME LAN " \"security_groups\": [\n"
                "  {\"name\": \"wide\", \"rules\": [");
    put_rule_with_ports(&s, POLICY_RULE_PORTS_MAX + 1);
    ds_put_cstr(&s, "]},\n  {\"name\": \"many\", \"rules\": [");
    for (size_t i = 0; i < POLICY_PORT_PORTS_MAX / POLICY_RULE_PORTS_MAX;
         i++) {
        ds_put_cstr(&s, i ? ", " : "");
        put_rule_with_ports(&s, POLICY_RULE_PORTS_MAX);
    }
    ds_put_cstr(&s, "]},\n  {\"name\": \"one\", \"rules\": [");
    put_rule_with_ports(&s, 1);
    ds_put_cstr(&s, "]}],\n"
                P1 "   \"security_groups\": [\"many\"]},\n"
                "  {\"name\": \"p2\", \"network\": \"lan\", "
                "\"mac\": \"02:00:0a:01:00:02\",\n"
                "   \"security_groups\": [\"many\", \"one\"]}]}]}\n");
    CHECK_ERRORS(ds_cstr(&s), NULL,
                 "t.json:4:", "lists 65 ports and ranges, more than the "
                 "64 a rule may have",
                 "t.json:10:23: ", "port \"p2\": the rules of its security "
                 "groups list 1025 ports and ranges together, more than the "
                 "1024 a port may have");
    ds_destroy(&s);
}
END_TEST

/* Valid documents. */

/* An IPv6 document is valid and read as written. */
START_TEST(test_ipv6_valid)
{
    struct policy *policy = PARSE_VALID(
        "{\"version\": 1, \"tenants\": [{\"name\": \"v6\",\n"
        " \"networks\": [{\"name\": \"n\", \"type\": \"vxlan\", "
        "\"segment\": 9,\n"
        "  \"cidrs\": [\"2001:db8:10::/64\", \"fd00::/8\"]}],\n"
        " \"security_groups\": [{\"name\": \"g\", \"rules\": [\n"
        "  {\"direction\": \"ingress\", \"ethertype\": \"ipv6\",\n"
        "   \"protocol\": \"icmpv6\", \"remote\": \"::/0\"},\n"
        "  {\"direction\": \"ingress\", \"protocol\": \"tcp\", "
        "\"ports\": \"22\",\n"
        "   \"remote\": \"2001:db8:10::/64\"},\n"
        "  {\"direction\": \"egress\", \"ethertype\": \"ipv6\",\n"
        "   \"remote\": \"@g\"}]}],\n"
        " \"ports\": [{\"name\": \"p\", \"network\": \"n\",\n"
        "  \"mac\": \"02:00:00:00:00:01\",\n"
        "  \"ips\": [\"2001:db8:10::1\", \"fd00::1:2\"],\n"
        "  \"security_groups\": [\"g\"]}]}]}\n");

    const struct policy_tenant *t = &policy->tenants[0];
    ck_assert_uint_eq(t->networks[0].cidrs.n, 2);
    ck_assert_str_eq(t->groups[0].rules[0].protocol, "icmpv6");
    ck_assert_str_eq(t->groups[0].rules[0].ethertype, "ipv6");
    ck_assert_str_eq(t->ports[0].ips.names[1], "fd00::1:2");
    policy_destroy(policy);
}
END_TEST

/* Allowed addresses, with and without MAC. */
START_TEST(test_allowed_addresses_valid)
{
    struct policy *policy = PARSE_VALID(
        ACME LAN P1
        "   \"ips\": [\"10.1.0.11\"],\n"
        "   \"allowed_addresses\": [\n"
        "     {\"mac\": \"00:00:5e:00:01:0a\", \"ip\": \"10.1.0.10\"},\n"
        "     {\"ip\": \"10.1.0.128/25\"},\n"
        "     {\"ip\": \"2001:db8::10\"}]}]}]}\n");

    const struct policy_port *p = &policy->tenants[0].ports[0];
    ck_assert_uint_eq(p->n_allowed, 3);
    ck_assert_str_eq(p->allowed[0].mac, "00:00:5e:00:01:0a");
    ck_assert_str_eq(p->allowed[0].ip, "10.1.0.10");
    ck_assert_ptr_null(p->allowed[1].mac);
    ck_assert_str_eq(p->allowed[1].ip, "10.1.0.128/25");
    ck_assert_str_eq(p->allowed[2].ip, "2001:db8::10");
    policy_destroy(policy);
}
END_TEST

/* Tenants may overlap in addresses and names. */
START_TEST(test_overlapping_tenants_valid)
{
    /* Tenants may reuse addresses, MACs and names of their own objects;
     * only segments and iface_ids must differ. */
    CHECK_VALID("{\"version\": 1, \"tenants\": [\n"
                "  {\"name\": \"acme\",\n"
                "   \"networks\": [{\"name\": \"lan\", \"type\": \"vlan\", "
                "\"segment\": 101,\n"
                "     \"cidrs\": [\"10.0.0.0/24\"]}],\n"
                "   \"security_groups\": [{\"name\": \"web\", \"rules\": [\n"
                "     {\"direction\": \"ingress\", \"remote\": \"@web\"}]}],\n"
                "   \"ports\": [{\"name\": \"vm1\", \"network\": \"lan\",\n"
                "     \"mac\": \"02:00:0a:00:00:0b\", \"ips\": "
                "[\"10.0.0.11\"],\n"
                "     \"security_groups\": [\"web\"]}]},\n"
                "  {\"name\": \"globex\",\n"
                "   \"networks\": [{\"name\": \"lan\", \"type\": \"vlan\", "
                "\"segment\": 102,\n"
                "     \"cidrs\": [\"10.0.0.0/24\"]}],\n"
                "   \"security_groups\": [{\"name\": \"web\", \"rules\": [\n"
                "     {\"direction\": \"ingress\", \"remote\": \"@web\"}]}],\n"
                "   \"ports\": [{\"name\": \"gx-vm1\", \"network\": \"lan\",\n"
                "     \"mac\": \"02:00:0a:00:00:0b\", \"ips\": "
                "[\"10.0.0.11\"],\n"
                "     \"security_groups\": [\"web\"]}]}]}\n");
}
END_TEST

/* Every error of a document is reported, in order. */
START_TEST(test_many_errors_sorted)
{
    /* Parser errors (found first) and validator errors come out together,
     * sorted by line. */
    CHECK_ERRORS(ACME
                 " \"networks\": [{\"name\": \"lan\", \"type\": \"vlan\",\n"
                 "  \"segment\": 4095, \"cidrs\": [\"10.1.0.0/24\"]}],\n"
                 " \"security_groups\": [{\"name\": \"web\", \"rules\": [\n"
                 "  {\"direction\": \"ingress\", \"protocol\": \"tcp\",\n"
                 "   \"ports\": \"443-80\", \"remote\": \"@nope\"}]}],\n"
                 " \"ports\": [{\"name\": \"p1\", \"network\": \"lan\",\n"
                 "   \"mac\": \"01:00:00:00:00:01\", \"ips\": "
                 "[\"10.9.0.1\"],\n"
                 "   \"colour\": \"blue\"}]}]}\n", NULL,
                 "t.json:3:14: ", "segment 4095 is outside the VLAN ID range",
                 "t.json:6:13: ", "ports \"443-80\" holds the reversed range",
                 "t.json:6:33: ", "remote \"@nope\": tenant \"acme\" has no "
                 "security group \"nope\"",
                 "t.json:8:11: ", "MAC \"01:00:00:00:00:01\" is a multicast",
                 "t.json:8:40: ", "IP 10.9.0.1 is outside every CIDR",
                 "t.json:9:4: ", "port \"p1\": unknown key \"colour\"");
}
END_TEST

/* Errors of a policy built in memory. */
START_TEST(test_errors_without_positions)
{
    /* A policy built without text (e.g. from command-line arguments) gets
     * errors with the plain prefix. */
    struct policy *policy = policy_create();
    struct policy_tenant *t = policy_add_tenant(policy, "acme");
    struct policy_network *n = policy_tenant_add_network(t, "lan");
    n->type = POLICY_NET_VLAN;
    n->segment = 4095;
    struct policy_port *p = policy_tenant_add_port(t, "p1");
    p->network = xstrdup("lan");
    p->mac = xstrdup("02:00:0a:01:00:01");
    svec_add(&p->groups, "web");

    struct policy_errors errors;
    policy_errors_init(&errors, "port-add");
    policy_validate(policy, NULL, &errors);
    policy_errors_sort(&errors);
    assert_errors(__LINE__, &errors, (const char *const[]) {
            "port-add: ", "network \"lan\": segment 4095 is outside",
            "port-add: ", "port \"p1\": tenant \"acme\" has no security "
            "group \"web\"", NULL });

    char *buf = NULL;
    size_t size = 0;
    FILE *stream = open_memstream(&buf, &size);
    policy_errors_print(&errors, stream);
    fclose(stream);
    ck_assert_str_eq(buf, "port-add: network \"lan\": segment 4095 is "
                     "outside the VLAN ID range 1-4094\n"
                     "port-add: port \"p1\": tenant \"acme\" has no security "
                     "group \"web\"\n");
    free(buf);
    policy_errors_destroy(&errors);
    policy_destroy(policy);
}
END_TEST

/* The printer's canonical form, and its round trip. */
START_TEST(test_round_trip)
{
    /* A document with keys out of order, defaults spelled out, numbers for
     * strings, and empty lists: the printer writes it in canonical form,
     * which reads back to the same text. */
    struct policy *policy = PARSE_VALID(
        "{\"tenants\": [{\"ports\": [\n"
        "   {\"port_security\": true, \"security_groups\": [],\n"
        "    \"mac\": \"02:00:0a:01:00:01\", \"iface_id\": \"p1\",\n"
        "    \"name\": \"p1\", \"network\": \"lan\", \"ips\": []},\n"
        "   {\"name\": \"p2\", \"network\": \"lan\", \"port_security\": "
        "false,\n"
        "    \"mac\": \"02:00:0a:01:00:02\", \"iface_id\": \"uuid-2\",\n"
        "    \"allowed_addresses\": [{\"ip\": \"10.1.0.9\"}]}],\n"
        "  \"security_groups\": [{\"rules\": [\n"
        "    {\"remote\": \"any\", \"log\": false, \"protocol\": 6,\n"
        "     \"ports\": 22, \"direction\": \"ingress\"},\n"
        "    {\"direction\": \"egress\", \"protocol\": \"17\", \"log\": "
        "true,\n"
        "     \"ethertype\": \"ipv4\", \"remote\": \"0.0.0.0/0\"}],\n"
        "   \"name\": \"web\"}, {\"name\": \"empty\", \"rules\": []}],\n"
        "  \"networks\": [{\"mtu\": 1450, \"cidrs\": [\"10.1.0.0/24\"],\n"
        "    \"segment\": 101, \"type\": \"vlan\", \"name\": \"lan\"}],\n"
        "  \"name\": \"acme\"}, {\"name\": \"globex\", \"networks\": []}],\n"
        " \"version\": 1}\n");
    char *text1 = policy_to_string(policy);
    struct policy *policy2 = PARSE_VALID(text1);
    char *text2 = policy_to_string(policy2);

    ck_assert_str_eq(text1, text2);
    ck_assert_str_eq(text1,
                     "{\n"
                     "  \"version\": 1,\n"
                     "  \"tenants\": [\n"
                     "    {\n"
                     "      \"name\": \"acme\",\n"
                     "      \"networks\": [\n"
                     "        {\n"
                     "          \"name\": \"lan\",\n"
                     "          \"type\": \"vlan\",\n"
                     "          \"segment\": 101,\n"
                     "          \"cidrs\": [\n"
                     "            \"10.1.0.0/24\"\n"
                     "          ],\n"
                     "          \"mtu\": 1450\n"
                     "        }\n"
                     "      ],\n"
                     "      \"security_groups\": [\n"
                     "        {\n"
                     "          \"name\": \"web\",\n"
                     "          \"rules\": [\n"
                     "            {\n"
                     "              \"direction\": \"ingress\",\n"
                     "              \"protocol\": 6,\n"
                     "              \"ports\": \"22\",\n"
                     "              \"remote\": \"any\"\n"
                     "            },\n"
                     "            {\n"
                     "              \"direction\": \"egress\",\n"
                     "              \"ethertype\": \"ipv4\",\n"
                     "              \"protocol\": 17,\n"
                     "              \"remote\": \"0.0.0.0/0\",\n"
                     "              \"log\": true\n"
                     "            }\n"
                     "          ]\n"
                     "        },\n"
                     "        {\n"
                     "          \"name\": \"empty\"\n"
                     "        }\n"
                     "      ],\n"
                     "      \"ports\": [\n"
                     "        {\n"
                     "          \"name\": \"p1\",\n"
                     "          \"network\": \"lan\",\n"
                     "          \"mac\": \"02:00:0a:01:00:01\"\n"
                     "        },\n"
                     "        {\n"
                     "          \"name\": \"p2\",\n"
                     "          \"iface_id\": \"uuid-2\",\n"
                     "          \"network\": \"lan\",\n"
                     "          \"mac\": \"02:00:0a:01:00:02\",\n"
                     "          \"allowed_addresses\": [\n"
                     "            {\n"
                     "              \"ip\": \"10.1.0.9\"\n"
                     "            }\n"
                     "          ],\n"
                     "          \"port_security\": false\n"
                     "        }\n"
                     "      ]\n"
                     "    },\n"
                     "    {\n"
                     "      \"name\": \"globex\"\n"
                     "    }\n"
                     "  ]\n"
                     "}\n");
    free(text1);
    free(text2);
    policy_destroy(policy);
    policy_destroy(policy2);
}
END_TEST

/* A document with no tenants prints and reads back. */
START_TEST(test_round_trip_empty)
{
    struct policy *policy = PARSE_VALID("{\"version\": 1, \"tenants\": []}");
    char *text = policy_to_string(policy);

    ck_assert_str_eq(text, "{\n  \"version\": 1,\n  \"tenants\": []\n}\n");
    free(text);
    policy_destroy(policy);
}
END_TEST

/* The example documents (loop tests over 'examples'). */

/* Each example is valid. */
START_TEST(test_example_valid)
{
    struct policy *policy = parse_example(_i);

    ck_assert_uint_gt(policy->n_tenants, 0);
    policy_destroy(policy);
}
END_TEST

/* Each example is in canonical form. */
START_TEST(test_example_canonical)
{
    /* Each example is exactly what the printer writes for it. */
    char *file_name = example_file(_i);
    char *text = read_text(file_name);
    struct policy *policy = parse_example(_i);
    char *printed = policy_to_string(policy);

    ck_assert_msg(!strcmp(text, printed), "%s is not in canonical form; "
                  "policy_to_string() gives:\n%s", file_name, printed);
    free(printed);
    policy_destroy(policy);
    free(text);
    free(file_name);
}
END_TEST

/* Each example survives a round trip. */
START_TEST(test_example_round_trip)
{
    struct policy *policy = parse_example(_i);
    char *text1 = policy_to_string(policy);
    struct policy *policy2 = PARSE_VALID(text1);
    char *text2 = policy_to_string(policy2);

    ck_assert_str_eq(text1, text2);
    free(text1);
    free(text2);
    policy_destroy(policy);
    policy_destroy(policy2);
}
END_TEST

/* The examples fit together in one Tenant DB. */
START_TEST(test_examples_coexist)
{
    /* All examples can be loaded into one Tenant DB: each one validates
     * against every other one as its context. */
    struct policy *policies[ARRAY_SIZE(examples)];

    for (size_t i = 0; i < ARRAY_SIZE(examples); i++) {
        policies[i] = parse_example(i);
    }
    for (size_t i = 0; i < ARRAY_SIZE(examples); i++) {
        for (size_t j = 0; j < ARRAY_SIZE(examples); j++) {
            struct policy_errors errors;

            if (i == j) {
                continue;
            }
            policy_errors_init(&errors, examples[i]);
            policy_validate(policies[i], policies[j], &errors);
            char *actual = errors_to_string(&errors);
            ck_assert_msg(!errors.n, "%s against %s:\n%s", examples[i],
                          examples[j], actual);
            free(actual);
            policy_errors_destroy(&errors);
        }
    }
    for (size_t i = 0; i < ARRAY_SIZE(examples); i++) {
        policy_destroy(policies[i]);
    }
}
END_TEST

/* The suite. */

/* Returns the test suite. */
static Suite *
policy_suite(void)
{
    Suite *s = suite_create("policy");
    TCase *tc;

    tc = tcase_create("syntax");
    tcase_add_test(tc, test_syntax_missing_comma);
    tcase_add_test(tc, test_syntax_invalid_token);
    tcase_add_test(tc, test_syntax_duplicate_key);
    tcase_add_test(tc, test_syntax_trailing_garbage);
    tcase_add_test(tc, test_syntax_returns_null);
    tcase_add_test(tc, test_not_an_object);
    tcase_add_test(tc, test_missing_file);
    suite_add_tcase(s, tc);

    tc = tcase_create("keys");
    tcase_add_test(tc, test_unknown_key_document);
    tcase_add_test(tc, test_unknown_key_port);
    tcase_add_test(tc, test_unknown_key_rule);
    tcase_add_test(tc, test_unknown_key_with_slash);
    tcase_add_test(tc, test_unknown_key_utf8_columns);
    tcase_add_test(tc, test_escaped_quote_keeps_columns);
    tcase_add_test(tc, test_wrong_type_segment);
    tcase_add_test(tc, test_wrong_type_version);
    tcase_add_test(tc, test_wrong_type_array_element);
    tcase_add_test(tc, test_wrong_type_boolean);
    tcase_add_test(tc, test_wrong_type_not_object);
    tcase_add_test(tc, test_wrong_type_ports_real);
    tcase_add_test(tc, test_missing_tenants);
    tcase_add_test(tc, test_missing_type_and_segment);
    tcase_add_test(tc, test_missing_mac);
    tcase_add_test(tc, test_missing_remote);
    tcase_add_test(tc, test_missing_tenant_name);
    tcase_add_test(tc, test_unsupported_version);
    tcase_add_test(tc, test_bad_network_type);
    tcase_add_test(tc, test_bad_direction);
    suite_add_tcase(s, tc);

    tc = tcase_create("addresses");
    tcase_add_test(tc, test_mac_not_address);
    tcase_add_test(tc, test_mac_not_hex);
    tcase_add_test(tc, test_mac_multicast);
    tcase_add_test(tc, test_mac_all_zeros);
    tcase_add_test(tc, test_allowed_address_bad_mac);
    tcase_add_test(tc, test_ipv4_bad_address);
    tcase_add_test(tc, test_ipv6_bad_address);
    tcase_add_test(tc, test_port_ip_is_prefix);
    tcase_add_test(tc, test_allowed_address_bad_ip);
    tcase_add_test(tc, test_cidr_bad_prefix_length);
    tcase_add_test(tc, test_cidr_host_bits);
    tcase_add_test(tc, test_cidr_no_prefix);
    tcase_add_test(tc, test_cidr_bad_address);
    tcase_add_test(tc, test_ip_outside_cidrs);
    tcase_add_test(tc, test_ip_family_outside_cidrs);
    tcase_add_test(tc, test_duplicate_ip);
    tcase_add_test(tc, test_duplicate_ipv6_other_spelling);
    tcase_add_test(tc, test_duplicate_mac);
    tcase_add_test(tc, test_allowed_mac_of_another_port);
    tcase_add_test(tc, test_mac_networks_differ_in_case);
    suite_add_tcase(s, tc);

    tc = tcase_create("segments");
    tcase_add_test(tc, test_vlan_zero);
    tcase_add_test(tc, test_vlan_4095);
    tcase_add_test(tc, test_vni_zero);
    tcase_add_test(tc, test_vni_too_big);
    tcase_add_test(tc, test_segment_int64_min);
    tcase_add_test(tc, test_segment_limits_valid);
    tcase_add_test(tc, test_mtu_out_of_range);
    tcase_add_test(tc, test_duplicate_segment);
    tcase_add_test(tc, test_duplicate_segment_per_type);
    tcase_add_test(tc, test_duplicate_segment_context);
    suite_add_tcase(s, tc);

    tc = tcase_create("names");
    tcase_add_test(tc, test_duplicate_tenant);
    tcase_add_test(tc, test_duplicate_network);
    tcase_add_test(tc, test_duplicate_group);
    tcase_add_test(tc, test_duplicate_port);
    tcase_add_test(tc, test_bad_tenant_names);
    tcase_add_test(tc, test_bad_object_names);
    tcase_add_test(tc, test_name_limits_valid);
    suite_add_tcase(s, tc);

    tc = tcase_create("rules");
    tcase_add_test(tc, test_ports_reversed);
    tcase_add_test(tc, test_ports_out_of_range);
    tcase_add_test(tc, test_ports_bad_syntax);
    tcase_add_test(tc, test_ports_on_icmp);
    tcase_add_test(tc, test_ports_on_any);
    tcase_add_test(tc, test_bad_protocol);
    tcase_add_test(tc, test_protocol_numbers_valid);
    tcase_add_test(tc, test_protocol_ethertype_conflict);
    tcase_add_test(tc, test_ethertype_remote_conflict);
    tcase_add_test(tc, test_protocol_remote_conflict);
    tcase_add_test(tc, test_bad_ethertype);
    tcase_add_test(tc, test_bad_remote);
    suite_add_tcase(s, tc);

    tc = tcase_create("references");
    tcase_add_test(tc, test_remote_group_missing);
    tcase_add_test(tc, test_remote_group_foreign);
    tcase_add_test(tc, test_remote_group_foreign_context);
    tcase_add_test(tc, test_remote_group_qualified);
    tcase_add_test(tc, test_port_group_missing);
    tcase_add_test(tc, test_port_group_foreign);
    tcase_add_test(tc, test_port_group_foreign_context);
    tcase_add_test(tc, test_port_group_twice);
    tcase_add_test(tc, test_port_network_foreign);
    tcase_add_test(tc, test_port_network_foreign_context);
    tcase_add_test(tc, test_port_network_missing);
    suite_add_tcase(s, tc);

    tc = tcase_create("ports");
    tcase_add_test(tc, test_iface_id_same_tenant);
    tcase_add_test(tc, test_iface_id_across_tenants);
    tcase_add_test(tc, test_iface_id_context);
    tcase_add_test(tc, test_iface_id_default_context);
    tcase_add_test(tc, test_iface_id_bad);
    tcase_add_test(tc, test_port_security_off_with_groups);
    tcase_add_test(tc, test_too_many_rules);
    tcase_add_test(tc, test_too_many_ports);
    suite_add_tcase(s, tc);

    tc = tcase_create("valid");
    tcase_add_test(tc, test_ipv6_valid);
    tcase_add_test(tc, test_allowed_addresses_valid);
    tcase_add_test(tc, test_overlapping_tenants_valid);
    tcase_add_test(tc, test_many_errors_sorted);
    tcase_add_test(tc, test_errors_without_positions);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_round_trip_empty);
    suite_add_tcase(s, tc);

    tc = tcase_create("examples");
    tcase_add_loop_test(tc, test_example_valid, 0, ARRAY_SIZE(examples));
    tcase_add_loop_test(tc, test_example_canonical, 0, ARRAY_SIZE(examples));
    tcase_add_loop_test(tc, test_example_round_trip, 0,
                        ARRAY_SIZE(examples));
    tcase_add_test(tc, test_examples_coexist);
    suite_add_tcase(s, tc);

    return s;
}

/* Runs the suite; the exit status tells whether every test passed. */
int
main(void)
{
    SRunner *sr = srunner_create(policy_suite());

    srunner_run_all(sr, CK_ENV);
    int n_failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return n_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
