// proofs/synth.h: the search finds tables the proofs then prove, proves that
// none exists with a witness the concrete model confirms, and writes what it
// finds as C that the C reader reads back to the same decisions.
#include "proofs/synth.h"

#include <doctest/doctest.h>

#include <algorithm>

#include "model/builtin.h"
#include "model/check.h"
#include "model/optimal.h"
#include "proofs/c_reader.h"
#include "proofs/diff.h"
#include "proofs/synth_c.h"
#include "proofs/synth_limits.h"

using namespace migchan;
using proofs::synth_result;

namespace {

using cd = concrete_domain;
using enum assumption;

proofs::synth_options options(const table& base, std::vector<property> props, std::optional<transport> t) {
  proofs::synth_options o;
  o.base = &base;
  o.props = std::move(props);
  o.z3.uri = t;
  return o;
}

std::vector<property> all_properties() {
  std::vector<property> out;
  for (std::size_t p = 0; p < property_count; ++p) out.push_back(static_cast<property>(p));
  return out;
}

// The proof `migchan check` runs: no trace breaks p under `assumed`.
bool proved(const table& t, property p, unsigned assumed, const proofs::query_options& qo) {
  return proofs::check(t, p, assumed, false, qo).verdict.answer == smt::answer::unsat;
}

std::vector<unsigned> sets_of(const std::array<unsigned, 12>& l) {
  std::vector<unsigned> out;
  for (unsigned m : l)
    if (m != no_set) out.push_back(m);
  return out;
}

}  // namespace

TEST_CASE("found: on sockets reference itself keeps every property, no row changed") {
  auto o = options(classifiers::reference, all_properties(), transport::socket);
  proofs::synthesizer s(o);
  const auto r = s.solve(0);
  REQUIRE(r.what == synth_result::outcome::found);
  CHECK(r.changed_rows == 0);
  for (const auto p : o.props) CHECK_MESSAGE(proved(r.table->view, p, 0, o.z3), name(p));
}

TEST_CASE("found: in 11.1's code a table keeps no-abort by refusing what 11.1 asserts on") {
  auto o = options(classifiers::qemu_11_1, {property::no_abort}, std::nullopt);
  o.z3.caps = std::array<bool, 4>{true, false, false, false};  // sources with multifd
  proofs::synthesizer s(o);
  const auto r = s.solve(0);
  REQUIRE(r.what == synth_result::outcome::found);
  CHECK(r.changed_rows >= 1);
  // Decided only by what the destination observes (model/check.h): no row
  // reads first bytes where QEMU cannot peek, every observation is decided.
  const auto a = analyse(r.table->view);
  CHECK(a.unobservable == npos);
  CHECK_FALSE(a.gap);
  for (std::size_t i = 0; i < r.changed_rows; ++i)
    CHECK(r.table->view.rules[i].then == verdict::reject);  // refusing is what replaces the asserts
  CHECK(proved(r.table->view, property::no_abort, 0, o.z3));
  CHECK_FALSE(proved(classifiers::qemu_11_1, property::no_abort, 0, o.z3));

  SUBCASE("written as C, the C reader reads it back to the same decisions, and the proof holds for what it read") {
    const auto c = proofs::write_c(r.table->view, classifiers::qemu_11_1, "qemu-11.1");
    const auto read = read_classifier(c, "synth.c", classifiers::qemu_11_1);
    const auto d = proofs::diff(r.table->view, read.view);
    CHECK_MESSAGE(d.equivalent(), c);
    CHECK(d.unknown.empty());
    CHECK(proved(read.view, property::no_abort, 0, o.z3));
  }
}

TEST_CASE("impossible: over TLS no table keeps sound with complete without an order assumption") {
  proofs::synthesizer s(options(classifiers::reference, {property::sound, property::complete}, transport::tls));
  const auto r = s.solve(0);
  REQUIRE(r.what == synth_result::outcome::impossible);
  REQUIRE(r.witness.size() >= 2);
  REQUIRE(r.point);
  CHECK_FALSE(r.point->bytes_seen);  // a TLS channel's first bytes
  // What the behaviours need at the point has nothing in common.
  std::uint16_t common = 0xffff;
  for (const auto n : r.point->needs) common &= n;
  CHECK(common == 0);
  for (const auto& w : r.witness) {
    // The concrete model confirms each run: the table that handles the
    // others breaks it, and it reached the point like the others did.
    const auto& cx = w.cx;
    const auto final_state = cx.steps.back().out.next;
    CHECK(violates<cd>(w.b.prop, cx.src, cx.dst, cx.steps, final_state, cx.natural));
    CHECK(std::any_of(w.seen.begin(), w.seen.end(), [&](observation o) {
      o.magic = r.point->at.magic;  // not seen over TLS
      return o == r.point->at;
    }));
  }
  // Under an order assumption (and preempt last) one exists: the witness was about order.
  CHECK(s.solve((1u << static_cast<unsigned>(main_connects_first)) |
                (1u << static_cast<unsigned>(preempt_after_multifd)))
            .what == synth_result::outcome::found);
}

TEST_CASE("the C writer says which observation needs what C cannot express") {
  // reference never waits on a channel that has not spoken; QEMU's peek does.
  CHECK_THROWS_WITH_AS(proofs::write_c(classifiers::reference, classifiers::reference, "reference"),
                       doctest::Contains("magic=silent it decides reject, but in C the peek waits for 4 bytes"),
                       proofs::c_unwritable);
  // Every upstream table QEMU wrote in that shape is writable and reads back alike.
  for (const table* t : {&classifiers::qemu_10_1, &classifiers::qemu_11_1}) {
    const auto read = read_classifier(proofs::write_c(*t, *t, t->name), "written.c", *t);
    CHECK_MESSAGE(proofs::diff(*t, read.view).equivalent(), t->name);
  }
}

TEST_CASE("minimal sets: complete over TLS needs an order assumption and the preempt channel placed, as recorded") {
  proofs::synthesizer s(options(classifiers::reference, {property::complete}, transport::tls));
  const auto l = proofs::minimal_sets(s);
  CHECK(l.unknown.empty());
  // Only TLS needs assumptions, so over every transport the sets are TLS's.
  CHECK(l.minimal_sets == proofs::minimal(sets_of(optimal_for(property::complete).sets)));
  CHECK(l.slowest < 10.0);
}

TEST_CASE("a trade-off: mismatch-rejected with complete over TLS, by refusing preempt or by taking it") {
  const unsigned no_preempt_on_tls = set(main_connects_first, non_peekable_implies_multifd);
  const unsigned preempt_last_and_configs = set(main_connects_first, preempt_after_multifd, non_peekable_configs_match);
  proofs::synthesizer s(options(classifiers::reference, {property::mismatch_rejected, property::complete},
                                transport::tls));
  CHECK(s.solve(no_preempt_on_tls, false).what == synth_result::outcome::found);
  CHECK(s.solve(preempt_last_and_configs, false).what == synth_result::outcome::found);
  const auto both = s.solve_all({no_preempt_on_tls, preempt_last_and_configs});
  CHECK(both.what == synth_result::outcome::impossible);
  CHECK(optimal_for(property::mismatch_rejected).trade_off);
  // reference takes the second: it keeps complete for TLS with postcopy-preempt.
  CHECK(proved(classifiers::reference, property::mismatch_rejected, preempt_last_and_configs, {}));
}

TEST_CASE("a buffered first TLS read removes every TLS assumption") {
  auto o = options(classifiers::reference, all_properties(), transport::tls);
  o.tls_first_read = true;
  proofs::synthesizer s(o);
  const auto r = s.solve(0);
  REQUIRE(r.what == synth_result::outcome::found);
  CHECK(r.changed_rows == 0);  // reference's peek rows, covering TLS too
}

TEST_CASE("set algebra") {
  const unsigned a = 1, b = 2, c = 4;
  CHECK(proofs::minimal({a | b, a, b | c}) == std::vector<unsigned>{a, b | c});
  CHECK(proofs::both({a, b}, {a | c}) == std::vector<unsigned>{a | c});
  CHECK(proofs::missed({a}, {a | b, c}) == std::vector<unsigned>{c});
}
