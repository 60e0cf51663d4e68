// libFuzzer target for the replay form's reader (impl/runtime/replay.h), what `migchan
// replay`, `serve --trace` and `proxy --order` read: any text ends in a trace or a
// one-line trace_error naming the place; a trace read back from what to_json()
// writes is the same, and expand() either gives its channels or a one-line error.
//
//   ninja -C build-fuzz fuzz && build-fuzz/bench/fuzz_replay_trace -max_total_time=60
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "impl/runtime/replay.h"

using namespace migchan;

namespace {

bool one_line(std::string_view s) { return !s.empty() && s.find('\n') == std::string_view::npos; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    return 0;  // load_replay_trace() names the file and nlohmann's message
  }
  replay_trace t;
  try {
    t = parse_replay_trace(j);
  } catch (const trace_error& e) {
    if (!one_line(e.what())) __builtin_trap();
    return 0;
  }
  const auto again = parse_replay_trace(nlohmann::json(to_json(t)));
  if (nlohmann::json(to_json(again)) != nlohmann::json(to_json(t))) __builtin_trap();
  try {
    std::size_t ids = 0;
    for (const auto& c : expand(t, {}, 0)) {
      if (c.arrival >= t.arrivals.size()) __builtin_trap();
      ids += c.multifd_id.has_value();
    }
    (void)ids;
  } catch (const trace_error& e) {
    if (!one_line(e.what())) __builtin_trap();
  }
  return 0;
}
