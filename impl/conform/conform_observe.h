// What a run showed, and whether it is what the model predicted. A fate maps to what can be
// seen: started -> the destination went active and, with a stream to load, both sides
// completed; waiting -> setup, QMP alive; hung -> QMP dead (blocked or spinning), process
// alive; exited -> exit code 1; aborted -> SIGABRT; crashed -> SIGSEGV or the garbage's line;
// failed -> status failed, alive. Every predicted line must be on the destination's stderr.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "impl/conform/conform_expect.h"
#include "impl/qemu/outcome.h"

namespace migchan::conform {

struct observed {
  std::optional<std::string> refused;           // QEMU, or the harness for a binary that lacks it, refused
  std::optional<std::string> failure;           // a step of the run that did not go through (a wait that timed out)
  std::optional<qemu::vm_outcome> destination;  // the real destination's, at the end
  bool went_active = false;                     // the destination's migration reached active (or beyond)
  bool completed = false;                       // ... and completed
  std::string source_status;                    // the real source's last status; "" without one
  // serve: its decisions (wake-ups left out) and the destination state after the last one.
  std::optional<std::vector<std::string>> decisions;
  nlohmann::json serve_state;
  std::string stderr_text;   // the real destination's
  std::string text() const;  // one line
};

// Folds a watch() into what was seen so far (events, status, stderr).
void note(observed& o, const qemu::vm_outcome& w);

struct judgement {
  verdict_kind verdict = verdict_kind::disagree;
  std::string why;  // for a disagreement: what the first expected run lacks
};
// Agreement with any of the expected runs.
judgement judge(const expectation& e, const observed& o, const scenario& s);

}  // namespace migchan::conform
