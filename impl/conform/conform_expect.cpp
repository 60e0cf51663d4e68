#include "impl/conform/conform_expect.h"

#include <algorithm>

#include "impl/runtime/decider.h"
#include "impl/runtime/receiver.h"
#include "model/texts.h"

namespace migchan::conform {

namespace {

using cd = cd_domain;

dest_config<cd> dest_of(const scenario& s) {
  return {s.multifd, s.postcopy_ram, s.postcopy_preempt, s.mapped_ram, s.channels, s.exit_on_error.value_or(true)};
}

sender_config<cd> source_of(const target& t, const scenario& s) {
  sender_config<cd> c{s.multifd,
                      s.postcopy_ram,
                      s.postcopy_preempt,
                      s.mapped_ram,
                      static_cast<int>(s.transport),
                      s.source_channels.value_or(s.channels),
                      static_cast<int>(sender_of(t, s)),
                      s.recovery,
                      s.switched || s.recovery};
  return c;
}

std::optional<std::string> refused_by_model(const target& t, const scenario& s) {
  const auto d = dest_of(s);
  if (auto why = refusal(*t.classifier, d, s.transport)) return why;
  // The source's release refuses what its own table refuses (the same capabilities are set on it).
  if (const table* src = classifier_for(t.source.version); src && src != t.classifier)
    if (auto why = refusal(*src, d, s.transport)) return why;
  // exit-on-error exists where a channel error ends the destination (model/table.h on_error).
  if (s.exit_on_error && t.classifier->sem.errors != on_error::fail_and_exit)
    return std::string(t.classifier->name) + " only reports a channel error: it has no exit-on-error";
  return std::nullopt;
}

// QEMU's line for one step, or nothing where QEMU prints nothing: a channel taken, a wait
// (the row's text then describes the wait), a channel never looked at, or a crash (whose
// garbage may say anything: crash_line).
std::optional<std::string> line_of(const table& t, const trace_step<cd>& st, const text_args& args) {
  const auto v = static_cast<verdict>(st.out.then);
  const auto why = static_cast<cause>(st.out.why);
  if (why == cause::behind || why == cause::none || why == cause::multifd_off) return std::nullopt;
  if (v == verdict::main || v == verdict::multifd || v == verdict::preempt || v == verdict::defer ||
      v == verdict::blocked || v == verdict::crash)
    return std::nullopt;
  auto text = outcome_text(t, st.in, st.out, st.before, args);
  if (text.empty()) return std::nullopt;
  return text;
}

expected_run run_of(const table& t, const prediction& p, const std::vector<text_args>& args) {
  expected_run e;
  e.fate = p.fate;
  for (std::size_t i = 0; i < p.steps.size(); ++i) {
    const auto& st = p.steps[i];
    e.decisions.emplace_back(name(static_cast<verdict>(st.out.then)));
    if (auto line = line_of(t, st, args[i])) e.lines.push_back(std::move(*line));
    if (st.out.then == static_cast<int>(verdict::crash) && st.out.why != static_cast<int>(cause::behind))
      e.crash_line = qemu_format(t.sem.texts->already_setup, {std::to_string(args[i].id)});
  }
  for (const auto& st : p.steps)
    if (st.out.then == static_cast<int>(verdict::main) && st.out.why == static_cast<int>(cause::rule)) {
      const auto m = static_cast<first_bytes>(st.in.magic);
      e.main_loads = m == first_bytes::vm_file_magic || m == first_bytes::vm_command;
      break;
    }
  return e;
}

std::vector<text_args> representative_args(const prediction& p, const dest_config<cd>& d) {
  std::vector<text_args> out;
  for (const auto& st : p.steps) out.push_back(representative(st.in, d, st.before));
  return out;
}

}  // namespace

std::string machine_of(const target& t, const scenario& s) { return s.machine.value_or(t.machine); }

sender_gen sender_of(const target& t, const scenario& s) { return sender_for(t.source.version, machine_of(t, s)); }

replay_trace trace_of(const target& t, const scenario& s) {
  replay_trace r;
  r.classifier = std::string(t.classifier->name);
  r.config = dest_of(s);
  r.transport = s.transport;
  r.recovery = s.recovery;
  r.arrivals = s.arrivals;
  return r;
}

expectation expect(const target& t, const scenario& s) {
  expectation e;
  if ((e.refused = refused_by_model(t, s))) return e;
  const auto d = dest_of(s);
  const auto initial = s.recovery ? paused_state<cd>(d) : fresh_state<cd>();
  if (s.how == family::replay) {
    // Each replayed channel as the model sees it, and QEMU's message values from its bytes.
    const auto channels = expand(trace_of(t, s), uuid_bytes{}, 0);
    std::vector<arrival<cd>> in;
    for (const auto& c : channels)
      in.push_back({true, static_cast<int>(c.kind), static_cast<int>(s.transport), static_cast<int>(c.magic), 1,
                    static_cast<int>(c.init)});
    const auto p = predict(*t.classifier, d, initial, in);
    std::vector<text_args> args;
    for (std::size_t i = 0; i < p.steps.size(); ++i)
      args.push_back(text_args_of(channels[i].first, channels[i].magic, p.steps[i].before.multifd_count, d.channels,
                                  uuid_bytes{}));
    e.runs.push_back(run_of(*t.classifier, p, args));
    return e;
  }
  if (s.how == family::proxy) {
    // A real source's channels, dialed in the scenario's order.
    std::vector<arrival<cd>> in;
    for (const auto& a : s.arrivals)
      in.push_back({true, static_cast<int>(a.kind), static_cast<int>(s.transport), static_cast<int>(a.magic), 1,
                    static_cast<int>(a.init)});
    const auto p = predict(*t.classifier, d, initial, in);
    e.runs.push_back(run_of(*t.classifier, p, representative_args(p, d)));
    return e;
  }
  for (const auto& p : predict_sources(*t.classifier, source_of(t, s), d))
    e.runs.push_back(run_of(*t.classifier, p, representative_args(p, d)));
  return e;
}

std::string expected_run::text() const {
  std::string out = std::string(name(fate)) + ":";
  std::string sep = " ";
  for (const auto& d : decisions) out += sep + d, sep = ",";
  switch (fate) {
    case fate::started: out += main_loads ? "; completes" : "; main is no stream: the load fails or waits"; break;
    case fate::waiting: out += "; waits in setup, QMP alive"; break;
    case fate::hung: out += "; main loop stuck, QMP dead"; break;
    case fate::exited: out += "; exits with code 1"; break;
    case fate::aborted: out += "; SIGABRT"; break;
    case fate::crashed: out += "; SIGSEGV, or the garbage says \"" + crash_line.value_or("?") + "\""; break;
    case fate::failed: out += "; status failed, alive"; break;
  }
  for (const auto& l : lines) out += "; prints \"" + l + "\"";
  return out;
}

std::string expectation::fates() const {
  if (refused) return "refused";
  std::vector<std::string> seen;
  for (const auto& r : runs)
    if (std::find(seen.begin(), seen.end(), name(r.fate)) == seen.end()) seen.emplace_back(name(r.fate));
  std::string out;
  for (const auto& f : seen) out += (out.empty() ? "" : " / ") + f;
  return out;
}

std::string expectation::text() const {
  if (refused) return "refused: " + *refused;
  std::string out;
  for (const auto& r : runs) out += (out.empty() ? "" : " | or ") + r.text();
  return out;
}

nlohmann::json expectation::to_json() const {
  nlohmann::json j;
  if (refused) {
    j["refused"] = *refused;
    return j;
  }
  j["runs"] = nlohmann::json::array();
  for (const auto& r : runs) {
    nlohmann::json x;
    x["fate"] = std::string(name(r.fate));
    x["decisions"] = r.decisions;
    x["lines"] = r.lines;
    if (r.crash_line) x["crash_line"] = *r.crash_line;
    x["main_loads"] = r.main_loads;
    j["runs"].push_back(x);
  }
  return j;
}

}  // namespace migchan::conform
