// `migchan verify`: every property of every classifier, proved or refuted
// under named assumptions, with shortest counterexamples; and the
// single-arrival checks (proofs/single.h). The run and its reports are shared
// with `check` (impl/cli/cmd_check.cpp) through impl/cli/verify_run.h.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include "impl/cli/classifier_arg.h"
#include "impl/cli/cli.h"
#include "impl/cli/verify_run.h"
#include "model/builtin.h"
#include "model/expectations.h"
#include "model/optimal.h"
#include "model/render.h"
#include "proofs/c_reader.h"
#include "proofs/single.h"
#include "proofs/synth_limits.h"
#include "proofs/trace.h"
#include "proofs/verify.h"
#include "impl/runtime/caps.h"

namespace migchan::cli {

unsigned parse_assumptions(const std::string& list) {
  unsigned m = 0;
  std::stringstream ss(list);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) continue;
    auto a = parse_enum<assumption>(item);
    if (!a)
      throw usage_error("unknown assumption '" + item + "' (one of: " + join(enum_traits<assumption>::names) + ")");
    m |= 1u << static_cast<unsigned>(*a);
  }
  return m;
}

std::array<bool, 4> parse_cap_set(const std::string& list) {
  try {
    return parse_capabilities(list);
  } catch (const std::invalid_argument& e) {
    throw usage_error(e.what());
  }
}

transport parse_transport(const std::string& name) {
  const auto t = parse_enum<transport>(name);
  if (!t)
    throw usage_error("bad value '" + name + "' for --transport (one of: " + join(enum_traits<transport>::names) + ")");
  return *t;
}

nlohmann::json names_json(unsigned mask) {
  nlohmann::json a = nlohmann::json::array();
  for (std::size_t i = 0; i < assumption_count; ++i)
    if ((mask >> i) & 1u) a.push_back(std::string(name(static_cast<assumption>(i))));
  return a;
}

std::string sets_text(const std::vector<unsigned>& sets) {
  if (sets.empty()) return "under no assumption set";
  std::string s;
  for (unsigned m : sets) s += (s.empty() ? "" : " or ") + proofs::assumption_list(m);
  return "under " + s;
}

// Compares a result with what history says it should be.
std::string expectation_gap(const table& t, const proofs::classifier_result& r) {
  const expectation* e = find_expectation(t.name);
  if (!e) return "no expectation recorded";
  std::string gap;
  std::string dead;
  for (std::size_t i = 0; i < t.rules.size(); ++i)
    if (!r.single.fires[i]) dead += (dead.empty() ? "" : ",") + std::string(t.rules[i].id);
  if (r.single.gap) gap += " not exhaustive;";
  if (dead != e->dead_rows) gap += " dead rows '" + dead + "' (expected '" + std::string(e->dead_rows) + "');";
  for (const auto& pr : r.results) {
    const auto& want = e->minimal_sets[static_cast<std::size_t>(pr.prop)];
    std::vector<unsigned> w(want.begin(), want.end());
    w.erase(std::remove(w.begin(), w.end(), no_set), w.end());
    auto got = pr.minimal_sets;
    std::sort(w.begin(), w.end());
    std::sort(got.begin(), got.end());
    if (w != got) gap += " " + std::string(name(pr.prop)) + " holds " + sets_text(pr.minimal_sets) + ";";
  }
  return gap;
}

void add_max_channels(CLI::App* sub, int& max_channels) {
  sub->add_option("--max-channels", max_channels,
                  "largest multifd-channels considered (" + channels_range() + ", default " +
                      std::to_string(multifd_channels_max) + ")");
}

void check_max_channels(int max_channels) {
  if (max_channels < multifd_channels_min || max_channels > multifd_channels_max)
    throw usage_error("--max-channels must be " + channels_range());
}

void add_common(CLI::App* sub, common_args& a) {
  a.command = sub->get_name();
  sub->add_option("--classifier", a.classifier, "a built-in classifier or a C file");
  sub->add_option("--assume", a.assume, "comma-separated named assumptions in force");
  sub->add_flag("--assume-none", a.assume_none, "no assumption in force (the default)");
  add_max_channels(sub, a.max_channels);
  sub->add_option("--format", a.format, "text, json or markdown (docs/counterexamples.md)");
  sub->add_option("--traces", a.traces, "write each counterexample to DIR as .itf.json, .replay.json and .txt");
  sub->add_option("--caps", a.caps,
                  "only sources with exactly these capabilities: comma-separated multifd, "
                  "postcopy-ram, postcopy-preempt, mapped-ram, or 'none'");
  sub->add_option("--transport", a.transport, "only sources on this transport: socket, fd, tls, file, exec");
}

// Against the best any table does in reference's surroundings (model/optimal.h),
// each property with complete: the sets other tables reach and this one does
// not. nullopt: the comparison does not apply (other surroundings, or a run
// restricted to some capabilities or a transport).
std::optional<std::vector<std::vector<unsigned>>> weaker_elsewhere(const proofs::classifier_result& r,
                                                                   bool restricted) {
  if (restricted || !same_steps(r.t->sem, classifiers::reference.sem) || r.results.size() != property_count)
    return std::nullopt;
  const auto& complete = r.results[static_cast<std::size_t>(property::complete)].minimal_sets;
  std::vector<std::vector<unsigned>> out;
  for (const auto& pr : r.results) {
    std::vector<unsigned> best;
    for (unsigned m : optimal_for(pr.prop).sets)
      if (m != no_set) best.push_back(m);
    out.push_back(proofs::missed(proofs::both(pr.minimal_sets, complete), best));
  }
  return out;
}

std::string optimality_text(const proofs::classifier_result& r, bool restricted) {
  const auto weaker = weaker_elsewhere(r, restricted);
  if (!weaker) return "";
  std::string optimal, rest;
  for (std::size_t i = 0; i < weaker->size(); ++i) {
    const auto p = r.results[i].prop;
    if ((*weaker)[i].empty()) {
      optimal += (optimal.empty() ? "" : ", ") + std::string(name(p));
      continue;
    }
    std::string n(name(p));
    n.resize(18, ' ');
    rest += "  " + n + " another table keeps it with complete also " + sets_text((*weaker)[i]) +
            (optimal_for(p).trade_off ? "; none keeps that and every set this one keeps (docs/reference.md)" : "") +
            "\n";
  }
  return "  optimal            " + (optimal.empty() ? std::string("none") : optimal) +
         " (each with complete; docs/limits.md)\n" + rest;
}

run_result run(const common_args& a, const std::vector<const table*>& tables, bool from_c) {
  check_max_channels(a.max_channels);
  if (!a.assume.empty() && a.assume_none) throw usage_error("--assume and --assume-none exclude each other");
  run_result r;
  r.assumed = parse_assumptions(a.assume);
  r.from_c = from_c;
  r.command = a.command;
  r.max_channels = a.max_channels;
  if (!a.traces.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(a.traces, ec);
    if (ec) throw usage_error("cannot create '" + a.traces + "': " + ec.message());
  }
  proofs::verify_options o;
  o.assumed = r.assumed;
  o.max_channels = a.max_channels;
  if (!a.caps.empty()) o.z3.caps = parse_cap_set(a.caps);
  if (!a.transport.empty()) o.z3.uri = parse_transport(a.transport);
  r.caps = o.z3.caps, r.uri = o.z3.uri;
  const auto t0 = std::chrono::steady_clock::now();
  // Each table's sequence properties in a child process of its own, as many
  // at once as there are cores: two busy Z3 4.8.12 contexts in one process
  // crashed in Z3_solver_check_assumptions (SIGSEGV); a fresh context per table
  // also keeps the answers independent of scheduling.
  // The single-arrival checks run there too, each after its table's sequences.
  o.single_arrival = true;
  r.results = proofs::verify_tables(tables, o, std::max(1u, std::thread::hardware_concurrency()));
  for (const auto& cr : r.results) r.single.push_back(*cr.arrivals);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!a.traces.empty())
    for (const auto& cr : r.results)
      for (const auto& pr : cr.results) {
        if (!pr.trace) continue;
        const auto stem = std::filesystem::path(std::string(cr.t->name)).filename().string();
        const auto base = (std::filesystem::path(a.traces) / (stem + "." + std::string(name(pr.prop)))).string();
        itf::save(base + ".itf.json", proofs::to_itf(*cr.t, pr.prop, r.assumed, *pr.trace, "migchan " + r.command));
        std::ofstream(base + ".replay.json") << to_json(proofs::to_replay(*cr.t, pr.prop, *pr.trace)).dump(2) << "\n";
        std::ofstream(base + ".txt") << proofs::format_text(*cr.t, pr.prop, r.assumed, *pr.trace);
      }
  return r;
}

// ---- single-arrival findings ---------------------------------------------------

std::string blockers_text(const table& t, const proofs::dead_rule& d) {
  if (d.unmatchable) return "no valid observation meets its own condition";
  std::string s;
  for (std::size_t b : d.blockers) s += (s.empty() ? "" : ", ") + proofs::where(t, b);
  return "blocked by " + s;
}

// One line for verify's matrix: what the single-arrival checks found.
std::string single_summary(const table& t, const proofs::single_result& s) {
  std::string out = s.gap ? "NOT exhaustive (" + describe(*s.gap) + ")" : "exhaustive";
  if (s.dead.empty()) out += "; no dead row";
  for (const auto& d : s.dead) out += "; dead " + proofs::where(t, d.row) + " (" + blockers_text(t, d) + ")";
  if (s.implicit_defaults.empty()) out += "; no implicit default reached";
  for (const auto& h : s.implicit_defaults) out += "; implicit default reached: " + proofs::where(t, h.row);
  if (!s.unknown.empty()) out += "; Z3 gave up: " + s.unknown;
  return out;
}

nlohmann::json row_json(const table& t, std::size_t i) {
  const rule& r = t.rules[i];
  nlohmann::json j{{"rule", std::string(r.id)}, {"decision", std::string(name(r.then))}};
  j["origin"] = r.origin.empty() ? nlohmann::json(nullptr) : nlohmann::json(std::string(r.origin));
  return j;
}

nlohmann::json single_json(const table& t, const proofs::single_result& s) {
  nlohmann::json dead = nlohmann::json::array(), implicit = nlohmann::json::array(), overlaps = nlohmann::json::array();
  for (const auto& d : s.dead) {
    auto j = row_json(t, d.row);
    j["unmatchable"] = d.unmatchable;
    j["blocked_by"] = nlohmann::json::array();
    for (std::size_t b : d.blockers) j["blocked_by"].push_back(row_json(t, b));
    dead.push_back(j);
  }
  for (const auto& h : s.implicit_defaults) {
    auto j = row_json(t, h.row);
    j["witness"] = to_json(h.witness);
    implicit.push_back(j);
  }
  for (const auto& o : s.overlaps)
    overlaps.push_back(
        {{"first", row_json(t, o.first)}, {"second", row_json(t, o.second)}, {"witness", to_json(o.witness)}});
  return {{"exhaustive", !s.gap},
          {"gap", s.gap ? to_json(*s.gap) : nlohmann::json(nullptr)},
          {"no_dead_rule", s.dead.empty()},
          {"dead", dead},
          {"no_implicit_default", s.implicit_defaults.empty()},
          {"implicit_defaults", implicit},
          {"overlaps", overlaps},
          {"overlaps_skipped", s.overlaps_skipped},
          {"unknown", s.unknown.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.unknown)},
          {"seconds", s.seconds}};
}

std::string parameters_text(const run_result& r) {
  std::string s = "multifd-channels " + channels_range(r.max_channels);
  if (r.caps) {
    s += "; sources with exactly {" + capabilities_text(*r.caps, ", ") + "}";
  }
  if (r.uri) s += "; transport " + std::string(name(*r.uri));
  return s;
}

std::string tally::line(std::string_view name, double seconds) const {
  std::ostringstream o;
  o << name << ": " << (total - failed) << " of " << total << " properties hold";
  if (unknown) o << ", Z3 gave up on some";
  o << " (" << seconds << " s)";
  return o.str();
}

tally tally_of(const run_result& r, std::size_t i) {
  const auto& s = r.single[i];
  tally t;
  t.total = 3 + r.results[i].results.size();
  t.failed = (s.gap ? 1 : 0) + (s.dead.empty() ? 0 : 1) + (s.implicit_defaults.empty() ? 0 : 1);
  t.unknown = !s.unknown.empty();
  for (const auto& pr : r.results[i].results)
    t.failed += pr.refuted ? 1 : 0, t.unknown = t.unknown || !pr.unknown.empty();
  return t;
}

nlohmann::json to_json(const run_result& r) {
  nlohmann::json caps = nullptr;
  if (r.caps) {
    caps = nlohmann::json::array();
    for (std::size_t i = 0; i < capability_names.size(); ++i)
      if ((*r.caps)[i]) caps.push_back(std::string(capability_names[i]));
  }
  nlohmann::json out{{"assumptions", names_json(r.assumed)},
                     {"parameters",
                      {{"max_channels", r.max_channels},
                       {"caps", caps},
                       {"transport", r.uri ? nlohmann::json(std::string(name(*r.uri))) : nullptr}}},
                     {"classifiers", nlohmann::json::array()},
                     {"seconds", r.seconds}};
  for (std::size_t ci = 0; ci < r.results.size(); ++ci) {
    const auto& cr = r.results[ci];
    nlohmann::json c{{"name", std::string(cr.t->name)},
                     {"results", nlohmann::json::array()},
                     {"exhaustive", !cr.single.gap}};
    c["expected"] = r.from_c || r.restricted() ? nlohmann::json(nullptr)
                                               : nlohmann::json(expectation_gap(*cr.t, cr).empty());
    c["single_arrival"] = single_json(*cr.t, r.single[ci]);
    const auto weaker = weaker_elsewhere(cr, r.restricted());
    for (const auto& pr : cr.results) {
      nlohmann::json sets = nlohmann::json::array();
      for (unsigned m : pr.minimal_sets) sets.push_back(names_json(m));
      nlohmann::json elsewhere = nullptr;
      if (weaker) {
        elsewhere = nlohmann::json::array();
        for (unsigned m : (*weaker)[static_cast<std::size_t>(pr.prop)]) elsewhere.push_back(names_json(m));
      }
      c["results"].push_back({{"property", std::string(name(pr.prop))},
                              {"verdict", pr.refuted ? "refuted" : "proved"},
                              {"assumptions", names_json(r.assumed)},
                              {"minimal_assumption_sets", sets},
                              {"optimal", weaker ? nlohmann::json(elsewhere.empty()) : nlohmann::json(nullptr)},
                              {"weaker_sets_elsewhere", elsewhere},
                              {"trace", pr.trace ? itf::to_json(proofs::to_itf(*cr.t, pr.prop, r.assumed, *pr.trace,
                                                                               "migchan " + r.command))
                                                 : itf::value(nullptr)},
                              {"seconds", pr.seconds}});
    }
    out["classifiers"].push_back(c);
  }
  return out;
}

namespace {

// Whether every classifier is as upstream history says, in words, and the exit code.
std::pair<int, std::string> verify_outcome(const run_result& r) {
  bool unknown = false;
  std::size_t unexpected = 0;
  for (std::size_t ci = 0; ci < r.results.size(); ++ci) {
    unknown = unknown || tally_of(r, ci).unknown;
    unexpected += !r.from_c && !r.restricted() && !expectation_gap(*r.results[ci].t, r.results[ci]).empty();
  }
  if (unknown) return {exit_unknown, "Z3 gave up on some question, exit 3"};
  if (r.from_c) return {exit_ok, "read from C: no upstream history to compare with, exit 0"};
  if (r.restricted())
    return {exit_ok,
            "restricted by --caps, --transport or --max-channels: upstream history is recorded for "
            "every source and " +
                channels_range() + " channels, not compared, exit 0"};
  if (unexpected)
    return {exit_finding, std::to_string(unexpected) + " of " + std::to_string(r.results.size()) +
                              " classifiers not as upstream history says (UNEXPECTED above), exit 1"};
  return {exit_ok, "every classifier as upstream history says, exit 0"};
}

void print_matrix(const run_result& r, bool explain, std::ostream& os) {
  os << "assuming " << proofs::assumption_list(r.assumed) << "; " << parameters_text(r)
     << "; shortest counterexamples\n\n";
  std::string head = "            ";
  for (std::size_t p = 0; p < property_count; ++p) {
    std::string n(name(static_cast<property>(p)));
    n.resize(19, ' ');
    head += n;
  }
  os << head << "\n";
  for (const auto& cr : r.results) {
    std::string row(cr.t->name);
    row.resize(12, ' ');
    for (const auto& pr : cr.results) {
      std::string cell = pr.refuted ? "refuted (" + std::to_string(pr.trace ? pr.trace->arrivals : 0) + ")" : "proved";
      cell.resize(19, ' ');
      row += cell;
    }
    os << row << "\n";
  }
  os << "\n(n) = channels in the shortest counterexample\n\nwhere each property holds:\n";
  for (std::size_t ci = 0; ci < r.results.size(); ++ci) {
    const auto& cr = r.results[ci];
    os << cr.t->name << "\n";
    for (const auto& pr : cr.results) {
      std::string n(name(pr.prop));
      n.resize(18, ' ');
      os << "  " << n << " " << sets_text(pr.minimal_sets) << (pr.unknown.empty() ? "" : "  (Z3: " + pr.unknown + ")")
         << "\n";
    }
    os << "  single arrival     " << single_summary(*cr.t, r.single[ci]) << "\n";
    if (r.from_c || r.restricted()) continue;
    const auto gap = expectation_gap(*cr.t, cr);
    os << "  " << (gap.empty() ? "as upstream history says (model/expectations.h)" : "UNEXPECTED:" + gap) << "\n";
    os << optimality_text(cr, r.restricted());
  }
  if (explain)
    for (const auto& cr : r.results)
      for (const auto& pr : cr.results)
        if (pr.trace) os << "\n" << proofs::format_text(*cr.t, pr.prop, r.assumed, *pr.trace);
  os << "\n" << verify_outcome(r).second << " (" << r.seconds << " s)\n";
}

// docs/counterexamples.md: deterministic (no timings), generated from the rows.
void print_markdown(const run_result& r, std::ostream& os) {
  os << "# Counterexamples\n\n<!-- Generated by `migchan verify --format markdown`; a test fails when this file is "
        "stale. -->\n\nEvery property of every built-in classifier, checked for "
     << parameters_text(r) << " with "
     << (r.assumed ? "the assumptions " + proofs::assumption_list(r.assumed) : std::string("no assumption"))
     << " in force. A refuted property comes with its shortest counterexample (fewest channels) and what it means "
        "in QEMU terms; \"holds under\" lists the minimal sets of named assumptions (docs/assumptions.md) under "
        "which Z3 proves it.\n\n| classifier |";
  for (std::size_t p = 0; p < property_count; ++p) os << " " << name(static_cast<property>(p)) << " |";
  os << "\n|---|";
  for (std::size_t p = 0; p < property_count; ++p) os << "---|";
  os << "\n";
  for (const auto& cr : r.results) {
    os << "| `" << cr.t->name << "` |";
    for (const auto& pr : cr.results) os << " " << (pr.refuted ? "refuted" : "**proved**") << " |";
    os << "\n";
  }
  for (std::size_t ci = 0; ci < r.results.size(); ++ci) {
    const auto& cr = r.results[ci];
    os << "\n## `" << cr.t->name << "`\n\n"
       << cr.t->summary << ".\n\nSingle arrival (Z3, `proofs/single.h`): " << single_summary(*cr.t, r.single[ci])
       << ".\n";
    for (const auto& pr : cr.results) {
      os << "\n### " << name(pr.prop) << ": " << (pr.refuted ? "refuted" : "proved") << "\n\nHolds "
         << sets_text(pr.minimal_sets) << ".\n";
      if (!pr.trace) continue;
      os << "\n"
         << proofs::meaning(*cr.t, pr.prop, *pr.trace) << "\n\n```\n"
         << proofs::format_text(*cr.t, pr.prop, r.assumed, *pr.trace) << "```\n";
    }
  }
}

}  // namespace

action add_verify(CLI::App& app) {
  auto* sub = app.add_subcommand("verify", "prove or refute every property of every classifier");
  auto a = std::make_shared<common_args>();
  add_common(sub, *a);
  one_of(sub->get_option("--format"), {"text", "json", "markdown"});
  sub->add_flag("--explain", a->explain, "print every counterexample trace");
  sub->add_flag("--all", a->all, "every built-in classifier (the default)");
  return [=] {
    if (a->all && !a->classifier.empty()) throw usage_error("verify takes --classifier C or --all, not both");
    std::vector<const table*> tables;
    classifier_arg c;
    if (!a->classifier.empty()) {
      c = resolve_classifier(a->classifier);
      tables.push_back(c.t);
    } else {
      tables.assign(builtin_tables.begin(), builtin_tables.end());
    }
    const auto r = run(*a, tables, c.from_c());
    const auto [code, words] = verify_outcome(r);
    if (a->format == "json") {
      auto j = to_json(r);
      j["result"] = words;
      j["exit"] = code;
      std::cout << j.dump(2) << "\n";
    } else if (a->format == "markdown") {
      print_markdown(r, std::cout);
    } else {
      print_matrix(r, a->explain, std::cout);
    }
    return code;
  };
}

}  // namespace migchan::cli
