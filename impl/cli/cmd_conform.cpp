// `migchan conform --qemu PATH [--qemu PATH ...] [--source PATH --destination PATH]
// [--scenario NAME ...] [--classifier C] [--format text|json|markdown] [--list]`: the model's
// predictions against real QEMUs (impl/conform/conform.h). Exit 0 when every scenario agrees (a
// configuration refused by both the model and QEMU agrees), 1 when one disagrees, 2 for bad input.
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <iostream>
#include <memory>

#include "impl/cli/classifier_arg.h"
#include "impl/cli/cli.h"
#include "impl/conform/conform.h"
#include "impl/conform/conform_report.h"
#include "model/builtin.h"

namespace migchan::cli {

namespace {

conform::binary binary_or_throw(const std::string& path, const char* option) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (path.empty() || !fs::is_regular_file(path, ec) || ::access(path.c_str(), X_OK) != 0)
    throw usage_error(std::string(option) + " '" + path + "' is not an executable file");
  const auto v = qemu::qemu_version(path);
  if (!v) throw usage_error(std::string(option) + " '" + path + "' is not QEMU (no version in its --version output)");
  if (!conform::classifier_for(*v))
    throw usage_error(std::string(option) + " '" + path + "' is QEMU " + qemu::to_string(*v) +
                      ", older than any built-in classifier (7.2)");
  return {path, *v};
}

// Each QEMU on its own, then every pair of two versions both ways; then --source/--destination.
std::vector<conform::target> targets_of(const std::vector<conform::binary>& qemus,
                                        const std::optional<std::pair<conform::binary, conform::binary>>& pair,
                                        const table* classifier) {
  std::vector<conform::target> out;
  for (const auto& q : qemus) out.push_back(conform::make_target(q, q, classifier));
  for (const auto& a : qemus)
    for (const auto& b : qemus)
      if (a.version < b.version) {
        out.push_back(conform::make_target(a, b, classifier));
        out.push_back(conform::make_target(b, a, classifier));
      }
  if (pair) out.push_back(conform::make_target(pair->first, pair->second, classifier));
  return out;
}

}  // namespace

action add_conform(CLI::App& app) {
  auto* sub = app.add_subcommand("conform",
                                 "run scenarios against real QEMUs and compare each outcome with the "
                                 "model's prediction");
  struct args {
    std::vector<std::string> qemus, scenarios;
    std::string source, destination, classifier, format = "text";
    bool list = false;
  };
  auto a = std::make_shared<args>();
  sub->add_option("--qemu", a->qemus, "a qemu-system-x86_64 to test (repeatable; two versions add the pairs)");
  sub->add_option("--source", a->source, "with --destination: one pair across versions");
  sub->add_option("--destination", a->destination, "with --source: one pair across versions");
  sub->add_option("--scenario", a->scenarios, "run only this scenario (repeatable; --list names them)");
  sub->add_option("--classifier", a->classifier, "the destination's table (default: the one for its version)");
  one_of(sub->add_option("--format", a->format, "text, json (one object per line) or markdown (docs/fidelity.md)"),
         {"text", "json", "markdown"});
  sub->add_flag("--list", a->list, "list the scenarios and exit");
  return [a]() -> int {
    if (a->list) {
      for (const auto& s : conform::catalogue())
        std::cout << s.name << "  (" << conform::name(s.how) << (s.by_default ? "" : ", not by default") << ") "
                  << s.summary << "\n";
      return 0;
    }
    if (a->source.empty() != a->destination.empty()) throw usage_error("--source and --destination go together");
    if (a->qemus.empty() && a->source.empty())
      throw usage_error("no QEMU given (--qemu PATH, or --source and --destination)");
    const table* classifier = a->classifier.empty() ? nullptr : &builtin_named(a->classifier, "classifier");
    std::vector<const conform::scenario*> chosen;
    for (const auto& n : a->scenarios) {
      const auto* s = conform::find_scenario(n);
      if (!s) throw usage_error("unknown scenario '" + n + "' (migchan conform --list names them)");
      chosen.push_back(s);
    }
    if (chosen.empty())
      for (const auto& s : conform::catalogue())
        if (s.by_default) chosen.push_back(&s);
    std::vector<conform::binary> qemus;
    for (const auto& q : a->qemus) qemus.push_back(binary_or_throw(q, "--qemu"));
    std::optional<std::pair<conform::binary, conform::binary>> pair;
    if (!a->source.empty())
      pair.emplace(binary_or_throw(a->source, "--source"), binary_or_throw(a->destination, "--destination"));
    std::vector<conform::target> targets;
    try {
      targets = targets_of(qemus, pair, classifier);
    } catch (const std::invalid_argument& e) {
      throw usage_error(e.what());
    }

    std::signal(SIGPIPE, SIG_IGN);
    std::error_code ec;
    const conform::options o{std::filesystem::read_symlink("/proc/self/exe", ec).string()};
    // Progress goes where the report does not: stderr when stdout carries JSON or the markdown page.
    std::ostream& progress = a->format == "text" ? std::cout : std::cerr;
    std::vector<conform::result> all;
    for (const auto& t : targets)
      for (const auto* s : chosen) {
        if (!conform::applies(t, *s)) continue;
        auto r = conform::run(o, t, *s);
        if (a->format == "json") std::cout << conform::to_json(r).dump() << std::endl;
        else conform::print_text(progress, r);
        all.push_back(std::move(r));
      }
    if (a->format == "json") std::cout << nlohmann::json{{"summary", conform::summary_json(all)}}.dump() << std::endl;
    else if (a->format == "markdown") std::cout << conform::fidelity_markdown(targets, all);
    progress << conform::totals(all) << "\n";
    bool disagree = false;
    for (const auto& r : all) disagree = disagree || r.verdict == conform::verdict_kind::disagree;
    return disagree ? 1 : 0;
  };
}

}  // namespace migchan::cli
