// Byte formats of a migration stream that migchan sends, recognises or answers,
// as QEMU 7.2 puts them on the wire: the main stream of qemu_savevm_state_header()
// (migration/savevm.c:1138 at v7.2.0), MultiFDInit_t (migration/multifd.c:37-44 at
// v7.2.0) and the return path (migration/migration.c:123-134 at v7.2.0).
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

// Section types of migration/savevm.h beyond those in model/channel.h.
inline constexpr std::uint8_t qemu_vm_eof = 0x00;
inline constexpr std::uint8_t qemu_vm_section_start = 0x01;
inline constexpr std::uint8_t qemu_vm_section_part = 0x02;  // not EOF: a common mistake
inline constexpr std::uint8_t qemu_vm_section_end = 0x03;
inline constexpr std::uint8_t qemu_vm_section_full = 0x04;
inline constexpr std::uint8_t qemu_vm_subsection = 0x05;
inline constexpr std::uint8_t qemu_vm_vmdescription = 0x06;
inline constexpr std::uint8_t qemu_vm_section_footer = 0x7e;

// enum qemu_vm_cmd, the subcommand of QEMU_VM_COMMAND (migration/savevm.c:77 at v10.2.2;
// 7.2 ends at recv_bitmap).
enum class mig_cmd : std::uint16_t {
  invalid,
  open_return_path,
  ping,
  postcopy_advise,
  postcopy_listen,
  postcopy_run,
  postcopy_ram_discard,
  packaged,
  enable_colo,
  postcopy_resume,
  recv_bitmap,
  switchover_start,
};
inline constexpr std::size_t mig_cmd_count = 12;
// QEMU's name ("PING") and the length its loadvm_process_command() insists on, -1 when
// the command's length varies (mig_cmd_args[]).
std::string_view name(mig_cmd c);
int fixed_length(mig_cmd c);
// The PING in the postcopy package whose PONG lets the source leave postcopy-device
// (QEMU_VM_PING_PACKAGED_LOADED, migration/savevm.h:32 at v10.2.2).
inline constexpr std::uint32_t ping_packaged_loaded = 0x42;

// enum mig_rp_message_type, what the destination sends on the return path
// (migration/migration.c:80 at v10.2.2).
enum class mig_rp_msg : std::uint16_t {
  invalid,
  shut,
  pong,
  req_pages_id,
  req_pages,
  recv_bitmap,
  resume_ack,
  switchover_ack,
};
inline constexpr std::uint32_t migration_resume_ack_value = 1;
// After each received bitmap, so that the source can tell a short one (migration/ram.c:294).
inline constexpr std::uint64_t ramblock_recv_bitmap_ending = 0x0123456789abcdefULL;

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
inline constexpr std::uint64_t ram_known_flags = ram_save_flag_zero | ram_save_flag_mem_size | ram_save_flag_page |
                                                 ram_save_flag_eos | ram_save_flag_continue | ram_save_flag_xbzrle |
                                                 ram_save_flag_hook | ram_save_flag_compress_page |
                                                 ram_save_flag_multifd_flush;

// Big-endian integers as QEMUFile's qemu_get_be*/qemu_put_be* have them. The readers
// need at least 2, 4, 8 bytes from `at`.
std::uint16_t be16(byte_view b, std::size_t at);
std::uint32_t be32(byte_view b, std::size_t at);
std::uint64_t be64(byte_view b, std::size_t at);
void put_be16(bytes& out, std::uint16_t v);
void put_be32(bytes& out, std::uint32_t v);
void put_be64(bytes& out, std::uint64_t v);
// "0x1f": a number in an error message, as QEMU's "0x%x".
std::string hexnum(std::uint64_t v);

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

// A RAMBlock as the `ram` section's setup record lists it (ram_save_setup()).
struct ram_block {
  std::string name;  // idstr, e.g. "pc.ram"
  std::uint64_t used_length = 0;
  bool operator==(const ram_block&) const = default;
};

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

// QEMU_VM_COMMAND: `08 <be16 cmd> <be16 len> <data>`, as qemu_savevm_command_send().
bytes vm_command(mig_cmd cmd, byte_view data = {});

// QEMU_VM_COMMAND MIG_CMD_RECV_BITMAP: what a source reconnecting for postcopy
// recovery sends first, `08 00 0a <be16 len> <u8 idlen> <idstr>`. Throws
// std::invalid_argument when idstr is longer than 255 bytes.
bytes recovery_command_bytes(std::string_view idstr);

// A return-path message: be16 type, be16 len, data (migrate_send_rp_message()).
bytes rp_message(mig_rp_msg type, byte_view data);

// MIG_RP_MSG_SHUT on the return path: be16 type 1, be16 len 4, be32 status. A 7.2
// source with return-path or postcopy waits for it before it reports completed.
bytes rp_shut(std::uint32_t status = 0);

// MIG_RP_MSG_PONG, the answer to a PING with its value.
bytes rp_pong(std::uint32_t value);

// MIG_RP_MSG_RESUME_ACK, the answer to POSTCOPY_RESUME.
bytes rp_resume_ack(std::uint32_t value = migration_resume_ack_value);

// The answer to RECV_BITMAP for one RAMBlock, as migrate_send_rp_recv_bitmap() and
// ramblock_recv_bitmap_send() write it: the message `0005 <be16 1+n> <u8 n> <idstr>`,
// then outside its length be64 size, the little-endian bitmap of received pages
// (one bit per target page of used_length, rounded up to 8 bytes), be64
// ramblock_recv_bitmap_ending. `received` sets every page's bit. Throws
// std::invalid_argument when idstr is longer than 255 bytes or page_size is 0.
bytes rp_recv_bitmap(std::string_view idstr, std::uint64_t used_length, std::uint64_t page_size, bool received);

// be64 (offset | flags), the header of one page on a RAM stream or preempt channel.
bytes ram_page_header(std::uint64_t offset, std::uint64_t flags);

}  // namespace migchan
