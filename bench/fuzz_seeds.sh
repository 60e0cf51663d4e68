#!/bin/sh
# The C reader's fuzz seeds, written at build time by migchan itself (no QEMU
# code is kept): whole files of several forms, one split in two files, and one
# with a patch. Usage: fuzz_seeds.sh MIGCHAN OUTDIR
set -eu
m=$1 out=$2
for t in qemu-7.2 qemu-8.0 qemu-10.1 qemu-11.1 io-watch patch-v6; do
  "$m" show "$t" --format c > "$out/$t.c"
done
# Two files: the helpers in one, the classifier in the other.
awk '/^static MigChannelType migration_channel_identify/ { printf "\f" } { print }' "$out/qemu-10.1.c" > "$out/two-files.c"
# A patch against the first file (any context, as git makes them).
sed 's/error_setg(errp, "unknown channel magic: %u", channel_magic);/error_report("unknown channel magic");/' \
  "$out/qemu-10.1.c" > "$out/patched.tmp"
{ cat "$out/qemu-10.1.c"; printf '\f'; diff -u "$out/qemu-10.1.c" "$out/patched.tmp" || true; } > "$out/patch.c"
rm -f "$out/patched.tmp"
