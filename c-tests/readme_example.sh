#!/usr/bin/env bash
# Compiles and runs the minimal C host shown in README.md, exactly as printed there
# (between the readme-example markers), so the README can never show code that rots.
set -u
cd "$(dirname "$0")/.." || exit 1
echo "1..1"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed -n '/<!-- readme-example:begin -->/,/<!-- readme-example:end -->/p' README.md |
    sed '1,2d;$d' | sed '$d' >"$work/example.c"
if ! grep -q 'int main' "$work/example.c"; then
    echo "not ok 1 - README example (no code found between the markers)"
    exit 1
fi
if ${CC:-cc} -std=c11 -Wall -Wextra -Wpedantic -Werror -D_GNU_SOURCE -Ibuild/include \
    -o "$work/example" "$work/example.c" -Lbuild/lib -lnetproc -Wl,-rpath,"$PWD/build/lib" &&
    out=$("$work/example") && [ "$out" = "$(printf 'client got: hello\nclient: deleted')" ]; then
    echo "ok 1 - README example compiles with -Werror and prints what the README says"
else
    echo "not ok 1 - README example (output: ${out:-none})"
    exit 1
fi
