// One run of the proofs over some tables (`verify`, and `check` on a built-in
// or a table read from C), and the pieces of its reports both commands print.
#pragma once

#include <array>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "impl/cli/cli.h"
#include "proofs/single.h"
#include "proofs/verify.h"

namespace migchan::cli {

struct common_args {
  std::string command;  // "verify", "check", ...: what wrote a trace (its #meta.source)
  std::string classifier, assume, format = "text", traces, caps, transport;
  bool all = false, assume_none = false, explain = false;
  int max_channels = multifd_channels_max;
};

// --classifier, --assume, --assume-none, --max-channels, --format, --traces, --caps, --transport.
void add_common(CLI::App* sub, common_args& a);

struct run_result {
  std::vector<proofs::classifier_result> results;
  std::vector<proofs::single_result> single;  // beside results, same order
  bool from_c = false;                        // tables read from C: no expectation applies
  unsigned assumed = 0;
  double seconds = 0;
  // The run's parameters, for its header and its JSON.
  std::string command;
  int max_channels = multifd_channels_max;
  std::optional<std::array<bool, 4>> caps;  // sources with exactly these (multifd, postcopy-ram, ...)
  std::optional<transport> uri;             // sources on this transport only
  // The expectations of model/expectations.h are recorded for every source and every multifd-channels.
  bool restricted() const { return caps || uri || max_channels != multifd_channels_max; }
};

// "multifd-channels 1..255", then the filters: "; sources with exactly {multifd}; transport socket".
std::string parameters_text(const run_result& r);

// What a classifier's run comes to: the single-arrival checks (exhaustive, no dead
// row, no implicit default) and the sequence properties, and the exit code.
struct tally {
  std::size_t total = 0, failed = 0;
  bool unknown = false;  // Z3 gave up somewhere
  int exit() const { return failed ? exit_finding : unknown ? exit_unknown : exit_ok; }
  // "qemu-7.2: 7 of 9 properties hold (0.52 s)"
  std::string line(std::string_view name, double seconds) const;
};
tally tally_of(const run_result& r, std::size_t i);

// Checks a's options (throws usage_error), then every property of every table.
run_result run(const common_args& a, const std::vector<const table*>& tables, bool from_c);

nlohmann::json to_json(const run_result& r);
nlohmann::json names_json(unsigned mask);                  // ["main-connects-first", ...]
std::string sets_text(const std::vector<unsigned>& sets);  // "under {a} or {b, c}"
std::string blockers_text(const table& t, const proofs::dead_rule& d);

}  // namespace migchan::cli
