/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Unit tests of the metrics (controller/metrics.c): label value escaping
 * and the text format helpers; and of the HTTP server
 * (controller/metrics-server.c): targets, /metrics, /healthz, errors, and
 * the connection cap. */

#include <config.h>

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include "controller/metrics.h"
#include "controller/metrics-server.h"
#include "openvswitch/dynamic-string.h"
#include "util.h"

/* Returns 'value' escaped as a label value.  The caller frees it. */
static char *
escaped(const char *value)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    metrics_escape_label_value(&s, value);
    return ds_steal_cstr(&s);
}

START_TEST(test_escape_label_value)
{
    static const char *cases[][2] = {
        { "", "" },
        { "acme", "acme" },
        { "a\"b", "a\\\"b" },
        { "a\\b", "a\\\\b" },
        { "line1\nline2", "line1\\nline2" },
        { "\\\"\n", "\\\\\\\"\\n" },
        { "tab\tand é", "tab\tand é" },
        { "{x=\"1\"}", "{x=\\\"1\\\"}" },
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *got = escaped(cases[i][0]);
        ck_assert_str_eq(got, cases[i][1]);
        free(got);
    }
}
END_TEST

START_TEST(test_put_label_and_family)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    metrics_put_family(&s, "bulkhead_x", "gauge",
                       "Help with \\ and\nnewline.");
    ds_put_cstr(&s, "bulkhead_x");
    metrics_put_label(&s, true, "tenant", "ac\"me");
    metrics_put_label(&s, false, "port", "p\\1");
    ds_put_cstr(&s, "} 1\n");
    ck_assert_str_eq(ds_cstr(&s),
                     "# HELP bulkhead_x Help with \\\\ and\\nnewline.\n"
                     "# TYPE bulkhead_x gauge\n"
                     "bulkhead_x{tenant=\"ac\\\"me\",port=\"p\\\\1\"} 1\n");
    ds_destroy(&s);
}
END_TEST

/* Client side. */

/* Returns a socket connected to 127.0.0.1:'port', with 5-second
 * timeouts. */
static int
connect_to(uint16_t port)
{
    struct sockaddr_in sin = {
        .sin_family = AF_INET,
        .sin_port = htons(port),
        .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
    };
    struct timeval tv = { .tv_sec = 5 };
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    ck_assert_int_ge(fd, 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    ck_assert_int_eq(connect(fd, (struct sockaddr *) &sin, sizeof sin), 0);
    return fd;
}

/* Reads what 'fd' receives until the end of the stream (or a timeout),
 * into a string the caller frees. */
static char *
read_all(int fd)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    char buf[4096];
    ssize_t n;

    while ((n = read(fd, buf, sizeof buf)) > 0) {
        ds_put_buffer(&s, buf, n);
    }
    return ds_steal_cstr(&s);
}

/* Sends 'request' (whole, as text) to the server on 'port' and returns
 * the response, read until the server closes the connection. */
static char *
http(uint16_t port, const char *request)
{
    int fd = connect_to(port);
    size_t len = strlen(request);

    ck_assert_int_eq(write(fd, request, len), len);
    char *response = read_all(fd);
    close(fd);
    return response;
}

/* GETs 'path' and returns the response. */
static char *
get(uint16_t port, const char *path)
{
    char *req = xasprintf("GET %s HTTP/1.1\r\nHost: x\r\n"
                          "Connection: close\r\n\r\n", path);
    char *response = http(port, req);
    free(req);
    return response;
}

/* Checks that 'response' starts with 'status' and ends with 'body'. */
static void
check_response(char *response, const char *status, const char *body)
{
    ck_assert_msg(!strncmp(response, status, strlen(status)),
                  "expected \"%s\", got \"%s\"", status, response);
    size_t n = strlen(response), m = strlen(body);
    ck_assert_msg(n >= m && !strcmp(response + n - m, body),
                  "expected body \"%s\", got \"%s\"", body, response);
    free(response);
}

START_TEST(test_server_serves)
{
    struct metrics_server *s;

    ck_assert_ptr_null(metrics_server_create("127.0.0.1:0", &s));
    uint16_t port = metrics_server_port(s);
    ck_assert_int_ne(port, 0);

    /* Before anything is published: an empty text, not healthy. */
    check_response(get(port, "/metrics"), "HTTP/1.1 200 ", "\r\n\r\n");
    check_response(get(port, "/healthz"), "HTTP/1.1 503 ", "starting\n");

    metrics_server_publish(s, "a 1\nb 2\n", 8);
    metrics_server_set_health(s, true, NULL);
    for (int i = 0; i < 3; i++) {
        check_response(get(port, "/metrics"), "HTTP/1.1 200 ", "a 1\nb 2\n");
        check_response(get(port, "/healthz"), "HTTP/1.1 200 ", "ok\n");
    }
    metrics_server_set_health(s, false, "Tenant DB not connected");
    check_response(get(port, "/healthz"), "HTTP/1.1 503 ",
                   "Tenant DB not connected\n");
    check_response(get(port, "/nope"), "HTTP/1.1 404 ", "/healthz\n");
    check_response(http(port, "POST /metrics HTTP/1.1\r\nHost: x\r\n"
                        "Connection: close\r\n\r\n"), "HTTP/1.1 501 ", "");

    /* HEAD: headers only. */
    char *r = http(port, "HEAD /metrics HTTP/1.1\r\nHost: x\r\n"
                   "Connection: close\r\n\r\n");
    ck_assert_ptr_null(strstr(r, "a 1"));
    ck_assert_ptr_nonnull(strstr(r, "Content-Length: 8\r\n"));
    check_response(r, "HTTP/1.1 200 ", "\r\n\r\n");

    /* Keep-alive: two requests on one connection. */
    int fd = connect_to(port);
    const char *two = ("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
                       "GET /healthz HTTP/1.1\r\nHost: x\r\n"
                       "Connection: close\r\n\r\n");
    ck_assert_int_eq(write(fd, two, strlen(two)), strlen(two));
    r = read_all(fd);
    close(fd);
    ck_assert_ptr_nonnull(strstr(r, "a 1\nb 2\n"));
    check_response(r, "HTTP/1.1 200 ", "Tenant DB not connected\n");

    struct metrics_server_stats st;
    metrics_server_get_stats(s, &st);
    ck_assert_int_eq(st.n_requests, 13);   /* The 501 is evhttp's own. */
    metrics_server_destroy(s);
}
END_TEST

START_TEST(test_server_limits)
{
    struct metrics_server *s;

    ck_assert_ptr_null(metrics_server_create("127.0.0.1:0", &s));
    uint16_t port = metrics_server_port(s);
    metrics_server_publish(s, "x 1\n", 4);

    /* Headers too large: 400, then closed. */
    struct ds big = DS_EMPTY_INITIALIZER;
    ds_put_cstr(&big, "GET /metrics HTTP/1.1\r\nX: ");
    for (int i = 0; i < 2 * METRICS_SERVER_MAX_HEADERS; i++) {
        ds_put_char(&big, 'a');
    }
    ds_put_cstr(&big, "\r\n\r\n");
    int fd = connect_to(port);
    ignore(write(fd, big.string, big.length));
    char *r = read_all(fd);
    close(fd);
    ck_assert_msg(!strncmp(r, "HTTP/1.1 400 ", 13) || !r[0], "%s", r);
    free(r);
    ds_destroy(&big);

    /* Many hanging connections: the oldest ones are closed, the last
     * ones stay open, and a new client is served. */
    int hang[METRICS_SERVER_MAX_CONNS + 4];
    for (size_t i = 0; i < ARRAY_SIZE(hang); i++) {
        hang[i] = connect_to(port);
        ck_assert_int_eq(write(hang[i], "GET /met", 8), 8);
    }
    check_response(get(port, "/metrics"), "HTTP/1.1 200 ", "x 1\n");
    /* The first 5 were evicted (the last client made one more). */
    for (size_t i = 0; i < 5; i++) {
        char buf[16];
        ck_assert_int_eq(read(hang[i], buf, sizeof buf), 0);
    }
    struct metrics_server_stats st;
    metrics_server_get_stats(s, &st);
    ck_assert_int_eq(st.n_evicted, 5);
    for (size_t i = 0; i < ARRAY_SIZE(hang); i++) {
        close(hang[i]);
    }

    /* Destroying it with connections open. */
    fd = connect_to(port);
    metrics_server_destroy(s);
    close(fd);
}
END_TEST

START_TEST(test_server_errors)
{
    static const char *cases[][2] = {
        { "nonsense", "expected ADDR:PORT" },
        { "1.2.3.4:99999", "bad port \"99999\"" },
        { "1.2.3.4:", "bad port \"\"" },
        { "[::1:80", "[ADDR]:PORT" },
        { "::1:80", "expected ADDR:PORT" },
        { "300.1.1.1:80", "bad IPv4 address \"300.1.1.1\"" },
        { "[fe80::zz]:80", "bad IPv6 address \"fe80::zz\"" },
        { "192.0.2.1:80", "bind: Cannot assign requested address" },
    };
    struct metrics_server *s, *s2;

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *error = metrics_server_create(cases[i][0], &s);
        ck_assert_ptr_nonnull(error);
        ck_assert_msg(strstr(error, cases[i][1]), "%s: %s", cases[i][0],
                      error);
        ck_assert_ptr_null(s);
        free(error);
    }

    /* A port in use. */
    ck_assert_ptr_null(metrics_server_create("127.0.0.1:0", &s));
    char *target = xasprintf("127.0.0.1:%d", metrics_server_port(s));
    char *error = metrics_server_create(target, &s2);
    ck_assert_ptr_nonnull(error);
    ck_assert_msg(strstr(error, "Address already in use"), "%s", error);
    free(error);
    free(target);
    metrics_server_destroy(s);
}
END_TEST

static Suite *
metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("text");

    tcase_add_test(tc, test_escape_label_value);
    tcase_add_test(tc, test_put_label_and_family);
    suite_add_tcase(s, tc);

    tc = tcase_create("server");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_server_serves);
    tcase_add_test(tc, test_server_limits);
    tcase_add_test(tc, test_server_errors);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(metrics_suite());

    srunner_run_all(sr, CK_ENV);
    int n_failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return n_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
