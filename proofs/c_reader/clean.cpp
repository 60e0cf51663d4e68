// Diff and mail-quoting markers blanked in place, so every line and column stays where it was.
#include "proofs/c_reader/clean.h"

#include <cstddef>
#include <utility>
#include <vector>

namespace migchan::c_reader_detail {
namespace {

void blank(std::string& s, std::size_t b, std::size_t e) {
  for (std::size_t i = b; i < e && i < s.size(); ++i)
    if (s[i] != '\n') s[i] = ' ';
}

std::string function_in(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    if (!is_ident_start(s[i])) { ++i; continue; }
    std::size_t j = i;
    while (j < s.size() && is_ident_char(s[j])) ++j;
    std::size_t k = j;
    while (k < s.size() && (s[k] == ' ' || s[k] == '\t')) ++k;
    if (k < s.size() && s[k] == '(') return std::string(s.substr(i, j - i));
    i = j;
  }
  return {};
}

}  // namespace

cleaned clean(std::string_view src) {
  cleaned c{std::string(src), {}};
  std::string& t = c.text;
  std::vector<std::pair<std::size_t, std::size_t>> lines;  // [begin, end), no '\n'
  for (std::size_t b = 0, i = 0; i <= t.size(); ++i)
    if (i == t.size() || t[i] == '\n') { lines.emplace_back(b, i); b = i + 1; }
  std::vector<std::size_t> off(lines.size(), 0);  // where the line's content starts
  auto line = [&](std::size_t k) {
    return std::string_view(t).substr(lines[k].first + off[k], lines[k].second - lines[k].first - off[k]);
  };
  auto is_blank = [](std::string_view s) { return s.find_first_not_of(" \t\r\f\v") == std::string_view::npos; };

  // "> > + code" and ">> > code": when most lines are quoted, strip the markers
  // and one space after them, and drop the unquoted reply around them.
  std::size_t quoted = 0, filled = 0;
  for (std::size_t k = 0; k < lines.size(); ++k) {
    filled += !is_blank(line(k));
    quoted += !line(k).empty() && line(k)[0] == '>';
  }
  if (quoted > 0 && quoted * 2 >= filled) {
    for (std::size_t k = 0; k < lines.size(); ++k) {
      const auto s = line(k);
      if (s.empty()) continue;
      if (s[0] != '>') {  // the reply around the quote
        blank(t, lines[k].first, lines[k].second);
        continue;
      }
      std::size_t i = 0;
      while (i < s.size() && s[i] == '>') {
        ++i;
        if (i + 1 < s.size() && s[i] == ' ' && s[i + 1] == '>') ++i;
      }
      if (i < s.size() && s[i] == ' ') ++i;
      blank(t, lines[k].first, lines[k].first + i);
      off[k] = i;
    }
  }

  auto is_hunk = [](std::string_view s) { return starts(s, "@@ -") && s.find(" @@", 4) != std::string_view::npos; };
  auto is_header = [](std::string_view s) {
    return starts(s, "diff ") || starts(s, "index ") || starts(s, "--- ") || starts(s, "+++ ") ||
           starts(s, "new file") || starts(s, "deleted file") || starts(s, "similarity ") || starts(s, "rename ");
  };
  bool diff = false;
  for (std::size_t k = 0; k < lines.size() && !diff; ++k) diff = is_hunk(line(k));
  if (!diff) return c;
  bool in_hunk = false;
  for (std::size_t k = 0; k < lines.size(); ++k) {
    const auto s = line(k);
    const std::size_t b = lines[k].first + off[k], e = lines[k].second;
    if (is_hunk(s)) {
      if (c.hunk_function.empty()) c.hunk_function = function_in(s.substr(s.find(" @@", 4) + 3));
      blank(t, b, e);
      in_hunk = true;
      continue;
    }
    if (is_header(s)) {
      std::size_t j = k + 1;
      while (j < lines.size() && is_header(line(j))) ++j;
      if (j < lines.size() && is_hunk(line(j))) { blank(t, b, e); continue; }
    }
    if (!in_hunk) { blank(t, b, e); continue; }
    if (s.empty()) continue;
    if (s[0] == '+') t[b] = ' ';
    else if (s[0] != ' ' && s[0] != '\r') blank(t, b, e);  // '-', '\ No newline', prose
  }
  return c;
}

}  // namespace migchan::c_reader_detail
