// What each version prints, worded by model/texts.h from one step() each. The
// expected lines are QEMU's own: seen on the stderr of Debian's 7.2.22 and
// 11.1.3 destinations, or read from the format strings at the cited lines.
#include <doctest/doctest.h>

#include "model/builtin.h"
#include "model/texts.h"

using namespace migchan;
using cd = concrete_domain;

namespace {

struct one_step {
  const table& t;
  dest_config<cd> config;
  dest_state<cd> before = fresh_state<cd>();

  std::string text(first_bytes magic, init_packet init = init_packet::good, text_args args = {}) const {
    const arrival<cd> a{true, int(channel_kind::main), int(transport::socket), int(magic), 1, int(init)};
    const auto r = step<cd>(t, config, before, a);
    args.registered = before.multifd_count;
    args.channels = config.channels;
    return outcome_text(t, a, r, before, args);
  }
};

constexpr dest_config<cd> multifd2{true, false, false, false, 2};

dest_state<cd> with_main(int multifd) {
  auto s = fresh_state<cd>();
  s.has_main = true;
  s.multifd_count = multifd;
  return s;
}

}  // namespace

TEST_CASE("7.2: a main stream read as MultiFDInit_t, and its misworded id check") {
  const one_step s{classifiers::qemu_7_2, multifd2, with_main(0)};
  CHECK(s.text(first_bytes::vm_file_magic, init_packet::good, {.magic = qemu_vm_file_magic}) ==
        "failed to receive packet via multifd channel 0: multifd: received packet magic 5145564d expected 11223344");
  const one_step one_in{classifiers::qemu_7_2, multifd2, with_main(1)};
  // migration/multifd.c:228-230 at v7.2.0 prints version and MULTIFD_VERSION.
  CHECK(one_in.text(first_bytes::multifd_magic, init_packet::id_above_count, {.id = 5}) ==
        "failed to receive packet via multifd channel 1: multifd: received channel version 1 expected 1");
  CHECK(one_in.text(first_bytes::multifd_magic, init_packet::id_repeated, {.id = 0}) ==
        "multifd: received id '0' already setup'");
  CHECK(
      s.text(first_bytes::multifd_magic, init_packet::bad_uuid,
             {.uuid = "11111111-2222-3333-4444-555555555555", .id = 0}) ==
      "failed to receive packet via multifd channel 0: multifd: received uuid "
      "'11111111-2222-3333-4444-555555555555' and expected uuid '00000000-0000-0000-0000-000000000000' for channel 0");
  CHECK(s.text(first_bytes::eof) ==
        "failed to receive packet via multifd channel 0: Unexpected end-of-file before all data were read");
}

TEST_CASE("9.0-11.0 name the id; 11.1 refuses an id equal to the count") {
  const one_step ten{classifiers::qemu_10_1, multifd2, with_main(1)};
  CHECK(ten.text(first_bytes::multifd_magic, init_packet::id_above_count, {.id = 5}) ==
        "failed to receive packet via multifd channel 1: multifd: received channel id 5 is greater than number of "
        "channels 2");
  const one_step eleven{classifiers::qemu_11_1, multifd2, with_main(1)};
  CHECK(eleven.text(first_bytes::multifd_magic, init_packet::id_at_count, {.id = 2}) ==
        "failed to receive packet via multifd channel 1: multifd: received channel id 2 exceeds channel count 2");
  CHECK(eleven.text(first_bytes::multifd_magic, init_packet::id_above_count, {.id = 5}) ==
        "failed to receive packet via multifd channel 1: multifd: received channel id 5 exceeds channel count 2");
}

TEST_CASE("10.1+: what the peek says") {
  const one_step s{classifiers::qemu_11_1, multifd2};
  CHECK(s.text(first_bytes::other, init_packet::good, {.magic = 0x47455420}) == "unknown channel magic: 1195725856");
  CHECK(s.text(first_bytes::eof) == "Failed to peek at channel");
  CHECK(s.text(first_bytes::reset) == "Unable to read from socket: Connection reset by peer");
  CHECK(s.text(first_bytes::multifd_magic, init_packet::good) == "");  // taken: nothing printed
}

TEST_CASE("every channel after all of them is refused at accept, in every version") {
  for (const table* t : builtin_tables) {
    if (t->name == "reference") continue;
    CAPTURE(t->name);
    auto all = with_main(2);
    const one_step s{*t, multifd2, all};
    CHECK(s.text(first_bytes::other) ==
          "socket_accept_incoming_migration: Extra incoming migration connection; ignoring");
  }
}

TEST_CASE("qemu_format fills conversions in order, or by position") {
  CHECK(qemu_format("a %d b %u c %x d %s e %hhd", {"1", "2", "3", "4", "5"}) == "a 1 b 2 c 3 d 4 e 5");
  CHECK(qemu_format("%2$u then %1$u", {"x", "y"}) == "y then x");
  CHECK(qemu_format("100%% %u", {"7"}) == "100% 7");
  CHECK(qemu_format("%u %u", {"1"}) == "1 ?");
}
