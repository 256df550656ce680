#!/usr/bin/env bash
# Decoding's cost in instructions (callgrind), not time: the machine is shared and noisy.
#
# 1. Per input, one scan of 4 MiB by the engine alone without decoder patterns ("engine") and by the
#    whole recipe with every decoder ("recipe"), minus each mode's start-up (input `none`): the ratio
#    recipe / engine is what decoding multiplies a blob's scan by (examples/decode_cost.rs).
# 2. With BASELINE=path/to/other/pkhound: `scan --staged` of a one-file change (a line with a long
#    identifier, which opens the base64 gate) by target/release/pkhound and by the baseline: the
#    pre-commit start-up, decoder automata included.
#
#   cargo build --release --bin pkhound --example decode_cost
#   BASELINE=/tmp/pkhound-main benches/decoders.sh
set -euo pipefail
cd "$(dirname "$0")/.."
EXAMPLE="${EXAMPLE:-$PWD/target/release/examples/decode_cost}"
PKHOUND="${PKHOUND:-$PWD/target/release/pkhound}"
INPUTS="${INPUTS:-source-mix escape-dense base64-dense nested}"
command -v valgrind >/dev/null || { echo "valgrind is needed" >&2; exit 2; }
[ -x "$EXAMPLE" ] || { echo "no $EXAMPLE: cargo build --release --example decode_cost" >&2; exit 2; }

# Instructions executed by "$@" (callgrind's total Ir).
instructions() {
  local out
  out=$(mktemp)
  valgrind --tool=callgrind --callgrind-out-file="$out" "$@" >/dev/null 2>&1
  callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1; exit}'
  rm -f "$out"
}

declare -A base
for mode in engine recipe; do
  base[$mode]=$(instructions "$EXAMPLE" none "$mode")
done
printf '%-14s %16s %16s %8s\n' input engine recipe ratio
for input in $INPUTS; do
  e=$(( $(instructions "$EXAMPLE" "$input" engine) - base[engine] ))
  r=$(( $(instructions "$EXAMPLE" "$input" recipe) - base[recipe] ))
  printf '%-14s %16d %16d %8s\n' "$input" "$e" "$r" "$(awk -v a="$r" -v b="$e" 'BEGIN {printf "%.2f", a / b}')"
done
printf 'start-up: engine %d, recipe %d instructions\n' "${base[engine]}" "${base[recipe]}"

if [ -n "${BASELINE:-}" ]; then
  repo=$(mktemp -d)
  trap 'rm -rf "$repo"' EXIT
  export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL="$repo/no-such-gitconfig"
  git -C "$repo" init -q -b main
  printf 'def handler(event, context):\n    return 1\n' >"$repo/app.py"
  git -C "$repo" add app.py
  git -C "$repo" -c user.name=b -c user.email=b@x -c commit.gpgsign=false commit -q -m start
  printf 'some_configuration_value = compute_default_configuration()\n' >>"$repo/app.py"
  git -C "$repo" add app.py
  for bin in "$BASELINE" "$PKHOUND"; do
    printf 'scan --staged, %s: %d instructions\n' "$bin" "$(cd "$repo" && instructions "$bin" scan --staged)"
  done
fi
