// Whole runs of a source's channels through a destination version, against
// what real QEMUs did with the same configurations.
#include <doctest/doctest.h>

#include "model/builtin.h"
#include "model/predict.h"

using namespace migchan;
using cd = concrete_domain;

namespace {

sender_config<cd> source(bool multifd, bool postcopy, bool preempt, int channels, sender_gen gen, bool switched) {
  return {multifd, postcopy, preempt, false, int(transport::socket), channels, int(gen), false, switched};
}

dest_config<cd> like(const sender_config<cd>& s, int channels) {
  return {s.multifd, s.postcopy_ram, s.postcopy_preempt, s.mapped_ram, channels, true};
}

}  // namespace

TEST_CASE("an 11.1 source opens main, its multifd channels, and preempt only once switched to postcopy") {
  const auto s = source(true, true, true, 2, sender_gen::postponed_preempt_multifd_first, true);
  const auto order = source_order(s, like(s, 2));
  REQUIRE(order.size() == 4);
  CHECK(order[0].kind == int(channel_kind::main));
  CHECK(order[3].kind == int(channel_kind::preempt));
  const auto p = predict_source(classifiers::qemu_11_1, s, like(s, 2));
  CHECK(p.fate == fate::started);
  CHECK(p.steps[3].out.then == int(verdict::preempt));
  CHECK(p.printed.empty());
  auto unswitched = s;
  unswitched.switched = false;
  CHECK(source_order(unswitched, like(s, 2)).size() == 3);
}

TEST_CASE("with a pc-i440fx-7.2 machine the preempt channel comes right after main: 11.1 hangs peeking it") {
  // x-preempt-pre-7-2 (hw_compat_7_2): an 8.0+ source opens preempt at migration start.
  const auto s = source(true, true, true, 2, sender_gen::early_preempt_multifd_first, true);
  const auto p = predict_source(classifiers::qemu_11_1, s, like(s, 2));
  REQUIRE(p.steps.size() == 4);
  CHECK(p.steps[1].in.kind == int(channel_kind::preempt));
  CHECK(p.steps[1].out.then == int(verdict::blocked));
  CHECK(p.fate == fate::hung);
}

TEST_CASE("fewer source than destination channels: the destination waits in setup") {
  const auto s = source(true, false, false, 2, sender_gen::postponed_preempt_multifd_first, false);
  CHECK(predict_source(classifiers::qemu_11_1, s, like(s, 4)).fate == fate::waiting);
}

TEST_CASE("a 9.0+ source writes main only after every multifd connect: more than the accept queue holds hangs") {
  // The destination peeks main and accepts nothing meanwhile; its listener queues
  // multifd-channels + 1 connections (backlog multifd-channels, migration/socket.c:154-160 at
  // v10.2.2). 4 into 2 and 8 into 4 hung on 11.1; 3 into 2 started.
  const auto fate_of = [](const table& t, sender_gen gen, int from, int to) {
    const auto s = source(true, false, false, from, gen, false);
    return predict_source(t, s, like(s, to));
  };
  const auto four = fate_of(classifiers::qemu_11_1, sender_gen::postponed_preempt_multifd_first, 4, 2);
  CHECK(four.steps[0].in.magic == int(first_bytes::silent));
  CHECK(four.steps[0].out.then == int(verdict::blocked));
  CHECK(four.fate == fate::hung);
  CHECK(fate_of(classifiers::qemu_11_1, sender_gen::postponed_preempt_multifd_first, 8, 4).fate == fate::hung);
  CHECK(fate_of(classifiers::qemu_11_1, sender_gen::postponed_preempt_multifd_first, 3, 2).fate == fate::started);
  CHECK(fate_of(classifiers::qemu_11_1, sender_gen::postponed_preempt_multifd_first, 2, 2).fate == fate::started);
  // An 8.x source writes main's header at once: no hang; the surplus ids are refused.
  CHECK(fate_of(classifiers::qemu_11_1, sender_gen::postponed_preempt, 4, 2).fate != fate::hung);
  // Without multifd the destination's backlog is 1: two channels fit, three do not.
  const auto into_plain = [](int from) {
    const auto s = source(true, false, false, from, sender_gen::postponed_preempt_multifd_first, false);
    return predict_source(classifiers::qemu_11_1, s, dest_config<cd>{false, false, false, false, 1, true}).fate;
  };
  CHECK(into_plain(2) != fate::hung);
  CHECK(into_plain(3) == fate::hung);
  // Over TLS the destination never peeks: main is taken by order and the queue drains.
  auto tls = source(true, false, false, 4, sender_gen::postponed_preempt_multifd_first, false);
  tls.transport = int(transport::tls);
  CHECK(predict_source(classifiers::qemu_11_1, tls, like(tls, 2)).steps[0].in.magic == int(first_bytes::vm_file_magic));
  // Nor does 7.2, which takes the first channel as main by order: the connects finish.
  const auto seven = fate_of(classifiers::qemu_7_2, sender_gen::postponed_preempt_multifd_first, 4, 2);
  CHECK(seven.steps[0].in.magic == int(first_bytes::vm_file_magic));
  CHECK(seven.fate != fate::hung);
}

TEST_CASE("more source than destination channels: id == N is refused on 11.1, past the array on 7.2") {
  const auto s = source(true, false, false, 3, sender_gen::postponed_preempt_multifd_first, false);
  // In the source's order the first two ids fill the destination; the listener drops the third.
  CHECK(predict_source(classifiers::qemu_11_1, s, like(s, 2)).fate == fate::started);
  // Ahead of the good ids, id 2 is refused on 11.1 and crashes 7.2.
  const auto at = [&](const table& t) {
    std::vector<arrival<cd>> in{{true, int(channel_kind::main), int(transport::socket), int(first_bytes::vm_file_magic),
                                 1},
                                {true, int(channel_kind::multifd), int(transport::socket),
                                 int(first_bytes::multifd_magic), 1, int(init_packet::id_at_count)}};
    auto after_main = fresh_state<cd>();
    return predict(t, like(s, 2), after_main, in);
  };
  const auto eleven = at(classifiers::qemu_11_1);
  CHECK(eleven.fate == fate::exited);
  REQUIRE(eleven.printed.size() == 1);
  CHECK(eleven.printed[0] ==
        "failed to receive packet via multifd channel 0: multifd: received channel id 2 exceeds channel count 2");
  CHECK(at(classifiers::qemu_7_2).fate == fate::crashed);
}

TEST_CASE("a garbage first connection: 7.2 takes it as main, 11.1 exits, 11.1 without exit-on-error fails") {
  const std::vector<arrival<cd>> garbage{
      {true, int(channel_kind::main), int(transport::socket), int(first_bytes::other), 1}};
  dest_config<cd> d{false, false, false, false, 1, true};
  CHECK(predict(classifiers::qemu_7_2, d, fresh_state<cd>(), garbage).steps[0].out.then == int(verdict::main));
  const auto exits = predict(classifiers::qemu_11_1, d, fresh_state<cd>(), garbage);
  CHECK(exits.fate == fate::exited);
  CHECK(exits.printed == std::vector<std::string>{"unknown channel magic: 1195725856"});
  d.exit_on_error = false;
  CHECK(predict(classifiers::qemu_11_1, d, fresh_state<cd>(), garbage).fate == fate::failed);
}

TEST_CASE("an early preempt channel races the multifd channels: every place after main is an order") {
  // migration/migration.c:4270 and :4286 at v7.2.0 kick the preempt connect, then the multifd
  // connects, each through socket_send_channel_create() (migration/socket.c:35) into a thread
  // of its own (qio_task_run_in_thread(), io/channel-socket.c:209): accepted as M,P,F,F mostly,
  // M,F,P,F sometimes.
  const auto s = source(true, true, true, 2, sender_gen::early_preempt, true);
  const auto orders = source_orders(s, like(s, 2));
  REQUIRE(orders.size() == 3);
  CHECK(orders[0].size() == source_order(s, like(s, 2)).size());
  for (std::size_t i = 0; i < orders.size(); ++i) {
    CAPTURE(i);
    CHECK(orders[i][0].kind == int(channel_kind::main));
    CHECK(orders[i][i + 1].kind == int(channel_kind::preempt));
  }
  // A 7.2 destination reads the preempt channel as multifd and blocks, unless it comes last:
  // then every multifd channel is in and the listener turns it away.
  const auto p = predict_sources(classifiers::qemu_7_2, s, like(s, 2));
  REQUIRE(p.size() == 3);
  CHECK(p[0].fate == fate::hung);
  CHECK(p[1].fate == fate::hung);
  CHECK(p[2].fate == fate::started);
  CHECK(p[2].printed.back() == "socket_accept_incoming_migration: Extra incoming migration connection; ignoring");
  // A postponed channel comes after the PONG, long after the multifd channels: one order.
  CHECK(source_orders(source(true, true, true, 2, sender_gen::postponed_preempt, true), like(s, 2)).size() == 1);
}
