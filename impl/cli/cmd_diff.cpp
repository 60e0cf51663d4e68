// `migchan diff A B`: where two classifiers (built-in names or C files) decide
// differently, one channel at a time and over arrival sequences (proofs/diff.h).
#include <iostream>
#include <memory>
#include <sstream>

#include "impl/cli/c_input.h"
#include "impl/cli/cli.h"
#include "impl/cli/patch.h"
#include "model/builtin.h"
#include "model/render.h"
#include "proofs/c_reader.h"
#include "proofs/diff.h"
#include "proofs/single.h"
#include "proofs/trace.h"

namespace migchan::cli {

namespace {

using cd = concrete_domain;

struct side {
  const table* t = nullptr;
  std::unique_ptr<parsed_table> parsed;
  std::string base;  // for a file: the built-in it was read against
};

side load(const std::string& arg, const std::string& base) {
  side s;
  if (const table* t = find_builtin(arg)) {
    s.t = t;
    return s;
  }
  const auto in = load_c(arg, base, "qemu-10.1");
  s.base = std::string(in.base->name);
  s.parsed = std::make_unique<parsed_table>(read_classifier(in.files, *in.base));
  s.t = &s.parsed->view;
  return s;
}

std::string origin_of(const side& s) {
  if (!s.parsed) return std::string(s.t->name) + " (built-in)";
  return std::string(s.t->name) + " (" + (s.parsed->function.empty() ? "statements" : s.parsed->function + "()") +
         ", read against " + s.base + ")";
}

// Which configuration refusal of t the witness runs into.
std::string refusal(const table& t, const observation& o) {
  for (const auto& f : t.forbids)
    if (matches<cd>(f.when, o.generic())) return std::string(f.id) + ": " + std::string(f.text);
  return "inconsistent observation";
}

std::string decided_text(const table& t, int row, const observation& w) {
  if (row == proofs::refused) return "refused (" + refusal(t, w) + ")";
  const auto i = static_cast<std::size_t>(row);
  if (i >= t.rules.size()) return "no rule matched";
  const rule& r = t.rules[i];
  return proofs::where(r) + " -> " + std::string(name(r.then)) + (r.implicit_default ? " (implicit default)" : "");
}

nlohmann::json decided_json(const table& t, int row, const observation& w) {
  if (row == proofs::refused) return {{"refused", refusal(t, w)}};
  const auto i = static_cast<std::size_t>(row);
  if (i >= t.rules.size()) return {{"rule", nullptr}, {"decision", "reject"}};
  const rule& r = t.rules[i];
  nlohmann::json j{{"rule", std::string(r.id)},
                   {"decision", std::string(name(r.then))},
                   {"implicit_default", r.implicit_default}};
  j["origin"] = r.origin.empty() ? nlohmann::json(nullptr) : nlohmann::json(std::string(r.origin));
  return j;
}

std::string step_text(const table& t, const dest_config<cd>& d, const trace_step<cd>& st) {
  std::string s = st.out.why == int(cause::rule) ? "rule " + proofs::where(t, static_cast<std::size_t>(st.out.rule))
                                                 : std::string(name(static_cast<cause>(st.out.why)));
  s += " -> " + std::string(name(static_cast<verdict>(st.out.then)));
  if (const auto why = proofs::explain(t, d, st); !why.empty()) s += ": " + why;
  return s;
}

nlohmann::json step_json(const table& t, const dest_config<cd>& d, const trace_step<cd>& st) {
  nlohmann::json j{{"decision", std::string(name(static_cast<verdict>(st.out.then)))},
                   {"cause", std::string(name(static_cast<cause>(st.out.why)))},
                   {"explain", proofs::explain(t, d, st)}};
  const bool by_rule = st.out.why == int(cause::rule) && st.out.rule < static_cast<int>(t.rules.size());
  j["rule"] = by_rule ? nlohmann::json(std::string(t.rules[static_cast<std::size_t>(st.out.rule)].id)) : nullptr;
  j["origin"] = by_rule && !t.rules[static_cast<std::size_t>(st.out.rule)].origin.empty()
                    ? nlohmann::json(std::string(t.rules[static_cast<std::size_t>(st.out.rule)].origin))
                    : nlohmann::json(nullptr);
  return j;
}

// "main -> main, 2 multifd -> multifd, preempt -> abort"
std::string assignment_text(const std::vector<trace_step<cd>>& tr) {
  const auto a = assignment_of<cd>(std::span<const trace_step<cd>>(tr));
  std::string s;
  const auto add = [&](const std::string& x) { s += (s.empty() ? "" : ", ") + x; };
  if (a.main_verdict >= 0) add("main -> " + std::string(name(static_cast<verdict>(a.main_verdict))));
  for (std::size_t k = 0; k < a.multifd.size(); ++k)
    if (a.multifd[k] > 0)
      add(std::to_string(a.multifd[k]) + " multifd -> " + std::string(name(static_cast<verdict>(k))));
  if (a.preempt_verdict >= 0) add("preempt -> " + std::string(name(static_cast<verdict>(a.preempt_verdict))));
  return s.empty() ? "nothing" : s;
}

std::string summary(const proofs::diff_result& r) {
  if (r.equivalent() && r.unknown.empty()) return "equivalent";
  if (r.equivalent()) return "unknown: Z3 gave up (" + r.unknown + ")";
  return "differ: " + std::to_string(r.regions.size()) + (r.truncated ? "+" : "") +
         (r.regions.size() == 1 ? " region" : " regions") +
         (r.sequence ? ", shortest diverging sequence " + std::to_string(r.sequence->arrivals) +
                           (r.sequence->arrivals == 1 ? " channel" : " channels")
                     : std::string(", no diverging sequence"));
}

void print_text(const side& a, const side& b, const proofs::diff_result& r, std::ostream& os) {
  const table &ta = *a.t, &tb = *b.t;
  os << "a: " << origin_of(a) << "\nb: " << origin_of(b) << "\n\n";
  os << "single arrival: ";
  if (r.regions.empty()) os << "the same decision for every observation either accepts\n";
  else
    os << r.regions.size() << (r.truncated ? "+" : "") << (r.regions.size() == 1 ? " region" : " regions")
       << " where the decisions differ\n";
  int n = 0;
  for (const auto& g : r.regions) {
    os << "  " << ++n << ". " << describe(g.where) << "\n"
       << "       a: " << decided_text(ta, g.rule_a, g.witness) << "\n"
       << "       b: " << decided_text(tb, g.rule_b, g.witness) << "\n"
       << "       witness: " << describe(g.witness) << "\n";
  }
  if (r.sequence) {
    const auto& s = *r.sequence;
    os << "\nshortest diverging sequence: " << s.arrivals << (s.arrivals == 1 ? " channel" : " channels")
       << " after which the final assignments differ\n";
    if (s.mismatched)
      os << "  (none with the same configuration on both sides; this one has source and destination differ)\n"
         << "  source:      " << proofs::describe(s.config) << "\n  destination: " << proofs::describe(s.dest) << "\n";
    else os << "  source and destination: " << proofs::describe(s.config) << "\n";
    for (std::size_t i = 0; i < s.a.size(); ++i) {
      const auto& in = s.a[i].in;
      os << "  " << i + 1 << ". " << name(static_cast<channel_kind>(in.kind));
      if (in.count > 1) os << " x" << in.count;
      os << " (" << name(static_cast<transport>(in.transport)) << ", " << name(static_cast<first_bytes>(in.magic))
         << ")\n       a: " << step_text(ta, s.dest, s.a[i]) << "\n       b: " << step_text(tb, s.dest, s.b[i]) << "\n";
    }
    os << "  final assignment\n       a: " << assignment_text(s.a) << "\n       b: " << assignment_text(s.b) << "\n";
  } else if (!r.regions.empty()) {
    os << "\nno arrival sequence (up to 6 runs of channels, source and destination configured alike or not) "
          "ends in a different assignment\n";
  }
  if (!r.unknown.empty()) os << "\nZ3 gave up: " << r.unknown << "\n";
  os << "\n" << summary(r) << "\n";
}

nlohmann::json to_json(const side& a, const side& b, const proofs::diff_result& r) {
  const auto side_json = [](const side& s) {
    nlohmann::json j{{"name", std::string(s.t->name)}, {"kind", s.parsed ? "file" : "built-in"}};
    if (s.parsed) {
      j["base"] = s.base;
      j["function"] = s.parsed->function;
    }
    return j;
  };
  nlohmann::json regions = nlohmann::json::array();
  for (const auto& g : r.regions)
    regions.push_back({{"where", describe(g.where)},
                       {"guard", to_json(g.where)},
                       {"a", decided_json(*a.t, g.rule_a, g.witness)},
                       {"b", decided_json(*b.t, g.rule_b, g.witness)},
                       {"witness", to_json(g.witness)}});
  nlohmann::json seq = nullptr;
  if (r.sequence) {
    const auto& s = *r.sequence;
    nlohmann::json arrivals = nlohmann::json::array();
    for (std::size_t i = 0; i < s.a.size(); ++i) {
      const auto& in = s.a[i].in;
      arrivals.push_back({{"kind", std::string(name(static_cast<channel_kind>(in.kind)))},
                          {"transport", std::string(name(static_cast<transport>(in.transport)))},
                          {"magic", std::string(name(static_cast<first_bytes>(in.magic)))},
                          {"count", in.count},
                          {"a", step_json(*a.t, s.dest, s.a[i])},
                          {"b", step_json(*b.t, s.dest, s.b[i])}});
    }
    seq = {{"channels", s.arrivals},
           {"config", proofs::describe(s.config)},
           {"destination", proofs::describe(s.dest)},
           {"mismatched", s.mismatched},
           {"arrivals", arrivals},
           {"final", {{"a", assignment_text(s.a)}, {"b", assignment_text(s.b)}}}};
  }
  return {{"a", side_json(a)},
          {"b", side_json(b)},
          {"equivalent", r.equivalent() && r.unknown.empty()},
          {"regions", regions},
          {"regions_truncated", r.truncated},
          {"sequence", seq},
          {"unknown", r.unknown.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.unknown)},
          {"summary", summary(r)},
          {"seconds", r.seconds}};
}

}  // namespace

action add_diff(CLI::App& app) {
  auto* sub = app.add_subcommand("diff", "where two classifiers (built-in names or C files) decide differently");
  struct args {
    std::string a, b, base, format = "text", assume;
    int max_channels = multifd_channels_max;
  };
  auto x = std::make_shared<args>();
  sub->add_option("a", x->a, "a built-in classifier, a C file or a QEMU tree")->required();
  sub->add_option("b", x->b, "a built-in classifier, a C file or a QEMU tree")->required();
  sub->add_option("--base", x->base,
                  "the built-in classifier C is read against (refused configurations, "
                  "setup and start semantics); default: the built-in on the other side, else "
                  "the tree's VERSION, else qemu-10.1");
  one_of(sub->add_option("--format", x->format, "text or json"), {"text", "json"});
  sub->add_option("--assume", x->assume, "diverging sequences must satisfy these named assumptions");
  add_max_channels(sub, x->max_channels);
  return [=]() -> int {
    check_max_channels(x->max_channels);
    proofs::diff_options o;
    o.assumed = parse_assumptions(x->assume);
    o.max_channels = x->max_channels;
    std::string base = x->base;
    if (base.empty()) base = find_builtin(x->a) ? x->a : find_builtin(x->b) ? x->b : "";
    side a, b;
    try {
      a = load(x->a, base);
      b = load(x->b, base);
    } catch (const c_reader_error& e) {
      std::cerr << e.what() << "\n";  // FILE:LINE:COL: ..., as compilers print it
      return 2;
    } catch (const patch::patch_error& e) {
      std::cerr << e.what() << "\n";
      return 2;
    }
    const auto r = proofs::diff(*a.t, *b.t, o);
    if (x->format == "json") std::cout << to_json(a, b, r).dump(2) << "\n";
    else print_text(a, b, r, std::cout);
    if (r.equivalent()) return r.unknown.empty() ? 0 : 3;
    return 1;
  };
}

}  // namespace migchan::cli
