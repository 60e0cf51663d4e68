// Single-arrival checks of any table, built-in or read from C, with Z3: one
// channel, one observation, over the observations the table's QEMU version
// accepts. Every query is built from the rows by classify<smt::domain>,
// matches<smt::domain> and valid<smt::domain>; nothing restates a rule.
// model/check.h does the same checks by enumeration at compile time; a test
// holds the two to the same answers.
//
//   exhaustive           every valid observation matches a row (else: a witness)
//   no-dead-rule         every row fires for some valid observation (else: the
//                        earlier rows that block it, a minimal set, Batfish-style)
//   no-implicit-default  no valid observation ends in a row an initializer decided
//   overlaps             rows with different decisions that match one observation
//                        (information: first match wins, so their order matters)
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "model/classify.h"
#include "proofs/smt.h"

namespace migchan::proofs {

struct dead_rule {
  std::size_t row;
  bool unmatchable = false;           // its guard alone matches no valid observation
  std::vector<std::size_t> blockers;  // earlier rows covering its guard; minimal: drop any one and it fires
};

struct implicit_default {
  std::size_t row;
  observation witness;  // a valid observation that ends in this row
};

struct overlap {
  std::size_t first, second;  // first < second: the first decides
  observation witness;        // matched by both
};

struct single_options {
  bool blockers = true;  // look for the minimal set of rows blocking each dead row
  bool overlaps = true;
  std::size_t max_overlap_rows = 128;          // overlaps cost a query per pair of rows: skipped above this
  std::optional<unsigned> timeout_ms = 20000;  // per query
};

struct single_result {
  std::optional<observation> gap;  // exhaustive fails: matched by no row
  std::vector<dead_rule> dead;     // in row order
  std::vector<implicit_default> implicit_defaults;
  std::vector<overlap> overlaps;
  bool overlaps_skipped = false;  // too many rows (single_options::max_overlap_rows)
  std::string unknown;            // non-empty when Z3 gave up on a query: its name and reason
  unsigned queries = 0;
  double seconds = 0;

  bool holds() const { return !gap && dead.empty() && implicit_defaults.empty() && unknown.empty(); }
};

single_result check_single(const table& t, const single_options& o = {});

// "peek.wait (patch.c:31)", or just the id for a row without an origin.
std::string where(const rule& r);
std::string where(const table& t, std::size_t row);  // "(no rule)" past the last row

// A fresh symbolic observation (variables named prefix + field) and its value
// in the solver's model; shared with proofs/diff.cpp.
basic_observation<smt::domain> observation_vars(const std::string& prefix);
observation read_observation(const smt::solver& z, const basic_observation<smt::domain>& o);
// After sat: a witness that keeps as many fields as it can at their plainest
// (capabilities off, socket, state setup, QEMU_VM_FILE_MAGIC), so what is left
// is what the finding needs. Costs one query per field; leaves z as it was.
observation typical_observation(smt::solver& z, const basic_observation<smt::domain>& o, const std::string& query,
                                std::optional<unsigned> timeout_ms);

}  // namespace migchan::proofs
