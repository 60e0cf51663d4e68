#include "impl/runtime/uri.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <system_error>

namespace migchan {

namespace {

[[noreturn]] void bad_uri(std::string_view text, const std::string& what) {
  throw std::invalid_argument("bad URI '" + std::string(text) + "': " + what);
}

constexpr std::size_t max_unix_path = sizeof(sockaddr_un::sun_path) - 1;  // room for the NUL

std::uint16_t parse_port(std::string_view text, std::string_view port) {
  if (port.empty()) bad_uri(text, "missing port");
  if (port.find(',') != std::string_view::npos) bad_uri(text, "options after the port are not supported");
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc{} || end != port.data() + port.size() || value > 65535)
    bad_uri(text, "bad port '" + std::string(port) + "'");
  return static_cast<std::uint16_t>(value);
}

uri parse_tcp(std::string_view text, std::string_view rest) {
  uri u;
  u.kind = uri_kind::tcp;
  std::string_view port;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string_view::npos) bad_uri(text, "missing ']' after IPv6 address");
    u.host = std::string(rest.substr(1, close - 1));
    if (u.host.empty()) bad_uri(text, "empty IPv6 address in brackets");
    auto after = rest.substr(close + 1);
    if (after.empty()) bad_uri(text, "missing port");
    if (after.front() != ':') bad_uri(text, "expected ':' after ']'");
    port = after.substr(1);
  } else {
    auto colon = rest.rfind(':');
    if (colon == std::string_view::npos) bad_uri(text, "missing port");
    u.host = std::string(rest.substr(0, colon));
    // "tcp:::1:4444" is ambiguous; QEMU wants the brackets too.
    if (u.host.find(':') != std::string::npos)
      bad_uri(text, "IPv6 address must be in brackets, as [" + u.host + "]:PORT");
    port = rest.substr(colon + 1);
  }
  u.port = parse_port(text, port);
  return u;
}

uri parse_unix(std::string_view text, std::string_view path) {
  if (path.empty()) bad_uri(text, "missing path");
  if (path.size() > max_unix_path)
    bad_uri(text,
            "path is " + std::to_string(path.size()) + " bytes, a unix socket allows " + std::to_string(max_unix_path));
  uri u;
  u.kind = uri_kind::unix_socket;
  u.path = std::string(path);
  return u;
}

[[noreturn]] void throw_errno(int err, const std::string& what) {
  throw std::system_error(err, std::generic_category(), what);
}

struct addrinfo_deleter {
  void operator()(addrinfo* ai) const { ::freeaddrinfo(ai); }
};
using addrinfo_list = std::unique_ptr<addrinfo, addrinfo_deleter>;

addrinfo_list resolve(const uri& u, bool passive) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
  addrinfo* res = nullptr;
  auto port = std::to_string(u.port);
  int rc = ::getaddrinfo(u.host.empty() ? nullptr : u.host.c_str(), port.c_str(), &hints, &res);
  if (rc == EAI_SYSTEM) throw_errno(errno, "cannot resolve '" + u.host + "'");
  if (rc != 0) throw std::runtime_error("cannot resolve '" + u.host + "': " + ::gai_strerror(rc));
  return addrinfo_list(res);
}

sockaddr_un unix_address(const uri& u) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path, u.path.data(), u.path.size());  // length checked by parse_uri
  return sa;
}

// A blocking connect() interrupted by a signal goes on in the background; wait for it.
int finish_connect(int fd, const sockaddr* sa, socklen_t len) {
  if (::connect(fd, sa, len) == 0) return 0;
  if (errno != EINTR) return errno;
  pollfd p{fd, POLLOUT, 0};
  while (::poll(&p, 1, -1) < 0)
    if (errno != EINTR) return errno;
  int err = 0;
  socklen_t err_len = sizeof err;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len) < 0) return errno;
  return err;
}

}  // namespace

uri parse_uri(std::string_view text) {
  if (text.empty()) bad_uri(text, "empty");
  auto colon = text.find(':');
  if (colon == std::string_view::npos) bad_uri(text, "missing transport, expected tcp: or unix:");
  auto scheme = text.substr(0, colon);
  auto rest = text.substr(colon + 1);
  if (scheme == "tcp") return parse_tcp(text, rest);
  if (scheme == "unix") return parse_unix(text, rest);
  bad_uri(text, "unsupported transport '" + std::string(scheme) + "', expected tcp: or unix:");
}

std::string describe(const uri& u) {
  if (u.kind == uri_kind::unix_socket) return u.path;
  std::string host = u.host.empty() ? "*" : u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
  return host + ":" + std::to_string(u.port);
}

std::string to_string(const uri& u) {
  if (u.kind == uri_kind::unix_socket) return "unix:" + u.path;
  std::string host = u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
  return "tcp:" + host + ":" + std::to_string(u.port);
}

unique_fd listen_on(const uri& u, int backlog) {
  constexpr int type = SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC;
  if (u.kind == uri_kind::unix_socket) {
    // Like QEMU, replace a socket file left by an earlier run; never delete a regular file.
    struct stat st = {};
    if (::lstat(u.path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(u.path.c_str());
    unique_fd fd(::socket(AF_UNIX, type, 0));
    if (!fd) throw_errno(errno, "cannot create socket for " + describe(u));
    auto sa = unix_address(u);
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa) < 0)
      throw_errno(errno, "cannot bind " + describe(u));
    if (::listen(fd.get(), backlog) < 0) throw_errno(errno, "cannot listen on " + describe(u));
    return fd;
  }

  auto list = resolve(u, true);
  int err = EADDRNOTAVAIL;
  std::string what = "cannot bind ";
  // First address that works wins, as in QEMU's inet_listen_saddr().
  for (auto* ai = list.get(); ai; ai = ai->ai_next) {
    unique_fd fd(::socket(ai->ai_family, type, ai->ai_protocol));
    if (!fd) {
      err = errno, what = "cannot create socket for ";
      continue;
    }
    int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd.get(), ai->ai_addr, ai->ai_addrlen) < 0) {
      err = errno, what = "cannot bind ";
      continue;
    }
    if (::listen(fd.get(), backlog) < 0) {
      err = errno, what = "cannot listen on ";
      continue;
    }
    return fd;
  }
  throw_errno(err, what + describe(u));
}

unique_fd connect_to(const uri& u) {
  if (u.kind == uri_kind::unix_socket) {
    unique_fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) throw_errno(errno, "cannot create socket for " + describe(u));
    auto sa = unix_address(u);
    if (int err = finish_connect(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa))
      throw_errno(err, "cannot connect to " + describe(u));
    return fd;
  }

  auto list = resolve(u, false);
  int err = EADDRNOTAVAIL;
  for (auto* ai = list.get(); ai; ai = ai->ai_next) {
    unique_fd fd(::socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, ai->ai_protocol));
    if (!fd) {
      err = errno;
      continue;
    }
    if ((err = finish_connect(fd.get(), ai->ai_addr, ai->ai_addrlen)) != 0) continue;
    int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
  }
  throw_errno(err, "cannot connect to " + describe(u));
}

socket_address resolve_address(const uri& u) {
  socket_address a;
  if (u.kind == uri_kind::unix_socket) {
    const auto sun = unix_address(u);
    std::memcpy(&a.sa, &sun, sizeof sun);
    a.len = sizeof sun, a.family = AF_UNIX;
    return a;
  }
  uri v = u;
  if (v.host.empty()) v.host = "127.0.0.1";
  const auto list = resolve(v, false);
  std::memcpy(&a.sa, list->ai_addr, list->ai_addrlen);
  a.len = list->ai_addrlen, a.family = list->ai_family, a.tcp = true;
  return a;
}

unique_fd connect_nonblocking(const socket_address& a, int& err) {
  unique_fd fd(::socket(a.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    err = errno;
    return {};
  }
  if (a.tcp) {
    int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  err = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&a.sa), a.len) == 0 ? 0 : errno;
  if (err == EINTR) err = EINPROGRESS;  // the handshake goes on in the background
  if (err != 0 && err != EINPROGRESS && err != EAGAIN) fd.reset();
  return fd;
}

unique_fd accept_nonblocking(int listen_fd) {
  for (;;) {
    unique_fd fd(::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (fd) return fd;
    // A peer that reset before we got to it is simply not pending any more.
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNABORTED) return {};
    if (errno != EINTR) throw_errno(errno, "cannot accept on fd " + std::to_string(listen_fd));
  }
}

std::uint16_t local_port(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0)
    throw_errno(errno, "cannot get the address of fd " + std::to_string(fd));
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(ss).sin_port);
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(ss).sin6_port);
  throw std::runtime_error("fd " + std::to_string(fd) + " is not a TCP socket");
}

}  // namespace migchan
