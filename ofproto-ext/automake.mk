# ofproto-ext: per-vNIC and per-rule statistics from the switch's counters.
noinst_LIBRARIES += ofproto-ext/libofproto-ext.a
ofproto_ext_libofproto_ext_a_SOURCES = \
	ofproto-ext/stats.c \
	ofproto-ext/stats.h \
	ofproto-ext/stats-collect.c \
	ofproto-ext/stats-collect.h \
	ofproto-ext/vnic-stats.c \
	ofproto-ext/vnic-stats.h
