// A real source into `migchan serve` with the destination's table: serve answers the return
// path as a real destination does (PONG per PING, SHUT at the end), so a source that waits for
// a PONG before opening its preempt channel opens it into serve too.
#include <signal.h>

#include <algorithm>
#include <sstream>

#include "impl/conform/conform_run.h"
#include "impl/qemu/temp_dir.h"
#include "impl/runtime/receiver.h"

namespace migchan::conform::detail {

namespace {

// serve's decisions of new connections, in its log's order (wake-ups of parked ones left out).
std::vector<nlohmann::json> decision_lines(std::string_view log) {
  std::vector<nlohmann::json> out;
  std::istringstream in{std::string(log)};
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line.front() != '{' || line.find("\"decision\"") == std::string::npos) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.contains("decision") || j.contains("wake") || j.contains("reexamined")) continue;
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace

observed run_serve(const options& opt, const target& t, const scenario& s, const expectation& e,
                   nlohmann::json& details) {
  observed o;
  auto src = start_vm(t, s, side::source, {});
  try {
    configure(*src, s, s.source_channels.value_or(s.channels));
  } catch (const std::runtime_error& ex) {
    o.refused = ex.what();
    return o;
  }
  if (e.refused) return o;  // serve would refuse to start; QEMU took the configuration
  qemu::temp_dir dir("migchan-conform-serve-");
  const auto uri = "unix:" + (dir.path() / "mig.sock").string();
  std::vector<std::string> args{"serve",
                                "--classifier",
                                std::string(t.classifier->name),
                                "--listen",
                                uri,
                                "--log",
                                "-",
                                "--exit-after-complete",
                                "--timeout",
                                "8000",
                                "--peek-timeout",
                                "100"};
  dest_cfg cfg{s.multifd, s.postcopy_ram, s.postcopy_preempt, s.mapped_ram, s.channels};
  if (const auto caps = caps_string(cfg); !caps.empty()) args.insert(args.end(), {"--caps", caps});
  if (s.multifd) args.insert(args.end(), {"--multifd-channels", std::to_string(s.channels)});
  auto serve = start_migchan(opt, args);
  if (!serve->wait_for_output("\"listening\"", millis(3000))) {
    o.failure = "serve did not start: " + serve->first_output_line();
    return o;
  }
  try {
    // A preempt channel opened at start is silent when a real destination accepts it, but serve
    // looks only after its peek timeout, and drains where a real destination would block: slow
    // the postcopy phase too, or a switched source finishes and ends that channel with its EOS
    // first.
    src->set_parameters({{"max-bandwidth", s.switched ? (1LL << 20) : (1LL << 33)}});
    if (s.switched && s.postcopy_preempt && preempt_at_start(sender_of(t, s)))
      src->set_parameters({{"max-postcopy-bandwidth", 1LL << 20}});
    src->migrate(uri);
    if (s.switched) src->start_postcopy();
  } catch (const std::runtime_error& ex) {
    o.failure = ex.what();
  }
  // Every channel the model names is decided (or the deadline passes); then the source ends,
  // where the model lets it.
  std::size_t channels = 0;
  for (const auto& r : e.runs) channels = std::max(channels, r.decisions.size());
  serve->wait_for_output_until([&](std::string_view log) { return decision_lines(log).size() >= channels; },
                               end_deadline);
  o.source_status = source_status(*src, may_start(e));
  try {
    details["source_ram"] = src->query_migrate().value("ram", nlohmann::json::object());
  } catch (const std::runtime_error&) {
  }
  // serve exits by itself once main has ended; otherwise SIGTERM makes it write its summary.
  if (!serve->wait_exit(millis(may_start(e) ? 2000 : 100))) {
    ::kill(serve->pid(), SIGTERM);
    if (!serve->wait_exit(millis(2000))) serve->kill();
  }
  const auto lines = decision_lines(serve->output());
  std::vector<std::string> decided;
  for (const auto& j : lines) decided.push_back(j["decision"]);
  o.decisions = decided;
  if (!lines.empty()) o.serve_state = lines.back()["state_after"];
  details["serve_log"] = serve->output();
  std::istringstream log(serve->output());
  for (std::string line; std::getline(log, line);)
    if (line.find("\"summary\"") != std::string::npos)
      if (auto j = nlohmann::json::parse(line, nullptr, false); !j.is_discarded())
        details["serve_summary"] = j["summary"];
  return o;
}

}  // namespace migchan::conform::detail
