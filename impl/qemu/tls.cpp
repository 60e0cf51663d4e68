#include "impl/qemu/tls.h"

#include "impl/runtime/fd.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <random>
#include <system_error>

namespace migchan::qemu {

void write_psk_keys(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  std::random_device rng;
  static constexpr char hex[] = "0123456789abcdef";
  std::string line = "qemu:";
  for (int i = 0; i < 64; ++i) line += hex[rng() % 16];
  line += '\n';
  const auto file = (dir / "keys.psk").string();
  unique_fd fd(open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd) throw std::system_error(errno, std::generic_category(), "cannot create " + file);
  if (write(fd.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size()))
    throw std::system_error(errno, std::generic_category(), "cannot write " + file);
}

std::string tls_object(const tls_psk& tls) {
  return std::string("tls-creds-psk,id=") + tls_creds_id +
         ",endpoint=" + (tls.endpoint == tls_endpoint::server ? "server" : "client") + ",dir=" + tls.keys_dir.string();
}

}  // namespace migchan::qemu
