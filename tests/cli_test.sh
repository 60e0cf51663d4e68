#!/bin/sh
# The migchan CLI: outputs and exit codes. Usage: cli_test.sh MIGCHAN
m=$1
fail=0
expect() {  # expect CODE PATTERN -- ARGS...: exit code and a pattern in stdout+stderr
  code=$1 pat=$2; shift 3
  out=$("$m" "$@" 2>&1); got=$?
  if [ "$got" -ne "$code" ] || ! printf '%s' "$out" | grep -q -- "$pat"; then
    echo "FAIL: migchan $* -> exit $got (want $code), output: $out"; fail=1
  fi
}
expect 0 'qemu-10.1' -- show --list
expect 0 '"commit": "00f3fcef"' -- show qemu-10.1 --format json
expect 0 'peek.multifd_magic.assert' -- show qemu-10.1
expect 0 'first.main' -- classify --classifier qemu-7.2 --multifd --magic multifd_magic
expect 0 'unknown channel magic' -- classify --classifier qemu-10.1 --magic other
expect 0 '"decision": "abort"' -- classify --classifier qemu-10.1 --magic multifd_magic --format json
expect 0 'implicit default' -- classify --classifier patch-v6 --multifd --transport tls --magic other
expect 2 "bad value 'bogus' for --magic" -- classify --magic bogus
expect 2 "unknown classifier 'nope'" -- show nope
expect 2 "refuses this configuration" -- classify --classifier qemu-7.2 --transport file
expect 2 "verify: unknown option '--bogus' (one of: --help, --classifier" -- verify --bogus
expect 2 "unknown assumption 'x'" -- verify --assume x
expect 2 'bad value' -- show qemu-7.2 --format yaml
expect 0 'as upstream history says' -- verify --classifier qemu-7.2
expect 1 'received packet magic 5145564d expected 11223344' -- check --classifier qemu-7.2 --caps multifd --transport socket
expect 1 'holds under {main-connects-first}' -- check --classifier qemu-7.2 --caps multifd
expect 2 "unknown capability 'turbo'" -- check --classifier qemu-7.2 --caps turbo
expect 2 'required' -- check
expect 2 '--max-channels must be 1..255' -- verify --max-channels 300
# check and diff on C: migchan writes the forms (show --format c); the error samples are tests/traces/c/*_error.c
c=$(dirname "$0")/traces/c
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for t in qemu-7.2 qemu-8.0 qemu-10.0 qemu-10.1 qemu-11.1 io-watch patch-v6; do
  "$m" show "$t" --format c > "$tmp/$(echo "$t" | tr .- __).c" || { echo "FAIL: show $t --format c"; fail=1; }
done
one_line() {  # one_line CODE PATTERN -- ARGS...: exit code, and stdout+stderr is that one line
  code=$1 pat=$2; shift 3
  out=$("$m" "$@" 2>&1); got=$?
  if [ "$got" -ne "$code" ] || [ "$(printf '%s\n' "$out" | wc -l)" -ne 1 ] || ! printf '%s' "$out" | grep -q -- "$pat"; then
    echo "FAIL: migchan $* -> exit $got (want $code and one line), output: $out"; fail=1
  fi
}
expect 1 'nopeek.implicit_main (.*patch_v6.c:[0-9]*) decides main' -- check "$tmp/patch_v6.c"
expect 1 'rows involved' -- check "$tmp/patch_v6.c"
expect 1 'after_mm.implicit_main (.*patch_v6.c:[0-9]*) never fires' -- check "$tmp/patch_v6.c" --base patch-v6
expect 1 'nopeek.non_peekable_channel (.*qemu_10_1.c:[0-9]*) never fires: blocked by nopeek.after_main_multifd' -- check "$tmp/qemu_10_1.c"
expect 1 '"holds": false' -- check "$tmp/patch_v6.c" --format json
expect 0 'proved' -- check --classifier reference --transport socket
expect 2 "reference: row .* cannot be written in C" -- show reference --format c
one_line 2 "while_error.c:3:5: unsupported construct 'while'" -- check "$c/while_error.c"
# A log that cannot be written ends serve with one line, not silently.
one_line 2 "cannot write log '/dev/full': No space left on device" -- serve --classifier reference \
  --listen "unix:${TMPDIR:-/tmp}/migchan-cli-$$.sock" --log /dev/full --timeout 300
one_line 2 "empty_error.c:1:1: expected a classifier" -- diff qemu-10.1 "$c/empty_error.c"
one_line 2 "cannot open 'no/such.c': No such file or directory" -- check no/such.c
mkdir "$tmp/empty"
one_line 2 "holds no migration/\*.c (nor \*.c): not a QEMU tree" -- check "$tmp/empty"
one_line 2 "unknown base classifier 'qemu-1.0'" -- check "$tmp/patch_v6.c" --base qemu-1.0
one_line 2 'not both' -- check "$tmp/patch_v6.c" --classifier qemu-10.1
one_line 2 "cannot open 'nope'" -- diff qemu-10.1 nope
one_line 2 "^migchan: --format: bad value 'yaml' (one of: text, json)$" -- diff qemu-10.1 qemu-9.0 --format yaml
# synth: found (0), impossible with its witness (1), bad input (2)
expect 0 '^found after' -- synth --transport socket --properties complete
expect 1 'no table exists: the behaviours below reach the same observation' -- synth --transport tls --properties sound,complete
one_line 2 "unknown property 'bogus'" -- synth --properties bogus
one_line 2 "unknown base classifier 'qemu-1.0'" -- synth --base qemu-1.0
one_line 2 'whole docs/limits.md page' -- synth --format markdown --transport tls
one_line 2 'magic=silent it decides reject, but in C the peek waits' -- synth --transport socket --properties complete \
  --c "$tmp/synth.c"
one_line 2 "bad value 'mail' for --format" -- check --classifier qemu-7.2 --format mail
expect 0 '^equivalent$' -- diff patch-v6 "$tmp/patch_v6.c"
expect 0 '^equivalent$' -- diff "$tmp/qemu_11_1.c" qemu-11.1
expect 0 '^equivalent$' -- diff io-watch "$tmp/io_watch.c"
expect 0 '"equivalent": true' -- diff qemu-8.0 "$tmp/qemu_8_0.c" --format json
expect 1 '^differ: 4 regions, ' -- diff qemu-10.1 "$tmp/patch_v6.c"
expect 1 'after_mm.after_main (.*patch_v6.c:[0-9]*) -> preempt' -- diff qemu-10.1 "$tmp/patch_v6.c"
expect 1 '"summary": "differ: ' -- diff qemu-9.0 qemu-10.1 --format json

# A tree (its VERSION names the base table), a patch against it, and a git history of trees.
tree() {  # tree DIR FORM VERSION
  mkdir -p "$1/migration" && cp "$tmp/$2.c" "$1/migration/channel.c" && echo "$3" > "$1/VERSION"
}
tree "$tmp/q10" qemu_10_1 10.2.2
expect 1 'read against qemu-10.1 (QEMU 10.2.2, ' -- check "$tmp/q10"
expect 0 '^equivalent$' -- diff qemu-10.1 "$tmp/q10"
cp -r "$tmp/q10" "$tmp/q10-drop"
sed -i 's/error_setg(errp, "unknown channel magic: %u", channel_magic);/error_report("unknown channel magic: %u", channel_magic);\n                return channel;/' \
  "$tmp/q10-drop/migration/channel.c"
(cd "$tmp" && diff -u q10/migration/channel.c q10-drop/migration/channel.c) > "$tmp/drop.diff"
{ printf 'From 1 Mon Sep 17 00:00:00 2001\nSubject: [PATCH] migration: only report an unknown magic\n\n---\n'
  cat "$tmp/drop.diff"; printf -- '-- \n2.39.5\n'; } > "$tmp/drop.mbox"
expect 1 'peek.unknown_channel_magic (migration/channel.c:[0-9]*) + -> drop' -- check --base "$tmp/q10" "$tmp/drop.mbox"
expect 1 'migchan check of \[PATCH\] migration: only report an unknown magic' -- check --base "$tmp/q10" "$tmp/drop.mbox" --format mail
expect 1 'decisions: 2 regions decide differently' -- check --base "$tmp/q10" "$tmp/drop.mbox" --format mail
expect 1 '"against_base"' -- check --base "$tmp/q10" "$tmp/drop.mbox" --format json
sed '/^@@/{n;s/^ \(.*\)$/ \1 \/\* changed \*\//}' "$tmp/drop.diff" > "$tmp/stale.diff"  # a context line the tree does not have
one_line 2 "stale.diff:3: hunk @@ -.* of .*channel.c does not apply to $tmp/q10/migration/channel.c" -- \
  check --base "$tmp/q10" "$tmp/stale.diff"
one_line 2 "not a patch: no hunk" -- check --base "$tmp/q10" "$tmp/qemu_10_1.c"
git init -q "$tmp/repo"
for v in "qemu_7_2 7.2.0" "qemu_10_0 10.0.0" "qemu_10_1 10.2.0"; do
  set -- $v
  rm -rf "$tmp/repo/migration" && tree "$tmp/repo" "$1" "$2"
  git -C "$tmp/repo" add -A && git -C "$tmp/repo" -c user.name=t -c user.email=t@example.org commit -qm "QEMU $2"
done
expect 0 'complete  *[0-9a-f]* .* refuted -> proved: QEMU 10.0.0' -- history "$tmp/repo" --assume main-connects-first
expect 0 '"first_changes"' -- history "$tmp/repo" HEAD~1..HEAD --format json
one_line 2 "not a git repository\|rev-parse" -- history "$tmp/empty"
# The flag at fault, and what it needs.
one_line 2 'inconsistent observation: --postcopy-preempt needs --postcopy-ram$' -- classify --postcopy-preempt
one_line 2 'inconsistent observation: --has-preempt needs --postcopy-ram and --postcopy-preempt$' -- classify --has-preempt
one_line 2 'inconsistent observation: --postcopy-preempt needs --postcopy-ram$' -- classify --has-preempt --postcopy-preempt
one_line 2 'inconsistent observation: --all-multifd needs --multifd$' -- classify --all-multifd --postcopy-ram
# The CLI itself: version, typos, help per subcommand and topic, exit codes explained.
one_line 0 '^migchan [0-9][0-9.]*$' -- --version
one_line 2 "unknown subcommand 'shwo'; did you mean 'show'?" -- shwo
one_line 2 "unknown subcommand 'frobnicate' (one of: show, classify, verify" -- frobnicate
one_line 2 "verify: unknown option '--max-chanels'; did you mean '--max-channels'?" -- verify --max-chanels 3
expect 0 '^Usage: .*replay \[OPTIONS\] trace' -- help replay
expect 0 'Exit code 0: every connection was accepted' -- help replay
one_line 2 "unknown subcommand or topic 'shwo'; did you mean 'show'?" -- help shwo
expect 0 '^2  bad input or an I/O error' -- help exit-codes
expect 0 '^\.TH MIGCHAN 1' -- help man
expect 0 '^complete -o filenames -F _migchan migchan$' -- help completion
# show --list in every format; C files wherever a built-in name is taken.
if ! "$m" show --list --format json | python3 -c 'import json,sys; l=json.load(sys.stdin); assert {"name","summary"} <= set(l[0])' 2>/dev/null; then
  echo "FAIL: show --list --format json is not a JSON list of classifiers"; fail=1
fi
expect 0 '^| `qemu-7.2` |' -- show --list --format markdown
one_line 2 "not both" -- show qemu-7.2 --list
expect 0 'rows from .*patch_v6.c' -- show "$tmp/patch_v6.c"
expect 0 'rule     peek.vm_file_magic' -- classify --classifier "$tmp/patch_v6.c" --multifd
one_line 2 "unknown classifier 'qemu-7.3'; did you mean 'qemu-7.2'?" -- show qemu-7.3
one_line 2 "while_error.c:3:5: unsupported construct 'while'" -- classify --classifier "$c/while_error.c"
# verify and check: the run's parameters in the header and the JSON, the meaning of the exit code in the
# last line, C where a built-in name goes, no flag that does nothing.
expect 0 '^assuming {}; multifd-channels 1..4; shortest counterexamples$' -- verify --classifier qemu-7.2 --max-channels 4
expect 0 'multifd-channels 1..255; sources with exactly {multifd}; transport socket; shortest' -- \
  verify --classifier qemu-7.2 --caps multifd --transport socket
if "$m" verify --classifier qemu-7.2 --max-channels 4 | grep -q 'multifd-channels 1..255'; then
  echo "FAIL: verify --max-channels 4 still says multifd-channels 1..255"; fail=1
fi
if ! "$m" verify --classifier qemu-7.2 --caps multifd --transport socket --max-channels 3 --format json | python3 -c '
import json, sys
j = json.load(sys.stdin)
assert j["parameters"] == {"max_channels": 3, "caps": ["multifd"], "transport": "socket"}, j["parameters"]
assert j["exit"] == 0 and j["classifiers"][0]["expected"] is None' 2>&1; then
  echo "FAIL: verify --format json lacks the run's parameters"; fail=1
fi
last_line() {  # last_line CODE PATTERN -- ARGS...: exit code, and the last line of stdout matches
  code=$1 pat=$2; shift 3
  out=$("$m" "$@" 2>/dev/null); got=$?
  if [ "$got" -ne "$code" ] || ! printf '%s\n' "$out" | tail -n 1 | grep -q -- "$pat"; then
    echo "FAIL: migchan $* -> exit $got (want $code), last line: $(printf '%s\n' "$out" | tail -n 1)"; fail=1
  fi
}
last_line 0 '^every classifier as upstream history says, exit 0 (' -- verify --classifier qemu-7.2
last_line 0 '^restricted by --caps, --transport or --max-channels: .* not compared, exit 0 (' -- \
  verify --classifier qemu-7.2 --transport socket
last_line 0 '^read from C: no upstream history to compare with, exit 0 (' -- verify --classifier "$tmp/patch_v6.c"
last_line 1 '^qemu-7.2: [0-9] of 9 properties hold (' -- check --classifier qemu-7.2
last_line 0 '^reference: 9 of 9 properties hold (' -- check --classifier reference --transport socket
last_line 1 'patch_v6.c: 1 of 9 properties hold (' -- check --classifier "$tmp/patch_v6.c"
one_line 2 "verify takes --classifier C or --all, not both" -- verify --classifier qemu-7.2 --all
one_line 2 "check: unknown option '--explain'" -- check --classifier qemu-7.2 --explain
one_line 2 "bad value 'markdown' for --format (one of: text, json; mail is for C)" -- check --classifier qemu-7.2 --format markdown
one_line 2 "bad value 'markdown' for --format (one of: text, json, mail)" -- check "$tmp/patch_v6.c" --format markdown
if "$m" help check | grep -q markdown; then echo "FAIL: check's help offers markdown"; fail=1; fi
one_line 2 "unknown classifier 'qemu-7.3'; did you mean 'qemu-7.2'?" -- check --classifier qemu-7.3
one_line 2 "unknown classifier 'qemu-7.3'; did you mean 'qemu-7.2'?" -- verify --classifier qemu-7.3
# Traces name the command that wrote them.
"$m" check --classifier qemu-7.2 --caps multifd --transport socket --traces "$tmp/tc" >/dev/null
grep -q '"source": "migchan check"' "$tmp/tc/qemu-7.2.sound.itf.json" || { echo "FAIL: check's ITF says another source"; fail=1; }
exit $fail
