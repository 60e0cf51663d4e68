// One run of the proofs over some tables (`verify`, and `check` on a built-in
// or a table read from C), and the pieces of its reports both commands print.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "impl/cli.h"
#include "proofs/single.h"
#include "proofs/verify.h"

namespace migchan::cli {

struct common_args {
  std::string classifier, assume, format = "text", traces, caps, transport;
  bool all = false, assume_none = false, explain = false;
  int max_channels = 255;
};

void add_common(CLI::App* sub, common_args& a);

struct run_result {
  std::vector<proofs::classifier_result> results;
  std::vector<proofs::single_result> single;  // beside results, same order
  bool from_c = false;                        // tables read from C: no expectation applies
  unsigned assumed = 0;
  double seconds = 0;
  bool restricted = false;                    // to some capabilities or a transport
};

// Checks a's options (throws usage_error), then every property of every table.
run_result run(const common_args& a, const std::vector<const table*>& tables, bool from_c);

nlohmann::json to_json(const run_result& r);
nlohmann::json names_json(unsigned mask);                       // ["main-connects-first", ...]
std::string sets_text(const std::vector<unsigned>& sets);       // "under {a} or {b, c}"
std::string blockers_text(const table& t, const proofs::dead_rule& d);

}  // namespace migchan::cli
