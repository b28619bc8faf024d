#!/usr/bin/env bash
# Runs Emacs's own network tests against netproc: test/lisp/net/network-stream-tests.el and
# test/src/process-tests.el from the Debian source package of the Emacs that runs them,
# fetched at test time (never kept in the repository), once on Emacs's built-in primitives
# and once with `netproc-mode' on. Prints one TAP line per test and file:
#
#   ok N - network-stream-tests.el echo-server-nowait      passed with the mode on
#   ok N - ... # SKIP                                      skipped on both sides
#   not ok N - ... (mode: failed, built-in: passed)        anything else
#
# Of process-tests.el, the network tests run: those whose body names a network primitive
# (the rest start subprocesses, which stay Emacs's under the mode, and one of them,
# process-tests/multiple-threads-waiting, hangs or aborts Emacs 28.2 itself in about one
# run of six on a busy machine, netproc or not). A test the built-ins fail in this
# environment counts only if the mode fails it too.
# The tests that need the Internet (those of process-tests.el that check
# `internet-is-working') are not run: network tests here stay on loopback. Any other skip
# is reported as one, and c-tests/run.sh fails `make test` on it (a skip-unless for a
# missing tool such as gnutls-serv skips on both sides: the tool must be installed).
# Each run's output is kept in $NETPROC_CACHE/logs.
#
#   EMACS=emacs                    the Emacs to test in (and whose sources to fetch)
#   EMACS_SOURCE_PACKAGE=emacs     the apt source package to fetch (e.g. emacs=30.1+1-...)
#   EMACS_SOURCE_URL=URL           or the upstream tarball (emacs_VERSION.orig.tar.xz) by URL
#   NETPROC_CACHE=.cache           where the fetched test files are kept between runs
#   NETPROC_LISP=lisp              where netproc's Lisp and module are (compiled for EMACS)
set -u

cd "$(dirname "$0")/.." || exit 1
EMACS=${EMACS:-emacs}
CACHE=${NETPROC_CACHE:-$PWD/.cache}
if ! command -v "$EMACS" >/dev/null 2>&1; then
    echo "not ok 1 - Emacs's own tests: $EMACS not found (install emacs-nox, as .ci/run does)"
    exit 1
fi
if [ ! -e "${NETPROC_LISP:-lisp}/netproc-module.so" ]; then
    echo "not ok 1 - Emacs's own tests: lisp/netproc-module.so missing (run make)"
    exit 1
fi

version=$("$EMACS" -Q --batch --eval '(princ emacs-version)' 2>/dev/null)
tests="$CACHE/emacs-$version-tests"
files=(test/lisp/net/network-stream-tests.el test/lisp/net/network-stream-resources
       test/src/process-tests.el)

# Fetch the source package once: apt-get source needs a deb-src line for the Emacs's
# suite (.ci/run adds Debian's); only the test files are kept.
fetch() {
    local work orig
    work=$(mktemp -d) || return 1
    if [ -n "${EMACS_SOURCE_URL:-}" ]; then
        # The upstream tarball of the source package, by URL (Emacs 30.1 from
        # bookworm-backports, whose .dsc the mirror does not serve).
        curl -fsSL -o "$work/emacs_src.orig.tar.xz" "$EMACS_SOURCE_URL" 2>"$work/apt.log" || {
            echo "# could not download $EMACS_SOURCE_URL:"
            sed 's/^/#   /' "$work/apt.log" | tail -n 3
            rm -rf "$work"
            return 1
        }
    else
    (cd "$work" && apt-get source --download-only -q "${EMACS_SOURCE_PACKAGE:-emacs}") >"$work/apt.log" 2>&1 || {
        echo "# apt-get source ${EMACS_SOURCE_PACKAGE:-emacs} failed (is there a deb-src line? .ci/run adds one):"
        sed 's/^/#   /' "$work/apt.log" | tail -n 5
        rm -rf "$work"
        return 1
    }
    fi
    orig=$(ls "$work"/emacs_*.orig.tar.* 2>/dev/null | head -n 1)
    if [ -z "$orig" ]; then
        echo "# no emacs_*.orig.tar.* in what apt-get source fetched"
        rm -rf "$work"
        return 1
    fi
    mkdir -p "$work/src" &&
        tar -xf "$orig" -C "$work/src" --strip-components=1 --wildcards \
            "*/${files[0]}" "*/${files[1]}/*" "*/${files[2]}" &&
        mkdir -p "$CACHE" && rm -rf "$tests" && mv "$work/src" "$tests"
    local rc=$?
    rm -rf "$work"
    return $rc
}
if [ ! -e "$tests/${files[2]}" ]; then
    echo "# fetching Emacs $version's test files into $tests"
    if ! fetch; then
        echo "not ok 1 - Emacs's own tests: could not fetch Emacs $version's test files"
        exit 1
    fi
fi
source_version=$(sed -n 's/^;;.*Copyright.*\([0-9]\{4\}\) Free.*/\1/p' "$tests/${files[2]}" | head -n 1)
echo "# Emacs $version; test files from its source package (copyright $source_version) in $tests"

# The tests of a file to run: all of network-stream-tests.el; of process-tests.el those
# that use the network.
selector() {
    case $(basename "$1") in
        process-tests.el)
            echo "(satisfies (lambda (test) (let ((body (prin1-to-string (ert-test-body test)))) (and (string-match-p \"network\\\\|gnutls\\\\|url-retrieve\" body) (not (string-match-p \"internet-is-working\" body))))))" ;;
        *) echo t ;;
    esac
}

# Run a command in a network namespace of its own, its loopback up (as root, which CI
# is; otherwise on the machine's own network). Emacs's tests start gnutls-serv on fixed
# ports inside the ephemeral range (44330-44668), which any other program's connection on a
# shared machine may hold at that moment: gnutls-serv then says "bind() failed: Address
# already in use" and the test waits until the run's timeout.
isolated() {
    if unshare -n true 2>/dev/null && command -v ip >/dev/null; then
        unshare -n sh -c 'ip link set lo up && exec "$@"' isolated "$@"
    else
        "$@"
    fi
}

# One run of FILE, with the mode on (MODE=1) or not: "RESULT NAME" lines. SELECTOR, if
# given, chooses the tests instead of `selector`.
run() {
    local file=$1 mode=$2 chosen=${3:-} log
    log="$CACHE/logs/$(basename "$file").$([ "$mode" = 1 ] && echo mode || echo built-in).log"
    mkdir -p "$CACHE/logs"
    # process-tests.el's defvar of `internet-is-working' asks a DNS server out there for
    # google.com when it loads; defined first, it keeps nil and nothing leaves the machine.
    isolated timeout 600 "$EMACS" -Q --batch -L "${NETPROC_LISP:-lisp}" -l ert \
        --eval '(defvar internet-is-working nil)' \
        --eval "(when (= $mode 1) (require 'netproc-mode) (netproc-mode 1))" \
        -l "$file" --eval "(ert-run-tests-batch-and-exit '${chosen:-$(selector "$file")})" >"$log" 2>&1
    awk '
        $1 == "passed"  && $2 ~ /^[0-9]+\/[0-9]+$/ { print "passed " $3 }
        $1 == "skipped" && $2 ~ /^[0-9]+\/[0-9]+$/ { print "skipped " $3 }
        $1 == "FAILED"  && $2 ~ /^[0-9]+\/[0-9]+$/ { print "failed " $3 }
    ' "$log"
    # A test that failed or timed out may leave its gnutls-serv running on a fixed port,
    # which would fail the next run: stop those started with these test files' keys.
    pkill -f -- "$tests/test/lisp/net/network-stream-resources" 2>/dev/null
    if ! grep -q '^Ran [0-9]* tests' "$log"; then
        echo "incomplete $(basename "$file")"
        sed 's/^/# /' "$log" | tail -n 40 >&2
    fi
}

offline=$(awk '/^\(/ { name = ($1 == "(ert-deftest") ? $2 : "" } /internet-is-working/ && name { print name; name = "" }' "$tests/${files[2]}")
echo "# not run, as they need the Internet:" $offline
# A test that failed on the built-ins and the twins alike, run alone once more on each,
# up to twice: some of Emacs's own tests start gnutls-serv and give it one second
# (`sleep-for 1`) before they connect, which a loaded machine can miss. Prints "both" when
# it then passes on both, "built-in" when it passes on the built-ins only (a failure of
# the twins), "neither" when it keeps failing on both.
retried() {
    local file=$1 name=$2 attempt builtin mode
    for attempt in 1 2; do
        builtin=$(run "$file" 0 "(member $name)")
        mode=$(run "$file" 1 "(member $name)")
        if [ "$mode" = "passed $name" ] && [ "$builtin" = "passed $name" ]; then
            echo both
            return
        fi
        if [ "$builtin" = "passed $name" ]; then
            echo built-in
            return
        fi
    done
    echo neither
}

n=0 failed=0
for file in "$tests/${files[0]}" "$tests/${files[2]}"; do
    base=$(basename "$file")
    builtin=$(run "$file" 0)
    mode=$(run "$file" 1)
    if [ -z "$mode" ] || grep -q '^incomplete' <<<"$builtin$mode"; then
        n=$((n + 1)) failed=$((failed + 1))
        echo "not ok $n - $base: a run did not finish (built-in: $(wc -l <<<"$builtin") results, mode: $(wc -l <<<"$mode"))"
        continue
    fi
    while read -r result name; do
        n=$((n + 1))
        other=$(awk -v t="$name" '$2 == t { print $1 }' <<<"$builtin")
        if [ "$result" = passed ]; then
            echo "ok $n - $base $name"
        elif [ "$result" = skipped ] && [ "$other" = skipped ]; then
            echo "ok $n - $base $name # SKIP skipped on the built-ins too"
        elif [ "$result" = failed ] && [ "$other" = failed ]; then
            case $(retried "$file" "$name") in
                both) echo "ok $n - $base $name # failed on the built-ins and the twins alike, then passed on both" ;;
                neither) echo "ok $n - $base $name # SKIP fails on the built-ins too in this environment" ;;
                *)
                    failed=$((failed + 1))
                    echo "not ok $n - $base $name (failed on both, then passed on the built-ins only)"
                    ;;
            esac
        else
            failed=$((failed + 1))
            echo "not ok $n - $base $name (mode: $result, built-in: ${other:-absent})"
        fi
    done <<<"$mode"
done
[ "$failed" -eq 0 ]
