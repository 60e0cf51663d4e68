#include "impl/runtime/replay.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "model/builtin.h"
#include "tests/impl/runtime_util.h"

using namespace migchan;
using namespace migchan::test;
using nlohmann::json;

namespace {

std::string write_temp(const std::string& name, const std::string& text) {
  const auto path =
      (std::filesystem::temp_directory_path() / ("migchan-replay-" + std::to_string(::getpid()) + "-" + name)).string();
  std::ofstream(path) << text;
  return path;
}

std::string problem(const std::string& text) {
  try {
    parse_replay_trace(json::parse(text));
  } catch (const trace_error& e) {
    return e.what();
  }
  return "no error";
}

std::vector<std::string> trace_files() {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator("tests/traces/replay"))
    if (e.path().extension() == ".json") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

// A serve on a free local port for the trace's classifier, configuration and start state.
serve_options serve_for(const replay_trace& t, std::chrono::milliseconds peek_timeout) {
  serve_options o;
  o.classifier = find_builtin(t.classifier);
  REQUIRE(o.classifier);
  o.config = t.config;
  o.recovery = t.recovery;
  o.listen = parse_uri("tcp:127.0.0.1:0");
  o.peek_timeout = peek_timeout;
  return o;
}

}  // namespace

TEST_CASE("the replay form: defaults, errors named by their place") {
  const auto t = parse_replay_trace(json::parse(R"({"classifier": "qemu-7.2", "config": {"multifd": true},
      "arrivals": [{"kind": "main"}, {"kind": "multifd", "count": 3, "gap_ms": 50},
                   {"kind": "preempt", "expect": {"decision": "reject"}}]})"));
  CHECK(t.config.multifd);
  CHECK(t.config.channels == 2);
  CHECK(t.transport == transport::socket);
  REQUIRE(t.arrivals.size() == 3);
  CHECK(t.arrivals[0].magic == first_bytes::vm_file_magic);
  CHECK(t.arrivals[1].magic == first_bytes::multifd_magic);
  CHECK(t.arrivals[1].gap_ms == 50);
  CHECK(t.arrivals[2].magic == first_bytes::silent);
  CHECK(t.arrivals[2].expect->why == cause::rule);
  CHECK_FALSE(t.arrivals[2].expect->rule);
  // It writes back what it reads.
  CHECK(to_json(parse_replay_trace(to_json(t))) == to_json(t));

  CHECK(problem("[]") == "trace: expected a JSON object");
  CHECK(problem(R"({"arrivals": []})") == "classifier: expected a string");
  CHECK(problem(R"({"classifier": "x", "arrivals": []})") == "arrivals: is empty");
  CHECK(problem(R"({"classifier": "x", "arrivals": [{"magic": "silent"}]})") == "arrivals[0].kind: missing");
  CHECK(problem(R"({"classifier": "x", "arrivals": [{"kind": "tls"}]})") ==
        "arrivals[0].kind: 'tls' is not one of main, multifd, preempt");
  CHECK(problem(R"({"classifier": "x", "arrivals": [{"kind": "main", "count": 0}]})") ==
        "arrivals[0].count: 0 is outside 1..255");
  CHECK(problem(R"({"classifier": "x", "config": {"multifd": 1}, "arrivals": [{"kind": "main"}]})") ==
        "config.multifd: expected true or false");
  CHECK(problem(R"({"classifier": "x", "arrivals": [{"kind": "main", "expect": {"decision": "maybe"}}]})")
            .starts_with("arrivals[0].expect.decision: 'maybe' is not one of main, multifd"));
}

TEST_CASE("a trace file: missing, not JSON, malformed, each one line with the file") {
  CHECK_THROWS_WITH_AS(load_replay_trace("/nonexistent/t.json"),
                       "cannot read trace '/nonexistent/t.json': No such file or directory", trace_error);
  const auto junk = write_temp("junk.json", "{\"classifier\": ");
  CHECK_THROWS_WITH_AS(load_replay_trace(junk), doctest::Contains(("trace '" + junk + "': not JSON: ").c_str()),
                       trace_error);
  const auto bad = write_temp("bad.json", R"({"classifier": "x", "arrivals": [{"kind": "sideways"}]})");
  CHECK_THROWS_WITH_AS(
      load_replay_trace(bad),
      ("trace '" + bad + "': arrivals[0].kind: 'sideways' is not one of main, multifd, preempt").c_str(), trace_error);
  std::filesystem::remove(junk);
  std::filesystem::remove(bad);
}

TEST_CASE("expand: what each channel sends, multifd ids in order of appearance") {
  auto t = parse_replay_trace(json::parse(R"({"classifier": "reference", "config": {"recovery": true},
      "arrivals": [{"kind": "multifd"}, {"kind": "main"}, {"kind": "multifd", "count": 2},
                   {"kind": "preempt", "magic": "ram_page"}, {"kind": "preempt", "magic": "eof"},
                   {"kind": "main", "magic": "other"}]})"));
  const uuid_bytes uuid = *parse_uuid("11111111-2222-3333-4444-555555555555");
  const auto ch = expand(t, uuid, 7);
  REQUIRE(ch.size() == 7);
  CHECK(ch[0].multifd_id == 0);
  CHECK(ch[0].first == encode_multifd_init(uuid, 0));
  CHECK(ch[0].gap_ms == 0);
  CHECK(ch[1].first == recovery_command_bytes("pc.ram"));  // recovery: main reconnects with a command
  CHECK(ch[1].gap_ms == 7);
  CHECK(ch[2].multifd_id == 1);
  CHECK(ch[3].multifd_id == 2);
  CHECK(ch[3].arrival == 2);
  CHECK(hex(ch[4].first) == "0000000003fff0020670632e72616d00");
  CHECK(classify_prefix(ch[4].first, peer_end::open) == first_bytes::ram_page);
  CHECK(ch[5].end == replay_end::close);
  CHECK(ch[5].first.empty());
  CHECK(classify_prefix(ch[6].first, peer_end::open) == first_bytes::other);
  t.transport = transport::tls;
  CHECK_THROWS_WITH_AS(expand(t, uuid, 0), "transport 'tls' cannot be replayed over sockets", trace_error);
}

TEST_CASE("expand: \"end\" overrides how magic and init end a channel") {
  const auto t = parse_replay_trace(json::parse(R"({"classifier": "qemu-11.1",
      "arrivals": [{"kind": "main", "magic": "partial", "end": "close"}, {"kind": "main", "magic": "partial"},
                   {"kind": "main", "magic": "eof", "end": "stay"}]})"));
  const auto ch = expand(t, {}, 0);
  REQUIRE(ch.size() == 3);
  CHECK(ch[0].end == replay_end::close);
  CHECK(ch[0].first.size() == 2);
  CHECK(ch[1].end == replay_end::stay);
  CHECK(ch[2].end == replay_end::stay);
  CHECK(to_json(parse_replay_trace(to_json(t))) == to_json(t));
  CHECK(problem(R"({"classifier": "x", "arrivals": [{"kind": "main", "end": "later"}]})") ==
        "arrivals[0].end: 'later' is not one of stay, close, reset");
  // A value with a newline in it still gives one line (found by fuzz_replay_trace).
  CHECK(problem(R"({"classifier": "x", "arrivals": [{"kind": "ma\nin"}]})") ==
        "arrivals[0].kind: 'ma\\nin' is not one of main, multifd, preempt");
}

TEST_CASE("expand: main names the machine type given, else minimal_main_stream()'s") {
  const auto t = parse_replay_trace(json::parse(R"({"classifier": "qemu-7.2", "arrivals": [{"kind": "main"}]})"));
  CHECK(expand(t, {}, 0).at(0).first.size() == multifd_init_size + 8);  // padded, as before
  CHECK(parse_main_header(expand(t, {}, 0).at(0).first)->machine == parse_main_header(minimal_main_stream())->machine);
  CHECK(parse_main_header(expand(t, {}, 0, "pc-i440fx-11.1").at(0).first)->machine == "pc-i440fx-11.1");
}

TEST_CASE("every trace in tests/traces/replay, replayed against serve, decides as it expects and as the model says") {
  const auto files = trace_files();
  REQUIRE(files.size() >= 6);
  for (const auto& file : files) {
    CAPTURE(file);
    const auto t = load_replay_trace(file);
    const auto o = serve_for(t, 150ms);
    log_capture log;
    background<receiver> srv(o, log);
    replay_options ro;
    ro.to = srv.address();
    ro.wait = 500ms;  // silent channels stay open past the peek timeout
    const auto out = run_replay(t, ro);
    REQUIRE(log.wait_decisions(out.size()));
    const auto got = log_capture::decisions(log.all());
    std::vector<arrival<concrete_domain>> in;
    for (std::size_t i = 0; i < out.size(); ++i) {
      const auto& a = t.arrivals[out[i].ch.arrival];
      in.push_back(arrive(a.kind, a.magic));
      CAPTURE(i);
      CHECK(out[i].did != peer_did::refused);
      if (!a.expect) continue;
      CHECK(got[i]["decision"] == std::string(name(a.expect->decision)));
      CHECK(got[i]["cause"] == std::string(name(a.expect->why)));
      if (a.expect->why == cause::rule) CHECK(got[i]["rule"] == *a.expect->rule);
    }
    same_as_model(*o.classifier, t.config, in, got,
                  t.recovery ? paused_state<concrete_domain>(t.config) : fresh_state<concrete_domain>());
  }
}

TEST_CASE("replay reports what the peer did: 7.2 resets main when it comes second") {
  const auto t = load_replay_trace("tests/traces/replay/qemu-7.2-multifd-first.json");
  auto o = serve_opts(classifiers::qemu_7_2, "multifd");
  log_capture log;
  background<receiver> srv(o, log);
  replay_options ro;
  ro.to = srv.address();
  ro.wait = 200ms;
  const auto out = run_replay(t, ro);
  REQUIRE(out.size() == 3);
  CHECK(out[0].did == peer_did::open);
  CHECK(out[1].did == peer_did::reset);
  CHECK(out[2].did == peer_did::open);
  CHECK(to_json(out[1])["peer"] == "reset");
  CHECK(to_json(out[2])["multifd_id"] == 1);
}

TEST_CASE("replay of a postcopy trace receives MIG_RP_MSG_SHUT") {
  const auto path = write_temp("postcopy.json", R"({"classifier": "qemu-7.2", "config": {"postcopy_ram": true},
      "arrivals": [{"kind": "main"}]})");
  auto o = serve_opts(classifiers::qemu_7_2, "postcopy-ram");
  o.shut_idle = 50ms;
  log_capture log;
  background<receiver> srv(o, log);
  replay_options ro;
  ro.to = srv.address();
  ro.wait = 400ms;
  const auto out = run_replay(load_replay_trace(path), ro);
  REQUIRE(out.size() == 1);
  CHECK(out[0].received == 8);
  CHECK(hex(out[0].received_head) == "0001000400000000");
  std::filesystem::remove(path);
}

TEST_CASE("migchan replay: exit 2 with one line for a missing trace, a bad trace or a bad URI") {
  one_line_error({"replay", "/nonexistent/trace.json", "--to", "tcp:127.0.0.1:1"},
                 "migchan: cannot read trace '/nonexistent/trace.json': No such file or directory");
  one_line_error({"replay", "tests/traces/replay/qemu-7.2-natural.json", "--to", "tcp:[::1:5"},
                 "bad URI 'tcp:[::1:5': missing ']' after IPv6 address");
  one_line_error({"replay", "tests/traces/replay/qemu-7.2-natural.json"}, "--to needs a URI");
  const auto bad = write_temp("cli-bad.json", R"({"classifier": "x", "arrivals": [{"kind": "main", "count": -1}]})");
  one_line_error({"replay", bad, "--to", "tcp:127.0.0.1:1"}, "arrivals[0].count: -1 is outside 1..255");
  std::filesystem::remove(bad);
}

TEST_CASE("migchan replay against serve, both as children") {
  // serve on a unix socket, so no port has to be chosen up front.
  const auto sock =
      (std::filesystem::temp_directory_path() / ("migchan-" + std::to_string(::getpid()) + ".sock")).string();
  auto server = std::async(std::launch::async, [&] {
    return run_migchan({"serve", "--classifier", "qemu-7.2", "--caps", "multifd", "--listen", "unix:" + sock,
                        "--timeout", "3000", "--exit-after-complete"});
  });
  const auto until = steady::now() + 5s;
  while (!std::filesystem::exists(sock) && steady::now() < until) std::this_thread::sleep_for(5ms);
  const auto r = run_migchan({"replay", "tests/traces/replay/qemu-7.2-natural.json", "--to", "unix:" + sock, "--wait",
                              "200", "--format", "json"});
  CAPTURE(r.out);
  CHECK(r.rc == 0);
  CHECK(line_count(r.out) == 4);  // three channels, then the summary
  CHECK(r.out.find("\"peer\":\"open\"") != std::string::npos);
  CHECK(r.out.find("{\"summary\":{\"channels\":3,\"opened\":3,") != std::string::npos);
  const auto s = server.get();  // the replayer closed everything: migration complete
  CAPTURE(s.out);
  CHECK(s.rc == 0);
  CHECK(s.out.find("\"completed\":true") != std::string::npos);
  std::filesystem::remove(sock);
}

TEST_CASE("conformance: every socket counterexample of migchan verify, replayed against serve, decides as predicted") {
  // The counterexamples `migchan verify` writes, for every built-in
  // classifier, with and without restricting the sources to sockets.
  const auto base = std::filesystem::temp_directory_path() / ("migchan-conform-" + std::to_string(::getpid()));
  std::vector<std::string> files;
  for (const char* restrict_to : {"", "socket"}) {
    const auto dir = (base / (*restrict_to ? restrict_to : "all")).string();
    std::vector<std::string> args{"verify", "--traces", dir};
    if (*restrict_to) args.insert(args.end(), {"--transport", restrict_to});
    const auto r = run_migchan(args, 120000ms);
    CAPTURE(r.out.substr(0, 2000));
    REQUIRE((r.rc == 0 || r.rc == 1));  // 1: a restricted run differs from the recorded expectations
    for (const auto& e : std::filesystem::directory_iterator(dir))
      if (e.path().string().ends_with(".replay.json")) files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  std::size_t replayed = 0;
  std::set<std::string> classifiers_seen;
  for (const auto& file : files) {
    const auto t = load_replay_trace(file);
    if (t.transport != transport::socket) continue;  // tls, fd, file, exec: not over these sockets
    CAPTURE(file);
    const auto o = serve_for(t, 100ms);
    log_capture log;
    background<receiver> srv(o, log);
    replay_options ro;
    ro.to = srv.address();
    const auto channels = expand(t, {}, 0);
    // Each silent channel may hold the head for one peek timeout.
    ro.wait = std::chrono::milliseconds(200 + 100 * static_cast<int>(channels.size()));
    const auto out = run_replay(t, ro);
    // The model's run, and where the destination would die.
    std::vector<arrival<concrete_domain>> in;
    auto s = t.recovery ? paused_state<concrete_domain>(t.config) : fresh_state<concrete_domain>();
    const auto initial = s;
    for (const auto& ch : channels) {
      in.push_back(arrive(ch.kind, ch.magic, ch.init));
      const auto r = step<concrete_domain>(*o.classifier, t.config, s, in.back());
      s = r.next;
      if (r.next.aborted || r.next.exited) break;  // serve stops serving here
    }
    REQUIRE(log.wait_decisions(in.size()));
    const auto got = log_capture::decisions(log.all());
    CHECK(got.size() == in.size());
    for (std::size_t i = 0; i < in.size() && i < got.size(); ++i) {
      const auto& x = t.arrivals[channels[i].arrival].expect;
      if (!x) continue;
      CAPTURE(i);
      CHECK(got[i]["decision"] == std::string(name(x->decision)));
      CHECK(got[i]["cause"] == std::string(name(x->why)));
      if (x->why == cause::rule) CHECK(got[i]["rule"] == x->rule.value_or(""));
    }
    same_as_model(*o.classifier, t.config, in,
                  lines(got.begin(), got.begin() + static_cast<std::ptrdiff_t>(std::min(got.size(), in.size()))),
                  initial);
    ++replayed;
    classifiers_seen.insert(t.classifier);
  }
  std::filesystem::remove_all(base);
  MESSAGE(replayed << " socket counterexamples replayed, classifiers: " << classifiers_seen.size());
  CHECK(replayed >= 20);
  CHECK(classifiers_seen.size() >= 5);  // reference has no socket counterexample: it proves every property there
}

TEST_CASE("replay: connect() is bounded when the destination's accept queue is full") {
  // backlog 0, never accepted: one connection fills the queue, later SYNs are dropped.
  auto full = listen_on(parse_uri("tcp:127.0.0.1:0"), 0);
  const auto addr = parse_uri("tcp:127.0.0.1:" + std::to_string(local_port(full.get())));
  std::vector<unique_fd> fillers;
  const auto target = resolve_address(addr);
  for (int i = 0; i < 2; ++i) {
    int err = 0;
    fillers.push_back(connect_nonblocking(target, err));
  }
  pollfd p{fillers[0].get(), POLLOUT, 0};
  REQUIRE(::poll(&p, 1, 5000) == 1);  // the first is in the queue
  const auto path = write_temp("full.json", R"({"classifier": "qemu-7.2", "arrivals": [{"kind": "main"}]})");
  replay_options ro;
  ro.to = addr;
  ro.connect_timeout = 300ms;
  ro.wait = 100ms;
  const auto t0 = steady::now();
  const auto out = run_replay(load_replay_trace(path), ro);
  CHECK(steady::now() - t0 < 3s);
  REQUIRE(out.size() == 1);
  CHECK(out[0].did == peer_did::connect_timeout);
  CHECK(out[0].sent == 0);
  CHECK(out[0].error.find("did not complete in 300 ms: the destination's accept queue is full") != std::string::npos);
  // The command: nothing was replayed against it, one line, exit 2.
  const auto r = run_migchan({"replay", path, "--to", to_string(addr), "--connect-timeout", "300"});
  CAPTURE(r.out);
  CHECK(r.rc == 2);
  CHECK(line_count(r.out) == 1);
  CHECK(r.out.find("accept queue is full") != std::string::npos);
  std::filesystem::remove(path);
}

TEST_CASE("replay: a refused connection sent nothing, and the summary says which were not accepted") {
  auto closed = listen_on(parse_uri("tcp:127.0.0.1:0"), 1);
  const auto port = local_port(closed.get());
  closed.reset();
  replay_options ro;
  ro.to = parse_uri("tcp:127.0.0.1:" + std::to_string(port));
  ro.wait = 50ms;
  const auto out = run_replay(load_replay_trace("tests/traces/replay/qemu-7.2-natural.json"), ro);
  REQUIRE(out.size() == 3);
  for (const auto& x : out) {
    CHECK(x.did == peer_did::refused);
    CHECK(x.sent == 0);
    CHECK(to_json(x)["sent"] == 0);
  }
  const auto s = summarize(out, false);
  CHECK(s.exit == 2);  // the first did not connect: nothing listens there
  // Refused after the first: a finding.
  auto later = out;
  later[0].did = peer_did::open;
  const auto f = summarize(later, false);
  CHECK(f.exit == 1);
  CHECK(summary_text(f) ==
        "summary: 3 of 3 channels opened: 1 open, 2 refused; 2 connections were not accepted (exit 1)");
  const auto r = run_migchan({"replay", "tests/traces/replay/qemu-7.2-natural.json", "--to", to_string(ro.to)});
  CAPTURE(r.out);
  CHECK(r.rc == 2);
  CHECK(line_count(r.out) == 1);
  CHECK(r.out.find("sent") == std::string::npos);
  CHECK(r.out.find("Connection refused") != std::string::npos);
}

TEST_CASE("replay: an ITF file, a directory, a number past 64 bits, 2^64-1 and ids past 255 are one line each") {
  const auto itf = write_temp("x.itf.json", R"({"#meta": {"format": "ITF"}, "vars": ["a"], "states": []})");
  one_line_error({"replay", itf, "--to", "tcp:127.0.0.1:1"},
                 "is an ITF trace (for trace viewers); replay takes the replay form");
  one_line_error({"replay", "tests/traces/replay", "--to", "tcp:127.0.0.1:1"},
                 "trace 'tests/traces/replay' is a directory, not a replay-form file");
  const auto big = write_temp("big.json", R"({"classifier": "x", "arrivals": [{"kind": "main", "count": 1e999}]})");
  one_line_error({"replay", big, "--to", "tcp:127.0.0.1:1"}, "trace '" + big + "': not JSON: number overflow");
  const auto max = write_temp("max.json",
                              R"({"classifier": "x", "arrivals": [{"kind": "main", "count": 18446744073709551615}]})");
  one_line_error({"replay", max, "--to", "tcp:127.0.0.1:1"},
                 "arrivals[0].count: 18446744073709551615 is outside 1..255");
  const auto many = write_temp("many.json", R"({"classifier": "x", "config": {"multifd": true, "channels": 255},
      "arrivals": [{"kind": "main"}, {"kind": "multifd", "count": 255}, {"kind": "multifd", "count": 2}]})");
  one_line_error({"replay", many, "--to", "tcp:127.0.0.1:1"},
                 "arrivals[2]: multifd channel 256 cannot be sent, MultiFDInit_t's id is a byte (0..255)");
  for (const auto& p : {itf, big, max, many}) std::filesystem::remove(p);
}

TEST_CASE("migchan replay: SIGINT ends it with what it has, and the summary") {
  const auto sock =
      (std::filesystem::temp_directory_path() / ("migchan-int-" + std::to_string(::getpid()) + ".sock")).string();
  const auto logfile = sock + ".log";
  migchan_child serve({"serve", "--classifier", "qemu-7.2", "--caps", "multifd", "--listen", "unix:" + sock, "--log",
                       logfile, "--timeout", "20000"});
  REQUIRE(file_lines_with(logfile, "\"listening\""));
  // The second channel would come a minute after the first.
  const auto path = write_temp("slow.json", R"({"classifier": "qemu-7.2", "config": {"multifd": true},
      "arrivals": [{"kind": "main"}, {"kind": "multifd", "gap_ms": 60000}]})");
  migchan_child replay({"replay", path, "--to", "unix:" + sock});
  REQUIRE(file_lines_with(logfile, "\"decision\":\"main\""));
  replay.signal(SIGINT);
  const auto r = replay.wait(5000ms);
  CAPTURE(r.out);
  CHECK(r.rc == 0);
  CHECK(r.out.find("1. main (vm_file_magic) sent ") != std::string::npos);
  CHECK(r.out.find("summary: 1 of 2 channels opened (interrupted): 1 open; every connection was accepted (exit 0)") !=
        std::string::npos);
  serve.signal(SIGTERM);
  serve.wait();
  for (const auto& p : {path, sock, logfile}) std::filesystem::remove(p);
}
