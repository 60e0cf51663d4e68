#include "impl/runtime/proxy.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "model/builtin.h"
#include "tests/impl/runtime_util.h"

using namespace migchan;
using namespace migchan::test;

namespace {

bytes random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 g(seed);
  bytes b(n);
  for (auto& x : b) x = static_cast<std::uint8_t>(g());
  return b;
}

// Reads everything until EOF (or reset); blocking socket.
bytes read_all(int fd) {
  bytes out;
  std::uint8_t buf[65536];
  for (;;) {
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return out;
    out.insert(out.end(), buf, buf + n);
  }
}

proxy_options proxy_opts(const uri& to) {
  proxy_options o;
  o.listen = parse_uri("tcp:127.0.0.1:0");
  o.to = to;
  o.peek_timeout = 300ms;
  return o;
}

}  // namespace

TEST_CASE("proxy relays byte-exact in both directions, half-closes included") {
  // The destination: reads all the source sends, then answers and closes.
  auto listener = listen_on(parse_uri("tcp:127.0.0.1:0"), 8);
  const auto port = local_port(listener.get());
  set_nonblocking(listener.get(), false);
  const auto up_data = random_bytes(3 << 20, 1), down_data = random_bytes(2 << 20, 2);
  auto dest = std::async(std::launch::async, [&] {
    unique_fd c(::accept(listener.get(), nullptr, nullptr));
    auto got = read_all(c.get());  // until the source's half-close arrives
    send_all(c.get(), down_data);
    return got;
  });
  log_capture log;
  background<proxy> px(proxy_opts(parse_uri("tcp:127.0.0.1:" + std::to_string(port))), log);
  auto src = dial(px.address());
  auto sender = std::async(std::launch::async, [&] {
    send_all(src.get(), up_data);
    ::shutdown(src.get(), SHUT_WR);
  });
  const auto back = read_all(src.get());
  sender.get();
  CHECK(dest.get() == up_data);
  CHECK(back == down_data);
  REQUIRE(log.wait_event("closed"));
  const auto closed = log_capture::events(log.all(), "closed")[0];
  CHECK(closed["bytes_up"] == up_data.size());
  CHECK(closed["bytes_down"] == down_data.size());
  CHECK(closed["end"] == "eof");
}

TEST_CASE("proxy relays a reset as a reset") {
  auto listener = listen_on(parse_uri("tcp:127.0.0.1:0"), 8);
  const auto port = local_port(listener.get());
  set_nonblocking(listener.get(), false);
  auto dest = std::async(std::launch::async, [&] {
    unique_fd c(::accept(listener.get(), nullptr, nullptr));
    return how_peer_ended(c.get());
  });
  log_capture log;
  background<proxy> px(proxy_opts(parse_uri("tcp:127.0.0.1:" + std::to_string(port))), log);
  auto src = dial(px.address(), minimal_main_stream());
  REQUIRE(log.wait_event("dialed"));
  reset_close(src);
  CHECK(dest.get() == "reset");
}

TEST_CASE("proxy classifies on the way, as serve does behind it") {
  log_capture dlog, plog;
  auto so = serve_opts(classifiers::reference, "multifd");
  background<receiver> srv(so, dlog);
  auto po = proxy_opts(srv.address());
  po.classifier = &classifiers::reference;
  po.config = so.config;
  background<proxy> px(po, plog);
  const auto t = load_replay_trace("tests/traces/replay/qemu-10.1-multifd-first.json");
  replay_options ro;
  ro.to = px.address();
  ro.wait = 100ms;
  const auto out = run_replay(t, ro);
  REQUIRE(dlog.wait_decisions(3));
  REQUIRE(plog.wait_decisions(3));
  const auto d = log_capture::decisions(dlog.all()), p = log_capture::decisions(plog.all());
  for (std::size_t i = 0; i < 3; ++i) {
    CAPTURE(i);
    CHECK(p[i]["decision"] == d[i]["decision"]);
    CHECK(p[i]["rule"] == d[i]["rule"]);
    CHECK(p[i]["first_bytes_hex"] == d[i]["first_bytes_hex"]);
    CHECK(p[i]["state_after"] == d[i]["state_after"]);
  }
  CHECK(d[0]["decision"] == "multifd");
  CHECK(d[1]["decision"] == "main");
  REQUIRE(dlog.wait_event("multifd_init", 2));
  for (const auto& r : out) CHECK(r.did == peer_did::open);
}

TEST_CASE(
    "proxy with a trace: the source's natural order reaches 7.2 multifd-first, and 7.2 fails as it does for real") {
  log_capture dlog, plog;
  background<receiver> srv(serve_opts(classifiers::qemu_7_2, "multifd"), dlog);
  auto po = proxy_opts(srv.address());
  po.order = load_replay_trace("tests/traces/replay/qemu-7.2-multifd-first.json");
  po.classifier = &classifiers::qemu_7_2;
  po.config = po.order->config;
  background<proxy> px(po, plog);
  // The source: M, F0, F1 in that order.
  replay_options ro;
  ro.to = px.address();
  ro.wait = 500ms;
  const auto out = run_replay(load_replay_trace("tests/traces/replay/qemu-7.2-natural.json"), ro);
  REQUIRE(dlog.wait_decisions(3));
  const auto d = log_capture::decisions(dlog.all());
  CHECK(d[0]["decision"] == "main");  // F0, taken as main
  CHECK(d[1]["decision"] == "reject");
  CHECK(d[1]["cause"] == "multifd_init");
  CHECK(d[1]["first_bytes_hex"] == "5145564d00000003");  // it was main
  CHECK(d[2]["decision"] == "multifd");
  REQUIRE(out.size() == 3);
  CHECK(out[0].did == peer_did::reset);  // the source's main, reset by the destination through the proxy
  CHECK(out[1].did == peer_did::open);
  CHECK(out[2].did == peer_did::open);
  // The proxy's own classification saw the destination's order too.
  REQUIRE(plog.wait_decisions(3));
  const auto p = log_capture::decisions(plog.all());
  CHECK(p[0]["accepted"] == 1);
  CHECK(p[1]["accepted"] == 0);
  CHECK(p[1]["decision"] == "reject");
  CHECK(px.stop_and_wait() == 0);
  CHECK(plog.all().back()["summary"]["trace_followed"] == true);
}

TEST_CASE("proxy with a trace gives up waiting after --hold-timeout and relays the rest as they come") {
  log_capture dlog, plog;
  background<receiver> srv(serve_opts(classifiers::reference, "multifd"), dlog);
  auto po = proxy_opts(srv.address());
  po.order = load_replay_trace("tests/traces/replay/qemu-10.1-multifd-first.json");  // wants multifd first
  po.hold_timeout = 200ms;
  background<proxy> px(po, plog);
  auto m = dial(px.address(), minimal_main_stream());  // only main ever comes
  REQUIRE(plog.wait_event("order_abandoned"));
  CHECK(log_capture::events(plog.all(), "order_abandoned")[0]["waiting_for"] == "multifd_magic");
  REQUIRE(dlog.wait_decisions(1));
  CHECK(log_capture::decisions(dlog.all())[0]["decision"] == "main");
}

TEST_CASE("proxy: a destination that refuses is a reset for the source, and the proxy goes on") {
  auto closed = listen_on(parse_uri("tcp:127.0.0.1:0"), 1);
  const auto port = local_port(closed.get());
  closed.reset();  // nothing listens there now
  log_capture log;
  background<proxy> px(proxy_opts(parse_uri("tcp:127.0.0.1:" + std::to_string(port))), log);
  auto a = dial(px.address(), minimal_main_stream());
  CHECK(how_peer_ended(a.get()) == "reset");
  auto b = dial(px.address());
  CHECK(how_peer_ended(b.get()) == "reset");
  REQUIRE(log.wait_event("error", 2));
  CHECK(log_capture::events(log.all(), "error")[0]["error"].get<std::string>().find("Connection refused") !=
        std::string::npos);
}

TEST_CASE("migchan proxy: exit 2 with one line for bad input") {
  one_line_error({"proxy", "--listen", "tcp:127.0.0.1:0", "--to", "tcp:localhost"},
                 "bad URI 'tcp:localhost': missing port");
  one_line_error({"proxy", "--listen", "file:/x", "--to", "tcp:127.0.0.1:1"}, "unsupported transport 'file'");
  one_line_error({"proxy", "--listen", "tcp:127.0.0.1:0", "--to", "tcp:127.0.0.1:1", "--classifier", "qemu-99"},
                 "unknown classifier 'qemu-99'");
  one_line_error({"proxy", "--listen", "tcp:127.0.0.1:0", "--to", "tcp:127.0.0.1:1", "--order", "/nonexistent.json"},
                 "cannot read trace '/nonexistent.json': No such file or directory");
}

TEST_CASE("proxy short of descriptors pauses instead of resetting the sources, and relays them later") {
  namespace fs = std::filesystem;
  // 40 and 41 descriptors: with one of them the last free descriptor goes to an
  // accepted source, and the dial to the destination is what runs short.
  for (const rlim_t nofile : {40, 41}) {
    CAPTURE(nofile);
    log_capture dlog;
    auto so = serve_opts(classifiers::reference, "", 2, order_mode::data);
    so.peek_timeout = 20000ms;  // the sources stay undecided and open at the destination
    background<receiver> srv(so, dlog);
    const auto dir = fs::temp_directory_path() /
                     ("migchan-proxy-emfile-" + std::to_string(::getpid()) + "-" + std::to_string(nofile));
    fs::create_directories(dir);
    const auto sock = (dir / "p").string(), logfile = (dir / "log").string();
    // The proxy in a child: about 15 pairs fit.
    migchan_child px({"proxy", "--listen", "unix:" + sock, "--to", to_string(srv.address()), "--timeout", "8000",
                      "--log", logfile},
                     nofile);
    REQUIRE(file_lines_with(logfile, "\"listening\"", 1, 5000ms));
    std::vector<unique_fd> sources;
    for (int i = 0; i < 30; ++i) sources.push_back(dial(parse_uri("unix:" + sock)));
    REQUIRE(file_lines_with(logfile, "Too many open files", 1, 3000ms));
    CHECK_FALSE(file_lines_with(logfile, "\"event\":\"error\"", 1, 0ms));
    for (auto& s : sources) {  // none was reset or closed
      pollfd p{s.get(), POLLIN, 0};
      CHECK(::poll(&p, 1, 0) == 0);
    }
    sources.erase(sources.begin(), sources.begin() + 20);  // room for the rest
    CHECK(file_lines_with(logfile, "\"event\":\"dialed\"", 30, 5000ms));
    px.signal(SIGTERM);
    const auto r = px.wait();
    CHECK(r.rc == 0);
    fs::remove_all(dir);
  }
}

TEST_CASE("proxy --order takes a trace that check wrote for a classifier in C") {
  namespace fs = std::filesystem;
  const auto dir = (fs::temp_directory_path() / ("migchan-proxy-c-" + std::to_string(::getpid()))).string();
  fs::create_directories(dir);
  const auto file = written_c("patch-v6", dir + "/channel.c");
  const auto c = run_migchan({"check", file, "--traces", dir + "/out"}, 120000ms);
  REQUIRE(c.rc == 1);
  std::string trace;
  for (const auto& e : fs::directory_iterator(dir + "/out"))
    if (e.path().string().ends_with(".replay.json")) trace = e.path().string();
  REQUIRE(!trace.empty());
  CHECK(load_replay_trace(trace).classifier == file);
  const auto r = run_migchan({"proxy", "--listen", "tcp:127.0.0.1:0", "--to", "tcp:127.0.0.1:1", "--order", trace,
                              "--timeout", "100"});
  CAPTURE(r.out);
  CHECK(r.rc == 1);  // nobody came: the trace's order was not followed
  CHECK(r.out.find("\"classifier\":\"" + file + "\"") != std::string::npos);
  CHECK(r.out.find("\"result\":\"the trace's order was not followed\"") != std::string::npos);
  fs::remove_all(dir);
}
