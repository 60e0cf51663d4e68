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
  double seconds = 0, slowest = 0;  // in all, and the slowest single question
  std::string unknown;              // non-empty when Z3 gave up on some set: its reason
};

// Smallest sets first; a set holding prunes its supersets, a set failing its
// subsets. Assumptions that hold on every trace of the question are left out,
// and of those that say the same there (tls-main-first and
// main-connects-first on TLS) only one is asked about.
limit minimal_sets(synthesizer& s);

// Set algebra over minimal sets (bit masks over enum assumption):
std::vector<unsigned> minimal(std::vector<unsigned> sets);  // the minimal ones, smallest first
// Where two properties hold together: the minimal unions of one set of each.
std::vector<unsigned> both(const std::vector<unsigned>& a, const std::vector<unsigned>& b);
// The sets of `best` under which a table that holds under `reached` does not.
std::vector<unsigned> missed(const std::vector<unsigned>& reached, const std::vector<unsigned>& best);

}  // namespace migchan::proofs
