// A patch as reviewers get it (`git diff`, `git format-patch`, an mbox of a
// series, `diff -u`), read and applied in memory to a tree. Any amount of
// context, zero included.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace migchan::patch {

// One line, "PATCH:LINE: ..." or "PATCH: ...", naming what does not apply.
struct patch_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct hunk {
  std::size_t old_start = 0, old_count = 1, new_start = 0, new_count = 1;
  std::vector<std::string> lines;  // ' ', '-' or '+' first
  std::size_t line = 0;            // of the "@@" in the patch
  std::string header;              // "@@ -1012,10 +1012,11 @@"
};

struct file_diff {
  std::string old_path, new_path;  // as the patch names them, "a/" and "b/" off; "" for /dev/null
  std::vector<hunk> hunks;
  std::size_t line = 0;  // where its header starts
};

struct series {
  std::vector<std::string> subjects;  // "[PATCH 2/4] migration: ...", one per mail
  std::vector<file_diff> files;       // in order; a file patched twice comes twice
};

// Throws patch_error when the text holds no hunk or a hunk is cut short.
series parse(std::string_view text, std::string_view name);

struct applied {
  std::string text;
  std::vector<bool> changed;  // per line of `text`: written by the patch
};

// Applies d's hunks in order. A hunk goes where its old lines (context and
// '-') are found, nearest its stated line; with no old lines (-U0 additions)
// it goes exactly after its stated line. `target` names the file in errors.
applied apply(std::string_view old_text, const file_diff& d, std::string_view patch_name, std::string_view target);

}  // namespace migchan::patch
