#include "impl/runtime/event_loop.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <string>
#include <system_error>
#include <vector>

namespace migchan {

namespace {

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

// The generation tells a removed-and-re-added fd apart from the one whose event is
// still in this round's batch.
std::uint64_t pack(int fd, std::uint32_t generation) {
  return std::uint64_t{generation} << 32 | static_cast<std::uint32_t>(fd);
}

}  // namespace

event_loop::event_loop() : epoll_(::epoll_create1(EPOLL_CLOEXEC)) {
  if (!epoll_) throw_errno("cannot create epoll instance");
}

void event_loop::add(int fd, std::uint32_t events, fd_callback cb) {
  auto generation = next_generation_++;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = pack(fd, generation);
  // A stale entry (fd closed without remove(), number reused) is dropped by the
  // kernel already, so only the kernel can say whether fd is really watched twice.
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) < 0) throw_errno("cannot watch fd " + std::to_string(fd));
  watches_[fd] = watch{generation, std::make_shared<fd_callback>(std::move(cb))};
}

void event_loop::modify(int fd, std::uint32_t events) {
  auto it = watches_.find(fd);
  if (it == watches_.end())
    throw std::system_error(ENOENT, std::generic_category(),
                            "cannot modify fd " + std::to_string(fd) + ", it is not watched");
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = pack(fd, it->second.generation);
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev) < 0) throw_errno("cannot modify fd " + std::to_string(fd));
}

void event_loop::modify(int fd, std::uint32_t events, fd_callback cb) {
  modify(fd, events);
  watches_[fd].cb = std::make_shared<fd_callback>(std::move(cb));
}

void event_loop::remove(int fd) noexcept {
  if (watches_.erase(fd) == 0) return;
  // EBADF/ENOENT: already closed, so the kernel has forgotten it too.
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
}

event_loop::timer_id event_loop::add_timer(clock::time_point deadline, timer_callback cb) {
  auto id = next_timer_++;
  timers_.emplace(std::pair{deadline, id}, std::move(cb));
  timer_deadlines_.emplace(id, deadline);
  return id;
}

bool event_loop::cancel_timer(timer_id id) noexcept {
  auto it = timer_deadlines_.find(id);
  if (it == timer_deadlines_.end()) return false;
  timers_.erase(std::pair{it->second, id});
  timer_deadlines_.erase(it);
  return true;
}

void event_loop::fire_due_timers() {
  // Only timers due now: one that re-arms itself for "now" waits for the next round.
  auto now = clock::now();
  std::vector<timer_id> due;
  for (auto& [key, cb] : timers_) {
    if (key.first > now) break;
    due.push_back(key.second);
  }
  for (auto id : due) {
    if (stopped_) return;
    auto it = timer_deadlines_.find(id);
    if (it == timer_deadlines_.end()) continue;  // cancelled by an earlier callback
    auto node = timers_.extract(std::pair{it->second, id});
    timer_deadlines_.erase(it);
    node.mapped()();
  }
}

void event_loop::run_once(clock::time_point deadline) {
  auto wake = deadline;
  if (!timers_.empty()) wake = std::min(wake, timers_.begin()->first.first);
  auto now = clock::now();
  int timeout = 0;
  if (wake > now) {
    // Round up, or a sub-millisecond wait would spin with timeout 0.
    auto ms = std::chrono::ceil<std::chrono::milliseconds>(wake - now).count();
    timeout = static_cast<int>(std::min<decltype(ms)>(ms, INT_MAX));
  }

  std::array<epoll_event, 64> events;
  int n = ::epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()), idle_ ? 0 : timeout);
  if (idle_ && n == 0 && timeout > 0) {
    idle_();
    n = ::epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()), timeout);
  }
  if (n < 0 && errno != EINTR) throw_errno("cannot wait for events");
  for (int i = 0; i < n; ++i) {
    int fd = static_cast<int>(static_cast<std::uint32_t>(events[i].data.u64));
    auto generation = static_cast<std::uint32_t>(events[i].data.u64 >> 32);
    auto it = watches_.find(fd);
    if (it == watches_.end() || it->second.generation != generation) continue;
    auto cb = it->second.cb;  // keeps the function alive if it removes its own fd
    (*cb)(events[i].events);
  }
  if (!stopped_) fire_due_timers();
}

event_loop::run_result event_loop::run_until(const std::function<bool()>& done, clock::time_point deadline) {
  for (;;) {
    if (done && done()) return run_result::done;
    if (stopped_) {
      stopped_ = false;
      return run_result::stopped;
    }
    if (clock::now() >= deadline) return run_result::timed_out;
    run_once(deadline);
  }
}

}  // namespace migchan
