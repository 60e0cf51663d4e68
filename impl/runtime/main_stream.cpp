#include "impl/runtime/main_stream.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace migchan {

namespace {

// Bounds on what a stream may declare, so that garbage cannot make the reader grow.
constexpr std::size_t sections_max = 4096;
constexpr std::size_t blocks_max = 1024;
constexpr std::size_t machine_max = 256;
constexpr std::uint32_t caps_max = 64;
constexpr std::uint32_t small_max = 0xffff;  // section versions and instance ids in practice

std::string text_of(byte_view b) { return std::string(b.begin(), b.end()); }

bool printable(byte_view b) {
  return std::all_of(b.begin(), b.end(), [](std::uint8_t c) { return c >= 0x20 && c < 0x7f; });
}

bool power_of_two(std::uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

// ram_save_setup() writes a block's page size after its length only with postcopy-ram and
// a page size other than the host's; the destination knows that from its own block. The
// reader does not, so it takes the next be64 for a page size when it is one: a power of
// two of at least 4 KiB. Neither alternative can be one: the next block starts with its
// idstr's nonzero length byte (a be64 of at least 2^56), and a RAM record header has flags
// in its low bits.
bool is_page_size(std::uint64_t v) { return power_of_two(v) && v >= 4096 && v <= (std::uint64_t{1} << 40); }

}  // namespace

main_stream_reader::main_stream_reader(options o) : at_(o.resumed ? at::record : at::header) {
  if (o.resumed) return_path_ = postcopy_ = true;
  if (o.ram) {
    ram_ = o.ram;
    ram_id_ = o.ram->section_id;
    sections_[o.ram->section_id] = "ram";
    page_size_ = o.ram->page_size;
  }
  buf_.reserve(buffer_max);
}

bool main_stream_reader::knows_end() const { return at_ != at::failed && at_ != at::scanning && at_ != at::vmdesc; }

byte_view main_stream_reader::avail() const {
  byte_view v(buf_.data() + pos_, buf_.size() - pos_);
  if (in_package_ && v.size() > package_left_) v = v.first(static_cast<std::size_t>(package_left_));
  return v;
}

// Whether n bytes are there. When they cannot come because the package ends first, the
// stream has failed.
bool main_stream_reader::need(std::size_t n) {
  if (avail().size() >= n) return true;
  if (in_package_ && package_left_ < n) fail("a record runs past the end of the MIG_CMD_PACKAGED blob");
  return false;
}

void main_stream_reader::take(std::size_t n) {
  pos_ += n;
  offset_ += n;
  if (in_package_) package_left_ -= n;
}

main_stream_reader::step_result main_stream_reader::wait() const {
  return at_ == at::failed ? step_result::stop : step_result::need_more;
}

main_stream_reader::step_result main_stream_reader::skip(std::uint64_t n, at then) {
  if (in_package_ && n > package_left_) return fail("a record runs past the end of the MIG_CMD_PACKAGED blob");
  skip_ = n;
  after_skip_ = then;
  if (n == 0) at_ = then;
  return step_result::progress;
}

main_stream_reader::step_result main_stream_reader::fail(const std::string& what) {
  if (at_ == at::failed) return step_result::stop;
  at_ = at::failed;
  error_ = what + " (record at byte " + std::to_string(record_at_) + ")";
  events_.push_back({main_event::kind::error, record_at_, mig_cmd::invalid, 0, error_, in_package_});
  return step_result::stop;
}

void main_stream_reader::finish() {
  at_ = at::ended;
  events_.push_back({main_event::kind::end, offset_, mig_cmd::invalid, 0, {}, false});
}

std::vector<main_event> main_stream_reader::feed(byte_view b) {
  while (!b.empty() && at_ != at::failed) {
    if (skip_ > 0 && pos_ == buf_.size()) {  // page data and the like: straight from the input
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(skip_, b.size()));
      offset_ += n;
      if (in_package_) package_left_ -= n;
      skip_ -= n;
      if (skip_ == 0) at_ = after_skip_;
      b = b.subspan(n);
      continue;
    }
    if (pos_ > 0) {
      buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(pos_));
      pos_ = 0;
    }
    const auto n = std::min(b.size(), buffer_max - buf_.size());
    buf_.insert(buf_.end(), b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
    b = b.subspan(n);
    step_result r;
    while ((r = step()) == step_result::progress) {
    }
    if (r == step_result::need_more && pos_ == 0 && buf_.size() == buffer_max)
      fail("a record longer than " + std::to_string(buffer_max) + " bytes");
  }
  // A skip that ended with the input leaves a state to act on (the end after a VMDESCRIPTION).
  while (step() == step_result::progress) {
  }
  return std::exchange(events_, {});
}

std::vector<main_event> main_stream_reader::close() {
  closed_ = true;
  while (step() == step_result::progress) {
  }
  if (at_ == at::vmdesc && avail().empty()) {
    finish();
  } else if (at_ != at::ended && at_ != at::failed) {
    record_at_ = offset_;
    fail("main closed before the end of the stream");
  }
  return std::exchange(events_, {});
}

main_stream_reader::step_result main_stream_reader::step() {
  if (skip_ > 0) {
    const auto v = avail();
    if (v.empty()) return step_result::need_more;
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(skip_, v.size()));
    take(n);
    skip_ -= n;
    if (skip_ > 0) return step_result::need_more;
    at_ = after_skip_;
    return step_result::progress;
  }
  if (in_package_ && package_left_ == 0) {
    if (at_ == at::footer) at_ = at::record;  // a section without a footer ends the package
    if (at_ != at::record) {
      record_at_ = offset_;
      return fail("the MIG_CMD_PACKAGED blob ends inside a record");
    }
    in_package_ = false;
    return step_result::progress;
  }
  switch (at_) {
    case at::header: {
      if (!need(8)) return wait();
      const auto v = avail();
      if (be32(v, 0) != qemu_vm_file_magic) return fail("not a migration stream: magic " + hexnum(be32(v, 0)));
      if (be32(v, 4) != qemu_vm_file_version)
        return fail("unsupported migration stream version " + std::to_string(be32(v, 4)));
      take(8);
      at_ = at::record;
      return step_result::progress;
    }
    case at::record: return record();
    case at::config_sub: return config_sub();
    case at::caps_list: {
      if (caps_left_ == 0) {
        at_ = at::config_sub;
        return step_result::progress;
      }
      if (!need(1)) return wait();
      const auto n = avail()[0];
      if (!need(1u + n)) return wait();
      caps_.insert(text_of(avail().subspan(1, n)));
      take(1u + n);
      --caps_left_;
      return step_result::progress;
    }
    case at::ram_record: return ram_record();
    case at::ram_blocks: return ram_blocks();
    case at::footer: {
      if (!need(1)) return wait();
      if (avail()[0] != qemu_vm_section_footer) {
        at_ = at::record;  // send_section_footer off (machine types before 2.4)
        return step_result::progress;
      }
      record_at_ = offset_;
      if (!need(5)) return wait();
      if (const auto id = be32(avail(), 1); id != section_)
        return fail("section footer for section " + std::to_string(id) + " in section " + std::to_string(section_));
      take(5);
      at_ = at::record;
      return step_result::progress;
    }
    case at::scanning: return scan();
    case at::vmdesc: {
      if (!need(1)) return wait();
      record_at_ = offset_;
      if (avail()[0] != qemu_vm_vmdescription)
        return fail(hexnum(avail()[0]) + " after QEMU_VM_EOF where QEMU_VM_VMDESCRIPTION belongs");
      if (!need(5)) return wait();
      const auto len = be32(avail(), 1);
      take(5);
      return skip(len, at::vmdesc_body);
    }
    case at::vmdesc_body: finish(); return step_result::progress;
    case at::ended:
      if (!avail().empty()) {
        record_at_ = offset_;
        return fail("bytes after the end of the stream");
      }
      return step_result::need_more;
    case at::failed: return step_result::stop;
  }
  return step_result::stop;
}

main_stream_reader::step_result main_stream_reader::record() {
  if (!need(1)) return wait();
  record_at_ = offset_;
  const auto type = avail()[0];
  switch (type) {
    case qemu_vm_eof:
      if (in_package_) return fail("QEMU_VM_EOF inside the MIG_CMD_PACKAGED blob");
      take(1);
      // After postcopy the source sends no VMDESCRIPTION (qemu_savevm_state_complete_postcopy()).
      if (postcopy_) {
        finish();
      } else {
        at_ = at::vmdesc;
      }
      return step_result::progress;
    case qemu_vm_section_start:
    case qemu_vm_section_full: {
      if (!need(6)) return wait();
      const std::size_t n = avail()[5];
      if (n == 0) return fail("a section header with an empty idstr");
      if (!need(6 + n + 8)) return wait();
      const auto v = avail();
      const auto id = be32(v, 1);
      const auto idstr = v.subspan(6, n);
      if (!printable(idstr)) return fail("section " + std::to_string(id) + " has an unprintable idstr");
      if (!sections_.contains(id) && sections_.size() >= sections_max)
        return fail("more than " + std::to_string(sections_max) + " sections");
      sections_[id] = text_of(idstr);
      take(6 + n + 8);
      section_ = id;
      if (sections_[id] == "ram") {
        if (type == qemu_vm_section_full) return fail("section 'ram' as QEMU_VM_SECTION_FULL");
        ram_id_ = id;
        at_ = at::ram_record;
      } else {
        at_ = at::scanning;
      }
      return step_result::progress;
    }
    case qemu_vm_section_part:
    case qemu_vm_section_end: {
      if (!need(5)) return wait();
      const auto id = be32(avail(), 1);
      if (!sections_.contains(id)) return fail("section " + std::to_string(id) + " continued but never started");
      take(5);
      section_ = id;
      at_ = ram_id_ == id ? at::ram_record : at::scanning;
      return step_result::progress;
    }
    case qemu_vm_configuration: {
      if (!need(5)) return wait();
      const auto len = be32(avail(), 1);
      if (len > machine_max) return fail("a machine name of " + std::to_string(len) + " bytes");
      if (!need(5 + len)) return wait();
      machine_ = text_of(avail().subspan(5, len));
      take(5 + len);
      at_ = at::config_sub;
      return step_result::progress;
    }
    case qemu_vm_command: return command();
    case qemu_vm_vmdescription: return fail("QEMU_VM_VMDESCRIPTION before QEMU_VM_EOF");
    default: return fail("unknown section type " + hexnum(type));
  }
}

// loadvm_process_command()'s checks, and what each command carries.
main_stream_reader::step_result main_stream_reader::command() {
  if (!need(5)) return wait();
  auto v = avail();
  const auto raw = be16(v, 1);
  const auto len = be16(v, 3);
  if (raw == 0 || raw >= mig_cmd_count) return fail("MIG_CMD " + hexnum(raw) + " unknown (len " + hexnum(len) + ")");
  const auto cmd = static_cast<mig_cmd>(raw);
  if (const int fixed = fixed_length(cmd); fixed >= 0 && fixed != len)
    return fail(std::string(name(cmd)) + " received with bad length - expecting " + std::to_string(fixed) + ", got " +
                std::to_string(len));
  main_event e{main_event::kind::command, record_at_, cmd, 0, {}, in_package_};
  if (!need(5u + len)) return wait();
  v = avail();
  switch (cmd) {
    case mig_cmd::open_return_path: return_path_ = true; break;
    case mig_cmd::ping: e.value = be32(v, 5); break;
    case mig_cmd::postcopy_advise:
      // be64 host page size summary, be64 target page size; empty without postcopy-ram.
      if (len == 16) {
        const auto target = be64(v, 13);
        if (!power_of_two(target) || target < 512)
          return fail("POSTCOPY_ADVISE with a target page size of " + std::to_string(target));
        page_size_ = target;
        postcopy_ram_advised_ = true;
      } else if (len != 0) {
        return fail("CMD_POSTCOPY_ADVISE invalid length (" + std::to_string(len) + ")");
      }
      break;
    case mig_cmd::postcopy_listen: postcopy_ = true; break;
    case mig_cmd::packaged:
      if (in_package_) return fail("MIG_CMD_PACKAGED inside a MIG_CMD_PACKAGED blob");
      e.value = be32(v, 5);
      break;
    case mig_cmd::recv_bitmap:
      if (len < 1 || v[5] + 1u != len) return fail("RECV_BITMAP whose block name does not fill its length");
      e.text = text_of(v.subspan(6, v[5]));
      break;
    default: break;  // POSTCOPY_RAM_DISCARD's ranges, and the commands without data
  }
  take(5u + len);
  if (cmd == mig_cmd::packaged) {
    in_package_ = true;
    package_left_ = e.value;
  }
  events_.push_back(std::move(e));
  return step_result::progress;
}

// The subsections of vmstate_configuration (savevm.c:541 at v10.2.2), each needed or not.
main_stream_reader::step_result main_stream_reader::config_sub() {
  if (!need(1)) return wait();
  if (avail()[0] != qemu_vm_subsection) {
    at_ = at::record;
    return step_result::progress;
  }
  record_at_ = offset_;
  if (!need(2)) return wait();
  const std::size_t n = avail()[1];
  const std::size_t head = 2 + n + 4;  // type, length, name, be32 version
  if (!need(head)) return wait();
  const auto name = text_of(avail().subspan(2, n));
  if (name == "configuration/target-page-bits") {
    if (!need(head + 4)) return wait();
    const auto bits = be32(avail(), head);
    if (bits < 9 || bits > 30) return fail("target page bits " + std::to_string(bits));
    page_size_ = std::uint64_t{1} << bits;
    take(head + 4);
  } else if (name == "configuration/uuid") {
    if (!need(head + 16)) return wait();
    take(head + 16);
  } else if (name == "configuration/capabilities") {
    if (!need(head + 4)) return wait();
    caps_left_ = be32(avail(), head);
    if (caps_left_ > caps_max) return fail(std::to_string(caps_left_) + " capabilities in the configuration");
    take(head + 4);
    at_ = at::caps_list;
  } else {
    return fail("unknown configuration subsection '" + name + "'");
  }
  return step_result::progress;
}

// One record of the `ram` section: a be64 of page offset and RAM_SAVE_FLAG_* bits, then
// what the flags say follows (ram_load_precopy() and ram_load_postcopy()).
main_stream_reader::step_result main_stream_reader::ram_record() {
  if (!need(8)) return wait();
  record_at_ = offset_;
  auto v = avail();
  const auto header = be64(v, 0);
  const auto flags = header & (page_size_ - 1);
  const auto addr = header & ~(page_size_ - 1);
  if (flags & ~ram_known_flags) return fail("unknown RAM flags " + hexnum(flags));
  const auto kind = flags & ~ram_save_flag_continue;
  switch (kind) {
    case ram_save_flag_mem_size:
      take(8);
      ram_left_ = addr;
      blocks_.clear();
      at_ = at::ram_blocks;
      if (addr == 0) return fail("a RAM total of 0 bytes");
      return step_result::progress;
    case ram_save_flag_zero:
    case ram_save_flag_page:
    case ram_save_flag_xbzrle:
    case ram_save_flag_compress_page: {
      std::size_t at = 8;
      std::string block;
      if (flags & ram_save_flag_continue) {
        if (!block_) return fail("RAM_SAVE_FLAG_CONTINUE before any block");
        block = *block_;
      } else {
        if (!need(9)) return wait();
        const std::size_t n = avail()[8];
        if (!need(9 + n)) return wait();
        block = text_of(avail().subspan(9, n));
        at = 9 + n;
      }
      if (ram_) {
        const auto it = std::find_if(ram_->blocks.begin(), ram_->blocks.end(),
                                     [&](const ram_block& b) { return b.name == block; });
        if (it == ram_->blocks.end()) return fail("RAM page for unknown block '" + block + "'");
        if (addr >= it->used_length) return fail("Illegal RAM offset " + hexnum(addr) + " in block '" + block + "'");
      }
      block_ = std::move(block);
      if (kind == ram_save_flag_zero) {
        if (!need(at + 1)) return wait();
        if (const auto fill = avail()[at]; fill != 0)
          return fail("Found a zero page with value " + std::to_string(fill));
        take(at + 1);
        return step_result::progress;
      }
      if (kind == ram_save_flag_page) {
        take(at);
        return skip(page_size_, at::ram_record);
      }
      if (kind == ram_save_flag_xbzrle) {  // u8 ENCODING_FLAG_XBZRLE, be16 length, data
        if (!need(at + 3)) return wait();
        const auto len = be16(avail(), at + 1);
        take(at + 3);
        return skip(len, at::ram_record);
      }
      if (!need(at + 4)) return wait();  // 7.2's compressed page: be32 length, data
      const auto len = be32(avail(), at);
      if (len > 2 * page_size_) return fail("Invalid compressed data length: " + std::to_string(len));
      take(at + 4);
      return skip(len, at::ram_record);
    }
    case ram_save_flag_multifd_flush: take(8); return step_result::progress;
    case ram_save_flag_eos:
      take(8);
      at_ = at::footer;
      return step_result::progress;
    case ram_save_flag_hook: return fail("RAM_SAVE_FLAG_HOOK: RDMA control data is not read");
    default: return fail("Unknown combination of migration flags: " + hexnum(flags));
  }
}

// The RAMBlocks after RAM_SAVE_FLAG_MEM_SIZE, until their lengths add up to its total.
main_stream_reader::step_result main_stream_reader::ram_blocks() {
  if (!need(1)) return wait();
  const std::size_t n = avail()[0];
  if (n == 0) return fail("a RAMBlock with an empty idstr");
  std::size_t len = 1 + n + 8;
  if (!need(len)) return wait();
  const auto name = text_of(avail().subspan(1, n));
  const auto used = be64(avail(), 1 + n);
  if (postcopy_ram_advised_) {
    if (!need(len + 8)) return wait();
    if (is_page_size(be64(avail(), len))) len += 8;
  }
  if (caps_.contains("x-ignore-shared")) len += 8;  // the block's guest address
  if (!need(len)) return wait();
  if (used > ram_left_)
    return fail("RAMBlock '" + name + "' of " + hexnum(used) + " bytes where " + hexnum(ram_left_) + " are left");
  if (blocks_.size() >= blocks_max) return fail("more than " + std::to_string(blocks_max) + " RAMBlocks");
  blocks_.push_back({name, used});
  take(len);
  ram_left_ -= used;
  if (ram_left_ == 0) {
    ram_ = ram_layout{*ram_id_, std::exchange(blocks_, {}), page_size_};
    events_.push_back({main_event::kind::ram_setup, record_at_, mig_cmd::invalid, 0, {}, in_package_});
    at_ = at::ram_record;
  }
  return step_result::progress;
}

// Opaque device data: up to the section's footer that the stream can go on from.
main_stream_reader::step_result main_stream_reader::scan() {
  const auto v = avail();
  // No more bytes can come within what is being read: the package ends with the
  // view, or main was closed.
  const bool final = (in_package_ && package_left_ == v.size()) || (closed_ && !in_package_);
  std::size_t from = 0;
  for (;;) {
    const void* hit = v.size() > from ? std::memchr(v.data() + from, qemu_vm_section_footer, v.size() - from) : nullptr;
    if (!hit) {
      if (final) return fail("no footer of section " + std::to_string(section_) + " before the end");
      take(v.size());
      return step_result::need_more;
    }
    const auto i = static_cast<std::size_t>(static_cast<const std::uint8_t*>(hit) - v.data());
    if (v.size() < i + 5) {
      if (final) {
        from = i + 1;
        continue;
      }
      take(i);
      return step_result::need_more;
    }
    if (be32(v, i + 1) == section_) {
      const bool package_end = in_package_ && package_left_ == i + 5;
      switch (continues(v.subspan(i + 5), package_end, final)) {
        case verdict::yes:
          take(i + 5);
          at_ = at::record;
          return step_result::progress;
        case verdict::maybe: take(i); return step_result::need_more;
        case verdict::no: break;
      }
    }
    from = i + 1;
  }
}

// Whether `after`, the bytes after a candidate footer, start what a stream can go on with.
// maybe: not enough bytes to tell yet.
main_stream_reader::verdict main_stream_reader::continues(byte_view after, bool package_end, bool final) const {
  const verdict short_of = final ? verdict::no : verdict::maybe;
  if (after.empty()) return package_end ? verdict::yes : short_of;
  switch (after[0]) {
    case qemu_vm_eof:
      if (in_package_) return verdict::no;
      if (after.size() < 2) return final ? verdict::yes : verdict::maybe;  // EOF, and main closed
      if (after[1] != qemu_vm_vmdescription) return verdict::no;
      if (after.size() < 7) return short_of;
      return after[6] == '{' ? verdict::yes : verdict::no;  // the JSON description
    case qemu_vm_section_start:
    case qemu_vm_section_full: {
      if (after.size() < 6) return short_of;
      const std::size_t n = after[5];
      if (n == 0) return verdict::no;
      if (after.size() < 6 + n + 8) return short_of;
      const bool ok = be32(after, 1) != section_ && printable(after.subspan(6, n)) && be32(after, 6 + n) <= small_max &&
                      be32(after, 10 + n) <= small_max;
      return ok ? verdict::yes : verdict::no;
    }
    case qemu_vm_section_part:
    case qemu_vm_section_end:
      if (after.size() < 5) return short_of;
      return sections_.contains(be32(after, 1)) ? verdict::yes : verdict::no;
    case qemu_vm_command: {
      if (after.size() < 5) return short_of;
      const auto raw = be16(after, 1);
      if (raw == 0 || raw >= mig_cmd_count) return verdict::no;
      const int fixed = fixed_length(static_cast<mig_cmd>(raw));
      return fixed < 0 || fixed == be16(after, 3) ? verdict::yes : verdict::no;
    }
    default: return verdict::no;
  }
}

}  // namespace migchan
