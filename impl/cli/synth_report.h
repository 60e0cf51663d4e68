// What `migchan synth` prints about its answers, shared by the command and by
// the page it generates (docs/limits.md: `migchan synth --limits --format
// markdown`).
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include "proofs/synth.h"

namespace migchan::cli {

// "main or multifd": the verdicts in a bit mask.
std::string verdict_set(std::uint16_t m);
// An observation as the destination has it; without the first bytes where it cannot see them.
std::string observation_text(const observation& o, bool bytes_seen);
// A witness behaviour through its table, as proofs/trace.h words a counterexample.
std::string witness_text(const proofs::witness_run& w);

// docs/limits.md, computed in full. Returns 1 when what it derives differs
// from model/optimal.h or from `migchan verify`, else 0.
int print_limits_page(std::ostream& os, const table& base);

}  // namespace migchan::cli
