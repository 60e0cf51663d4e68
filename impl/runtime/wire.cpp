#include "impl/runtime/wire.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <stdexcept>

namespace migchan {

std::uint16_t be16(byte_view b, std::size_t at) {
  return static_cast<std::uint16_t>(std::uint16_t{b[at]} << 8 | b[at + 1]);
}

std::uint32_t be32(byte_view b, std::size_t at) { return std::uint32_t{be16(b, at)} << 16 | be16(b, at + 2); }

std::uint64_t be64(byte_view b, std::size_t at) { return std::uint64_t{be32(b, at)} << 32 | be32(b, at + 4); }

void put_be16(bytes& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}

void put_be32(bytes& out, std::uint32_t v) {
  put_be16(out, static_cast<std::uint16_t>(v >> 16));
  put_be16(out, static_cast<std::uint16_t>(v));
}

void put_be64(bytes& out, std::uint64_t v) {
  put_be32(out, static_cast<std::uint32_t>(v >> 32));
  put_be32(out, static_cast<std::uint32_t>(v));
}

std::string hexnum(std::uint64_t v) {
  char buf[16];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, 16);
  return "0x" + std::string(buf, end);
}

namespace {

void put_string(bytes& out, std::string_view s) { out.insert(out.end(), s.begin(), s.end()); }

// Flags sit below the smallest target page (TARGET_PAGE_BITS_MIN is 10), so only
// the low 10 bits are flags whatever the guest's page size.
constexpr std::uint64_t ram_flag_bits = 0x3ff;

}  // namespace

bool is_ram_page_header(std::uint64_t v) {
  std::uint64_t flags = v & ram_flag_bits;
  std::uint64_t kind = flags & ~ram_save_flag_continue;
  // ram.c writes one kind flag per header, with CONTINUE optionally on top;
  // RAM_SAVE_FLAG_FULL (0x01) is obsolete and never sent.
  return (v >> 56) == 0 && (flags & ~ram_known_flags) == 0 && kind != 0 && (kind & (kind - 1)) == 0;
}

// The rule, in order; the first that applies decides:
//  1. no bytes:                   eof / reset once the peer ended, else undecided
//  2. first byte 0x08:            vm_command (QEMU_VM_COMMAND; neither magic starts with it)
//  3. fewer than 4 bytes:         partial once the peer ended, else undecided
//  4. be32 0x5145564d "QEVM":     vm_file_magic
//  5. be32 0x11223344:            multifd_magic
//  6. first byte 0x00:            needs the whole be64; fewer than 8 bytes is undecided,
//                                 or other once ended; then ram_page if
//                                 is_ram_page_header(), else other
//  7. anything else:              other
std::optional<first_bytes> classify_prefix(byte_view prefix, peer_end end) {
  const bool ended = end != peer_end::open;
  if (prefix.empty()) {
    if (!ended) return std::nullopt;
    return end == peer_end::reset ? first_bytes::reset : first_bytes::eof;
  }
  if (prefix[0] == qemu_vm_command) return first_bytes::vm_command;
  if (prefix.size() < 4) return ended ? std::optional{first_bytes::partial} : std::nullopt;
  auto magic = be32(prefix, 0);
  if (magic == qemu_vm_file_magic) return first_bytes::vm_file_magic;
  if (magic == multifd_magic) return first_bytes::multifd_magic;
  if (prefix[0] == 0x00) {
    if (prefix.size() < 8) return ended ? std::optional{first_bytes::other} : std::nullopt;
    return is_ram_page_header(be64(prefix, 0)) ? first_bytes::ram_page : first_bytes::other;
  }
  return first_bytes::other;
}

first_bytes classify_silence(byte_view prefix) {
  if (prefix.empty()) return first_bytes::silent;
  return prefix.size() < 4 ? first_bytes::partial : first_bytes::other;
}

bytes encode_multifd_init(const uuid_bytes& uuid, std::uint8_t id) {
  bytes out;
  out.reserve(multifd_init_size);
  put_be32(out, multifd_magic);
  put_be32(out, multifd_version);
  out.insert(out.end(), uuid.begin(), uuid.end());
  out.push_back(id);
  out.resize(multifd_init_size, 0);  // unused1[7], unused2[4]
  return out;
}

std::optional<multifd_init> decode_multifd_init(byte_view b) {
  if (b.size() < multifd_init_size) return std::nullopt;
  multifd_init m;
  m.magic = be32(b, 0);
  m.version = be32(b, 4);
  std::copy(b.begin() + 8, b.begin() + 24, m.uuid.begin());
  m.id = b[24];
  return m;
}

init_packet judge_init(const multifd_init& m, const uuid_bytes& expected, int channels,
                       const std::set<int>& registered) {
  if (m.version != multifd_version) return init_packet::bad_version;
  if (m.uuid != expected) return init_packet::bad_uuid;
  if (m.id > channels) return init_packet::id_above_count;
  if (m.id == channels) return init_packet::id_at_count;
  if (registered.contains(m.id)) return init_packet::id_repeated;
  return init_packet::good;
}

std::string format_uuid(const uuid_bytes& uuid) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < uuid.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
    s += digits[uuid[i] >> 4];
    s += digits[uuid[i] & 0xf];
  }
  return s;
}

std::optional<uuid_bytes> parse_uuid(std::string_view text) {
  if (text.size() != 36) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  uuid_bytes out{};
  std::size_t at = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) {
      if (text[at++] != '-') return std::nullopt;
    }
    int hi = nibble(text[at++]);
    int lo = nibble(text[at++]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return out;
}

bytes minimal_main_stream(std::string_view machine) {
  bytes out;
  put_be32(out, qemu_vm_file_magic);
  put_be32(out, qemu_vm_file_version);
  out.push_back(qemu_vm_configuration);
  put_be32(out, static_cast<std::uint32_t>(machine.size()));
  put_string(out, machine);
  out.push_back(qemu_vm_eof);
  out.push_back(qemu_vm_vmdescription);
  put_be32(out, 2);
  put_string(out, "{}");
  return out;
}

std::optional<main_header> parse_main_header(byte_view b) {
  if (b.size() < 8) return std::nullopt;
  main_header h;
  h.magic = be32(b, 0);
  h.version = be32(b, 4);
  // 07 <be32 len> <name>, right after the header when send-configuration is on.
  if (b.size() >= 13 && b[8] == qemu_vm_configuration) {
    std::size_t len = be32(b, 9);
    if (b.size() - 13 >= len) h.machine = std::string(b.begin() + 13, b.begin() + 13 + len);
  }
  return h;
}

namespace {

struct cmd_args {
  std::string_view name;
  int len;
};
// mig_cmd_args[] of migration/savevm.c:104 at v10.2.2.
constexpr std::array<cmd_args, mig_cmd_count> mig_cmd_args{{
    {"INVALID", -1},
    {"OPEN_RETURN_PATH", 0},
    {"PING", 4},
    {"POSTCOPY_ADVISE", -1},
    {"POSTCOPY_LISTEN", 0},
    {"POSTCOPY_RUN", 0},
    {"POSTCOPY_RAM_DISCARD", -1},
    {"PACKAGED", 4},
    {"ENABLE_COLO", 0},
    {"POSTCOPY_RESUME", 0},
    {"RECV_BITMAP", -1},
    {"SWITCHOVER_START", 0},
}};

// `<u8 len> <idstr>`, as RECV_BITMAP and its answer carry a RAMBlock's name.
bytes counted_idstr(std::string_view idstr, std::string_view what) {
  if (idstr.size() > 255)
    throw std::invalid_argument("RAMBlock idstr is " + std::to_string(idstr.size()) + " bytes, " + std::string(what) +
                                " allows 255");
  bytes out{static_cast<std::uint8_t>(idstr.size())};
  put_string(out, idstr);
  return out;
}

}  // namespace

std::string_view name(mig_cmd c) {
  const auto i = static_cast<std::size_t>(c);
  return i < mig_cmd_args.size() ? mig_cmd_args[i].name : "unknown";
}

int fixed_length(mig_cmd c) {
  const auto i = static_cast<std::size_t>(c);
  return i < mig_cmd_args.size() ? mig_cmd_args[i].len : -1;
}

bytes vm_command(mig_cmd cmd, byte_view data) {
  bytes out;
  out.push_back(qemu_vm_command);
  put_be16(out, static_cast<std::uint16_t>(cmd));
  put_be16(out, static_cast<std::uint16_t>(data.size()));
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

bytes recovery_command_bytes(std::string_view idstr) {
  return vm_command(mig_cmd::recv_bitmap, counted_idstr(idstr, "RECV_BITMAP"));
}

bytes rp_message(mig_rp_msg type, byte_view data) {
  bytes out;
  put_be16(out, static_cast<std::uint16_t>(type));
  put_be16(out, static_cast<std::uint16_t>(data.size()));
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

namespace {
bytes rp_u32(mig_rp_msg type, std::uint32_t v) {
  bytes data;
  put_be32(data, v);
  return rp_message(type, data);
}
}  // namespace

bytes rp_shut(std::uint32_t status) { return rp_u32(mig_rp_msg::shut, status); }

bytes rp_pong(std::uint32_t value) { return rp_u32(mig_rp_msg::pong, value); }

bytes rp_resume_ack(std::uint32_t value) { return rp_u32(mig_rp_msg::resume_ack, value); }

bytes rp_recv_bitmap(std::string_view idstr, std::uint64_t used_length, std::uint64_t page_size, bool received) {
  if (page_size == 0) throw std::invalid_argument("page size 0");
  auto out = rp_message(mig_rp_msg::recv_bitmap, counted_idstr(idstr, "MIG_RP_MSG_RECV_BITMAP"));
  const auto pages = used_length / page_size;
  const auto size = ((pages + 7) / 8 + 7) / 8 * 8;  // DIV_ROUND_UP to bytes, ROUND_UP to 8
  put_be64(out, size);
  const auto at = out.size();
  out.resize(at + size, 0);
  if (received) {
    std::fill_n(out.begin() + static_cast<std::ptrdiff_t>(at), pages / 8, std::uint8_t{0xff});
    if (pages % 8) out[at + pages / 8] = static_cast<std::uint8_t>((1u << (pages % 8)) - 1);
  }
  put_be64(out, ramblock_recv_bitmap_ending);
  return out;
}

bytes ram_page_header(std::uint64_t offset, std::uint64_t flags) {
  bytes out;
  put_be64(out, offset | flags);
  return out;
}

}  // namespace migchan
