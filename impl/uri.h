// QEMU-syntax migration addresses (`tcp:HOST:PORT`, `tcp:[::1]:PORT`, `unix:PATH`)
// and the sockets behind them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "impl/fd.h"

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

// accept4() of one pending connection, non-blocking and close-on-exec; an empty
// unique_fd when none is pending. Throws std::system_error on other errors.
unique_fd accept_nonblocking(int listen_fd);

// The bound port of a tcp socket, e.g. after listen_on() with port 0.
std::uint16_t local_port(int fd);

}  // namespace migchan
