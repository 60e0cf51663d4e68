// Issue 5 §4: `migchan conform` against the QEMU found here, and with a bad --qemu.
#include "impl/qemu/process.h"
#include "tests/interop/harness.h"

#include <cstdlib>

using namespace migchan;
using namespace migchan::interop;

namespace {
std::string exe() {
  const char* e = std::getenv("MIGCHAN");
  REQUIRE_MESSAGE(e, "MIGCHAN must name the migchan executable");
  return e;
}
}  // namespace

TEST_CASE("migchan conform against this QEMU: every scenario agrees") {
  MIGCHAN_REQUIRE_QEMU();
  qemu::process p({exe(), "conform", "--qemu", qemu::qemu_available().binary}, {.capture_stdout = true});
  const auto rc = p.wait_exit(std::chrono::milliseconds(60000));
  INFO(p.output());
  REQUIRE(rc.has_value());
  CHECK(*rc == 0);
  CHECK(p.output().find("classifier ") != std::string::npos);
  CHECK(p.output().find(": disagree") == std::string::npos);
}

TEST_CASE("migchan conform with a bad --qemu exits 2") {
  for (const char* bad : {"/nonexistent/qemu-system-x86_64", "/bin/true"}) {
    qemu::process p({exe(), "conform", "--qemu", bad}, {.capture_stdout = true});
    const auto rc = p.wait_exit(std::chrono::milliseconds(10000));
    INFO(bad << ": " << p.output());
    REQUIRE(rc.has_value());
    CHECK(*rc == 2);
  }
}
