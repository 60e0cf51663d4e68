// (c) postcopy-ram, real source -> real destination, switched to postcopy at once.
#include "tests/interop/harness.h"

using namespace migchan::qemu;
using namespace migchan::interop;

TEST_CASE("postcopy-ram real source to real destination completes on both sides") {
  MIGCHAN_REQUIRE_QEMU();
  qemu_vm dst({.name = "dst", .incoming_defer = true});
  qemu_vm src({.name = "src"});
  INFO("dst stderr: " << dst.proc().output());
  INFO("src stderr: " << src.proc().output());

  for (auto *vm : {&dst, &src})
    vm->set_capabilities({{"postcopy-ram", true}});
  // 1 MiB/s keeps precopy busy long enough for migrate-start-postcopy to land (research §6).
  src.set_parameters({{"max-bandwidth", 1 << 20}});
  auto uri = dst.unix_uri("mig.sock");
  dst.migrate_incoming(uri);
  src.migrate(uri);
  src.start_postcopy();

  auto s = src.wait_for_status({"completed"}, migrate_deadline);
  auto d = dst.wait_for_status({"completed"}, migrate_deadline);
  CHECK(s["status"] == "completed");
  CHECK(d["status"] == "completed");
  // It really went through postcopy: the RAM was sent after the switch.
  CHECK(s["ram"]["postcopy-bytes"].get<uint64_t>() > 0);
}
