#include "impl/cli/git.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace migchan::git {
namespace {

// git with stdin, stdout and stderr on pipes; returns the pid.
pid_t spawn(const std::string& dir, const std::vector<std::string>& args, unique_fd& in, unique_fd& out,
            unique_fd& err) {
  int p_in[2], p_out[2], p_err[2];
  if (::pipe2(p_in, O_CLOEXEC) != 0) throw error(std::string("cannot run git: ") + std::strerror(errno));
  unique_fd in_r(p_in[0]), in_w(p_in[1]);
  if (::pipe2(p_out, O_CLOEXEC) != 0) throw error(std::string("cannot run git: ") + std::strerror(errno));
  unique_fd out_r(p_out[0]), out_w(p_out[1]);
  if (::pipe2(p_err, O_CLOEXEC) != 0) throw error(std::string("cannot run git: ") + std::strerror(errno));
  unique_fd err_r(p_err[0]), err_w(p_err[1]);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in_r.get(), 0);
  posix_spawn_file_actions_adddup2(&fa, out_w.get(), 1);
  posix_spawn_file_actions_adddup2(&fa, err_w.get(), 2);
  std::vector<std::string> argv{"git", "-C", dir};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, "git", &fa, nullptr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw error(std::string("cannot run git: ") + std::strerror(rc));
  in = std::move(in_w);
  out = std::move(out_r);
  err = std::move(err_r);
  return pid;
}

std::string read_all(int fd) {
  std::string s;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) s.append(buf, static_cast<std::size_t>(n));
    else if (n == 0 || errno != EINTR) break;
  }
  return s;
}

int reap(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string first_line(const std::string& s) {
  const auto b = s.find_first_not_of("\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find('\n', b) - b);
}

}  // namespace

std::string run(const std::string& dir, const std::vector<std::string>& args) {
  unique_fd in, out, err;
  const pid_t pid = spawn(dir, args, in, out, err);
  in.reset();
  std::string s = read_all(out.get());
  const std::string complaint = read_all(err.get());
  if (reap(pid) != 0) {
    std::string cmd = "git";
    for (const auto& a : args) cmd += " " + a;
    throw error(cmd + " in " + dir + ": " + first_line(complaint));
  }
  return s;
}

blobs::blobs(const std::string& dir) {
  unique_fd err;
  pid_ = spawn(dir, {"cat-file", "--batch"}, to_, from_, err);
}

blobs::~blobs() {
  to_.reset();
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    reap(pid_);
  }
}

std::optional<std::string> blobs::read(const std::string& rev, const std::string& path) {
  const std::string ask = rev + ":" + path + "\n";
  for (std::size_t done = 0; done < ask.size();) {
    const ssize_t n = ::write(to_.get(), ask.data() + done, ask.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw error("git cat-file: " + std::string(std::strerror(errno)));
    done += static_cast<std::size_t>(n);
  }
  const auto fill = [&](std::size_t want) {
    char buf[65536];
    while (buffered_.size() < want) {
      const ssize_t n = ::read(from_.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw error("git cat-file ended early");
      buffered_.append(buf, static_cast<std::size_t>(n));
    }
  };
  std::size_t nl;
  while ((nl = buffered_.find('\n')) == std::string::npos) fill(buffered_.size() + 1);
  const std::string header = buffered_.substr(0, nl);
  buffered_.erase(0, nl + 1);
  // "<sha> <type> <size>" or "<what> missing"
  const auto sp = header.rfind(' ');
  if (sp == std::string::npos || header.compare(sp + 1, std::string::npos, "missing") == 0) return std::nullopt;
  const std::size_t size = std::strtoull(header.c_str() + sp + 1, nullptr, 10);
  fill(size + 1);
  std::string body = buffered_.substr(0, size);
  buffered_.erase(0, size + 1);
  if (header.find(" blob ") == std::string::npos) return std::nullopt;  // a directory
  return body;
}

}  // namespace migchan::git
