// proofs/diff.h: Z3 proves each form written as C and read back equivalent to
// the built-in table of the same name, and finds where two classifiers differ:
// regions checked against every raw observation, sequences replayed concretely.
#include "proofs/diff.h"

#include <doctest/doctest.h>

#include <map>

#include <string>
#include <vector>

#include "model/builtin.h"
#include "tests/proofs/written.h"

using namespace migchan;

namespace {

using cd = concrete_domain;

using testing::written;

int label(const table& t, const observation& o) {
  return valid<cd>(t, o.generic()) ? classify<cd>(t, o.generic()).rule : proofs::refused;
}

// The regions are exactly where the decisions differ: every raw observation
// either side accepts (so not check.h's for_each_raw_observation, which takes
// one table's valid space) is in some region iff the two decide it differently,
// and inside a region both sides decide by the rows the region names.
void regions_exact(const table& a, const table& b, const proofs::diff_result& r) {
  REQUIRE_FALSE(r.truncated);
  std::size_t differing = 0;
  for_each_raw([&](const observation& o) {
    if (!valid<cd>(a, o.generic()) && !valid<cd>(b, o.generic())) return;
    const bool differ = proofs::decide(a, o) != proofs::decide(b, o);
    differing += differ ? 1 : 0;
    bool inside = false;
    for (const auto& g : r.regions) {
      if (!matches<cd>(g.where, o.generic())) continue;
      inside = true;
      CHECK(label(a, o) == g.rule_a);
      CHECK(label(b, o) == g.rule_b);
    }
    CHECK(inside == differ);
  });
  MESSAGE(a.name << " vs " << b.name << ": " << r.regions.size() << " regions cover " << differing
                 << " differing raw observations");
  for (const auto& g : r.regions) {
    CHECK(label(a, g.witness) == g.rule_a);
    CHECK(label(b, g.witness) == g.rule_b);
    CHECK(matches<cd>(g.where, g.witness.generic()));
  }
}

}  // namespace

TEST_CASE("Z3 proves each form written as C equivalent to the built-in table of the same name") {
  for (const table* b : builtin_tables) {
    if (b == &classifiers::reference) continue;  // no C form (c_reader_test)
    const std::string name(b->name);
    CAPTURE(name);
    const auto t = written(*b);
    const auto r = proofs::diff(*b, t.view);
    CHECK(r.unknown.empty());
    CHECK(r.regions.empty());
    CHECK_FALSE(r.sequence.has_value());
    CHECK(r.equivalent());
  }
}

TEST_CASE("with no region and the same semantics, the sequence search agrees there is nothing to find") {
  // diff() skips the sequence query then (step() is one function); ask it anyway.
  proofs::diff_options o;
  o.always_search_sequences = true;
  const auto t = written(classifiers::patch_v6);
  const auto r = proofs::diff(classifiers::patch_v6, t.view, o);
  CHECK(r.unknown.empty());
  CHECK(r.equivalent());
  const auto self = proofs::diff(classifiers::reference, classifiers::reference, o);
  CHECK(self.equivalent());
}

TEST_CASE("qemu-10.1 and patch-v6 differ: regions with the rows of both sides, and a sequence") {
  const auto v6 = written(classifiers::patch_v6, classifiers::qemu_10_1, "patch_v6.c");
  const auto& a = classifiers::qemu_10_1;
  const auto r = proofs::diff(a, v6.view);
  CHECK(r.unknown.empty());
  CHECK_FALSE(r.equivalent());
  regions_exact(a, v6.view, r);
  REQUIRE(r.regions.size() == 4);
  const auto ids = [&](const proofs::region& g) {
    return std::string(a.rules[std::size_t(g.rule_a)].id) + " / " +
           std::string(v6.view.rules[std::size_t(g.rule_b)].id);
  };
  // Z3 finds the regions in no fixed order.
  std::map<std::string, std::vector<const proofs::region*>> by_rows;
  for (const auto& g : r.regions) by_rows[ids(g)].push_back(&g);
  // After main and multifd without preempt: 10.1 asserts, the patch takes it as preempt.
  REQUIRE(by_rows["after_mm.assert / after_mm.after_main"].size() == 1);
  CHECK(by_rows["after_mm.assert / after_mm.after_main"][0]->where == guard{.mm_done = yes, .postcopy_preempt = no});
  // MULTIFD_MAGIC without multifd: 10.1 asserts, the patch hands it to multifd.
  REQUIRE(by_rows["peek.multifd_magic.assert / peek.multifd_magic"].size() == 1);
  const auto& m = *by_rows["peek.multifd_magic.assert / peek.multifd_magic"][0];
  CHECK(proofs::decide(a, m.witness) == verdict::abort);
  CHECK(proofs::decide(v6.view, m.witness) == verdict::multifd);
  CHECK(v6.view.rules[std::size_t(m.rule_b)].origin.starts_with("patch_v6.c:"));
  // An unknown magic: 10.1 sets errp (and, from 10.0, fails and exits); the
  // patch only error_report()s it and drops the channel.
  REQUIRE(by_rows["peek.unknown_magic / peek.migration_ioc_process"].size() == 2);
  for (const auto* g : by_rows["peek.unknown_magic / peek.migration_ioc_process"]) {
    CHECK(proofs::decide(a, g->witness) == verdict::reject);
    CHECK(proofs::decide(v6.view, g->witness) == verdict::drop);
  }

  // A source leads them apart: a preempt channel that already carries a page
  // ahead of main makes 10.1 exit, while the patch drops it and goes on.
  REQUIRE(r.sequence.has_value());
  const auto& s = *r.sequence;
  REQUIRE(s.a.size() == s.b.size());
  for (std::size_t i = 0; i < s.a.size(); ++i) CHECK(s.a[i].in.kind == s.b[i].in.kind);
  const auto fa = assignment_of<cd>(std::span<const trace_step<cd>>(s.a));
  const auto fb = assignment_of<cd>(std::span<const trace_step<cd>>(s.b));
  CHECK_FALSE(fa == fb);
  CHECK(s.a.front().out.then == int(verdict::exit));
  CHECK(s.b.front().out.then == int(verdict::drop));
}

TEST_CASE("a configuration one side refuses is a region of its own") {
  // 9.0 refuses multifd with postcopy (b405dfff); 10.1 accepts it again (e2741886).
  const auto r = proofs::diff(classifiers::qemu_9_0, classifiers::qemu_10_1);
  regions_exact(classifiers::qemu_9_0, classifiers::qemu_10_1, r);
  bool refused_by_9_0 = false;
  for (const auto& g : r.regions)
    if (g.rule_a == proofs::refused) {
      refused_by_9_0 = true;
      CHECK(g.witness.multifd);
      CHECK(g.witness.postcopy_ram);
      CHECK(g.rule_b != proofs::refused);
    }
  CHECK(refused_by_9_0);
  REQUIRE(r.sequence.has_value());
  CHECK_FALSE(r.sequence->mismatched);  // the same capabilities on both sides already differ
}

TEST_CASE("the fix of patch-v6 makes its defaults explicit without changing a decision") {
  const auto v6 = written(classifiers::patch_v6, classifiers::qemu_10_1);
  const testing::patch_v6_fixed fix;
  const auto fixed = written(fix.view, classifiers::qemu_10_1);
  proofs::diff_options o;
  o.always_search_sequences = true;
  const auto r = proofs::diff(v6.view, fixed.view, o);
  CHECK(r.unknown.empty());
  CHECK(r.equivalent());
  regions_exact(v6.view, fixed.view, r);
}
