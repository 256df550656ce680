#!/usr/bin/env bash
# Working-tree throughput against its floor: `rg -F -i` over every built-in rule's keywords, the least any
# scanner built on a keyword prefilter must do (read every file, find every keyword). Issue #13 allows
# pkhound at most 10% below it. Runs the two in turn, RUNS times each, and prints the median user+sys CPU
# seconds of each and their ratio (CPU, not wall: the machine may be shared).
#
#   benches/keywords.sh [TREE]            # default: ~/corpus/sentry-python
#   RUNS=7 PKHOUND=target/release/pkhound benches/keywords.sh ~/corpus/eslint
#
# Both read the same files: ripgrep with --no-ignore --hidden (pkhound scans ignored secret files too, but
# only by name), pkhound with its defaults. Needs rg and python3.
set -euo pipefail
cd "$(dirname "$0")/.."

PKHOUND="${PKHOUND:-$PWD/target/release/pkhound}"
TREE="${1:-$HOME/corpus/sentry-python}"
RUNS="${RUNS:-5}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

[ -x "$PKHOUND" ] || { echo "no pkhound at $PKHOUND: cargo build --release, or set PKHOUND" >&2; exit 2; }
command -v rg >/dev/null || { echo "rg is needed" >&2; exit 2; }

"$PKHOUND" rules -f json | python3 -c '
import json, sys
kws = sorted({k.lower() for r in json.load(sys.stdin) for k in r["keywords"]})
print("\n".join(kws))' >"$WORK/keywords"
echo "$(wc -l <"$WORK/keywords") keywords; tree $TREE ($(du -sh --exclude=.git "$TREE" | cut -f1))"

# user+sys seconds of one run of "$@", its output discarded.
cpu() {
  /usr/bin/time -f '%U %S' -o "$WORK/t" "$@" >/dev/null 2>&1 || true
  awk '{ printf "%.3f\n", $1 + $2 }' "$WORK/t"
}

rg_cmd=(rg -F -i -c --no-ignore --hidden -g '!.git' -f "$WORK/keywords" "$TREE")
pk_cmd=("$PKHOUND" scan --format json "$TREE")
"${rg_cmd[@]}" >/dev/null 2>&1 || true
"${pk_cmd[@]}" >/dev/null 2>&1 || true
: >"$WORK/rg"; : >"$WORK/pk"
for _ in $(seq "$RUNS"); do
  cpu "${rg_cmd[@]}" >>"$WORK/rg"
  cpu "${pk_cmd[@]}" >>"$WORK/pk"
done
python3 - "$WORK/rg" "$WORK/pk" <<'PY'
import statistics, sys
rg = statistics.median(float(x) for x in open(sys.argv[1]))
pk = statistics.median(float(x) for x in open(sys.argv[2]))
print(f"rg -F -i keywords: {rg:.3f} s CPU   pkhound scan: {pk:.3f} s CPU   pkhound/rg: {pk / rg:.2f}x")
PY
