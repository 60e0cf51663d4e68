// conform: the model's predictions against a real QEMU (issue 5 §2-§4). Each scenario runs
// real QEMUs (impl/qemu) and the migchan executable (serve, replay, proxy, check) as children,
// killed by pid, and compares what the model predicts (step() on the scenario's arrivals, or a
// counterexample trace's `expect` entries and explanation) with what happened.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "impl/qemu/qemu_vm.h"

namespace migchan::conform {

struct options {
  std::string migchan;     // the migchan executable (serve, replay, proxy, check)
  std::string classifier;  // a built-in table name
};

enum class verdict_kind { agree, disagree, unsupported };
std::string_view name(verdict_kind v);

struct scenario_result {
  std::string name;
  std::string prediction;  // what the model says, one line
  std::string outcome;     // what the real QEMU did, one line
  verdict_kind verdict = verdict_kind::unsupported;
  double seconds = 0;
  // Details for tests: "decisions" (serve/proxy log decisions, in order), "predicted_decisions",
  // "source_status", "destination_status", "drained_bytes", "ram_transferred", "multifd_ids",
  // "expected_error", "stderr".
  nlohmann::json details = nlohmann::json::object();
};

// The built-in classifier for a QEMU version: 7.2.x qemu-7.2, 8.0-8.2 qemu-8.0, 9.0-10.0
// qemu-9.0, >= 10.1 qemu-10.1; nullopt before 7.2.
std::optional<std::string> classifier_for(const qemu::version& v);

// The real source (the binary qemu::find_qemu() names) into `migchan serve --classifier C`.
// caps: comma-separated migration capabilities, "" for precopy.
scenario_result run_serve(const options& o, const std::string& caps, int channels);

// The sound counterexample `migchan check --classifier C --caps multifd --transport socket
// --traces DIR` writes: its replay form and its natural order (main first) replayed against a
// real destination. When C has no such counterexample, both scenarios say so (unsupported).
struct counterexample {
  std::filesystem::path trace;    // DIR/C.sound.replay.json
  std::filesystem::path natural;  // the same arrivals, main first
  std::string expected_error;     // from DIR/C.sound.txt: the text after "-> reject: "
  nlohmann::json replay;          // the trace itself
  // C has no such counterexample: the trace is qemu-7.2's order (one multifd channel, then main)
  // without `expect`, and the prediction is step() of C on it (C's claim that this order is fine).
  bool synthesized = false;
};
// Runs check into `dir`; when C has no sound counterexample on multifd sockets, writes the
// multifd-first order as DIR/C.multifd-first.replay.json (synthesized). nullopt never happens
// today; kept for callers. Throws std::runtime_error when check fails to run.
std::optional<counterexample> make_counterexample(const options& o, const std::filesystem::path& dir);

scenario_result run_replay(const options& o, const std::optional<counterexample>& cx, bool natural);
scenario_result run_proxy(const options& o, const std::optional<counterexample>& cx, bool natural);

// Every scenario, in order; `work` holds the traces.
std::vector<scenario_result> run_all(const options& o, const std::filesystem::path& work);

}  // namespace migchan::conform
