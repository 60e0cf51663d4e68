#include "proofs/synth_limits.h"

#include <algorithm>

namespace migchan::proofs {

limit minimal_sets(synthesizer& s) {
  limit out;
  std::vector<unsigned> fails;
  const unsigned all = (1u << assumption_count) - 1;
  for (unsigned size = 0; size <= assumption_count; ++size)
    for (unsigned m = 0; m <= all; ++m) {
      if (static_cast<unsigned>(__builtin_popcount(m)) != size) continue;
      if (std::any_of(out.minimal_sets.begin(), out.minimal_sets.end(), [&](unsigned k) { return (m & k) == k; }))
        continue;
      if (std::any_of(fails.begin(), fails.end(), [&](unsigned k) { return (k & m) == m; })) continue;
      const auto r = s.solve(m, false);
      ++out.solves;
      out.seconds += r.seconds;
      out.slowest = std::max(out.slowest, r.seconds);
      if (r.what == synth_result::outcome::found) out.minimal_sets.push_back(m);
      else if (r.what == synth_result::outcome::impossible) fails.push_back(m);
      else if (out.unknown.empty()) out.unknown = r.reason;
    }
  for (unsigned f : fails)
    if (std::none_of(fails.begin(), fails.end(), [&](unsigned k) { return k != f && (k & f) == f; }))
      out.impossible.push_back(f);
  return out;
}

}  // namespace migchan::proofs
