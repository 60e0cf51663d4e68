#include "impl/runtime/caps.h"
#include "impl/conform/conform.h"

#include <chrono>
#include <stdexcept>

#include "impl/conform/conform_run.h"
#include "impl/qemu/tls.h"

namespace migchan::conform {

std::string_view name(verdict_kind v) {
  switch (v) {
    case verdict_kind::agree: return "agree";
    case verdict_kind::disagree: return "disagree";
    case verdict_kind::refused: return "refused";
  }
  return "?";
}

nlohmann::json to_json(const result& r) {
  nlohmann::json j;
  j["target"] = r.target;
  j["scenario"] = r.scenario;
  j["family"] = std::string(name(r.how));
  j["classifier"] = r.classifier;
  j["fate"] = r.fate;
  j["verdict"] = std::string(name(r.verdict));
  if (!r.why.empty()) j["why"] = r.why;
  j["prediction"] = r.prediction;
  j["outcome"] = r.outcome;
  j["seconds"] = r.seconds;
  j["details"] = r.details;
  return j;
}

namespace detail {

std::unique_ptr<qemu::qemu_vm> start_vm(const target& t, const scenario& s, side which,
                                        const std::filesystem::path& tls_dir) {
  qemu::vm_options v;
  const bool dst = which == side::destination;
  v.name = dst ? "dst" : "src";
  v.binary = dst ? t.destination.path : t.source.path;
  v.machine = machine_of(t, s);
  v.incoming_defer = dst;
  if (s.transport == transport::tls)
    v.tls = qemu::tls_psk{tls_dir, dst ? qemu::tls_endpoint::server : qemu::tls_endpoint::client};
  return std::make_unique<qemu::qemu_vm>(v);
}

void configure(qemu::qemu_vm& vm, const scenario& s, int channels) {
  std::map<std::string, bool> caps;
  const capability_set on{s.multifd, s.postcopy_ram, s.postcopy_preempt, s.mapped_ram};
  for (std::size_t i = 0; i < capability_names.size(); ++i)
    if (on[i]) caps[std::string(capability_names[i])] = true;
  if (!caps.empty()) vm.set_capabilities(caps);
  if (s.multifd) vm.set_parameters({{"multifd-channels", channels}});
}

qemu::incoming_options incoming_of(const scenario& s) { return {s.exit_on_error}; }

qemu::vm_outcome follow(observed& o, qemu::qemu_vm& vm, millis timeout, std::set<std::string> until) {
  auto w = qemu::watch(vm, timeout, {std::move(until), probe});
  note(o, w);
  return w;
}

void settle_destination(observed& o, qemu::qemu_vm& dst, const expectation& e, millis stimulus) {
  // What one expected run leaves on stderr.
  const auto shown = [](const expected_run& r, std::string_view out) {
    if (r.crash_line && out.find(*r.crash_line) != std::string_view::npos) return true;
    for (const auto& l : r.lines)
      if (out.find(l) == std::string_view::npos) return false;
    return !r.lines.empty();
  };
  // When every expected run prints something, wait for one of them (or for the process to end):
  // 7.2 prints a channel error and carries on, without any QMP event.
  bool all_print = !e.runs.empty();
  for (const auto& r : e.runs) all_print = all_print && (!r.lines.empty() || r.crash_line);
  if (all_print)
    dst.proc().wait_for_output_until(
        [&](std::string_view out) {
          for (const auto& r : e.runs)
            if (shown(r, out)) return true;
          return false;
        },
        end_deadline);
  // Then the destination's events: the statuses that end a run, and `active` where a replayed
  // main that is no stream only shows that loading began.
  std::set<std::string> until{"completed", "failed", "cancelled"};
  bool ends = false;
  for (const auto& r : e.runs) {
    if (r.fate == fate::started && !r.main_loads) until.insert("active");
    ends = ends || r.fate == fate::started || r.fate == fate::exited || r.fate == fate::aborted ||
           r.fate == fate::failed;
  }
  const auto w = follow(o, dst, stimulus + quiet, until);
  // A run that should end and has not yet: its deadline.
  if (ends && w.fate == qemu::vm_fate::alive && !until.count(w.status)) follow(o, dst, end_deadline, until);
}

std::string source_status(qemu::qemu_vm& src, bool should_end) {
  std::string now;
  try {
    now = src.qmp().execute("query-migrate", nlohmann::json::object(), probe).value("status", "");
  } catch (const std::exception& e) {
    return std::string("no answer: ") + e.what();
  }
  if (!should_end || now == "completed" || now == "failed" || now == "cancelled") return now;
  auto w = qemu::watch(src, end_deadline, {{"completed", "failed", "cancelled"}, probe});
  return w.fate == qemu::vm_fate::alive ? w.status : w.describe();
}

bool may_start(const expectation& e) {
  for (const auto& r : e.runs)
    if (r.fate == fate::started) return true;
  return false;
}

std::unique_ptr<qemu::process> start_migchan(const options& o, std::vector<std::string> args) {
  args.insert(args.begin(), o.migchan);
  return std::make_unique<qemu::process>(std::move(args), qemu::spawn_options{.capture_stdout = true});
}

}  // namespace detail

result run(const options& o, const target& t, const scenario& s) {
  const auto t0 = std::chrono::steady_clock::now();
  result r;
  r.target = t.label();
  r.scenario = s.name;
  r.how = s.how;
  r.classifier = std::string(t.classifier->name);
  const auto e = expect(t, s);
  r.prediction = e.text();
  r.fate = e.fates();
  r.details["predicted"] = e.to_json();
  r.details["machine"] = machine_of(t, s);
  r.details["sender"] = std::string(name(sender_of(t, s)));
  observed seen;
  try {
    switch (s.how) {
      case family::real: seen = detail::run_real(o, t, s, e, r.details); break;
      case family::serve: seen = detail::run_serve(o, t, s, e, r.details); break;
      case family::replay: seen = detail::run_replay(o, t, s, e, r.details); break;
      case family::proxy: seen = detail::run_proxy(o, t, s, e, r.details); break;
    }
  } catch (const std::exception& ex) {
    seen.failure = std::string("harness: ") + ex.what();
  }
  r.outcome = seen.text();
  if (!seen.stderr_text.empty()) r.details["stderr"] = seen.stderr_text;
  if (!seen.source_status.empty()) r.details["source_status"] = seen.source_status;
  const auto j = judge(e, seen, s);
  r.verdict = j.verdict;
  r.why = j.why;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace migchan::conform
