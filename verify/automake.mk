# The isolation verifier (issue 13): a header-space checker of br-int's
# flow table (Documentation/verify.md).  Shares no code with the
# controller's pipeline generator.
noinst_LIBRARIES += verify/libverify.a
verify_libverify_a_SOURCES = \
	verify/check.c \
	verify/hspace.c \
	verify/hspace.h \
	verify/live.c \
	verify/verify.c \
	verify/verify.h \
	verify/verify-private.h
# Cubes are arrays of uint64_t read and written as struct flow (and its
# fields) through OVS's meta-flow functions: no strict aliasing.
verify_libverify_a_CFLAGS = $(AM_CFLAGS) -fno-strict-aliasing
