#include "proofs/verify.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <thread>

#include "proofs/brute.h"

namespace migchan::proofs {

namespace {

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::vector<unsigned> proposed_sets(const brute::outcome& b, property p) {
  std::vector<unsigned> out;
  const unsigned all = (1u << assumption_count) - 1;
  for (unsigned size = 0; size <= assumption_count; ++size)
    for (unsigned m = 0; m <= all; ++m) {
      if (static_cast<unsigned>(__builtin_popcount(m)) != size || b.refuted(p, m)) continue;
      if (std::none_of(out.begin(), out.end(), [&](unsigned k) { return (m & k) == k; })) out.push_back(m);
    }
  return out;
}

}  // namespace

classifier_result verify_table(const table& t, const verify_options& o) {
  const auto t0 = std::chrono::steady_clock::now();
  classifier_result r;
  r.t = &t;
  r.single = analyse(t);
  const auto oracle = brute::enumerate(t, o.oracle_channels);
  query_options qo = o.z3;
  qo.max_channels = o.max_channels;
  for (std::size_t pi = 0; pi < property_count; ++pi) {
    const auto t1 = std::chrono::steady_clock::now();
    const auto p = static_cast<property>(pi);
    property_result pr;
    pr.prop = p;
    query q(t, p, qo);
    // Every proposed set must hold for all N, not just the oracle's. The
    // oracle knows nothing of --caps/--transport restrictions: Z3 alone then.
    const bool restricted = qo.caps || qo.uri;
    if (restricted) pr.oracle_missed = true;
    else for (unsigned m : proposed_sets(oracle, p)) {
      const auto res = q.check(m);
      if (res.answer == smt::answer::unsat) pr.minimal_sets.push_back(m);
      else if (res.answer == smt::answer::sat) pr.oracle_missed = true;
      else pr.unknown = res.reason;
    }
    if (pr.oracle_missed) {
      // Rare: a counterexample needs more channels than the oracle tried.
      pr.minimal_sets = check(t, p, o.assumed, true, qo).minimal_sets;
      if (restricted) pr.oracle_missed = false;
    }
    // A set of assumptions in force holds iff it contains a proved minimal set.
    pr.refuted = std::none_of(pr.minimal_sets.begin(), pr.minimal_sets.end(),
                              [&](unsigned k) { return (o.assumed & k) == k; });
    if (pr.refuted) {
      // Start from the oracle's shortest trace; Z3 then only has to show that
      // no shorter one exists for any N (or find it).
      if (const auto* w = restricted ? nullptr : oracle.shortest_under(p, o.assumed)) {
        counterexample cx{w->src, w->dst, w->steps, w->natural, static_cast<unsigned>(w->steps.size())};
        auto shorter = q.shortest(o.assumed, cx.arrivals);
        pr.trace = shorter ? std::move(*shorter) : std::move(cx);
      } else {
        pr.trace = q.shortest(o.assumed);
      }
    }
    pr.seconds = since(t1);
    r.results.push_back(std::move(pr));
  }
  r.seconds = since(t0);
  return r;
}

std::vector<classifier_result> verify_tables(const std::vector<const table*>& tables, const verify_options& o,
                                             unsigned threads) {
  // Each table on a new thread, hence in a fresh Z3 context: what Z3 answers
  // then does not depend on which tables ran before on the same thread, so the
  // output is the same however the tables are scheduled.
  std::vector<classifier_result> out(tables.size());
  std::vector<std::exception_ptr> errors(tables.size());
  // Larger tables take longer: start them first so no core idles at the end.
  std::vector<std::size_t> order(tables.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return tables[a]->rules.size() > tables[b]->rules.size(); });
  std::atomic<std::size_t> next{0};
  const auto worker = [&] {
    for (std::size_t k; (k = next++) < order.size();) {
      const std::size_t i = order[k];
      std::thread([&, i] {
        try {
          out[i] = verify_table(*tables[i], o);
        } catch (...) {
          errors[i] = std::current_exception();
        }
      }).join();
    }
  };
  std::vector<std::thread> pool;
  for (unsigned w = 0; w < std::max(1u, threads); ++w) pool.emplace_back(worker);
  for (auto& th : pool) th.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
  return out;
}

}  // namespace migchan::proofs
