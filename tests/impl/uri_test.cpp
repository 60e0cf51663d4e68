#include "impl/runtime/uri.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

using namespace migchan;

// CHECK((code == errc)) in double parentheses: doctest cannot print a std::error_code.

namespace {

std::string parse_error(std::string_view text) {
  try {
    parse_uri(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(parsed)";
}

// A private directory for unix sockets, removed afterwards.
struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    char templ[] = "/tmp/migchan-uri-XXXXXX";
    REQUIRE(::mkdtemp(templ) != nullptr);
    path = templ;
  }
  ~temp_dir() { std::filesystem::remove_all(path); }
};

// Waits for a pending connection instead of hoping one is there.
unique_fd accept_within(int listen_fd, int timeout_ms) {
  pollfd p{listen_fd, POLLIN, 0};
  REQUIRE(::poll(&p, 1, timeout_ms) == 1);
  auto fd = accept_nonblocking(listen_fd);
  REQUIRE(fd);
  return fd;
}

// Sends "ping" one way and checks it arrives, waiting with a timeout.
void check_talks(int from, int to) {
  REQUIRE(::send(from, "ping", 4, MSG_NOSIGNAL) == 4);
  pollfd p{to, POLLIN, 0};
  REQUIRE(::poll(&p, 1, 2000) == 1);
  char buf[8] = {};
  CHECK(::recv(to, buf, sizeof buf, 0) == 4);
  CHECK(std::string(buf) == "ping");
}

std::system_error expect_system_error(auto&& f) {
  try {
    f();
  } catch (const std::system_error& e) {
    return e;
  }
  FAIL("no std::system_error");
  return std::system_error(std::error_code{});
}

}  // namespace

TEST_CASE("tcp URIs: IPv4, hostname, bracketed IPv6, any address, port 0") {
  auto v4 = parse_uri("tcp:127.0.0.1:4444");
  CHECK(v4.kind == uri_kind::tcp);
  CHECK(v4.host == "127.0.0.1");
  CHECK(v4.port == 4444);

  auto name = parse_uri("tcp:localhost:47020");
  CHECK(name.host == "localhost");
  CHECK(name.port == 47020);

  auto v6 = parse_uri("tcp:[::1]:65535");
  CHECK(v6.host == "::1");
  CHECK(v6.port == 65535);

  auto any = parse_uri("tcp::4444");  // QEMU's "listen on every address"
  CHECK(any.host.empty());
  CHECK(any.port == 4444);

  CHECK(parse_uri("tcp:127.0.0.1:0").port == 0);
}

TEST_CASE("unix URIs keep the path as written") {
  auto u = parse_uri("unix:/run/migchan/dst.sock");
  CHECK(u.kind == uri_kind::unix_socket);
  CHECK(u.path == "/run/migchan/dst.sock");
  CHECK(parse_uri("unix:relative.sock").path == "relative.sock");
  CHECK(parse_uri("unix:/tmp/a:b").path == "/tmp/a:b");
}

TEST_CASE("bad URIs are rejected with one line naming the problem") {
  CHECK(parse_error("tcp:1.2.3.4") == "bad URI 'tcp:1.2.3.4': missing port");
  CHECK(parse_error("tcp:1.2.3.4:") == "bad URI 'tcp:1.2.3.4:': missing port");
  CHECK(parse_error("tcp:") == "bad URI 'tcp:': missing port");
  CHECK(parse_error("tcp:host:65536") == "bad URI 'tcp:host:65536': bad port '65536'");
  CHECK(parse_error("tcp:host:44a4") == "bad URI 'tcp:host:44a4': bad port '44a4'");
  CHECK(parse_error("tcp:host:-1") == "bad URI 'tcp:host:-1': bad port '-1'");
  CHECK(parse_error("tcp:host:4444,ipv4=on") ==
        "bad URI 'tcp:host:4444,ipv4=on': options after the port are not supported");
  CHECK(parse_error("tcp:::1:4444") == "bad URI 'tcp:::1:4444': IPv6 address must be in brackets, as [::1]:PORT");
  CHECK(parse_error("tcp:[::1:4444") == "bad URI 'tcp:[::1:4444': missing ']' after IPv6 address");
  CHECK(parse_error("tcp:[::1]4444") == "bad URI 'tcp:[::1]4444': expected ':' after ']'");
  CHECK(parse_error("tcp:[::1]") == "bad URI 'tcp:[::1]': missing port");
  CHECK(parse_error("tcp:[]:4444") == "bad URI 'tcp:[]:4444': empty IPv6 address in brackets");
  CHECK(parse_error("unix:") == "bad URI 'unix:': missing path");
  CHECK(parse_error("unix:/" + std::string(107, 'x')) ==
        "bad URI 'unix:/" + std::string(107, 'x') + "': path is 108 bytes, a unix socket allows 107");
  CHECK(parse_error("exec:cat > /dev/null") ==
        "bad URI 'exec:cat > /dev/null': unsupported transport 'exec', expected tcp: or unix:");
  CHECK(parse_error("TCP:127.0.0.1:1") ==
        "bad URI 'TCP:127.0.0.1:1': unsupported transport 'TCP', expected tcp: or unix:");
  CHECK(parse_error("127.0.0.1") == "bad URI '127.0.0.1': missing transport, expected tcp: or unix:");
  CHECK(parse_error("") == "bad URI '': empty");
}

TEST_CASE("describe is for messages, to_string gives QEMU syntax back") {
  for (const char* text : {"tcp:127.0.0.1:4444", "tcp:[::1]:4444", "tcp:localhost:1", "tcp::4444", "unix:/tmp/x.sock"})
    CHECK(to_string(parse_uri(text)) == text);
  CHECK(describe(parse_uri("tcp:127.0.0.1:4444")) == "127.0.0.1:4444");
  CHECK(describe(parse_uri("tcp:[::1]:4444")) == "[::1]:4444");
  CHECK(describe(parse_uri("tcp::4444")) == "*:4444");
  CHECK(describe(parse_uri("unix:/tmp/x.sock")) == "/tmp/x.sock");
}

TEST_CASE("tcp port 0: listen, learn the port, connect, accept, talk") {
  auto u = parse_uri("tcp:127.0.0.1:0");
  auto listener = listen_on(u, 4);
  CHECK((::fcntl(listener.get(), F_GETFL) & O_NONBLOCK) != 0);
  CHECK((::fcntl(listener.get(), F_GETFD) & FD_CLOEXEC) != 0);
  CHECK_FALSE(accept_nonblocking(listener.get()));  // nothing pending: empty, no throw

  u.port = local_port(listener.get());
  CHECK(u.port != 0);
  auto client = connect_to(u);
  CHECK((::fcntl(client.get(), F_GETFL) & O_NONBLOCK) == 0);  // connect_to gives a blocking fd
  auto server = accept_within(listener.get(), 2000);
  CHECK((::fcntl(server.get(), F_GETFL) & O_NONBLOCK) != 0);
  check_talks(client.get(), server.get());
  check_talks(server.get(), client.get());
}

TEST_CASE("a hostname resolves for both listen and connect") {
  auto u = parse_uri("tcp:localhost:0");
  auto listener = listen_on(u, 1);
  u.port = local_port(listener.get());
  auto client = connect_to(u);
  auto server = accept_within(listener.get(), 2000);
  check_talks(client.get(), server.get());
}

TEST_CASE("IPv6 loopback in brackets") {
  unique_fd listener;
  try {
    listener = listen_on(parse_uri("tcp:[::1]:0"), 1);
  } catch (const std::system_error& e) {
    MESSAGE("no IPv6 loopback here, skipped: " << e.what());
    return;
  }
  auto port = local_port(listener.get());
  auto client = connect_to(parse_uri("tcp:[::1]:" + std::to_string(port)));
  auto server = accept_within(listener.get(), 2000);
  check_talks(client.get(), server.get());
}

TEST_CASE("a port in use gives 'cannot bind HOST:PORT: Address already in use'") {
  auto first = listen_on(parse_uri("tcp:127.0.0.1:0"), 1);
  auto port = std::to_string(local_port(first.get()));
  auto e = expect_system_error([&] { listen_on(parse_uri("tcp:127.0.0.1:" + port), 1); });
  CHECK((e.code() == std::errc::address_in_use));
  CHECK(std::string(e.what()) == "cannot bind 127.0.0.1:" + port + ": Address already in use");
}

TEST_CASE("connecting to a closed port gives 'cannot connect to HOST:PORT: Connection refused'") {
  std::string port;
  {
    auto gone = listen_on(parse_uri("tcp:127.0.0.1:0"), 1);
    port = std::to_string(local_port(gone.get()));
  }
  auto e = expect_system_error([&] { connect_to(parse_uri("tcp:127.0.0.1:" + port)); });
  CHECK((e.code() == std::errc::connection_refused));
  CHECK(std::string(e.what()) == "cannot connect to 127.0.0.1:" + port + ": Connection refused");
}

TEST_CASE("unix sockets: listen, connect, and a stale socket file is replaced") {
  temp_dir dir;
  auto u = parse_uri("unix:" + (dir.path / "dst.sock").string());
  {
    auto listener = listen_on(u, 1);
    auto client = connect_to(u);
    auto server = accept_within(listener.get(), 2000);
    check_talks(client.get(), server.get());
  }
  struct stat st {};
  REQUIRE(::lstat(u.path.c_str(), &st) == 0);  // closing left the file behind
  CHECK(S_ISSOCK(st.st_mode));

  auto listener = listen_on(u, 1);  // must not fail with EADDRINUSE
  auto client = connect_to(u);
  auto server = accept_within(listener.get(), 2000);
  check_talks(server.get(), client.get());
}

TEST_CASE("a regular file at a unix path is never deleted") {
  temp_dir dir;
  auto path = dir.path / "precious";
  std::FILE* f = std::fopen(path.c_str(), "w");
  REQUIRE(f);
  std::fclose(f);
  auto e = expect_system_error([&] { listen_on(parse_uri("unix:" + path.string()), 1); });
  CHECK((e.code() == std::errc::address_in_use));
  CHECK(std::string(e.what()) == "cannot bind " + path.string() + ": Address already in use");
  CHECK(std::filesystem::is_regular_file(path));
}

TEST_CASE("connecting to a missing unix path names the path") {
  temp_dir dir;
  auto path = (dir.path / "nobody").string();
  auto e = expect_system_error([&] { connect_to(parse_uri("unix:" + path)); });
  CHECK((e.code() == std::errc::no_such_file_or_directory));
  CHECK(std::string(e.what()) == "cannot connect to " + path + ": No such file or directory");
}

TEST_CASE("local_port of a unix socket is an error, not 0") {
  temp_dir dir;
  auto listener = listen_on(parse_uri("unix:" + (dir.path / "s").string()), 1);
  CHECK_THROWS_WITH_AS(local_port(listener.get()),
                       ("fd " + std::to_string(listener.get()) + " is not a TCP socket").c_str(), std::runtime_error);
}
