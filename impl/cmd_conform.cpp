// `migchan conform --qemu PATH [--classifier C]`: the model's predictions against a real QEMU
// (impl/conform.h). Exit 0 when every scenario agrees, 1 when any disagrees, 2 for bad input.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>

#include "impl/cli.h"
#include "impl/conform.h"
#include "impl/qemu/temp_dir.h"
#include "model/builtin.h"

namespace migchan::cli {

action add_conform(CLI::App& app) {
  auto* sub = app.add_subcommand("conform", "run serve/replay/proxy scenarios against a real QEMU binary and "
                                            "compare each outcome with the model's prediction");
  struct args {
    std::string qemu, classifier;
  };
  auto a = std::make_shared<args>();
  sub->add_option("--qemu", a->qemu, "the qemu-system-x86_64 binary to test")->required();
  sub->add_option("--classifier", a->classifier, "built-in classifier (default: the one matching --version)");
  return [a]() -> int {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (a->qemu.empty() || !fs::is_regular_file(a->qemu, ec) || ::access(a->qemu.c_str(), X_OK) != 0)
      throw usage_error("--qemu '" + a->qemu + "' is not an executable file");
    const auto v = qemu::qemu_version(a->qemu);
    if (!v) throw usage_error("--qemu '" + a->qemu + "' is not QEMU (no version in its --version output)");
    std::string classifier = a->classifier;
    const std::string ver = std::to_string((*v)[0]) + "." + std::to_string((*v)[1]) + "." + std::to_string((*v)[2]);
    if (classifier.empty()) {
      const auto c = conform::classifier_for(*v);
      if (!c) throw usage_error("QEMU " + ver + " is older than any built-in classifier (7.2); pass --classifier");
      classifier = *c;
      std::cout << "QEMU " << ver << ": classifier " << classifier << " (matches the version)\n";
    } else {
      if (!find_builtin(classifier)) throw usage_error("unknown classifier '" + classifier + "'");
      std::cout << "QEMU " << ver << ": classifier " << classifier << " (--classifier)\n";
    }
    ::setenv("MIGCHAN_QEMU", a->qemu.c_str(), 1);
    std::signal(SIGPIPE, SIG_IGN);
    conform::options o;
    o.migchan = fs::read_symlink("/proc/self/exe", ec).string();
    o.classifier = classifier;
    qemu::temp_dir work("migchan-conform-");
    int agree = 0, disagree = 0, unsupported = 0;
    std::vector<conform::scenario_result> results;
    try {
      results = conform::run_all(o, work.path());
    } catch (const std::exception& e) {
      std::cerr << "migchan conform: " << e.what() << "\n";
      return 1;
    }
    for (const auto& r : results) {
      std::cout << "\n" << r.name << ": " << conform::name(r.verdict) << " (" << r.seconds << " s)\n"
                << "  model:   " << r.prediction << "\n"
                << "  real:    " << r.outcome << "\n";
      if (r.details.value("detail_differs", false))
        std::cout << "  note:    QEMU read the misclassified channel as MultiFDInit_t as the model says, but the\n"
                     "           replayed main stream (34 bytes) is shorter than the 64 bytes it reads, so it\n"
                     "           saw end-of-file instead of the magic; the proxy scenario shows the full text\n";
      (r.verdict == conform::verdict_kind::agree      ? agree
       : r.verdict == conform::verdict_kind::disagree ? disagree
                                                      : unsupported)++;
    }
    std::cout << "\n" << agree << " agree, " << disagree << " disagree, " << unsupported << " not run\n";
    return disagree ? 1 : 0;
  };
}

}  // namespace migchan::cli
