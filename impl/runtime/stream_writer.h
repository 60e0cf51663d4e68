// Writes a savevm stream record by record, as a source puts it on main
// (migration/savevm.c and ram.c at v10.2.2): for tests of the reader and for scripted
// sources. Each call appends and returns *this.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "impl/runtime/wire.h"

namespace migchan {

class stream_writer {
 public:
  stream_writer& header();  // QEMU_VM_FILE_MAGIC, version 3
  stream_writer& configuration(std::string_view machine);
  stream_writer& command(mig_cmd cmd, byte_view data = {});
  stream_writer& ping(std::uint32_t value);
  stream_writer& postcopy_advise(std::uint64_t host_page = 4096, std::uint64_t target_page = 4096);
  stream_writer& packaged(byte_view blob);  // PACKAGED, then the blob
  // QEMU_VM_SECTION_START or _FULL: id, idstr, instance and version.
  stream_writer& section(std::uint8_t type, std::uint32_t id, std::string_view idstr, std::uint32_t instance = 0,
                         std::uint32_t version = 1);
  stream_writer& section(std::uint8_t type, std::uint32_t id);  // _PART or _END
  stream_writer& footer(std::uint32_t id);
  // RAM_SAVE_FLAG_MEM_SIZE with the total, then each block's idstr and length.
  stream_writer& ram_setup(const std::vector<ram_block>& blocks);
  // One page record: offset | flags, the block's idstr unless flags has CONTINUE, then
  // `data` (the fill byte of a zero page, the page itself).
  stream_writer& ram_page(std::uint64_t offset, std::uint64_t flags, std::string_view block, byte_view data);
  stream_writer& ram_flag(std::uint64_t flags);  // EOS, MULTIFD_FLUSH: the flag alone
  stream_writer& eof();
  stream_writer& vmdescription(std::string_view json);
  stream_writer& raw(byte_view b);

  const bytes& data() const { return out_; }

 private:
  bytes out_;
};

}  // namespace migchan
