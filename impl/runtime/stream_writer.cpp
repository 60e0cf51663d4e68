#include "impl/runtime/stream_writer.h"

namespace migchan {

namespace {
void put_idstr(bytes& out, std::string_view s) {
  out.push_back(static_cast<std::uint8_t>(s.size()));
  out.insert(out.end(), s.begin(), s.end());
}
}  // namespace

stream_writer& stream_writer::header() {
  put_be32(out_, qemu_vm_file_magic);
  put_be32(out_, qemu_vm_file_version);
  return *this;
}

stream_writer& stream_writer::configuration(std::string_view machine) {
  out_.push_back(qemu_vm_configuration);
  put_be32(out_, static_cast<std::uint32_t>(machine.size()));
  return raw(bytes(machine.begin(), machine.end()));
}

stream_writer& stream_writer::command(mig_cmd cmd, byte_view data) { return raw(vm_command(cmd, data)); }

stream_writer& stream_writer::ping(std::uint32_t value) {
  bytes v;
  put_be32(v, value);
  return command(mig_cmd::ping, v);
}

stream_writer& stream_writer::postcopy_advise(std::uint64_t host_page, std::uint64_t target_page) {
  bytes v;
  put_be64(v, host_page);
  put_be64(v, target_page);
  return command(mig_cmd::postcopy_advise, v);
}

stream_writer& stream_writer::packaged(byte_view blob) {
  bytes v;
  put_be32(v, static_cast<std::uint32_t>(blob.size()));
  return command(mig_cmd::packaged, v).raw(blob);
}

stream_writer& stream_writer::section(std::uint8_t type, std::uint32_t id, std::string_view idstr,
                                      std::uint32_t instance, std::uint32_t version) {
  section(type, id);
  put_idstr(out_, idstr);
  put_be32(out_, instance);
  put_be32(out_, version);
  return *this;
}

stream_writer& stream_writer::section(std::uint8_t type, std::uint32_t id) {
  out_.push_back(type);
  put_be32(out_, id);
  return *this;
}

stream_writer& stream_writer::footer(std::uint32_t id) { return section(qemu_vm_section_footer, id); }

stream_writer& stream_writer::ram_setup(const std::vector<ram_block>& blocks) {
  std::uint64_t total = 0;
  for (const auto& b : blocks) total += b.used_length;
  put_be64(out_, total | ram_save_flag_mem_size);
  for (const auto& b : blocks) {
    put_idstr(out_, b.name);
    put_be64(out_, b.used_length);
  }
  return *this;
}

stream_writer& stream_writer::ram_page(std::uint64_t offset, std::uint64_t flags, std::string_view block,
                                       byte_view data) {
  put_be64(out_, offset | flags);
  if (!(flags & ram_save_flag_continue)) put_idstr(out_, block);
  return raw(data);
}

stream_writer& stream_writer::ram_flag(std::uint64_t flags) {
  put_be64(out_, flags);
  return *this;
}

stream_writer& stream_writer::eof() {
  out_.push_back(qemu_vm_eof);
  return *this;
}

stream_writer& stream_writer::vmdescription(std::string_view json) {
  out_.push_back(qemu_vm_vmdescription);
  put_be32(out_, static_cast<std::uint32_t>(json.size()));
  return raw(bytes(json.begin(), json.end()));
}

stream_writer& stream_writer::raw(byte_view b) {
  out_.insert(out_.end(), b.begin(), b.end());
  return *this;
}

}  // namespace migchan
