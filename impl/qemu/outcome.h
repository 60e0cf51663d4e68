// outcome: what became of a QEMU, told without assuming: exited, killed by a signal, QMP dead
// (blocked or spinning), or alive with a migration status.
#pragma once

#include "impl/qemu/qemu_vm.h"

#include <deque>
#include <set>
#include <string>

namespace migchan::qemu {

enum class vm_fate {
  exited,    // the process ended with an exit code (code)
  killed,    // a signal ended it (code: SIGABRT for a failed assertion, SIGSEGV for a crash)
  blocked,   // alive, QMP does not answer, and it is not runnable: waiting on something
  spinning,  // alive, QMP does not answer, and it is runnable about a second per second
  alive,     // alive and QMP answers: status says where its migration is
};

struct vm_outcome {
  vm_fate fate = vm_fate::alive;
  int code = 0;                // exit code, or the signal number
  std::string status;          // alive: query-migrate's status ("" when it has none), else ""
  json info = json::object();  // alive: the last query-migrate reply
  double cpu_per_second = 0;   // blocked/spinning: seconds runnable (on or waiting for a CPU) per second of the probe
  std::string stderr_text;     // everything QEMU printed on stderr so far
  std::deque<json> events;     // the QMP events taken while watching, oldest first

  // One line: "exited with code 1", "killed by SIGABRT (a failed assertion)",
  // "QMP dead, blocked (0.00 runnable s/s)", "QMP dead, spinning (0.98 runnable s/s)",
  // "alive, migration completed", "alive, no migration status".
  std::string describe() const;
};

struct watch_options {
  // A MIGRATION event with one of these statuses ends the watch early.
  std::set<std::string> until = {"completed", "failed", "cancelled"};
  // At the end QEMU gets this long to answer query-migrate; its runnable time is measured meanwhile.
  millis probe{500};
};

// Watches `vm` until its process ends, a MIGRATION event reaches `until`, or `timeout` passes
// (waiting on the QMP socket, which also closes when the process ends); then says what it found,
// from one probe: query-migrate answered (alive), or the exit status, or the time it was runnable while
// QMP did not answer (blocked, spinning).
// Events queued before the call count. The VM keeps running; its destructor still kills it. After
// a `blocked` or `spinning` outcome the QMP client may get a late reply; it drops it by id.
vm_outcome watch(qemu_vm& vm, millis timeout, const watch_options& opts = {});

}  // namespace migchan::qemu
