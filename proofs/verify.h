// `migchan verify`'s engine. The brute-force oracle (every arrival order, N <= 5)
// proposes each property's minimal assumption sets and refutes the rest with
// concrete traces; Z3 then proves each proposed set for every N (multifd-channels) and
// finds the shortest counterexample. If Z3 finds a counterexample the oracle's
// small N missed, the Z3 subset search takes over for that property.
#pragma once

#include <optional>
#include <vector>

#include "model/check.h"
#include "proofs/encode.h"
#include "proofs/single.h"

namespace migchan::proofs {

struct property_result {
  property prop;
  bool refuted = false;                 // under the assumptions in force
  std::vector<unsigned> minimal_sets;   // each proved by Z3 for N <= max_channels
  std::optional<counterexample> trace;  // shortest, under the assumptions in force
  bool oracle_missed = false;           // Z3 refuted a set the oracle proposed
  std::string unknown;                  // non-empty when Z3 gave up: the reason
  double seconds = 0;
};

struct classifier_result {
  const table* t = nullptr;
  analysis single;
  std::vector<property_result> results;
  std::optional<single_result> arrivals;  // check_single(), when verify_options::single_arrival
  double seconds = 0;
};

struct verify_options {
  unsigned assumed = 0;  // bit mask over enum assumption
  int max_channels = multifd_channels_max;
  int oracle_channels = 4;  // N for the brute-force proposal
  query_options z3{};
  bool single_arrival = false;  // also check_single() each table, in its worker
};

classifier_result verify_table(const table& t, const verify_options& o);

// Several tables; with workers > 1, each in a child process (own Z3 context),
// `workers` at a time. Results in the order of `tables`, the same either way.
std::vector<classifier_result> verify_tables(const std::vector<const table*>& tables, const verify_options& o,
                                             unsigned workers = 2);

}  // namespace migchan::proofs
