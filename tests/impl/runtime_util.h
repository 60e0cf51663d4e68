// Shared by the runtime tests: a server on a background thread whose log can be
// waited on, loopback clients, the descriptor count, the model's prediction and
// the migchan executable as a child. Every wait has a deadline; nothing sleeps
// and hopes.
#pragma once

#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "impl/runtime/receiver.h"
#include "impl/runtime/uri.h"
#include "impl/runtime/wire.h"

namespace migchan::test {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
using lines = std::vector<json_line>;

// The log of a server, as it grows.
class log_capture {
 public:
  log_sink sink() {
    return [this](std::string_view text) {
      auto j = json_line::parse(text);
      std::lock_guard l(m_);
      lines_.push_back(std::move(j));
      cv_.notify_all();
    };
  }
  // Waits until pred(lines) holds; false at the deadline.
  bool wait(const std::function<bool(const lines&)>& pred, std::chrono::milliseconds limit = 5000ms) {
    std::unique_lock l(m_);
    return cv_.wait_for(l, limit, [&] { return pred(lines_); });
  }
  lines all() {
    std::lock_guard l(m_);
    return lines_;
  }
  static lines decisions(const lines& all, bool with_wakes = false) {
    lines out;
    for (const auto& j : all)
      if (j.contains("decision") && (with_wakes || !j.contains("wake"))) out.push_back(j);
    return out;
  }
  static lines events(const lines& all, std::string_view name) {
    lines out;
    for (const auto& j : all)
      if (j.contains("event") && j["event"] == name) out.push_back(j);
    return out;
  }
  bool wait_decisions(std::size_t n, std::chrono::milliseconds limit = 5000ms) {
    return wait([n](const lines& a) { return decisions(a).size() >= n; }, limit);
  }
  bool wait_event(std::string_view name, std::size_t n = 1, std::chrono::milliseconds limit = 5000ms) {
    return wait([&](const lines& a) { return events(a, name).size() >= n; }, limit);
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  lines lines_;
};

// A receiver or proxy running on its own thread; stopped and joined on scope exit.
template <class Server> class background {
 public:
  template <class Options>
  background(Options o, log_capture& log) : server_(std::make_unique<Server>(std::move(o), log.sink())) {
    std::promise<int> p;
    rc_ = p.get_future();
    thread_ = std::thread([this, p = std::move(p)]() mutable { p.set_value(server_->run()); });
  }
  ~background() {
    server_->stop();
    thread_.join();
  }
  const uri& address() const { return server_->address(); }
  // The exit code once run() has returned by itself, or -1 at the deadline.
  int wait_exit(std::chrono::milliseconds limit = 5000ms) {
    if (rc_.wait_for(limit) != std::future_status::ready) return -1;
    if (!got_) value_ = rc_.get(), got_ = true;
    return value_;
  }
  int stop_and_wait(std::chrono::milliseconds limit = 5000ms) {
    server_->stop();
    return wait_exit(limit);
  }

 private:
  std::unique_ptr<Server> server_;
  std::future<int> rc_;
  std::thread thread_;
  bool got_ = false;
  int value_ = -1;
};

inline void send_all(int fd, byte_view b) {
  std::size_t off = 0;
  while (off < b.size()) {
    const auto n = ::send(fd, b.data() + off, b.size() - off, MSG_NOSIGNAL);
    REQUIRE(n > 0);
    off += static_cast<std::size_t>(n);
  }
}

inline unique_fd dial(const uri& u, byte_view first = {}) {
  auto fd = connect_to(u);
  if (!first.empty()) send_all(fd.get(), first);
  return fd;
}

// close() with SO_LINGER 0: the peer sees a reset.
inline void reset_close(unique_fd& fd) {
  linger l{1, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
  fd.reset();
}

// What the peer did to a blocking client socket by the deadline: "eof", "reset" or "open".
// Bytes it sent before are appended to `got` when given.
inline std::string how_peer_ended(int fd, std::chrono::milliseconds limit = 5000ms, bytes* got = nullptr) {
  const auto until = steady::now() + limit;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - steady::now()).count();
    if (left <= 0) return "open";
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    std::uint8_t buf[4096];
    const auto n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
      if (got) got->insert(got->end(), buf, buf + n);
      continue;
    }
    if (n == 0) return "eof";
    if (errno == EAGAIN || errno == EINTR) continue;
    return errno == ECONNRESET ? "reset" : "eof";
  }
}

// Reads until n bytes have come, the peer closes, or the deadline.
inline bytes read_bytes(int fd, std::size_t n, std::chrono::milliseconds limit = 5000ms) {
  bytes got;
  const auto until = steady::now() + limit;
  while (got.size() < n) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - steady::now()).count();
    pollfd p{fd, POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) break;
    std::uint8_t buf[4096];
    const auto r = ::recv(fd, buf, std::min(sizeof buf, n - got.size()), MSG_DONTWAIT);
    if (r > 0) got.insert(got.end(), buf, buf + r);
    else if (r == 0 || (errno != EAGAIN && errno != EINTR)) break;
  }
  return got;
}

inline std::size_t open_fds() {
  std::size_t n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (::readdir(d)) ++n;
    ::closedir(d);
  }
  return n;
}

inline bool wait_fds(std::size_t want, std::chrono::milliseconds limit = 10000ms) {
  const auto until = steady::now() + limit;
  while (open_fds() != want) {
    if (steady::now() > until) return false;
    std::this_thread::sleep_for(5ms);  // polling a count, not waiting for luck
  }
  return true;
}

inline serve_options serve_opts(const table& t, const std::string& caps, int channels = 2,
                                order_mode order = order_mode::accept) {
  serve_options o;
  o.classifier = &t;
  o.config = parse_caps(caps, channels);
  o.listen = parse_uri("tcp:127.0.0.1:0");
  o.order = order;
  o.peek_timeout = 300ms;
  return o;
}

inline arrival<concrete_domain> arrive(channel_kind k, first_bytes m, init_packet i = init_packet::good) {
  return {true, static_cast<int>(k), static_cast<int>(transport::socket), static_cast<int>(m), 1, static_cast<int>(i)};
}

// The log's decisions, step by step, against step() on the same arrivals.
inline void same_as_model(const table& t, const dest_cfg& c, const std::vector<arrival<concrete_domain>>& in,
                          const lines& got, dest_st s = fresh_state<concrete_domain>()) {
  REQUIRE(got.size() == in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const auto r = step<concrete_domain>(t, c, s, in[i]);
    CAPTURE(i);
    CAPTURE(got[i].dump());
    CHECK(got[i]["decision"] == std::string(name(static_cast<verdict>(r.then))));
    CHECK(got[i]["cause"] == std::string(name(static_cast<cause>(r.why))));
    const bool hit = r.rule < static_cast<int>(t.rules.size());
    const auto rule = hit ? json_line(std::string(t.rules[static_cast<std::size_t>(r.rule)].id)) : json_line();
    // When code around the table decided before the bytes mattered, no row is named.
    if (r.why == static_cast<int>(cause::rule) || !got[i]["rule"].is_null()) CHECK(got[i]["rule"] == rule);
    auto want = to_json(r.next), after = got[i]["state_after"];
    want.erase("parked_kind"), after.erase("parked_kind");  // the runtime cannot know the kind meant
    CHECK(after == want);
    s = r.next;
  }
}

struct cli_result {
  int rc = -1;
  std::string out;  // stdout and stderr
};

// build/impl/migchan (MIGCHAN in the environment) as a child process, its stdout
// and stderr collected; killed by its pid if it outlives the deadline.
class migchan_child {
 public:
  // nofile > 0 lowers RLIMIT_NOFILE in the child.
  explicit migchan_child(const std::vector<std::string>& args, rlim_t nofile = 0) {
    const char* exe = std::getenv("MIGCHAN");
    REQUIRE_MESSAGE(exe, "MIGCHAN must name the migchan executable");
    int pipefd[2];
    REQUIRE(::pipe2(pipefd, O_CLOEXEC) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::dup2(pipefd[1], 1);
      ::dup2(pipefd[1], 2);
      if (nofile) {
        rlimit r{nofile, nofile};
        ::setrlimit(RLIMIT_NOFILE, &r);
      }
      std::vector<char*> argv{const_cast<char*>(exe)};
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(exe, argv.data());
      ::_exit(127);
    }
    ::close(pipefd[1]);
    out_.reset(pipefd[0]);
  }
  ~migchan_child() {
    if (pid_ > 0) ::kill(pid_, SIGKILL), ::waitpid(pid_, nullptr, 0);
  }
  void signal(int sig) { ::kill(pid_, sig); }
  // Collects the output until the child closes it, then its exit code (-1 when killed).
  cli_result wait(std::chrono::milliseconds limit = 10000ms) {
    cli_result r;
    const auto until = steady::now() + limit;
    char buf[4096];
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - steady::now()).count();
      pollfd p{out_.get(), POLLIN, 0};
      if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) == 0) {
        ::kill(pid_, SIGKILL);
        break;
      }
      const auto n = ::read(out_.get(), buf, sizeof buf);
      if (n <= 0) break;
      r.out.append(buf, static_cast<std::size_t>(n));
    }
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
  }

 private:
  pid_t pid_ = -1;
  unique_fd out_;
};

inline cli_result run_migchan(const std::vector<std::string>& args, std::chrono::milliseconds limit = 10000ms,
                              rlim_t nofile = 0) {
  return migchan_child(args, nofile).wait(limit);
}

inline std::size_t line_count(const std::string& s) {
  std::size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

// A classifier as C that `check` reads back (`migchan show NAME --format c`), written to `path`.
inline std::string written_c(const std::string& name, const std::string& path) {
  const auto r = run_migchan({"show", name, "--format", "c"});
  REQUIRE(r.rc == 0);
  std::ofstream(path) << r.out;
  return path;
}

// migchan ARGS exits 2 with one line that holds `want`.
inline void one_line_error(const std::vector<std::string>& args, const std::string& want) {
  const auto r = run_migchan(args);
  CAPTURE(r.out);
  CHECK(r.rc == 2);
  CHECK(line_count(r.out) == 1);
  CHECK(r.out.find(want) != std::string::npos);
}

// Waits until `n` lines of a file another process writes hold `what`; false at the deadline.
inline bool file_lines_with(const std::string& path, const std::string& what, std::size_t n = 1,
                            std::chrono::milliseconds limit = 5000ms) {
  const auto until = steady::now() + limit;
  for (;;) {
    std::ifstream in(path);
    std::string line;
    std::size_t k = 0;
    while (std::getline(in, line)) k += line.find(what) != std::string::npos;
    if (k >= n) return true;
    if (steady::now() > until) return false;
    std::this_thread::sleep_for(5ms);  // polling a file another process writes
  }
}

}  // namespace migchan::test
