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
expect 2 'Postcopy preempt requires postcopy-ram\|inconsistent observation' -- classify --postcopy-preempt
expect 2 "refuses this configuration" -- classify --classifier qemu-7.2 --transport file
expect 2 'not expected' -- verify --bogus
expect 2 "unknown assumption 'x'" -- verify --assume x
expect 2 'bad value' -- show qemu-7.2 --format yaml
expect 0 'as upstream history says' -- verify --classifier qemu-7.2
expect 1 'received packet magic 5145564d expected 11223344' -- check --classifier qemu-7.2 --caps multifd --transport socket
expect 1 'holds under {main-connects-first}' -- check --classifier qemu-7.2 --caps multifd
expect 2 "unknown capability 'turbo'" -- check --classifier qemu-7.2 --caps turbo
expect 2 'required' -- check
expect 2 '--max-channels must be 1..255' -- verify --max-channels 300
exit $fail
