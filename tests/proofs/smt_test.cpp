#include "proofs/smt.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/domain.h"

using migchan::smt::answer;
using migchan::smt::expr;
using migchan::smt::solver;

namespace {

expr x() { return expr::int_var("x"); }
expr y() { return expr::int_var("y"); }
expr p() { return expr::bool_var("p"); }
expr q() { return expr::bool_var("q"); }

}  // namespace

TEST_CASE("constants fold without building terms") {
  CHECK((expr::boolean(true) && expr::boolean(false)).is_false());
  CHECK((expr::boolean(false) || expr::boolean(true)).is_true());
  CHECK((!expr::boolean(false)).is_true());
  CHECK((expr::integer(2) == expr::integer(3)).is_false());
  CHECK((expr::integer(2) != 3).is_true());
  CHECK((expr::integer(2) < 3).is_true());
  CHECK((expr::integer(3) <= 3).is_true());
  CHECK((4 > expr::integer(3)).is_true());
  CHECK((expr::integer(2) >= 3).is_false());
  CHECK((expr::integer(2) + 3).as_int() == 5);
  CHECK((expr::integer(2) - 5).as_int() == -3);
  CHECK((-expr::integer(7)).as_int() == -7);
  CHECK((expr::boolean(true) == expr::boolean(true)).is_true());
  CHECK(ite(expr::boolean(true), expr::integer(1), expr::integer(2)).as_int() == 1);
  CHECK(ite(expr::boolean(false), expr::integer(1), expr::integer(2)).as_int() == 2);
  CHECK(expr::integer(7).str() == "7");
  CHECK(expr::boolean(false).str() == "false");
}

TEST_CASE("folding against terms returns the term itself") {
  CHECK((expr::boolean(true) && p()).same(p()));
  CHECK((p() && true).same(p()));
  CHECK((expr::boolean(false) && p()).is_false());
  CHECK((p() || true).is_true());
  CHECK((false || p()).same(p()));
  CHECK((p() && p()).same(p()));
  CHECK((p() && !p()).is_false());
  CHECK((!p() || p()).is_true());
  CHECK((!!p()).same(p()));
  CHECK((p() == true).same(p()));
  CHECK((p() != true).same(!p()));
  CHECK((p() == expr::boolean(false)).same(!p()));
  CHECK((x() == x()).is_true());
  CHECK((x() < x()).is_false());
  CHECK((x() <= x()).is_true());
  CHECK((x() + 0).same(x()));
  CHECK((0 + x()).same(x()));
  CHECK((x() - x()).as_int() == 0);
  CHECK(ite(p(), x(), x()).same(x()));
  CHECK(ite(p(), expr::boolean(true), expr::boolean(false)).same(p()));
  CHECK(ite(p(), expr::boolean(false), expr::boolean(true)).same(!p()));
  CHECK(ite(p(), q(), expr::boolean(false)).same(p() && q()));
  // terms are hash-consed: the same structure is the same term
  CHECK((x() + 1).same(x() + 1));
  CHECK(!(x() + 1).same(x() + 2));
  CHECK((x() + 1).str() == "(+ x 1)");
  CHECK(!(x() == 3).is_const());
}

TEST_CASE("misuse of sorts is a logic_error") {
  CHECK_THROWS_AS(p() + 1, std::logic_error);
  CHECK_THROWS_AS(x() && p(), std::logic_error);
  CHECK_THROWS_AS(x() == p(), std::logic_error);
  CHECK_THROWS_AS(ite(p(), x(), q()), std::logic_error);
  CHECK_THROWS_AS(!expr(), std::logic_error);
  solver s;
  CHECK_THROWS_AS(s.add(x()), std::logic_error);
}

TEST_CASE("exprs are values: copies and moves keep their terms") {
  expr a = x() + 1;
  expr b = a;
  expr c = std::move(a);
  CHECK(b.same(c));
  CHECK(!a.valid());
  a = b;
  CHECK(a.same(c));
  std::vector<expr> v(3, p());
  v.push_back(q());
  CHECK(v[0].same(v[2]));
}

TEST_CASE("sat gives a model") {
  solver s;
  s.add(x() + y() == 10);
  s.add(x() - y() == 4);
  s.add(p() || q());
  s.add(!p());
  auto r = s.check("sat:simple");
  REQUIRE(r.answer == answer::sat);
  CHECK(r.query == "sat:simple");
  CHECK(r.seconds >= 0);
  CHECK(s.eval_int(x()) == 7);
  CHECK(s.eval_int(y()) == 3);
  CHECK(s.eval_int(x() + 1) == 8);
  CHECK(s.eval_bool(q()));
  CHECK_FALSE(s.eval_bool(p()));
  CHECK(s.eval_bool(x() > y()));
  // model completion: a variable the constraints never mention still has a value
  CHECK_NOTHROW(s.eval_int(expr::int_var("unmentioned")));
  CHECK_THROWS_AS(s.unsat_core(), std::logic_error);
}

TEST_CASE("unsat core names exactly the responsible assumptions") {
  solver s;
  s.add(x() >= 0);
  s.add(x() < 5, "assume.small");
  s.add(y() == 1, "assume.y_is_one");  // irrelevant to the conflict
  s.add(x() > 10, "assume.big");
  s.add(p(), "assume.p");  // irrelevant to the conflict
  CHECK(s.assumptions() == std::vector<std::string>{"assume.small", "assume.y_is_one", "assume.big", "assume.p"});
  auto r = s.check("unsat:small_and_big");
  REQUIRE(r.answer == answer::unsat);
  CHECK(s.unsat_core() == std::vector<std::string>{"assume.small", "assume.big"});
  CHECK_THROWS_AS(s.eval_int(x()), std::logic_error);
}

TEST_CASE("a constant-false assumption is its own core") {
  solver s;
  s.add(expr::boolean(true), "assume.trivial");
  s.add(expr::boolean(false), "assume.never");
  REQUIRE(s.check("unsat:never").answer == answer::unsat);
  CHECK(s.unsat_core() == std::vector<std::string>{"assume.never"});
}

TEST_CASE("check_assuming switches named assumptions off") {
  solver s;
  s.add(x() < 5, "a.small");
  s.add(x() > 10, "a.big");
  s.add(x() == 7, "a.seven");
  CHECK(s.check("all").answer == answer::unsat);
  auto r = s.check_assuming("big+seven", {"a.big", "a.seven"});
  CHECK(r.answer == answer::unsat);
  CHECK(s.unsat_core() == std::vector<std::string>{"a.big", "a.seven"});
  REQUIRE(s.check_assuming("seven", {"a.seven"}).answer == answer::sat);
  CHECK(s.eval_int(x()) == 7);
  CHECK(s.check_assuming("none", {}).answer == answer::sat);
  CHECK_THROWS_AS(s.check_assuming("typo", {"a.nope"}), std::logic_error);

  // Minimal assumption set by dropping one at a time, as the checks do.
  std::vector<std::string> needed = s.assumptions();
  for (const auto& n : s.assumptions()) {
    std::vector<std::string> without;
    for (const auto& m : needed)
      if (m != n) without.push_back(m);
    if (s.check_assuming("drop:" + n, without).answer == answer::unsat) needed = without;
  }
  CHECK(needed == std::vector<std::string>{"a.big", "a.seven"});
}

TEST_CASE("check_assuming_any is unsat exactly when every set is, and leaves later checks alone") {
  solver s;
  s.add(x() < 5, "a.small");
  s.add(x() > 10, "a.big");
  s.add(x() == 7, "a.seven");
  s.add(x() >= 0, "a.nonneg");
  // small and big conflict, so do big and seven: both sets unsat under nonneg.
  CHECK(s.check_assuming_any("both", {"a.nonneg"}, {{"a.small", "a.big"}, {"a.big", "a.seven"}}).answer ==
        answer::unsat);
  // seven alone is satisfiable: the disjunction is too, with a model of that set.
  REQUIRE(s.check_assuming_any("one", {"a.nonneg"}, {{"a.small", "a.big"}, {"a.seven"}}).answer == answer::sat);
  CHECK(s.eval_int(x()) == 7);
  CHECK_THROWS_AS(s.check_assuming_any("typo", {}, {{"a.nope"}}), std::logic_error);
  // The disjunction was for its own check only.
  CHECK(s.check_assuming("small", {"a.small"}).answer == answer::sat);
  CHECK(s.check_assuming("none", {}).answer == answer::sat);
}

TEST_CASE("push and pop scope constraints and assumption names") {
  solver s;
  s.add(x() == 1, "a.one");
  s.push();
  s.add(x() == 2, "a.two");
  CHECK_THROWS_AS(s.add(x() == 1, "a.one"), std::logic_error);
  CHECK(s.check("both").answer == answer::unsat);
  s.pop();
  CHECK(s.assumptions() == std::vector<std::string>{"a.one"});
  CHECK(s.check("one").answer == answer::sat);
  s.push();
  s.add(x() == 2, "a.two");  // the name is free again after pop()
  CHECK(s.check("again").answer == answer::unsat);
  s.pop();
  CHECK_THROWS_AS(s.pop(), std::logic_error);
}

TEST_CASE("minimize finds the smallest objective") {
  solver s;
  expr a = expr::int_var("arrivals");
  s.add(a >= 0);
  s.add(a + y() >= 13);
  s.add(y() <= 4);
  auto r = s.minimize("min:arrivals", a);
  REQUIRE(r.answer == answer::sat);
  CHECK(r.reason.empty());
  CHECK(s.eval_int(a) == 9);
  CHECK(s.eval_int(y()) == 4);
  s.add(a > 100);
  CHECK(s.minimize("min:none", a).answer == answer::sat);
  CHECK(s.eval_int(a) == 101);
}

TEST_CASE("a tiny timeout gives unknown with a reason") {
  // Pigeonhole: 14 pigeons in 13 holes, all distinct. Hard enough that 1 ms never
  // suffices (and far too hard to be asked without a timeout).
  solver s;
  const int n = 14;
  std::vector<expr> h;
  for (int i = 0; i < n; ++i) {
    h.push_back(expr::int_var("h" + std::to_string(i)));
    s.add(h.back() >= 0);
    s.add(h.back() < n - 1);
  }
  for (int i = 0; i < n; ++i)
    for (int j = i + 1; j < n; ++j) s.add(h[i] != h[j]);
  auto r = s.check("unknown:pigeonhole", 1);
  CHECK(r.answer == answer::unknown);
  CHECK(r.reason == "timeout");
  CHECK(r.seconds < 5);
  CHECK(migchan::smt::name(r.answer) == "unknown");
}

namespace {
std::size_t threads_now() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}
}  // namespace

TEST_CASE("a solver's timed checks share one watchdog thread, and a deadline ends with its check") {
  const auto before = threads_now();
  {
    solver s;
    s.add(x() + y() == 10);
    s.add(x() > 6);
    for (int i = 0; i < 200; ++i) REQUIRE(s.check("watchdog:easy", 20000).answer == answer::sat);
    CHECK(threads_now() == before + 1);  // the one watchdog, kept between checks
  }
  CHECK(threads_now() == before);  // and joined with its solver
  // An expired deadline does not reach the next check: it runs under its own.
  solver hard;
  std::vector<expr> h;
  for (int i = 0; i < 14; ++i) {
    h.push_back(expr::int_var("w" + std::to_string(i)));
    hard.add(h.back() >= 0 && h.back() < 13);
  }
  for (int i = 0; i < 14; ++i)
    for (int j = i + 1; j < 14; ++j) hard.add(h[i] != h[j]);
  CHECK(hard.check("watchdog:hard", 1).reason == "timeout");
  hard.push();
  hard.add(h[0] == h[1]);  // contradicts the distinctness: unsat at once
  const auto r = hard.check("watchdog:after", 20000);
  CHECK(r.answer == answer::unsat);
  hard.pop();
}

TEST_CASE("an interrupt that lands as the check ends leaves the solver usable") {
  // A zero timeout interrupts at once; an easy query may still finish first.
  // Either way the answer is honest and the next check and model are unaffected.
  solver s;
  s.add(x() + y() == 10);
  s.add(x() > 6);
  for (int i = 0; i < 50; ++i) {
    auto r = s.check("interrupt:easy", 0);
    if (r.answer == answer::unknown) {
      CHECK(r.reason == "timeout");
    } else {
      REQUIRE(r.answer == answer::sat);
      CHECK(s.eval_int(x() + y()) == 10);
    }
    REQUIRE(s.check("interrupt:after").answer == answer::sat);
    CHECK(s.eval_int(x()) > 6);
  }
}

namespace {

// Written once against a value domain, read both ways.
template <class D> typename D::boolean reaches_three(typename D::integer v) { return v + 1 == D::num(3); }

template <class D> typename D::integer clamp_count(typename D::boolean multifd, typename D::integer n) {
  return D::ite(multifd && n > 8, D::num(8), D::ite(multifd, n, D::num(0)));
}

}  // namespace

TEST_CASE("one template, two domains, the same answers") {
  using C = migchan::concrete_domain;
  using S = migchan::smt::domain;
  for (int v = -2; v <= 5; ++v) {
    CAPTURE(v);
    CHECK(reaches_three<S>(S::num(v)).is_true() == reaches_three<C>(v));
    CHECK(reaches_three<S>(S::num(v)).is_const());
    for (bool m : {false, true}) {
      CHECK(clamp_count<S>(S::lit(m), S::num(v + 5)).as_int() == clamp_count<C>(m, v + 5));
    }
  }
  // Symbolic: the solver finds the one input for which the concrete code is true.
  solver s;
  s.add(reaches_three<S>(x()));
  REQUIRE(s.check("domain:reaches_three").answer == answer::sat);
  CHECK(s.eval_int(x()) == 2);
  CHECK(reaches_three<C>(static_cast<int>(s.eval_int(x()))));
  // And the symbolic clamp agrees with the concrete one on every model it allows.
  solver t;
  expr n = expr::int_var("n");
  t.add(clamp_count<S>(p(), n) != 8);
  t.add(n > 8);
  REQUIRE(t.check("domain:clamp").answer == answer::sat);
  CHECK_FALSE(t.eval_bool(p()));
  CHECK(clamp_count<C>(t.eval_bool(p()), static_cast<int>(t.eval_int(n))) == 0);
}
