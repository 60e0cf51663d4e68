#include "impl/runtime/return_path.h"
#include "impl/runtime/stream_writer.h"
#include "tests/impl/hex.h"

#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

using namespace migchan;
using migchan::test::from_hex;

namespace {

const std::vector<ram_block> blocks{{"pc.ram", 64 << 20}, {"pc.rom", 0x20000}};

// What was sent, and the events logged, in order.
struct seen {
  bytes sent;
  std::vector<std::string> events;
};

seen apply(const std::vector<rp_action>& actions, seen s = {}) {
  for (const auto& a : actions) {
    s.sent.insert(s.sent.end(), a.data.begin(), a.data.end());
    s.events.push_back(a.event);
  }
  return s;
}

stream_writer start(bool open_return_path) {
  stream_writer w;
  w.header().configuration("pc-i440fx-11.1");
  if (open_return_path) w.command(mig_cmd::open_return_path);
  w.ping(1);
  w.section(qemu_vm_section_start, 1, "ram", 0, 4).ram_setup(blocks).ram_flag(ram_save_flag_eos).footer(1);
  return w;
}

}  // namespace

TEST_CASE("a PONG for every PING with its value, in order, after OPEN_RETURN_PATH") {
  return_path rp({});
  auto w = start(true);
  stream_writer p;
  p.command(mig_cmd::postcopy_listen).ping(3).ping(ping_packaged_loaded).command(mig_cmd::postcopy_run);
  w.ping(2).packaged(p.data()).ping(4);
  const auto s = apply(rp.feed(w.data()));
  CHECK(s.sent == from_hex("0002000400000001 0002000400000002 0002000400000003 0002000400000042 0002000400000004"));
  CHECK(s.events == std::vector<std::string>{"rp_pong", "ram_blocks", "rp_pong", "rp_pong", "rp_pong", "rp_pong"});
  CHECK(rp.shut_due());  // the return path is open: SHUT at the end
}

TEST_CASE("a PING without a return path is QEMU's error, and no PONG") {
  return_path rp({});
  std::vector<rp_action> got = rp.feed(start(false).data());
  REQUIRE_FALSE(got.empty());
  CHECK(got[0].data.empty());
  CHECK(got[0].event == "error");
  CHECK(got[0].fields["error"] == "CMD_PING (0x1) received with no return path");
  CHECK_FALSE(rp.shut_due());
}

TEST_CASE("SHUT once, at the end: EOF after postcopy, the VM description after precopy") {
  {
    return_path rp({});
    auto w = start(true);
    w.section(qemu_vm_section_end, 1).ram_flag(ram_save_flag_eos).footer(1).eof();
    auto s = apply(rp.feed(w.data()));
    CHECK(s.events.back() == "ram_blocks");  // precopy: the description still to come
    s = apply(rp.feed(stream_writer().vmdescription("{}").data()));
    CHECK(s.events == std::vector<std::string>{"main_end", "rp_shut"});
    CHECK(s.sent == rp_shut());
    CHECK(rp.shut_sent());
    CHECK_FALSE(rp.shut_due());
    CHECK_FALSE(rp.idle());
  }
  {
    return_path rp({});
    auto w = start(true);
    w.packaged(stream_writer().command(mig_cmd::postcopy_listen).command(mig_cmd::postcopy_run).data());
    w.section(qemu_vm_section_end, 1).ram_flag(ram_save_flag_eos).footer(1).eof();
    const auto s = apply(rp.feed(w.data()));
    CHECK(s.events.back() == "rp_shut");
    CHECK(s.events[s.events.size() - 2] == "main_end");
  }
}

TEST_CASE("the idle fallback: SHUT only while the end cannot be recognised") {
  return_path rp({.shut = true, .recovery = false, .ram = std::nullopt});
  auto w = start(false);
  apply(rp.feed(w.data()));
  CHECK_FALSE(rp.idle());  // mid-stream, and the reader knows how it ends
  apply(rp.feed(stream_writer().section(qemu_vm_section_full, 5, "timer").raw(bytes(10, 1)).data()));
  const auto a = rp.idle();  // device state being skipped: the end may pass unseen
  REQUIRE(a);
  CHECK(a->data == rp_shut());
  CHECK(a->event == "rp_shut");
  CHECK_FALSE(rp.idle());
  // After an error too.
  return_path broken({.shut = true, .recovery = false, .ram = std::nullopt});
  apply(broken.feed(from_hex("0000000000000000")));
  CHECK(broken.reader().failed());
  CHECK(broken.idle());
}

TEST_CASE("recovery: a bitmap per RECV_BITMAP from the original layout, RESUME_ACK after POSTCOPY_RESUME") {
  const ram_layout layout{1, blocks, 4096};
  return_path rp({.shut = true, .recovery = true, .ram = layout});
  stream_writer w;
  w.raw(recovery_command_bytes("pc.rom")).raw(recovery_command_bytes("pc.ram")).command(mig_cmd::postcopy_resume);
  auto s = apply(rp.feed(w.data()));
  CHECK(s.events == std::vector<std::string>{"rp_recv_bitmap", "rp_recv_bitmap", "rp_resume_ack"});
  bytes want = rp_recv_bitmap("pc.rom", 0x20000, 4096, true);
  const auto ram = rp_recv_bitmap("pc.ram", 64 << 20, 4096, true);
  want.insert(want.end(), ram.begin(), ram.end());
  const auto ack = rp_resume_ack();
  want.insert(want.end(), ack.begin(), ack.end());
  CHECK(s.sent == want);
  // The rest of RAM, then EOF: the end of a recovered postcopy.
  s = apply(rp.feed(stream_writer()
                        .section(qemu_vm_section_part, 1)
                        .ram_page(0, ram_save_flag_zero, "pc.ram", from_hex("00"))
                        .ram_flag(ram_save_flag_eos)
                        .footer(1)
                        .eof()
                        .data()));
  CHECK(s.events == std::vector<std::string>{"main_end", "rp_shut"});
  // Without the layout: an error naming the block, nothing sent.
  return_path blind({.shut = true, .recovery = true, .ram = std::nullopt});
  const auto b = apply(blind.feed(recovery_command_bytes("pc.ram")));
  CHECK(b.sent.empty());
  REQUIRE(b.events == std::vector<std::string>{"error"});
  CHECK(blind.feed({}).empty());
}

TEST_CASE("the ram_blocks line and --ram-blocks read it back") {
  const ram_layout layout{2, blocks, 4096};
  json_line line = to_json(layout);
  CHECK(line.dump() == R"({"section_id":2,"page_size":4096,"blocks":[{"name":"pc.ram","used_length":67108864},)"
                       R"({"name":"pc.rom","used_length":131072}]})");
  line["t"] = 0.5, line["conn"] = 0, line["event"] = "ram_blocks";
  std::istringstream log("{\"listening\":\"x\"}\nnot json\n" + line.dump() + "\n{\"summary\":{}}\n");
  CHECK(ram_layout_from_log(log) == layout);
  std::istringstream none("{\"event\":\"eof\"}\n");
  CHECK_FALSE(ram_layout_from_log(none));
  std::istringstream bad("{\"event\":\"ram_blocks\",\"blocks\":3}\n");
  CHECK_THROWS_WITH_AS(ram_layout_from_log(bad),
                       "line 1: a ram_blocks line without section_id, page_size and blocks [{name, used_length}]",
                       std::invalid_argument);
}
