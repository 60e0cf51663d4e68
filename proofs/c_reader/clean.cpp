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
    if (!is_ident_start(s[i])) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < s.size() && is_ident_char(s[j])) ++j;
    std::size_t k = j;
    while (k < s.size() && (s[k] == ' ' || s[k] == '\t')) ++k;
    if (k < s.size() && s[k] == '(') return std::string(s.substr(i, j - i));
    i = j;
  }
  return {};
}

// The directive's name after '#': "if", "ifdef", "else", "include", ...
std::string_view directive(std::string_view t, std::size_t hash) {
  std::size_t i = hash + 1;
  while (i < t.size() && (t[i] == ' ' || t[i] == '\t')) ++i;
  std::size_t j = i;
  while (j < t.size() && is_ident_char(t[j])) ++j;
  return t.substr(i, j - i);
}

bool is_if_zero(std::string_view t, std::size_t hash) {
  const auto name = directive(t, hash);
  std::size_t i = static_cast<std::size_t>(name.data() - t.data()) + name.size();
  while (i < t.size() && (t[i] == ' ' || t[i] == '\t')) ++i;
  return name == "if" && i < t.size() && t[i] == '0' && (i + 1 >= t.size() || !is_ident_char(t[i + 1]));
}

// Preprocessor lines (with their continuations) become blank, and so does
// every group a preprocessor would drop if each condition but `#if 0` held:
// the first branch of an #if/#ifdef/#ifndef is kept, its #elif/#else
// branches go (the other way round after `#if 0`). Comments and literals are
// followed so that a '#' inside them is not a directive.
void blank_preprocessor(std::string& t) {
  struct group {
    bool keep;   // this branch is kept
    bool taken;  // some branch of the group was kept
  };
  std::vector<group> groups;
  std::size_t dropped = 0;  // groups whose current branch goes
  const auto dropping = [&] { return dropped > 0; };
  bool line_start = true, in_comment = false;
  std::size_t drop_from = std::string::npos;  // start of a dropped stretch
  for (std::size_t i = 0; i < t.size();) {
    const char c = t[i];
    if (in_comment) {
      if (c == '*' && i + 1 < t.size() && t[i + 1] == '/') {
        in_comment = false;
        i += 2;
        continue;
      }
      if (c == '\n') line_start = true;
      ++i;
      continue;
    }
    if (c == '\n') {
      line_start = true;
      ++i;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
      ++i;
      continue;
    }
    if (c == '#' && line_start) {
      std::size_t e = i;  // end of the directive, continuations included
      while (e < t.size() && t[e] != '\n') {
        if (t[e] == '\\' && e + 1 < t.size() && t[e + 1] == '\n') ++e;
        else if (t[e] == '/' && e + 1 < t.size() && t[e + 1] == '*') {  // a comment may run on
          const auto close = t.find("*/", e + 2);
          e = close == std::string::npos ? t.size() : close + 1;
        }
        ++e;
      }
      const auto name = directive(t, i);
      const bool was_dropping = dropping();
      if (name == "if" || name == "ifdef" || name == "ifndef") {
        const bool keep = !(name == "if" && is_if_zero(t, i));
        groups.push_back({keep, keep});
        dropped += keep ? 0 : 1;
      } else if ((name == "elif" || name == "else") && !groups.empty()) {
        auto& g = groups.back();
        dropped -= g.keep ? 0 : 1;
        g.keep = !g.taken;
        g.taken = true;
        dropped += g.keep ? 0 : 1;
      } else if (name == "endif" && !groups.empty()) {
        dropped -= groups.back().keep ? 0 : 1;
        groups.pop_back();
      }
      if (!was_dropping && dropping()) drop_from = e;
      if (was_dropping && !dropping() && drop_from != std::string::npos) {
        blank(t, drop_from, i);
        drop_from = std::string::npos;
      }
      blank(t, i, e);
      i = e;
      continue;
    }
    line_start = false;
    if (c == '/' && i + 1 < t.size() && t[i + 1] == '*') {
      in_comment = true;
      i += 2;
      continue;
    }
    if (c == '/' && i + 1 < t.size() && t[i + 1] == '/') {
      while (i < t.size() && t[i] != '\n') ++i;
      continue;
    }
    if (c == '"' || c == '\'') {  // a literal ends at its quote or at the line's end
      ++i;
      while (i < t.size() && t[i] != c && t[i] != '\n')
        i += t[i] == '\\' && i + 1 < t.size() && t[i + 1] != '\n' ? 2 : 1;
      if (i < t.size() && t[i] == c) ++i;
      continue;
    }
    ++i;
  }
  if (drop_from != std::string::npos) blank(t, drop_from, t.size());
}

}  // namespace

cleaned clean(std::string_view src) {
  cleaned c{std::string(src), {}};
  std::string& t = c.text;
  std::vector<std::pair<std::size_t, std::size_t>> lines;  // [begin, end), no '\n'
  for (std::size_t b = 0, i = 0; i <= t.size(); ++i)
    if (i == t.size() || t[i] == '\n') {
      lines.emplace_back(b, i);
      b = i + 1;
    }
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
  if (!diff) {
    blank_preprocessor(t);
    return c;
  }
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
      if (j < lines.size() && is_hunk(line(j))) {
        blank(t, b, e);
        continue;
      }
    }
    if (!in_hunk) {
      blank(t, b, e);
      continue;
    }
    if (s.empty()) continue;
    if (s[0] == '+') t[b] = ' ';
    else if (s[0] != ' ' && s[0] != '\r') blank(t, b, e);  // '-', '\ No newline', prose
  }
  blank_preprocessor(t);
  return c;
}

}  // namespace migchan::c_reader_detail
