// What `migchan help TOPIC` prints besides a subcommand's help: the exit codes,
// the man page and the bash completion, all derived from the registered
// subcommands and their options, so that none of them can fall behind the CLI.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace migchan::cli {

struct help_topic {
  const char* name;
  const char* summary;
  std::string (*text)(CLI::App& app);
};

std::string exit_codes_text(CLI::App& app);  // the general meaning, then per subcommand
std::string man_page(CLI::App& app);         // migchan.1, roff
std::string bash_completion(CLI::App& app);  // for share/bash-completion/completions/migchan

inline constexpr help_topic help_topics[] = {
    {"exit-codes", "what each exit code means, per subcommand", exit_codes_text},
    {"man", "the manual page (roff), as `meson install` installs it", man_page},
    {"completion", "the bash completion script, as `meson install` installs it", bash_completion},
};

// Each subcommand's help ends with what its exit codes 0 and 1 mean.
void add_exit_footers(CLI::App& app);

}  // namespace migchan::cli
