// The built-in tables' dispatch arrays, computed from their rows at compile
// time, once, and proved to agree with first-match over the rows on every raw
// observation: a table whose array and rows disagree does not compile.
#include "model/builtin.h"
#include "model/compiled.h"

namespace migchan::classifiers {

#define MIGCHAN_COMPILED(rows)                                                                  \
  namespace {                                                                                   \
  constexpr auto rows##_array = compile<dispatch_size(rows##_rules)>(rows##_rules);             \
  static_assert(agrees(rows##_rules, rows##_array.view(rows##_rules)), #rows ": array and rows disagree"); \
  }                                                                                             \
  constexpr dispatch_view rows##_dispatch = rows##_array.view(rows##_rules)

MIGCHAN_COMPILED(qemu_7_2);
MIGCHAN_COMPILED(qemu_8_0);
MIGCHAN_COMPILED(qemu_9_0);
MIGCHAN_COMPILED(qemu_10_1);
MIGCHAN_COMPILED(patch_v6);
MIGCHAN_COMPILED(reference);

#undef MIGCHAN_COMPILED

}  // namespace migchan::classifiers
