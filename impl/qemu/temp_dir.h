// temp_dir: a private directory from mkdtemp, removed with everything in it on destruction.
#pragma once

#include <filesystem>
#include <string>

namespace migchan::qemu {

class temp_dir {
 public:
  // Creates $TMPDIR/<prefix>XXXXXX (or /tmp/...); throws std::system_error on failure.
  explicit temp_dir(const std::string& prefix = "migchan-");
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace migchan::qemu
