# The isolation verifier (issue 13): a header-space checker of br-int's
# flow table (Documentation/verify.md).  Shares no code with the
# controller's pipeline generator.
noinst_LIBRARIES += verify/libverify.a
verify_libverify_a_SOURCES = \
	verify/check.c \
	verify/hspace.c \
	verify/hspace.h \
	verify/verify.c \
	verify/verify.h \
	verify/verify-private.h
