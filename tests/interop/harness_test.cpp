// The harness itself: process lifetime and stderr capture, version parsing. Needs no QEMU.
#include "impl/qemu/process.h"
#include "impl/qemu/qemu_vm.h"

#include <doctest/doctest.h>

#include <signal.h>

#include <cerrno>
#include <system_error>

using namespace migchan::qemu;
using namespace std::chrono_literals;

TEST_CASE("process captures stderr and reports the exit code") {
  process p({"sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 3"});
  CHECK(p.wait_for_output("to-stderr", 2s));
  CHECK(p.wait_exit(2s) == 3);
  CHECK(p.wait_for_output_end(2s));
  CHECK(p.output() == "to-stderr\n");  // stdout went to /dev/null
  CHECK(p.first_output_line() == "to-stderr");
}

TEST_CASE("once wait_exit has the status, output() holds everything the child wrote") {
  for (int run = 0; run < 20; ++run) {
    CAPTURE(run);
    process p({"sh", "-c", "i=0; while [ $i -lt 200 ]; do echo line-$i >&2; i=$((i+1)); done"});
    REQUIRE(p.wait_exit(5s) == 0);
    CHECK(p.output().find("line-199\n") != std::string::npos);
  }
}

TEST_CASE("process can capture stdout too") {
  process p({"sh", "-c", "echo to-stdout"}, {.capture_stdout = true});
  CHECK(p.wait_exit(2s) == 0);
  CHECK(p.wait_for_output_end(2s));
  CHECK(p.output() == "to-stdout\n");
}

TEST_CASE("process stdin is /dev/null") {
  process p({"sh", "-c", "cat; echo eof >&2"});
  CHECK(p.wait_for_output("eof", 2s));
  CHECK(p.wait_exit(2s) == 0);
}

TEST_CASE("wait_exit gives up at its deadline and kill reports the signal") {
  process p({"sleep", "30"});
  auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(p.wait_exit(50ms).has_value());
  CHECK(std::chrono::steady_clock::now() - start < 1s);
  CHECK(p.is_alive());
  CHECK(p.kill() == -SIGKILL);
  CHECK_FALSE(p.is_alive());
  CHECK(p.wait_exit(0ms) == -SIGKILL);
}

TEST_CASE("wait_for_output is false when stderr closes without the text") {
  process p({"sh", "-c", "echo something-else >&2"});
  CHECK_FALSE(p.wait_for_output("never printed", 2s));
}

TEST_CASE("the destructor kills the child by pid and reaps it") {
  pid_t pid;
  {
    process p({"sleep", "30"});
    pid = p.pid();
    REQUIRE(::kill(pid, 0) == 0);
  }
  // Reaped, so the pid no longer exists (and cannot have been reused within this instant).
  CHECK(::kill(pid, 0) == -1);
  CHECK(errno == ESRCH);
}

TEST_CASE("the destructor also runs when a test throws") {
  pid_t pid = -1;
  try {
    process p({"sleep", "30"});
    pid = p.pid();
    throw std::runtime_error("test failed");
  } catch (const std::runtime_error&) {
  }
  CHECK(::kill(pid, 0) == -1);
}

TEST_CASE("a program that cannot run throws at once") {
  CHECK_THROWS_AS(process({"/nonexistent/qemu-system-x86_64"}), std::system_error);
  try {
    process p({"/nonexistent/qemu-system-x86_64"});
  } catch (const std::system_error& e) {
    CHECK(std::string(e.what()) == "cannot run '/nonexistent/qemu-system-x86_64': No such file or directory");
  }
}

TEST_CASE("parse_qemu_version reads --version output") {
  CHECK(parse_qemu_version("QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\n"
                           "Copyright (c) 2003-2022 Fabrice Bellard") == version{7, 2, 22});
  CHECK(parse_qemu_version("QEMU emulator version 9.0.50 (v9.0.0-1234-gabc)") == version{9, 0, 50});
  CHECK(parse_qemu_version("QEMU emulator version 8.1") == version{8, 1, 0});
  CHECK_FALSE(parse_qemu_version("bash: qemu: command not found").has_value());
  CHECK(version{7, 2, 22} < version{8, 0, 0});
}

TEST_CASE("qemu_version of a program that is not QEMU is nullopt") {
  CHECK_FALSE(qemu_version("/nonexistent/qemu").has_value());
  CHECK_FALSE(qemu_version("true").has_value());
}
