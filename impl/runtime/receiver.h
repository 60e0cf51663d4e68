// The socket runtime: `receiver` is `migchan serve`, a reference destination that
// acts on each decision of a `decider` (impl/runtime/decider.h) over real sockets. It does
// not classify or keep destination state on its own: the table decides, the
// runtime only observes and acts.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "impl/runtime/caps.h"
#include "impl/runtime/decider.h"
#include "impl/runtime/log_sink.h"
#include "impl/runtime/main_stream.h"
#include "impl/runtime/uri.h"
#include "impl/runtime/wire.h"
#include "model/destination.h"

namespace migchan {

// Why `t` refuses this configuration on transport `tr` (its config rules and valid()),
// e.g. "qemu-7.2 refuses this configuration (caps.no_mapped_ram): ...", or nullopt.
std::optional<std::string> refusal(const table& t, const dest_cfg& c, transport tr = transport::socket);

struct serve_options {
  const table* classifier = nullptr;  // required
  dest_cfg config{false, false, false, false, multifd_channels_default};
  uri listen;  // tcp with an empty host binds 127.0.0.1
  order_mode order = order_mode::accept;
  std::chrono::milliseconds peek_timeout{1000};
  std::chrono::milliseconds shut_idle{300};  // main idle this long -> MIG_RP_MSG_SHUT
  bool return_path = false;                  // send SHUT even without postcopy-ram
  bool recovery = false;                     // start postcopy-paused (paused_state())
  std::optional<ram_layout> ram;             // with recovery: the original stream's, for RECV_BITMAP
  uuid_bytes uuid{};                         // the destination's -uuid
  bool exit_after_complete = false;
  std::chrono::milliseconds timeout{0};  // 0: run until stop()
  std::size_t max_connections = 1024;    // open at once; accepting pauses at the limit
  int backlog = 1024;
};

// `migchan serve`. Binds in the constructor (std::system_error on failure); run()
// serves on the calling thread until stop(), the timeout, the destination's abort
// or, with exit_after_complete, the end of the migration.
class receiver {
 public:
  receiver(serve_options o, log_sink log);
  ~receiver();
  receiver(const receiver&) = delete;
  receiver& operator=(const receiver&) = delete;

  const uri& address() const;  // as bound, with the real port
  // 0 when it ended normally, 1 when the destination aborted, exited, is stalled or
  // refused main's stream. The log's last line is the summary; its "result" says which.
  int run();
  // From any thread or a signal handler: run() returns after this round of events.
  void stop() noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> p_;
};

}  // namespace migchan
