// (a) real QEMU source -> real QEMU destination, plain precopy over a unix socket, on every
// installed QEMU and across versions.
#include "impl/qemu/outcome.h"
#include "tests/interop/harness.h"

#include <thread>

using namespace migchan::qemu;
using namespace migchan::interop;

namespace {

// The runstate, once it is `want` or the deadline passed. 11.1 reports the migration `completed`
// while the source's runstate is still finish-migrate for a moment; no QMP event marks the change.
std::string runstate_when(qemu_vm& vm, const std::string& want, millis timeout) {
  const auto deadline = clock::now() + timeout;
  for (;;) {
    std::string state = vm.qmp().execute("query-status")["status"];
    if (state == want || clock::now() >= deadline) return state;
    std::this_thread::sleep_for(millis(5));
  }
}

}  // namespace

TEST_CASE("precopy real source to real destination completes on both sides") {
  MIGCHAN_FOR_EACH_QEMU(q) {
    migration_pair m(*q);
    INFO("dst stderr: " << m.dst.proc().output());
    INFO("src stderr: " << m.src.proc().output());
    m.start();
    const auto [s, d] = m.wait_completed();
    CHECK(s["status"] == "completed");
    CHECK(d["status"] == "completed");
    CHECK(s["ram"]["transferred"].get<uint64_t>() > 0);
    // The destination takes over the source's runstate: prelaunch, as the -S source never ran.
    CHECK(m.dst.qmp().execute("query-status")["status"] == "prelaunch");
    CHECK(runstate_when(m.src, "postmigrate", millis(1000)) == "postmigrate");
  }
}

TEST_CASE("precopy across versions on the older machine type completes both ways") {
  MIGCHAN_REQUIRE_TWO_VERSIONS(older, newer);
  // The older binary's `pc`, named as it is, so that the newer one runs the same machine.
  const auto machine = qemu_vm({.name = "probe", .binary = older->binary}).machine_type();
  for (const auto& way : {std::pair{older, newer}, std::pair{newer, older}}) {
    const auto *from = way.first, *to = way.second;
    CAPTURE(from->label());
    CAPTURE(to->label());
    migration_pair m(*from, *to, {.machine = machine}, {.machine = machine});
    m.start();
    const auto s = watch(m.src, migrate_deadline), d = watch(m.dst, migrate_deadline);
    INFO("src: " << s.stderr_text << "\ndst: " << d.stderr_text);
    CHECK(s.describe() == "alive, migration completed");
    CHECK(d.describe() == "alive, migration completed");
  }
}

TEST_CASE("precopy across versions on each binary's own `pc` fails on the machine type") {
  MIGCHAN_REQUIRE_TWO_VERSIONS(older, newer);
  migration_pair m(*newer, *older);
  const auto mismatch = "Machine type received is '" + m.src.machine_type() + "' and local is '" +
                        m.dst.machine_type() + "'";
  m.start();
  const auto d = watch(m.dst, migrate_deadline);
  INFO(d.stderr_text);
  CHECK(d.describe() == "exited with code 1");
  CHECK(d.stderr_text.find(mismatch) != std::string::npos);
  CHECK(watch(m.src, migrate_deadline).status == "failed");
}
