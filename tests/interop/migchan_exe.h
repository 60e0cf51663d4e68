// The migchan executable under test, named by the MIGCHAN environment
// variable that tests/interop/meson.build sets, and what it prints.
#pragma once

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace migchan::interop {

inline std::string migchan_exe() {
  const char* e = std::getenv("MIGCHAN");
  REQUIRE_MESSAGE(e, "MIGCHAN must name the migchan executable");
  return e;
}

// The JSON objects among a child's output lines (serve's log, conform --format json).
inline std::vector<nlohmann::json> json_lines(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line.front() == '{') out.push_back(nlohmann::json::parse(line, nullptr, false));
  return out;
}

// A file's whole text (a page a test compares with what it regenerated).
inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace migchan::interop
