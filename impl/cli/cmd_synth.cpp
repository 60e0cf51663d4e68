// `migchan synth`: is there any classifier that keeps the chosen properties
// under a set of assumptions (proofs/synth.h)? Prints the table found, proved
// by the query `migchan check` runs, or the witness that none exists.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "impl/cli/classifier_arg.h"
#include "impl/cli/cli.h"
#include "impl/cli/synth_report.h"
#include "model/builtin.h"
#include "model/render.h"
#include "proofs/synth_limits.h"
#include "proofs/synth.h"
#include "proofs/synth_c.h"
#include "proofs/itf.h"
#include "proofs/trace.h"

namespace migchan::cli {

namespace {

struct synth_args {
  std::vector<std::string> assume;
  std::string base = "reference", transport, caps, props, format = "text", c_file, traces;
  bool assume_none = false, tls_first_read = false, limits = false;
  int max_channels = multifd_channels_max;
};

std::vector<property> parse_properties(const std::string& list) {
  std::vector<property> out;
  std::stringstream ss(list);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) continue;
    const auto p = parse_enum<property>(item);
    if (!p) throw usage_error("unknown property '" + item + "' (one of: " + join(enum_traits<property>::names) + ")");
    if (std::find(out.begin(), out.end(), *p) == out.end()) out.push_back(*p);
  }
  if (out.empty()) throw usage_error("--properties names no property");
  return out;
}

nlohmann::json names_json(const std::vector<property>& ps) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto p : ps) j.push_back(std::string(name(p)));
  return j;
}

nlohmann::json sets_json(const std::vector<unsigned>& sets) {
  nlohmann::json j = nlohmann::json::array();
  for (unsigned m : sets) {
    nlohmann::json one = nlohmann::json::array();
    for (std::size_t a = 0; a < assumption_count; ++a)
      if ((m >> a) & 1u) one.push_back(std::string(name(static_cast<assumption>(a))));
    j.push_back(one);
  }
  return j;
}

nlohmann::json verdict_names(std::uint16_t m) {
  nlohmann::json j = nlohmann::json::array();
  for (std::size_t v = 0; v < enum_size<verdict>; ++v)
    if ((m >> v) & 1u) j.push_back(std::string(name(static_cast<verdict>(v))));
  return j;
}

std::string property_list(const std::vector<property>& ps) {
  std::string s;
  for (const auto p : ps) s += (s.empty() ? "" : ", ") + std::string(name(p));
  return s;
}

}  // namespace

action add_synth(CLI::App& app) {
  auto* sub = app.add_subcommand("synth",
                                 "search every classifier over what the destination observes for one that "
                                 "keeps the properties, or prove that none does");
  auto a = std::make_shared<synth_args>();
  sub->add_option("--base", a->base,
                  "built-in classifier whose surroundings (start, setup, errors, senders, refused "
                  "configurations) the table runs in; its rows are the default decisions "
                  "(default reference)");
  sub->add_option("--assume", a->assume,
                  "comma-separated named assumptions in force; given again, one table must "
                  "keep the properties under each set")
      ->take_all();
  sub->add_flag("--assume-none", a->assume_none, "no assumption in force (the default)");
  sub->add_option("--transport", a->transport, "only sources on this transport: socket, fd, tls, file, exec");
  sub->add_option("--caps", a->caps,
                  "only sources with exactly these capabilities: comma-separated multifd, "
                  "postcopy-ram, postcopy-preempt, mapped-ram, or 'none'");
  sub->add_option("--properties", a->props, "comma-separated properties that must all hold (default: all six)");
  add_max_channels(sub, a->max_channels);
  one_of(sub->add_option("--format", a->format, "text, json, or with --limits alone markdown (docs/limits.md)"),
         {"text", "json", "markdown"});
  sub->add_option("--c", a->c_file,
                  "write the table found as a C function to FILE (`migchan check FILE --base "
                  "BASE` reads it back)");
  sub->add_option("--traces", a->traces, "write each witness trace to DIR as .itf.json, .replay.json and .txt");
  sub->add_flag("--limits", a->limits, "the minimal sets of assumptions under which some table keeps the properties");
  sub->add_flag("--tls-first-read", a->tls_first_read,
                "hypothetical: the destination sees a TLS channel's first decrypted bytes as a socket's peek");
  return [=] {
    check_max_channels(a->max_channels);
    if (!a->assume.empty() && a->assume_none) throw usage_error("--assume and --assume-none exclude each other");
    proofs::synth_options o;
    o.base = &builtin_named(a->base, "base classifier");
    o.props = a->props.empty() ? std::vector<property>{} : parse_properties(a->props);
    if (o.props.empty())
      for (std::size_t p = 0; p < property_count; ++p) o.props.push_back(static_cast<property>(p));
    o.z3.max_channels = a->max_channels;
    if (!a->caps.empty()) o.z3.caps = parse_cap_set(a->caps);
    if (!a->transport.empty()) o.z3.uri = parse_transport(a->transport);
    o.tls_first_read = a->tls_first_read;
    std::vector<unsigned> contexts;
    for (const auto& set : a->assume) contexts.push_back(parse_assumptions(set));
    if (contexts.empty()) contexts.push_back(0);
    if (!a->traces.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(a->traces, ec);
      if (ec) throw usage_error("cannot create '" + a->traces + "': " + ec.message());
    }

    if (a->format == "markdown") {
      if (!a->limits || !a->props.empty() || !a->transport.empty() || !a->caps.empty() || !a->assume.empty() ||
          a->tls_first_read || a->max_channels != multifd_channels_max)
        throw usage_error("--format markdown is the whole docs/limits.md page: --limits alone (with --base)");
      return print_limits_page(std::cout, *o.base);
    }
    proofs::synthesizer s(o);
    const bool json = a->format == "json";
    auto& os = std::cout;
    if (a->limits) {
      const auto l = proofs::minimal_sets(s);
      if (json) {
        nlohmann::json j{{"properties", names_json(o.props)},
                         {"transport",
                          o.z3.uri ? nlohmann::json(std::string(name(*o.z3.uri))) : nlohmann::json(nullptr)},
                         {"base", a->base},
                         {"tls_first_read", o.tls_first_read},
                         {"minimal_assumption_sets", sets_json(l.minimal_sets)},
                         {"impossible_under", sets_json(l.impossible)},
                         {"questions", l.solves},
                         {"seconds", l.seconds},
                         {"slowest", l.slowest}};
        os << j.dump(2) << "\n";
      } else {
        std::string sets, imp;
        for (unsigned m : l.minimal_sets) sets += (sets.empty() ? "" : " or ") + proofs::assumption_list(m);
        for (unsigned m : l.impossible) imp += (imp.empty() ? "" : " or ") + proofs::assumption_list(m);
        os << property_list(o.props) << ": some table keeps " << (o.props.size() > 1 ? "them" : "it") << " "
           << (sets.empty() ? "under no assumption set" : "under " + sets) << "\n";
        if (!imp.empty()) os << "none does under " << imp << "\n";
        os << l.solves << " questions, slowest " << l.slowest << " s, in all " << l.seconds << " s\n";
      }
      if (!l.unknown.empty()) {
        std::cerr << "migchan: Z3 gave up on some set: " << l.unknown << "\n";
        return 3;
      }
      return 0;
    }
    const auto r = s.solve_all(contexts);
    // Written before anything is printed, so that a table C cannot express is one error line.
    std::string c_text;
    if (r.what == proofs::synth_result::outcome::found && !a->c_file.empty()) {
      try {
        c_text = proofs::write_c(r.table->view, *o.base, a->base);
      } catch (const proofs::c_unwritable& e) {
        throw usage_error(e.what());
      }
      std::ofstream out(a->c_file);
      if (!(out << c_text)) throw usage_error("cannot write '" + a->c_file + "'");
    }
    std::vector<std::string> texts;
    for (std::size_t i = 0; i < r.witness.size(); ++i) {
      const auto& w = r.witness[i];
      texts.push_back(witness_text(w));
      if (a->traces.empty()) continue;
      const auto stem = (std::filesystem::path(a->traces) / ("behaviour-" + std::to_string(i + 1))).string();
      itf::save(stem + ".itf.json", proofs::to_itf(w.table->view, w.b.prop, w.b.context, w.cx, "migchan synth"));
      std::ofstream(stem + ".replay.json") << to_json(proofs::to_replay(w.table->view, w.b.prop, w.cx)).dump(2) << "\n";
      std::ofstream(stem + ".txt") << texts.back();
    }
    const int code = r.what == proofs::synth_result::outcome::found        ? 0
                     : r.what == proofs::synth_result::outcome::impossible ? 1
                                                                           : 3;
    if (json) {
      nlohmann::json j{{"outcome", std::string(proofs::name(r.what))},
                       {"properties", names_json(o.props)},
                       {"transport", o.z3.uri ? nlohmann::json(std::string(name(*o.z3.uri))) : nlohmann::json(nullptr)},
                       {"assumptions", sets_json(contexts)},
                       {"base", a->base},
                       {"tls_first_read", o.tls_first_read},
                       {"candidate_tables", r.rounds},
                       {"behaviours_learnt", r.learnt},
                       {"seconds", r.seconds}};
      if (r.table) {
        j["table"] = to_json(r.table->view);
        j["changed_rows"] = r.changed_rows;
        j["c"] = a->c_file.empty() ? nlohmann::json(nullptr) : nlohmann::json(a->c_file);
      }
      if (r.point) {
        auto at = to_json(r.point->at);
        if (!r.point->bytes_seen) at.erase("magic");
        nlohmann::json needs = nlohmann::json::array();
        for (const auto n : r.point->needs) needs.push_back(verdict_names(n));
        j["point"] = {{"observation", at}, {"needs", needs}};
      }
      j["witness"] = nlohmann::json::array();
      for (std::size_t i = 0; i < r.witness.size(); ++i) {
        const auto& w = r.witness[i];
        j["witness"].push_back(
            {{"property", std::string(name(w.b.prop))},
             {"table", std::string(w.table->view.name)},
             {"text", texts[i]},
             {"itf", itf::to_json(proofs::to_itf(w.table->view, w.b.prop, w.b.context, w.cx, "migchan synth"))},
             {"replay", to_json(proofs::to_replay(w.table->view, w.b.prop, w.cx))}});
      }
      if (!r.reason.empty()) j["unknown"] = r.reason;
      os << j.dump(2) << "\n";
      return code;
    }
    const std::string over = o.z3.uri ? std::string(name(*o.z3.uri)) : std::string("every transport");
    std::string under;
    for (unsigned c : contexts) under += (under.empty() ? "" : " and ") + proofs::assumption_list(c);
    os << "synth: " << property_list(o.props) << " on " << over << ", under " << (contexts.size() > 1 ? "each of " : "")
       << under << ", in " << o.base->name << "'s surroundings"
       << (o.tls_first_read ? ", with a buffered first TLS read" : "") << "; multifd-channels 1.." << a->max_channels
       << "\n"
       << name(r.what) << " after " << r.rounds << " candidate tables, " << r.learnt << " sender behaviours learnt ("
       << r.seconds << " s)\n";
    if (r.what == proofs::synth_result::outcome::found) {
      os << "proved by the query `migchan check` runs: " << property_list(o.props)
         << (o.props.size() > 1 ? " hold" : " holds") << " for multifd-channels 1.." << a->max_channels << " under "
         << under << "\n\n"
         << render_text(r.table->view);
      if (!a->c_file.empty())
        os << "\nwritten as C to " << a->c_file << " (migchan check " << a->c_file << " --base " << a->base << ")\n";
      return code;
    }
    if (r.what == proofs::synth_result::outcome::unknown) {
      os << "Z3 gave up: " << r.reason << "\n";
      return code;
    }
    if (r.point) {
      os << "\nno table exists: the behaviours below reach the same observation\n  "
         << observation_text(r.point->at, r.point->bytes_seen) << "\nand need different decisions there:\n";
      for (std::size_t i = 0; i < r.point->needs.size(); ++i)
        os << "  behaviour " << i + 1 << " needs " << verdict_set(r.point->needs[i]) << "\n";
    } else {
      os << "\nno table exists: no table handles all the behaviours below\n";
    }
    for (std::size_t i = 0; i < r.witness.size(); ++i)
      os << "\nbehaviour " << i + 1 << ", through " << r.witness[i].table->view.name << ", a table that "
         << (r.point ? "decides that observation otherwise" : "handles every other behaviour") << ":\n"
         << texts[i];
    return code;
  };
}

}  // namespace migchan::cli
