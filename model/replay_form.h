// The replay form: a trace's arrivals as `migchan replay`, `serve --trace` and
// `proxy --order` read them, and as verify, check and synth write each
// counterexample beside its ITF (*.replay.json). One JSON object:
//   {"classifier": "qemu-7.2",
//    "config": {"multifd": true, "postcopy_ram": false, "postcopy_preempt": false,
//               "mapped_ram": false, "channels": 2, "exit_on_error": true, "transport": "socket",
//               "recovery": false},
//    "arrivals": [{"kind": "multifd", "magic": "multifd_magic", "init": "good", "count": 1,
//                  "gap_ms": 20, "expect": {"decision": "main", "rule": "first.main", "cause": "rule"}}, ...]}
// Only "arrivals[].kind" is required per arrival; "magic" defaults to what the kind
// sends, "init" (what a MultiFDInit_t says: model/channel.h init_packet) to good,
// "count" to 1 (k channels back to back), "gap_ms" to the replayer's --gap, "end" (stay,
// close or reset once the first bytes are out) to what "magic" and "init" say: close for eof
// and a truncated_eof MultiFDInit_t, reset for reset, else stay. A proof
// adds "property" (the one the trace breaks) and "source_config" (the sender's side).
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/destination.h"

namespace migchan {

struct replay_expect {
  verdict decision = verdict::main;
  std::optional<std::string> rule;  // nullopt: no rule (cause other than rule, or no match)
  migchan::cause why = cause::rule;
};

// How a replayed channel ends once its first bytes are out.
enum class replay_end : std::uint8_t { stay, close, reset };
template <> struct enum_traits<replay_end> {
  static constexpr auto names = make_names("stay", "close", "reset");
  static constexpr std::size_t size = names.size();
};

struct replay_arrival {
  channel_kind kind = channel_kind::main;
  first_bytes magic = first_bytes::vm_file_magic;
  init_packet init = init_packet::good;
  int count = 1;
  std::optional<int> gap_ms;
  std::optional<replay_end> end;  // nullopt: as magic and init say
  std::optional<replay_expect> expect;
};

// "source_config": what the source had, beside the destination's "config".
struct replay_source {
  bool multifd = false, postcopy_ram = false, postcopy_preempt = false;
  int channels = multifd_channels_default;
};

struct replay_trace {
  std::string classifier;
  std::optional<std::string> property;  // "property": the one a proof's trace breaks
  dest_config<concrete_domain> config{false, false, false, false, multifd_channels_default};
  migchan::transport transport = transport::socket;
  bool recovery = false;
  std::optional<replay_source> source;
  std::vector<replay_arrival> arrivals;
};

// One line naming the problem and where: "arrivals[1].kind: 'foo' is not one of
// main, multifd, preempt" (load_replay_trace() puts the file in front).
struct trace_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

replay_trace parse_replay_trace(const nlohmann::json& j);
nlohmann::json to_json(const replay_trace& t);

}  // namespace migchan
