// The semantic difference of two tables, built-in or read from C.
//
// Single arrival: the observations on which the two decide differently, as
// regions (conjunctions over the guard columns), each labelled with the row of
// each side that decides all of it and a witness. A region is grown from a
// witness Z3 finds where classify<smt::domain> of the two disagrees, column by
// column for as long as every observation in it keeps the same pair of rows;
// then it is blocked and Z3 looks again. An observation one side refuses (its
// QEMU version does not accept the configuration) and the other decides is a
// difference too.
//
// Sequences: the same symbolic arrivals run through step() of each table, as
// proofs/encode.cpp does for one; Z3 finds the fewest channels after which the
// final assignments (model/properties.h assignment_of) differ: first with the
// same configuration on both sides, and only if there is none, with source and
// destination configured differently (as mismatch-rejected considers). When no
// region differs and the code around the classifier (table.sem) is the same,
// step() reads the two tables only through verdicts that agree everywhere, so
// it is one function and no sequence can diverge: Z3 is not asked unless
// diff_options.always_search_sequences.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "model/properties.h"

namespace migchan::proofs {

inline constexpr int refused = -1;  // a side's "row" for an observation it does not accept

struct region {
  guard where;           // every valid observation here is decided by rule_a and rule_b
  int rule_a = refused;  // row index of a, or `refused`
  int rule_b = refused;
  observation witness;
};

struct divergence {
  sender_config<concrete_domain> config;
  dest_config<concrete_domain> dest;
  bool mismatched = false;                        // source and destination configurations differ
  std::vector<trace_step<concrete_domain>> a, b;  // the same arrivals through each table
  unsigned arrivals = 0;                          // channels, runs counted in full
};

struct diff_options {
  unsigned assumed = 0;  // bit mask over enum assumption: sequences must satisfy these
  int max_channels = multifd_channels_max;
  int events = 6;  // symbolic runs of channels per sequence
  std::size_t max_regions = 64;
  bool always_search_sequences = false;
  std::optional<unsigned> timeout_ms = 20000;  // per query
};

struct diff_result {
  std::vector<region> regions;
  bool truncated = false;              // more regions than max_regions
  std::optional<divergence> sequence;  // shortest
  std::string unknown;                 // non-empty when Z3 gave up: query and reason
  double seconds = 0;

  bool equivalent() const { return regions.empty() && !sequence && !truncated; }
};

diff_result diff(const table& a, const table& b, const diff_options& o = {});

// The verdict a side gives an observation: its row's, or nullopt if refused.
std::optional<verdict> decide(const table& t, const observation& o);

}  // namespace migchan::proofs
