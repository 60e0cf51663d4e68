// Byte formats of a migration stream that migchan sends, recognises or answers,
// as QEMU 7.2 puts them on the wire (see qemu-7.2-peer.md §3-§7).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/channel.h"

namespace migchan {

using bytes = std::vector<std::uint8_t>;
using byte_view = std::span<const std::uint8_t>;

// Section types and commands of migration/savevm.c beyond those in model/channel.h.
inline constexpr std::uint8_t qemu_vm_eof = 0x00;
inline constexpr std::uint8_t qemu_vm_section_part = 0x02;  // not EOF: a common mistake
inline constexpr std::uint8_t qemu_vm_vmdescription = 0x06;
inline constexpr std::uint16_t mig_cmd_recv_bitmap = 10;  // enum qemu_vm_cmd
inline constexpr std::uint16_t mig_rp_msg_shut = 1;       // enum mig_rp_message_type

// RAM_SAVE_FLAG_* of migration/ram.c: the low bits of a be64 page header, below
// the target page size (4 KiB on x86), so they never collide with the offset.
inline constexpr std::uint64_t ram_save_flag_zero = 0x02;
inline constexpr std::uint64_t ram_save_flag_mem_size = 0x04;
inline constexpr std::uint64_t ram_save_flag_page = 0x08;
inline constexpr std::uint64_t ram_save_flag_eos = 0x10;
inline constexpr std::uint64_t ram_save_flag_continue = 0x20;
inline constexpr std::uint64_t ram_save_flag_xbzrle = 0x40;
inline constexpr std::uint64_t ram_save_flag_hook = 0x80;
inline constexpr std::uint64_t ram_save_flag_compress_page = 0x100;
inline constexpr std::uint64_t ram_save_flag_multifd_flush = 0x200;

// The big-endian u32 at b[at..at+4) (the caller checks the size).
std::uint32_t be32(byte_view b, std::size_t at);

// How a peer's side of a connection stands after the bytes seen so far.
enum class peer_end : std::uint8_t { open, closed, reset };

// The class of a channel's first bytes; nullopt while more bytes could still change
// the answer. `silent` is never returned: only a timer can tell silence apart (see
// classify_silence()). 1-3 bytes and then an end are `partial`: QEMU's 4-byte peek
// keeps seeing them and never gives up.
std::optional<first_bytes> classify_prefix(byte_view prefix, peer_end end);
// The class at the peek timeout of a prefix classify_prefix() left undecided.
first_bytes classify_silence(byte_view prefix);

// Is v a plausible be64 RAM page header: a page-aligned offset below 2^56 (first
// byte 0) with known flags, at least one of them other than CONTINUE?
bool is_ram_page_header(std::uint64_t v);

// --- MultiFDInit_t: 64 packed big-endian bytes, the first thing on a multifd channel.
using uuid_bytes = std::array<std::uint8_t, 16>;

struct multifd_init {
  std::uint32_t magic = 0;
  std::uint32_t version = 0;
  uuid_bytes uuid{};
  std::uint8_t id = 0;
};

// Exactly as QEMU's multifd_send_initial_packet() writes it, unused fields zero.
bytes encode_multifd_init(const uuid_bytes& uuid, std::uint8_t id);

// nullopt when fewer than 64 bytes are given; extra bytes are ignored.
std::optional<multifd_init> decode_multifd_init(byte_view b);

// What a MultiFDInit_t says to a destination with `channels` multifd channels,
// uuid `expected` and these ids registered, in multifd_recv_initial_packet()'s
// order (magic, version, uuid, id) then multifd_recv_new_channel()'s "already
// setup". The magic is judged before (first_bytes). Whether an id equal to the
// count passes is the version's business (model/table.h id_check).
init_packet judge_init(const multifd_init& m, const uuid_bytes& expected, int channels,
                       const std::set<int>& registered);

// "11111111-2222-3333-4444-555555555555", as qemu_uuid_unparse().
std::string format_uuid(const uuid_bytes& uuid);
// The inverse, as QEMU's -uuid takes it; nullopt when malformed.
std::optional<uuid_bytes> parse_uuid(std::string_view text);

// --- Main stream.

// The smallest stream a real 7.2 destination completes on: header, configuration
// with the machine name, QEMU_VM_EOF, and a 2-byte VMDESCRIPTION "{}" (without it
// the destination waits for one more byte after EOF).
bytes minimal_main_stream(std::string_view machine = "pc-i440fx-7.2");

struct main_header {
  std::uint32_t magic = 0;
  std::uint32_t version = 0;
  std::optional<std::string> machine;  // QEMU_VM_CONFIGURATION's name, when all of it is there
};

// nullopt when fewer than the 8 header bytes are given. Does not judge magic/version.
std::optional<main_header> parse_main_header(byte_view b);

// QEMU_VM_COMMAND MIG_CMD_RECV_BITMAP: what a source reconnecting for postcopy
// recovery sends first, `08 00 0a <be16 len> <u8 idlen> <idstr>`. Throws
// std::invalid_argument when idstr is longer than 255 bytes.
bytes recovery_command_bytes(std::string_view idstr);

// MIG_RP_MSG_SHUT on the return path: be16 type 1, be16 len 4, be32 status. A 7.2
// source with return-path or postcopy waits for it before it reports completed.
bytes rp_shut(std::uint32_t status = 0);

// be64 (offset | flags), the header of one page on a RAM stream or preempt channel.
bytes ram_page_header(std::uint64_t offset, std::uint64_t flags);

}  // namespace migchan
