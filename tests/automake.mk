# Tests: Check unit tests and the autotest suite.

# The autotest suite: real ovsdb-server (and, later, ovs-vswitchd), the real
# bulkhead-ctl.  It includes OVS's ovs-macros.at and ovsdb-macros.at from
# the OVS source tree, found through -I $(OVS_SRCDIR).
TESTSUITE_AT = \
	tests/testsuite.at \
	tests/bulkhead-macros.at \
	tests/ctl.at \
	tests/ctl-load.at \
	tests/ctl-rows.at \
	tests/controller-macros.at \
	tests/controller.at \
	tests/controller-engine.at \
	tests/controller-security.at \
	tests/controller-firewall.at \
	tests/controller-overlay.at \
	tests/controller-trace.at \
	tests/controller-stats.at \
	tests/controller-metrics.at \
	tests/controller-mirror.at \
	tests/controller-isolation.at \
	tests/multihost-macros.at \
	tests/multihost.at
EXTRA_DIST += $(TESTSUITE_AT) tests/atlocal.in
TESTSUITE = tests/testsuite
TESTSUITE_DIR = $(abs_top_builddir)/tests/testsuite.dir
AUTOTEST = $(AUTOM4TE) -language=autotest
AUTOTEST_PATH = $(abs_top_builddir)/utilities:$(abs_top_builddir)/controller
DISTCLEANFILES += tests/atconfig tests/atlocal
CLEANFILES += $(TESTSUITE) tests/package.m4

tests/package.m4: $(top_srcdir)/configure.ac
	$(AM_V_GEN){ \
	  echo '# Signature of the current package.'; \
	  echo 'm4_define([AT_PACKAGE_NAME],      [$(PACKAGE_NAME)])'; \
	  echo 'm4_define([AT_PACKAGE_TARNAME],   [$(PACKAGE_TARNAME)])'; \
	  echo 'm4_define([AT_PACKAGE_VERSION],   [$(PACKAGE_VERSION)])'; \
	  echo 'm4_define([AT_PACKAGE_STRING],    [$(PACKAGE_STRING)])'; \
	  echo 'm4_define([AT_PACKAGE_BUGREPORT], [$(PACKAGE_BUGREPORT)])'; \
	} > $@

$(TESTSUITE): tests/package.m4 $(TESTSUITE_AT)
	$(AM_V_GEN)$(AUTOTEST) -I '$(srcdir)' -I tests -I '$(OVS_SRCDIR)' \
	    -o $@.tmp $(srcdir)/tests/testsuite.at && mv $@.tmp $@

check-local: tests/atconfig tests/atlocal $(TESTSUITE) all
	$(SHELL) '$(TESTSUITE)' -C tests AUTOTEST_PATH='$(AUTOTEST_PATH)' \
	    $(TESTSUITEFLAGS)

clean-local:
	test ! -f '$(TESTSUITE)' || $(SHELL) '$(TESTSUITE)' -C tests --clean

# Only the autotest suite (quickstart runs it in the sanitizer build too).
check-autotest: tests/atconfig tests/atlocal $(TESTSUITE) all
	$(SHELL) '$(TESTSUITE)' -C tests AUTOTEST_PATH='$(AUTOTEST_PATH)' \
	    $(TESTSUITEFLAGS)
.PHONY: check-autotest

# Only the unit tests (CI runs them in the sanitizer build).
check-unit: $(check_PROGRAMS)
	$(MAKE) $(AM_MAKEFLAGS) check-TESTS

# Check unit tests (tests/unit/).  Each is a program that "make check"
# builds and runs; CK_FORK=no and CK_RUN_CASE=NAME help when debugging one.
check_PROGRAMS += tests/unit/test-policy
TESTS += tests/unit/test-policy
tests_unit_test_policy_SOURCES = tests/unit/test-policy.c
tests_unit_test_policy_CPPFLAGS = $(AM_CPPFLAGS) \
	-DEXAMPLES_DIR='"$(abs_top_srcdir)/policies/examples"'
tests_unit_test_policy_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_policy_LDADD = \
	policies/libpolicy.a \
	$(JANSSON_LIBS) \
	$(CHECK_LIBS) \
	$(OVS_LIBS)
check_PROGRAMS += tests/unit/test-pipeline
TESTS += tests/unit/test-pipeline
tests_unit_test_pipeline_SOURCES = tests/unit/test-pipeline.c
tests_unit_test_pipeline_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_pipeline_LDADD = \
	controller/libcontroller.a \
	policies/libpolicy.a \
	$(JANSSON_LIBS) \
	$(CHECK_LIBS) \
	$(OVS_LIBS)
check_PROGRAMS += tests/unit/test-fw-rules
TESTS += tests/unit/test-fw-rules
tests_unit_test_fw_rules_SOURCES = tests/unit/test-fw-rules.c
tests_unit_test_fw_rules_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_fw_rules_LDADD = \
	controller/libcontroller.a \
	policies/libpolicy.a \
	$(JANSSON_LIBS) \
	$(CHECK_LIBS) \
	$(OVS_LIBS)
check_PROGRAMS += tests/unit/test-flow-table
TESTS += tests/unit/test-flow-table
tests_unit_test_flow_table_SOURCES = tests/unit/test-flow-table.c
tests_unit_test_flow_table_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_flow_table_LDADD = \
	controller/libcontroller.a \
	$(CHECK_LIBS) \
	$(OVS_LIBS)
check_PROGRAMS += tests/unit/test-mac-owners
TESTS += tests/unit/test-mac-owners
tests_unit_test_mac_owners_SOURCES = tests/unit/test-mac-owners.c
tests_unit_test_mac_owners_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_mac_owners_LDADD = \
	controller/libcontroller.a \
	$(CHECK_LIBS) \
	$(OVS_LIBS)
check_PROGRAMS += tests/unit/test-of-fanout
TESTS += tests/unit/test-of-fanout
tests_unit_test_of_fanout_SOURCES = tests/unit/test-of-fanout.c
tests_unit_test_of_fanout_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_of_fanout_LDADD = \
	lib/libbulkhead.a \
	$(CHECK_LIBS) \
	$(OVS_LIBS)
check_PROGRAMS += tests/unit/test-vnic-stats
TESTS += tests/unit/test-vnic-stats
tests_unit_test_vnic_stats_SOURCES = tests/unit/test-vnic-stats.c
tests_unit_test_vnic_stats_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_vnic_stats_LDADD = \
	ofproto-ext/libofproto-ext.a \
	controller/libcontroller.a \
	lib/libbulkhead.a \
	policies/libpolicy.a \
	schema/libbulkhead-idl.a \
	$(JANSSON_LIBS) \
	$(LIBEVENT_LIBS) \
	$(CHECK_LIBS) \
	$(OVS_LIBS)
check_PROGRAMS += tests/unit/test-metrics
TESTS += tests/unit/test-metrics
tests_unit_test_metrics_SOURCES = tests/unit/test-metrics.c
tests_unit_test_metrics_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_metrics_LDADD = \
	controller/libcontroller.a \
	lib/libbulkhead.a \
	policies/libpolicy.a \
	schema/libbulkhead-idl.a \
	$(JANSSON_LIBS) \
	$(LIBEVENT_LIBS) \
	$(CHECK_LIBS) \
	$(OVS_LIBS)
EXTRA_DIST += \
	policies/examples/demo.json \
	policies/examples/ipv6.json \
	policies/examples/three-tier.json

# The system test suite (root only): network namespaces as VMs, veths,
# ovs-vswitchd with the userspace datapath and the real controller, set up
# by utilities/bulkhead-sandbox as the demo is.  "make check-system" runs
# it; like the main suite, it includes OVS's ovs-macros.at through
# -I $(OVS_SRCDIR).
SYSTEM_TESTSUITE_AT = \
	tests/system-testsuite.at \
	tests/system-macros.at \
	tests/system-isolation.at \
	tests/system-restart.at \
	tests/system-reach.at \
	tests/system-multihost.at \
	tests/system-stats.at \
	tests/system-mirror.at \
	tests/system-firewall.at \
	tests/system-sandbox.at
EXTRA_DIST += $(SYSTEM_TESTSUITE_AT) tests/netprobe.py
SYSTEM_TESTSUITE = tests/system-testsuite
SYSTEM_AUTOTEST_PATH = $(AUTOTEST_PATH):$(abs_top_srcdir)/utilities
CLEANFILES += $(SYSTEM_TESTSUITE)

$(SYSTEM_TESTSUITE): tests/package.m4 $(SYSTEM_TESTSUITE_AT)
	$(AM_V_GEN)$(AUTOTEST) -I '$(srcdir)' -I tests -I '$(OVS_SRCDIR)' \
	    -o $@.tmp $(srcdir)/tests/system-testsuite.at && mv $@.tmp $@

check-system: tests/atconfig tests/atlocal $(SYSTEM_TESTSUITE) all
	$(SHELL) '$(SYSTEM_TESTSUITE)' -C tests \
	    AUTOTEST_PATH='$(SYSTEM_AUTOTEST_PATH)' $(TESTSUITEFLAGS)

clean-local: clean-system-testsuite
clean-system-testsuite:
	test ! -f '$(SYSTEM_TESTSUITE)' || \
	    $(SHELL) '$(SYSTEM_TESTSUITE)' -C tests --clean

.PHONY: check-system clean-system-testsuite

# The isolation verifier (issue 13): its unit tests, on hand-written tables
# and on tables from the controller's own compiler (verify-fixture.c), and
# its benchmark (tests/unit/bench-verify [P [NETWORKS]], not run by
# "make check").
check_PROGRAMS += tests/unit/test-verify
TESTS += tests/unit/test-verify
tests_unit_test_verify_SOURCES = \
	tests/unit/test-verify.c \
	tests/unit/verify-fixture.c \
	tests/unit/verify-fixture.h
tests_unit_test_verify_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_verify_LDADD = \
	verify/libverify.a \
	controller/libcontroller.a \
	policies/libpolicy.a \
	$(JANSSON_LIBS) \
	$(CHECK_LIBS) \
	$(OVS_LIBS)
noinst_PROGRAMS += tests/unit/bench-verify
tests_unit_bench_verify_SOURCES = \
	tests/unit/bench-verify.c \
	tests/unit/verify-fixture.c \
	tests/unit/verify-fixture.h
tests_unit_bench_verify_LDADD = \
	verify/libverify.a \
	controller/libcontroller.a \
	policies/libpolicy.a \
	$(JANSSON_LIBS) \
	$(OVS_LIBS)
