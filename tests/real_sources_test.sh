#!/bin/sh
# QEMU's own sources, read as reviewers get them: the whole migration/migration.c of 7.2.0,
# 10.0.13 and 10.2.2 and each tree, proved equivalent to their built-in tables; a patch between
# two of them (diff -u, wrapped as a mail) and a `git diff -U3` read with --base; `history` over a
# repository of the three. The trees come from .ci/qemu-sources (cached outside the build tree);
# when they cannot be fetched the test says so and is skipped (exit 77).
# Usage: real_sources_test.sh MIGCHAN
m=$1
here=$(cd "$(dirname "$0")" && pwd)
if ! trees=$("$here/../.ci/qemu-sources" 2>&1); then
  printf 'SKIP: .ci/qemu-sources could not fetch the QEMU sources:\n%s\n' "$trees"
  exit 77
fi
t72=$(echo "$trees" | grep '/qemu-7\.2') t100=$(echo "$trees" | grep '/qemu-10\.0\.') t102=$(echo "$trees" | grep '/qemu-10\.2\.')
fail=0
expect() {  # expect CODE PATTERN -- ARGS...: exit code and a pattern in stdout+stderr
  code=$1 pat=$2; shift 3
  out=$("$m" "$@" 2>&1); got=$?
  if [ "$got" -ne "$code" ] || ! printf '%s' "$out" | grep -q -- "$pat"; then
    echo "FAIL: migchan $* -> exit $got (want $code, and '$pat'), output:"; printf '%s\n' "$out" | head -40; fail=1
  fi
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Whole files: each one's classifier, found among the rest of migration.c, decides as its table.
expect 1 'migration_ioc_process_incoming(), 4 rows, read against qemu-7.2 (QEMU 7.2.0, ' -- check "$t72/migration/migration.c"
expect 1 'complete           refuted  holds under no assumption set' -- check "$t72/migration/migration.c"
expect 1 'peek.wait .* blocked  peekable=yes magic=silent multifd=yes postcopy_ram=no mapped_ram=no' -- check "$t100/migration/migration.c"
expect 1 'nopeek.non_peekable_channel (.*migration.c:1062) never fires' -- check "$t102/migration/migration.c"
expect 0 '^equivalent$' -- diff qemu-7.2 "$t72/migration/migration.c"
expect 0 '^equivalent$' -- diff qemu-10.0 "$t100/migration/migration.c"
expect 0 '^equivalent$' -- diff qemu-10.1 "$t102/migration/migration.c"
# channel.c alone holds no classifier before 2026.
expect 2 'migration_ioc_process_incoming(), which is not in this file' -- check "$t102/migration/channel.c"

# Trees: migration/*.c, with what the helpers in channel.c and multifd.c say.
expect 1 'peek: migration_channel_read_peek() at .*/migration/channel.c:117' -- check "$t102"
expect 1 'id check: msg.id > migrate_multifd_channels() at .*/migration/multifd.c:228' -- check "$t72"
expect 1 'after a channel error: exit (exit-on-error)' -- check "$t100"
expect 0 '^equivalent$' -- diff qemu-7.2 "$t72"
expect 0 '^equivalent$' -- diff qemu-10.0 "$t100"
expect 0 '^equivalent$' -- diff qemu-10.1 "$t102"

# A patch from 10.0.13's migration.c to 10.2.2's, made with diff -u and sent as a mail.
(cd "$tmp" && ln -s "$t100" a && ln -s "$t102" b && diff -u a/migration/migration.c b/migration/migration.c) > "$tmp/m.diff"
{ printf 'From 0 Mon Sep 17 00:00:00 2001\nSubject: [PATCH] migration: peek until main and every multifd channel are in\n\n---\n'
  cat "$tmp/m.diff"; printf -- '-- \n2.47.3\n'; } > "$tmp/m.mbox"
expect 1 'The classifier, migration_channel_process_incoming(), 14 rows, read against qemu-10.0' -- \
  check --base "$t100" "$tmp/m.mbox" --format mail
expect 1 'regions decide differently' -- check --base "$t100" "$tmp/m.mbox" --format mail
expect 1 'peek.unknown_channel_magic  *migration/migration.c:1050 + ' -- check --base "$t100" "$tmp/m.mbox"

# The same change as `git diff -U3` in a repository of the three trees, then its history.
"$here/qemu_history.sh" "$tmp/repo" "$t72" "$t100" "$t102" || fail=1
git -C "$tmp/repo" diff -U3 HEAD~1 HEAD -- migration/migration.c > "$tmp/u3.diff"
expect 1 'after_mm.preempt  *migration/migration.c:1067 + ' -- check --base "$t100" "$tmp/u3.diff"
expect 0 'complete  *[0-9a-f]* 2025-01-02 refuted -> proved: QEMU 10.0.13' -- history "$tmp/repo" --assume main-connects-first
expect 0 '"subject": "QEMU 10.2.2"' -- history "$tmp/repo" HEAD~1..HEAD --format json
exit $fail
