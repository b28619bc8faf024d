#!/usr/bin/env bash
# Emacs 30.1 beside the system's Emacs, for the tests that run on both (issue 14, item 8).
#
#   tools/emacs30.sh        prints the path of an executable that runs Emacs 30.1
#   EMACS=$(tools/emacs30.sh) c-tests/ert.sh
#
# Debian bookworm ships Emacs 28.2; bookworm-backports has 30.1. Installing it would
# replace 28.2, so its .debs are fetched with apt-get download (through an apt
# configuration of our own, which leaves the machine's sources and lists as they are) and
# unpacked with dpkg -x under .cache/emacs-30.1/ (gitignored). Unpacked away from /usr,
# Emacs finds nothing where it was built to look, so the wrapper written there sets
# EMACSLOADPATH, EMACSDATA, EMACSDOC, EMACSPATH, LD_LIBRARY_PATH (libtree-sitter0, which
# 30.1 links and bookworm's 28.2 does not) and --dump-file. Those variables reach the
# Emacs processes the tests start from `invocation-directory' too; for them a link
# emacs-nox.pdmp beside the binary is where Emacs looks for its dump when no --dump-file
# is given (emacs.c, load_pdump).
#
# A second run finds the unpacked tree and only prints. Anything missing (apt-get, the
# archive key, the network, a library) is an error naming it: tests that need 30.1 fail
# rather than skip.
#
# EMACS30_CACHE (default .cache/emacs-30.1 in the checkout) and DEBIAN_MIRROR (default
# http://deb.debian.org/debian) may be set.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${EMACS30_CACHE:-$repo/.cache/emacs-30.1}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
upstream=30.1
# Debian's version of 30.1 in backports: 1:30.1+1-6~bpo12+1 when this was written. Any
# Debian revision of 30.1 will do; a newer upstream version would be another Emacs.
version_pattern="^1:${upstream//./\\.}\+"
# What 30.1 needs beyond what bookworm's emacs-nox 28.2 already brought (see the ldd
# check below): the binary, its Lisp and data, and the tree-sitter library.
packages=(emacs-nox emacs-bin-common emacs-common)
extra_packages=(libtree-sitter0)

wrapper=$cache/emacs
stamp=$cache/root/.unpacked

die() {
    echo "tools/emacs30.sh: cannot provide Emacs $upstream: $*" >&2
    exit 1
}

if [ -f "$stamp" ] && [ -x "$wrapper" ]; then
    echo "$wrapper"
    exit 0
fi

command -v apt-get >/dev/null || die "apt-get is missing (a Debian machine is needed)"
command -v dpkg >/dev/null || die "dpkg is missing (a Debian machine is needed)"
[ -r "$keyring" ] || die "$keyring is missing (apt-get install debian-archive-keyring)"

# An apt of our own: its sources, lists and downloads live in the cache; the system's
# configuration is not read (SourceParts) and not changed.
apt_dir=$cache/apt
mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial" "$apt_dir/debs"
cat >"$apt_dir/sources.list" <<EOF
deb [signed-by=$keyring] $mirror bookworm main
deb [signed-by=$keyring] $mirror bookworm-backports main
EOF
apt_options=(-q -o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir" -o Dir::Cache::pkgcache=
    -o Dir::Cache::srcpkgcache= -o APT::Sandbox::User=root)

echo "# fetching Emacs $upstream from $mirror bookworm-backports into $cache" >&2
apt-get "${apt_options[@]}" update >"$apt_dir/update.log" 2>&1 ||
    { cat "$apt_dir/update.log" >&2; die "apt-get update of $mirror bookworm-backports failed"; }

# The candidate of each package, from the backports list alone (bookworm's own is 28.2).
version=$(apt-cache "${apt_options[@]}" madison emacs-nox |
    awk -F' *[|] *' '$3 ~ / bookworm-backports\// { print $2; exit }')
if ! [[ $version =~ $version_pattern ]]; then
    # apt-get update only warns when a source cannot be fetched: show why.
    grep -E '^(W|E):' "$apt_dir/update.log" >&2
    die "no emacs-nox $upstream in $mirror bookworm-backports (found '${version:-nothing}')"
fi

specs=()
for p in "${packages[@]}"; do specs+=("$p=$version"); done
specs+=("${extra_packages[@]}")
rm -f "$apt_dir/debs/"*.deb
(cd "$apt_dir/debs" && apt-get "${apt_options[@]}" download "${specs[@]}") >"$apt_dir/download.log" 2>&1 ||
    { cat "$apt_dir/download.log" >&2; die "apt-get download ${specs[*]} failed"; }

# Unpacked beside the final place, then moved there: an interrupted run leaves no tree
# that looks complete.
rm -rf "$cache/root.new" "$cache/root"
mkdir -p "$cache/root.new"
for deb in "$apt_dir/debs/"*.deb; do
    dpkg -x "$deb" "$cache/root.new" || die "dpkg -x $deb failed"
done
root=$cache/root.new
binary=$root/usr/bin/emacs-nox
[ -x "$binary" ] || die "emacs-nox $version has no usr/bin/emacs-nox"
libexec=$(echo "$root/usr/libexec/emacs/$upstream/"*/)
libexec=${libexec%/}
pdmp=$(echo "$libexec/"emacs-*.pdmp)
[ -f "$pdmp" ] || die "no dump file (emacs-*.pdmp) under $libexec"
triplet=$(basename "$libexec")
libdir=$root/usr/lib/$triplet

missing=$(LD_LIBRARY_PATH=$libdir ldd "$binary" | awk '/not found/ { print $1 }' | tr '\n' ' ')
[ -z "$missing" ] || die "emacs-nox $version needs libraries this machine lacks: $missing"
ln -sf "../libexec/emacs/$upstream/$triplet/$(basename "$pdmp")" "$root/usr/bin/emacs-nox.pdmp"
mv "$root" "$cache/root"
root=$cache/root

# The wrapper names paths in the final tree.
cat >"$wrapper.new" <<EOF
#!/bin/sh
# Emacs $version from bookworm-backports, unpacked by tools/emacs30.sh.
root='$root'
export EMACSLOADPATH="\$root/usr/share/emacs/$upstream/lisp"
export EMACSDATA="\$root/usr/share/emacs/$upstream/etc"
export EMACSDOC="\$root/usr/share/emacs/$upstream/etc"
export EMACSPATH="\$root/usr/libexec/emacs/$upstream/$triplet"
export LD_LIBRARY_PATH="\$root/usr/lib/$triplet\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
exec "\$root/usr/bin/emacs-nox" --dump-file="\$root/usr/libexec/emacs/$upstream/$triplet/$(basename "$pdmp")" "\$@"
EOF
chmod 755 "$wrapper.new"
mv "$wrapper.new" "$wrapper"

got=$("$wrapper" -Q --batch --eval '(princ emacs-version)' 2>&1) || die "it does not start: $got"
[ "$got" = "$upstream" ] || die "the unpacked Emacs says it is '$got'"
echo "$version" >"$stamp"
echo "# Emacs $version ready: $wrapper" >&2
echo "$wrapper"
