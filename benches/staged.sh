#!/usr/bin/env bash
# Times `pkhound scan --staged` (the pre-commit path) against gitleaks' pre-commit mode and against
# `git diff --cached -U0` (the floor: git reading the same index and blobs) in repositories of 1k, 10k and
# 100k committed files, each with the same 5-file staged change (3 files edited, one of them gaining a
# Klaviyo key, and 2 new files). The point is the shape of the curve: a pre-commit hook's cost must follow
# the change, not the repository. Issue #13 allows pkhound at most 2x `git diff --cached -U0`.
#
#   benches/staged.sh                      # sizes 1000 10000 100000, repos under ${WORK:-/tmp/pkhound-staged-bench}
#   SIZES="1000 10000" RUNS=30 benches/staged.sh
#   SIZES= REPLAY="$HOME/src/sentry-python 064542dd2 916c02718" benches/staged.sh   # real commits
#
# Knobs: PKHOUND (default target/release/pkhound: build it first with `cargo build --release`), GITLEAKS
# (default: gitleaks on PATH, else ~/.cache/pkhound-peers/bin/gitleaks), SIZES, RUNS (default 20),
# WARMUP (default 3), WORK, KEEP=1 keeps the generated repositories. Needs git, python3 and hyperfine.
# Repositories are generated with `git fast-import` (100 files per directory, ~300 bytes each) and
# checked out, so the index carries real stat data and git's cache-tree, as in a user's clone.
set -euo pipefail
cd "$(dirname "$0")/.."

PKHOUND="${PKHOUND:-$PWD/target/release/pkhound}"
GITLEAKS="${GITLEAKS:-$(command -v gitleaks || echo "$HOME/.cache/pkhound-peers/bin/gitleaks")}"
SIZES="${SIZES:-1000 10000 100000}"
RUNS="${RUNS:-20}"
WARMUP="${WARMUP:-3}"
WORK="${WORK:-/tmp/pkhound-staged-bench}"

[ -x "$PKHOUND" ] || { echo "no pkhound at $PKHOUND: cargo build --release, or set PKHOUND" >&2; exit 2; }
[ -x "$GITLEAKS" ] || { echo "no gitleaks at $GITLEAKS: set GITLEAKS" >&2; exit 2; }
command -v hyperfine >/dev/null || { echo "hyperfine is needed" >&2; exit 2; }

export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL="$WORK/no-such-gitconfig"
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com GIT_AUTHOR_DATE=2024-01-01T00:00:00Z
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com GIT_COMMITTER_DATE=2024-01-01T00:00:00Z

# One commit holding N files, as a fast-import stream.
stream() {
  python3 - "$1" <<'EOF'
import sys
n = int(sys.argv[1])
out = sys.stdout.buffer
out.write(b"commit refs/heads/main\ncommitter bench <bench@example.com> 1704067200 +0000\ndata 5\nbulk\n")
for i in range(n):
    body = "".join(f"value_{i}_{j} = compute({i}, {j})  # line {j}\n" for j in range(8)).encode()
    out.write(f"M 100644 inline src/d{i // 100:04d}/file_{i:06d}.py\ndata {len(body)}\n".encode())
    out.write(body + b"\n")
EOF
}

make_repo() {
  local n="$1" dir="$2"
  rm -rf "$dir"
  git init -q -b main "$dir"
  stream "$n" | git -C "$dir" fast-import --quiet
  git -C "$dir" -c commit.gpgsign=false checkout -q -f main
  # The staged change: 3 edits (one adds a key) and 2 new files.
  printf 'KLAVIYO_KEY = "pk_%s"\n' "a4c123b1612dd272d1371c17149d439536" >>"$dir/src/d0000/file_000000.py"
  printf 'extra = 1\n' >>"$dir/src/d0000/file_000001.py"
  printf 'extra = 2\n' >>"$dir/src/d0000/file_000002.py"
  printf 'new = 1\n' >"$dir/src/d0000/new_a.py"
  printf 'new = 2\n' >"$dir/src/d0000/new_b.py"
  git -C "$dir" add src/d0000
  git -C "$dir" diff --cached --stat | tail -1
}

# One row of the table: the three commands timed in `$2`, labelled `$1`.
time_dir() {
  local label="$1" dir="$2" json="$WORK/staged-$3.json"
  (cd "$dir" && hyperfine -N -i --warmup "$WARMUP" --runs "$RUNS" --export-json "$json" \
      -n pkhound "$PKHOUND scan --staged" \
      -n gitleaks "$GITLEAKS git --pre-commit --staged --no-banner --log-level error" \
      -n git-diff "git diff --cached -U0") >/dev/null
  python3 - "$json" "$label" <<'EOF'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
p, g, d = r["pkhound"], r["gitleaks"], r["git-diff"]
ms = lambda x: x * 1000
print(f"| {sys.argv[2]:>9} | {ms(p['median']):7.1f} | {ms(p['min']):6.1f} | {ms(g['median']):8.1f} | {ms(g['min']):6.1f} | {g['median'] / p['median']:5.1f}x | {ms(d['median']):6.1f} | {p['median'] / d['median']:5.1f}x |")
EOF
}

mkdir -p "$WORK"
echo "pkhound: $("$PKHOUND" --version)   gitleaks: $("$GITLEAKS" version)   $(nproc) cores"
results=()
for n in $SIZES; do
  dir="$WORK/repo-$n"
  echo "==> $n files"
  make_repo "$n" "$dir"
  echo "    index: $(stat -c %s "$dir/.git/index") bytes"
  # Both must see the key (exit 1) or the timing compares nothing.
  (cd "$dir" && "$PKHOUND" scan --staged >/dev/null) && { echo "pkhound missed the staged key" >&2; exit 1; } || true
  results+=("$(time_dir "$(printf "%'d" "$n")" "$dir" "$n")")
  [ "${KEEP:-0}" = 1 ] || rm -rf "$dir"
done
# Real commits (REPLAY="REPO COMMIT..."): each commit's change staged over its parent in a clone of REPO.
# An ordinary commit wakes many more rules than the synthetic change (its code says `token`, `secret`,
# `password`), so start-up there is mostly building those rules' regexes.
if [ -n "${REPLAY:-}" ]; then
  read -r -a replay <<<"$REPLAY"
  dir="$WORK/replay"
  rm -rf "$dir"
  git clone -q --no-checkout "${replay[0]}" "$dir"
  for c in "${replay[@]:1}"; do
    git -C "$dir" checkout -q -f "$c~1"
    git -C "$dir" diff --binary "$c~1" "$c" | git -C "$dir" apply --cached
    echo "==> commit $c: $(git -C "$dir" diff --cached --shortstat)"
    results+=("$(time_dir "${c:0:9}" "$dir" "$c")")
    git -C "$dir" reset -q --hard
  done
  [ "${KEEP:-0}" = 1 ] || rm -rf "$dir"
fi
echo
echo "| change    | pkhound median ms | min | gitleaks median ms | min | gitleaks/pkhound | git diff median ms | pkhound/git diff |"
echo "|-----------|---------|--------|----------|--------|-------|--------|-------|"
printf '%s\n' "${results[@]}"
