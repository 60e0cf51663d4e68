#include "impl/conform.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include "impl/qemu/process.h"
#include "impl/qemu/temp_dir.h"
#include "impl/receiver.h"
#include "impl/replay.h"
#include "model/builtin.h"

namespace migchan::conform {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace std::chrono_literals;
using qemu::millis;

std::string_view name(verdict_kind v) {
  switch (v) {
    case verdict_kind::agree: return "agree";
    case verdict_kind::disagree: return "disagree";
    case verdict_kind::unsupported: return "unsupported";
  }
  return "?";
}

std::optional<std::string> classifier_for(const qemu::version& v) {
  const auto mm = v[0] * 100 + v[1];
  if (mm < 702) return std::nullopt;
  if (mm < 800) return "qemu-7.2";
  if (mm < 900) return "qemu-8.0";
  if (mm <= 1000) return "qemu-9.0";
  return "qemu-10.1";
}

namespace {

using clock = std::chrono::steady_clock;

double since(clock::time_point t0) { return std::chrono::duration<double>(clock::now() - t0).count(); }

// The JSON objects among a child's output lines (stdout and stderr are merged).
std::vector<json> json_lines(const std::string& text) {
  std::vector<json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line.front() != '{') continue;
    try {
      out.push_back(json::parse(line));
    } catch (const json::exception&) {
    }
  }
  return out;
}

std::unique_ptr<qemu::process> start_migchan(const options& o, std::vector<std::string> args) {
  args.insert(args.begin(), o.migchan);
  return std::make_unique<qemu::process>(std::move(args), qemu::spawn_options{.capture_stdout = true});
}

// Waits for the first log line ("listening") of serve or proxy.
void wait_listening(qemu::process& p, const char* what) {
  if (!p.wait_for_output("\"listening\"", 3000ms))
    throw std::runtime_error(std::string(what) + " did not start listening: " + p.first_output_line());
}

const table& table_or_throw(const std::string& n) {
  if (const table* t = find_builtin(n)) return *t;
  throw std::runtime_error("unknown classifier '" + n + "'");
}

struct model_prediction {
  std::vector<std::string> decisions;
  bool completes = true;
  bool stalled = false;  // the final state is stalled or aborted
};

// step() of the model on the arrivals, one channel each, on sockets.
model_prediction predict(const table& t, const dest_cfg& c,
                         const std::vector<std::pair<channel_kind, first_bytes>>& arrivals) {
  model_prediction p;
  auto s = fresh_state<concrete_domain>();
  for (auto [k, m] : arrivals) {
    const arrival<concrete_domain> a{true, static_cast<int>(k), static_cast<int>(transport::socket),
                                     static_cast<int>(m), 1};
    const auto r = step<concrete_domain>(t, c, s, a);
    const auto v = static_cast<verdict>(r.then);
    p.decisions.emplace_back(name(v));
    if (v == verdict::reject || v == verdict::drop || v == verdict::blocked || v == verdict::abort) p.completes = false;
    s = r.next;
  }
  const auto st = to_json(s);
  p.stalled = st.value("stalled", false) || st.value("aborted", false);
  if (p.stalled) p.completes = false;
  return p;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& x : v) out += (out.empty() ? "" : ",") + x;
  return out;
}

// Capabilities the binary lacks among `caps`.
std::vector<std::string> missing_caps(qemu::qemu_vm& vm, const std::vector<std::string>& caps) {
  std::set<std::string> have;
  for (const auto& c : vm.qmp().execute("query-migrate-capabilities")) have.insert(c.value("capability", ""));
  std::vector<std::string> out;
  for (const auto& c : caps)
    if (!have.count(c)) out.push_back(c);
  return out;
}

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> out;
  std::istringstream in(list);
  for (std::string x; std::getline(in, x, ',');)
    if (!x.empty()) out.push_back(x);
  return out;
}

std::string status_of(qemu::qemu_vm& vm) {
  try {
    return vm.query_migrate().value("status", "");
  } catch (const std::exception& e) {
    return std::string("qmp error: ") + e.what();
  }
}

// Polls query-migrate until a terminal status or the deadline; returns the last reply.
json settle(qemu::qemu_vm& vm, millis timeout) {
  const auto end = clock::now() + timeout;
  json last;
  for (;;) {
    try {
      last = vm.query_migrate();
    } catch (const std::exception& e) {
      last = json{{"status", std::string("qmp error: ") + e.what()}};
    }
    const auto st = last.value("status", "");
    if (st == "completed" || st == "failed" || st == "cancelled" || clock::now() >= end) return last;
    std::this_thread::sleep_for(10ms);
  }
}

scenario_result finish(scenario_result r, bool agree, clock::time_point t0) {
  r.verdict = agree ? verdict_kind::agree : verdict_kind::disagree;
  r.seconds = since(t0);
  return r;
}

}  // namespace

scenario_result run_serve(const options& o, const std::string& caps, int channels) {
  const auto t0 = clock::now();
  scenario_result r;
  const auto cap_list = split(caps);
  const bool multifd = caps.find("multifd") != std::string::npos;
  const bool preempt = caps.find("postcopy-preempt") != std::string::npos;
  const bool postcopy = caps.find("postcopy-ram") != std::string::npos;
  r.name = "serve " + (caps.empty() ? std::string("precopy") : caps) + (multifd ? " x" + std::to_string(channels) : "") +
           " [" + o.classifier + "]";
  const table& t = table_or_throw(o.classifier);
  const dest_cfg cfg = parse_caps(caps, channels);
  if (auto why = refusal(t, cfg)) {
    r.prediction = "configuration refused: " + *why;
    r.outcome = "not run";
    return r;
  }
  // What the source opens (qemu-7.2-peer.md §4, §5): main, accepted first, then the multifd
  // channels and the preempt channel (which says nothing) in an order the source does not fix:
  // 7.2 opens preempt about 1 ms after main, racing the multifd threads. The model is stepped on
  // every such accept order; the run must match one of them (decisions, and the outcome of that
  // order).
  std::vector<channel_kind> rest;
  if (multifd)
    for (int i = 0; i < channels; ++i) rest.push_back(channel_kind::multifd);
  if (preempt) rest.push_back(channel_kind::preempt);
  std::sort(rest.begin(), rest.end());
  std::vector<model_prediction> orders;
  do {
    std::vector<std::pair<channel_kind, first_bytes>> arrivals{{channel_kind::main, first_bytes::vm_file_magic}};
    for (auto k : rest)
      arrivals.emplace_back(k, k == channel_kind::multifd ? first_bytes::multifd_magic : first_bytes::silent);
    orders.push_back(predict(t, cfg, arrivals));
  } while (std::next_permutation(rest.begin(), rest.end()));
  auto describe = [](const model_prediction& m) {
    return "decisions " + join(m.decisions) + ", " +
           (m.completes ? "source completed" : m.stalled ? "destination stalled" : "a channel refused");
  };
  json all = json::array();
  for (const auto& m : orders) all.push_back(describe(m));
  r.details["predicted_orders"] = all;
  r.details["predicted_decisions"] = orders.front().decisions;
  r.prediction = describe(orders.front());
  if (orders.size() > 1) r.prediction = "one of " + std::to_string(orders.size()) + " accept orders: " + join(all.get<std::vector<std::string>>());
  qemu::qemu_vm src({.name = "src"});
  if (auto miss = missing_caps(src, cap_list); !miss.empty()) {
    r.outcome = "not run: this QEMU lacks " + join(miss);
    return r;
  }
  qemu::temp_dir dir("migchan-serve-");
  const auto uri = "unix:" + (dir.path() / "mig.sock").string();
  std::vector<std::string> args{"serve",        "--classifier", o.classifier, "--listen", uri, "--log", "-",
                                "--exit-after-complete", "--timeout", "8000", "--peek-timeout", "100"};
  if (!caps.empty()) args.insert(args.end(), {"--caps", caps});
  if (multifd) args.insert(args.end(), {"--multifd-channels", std::to_string(channels)});
  auto serve = start_migchan(o, args);
  wait_listening(*serve, "serve");

  std::map<std::string, bool> on;
  for (const auto& c : cap_list) on[c] = true;
  if (!on.empty()) src.set_capabilities(on);
  if (multifd) src.set_parameters({{"multifd-channels", channels}});
  src.set_parameters({{"max-bandwidth", 8589934592LL}});
  src.migrate(uri);
  // Postcopy completes only after serve's SHUT, 300 ms after main went idle.
  const auto q = settle(src, postcopy ? 5000ms : 3000ms);
  const auto status = q.value("status", "");
  r.details["source_status"] = status;
  if (q.contains("ram")) r.details["ram_transferred"] = q["ram"].value("transferred", 0ULL);
  if (status != "completed") {
    try {
      src.qmp().execute("migrate_cancel");
    } catch (const std::exception&) {
    }
  }
  if (!serve->wait_exit(3000ms)) serve->kill();
  serve->wait_for_output_end(1000ms);
  const auto lines = json_lines(serve->output());
  std::vector<std::string> decisions;
  json summary;
  for (const auto& j : lines) {
    if (j.contains("decision") && !j.value("wake", false) && !j.value("reexamined", false))
      decisions.push_back(j["decision"]);
    if (j.contains("summary")) summary = j["summary"];
  }
  r.details["decisions"] = decisions;
  r.details["summary"] = summary;
  unsigned long long drained = 0;
  if (summary.contains("channels"))
    for (const auto& c : summary["channels"]) drained += c.value("bytes", 0ULL);
  r.details["drained_bytes"] = drained;
  if (summary.contains("multifd_ids")) r.details["multifd_ids"] = summary["multifd_ids"];
  // serve is not a real destination: where the model says the destination stalls, serve logs
  // `blocked` and keeps draining, so the source may still complete. The destination's fate is
  // serve's summary (stalled/aborted), the source's is asserted only when the model says completed.
  const bool stuck = summary.value("stalled", false) || summary.value("aborted", false);
  r.details["destination_stalled"] = stuck;
  r.outcome = "decisions " + join(decisions) + ", " +
              (stuck ? "destination stalled (source " + status + ")" : "source " + status);
  const model_prediction* match = nullptr;
  for (const auto& m : orders)
    if (m.decisions == decisions) match = &m;
  if (match) r.details["predicted_decisions"] = match->decisions;
  const bool agree = match && match->stalled == stuck && (!match->completes || status == "completed");
  return finish(std::move(r), agree, t0);
}

std::optional<counterexample> make_counterexample(const options& o, const fs::path& dir) {
  qemu::process check({o.migchan, "check", "--classifier", o.classifier, "--caps", "multifd", "--transport",
                       "socket", "--traces", dir.string()},
                      {.capture_stdout = true});
  const auto rc = check.wait_exit(60000ms);
  if (!rc || (*rc != 0 && *rc != 1))
    throw std::runtime_error("migchan check failed: " + check.first_output_line());
  counterexample cx;
  cx.trace = dir / (o.classifier + ".sound.replay.json");
  if (!fs::exists(cx.trace)) {
    cx.synthesized = true;
    cx.trace = dir / (o.classifier + ".multifd-first.replay.json");
    cx.replay = {{"classifier", o.classifier},
                 {"config",
                  {{"multifd", true}, {"postcopy_ram", false}, {"postcopy_preempt", false}, {"mapped_ram", false},
                   {"channels", 1}, {"transport", "socket"}, {"recovery", false}}},
                 {"arrivals", json::array({{{"kind", "multifd"}}, {{"kind", "main"}}})},
                 {"description", "a multifd channel before main (qemu-7.2's sound counterexample order); " +
                                     o.classifier + " has no such counterexample"}};
    std::ofstream(cx.trace) << cx.replay.dump(2) << "\n";
  } else {
    std::ifstream(cx.trace) >> cx.replay;
  }
  // The model's explanation of the rejection, as the .txt trace prints it.
  std::ifstream txt(dir / (o.classifier + ".sound.txt"));
  for (std::string line; std::getline(txt, line);) {
    const std::string mark = "-> reject: ";
    if (auto at = line.find(mark); at != std::string::npos) {
      cx.expected_error = line.substr(at + mark.size());
      break;
    }
  }
  // Natural order: main first, the rest as they were; no expectations (they were for the other order).
  json nat = cx.replay;
  json arr = json::array();
  for (int pass = 0; pass < 2; ++pass)
    for (auto a : cx.replay["arrivals"])
      if ((a.value("kind", "") == "main") == (pass == 0)) {
        a.erase("expect");
        arr.push_back(a);
      }
  nat["arrivals"] = arr;
  nat["property"] = "natural order of " + cx.trace.filename().string();
  cx.natural = dir / (o.classifier + ".natural.replay.json");
  std::ofstream(cx.natural) << nat.dump(2) << "\n";
  return cx;
}

namespace {

struct trace_prediction {
  bool completes = true;
  std::string error;
  std::string text;
};

// From the trace's `expect` entries when it has them, else from step() on its arrivals.
trace_prediction predict_trace(const options& o, const fs::path& file, const counterexample& cx) {
  const auto tr = load_replay_trace(file.string());
  trace_prediction p;
  std::vector<std::string> decisions;
  bool have_expect = true;
  for (const auto& a : tr.arrivals) have_expect = have_expect && a.expect.has_value();
  if (have_expect) {
    for (const auto& a : tr.arrivals) {
      decisions.emplace_back(name(a.expect->decision));
      if (a.expect->decision == verdict::reject || a.expect->decision == verdict::drop ||
          a.expect->decision == verdict::blocked || a.expect->decision == verdict::abort)
        p.completes = false;
    }
  } else {
    std::vector<std::pair<channel_kind, first_bytes>> arr;
    for (const auto& a : tr.arrivals)
      for (int i = 0; i < a.count; ++i) arr.emplace_back(a.kind, a.magic);
    const auto m = predict(table_or_throw(o.classifier), tr.config, arr);
    decisions = m.decisions;
    p.completes = m.completes;
  }
  if (!p.completes) p.error = cx.expected_error;
  p.text = "decisions " + join(decisions) + ": destination " +
           (p.completes ? std::string("completed")
            : p.error.empty() ? std::string("does not complete")
                              : "stderr '" + p.error + "'");
  return p;
}

int trace_channels(const counterexample& cx) { return cx.replay["config"].value("channels", 2); }
bool trace_multifd(const counterexample& cx) { return cx.replay["config"].value("multifd", false); }

void prepare(qemu::qemu_vm& vm, const counterexample& cx) {
  if (trace_multifd(cx)) {
    vm.set_capabilities({{"multifd", true}});
    vm.set_parameters({{"multifd-channels", trace_channels(cx)}});
  }
}

// The destination's outcome: the predicted error on stderr, or `completed`, whichever comes.
// QEMU prints "failed to receive packet via multifd channel N: " and then the check's detail. The
// detail needs 64 bytes on the misread channel (`migchan replay` pads its main stream past that);
// a shorter main stream makes 7.2 block in its 64-byte read and say "Unexpected end-of-file" once
// the sender closes (qemu-7.2-peer.md §7). Then the misclassification is shown but not the magic
// detail: details["detail_differs"] says so, and the outcome quotes QEMU's own line.
std::string destination_outcome(qemu::qemu_vm& dst, const trace_prediction& p, millis timeout, json& details) {
  if (!p.completes && p.error.empty()) {  // a failure without the model's words: compare the status
    const auto q = settle(dst, std::min(timeout, millis(1500)));
    details["destination_status"] = q.value("status", "");
    details["stderr"] = dst.proc().output();
    const auto st = q.value("status", "");
    if (st == "completed") return "completed";
    return "does not complete (status '" + st + "'), stderr: " + dst.proc().first_output_line();
  }
  if (!p.completes) {
    const auto cut = p.error.find(": ");
    const auto prefix = cut == std::string::npos ? p.error : p.error.substr(0, cut + 2);
    bool seen = dst.proc().wait_for_output(prefix, timeout);
    if (seen && !dst.proc().wait_for_output(p.error, 300ms)) {
      details["detail_differs"] = true;
      const auto out = dst.proc().output();
      const auto at = out.find(prefix);
      const auto eol = out.find('\n', at);
      details["destination_status"] = status_of(dst);
      details["stderr"] = out;
      return "stderr '" + out.substr(at, eol == std::string::npos ? std::string::npos : eol - at) +
             "' (misclassified as predicted; the detail differs)";
    }
    details["destination_status"] = status_of(dst);
    details["stderr"] = dst.proc().output();
    return seen ? "stderr '" + p.error + "'" : "no such error on stderr (status '" +
                                                  details["destination_status"].get<std::string>() + "')";
  }
  const auto q = settle(dst, timeout);
  details["destination_status"] = q.value("status", "");
  details["stderr"] = dst.proc().output();
  const auto st = q.value("status", "");
  return st == "completed" ? std::string("completed") : "status '" + st + "', stderr: " + dst.proc().first_output_line();
}

}  // namespace

scenario_result run_replay(const options& o, const std::optional<counterexample>& cx, bool natural) {
  const auto t0 = clock::now();
  scenario_result r;
  r.name = std::string("replay ") +
           (natural ? "natural order" : cx && cx->synthesized ? "multifd before main" : "counterexample") + " [" +
           o.classifier + "]";
  if (!cx) {
    r.prediction = "no sound counterexample on multifd sockets for " + o.classifier;
    r.outcome = "not run";
    return r;
  }
  const auto file = natural ? cx->natural : cx->trace;
  const auto p = predict_trace(o, file, *cx);
  r.prediction = p.text;
  r.details["expected_error"] = p.error;
  qemu::qemu_vm dst({.name = "dst", .incoming_defer = true});
  if (trace_multifd(*cx))
    if (auto miss = missing_caps(dst, {"multifd"}); !miss.empty()) {
      r.outcome = "not run: this QEMU lacks multifd";
      return r;
    }
  prepare(dst, *cx);
  const auto uri = dst.unix_uri("mig.sock");
  dst.migrate_incoming(uri);
  // The replayed main stream names the destination's own machine type, which it checks first.
  auto rep = start_migchan(o, {"replay", file.string(), "--to", uri, "--wait", "300", "--format", "json",
                               "--machine", dst.machine_type()});
  r.outcome = destination_outcome(dst, p, 3000ms, r.details);
  if (!rep->wait_exit(3000ms)) rep->kill();
  r.details["replay_output"] = rep->output();
  const bool agree = p.completes ? r.outcome == "completed" : r.outcome.rfind("completed", 0) != 0 &&
                                                                  r.outcome.rfind("no such error", 0) != 0;
  return finish(std::move(r), agree, t0);
}

scenario_result run_proxy(const options& o, const std::optional<counterexample>& cx, bool natural) {
  const auto t0 = clock::now();
  scenario_result r;
  r.name = std::string("proxy ") +
           (natural ? "natural order" : cx && cx->synthesized ? "multifd before main" : "counterexample order") +
           " [" + o.classifier + "]";
  if (!cx) {
    r.prediction = "no sound counterexample on multifd sockets for " + o.classifier;
    r.outcome = "not run";
    return r;
  }
  const auto p = predict_trace(o, natural ? cx->natural : cx->trace, *cx);
  r.prediction = p.text;
  r.details["expected_error"] = p.error;
  qemu::qemu_vm dst({.name = "dst", .incoming_defer = true});
  qemu::qemu_vm src({.name = "src"});
  if (trace_multifd(*cx))
    if (auto miss = missing_caps(src, {"multifd"}); !miss.empty()) {
      r.outcome = "not run: this QEMU lacks multifd";
      return r;
    }
  prepare(dst, *cx);
  prepare(src, *cx);
  const auto to = dst.unix_uri("mig.sock");
  dst.migrate_incoming(to);
  qemu::temp_dir dir("migchan-proxy-");
  const auto listen = "unix:" + (dir.path() / "proxy.sock").string();
  std::vector<std::string> args{"proxy", "--listen", listen, "--to", to, "--log", "-", "--timeout", "8000"};
  if (!natural) args.insert(args.end(), {"--order", cx->trace.string()});
  auto proxy = start_migchan(o, args);
  wait_listening(*proxy, "proxy");
  src.migrate(listen);
  r.outcome = destination_outcome(dst, p, 4000ms, r.details);
  const auto s = settle(src, p.completes ? 3000ms : 300ms);
  r.details["source_status"] = s.value("status", "");
  r.outcome += "; source " + s.value("status", std::string("?"));
  proxy->kill();
  r.details["proxy_log"] = proxy->output();
  bool agree = p.completes ? r.outcome.rfind("completed", 0) == 0 && s.value("status", "") == "completed"
                           : r.outcome.rfind("completed", 0) != 0 && r.outcome.rfind("no such error", 0) != 0;
  return finish(std::move(r), agree, t0);
}

std::vector<scenario_result> run_all(const options& o, const fs::path& work) {
  std::vector<scenario_result> out;
  out.push_back(run_serve(o, "", 2));
  out.push_back(run_serve(o, "multifd", 2));
  out.push_back(run_serve(o, "multifd", 4));
  out.push_back(run_serve(o, "postcopy-ram", 2));
  out.push_back(run_serve(o, "postcopy-ram,postcopy-preempt", 2));
  out.push_back(run_serve(o, "multifd,postcopy-ram", 2));
  out.push_back(run_serve(o, "multifd,postcopy-ram,postcopy-preempt", 2));
  const auto cx = make_counterexample(o, work);
  out.push_back(run_replay(o, cx, false));
  out.push_back(run_replay(o, cx, true));
  out.push_back(run_proxy(o, cx, false));
  out.push_back(run_proxy(o, cx, true));
  return out;
}

}  // namespace migchan::conform
