#include "impl/runtime/wire.h"
#include "tests/impl/hex.h"

#include <doctest/doctest.h>

#include <string>

using namespace migchan;
using migchan::test::from_hex;

namespace {

bytes from_text(std::string_view s) { return bytes(s.begin(), s.end()); }

bytes first(const bytes& b, std::size_t n) { return bytes(b.begin(), b.begin() + n); }

// The first 64 bytes of a real 7.2 main channel, as Debian's 7.2.22 sent them.
const bytes real_main_prefix = from_hex(
    "5145564d00000003070000000d70632d6934343066782d372e3201000000020372616d00000000000000040000"
    "0000040820040670632e72616d000000000400");

// What multifd channel 2 of a 7.2.22 source with the default uuid sent.
const bytes real_multifd_init_id2 = from_hex(
    "11223344000000010000000000000000000000000000000002000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000");

const uuid_bytes zero_uuid{};
const uuid_bytes uuid_1111 = *parse_uuid("11111111-2222-3333-4444-555555555555");

std::optional<first_bytes> classify(const bytes& b, peer_end end = peer_end::open) { return classify_prefix(b, end); }
constexpr auto closed = peer_end::closed;

}  // namespace

TEST_CASE("the recorded prefixes are 64 bytes each") {
  CHECK(real_main_prefix.size() == 64);
  CHECK(real_multifd_init_id2.size() == 64);
}

TEST_CASE("classify_prefix: magics need 4 bytes, then decide open or closed") {
  CHECK(classify(first(real_main_prefix, 4)) == first_bytes::vm_file_magic);
  CHECK(classify(first(real_main_prefix, 4), closed) == first_bytes::vm_file_magic);
  CHECK(classify(real_main_prefix) == first_bytes::vm_file_magic);
  CHECK(classify(minimal_main_stream()) == first_bytes::vm_file_magic);
  CHECK(classify(first(real_multifd_init_id2, 4)) == first_bytes::multifd_magic);
  CHECK(classify(real_multifd_init_id2, closed) == first_bytes::multifd_magic);

  for (std::size_t n = 1; n < 4; ++n) {
    CAPTURE(n);
    CHECK(classify(first(real_main_prefix, n)) == std::nullopt);
    CHECK(classify(first(real_multifd_init_id2, n)) == std::nullopt);
    // QEMU's 4-byte peek keeps returning these bytes, closed or reset after them or not.
    CHECK(classify(first(real_main_prefix, n), closed) == first_bytes::partial);
    CHECK(classify(first(real_main_prefix, n), peer_end::reset) == first_bytes::partial);
  }
}

TEST_CASE("classify_prefix: nothing is undecided while open, eof once closed, reset once reset") {
  CHECK(classify({}) == std::nullopt);
  CHECK(classify({}, closed) == first_bytes::eof);
  CHECK(classify({}, peer_end::reset) == first_bytes::reset);
}

TEST_CASE("classify_silence: at the peek timeout nothing is silent and 1-3 bytes are partial") {
  CHECK(classify_silence({}) == first_bytes::silent);
  for (std::size_t n = 1; n < 4; ++n) CHECK(classify_silence(first(real_main_prefix, n)) == first_bytes::partial);
  CHECK(classify_silence(from_hex("00000000")) == first_bytes::other);  // half a be64 page header
}

TEST_CASE("classify_prefix: QEMU_VM_COMMAND decides on its first byte") {
  CHECK(classify(from_hex("08")) == first_bytes::vm_command);
  CHECK(classify(from_hex("08"), closed) == first_bytes::vm_command);
  CHECK(classify(recovery_command_bytes("pc.ram")) == first_bytes::vm_command);
}

TEST_CASE("classify_prefix: a be64 RAM page header needs all 8 bytes and plausible flags") {
  auto zero_page = ram_page_header(0x3fff000, ram_save_flag_zero);  // preempt after REQ_PAGES
  CHECK(classify(zero_page) == first_bytes::ram_page);
  CHECK(classify(from_hex("0000000000000010")) == first_bytes::ram_page);  // EOS at the end
  CHECK(classify(from_hex("0000000004082004")) == first_bytes::ram_page);  // MEM_SIZE
  CHECK(classify(ram_page_header(0x1000, ram_save_flag_page | ram_save_flag_continue)) == first_bytes::ram_page);

  for (std::size_t n = 4; n < 8; ++n) {
    CAPTURE(n);
    CHECK(classify(first(zero_page, n)) == std::nullopt);
    CHECK(classify(first(zero_page, n), closed) == first_bytes::other);
  }
  CHECK(classify(from_hex("0000000000000000")) == first_bytes::other);     // no flag at all
  CHECK(classify(from_hex("0000000000000020")) == first_bytes::other);     // CONTINUE alone
  CHECK(classify(from_hex("0000000000000001")) == first_bytes::other);     // obsolete FULL
  CHECK(classify(from_hex("000000000000000a")) == first_bytes::other);     // ZERO and PAGE together
  CHECK(classify(from_hex("0000000000000402")) == first_bytes::ram_page);  // bit 10 is offset
  CHECK(classify(from_hex("0100000000000008")) == first_bytes::other);     // offset >= 2^56
  CHECK(classify(rp_shut()) == first_bytes::other);                        // a return-path message, not a page
}

TEST_CASE("classify_prefix: garbage is other, never silent") {
  CHECK(classify(from_text("GET / HTTP/1.1\r\n")) == first_bytes::other);
  CHECK(classify(from_hex("16030100")) == first_bytes::other);  // a TLS ClientHello
  CHECK(classify(from_hex("ffffffff")) == first_bytes::other);
  CHECK(classify(from_hex("4551564d")) == first_bytes::other);  // "EQVM": magic bytes swapped
  CHECK(classify(from_hex("44332211")) == first_bytes::other);  // MULTIFD_MAGIC little-endian
  CHECK(classify(from_hex("5145564d"), closed) == first_bytes::vm_file_magic);

  // silent is the caller's timer's call, never a prefix's.
  for (int b = 0; b < 256; ++b)
    for (std::size_t n : {1, 4, 8})
      for (auto end : {peer_end::open, peer_end::closed, peer_end::reset}) {
        auto r = classify(bytes(n, static_cast<std::uint8_t>(b)), end);
        CHECK(r != first_bytes::silent);
      }
}

TEST_CASE("encode_multifd_init matches what QEMU 7.2 sent, byte for byte") {
  CHECK(encode_multifd_init(zero_uuid, 2) == real_multifd_init_id2);
  CHECK(encode_multifd_init(uuid_1111, 1) ==
        from_hex("11223344000000011111111122223333444455555555555501000000000000000000000000000000"
                 "000000000000000000000000000000000000000000000000"));
}

TEST_CASE("decode_multifd_init reads the fields back and refuses short input") {
  auto m = decode_multifd_init(encode_multifd_init(uuid_1111, 3));
  REQUIRE(m);
  CHECK(m->magic == multifd_magic);
  CHECK(m->version == multifd_version);
  CHECK(m->uuid == uuid_1111);
  CHECK(m->id == 3);

  CHECK(decode_multifd_init(first(real_multifd_init_id2, 63)) == std::nullopt);
  CHECK(decode_multifd_init({}) == std::nullopt);
  CHECK(decode_multifd_init(minimal_main_stream()) == std::nullopt);  // 34 bytes: 7.2 would block

  auto longer = real_multifd_init_id2;
  longer.resize(64 + 1344, 0xee);  // the first MultiFDPacket_t follows
  REQUIRE(decode_multifd_init(longer));
  CHECK(decode_multifd_init(longer)->id == 2);
}

TEST_CASE("judge_init: version, uuid, id against the count, then already set up, in QEMU's order") {
  const std::set<int> none, zero{0};
  const auto judge = [&](const bytes& b, int channels, const std::set<int>& registered = {}) {
    return judge_init(*decode_multifd_init(b), zero_uuid, channels, registered);
  };
  CHECK(judge(encode_multifd_init(zero_uuid, 1), 2) == init_packet::good);
  CHECK(judge(real_multifd_init_id2, 3) == init_packet::good);
  CHECK(judge(real_multifd_init_id2, 2) == init_packet::id_at_count);  // one past params[]
  CHECK(judge(encode_multifd_init(zero_uuid, 5), 2) == init_packet::id_above_count);
  CHECK(judge(encode_multifd_init(zero_uuid, 0), 2, zero) == init_packet::id_repeated);
  auto v2 = encode_multifd_init(zero_uuid, 0);
  v2[7] = 2;
  CHECK(judge(v2, 2) == init_packet::bad_version);
  // The uuid is checked before the id: a foreign VM's channel 5 is a uuid problem.
  CHECK(judge(encode_multifd_init(uuid_1111, 5), 2) == init_packet::bad_uuid);
  CHECK(judge(v2, 2, zero) == init_packet::bad_version);
}

TEST_CASE("uuids print and parse as QEMU's -uuid") {
  CHECK(format_uuid(uuid_1111) == "11111111-2222-3333-4444-555555555555");
  CHECK(format_uuid(zero_uuid) == "00000000-0000-0000-0000-000000000000");
  auto mixed = parse_uuid("DEADBEEF-0000-4000-8000-0123456789ab");
  REQUIRE(mixed);
  CHECK(format_uuid(*mixed) == "deadbeef-0000-4000-8000-0123456789ab");

  CHECK(parse_uuid("") == std::nullopt);
  CHECK(parse_uuid("11111111-2222-3333-4444-55555555555") == std::nullopt);    // short
  CHECK(parse_uuid("11111111-2222-3333-4444-5555555555555") == std::nullopt);  // long
  CHECK(parse_uuid("11111111x2222-3333-4444-555555555555") == std::nullopt);   // separator
  CHECK(parse_uuid("1111111g-2222-3333-4444-555555555555") == std::nullopt);   // digit
}

TEST_CASE("minimal_main_stream is the 34 bytes a real 7.2 destination completes on") {
  CHECK(minimal_main_stream() ==
        from_hex("5145564d 00000003 07 0000000d 70632d6934343066782d372e32 00 06 00000002 7b7d"));
  CHECK(minimal_main_stream().size() == 34);
  CHECK(minimal_main_stream("pc") == from_hex("5145564d 00000003 07 00000002 7063 00 06 00000002 7b7d"));
}

TEST_CASE("parse_main_header finds magic, version and the machine name") {
  auto h = parse_main_header(real_main_prefix);
  REQUIRE(h);
  CHECK(h->magic == qemu_vm_file_magic);
  CHECK(h->version == qemu_vm_file_version);
  CHECK(h->machine == "pc-i440fx-7.2");

  CHECK(parse_main_header(minimal_main_stream("pc-q35-7.2"))->machine == "pc-q35-7.2");
  CHECK(parse_main_header(first(real_main_prefix, 26))->machine == "pc-i440fx-7.2");  // just enough
  CHECK(parse_main_header(first(real_main_prefix, 25))->machine == std::nullopt);     // name cut
  CHECK(parse_main_header(first(real_main_prefix, 12))->machine == std::nullopt);     // len cut
  auto header_only = parse_main_header(first(real_main_prefix, 8));
  REQUIRE(header_only);
  CHECK(header_only->version == 3);
  CHECK(header_only->machine == std::nullopt);
  CHECK(parse_main_header(first(real_main_prefix, 7)) == std::nullopt);

  // No configuration section: a section start follows the header directly.
  CHECK(parse_main_header(from_hex("5145564d 00000003 01 00000002"))->machine == std::nullopt);
  // A length that cannot be there must not read past the end.
  CHECK(parse_main_header(from_hex("5145564d 00000003 07 ffffffff 7063"))->machine == std::nullopt);
  // Magic is reported, not judged.
  CHECK(parse_main_header(real_multifd_init_id2)->magic == multifd_magic);
}

TEST_CASE("recovery_command_bytes is QEMU_VM_COMMAND RECV_BITMAP for one RAMBlock") {
  CHECK(recovery_command_bytes("pc.ram") == from_hex("08 000a 0007 06 70632e72616d"));
  CHECK(recovery_command_bytes("") == from_hex("08 000a 0001 00"));
  CHECK(recovery_command_bytes(std::string(255, 'r')).size() == 6 + 255);
  CHECK_THROWS_WITH_AS(recovery_command_bytes(std::string(256, 'r')),
                       "RAMBlock idstr is 256 bytes, RECV_BITMAP allows 255", std::invalid_argument);
}

TEST_CASE("rp_shut and ram_page_header are the exact bytes") {
  CHECK(rp_shut() == from_hex("0001 0004 00000000"));
  CHECK(rp_shut(1) == from_hex("0001 0004 00000001"));
  CHECK(ram_page_header(0x3fff000, ram_save_flag_zero) == from_hex("0000000003fff002"));
  CHECK(ram_page_header(0, ram_save_flag_eos) == from_hex("0000000000000010"));
}

TEST_CASE("return-path messages are the bytes a real 11.1 destination sent") {
  CHECK(rp_pong(1) == from_hex("0002000400000001"));
  CHECK(rp_pong(ping_packaged_loaded) == from_hex("0002000400000042"));
  CHECK(rp_resume_ack() == from_hex("0006000400000001"));
  CHECK(rp_shut() == from_hex("0001000400000000"));
  // A 0x20000-byte block: 32 pages, 4 bytes of bitmap rounded up to 8, then the end mark.
  CHECK(rp_recv_bitmap("pc.rom", 0x20000, 4096, false) ==
        from_hex("0005 0007 06 70632e726f6d 0000000000000008 0000000000000000 0123456789abcdef"));
  CHECK(rp_recv_bitmap("pc.rom", 0x20000, 4096, true) ==
        from_hex("0005 0007 06 70632e726f6d 0000000000000008 ffffffff00000000 0123456789abcdef"));
  // pc.ram of a 64 MiB guest: 16384 pages, 0x800 bytes of bitmap.
  const auto ram = rp_recv_bitmap("pc.ram", 64 << 20, 4096, true);
  CHECK(bytes(ram.begin(), ram.begin() + 19) == from_hex("0005 0007 06 70632e72616d 0000000000000800"));
  CHECK(ram.size() == 19 + 0x800 + 8);
  // A page count that is not a multiple of 8 sets only the bits of real pages (little-endian).
  const auto odd = rp_recv_bitmap("b", 3 * 4096, 4096, true);
  CHECK(odd == from_hex("0005 0002 01 62 0000000000000008 0700000000000000 0123456789abcdef"));
  CHECK_THROWS_AS(rp_recv_bitmap(std::string(256, 'x'), 4096, 4096, true), std::invalid_argument);
  CHECK_THROWS_AS(rp_recv_bitmap("b", 4096, 0, true), std::invalid_argument);
}

TEST_CASE("vm_command, and QEMU's names and fixed lengths of the commands") {
  CHECK(vm_command(mig_cmd::open_return_path) == from_hex("0800010000"));
  CHECK(vm_command(mig_cmd::switchover_start) == from_hex("08000b0000"));
  CHECK(vm_command(mig_cmd::ping, from_hex("00000042")) == from_hex("080002000400000042"));
  CHECK(name(mig_cmd::packaged) == "PACKAGED");
  CHECK(name(mig_cmd::switchover_start) == "SWITCHOVER_START");
  CHECK(name(static_cast<mig_cmd>(99)) == "unknown");
  CHECK(fixed_length(mig_cmd::ping) == 4);
  CHECK(fixed_length(mig_cmd::recv_bitmap) == -1);
  CHECK(fixed_length(mig_cmd::postcopy_resume) == 0);
  CHECK(hexnum(0x42) == "0x42");
}
