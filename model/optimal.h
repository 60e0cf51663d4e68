// What the best classifier can do over the observations migchan models, in
// reference's surroundings: for each property, the minimal sets of named
// assumptions under which SOME table keeps it together with complete, over
// every transport. Alone, every property but complete holds under no
// assumption for a table that refuses every channel it cannot tell apart, so
// the comparison that means something is the one with complete. Derived by
// `migchan synth --limits` (docs/limits.md has them per transport); a test
// derives them again; `migchan verify` compares reference with them.
#pragma once

#include <array>

#include "model/expectations.h"

namespace migchan {

struct optimum {
  property prop;
  std::array<unsigned, 12> sets;  // minimal, the rest of the list no_set
  // Reference misses some of `sets`, and no table keeps the property with
  // complete under a missed set and under every set reference keeps it under.
  bool trade_off = false;
};

namespace optimal_detail {
using enum assumption;
template <class... U> constexpr std::array<unsigned, 12> list(U... u) {
  std::array<unsigned, 12> l{};
  for (auto& x : l) x = no_set;
  std::size_t i = 0;
  ((l[i++] = u), ...);
  return l;
}
// The abbreviations of docs/limits.md.
constexpr unsigned MF = set(main_connects_first), PM = set(preempt_after_multifd), XP = set(multifd_excludes_preempt),
                   TF = set(tls_main_first), NM = set(non_peekable_implies_multifd),
                   NC = set(non_peekable_configs_match), CM = set(configs_match);
}  // namespace optimal_detail

// Only TLS needs assumptions: on sockets the first bytes name every channel,
// file: channels come in order, fd: and exec: carry main alone. Over TLS the
// destination knows only the order: main first (or its handshake first), and
// the preempt channel last, or never with multifd, or never on TLS.
// clang-format off
inline constexpr std::array<optimum, property_count> optimal_sets = [] {
  using namespace optimal_detail;
  constexpr auto by_order = list(MF | PM, MF | XP, PM | TF, XP | TF, MF | NM, TF | NM);
  return std::array<optimum, property_count>{{
    {property::sound, by_order},
    {property::no_abort, by_order},
    // A preempt channel taken for multifd is read for its MultiFDInit_t and
    // stays silent: unless TLS carries no preempt, the source must also have
    // the destination's capabilities.
    {property::no_silent_peek, list(MF | NM, TF | NM, MF | PM | NC, MF | XP | NC, PM | TF | NC, XP | TF | NC,
                                    MF | PM | CM, MF | XP | CM, PM | TF | CM, XP | TF | CM)},
    {property::complete, by_order},
    {property::order_independent, by_order},
    // Over TLS an extra multifd channel looks like the preempt channel: unless
    // TLS carries no preempt, the capabilities must match.
    {property::mismatch_rejected, list(MF | NM, TF | NM, MF | PM | NC, MF | XP | NC, PM | TF | NC, XP | TF | NC), true},
  }};
}();
// clang-format on

static_assert([] {
  for (std::size_t i = 0; i < property_count; ++i)
    if (optimal_sets[i].prop != static_cast<property>(i)) return false;
  return true;
}());

constexpr const optimum& optimal_for(property p) { return optimal_sets[static_cast<std::size_t>(p)]; }

}  // namespace migchan
