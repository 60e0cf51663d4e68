// Concrete decisions of each built-in classifier, each tied to the fact sheet
// (commit ids and file:line at a release) or what Debian's 7.2.22 did (docs/fidelity.md).
#include <doctest/doctest.h>

#include "model/builtin.h"

using namespace migchan;

namespace {
observation multifd_on(first_bytes magic, bool has_main = false) {
  observation o;
  o.multifd = true;
  o.magic = magic;
  o.has_main = has_main;
  return o;
}
}  // namespace

TEST_CASE("7.2 takes a multifd-first connection as main (migration/migration.c:739-745 at v7.2.0)") {
  const auto d = classify(classifiers::qemu_7_2, multifd_on(first_bytes::multifd_magic));
  REQUIRE(d.fired);
  CHECK(d.fired->id == "first.main");
  CHECK(d.then == verdict::main);
  CHECK(d.cost == reads::nothing);
}

TEST_CASE("7.2: every later connection is multifd when multifd is on, whatever it sends") {
  const auto d = classify(classifiers::qemu_7_2, multifd_on(first_bytes::vm_file_magic, true));
  CHECK(d.then == verdict::multifd);
  CHECK(d.fired->id == "later.multifd");
}

TEST_CASE("8.0 peeks QEVM as main when multifd is on and postcopy-ram off (6720c2b3)") {
  auto o = multifd_on(first_bytes::vm_file_magic, false);
  CHECK(classify(classifiers::qemu_8_0, o).fired->id == "peek.vm_file_magic");
  o.magic = first_bytes::multifd_magic;
  CHECK(classify(classifiers::qemu_8_0, o).then == verdict::multifd);
  o.magic = first_bytes::other;  // any other value is treated as multifd
  CHECK(classify(classifiers::qemu_8_0, o).fired->id == "peek.other");
}

TEST_CASE("8.0 does not peek with postcopy-ram on: order decides again") {
  auto o = multifd_on(first_bytes::multifd_magic, false);
  o.postcopy_ram = true;
  const auto d = classify(classifiers::qemu_8_0, o);
  CHECK(d.fired->id == "nopeek.first");
  CHECK(d.cost == reads::nothing);
}

TEST_CASE("9.0 does not peek mapped-ram file channels (2dd7ee7a51)") {
  auto o = multifd_on(first_bytes::other, true);
  o.mapped_ram = true;
  o.transport = transport::file;
  CHECK(classify(classifiers::qemu_9_0, o).fired->id == "nopeek.multifd");
}

TEST_CASE("10.1 rejects unknown magic with \"unknown channel magic\" (00f3fcef)") {
  observation o;
  o.magic = first_bytes::other;
  const auto d = classify(classifiers::qemu_10_1, o);
  CHECK(d.then == verdict::reject);
  CHECK(d.fired->text == "unknown channel magic: %u");
}

TEST_CASE("10.1 asserts on MULTIFD magic with multifd off") {
  observation o;
  o.magic = first_bytes::multifd_magic;
  const auto d = classify(classifiers::qemu_10_1, o);
  CHECK(d.then == verdict::abort);
  CHECK(d.fired->text == "Assertion `migrate_multifd()' failed");
}

TEST_CASE("10.1 peeks a plain single-channel socket too") {
  observation o;  // no multifd, no postcopy
  CHECK(classify(classifiers::qemu_10_1, o).cost == reads::peek4);
}

TEST_CASE("10.1 blocks peeking a silent channel before main and multifd are in") {
  auto o = multifd_on(first_bytes::silent, true);
  o.postcopy_ram = o.postcopy_preempt = true;
  const auto d = classify(classifiers::qemu_10_1, o);
  CHECK(d.then == verdict::blocked);
  CHECK(d.fired->id == "peek.wait");
}

TEST_CASE("10.1 takes a QEMU_VM_COMMAND channel as main only while postcopy-paused") {
  observation o;
  o.postcopy_ram = true;
  o.magic = first_bytes::vm_command;
  o.state = mig_status::postcopy_paused;
  CHECK(classify(classifiers::qemu_10_1, o).fired->id == "peek.postcopy_recovery");
  o.state = mig_status::active;
  CHECK(classify(classifiers::qemu_10_1, o).then == verdict::reject);
}

TEST_CASE("10.1: after main and all multifd, a channel is preempt without a peek") {
  auto o = multifd_on(first_bytes::silent, true);
  o.all_multifd = true;
  o.postcopy_ram = o.postcopy_preempt = true;
  const auto d = classify(classifiers::qemu_10_1, o);
  CHECK(d.then == verdict::preempt);
  CHECK(d.cost == reads::nothing);
}

TEST_CASE("patch-v6: a first non-peekable channel is main only through the CH_MAIN initializer") {
  auto o = multifd_on(first_bytes::other, false);
  o.transport = transport::tls;
  REQUIRE(valid<concrete_domain>(classifiers::patch_v6, o.generic()));
  const auto d = classify(classifiers::patch_v6, o);
  CHECK(d.fired->implicit_default);
  CHECK(d.then == verdict::main);
  o.has_main = true;  // the ioc->name test then takes TLS as multifd
  CHECK(classify(classifiers::patch_v6, o).fired->id == "nopeek.tls_or_file");
}

TEST_CASE("reference waits for a silent channel instead of blocking, then names it preempt") {
  auto o = multifd_on(first_bytes::silent, true);
  o.postcopy_ram = o.postcopy_preempt = true;
  CHECK(classify(classifiers::reference, o).then == verdict::defer);
  o.all_multifd = true;
  CHECK(classify(classifiers::reference, o).then == verdict::preempt);
}

TEST_CASE("every rule of a historical table names its upstream commit") {
  for (const table* t : builtin_tables)
    for (const auto& r : t->rules) {
      INFO(t->name, " ", r.id);
      CHECK_FALSE(r.ref.commit.empty());
      CHECK_FALSE(r.ref.where.empty());
      CHECK_FALSE(r.c.empty());
    }
}
