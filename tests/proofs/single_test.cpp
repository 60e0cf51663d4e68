// proofs/single.h: the Z3 single-arrival checks say what model/check.h's
// enumeration says (gaps, dead rows) for every built-in table and for broken
// ones, and what they add (blocking rows, implicit defaults, overlaps) holds
// when checked against every raw observation.
#include "proofs/single.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "model/builtin.h"
#include "model/check.h"
#include "tests/model/broken_tables.h"
#include "tests/proofs/written.h"

using namespace migchan;

namespace {

using cd = concrete_domain;

// Every raw observation valid for t, without the class shortcut.
std::vector<observation> all_valid(const table& t) {
  std::vector<observation> out;
  for_each_raw_observation(t, [&](const observation& o) { out.push_back(o); });
  return out;
}

bool is_valid(const table& t, const observation& o) { return valid<cd>(t, o.generic()); }
bool row_matches(const table& t, std::size_t i, const observation& o) {
  return matches<cd>(t.rules[i].when, o.generic());
}
int row_of(const table& t, const observation& o) { return classify<cd>(t, o.generic()).rule; }

// The Z3 findings against model/check.h's analyse() and against every raw
// observation.
void agrees(const table& t, const proofs::single_result& z) {
  CAPTURE(t.name);
  REQUIRE(z.unknown.empty());
  const auto a = analyse(t);
  // exhaustive: both find a gap or neither; Z3's witness really is one.
  CHECK(z.gap.has_value() == a.gap.has_value());
  if (z.gap) {
    CHECK(is_valid(t, *z.gap));
    CHECK(row_of(t, *z.gap) == static_cast<int>(t.rules.size()));
  }
  // no-dead-rule: the same rows.
  std::vector<std::size_t> dead_enum, dead_z3;
  for (std::size_t i = 0; i < t.rules.size(); ++i)
    if (!a.fires[i]) dead_enum.push_back(i);
  for (const auto& d : z.dead) dead_z3.push_back(d.row);
  CHECK(dead_z3 == dead_enum);

  const auto obs = all_valid(t);
  for (const auto& d : z.dead) {
    const std::string row(t.rules[d.row].id);
    CAPTURE(row);
    bool matched = false, covered = true;
    std::vector<bool> needed(d.blockers.size(), false);
    for (const auto& o : obs) {
      if (!row_matches(t, d.row, o)) continue;
      matched = true;
      std::size_t hits = 0, last = 0;
      for (std::size_t k = 0; k < d.blockers.size(); ++k)
        if (row_matches(t, d.blockers[k], o)) ++hits, last = k;
      if (hits == 0) covered = false;
      if (hits == 1) needed[last] = true;  // only this blocker covers o: it cannot go
    }
    CHECK(d.unmatchable == !matched);
    if (d.unmatchable) {
      CHECK(d.blockers.empty());
      continue;
    }
    REQUIRE_FALSE(d.blockers.empty());
    CHECK(covered);  // the union of the blockers covers the row
    for (std::size_t k = 0; k < d.blockers.size(); ++k) {
      CHECK(d.blockers[k] < d.row);
      CHECK(needed[k]);  // minimal: without any one of them the row would fire
    }
  }
  // no-implicit-default: exactly the implicit rows that fire, each with a witness.
  std::vector<std::size_t> reached;
  for (std::size_t i = 0; i < t.rules.size(); ++i)
    if (t.rules[i].implicit_default && a.fires[i]) reached.push_back(i);
  std::vector<std::size_t> reached_z3;
  for (const auto& h : z.implicit_defaults) {
    reached_z3.push_back(h.row);
    CHECK(is_valid(t, h.witness));
    CHECK(row_of(t, h.witness) == static_cast<int>(h.row));
  }
  CHECK(reached_z3 == reached);
  // overlaps: the same pairs as plain enumeration, witnesses matched by both.
  std::set<std::pair<std::size_t, std::size_t>> pairs;
  for (const auto& o : obs)
    for (std::size_t j = 0; j < t.rules.size(); ++j)
      for (std::size_t i = 0; i < j; ++i)
        if (t.rules[i].then != t.rules[j].then && row_matches(t, i, o) && row_matches(t, j, o)) pairs.insert({i, j});
  std::set<std::pair<std::size_t, std::size_t>> pairs_z3;
  for (const auto& ov : z.overlaps) {
    pairs_z3.insert({ov.first, ov.second});
    CHECK(is_valid(t, ov.witness));
    CHECK(row_matches(t, ov.first, ov.witness));
    CHECK(row_matches(t, ov.second, ov.witness));
  }
  CHECK(pairs_z3 == pairs);
}

// A table with its own row storage, for mutants.
struct owned {
  std::vector<rule> rows;
  std::string name;
  table view;
  owned(const table& base, std::vector<rule> r, std::string n) : rows(std::move(r)), name(std::move(n)), view(base) {
    view.name = name;
    view.rules = rows;
  }
};

int line_of(const std::string& text, std::string_view needle) {
  const auto at = text.rfind(needle);
  REQUIRE(at != std::string::npos);
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
}

}  // namespace

TEST_CASE("Z3 and the enumeration agree on every built-in table") {
  for (const table* t : builtin_tables) agrees(*t, proofs::check_single(*t));
}

TEST_CASE("the dead rows of the built-in tables and the rows that block them") {
  const auto z = proofs::check_single(classifiers::qemu_10_1);
  REQUIRE(z.dead.size() == 1);
  const auto& t = classifiers::qemu_10_1;
  CHECK(t.rules[z.dead[0].row].id == "nopeek.no_multifd");
  CHECK_FALSE(z.dead[0].unmatchable);
  REQUIRE(z.dead[0].blockers.size() == 2);
  CHECK(t.rules[z.dead[0].blockers[0]].id == "nopeek.multifd");
  CHECK(t.rules[z.dead[0].blockers[1]].id == "nopeek.main");

  const auto v6 = proofs::check_single(classifiers::patch_v6);
  const auto& p = classifiers::patch_v6;
  REQUIRE(v6.dead.size() == 1);
  CHECK(p.rules[v6.dead[0].row].id == "after_mm.implicit_main");
  REQUIRE(v6.dead[0].blockers.size() == 1);
  CHECK(p.rules[v6.dead[0].blockers[0]].id == "after_mm.preempt");
  REQUIRE(v6.implicit_defaults.size() == 1);
  CHECK(p.rules[v6.implicit_defaults[0].row].id == "nopeek.implicit_main");
  CHECK(v6.implicit_defaults[0].witness.transport != transport::socket);
  CHECK_FALSE(v6.holds());
  CHECK(proofs::check_single(classifiers::reference).holds());
}

TEST_CASE("Z3 and the enumeration agree on broken tables") {
  agrees(broken::gap, proofs::check_single(broken::gap));
  const auto g = proofs::check_single(broken::gap);
  REQUIRE(g.gap.has_value());
  CHECK(g.gap->transport == transport::socket);  // a peekable channel
  CHECK(g.gap->magic != first_bytes::vm_file_magic);

  const auto d = proofs::check_single(broken::dead);
  agrees(broken::dead, d);
  REQUIRE(d.dead.size() == 3);
  CHECK(d.dead[0].row == 2);
  CHECK(d.dead[0].blockers == std::vector<std::size_t>{0, 1});  // neither alone covers it
  CHECK(d.dead[1].row == 3);
  CHECK(d.dead[1].unmatchable);  // postcopy-preempt needs postcopy-ram
  CHECK(d.dead[2].row == 4);
  CHECK(d.dead[2].blockers == std::vector<std::size_t>{0, 1});

  // Every built-in table with one row deleted, or two neighbours swapped.
  std::size_t mutants = 0;
  for (const table* t : builtin_tables) {
    const std::vector<rule> rows(t->rules.begin(), t->rules.end());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      auto del = rows;
      del.erase(del.begin() + static_cast<std::ptrdiff_t>(i));
      owned m(*t, del, std::string(t->name) + " without " + std::string(rows[i].id));
      agrees(m.view, proofs::check_single(m.view));
      ++mutants;
      if (i + 1 == rows.size()) continue;
      auto swp = rows;
      std::swap(swp[i], swp[i + 1]);
      owned s(*t, swp, std::string(t->name) + " with " + std::string(rows[i].id) + " after the next");
      agrees(s.view, proofs::check_single(s.view));
      ++mutants;
    }
  }
  MESSAGE(mutants << " broken tables checked");
  CHECK(mutants > 100);
}

TEST_CASE("a table read from C: findings name the row and its file:line") {
  const std::string text = write_c(classifiers::patch_v6);
  const auto t = read_classifier(text, "patch_v6.c", classifiers::qemu_10_1);
  const auto z = proofs::check_single(t.view);
  agrees(t.view, z);
  const std::string init = "patch_v6.c:" + std::to_string(line_of(text, "MigChannelType channel = CH_MAIN;"));
  REQUIRE(z.implicit_defaults.size() == 1);
  const auto& row = t.view.rules[z.implicit_defaults[0].row];
  CHECK(proofs::where(row) == "nopeek.implicit_main (" + init + ")");
  // The outer implicit default needs main and multifd done without main.
  REQUIRE(z.dead.size() == 1);
  CHECK(proofs::where(t.view, z.dead[0].row) == "after_mm.implicit_main (" + init + ")");
  CHECK(z.dead[0].unmatchable);
  CHECK(proofs::where(t.view, t.view.rules.size()) == "(no rule)");
  CHECK(proofs::where(classifiers::qemu_10_1.rules[0]) == "peek.wait");  // built-in rows have no origin

  // The other forms: agreement, and a dead row only where the built-in table records one.
  for (const table* b :
       {&classifiers::qemu_8_0, &classifiers::qemu_10_1, &classifiers::qemu_11_1, &classifiers::io_watch}) {
    const auto u = testing::written(*b);
    agrees(u.view, proofs::check_single(u.view));
  }
  const testing::patch_v6_fixed fix;
  const auto fixed = testing::written(fix.view, classifiers::qemu_10_1);
  const auto f = proofs::check_single(fixed.view);
  agrees(fixed.view, f);
  CHECK(f.holds());
}

TEST_CASE("overlaps are not looked for in a table of more than 128 rows") {
  std::vector<rule> rows;
  for (int i = 0; i < 130; ++i)
    rows.push_back(rule{"r", {.has_main = i % 2 ? yes : no}, i % 2 ? verdict::main : verdict::multifd});
  owned big(classifiers::qemu_10_1, rows, "big");
  proofs::single_options o;
  o.blockers = false;
  const auto z = proofs::check_single(big.view, o);
  CHECK(z.overlaps_skipped);
  CHECK(z.overlaps.empty());
  CHECK(z.dead.size() == 128);  // every row after the first two
  CHECK_FALSE(proofs::check_single(classifiers::qemu_10_1).overlaps_skipped);
}
