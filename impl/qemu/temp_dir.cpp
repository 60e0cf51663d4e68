#include "impl/qemu/temp_dir.h"

#include <cerrno>
#include <cstdlib>
#include <system_error>
#include <vector>

namespace migchan::qemu {

temp_dir::temp_dir(const std::string& prefix) {
  // Unix socket paths must fit in 108 bytes, so prefer a short base over a deep $TMPDIR.
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/" + prefix + "XXXXXX";
  if (tmpl.size() > 60) tmpl = "/tmp/" + prefix + "XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) throw std::system_error(errno, std::generic_category(), "cannot create temp dir " + tmpl);
  path_ = buf.data();
}

temp_dir::~temp_dir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace migchan::qemu
