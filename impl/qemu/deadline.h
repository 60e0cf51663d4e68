// Deadlines for poll(): every wait on QEMU is bounded, never a bare sleep.
#pragma once

#include <chrono>

namespace migchan::qemu {

using millis = std::chrono::milliseconds;
using clock = std::chrono::steady_clock;

// What is left of a deadline as a poll() timeout: rounded up, 0 once passed.
inline int ms_until(clock::time_point deadline) {
  const auto left = std::chrono::ceil<millis>(deadline - clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

}  // namespace migchan::qemu
