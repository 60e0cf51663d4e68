#!/bin/sh
# Builds REPO, a git repository with one commit per QEMU tree given (its migration/ and VERSION),
# in that order, each named "QEMU <VERSION>", with fixed names and dates so that the commit ids
# are the same on every machine. For `migchan history` in tests and in docs/checking-a-patch.md.
# Usage: qemu_history.sh REPO TREE...
set -eu
repo=$1
shift
rm -rf "$repo"
git -c init.defaultBranch=main init -q "$repo"
n=0
for t in "$@"; do
  n=$((n + 1))
  rm -rf "$repo/migration"
  cp -r "$t/migration" "$t/VERSION" "$repo/"
  git -C "$repo" add -A
  date="2025-01-0${n}T12:00:00Z"
  GIT_AUTHOR_DATE=$date GIT_COMMITTER_DATE=$date git -C "$repo" -c user.name=migchan \
    -c user.email=migchan@example.org commit -q -m "QEMU $(cat "$t/VERSION")"
done
