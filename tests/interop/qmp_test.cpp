// QMP client and qemu_vm against a real QEMU: greeting, errors, fast failure, quit.
#include "tests/interop/harness.h"

#include <signal.h>

#include <functional>
#include <string>

using namespace migchan::qemu;
using namespace std::chrono_literals;

namespace {

std::string error_of(const std::function<void()> &f) {
  try {
    f();
  } catch (const std::runtime_error &e) {
    return e.what();
  }
  return "(no error)";
}

} // namespace

TEST_CASE("qemu_available probes the binary and its version") {
  MIGCHAN_REQUIRE_QEMU();
  const auto &a = qemu_available();
  REQUIRE(a.version.has_value());
  MESSAGE("QEMU " << a.binary << " " << (*a.version)[0] << "." << (*a.version)[1] << "."
                  << (*a.version)[2]);
  CHECK(*a.version >= version{7, 2, 0});
  CHECK(qemu_version(a.binary) == a.version);
}

TEST_CASE("qmp greets, runs commands and names the command in errors") {
  MIGCHAN_REQUIRE_QEMU();
  qemu_vm vm({.name = "vm"});
  const auto &greeting = vm.qmp().greeting();
  CHECK(greeting["QMP"]["version"]["qemu"]["major"] == (*qemu_available().version)[0]);
  CHECK(vm.qmp().execute("query-status")["status"] == "prelaunch"); // -S
  CHECK(vm.query_migrate() == json::object());                      // never migrated

  CHECK(error_of([&] { vm.qmp().execute("no-such-command"); }) ==
        "qmp no-such-command: The command no-such-command has not been found");
  // research §5: preempt is refused without postcopy-ram.
  CHECK(error_of([&] {
          vm.set_capabilities({{"postcopy-preempt", true}});
        }) == "vm: qmp migrate-set-capabilities: Postcopy preempt requires postcopy-ram");
  // The client stays usable after an error reply.
  CHECK(vm.qmp().execute("query-status")["running"] == false);
}

TEST_CASE("wait_for_status times out with a one-line error") {
  MIGCHAN_REQUIRE_QEMU();
  qemu_vm vm({.name = "vm"});
  auto start = std::chrono::steady_clock::now();
  std::string err = error_of([&] { vm.wait_for_status({"completed"}, 100ms); });
  CHECK(err == "vm: qmp query-migrate: status '(none)' not in {completed} after 100 ms");
  CHECK(std::chrono::steady_clock::now() - start < 1s);
}

TEST_CASE("a bad command line fails fast with QEMU's own message") {
  MIGCHAN_REQUIRE_QEMU();
  auto start = std::chrono::steady_clock::now();
  std::string err =
      error_of([] { qemu_vm vm({.name = "bad", .extra_args = {"-no-such-option"}}); });
  CHECK(err.find("bad: QEMU exited with status 1 before QMP was ready: ") == 0);
  CHECK(err.find("-no-such-option: invalid option") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - start < 2s);
}

TEST_CASE("quit ends QEMU with status 0, and the destructor kills a running one by pid") {
  MIGCHAN_REQUIRE_QEMU();
  {
    qemu_vm vm({.name = "vm"});
    CHECK(vm.quit() == 0);
    CHECK_FALSE(vm.proc().is_alive());
  }
  pid_t pid;
  {
    qemu_vm vm({.name = "vm"});
    pid = vm.proc().pid();
  }
  CHECK(::kill(pid, 0) == -1);
}
