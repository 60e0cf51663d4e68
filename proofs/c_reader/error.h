// How every stage keeps c_reader.h's promise: bounded work, and any failure one c_reader_error line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proofs/c_reader.h"

namespace migchan::c_reader_detail {

// Bounds that keep any input, however hostile, to a small amount of work.
constexpr std::size_t max_nesting = 128;  // statements inside statements
constexpr int max_depth = 256;            // expression and formula trees
constexpr std::size_t max_formula_nodes = std::size_t{1} << 20;
constexpr std::size_t max_cubes = 1024;  // disjuncts of one path condition
constexpr std::size_t max_paths = 4096;
constexpr std::size_t max_steps = std::size_t{1} << 21;
constexpr std::size_t max_rows = 4096;
constexpr std::size_t max_vars = 256;                            // variables a path tracks
constexpr std::size_t max_tokens = std::size_t{1} << 18;         // in the functions read (migration.c has ~40k)
constexpr std::size_t max_functions = 64;                        // functions read: the classifier and what it calls
constexpr std::size_t max_source_bytes = std::size_t{16} << 20;  // per file (migration.c is 0.1 MiB)

constexpr std::string_view supported =
    "supported: if/else, &&, ||, !, ==, !=, (), declarations, channel = CH_*, bool assignments, "
    "error_setg/error_report + return or goto, assert, g_assert_not_reached, the peek call, "
    "migrate_*() capabilities, mis->from_src_file/state/postcopy_qemufile_dst, ioc->name";

struct pos {
  int line = 1, col = 1;
  std::uint32_t file = 0;  // index into reporter::files
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
  std::vector<std::string> files;  // sanitized; pos::file indexes them

  const std::string& file(pos p) const { return files[p.file < files.size() ? p.file : 0]; }
  std::string where(pos p) const { return file(p) + ":" + std::to_string(p.line); }
  [[noreturn]] void fail(pos p, const std::string& msg) const {
    throw c_reader_error(sanitize(file(p) + ":" + std::to_string(p.line) + ":" + std::to_string(p.col) + ": " + msg));
  }
  // An error about a whole file: "FILE: ...".
  [[noreturn]] void fail_file(std::uint32_t f, const std::string& msg) const {
    throw c_reader_error(sanitize(file(pos{1, 1, f}) + ": " + msg));
  }
  [[noreturn]] void unsupported(pos p, std::string_view what) const {
    fail(p, "unsupported construct '" + clip(what) + "'; " + std::string(supported));
  }
  [[noreturn]] void expected(pos p, std::string_view what) const { fail(p, "expected " + std::string(what)); }
};

}  // namespace migchan::c_reader_detail
