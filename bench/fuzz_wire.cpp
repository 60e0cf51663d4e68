// libFuzzer target for what serve reads of a connection before it decides
// (impl/runtime/wire.h): the first bytes' class, a MultiFDInit_t decoded and judged, main's
// header. Any bytes end in an answer; a crash, a hang, a sanitizer report or an
// answer that contradicts another is a finding.
//
//   ninja -C build-fuzz fuzz && build-fuzz/bench/fuzz_wire -max_total_time=60
#include <cstddef>
#include <cstdint>
#include <set>

#include "impl/runtime/wire.h"

using namespace migchan;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // The first byte: how the peer stands, and how many multifd channels there are.
  const auto end = static_cast<peer_end>(data[0] % 3);
  const int channels = 1 + data[0] % 255;
  const byte_view b(data + 1, size - 1);

  // Every prefix of the bytes, as the peek sees them grow.
  for (std::size_t n = 0; n <= b.size() && n <= 16; ++n) {
    const auto c = classify_prefix(b.first(n), n == b.size() ? end : peer_end::open);
    if (c == first_bytes::silent) __builtin_trap();                      // only a timer tells silence
    if (!c && n == b.size() && end != peer_end::open) __builtin_trap();  // an end decides
    if (!c) (void)classify_silence(b.first(n));
  }

  if (const auto m = decode_multifd_init(b)) {
    if (b.size() < multifd_init_size) __builtin_trap();
    std::set<int> registered;
    for (std::size_t i = multifd_init_size; i < b.size() && i < multifd_init_size + 8; ++i) registered.insert(b[i]);
    const auto j = judge_init(*m, {}, channels, registered);
    // What encode writes decodes to itself and is judged good at a fresh destination.
    const auto again = decode_multifd_init(encode_multifd_init(m->uuid, m->id));
    if (!again || again->uuid != m->uuid || again->id != m->id) __builtin_trap();
    if (m->id < channels && judge_init(*again, m->uuid, channels, {}) != init_packet::good) __builtin_trap();
    (void)j;
  } else if (b.size() >= multifd_init_size) {
    __builtin_trap();
  }

  if (const auto h = parse_main_header(b)) {
    if (h->machine && h->machine->size() > b.size()) __builtin_trap();
  }
  return 0;
}
