#include "model/render.h"

#include <algorithm>
#include <sstream>

namespace migchan {

namespace {

std::string values(column c, mask m) {
  const auto ci = info(c);
  std::string out;
  const mask dom = domain_mask(c);
  m = static_cast<mask>(m & dom);
  const int set = __builtin_popcount(m);
  // A set of most of the domain reads better as "not ...".
  const bool negate = ci.size > 2 && set > static_cast<int>(ci.size) / 2;
  const mask shown = negate ? static_cast<mask>(dom & ~m) : m;
  for (std::size_t v = 0; v < ci.size; ++v) {
    if (!((shown >> v) & 1u)) continue;
    if (!out.empty()) out += '|';
    out += ci.value_names[v];
  }
  if (m == 0) return "{}";
  return negate ? "!" + out : out;
}

std::string pad(std::string s, std::size_t w) {
  if (s.size() < w) s.append(w - s.size(), ' ');
  return s;
}

}  // namespace

std::string describe(const guard& g) {
  std::string out;
  for (std::size_t i = 0; i < column_count; ++i) {
    const auto c = static_cast<column>(i);
    if (g.is_any(c)) continue;
    if (!out.empty()) out += ' ';
    out += std::string(info(c).name) + "=" + values(c, g.get(c));
  }
  return out.empty() ? "(any)" : out;
}

std::string describe(const observation& o) {
  std::string s;
  for_each_field(o.generic(), [&](field f, int v) {
    const auto fi = info(f);
    s += (s.empty() ? "" : " ") + std::string(fi.name) + "=" +
         std::string(fi.boolean() ? (v ? "yes" : "no") : fi.value_names[v]);
  });
  return s;
}

nlohmann::json to_json(const guard& g) {
  nlohmann::json j = nlohmann::json::object();
  for (std::size_t i = 0; i < column_count; ++i) {
    const auto c = static_cast<column>(i);
    if (g.is_any(c)) continue;
    auto arr = nlohmann::json::array();
    const auto ci = info(c);
    for (std::size_t v = 0; v < ci.size; ++v)
      if ((g.get(c) >> v) & 1u) arr.push_back(std::string(ci.value_names[v]));
    j[std::string(ci.name)] = arr;
  }
  return j;
}

nlohmann::json to_json(const rule& r) {
  nlohmann::json j{{"id", std::string(r.id)},
                   {"guard", to_json(r.when)},
                   {"decision", std::string(name(r.then))},
                   {"reads", std::string(name(r.cost))},
                   {"c", std::string(r.c)},
                   {"upstream", {{"commit", std::string(r.ref.commit)}, {"where", std::string(r.ref.where)}}}};
  if (!r.text.empty()) j["text"] = std::string(r.text);
  if (r.implicit_default) j["implicit_default"] = true;
  if (!r.origin.empty()) j["origin"] = std::string(r.origin);
  return j;
}

nlohmann::json to_json(const table& t) {
  nlohmann::json rules = nlohmann::json::array();
  for (const auto& r : t.rules) rules.push_back(to_json(r));
  nlohmann::json forbids = nlohmann::json::array();
  for (const auto& f : t.forbids)
    forbids.push_back({{"id", std::string(f.id)},
                       {"guard", to_json(f.when)},
                       {"text", std::string(f.text)},
                       {"upstream", {{"commit", std::string(f.ref.commit)}, {"where", std::string(f.ref.where)}}}});
  return {{"name", std::string(t.name)},
          {"summary", std::string(t.summary)},
          {"source", std::string(t.source)},
          {"rules", rules},
          {"refused_configurations", forbids}};
}

nlohmann::json to_json(const observation& o) {
  nlohmann::json j = nlohmann::json::object();
  for_each_field(o.generic(), [&](field f, int v) {
    const auto fi = info(f);
    if (fi.boolean()) j[std::string(fi.name)] = v != 0;
    else j[std::string(fi.name)] = std::string(fi.value_names[v]);
  });
  return j;
}

std::string render_text(const table& t) {
  std::size_t wid = 2, wg = 5, wd = 8;
  for (const auto& r : t.rules) {
    wid = std::max(wid, r.id.size());
    wg = std::max(wg, describe(r.when).size());
    wd = std::max(wd, name(r.then).size() + (r.implicit_default ? 11 : 0));
  }
  std::ostringstream s;
  s << t.name << ": " << t.summary << "\n  rows from " << t.source << "; first match wins\n\n";
  s << "  " << pad("id", wid) << "  " << pad("guard", wg) << "  " << pad("decision", wd) << "  reads    upstream\n";
  for (const auto& r : t.rules) {
    std::string dec(name(r.then));
    if (r.implicit_default) dec += " (implicit)";
    s << "  " << pad(std::string(r.id), wid) << "  " << pad(describe(r.when), wg) << "  " << pad(dec, wd) << "  "
      << pad(std::string(name(r.cost)), 7) << "  " << r.ref.commit << " " << r.ref.where << "\n";
    s << "  " << pad("", wid) << "    // " << r.c;
    if (!r.text.empty()) s << "  -> \"" << r.text << "\"";
    s << "\n";
  }
  return s.str();
}

std::string render_markdown(const table& t) {
  std::ostringstream s;
  s << "### `" << t.name << "`\n\n" << t.summary << ". Rows from `" << t.source << "`; first match wins.\n\n";
  s << "| id | guard | decision | reads | C condition | upstream |\n|---|---|---|---|---|---|\n";
  const auto esc = [](std::string_view v) {
    std::string o;
    for (char ch : v) {
      if (ch == '|') o += "\\|";
      else o += ch;
    }
    return o;
  };
  for (const auto& r : t.rules) {
    s << "| `" << r.id << "` | " << esc(describe(r.when)) << " | " << name(r.then)
      << (r.implicit_default ? " *(implicit default)*" : "");
    if (!r.text.empty()) s << ": \"" << esc(r.text) << "\"";
    s << " | " << name(r.cost) << " | `" << esc(r.c) << "` | " << r.ref.commit << " `" << r.ref.where << "` |\n";
  }
  if (!t.forbids.empty()) {
    s << "\nConfigurations this version refuses before any channel arrives:\n\n";
    for (const auto& f : t.forbids)
      s << "- `" << f.id << "` (" << esc(describe(f.when)) << "): \"" << f.text << "\", " << f.ref.commit << " `"
        << f.ref.where << "`\n";
  }
  return s.str();
}

}  // namespace migchan
