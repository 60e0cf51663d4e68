#include "proofs/verify.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <functional>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>

#include "proofs/brute.h"
#include "proofs/children.h"

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
  table_query all(t, qo);
  for (std::size_t pi = 0; pi < property_count; ++pi) {
    const auto t1 = std::chrono::steady_clock::now();
    const auto p = static_cast<property>(pi);
    property_result pr;
    pr.prop = p;
    // Every proposed set must hold for all N, not just the oracle's. The
    // oracle knows nothing of --caps/--transport restrictions: Z3 alone then.
    const bool restricted = qo.caps || qo.uri;
    if (restricted) pr.oracle_missed = true;
    else {
      // The proposed sets in one search; one by one only if some set fails.
      const auto proposed = proposed_sets(oracle, p);
      if (proposed.size() > 1 && all.check_each(p, proposed).answer == smt::answer::unsat) pr.minimal_sets = proposed;
      else
        for (unsigned m : proposed) {
          const auto res = all.check(p, m);
          if (res.answer == smt::answer::unsat) pr.minimal_sets.push_back(m);
          else if (res.answer == smt::answer::sat) pr.oracle_missed = true;
          else pr.unknown = res.reason;
        }
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
        auto shorter = all.shortest(p, o.assumed, cx.arrivals);
        pr.trace = shorter ? std::move(*shorter) : std::move(cx);
      } else {
        pr.trace = all.shortest(p, o.assumed);
      }
    }
    pr.seconds = since(t1);
    r.results.push_back(std::move(pr));
  }
  r.seconds = since(t0);
  if (o.single_arrival) r.arrivals = check_single(t);
  return r;
}

namespace {

// Results cross a pipe from a child process as plain bytes: every field is an
// integer, a bool, or a vector/string of them.
static_assert(std::is_trivially_copyable_v<trace_step<cd>> && std::is_trivially_copyable_v<sender_config<cd>> &&
              std::is_trivially_copyable_v<dest_config<cd>> && std::is_trivially_copyable_v<implicit_default> &&
              std::is_trivially_copyable_v<overlap>);

struct writer {
  std::string out;
  template <class T> void pod(const T& v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); }
  template <class T> void vec(const std::vector<T>& v) {
    pod(v.size());
    out.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
  }
  void str(const std::string& v) {
    pod(v.size());
    out += v;
  }
};

struct reader {
  std::string_view in;
  template <class T> T pod() {
    if (in.size() < sizeof(T)) throw std::runtime_error("verify: a worker's result is cut short");
    T v;
    std::memcpy(&v, in.data(), sizeof v);
    in.remove_prefix(sizeof v);
    return v;
  }
  template <class T> std::vector<T> vec() {
    const auto n = pod<std::size_t>();
    if (n > in.size() / sizeof(T)) throw std::runtime_error("verify: a worker's result is cut short");
    std::vector<T> v(n);
    if (n != 0) std::memcpy(v.data(), in.data(), n * sizeof(T));  // an empty vector's data() may be null
    in.remove_prefix(n * sizeof(T));
    return v;
  }
  std::string str() {
    const auto v = vec<char>();
    return {v.begin(), v.end()};
  }
};

std::string encode(const classifier_result& r) {
  writer w;
  w.pod(r.seconds);
  w.pod(r.results.size());
  for (const auto& p : r.results) {
    w.pod(p.prop), w.pod(p.refuted), w.pod(p.oracle_missed), w.pod(p.seconds);
    w.vec(p.minimal_sets);
    w.str(p.unknown);
    w.pod(p.trace.has_value());
    if (p.trace)
      w.pod(p.trace->src), w.pod(p.trace->dst), w.vec(p.trace->steps), w.vec(p.trace->natural),
          w.pod(p.trace->arrivals);
  }
  w.pod(r.arrivals.has_value());
  if (const auto& a = r.arrivals) {
    w.pod(a->gap.has_value());
    if (a->gap) w.pod(*a->gap);
    w.pod(a->dead.size());
    for (const auto& d : a->dead) w.pod(d.row), w.pod(d.unmatchable), w.vec(d.blockers);
    w.vec(a->implicit_defaults), w.vec(a->overlaps), w.pod(a->overlaps_skipped);
    w.str(a->unknown), w.pod(a->queries), w.pod(a->seconds);
  }
  return w.out;
}

classifier_result decode(const table& t, std::string_view bytes) {
  reader r{bytes};
  classifier_result c;
  c.t = &t;
  c.single = analyse(t);
  c.seconds = r.pod<double>();
  const auto n = r.pod<std::size_t>();
  for (std::size_t i = 0; i < n; ++i) {
    property_result p;
    p.prop = r.pod<property>(), p.refuted = r.pod<bool>(), p.oracle_missed = r.pod<bool>(), p.seconds = r.pod<double>();
    p.minimal_sets = r.vec<unsigned>();
    p.unknown = r.str();
    if (r.pod<bool>()) {
      counterexample cx;
      cx.src = r.pod<sender_config<cd>>(), cx.dst = r.pod<dest_config<cd>>();
      cx.steps = r.vec<trace_step<cd>>(), cx.natural = r.vec<trace_step<cd>>();
      cx.arrivals = r.pod<unsigned>();
      p.trace = std::move(cx);
    }
    c.results.push_back(std::move(p));
  }
  if (r.pod<bool>()) {
    single_result a;
    if (r.pod<bool>()) a.gap = r.pod<observation>();
    const auto dead = r.pod<std::size_t>();
    for (std::size_t i = 0; i < dead; ++i) {
      dead_rule d;
      d.row = r.pod<std::size_t>(), d.unmatchable = r.pod<bool>(), d.blockers = r.vec<std::size_t>();
      a.dead.push_back(std::move(d));
    }
    a.implicit_defaults = r.vec<implicit_default>(), a.overlaps = r.vec<overlap>(), a.overlaps_skipped = r.pod<bool>();
    a.unknown = r.str(), a.queries = r.pod<unsigned>(), a.seconds = r.pod<double>();
    c.arrivals = std::move(a);
  }
  return c;
}

}  // namespace

std::vector<classifier_result> verify_tables(const std::vector<const table*>& tables, const verify_options& o,
                                             unsigned workers) {
  // Each table in a child process of its own, with a fresh Z3 context: Z3
  // 4.8.12 crashed with two contexts busy in one process, and a fresh context
  // per table makes the answers independent of scheduling. The largest tables
  // go first so no core idles at the end.
  std::vector<std::size_t> order(tables.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return tables[a]->rules.size() > tables[b]->rules.size(); });
  std::vector<classifier_result> out(tables.size());
  if (workers <= 1) {  // still a fresh context per table: a new thread each
    for (std::size_t i : order) {
      std::exception_ptr error;
      std::thread([&] {
        try {
          out[i] = verify_table(*tables[i], o);
        } catch (...) {
          error = std::current_exception();
        }
      }).join();
      if (error) std::rethrow_exception(error);
    }
    return out;
  }
  std::vector<std::function<std::string()>> jobs;
  for (const std::size_t i : order) jobs.push_back([&, i] { return encode(verify_table(*tables[i], o)); });
  const auto bytes = run_in_children(jobs, workers, [&](std::size_t j) { return std::string(tables[order[j]]->name); });
  for (std::size_t j = 0; j < order.size(); ++j) out[order[j]] = decode(*tables[order[j]], bytes[j]);
  return out;
}

}  // namespace migchan::proofs
