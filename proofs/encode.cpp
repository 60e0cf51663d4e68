#include "proofs/encode.h"

#include <algorithm>

namespace migchan::proofs {

namespace {

using smt::expr;

struct symbolic {
  sender_config<S> src;
  dest_config<S> dst;
  std::vector<arrival<S>> in;
  std::vector<trace_step<S>> steps;
  dest_state<S> final_state;
};

// Reads the arrivals from the model and runs them again concretely: the trace
// we print is the concrete model's, so an encoding slip cannot hide in it.
std::vector<trace_step<cd>> replay_concrete(const smt::solver& z, const table& t, const sender_config<cd>& s,
                                            const dest_config<cd>& d, const std::vector<arrival<S>>& in) {
  auto tr = read_arrivals(z, in, s.transport);
  run<cd>(t, d, initial_state<cd>(s, d), tr);
  return tr;
}

std::vector<std::string> names_of(unsigned mask) {
  std::vector<std::string> out;
  for (std::size_t a = 0; a < assumption_count; ++a)
    if ((mask >> a) & 1u) out.emplace_back(name(static_cast<assumption>(a)));
  return out;
}

}  // namespace

std::vector<arrival<cd>> expand(const std::vector<trace_step<cd>>& steps) {
  std::vector<arrival<cd>> out;
  for (const auto& st : steps)
    for (int k = 0; k < st.in.count; ++k) {
      auto one = st.in;
      one.count = 1;
      out.push_back(one);
    }
  return out;
}

struct query::impl {
  const table& t;
  property prop;
  query_options opts;
  std::string name;
  smt::solver z;
  symbolic a;
  std::vector<arrival<S>> natural_in;
  std::vector<trace_step<S>> natural;
  expr total;

  impl(const table& tab, property p, const query_options& o)
      : t(tab), prop(p), opts(o), name(std::string(tab.name) + ":" + std::string(migchan::name(p))) {
    a.src = sender_vars("src.");
    a.dst = !about_match(p) ? dest_vars("dst.") : dest_like(a.src, "dst.");
    constrain_configs(z, {&t}, a.src, a.dst, o.max_channels, about_mismatch(p));
    if (o.caps) {
      const auto& c = *o.caps;
      z.add(a.src.multifd == c[0] && a.src.postcopy_ram == c[1] && a.src.postcopy_preempt == c[2] &&
            a.src.mapped_ram == c[3]);
    }
    if (o.uri) z.add(a.src.transport == static_cast<int>(*o.uri));
    const auto start = initial_state<S>(a.src, a.dst);
    a.in = arrival_vars(o.events, a.src, "e");
    a.steps = run_symbolic(z, t, a.dst, start, a.in, "e", a.final_state);
    z.add(sender_can_produce<S>(a.src, a.dst, a.steps, a.final_state));
    if (p == property::order_independent) {
      dest_state<S> nat_final;
      // In natural order main comes first, so the multifd channels form one run
      // (split at most once) and preempt follows: four events suffice.
      natural_in = arrival_vars(std::min(o.events, 4), a.src, "n");
      natural = run_symbolic(z, t, a.dst, start, natural_in, "n", nat_final);
      z.add(sender_can_produce<S>(a.src, a.dst, natural, nat_final));
      z.add(natural_order<S>(natural));
      // Same channels, other order: a preempt channel sends the same first bytes in both.
      const expr pm = expr::int_var("preempt_magic");
      for (const auto* tr : {&a.steps, &natural})
        for (const auto& st : *tr)
          z.add(implies(st.in.present && st.in.kind == int(channel_kind::preempt), st.in.magic == pm));
    }
    z.add(violates<S>(p, a.src, a.dst, a.steps, a.final_state, natural));
    for (std::size_t i = 0; i < assumption_count; ++i) {
      const auto as = static_cast<assumption>(i);
      // configs-match says nothing about mismatch-rejected: held, not assumed.
      const bool moot = as == assumption::configs_match && about_mismatch(p);
      z.add(moot ? expr::boolean(true) : holds<S>(as, a.src, a.dst, a.steps), std::string(migchan::name(as)));
    }
    total = channels_of(a.in);
  }

  counterexample read() const {
    counterexample cx;
    cx.src = read_config(z, a.src);
    cx.dst = read_config(z, a.dst);
    cx.steps = replay_concrete(z, t, cx.src, cx.dst, a.in);
    if (!natural.empty()) cx.natural = replay_concrete(z, t, cx.src, cx.dst, natural_in);
    for (const auto& st : cx.steps) cx.arrivals += static_cast<unsigned>(st.in.count);
    return cx;
  }
};

query::query(const table& t, property p, const query_options& o) : p_(std::make_unique<impl>(t, p, o)) {}
query::~query() = default;
query::query(query&&) noexcept = default;

smt::result query::check(unsigned assumed) {
  return p_->z.check_assuming(p_->name, names_of(assumed), p_->opts.timeout_ms);
}

std::optional<counterexample> query::shortest(unsigned assumed, unsigned fewer_than) {
  auto& z = p_->z;
  const auto names = names_of(assumed);
  std::optional<counterexample> best;
  // Ask for strictly fewer channels until Z3 says there are none.
  for (unsigned bound = fewer_than;;) {
    z.push();
    if (bound > 0) z.add(p_->total < static_cast<int>(bound));
    const auto r = z.check_assuming(p_->name + ":shortest", names, p_->opts.timeout_ms);
    const bool found = r.answer == smt::answer::sat;
    if (found) best = p_->read();
    z.pop();
    if (!found) return best;
    bound = best->arrivals;
  }
}

check_result check(const table& t, property p, unsigned assumed, bool want_minimal_sets, const query_options& o) {
  query q(t, p, o);
  check_result r;
  r.verdict = q.check(assumed);
  if (r.verdict.answer == smt::answer::sat) r.trace = q.shortest(assumed);
  if (want_minimal_sets) {
    const unsigned all = (1u << assumption_count) - 1;
    std::vector<unsigned> holds_sets, fails_sets;
    for (unsigned size = 0; size <= assumption_count; ++size)
      for (unsigned m = 0; m <= all; ++m) {
        if (static_cast<unsigned>(__builtin_popcount(m)) != size) continue;
        if (std::any_of(holds_sets.begin(), holds_sets.end(), [&](unsigned k) { return (m & k) == k; })) continue;
        if (std::any_of(fails_sets.begin(), fails_sets.end(), [&](unsigned k) { return (k & m) == m; })) continue;
        const auto res = q.check(m);
        if (res.answer == smt::answer::unsat) holds_sets.push_back(m);
        else if (res.answer == smt::answer::sat) fails_sets.push_back(m);
      }
    r.minimal_sets = holds_sets;
  }
  return r;
}

}  // namespace migchan::proofs
