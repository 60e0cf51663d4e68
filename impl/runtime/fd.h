// Ownership of file descriptors. A closed or moved-from unique_fd holds -1, so a
// descriptor is closed exactly once, by whoever holds it last.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>
#include <utility>

namespace migchan {

class unique_fd {
 public:
  unique_fd() noexcept = default;
  explicit unique_fd(int fd) noexcept : fd_(fd) {}
  ~unique_fd() { reset(); }

  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  unique_fd(unique_fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  unique_fd& operator=(unique_fd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }

  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }

  // Gives the descriptor away; this object no longer closes it.
  int release() noexcept { return std::exchange(fd_, -1); }

  // close() errors are ignored: on Linux the descriptor is gone even on EINTR,
  // and there is nothing useful a destructor could do about EIO.
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// Sockets handed to the event loop must never block the one thread it runs on.
inline void set_nonblocking(int fd, bool on = true) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK) < 0)
    throw std::system_error(errno, std::generic_category(), "cannot set O_NONBLOCK on fd " + std::to_string(fd));
}

}  // namespace migchan
