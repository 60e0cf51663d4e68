#include "proofs/diff.h"

#include <chrono>

#include "proofs/encode.h"
#include "proofs/single.h"

namespace migchan::proofs {

namespace {

using smt::expr;

// The guard that matches exactly `w` (derived columns included).
guard point(const observation& w) {
  const auto b = [](bool v) { return v ? yes : no; };
  const auto g = w.generic();
  guard p;
  p.mm_done = b(mm_done<cd>(g));
  p.peekable = b(peekable<cd>(g));
  for_each_field(g, [&](field f, int v) {
    p.set(column_of(f), info(f).boolean() ? b(v != 0) : static_cast<mask>(1u << v));
  });
  return p;
}

int row_of(const table& t, const observation& w) {
  if (!valid<cd>(t, w.generic())) return refused;
  return classify<cd>(t, w.generic()).rule;
}

// Raw columns first, so that a derived column fixed at the witness's value
// (mm_done, peekable) can stand for the raw ones it implies; then the derived
// ones, which go when the raw ones left say enough.
constexpr column widen_order[] = {
    column::has_main,     column::all_multifd,      column::has_preempt, column::multifd,
    column::postcopy_ram, column::postcopy_preempt, column::mapped_ram,  column::state,
    column::magic,        column::transport,        column::mm_done,     column::peekable,
};

struct tracker {
  std::string unknown;
  smt::answer operator()(const smt::result& r) {
    if (r.answer == smt::answer::unknown && unknown.empty()) unknown = r.query + ": " + r.reason;
    return r.answer;
  }
};

void find_regions(const table& a, const table& b, const diff_options& opt, diff_result& r, tracker& note) {
  const auto o = observation_vars("o.");
  const auto va = valid<S>(a, o), vb = valid<S>(b, o);
  const auto da = classify<S>(a, o), db = classify<S>(b, o);
  const auto la = ite(va, da.rule, expr::integer(refused)), lb = ite(vb, db.rule, expr::integer(refused));
  const auto ta = ite(va, da.then, expr::integer(refused)), tb = ite(vb, db.then, expr::integer(refused));
  const auto space = va || vb;
  const std::string q = std::string(a.name) + " vs " + std::string(b.name) + ":";

  smt::solver search, inside;
  search.add(space && ta != tb);
  inside.add(space);
  for (;;) {
    const auto found = note(search.check(q + "region", opt.timeout_ms));
    if (found != smt::answer::sat) break;
    if (r.regions.size() == opt.max_regions) {
      r.truncated = true;
      break;
    }
    region reg;
    reg.witness = typical_observation(search, o, q + "region", opt.timeout_ms);
    // The pair of rows the typical witness lands on; its region is grown.
    reg.rule_a = row_of(a, reg.witness);
    reg.rule_b = row_of(b, reg.witness);
    const auto same = la == reg.rule_a && lb == reg.rule_b;
    // Is every valid observation in g decided by the same two rows?
    const auto contained = [&](const guard& g) {
      inside.push();
      inside.add(matches<S>(g, o) && !same);
      const bool yes_ = note(inside.check(q + "region:grow", opt.timeout_ms)) == smt::answer::unsat;
      inside.pop();
      return yes_;
    };
    guard g = point(reg.witness);
    for (const column c : widen_order) {
      guard wider = g;
      wider.set(c, any);
      if (contained(wider)) {
        g = wider;
        continue;
      }
      if (info(c).size == 2) continue;
      for (std::size_t v = 0; v < info(c).size; ++v) {
        if ((g.get(c) >> v) & 1u) continue;
        wider = g;
        wider.set(c, static_cast<mask>(g.get(c) | (1u << v)));
        if (contained(wider)) g = wider;
      }
    }
    reg.where = g;
    r.regions.push_back(reg);
    search.add(!matches<S>(g, o));
  }
}

// Returns true when Z3 answered (sat or unsat).
bool find_sequence(const table& a, const table& b, const diff_options& opt, bool mismatch, diff_result& r,
                   tracker& note) {
  smt::solver z;
  const auto src = sender_vars("src.");
  const dest_config<S> dst = mismatch ? dest_vars("dst.") : dest_like(src, "dst.");
  constrain_configs(z, {&a, &b}, src, dst, opt.max_channels, mismatch);
  const auto in = arrival_vars(opt.events, src, "e");
  const auto init = initial_state<S>(src, dst);
  dest_state<S> fa, fb;
  const auto ra = run_symbolic(z, a, dst, init, in, "a", fa);
  const auto rb = run_symbolic(z, b, dst, init, in, "b", fb);
  // Arrivals the source can produce against either destination.
  z.add(sender_can_produce<S>(&a, src, dst, ra, fa) && sender_can_produce<S>(&b, src, dst, rb, fb));
  for (std::size_t i = 0; i < assumption_count; ++i)
    if ((opt.assumed >> i) & 1u)
      z.add(holds<S>(static_cast<assumption>(i), src, dst, std::span<const trace_step<S>>(ra)));
  z.add(!(assignment_of<S>(std::span<const trace_step<S>>(ra)) ==
          assignment_of<S>(std::span<const trace_step<S>>(rb))));
  const auto total = channels_of(in);
  const auto res = z.minimize(std::string(a.name) + " vs " + std::string(b.name) +
                                  (mismatch ? ":sequence:mismatched" : ":sequence"),
                              total, opt.timeout_ms);
  if (note(res) != smt::answer::sat) return res.answer == smt::answer::unsat;
  if (!res.reason.empty() && r.unknown.empty()) r.unknown = res.query + ": " + res.reason;

  divergence dv;
  dv.mismatched = mismatch;
  dv.config = read_config(z, src);
  dv.dest = read_config(z, dst);
  const dest_config<cd>& d = dv.dest;
  dv.a = read_arrivals(z, in, dv.config.transport);
  for (const auto& st : dv.a) dv.arrivals += static_cast<unsigned>(st.in.count);
  dv.b = dv.a;
  // The trace shown is the concrete model's run, so an encoding slip cannot hide in it.
  const auto start = initial_state<cd>(dv.config, d);
  run<cd>(a, d, start, std::span<trace_step<cd>>(dv.a));
  run<cd>(b, d, start, std::span<trace_step<cd>>(dv.b));
  if (assignment_of<cd>(std::span<const trace_step<cd>>(dv.a)) ==
      assignment_of<cd>(std::span<const trace_step<cd>>(dv.b))) {
    if (r.unknown.empty()) r.unknown = res.query + ": the concrete replay of Z3's sequence does not diverge";
    return true;
  }
  r.sequence = std::move(dv);
  return true;
}

}  // namespace

std::optional<verdict> decide(const table& t, const observation& o) {
  if (!valid<cd>(t, o.generic())) return std::nullopt;
  return classify(t, o).then;
}

diff_result diff(const table& a, const table& b, const diff_options& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  diff_result r;
  tracker note;
  find_regions(a, b, opt, r, note);
  const bool same_sem = same_steps(a.sem, b.sem);
  const bool one_function = same_sem && r.regions.empty() && !r.truncated && note.unknown.empty();
  if (!one_function || opt.always_search_sequences)
    if (find_sequence(a, b, opt, false, r, note) && !r.sequence) find_sequence(a, b, opt, true, r, note);
  if (r.unknown.empty()) r.unknown = note.unknown;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace migchan::proofs
