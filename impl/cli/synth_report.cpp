#include "impl/cli/synth_report.h"

#include <algorithm>
#include <array>
#include <functional>
#include <map>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "model/builtin.h"
#include "model/optimal.h"
#include "model/render.h"
#include "proofs/children.h"
#include "proofs/synth_limits.h"
#include "proofs/trace.h"
#include "proofs/verify.h"

namespace migchan::cli {

std::string verdict_set(std::uint16_t m) {
  std::string s;
  for (std::size_t v = 0; v < enum_size<verdict>; ++v)
    if ((m >> v) & 1u) s += (s.empty() ? "" : " or ") + std::string(name(static_cast<verdict>(v)));
  return s.empty() ? "nothing" : s;
}

std::string observation_text(const observation& o, bool bytes_seen) {
  auto s = describe(o);
  if (!bytes_seen) s = s.substr(0, s.rfind(" magic=")) + " (first bytes not seen)";
  return s;
}

// format_text() closes with the claim verify proves, that no shorter trace
// exists; a witness run makes no such claim.
std::string witness_text(const proofs::witness_run& w) {
  auto text = proofs::format_text(w.table->view, w.b.prop, w.b.context, w.cx);
  const auto at = text.find("  no trace with fewer channels");
  return at == std::string::npos ? text : text.substr(0, at);
}

namespace {

constexpr std::array<std::string_view, assumption_count> abbreviation{"MF", "PM", "XP", "TF", "NM", "NC", "CM"};
constexpr std::array<std::optional<transport>, 6> columns{transport::socket, transport::tls,  transport::file,
                                                          transport::fd,     transport::exec, std::nullopt};

std::string short_set(unsigned m) {
  std::string s;
  for (std::size_t a = 0; a < assumption_count; ++a)
    if ((m >> a) & 1u) s += (s.empty() ? "" : "+") + std::string(abbreviation[a]);
  return s.empty() ? "{}" : s;
}

std::string short_sets(const std::vector<unsigned>& sets) {
  std::string s;
  for (unsigned m : sets) s += (s.empty() ? "" : ", ") + short_set(m);
  return s.empty() ? "none" : s;
}

std::string seconds(double s) {
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(2);
  o << s << " s";
  return o.str();
}

std::vector<property> with_complete(property p) {
  return p == property::complete ? std::vector<property>{p} : std::vector<property>{p, property::complete};
}

std::string label(const std::vector<property>& ps) {
  std::string s;
  for (const auto p : ps) s += (s.empty() ? "" : " with ") + std::string(name(p));
  return s;
}

proofs::synth_options question(const table& base, std::vector<property> props, std::optional<transport> t,
                               bool first_read) {
  proofs::synth_options o;
  o.base = &base;
  o.props = std::move(props);
  o.z3.uri = t;
  o.tls_first_read = first_read;
  return o;
}

nlohmann::json to_json(const proofs::limit& l) {
  return {{"sets", l.minimal_sets}, {"impossible", l.impossible}, {"solves", l.solves},
          {"seconds", l.seconds},   {"slowest", l.slowest},       {"unknown", l.unknown}};
}
proofs::limit limit_of(const nlohmann::json& j) {
  proofs::limit l;
  l.minimal_sets = j.at("sets").get<std::vector<unsigned>>();
  l.impossible = j.at("impossible").get<std::vector<unsigned>>();
  l.solves = j.at("solves");
  l.seconds = j.at("seconds");
  l.slowest = j.at("slowest");
  l.unknown = j.at("unknown");
  return l;
}

// Where a property holds on every transport: where it holds on each.
std::vector<unsigned> every_transport(const std::vector<std::vector<unsigned>>& per_transport) {
  std::vector<unsigned> out{0};
  for (const auto& sets : per_transport) out = proofs::both(out, sets);
  return out;
}

std::string arrivals_text(const proofs::behaviour& b) {
  std::string s;
  for (const auto& a : b.in) {
    s += (s.empty() ? "" : ", ") + std::string(name(static_cast<channel_kind>(a.kind)));
    if (a.count > 1) s += " x" + std::to_string(a.count);
    s += " (" + std::string(name(static_cast<first_bytes>(a.magic))) + ")";
  }
  return s;
}

// One impossibility witness, in a few lines.
std::string witness_md(const proofs::synth_result& r) {
  std::ostringstream o;
  if (r.point) o << "  at `" << observation_text(r.point->at, r.point->bytes_seen) << "`:\n";
  for (std::size_t i = 0; i < r.witness.size(); ++i) {
    const auto& w = r.witness[i];
    o << "  " << i + 1 << ". source " << proofs::describe(w.b.src) << "; destination "
      << (same_caps<concrete_domain>(w.b.src, w.b.dst) ? std::string("the same") : proofs::describe(w.b.dst))
      << "; channels " << arrivals_text(w.b) << ": ";
    if (r.point) o << "needs " << verdict_set(r.point->needs[i]) << ", else " << name(w.b.prop) << " breaks\n";
    else o << "breaks " << name(w.b.prop) << " under every table that handles the others\n";
  }
  return o.str();
}

std::string witness_command(const std::vector<property>& props, std::optional<transport> t,
                            const std::vector<unsigned>& contexts) {
  std::string s = "migchan synth";
  if (t) s += " --transport " + std::string(name(*t));
  std::string ps;
  for (const auto p : props) ps += (ps.empty() ? "" : ",") + std::string(name(p));
  s += " --properties " + ps;
  for (unsigned c : contexts) {
    if (c == 0 && contexts.size() == 1) continue;
    std::string as;
    for (std::size_t a = 0; a < assumption_count; ++a)
      if ((c >> a) & 1u) as += (as.empty() ? "" : ",") + std::string(name(static_cast<assumption>(a)));
    s += " --assume " + (as.empty() ? std::string("''") : as);
  }
  return s + " --traces DIR";
}

}  // namespace

int print_limits_page(std::ostream& os, const table& base) {
  const unsigned workers = std::max(2u, std::thread::hardware_concurrency());
  int status = 0;

  // 1. Any classifier: each property with complete on each transport, and
  //    alone over every transport; with a buffered first TLS read on TLS.
  struct ask {
    std::vector<property> props;
    std::optional<transport> t;
    bool first_read;
  };
  std::vector<ask> asks;
  for (std::size_t p = 0; p < property_count; ++p)
    for (std::size_t c = 0; c + 1 < columns.size(); ++c)
      asks.push_back({with_complete(static_cast<property>(p)), columns[c], false});
  for (std::size_t p = 0; p < property_count; ++p)
    asks.push_back({with_complete(static_cast<property>(p)), transport::tls, true});
  std::vector<std::function<std::string()>> jobs;
  for (const auto& q : asks)
    jobs.push_back([&base, q] {
      proofs::synthesizer s(question(base, q.props, q.t, q.first_read));
      return to_json(proofs::minimal_sets(s)).dump();
    });
  // Alone: one question each, under no assumption, over every transport.
  for (std::size_t p = 0; p < property_count; ++p)
    jobs.push_back([&base, p] {
      proofs::synthesizer s(question(base, {static_cast<property>(p)}, std::nullopt, false));
      const auto r = s.solve(0, false);
      proofs::limit l;
      if (r.what == proofs::synth_result::outcome::found) l.minimal_sets.push_back(0);
      l.solves = 1, l.seconds = l.slowest = r.seconds, l.unknown = r.reason;
      return to_json(l).dump();
    });
  const auto answers = proofs::run_in_children(jobs, workers, [&](std::size_t i) {
    return i < asks.size() ? "synth " + label(asks[i].props) : std::string("synth alone");
  });
  // any[p][c]: property p with complete on column c (the last: every transport, derived).
  std::array<std::array<proofs::limit, columns.size()>, property_count> any;
  std::array<proofs::limit, property_count> first_read, alone;
  std::size_t k = 0;
  for (std::size_t p = 0; p < property_count; ++p) {
    std::vector<std::vector<unsigned>> each;
    for (std::size_t c = 0; c + 1 < columns.size(); ++c) {
      any[p][c] = limit_of(nlohmann::json::parse(answers[k++]));
      each.push_back(any[p][c].minimal_sets);
    }
    any[p].back().minimal_sets = every_transport(each);
  }
  for (std::size_t p = 0; p < property_count; ++p) first_read[p] = limit_of(nlohmann::json::parse(answers[k++]));
  for (std::size_t p = 0; p < property_count; ++p) alone[p] = limit_of(nlohmann::json::parse(answers[k++]));

  // 2. The built-in classifiers on each transport (verify's engine).
  std::vector<const table*> tables(builtin_tables.begin(), builtin_tables.end());
  // sets[t][c][p]: table t, column c, property p.
  std::vector<std::array<std::array<std::vector<unsigned>, property_count>, columns.size()>> sets(tables.size());
  for (std::size_t c = 0; c + 1 < columns.size(); ++c) {
    proofs::verify_options vo;
    vo.z3.uri = columns[c];
    const auto results = proofs::verify_tables(tables, vo, workers);
    for (std::size_t t = 0; t < tables.size(); ++t)
      for (const auto& pr : results[t].results) sets[t][c][static_cast<std::size_t>(pr.prop)] = pr.minimal_sets;
  }
  std::vector<std::string> disagree;
  for (std::size_t t = 0; t < tables.size(); ++t)
    for (std::size_t p = 0; p < property_count; ++p) {
      std::vector<std::vector<unsigned>> each;
      for (std::size_t c = 0; c + 1 < columns.size(); ++c) each.push_back(sets[t][c][p]);
      sets[t].back()[p] = every_transport(each);
      // The derivation must give what verify proves over every transport.
      if (const expectation* e = find_expectation(tables[t]->name)) {
        std::vector<unsigned> want;
        for (unsigned m : e->minimal_sets[p])
          if (m != no_set) want.push_back(m);
        if (proofs::minimal(want) != sets[t].back()[p])
          disagree.push_back(std::string(tables[t]->name) + " " + std::string(name(static_cast<property>(p))));
      }
    }
  const std::size_t ref = static_cast<std::size_t>(std::find(tables.begin(), tables.end(), &classifiers::reference) -
                                                   tables.begin());
  const auto ref_with_complete = [&](std::size_t c, std::size_t p) {
    return proofs::both(sets[ref][c][p], sets[ref][c][static_cast<std::size_t>(property::complete)]);
  };

  // 3. Witnesses: for each minimal set of any classifier on TLS and each
  //    assumption in it, the set without that assumption. Where complete alone
  //    already fails there, complete's witness serves.
  const auto tls = static_cast<std::size_t>(1);
  const auto& complete_sets = any[static_cast<std::size_t>(property::complete)][tls].minimal_sets;
  struct witness_ask {
    std::vector<property> props;
    std::vector<unsigned> contexts;
  };
  std::vector<witness_ask> wasks;
  const auto witness_index = [&](const witness_ask& w) {
    for (std::size_t i = 0; i < wasks.size(); ++i)
      if (wasks[i].props == w.props && wasks[i].contexts == w.contexts) return i;
    wasks.push_back(w);
    return wasks.size() - 1;
  };
  // per property: (minimal set, dropped assumption, witness index)
  std::array<std::vector<std::tuple<unsigned, std::size_t, std::size_t>>, property_count> needed;
  for (std::size_t p = 0; p < property_count; ++p)
    for (unsigned m : any[p][tls].minimal_sets)
      for (std::size_t a = 0; a < assumption_count; ++a) {
        if (!((m >> a) & 1u)) continue;
        const unsigned f = m & ~(1u << a);
        const bool complete_fails = std::none_of(complete_sets.begin(), complete_sets.end(),
                                                 [&](unsigned c) { return (f & c) == c; });
        const auto props = complete_fails ? with_complete(property::complete) : with_complete(static_cast<property>(p));
        needed[p].emplace_back(m, a, witness_index({props, {f}}));
      }
  // Reference against the best: where it misses a set, is it a trade-off?
  std::array<std::vector<unsigned>, property_count> missed;
  std::array<std::optional<std::size_t>, property_count> trade;
  for (std::size_t p = 0; p < property_count; ++p) {
    missed[p] = proofs::missed(ref_with_complete(columns.size() - 1, p), any[p].back().minimal_sets);
    if (missed[p].empty()) continue;
    // The first set of reference's that no table reaches together with the
    // missed one; all of them if none does alone.
    const auto theirs = ref_with_complete(columns.size() - 1, p);
    witness_ask w{with_complete(static_cast<property>(p)), {missed[p].front()}};
    proofs::synthesizer s(question(base, w.props, transport::tls, false));
    for (unsigned m : theirs)
      if (s.solve_all({missed[p].front(), m}, false).what == proofs::synth_result::outcome::impossible) {
        w.contexts.push_back(m);
        break;
      }
    if (w.contexts.size() == 1) w.contexts.insert(w.contexts.end(), theirs.begin(), theirs.end());
    trade[p] = witness_index(w);
  }
  std::vector<std::function<std::string()>> wjobs;
  for (const auto& w : wasks)
    wjobs.push_back([&base, w] {
      proofs::synthesizer s(question(base, w.props, transport::tls, false));
      const auto r = s.solve_all(w.contexts);
      nlohmann::json j{{"what", std::string(proofs::name(r.what))}, {"text", witness_md(r)}, {"seconds", r.seconds}};
      return j.dump();
    });
  const auto wanswers = proofs::run_in_children(wjobs, workers,
                                                [&](std::size_t i) { return "witness " + label(wasks[i].props); });
  std::vector<nlohmann::json> wres;
  for (const auto& a : wanswers) wres.push_back(nlohmann::json::parse(a));

  // ---- the page ----
  os << "# Limits: what no classifier can do without an assumption\n\n"
        "<!-- Generated by `migchan synth --limits --format markdown`; a test fails when this file is stale "
        "(timings aside). -->\n\n"
        "`migchan verify` says under which named assumptions (docs/assumptions.md) each classifier keeps each "
        "property (docs/properties.md). `migchan synth` asks the harder question: could *any* classifier do "
        "better? It searches every table over what the destination observes: a decision for each combination "
        "of its capabilities, the channel's transport, what it has classified so far, its state and, on a "
        "socket, the channel's first bytes. Each table runs through the same `step()` as the proofs, in "
        "reference's surroundings (when processing starts, the setup asserts, the MultiFDInit_t read, the "
        "sender generations). The search is counterexample-guided: Z3 proposes decisions, the query `migchan "
        "check` runs refutes them with a sender behaviour, the behaviour becomes a constraint, until a table "
        "survives or the constraints contradict each other. A contradiction is a proof that no table exists, "
        "and its unsat core is the witness: sender behaviours the destination cannot tell apart where it must "
        "decide, that need different decisions there.\n\n";
  bool alone_free = true;
  for (std::size_t p = 0; p < property_count; ++p)
    if (static_cast<property>(p) != property::complete)
      alone_free = alone_free && alone[p].minimal_sets == std::vector<unsigned>{0};
  os << (alone_free ? "Alone, every property but complete holds under no assumption on every transport"
                    : "Alone, NOT every property but complete holds under no assumption")
     << ": a table that refuses every channel it cannot tell apart never misclassifies, aborts, blocks or "
        "mis-wires, and no migration ever completes. So each property is asked together with complete: "
        "\"sound\" below means sound and complete.\n\n"
        "Sets are abbreviated: MF main-connects-first, PM preempt-after-multifd, XP multifd-excludes-preempt, "
        "TF tls-main-first, NM non-peekable-implies-multifd, NC non-peekable-configs-match, CM configs-match; "
        "`A+B` is one set, `, ` separates alternatives, `{}` is no assumption at all and `none` means under no "
        "set. \"every transport\" is derived: a property holds on every transport exactly where it holds on "
        "each"
     << (disagree.empty() ? ", and for the built-in classifiers this agrees with `migchan verify`"
                          : "; DISAGREES with `migchan verify` for " +
                                [&] {
                                  std::string s;
                                  for (const auto& d : disagree) s += (s.empty() ? "" : ", ") + d;
                                  return s;
                                }())
     << ".\n\n## Minimal assumption sets\n";
  if (!disagree.empty()) status = 1;
  for (std::size_t p = 0; p < property_count; ++p) {
    const auto prop = static_cast<property>(p);
    os << "\n### " << name(prop) << "\n\n| |";
    for (const auto& c : columns) os << " " << (c ? std::string(name(*c)) : std::string("every transport")) << " |";
    os << "\n|---|---|---|---|---|---|---|\n| **any classifier**"
       << (prop == property::complete ? "" : ", with complete") << " |";
    for (std::size_t c = 0; c < columns.size(); ++c) os << " **" << short_sets(any[p][c].minimal_sets) << "** |";
    if (prop != property::complete) {
      os << "\n| reference, with complete |";
      for (std::size_t c = 0; c < columns.size(); ++c) os << " " << short_sets(ref_with_complete(c, p)) << " |";
    }
    for (std::size_t t = 0; t < tables.size(); ++t) {
      os << "\n| " << tables[t]->name << " |";
      for (std::size_t c = 0; c < columns.size(); ++c) os << " " << short_sets(sets[t][c][p]) << " |";
    }
    os << "\n";
  }

  // model/optimal.h must say what was derived.
  std::vector<std::string> stale;
  for (std::size_t p = 0; p < property_count; ++p) {
    std::vector<unsigned> recorded;
    for (unsigned m : optimal_for(static_cast<property>(p)).sets)
      if (m != no_set) recorded.push_back(m);
    if (proofs::minimal(recorded) != any[p].back().minimal_sets)
      stale.push_back(std::string(name(static_cast<property>(p))));
    const bool trades = trade[p] && wres[*trade[p]].at("what") == "impossible";
    if (trades != optimal_for(static_cast<property>(p)).trade_off)
      stale.push_back(std::string(name(static_cast<property>(p))) + " (trade-off)");
  }
  os << "\nThe \"every transport\" sets of any classifier are recorded in `model/optimal.h`, which `migchan "
        "verify` compares reference with"
     << (stale.empty() ? ""
                       : " (STALE for " +
                             [&] {
                               std::string s;
                               for (const auto& x : stale) s += (s.empty() ? "" : ", ") + x;
                               return s;
                             }() +
                             ")")
     << ".\n";
  if (!stale.empty()) status = 1;

  os << "\n## Why each assumption is needed\n\n"
        "Only TLS needs assumptions: on a socket the first bytes name every channel, file: channels come in "
        "order, fd: and exec: carry main alone. For each minimal set of any classifier on TLS and each "
        "assumption in it, no table keeps the property under the set without that assumption; a witness below "
        "shows why (where complete alone already fails there, the witness is complete's).\n\n"
        "| property | minimal set | without | no table keeps it under | witness |\n|---|---|---|---|---|\n";
  // Properties that need their assumptions for the same reasons share rows.
  std::vector<std::pair<std::string, std::size_t>> groups;  // label, a property of the group
  for (std::size_t p = 0; p < property_count; ++p) {
    auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return needed[g.second] == needed[p]; });
    if (it == groups.end()) groups.emplace_back(std::string(name(static_cast<property>(p))), p);
    else it->first += ", " + std::string(name(static_cast<property>(p)));
  }
  for (const auto& [group, p] : groups)
    for (const auto& [m, a, w] : needed[p]) {
      const bool ok = wres[w].at("what") == "impossible";
      if (!ok) status = 1;
      os << "| " << group << " | " << short_set(m) << " | " << abbreviation[a] << " | "
         << short_set(wasks[w].contexts.front()) << " | "
         << (ok ? "" : "UNEXPECTED: " + std::string(wres[w].at("what")) + " ") << "W" << w + 1 << " |\n";
    }
  os << "\nEach witness: the observation where the destination must decide, and sender behaviours that reach it "
        "alike but need different decisions there; the command prints their traces in full (text, ITF and "
        "replay form).\n";
  for (std::size_t w = 0; w < wasks.size(); ++w) {
    if (std::any_of(trade.begin(), trade.end(), [&](const auto& t) { return t == w; })) continue;
    os << "\n**W" << w + 1 << "**: no table keeps " << label(wasks[w].props) << " under "
       << proofs::assumption_list(wasks[w].contexts.front()) << ".\n\n"
       << std::string(wres[w].at("text")) << "  `" << witness_command(wasks[w].props, transport::tls, wasks[w].contexts)
       << "`\n";
  }

  os << "\n## reference against the best\n\n";
  std::string optimal;
  for (std::size_t p = 0; p < property_count; ++p)
    if (missed[p].empty()) optimal += (optimal.empty() ? "" : ", ") + std::string(name(static_cast<property>(p)));
  os << "With complete, reference reaches every set any classifier reaches for " << (optimal.empty() ? "none" : optimal)
     << ".";
  for (std::size_t p = 0; p < property_count; ++p) {
    if (missed[p].empty()) continue;
    const auto& w = wres[*trade[p]];
    const auto& cs = wasks[*trade[p]].contexts;
    os << " For " << name(static_cast<property>(p)) << " another table also reaches " << short_sets(missed[p]) << "; "
       << (w.at("what") == "impossible"
               ? "no table reaches " + short_set(missed[p].front()) + " and " +
                     (cs.size() == 2 ? short_set(cs[1]) + ", which reference reaches"
                                     : std::string("every set reference reaches")) +
                     ": a trade-off (docs/reference.md says which reference chose "
                     "and why).\n\n" +
                     std::string(w.at("text")) + "  `" +
                     witness_command(wasks[*trade[p]].props, transport::tls, wasks[*trade[p]].contexts) + "`\n"
               : "a table reaches it and every set reference reaches: reference "
                 "could be improved.\n");
  }

  os << "\n## Beyond QEMU's observations: a buffered first TLS read\n\n"
        "QEMU cannot peek on TLS because its TLS channel lacks MSG_PEEK, not because the bytes are unknowable: "
        "after the handshake the first decrypted bytes are there. With a buffered first read the destination "
        "would see them as it sees a socket's peek (`migchan synth --tls-first-read`: reference's rows for "
        "peekable channels then cover TLS too). On TLS, each property with complete:\n\n"
        "| | any classifier | with a buffered first TLS read | assumptions it removes |\n|---|---|---|---|\n";
  for (std::size_t p = 0; p < property_count; ++p) {
    std::vector<std::string> removed;
    for (std::size_t a = 0; a < assumption_count; ++a) {
      const unsigned bit = 1u << a;
      const bool used = std::any_of(any[p][tls].minimal_sets.begin(), any[p][tls].minimal_sets.end(),
                                    [&](unsigned m) { return m & bit; });
      const bool still = std::any_of(first_read[p].minimal_sets.begin(), first_read[p].minimal_sets.end(),
                                     [&](unsigned m) { return m & bit; });
      if (used && !still) removed.push_back(std::string(abbreviation[a]));
    }
    std::string r;
    for (const auto& x : removed) r += (r.empty() ? "" : ", ") + x;
    os << "| " << name(static_cast<property>(p)) << " | " << short_sets(any[p][tls].minimal_sets) << " | "
       << short_sets(first_read[p].minimal_sets) << " | " << (r.empty() ? "none" : r) << " |\n";
  }

  os << "\n## Run time\n\n"
        "Each synth question (one set of assumptions) on this 2-core machine; the target is under 10 s. A "
        "minimal-set search asks one question per set it cannot decide from the answers before; what the "
        "solver learns carries over from one question to the next.\n\n"
        "| property | transport | questions | slowest | in all |\n|---|---|---|---|---|\n";
  double slowest = 0;
  for (std::size_t p = 0; p < property_count; ++p) {
    const auto row = [&](const std::string& what, const proofs::limit& l) {
      os << "| " << name(static_cast<property>(p)) << " | " << what << " | " << l.solves << " | " << seconds(l.slowest)
         << " | " << seconds(l.seconds) << " |\n";
      slowest = std::max(slowest, l.slowest);
    };
    for (std::size_t c = 0; c + 1 < columns.size(); ++c) row(std::string(name(*columns[c])), any[p][c]);
    row("tls, buffered first read", first_read[p]);
    row("every transport, alone", alone[p]);
  }
  double wslowest = 0;
  for (const auto& w : wres) wslowest = std::max(wslowest, w.at("seconds").get<double>());
  os << "\nSlowest question: " << seconds(slowest) << "; slowest witness (the same question, then the core made "
     << "smallest and the point of decision found): " << seconds(wslowest) << ".\n";
  return status;
}

}  // namespace migchan::cli
