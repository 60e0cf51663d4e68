// (a) real QEMU source -> real QEMU destination, plain precopy over a unix socket.
#include "tests/interop/harness.h"

using namespace migchan::qemu;
using namespace migchan::interop;

TEST_CASE("precopy real source to real destination completes on both sides") {
  MIGCHAN_REQUIRE_QEMU();
  qemu_vm dst({.name = "dst", .incoming_defer = true});
  qemu_vm src({.name = "src"});
  INFO("dst stderr: " << dst.proc().output());
  INFO("src stderr: " << src.proc().output());

  // Unix sockets in the destination's private dir: no port to collide with.
  auto uri = dst.unix_uri("mig.sock");
  dst.migrate_incoming(uri);
  src.migrate(uri);

  auto s = src.wait_for_status({"completed"}, migrate_deadline);
  auto d = dst.wait_for_status({"completed"}, migrate_deadline);
  CHECK(s["status"] == "completed");
  CHECK(d["status"] == "completed");
  CHECK(s["ram"]["transferred"].get<uint64_t>() > 0);
  // The destination takes over the source's runstate: prelaunch, as the -S source never ran.
  CHECK(dst.qmp().execute("query-status")["status"] == "prelaunch");
  CHECK(src.qmp().execute("query-status")["status"] == "postmigrate");
}
