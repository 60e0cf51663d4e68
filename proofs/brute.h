// The brute-force oracle: every configuration with at most `max_channels`
// multifd channels, every arrival order of every channel one at a time, run
// through the same step function as the proofs. Slow by design; it exists so
// the Z3 verdicts can be checked against plain enumeration.
#pragma once

#include <array>
#include <bitset>
#include <cstdint>
#include <optional>
#include <vector>

#include "model/properties.h"

namespace migchan::brute {

using cd = concrete_domain;

// A violating trace, one channel per step.
struct witness {
  sender_config<cd> src;
  dest_config<cd> dst;
  std::vector<trace_step<cd>> steps, natural;
};

inline constexpr std::size_t assumption_sets = std::size_t{1} << assumption_count;

struct outcome {
  // For each property, which assumption sets fail to rule out a violation:
  // violating_masks[p] has bit m set when some violating trace satisfies exactly
  // the assumptions in m (a subset mask over enum assumption).
  std::array<std::bitset<assumption_sets>, property_count> violating_masks{};
  std::uint64_t traces = 0;
  // The shortest violating trace for each property and set of assumptions
  // that holds in it (the first found among the shortest).
  std::array<std::array<std::optional<witness>, assumption_sets>, property_count> shortest;
  // The shortest violating trace in which every assumption of `assumed` holds.
  const witness* shortest_under(property p, unsigned assumed) const;
  // With the assumptions in `assumed` on, does some trace break p?
  bool refuted(property p, unsigned assumed) const;
};

struct scenario {
  sender_config<cd> src;
  dest_config<cd> dst;
  std::vector<trace_step<cd>> steps;
};

// Calls f(src, dst, trace, natural_trace, assumptions_that_hold_mask) for every
// feasible trace; natural_trace is empty for mismatching configurations.
using visitor = void (*)(void* ctx, const sender_config<cd>&, const dest_config<cd>&, std::span<const trace_step<cd>>,
                         std::span<const trace_step<cd>>, unsigned);
void visit(const table& t, int max_channels, visitor f, void* ctx);

outcome enumerate(const table& t, int max_channels);

// The arrival orders of one configuration, its preempt channel (if any) sending
// `preempt` first (for callers that want traces).
std::vector<std::vector<arrival<cd>>> orders(const sender_config<cd>& s, const dest_config<cd>& d,
                                             first_bytes preempt = first_bytes::silent);

}  // namespace migchan::brute
