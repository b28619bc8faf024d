#!/usr/bin/env bash
# User-space instructions per event, counted by callgrind: `make bench-instructions`.
#
# CPU time on this shared 2-core machine moves by 3-5% from run to run, more than one
# change to the per-event path saves; an instruction count does not move with the load.
# It counts only the system under test's own user-space work (no kernel time, no cache
# misses), so it complements `make bench` rather than replacing it.
#
#   W2  64-byte ping-pong with peer_echo, ROUNDS round trips: per round trip
#   W3  COUNT connections from peer_connector (each shuts down its side at once): per connection
#   W5  unpaced datagrams from peer_udp, as many as the SUT receives under valgrind:
#       per datagram received (batches are full, as in W5-unpaced)
#
# Each figure includes the SUT's start-up (about 0.3-0.6 M instructions), so it is a
# little above the steady-state cost; the counts are large enough for that to matter
# less than 3%.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-20000}
COUNT=${COUNT:-20000}
DATAGRAMS=${DATAGRAMS:-200000}
SYSTEMS=${SYSTEMS:-"netproc libuv epoll"}

command -v valgrind >/dev/null || { echo "bench/instructions.sh: valgrind is not installed (Debian: valgrind)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"; kill $(jobs -p) 2>/dev/null || true' EXIT

# The instructions callgrind counted, from its log.
collected() { sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$1"; }

# The port in the first `PORT n` line a program writes to `file`, once it is there.
port_of() {
    local file=$1
    for _ in $(seq 200); do
        grep -q '^PORT ' "$file" 2>/dev/null && { sed -n 's/^PORT //p' "$file" | head -1; return; }
        sleep 0.05
    done
    echo "bench/instructions.sh: no PORT line in $file" >&2
    exit 1
}

w2() {
    local sys=$1
    bench/bin/peer_echo > "$work/peer.$sys" 2>&1 &
    local peer=$!
    local port; port=$(port_of "$work/peer.$sys")
    valgrind --tool=callgrind --callgrind-out-file="$work/cg" bench/bin/sut_"$sys" pingpong "$port" "$ROUNDS" \
        > /dev/null 2> "$work/log"
    kill "$peer" 2>/dev/null || true; wait "$peer" 2>/dev/null || true
    echo $(( $(collected "$work/log") / ROUNDS ))
}

w3() {
    local sys=$1
    valgrind --tool=callgrind --callgrind-out-file="$work/cg" bench/bin/sut_"$sys" accept "$COUNT" \
        > "$work/sut.$sys" 2> "$work/log" &
    local sut=$!
    local port; port=$(port_of "$work/sut.$sys")
    bench/bin/peer_connector "$port" "$COUNT" 64 > /dev/null 2>&1
    wait "$sut"
    echo $(( $(collected "$work/log") / COUNT ))
}

w5() {
    local sys=$1
    valgrind --tool=callgrind --callgrind-out-file="$work/cg" bench/bin/sut_"$sys" udp "$DATAGRAMS" \
        > "$work/sut.$sys" 2> "$work/log" &
    local sut=$!
    local port; port=$(port_of "$work/sut.$sys")
    bench/bin/peer_udp "$port" "$DATAGRAMS" 0 > /dev/null 2>&1
    # The SUT under valgrind falls behind and loses most datagrams; it ends on the end
    # markers, or is stopped here and still reports what it received.
    sleep 1
    kill -INT "$sut" 2>/dev/null || true
    wait "$sut" || true
    local received; received=$(sed -n 's/.* received=\([0-9]*\).*/\1/p' "$work/sut.$sys")
    [ -n "$received" ] && [ "$received" -gt 0 ] || { echo "bench/instructions.sh: $sys received no datagrams" >&2; exit 1; }
    echo "$(( $(collected "$work/log") / received )) ($received received)"
}

printf '| system | W2, per round trip | W3, per connection | W5 unpaced, per datagram |\n'
printf '|---|---:|---:|---:|\n'
for sys in $SYSTEMS; do
    printf '| %s | %s | %s | %s |\n' "$sys" "$(w2 "$sys")" "$(w3 "$sys")" "$(w5 "$sys")"
done
