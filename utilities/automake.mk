# bulkhead-ctl and the scripts that set up, demo and test Bulkhead.
bin_PROGRAMS += utilities/bulkhead-ctl
utilities_bulkhead_ctl_SOURCES = utilities/bulkhead-ctl.c
utilities_bulkhead_ctl_LDADD = \
	lib/libbulkhead.a \
	policies/libpolicy.a \
	schema/libbulkhead-idl.a \
	$(JANSSON_LIBS) \
	$(OVS_LIBS)

# The fleet benchmark's simulated hosts (utilities/bulkhead-bench-fleet):
# many Tenant DB clients with a controller's conditions in one process.
noinst_PROGRAMS += utilities/bulkhead-fleet-sim
utilities_bulkhead_fleet_sim_SOURCES = utilities/bulkhead-fleet-sim.c
utilities_bulkhead_fleet_sim_LDADD = \
	controller/libcontroller.a \
	schema/libbulkhead-idl.a \
	$(OVS_LIBS)
# A Grafana dashboard over the controller's /metrics (issue 12).
pkgdata_DATA += utilities/bulkhead-grafana.json
EXTRA_DIST += utilities/bulkhead-grafana.json

EXTRA_DIST += \
	utilities/build-ovs \
	utilities/bulkhead-sandbox \
	utilities/quickstart

# The control-plane benchmark against OVN (issue 5, Documentation/
# performance.md).  "make bench" runs it with BENCHFLAGS (default
# --compare-ovn: both systems, P = 100 1000); e.g.
# make bench BENCHFLAGS='--compare-ovn=both 100 500 1000 2000' COLD_REPS=3.
# Then, as root, the firewall's datapath cost (bulkhead-bench-throughput,
# with THROUGHPUTFLAGS; also "make bench-throughput" alone).
# "make check" runs each once as a smoke test (no timing asserted; the
# throughput one as root only).
BENCHFLAGS = --compare-ovn
THROUGHPUTFLAGS =
bench_env = \
	BULKHEAD_CONTROLLER=$(abs_top_builddir)/controller/bulkhead-controller \
	BULKHEAD_CTL=$(abs_top_builddir)/utilities/bulkhead-ctl \
	BULKHEAD_SCHEMA=$(abs_top_srcdir)/schema/bulkhead.ovsschema
bench: all
	$(bench_env) $(abs_top_srcdir)/utilities/bulkhead-bench $(BENCHFLAGS)
	@if [ "$$(id -u)" = 0 ]; then \
	    $(MAKE) $(AM_MAKEFLAGS) bench-throughput; \
	else \
	    echo "bench: the firewall's throughput benchmark needs root (make bench-throughput)"; \
	fi
bench-throughput: all
	$(bench_env) $(abs_top_srcdir)/utilities/bulkhead-bench-throughput $(THROUGHPUTFLAGS)
.PHONY: bench bench-throughput
TESTS += utilities/bench-smoke utilities/bench-throughput-smoke
EXTRA_DIST += \
	utilities/bench-smoke \
	utilities/bench-throughput-smoke \
	utilities/bulkhead-bench \
	utilities/bulkhead-bench-fleet \
	utilities/bulkhead-bench-throughput

# The churn-and-fault soak (utilities/bulkhead-soak): random policy
# changes, hypervisor actions and daemon faults on a private stack, with
# invariant checkpoints.  "make soak" runs it with SOAKFLAGS (default ten
# minutes of operations, a random seed: it prints it, and
# SOAKFLAGS=--seed=N replays a run); e.g.
# make soak SOAKFLAGS='--duration=3600 --every=100'.  By default it also
# has a large population (--large=300: 300 vNICs more, a table above the
# staging threshold) with faults in the middle of large puts.
# "make check" runs it for about 20 s with a fixed seed (soak-smoke,
# within 60 s of wall time).
SOAKFLAGS = --duration=600 --large=300
soak: all
	$(bench_env) $(abs_top_srcdir)/utilities/bulkhead-soak $(SOAKFLAGS)
.PHONY: soak
TESTS += utilities/soak-smoke
EXTRA_DIST += \
	utilities/bulkhead-soak \
	utilities/soak-smoke

# Random policies against real traffic between VM namespaces on two
# sandbox hosts, compared with an evaluator of Documentation/policy.md
# (utilities/bulkhead-policy-fuzz, as root).  tests/system-reach.at runs
# one round of it with a fixed seed.
EXTRA_DIST += utilities/bulkhead-policy-fuzz

# The offline isolation checker (issue 13, Documentation/verify.md).
bin_PROGRAMS += utilities/bulkhead-verify
utilities_bulkhead_verify_SOURCES = utilities/bulkhead-verify.c
utilities_bulkhead_verify_LDADD = \
	verify/libverify.a \
	$(OVS_LIBS)
