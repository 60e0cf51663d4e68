// Mutation testing of the properties: every single-rule mutant of
// `reference` that changes behaviour must be caught, either by the
// single-arrival `exhaustive` check (analyse() finds a gap) or by a sequence
// property that `reference` satisfies under some assumption set and the mutant
// breaks under that same set. The test prints the kill rate and every
// surviving mutant with what it changes; the target is 100%.
//
// Behaviour is compared over the full raw observation space (every field
// value, as in tests/model/check_test.cpp), not over check.h's class
// representatives: a mutant can split a class the original did not. Two
// tables behave alike when every valid observation gets the same verdict and,
// for a reject, the same error text.
//
// Sequence properties are decided by the brute-force oracle at N <= 4 multifd
// channels (tests/proofs/agreement_test.cpp checks that oracle against Z3).
//
// For each survivor the report says why no property can see it: its
// differences lie only on observations no trace of the model reaches (e.g.
// state=failed, first bytes eof, a second main channel), only in the error
// text of a reject, only in mismatching configurations, or in a matching
// configuration. It also names candidate checks that do not exist yet and
// would kill the survivor; those never count as kills.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <bitset>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "model/builtin.h"
#include "model/check.h"
#include "model/render.h"
#include "proofs/brute.h"
#include "tests/proofs/mutants.h"

using namespace migchan;

namespace {

using cd = concrete_domain;
constexpr int oracle_n = 4;
constexpr unsigned all_masks = 1u << assumption_count;

std::string mask_names(unsigned m) {
  std::string s;
  for (std::size_t a = 0; a < assumption_count; ++a)
    if ((m >> a) & 1u) s += (s.empty() ? "" : ",") + std::string(name(static_cast<assumption>(a)));
  return "{" + s + "}";
}

// A property the original satisfies under `m` and the mutant breaks under `m`;
// the smallest such set first, so the report names the weakest assumptions.
struct kill {
  property p;
  unsigned mask;
};
std::optional<kill> find_kill(const brute::outcome& original, const brute::outcome& mutant) {
  for (unsigned size = 0; size <= assumption_count; ++size)
    for (std::size_t pi = 0; pi < property_count; ++pi)
      for (unsigned m = 0; m < all_masks; ++m) {
        if (static_cast<unsigned>(__builtin_popcount(m)) != size) continue;
        const auto p = static_cast<property>(pi);
        if (!original.refuted(p, m) && mutant.refuted(p, m)) return kill{p, m};
      }
  return std::nullopt;
}

// Observations as dense indices over the raw space.
std::size_t index_of(const observation& o) {
  const unsigned bits = unsigned(o.multifd) | unsigned(o.postcopy_ram) << 1 | unsigned(o.postcopy_preempt) << 2 |
                        unsigned(o.mapped_ram) << 3 | unsigned(o.has_main) << 4 | unsigned(o.all_multifd) << 5 |
                        unsigned(o.has_preempt) << 6;
  return ((bits * enum_size<transport> + std::size_t(o.transport)) * enum_size<mig_status> + std::size_t(o.state)) *
             enum_size<first_bytes> +
         std::size_t(o.magic);
}
constexpr std::size_t raw_space = 128 * enum_size<transport> * enum_size<mig_status> * enum_size<first_bytes>;

observation concrete(const basic_observation<cd>& g) {
  return {g.multifd,  g.postcopy_ram, g.postcopy_preempt, g.mapped_ram,        transport(g.transport),
          g.has_main, g.all_multifd,  g.has_preempt,      mig_status(g.state), first_bytes(g.magic)};
}

// The observations whose classification the destination uses in some trace
// of the sequence model (N <= oracle_n): every arrival it examines (not those
// the listener drops first) and every wake-up of a parked channel, separately
// for matching and mismatching configurations. A mutant that differs from the
// original only outside these sets behaves identically in every trace, so no
// sequence property can see the change.
struct reach {
  std::vector<bool> match, mismatch;
};

// The observation's fields as (name, value) pairs, for saying which field
// value keeps a difference out of every trace.
constexpr std::size_t field_count = 10;
std::array<std::pair<std::string_view, std::string>, field_count> fields(const observation& o) {
  const auto b = [](bool v) { return std::string(v ? "yes" : "no"); };
  return {{{"multifd", b(o.multifd)},
           {"postcopy_ram", b(o.postcopy_ram)},
           {"postcopy_preempt", b(o.postcopy_preempt)},
           {"mapped_ram", b(o.mapped_ram)},
           {"transport", std::string(name(o.transport))},
           {"has_main", b(o.has_main)},
           {"all_multifd", b(o.all_multifd)},
           {"has_preempt", b(o.has_preempt)},
           {"state", std::string(name(o.state))},
           {"magic", std::string(name(o.magic))}}};
}
struct reach_ctx {
  const table* t;
  reach r;
};
reach reachable_observations(const table& t) {
  reach_ctx ctx{&t, {std::vector<bool>(raw_space), std::vector<bool>(raw_space)}};
  brute::visit(
      t, oracle_n,
      [](void* p, const sender_config<cd>& s, const dest_config<cd>& d, std::span<const trace_step<cd>> tr,
         std::span<const trace_step<cd>>, unsigned) {
        auto& c = *static_cast<reach_ctx*>(p);
        auto& seen = same_caps<cd>(s, d) ? c.r.match : c.r.mismatch;
        for (const auto& st : tr) {
          if (!st.in.present || st.before.stalled || st.before.aborted) continue;
          // The listener's drop does not depend on the table: such a classification is never used.
          if (st.out.why != int(cause::listener))
            seen[index_of(concrete(observe<cd>(d, st.before, st.in.transport, st.in.magic)))] = true;
          if (!table_defers(*c.t)) continue;
          // step()'s wake-up looks at the state after this arrival, before the wake-up's own effect.
          auto n = st.out.next;
          const bool by_rule = st.out.why == int(cause::rule);
          n.has_preempt = st.before.has_preempt || (by_rule && st.out.then == int(verdict::preempt));
          n.parked = st.before.parked || (by_rule && st.out.then == int(verdict::defer));
          if (n.parked && !n.stalled && !n.aborted && n.has_main && (!d.multifd || n.multifd_count >= d.channels))
            seen[index_of(concrete(observe<cd>(d, n, int(transport::socket), int(first_bytes::silent))))] = true;
        }
      },
      &ctx);
  return std::move(ctx.r);
}

// Why a surviving mutant survives, from where its differences lie.
enum class survival : std::uint8_t {
  unreached,      // differs only on observations no trace of the model reaches
  text_only,      // every reached difference is a reject with another error text
  mismatch_only,  // differs in verdict only where source and destination configurations differ
  matching,       // differs in verdict in a matching configuration, and no property notices
};
constexpr std::array<std::string_view, 4> survival_names{
    "differs only on observations no trace reaches (N <= 4)", "differs on reached observations only in the reject text",
    "differs in verdict on reached observations only in mismatching configurations",
    "differs in verdict in a matching configuration"};

// Candidate checks that do not exist (yet), evaluated on survivors only, so
// the report says which addition would kill which survivor. They never count
// as kills.
enum class candidate : std::uint8_t {
  woken_checked,       // a parked channel's wake-up decision checked like an arrival's
  only_enabled_kinds,  // never assign a preempt channel the destination did not enable
  no_magic_unpeeked,   // no rule tests first bytes on a transport that cannot peek
};
constexpr std::array<std::string_view, 3> candidate_names{
    "no-abort and no-silent-peek also for wake-up decisions (woke_then abort/blocked)",
    "no preempt channel accepted without postcopy-preempt",
    "no rule tests first bytes on a non-peekable transport (single-arrival)"};

struct candidate_outcome {
  using bits = std::bitset<brute::assumption_sets>;
  bits woken_bad, unexpected_kind;  // bit m: violated by a trace whose assumptions are m
  static bool refuted(const bits& b, unsigned assumed) {
    for (unsigned m = 0; m < all_masks; ++m)
      if (b[m] && (m & assumed) == assumed) return true;
    return false;
  }
};

candidate_outcome candidate_enumerate(const table& t, int n) {
  candidate_outcome out;
  brute::visit(
      t, n,
      [](void* p, const sender_config<cd>&, const dest_config<cd>& d, std::span<const trace_step<cd>> tr,
         std::span<const trace_step<cd>>, unsigned hm) {
        auto& o = *static_cast<candidate_outcome*>(p);
        bool unexpected = false;
        for (const auto& st : tr)
          unexpected = unexpected ||
                       (!d.postcopy_preempt && st.in.present && st.out.why == int(cause::rule) &&
                        st.out.then == int(verdict::preempt)) ||
                       (!d.postcopy_preempt && st.out.woke && st.out.woke_then == int(verdict::preempt));
        if (unexpected) o.unexpected_kind.set(hm);
        bool woken_bad = false;
        for (const auto& st : tr)
          woken_bad = woken_bad || (st.out.woke && (st.out.woke_then == int(verdict::abort) ||
                                                    st.out.woke_then == int(verdict::blocked)));
        if (woken_bad) o.woken_bad.set(hm);
      },
      &out);
  return out;
}

bool tests_magic_unpeeked(const table& t) {
  for (const auto& r : t.rules) {
    const bool can_be_unpeekable = (r.when.get(column::peekable) & no) != 0 &&
                                   (r.when.get(column::transport) & except(transport::socket)) != 0;
    if (can_be_unpeekable && !r.when.is_any(column::magic)) return true;
  }
  return false;
}

std::vector<candidate> candidates_killing(const table& original, const candidate_outcome& base, const table& mt) {
  std::vector<candidate> out;
  const auto mo = candidate_enumerate(mt, oracle_n);
  const auto kills = [&](const candidate_outcome::bits& b, const candidate_outcome::bits& m) {
    for (unsigned a = 0; a < all_masks; ++a)
      if (!candidate_outcome::refuted(b, a) && candidate_outcome::refuted(m, a)) return true;
    return false;
  };
  if (kills(base.woken_bad, mo.woken_bad)) out.push_back(candidate::woken_checked);
  if (kills(base.unexpected_kind, mo.unexpected_kind)) out.push_back(candidate::only_enabled_kinds);
  if (!tests_magic_unpeeked(original) && tests_magic_unpeeked(mt)) out.push_back(candidate::no_magic_unpeeked);
  return out;
}

struct survivor {
  const mutation::mutant* m;
  mutation::comparison cmp;
  survival why = survival::unreached;
  std::size_t reached_match = 0, reached_mismatch = 0;  // differing observations reached
  std::optional<mutation::difference> example;          // the most telling one
  std::vector<candidate> would_kill;                    // candidate checks that would catch it
  std::string unreached_because;                        // for unreached: a field value no trace has
};

bool same_decision(const decision& a, const decision& b) {
  const auto text = [](const decision& d) { return d.fired ? d.fired->text : std::string_view{}; };
  return a.then == b.then && (a.then != verdict::reject || text(a) == text(b));
}

// Field values that no reached observation has (e.g. state=failed).
std::vector<std::string> never_reached_values(const table& t, const reach& r) {
  std::vector<std::string> all, seen;
  mutation::for_each_raw_observation(t, [&](const observation& o) {
    const auto i = index_of(o);
    for (const auto& [f, v] : fields(o)) {
      const auto fv = std::string(f) + "=" + v;
      if (std::find(all.begin(), all.end(), fv) == all.end()) all.push_back(fv);
      if ((r.match[i] || r.mismatch[i]) && std::find(seen.begin(), seen.end(), fv) == seen.end()) seen.push_back(fv);
    }
  });
  std::vector<std::string> out;
  for (const auto& fv : all)
    if (std::find(seen.begin(), seen.end(), fv) == seen.end()) out.push_back(fv);
  return out;
}

void explain(survivor& s, const table& original, const reach& r, const std::vector<std::string>& never) {
  const table mt = s.m->view(original);
  bool verdict_match = false, verdict_mismatch = false;
  std::optional<mutation::difference> ex_match, ex_mismatch, ex_text;
  std::vector<std::string> common = never;  // never-reached field values every difference has
  mutation::for_each_raw_observation(original, [&](const observation& o) {
    const auto da = classify(original, o), db = classify(mt, o);
    if (same_decision(da, db)) return;
    std::vector<std::string> here;
    for (const auto& [f, v] : fields(o)) here.push_back(std::string(f) + "=" + v);
    std::erase_if(common, [&](const std::string& fv) { return std::find(here.begin(), here.end(), fv) == here.end(); });
    const auto i = index_of(o);
    const bool vd = da.then != db.then;
    if (r.match[i]) {
      ++s.reached_match;
      if (vd && !verdict_match) verdict_match = true, ex_match = mutation::difference{o, da, db};
    }
    if (r.mismatch[i]) {
      ++s.reached_mismatch;
      if (vd && !verdict_mismatch) verdict_mismatch = true, ex_mismatch = mutation::difference{o, da, db};
    }
    if ((r.match[i] || r.mismatch[i]) && !ex_text) ex_text = mutation::difference{o, da, db};
  });
  if (verdict_match) s.why = survival::matching, s.example = ex_match;
  else if (verdict_mismatch) s.why = survival::mismatch_only, s.example = ex_mismatch;
  else if (ex_text) s.why = survival::text_only, s.example = ex_text;
  else s.why = survival::unreached, s.example = s.cmp.first;
  if (s.why == survival::unreached) {
    for (const auto& fv : common) s.unreached_because += (s.unreached_because.empty() ? "" : " or ") + fv;
    if (s.unreached_because.empty()) s.unreached_because = "(a combination of reached field values)";
  }
}

// Whether some trace the sender can produce (N <= oracle_n) ends differently
// under the two tables: a channel's final class (main, multifd, preempt,
// refused = reject or drop, abort, blocked, still parked), how often incoming
// processing started, and whether the destination stalled or died. A mutant
// that only decides earlier or later (defer vs at once) or words an error
// differently ends every trace alike: no property can, or should, see it.
// Nor can anything see how a destination that never starts processing filed
// its channels; then only whether it died or hung counts.
int outcome_class(int v) { return v == int(verdict::drop) ? int(verdict::reject) : v; }
struct outcome_ctx {
  const table* other;
  bool differs = false;
};
void compare_traces(const table& t, const table& other, outcome_ctx& c) {
  c.other = &other;
  brute::visit(
      t, oracle_n,
      [](void* p, const sender_config<cd>& s, const dest_config<cd>& d, std::span<const trace_step<cd>> tr,
         std::span<const trace_step<cd>>, unsigned) {
        auto& c = *static_cast<outcome_ctx*>(p);
        if (c.differs) return;
        std::vector<trace_step<cd>> again(tr.size());
        for (std::size_t i = 0; i < tr.size(); ++i) again[i].in = tr[i].in;
        run<cd>(*c.other, d, initial_state<cd>(s, d), again);
        const std::span<const trace_step<cd>> a(tr), b(again);
        for (std::size_t i = 0; i < tr.size() && !c.differs; ++i)
          c.differs = outcome_class(detail::final_verdict<cd>(a, i)) != outcome_class(detail::final_verdict<cd>(b, i));
        const auto& x = tr.empty() ? initial_state<cd>(s, d) : tr.back().out.next;
        const auto& y = again.empty() ? initial_state<cd>(s, d) : again.back().out.next;
        // A destination that never starts processing uses no channel: how it
        // filed them cannot be seen, only whether it died or hung.
        if (x.starts == 0 && y.starts == 0) c.differs = false;
        c.differs = c.differs || x.starts != y.starts || x.stalled != y.stalled || x.aborted != y.aborted;
      },
      &c);
}
bool outcomes_differ(const table& a, const table& b) {
  outcome_ctx c;
  compare_traces(a, b, c);
  if (!c.differs) compare_traces(b, a, c);
  return c.differs;
}

}  // namespace

TEST_CASE("every behaviour-changing single-rule mutant of reference is killed") {
  const auto t0 = std::chrono::steady_clock::now();
  const table& original = classifiers::reference;
  REQUIRE_FALSE(analyse(original).gap.has_value());
  const auto base = brute::enumerate(original, oracle_n);
  const auto mutants = mutation::single_rule_mutants(original);
  REQUIRE(!mutants.empty());

  constexpr std::size_t ops = 5;
  std::array<std::size_t, ops> total{}, equivalent{}, by_gap{}, by_property{}, survived{};
  std::array<std::size_t, property_count> kills_per_property{};
  std::vector<survivor> survivors;
  // MIGCHAN_MUTANTS_VERBOSE=1 also lists every killed mutant and what killed it.
  const char* env = std::getenv("MIGCHAN_MUTANTS_VERBOSE");
  const bool verbose = env && *env && std::string_view(env) != "0";

  for (const auto& m : mutants) {
    const auto k = static_cast<std::size_t>(m.kind);
    ++total[k];
    const table mt = m.view(original);
    auto cmp = mutation::compare(original, mt);
    const auto a = analyse(mt);
    if (cmp.differing == 0 || (!a.gap && a.unobservable == npos && !outcomes_differ(original, mt))) {
      ++equivalent[k];
      continue;
    }
    if (a.gap || a.unobservable != npos) {
      ++by_gap[k];
      if (verbose)
        std::printf("  killed [%s] %s: %s\n", std::string(mutation::name(m.kind)).c_str(), m.what.c_str(),
                    a.gap ? ("exhaustive (no rule for " + describe(*a.gap) + ")").c_str()
                          : "a row reads first bytes of a non-peekable channel");
      continue;
    }
    // The oracle is monotone in N (brute_test checks it): a kill at N = 2 is a kill at N = 4.
    auto kl = find_kill(base, brute::enumerate(mt, 2));
    if (!kl) kl = find_kill(base, brute::enumerate(mt, oracle_n));
    if (kl) {
      ++by_property[k];
      ++kills_per_property[static_cast<std::size_t>(kl->p)];
      if (verbose)
        std::printf("  killed [%s] %s: %s under %s\n", std::string(mutation::name(m.kind)).c_str(), m.what.c_str(),
                    std::string(name(kl->p)).c_str(), mask_names(kl->mask).c_str());
      continue;
    }
    ++survived[k];
    survivors.push_back(survivor{&m, cmp, survival::unreached, 0, 0, std::nullopt, {}, {}});
  }

  std::size_t changing = 0, killed = 0;
  std::printf("mutation testing of %.*s: %zu single-rule mutants\n", int(original.name.size()), original.name.data(),
              mutants.size());
  std::printf("  %-9s %6s %11s %9s %10s %12s %9s\n", "operator", "total", "equivalent", "changing", "killed:gap",
              "killed:prop", "survived");
  for (std::size_t k = 0; k < ops; ++k) {
    const std::size_t ch = total[k] - equivalent[k];
    changing += ch;
    killed += by_gap[k] + by_property[k];
    const auto n = mutation::name(static_cast<mutation::op>(k));
    std::printf("  %-9.*s %6zu %11zu %9zu %10zu %12zu %9zu\n", int(n.size()), n.data(), total[k], equivalent[k], ch,
                by_gap[k], by_property[k], survived[k]);
  }
  std::printf("  first kill by property (weakest assumption set first):");
  for (std::size_t p = 0; p < property_count; ++p) {
    const auto n = name(static_cast<property>(p));
    std::printf(" %.*s=%zu", int(n.size()), n.data(), kills_per_property[p]);
  }
  std::printf("\n  kill rate: %zu / %zu behaviour-changing = %.1f%%\n", killed, changing,
              changing ? 100.0 * double(killed) / double(changing) : 100.0);

  if (!survivors.empty()) {
    const auto r = reachable_observations(original);
    const auto cbase = candidate_enumerate(original, oracle_n);
    const auto never = never_reached_values(original, r);
    std::array<std::size_t, candidate_names.size()> per_candidate{};
    std::size_t any_candidate = 0;
    for (auto& sv : survivors) {
      explain(sv, original, r, never);
      const table mt = sv.m->view(original);
      sv.would_kill = candidates_killing(original, cbase, mt);
      for (auto c : sv.would_kill) ++per_candidate[static_cast<std::size_t>(c)];
      any_candidate += !sv.would_kill.empty();
    }
    std::printf("  surviving mutants (%zu), by why no property sees them:\n", survivors.size());
    for (std::size_t w = survival_names.size(); w-- > 0;) {
      std::size_t n = 0;
      for (const auto& sv : survivors) n += sv.why == survival(w);
      if (n == 0) continue;
      std::printf("  == %zu %.*s\n", n, int(survival_names[w].size()), survival_names[w].data());
      for (const auto& sv : survivors) {
        if (sv.why != survival(w)) continue;
        const auto& d = *sv.example;
        std::printf(
            "  - [%s] %s\n      differs on %zu valid observations; reached: %zu matching, %zu mismatching\n"
            "      e.g. %s\n      original: %s, mutant: %s\n",
            std::string(mutation::name(sv.m->kind)).c_str(), sv.m->what.c_str(), sv.cmp.differing, sv.reached_match,
            sv.reached_mismatch, describe(d.o).c_str(), mutation::describe(d.a).c_str(),
            mutation::describe(d.b).c_str());
        if (sv.why == survival::unreached)
          std::printf("      every difference has %s, which no trace reaches\n", sv.unreached_because.c_str());
        for (auto c : sv.would_kill)
          std::printf("      would be killed by: %.*s\n", int(candidate_names[std::size_t(c)].size()),
                      candidate_names[std::size_t(c)].data());
      }
    }
    std::string nv;
    for (const auto& fv : never) nv += " " + fv;
    std::printf("  field values no trace reaches (N <= %d):%s\n", oracle_n, nv.c_str());
    std::printf("  candidate checks (not counted as kills) that would catch survivors:\n");
    for (std::size_t c = 0; c < candidate_names.size(); ++c)
      std::printf("    %-72.*s %zu\n", int(candidate_names[c].size()), candidate_names[c].data(), per_candidate[c]);
    std::printf("    %-72s %zu of %zu\n", "any of them", any_candidate, survivors.size());
    std::array<std::size_t, survival_names.size()> per_why{};
    for (const auto& sv : survivors) ++per_why[static_cast<std::size_t>(sv.why)];
    std::printf(
        "  kill rate over mutants that change a reached verdict (excluding unreached-only and text-only): "
        "%zu / %zu = %.1f%%\n",
        killed, killed + per_why[2] + per_why[3], 100.0 * double(killed) / double(killed + per_why[2] + per_why[3]));
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("  %.1f s\n", secs);
  CHECK(changing > 0);
  REQUIRE_MESSAGE(survivors.empty(), survivors.size(), " behaviour-changing mutants survive (listed above)");
}
