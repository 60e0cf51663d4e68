#include "impl/qemu/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

namespace migchan::qemu {

namespace {

std::system_error os_error(int err, const std::string& what) {
  return std::system_error(err, std::generic_category(), what);
}

int decode(int wstatus) {
  if (WIFEXITED(wstatus)) return WEXITSTATUS(wstatus);
  return WIFSIGNALED(wstatus) ? -WTERMSIG(wstatus) : -1;
}

// Async-signal-safe calls only: the parent has threads, so the child must not take locks.
[[noreturn]] void exec_child(char* const argv[], int err_pipe, int stderr_pipe, bool capture_stdout, pid_t parent) {
  // Die with the parent even if it crashes before its destructors run.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);
  sigset_t all;
  sigemptyset(&all);
  sigprocmask(SIG_SETMASK, &all, nullptr);
  int null_fd = open("/dev/null", O_RDWR);
  if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(capture_stdout ? stderr_pipe : null_fd, 1) < 0 ||
      dup2(stderr_pipe, 2) < 0) {
    int err = errno;
    (void)!write(err_pipe, &err, sizeof err);
    _exit(127);
  }
  execvp(argv[0], argv);
  int err = errno;
  (void)!write(err_pipe, &err, sizeof err);
  _exit(127);
}

}  // namespace

process::process(std::vector<std::string> argv, spawn_options opts) {
  if (argv.empty()) throw std::invalid_argument("process: empty argv");
  name_ = argv[0];
  std::vector<char*> cargv;
  for (auto& arg : argv) cargv.push_back(arg.data());
  cargv.push_back(nullptr);

  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) < 0) throw os_error(errno, "cannot create stderr pipe");
  stderr_.reset(out[0]);
  unique_fd stderr_w(out[1]);
  if (pipe2(err, O_CLOEXEC) < 0) throw os_error(errno, "cannot create exec pipe");
  unique_fd err_r(err[0]), err_w(err[1]);
  stop_.reset(eventfd(0, EFD_CLOEXEC));
  if (!stop_) throw os_error(errno, "cannot create eventfd");

  pid_t parent = getpid();
  pid_ = fork();
  if (pid_ < 0) throw os_error(errno, "cannot fork for '" + name_ + "'");
  if (pid_ == 0) exec_child(cargv.data(), err_w.get(), stderr_w.get(), opts.capture_stdout, parent);

  stderr_w.reset();
  err_w.reset();
  // The exec pipe closes on a successful exec (CLOEXEC); otherwise it carries the child's errno.
  int child_errno = 0;
  ssize_t n;
  do n = read(err_r.get(), &child_errno, sizeof child_errno);
  while (n < 0 && errno == EINTR);
  if (n == sizeof child_errno) {
    kill();
    throw os_error(child_errno, "cannot run '" + name_ + "'");
  }

  // A pidfd lets wait_exit() block in poll() on the real exit; without one we fall back to polling.
  pidfd_.reset(static_cast<int>(syscall(SYS_pidfd_open, pid_, 0)));
  reader_ = std::thread([this] { read_stderr(); });
}

process::~process() {
  kill();
  uint64_t one = 1;
  (void)!write(stop_.get(), &one, sizeof one);
  if (reader_.joinable()) reader_.join();
}

void process::read_stderr() {
  const bool echo = std::getenv("MIGCHAN_VERBOSE") != nullptr;
  char buf[4096];
  for (;;) {
    pollfd fds[2] = {{stderr_.get(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents) break;
    ssize_t n = read(stderr_.get(), buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) break;
    if (echo) (void)!write(2, buf, static_cast<size_t>(n));
    std::lock_guard lock(mutex_);
    output_.append(buf, static_cast<size_t>(n));
    changed_.notify_all();
  }
  std::lock_guard lock(mutex_);
  output_closed_ = true;
  changed_.notify_all();
}

bool process::reap(int options) {
  if (status_) return true;
  int wstatus = 0;
  pid_t r;
  do r = waitpid(pid_, &wstatus, options);
  while (r < 0 && errno == EINTR);
  if (r == pid_) {
    status_ = decode(wstatus);
    return true;
  }
  if (r < 0) {  // ECHILD: someone else reaped it; treat as gone
    status_ = -1;
    return true;
  }
  return false;
}

bool process::is_alive() { return !wait_exit(millis(0)); }

std::optional<int> process::wait_exit(millis timeout) {
  auto deadline = clock::now() + timeout;
  for (;;) {
    const bool known = status_.has_value();
    if (reap(WNOHANG)) {
      // What it wrote before it exited may still be in the pipe: output() is complete once this
      // returns (its end comes at once, unless a child of it holds the pipe open).
      if (!known) wait_for_output_end(millis(1000));
      return status_;
    }
    int left = ms_until(deadline);
    if (left == 0) return std::nullopt;
    if (pidfd_) {
      pollfd pfd{pidfd_.get(), POLLIN, 0};
      poll(&pfd, 1, left);
    } else {
      poll(nullptr, 0, left < 5 ? left : 5);
    }
  }
}

int process::kill() {
  if (pid_ <= 0) return -1;
  // Until we reap it the pid cannot be reused, so signalling by pid hits our child and only it.
  const bool known = status_.has_value();
  if (!known) ::kill(pid_, SIGKILL);
  reap(0);
  // As wait_exit(): output() is complete once this returns.
  if (!known) wait_for_output_end(millis(1000));
  return *status_;
}

std::optional<double> process::cpu_seconds() const {
  if (status_) return std::nullopt;
  std::ifstream in("/proc/" + std::to_string(pid_) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return std::nullopt;
  // "PID (COMM) STATE ...": COMM may hold spaces and parens, so count fields after the last ')'.
  // utime and stime are fields 14 and 15, in clock ticks.
  std::istringstream rest(stat.substr(stat.rfind(')') + 1));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int n = 3; n <= 15 && rest >> field; ++n) {
    if (n == 14) utime = std::stoull(field);
    if (n == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::optional<double> process::runnable_seconds() const {
  if (status_) return std::nullopt;
  std::error_code ec;
  std::filesystem::directory_iterator tasks("/proc/" + std::to_string(pid_) + "/task", ec);
  if (ec) return std::nullopt;
  // Each line: nanoseconds on a CPU, nanoseconds waiting on a run queue, timeslices.
  unsigned long long ns = 0;
  bool any = false;
  for (const auto& task : tasks) {
    std::ifstream in(task.path() / "schedstat");
    unsigned long long on_cpu = 0, waiting = 0;
    if (in >> on_cpu >> waiting) {
      ns += on_cpu + waiting;
      any = true;
    }
  }
  if (!any) return std::nullopt;
  return static_cast<double>(ns) / 1e9;
}

std::string process::output() const {
  std::lock_guard lock(mutex_);
  return output_;
}

std::string process::first_output_line() const {
  std::string all = output();
  size_t pos = 0;
  while (pos < all.size()) {
    size_t end = all.find('\n', pos);
    if (end == std::string::npos) end = all.size();
    if (end > pos) return all.substr(pos, end - pos);
    pos = end + 1;
  }
  return {};
}

bool process::wait_for_output(std::string_view needle, millis timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] {
    return output_.find(needle) != std::string::npos || output_closed_;
  }) && output_.find(needle) != std::string::npos;
}

bool process::wait_for_output_until(const std::function<bool(std::string_view)>& ready, millis timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return ready(output_) || output_closed_; }) && ready(output_);
}

bool process::wait_for_output_end(millis timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return output_closed_; });
}

}  // namespace migchan::qemu
