// The single-arrival checker: built-in tables pass at compile time, and the
// checker finds gaps, dead rows and duplicate ids in deliberately broken ones.
#include <doctest/doctest.h>

#include "model/builtin.h"
#include "model/check.h"
#include "tests/model/broken_tables.h"

using namespace migchan;

// The built-in tables are checked where they are compiled (model/compiled_tables.cpp).

namespace migchan::broken {
constexpr std::array dup_rules{
    rule{"x", {.has_main = yes}, verdict::multifd},
    rule{"x", {}, verdict::main},
};
constexpr table dup{"dup", "", "", dup_rules, {}, classifiers::qemu_10_1.sem};
}  // namespace migchan::broken

TEST_CASE("a table without an else has a gap, and the checker names an unmatched observation") {
  constexpr auto a = analyse(broken::gap);
  static_assert(a.gap.has_value());
  CHECK(a.gap->transport == transport::socket);
  CHECK(a.gap->magic != first_bytes::vm_file_magic);
  const bool mm = a.gap->has_main && (!a.gap->multifd || a.gap->all_multifd);
  CHECK_FALSE(mm);
}

TEST_CASE("a row covered by the union of earlier rows is dead") {
  constexpr auto a = analyse(broken::dead);
  static_assert(!a.gap.has_value());
  CHECK(a.dead_count == 3);
  CHECK(broken::dead.rules[a.dead].id == "shadowed");
  CHECK_FALSE(a.fires[3]);
  CHECK_FALSE(a.fires[4]);
}

namespace migchan::broken {
// A row that tells a TLS channel's kind by bytes nobody peeked.
constexpr std::array blind_rules{
    rule{"by_magic", {.magic = of(first_bytes::multifd_magic)}, verdict::multifd},
    rule{"else", {}, verdict::main},
};
constexpr table blind{"blind", "", "", blind_rules, {}, classifiers::qemu_10_1.sem};
}  // namespace migchan::broken

TEST_CASE("a row that reads first bytes of a non-peekable channel is reported") {
  constexpr auto a = analyse(broken::blind);
  CHECK(a.unobservable == 0);
  for (const table* t : builtin_tables) CHECK(analyse(*t).unobservable == npos);
}

TEST_CASE("a repeated rule id is reported") {
  constexpr auto a = analyse(broken::dup);
  CHECK(a.duplicate == 1);
}

TEST_CASE("built-in tables: representatives cover every class of observation") {
  for (const table* t : builtin_tables) {
    const auto a = analyse(*t);
    INFO(t->name);
    CHECK(a.observations > 0);
    CHECK_FALSE(a.gap.has_value());
    CHECK(a.duplicate == npos);
  }
}

TEST_CASE("representatives agree with the full observation space") {
  // Enumerate every raw observation without the class shortcut, for 10.1.
  const table& t = classifiers::qemu_10_1;
  std::size_t unmatched = 0;
  std::array<bool, max_rules> fires{};
  const auto valid_count = for_each_raw_observation(t, [&](const observation& o) {
    const auto d = classify(t, o);
    if (!d.fired) ++unmatched;
    else fires[std::size_t(d.fired - t.rules.data())] = true;
  });
  const auto a = analyse(t);
  CHECK(valid_count > a.observations);
  CHECK(unmatched == 0);
  for (std::size_t i = 0; i < t.rules.size(); ++i) CHECK(fires[i] == a.fires[i]);
}
