// What no classifier can do without an assumption: the minimal sets of named
// assumptions under which SOME table keeps a set of properties
// (proofs/synth.h), searched over every set of assumptions.
#pragma once

#include <string>
#include <vector>

#include "proofs/synth.h"

namespace migchan::proofs {

struct limit {
  std::vector<unsigned> minimal_sets;  // some table keeps the properties under each, none under a smaller one
  std::vector<unsigned> impossible;    // the largest sets found under which no table does
  unsigned solves = 0;
  double seconds = 0, slowest = 0;     // in all, and the slowest single question
  std::string unknown;                 // non-empty when Z3 gave up on some set: its reason
};

// Smallest sets first; a set holding prunes its supersets, a set failing its subsets.
limit minimal_sets(synthesizer& s);

}  // namespace migchan::proofs
