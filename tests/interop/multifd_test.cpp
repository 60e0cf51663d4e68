// (b) multifd with 2 and 4 channels, real source -> real destination.
#include "tests/interop/harness.h"

#include <set>
#include <string>

using namespace migchan::qemu;
using namespace migchan::interop;

namespace {

void migrate_multifd(int channels) {
  // -incoming defer: with -incoming unix:/tcp: the listen backlog is fixed at 1 before multifd is
  // on, and the extra connects can stall for a second (research §6 d3).
  // The trace shows which multifd channels the destination really set up.
  qemu_vm dst({.name = "dst",
               .incoming_defer = true,
               .extra_args = {"-trace", "multifd_recv_new_channel"}});
  qemu_vm src({.name = "src"});
  INFO("dst stderr: " << dst.proc().output());
  INFO("src stderr: " << src.proc().output());

  for (auto *vm : {&dst, &src}) {
    vm->set_capabilities({{"multifd", true}});
    vm->set_parameters({{"multifd-channels", channels}});
  }
  auto uri = dst.unix_uri("mig.sock");
  dst.migrate_incoming(uri);
  src.migrate(uri);

  auto s = src.wait_for_status({"completed"}, migrate_deadline);
  auto d = dst.wait_for_status({"completed"}, migrate_deadline);
  CHECK(s["status"] == "completed");
  CHECK(d["status"] == "completed");

  std::string err = dst.proc().output();
  std::set<int> ids;
  for (int id = 0; id < channels; ++id)
    if (err.find("multifd_recv_new_channel channel " + std::to_string(id)) != std::string::npos)
      ids.insert(id);
  CHECK(ids.size() == static_cast<size_t>(channels));
  CHECK(err.find("failed to receive packet") == std::string::npos);
}

} // namespace

TEST_CASE("multifd with 2 channels completes on both sides") {
  MIGCHAN_REQUIRE_QEMU();
  migrate_multifd(2);
}

TEST_CASE("multifd with 4 channels completes on both sides") {
  MIGCHAN_REQUIRE_QEMU();
  migrate_multifd(4);
}

TEST_CASE("multifd with a source uuid the destination does not expect fails, said only on stderr") {
  MIGCHAN_REQUIRE_QEMU();
  // research §6 d4: MultiFDInit carries the source's -uuid and the destination compares it.
  const std::string uuid = "11111111-2222-3333-4444-555555555555";
  qemu_vm dst({.name = "dst", .incoming_defer = true});
  qemu_vm src({.name = "src", .extra_args = {"-uuid", uuid}});
  INFO("dst stderr: " << dst.proc().output());
  INFO("src stderr: " << src.proc().output());

  for (auto *vm : {&dst, &src}) {
    vm->set_capabilities({{"multifd", true}});
    vm->set_parameters({{"multifd-channels", 2}});
  }
  auto uri = dst.unix_uri("mig.sock");
  dst.migrate_incoming(uri);
  src.migrate(uri);

  CHECK(dst.proc().wait_for_output("multifd: received uuid '" + uuid +
                                       "' and expected uuid '00000000-0000-0000-0000-000000000000'",
                                   migrate_deadline));
  CHECK(src.wait_for_status({"failed"}, migrate_deadline)["status"] == "failed");
  // The destination's QMP shows no status at all; it stays alive, waiting (research §7).
  CHECK_FALSE(dst.query_migrate().contains("status"));
  CHECK(dst.proc().is_alive());
}
