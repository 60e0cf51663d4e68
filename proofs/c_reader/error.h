// How every stage keeps c_reader.h's promise: bounded work, and any failure one c_reader_error line.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "proofs/c_reader.h"

namespace migchan::c_reader_detail {

// Bounds that keep any input, however hostile, to a small amount of work.
constexpr std::size_t max_nesting = 128;  // statements inside statements
constexpr int max_depth = 256;            // expression and formula trees
constexpr std::size_t max_formula_nodes = std::size_t{1} << 20;
constexpr std::size_t max_cubes = 1024;   // disjuncts of one path condition
constexpr std::size_t max_paths = 4096;
constexpr std::size_t max_steps = std::size_t{1} << 21;
constexpr std::size_t max_rows = 4096;

constexpr std::string_view supported =
    "supported: if/else, &&, ||, !, ==, !=, (), declarations, channel = CH_*, bool assignments, "
    "error_setg/error_report + return or goto, assert, g_assert_not_reached, the peek call, "
    "migrate_*() capabilities, mis->from_src_file/state/postcopy_qemufile_dst, ioc->name";

struct pos {
  int line = 1, col = 1;
};

inline std::string sanitize(std::string s) {
  for (auto& ch : s)
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) ch = '?';
  return s;
}

inline std::string clip(std::string_view s) {
  std::string r = s.size() > 96 ? std::string(s.substr(0, 93)) + "..." : std::string(s);
  for (auto& ch : r)
    if (static_cast<unsigned char>(ch) < 0x20 || static_cast<unsigned char>(ch) >= 0x7f) ch = '?';
  return r;
}

// "FILE:LINE:COL: ...", one line whatever the file name and the input hold.
struct reporter {
  std::string file;  // sanitized

  [[noreturn]] void fail(pos p, const std::string& msg) const {
    throw c_reader_error(sanitize(file + ":" + std::to_string(p.line) + ":" + std::to_string(p.col) + ": " + msg));
  }
  [[noreturn]] void unsupported(pos p, std::string_view what) const {
    fail(p, "unsupported construct '" + clip(what) + "'; " + std::string(supported));
  }
  [[noreturn]] void expected(pos p, std::string_view what) const { fail(p, "expected " + std::string(what)); }
};

}  // namespace migchan::c_reader_detail
