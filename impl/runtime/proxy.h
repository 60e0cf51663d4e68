// `migchan proxy`: relays every accepted connection, byte-exact in both
// directions, to a new connection to the destination, and classifies each on
// the way with a table (log lines as `migchan serve`, in the order the
// destination sees them). With a trace it holds connections back so that the
// destination accepts them in the trace's order, e.g. a multifd channel before
// main, which a 7.2 destination takes as main (migration/migration.c:739-741 at
// v7.2.0: the first connection is main, whatever it sends).
#pragma once

#include <chrono>
#include <memory>
#include <optional>

#include "impl/runtime/receiver.h"
#include "impl/runtime/replay.h"

namespace migchan {

struct proxy_options {
  uri listen;  // tcp with an empty host binds 127.0.0.1
  uri to;
  const table* classifier = nullptr;  // nullptr: relay without classifying
  dest_cfg config{false, false, false, false, 2};
  bool recovery = false;
  // nullopt: natural order, each connection dialed as it is accepted. Otherwise
  // each connection is identified by its first bytes (silent after peek_timeout)
  // and dialed when it is the trace's next arrival; those the trace does not
  // name follow once the trace is done.
  std::optional<replay_trace> order;
  std::chrono::milliseconds peek_timeout{1000};
  std::chrono::milliseconds hold_timeout{5000};  // no trace progress this long: relay the rest as they come
  std::chrono::milliseconds gap{0};              // between dials in trace order
  std::chrono::milliseconds timeout{0};          // 0: run until stop()
  std::size_t max_connections = 1024;            // pairs open at once
  std::size_t buffer = 1u << 16;                 // per direction
};

class proxy {
 public:
  proxy(proxy_options o, log_sink log);  // binds and resolves; std::system_error on failure
  ~proxy();
  proxy(const proxy&) = delete;
  proxy& operator=(const proxy&) = delete;

  const uri& address() const;
  // Until stop() or the timeout: 0, or 1 when a trace order was not followed to its end.
  // The log's last line is the summary.
  int run();
  void stop() noexcept;  // from any thread or a signal handler

 private:
  struct impl;
  std::unique_ptr<impl> p_;
};

}  // namespace migchan
