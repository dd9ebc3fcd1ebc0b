# Bulkhead's configure checks.

# BULKHEAD_CHECK_OVS
# ------------------
# Finds an Open vSwitch source tree and the build of it that holds
# libopenvswitch.a, libovsdb.a and ovsdb-idlc.  Like OVN's configure, takes
# --with-ovs-source=DIR and --with-ovs-build=DIR (default: the source dir).
AC_DEFUN([BULKHEAD_CHECK_OVS], [
  AC_ARG_WITH([ovs-source],
    [AS_HELP_STRING([--with-ovs-source=DIR],
                    [Open vSwitch source tree (required)])],
    [OVS_SRCDIR=`cd "$withval" 2>/dev/null && pwd`],
    [OVS_SRCDIR=])
  AC_ARG_WITH([ovs-build],
    [AS_HELP_STRING([--with-ovs-build=DIR],
                    [Open vSwitch build tree (default: the source tree)])],
    [OVS_BUILDDIR=`cd "$withval" 2>/dev/null && pwd`],
    [OVS_BUILDDIR=$OVS_SRCDIR])
  AS_IF([test -z "$OVS_SRCDIR" || test ! -f "$OVS_SRCDIR/lib/ovsdb-idl.h"],
    [AC_MSG_ERROR([--with-ovs-source=DIR must name an Open vSwitch source tree (utilities/build-ovs builds one)])])
  AC_MSG_CHECKING([for libopenvswitch in $OVS_BUILDDIR])
  AS_IF([test -f "$OVS_BUILDDIR/lib/.libs/libopenvswitch.a" &&
         test -f "$OVS_BUILDDIR/ovsdb/.libs/libovsdb.a" &&
         test -f "$OVS_BUILDDIR/config.h"],
    [AC_MSG_RESULT([yes])],
    [AC_MSG_RESULT([no])
     AC_MSG_ERROR([$OVS_BUILDDIR is not a built Open vSwitch tree (run utilities/build-ovs)])])
  OVS_CPPFLAGS="-I$OVS_BUILDDIR -I$OVS_SRCDIR -I$OVS_SRCDIR/include -I$OVS_BUILDDIR/include -I$OVS_SRCDIR/lib -I$OVS_BUILDDIR/lib"
  OVS_LIBS="$OVS_BUILDDIR/ovsdb/.libs/libovsdb.a $OVS_BUILDDIR/lib/.libs/libopenvswitch.a"
  AS_IF([test -f "$OVS_BUILDDIR/lib/.libs/libopenvswitchavx512.a"],
    [OVS_LIBS="$OVS_LIBS $OVS_BUILDDIR/lib/.libs/libopenvswitchavx512.a"])
  OVS_LIBS="$OVS_LIBS -lssl -lcrypto -lcap-ng -lunbound -latomic -lm -lpthread"
  AC_SUBST([OVS_SRCDIR])
  AC_SUBST([OVS_BUILDDIR])
  AC_SUBST([OVS_CPPFLAGS])
  AC_SUBST([OVS_LIBS])
])

# BULKHEAD_ENABLE_SANITIZERS
# --------------------------
# --enable-sanitizers builds everything with AddressSanitizer and
# UndefinedBehaviorSanitizer.
AC_DEFUN([BULKHEAD_ENABLE_SANITIZERS], [
  AC_ARG_ENABLE([sanitizers],
    [AS_HELP_STRING([--enable-sanitizers],
                    [build with AddressSanitizer and UBSan])],
    [], [enable_sanitizers=no])
  SANITIZER_CFLAGS=
  AS_IF([test "$enable_sanitizers" = yes],
    [SANITIZER_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"])
  AC_SUBST([SANITIZER_CFLAGS])
  AM_CONDITIONAL([SANITIZERS], [test "$enable_sanitizers" = yes])
])

# BULKHEAD_WITH_JEMALLOC
# ----------------------
# The controller allocates with jemalloc (Debian's libjemalloc-dev) when it
# is there: at a cold start of 4,000 vNICs, glibc's malloc spends a quarter
# of the controller's CPU in its own bookkeeping, a share that grows with
# the heap (Documentation/performance.md, "Checks that hold nothing back, and
# the allocator").
# --without-jemalloc keeps glibc's; --with-jemalloc fails without it.
# Sanitizer builds never use it: AddressSanitizer brings its own allocator.
# Must follow BULKHEAD_ENABLE_SANITIZERS.
AC_DEFUN([BULKHEAD_WITH_JEMALLOC], [
  AC_ARG_WITH([jemalloc],
    [AS_HELP_STRING([--without-jemalloc],
                    [link the controller with glibc's malloc, not jemalloc])],
    [], [with_jemalloc=check])
  AS_IF([test "$enable_sanitizers" = yes], [with_jemalloc=no])
  JEMALLOC_LIBS=
  AS_IF([test "$with_jemalloc" != no],
    [PKG_CHECK_MODULES([JEMALLOC], [jemalloc],
       [with_jemalloc=yes],
       [AS_IF([test "$with_jemalloc" = yes],
              [AC_MSG_ERROR([--with-jemalloc: jemalloc not found (Debian: libjemalloc-dev)])])
        with_jemalloc=no
        JEMALLOC_LIBS=])])
  AC_MSG_CHECKING([which malloc the controller uses])
  AS_IF([test "$with_jemalloc" = yes],
        [AC_MSG_RESULT([jemalloc])], [AC_MSG_RESULT([glibc])])
  AC_SUBST([JEMALLOC_LIBS])
])

# BULKHEAD_ENABLE_WERROR
# ----------------------
# Warnings are errors unless --disable-werror.
AC_DEFUN([BULKHEAD_ENABLE_WERROR], [
  AC_ARG_ENABLE([werror],
    [AS_HELP_STRING([--disable-werror], [do not turn warnings into errors])],
    [], [enable_werror=yes])
  WARNING_CFLAGS="-Wall -Wextra -Wno-unused-parameter -Wno-sign-compare -Wstrict-prototypes -Wmissing-prototypes -Wshadow -Wpointer-arith"
  AS_IF([test "$enable_werror" = yes],
    [WARNING_CFLAGS="$WARNING_CFLAGS -Werror"])
  AC_SUBST([WARNING_CFLAGS])
])
