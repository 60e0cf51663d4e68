// The migchan executable under test, named by the MIGCHAN environment
// variable that tests/interop/meson.build sets.
#pragma once

#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

namespace migchan::interop {

inline std::string migchan_exe() {
  const char* e = std::getenv("MIGCHAN");
  REQUIRE_MESSAGE(e, "MIGCHAN must name the migchan executable");
  return e;
}

}  // namespace migchan::interop
