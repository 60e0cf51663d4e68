// QEMU-syntax migration addresses (`tcp:HOST:PORT`, `tcp:[::1]:PORT`, `unix:PATH`)
// and the sockets behind them.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "impl/runtime/fd.h"

namespace migchan {

// Not `unix`: GNU dialects (-std=gnu++20) predefine `unix` as a macro.
enum class uri_kind : std::uint8_t { tcp, unix_socket };

struct uri {
  uri_kind kind = uri_kind::tcp;
  std::string host;        // tcp only, without brackets; empty means any address
  std::uint16_t port = 0;  // tcp only; 0 asks the kernel for a free port
  std::string path;        // unix only
};

// Throws std::invalid_argument, e.g. "bad URI 'tcp:1.2.3.4': missing port".
uri parse_uri(std::string_view text);

// For messages: "127.0.0.1:4444", "[::1]:4444", "/run/mig.sock".
std::string describe(const uri& u);

// Back to QEMU syntax, as migrate / migrate-incoming take it.
std::string to_string(const uri& u);

// A non-blocking, close-on-exec listening socket with SO_REUSEADDR. A stale unix
// socket file at the path is unlinked first. Throws std::system_error
// ("cannot bind 127.0.0.1:4444: Address already in use") or std::runtime_error
// when the host does not resolve.
unique_fd listen_on(const uri& u, int backlog);

// A connected, blocking socket (TCP_NODELAY for tcp, so small crafted writes leave
// at once). Throws std::system_error ("cannot connect to /run/mig.sock: ...").
unique_fd connect_to(const uri& u);

// A destination resolved once, so that dialing it never blocks on a name lookup.
struct socket_address {
  sockaddr_storage sa{};
  socklen_t len = 0;
  int family = AF_UNSPEC;
  bool tcp = false;
};
// An empty tcp host is 127.0.0.1. Throws std::runtime_error ("cannot resolve 'x': ...").
socket_address resolve_address(const uri& u);

// A non-blocking, close-on-exec socket with connect() started (TCP_NODELAY for tcp).
// `err` is 0 when connected at once, EINPROGRESS while the handshake goes on (wait
// for EPOLLOUT, then SO_ERROR), EAGAIN when a unix socket's backlog is full (try
// again later), or the error; the socket is empty when `err` is neither of the
// first three.
unique_fd connect_nonblocking(const socket_address& a, int& err);

// accept4() of one pending connection, non-blocking and close-on-exec; an empty
// unique_fd when none is pending. Throws std::system_error on other errors.
unique_fd accept_nonblocking(int listen_fd);

// The bound port of a tcp socket, e.g. after listen_on() with port 0.
std::uint16_t local_port(int fd);

}  // namespace migchan
