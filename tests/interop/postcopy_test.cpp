// (c) postcopy-ram, real source -> real destination, switched to postcopy at once, on every
// installed QEMU.
#include "tests/interop/harness.h"

using namespace migchan::qemu;
using namespace migchan::interop;

TEST_CASE("postcopy-ram real source to real destination completes on both sides") {
  MIGCHAN_FOR_EACH_QEMU(q) {
    migration_pair m(*q);
    INFO("dst stderr: " << m.dst.proc().output());
    INFO("src stderr: " << m.src.proc().output());
    m.set_capabilities({{"postcopy-ram", true}});
    // 1 MiB/s keeps precopy busy long enough for migrate-start-postcopy to land.
    m.src.set_parameters({{"max-bandwidth", 1 << 20}});
    m.start();
    m.src.start_postcopy();
    const auto [s, d] = m.wait_completed();
    CHECK(s["status"] == "completed");
    CHECK(d["status"] == "completed");
    // It really went through postcopy: the RAM was sent after the switch.
    CHECK(s["ram"]["postcopy-bytes"].get<uint64_t>() > 0);
  }
}
