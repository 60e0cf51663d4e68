// libFuzzer target for main_stream_reader (impl/runtime/main_stream.h), the reader of
// main's savevm stream that serve follows to answer on the return path: any bytes,
// fed in any chunks, end in events, the end or one error, in bounded memory. The
// same bytes in other chunks give the same events.
//
//   ninja -C build-fuzz fuzz && build-fuzz/bench/fuzz_main_stream -max_total_time=60
#include <cstddef>
#include <cstdint>
#include <vector>

#include "impl/runtime/main_stream.h"

using namespace migchan;

namespace {

bool same(const std::vector<main_event>& a, const std::vector<main_event>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].what != b[i].what || a[i].offset != b[i].offset || a[i].cmd != b[i].cmd || a[i].value != b[i].value ||
        a[i].text != b[i].text || a[i].packaged != b[i].packaged)
      return false;
  return true;
}

std::vector<main_event> read(byte_view b, std::size_t chunk, bool resumed, bool& bounded) {
  main_stream_reader::options o;
  o.resumed = resumed;
  if (resumed) o.ram = ram_layout{2, {{"pc.ram", 1 << 20}}, 4096};
  main_stream_reader r(o);
  std::vector<main_event> out;
  for (std::size_t at = 0; at < b.size(); at += chunk) {
    const auto e = r.feed(b.subspan(at, std::min(chunk, b.size() - at)));
    out.insert(out.end(), e.begin(), e.end());
    bounded = bounded && r.buffered() <= main_stream_reader::buffer_max;
  }
  const auto e = r.close();
  out.insert(out.end(), e.begin(), e.end());
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool resumed = data[0] & 1;
  const std::size_t chunk = 1 + data[0] / 2;
  const byte_view b(data + 1, size - 1);
  bool bounded = true;
  const auto whole = read(b, b.size() + 1, resumed, bounded);
  const auto cut = read(b, chunk, resumed, bounded);
  if (!bounded || !same(whole, cut)) __builtin_trap();
  return 0;
}
