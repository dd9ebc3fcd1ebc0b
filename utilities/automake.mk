# bulkhead-ctl and the scripts that set up, demo and test Bulkhead.
bin_PROGRAMS += utilities/bulkhead-ctl
utilities_bulkhead_ctl_SOURCES = utilities/bulkhead-ctl.c
utilities_bulkhead_ctl_LDADD = \
	lib/libbulkhead.a \
	policies/libpolicy.a \
	schema/libbulkhead-idl.a \
	$(JANSSON_LIBS) \
	$(OVS_LIBS)

EXTRA_DIST += \
	utilities/build-ovs \
	utilities/bulkhead-sandbox \
	utilities/quickstart

# The control-plane benchmark against OVN (issue 5, Documentation/
# performance.md).  "make bench" runs it with BENCHFLAGS (default
# --compare-ovn: both systems, P = 100 1000); e.g.
# make bench BENCHFLAGS='--compare-ovn 100 500 1000 2000' COLD_REPS=3.
# "make check" runs it once at P=50 as a smoke test (no timing asserted).
BENCHFLAGS = --compare-ovn
bench: all
	BULKHEAD_CONTROLLER=$(abs_top_builddir)/controller/bulkhead-controller \
	BULKHEAD_CTL=$(abs_top_builddir)/utilities/bulkhead-ctl \
	BULKHEAD_SCHEMA=$(abs_top_srcdir)/schema/bulkhead.ovsschema \
	    $(abs_top_srcdir)/utilities/bulkhead-bench $(BENCHFLAGS)
.PHONY: bench
TESTS += utilities/bench-smoke
EXTRA_DIST += \
	utilities/bench-smoke \
	utilities/bulkhead-bench
