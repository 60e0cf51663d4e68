// Subcommands register themselves on the CLI11 app; main() dispatches.
#pragma once

#include <CLI/CLI.hpp>
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace migchan {
enum class transport : std::uint8_t;
struct table;
}  // namespace migchan

namespace migchan::cli {

// Bad input: printed as "migchan: <what>", exit code 2.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Every subcommand's exit code means one of these (`migchan help exit-codes`).
enum exit_code : int {
  exit_ok = 0,         // proved, as expected, agree: nothing to report
  exit_finding = 1,    // refuted, unexpected, mismatch, disagree
  exit_bad_input = 2,  // bad input or an I/O error: one line on stderr
  exit_unknown = 3,    // Z3 answered unknown, nothing else
};

using action = std::function<int()>;  // returns the exit code

// "a, b, c": the names of an enum's values, for "one of: ..." messages.
template <class Names> std::string join(const Names& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

// "unknown subcommand 'shwo'; did you mean 'show'?", else "(one of: ...)".
std::string unknown_word(const std::string& what, const std::string& word, const std::vector<std::string>& known);
std::optional<std::string> closest(std::string_view word, const std::vector<std::string>& candidates);

action add_show(CLI::App& app);
action add_classify(CLI::App& app);
action add_verify(CLI::App& app);
action add_serve(CLI::App& app);  // cmd_runtime.cpp
action add_replay(CLI::App& app);
action add_proxy(CLI::App& app);
action add_check(CLI::App& app);    // cmd_check.cpp
action add_diff(CLI::App& app);     // cmd_diff.cpp
action add_history(CLI::App& app);  // cmd_history.cpp
action add_conform(CLI::App& app);  // cmd_conform.cpp
action add_synth(CLI::App& app);    // cmd_synth.cpp

// An option's choices, checked by CLI11 as it parses ("--format: bad value 'yaml'
// (one of: text, json)", exit 2); the help text stays the option's own.
CLI::Option* one_of(CLI::Option* o, std::vector<std::string> choices);

// Shared by verify, check and diff (cmd_verify.cpp). Each throws usage_error on
// bad input.
unsigned parse_assumptions(const std::string& comma_separated);
std::array<bool, 4> parse_cap_set(const std::string& comma_separated);  // impl/runtime/caps.h names them
transport parse_transport(const std::string& name);
// --max-channels as verify, check, diff, history and synth take it, and its range check.
void add_max_channels(CLI::App* sub, int& max_channels);
void check_max_channels(int max_channels);

}  // namespace migchan::cli
