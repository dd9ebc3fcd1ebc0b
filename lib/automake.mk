# libbulkhead: code that bulkhead-ctl and bulkhead-controller share.
noinst_LIBRARIES += lib/libbulkhead.a
lib_libbulkhead_a_SOURCES = \
	lib/tenant-db.c \
	lib/tenant-db.h
