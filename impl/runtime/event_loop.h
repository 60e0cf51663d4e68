// One-thread readiness loop over epoll, with deadline-ordered timers. Callbacks
// do the reads and writes; the loop itself never blocks on any one connection.
#pragma once

#include <sys/epoll.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>
#include <utility>

#include "impl/runtime/fd.h"

namespace migchan {

class event_loop {
 public:
  using clock = std::chrono::steady_clock;
  using fd_callback = std::function<void(std::uint32_t events)>;  // EPOLLIN, EPOLLHUP, ...
  using timer_callback = std::function<void()>;
  using timer_id = std::uint64_t;
  enum class run_result : std::uint8_t { done, stopped, timed_out };

  event_loop();
  event_loop(const event_loop&) = delete;
  event_loop& operator=(const event_loop&) = delete;

  // Watches fd (level-triggered unless events has EPOLLET). The loop does not own
  // fd: remove() it before closing. Throws std::system_error ("cannot watch fd 7: ...").
  void add(int fd, std::uint32_t events, fd_callback cb);
  void modify(int fd, std::uint32_t events);
  void modify(int fd, std::uint32_t events, fd_callback cb);
  // Safe from inside any callback, and for fds that are not watched or already closed;
  // an event of fd already taken from the kernel in this round is not delivered.
  void remove(int fd) noexcept;
  bool watching(int fd) const { return watches_.contains(fd); }

  // A timer fires once, at or up to a millisecond after its deadline; ties fire
  // in the order they were added.
  timer_id add_timer(clock::time_point deadline, timer_callback cb);
  timer_id add_timer(clock::duration delay, timer_callback cb) {
    return add_timer(clock::now() + delay, std::move(cb));
  }
  bool cancel_timer(timer_id id) noexcept;  // false if it already fired or never existed
  std::size_t pending_timers() const { return timer_deadlines_.size(); }

  // Makes the current (or next) run_until() return `stopped` once the events of
  // this round are delivered; no event taken from the kernel is dropped.
  void stop() noexcept { stopped_ = true; }

  // Dispatches until done() holds (checked before every wait), stop() is called,
  // or the deadline passes. Exceptions thrown by callbacks propagate.
  run_result run_until(const std::function<bool()>& done, clock::time_point deadline);
  run_result run_until(clock::time_point deadline) { return run_until({}, deadline); }

  // One wait, no later than the deadline or the next timer, then dispatch of what
  // is ready: fd callbacks first, then timers that were due when the wait ended.
  void run_once(clock::time_point deadline);

  // Called when nothing is ready and the loop is about to wait, not between busy
  // rounds: a buffered log flushed here costs a write only when the loop has time.
  void on_idle(std::function<void()> f) { idle_ = std::move(f); }

 private:
  struct watch {
    std::uint32_t generation;
    std::shared_ptr<fd_callback> cb;  // shared: a callback may remove itself mid-call
  };
  void fire_due_timers();

  unique_fd epoll_;
  std::function<void()> idle_;
  bool stopped_ = false;
  std::uint32_t next_generation_ = 0;
  std::unordered_map<int, watch> watches_;
  timer_id next_timer_ = 0;
  std::map<std::pair<clock::time_point, timer_id>, timer_callback> timers_;
  std::unordered_map<timer_id, clock::time_point> timer_deadlines_;
};

}  // namespace migchan
