# The Tenant DB schema and its C IDL, generated with OVS's ovsdb-idlc.
pkgdata_DATA += schema/bulkhead.ovsschema
EXTRA_DIST += schema/bulkhead.ovsschema schema/bulkhead.ann

noinst_LIBRARIES += schema/libbulkhead-idl.a
nodist_schema_libbulkhead_idl_a_SOURCES = \
	schema/bulkhead-idl.c \
	schema/bulkhead-idl.h
schema_libbulkhead_idl_a_CFLAGS = $(AM_CFLAGS) -Wno-missing-prototypes
BUILT_SOURCES += schema/bulkhead-idl.c schema/bulkhead-idl.h
CLEANFILES += schema/bulkhead-idl.c schema/bulkhead-idl.h \
	schema/bulkhead.ovsidl

schema/bulkhead.ovsidl: schema/bulkhead.ovsschema schema/bulkhead.ann
	$(AM_V_GEN)$(MKDIR_P) schema && \
	$(OVSDB_IDLC) annotate $(srcdir)/schema/bulkhead.ovsschema \
	    $(srcdir)/schema/bulkhead.ann > $@.tmp && mv $@.tmp $@
schema/bulkhead-idl.h: schema/bulkhead.ovsidl
	$(AM_V_GEN)$(OVSDB_IDLC) c-idl-header $< > $@.tmp && mv $@.tmp $@
schema/bulkhead-idl.c: schema/bulkhead.ovsidl
	$(AM_V_GEN)$(OVSDB_IDLC) c-idl-source $< > $@.tmp && mv $@.tmp $@
