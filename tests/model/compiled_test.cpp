// The dispatch arrays against first-match over the rows, on every raw
// observation (46,080 per table), for the built-in tables and for tables
// compiled at run time.
#include <doctest/doctest.h>

#include "model/builtin.h"
#include "model/check.h"
#include "model/compiled.h"

using namespace migchan;
using cd = concrete_domain;

namespace {

// First match over the rows alone.
basic_decision<cd> by_rows(const table& t, const observation& o) {
  table rows_only = t;
  rows_only.compiled = nullptr;
  return classify<cd>(rows_only, o.generic());
}

// The array holds each decision too: rule, verdict and reads must all agree.
std::size_t mismatches(const table& t) {
  std::size_t n = 0, seen = 0;
  for_each_raw([&](const observation& o) {
    ++seen;
    const auto a = classify<cd>(t, o.generic()), b = by_rows(t, o);
    if (a.rule != b.rule || a.then != b.then || a.cost != b.cost) ++n;
  });
  CHECK(seen == raw_observations);
  return n;
}

}  // namespace

TEST_CASE("every built-in table's array decides as its rows on every raw observation") {
  for (const table* t : builtin_tables) {
    CAPTURE(t->name);
    REQUIRE(t->compiled);
    CHECK(t->compiled->from.data() == t->rules.data());
    CHECK(agrees(t->rules, *t->compiled));
    CHECK(mismatches(*t) == 0);
  }
}

TEST_CASE("an array built at run time decides as the rows, and is not used for other rows") {
  const auto& base = classifiers::reference;
  const auto d = compile_at_run_time(base.rules);
  table t = base;
  t.compiled = &d->view;
  CHECK(agrees(t.rules, d->view));
  CHECK(mismatches(t) == 0);
  // The same array under other rows: classify() sees it is not theirs.
  std::vector<rule> fewer(base.rules.begin(), base.rules.end() - 1);
  t.rules = fewer;
  CHECK(mismatches(t) == 0);
  CHECK_FALSE(agrees(fewer, d->view));
}

TEST_CASE("a table with more rows than an array serves is classified by its rows") {
  const auto& base = classifiers::reference;
  std::vector<rule> many(dispatch_rows_max + 1, base.rules.front());
  many.insert(many.end(), base.rules.begin(), base.rules.end());
  const auto d = compile_at_run_time(many);
  table t = base;
  t.rules = many;
  t.compiled = &d->view;
  CHECK(mismatches(t) == 0);
}

TEST_CASE("classes merge only values every guard treats alike") {
  // qemu-7.2 never looks at the first bytes: one class of magic, one of state.
  const auto& d = *classifiers::qemu_7_2.compiled;
  for (std::size_t m = 1; m < enum_size<first_bytes>; ++m) CHECK(d.cls[1][m] == d.cls[1][0]);
  // 10.1 tells silent, partial, eof, reset, QEVM and MULTIFD_MAGIC apart.
  const auto& e = *classifiers::qemu_10_1.compiled;
  CHECK(e.cls[1][int(first_bytes::silent)] != e.cls[1][int(first_bytes::partial)]);
  CHECK(e.cls[1][int(first_bytes::vm_file_magic)] != e.cls[1][int(first_bytes::multifd_magic)]);
}
