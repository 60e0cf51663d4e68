// Sequences through the destination state machine.
#include <doctest/doctest.h>

#include <vector>

#include "model/builtin.h"
#include "model/sender.h"

using namespace migchan;
using cd = concrete_domain;

namespace {
arrival<cd> arrive(channel_kind k, first_bytes m, transport t = transport::socket) {
  return {true, int(k), int(t), int(m), 1};
}
std::vector<trace_step<cd>> play(const table& t, const dest_config<cd>& d, dest_state<cd> s,
                                 std::vector<arrival<cd>> in) {
  std::vector<trace_step<cd>> tr(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) tr[i].in = in[i];
  run<cd>(t, d, s, tr);
  return tr;
}
constexpr dest_config<cd> multifd2{true, false, false, false, 2};
}  // namespace

TEST_CASE(
    "7.2 multifd-first: F0 taken as main, then main fails the MultiFDInit magic check (migration/multifd.c:205-208 at v7.2.0)") {
  const auto tr = play(classifiers::qemu_7_2, multifd2, fresh_state<cd>(),
                       {arrive(channel_kind::multifd, first_bytes::multifd_magic),
                        arrive(channel_kind::main, first_bytes::vm_file_magic),
                        arrive(channel_kind::multifd, first_bytes::multifd_magic)});
  CHECK(tr[0].out.then == int(verdict::main));
  CHECK(tr[1].out.then == int(verdict::reject));
  CHECK(tr[1].out.why == int(cause::multifd_init));
  CHECK(tr[1].out.cost == int(reads::read64));
  CHECK(tr[2].out.then == int(verdict::multifd));
  // Only one real multifd channel registered: incoming never starts (the 7.2 hang conform shows).
  CHECK(tr[2].out.next.starts == 0);
}

TEST_CASE("7.2 natural order: main then both multifd, start on the last one") {
  const auto tr = play(classifiers::qemu_7_2, multifd2, fresh_state<cd>(),
                       {arrive(channel_kind::main, first_bytes::vm_file_magic),
                        arrive(channel_kind::multifd, first_bytes::multifd_magic),
                        arrive(channel_kind::multifd, first_bytes::multifd_magic)});
  CHECK_FALSE(tr[1].out.started);
  CHECK(tr[2].out.started);
  CHECK(tr[2].out.next.status == int(mig_status::active));
}

TEST_CASE(
    "7.2 reads 64 bytes from a silent preempt channel when multifd is on (migration/migration.c:755-756 at v7.2.0)") {
  const dest_config<cd> d{true, true, true, false, 2};
  const auto tr = play(classifiers::qemu_7_2, d, fresh_state<cd>(),
                       {arrive(channel_kind::main, first_bytes::vm_file_magic),
                        arrive(channel_kind::preempt, first_bytes::silent),
                        arrive(channel_kind::multifd, first_bytes::multifd_magic)});
  CHECK(tr[1].out.then == int(verdict::blocked));
  CHECK(tr[1].out.cost == int(reads::read64));
  CHECK(tr[2].out.why == int(cause::behind));  // head-of-line: nothing behind it is looked at
}

TEST_CASE("7.2 listener drops a preempt channel arriving after all multifd channels") {
  const dest_config<cd> d{true, true, true, false, 1};
  const auto tr = play(classifiers::qemu_7_2, d, fresh_state<cd>(),
                       {arrive(channel_kind::main, first_bytes::vm_file_magic),
                        arrive(channel_kind::multifd, first_bytes::multifd_magic),
                        arrive(channel_kind::preempt, first_bytes::silent)});
  CHECK(tr[2].out.then == int(verdict::drop));
  CHECK(tr[2].out.why == int(cause::listener));
}

TEST_CASE("8.0 preempt-only: start on main, preempt accepted afterwards (5655aab0)") {
  const dest_config<cd> d{false, true, true, false, 1};
  const auto tr = play(classifiers::qemu_8_0, d, fresh_state<cd>(),
                       {arrive(channel_kind::main, first_bytes::vm_file_magic),
                        arrive(channel_kind::preempt, first_bytes::silent)});
  CHECK(tr[0].out.started);
  CHECK(tr[1].out.then == int(verdict::preempt));
  CHECK(tr[1].out.next.starts == 1);
}

TEST_CASE("10.1 postcopy recovery: reconnecting main resumes instead of starting anew") {
  const dest_config<cd> d{true, true, true, false, 2};
  const auto tr =
      play(classifiers::qemu_10_1, d, paused_state<cd>(d),
           {arrive(channel_kind::main, first_bytes::vm_command), arrive(channel_kind::preempt, first_bytes::silent)});
  CHECK(classifiers::qemu_10_1.rules[std::size_t(tr[0].out.rule)].id == "peek.postcopy_recovery");
  CHECK(tr[0].out.started);
  CHECK(tr[0].out.next.status == int(mig_status::postcopy_recover));
  CHECK(tr[1].out.then == int(verdict::preempt));
}

TEST_CASE("10.1 a second QEVM channel hits assert(!mis->from_src_file)") {
  const dest_config<cd> d{true, false, false, false, 2};
  const auto tr = play(classifiers::qemu_10_1, d, fresh_state<cd>(),
                       {arrive(channel_kind::main, first_bytes::vm_file_magic),
                        arrive(channel_kind::main, first_bytes::vm_file_magic)});
  CHECK(tr[1].out.then == int(verdict::abort));
  CHECK(tr[1].out.why == int(cause::dup_main));
}

TEST_CASE("reference parks a silent channel and names it preempt once main and multifd are in") {
  const dest_config<cd> d{true, true, true, false, 1};
  const auto tr = play(classifiers::reference, d, fresh_state<cd>(),
                       {arrive(channel_kind::preempt, first_bytes::silent),
                        arrive(channel_kind::multifd, first_bytes::multifd_magic),
                        arrive(channel_kind::main, first_bytes::vm_file_magic)});
  CHECK(tr[0].out.then == int(verdict::defer));
  CHECK_FALSE(tr[1].out.woke);
  CHECK(tr[2].out.woke);
  CHECK(tr[2].out.woke_then == int(verdict::preempt));
  CHECK(tr[2].out.next.has_preempt);
  CHECK(tr[2].out.next.starts == 1);
}

TEST_CASE("a run of identical multifd channels is one step only while none completes the set early") {
  const dest_config<cd> d{true, false, false, false, 4};
  auto s = fresh_state<cd>();
  s.has_main = true;
  auto a = arrive(channel_kind::multifd, first_bytes::multifd_magic);
  a.count = 4;
  auto r = step<cd>(classifiers::qemu_10_1, d, s, a);
  CHECK(r.valid_run);
  CHECK(r.started);
  CHECK(r.next.multifd_count == 4);
  a.count = 5;  // one too many: the last would overflow, the others not
  CHECK_FALSE(step<cd>(classifiers::qemu_10_1, d, s, a).valid_run);
}
