#include "tests/proofs/mutants.h"

#include <utility>

namespace migchan::mutation {

std::string_view name(op o) {
  switch (o) {
    case op::decision: return "decision";
    case op::deletion: return "deletion";
    case op::swap: return "swap";
    case op::widen: return "widen";
    case op::narrow: return "narrow";
  }
  return "?";
}

table mutant::view(const table& original) const {
  table t = original;
  t.name = table_name;
  t.rules = rules;
  return t;
}

std::string describe_mask(column c, mask m) {
  const auto ci = info(c);
  m = static_cast<mask>(m & domain_mask(c));
  if (m == domain_mask(c)) return "any";
  std::string s = "{";
  bool first = true;
  for (std::size_t v = 0; v < ci.size; ++v) {
    if (!((m >> v) & 1u)) continue;
    if (!first) s += ",";
    first = false;
    s += ci.value_names[v];
  }
  return s + "}";
}

std::string describe(const decision& d) {
  std::string s = d.fired ? std::string(d.fired->id) : std::string("(no rule)");
  s += " (" + std::string(migchan::name(d.then));
  if (d.then == verdict::reject && d.fired && !d.fired->text.empty()) s += ": \"" + std::string(d.fired->text) + "\"";
  return s + ")";
}

std::vector<mutant> single_rule_mutants(const table& t) {
  const std::vector<rule> base(t.rules.begin(), t.rules.end());
  std::vector<mutant> out;
  const auto add = [&](op k, std::string what, std::vector<rule> rules) {
    out.push_back({k, std::move(what), std::string(t.name) + "~" + std::to_string(out.size()), std::move(rules)});
  };
  const auto id = [](const rule& r) { return std::string(r.id); };

  for (std::size_t i = 0; i < base.size(); ++i)
    for (std::size_t v = 0; v < enum_size<verdict>; ++v) {
      const auto to = static_cast<verdict>(v);
      if (to == base[i].then || !row_verdict(to)) continue;
      auto rs = base;
      rs[i].then = to;
      add(op::decision,
          id(base[i]) + ": then " + std::string(migchan::name(base[i].then)) + " -> " + std::string(migchan::name(to)),
          std::move(rs));
    }
  for (std::size_t i = 0; i < base.size(); ++i) {
    auto rs = base;
    rs.erase(rs.begin() + static_cast<std::ptrdiff_t>(i));
    add(op::deletion, "delete " + id(base[i]), std::move(rs));
  }
  for (std::size_t i = 0; i + 1 < base.size(); ++i) {
    auto rs = base;
    std::swap(rs[i], rs[i + 1]);
    add(op::swap, "swap " + id(base[i]) + " <-> " + id(base[i + 1]), std::move(rs));
  }
  for (std::size_t i = 0; i < base.size(); ++i)
    for (std::size_t ci = 0; ci < column_count; ++ci) {
      const auto c = static_cast<column>(ci);
      const mask m = base[i].when.get(c);
      const std::string col = std::string(info(c).name);
      if (m != domain_mask(c)) {
        auto rs = base;
        rs[i].when.set(c, any);
        add(op::widen, id(base[i]) + ": " + col + " " + describe_mask(c, m) + " -> any", std::move(rs));
      }
      for (std::size_t v = 0; v < info(c).size; ++v) {
        if (!((m >> v) & 1u)) continue;
        auto rs = base;
        const mask narrowed = static_cast<mask>(m & ~(1u << v));
        rs[i].when.set(c, narrowed);
        add(op::narrow,
            id(base[i]) + ": " + col + " " + describe_mask(c, m) + " -> " + describe_mask(c, narrowed) + " (without " +
                std::string(info(c).value_names[v]) + ")",
            std::move(rs));
      }
    }
  return out;
}

comparison compare(const table& a, const table& b) {
  comparison r;
  r.observations = for_each_raw_observation(a, [&](const observation& o) {
    const auto da = classify(a, o), db = classify(b, o);
    const auto text = [](const decision& d) { return d.fired ? d.fired->text : std::string_view{}; };
    const bool same = da.then == db.then && (da.then != verdict::reject || text(da) == text(db));
    if (same) return;
    ++r.differing;
    if (!r.first) r.first = difference{o, da, db};
  });
  return r;
}

}  // namespace migchan::mutation
