// Built-in tables checked and compiled, once, at compile time: each table is
// exhaustive, its ids are unique, and no row is dead but the one history
// records (model/expectations.h); each rows array becomes its dispatch array,
// proved to agree with first-match over the rows. A table that fails any of
// these does not compile (tests/model/compile_fail/).
#include "model/builtin.h"
#include "model/check.h"
#include "model/compiled.h"
#include "model/expectations.h"

namespace migchan::classifiers {

#define MIGCHAN_COMPILED(rows)                                                                             \
  namespace {                                                                                              \
  constexpr auto rows##_array = compile<dispatch_size(rows##_rules)>(rows##_rules);                        \
  static_assert(agrees(rows##_rules, rows##_array.view(rows##_rules)), #rows ": array and rows disagree"); \
  }                                                                                                        \
  constexpr dispatch_view rows##_dispatch = rows##_array.view(rows##_rules)

MIGCHAN_COMPILED(qemu_7_2);
MIGCHAN_COMPILED(qemu_8_0);
MIGCHAN_COMPILED(qemu_9_0);
MIGCHAN_COMPILED(qemu_10_1);
MIGCHAN_COMPILED(io_watch);
MIGCHAN_COMPILED(patch_v6);
MIGCHAN_COMPILED(reference);

#undef MIGCHAN_COMPILED

namespace {
// The one dead row an expectation records for `name`, or "".
// (By value, not through find_expectation(): GCC under UBSan cannot test a
// pointer against null in a constant expression.)
consteval rule_id recorded_dead(std::string_view name) {
  for (const auto& e : expectations)
    if (e.classifier == name) return rule_id{e.dead_rows};
  return rule_id{""};
}
template <const table& T> consteval bool checked_as_recorded() { return checked<T, recorded_dead(T.name)>(); }
}  // namespace

static_assert(checked_as_recorded<qemu_7_2>());
static_assert(checked_as_recorded<qemu_8_0>());
static_assert(checked_as_recorded<qemu_8_1>());
static_assert(checked_as_recorded<qemu_9_0>());
static_assert(checked_as_recorded<qemu_10_0>());
static_assert(checked_as_recorded<qemu_10_1>());
static_assert(checked_as_recorded<qemu_11_1>());
static_assert(checked_as_recorded<io_watch>());
static_assert(checked_as_recorded<patch_v6>());
static_assert(checked_as_recorded<reference>());

}  // namespace migchan::classifiers
