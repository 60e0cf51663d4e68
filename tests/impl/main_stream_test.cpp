#include "impl/runtime/main_stream.h"
#include "impl/runtime/stream_writer.h"
#include "tests/impl/hex.h"

#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

using namespace migchan;
using migchan::test::from_hex;

namespace {

// One line per event, for comparing whole runs.
std::string describe(const main_event& e) {
  switch (e.what) {
    case main_event::kind::command:
      return std::to_string(e.offset) + " " + std::string(name(e.cmd)) + " " + std::to_string(e.value) +
             (e.text.empty() ? "" : " " + e.text) + (e.packaged ? " packaged" : "");
    case main_event::kind::ram_setup: return std::to_string(e.offset) + " ram_setup";
    case main_event::kind::end: return std::to_string(e.offset) + " end";
    case main_event::kind::error: return std::to_string(e.offset) + " error " + e.text;
  }
  return "?";
}

struct run {
  std::vector<std::string> events;
  bool ended = false, failed = false;
  std::size_t most_buffered = 0;
};

// Feeds `b` cut at the given points, then closes when asked.
run read(const bytes& b, const std::vector<std::size_t>& cuts, bool close = false, main_stream_reader::options o = {}) {
  main_stream_reader r(o);
  run out;
  std::size_t at = 0;
  auto take = [&](const std::vector<main_event>& ev) {
    for (const auto& e : ev) out.events.push_back(describe(e));
    out.most_buffered = std::max(out.most_buffered, r.buffered());
  };
  for (auto cut : cuts) {
    take(r.feed(byte_view(b).subspan(at, cut - at)));
    at = cut;
  }
  take(r.feed(byte_view(b).subspan(at)));
  if (close) take(r.close());
  out.ended = r.ended();
  out.failed = r.failed();
  return out;
}

run read(const bytes& b, bool close = false, main_stream_reader::options o = {}) { return read(b, {}, close, o); }

std::vector<std::string> commands(const run& r) {
  std::vector<std::string> out;
  for (const auto& e : r.events)
    if (e.find(" error ") == std::string::npos && e.find(" end") == std::string::npos &&
        e.find("ram_setup") == std::string::npos)
      out.push_back(e.substr(e.find(' ') + 1));
  return out;
}

const std::vector<ram_block> pc_blocks{{"pc.ram", 64 << 20}, {"pc.bios", 0x40000}, {"pc.rom", 0x20000}};

bytes page(std::uint8_t fill) { return bytes(4096, fill); }

// Device state the reader cannot parse: bytes that look like footers and records but are
// not followed by what a stream continues with.
bytes device_data(std::uint32_t id) {
  stream_writer w;
  w.raw(from_hex("7e7e7e00")).footer(id + 1).raw(from_hex("0102"));  // another section's footer
  w.footer(id).raw(from_hex("09"));                                  // ours, then no record
  w.footer(id).raw(from_hex("04 00000009 00"));                      // ours, then an empty idstr
  w.raw(bytes(300, 0x7e));
  return w.data();
}

constexpr std::string_view description = R"({"page_size": 4096, "devices": []})";

// The records up to the end of precopy's iterations, as 11.1 writes them (ram id 1).
stream_writer precopy_start(bool return_path) {
  stream_writer w;
  w.header().configuration("pc-i440fx-11.1");
  if (return_path) w.command(mig_cmd::open_return_path).ping(1).postcopy_advise();
  w.section(qemu_vm_section_start, 1, "ram", 0, 4).ram_setup(pc_blocks).ram_flag(ram_save_flag_eos).footer(1);
  w.section(qemu_vm_section_part, 1)
      .ram_page(0, ram_save_flag_zero, "pc.ram", from_hex("00"))
      .ram_page(0x1000, ram_save_flag_page | ram_save_flag_continue, "", page(0x7e))
      .ram_page(0x2000, ram_save_flag_zero | ram_save_flag_continue, "", from_hex("00"))
      .ram_page(0, ram_save_flag_page, "pc.bios", page(0x08))
      .ram_flag(ram_save_flag_multifd_flush)
      .ram_flag(ram_save_flag_eos)
      .footer(1);
  return w;
}

// Completion: the ram section's end, device state, EOF and the VM description.
bytes precopy_stream(bool return_path) {
  auto w = precopy_start(return_path);
  w.command(mig_cmd::switchover_start);
  w.section(qemu_vm_section_end, 1).ram_flag(ram_save_flag_eos).footer(1);
  w.section(qemu_vm_section_full, 2, "timer").raw(device_data(2)).footer(2);
  w.section(qemu_vm_section_full, 3, "0000:00:01.3/piix4_pm", 0, 3).raw(device_data(3)).footer(3);
  w.eof().vmdescription(description);
  return w.data();
}

bytes package() {
  stream_writer p;
  p.command(mig_cmd::postcopy_listen);
  p.section(qemu_vm_section_full, 2, "timer").raw(device_data(2)).footer(2);
  p.section(qemu_vm_section_full, 3, "cpu", 0, 2).raw(device_data(3)).footer(3);
  p.ping(3).ping(ping_packaged_loaded).command(mig_cmd::postcopy_run);
  return p.data();
}

// A switch to postcopy: discards, the package, the rest of RAM, EOF without a description.
bytes postcopy_stream() {
  auto w = precopy_start(true);
  w.command(mig_cmd::switchover_start);
  w.command(mig_cmd::postcopy_ram_discard, from_hex("00 06 70632e72616d 00 0000000000001000 0000000000001000"));
  w.ping(2).packaged(package()).ping(4);
  w.section(qemu_vm_section_part, 1).ram_page(0x3000, ram_save_flag_zero, "pc.ram", from_hex("00"));
  w.ram_flag(ram_save_flag_eos).footer(1);
  w.section(qemu_vm_section_end, 1).ram_flag(ram_save_flag_eos).footer(1).eof();
  return w.data();
}

// First 64 bytes of main from a real 11.1.3 source, precopy and with postcopy-ram, and of a
// real 7.2.22 source with postcopy-ram.
const bytes real_11_precopy = from_hex(
    "5145564d00000003070000000e70632d6934343066782d31312e3101000000010372616d0000000000000004000000"
    "00040820040670632e72616d0000000004");
const bytes real_11_postcopy = from_hex(
    "5145564d00000003070000000e70632d6934343066782d31312e31080001000008000200040000000108000300100000"
    "00000000100000000000000010000100");
const bytes real_7_postcopy = from_hex(
    "5145564d00000003070000000d70632d6934343066782d372e3208000100000800020004000000010800030010000000"
    "00000010000000000000001000010000");
// What a real 11.1.3 source sent on main when it resumed a paused postcopy: RECV_BITMAP for
// each RAMBlock, POSTCOPY_RESUME, then RAM in section 1.
const bytes real_11_resume = from_hex(
    "08000a00070670632e72616d08000a0015142f726f6d406574632f616370692f7461626c657308000a0008077063"
    "2e62696f7308000a00070670632e726f6d08000a0016152f726f6d406574632f7461626c652d6c6f616465720800"
    "0a0013122f726f6d406574632f616370692f727364700800090000");
const ram_layout real_11_layout{1,
                                {{"pc.ram", 0x4000000},
                                 {"/rom@etc/acpi/tables", 0x20000},
                                 {"pc.bios", 0x40000},
                                 {"pc.rom", 0x20000},
                                 {"/rom@etc/table-loader", 0x1000},
                                 {"/rom@etc/acpi/rsdp", 0x1000}},
                                4096};

}  // namespace

TEST_CASE("real prefixes: the header, the machine and the commands before RAM") {
  REQUIRE(real_11_precopy.size() == 64);
  REQUIRE(real_11_postcopy.size() == 64);
  REQUIRE(real_7_postcopy.size() == 64);
  main_stream_reader r;
  CHECK(r.feed(real_11_precopy).empty());  // inside the ram setup record
  CHECK(r.machine() == "pc-i440fx-11.1");
  CHECK_FALSE(r.failed());
  CHECK_FALSE(r.return_path());
  CHECK(r.offset() == 52);  // the MEM_SIZE record has been read, its first block not yet

  const auto post = read(real_11_postcopy);
  CHECK(commands(post) == std::vector<std::string>{"OPEN_RETURN_PATH 0", "PING 1", "POSTCOPY_ADVISE 0"});
  CHECK_FALSE(post.failed);
  const auto old = read(real_7_postcopy);
  CHECK(commands(old) == std::vector<std::string>{"OPEN_RETURN_PATH 0", "PING 1", "POSTCOPY_ADVISE 0"});
  CHECK_FALSE(old.failed);
}

TEST_CASE("a real resumed main: one RECV_BITMAP per block, then POSTCOPY_RESUME") {
  auto resumed = real_11_resume;
  stream_writer rest;
  rest.section(qemu_vm_section_part, 1).ram_page(0x3fff000, ram_save_flag_zero, "pc.ram", from_hex("00"));
  rest.ram_flag(ram_save_flag_eos)
      .footer(1)
      .section(qemu_vm_section_end, 1)
      .ram_flag(ram_save_flag_eos)
      .footer(1)
      .eof();
  resumed.insert(resumed.end(), rest.data().begin(), rest.data().end());
  const auto r = read(resumed, false, {true, real_11_layout});
  CHECK(commands(r) == std::vector<std::string>{"RECV_BITMAP 0 pc.ram", "RECV_BITMAP 0 /rom@etc/acpi/tables",
                                                "RECV_BITMAP 0 pc.bios", "RECV_BITMAP 0 pc.rom",
                                                "RECV_BITMAP 0 /rom@etc/table-loader",
                                                "RECV_BITMAP 0 /rom@etc/acpi/rsdp", "POSTCOPY_RESUME 0"});
  CHECK(r.ended);  // after postcopy, QEMU_VM_EOF is the end
  CHECK(r.events.back() == std::to_string(resumed.size()) + " end");
  // Without the layout, section 1 is unknown: an error, not a guess.
  const auto blind = read(resumed, false, {true, std::nullopt});
  CHECK(blind.failed);
  // Not resumed: a stream must start with the header.
  CHECK(read(real_11_resume).failed);
}

TEST_CASE("precopy: RAM records, device state and the end after the VM description") {
  const auto s = precopy_stream(true);
  main_stream_reader r;
  std::vector<std::string> ev;
  for (const auto& e : r.feed(s)) ev.push_back(describe(e));
  CHECK(r.ended());
  CHECK(r.knows_end());
  CHECK(r.offset() == s.size());
  REQUIRE(r.ram());
  CHECK(r.ram()->section_id == 1);
  CHECK(r.ram()->blocks == pc_blocks);
  CHECK(r.return_path());
  CHECK_FALSE(r.postcopy());
  REQUIRE(ev.size() == 6);
  CHECK(ev[0] == "27 OPEN_RETURN_PATH 0");
  CHECK(ev[1] == "32 PING 1");
  CHECK(ev[4].find("SWITCHOVER_START") != std::string::npos);
  CHECK(ev[5] == std::to_string(s.size()) + " end");
  // Without the description (precopy), EOF is the end only once main closes.
  auto cut = s;
  cut.resize(s.size() - 5 - description.size());
  REQUIRE(cut.back() == qemu_vm_eof);
  main_stream_reader r2;
  r2.feed(cut);
  CHECK_FALSE(r2.ended());
  CHECK_FALSE(r2.knows_end());
  const auto last = r2.close();
  REQUIRE(last.size() == 1);
  CHECK(last[0].what == main_event::kind::end);
}

TEST_CASE("postcopy: every command inside the package, then EOF ends it without a description") {
  const auto s = postcopy_stream();
  const auto r = read(s);
  CHECK(r.ended);
  CHECK(commands(r) == std::vector<std::string>{"OPEN_RETURN_PATH 0", "PING 1", "POSTCOPY_ADVISE 0",
                                                "SWITCHOVER_START 0", "POSTCOPY_RAM_DISCARD 0", "PING 2",
                                                "PACKAGED " + std::to_string(package().size()),
                                                "POSTCOPY_LISTEN 0 packaged", "PING 3 packaged", "PING 66 packaged",
                                                "POSTCOPY_RUN 0 packaged", "PING 4"});
  CHECK(r.events.back() == std::to_string(s.size()) + " end");
}

TEST_CASE("7.2's form: ram in section 2, compressed and XBZRLE pages, no MULTIFD_FLUSH") {
  stream_writer w;
  w.header().configuration("pc-i440fx-7.2").command(mig_cmd::open_return_path).ping(1);
  w.section(qemu_vm_section_start, 2, "ram", 0, 4).ram_setup(pc_blocks).ram_flag(ram_save_flag_eos).footer(2);
  w.section(qemu_vm_section_part, 2)
      .ram_page(0, ram_save_flag_compress_page, "pc.ram", from_hex("00000003 aabbcc"))
      .ram_page(0x1000, ram_save_flag_xbzrle | ram_save_flag_continue, "", from_hex("01 0002 7e7e"))
      .ram_flag(ram_save_flag_eos)
      .footer(2);
  w.section(qemu_vm_section_end, 2).ram_flag(ram_save_flag_eos).footer(2);
  w.section(qemu_vm_section_full, 3, "timer").raw(device_data(3)).footer(3).eof().vmdescription("{}");
  const auto r = read(w.data());
  CHECK(r.ended);
  CHECK_FALSE(r.failed);
}

TEST_CASE("the configuration's subsections and a host page size after a block are read") {
  stream_writer s;
  s.header().configuration("pc-q35-11.1");
  const std::string caps = "configuration/capabilities", uuid = "configuration/uuid";
  s.raw(bytes{qemu_vm_subsection, static_cast<std::uint8_t>(caps.size())}).raw(bytes(caps.begin(), caps.end()));
  s.raw(from_hex("00000001 00000001 0f")).raw(from_hex("782d69676e6f72652d736861726564"));  // "x-ignore-shared"
  s.raw(bytes{qemu_vm_subsection, static_cast<std::uint8_t>(uuid.size())}).raw(bytes(uuid.begin(), uuid.end()));
  s.raw(from_hex("00000001")).raw(bytes(16, 0x11));
  s.command(mig_cmd::open_return_path).postcopy_advise(0x200000, 4096);
  // With x-ignore-shared each block has its address after it; with postcopy-ram, a block of
  // huge pages has its page size before that.
  s.section(qemu_vm_section_start, 1, "ram", 0, 4);
  s.ram_flag((0x4000000 + 0x40000) | ram_save_flag_mem_size);
  s.raw(from_hex("06 70632e72616d 0000000004000000 0000000000200000 0000000000000000"));
  s.raw(from_hex("07 70632e62696f73 0000000000040000 00000000fffc0000"));
  s.ram_flag(ram_save_flag_eos).footer(1).section(qemu_vm_section_end, 1).ram_flag(ram_save_flag_eos).footer(1);
  s.eof().vmdescription("{}");
  main_stream_reader r;
  r.feed(s.data());
  CHECK(r.ended());
  REQUIRE(r.ram());
  CHECK(r.ram()->blocks == std::vector<ram_block>{{"pc.ram", 0x4000000}, {"pc.bios", 0x40000}});
  CHECK(r.machine() == "pc-q35-11.1");
}

TEST_CASE("chunking: a cut at every byte boundary, and byte by byte, reads the same") {
  for (const auto& s : {postcopy_stream(), precopy_stream(false)}) {
    const auto whole = read(s);
    REQUIRE(whole.ended);
    for (std::size_t cut = 1; cut < s.size(); cut += (cut < 400 || s.size() - cut < 400 ? 1 : 97)) {
      CAPTURE(cut);
      const auto two = read(s, std::vector<std::size_t>{cut});
      REQUIRE(two.events == whole.events);
    }
    std::vector<std::size_t> each(s.size() - 1);
    for (std::size_t i = 0; i < each.size(); ++i) each[i] = i + 1;
    CHECK(read(s, each).events == whole.events);
  }
}

TEST_CASE("errors: QEMU's checks, and what cannot be followed, in one line with where") {
  auto fails_with = [](const bytes& b, const std::string& text) {
    const auto r = read(b, true);
    CAPTURE(text);
    REQUIRE(r.failed);
    REQUIRE_FALSE(r.events.empty());
    CHECK(r.events.back().find(text) != std::string::npos);
  };
  fails_with(from_hex("474554202f20485454502f312e300d0a"), "not a migration stream: magic 0x47455420");
  fails_with(from_hex("5145564d00000002"), "unsupported migration stream version 2");
  stream_writer base;
  base.header();
  fails_with(stream_writer(base).command(static_cast<mig_cmd>(99)).data(), "MIG_CMD 0x63 unknown (len 0x0)");
  fails_with(stream_writer(base).command(mig_cmd::ping, from_hex("0000000100")).data(),
             "PING received with bad length - expecting 4, got 5");
  fails_with(stream_writer(base).raw(from_hex("42")).data(), "unknown section type 0x42 (record at byte 8)");
  fails_with(stream_writer(base).section(qemu_vm_section_part, 7).data(), "section 7 continued but never started");
  fails_with(stream_writer(base).packaged(stream_writer().ping(1).raw(from_hex("08")).data()).data(),
             "runs past the end of the MIG_CMD_PACKAGED blob");
  fails_with(stream_writer(base).packaged(stream_writer().packaged({}).data()).data(),
             "MIG_CMD_PACKAGED inside a MIG_CMD_PACKAGED blob");
  fails_with(stream_writer(base).packaged(stream_writer().eof().data()).data(), "QEMU_VM_EOF inside");
  fails_with(stream_writer(base).eof().vmdescription("{}").raw(from_hex("00")).data(),
             "bytes after the end of the stream");
  fails_with(stream_writer(base).eof().raw(from_hex("07")).data(), "where QEMU_VM_VMDESCRIPTION belongs");
  stream_writer ram(base);
  ram.section(qemu_vm_section_start, 1, "ram", 0, 4).ram_setup(pc_blocks).ram_flag(ram_save_flag_eos).footer(1);
  ram.section(qemu_vm_section_part, 1);
  fails_with(stream_writer(ram).ram_page(0, ram_save_flag_zero, "pc.ram", from_hex("01")).data(),
             "Found a zero page with value 1");
  fails_with(stream_writer(ram).ram_page(0, ram_save_flag_zero, "nope", from_hex("00")).data(),
             "RAM page for unknown block 'nope'");
  fails_with(stream_writer(ram).ram_page(0, ram_save_flag_zero | ram_save_flag_continue, "", from_hex("00")).data(),
             "RAM_SAVE_FLAG_CONTINUE before any block");
  fails_with(stream_writer(ram).ram_flag(ram_save_flag_hook).data(), "RDMA");
  fails_with(stream_writer(ram).ram_flag(ram_save_flag_zero | ram_save_flag_page).data(),
             "Unknown combination of migration flags: 0xa");
  fails_with(stream_writer(ram).ram_flag(ram_save_flag_eos).footer(9).data(), "section footer for section 9");
  fails_with(stream_writer(base).section(qemu_vm_section_full, 4, "timer").raw(bytes(100, 0)).data(),
             "no footer of section 4 before the end");
  fails_with(stream_writer(base).configuration("pc").data(), "before the end of the stream");
}

TEST_CASE("knows_end: false while device state is skipped and after an error") {
  main_stream_reader r;
  stream_writer w;
  w.header().section(qemu_vm_section_full, 4, "timer").raw(bytes(50, 0x7e));
  r.feed(w.data());
  CHECK_FALSE(r.knows_end());
  r.feed(stream_writer().footer(4).command(mig_cmd::open_return_path).data());
  CHECK(r.knows_end());
  CHECK(r.return_path());
  r.feed(from_hex("ff"));
  CHECK(r.failed());
  CHECK_FALSE(r.knows_end());
  CHECK(r.feed(from_hex("0000")).empty());  // ignored after the error
}

TEST_CASE("garbage and truncation: no crash, no throw, bounded memory") {
  std::mt19937 rng(1234);
  const auto streams = {postcopy_stream(), precopy_stream(true)};
  std::size_t failed = 0, runs = 0;
  for (const auto& s : streams) {
    // Every prefix of the first 600 bytes, closed: ended or an error, never a throw.
    for (std::size_t n = 0; n < 600; ++n) {
      const auto r = read(bytes(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(n)), true);
      CHECK((r.failed || r.ended));
    }
    // Mutations: one byte changed anywhere, fed in random chunks.
    for (int i = 0; i < 3000; ++i) {
      auto m = s;
      m[rng() % m.size()] ^= static_cast<std::uint8_t>(1 + rng() % 255);
      std::vector<std::size_t> cuts;
      for (std::size_t at = rng() % 5000; at < m.size(); at += 1 + rng() % 5000) cuts.push_back(at);
      const auto r = read(m, cuts, true);
      CHECK(r.most_buffered <= main_stream_reader::buffer_max);
      failed += r.failed, ++runs;
    }
  }
  // Pure noise, and noise after a good header.
  for (int i = 0; i < 2000; ++i) {
    bytes noise(1 + rng() % 20000);
    for (auto& b : noise) b = static_cast<std::uint8_t>(rng());
    if (i % 2) noise.insert(noise.begin(), real_11_postcopy.begin(), real_11_postcopy.begin() + 32);
    const auto r = read(noise, {noise.size() / 3}, true);
    CHECK(r.most_buffered <= main_stream_reader::buffer_max);
    CHECK((r.failed || r.ended));
  }
  MESSAGE(failed << " of " << runs << " one-byte mutations were noticed as errors");
  // A declared huge description is skipped, not buffered.
  stream_writer big;
  big.header().eof().raw(from_hex("06ffffffff"));
  main_stream_reader r;
  r.feed(big.data());
  for (int i = 0; i < 64; ++i) r.feed(bytes(65536, 0x7e));
  CHECK(r.buffered() <= main_stream_reader::buffer_max);
  CHECK_FALSE(r.failed());
  CHECK(r.offset() == big.data().size() + 64 * 65536);
}
