#!/usr/bin/env bash
# Installs into a temporary DESTDIR and builds a tiny host against it through
# pkg-config, linked shared and then static, with the README's commands.
# Prints TAP lines for run.sh; fails naming pkg-config when it is missing.
set -euo pipefail

cd "$(dirname "$0")/.."
if ! command -v pkg-config >/dev/null; then
    echo "not ok 1 - install test: pkg-config not installed (apt-get install pkg-config, as .ci/run does)"
    exit 1
fi

make=${MAKE:-make}
cc=${CC:-cc}
prefix=/opt/netproc-install-test
tmp=$(mktemp -d /tmp/netproc-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/dest
libdir=$dest$prefix/lib

echo "1..4"
$make --no-print-directory install DESTDIR="$dest" PREFIX="$prefix" >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log"; echo "not ok 1 - make install"; exit 1; }
pc=$libdir/pkgconfig/netproc.pc
if grep -qx "prefix=$prefix" "$pc" && grep -q '^Libs.private: *-l' "$pc"; then
    echo "ok 1 - make install DESTDIR=... PREFIX=$prefix"
else
    cat "$pc"
    echo "not ok 1 - installed netproc.pc lacks the real prefix or Libs.private"
    exit 1
fi

cat >"$tmp/host.c" <<'C'
#include <netproc.h>
#include <stdio.h>

int main(void) {
    printf("netproc %s\n", netproc_version_string());
    return netproc_version() == NETPROC_VERSION_NUMBER ? 0 : 1;
}
C

# needs BINARY REGEX: a NEEDED entry matches (via a file, because grep -q
# closing a pipe early can fail the pipeline under pipefail).
needs() { readelf -d "$1" >"$tmp/dynamic" && grep -q "NEEDED.*$2" "$tmp/dynamic"; }

# The .pc names the real prefix; the sysroot variable prepends DESTDIR to
# its -I and -L paths, as for any staged install.
export PKG_CONFIG_PATH=$libdir/pkgconfig PKG_CONFIG_SYSROOT_DIR=$dest
status=0

# shellcheck disable=SC2046 # pkg-config output is a list of flags
if $cc -o "$tmp/host_shared" "$tmp/host.c" $(pkg-config --cflags --libs netproc) &&
    needs "$tmp/host_shared" '\[libnetproc\.so\.' &&
    LD_LIBRARY_PATH=$libdir "$tmp/host_shared"; then
    echo "ok 2 - shared link via pkg-config"
else
    echo "not ok 2 - shared link via pkg-config"
    status=1
fi

# The README's static line: the archive by its path (static_libs in netproc.pc), because
# -lnetproc would pick the .so that sits beside it. The host must not need libnetproc.so,
# and must run without LD_LIBRARY_PATH.
static_libs=$(pkg-config --variable=static_libs netproc)
# shellcheck disable=SC2046,SC2086
if $cc -o "$tmp/host_static" "$tmp/host.c" $(pkg-config --cflags netproc) $static_libs &&
    readelf -d "$tmp/host_static" >"$tmp/dynamic" && ! grep -q 'NEEDED.*libnetproc' "$tmp/dynamic" &&
    ! ldd "$tmp/host_static" | grep -q libnetproc &&
    "$tmp/host_static"; then
    echo "ok 3 - static link via pkg-config --variable=static_libs: no libnetproc.so needed"
else
    echo "not ok 3 - static link via pkg-config --variable=static_libs (libs: $static_libs)"
    status=1
fi

$make --no-print-directory uninstall DESTDIR="$dest" PREFIX="$prefix" >/dev/null
left=$(find "$dest" ! -type d)
if [ -z "$left" ]; then
    echo "ok 4 - make uninstall removes every installed file"
else
    echo "not ok 4 - make uninstall left: $left"
    status=1
fi
exit $status
