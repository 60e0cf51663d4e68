#!/bin/sh
# The migchan CLI: outputs and exit codes. Usage: cli_test.sh MIGCHAN
m=$1
fail=0
c=$(dirname "$0")/traces/c
expect() {  # expect CODE PATTERN -- ARGS...: exit code and a pattern in stdout+stderr
  code=$1 pat=$2; shift 3
  out=$("$m" "$@" 2>&1); got=$?
  if [ "$got" -ne "$code" ] || ! printf '%s' "$out" | grep -q -- "$pat"; then
    echo "FAIL: migchan $* -> exit $got (want $code), output: $out"; fail=1
  fi
}
one_line() {  # one_line CODE PATTERN -- ARGS...: exit code, and stdout+stderr is that one line
  code=$1 pat=$2; shift 3
  out=$("$m" "$@" 2>&1); got=$?
  if [ "$got" -ne "$code" ] || [ "$(printf '%s\n' "$out" | wc -l)" -ne 1 ] || ! printf '%s' "$out" | grep -q -- "$pat"; then
    echo "FAIL: migchan $* -> exit $got (want $code and one line), output: $out"; fail=1
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
# The flag at fault, and what it needs.
one_line 2 'inconsistent observation: --postcopy-preempt needs --postcopy-ram$' -- classify --postcopy-preempt
one_line 2 'inconsistent observation: --has-preempt needs --postcopy-ram and --postcopy-preempt$' -- classify --has-preempt
one_line 2 'inconsistent observation: --postcopy-preempt needs --postcopy-ram$' -- classify --has-preempt --postcopy-preempt
one_line 2 'inconsistent observation: --all-multifd needs --multifd$' -- classify --all-multifd --postcopy-ram
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
# check FILE and diff: the C samples are tests/traces/c/*.c
expect 1 'nopeek.implicit_main (.*patch_v6.c:21) decides main' -- check "$c/patch_v6.c"
expect 1 'rows involved' -- check "$c/patch_v6.c"
expect 1 'after_mm.implicit_main (.*patch_v6.c:21) never fires' -- check "$c/patch_v6.c" --base patch-v6
expect 1 'nopeek.non_peekable_channel (.*qemu_10_1.c:55) never fires: blocked by nopeek.after_main_multifd' -- check "$c/qemu_10_1.c"
expect 1 'no-implicit-default  holds' -- check "$c/patch_v6_fixed.c"
expect 1 '"holds": false' -- check "$c/patch_v6_hunk.c" --format json
expect 0 'proved' -- check --classifier reference --transport socket
one_line 2 "while_error.c:3:5: unsupported construct 'while'" -- check "$c/while_error.c"
# A log that cannot be written ends serve with one line, not silently.
one_line 2 "cannot write log '/dev/full': No space left on device" -- serve --classifier reference \
  --listen "unix:${TMPDIR:-/tmp}/migchan-cli-$$.sock" --log /dev/full --timeout 300
one_line 2 "empty_error.c:1:1: expected a classifier" -- diff qemu-10.1 "$c/empty_error.c"
one_line 2 "cannot open 'no/such.c': No such file or directory" -- check no/such.c
one_line 2 "cannot read '$c': Is a directory" -- check "$c"
one_line 2 "unknown base classifier 'qemu-1.0'" -- check "$c/patch_v6.c" --base qemu-1.0
one_line 2 'not both' -- check "$c/patch_v6.c" --classifier qemu-10.1
one_line 2 "cannot open 'nope'" -- diff qemu-10.1 nope
one_line 2 "bad value 'yaml' for --format" -- diff qemu-10.1 qemu-9.0 --format yaml
expect 0 '^equivalent$' -- diff patch-v6 "$c/patch_v6.c"
expect 0 '^equivalent$' -- diff "$c/qemu_2026.c" qemu-10.1
expect 0 '^equivalent$' -- diff "$c/patch_v6.c" "$c/patch_v6_fixed.c"
expect 0 '"equivalent": true' -- diff qemu-8.0 "$c/qemu_8_0.c" --format json
expect 1 '^differ: 4 regions, ' -- diff qemu-10.1 "$c/patch_v6.c"
expect 1 'after_mm.after_main (.*patch_v6.c:59) -> preempt' -- diff qemu-10.1 "$c/patch_v6.c"
expect 1 '"summary": "differ: ' -- diff qemu-9.0 qemu-10.1 --format json
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
expect 0 'rows from .*patch_v6.c' -- show "$c/patch_v6.c"
expect 0 'rule     peek.vm_file_magic' -- classify --classifier "$c/patch_v6.c" --multifd
one_line 2 "unknown classifier 'qemu-7.3'; did you mean 'qemu-7.2'?" -- show qemu-7.3
one_line 2 "while_error.c:3:5: unsupported construct 'while'" -- classify --classifier "$c/while_error.c"
exit $fail
