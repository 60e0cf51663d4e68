// What the model says a scenario's destination does, in terms a run can show: the fate of
// model/predict.h, each channel's decision, and the lines QEMU prints (model/texts.h). Nothing
// is decided here: every step is step() of the destination's table.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "impl/conform/conform.h"

namespace migchan::conform {

// One way the run can go.
struct expected_run {
  migchan::fate fate = fate::started;
  std::vector<std::string> decisions;  // each channel's verdict, in arrival order
  std::vector<std::string> lines;      // what the destination prints on stderr, in order
  // crashed: what the garbage past the array may make it print instead of dying by SIGSEGV.
  std::optional<std::string> crash_line;
  // started: the channel taken as main carries a stream the destination loads to its end.
  // A replayed main that is not a stream (garbage, silence) starts a load that fails or waits.
  bool main_loads = true;
  std::string text() const;
};

struct expectation {
  std::optional<std::string> refused;  // the model refuses the configuration: why
  // One run per order the source can produce (model/predict.h source_orders()); one for a
  // replay or a proxy, whose order is the scenario's.
  std::vector<expected_run> runs;
  std::string fates() const;  // "hung", "hung / started"
  std::string text() const;   // one line
  nlohmann::json to_json() const;
};

// The sender generation the scenario's source has on the target (its machine type counts).
sender_gen sender_of(const target& t, const scenario& s);
std::string machine_of(const target& t, const scenario& s);

// The replay form of a scenario's arrivals for the target's destination.
replay_trace trace_of(const target& t, const scenario& s);

expectation expect(const target& t, const scenario& s);

}  // namespace migchan::conform
