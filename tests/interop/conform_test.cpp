// Issue 5 §4: `migchan conform` against the QEMU found here, and with a bad --qemu.
#include "impl/qemu/process.h"
#include "tests/interop/harness.h"
#include "tests/interop/migchan_exe.h"

#include <cstdlib>

using namespace migchan;
using namespace migchan::interop;

namespace {
std::string exe() { return migchan_exe(); }
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

TEST_CASE("migchan conform with a classifier of another version shows the disagreement (exit 1)") {
  // qemu-10.1 peeks, so the model says a multifd channel before main is fine; a real 7.2 takes
  // the first connection as main and fails. Only meaningful where the QEMU here is 7.2.
  MIGCHAN_REQUIRE_QEMU();
  const auto& v = qemu::qemu_available().version;
  if (!v || (*v)[0] != 7 || (*v)[1] != 2) {
    MESSAGE("SKIPPED: needs QEMU 7.2, this one is another version");
    return;
  }
  qemu::process p({exe(), "conform", "--qemu", qemu::qemu_available().binary, "--classifier", "qemu-10.1"},
                  {.capture_stdout = true});
  const auto rc = p.wait_exit(std::chrono::milliseconds(60000));
  INFO(p.output());
  REQUIRE(rc.has_value());
  CHECK(*rc == 1);
  CHECK(p.output().find("multifd before main [qemu-10.1]: disagree") != std::string::npos);
  CHECK(p.output().find("natural order [qemu-10.1]: agree") != std::string::npos);
}
