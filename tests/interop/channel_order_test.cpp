// (d) what a multifd source puts on the wire, seen by a raw drain-only unix-socket sink.
#include "tests/interop/channel_sink.h"
#include "tests/interop/harness.h"

#include <array>
#include <set>

using namespace migchan::qemu;
using namespace migchan::interop;
using namespace std::chrono_literals;

namespace {

using magic = std::array<uint8_t, 4>;
constexpr magic vm_file_magic = {0x51, 0x45, 0x56, 0x4d};  // QEMU_VM_FILE_MAGIC "QEVM"
constexpr magic multifd_magic = {0x11, 0x22, 0x33, 0x44};  // MULTIFD_MAGIC

magic first4(const sink_channel& ch) {
  magic m{};
  for (size_t i = 0; i < m.size() && i < ch.head.size(); ++i) m[i] = ch.head[i];
  return m;
}

uint32_t be32_at(const sink_channel& ch, size_t off) {
  return uint32_t(ch.head.at(off)) << 24 | uint32_t(ch.head.at(off + 1)) << 16 | uint32_t(ch.head.at(off + 2)) << 8 |
         uint32_t(ch.head.at(off + 3));
}

}  // namespace

TEST_CASE("multifd source: main is accepted first, every channel opens with its magic") {
  MIGCHAN_REQUIRE_QEMUS(qemus);
  constexpr int channels = 2;
  // Three runs each, because the multifd order varies from run to run.
  for (int i = 0; i < 3 * static_cast<int>(qemus.size()); ++i) {
    const auto* q = qemus[static_cast<size_t>(i / 3)];
    CAPTURE(q->label());
    CAPTURE(i % 3);
    qemu_vm src({.name = "src", .binary = q->binary});
    INFO("src stderr: " << src.proc().output());
    auto sock = src.dir() / "sink.sock";
    channel_sink sink(sock);

    src.set_capabilities({{"multifd", true}});
    src.set_parameters({{"multifd-channels", channels}});
    src.migrate("unix:" + sock.string());
    // No return path without postcopy/return-path: draining alone lets the source finish.
    src.wait_for_status({"completed"}, migrate_deadline);
    auto seen = sink.wait_all_closed(channels + 1, 3s);

    REQUIRE(seen.size() == channels + 1);
    const auto& main = seen[0];
    REQUIRE(main.head.size() >= 8);
    CHECK(first4(main) == vm_file_magic);
    CHECK(be32_at(main, 4) == 3);  // QEMU_VM_FILE_VERSION

    std::set<int> ids;
    for (size_t i = 1; i < seen.size(); ++i) {
      CAPTURE(i);
      const auto& ch = seen[i];
      // MultiFDInit_t: 64 bytes, magic, version 1, uuid (zero by default), channel id at 24.
      REQUIRE(ch.head.size() == channel_sink::head_size);
      CHECK(first4(ch) == multifd_magic);
      CHECK(be32_at(ch, 4) == 1);
      for (size_t b = 8; b < 24; ++b) CHECK(ch.head[b] == 0);
      ids.insert(ch.head[24]);
    }
    CHECK(ids == std::set<int>{0, 1});
    // Every byte was drained: main carries the device state, more than any idle channel.
    CHECK(main.bytes > 64);
  }
}
