// conform: the model's predictions against real QEMUs. A target names the binaries on both
// sides, the machine type, the destination's table and the source's sender generation; a
// scenario names a configuration and how its channels come (a real source, a real source into
// `migchan serve`, `migchan replay`, a real source through `migchan proxy --order`). The
// prediction is model/predict.h over the destination's table, the outcome what the processes
// did, watched with deadlines (impl/qemu/outcome.h); every child is killed by pid.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "impl/qemu/installed.h"
#include "impl/runtime/replay.h"
#include "model/predict.h"

namespace migchan::conform {

// The built-in table of a QEMU release: 7.2.x qemu-7.2, 8.0 qemu-8.0, 8.1-8.2 qemu-8.1, 9.x
// qemu-9.0, 10.0 qemu-10.0, 10.1-11.0 qemu-10.1, >= 11.1 qemu-11.1; nullptr before 7.2.
const table* classifier_for(const qemu::version& v);

// When a source of this release opens its postcopy-preempt channel on this machine type
// ("pc-i440fx-7.2"; "pc" is the binary's newest): 7.2 at migration start; from 8.0 (5655aab0)
// after the first PONG, except on machine types <= 7.2, whose hw_compat_7_2 sets
// x-preempt-pre-7-2 (hw/core/machine.c:95 at v10.0.13).
sender_gen sender_for(const qemu::version& v, const std::string& machine);

struct binary {
  std::string path;
  qemu::version version{};
};

// Who runs what. The same binary on both sides, or a pair across versions on the older one's
// machine type.
struct target {
  binary source, destination;
  std::string machine = "pc";         // -M on both sides
  const table* classifier = nullptr;  // the destination's
  std::string label() const;          // "7.2", "7.2 -> 11.1"
  bool cross() const { return source.version != destination.version; }
};
// classifier_for() the destination; `classifier` overrides it. Throws std::invalid_argument for
// a release older than any table.
target make_target(const binary& source, const binary& destination, const table* classifier = nullptr);

enum class family : std::uint8_t { real, serve, replay, proxy };
std::string_view name(family f);

struct scenario {
  std::string name;  // "multifd-2", "replay-partial"
  family how = family::real;
  std::string summary;  // one line: what runs
  // Capabilities on both sides; channels is the destination's multifd-channels.
  bool multifd = false, postcopy_ram = false, postcopy_preempt = false, mapped_ram = false;
  int channels = 2;
  std::optional<int> source_channels;                // when the source's differs
  migchan::transport transport = transport::socket;  // socket, tls (PSK) or file
  bool switched = false;                             // migrate-start-postcopy right after migrate
  bool recovery = false;                             // then migrate-pause, migrate-recover, migrate resume
  bool cancel = false;                               // migrate_cancel once the destination is active
  std::optional<bool> exit_on_error;                 // migrate-incoming's; nullopt: QEMU's default
  std::optional<std::string> machine;                // -M on both sides instead of the target's
  std::vector<replay_arrival> arrivals;              // replay and proxy: the channels, in order
  bool across_versions = true;                       // also for a cross-version target (replay: never)
  bool to_older = true;                              // also from a newer source to an older destination
  bool early_sender = true;                          // also where the source opens its preempt channel at start
  // Only where the source writes main after its multifd connects (9.0+) and the destination
  // peeks main (8.0+, 6720c2b3): elsewhere main is taken by order and the surplus ids race.
  bool waiting_pair_only = false;
  bool by_default = true;    // in the default set (else only by --scenario)
  bool source_ends = false;  // a real source: wait for it to end, though the destination does not start
  bool tcp = false;          // a real source over TCP on 127.0.0.1 (socket buffers of its size)
};

// Every scenario, in the order they run.
const std::vector<scenario>& catalogue();
const scenario* find_scenario(const std::string& name);
// A replay-form trace as a replay scenario: its configuration and arrivals.
scenario scenario_of(const replay_trace& t, const std::string& name);

enum class verdict_kind { agree, disagree, refused };  // refused: by the model and by QEMU
std::string_view name(verdict_kind v);

struct result {
  std::string target;  // target::label()
  std::string scenario;
  family how = family::real;
  std::string classifier;
  std::string prediction;  // one line
  std::string outcome;     // one line
  std::string fate;        // the model's (fate name), or "refused"
  verdict_kind verdict = verdict_kind::disagree;
  std::string why;  // for a disagreement: what differs
  double seconds = 0;
  nlohmann::json details = nlohmann::json::object();  // predicted lines, stderr, statuses, logs
};
nlohmann::json to_json(const result& r);

struct options {
  std::string migchan;  // the executable run as serve, replay, proxy
};

// One scenario on one target. Never throws for what QEMU does; a harness failure (a QEMU that
// does not start) is a disagreement with the reason.
result run(const options& o, const target& t, const scenario& s);

// Whether the scenario runs on this target at all (replay needs no source: not across versions).
bool applies(const target& t, const scenario& s);

}  // namespace migchan::conform
