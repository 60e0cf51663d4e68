// process: one child program whose stderr we capture, killed by pid when we are done with it.
#pragma once

#include "impl/runtime/fd.h"
#include "impl/qemu/deadline.h"

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace migchan::qemu {

struct spawn_options {
  // Also send stdout into the captured stream (for `--version`); otherwise it goes to /dev/null.
  bool capture_stdout = false;
};

// A child with stdin on /dev/null, stdout on /dev/null (unless captured) and stderr read by a
// thread. The destructor SIGKILLs the child by pid and reaps it, so a failing test leaves nothing
// running. PR_SET_PDEATHSIG also kills it if we crash before any destructor runs.
class process {
 public:
  // Throws std::system_error when argv[0] cannot be executed.
  explicit process(std::vector<std::string> argv, spawn_options opts = {});
  ~process();

  // The reader thread points at this object, so it stays where it was built.
  process(const process&) = delete;
  process& operator=(const process&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& name() const { return name_; }

  bool is_alive();
  // Exit code, or -signal when a signal ended it; nullopt if it still runs at the deadline.
  // Once it returns a status, output() holds all the child wrote.
  std::optional<int> wait_exit(millis timeout);
  // SIGKILL (if still running) and reap; returns the status as wait_exit() does, with output()
  // then complete.
  int kill();

  // User plus system CPU time the child has used, from /proc/PID/stat; nullopt once it is reaped.
  std::optional<double> cpu_seconds() const;
  // Time its threads have been runnable: on a CPU or waiting in a run queue for one, summed over
  // /proc/PID/task/*/schedstat. Unlike CPU time it does not shrink when other processes load the
  // machine. nullopt once it is reaped, or where the kernel keeps no schedstat.
  std::optional<double> runnable_seconds() const;

  // All of stderr so far.
  std::string output() const;
  // First non-empty line of stderr, for one-line error messages.
  std::string first_output_line() const;
  // Waits until `needle` shows up on stderr; false at the deadline or at EOF without it.
  bool wait_for_output(std::string_view needle, millis timeout) const;
  // Waits until `ready` holds for stderr so far; false at the deadline or at EOF without it.
  bool wait_for_output_until(const std::function<bool(std::string_view)>& ready, millis timeout) const;
  // Waits until the child's stderr reached EOF (it exited, or closed it); false at the deadline.
  bool wait_for_output_end(millis timeout) const;

 private:
  void read_stderr();
  bool reap(int options);

  std::string name_;
  pid_t pid_ = -1;
  std::optional<int> status_;
  unique_fd pidfd_;
  unique_fd stderr_;
  unique_fd stop_;

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::string output_;
  bool output_closed_ = false;
  std::thread reader_;
};

}  // namespace migchan::qemu
