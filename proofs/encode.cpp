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

// Every property of one table over one symbolic trace: the properties differ
// only in which configurations they quantify over and in their violation, each
// switched on by a named assumption of its own, so Z3 preprocesses the trace
// once and keeps what it learns between the questions.
struct table_query::impl {
  const table& t;
  query_options opts;
  smt::solver z;
  symbolic a;
  std::vector<arrival<S>> natural_in;
  std::vector<trace_step<S>> natural;
  expr total;

  static std::string guard_of(property p) { return "property:" + std::string(migchan::name(p)); }

  impl(const table& tab, const query_options& o) : t(tab), opts(o) {
    a.src = sender_vars("src.");
    a.dst = dest_vars("dst.");
    constrain_configs(z, {&t}, a.src, a.dst, o.max_channels, false);
    if (o.caps) {
      const auto& c = *o.caps;
      z.add(a.src.multifd == c[0] && a.src.postcopy_ram == c[1] && a.src.postcopy_preempt == c[2] &&
            a.src.mapped_ram == c[3]);
    }
    if (o.uri) z.add(a.src.transport == static_cast<int>(*o.uri));
    const auto start = initial_state<S>(a.src, a.dst);
    a.in = arrival_vars(o.events, a.src, "e");
    a.steps = run_symbolic(z, t, a.dst, start, a.in, "e", a.final_state);
    z.add(sender_can_produce<S>(&t, a.src, a.dst, a.steps, a.final_state));
    // In natural order main comes first, so the multifd channels form one run
    // (split at most once) and preempt follows: four events suffice.
    dest_state<S> nat_final;
    natural_in = arrival_vars(std::min(o.events, 4), a.src, "n");
    natural = run_symbolic(z, t, a.dst, start, natural_in, "n", nat_final);
    const auto like = dest_like(a.src, "dst.");
    const expr configured_alike = a.dst.multifd == like.multifd && a.dst.postcopy_ram == like.postcopy_ram &&
                                  a.dst.postcopy_preempt == like.postcopy_preempt &&
                                  a.dst.mapped_ram == like.mapped_ram && a.dst.channels == like.channels;
    for (std::size_t pi = 0; pi < property_count; ++pi) {
      const auto p = static_cast<property>(pi);
      expr in_scope = violates<S>(p, a.src, a.dst, a.steps, a.final_state, natural);
      if (about_match(p)) in_scope = in_scope && configured_alike;
      if (about_mismatch(p)) in_scope = in_scope && !same_caps<S>(a.src, a.dst);
      if (p == property::order_independent) {
        // The same channels in natural order: a preempt channel sends the same first bytes in both.
        in_scope = in_scope && sender_can_produce<S>(&t, a.src, a.dst, natural, nat_final) && natural_order<S>(natural);
        const expr pm = expr::int_var("preempt_magic");
        for (const auto* tr : {&a.steps, &natural})
          for (const auto& st : *tr)
            in_scope = in_scope &&
                       implies(st.in.present && st.in.kind == int(channel_kind::preempt), st.in.magic == pm);
      }
      z.add(in_scope, guard_of(p));
    }
    for (std::size_t i = 0; i < assumption_count; ++i) {
      const auto as = static_cast<assumption>(i);
      z.add(holds<S>(as, a.src, a.dst, a.steps), std::string(migchan::name(as)));
    }
    total = channels_of(a.in);
  }

  std::vector<std::string> names(property p, unsigned assumed) const {
    // configs-match says nothing about mismatch-rejected: held, not assumed.
    if (about_mismatch(p)) assumed &= ~(1u << static_cast<unsigned>(assumption::configs_match));
    auto n = names_of(assumed);
    n.push_back(guard_of(p));
    return n;
  }

  std::string query_name(property p) const { return std::string(t.name) + ":" + std::string(migchan::name(p)); }

  counterexample read(property p) const {
    counterexample cx;
    cx.src = read_config(z, a.src);
    cx.dst = read_config(z, a.dst);
    cx.steps = replay_concrete(z, t, cx.src, cx.dst, a.in);
    if (p == property::order_independent) cx.natural = replay_concrete(z, t, cx.src, cx.dst, natural_in);
    for (const auto& st : cx.steps) cx.arrivals += static_cast<unsigned>(st.in.count);
    return cx;
  }
};

table_query::table_query(const table& t, const query_options& o) : p_(std::make_unique<impl>(t, o)) {}
table_query::~table_query() = default;
table_query::table_query(table_query&&) noexcept = default;

smt::result table_query::check(property p, unsigned assumed) {
  return p_->z.check_assuming(p_->query_name(p), p_->names(p, assumed), p_->opts.timeout_ms);
}

smt::result table_query::check_each(property p, const std::vector<unsigned>& sets) {
  std::vector<std::vector<std::string>> each;
  for (unsigned m : sets) {
    auto n = p_->names(p, m);
    n.pop_back();  // the property's guard, common to all
    each.push_back(std::move(n));
  }
  return p_->z.check_assuming_any(p_->query_name(p), {impl::guard_of(p)}, each, p_->opts.timeout_ms);
}

std::optional<counterexample> table_query::shortest(property p, unsigned assumed, unsigned fewer_than) {
  auto& z = p_->z;
  const auto names = p_->names(p, assumed);
  std::optional<counterexample> best;
  // Ask for strictly fewer channels until Z3 says there are none.
  for (unsigned bound = fewer_than;;) {
    z.push();
    if (bound > 0) z.add(p_->total < static_cast<int>(bound));
    const auto r = z.check_assuming(p_->query_name(p) + ":shortest", names, p_->opts.timeout_ms);
    const bool found = r.answer == smt::answer::sat;
    if (found) best = p_->read(p);
    z.pop();
    if (!found) return best;
    bound = best->arrivals;
  }
}

query::query(const table& t, property p, const query_options& o) : q_(t, o), p_(p) {}

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
