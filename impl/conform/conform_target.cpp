// Which table and which sender generation stand for a QEMU release.
#include <cstdio>
#include <stdexcept>

#include "impl/conform/conform.h"
#include "model/builtin.h"

namespace migchan::conform {

const table* classifier_for(const qemu::version& v) {
  const int mm = v[0] * 100 + v[1];
  if (mm < 702) return nullptr;
  if (mm < 800) return &classifiers::qemu_7_2;
  if (mm < 801) return &classifiers::qemu_8_0;
  if (mm < 900) return &classifiers::qemu_8_1;
  if (mm < 1000) return &classifiers::qemu_9_0;
  if (mm < 1001) return &classifiers::qemu_10_0;
  if (mm < 1101) return &classifiers::qemu_10_1;
  return &classifiers::qemu_11_1;
}

namespace {

// "pc-i440fx-7.2" / "pc-q35-7.2" -> {7, 2}; nullopt for an alias such as "pc" (the newest).
std::optional<std::pair<int, int>> machine_version(const std::string& machine) {
  const auto dash = machine.rfind('-');
  if (dash == std::string::npos) return std::nullopt;
  int major = 0, minor = 0;
  if (std::sscanf(machine.c_str() + dash + 1, "%d.%d", &major, &minor) != 2) return std::nullopt;
  return std::pair{major, minor};
}

}  // namespace

sender_gen sender_for(const qemu::version& v, const std::string& machine) {
  const int release = v[0] * 100 + v[1];
  if (release < 800) return sender_gen::early_preempt;
  const auto m = machine_version(machine);
  const bool early = m && *m <= std::pair{7, 2};
  if (release < 900) return early ? sender_gen::early_preempt : sender_gen::postponed_preempt;
  return early ? sender_gen::early_preempt_multifd_first : sender_gen::postponed_preempt_multifd_first;
}

std::string target::label() const {
  const auto mm = [](const qemu::version& v) { return std::to_string(v[0]) + "." + std::to_string(v[1]); };
  return cross() ? mm(source.version) + " -> " + mm(destination.version) : mm(destination.version);
}

target make_target(const binary& source, const binary& destination, const table* classifier) {
  target t;
  t.source = source;
  t.destination = destination;
  // Across versions both sides run the older one's newest machine type: a destination refuses
  // a stream of another machine type, and the older one knows no newer type.
  if (t.cross()) {
    const auto& older = source.version < destination.version ? source.version : destination.version;
    t.machine = "pc-i440fx-" + std::to_string(older[0]) + "." + std::to_string(older[1]);
  }
  t.classifier = classifier ? classifier : classifier_for(destination.version);
  if (!t.classifier)
    throw std::invalid_argument("QEMU " + qemu::to_string(destination.version) +
                                " is older than any built-in classifier (7.2); pass --classifier");
  if (!classifier_for(source.version))
    throw std::invalid_argument("QEMU " + qemu::to_string(source.version) +
                                " is older than any built-in classifier (7.2)");
  return t;
}

}  // namespace migchan::conform
