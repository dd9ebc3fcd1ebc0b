# libbulkhead: code that bulkhead-ctl and bulkhead-controller share.
noinst_LIBRARIES += lib/libbulkhead.a
lib_libbulkhead_a_SOURCES = \
	lib/of-fanout.c \
	lib/of-fanout.h \
	lib/of-recv.c \
	lib/of-recv.h \
	lib/tenant-db.c \
	lib/tenant-db.h
