// (b) multifd with 2 and 4 channels, real source -> real destination, on every installed QEMU.
#include "impl/qemu/outcome.h"
#include "tests/interop/harness.h"

#include <set>
#include <string>

using namespace migchan::qemu;
using namespace migchan::interop;

namespace {

void migrate_multifd(const availability& q, int channels) {
  // -incoming defer: with -incoming unix:/tcp: the listen backlog is fixed at 1 before multifd is
  // on, and the extra connects can stall for a second; 11.1 also refuses multifd once incoming
  // has started. The trace shows which multifd channels the destination really set up.
  migration_pair m(q, {.extra_args = {"-trace", "multifd_recv_new_channel"}});
  INFO("dst stderr: " << m.dst.proc().output());
  INFO("src stderr: " << m.src.proc().output());
  m.set_capabilities({{"multifd", true}});
  for (auto* vm : {&m.dst, &m.src}) vm->set_parameters({{"multifd-channels", channels}});
  m.start();
  const auto [s, d] = m.wait_completed();
  CHECK(s["status"] == "completed");
  CHECK(d["status"] == "completed");

  std::string err = m.dst.proc().output();
  std::set<int> ids;
  for (int id = 0; id < channels; ++id)
    if (err.find("multifd_recv_new_channel channel " + std::to_string(id)) != std::string::npos) ids.insert(id);
  CHECK(ids.size() == static_cast<size_t>(channels));
  CHECK(err.find("failed to receive packet") == std::string::npos);
}

}  // namespace

TEST_CASE("multifd with 2 channels completes on both sides") {
  MIGCHAN_FOR_EACH_QEMU(q) { migrate_multifd(*q, 2); }
}

TEST_CASE("multifd with 4 channels completes on both sides") {
  MIGCHAN_FOR_EACH_QEMU(q) { migrate_multifd(*q, 4); }
}

TEST_CASE(
    "multifd with a source uuid the destination does not expect: 7.2 says it only on stderr, "
    "11.1 exits") {
  MIGCHAN_FOR_EACH_QEMU(q) {
    // MultiFDInit_t carries the source's -uuid and the destination compares it with its own.
    const std::string uuid = "11111111-2222-3333-4444-555555555555";
    migration_pair m(*q, vm_options{}, {.extra_args = {"-uuid", uuid}});
    INFO("dst stderr: " << m.dst.proc().output());
    INFO("src stderr: " << m.src.proc().output());
    m.set_capabilities({{"multifd", true}});
    for (auto* vm : {&m.dst, &m.src}) vm->set_parameters({{"multifd-channels", 2}});
    m.start();

    CHECK(m.dst.proc().wait_for_output("multifd: received uuid '" + uuid +
                                           "' and expected uuid '00000000-0000-0000-0000-000000000000'",
                                       migrate_deadline));
    CHECK(m.src.wait_for_status({"failed"}, migrate_deadline)["status"] == "failed");
    // The error is printed: whatever follows (an exit, a status) follows within milliseconds.
    const auto d = watch(m.dst, std::chrono::milliseconds(500));
    if (q->version < version{8, 0, 0})
      // 7.2's QMP shows no status at all; it stays alive, waiting.
      CHECK(d.describe() == "alive, no migration status");
    else if (q->version >= version{11, 1, 0})
      // 11.1 fails the incoming migration and, exiting on error by default, exits.
      CHECK(d.describe() == "exited with code 1");
  }
}
