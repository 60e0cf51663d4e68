// The main channel's savevm stream as a destination reads it, far enough to answer on
// the return path what a real destination answers: every QEMU_VM_COMMAND (also inside
// a MIG_CMD_PACKAGED blob), the `ram` section's RAMBlocks, and where the stream ends.
// Incremental (any chunking), bounded memory, and it never throws on what it is fed:
// a stream it cannot follow is recorded as an error and the rest is ignored.
//
// Device state (any section other than `ram`) is opaque: its length is known only to
// the device's vmstate description. The reader skips it up to the section footer
// (`7e <be32 section id>`) that is followed by something a stream can continue with
// (a section header, a command, EOF and its VMDESCRIPTION, or the end of the package).
// While it does so, `knows_end()` is false.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "impl/runtime/wire.h"

namespace migchan {

// Which section of the original stream is `ram`, and its RAMBlocks: what a
// postcopy-recovery main, which has no setup record, is read with and answered from.
struct ram_layout {
  std::uint32_t section_id = 0;
  std::vector<ram_block> blocks;
  std::uint64_t page_size = 4096;  // the target page size (x86)
  bool operator==(const ram_layout&) const = default;
};

struct main_event {
  enum class kind : std::uint8_t { command, ram_setup, end, error };
  kind what = kind::command;
  std::uint64_t offset = 0;  // of the record's first byte in the stream
  mig_cmd cmd = mig_cmd::invalid;
  std::uint32_t value = 0;  // PING: its value; PACKAGED: the blob's length
  std::string text;         // RECV_BITMAP: the block; error: what went wrong
  bool packaged = false;    // read inside a MIG_CMD_PACKAGED blob
};

class main_stream_reader {
 public:
  struct options {
    // A postcopy-recovery main: no header, commands first, the return path open,
    // postcopy running, and `ram` as the original stream set it up.
    bool resumed = false;
    std::optional<ram_layout> ram;
  };
  main_stream_reader() : main_stream_reader(options{}) {}
  explicit main_stream_reader(options o);

  // The next bytes of main, in any chunks; returns what they completed, in order.
  std::vector<main_event> feed(byte_view b);
  // The peer closed main. A precopy stream at QEMU_VM_EOF without its VMDESCRIPTION
  // ends here (the real destination warns and completes); anything else cut short is
  // an error.
  std::vector<main_event> close();

  bool ended() const { return at_ == at::ended; }
  bool failed() const { return at_ == at::failed; }
  // The end will be recognised exactly when it comes: not after an error, not while
  // device state is skipped, not between QEMU_VM_EOF and its optional VMDESCRIPTION.
  bool knows_end() const;
  const std::string& error() const { return error_; }
  std::uint64_t offset() const { return offset_; }   // bytes read so far
  bool return_path() const { return return_path_; }  // OPEN_RETURN_PATH seen (or resumed)
  bool postcopy() const { return postcopy_; }        // POSTCOPY_LISTEN seen (or resumed)
  const std::optional<std::string>& machine() const { return machine_; }
  const std::optional<ram_layout>& ram() const { return ram_; }
  std::size_t buffered() const { return buf_.size(); }  // never more than buffer_max

  static constexpr std::size_t buffer_max = 4096;

 private:
  enum class at : std::uint8_t {
    header,
    record,
    config_sub,
    caps_list,
    ram_record,
    ram_blocks,
    footer,
    scanning,
    vmdesc,
    vmdesc_body,
    ended,
    failed,
  };
  enum class step_result : std::uint8_t { progress, need_more, stop };
  enum class verdict : std::uint8_t { yes, no, maybe };

  byte_view avail() const;
  bool need(std::size_t n);
  void take(std::size_t n);
  step_result wait() const;
  step_result skip(std::uint64_t n, at then);
  step_result step();
  step_result fail(const std::string& what);
  void finish();
  step_result record();
  step_result command();
  step_result config_sub();
  step_result ram_record();
  step_result ram_blocks();
  step_result scan();
  verdict continues(byte_view after, bool package_end, bool final) const;

  at at_;
  bytes buf_;
  std::size_t pos_ = 0;
  std::uint64_t offset_ = 0, record_at_ = 0;
  std::uint64_t skip_ = 0;
  at after_skip_ = at::record;
  bool in_package_ = false, closed_ = false;
  std::uint64_t package_left_ = 0;
  std::vector<main_event> events_;
  std::string error_;

  bool return_path_ = false, postcopy_ = false, postcopy_ram_advised_ = false;
  std::optional<std::string> machine_;
  std::set<std::string> caps_;  // configuration/capabilities
  std::uint32_t caps_left_ = 0;
  std::uint64_t page_size_ = 4096;
  std::map<std::uint32_t, std::string> sections_;  // id -> idstr, from START/FULL headers
  std::optional<std::uint32_t> ram_id_;
  std::uint32_t section_ = 0;         // the section being read (ram) or skipped
  std::optional<std::string> block_;  // the block of the last page record (CONTINUE)
  std::optional<ram_layout> ram_;
  std::vector<ram_block> blocks_;  // the setup record as it is read
  std::uint64_t ram_left_ = 0;
};

}  // namespace migchan
