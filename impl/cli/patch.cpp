#include "impl/cli/patch.h"

#include <cstdlib>
#include <optional>

namespace migchan::patch {
namespace {

bool starts(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

std::vector<std::string_view> split_lines(std::string_view t) {
  std::vector<std::string_view> out;
  std::size_t b = 0;
  while (b < t.size()) {
    auto e = t.find('\n', b);
    if (e == std::string_view::npos) e = t.size();
    auto l = t.substr(b, e - b);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    out.push_back(l);
    b = e + 1;
  }
  return out;
}

// "a/migration/migration.c\t2024-01-01 ..." -> "migration/migration.c"
std::string path_of(std::string_view s, bool git_prefix) {
  if (const auto tab = s.find('\t'); tab != std::string_view::npos) s = s.substr(0, tab);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (s == "/dev/null") return {};
  if (git_prefix && (starts(s, "a/") || starts(s, "b/"))) s.remove_prefix(2);
  return std::string(s);
}

std::optional<std::size_t> number(std::string_view s, std::size_t& i) {
  const std::size_t b = i;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  if (i == b || i - b > 9) return std::nullopt;
  return static_cast<std::size_t>(std::strtoul(std::string(s.substr(b, i - b)).c_str(), nullptr, 10));
}

// "N" or "N,M" at l[i]: the start and the count (1 when left out).
bool range(std::string_view l, std::size_t& i, std::size_t& start, std::size_t& count) {
  const auto a = number(l, i);
  if (!a) return false;
  start = *a;
  count = 1;
  if (i < l.size() && l[i] == ',') {
    ++i;
    const auto b = number(l, i);
    if (!b) return false;
    count = *b;
  }
  return true;
}

// "@@ -a[,b] +c[,d] @@": false when the line is not a hunk header.
bool hunk_header(std::string_view l, hunk& h) {
  if (!starts(l, "@@ -")) return false;
  std::size_t i = 4;
  if (!range(l, i, h.old_start, h.old_count) || l.substr(i, 2) != " +") return false;
  i += 2;
  if (!range(l, i, h.new_start, h.new_count) || l.substr(i, 3) != " @@") return false;
  h.header = std::string(l.substr(0, i + 3));
  return true;
}

std::string at(std::string_view name, std::size_t line) { return std::string(name) + ":" + std::to_string(line); }

}  // namespace

series parse(std::string_view text, std::string_view name) {
  series s;
  const auto lines = split_lines(text);
  bool git = false;  // in a `diff --git` section: paths carry a/ and b/
  for (std::size_t k = 0; k < lines.size(); ++k) {
    const auto l = lines[k];
    if (starts(l, "Subject: ")) {
      std::string subj(l.substr(9));
      while (k + 1 < lines.size() && (starts(lines[k + 1], " ") || starts(lines[k + 1], "\t")))  // folded
        subj += " " + std::string(lines[++k].substr(1));
      s.subjects.push_back(std::move(subj));
      continue;
    }
    if (starts(l, "diff --git ")) {
      git = true;
      file_diff d;
      d.line = k + 1;
      const auto rest = l.substr(11);
      const auto sp = rest.find(" b/");
      if (sp != std::string_view::npos) {
        d.old_path = path_of(rest.substr(0, sp), true);
        d.new_path = path_of(rest.substr(sp + 1), true);
      }
      s.files.push_back(std::move(d));
      continue;
    }
    if (starts(l, "--- ") && k + 1 < lines.size() && starts(lines[k + 1], "+++ ")) {
      const bool in_git = git && !s.files.empty() && s.files.back().hunks.empty() && s.files.back().line + 8 > k;
      if (!in_git) {
        git = false;
        file_diff d;
        d.line = k + 1;
        s.files.push_back(std::move(d));
      }
      auto& d = s.files.back();
      const bool prefixed = in_git || (starts(l.substr(4), "a/") && starts(lines[k + 1].substr(4), "b/"));
      d.old_path = path_of(l.substr(4), prefixed);
      d.new_path = path_of(lines[k + 1].substr(4), prefixed);
      ++k;
      continue;
    }
    hunk h;
    if (!hunk_header(l, h)) continue;
    if (s.files.empty())
      throw patch_error(at(name, k + 1) + ": a hunk before any file header ('--- a/FILE', '+++ b/FILE')");
    h.line = k + 1;
    std::size_t old_left = h.old_count, new_left = h.new_count;
    while (old_left > 0 || new_left > 0) {
      if (++k >= lines.size())
        throw patch_error(at(name, h.line) + ": hunk " + h.header + " ends early (the patch is cut short)");
      auto b = lines[k];
      if (b.empty()) b = " ";  // a blank context line whose space a mailer ate
      const char c = b[0];
      if (c == '\\') continue;  // "\ No newline at end of file"
      if ((c == ' ' && old_left > 0 && new_left > 0) || (c == '-' && old_left > 0) || (c == '+' && new_left > 0)) {
        if (c != '+') --old_left;
        if (c != '-') --new_left;
        h.lines.emplace_back(b);
        continue;
      }
      throw patch_error(at(name, k + 1) + ": hunk " + h.header + " has a line that is not ' ', '-' or '+' within its " +
                        "counts");
    }
    s.files.back().hunks.push_back(std::move(h));
  }
  std::size_t hunks = 0;
  for (const auto& f : s.files) hunks += f.hunks.size();
  if (hunks == 0) throw patch_error(std::string(name) + ": not a patch: no hunk ('@@ -a,b +c,d @@') in it");
  return s;
}

applied apply(std::string_view old_text, const file_diff& d, std::string_view patch_name, std::string_view target) {
  const auto old = split_lines(old_text);
  applied out;
  std::size_t cursor = 0;  // old lines before it are written
  const auto put = [&](std::string_view l, bool changed) {
    out.text.append(l);
    out.text.push_back('\n');
    out.changed.push_back(changed);
  };
  for (const auto& h : d.hunks) {
    std::vector<std::string_view> want;  // its old side
    for (const auto& l : h.lines)
      if (l[0] != '+') want.push_back(std::string_view(l).substr(1));
    const auto fits = [&](std::size_t p) {
      if (p < cursor || p + want.size() > old.size()) return false;
      for (std::size_t i = 0; i < want.size(); ++i)
        if (old[p + i] != want[i]) return false;
      return true;
    };
    std::optional<std::size_t> where;
    if (want.empty()) {  // -U0 addition: after line old_start
      if (h.old_start >= cursor && h.old_start <= old.size()) where = h.old_start;
    } else {
      const std::size_t stated = h.old_start > 0 ? h.old_start - 1 : 0;
      for (std::size_t off = 0; !where && off <= old.size(); ++off) {  // nearest the stated line first
        if (fits(stated + off)) where = stated + off;
        else if (off > 0 && off <= stated && fits(stated - off)) where = stated - off;
      }
    }
    if (!where)
      throw patch_error(at(patch_name, h.line) + ": hunk " + h.header + " of " +
                        (d.new_path.empty() ? d.old_path : d.new_path) + " does not apply to " + std::string(target));
    for (; cursor < *where; ++cursor) put(old[cursor], false);
    for (const auto& l : h.lines) {
      if (l[0] == ' ') put(old[cursor++], false);
      else if (l[0] == '-') ++cursor;
      else put(std::string_view(l).substr(1), true);
    }
  }
  for (; cursor < old.size(); ++cursor) put(old[cursor], false);
  return out;
}

}  // namespace migchan::patch
