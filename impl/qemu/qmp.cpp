#include "impl/qemu/qmp.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace migchan::qemu {

namespace {

[[noreturn]] void fail(const std::string& what, const std::string& why) {
  throw std::runtime_error("qmp " + what + ": " + why);
}

std::string join(const std::set<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

bool is_terminal(const std::string& status) {
  return status == "completed" || status == "failed" || status == "cancelled";
}

}  // namespace

qmp_client::qmp_client(const std::string& socket_path, millis timeout, const std::function<void()>& still_starting) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof addr.sun_path) fail("connect", "socket path too long: " + socket_path);
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);

  auto deadline = clock::now() + timeout;
  for (;;) {
    unique_fd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) fail("connect", std::strerror(errno));
    if (connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
      fd_ = std::move(fd);
      break;
    }
    int err = errno;
    // ENOENT/ECONNREFUSED: QEMU has not created or is not yet listening on the socket.
    if (err != ENOENT && err != ECONNREFUSED && err != EINTR) fail("connect", socket_path + ": " + std::strerror(err));
    if (still_starting) still_starting();
    if (ms_until(deadline) == 0)
      fail("connect", socket_path + ": " + std::strerror(err) + " after " + std::to_string(timeout.count()) + " ms");
    poll(nullptr, 0, std::min(ms_until(deadline), 5));
  }

  auto greeting = read_message(deadline, "greeting");
  if (!greeting || !greeting->contains("QMP"))
    fail("greeting", "no QMP greeting within " + std::to_string(timeout.count()) + " ms");
  greeting_ = std::move(*greeting);
  execute("qmp_capabilities", json::object(), timeout);
}

void qmp_client::send_line(const std::string& line, clock::time_point deadline, const std::string& what) {
  size_t done = 0;
  while (done < line.size()) {
    // MSG_NOSIGNAL: a QEMU that quit must give us an error, not SIGPIPE.
    ssize_t n = send(fd_.get(), line.data() + done, line.size() - done, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN) {
      const int err = errno;
      fd_.reset();  // EPIPE, ECONNRESET: QEMU is gone, and connected() says so from now on
      fail(what, std::string("cannot send: ") + std::strerror(err));
    }
    pollfd pfd{fd_.get(), POLLOUT, 0};
    if (poll(&pfd, 1, ms_until(deadline)) == 0) fail(what, "cannot send within the deadline");
  }
}

std::optional<json> qmp_client::read_message(clock::time_point deadline, const std::string& what) {
  for (;;) {
    size_t nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      if (line.find_first_not_of(" \r\t") == std::string::npos) continue;
      try {
        return json::parse(line);
      } catch (const json::exception&) {
        fail(what, "bad JSON from QEMU: " + line);
      }
    }
    if (!fd_) fail(what, "not connected");
    pollfd pfd{fd_.get(), POLLIN, 0};
    int ready = poll(&pfd, 1, ms_until(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) return std::nullopt;
    char buf[8192];
    ssize_t n = recv(fd_.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) {
      const int err = errno;
      fd_.reset();
      fail(what, std::string("cannot read: ") + std::strerror(err));
    }
    if (n == 0) {
      fd_.reset();
      fail(what, "connection closed by QEMU");
    }
    buffer_.append(buf, static_cast<size_t>(n));
  }
}

json qmp_client::execute(const std::string& command, const json& arguments, millis timeout) {
  auto deadline = clock::now() + timeout;
  uint64_t id = next_id_++;
  json request = {{"execute", command}, {"id", id}};
  if (!arguments.empty()) request["arguments"] = arguments;
  send_line(request.dump() + "\n", deadline, command);

  for (;;) {
    auto msg = read_message(deadline, command);
    if (!msg) fail(command, "no reply within " + std::to_string(timeout.count()) + " ms");
    if (msg->contains("event")) {
      events_.push_back(std::move(*msg));
      continue;
    }
    // A reply with another id belongs to a command that timed out earlier.
    if (!msg->contains("id") || (*msg)["id"] != id) continue;
    if (msg->contains("error")) fail(command, (*msg)["error"].value("desc", (*msg)["error"].dump()));
    return msg->value("return", json::object());
  }
}

void qmp_client::pump(clock::time_point deadline) {
  while (auto msg = read_message(deadline, "pump")) {
    if (msg->contains("event")) events_.push_back(std::move(*msg));
  }
}

json qmp_client::wait_for_event(const std::string& name, millis timeout) {
  auto deadline = clock::now() + timeout;
  for (;;) {
    for (auto it = events_.begin(); it != events_.end(); ++it) {
      if (it->value("event", "") == name) {
        json event = std::move(*it);
        events_.erase(it);
        return event;
      }
    }
    auto msg = read_message(deadline, "wait for event " + name);
    if (!msg) fail("wait for event " + name, "no event within " + std::to_string(timeout.count()) + " ms");
    if (msg->contains("event")) events_.push_back(std::move(*msg));
  }
}

std::deque<json> qmp_client::take_events() { return std::exchange(events_, {}); }

std::optional<json> qmp_client::next_event(clock::time_point deadline) {
  while (events_.empty()) {
    auto msg = read_message(deadline, "wait for an event");
    if (!msg) return std::nullopt;
    if (msg->contains("event")) events_.push_back(std::move(*msg));
  }
  json event = std::move(events_.front());
  events_.pop_front();
  return event;
}

json qmp_client::wait_for_status(const std::set<std::string>& statuses, millis timeout, millis interval) {
  auto deadline = clock::now() + timeout;
  std::string last = "(none)";
  for (;;) {
    auto left = std::chrono::ceil<millis>(deadline - clock::now());
    json reply = execute("query-migrate", json::object(), std::max(left, millis(1)));
    std::string status = reply.value("status", "");
    if (statuses.count(status)) return reply;
    if (!status.empty()) last = status;
    if (is_terminal(status)) {
      std::string why = reply.value("error-desc", "");
      fail("query-migrate", "migration ended '" + status + "' while waiting for {" + join(statuses) + "}" +
                                (why.empty() ? "" : ": " + why));
    }
    if (clock::now() >= deadline)
      fail("query-migrate",
           "status '" + last + "' not in {" + join(statuses) + "} after " + std::to_string(timeout.count()) + " ms");
    pump(std::min(deadline, clock::now() + interval));
  }
}

}  // namespace migchan::qemu
