#include "proofs/synth_limits.h"

#include <algorithm>

#include "proofs/symbolic.h"

namespace migchan::proofs {

namespace {

constexpr unsigned all_assumptions = (1u << assumption_count) - 1;

// Which assumptions say nothing for these questions (they hold on every trace)
// and which say the same thing as another (e.g. on TLS alone, tls-main-first
// is main-connects-first). Asked of Z3 over any arrivals, without a table:
// what holds there holds on every trace a sender can produce.
struct reduction {
  unsigned vacuous = 0;
  std::array<unsigned, assumption_count> same{};  // same[a]: the assumptions equivalent to a, a included
};

reduction reduce(const synth_options& o) {
  reduction r;
  for (std::size_t a = 0; a < assumption_count; ++a) r.same[a] = all_assumptions;
  r.vacuous = all_assumptions;
  for (const property p : o.props) {
    smt::solver z;
    const auto src = sender_vars("src.");
    const auto dst = !about_match(p) ? dest_vars("dst.") : dest_like(src, "dst.");
    constrain_configs(z, {o.base}, src, dst, o.z3.max_channels, about_mismatch(p));
    if (o.z3.caps) {
      const auto& c = *o.z3.caps;
      z.add(src.multifd == c[0] && src.postcopy_ram == c[1] && src.postcopy_preempt == c[2] && src.mapped_ram == c[3]);
    }
    if (o.z3.uri) z.add(src.transport == static_cast<int>(*o.z3.uri));
    std::vector<trace_step<S>> tr(static_cast<std::size_t>(o.z3.events));
    const auto in = arrival_vars(o.z3.events, src, "e");
    for (std::size_t i = 0; i < tr.size(); ++i) tr[i].in = in[i];
    std::array<smt::expr, assumption_count> h;
    for (std::size_t a = 0; a < assumption_count; ++a) {
      const auto as = static_cast<assumption>(a);
      h[a] = as == assumption::configs_match && about_mismatch(p) ? smt::expr::boolean(true)
                                                                  : holds<S>(as, src, dst, tr);
    }
    const auto never = [&](const smt::expr& e) {
      z.push();
      z.add(e);
      const bool unsat = z.check("synth:reduce").answer == smt::answer::unsat;
      z.pop();
      return unsat;
    };
    for (std::size_t a = 0; a < assumption_count; ++a) {
      if (((r.vacuous >> a) & 1u) && !never(!h[a])) r.vacuous &= ~(1u << a);
      for (std::size_t b = 0; b < assumption_count; ++b)
        if (b != a && ((r.same[a] >> b) & 1u) && !never(h[a] != h[b])) r.same[a] &= ~(1u << b);
    }
  }
  return r;
}

}  // namespace

std::vector<unsigned> minimal(std::vector<unsigned> sets) {
  std::sort(sets.begin(), sets.end(), [](unsigned a, unsigned b) {
    const int pa = __builtin_popcount(a), pb = __builtin_popcount(b);
    return pa != pb ? pa < pb : a < b;
  });
  std::vector<unsigned> out;
  for (unsigned m : sets)
    if (std::none_of(out.begin(), out.end(), [&](unsigned k) { return (m & k) == k; })) out.push_back(m);
  return out;
}

std::vector<unsigned> both(const std::vector<unsigned>& a, const std::vector<unsigned>& b) {
  std::vector<unsigned> u;
  for (unsigned x : a)
    for (unsigned y : b) u.push_back(x | y);
  return minimal(u);
}

std::vector<unsigned> missed(const std::vector<unsigned>& reached, const std::vector<unsigned>& best) {
  std::vector<unsigned> out;
  for (unsigned m : best)
    if (std::none_of(reached.begin(), reached.end(), [&](unsigned k) { return (m & k) == k; })) out.push_back(m);
  return out;
}

limit minimal_sets(synthesizer& s) {
  limit out;
  const auto red = reduce(s.options());
  // One representative per class of equivalent assumptions; vacuous ones never.
  unsigned reps = 0;
  for (std::size_t a = 0; a < assumption_count; ++a)
    if (!((red.vacuous >> a) & 1u) && (red.same[a] & ((1u << a) - 1)) == 0) reps |= 1u << a;
  std::vector<unsigned> holds, fails;
  for (unsigned size = 0; size <= assumption_count; ++size)
    for (unsigned m = 0; m <= all_assumptions; ++m) {
      if ((m & ~reps) != 0 || static_cast<unsigned>(__builtin_popcount(m)) != size) continue;
      if (std::any_of(holds.begin(), holds.end(), [&](unsigned k) { return (m & k) == k; })) continue;
      if (std::any_of(fails.begin(), fails.end(), [&](unsigned k) { return (k & m) == m; })) continue;
      const auto r = s.solve(m, false);
      ++out.solves;
      out.seconds += r.seconds;
      out.slowest = std::max(out.slowest, r.seconds);
      if (r.what == synth_result::outcome::found) holds.push_back(m);
      else if (r.what == synth_result::outcome::impossible) fails.push_back(m);
      else if (out.unknown.empty()) out.unknown = r.reason;
    }
  // Back to every assumption: each representative by any of its class.
  for (unsigned m : holds) {
    std::vector<unsigned> sets{0};
    for (std::size_t a = 0; a < assumption_count; ++a) {
      if (!((m >> a) & 1u)) continue;
      std::vector<unsigned> next;
      for (unsigned x : sets)
        for (std::size_t b = 0; b < assumption_count; ++b)
          if ((red.same[a] >> b) & 1u) next.push_back(x | 1u << b);
      sets = std::move(next);
    }
    out.minimal_sets.insert(out.minimal_sets.end(), sets.begin(), sets.end());
  }
  out.minimal_sets = minimal(out.minimal_sets);
  for (unsigned f : fails) {
    if (std::any_of(fails.begin(), fails.end(), [&](unsigned k) { return k != f && (k & f) == f; })) continue;
    unsigned full = f | red.vacuous;
    for (std::size_t a = 0; a < assumption_count; ++a)
      if ((f >> a) & 1u) full |= red.same[a];
    out.impossible.push_back(full);
  }
  return out;
}

}  // namespace migchan::proofs
