// What `migchan serve` (receiver.h) and `migchan proxy` (proxy.h) share as servers:
// the listening socket, accepting that pauses at a limit or when short of descriptors
// instead of failing, a stop() safe from a signal handler, and the run with its
// deadline, its log flushed whenever the loop waits, and the summary as the last line.
// What a connection is and what the log says about it stay with its owner.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>

#include "impl/runtime/event_loop.h"
#include "impl/runtime/fd.h"
#include "impl/runtime/log_sink.h"
#include "impl/runtime/uri.h"

namespace migchan {

inline double seconds(event_loop::clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Short of descriptors or memory: a shortage that may end without a close of ours.
bool is_resource_error(int e);

class server {
 public:
  struct hooks {
    std::function<void(unique_fd)> accepted;  // a new connection, non-blocking
    // Whether another connection may be accepted now; asked before each accept and,
    // with `resuming`, before accepting resumes.
    std::function<bool(bool resuming)> room;
    // Accepting pauses: short of descriptors (`error` says how), or room() said no.
    std::function<void(bool shortage, const std::string& error)> paused;
  };

  // Binds `listen` (tcp with an empty host: 127.0.0.1) and watches it on `loop`;
  // std::system_error on failure. `loop` and `log` are the owner's and outlive this.
  server(event_loop& loop, const log_sink& log, const uri& listen, int backlog, hooks h);
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // As bound, with the real port.
  const uri& address() const { return bound_; }
  double now_t() const { return seconds(event_loop::clock::now() - t0_); }  // the log's "t"
  event_loop::clock::time_point started() const { return t0_; }

  // Paused accepting resumes on resume_accept() when room() allows; when short of
  // descriptors also by itself after 100 ms, as they may come back without a close.
  void pause_accept(bool shortage);
  void resume_accept();
  void close_listener();  // for good: the destination died

  // Logs {"t", "listening", ...start()}, then dispatches until done() holds, stop() or
  // `timeout` (0: none), then logs {"t", "summary": summary()} past any log cap.
  void run(std::chrono::milliseconds timeout, const std::function<json_line()>& start,
           const std::function<bool()>& done, const std::function<json_line()>& summary);
  // From any thread or a signal handler: run() returns after this round of events.
  void stop() noexcept;

 private:
  void on_listen();

  event_loop& loop_;
  const log_sink& log_;
  hooks hooks_;
  uri bound_;
  unique_fd listener_, wake_;  // wake_: written by stop(), so that the loop's wait ends
  event_loop::clock::time_point t0_ = event_loop::clock::now();
  std::atomic<bool> stop_requested_{false};
  bool paused_ = false;
};

}  // namespace migchan
