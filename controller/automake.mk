# bulkhead-controller: the per-hypervisor daemon.
noinst_LIBRARIES += controller/libcontroller.a
controller_libcontroller_a_SOURCES = \
	controller/flow-table.c \
	controller/flow-table.h \
	controller/pipeline.c \
	controller/pipeline.h
controller_libcontroller_a_SOURCES += \
	controller/ofctrl.c \
	controller/ofctrl.h
controller_libcontroller_a_SOURCES += \
	controller/ct-limits.c \
	controller/ct-limits.h \
	controller/ct-zone.c \
	controller/ct-zone.h \
	controller/vswitchd-rpc.c \
	controller/vswitchd-rpc.h
controller_libcontroller_a_SOURCES += \
	controller/binding.c \
	controller/binding.h \
	controller/chassis.c \
	controller/chassis.h \
	controller/engine.c \
	controller/engine.h \
	controller/firewall.c \
	controller/firewall.h \
	controller/fw-log.c \
	controller/fw-log.h \
	controller/fw-rules.c \
	controller/fw-rules.h \
	controller/if-status.c \
	controller/if-status.h \
	controller/isolation.c \
	controller/isolation.h \
	controller/local-nets.c \
	controller/local-nets.h \
	controller/overlay.c \
	controller/overlay.h \
	controller/mac-owners.c \
	controller/mac-owners.h \
	controller/tdb-monitor.c \
	controller/tdb-monitor.h \
	controller/metrics.c \
	controller/metrics.h \
	controller/metrics-server.c \
	controller/metrics-server.h \
	controller/mirror.c \
	controller/mirror.h \
	controller/trace.c \
	controller/trace.h \
	controller/vnic-flows.c \
	controller/vnic-flows.h

bin_PROGRAMS += controller/bulkhead-controller
controller_bulkhead_controller_SOURCES = controller/bulkhead-controller.c
controller_bulkhead_controller_CPPFLAGS = $(AM_CPPFLAGS) \
	-DBULKHEAD_VERSION='"$(PACKAGE_VERSION)"'
controller_bulkhead_controller_LDADD = \
	ofproto-ext/libofproto-ext.a \
	controller/libcontroller.a \
	verify/libverify.a \
	lib/libbulkhead.a \
	policies/libpolicy.a \
	schema/libbulkhead-idl.a \
	$(JANSSON_LIBS) \
	$(LIBEVENT_LIBS) \
	$(OVS_LIBS) \
	$(JEMALLOC_LIBS)
