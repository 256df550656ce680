#!/usr/bin/env bash
# Times `pkhound scan` of one file holding N Klaviyo keys (one per line, and all on one line), for N in
# 1k, 10k, 100k, 200k: the cost must grow linearly with the findings (locate, snippets and dedup must not
# compare every finding with every other). Optionally times gitleaks on the same files for a ratio.
#
#   benches/many-findings.sh                 # N = 1000 10000 100000 200000
#   COUNTS="1000 10000" RUNS=5 benches/many-findings.sh
#
# Knobs: PKHOUND (default target/release/pkhound), GITLEAKS (set to a gitleaks binary to time it too),
# COUNTS, RUNS (default 3), WORK (default /tmp/pkhound-many-findings). Needs python3 and hyperfine.
set -euo pipefail
cd "$(dirname "$0")/.."

PKHOUND="${PKHOUND:-$PWD/target/release/pkhound}"
COUNTS="${COUNTS:-1000 10000 100000 200000}"
RUNS="${RUNS:-3}"
WORK="${WORK:-/tmp/pkhound-many-findings}"
[ -x "$PKHOUND" ] || { echo "no pkhound at $PKHOUND: cargo build --release, or set PKHOUND" >&2; exit 2; }
command -v hyperfine >/dev/null || { echo "hyperfine is needed" >&2; exit 2; }
mkdir -p "$WORK"

for n in $COUNTS; do
  for shape in lines oneline; do
    dir="$WORK/$shape-$n"
    mkdir -p "$dir"
    python3 - "$dir/keys.txt" "$n" "$shape" <<'PY'
import random, sys
path, n, shape = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rng = random.Random(n)
keys = ("KLAVIYO_KEY=pk_" + "".join(rng.choice("0123456789abcdef") for _ in range(34)) for _ in range(n))
with open(path, "w") as f:
    f.write(("\n" if shape == "lines" else " ").join(keys) + "\n")
PY
    cmds=("$PKHOUND scan --no-config --format json -o $WORK/out.json $dir")
    if [ -n "${GITLEAKS:-}" ]; then
      cmds+=("$GITLEAKS dir $dir --no-banner --log-level error --report-path $WORK/gl.json --exit-code 0")
    fi
    echo "== $n keys, $shape ($(du -h "$dir/keys.txt" | cut -f1))"
    hyperfine -N -i --runs "$RUNS" --warmup 1 "${cmds[@]}" 2>&1 | grep -E "Benchmark|Time|faster|times"
  done
done
