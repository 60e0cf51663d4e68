// `migchan replay` of the scenario's arrivals into a real destination, and a real source
// through `migchan proxy --order` into one.
#include <algorithm>
#include <fstream>

#include "impl/conform/conform_run.h"
#include "impl/qemu/temp_dir.h"

namespace migchan::conform::detail {

namespace {

// Between two replayed connections: enough for the destination to accept and look at the
// first before the next comes.
constexpr int gap_ms = 20;

std::string write_trace(const target& t, const scenario& s, const std::filesystem::path& dir) {
  const auto path = dir / "trace.json";
  std::ofstream(path) << to_json(trace_of(t, s)).dump(2) << "\n";
  return path.string();
}

// The destination, configured and listening on TCP (a reset before any byte is a TCP RST:
// a unix socket has none); a refusal goes into `o`, and then there is no destination.
std::unique_ptr<qemu::qemu_vm> listening_destination(const target& t, const scenario& s, observed& o,
                                                     std::string& uri) {
  auto dst = start_vm(t, s, side::destination, {});
  try {
    configure(*dst, s, s.channels);
    dst->migrate_incoming("tcp:127.0.0.1:0", incoming_of(s));
  } catch (const std::runtime_error& ex) {
    o.refused = ex.what();
    return nullptr;
  }
  uri = listening_at(*dst);
  return dst;
}

}  // namespace

std::string listening_at(qemu::qemu_vm& dst) {
  const auto q = dst.query_migrate();
  for (const auto& a : q.value("socket-address", nlohmann::json::array()))
    if (a.value("type", "") == "inet") return "tcp:" + a.value("host", "") + ":" + a.value("port", "");
  throw std::runtime_error("dst: query-migrate names no inet socket-address: " + q.dump());
}

observed run_replay(const options& opt, const target& t, const scenario& s, const expectation& e,
                    nlohmann::json& details) {
  observed o;
  std::string uri;
  auto dst = listening_destination(t, s, o, uri);
  if (!dst || e.refused) return o;
  qemu::temp_dir dir("migchan-conform-replay-");
  const auto trace = write_trace(t, s, dir.path());
  // The replay holds its connections open well past the watch; it is killed at the end.
  auto rep = start_migchan(opt, {"replay", trace, "--to", uri, "--gap", std::to_string(gap_ms), "--wait", "3000",
                                 "--format", "json", "--machine", dst->machine_type()});
  const auto channels = static_cast<int>(expand(trace_of(t, s), uuid_bytes{}, gap_ms).size());
  settle_destination(o, *dst, e, millis(gap_ms * channels));
  rep->kill();
  details["replay"] = rep->output();
  return o;
}

observed run_proxy(const options& opt, const target& t, const scenario& s, const expectation& e,
                   nlohmann::json& details) {
  observed o;
  std::string uri;
  auto dst = listening_destination(t, s, o, uri);
  if (!dst) return o;
  auto src = start_vm(t, s, side::source, {});
  try {
    configure(*src, s, s.source_channels.value_or(s.channels));
    src->set_parameters({{"max-bandwidth", 1LL << 33}});
  } catch (const std::runtime_error& ex) {
    o.refused = ex.what();
    return o;
  }
  if (e.refused) return o;
  qemu::temp_dir dir("migchan-conform-proxy-");
  const auto trace = write_trace(t, s, dir.path());
  const auto listen = "unix:" + (dir.path() / "proxy.sock").string();
  // A connection without first bytes is silent once the proxy's peek timeout passes; only then
  // is it dialed, and the destination's watch starts from there.
  constexpr int peek_ms = 200;
  const bool silent = std::any_of(s.arrivals.begin(), s.arrivals.end(),
                                  [](const auto& a) { return a.magic == first_bytes::silent; });
  auto proxy = start_migchan(opt, {"proxy", "--listen", listen, "--to", uri, "--order", trace, "--log", "-",
                                   "--timeout", "8000", "--peek-timeout", std::to_string(peek_ms)});
  if (!proxy->wait_for_output("\"listening\"", millis(3000))) {
    o.failure = "proxy did not start: " + proxy->first_output_line();
    return o;
  }
  try {
    src->migrate(listen);
  } catch (const std::runtime_error& ex) {
    o.failure = ex.what();
  }
  settle_destination(o, *dst, e, millis(silent ? peek_ms : 0));
  // The source ends on its own once the destination has completed.
  o.source_status = source_status(*src, o.completed);
  proxy->kill();
  details["proxy_log"] = proxy->output();
  return o;
}

}  // namespace migchan::conform::detail
