#include "impl/qemu/outcome.h"

#include <signal.h>

#include <cstdio>
#include <stdexcept>

namespace migchan::qemu {

namespace {

// A main loop that polls in vain is runnable all the time (one thread), one that waits in a
// blocking read not at all. Runnable time counts the time it waits for a CPU too, so a loaded
// machine does not make a spinning loop look blocked (its CPU time alone then drops to 2/load).
constexpr double spinning_from = 0.25;

std::string cpu_text(double per_second) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", per_second);
  return std::string(buf) + " runnable s/s";
}

// Runnable time where the kernel keeps it, else CPU time.
std::optional<double> busy_seconds(const process& p) {
  if (auto r = p.runnable_seconds()) return r;
  return p.cpu_seconds();
}

}  // namespace

std::string vm_outcome::describe() const {
  switch (fate) {
    case vm_fate::exited: return "exited with code " + std::to_string(code);
    case vm_fate::killed:
      return "killed by signal " + std::to_string(code) +
             (code == SIGABRT   ? " (SIGABRT: a failed assertion)"
              : code == SIGSEGV ? " (SIGSEGV: a crash)"
              : code == SIGKILL ? " (SIGKILL)"
                                : "");
    case vm_fate::blocked: return "QMP dead, blocked (" + cpu_text(cpu_per_second) + ")";
    case vm_fate::spinning: return "QMP dead, spinning (" + cpu_text(cpu_per_second) + ")";
    case vm_fate::alive: return status.empty() ? "alive, no migration status" : "alive, migration " + status;
  }
  return "?";
}

vm_outcome watch(qemu_vm& vm, millis timeout, const watch_options& opts) {
  vm_outcome out;
  auto& qmp = vm.qmp();
  const auto deadline = clock::now() + timeout;
  try {
    while (auto event = qmp.next_event(deadline)) {
      out.events.push_back(*event);
      if (event->value("event", "") == "MIGRATION" && opts.until.count((*event)["data"].value("status", ""))) break;
    }
  } catch (const std::runtime_error&) {
    // The socket closed or broke: the probe below finds out why.
  }

  // The probe: a query-migrate that either answers, or shows (by timing out) that the main loop
  // does not run; the runnable time over the same window tells a blocked loop from a spinning one.
  const auto cpu_before = busy_seconds(vm.proc());
  const auto start = clock::now();
  if (qmp.connected()) {
    try {
      out.info = qmp.execute("query-migrate", json::object(), opts.probe);
      out.status = out.info.value("status", "");
      out.fate = vm_fate::alive;
      out.stderr_text = vm.proc().output();
      return out;
    } catch (const std::runtime_error&) {
    }
  }
  // No answer: the process ended (its sockets closed or reset with it: with exit-on-error 11.1
  // exits right after `failed`), or it lives with QMP dead.
  if (auto status = vm.proc().wait_exit(qmp.connected() ? millis(0) : opts.probe)) {
    out.fate = *status >= 0 ? vm_fate::exited : vm_fate::killed;
    out.code = *status >= 0 ? *status : -*status;
    vm.proc().wait_for_output_end(opts.probe);
    out.stderr_text = vm.proc().output();
    return out;
  }
  const auto cpu_after = busy_seconds(vm.proc());
  const double seconds = std::chrono::duration<double>(clock::now() - start).count();
  out.cpu_per_second = cpu_before && cpu_after && seconds > 0 ? (*cpu_after - *cpu_before) / seconds : 0;
  out.fate = out.cpu_per_second >= spinning_from ? vm_fate::spinning : vm_fate::blocked;
  out.stderr_text = vm.proc().output();
  return out;
}

}  // namespace migchan::qemu
