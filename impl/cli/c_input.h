// Where `check`, `diff` and `history` get C from: a file, stdin, a QEMU tree
// (its migration/*.c), or a patch applied in memory to a tree; and which
// built-in table the C is read against (a tree's VERSION names it).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "proofs/c_reader.h"

namespace migchan::cli {

struct c_input {
  std::vector<c_source> files;
  const table* base = nullptr;
  std::string base_why;  // "QEMU 10.2.2 (DIR/VERSION)", "--base", "default"
  std::string what;      // "migration/migration.c", "the tree DIR (68 files)", "PATCH applied to DIR"
  // A patch: the tree before it, the subjects, and the lines each patched file got from it.
  std::optional<std::vector<c_source>> before;
  std::vector<std::string> subjects;
  std::vector<std::pair<std::string, std::vector<bool>>> changed;  // file name -> per line
};

// The built-in table for a QEMU version ("10.2.2" -> qemu-10.1); never null.
const table& builtin_for_version(const std::string& version, std::string& note);

// INPUT is FILE, DIR or "-"; BASE is "", a built-in name or (with a patch as
// INPUT) a tree. `fallback`: the built-in to use when nothing names one.
// Throws usage_error (one line) on bad input, patch::patch_error for a patch
// that does not apply.
c_input load_c(const std::string& input, const std::string& base, const std::string& fallback);

// A tree's migration/*.c (or DIR/*.c when DIR is migration/ itself), sorted,
// named `prefix` + path relative to the tree.
std::vector<c_source> tree_files(const std::string& dir, const std::string& prefix);

}  // namespace migchan::cli
