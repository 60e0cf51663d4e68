// Reading a git checkout without touching its work tree: `git log`, `git
// ls-tree`, and file contents at any commit through one `git cat-file
// --batch` (for `migchan history`).
#pragma once

#include <sys/types.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "impl/runtime/fd.h"

namespace migchan::git {

// One line: the command and git's first line of complaint.
struct error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// `git -C dir ARGS...`'s standard output; throws error unless it exits 0.
std::string run(const std::string& dir, const std::vector<std::string>& args);

// Files at a commit, one git process for all of them; it is killed by pid
// and reaped when this object goes.
class blobs {
 public:
  explicit blobs(const std::string& dir);
  ~blobs();
  blobs(const blobs&) = delete;
  blobs& operator=(const blobs&) = delete;

  // The file's content at `rev`, or nullopt if it has no such file.
  std::optional<std::string> read(const std::string& rev, const std::string& path);

 private:
  pid_t pid_ = -1;
  unique_fd to_, from_;
  std::string buffered_;  // read from git but not yet taken
};

}  // namespace migchan::git
