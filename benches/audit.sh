#!/usr/bin/env bash
# `pkhound audit` of N copies of a real repository against N sequential `pkhound scan --history` runs of
# the same copies: wall time and CPU time (user+sys) as ratios, and peak RSS of the audit against one
# repository's scan. Both sides use the same binary in the same run, so the machine's load cancels out as
# far as it can.
#
#   benches/audit.sh [SOURCE_REPO] [N]        (defaults: ~/corpus/sentry-python, 50)
#   PKHOUND=target/release/pkhound benches/audit.sh
#
# The copies are `git clone --bare --local` (object files hard-linked: cheap to make, each still a whole
# repository for pkhound to read). Needs GNU time (/usr/bin/time).
set -euo pipefail

SRC=${1:-$HOME/corpus/sentry-python}
N=${2:-50}
BIN=$(realpath "${PKHOUND:-target/release/pkhound}")
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pkhound-audit-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export PKHOUND_FINGERPRINT_KEY=pkhound-bench-fingerprint-key
export CI=true

echo "source: $SRC, copies: $N, binary: $BIN"
mkdir -p "$WORK/org"
for i in $(seq 1 "$N"); do
  git clone --quiet --bare --local "$SRC" "$WORK/org/copy-$i.git"
done

now() { date +%s.%N; }
# GNU time's fields: wall seconds, user seconds, sys seconds, max RSS in KiB; on the last line (a non-zero
# exit, as with findings, adds a line before it).
timed() {
  /usr/bin/time -f "%e %U %S %M" -o "$1.raw" "${@:2}" >/dev/null 2>&1 || true
  tail -n 1 "$1.raw" >"$1"
}

# A warm-up scan so that both sides start with the page cache in the same state.
timed "$WORK/warm.time" "$BIN" scan --history "$WORK/org/copy-1.git" --format json -o /dev/null -q

start=$(now)
for i in $(seq 1 "$N"); do
  timed "$WORK/scan-$i.time" "$BIN" scan --history "$WORK/org/copy-$i.git" --format json -o "$WORK/scan-$i.json" -q
done
seq_wall=$(echo "$(now) - $start" | bc)
seq_cpu=$(cat "$WORK"/scan-[0-9]*.time | awk '{s += $2 + $3} END {printf "%.2f", s}')
one_rss=$(awk '{print $4}' "$WORK/scan-1.time")

timed "$WORK/audit.time" "$BIN" audit "$WORK/org" --format json -o "$WORK/audit.json" -q
read -r audit_wall audit_user audit_sys audit_rss <"$WORK/audit.time"
audit_cpu=$(echo "$audit_user + $audit_sys" | bc)

# The audit must have found what each scan found: every secret of one copy, in all N repositories.
python3 - "$WORK/audit.json" "$WORK/scan-1.json" "$N" <<'EOF'
import json, sys
audit, one, n = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), int(sys.argv[3])
a = sorted((f["rule_id"], f["fingerprint"]) for f in audit["findings"])
s = sorted((f["rule_id"], f["fingerprint"]) for f in one["findings"])
assert a == s, f"audit found {len(a)} secrets, one scan {len(s)}"
assert all(len(f["repositories"]) == n for f in audit["findings"]), "each secret lists every copy"
assert audit["stats"]["repositories"] == n
print(f"check: {len(a)} secrets, each in {n} repositories; {audit['stats']['files']} blobs scanned")
EOF

printf 'sequential scans: %.1f s wall, %s s cpu; one scan peak RSS %s KiB\n' "$seq_wall" "$seq_cpu" "$one_rss"
printf 'audit:            %.1f s wall, %s s cpu; peak RSS %s KiB\n' "$audit_wall" "$audit_cpu" "$audit_rss"
printf 'ratios (audit / sequential): wall %.3f, cpu %.3f; peak RSS audit / one scan %.2f\n' \
  "$(echo "$audit_wall / $seq_wall" | bc -l)" "$(echo "$audit_cpu / $seq_cpu" | bc -l)" \
  "$(echo "$audit_rss / $one_rss" | bc -l)"
