// Diff hunks and quoted mail made plain C, keeping lines and columns so errors point into the file as given.
#pragma once

#include <string>
#include <string_view>

namespace migchan::c_reader_detail {

// Character classes of C text: the cleaning, the lexer and the reader read it alike.
inline bool starts(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
inline bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
inline bool is_ident_char(char c) { return is_ident_start(c) || (c >= '0' && c <= '9'); }
inline bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v' || c == '\n'; }

struct cleaned {
  std::string text;
  std::string hunk_function;  // from "@@ ... @@ void name(...)"
};

// Diff markers and mail quoting are replaced by spaces; dropped lines,
// preprocessor lines and the #if groups a preprocessor would drop are
// blanked (each condition is taken to hold, except `#if 0`).
cleaned clean(std::string_view src);

}  // namespace migchan::c_reader_detail
