#!/bin/sh
# compile_fail/check.sh SRCROOT CXX [ARGS...]: the small table compiles as it is
# and fails to compile, naming the problem, when broken each way.
root=$1; shift
dir=$root/tests/model/compile_fail
try() {  # try BREAK: compile the table with MIGCHAN_BREAK=BREAK, print the compiler's output
  printf '#include "tests/model/compile_fail/table.h"\nint main() {}\n' |
    "$@" -std=c++20 -I"$root" -DMIGCHAN_BREAK="$break" -x c++ -fsyntax-only - 2>&1
}
fail=0
break=0; out=$(try "$@") || { echo "FAIL: the unbroken table does not compile: $out"; fail=1; }
for case in "1 rule_id_is_duplicated<migchan::rule_id{\"first\"}>" "2 rule_is_dead<migchan::rule_id{\"shadowed\"}>" \
            "3 table_is_not_exhaustive<migchan::rule_id{\"small\"}>"; do
  break=${case%% *} want=${case#* }
  if out=$(try "$@"); then
    echo "FAIL: MIGCHAN_BREAK=$break compiles"; fail=1
  elif ! printf "%s" "$out" | grep -qF "$want"; then
    echo "FAIL: MIGCHAN_BREAK=$break fails without naming $want: $out"; fail=1
  fi
done
exit $fail
