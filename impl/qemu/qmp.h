// qmp_client: QEMU's JSON monitor over a unix socket, one JSON object per line.
#pragma once

#include "impl/runtime/fd.h"
#include "impl/qemu/deadline.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <set>
#include <string>

namespace migchan::qemu {

using json = nlohmann::json;

// Every error (timeout, QEMU error reply, closed socket) is a std::runtime_error with one line
// that names the command, e.g. "qmp migrate: Postcopy preempt requires postcopy-ram".
class qmp_client {
 public:
  static constexpr millis default_timeout{2000};

  // Connects, retrying until the deadline because QEMU creates the socket ~50 ms after exec.
  // `still_starting` runs between attempts and may throw (e.g. when the QEMU process died),
  // so a broken command line fails at once instead of at the deadline.
  // Then reads the greeting and enters command mode with qmp_capabilities.
  qmp_client(const std::string& socket_path, millis timeout, const std::function<void()>& still_starting = {});

  // Sends {"execute":command,"arguments":arguments,"id":N} and returns the "return" member.
  json execute(const std::string& command, const json& arguments = json::object(), millis timeout = default_timeout);

  // Returns the first event called `name` (collected earlier or arriving before the deadline),
  // and removes it from the queue.
  json wait_for_event(const std::string& name, millis timeout);
  // Events collected so far, oldest first; the queue is emptied.
  std::deque<json> take_events();
  // The oldest event, queued or arriving before the deadline, removed from the queue; nullopt at
  // the deadline. Throws when QEMU closes the socket (it exited) like every other call.
  std::optional<json> next_event(clock::time_point deadline);

  // Polls query-migrate until its "status" is one of `statuses` and returns that reply.
  // A terminal status (completed, failed, cancelled) that is not wanted throws at once,
  // quoting error-desc when QEMU gives one.
  json wait_for_status(const std::set<std::string>& statuses, millis timeout, millis interval = millis(10));

  const json& greeting() const { return greeting_; }
  // False once the socket closed or broke (QEMU exited, or was killed).
  bool connected() const { return static_cast<bool>(fd_); }

 private:
  void send_line(const std::string& line, clock::time_point deadline, const std::string& what);
  // Next message, or nullopt at the deadline. Events are not filtered here.
  std::optional<json> read_message(clock::time_point deadline, const std::string& what);
  // Reads until the deadline, queueing events and dropping stale replies.
  void pump(clock::time_point deadline);

  unique_fd fd_;
  std::string buffer_;
  std::deque<json> events_;
  uint64_t next_id_ = 1;
  json greeting_;
};

}  // namespace migchan::qemu
