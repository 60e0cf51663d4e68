// Bytes written as hex in the tests: captures of what real QEMUs sent.
#pragma once

#include <stdexcept>
#include <string_view>

#include "impl/runtime/wire.h"

namespace migchan::test {

// "5145 564d" -> bytes; spaces are for reading only.
inline bytes from_hex(std::string_view text) {
  bytes out;
  int hi = -1;
  for (char c : text) {
    if (c == ' ') continue;
    int v = c <= '9' ? c - '0' : c - 'a' + 10;
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<std::uint8_t>(hi << 4 | v));
      hi = -1;
    }
  }
  if (hi >= 0) throw std::invalid_argument("odd number of hex digits");  // runs before doctest
  return out;
}

}  // namespace migchan::test
