// The harness's migration helpers against real QEMUs: outcome detection (exit code, blocked or
// spinning main loop), exit-on-error, TLS with pre-shared keys, the file: transport, cancel, and
// postcopy pause and recovery.
#include "impl/qemu/outcome.h"
#include "tests/interop/harness.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <string>
#include <string_view>
#include <system_error>

using namespace migchan;
using namespace migchan::qemu;
using namespace migchan::interop;
using namespace std::chrono_literals;

namespace {

// A connection to the destination's migration socket, as a fake source.
unique_fd connect_unix(const std::filesystem::path& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const auto p = path.string();
  REQUIRE(p.size() < sizeof addr.sun_path);
  std::memcpy(addr.sun_path, p.c_str(), p.size() + 1);
  unique_fd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  REQUIRE(fd);
  REQUIRE(connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  return fd;
}

void send_all(const unique_fd& fd, std::string_view bytes) {
  REQUIRE(send(fd.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size()));
}

// A destination listening on DIR/mig.sock, set up as the tests below need it.
struct destination {
  qemu_vm vm;
  std::filesystem::path sock;
  destination(const availability& q, incoming_options in)
      : vm({.name = "dst", .binary = q.binary, .incoming_defer = true}), sock(vm.dir() / "mig.sock") {
    vm.migrate_incoming("unix:" + sock.string(), in);
  }
};

}  // namespace

TEST_CASE("exit-on-error: a garbage first connection makes 11.1 exit 1 naming the magic, or fail") {
  MIGCHAN_REQUIRE_QEMU_AT_LEAST(q, 11, 1, 0);
  // The first four bytes, "GET " = 0x47455420, printed in decimal.
  static_assert(0x47455420 == 1195725856);
  for (bool exit_on_error : {true, false}) {
    CAPTURE(exit_on_error);
    destination dst(*q, {.exit_on_error = exit_on_error});
    auto fd = connect_unix(dst.sock);
    send_all(fd, "GET / HTTP/1.0\r\n\r\n");
    const auto o = watch(dst.vm, 3s);
    INFO(o.describe() << "\n" << o.stderr_text);
    CHECK(dst.vm.proc().wait_for_output("unknown channel magic: 1195725856", 1s));
    if (exit_on_error) {
      CHECK(o.fate == vm_fate::exited);
      CHECK(o.code == 1);
    } else {
      CHECK(o.fate == vm_fate::alive);
      CHECK(o.describe() == "alive, migration failed");
      // The MIGRATION event that ended the watch is handed back.
      REQUIRE_FALSE(o.events.empty());
      CHECK(o.events.back()["data"]["status"] == "failed");
    }
  }
}

TEST_CASE("outcome: a silent first connection blocks 11.1's main loop (QMP dead, no CPU)") {
  MIGCHAN_REQUIRE_QEMU_AT_LEAST(q, 11, 1, 0);
  destination dst(*q, {});
  auto fd = connect_unix(dst.sock);
  const auto o = watch(dst.vm, 300ms);
  INFO(o.describe() << "\n" << o.stderr_text);
  CHECK(o.fate == vm_fate::blocked);
  CHECK(o.cpu_per_second < 0.2);
  CHECK(dst.vm.proc().is_alive());
}

TEST_CASE("outcome: two bytes then close make 11.1's main loop spin (QMP dead, a CPU second per second)") {
  MIGCHAN_REQUIRE_QEMU_AT_LEAST(q, 11, 1, 0);
  destination dst(*q, {});
  {
    auto fd = connect_unix(dst.sock);
    send_all(fd, "QE");
  }
  const auto o = watch(dst.vm, 300ms);
  INFO(o.describe() << "\n" << o.stderr_text);
  CHECK(o.fate == vm_fate::spinning);
  CHECK(o.cpu_per_second > 0.25);
}

TEST_CASE("outcome: a precopy that completes ends the watch at the event, on every QEMU") {
  MIGCHAN_FOR_EACH_QEMU(q) {
    migration_pair m(*q);
    m.start();
    const auto start = clock::now();
    const auto s = watch(m.src, 5s);
    const auto d = watch(m.dst, 5s);
    CHECK(s.describe() == "alive, migration completed");
    CHECK(d.describe() == "alive, migration completed");
    CHECK(clock::now() - start < 3s);
  }
}

namespace {

// Both sides with tls-creds-psk, each from its own keys dir.
void migrate_with_psk(const availability& q, const std::filesystem::path& dst_keys,
                      const std::filesystem::path& src_keys, const std::string& expected) {
  migration_pair m(q, {.tls = tls_psk{dst_keys, tls_endpoint::server}},
                   {.tls = tls_psk{src_keys, tls_endpoint::client}});
  CHECK(m.src.qmp().execute("query-migrate-parameters")["tls-creds"] == tls_creds_id);
  m.start();
  const auto s = watch(m.src, migrate_deadline);
  INFO(s.stderr_text);
  CHECK(s.describe() == "alive, migration " + expected);
  if (expected == "completed") CHECK(watch(m.dst, migrate_deadline).describe() == "alive, migration completed");
}

}  // namespace

TEST_CASE("TLS with a pre-shared key: precopy completes on every QEMU") {
  MIGCHAN_FOR_EACH_QEMU(q) {
    temp_dir keys("migchan-psk-");
    write_psk_keys(keys.path());
    migrate_with_psk(*q, keys.path(), keys.path(), "completed");
  }
}

TEST_CASE("TLS: a source with another key fails the handshake, and with it the migration") {
  MIGCHAN_FOR_EACH_QEMU(q) {
    temp_dir keys_dst("migchan-psk-"), keys_src("migchan-psk-");
    write_psk_keys(keys_dst.path());
    write_psk_keys(keys_src.path());
    migrate_with_psk(*q, keys_dst.path(), keys_src.path(), "failed");
  }
}

TEST_CASE("file: transport: 11.1 saves to a file and loads it back, with and without mapped-ram") {
  MIGCHAN_REQUIRE_QEMU_AT_LEAST(q, 11, 1, 0);
  for (bool mapped : {false, true}) {
    CAPTURE(mapped);
    qemu_vm src({.name = "src", .binary = q->binary});
    qemu_vm dst({.name = "dst", .binary = q->binary, .incoming_defer = true});
    if (mapped)
      for (auto* vm : {&src, &dst}) vm->set_capabilities({{"mapped-ram", true}});
    const auto file = src.dir() / "vm.state";
    src.migrate_to_file(file);
    CHECK(watch(src, migrate_deadline).describe() == "alive, migration completed");
    CHECK(std::filesystem::file_size(file) > 0);
    dst.migrate_incoming_from_file(file);
    const auto d = watch(dst, migrate_deadline);
    INFO(d.stderr_text);
    CHECK(d.describe() == "alive, migration completed");
  }
}

TEST_CASE("migrate_cancel in precopy: the source reaches cancelled on every QEMU") {
  MIGCHAN_FOR_EACH_QEMU(q) {
    migration_pair m(*q);
    // 1 MiB/s: 64 MiB take far longer than the cancel.
    m.src.set_parameters({{"max-bandwidth", 1 << 20}});
    m.start();
    m.src.wait_for_status({"active"}, migrate_deadline);
    m.src.migrate_cancel();
    const auto s = watch(m.src, migrate_deadline);
    INFO(s.stderr_text);
    CHECK(s.describe() == "alive, migration cancelled");
  }
}

TEST_CASE("postcopy pause and recovery: both sides pause, then the resumed migration completes") {
  MIGCHAN_FOR_EACH_QEMU(q) {
    migration_pair m(*q);
    m.set_capabilities({{"postcopy-ram", true}});
    // Slow enough that postcopy is still running when it is paused.
    m.src.set_parameters({{"max-bandwidth", 1 << 20}, {"max-postcopy-bandwidth", 50000}});
    m.start();
    m.src.start_postcopy();
    m.src.wait_for_status({"postcopy-active"}, migrate_deadline);
    m.dst.wait_for_status({"postcopy-active"}, migrate_deadline);

    m.src.migrate_pause();
    for (auto* vm : {&m.src, &m.dst})
      CHECK(watch(*vm, migrate_deadline, {.until = {"postcopy-paused"}}).status == "postcopy-paused");

    const auto again = m.dst.unix_uri("recover.sock");
    m.dst.migrate_recover(again);
    m.src.set_parameters({{"max-postcopy-bandwidth", 0}});
    m.src.migrate_resume(again);
    const auto s = watch(m.src, migrate_deadline);
    const auto d = watch(m.dst, migrate_deadline);
    INFO("src: " << s.stderr_text << "\ndst: " << d.stderr_text);
    CHECK(s.describe() == "alive, migration completed");
    CHECK(d.describe() == "alive, migration completed");
  }
}

TEST_CASE("outcome: a second main connection makes 11.1 (multifd) fail an assertion: killed by SIGABRT") {
  MIGCHAN_REQUIRE_QEMU_AT_LEAST(q, 11, 1, 0);
  qemu_vm vm({.name = "dst", .binary = q->binary, .incoming_defer = true});
  vm.set_capabilities({{"multifd", true}});
  const auto sock = vm.dir() / "mig.sock";
  vm.migrate_incoming("unix:" + sock.string());
  // QEMU_VM_FILE_MAGIC and version 3 on both: each is classified as main.
  const std::string header("QEVM\0\0\0\3", 8);
  auto first = connect_unix(sock);
  send_all(first, header);
  auto second = connect_unix(sock);
  send_all(second, header);
  const auto o = watch(vm, 3s);
  INFO(o.stderr_text);
  CHECK(o.describe() == "killed by signal 6 (SIGABRT: a failed assertion)");
  CHECK(o.stderr_text.find("Assertion `!mis->from_src_file' failed") != std::string::npos);
}
