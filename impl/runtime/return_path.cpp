#include "impl/runtime/return_path.h"

#include <algorithm>
#include <stdexcept>

namespace migchan {

namespace {

rp_action message(bytes data, std::string event, json_line fields = json_line::object()) {
  fields["bytes_hex"] = hex(data);
  return {std::move(data), std::move(event), std::move(fields)};
}

}  // namespace

return_path::return_path(options o)
    : opt_(std::move(o)), reader_(main_stream_reader::options{opt_.recovery, opt_.ram}), open_(opt_.recovery) {}

std::vector<rp_action> return_path::feed(byte_view b) { return act(reader_.feed(b)); }

std::vector<rp_action> return_path::close() { return act(reader_.close()); }

bool return_path::shut_due() const { return !shut_sent_ && (opt_.shut || open_); }

rp_action return_path::shut() {
  shut_sent_ = true;
  return message(rp_shut(), "rp_shut");
}

std::optional<rp_action> return_path::idle() {
  if (!shut_due() || reader_.knows_end()) return std::nullopt;
  return shut();
}

std::vector<rp_action> return_path::act(const std::vector<main_event>& events) {
  std::vector<rp_action> out;
  for (const auto& e : events) {
    switch (e.what) {
      case main_event::kind::command:
        if (e.cmd == mig_cmd::open_return_path) {
          open_ = true;  // in stream order: the reader may have read further already
        } else if (e.cmd == mig_cmd::ping) {
          // loadvm_process_command(): a PING needs the return path (savevm.c:2510 at v10.2.2).
          if (!open_)
            out.push_back(
                {{}, "error", {{"error", "CMD_PING (" + hexnum(e.value) + ") received with no return path"}}});
          else out.push_back(message(rp_pong(e.value), "rp_pong", {{"value", e.value}}));
        } else if (e.cmd == mig_cmd::recv_bitmap) {
          const auto& ram = reader_.ram();
          const auto it = !ram ? decltype(ram->blocks.end()){}
                               : std::find_if(ram->blocks.begin(), ram->blocks.end(),
                                              [&](const ram_block& b) { return b.name == e.text; });
          if (!ram || it == ram->blocks.end()) {
            out.push_back({{},
                           "error",
                           {{"error", "RECV_BITMAP for RAMBlock '" + e.text + "', whose size is unknown" +
                                          (opt_.recovery && !opt_.ram ? " (no --ram-blocks)" : "")}}});
          } else {
            auto data = rp_recv_bitmap(it->name, it->used_length, ram->page_size, true);
            json_line f{{"block", it->name}, {"bytes", data.size()}};
            out.push_back({std::move(data), "rp_recv_bitmap", std::move(f)});
          }
        } else if (e.cmd == mig_cmd::postcopy_resume) {
          out.push_back(message(rp_resume_ack(), "rp_resume_ack"));
        }
        break;
      case main_event::kind::ram_setup: out.push_back({{}, "ram_blocks", to_json(*reader_.ram())}); break;
      case main_event::kind::end:
        out.push_back({{}, "main_end", {{"at", e.offset}, {"postcopy", reader_.postcopy()}}});
        if (shut_due()) out.push_back(shut());
        break;
      case main_event::kind::error:
        out.push_back({{}, "main_unreadable", {{"at", e.offset}, {"error", e.text}}});
        break;
    }
  }
  return out;
}

json_line to_json(const ram_layout& r) {
  json_line blocks = json_line::array();
  for (const auto& b : r.blocks) blocks.push_back({{"name", b.name}, {"used_length", b.used_length}});
  return {{"section_id", r.section_id}, {"page_size", r.page_size}, {"blocks", blocks}};
}

std::optional<ram_layout> ram_layout_from_log(std::istream& log) {
  std::optional<ram_layout> last;
  std::size_t n = 0;
  for (std::string line; std::getline(log, line);) {
    ++n;
    if (line.find("\"ram_blocks\"") == std::string::npos) continue;
    const auto j = json_line::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.value("event", "") != "ram_blocks") continue;
    try {
      ram_layout r;
      r.section_id = j.at("section_id").get<std::uint32_t>();
      r.page_size = j.at("page_size").get<std::uint64_t>();
      for (const auto& b : j.at("blocks")) r.blocks.push_back({b.at("name"), b.at("used_length")});
      if (r.page_size == 0) throw std::invalid_argument("line " + std::to_string(n) + ": page_size 0");
      last = std::move(r);
    } catch (const json_line::exception&) {
      throw std::invalid_argument("line " + std::to_string(n) +
                                  ": a ram_blocks line without section_id, page_size and blocks [{name, used_length}]");
    }
  }
  return last;
}

}  // namespace migchan
