#include "proofs/encode.h"

#include <algorithm>

namespace migchan::proofs {

namespace {

using S = smt::domain;
using smt::expr;

struct symbolic {
  sender_config<S> src;
  dest_config<S> dst;
  std::vector<trace_step<S>> steps;
  dest_state<S> final_state;
};

sender_config<S> sender_vars(const std::string& p) {
  return {expr::bool_var(p + "multifd"), expr::bool_var(p + "postcopy_ram"), expr::bool_var(p + "postcopy_preempt"),
          expr::bool_var(p + "mapped_ram"), expr::int_var(p + "transport"), expr::int_var(p + "channels"),
          expr::int_var(p + "gen"), expr::bool_var(p + "recovery")};
}

dest_config<S> dest_vars(const std::string& p) {
  return {expr::bool_var(p + "multifd"), expr::bool_var(p + "postcopy_ram"), expr::bool_var(p + "postcopy_preempt"),
          expr::bool_var(p + "mapped_ram"), expr::int_var(p + "channels")};
}

std::vector<trace_step<S>> run_symbolic(smt::solver& z, const table& t, const sender_config<S>& s,
                                        const dest_config<S>& d, int events, const std::string& p,
                                        dest_state<S>& final_state) {
  std::vector<trace_step<S>> tr(static_cast<std::size_t>(events));
  auto state = initial_state<S>(s, d);
  for (int i = 0; i < events; ++i) {
    const auto n = p + std::to_string(i) + ".";
    auto& st = tr[static_cast<std::size_t>(i)];
    st.in = {expr::bool_var(n + "present"), expr::int_var(n + "kind"), s.transport, expr::int_var(n + "magic"),
             expr::int_var(n + "count")};
    st.before = state;
    st.out = step<S>(t, d, state, st.in);
    st.out.then = [&] { auto v = expr::int_var(n + "then"); z.add(v == st.out.then); return v; }();
    st.out.why = [&] { auto v = expr::int_var(n + "why"); z.add(v == st.out.why); return v; }();
    st.out.next = name_state(z, st.out.next, n + "next.");
    state = st.out.next;
  }
  final_state = state;
  return tr;
}

// The total number of channels a trace carries: what "shortest" minimises.
expr arrivals_of(const std::vector<trace_step<S>>& tr) {
  expr total = expr::integer(0);
  for (const auto& st : tr) total = total + ite(st.in.present, st.in.count, expr::integer(0));
  return total;
}

sender_config<cd> read_config(const smt::solver& z, const sender_config<S>& s) {
  return {z.eval_bool(s.multifd), z.eval_bool(s.postcopy_ram), z.eval_bool(s.postcopy_preempt),
          z.eval_bool(s.mapped_ram), static_cast<int>(z.eval_int(s.transport)),
          static_cast<int>(z.eval_int(s.channels)), static_cast<int>(z.eval_int(s.gen)), z.eval_bool(s.recovery)};
}

dest_config<cd> read_config(const smt::solver& z, const dest_config<S>& d) {
  return {z.eval_bool(d.multifd), z.eval_bool(d.postcopy_ram), z.eval_bool(d.postcopy_preempt),
          z.eval_bool(d.mapped_ram), static_cast<int>(z.eval_int(d.channels))};
}

// Reads the arrivals from the model and runs them again concretely: the trace
// we print is the concrete model's, so an encoding slip cannot hide in it.
std::vector<trace_step<cd>> replay_concrete(const smt::solver& z, const table& t, const sender_config<cd>& s,
                                            const dest_config<cd>& d, const std::vector<trace_step<S>>& sym) {
  std::vector<trace_step<cd>> tr;
  for (const auto& st : sym) {
    if (!z.eval_bool(st.in.present)) break;
    trace_step<cd> c{};
    c.in = {true, static_cast<int>(z.eval_int(st.in.kind)), s.transport, static_cast<int>(z.eval_int(st.in.magic)),
            static_cast<int>(z.eval_int(st.in.count))};
    tr.push_back(c);
  }
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

// Each step's state gets variables of its own, defined equal to what step()
// computed: Z3 then sees K small definitions instead of one term as deep as
// the trace.
dest_state<smt::domain> name_state(smt::solver& z, const dest_state<smt::domain>& s, const std::string& p) {
  using smt::expr;
  const auto b = [&](const expr& e, const char* n) { auto v = expr::bool_var(p + n); z.add(v == e); return v; };
  const auto i = [&](const expr& e, const char* n) { auto v = expr::int_var(p + n); z.add(v == e); return v; };
  return {b(s.has_main, "has_main"), b(s.has_preempt, "has_preempt"), i(s.multifd_count, "multifd_count"),
          i(s.status, "status"), i(s.starts, "starts"), b(s.stalled, "stalled"), b(s.aborted, "aborted"),
          b(s.parked, "parked"), i(s.parked_kind, "parked_kind")};
}

std::vector<arrival<cd>> expand(const std::vector<trace_step<cd>>& steps) {
  std::vector<arrival<cd>> out;
  for (const auto& st : steps)
    for (int k = 0; k < st.in.count; ++k) out.push_back({true, st.in.kind, st.in.transport, st.in.magic, 1});
  return out;
}

struct query::impl {
  const table& t;
  property prop;
  query_options opts;
  std::string name;
  smt::solver z;
  symbolic a;
  std::vector<trace_step<S>> natural;
  expr total;

  impl(const table& tab, property p, const query_options& o)
      : t(tab), prop(p), opts(o), name(std::string(tab.name) + ":" + std::string(migchan::name(p))) {
    a.src = sender_vars("src.");
    a.dst = !about_match(p) ? dest_vars("dst.")
                            : dest_config<S>{a.src.multifd, a.src.postcopy_ram, a.src.postcopy_preempt,
                                             a.src.mapped_ram, a.src.channels};
    z.add(sender_ok<S>(t, a.src));
    z.add(dest_ok<S>(t, a.dst, a.src.transport));
    z.add(a.src.channels <= o.max_channels && a.dst.channels <= o.max_channels);
    // The channel count is meaningless without multifd: fix it, as the oracle does.
    z.add(a.src.multifd || a.src.channels == 1);
    z.add(a.dst.multifd || a.dst.channels == 1);
    z.add(!a.src.recovery || a.dst.postcopy_ram);
    z.add(pair_possible<S>(a.src, a.dst));
    if (about_mismatch(p)) z.add(!same_caps<S>(a.src, a.dst));
    if (o.caps) {
      const auto& c = *o.caps;
      z.add(a.src.multifd == c[0] && a.src.postcopy_ram == c[1] && a.src.postcopy_preempt == c[2] &&
            a.src.mapped_ram == c[3]);
    }
    if (o.uri) z.add(a.src.transport == static_cast<int>(*o.uri));
    a.steps = run_symbolic(z, t, a.src, a.dst, o.events, "e", a.final_state);
    z.add(sender_can_produce<S>(a.src, a.steps, a.final_state));
    if (p == property::order_independent) {
      dest_state<S> nat_final;
      // In natural order main comes first, so the multifd channels form one run
      // (split at most once) and preempt follows: four events suffice.
      natural = run_symbolic(z, t, a.src, a.dst, std::min(o.events, 4), "n", nat_final);
      z.add(sender_can_produce<S>(a.src, natural, nat_final));
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
    total = arrivals_of(a.steps);
  }

  counterexample read() const {
    counterexample cx;
    cx.src = read_config(z, a.src);
    cx.dst = read_config(z, a.dst);
    cx.steps = replay_concrete(z, t, cx.src, cx.dst, a.steps);
    if (!natural.empty()) cx.natural = replay_concrete(z, t, cx.src, cx.dst, natural);
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
