#include "proofs/children.h"

#include <cerrno>
#include <cstdio>
#include <poll.h>
#include <stdexcept>
#include <sys/wait.h>
#include <system_error>
#include <unistd.h>

namespace migchan::proofs {

std::vector<std::string> run_in_children(const std::vector<std::function<std::string()>>& jobs, unsigned workers,
                                         const std::function<std::string(std::size_t)>& what) {
  struct child {
    pid_t pid = -1;
    int fd = -1;
    std::size_t job = 0;
    std::string bytes;
  };
  std::vector<std::string> out(jobs.size());
  std::vector<child> running;
  std::size_t next = 0;
  const auto start = [&] {
    const std::size_t i = next++;
    int p[2];
    if (pipe(p) != 0) throw std::system_error(errno, std::generic_category(), "cannot create a pipe");
    std::fflush(nullptr);
    const pid_t pid = fork();
    if (pid < 0) throw std::system_error(errno, std::generic_category(), "cannot fork");
    if (pid == 0) {
      close(p[0]);
      int code = 0;
      try {
        const auto bytes = jobs[i]();
        for (std::size_t done = 0; done < bytes.size();) {
          const auto n = write(p[1], bytes.data() + done, bytes.size() - done);
          if (n <= 0) {
            code = 1;
            break;
          }
          done += static_cast<std::size_t>(n);
        }
      } catch (...) {
        code = 1;
      }
      _exit(code);
    }
    close(p[1]);
    running.push_back({pid, p[0], i, {}});
  };
  while (next < jobs.size() && running.size() < std::max(1u, workers)) start();
  while (!running.empty()) {
    std::vector<pollfd> fds;
    for (const auto& c : running) fds.push_back({c.fd, POLLIN, 0});
    if (poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR)
      throw std::system_error(errno, std::generic_category(), "poll");
    for (std::size_t k = running.size(); k-- > 0;) {
      if (!(fds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      auto& c = running[k];
      char buf[65536];
      const auto n = read(c.fd, buf, sizeof buf);
      if (n > 0) {
        c.bytes.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      close(c.fd);
      int status = 0;
      waitpid(c.pid, &status, 0);
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw std::runtime_error("the worker for " + what(c.job) + " failed");
      out[c.job] = std::move(c.bytes);
      running.erase(running.begin() + static_cast<std::ptrdiff_t>(k));
      if (next < jobs.size()) start();
    }
  }
  return out;
}

}  // namespace migchan::proofs
