// Issue 5 §3: `migchan proxy` between a real 7.2 source and a real 7.2 destination. Natural
// order completes on both; the order of qemu-7.2's sound counterexample (--order TRACE) makes
// the destination print the model's error (the source may still say completed: the proxy's
// buffers hold the small stream, qemu-7.2-peer.md §7).
#include "impl/conform.h"
#include "impl/qemu/temp_dir.h"
#include "tests/interop/harness.h"
#include "tests/interop/migchan_exe.h"

#include <cstdlib>

using namespace migchan;
using namespace migchan::interop;

namespace {
conform::options opts() { return {migchan_exe(), "qemu-7.2"}; }
}  // namespace

TEST_CASE("proxy between real 7.2 source and destination") {
  MIGCHAN_REQUIRE_QEMU();
  qemu::temp_dir dir("migchan-proxy-test-");
  const auto o = opts();
  const auto cx = conform::make_counterexample(o, dir.path());
  REQUIRE(cx.has_value());
  REQUIRE(!cx->expected_error.empty());

  SUBCASE("natural order completes on both sides") {
    const auto r = conform::run_proxy(o, cx, true);
    INFO(r.prediction << "\n" << r.outcome << "\n" << r.details.dump());
    CHECK(r.verdict == conform::verdict_kind::agree);
    CHECK(r.details["destination_status"] == "completed");
    CHECK(r.details["source_status"] == "completed");
    MESSAGE("proxy natural: " << r.seconds << " s");
  }
  SUBCASE("counterexample order: the destination prints the model's error") {
    const auto r = conform::run_proxy(o, cx, false);
    INFO(r.prediction << "\n" << r.outcome << "\n" << r.details.dump());
    CHECK(r.verdict == conform::verdict_kind::agree);
    CHECK(r.details["stderr"].get<std::string>().find(cx->expected_error) != std::string::npos);
    MESSAGE("proxy counterexample: " << r.seconds << " s, source " << r.details["source_status"]);
  }
}
