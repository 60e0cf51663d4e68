// Proof performance. Not a test: prints
//   (a) the wall time of verifying every built-in classifier (verify_table,
//       default options, what `migchan verify --all` does, in one process); target
//       at most 1 s wall and 2 s CPU;
//   (b) each (classifier, property) solve time;
//   (c) how the time grows with the largest multifd-channels N (1, 2, 4, ...,
//       128, 255): it should be flat, never factorial;
//   (d) the brute-force oracle's time for N = 1..5 beside Z3's, and its growth
//       beyond, so the gap shows.
//
// Usage: verify_bench [repetitions]   (default 3; each figure is the median)
//
// Figures are wall time and, in parentheses where shown, the process's CPU
// time: on a shared machine the CPU time is the steadier of the two.
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "model/builtin.h"
#include "proofs/brute.h"
#include "proofs/encode.h"
#include "proofs/verify.h"

using namespace migchan;

namespace {

double cpu_now() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

struct sample {
  double wall = 0, cpu = 0;
};

template <class F> sample timed(F&& f) {
  const auto w0 = std::chrono::steady_clock::now();
  const double c0 = cpu_now();
  f();
  return {std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count(), cpu_now() - c0};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}
sample median(const std::vector<sample>& v) {
  std::vector<double> w, c;
  for (const auto& s : v) w.push_back(s.wall), c.push_back(s.cpu);
  return {median(w), median(c)};
}

std::string str(std::string_view s) { return std::string(s); }
const unsigned masks = 1u << assumption_count;

std::vector<proofs::classifier_result> verify_all(const proofs::verify_options& o) {
  std::vector<proofs::classifier_result> out;
  for (const table* t : builtin_tables) out.push_back(proofs::verify_table(*t, o));
  return out;
}

// Z3 alone: one query per (classifier, property), asked every assumption set.
sample z3_all_masks(int max_channels, std::size_t& unknowns) {
  proofs::query_options qo;
  qo.max_channels = max_channels;
  return timed([&] {
    for (const table* t : builtin_tables)
      for (std::size_t p = 0; p < property_count; ++p) {
        proofs::query q(*t, static_cast<property>(p), qo);
        for (unsigned m = 0; m < masks; ++m) unknowns += q.check(m).answer == smt::answer::unknown;
      }
  });
}

}  // namespace

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::max(1, std::atoi(argv[1])) : 3;
  std::printf(
      "verify_bench: %zu classifiers x %zu properties x %u assumption sets; median of %d runs;\n"
      "wall seconds, CPU seconds in parentheses\n\n",
      builtin_tables.size(), property_count, masks, reps);

  // Warm up: the Z3 context is created on first use.
  (void)proofs::verify_table(classifiers::reference, {});

  // (a) + (b)
  std::vector<sample> totals;
  std::vector<std::vector<double>> per_classifier(builtin_tables.size());
  std::vector<std::vector<std::vector<double>>> per_property(builtin_tables.size(),
                                                             std::vector<std::vector<double>>(property_count));
  std::vector<proofs::classifier_result> last;
  for (int r = 0; r < reps; ++r) {
    totals.push_back(timed([&] { last = verify_all({}); }));
    for (std::size_t c = 0; c < last.size(); ++c) {
      per_classifier[c].push_back(last[c].seconds);
      for (const auto& pr : last[c].results) per_property[c][static_cast<std::size_t>(pr.prop)].push_back(pr.seconds);
    }
  }
  const sample total = median(totals);
  std::printf("(a) every built-in classifier through verify_table (default options: N <= 255, oracle N <= 4)\n");
  std::printf("    %.3f s (%.3f s CPU); target <= 1 s wall, <= 2 s CPU: %s\n\n", total.wall, total.cpu,
              total.wall <= 1.0 && total.cpu <= 2.0 ? "met"
              : total.cpu <= 2.0                    ? "met in CPU time, missed in wall time (machine busy?)"
                                                    : "MISSED");

  std::printf(
      "(b) wall seconds per (classifier, property): the oracle's proposed sets proved by Z3 (and the\n"
      "    subset search if the oracle missed one), plus the shortest counterexample when refuted\n");
  std::printf("    %-10s %7s", "", "total");
  for (std::size_t p = 0; p < property_count; ++p) std::printf(" %17s", str(name(static_cast<property>(p))).c_str());
  std::printf(" %7s\n", "other");
  for (std::size_t c = 0; c < builtin_tables.size(); ++c) {
    double props = 0;
    const double ct = median(per_classifier[c]);
    std::printf("    %-10s %7.3f", str(builtin_tables[c]->name).c_str(), ct);
    for (std::size_t p = 0; p < property_count; ++p) {
      const double s = median(per_property[c][p]);
      props += s;
      const auto& pr = last[c].results[p];
      std::printf(" %6.3f %-10s", s, !pr.unknown.empty() ? "unknown" : pr.refuted ? "refuted" : "proved");
    }
    std::printf(" %7.3f\n", ct - props);
  }
  std::printf("    (verdicts with no assumption; 'other' is analyse() and the brute-force oracle at N <= 4)\n\n");

  // Where (b)'s time goes, summed over the classifiers: building the query
  // (the symbolic run of step() and the properties), one check with no
  // assumption, and the shortest counterexample under no assumption.
  std::printf("    where the time goes, CPU seconds summed over the classifiers:\n");
  std::printf("    %-18s %9s %14s %14s %9s\n", "", "build", "check({})", "shortest({})", "events");
  for (std::size_t p = 0; p < property_count; ++p) {
    const auto prop = static_cast<property>(p);
    std::vector<sample> b, c, sh;
    for (int r = 0; r < reps; ++r) {
      sample sb, sc, ss;
      for (const table* t : builtin_tables) {
        std::optional<proofs::query> q;
        const auto tb = timed([&] { q.emplace(*t, prop, proofs::query_options{}); });
        smt::answer a{};
        const auto tc = timed([&] { a = q->check(0).answer; });
        const auto ts = timed([&] {
          if (a == smt::answer::sat) (void)q->shortest(0);
        });
        sb.wall += tb.wall, sb.cpu += tb.cpu, sc.wall += tc.wall, sc.cpu += tc.cpu, ss.wall += ts.wall,
            ss.cpu += ts.cpu;
      }
      b.push_back(sb), c.push_back(sc), sh.push_back(ss);
    }
    std::printf("    %-18s %9.3f %14.3f %14.3f %9s\n", str(name(prop)).c_str(), median(b).cpu, median(c).cpu,
                median(sh).cpu, prop == property::order_independent ? "6 + 4" : "6");
  }
  std::printf("\n");

  // (c)
  const std::size_t queries = builtin_tables.size() * property_count * masks;
  std::printf("(c) growth with the largest multifd-channels N\n");
  std::printf("    %5s %22s %8s   %28s %8s %8s\n", "N", "verify_table, all", "vs N=1",
              ("Z3 alone, " + std::to_string(queries) + " checks").c_str(), "vs N=1", "unknown");
  const int ns[] = {1, 2, 4, 8, 16, 32, 64, 128, 255};
  sample v1, z1;
  for (int n : ns) {
    std::vector<sample> vt, zt;
    std::size_t unknowns = 0;
    for (int r = 0; r < reps; ++r) {
      proofs::verify_options o;
      o.max_channels = n;
      vt.push_back(timed([&] { (void)verify_all(o); }));
      zt.push_back(z3_all_masks(n, unknowns));
    }
    const sample v = median(vt), z = median(zt);
    if (n == 1) v1 = v, z1 = z;
    std::printf("    %5d %8.3f s (%7.3f s) %7.2fx   %14.3f s (%7.3f s) %7.2fx %8zu\n", n, v.wall, v.cpu, v.cpu / v1.cpu,
                z.wall, z.cpu, z.cpu / z1.cpu, unknowns);
  }
  std::printf(
      "    (ratios in CPU time; verify_table runs the N <= 4 oracle at every N. 'Z3 alone' is one\n"
      "     query per classifier and property, checked under every assumption set, no oracle)\n\n");

  // (d)
  std::printf("(d) brute force, brute::enumerate(t, n): wall seconds, traces, growth from n-1\n");
  std::printf("    %-10s", "");
  for (int n = 1; n <= 5; ++n) std::printf(" %23s", ("n=" + std::to_string(n)).c_str());
  std::printf(" %15s\n", "n=5 / Z3 N<=255");
  std::vector<double> brute_total(6);
  for (std::size_t c = 0; c < builtin_tables.size(); ++c) {
    const table& t = *builtin_tables[c];
    std::printf("    %-10s", str(t.name).c_str());
    double prev = 0, at5 = 0;
    for (int n = 1; n <= 5; ++n) {
      std::vector<double> bt;
      std::uint64_t traces = 0;
      for (int r = 0; r < reps; ++r) bt.push_back(timed([&] { traces = brute::enumerate(t, n).traces; }).wall);
      const double b = median(bt);
      brute_total[static_cast<std::size_t>(n)] += b;
      char cell[64];
      if (n == 1) std::snprintf(cell, sizeof cell, "%.4f %7llu", b, static_cast<unsigned long long>(traces));
      else std::snprintf(cell, sizeof cell, "%.4f %7llu %4.1fx", b, static_cast<unsigned long long>(traces), b / prev);
      std::printf(" %23s", cell);
      prev = b;
      at5 = b;
    }
    std::printf(" %14.3fx\n", at5 / median(per_classifier[c]));
  }
  std::printf("    %-10s", "all");
  for (int n = 1; n <= 5; ++n) std::printf(" %23.4f", brute_total[static_cast<std::size_t>(n)]);
  std::printf(" %14.3fx\n", brute_total[5] / total.wall);
  std::printf("    (n=5 / Z3: brute force at N <= 5 against verify_table at N <= 255, which also runs the oracle)\n\n");

  // Identical multifd channels are interchangeable, so the orders of one
  // configuration number (N+2)!/N!, not (N+2)!: brute force is polynomial here,
  // but a high-degree one, and 255 channels stay far out of reach.
  std::printf("    beyond n=5, for reference: ");
  const table& ref = classifiers::reference;
  std::vector<std::pair<int, double>> points;
  for (int n : {4, 8, 12, 16}) {
    std::uint64_t traces = 0;
    const double b = timed([&] { traces = brute::enumerate(ref, n).traces; }).wall;
    points.emplace_back(n, b);
    std::printf("n=%d %.3f s (%llu traces)  ", n, b, static_cast<unsigned long long>(traces));
  }
  double ref_seconds = 0;
  for (std::size_t c = 0; c < builtin_tables.size(); ++c)
    if (builtin_tables[c] == &ref) ref_seconds = median(per_classifier[c]);
  const double k = std::log(points.back().second / points[1].second) / std::log(16.0 / 8.0);
  const double at255 = points.back().second * std::pow(255.0 / 16.0, k);
  std::printf(
      "\n    time grows like n^%.1f between n=8 and n=16; n=255 would take about %.0e s (%.0f days);\n"
      "    Z3 proves N <= 255 for reference in %.3f s\n",
      k, at255, at255 / 86400.0, ref_seconds);
  return 0;
}
