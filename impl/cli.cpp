// migchan: one executable, one subcommand per job.
#include "impl/cli.h"

#include <cstdio>
#include <vector>

int main(int argc, char** argv) {
  using namespace migchan::cli;
  CLI::App app{"migchan: model, prove and run QEMU's migration channel discovery", "migchan"};
  app.require_subcommand(1);
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
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "migchan: %s\n", e.what());
    return 2;
  }
  try {
    for (auto& [sub, act] : cmds)
      if (sub->parsed()) return act();
  } catch (const usage_error& e) {
    std::fprintf(stderr, "migchan: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "migchan: %s\n", e.what());
    return 2;
  }
  return 2;
}
