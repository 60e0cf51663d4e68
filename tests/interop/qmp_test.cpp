// QMP client and qemu_vm against every installed QEMU: greeting, version, machine type, schema
// look-ups, errors, fast failure, quit.
#include "tests/interop/harness.h"

#include <signal.h>

#include <functional>
#include <string>

using namespace migchan::qemu;
using namespace std::chrono_literals;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(no error)";
}

std::string major_minor(const version& v) { return std::to_string(v[0]) + "." + std::to_string(v[1]); }

}  // namespace

TEST_CASE("every installed QEMU is probed with its version") {
  MIGCHAN_REQUIRE_QEMUS(qemus);
  for (const auto* q : qemus) {
    MESSAGE(q->label());
    CHECK(*q->version >= version{7, 2, 0});
    CHECK(qemu_version(q->binary) == q->version);
  }
}

TEST_CASE("qmp greets with the version, runs commands and names the command in errors") {
  MIGCHAN_FOR_EACH_QEMU(q) {
    qemu_vm vm({.name = "vm", .binary = q->binary});
    CHECK(vm.binary() == q->binary);
    CHECK(vm.version() == *q->version);
    CHECK(vm.qmp().execute("query-status")["status"] == "prelaunch");  // -S
    CHECK(vm.query_migrate() == json::object());                       // never migrated

    CHECK(error_of([&] { vm.qmp().execute("no-such-command"); }) ==
          "qmp no-such-command: The command no-such-command has not been found");
    // Preempt is refused without postcopy-ram, by both versions.
    CHECK(error_of([&] {
            vm.set_capabilities({{"postcopy-preempt", true}});
          }) == "vm: qmp migrate-set-capabilities: Postcopy preempt requires postcopy-ram");
    // The client stays usable after an error reply.
    CHECK(vm.qmp().execute("query-status")["running"] == false);
  }
}

TEST_CASE("machine type: `pc` is the binary's newest pc-i440fx") {
  MIGCHAN_FOR_EACH_QEMU(q) {
    qemu_vm vm({.name = "vm", .binary = q->binary});
    CHECK(vm.machine_type() == "pc-i440fx-" + major_minor(*q->version));
  }
}

TEST_CASE("machine type: the newer binary runs the older one's (what cross-version migration needs)") {
  MIGCHAN_REQUIRE_TWO_VERSIONS(older, newer);
  const std::string old_machine = "pc-i440fx-" + major_minor(*older->version);
  qemu_vm vm({.name = "vm", .binary = newer->binary, .machine = old_machine});
  CHECK(vm.machine_type() == old_machine);
}

TEST_CASE("schema look-ups: exit-on-error and the file: transport only where the binary has them") {
  MIGCHAN_FOR_EACH_QEMU(q) {
    qemu_vm vm({.name = "dst", .binary = q->binary, .incoming_defer = true});
    const bool is_7_2 = major_minor(*q->version) == "7.2";
    CHECK(vm.has_argument("migrate-incoming", "uri"));
    CHECK_FALSE(vm.has_argument("migrate-incoming", "no-such-argument"));
    CHECK_FALSE(vm.has_argument("no-such-command", "uri"));
    CHECK(vm.has_argument("migrate", "resume"));
    CHECK(vm.has_capability("postcopy-preempt"));
    if (is_7_2) {
      CHECK_FALSE(vm.has_argument("migrate-incoming", "exit-on-error"));
      CHECK(vm.transports().empty());
      CHECK_FALSE(vm.has_capability("mapped-ram"));
      const std::string v = to_string(*q->version);
      CHECK(error_of([&] { vm.migrate_incoming(vm.unix_uri("mig.sock"), {.exit_on_error = true}); }) ==
            "dst: QEMU " + v + " has no migrate-incoming argument 'exit-on-error'");
      CHECK(error_of([&] {
              vm.set_capabilities({{"mapped-ram", true}});
            }) == "dst: QEMU " + v + " has no migration capability 'mapped-ram'");
      CHECK(error_of([&] { vm.migrate_incoming_from_file(vm.dir() / "mig.file"); }) ==
            "dst: QEMU " + v + " has no file: migration transport");
      CHECK_THROWS_AS(vm.set_capabilities({{"mapped-ram", true}}), unsupported);
      // Nothing was sent: the destination still waits for migrate-incoming.
      CHECK(vm.query_migrate() == json::object());
    } else if (*q->version >= version{11, 1, 0}) {
      CHECK(vm.has_argument("migrate-incoming", "exit-on-error"));
      CHECK(vm.transports() == std::set<std::string>{"exec", "file", "rdma", "socket"});
      CHECK(vm.has_capability("mapped-ram"));
    }
  }
}

TEST_CASE("capabilities before migrate-incoming: 11.1 refuses multifd after it, 7.2 takes it") {
  MIGCHAN_FOR_EACH_QEMU(q) {
    qemu_vm vm({.name = "dst", .binary = q->binary, .incoming_defer = true});
    vm.migrate_incoming(vm.unix_uri("mig.sock"));
    const auto err = error_of([&] { vm.set_capabilities({{"multifd", true}}); });
    if (major_minor(*q->version) == "7.2") CHECK(err == "(no error)");
    else if (*q->version >= version{11, 1, 0})
      CHECK(err == "dst: qmp migrate-set-capabilities: Multifd must be set before incoming starts");
  }
}

TEST_CASE("wait_for_status times out with a one-line error") {
  MIGCHAN_FOR_EACH_QEMU(q) {
    qemu_vm vm({.name = "vm", .binary = q->binary});
    auto start = std::chrono::steady_clock::now();
    std::string err = error_of([&] { vm.wait_for_status({"completed"}, 100ms); });
    CHECK(err == "vm: qmp query-migrate: status '(none)' not in {completed} after 100 ms");
    CHECK(std::chrono::steady_clock::now() - start < 1s);
  }
}

TEST_CASE("a bad command line fails fast with QEMU's own message") {
  MIGCHAN_FOR_EACH_QEMU(q) {
    auto start = std::chrono::steady_clock::now();
    std::string err =
        error_of([&] { qemu_vm vm({.name = "bad", .binary = q->binary, .extra_args = {"-no-such-option"}}); });
    CHECK(err.find("bad: QEMU exited with status 1 before QMP was ready: ") == 0);
    CHECK(err.find("-no-such-option: invalid option") != std::string::npos);
    CHECK(std::chrono::steady_clock::now() - start < 2s);
  }
}

TEST_CASE("quit ends QEMU with status 0, and the destructor kills a running one by pid") {
  MIGCHAN_FOR_EACH_QEMU(q) {
    {
      qemu_vm vm({.name = "vm", .binary = q->binary});
      CHECK(vm.quit() == 0);
      CHECK_FALSE(vm.proc().is_alive());
    }
    pid_t pid;
    {
      qemu_vm vm({.name = "vm", .binary = q->binary});
      pid = vm.proc().pid();
    }
    CHECK(::kill(pid, 0) == -1);
  }
}
