// migchan: one executable, one subcommand per job.
#include "impl/cli/cli.h"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string_view>
#include <vector>

#include "impl/cli/cli_doc.h"

namespace migchan::cli {

namespace {

// Edit distance (adjacent swaps count one), for "did you mean".
std::size_t distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i)
    for (std::size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

}  // namespace

std::optional<std::string> closest(std::string_view word, const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  std::size_t best_d = 0;
  for (const auto& c : candidates) {
    // A prefix of a longer name ("ver" for verify) is as good as one typo.
    const auto d = c.starts_with(word) && word.size() >= 2 ? 1 : distance(word, c);
    if (d <= std::max<std::size_t>(1, std::min<std::size_t>(2, word.size() / 3)) && (!best || d < best_d))
      best = c, best_d = d;
  }
  return best;
}

std::string unknown_word(const std::string& what, const std::string& word, const std::vector<std::string>& known) {
  std::string s = "unknown " + what + " '" + word + "'";
  if (auto c = closest(word, known)) return s + "; did you mean '" + *c + "'?";
  return s + " (one of: " + join(known) + ")";
}

CLI::Option* one_of(CLI::Option* o, std::vector<std::string> choices) {
  return o->check(CLI::Validator(
      [choices](std::string& v) -> std::string {
        if (std::find(choices.begin(), choices.end(), v) != choices.end()) return {};
        return "bad value '" + v + "' (one of: " + join(choices) + ")";
      },
      ""));
}

std::vector<std::string> subcommand_names(const CLI::App& app) {
  std::vector<std::string> out;
  for (const auto* s : const_cast<CLI::App&>(app).get_subcommands({})) out.push_back(s->get_name());
  return out;
}

namespace {

std::vector<std::string> long_names(CLI::App& sub) {
  std::vector<std::string> out;
  for (const auto* o : sub.get_options())
    for (const auto& l : o->get_lnames()) out.push_back("--" + l);
  return out;
}

// CLI11 says "The following argument was not expected: --max-chanels"; name the
// subcommand and the option meant when there is one close enough.
std::optional<std::string> explain_extra(CLI::App& app, int argc, char** argv) {
  CLI::App* sub = nullptr;
  for (int i = 1; i < argc && !sub; ++i)
    for (auto* s : app.get_subcommands({}))
      if (s->get_name() == argv[i]) sub = s;
  if (!sub) return std::nullopt;
  const auto known = long_names(*sub);
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (!a.starts_with("--")) continue;
    a = a.substr(0, a.find('='));
    if (std::find(known.begin(), known.end(), a) != known.end()) continue;
    return sub->get_name() + ": " + unknown_word("option", a, known);
  }
  return std::nullopt;
}

// `migchan help [SUBCOMMAND|TOPIC]`.
int help(CLI::App& app, int argc, char** argv) {
  if (argc < 3) {
    std::cout << app.help();
    return exit_ok;
  }
  const std::string what = argv[2];
  if (argc > 3) {
    std::fprintf(stderr, "migchan: help takes one subcommand or topic, not '%s'\n", argv[3]);
    return exit_bad_input;
  }
  for (auto* s : app.get_subcommands({}))
    if (s->get_name() == what) {
      std::cout << s->help();
      return exit_ok;
    }
  for (const auto& t : help_topics)
    if (what == t.name) {
      std::cout << t.text(app);
      return exit_ok;
    }
  auto known = subcommand_names(app);
  for (const auto& t : help_topics) known.emplace_back(t.name);
  std::fprintf(stderr, "migchan: %s\n", unknown_word("subcommand or topic", what, known).c_str());
  return exit_bad_input;
}

}  // namespace

}  // namespace migchan::cli

int main(int argc, char** argv) {
  using namespace migchan::cli;
  CLI::App app{"migchan: model, prove and run QEMU's migration channel discovery", "migchan"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("migchan ") + MIGCHAN_VERSION);
  app.footer(
      "`migchan help SUBCOMMAND` shows a subcommand's options; `migchan help exit-codes` what each exit "
      "code means.");
  std::vector<std::pair<CLI::App*, action>> cmds;
  const auto add = [&](auto fn) {
    const auto before = app.get_subcommands({}).size();
    auto act = fn(app);
    cmds.emplace_back(app.get_subcommands({}).at(before), std::move(act));
  };
  add(add_show);
  add(add_classify);
  add(add_verify);
  add(add_serve);
  add(add_replay);
  add(add_proxy);
  add(add_check);
  add(add_diff);
  add(add_history);
  add(add_conform);
  add(add_synth);
  add_exit_footers(app);
  if (argc >= 2 && std::string_view(argv[1]) == "help") return help(app, argc, argv);
  // A word where the subcommand goes that names none: say which one was meant.
  if (argc >= 2 && argv[1][0] != '-') {
    const auto known = subcommand_names(app);
    if (std::find(known.begin(), known.end(), argv[1]) == known.end()) {
      std::fprintf(stderr, "migchan: %s\n", unknown_word("subcommand", argv[1], known).c_str());
      return exit_bad_input;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ExtrasError& e) {
    const auto better = explain_extra(app, argc, argv);
    std::fprintf(stderr, "migchan: %s\n", better ? better->c_str() : e.what());
    return exit_bad_input;
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "migchan: %s\n", e.what());
    return exit_bad_input;
  }
  try {
    for (auto& [sub, act] : cmds)
      if (sub->parsed()) return act();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "migchan: %s\n", e.what());
    return exit_bad_input;
  }
  return exit_bad_input;
}
