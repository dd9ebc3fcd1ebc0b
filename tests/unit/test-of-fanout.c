/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Unit tests of lib/of-fanout.c against a switch played by the test (a
 * listening unix socket, OpenFlow 1.5): lists reach the switch, a barrier
 * reply makes the fanout idle, and lists given between two turns of the
 * poll loop are sent without waiting for something to arrive. */

#include <config.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lib/of-fanout.h"
#include "openvswitch/list.h"
#include "openvswitch/match.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofp-msgs.h"
#include "openvswitch/ofp-util.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vconn.h"
#include "socket-util.h"
#include "timeval.h"
#include "util.h"

/* The test's switch: one listening socket, and the one connection the
 * fanout of one connection makes to it. */
struct fake_switch {
    char *dir;                  /* Temporary directory of the socket. */
    struct pvconn *pvconn;      /* Listening. */
    struct vconn *vconn;        /* The fanout's connection, once accepted. */
    int n_flow_mods;            /* Flow mods received. */
    int n_barriers;             /* Barrier requests received (and
                                 * answered). */
};

/* Starts 'sw' listening; returns the target a client connects to.  The
 * caller frees it. */
static char *
fake_switch_start(struct fake_switch *sw)
{
    char tmpl[] = "/tmp/test-of-fanout.XXXXXX";

    memset(sw, 0, sizeof *sw);
    ck_assert_ptr_nonnull(mkdtemp(tmpl));
    sw->dir = xstrdup(tmpl);
    char *name = xasprintf("punix:%s/br.mgmt", sw->dir);
    ck_assert_int_eq(pvconn_open(name, 1u << OFP15_VERSION, DSCP_DEFAULT,
                                 &sw->pvconn), 0);
    free(name);
    return xasprintf("unix:%s/br.mgmt", sw->dir);
}

/* Accepts the connection and answers what came on it, without blocking. */
static void
fake_switch_run(struct fake_switch *sw)
{
    if (!sw->vconn && pvconn_accept(sw->pvconn, &sw->vconn)) {
        return;
    }
    vconn_run(sw->vconn);
    if (vconn_connect(sw->vconn)) {
        return;
    }
    for (int i = 0; i < 50; i++) {
        struct ofpbuf *msg;
        if (vconn_recv(sw->vconn, &msg)) {
            break;
        }
        const struct ofp_header *oh = msg->data;
        enum ofptype type;
        ck_assert_int_eq(ofptype_decode(&type, oh), 0);
        if (type == OFPTYPE_FLOW_MOD) {
            sw->n_flow_mods++;
        } else if (type == OFPTYPE_BARRIER_REQUEST) {
            sw->n_barriers++;
            struct ofpbuf *reply = ofpraw_alloc_reply(
                OFPRAW_OFPT11_BARRIER_REPLY, oh, 0);
            ck_assert_int_eq(vconn_send(sw->vconn, reply), 0);
        }
        ofpbuf_delete(msg);
    }
}

/* Stops 'sw' and removes its socket. */
static void
fake_switch_stop(struct fake_switch *sw)
{
    char *sock = xasprintf("%s/br.mgmt", sw->dir);

    vconn_close(sw->vconn);
    pvconn_close(sw->pvconn);
    unlink(sock);
    rmdir(sw->dir);
    free(sock);
    free(sw->dir);
}

/* Fails the test on any error from the switch. */
static void
fail_on_error(void *aux OVS_UNUSED, const struct ofp_header *oh OVS_UNUSED)
{
    ck_abort_msg("the switch sent an error");
}

/* Returns a list of 'n' flow mods that delete nothing, then a barrier
 * request, in 'list'. */
static void
make_list(struct ovs_list *list, int n)
{
    ovs_list_init(list);
    for (int i = 0; i < n; i++) {
        struct ofputil_flow_mod fm = {
            .table_id = 10,
            .command = OFPFC_DELETE_STRICT,
            .priority = i,
            .out_port = OFPP_ANY,
            .out_group = OFPG_ANY,
        };
        struct match match;
        match_init_catchall(&match);
        minimatch_init(&fm.match, &match);
        struct ofpbuf *msg = ofputil_encode_flow_mod(&fm,
                                                     OFPUTIL_P_OF15_OXM);
        minimatch_destroy(&fm.match);
        ovs_list_push_back(list, &msg->list_node);
    }
    ovs_list_push_back(list, &ofputil_encode_barrier_request(
                           OFP15_VERSION)->list_node);
}

/* Turns the poll loop, with 'f' and 'sw', until 'f' is idle (at most 5
 * seconds). */
static void
run_until_done(struct of_fanout *f, struct fake_switch *sw)
{
    long long int deadline = time_msec() + 5000;

    for (;;) {
        of_fanout_run(f);
        fake_switch_run(sw);
        if (of_fanout_get_state(f) != OF_FANOUT_BUSY) {
            return;
        }
        ck_assert_msg(time_msec() < deadline, "the fanout is still busy");
        of_fanout_wait(f);
        poll_timer_wait(10);    /* The test's switch has no wait. */
        poll_block();
    }
}

/* A list reaches the switch, and the barrier's reply makes the fanout
 * idle. */
START_TEST(test_sends_and_confirms)
{
    struct fake_switch sw;
    char *target = fake_switch_start(&sw);
    struct of_fanout *f = of_fanout_create(target, 1u << OFP15_VERSION, 1,
                                           fail_on_error, NULL);
    struct ovs_list list;

    make_list(&list, 3);
    of_fanout_send(f, &list);
    ck_assert_int_eq(of_fanout_get_state(f), OF_FANOUT_BUSY);
    run_until_done(f, &sw);
    ck_assert_int_eq(of_fanout_get_state(f), OF_FANOUT_DONE);
    ck_assert_int_eq(sw.n_flow_mods, 3);
    ck_assert_int_eq(sw.n_barriers, 1);

    of_fanout_destroy(f);
    fake_switch_stop(&sw);
    free(target);
}
END_TEST

/* A list given on a connection that is up, between a run and a wait, wakes
 * the poll loop at once: nothing on its socket would (the switch is quiet
 * until it gets the list).  A staged put sends its flows that way once the
 * switch confirmed its meters. */
START_TEST(test_wakes_for_new_list)
{
    struct fake_switch sw;
    char *target = fake_switch_start(&sw);
    struct of_fanout *f = of_fanout_create(target, 1u << OFP15_VERSION, 1,
                                           fail_on_error, NULL);
    struct ovs_list list;

    /* The connection comes up and carries a first list. */
    make_list(&list, 1);
    of_fanout_send(f, &list);
    run_until_done(f, &sw);
    of_fanout_run(f);

    /* The next one, given after the run. */
    make_list(&list, 2);
    of_fanout_send(f, &list);
    of_fanout_wait(f);
    poll_timer_wait(5000);
    long long int start = time_msec();
    poll_block();
    ck_assert_msg(time_msec() - start < 2500,
                  "the poll loop slept %lld ms with a list to send",
                  time_msec() - start);

    run_until_done(f, &sw);
    ck_assert_int_eq(sw.n_flow_mods, 3);
    ck_assert_int_eq(sw.n_barriers, 2);

    of_fanout_destroy(f);
    fake_switch_stop(&sw);
    free(target);
}
END_TEST

static Suite *
of_fanout_suite(void)
{
    Suite *s = suite_create("of-fanout");
    TCase *tc = tcase_create("fanout");

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_sends_and_confirms);
    tcase_add_test(tc, test_wakes_for_new_list);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(of_fanout_suite());

    srunner_run_all(sr, CK_ENV);
    int n_failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return n_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
