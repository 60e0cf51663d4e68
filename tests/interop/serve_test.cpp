// A real QEMU source migrating into `migchan serve` (a child, killed by pid) with every built-in
// classifier, through conform's serve scenarios: the decisions and whether the source completes
// come from the model (predict_sources() of the destination's table on the orders the source can
// produce), never a constant.
#include "impl/conform/conform.h"
#include "model/builtin.h"
#include "tests/interop/harness.h"
#include "tests/interop/migchan_exe.h"

#include <algorithm>
#include <chrono>
#include <string>

using namespace migchan;
using namespace migchan::interop;

namespace {

long count(const nlohmann::json& decisions, const std::string& d) {
  return std::count(decisions.begin(), decisions.end(), d);
}

conform::target target_of(const qemu::availability& q, const table& t) {
  const conform::binary b{q.binary, *q.version};
  return conform::make_target(b, b, &t);
}

// One serve scenario with classifier `t`: it agrees with the model, and a run the model says
// completes drained every channel and registered every multifd id.
void check_serve(const qemu::availability& q, const table& t, const std::string& name) {
  const auto* s = conform::find_scenario(name);
  REQUIRE(s);
  const auto r = conform::run({migchan_exe()}, target_of(q, t), *s);
  INFO(r.scenario << " [" << r.classifier << "]\n  model: " << r.prediction << "\n  real:  " << r.outcome
                  << "\n  why: " << r.why << "\n  details: " << r.details.dump());
  if (r.fate == "refused") {
    // The table refuses the configuration (serve would exit 2): what QEMU says is the business
    // of the table of its own version, not of this one.
    CHECK(r.details["predicted"].contains("refused"));
    return;
  }
  CHECK(r.verdict == conform::verdict_kind::agree);
  if (r.fate != "started") return;  // a stall the model predicts
  const auto& summary = r.details["serve_summary"];
  REQUIRE(summary.is_object());
  nlohmann::json finals = nlohmann::json::array();
  for (const auto& c : summary["channels"]) finals.push_back(c["decision"]);
  INFO("final decisions: " << finals.dump());
  CHECK(count(finals, "main") == 1);
  CHECK(count(finals, "multifd") == (s->multifd ? s->channels : 0));
  // Every channel the source opened was taken as something: none left refused or undecided.
  CHECK(count(finals, "main") + count(finals, "multifd") + count(finals, "preempt") == long(finals.size()));
  if (s->multifd) {
    std::vector<int> ids = summary["multifd_ids"];
    std::sort(ids.begin(), ids.end());
    std::vector<int> want(static_cast<std::size_t>(s->channels));
    for (int i = 0; i < s->channels; ++i) want[static_cast<std::size_t>(i)] = i;
    CHECK(ids == want);
  }
  // QEMU's ram.transferred counts what its RAM code handed to the channels; serve counts every
  // byte of every channel, which adds the header, configuration, device state and VM
  // description: more, never less, and by less than 1 MiB for a 64 MiB pc machine. In postcopy
  // 11.1 sends the remaining RAM on main as whole pages, which it counts as postcopy bytes too.
  unsigned long long drained = 0;
  for (const auto& c : summary["channels"]) drained += c.value("bytes", 0ULL);
  const auto transferred = r.details["source_ram"].value("transferred", 0ULL);
  CHECK(transferred > 0);
  CHECK(drained >= transferred);
  CHECK(drained - transferred < (1ULL << 20));
}

const char* const serve_scenarios[] = {"serve-precopy",  "serve-multifd-2", "serve-multifd-4",
                                       "serve-postcopy", "serve-preempt",   "serve-multifd-postcopy"};

}  // namespace

TEST_CASE("every built-in classifier serves a real source as the model says") {
  MIGCHAN_REQUIRE_QEMU();
  const auto& q = qemu::qemu_available();
  for (const table* t : builtin_tables) {
    CAPTURE(t->name);
    for (const char* s : serve_scenarios) {
      CAPTURE(s);
      check_serve(q, *t, s);
    }
  }
}

TEST_CASE("multifd 4 channels into serve with qemu-7.2, 20 times: main accepted first, speaks last") {
  MIGCHAN_REQUIRE_QEMU();
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) {
    CAPTURE(i);
    check_serve(qemu::qemu_available(), classifiers::qemu_7_2, "serve-multifd-4");
  }
  MESSAGE("20 runs: " << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s");
}
