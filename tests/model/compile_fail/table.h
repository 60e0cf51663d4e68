// One small table for the compile-fail tests; each test defines MIGCHAN_BREAK
// to break it one way. Checked the way the built-in tables are.
#pragma once

#include <array>

#include "model/check.h"

namespace migchan::compile_fail {

constexpr std::array rows {
  rule{"first", {.has_main = no}, verdict::main},
#if MIGCHAN_BREAK == 1  // the same id twice
      rule{"first", {.has_main = yes, .multifd = yes}, verdict::multifd},
#else
      rule{"later.multifd", {.has_main = yes, .multifd = yes}, verdict::multifd},
#endif
#if MIGCHAN_BREAK == 2  // a row no observation reaches: the union of the two before it covers it
      rule{"shadowed", {.has_main = yes, .multifd = yes, .postcopy_preempt = yes}, verdict::preempt},
#endif
#if MIGCHAN_BREAK != 3  // without it, has_main && !multifd matches nothing
      rule{"later.else", {.has_main = yes, .multifd = no}, verdict::reject},
#endif
};
constexpr table small{"small", "", "", rows, {}, {}};
static_assert(checked<small>());

}  // namespace migchan::compile_fail
