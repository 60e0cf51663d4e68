// The brute-force enumerator against upstream history: each expectation names
// the commit or review mail that established it.
#include <doctest/doctest.h>

#include <algorithm>

#include "model/builtin.h"
#include "proofs/brute.h"

using namespace migchan;

namespace {
unsigned set(std::initializer_list<assumption> as) {
  unsigned m = 0;
  for (auto a : as) m |= 1u << static_cast<unsigned>(a);
  return m;
}
}  // namespace

TEST_CASE("7.2 misclassifies when main does not arrive first, and is fixed by that order (6720c2b3)") {
  const auto o = brute::enumerate(classifiers::qemu_7_2, 3);
  CHECK(o.refuted(property::sound, 0));
  CHECK_FALSE(o.refuted(property::sound, set({assumption::main_connects_first})));
}

TEST_CASE(
    "7.2 blocks reading a silent preempt channel as MultiFDInit when multifd is on (migration/migration.c:755-756 at v7.2.0)") {
  const auto o = brute::enumerate(classifiers::qemu_7_2, 3);
  CHECK(o.refuted(property::no_silent_peek, 0));
  CHECK_FALSE(o.refuted(property::no_silent_peek,
                        set({assumption::multifd_excludes_preempt, assumption::configs_match})));
  // A destination with multifd also reads a preempt channel that a mismatched source opens.
  CHECK(o.refuted(property::no_silent_peek, set({assumption::multifd_excludes_preempt})));
}

TEST_CASE("9.0-10.0 peek no silent channel while both sides agree: multifd with postcopy is refused (b405dfff)") {
  const auto o = brute::enumerate(classifiers::qemu_9_0, 3);
  CHECK_FALSE(o.refuted(property::no_silent_peek, set({assumption::configs_match})));
  CHECK(o.refuted(property::no_silent_peek, 0));
}

TEST_CASE("11.1 aborts on MULTIFD magic ahead of main when the destination has multifd off (00f3fcef)") {
  const auto o = brute::enumerate(classifiers::qemu_11_1, 2);
  CHECK(o.refuted(property::no_abort, 0));
  CHECK_FALSE(o.refuted(property::no_abort, set({assumption::configs_match})));
  CHECK_FALSE(o.refuted(property::no_abort, set({assumption::main_connects_first})));
}

TEST_CASE("up to 11.0 a source with more multifd channels indexes params[] one past its end, whoever comes first") {
  // migration/multifd.c:217 at v10.2.2 tests `msg.id > migrate_multifd_channels()`.
  const auto o = brute::enumerate(classifiers::qemu_10_1, 2);
  CHECK(o.refuted(property::no_abort, set({assumption::main_connects_first})));
  CHECK_FALSE(o.refuted(property::no_abort, set({assumption::configs_match})));
  const auto w = o.shortest_under(property::no_abort, set({assumption::main_connects_first}));
  REQUIRE(w);
  CHECK(w->src.channels > w->dst.channels);
  CHECK(std::any_of(w->steps.begin(), w->steps.end(),
                    [](const auto& st) { return st.out.then == int(verdict::crash); }));
}

TEST_CASE("10.1 can peek a racing preempt channel; Fabiano Rosas' hidden assumption (review of patch-v6)") {
  const auto o = brute::enumerate(classifiers::qemu_10_1, 3);
  CHECK(o.refuted(property::no_silent_peek, set({assumption::main_connects_first})));
  CHECK_FALSE(o.refuted(property::no_silent_peek, set({assumption::main_connects_first,
                                                       assumption::preempt_after_multifd, assumption::configs_match})));
  CHECK_FALSE(o.refuted(property::no_silent_peek,
                        set({assumption::main_connects_first, assumption::multifd_excludes_preempt,
                             assumption::configs_match})));
}

TEST_CASE("reference never aborts and is sound under tls-main-first alone") {
  const auto o = brute::enumerate(classifiers::reference, 3);
  CHECK_FALSE(o.refuted(property::no_abort, 0));
  CHECK(o.refuted(property::sound, 0));
  CHECK_FALSE(o.refuted(property::sound, set({assumption::tls_main_first})));
}

TEST_CASE("more enumerated channels never turn a refutation into a proof") {
  for (const table* t : builtin_tables) {
    const auto small = brute::enumerate(*t, 2), large = brute::enumerate(*t, 4);
    CHECK(large.traces > small.traces);
    for (std::size_t p = 0; p < property_count; ++p)
      for (unsigned m = 0; m < (1u << assumption_count); ++m)
        if (small.refuted(property(p), m)) CHECK(large.refuted(property(p), m));
  }
}
