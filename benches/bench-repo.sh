#!/usr/bin/env bash
# benches/bench-repo.sh SOURCE DEST
#
# Makes DEST a bare repository for history benchmarks that shares SOURCE's objects (alternates, no copy)
# and holds only what a plain clone holds: SOURCE's branches (refs/heads, refs/remotes) and tags, not
# hosting refs such as refs/pull/* (a GitHub mirror of ansible/ansible has 60,000 of them, tripling the
# commits to scan). SOURCE is a repository or its git directory, e.g. a mirror brought by the library's
# `fetch`.
#
# A snapshot can lack some large blobs (a partial clone). pkhound reports each as an `errors` entry and
# scans the rest; betterleaks and gitleaks stop at the first one `git log -p` cannot read (even `--stat`
# must read an added blob's header, and betterleaks sets GIT_NO_REPLACE_OBJECTS, so neither attributes nor
# `git replace` get them past it), and their time is then that of a partial scan. The script lists such
# blobs and the paths they appear at; benches/history.sh finds them itself and gives the peers a pathspec
# that leaves those paths out, so they read the rest of the history.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 SOURCE DEST" >&2; exit 2; }
src="$(git -C "$1" rev-parse --absolute-git-dir)"
dest="$2"
[ -e "$dest" ] && { echo "$0: $dest exists" >&2; exit 2; }
git init -q --bare "$dest"
echo "$src/objects" > "$dest/objects/info/alternates"
git -C "$src" for-each-ref --format='create %(refname) %(objectname)' refs/heads refs/remotes refs/tags |
  grep -v ' refs/remotes/[^ ]*/HEAD ' | git -C "$dest" update-ref --stdin
head="$(git -C "$src" symbolic-ref -q HEAD || true)"
[ -n "$head" ] && git -C "$dest" symbolic-ref HEAD "$head"
echo "$dest: $(git -C "$dest" for-each-ref | wc -l) refs, $(git -C "$dest" rev-list --all --count) commits"
missing="$(git -C "$dest" rev-list --all --objects --missing=print | sed -n 's/^?//p')"
if [ -n "$missing" ]; then
  echo "$dest: $(wc -l <<<"$missing") objects are missing (peers stop at the first one they must read):"
  # The paths they appear at, from a whole-history listing of blobs and paths.
  paths="$(git -C "$dest" log --all --format= --raw --no-renames --no-abbrev |
    awk -v ids="$missing" 'BEGIN { n = split(ids, a, "\n"); for (i = 1; i <= n; i++) m[a[i]] = 1 }
      ($3 in m || $4 in m) { sub(/^[^\t]*\t/, ""); print }' | sort -u)"
  printf '  %s\n' $missing
  printf '  at %s\n' $paths
fi
