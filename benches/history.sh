#!/usr/bin/env bash
# benches/history.sh PKHOUND_BIN REPO [REPO...]
#
# Whole-history scan cost of pkhound next to betterleaks (`betterleaks git`), gitleaks (`gitleaks git`, set
# GITLEAKS= to leave it out) and the single-threaded object store floor (`git cat-file --batch-all-objects --batch --unordered`), measured in the same run, RUNS times
# each in turn (A B C A B C ...), so that load from elsewhere on the machine hits all of them alike.
# Prints one line per run and tool (wall s, user+sys s, peak RSS MB) and, per repository, the medians and
# pkhound's ratios to both.
#
# Repositories: a checkout, or a bare repository made by benches/bench-repo.sh from a fetched mirror (only
# branches and tags, as a clone has). A snapshot may lack some blobs; `git log -p` stops at the first one, so
# betterleaks and gitleaks would time a partial scan. The script finds such blobs and the paths they appear
# at, and gives both peers `--log-opts "--all -- . :!PATH..."` so they read everything else (pkhound reads
# the whole history and reports the missing blobs as errors: its share of the work is slightly larger).
#
# Environment: RUNS (default 3), BETTERLEAKS (default ~/.cache/pkhound-peers/bin/betterleaks), GITLEAKS
# (default ~/.cache/pkhound-peers/bin/gitleaks; empty: not run),
# EXTRA="NAME=BIN ..." more pkhound builds to time the same way (e.g. EXTRA="before=/tmp/pkhound-before").
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 PKHOUND_BIN REPO [REPO...]" >&2; exit 2; }
PKHOUND="$(realpath "$1")"; shift
RUNS="${RUNS:-3}"
BETTERLEAKS="${BETTERLEAKS:-$HOME/.cache/pkhound-peers/bin/betterleaks}"
GITLEAKS="${GITLEAKS-$HOME/.cache/pkhound-peers/bin/gitleaks}"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT

# tool name -> command (the repository is $1 of `sh -c`)
declare -A CMD=(
  [pkhound]="'$PKHOUND' scan --history --format json \"\$1\" > '$OUT/pk.json'"
  [betterleaks]="'$BETTERLEAKS' git \"\$1\" --no-banner --log-level error -o '$OUT/bl.json' \"\${LOG_OPTS[@]}\""
  [cat-file]="git -C \"\$1\" cat-file --batch-all-objects --batch --unordered > /dev/null"
)
TOOLS=(pkhound betterleaks cat-file)
if [ -n "$GITLEAKS" ]; then
  CMD[gitleaks]="'$GITLEAKS' git \"\$1\" --no-banner --log-level error -f json -r '$OUT/gl.json' \"\${LOG_OPTS[@]}\""
  TOOLS+=(gitleaks)
fi
for e in ${EXTRA:-}; do
  CMD[${e%%=*}]="'$(realpath "${e#*=}")' scan --history --format json \"\$1\" > '$OUT/extra.json'"
  TOOLS+=("${e%%=*}")
done

measure() { # tool repo -> "wall cpu rss_mb"
  /usr/bin/time -f '%e %U %S %M' -o "$OUT/t" bash -c "LOG_OPTS=(\"\${@:2}\"); ${CMD[$1]}" bash "$2" "${LOG_OPTS[@]}" \
    >/dev/null 2>&1 || true
  # GNU time puts "Command exited with non-zero status N" first when a scanner reports findings.
  tail -1 "$OUT/t" | awk '{ printf "%.2f %.2f %.0f\n", $1, $2 + $3, $4 / 1024 }'

}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

for repo in "$@"; do
  name="$(basename "$repo")"
  # Paths of blobs the repository lacks: the peers' `git log -p` leaves them out, or stops at them.
  missing="$(git -C "$repo" rev-list --all --objects --missing=print | sed -n 's/^?//p')"
  LOG_OPTS=()
  if [ -n "$missing" ]; then
    mapfile -t paths < <(git -C "$repo" log --all --format= --raw --no-renames --no-abbrev |
      awk -v ids="$missing" 'BEGIN { n = split(ids, a, "\n"); for (i = 1; i <= n; i++) m[a[i]] = 1 }
        ($3 in m || $4 in m) { sub(/^[^\t]*\t/, ""); print }' | sort -u)
    opts="--all -- ."
    for p in "${paths[@]}"; do opts+=" :!$p"; done
    LOG_OPTS=("--log-opts=$opts")
    echo "$name: $(wc -l <<<"$missing") blobs missing; the peers leave out ${paths[*]}"
  fi
  declare -A WALL=() CPU=() RSS=()
  for run in $(seq "$RUNS"); do
    for t in "${TOOLS[@]}"; do
      read -r w c m < <(measure "$t" "$repo")
      echo "$name run $run $t: wall ${w}s cpu ${c}s rss ${m}MB"
      WALL[$t]+="$w "; CPU[$t]+="$c "; RSS[$t]+="$m "
    done
  done
  echo "## $name (median of $RUNS)"
  for t in "${TOOLS[@]}"; do
    w=$(tr ' ' '\n' <<<"${WALL[$t]}" | grep . | median)
    c=$(tr ' ' '\n' <<<"${CPU[$t]}" | grep . | median)
    m=$(tr ' ' '\n' <<<"${RSS[$t]}" | grep . | median)
    printf -v "M_WALL_${t//-/_}" '%s' "$w"
    printf -v "M_CPU_${t//-/_}" '%s' "$c"
    printf -v "M_RSS_${t//-/_}" '%s' "$m"
    echo "$t: wall ${w}s cpu ${c}s rss ${m}MB"
  done
  awk -v pw="$M_WALL_pkhound" -v pc="$M_CPU_pkhound" -v pm="$M_RSS_pkhound" \
      -v bw="$M_WALL_betterleaks" -v bc="$M_CPU_betterleaks" -v bm="$M_RSS_betterleaks" \
      -v cw="$M_WALL_cat_file" -v cc="$M_CPU_cat_file" 'BEGIN {
    printf "pkhound / betterleaks: wall %.2fx cpu %.2fx rss %.2fx\n", pw / bw, pc / bc, pm / bm
    printf "pkhound / cat-file:    wall %.2fx cpu %.2fx\n", pw / cw, pc / cc
  }'
  if [ -n "$GITLEAKS" ]; then
    awk -v pw="$M_WALL_pkhound" -v pm="$M_RSS_pkhound" -v gw="$M_WALL_gitleaks" -v gm="$M_RSS_gitleaks" \
      'BEGIN { printf "pkhound / gitleaks:    wall %.2fx rss %.2fx\n", pw / gw, pm / gm }'
  fi
  unset WALL CPU RSS
done
