// What `migchan serve` answers on main's return path, without sockets: fed the bytes
// of main, it says what to send back and what to log, as a real destination would
// answer (migration/savevm.c loadvm_process_command() and migration.c at v10.2.2):
//   PING n            -> MIG_RP_MSG_PONG n, once OPEN_RETURN_PATH has come
//   RECV_BITMAP block -> MIG_RP_MSG_RECV_BITMAP with the block's bitmap
//   POSTCOPY_RESUME   -> MIG_RP_MSG_RESUME_ACK 1
//   the stream's end  -> MIG_RP_MSG_SHUT 0
// serve loads no RAM, so every bitmap says every page was received.
#pragma once

#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <vector>

#include "impl/runtime/decider.h"
#include "impl/runtime/main_stream.h"

namespace migchan {

// Bytes for the return path (possibly none) and the log line that says so: `event` and
// its fields, without "t" and "conn".
struct rp_action {
  bytes data;
  std::string event;
  json_line fields = json_line::object();
};

class return_path {
 public:
  struct options {
    bool shut = false;              // SHUT even if the stream does not open the return path
    bool recovery = false;          // main of a postcopy recovery (main_stream_reader's `resumed`)
    std::optional<ram_layout> ram;  // the original stream's, for a recovery
  };
  explicit return_path(options o);

  std::vector<rp_action> feed(byte_view b);
  std::vector<rp_action> close();  // the peer closed main
  // The fallback of a stream whose end cannot be recognised: SHUT once main has been idle.
  // Nothing while the reader knows where the stream ends, or when SHUT is not due.
  std::optional<rp_action> idle();
  bool shut_due() const;  // SHUT not sent yet, and the stream opened the return path (or o.shut)
  bool shut_sent() const { return shut_sent_; }
  const main_stream_reader& reader() const { return reader_; }

 private:
  std::vector<rp_action> act(const std::vector<main_event>& events);
  rp_action shut();

  options opt_;
  main_stream_reader reader_;
  bool open_ = false;  // OPEN_RETURN_PATH has been acted on (a recovery's is open from the start)
  bool shut_sent_ = false;
};

// The `ram_blocks` log line's fields: {"section_id", "page_size", "blocks": [{"name", "used_length"}]}.
json_line to_json(const ram_layout& r);
// The last `ram_blocks` line of a serve log, what `serve --recovery --ram-blocks LOG` answers
// RECV_BITMAP from; nullopt when there is none. Throws std::invalid_argument ("line 7: ...")
// for a `ram_blocks` line it cannot read; other lines are not looked at.
std::optional<ram_layout> ram_layout_from_log(std::istream& log);

}  // namespace migchan
