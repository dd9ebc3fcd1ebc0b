# bulkhead-ctl and the scripts that set up, demo and test Bulkhead.
bin_PROGRAMS += utilities/bulkhead-ctl
utilities_bulkhead_ctl_SOURCES = \
	utilities/bulkhead-ctl.c \
	utilities/tenant-db.c \
	utilities/tenant-db.h
utilities_bulkhead_ctl_LDADD = \
	policies/libpolicy.a \
	schema/libbulkhead-idl.a \
	$(JANSSON_LIBS) \
	$(OVS_LIBS)

EXTRA_DIST += \
	utilities/build-ovs \
	utilities/bulkhead-sandbox \
	utilities/quickstart
