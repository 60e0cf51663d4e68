#include "tests/interop/channel_sink.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>

namespace migchan::interop {

channel_sink::channel_sink(const std::filesystem::path& socket_path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string path = socket_path.string();
  if (path.size() >= sizeof addr.sun_path) throw std::runtime_error("sink: socket path too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);

  listen_.reset(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!listen_) throw std::system_error(errno, std::generic_category(), "sink: cannot create socket");
  if (bind(listen_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
    throw std::system_error(errno, std::generic_category(), "sink: cannot bind " + path);
  // Backlog > channel count, so no connect ever waits on us.
  if (listen(listen_.get(), 16) < 0)
    throw std::system_error(errno, std::generic_category(), "sink: cannot listen on " + path);
  stop_.reset(eventfd(0, EFD_CLOEXEC));
  if (!stop_) throw std::system_error(errno, std::generic_category(), "sink: cannot create eventfd");
  thread_ = std::thread([this] { run(); });
}

channel_sink::~channel_sink() {
  uint64_t one = 1;
  (void)!write(stop_.get(), &one, sizeof one);
  thread_.join();
}

void channel_sink::run() {
  // One thread, one poll(): closing a listener from another thread would not wake accept().
  std::vector<unique_fd> conns;  // index == accept order
  char buf[65536];
  for (;;) {
    std::vector<pollfd> fds = {{stop_.get(), POLLIN, 0}, {listen_.get(), POLLIN, 0}};
    std::vector<size_t> which;
    for (size_t i = 0; i < conns.size(); ++i) {
      if (conns[i]) {
        fds.push_back({conns[i].get(), POLLIN, 0});
        which.push_back(i);
      }
    }
    if (poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[0].revents) return;
    if (fds[1].revents & POLLIN) {
      int fd = accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd >= 0) {
        conns.emplace_back(fd);
        std::lock_guard lock(mutex_);
        channels_.push_back({.accept_index = conns.size() - 1});
        changed_.notify_all();
      }
    }
    for (size_t k = 2; k < fds.size(); ++k) {
      if (!fds[k].revents) continue;
      size_t i = which[k - 2];
      ssize_t n = read(conns[i].get(), buf, sizeof buf);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      std::lock_guard lock(mutex_);
      auto& ch = channels_[i];
      if (n <= 0) {
        ch.closed = true;
        conns[i].reset();
      } else {
        size_t take = std::min(static_cast<size_t>(n), head_size - std::min(head_size, ch.head.size()));
        ch.head.insert(ch.head.end(), buf, buf + take);
        ch.bytes += static_cast<size_t>(n);
      }
      changed_.notify_all();
    }
  }
}

std::vector<sink_channel> channel_sink::wait_all_closed(size_t count, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  auto done = [&] {
    if (channels_.size() < count) return false;
    for (const auto& ch : channels_)
      if (!ch.closed) return false;
    return true;
  };
  if (!changed_.wait_for(lock, timeout, done)) {
    std::string seen;
    for (const auto& ch : channels_)
      seen += " #" + std::to_string(ch.accept_index) + (ch.closed ? " closed" : " open") + " " +
              std::to_string(ch.bytes) + "B";
    throw std::runtime_error("sink: wanted " + std::to_string(count) + " closed channels within " +
                             std::to_string(timeout.count()) + " ms, saw:" + (seen.empty() ? " none" : seen));
  }
  return channels_;
}

}  // namespace migchan::interop
