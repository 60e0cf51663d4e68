// A real source into `migchan serve` (a child, killed by pid) that needs answers on main's
// return path: an 11.1 source opens its postcopy-preempt channel only after a PONG and leaves
// postcopy-device only after the PONG of the package's PING 0x42; every source with a return
// path completes only after SHUT; a paused postcopy resumes only after a bitmap per RAMBlock and
// RESUME_ACK. Each test names the QEMU it needs and skips loudly without it.
#include "impl/qemu/temp_dir.h"
#include "tests/interop/harness.h"
#include "tests/interop/migchan_exe.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace migchan;
using namespace migchan::qemu;
using namespace migchan::interop;
using json = nlohmann::json;

namespace {

// The first of $env and `paths` that runs and reports a version in [lo, hi), or "".
std::string qemu_binary(const char* env, std::vector<std::string> paths, version lo, version hi) {
  if (const char* e = std::getenv(env); e && *e) paths.insert(paths.begin(), e);
  for (const auto& p : paths)
    if (const auto v = qemu_version(p); v && *v >= lo && *v < hi) return p;
  return {};
}

// 11.1 from $MIGCHAN_QEMU_11, else the tree .ci's install puts Debian sid's QEMU in.
std::string qemu_11() {
  return qemu_binary("MIGCHAN_QEMU_11",
                     {"/var/cache/migchan/qemu-sid/qemu-system-x86_64", "/var/cache/migchan/qemu-11.1-probe"},
                     {8, 0, 0}, {99, 0, 0});
}

std::string qemu_72() { return qemu_binary("MIGCHAN_QEMU_72", {"/usr/bin/qemu-system-x86_64"}, {7, 2, 0}, {7, 3, 0}); }

// qemu_vm runs the binary $MIGCHAN_QEMU names: this test's choice, or a loud skip.
#define USE_QEMU(binary, what)                                                      \
  do {                                                                              \
    if ((binary).empty()) {                                                         \
      MESSAGE("SKIPPED: no " what " QEMU (set MIGCHAN_QEMU_11 / MIGCHAN_QEMU_72)"); \
      std::fprintf(stderr, "SKIPPED: no %s QEMU\n", what);                          \
      ::migchan::interop::detail::note_skip();                                      \
      return;                                                                       \
    }                                                                               \
    ::setenv("MIGCHAN_QEMU", (binary).c_str(), 1);                                  \
  } while (0)

// `migchan serve`, logging to its stdout, which we capture.
class serve_child {
 public:
  serve_child(const temp_dir& dir, const std::string& socket, std::vector<std::string> args)
      : uri_("unix:" + (dir.path() / socket).string()) {
    std::vector<std::string> argv{migchan_exe(), "serve", "--listen",       uri_, "--log", "-", "--exit-after-complete",
                                  "--timeout",   "15000", "--peek-timeout", "100"};
    argv.insert(argv.end(), args.begin(), args.end());
    proc_ = std::make_unique<process>(argv, spawn_options{.capture_stdout = true});
    REQUIRE_MESSAGE(proc_->wait_for_output("\"listening\"", millis(3000)), proc_->first_output_line());
  }
  const std::string& uri() const { return uri_; }
  // Waits for serve to exit on its own (--exit-after-complete), kills it at the deadline.
  std::string finish() {
    if (!proc_->wait_exit(millis(5000))) proc_->kill();
    proc_->wait_for_output_end(millis(1000));
    return proc_->output();
  }

 private:
  std::string uri_;
  std::unique_ptr<process> proc_;
};

std::vector<std::string> decisions(const std::vector<json>& log) {
  std::vector<std::string> out;
  for (const auto& j : log)
    if (j.contains("decision") && !j.contains("wake") && !j.contains("reexamined")) out.push_back(j["decision"]);
  return out;
}

std::vector<json> events(const std::vector<json>& log, const std::string& name) {
  std::vector<json> out;
  for (const auto& j : log)
    if (j.value("event", "") == name) out.push_back(j);
  return out;
}

std::vector<std::uint32_t> pongs(const std::vector<json>& log) {
  std::vector<std::uint32_t> out;
  for (const auto& e : events(log, "rp_pong")) out.push_back(e["value"]);
  return out;
}

bool contains(const std::vector<std::uint32_t>& v, std::uint32_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

struct outcome {
  json source;  // the last query-migrate
  std::vector<json> log;
};

// One migration from a fresh source into serve. With `switch_to_postcopy` the source is slowed
// to 1 MiB/s and migrate-start-postcopy follows migrate at once, so that it lands in precopy.
outcome migrate(const std::string& classifier, const std::string& caps, int channels, bool switch_to_postcopy) {
  temp_dir dir("migchan-rp-");
  std::vector<std::string> args{"--classifier", classifier, "--caps", caps};
  const bool multifd = caps.find("multifd") != std::string::npos;
  if (multifd) args.insert(args.end(), {"--multifd-channels", std::to_string(channels)});
  serve_child serve(dir, "mig.sock", args);
  qemu_vm src({.name = "src"});
  std::map<std::string, bool> on;
  std::istringstream list(caps);
  for (std::string c; std::getline(list, c, ',');) on[c] = true;
  src.set_capabilities(on);
  if (multifd) src.set_parameters({{"multifd-channels", channels}});
  src.set_parameters({{"max-bandwidth", switch_to_postcopy ? 1 << 20 : 1LL << 33}});
  src.migrate(serve.uri());
  if (switch_to_postcopy) src.start_postcopy();
  outcome o;
  try {
    o.source = src.wait_for_status({"completed"}, migrate_deadline);
  } catch (const std::runtime_error& e) {
    o.source = {{"status", std::string("not completed: ") + e.what()}};
  }
  o.log = json_lines(serve.finish());
  return o;
}

// Main first, then the preempt channel at the switch, and everything answered as a real
// destination answers it: PONG 1 (which lets the source open preempt) and PONG 0x42 (which lets
// it leave postcopy-device), then SHUT at the stream's end.
void check_preempt_run(const outcome& o, const std::vector<std::string>& want) {
  INFO("source: " << o.source.dump());
  INFO("serve log: " << json(o.log).dump());
  CHECK(o.source["status"] == "completed");
  CHECK(o.source["ram"]["postcopy-bytes"].get<std::uint64_t>() > 0);
  CHECK(decisions(o.log) == want);
  const auto p = pongs(o.log);
  CHECK(contains(p, 1));
  CHECK(contains(p, 0x42));
  const auto end = events(o.log, "main_end");
  REQUIRE(end.size() == 1);
  CHECK(end[0]["postcopy"] == true);
  CHECK(events(o.log, "rp_shut").size() == 1);
  CHECK(events(o.log, "main_unreadable").empty());
}

}  // namespace

TEST_CASE("11.1 with postcopy-preempt and migrate-start-postcopy: serve decides main, then preempt; completed") {
  USE_QEMU(qemu_11(), "11.1");
  for (const char* classifier : {"qemu-10.1", "reference"}) {
    CAPTURE(classifier);
    check_preempt_run(migrate(classifier, "postcopy-ram,postcopy-preempt", 2, true), {"main", "preempt"});
  }
}

TEST_CASE("11.1 with multifd 2, postcopy-ram and postcopy-preempt, switched: main, multifd x2, preempt; completed") {
  USE_QEMU(qemu_11(), "11.1");
  check_preempt_run(migrate("qemu-10.1", "multifd,postcopy-ram,postcopy-preempt", 2, true),
                    {"main", "multifd", "multifd", "preempt"});
}

TEST_CASE("11.1 precopy with postcopy-ram: SHUT at the stream's end, not after main has been idle") {
  USE_QEMU(qemu_11(), "11.1");
  const auto o = migrate("qemu-10.1", "postcopy-ram", 2, false);
  INFO("serve log: " << json(o.log).dump());
  CHECK(o.source["status"] == "completed");
  CHECK(o.source["ram"]["postcopy-bytes"].get<std::uint64_t>() == 0);
  const auto end = events(o.log, "main_end");
  const auto shut = events(o.log, "rp_shut");
  REQUIRE(end.size() == 1);
  REQUIRE(shut.size() == 1);
  CHECK(end[0]["postcopy"] == false);
  // The idle fallback would come 300 ms after main's last byte, the end is that last byte.
  CHECK(shut[0]["t"].get<double>() - end[0]["t"].get<double>() < 0.1);
  CHECK(pongs(o.log) == std::vector<std::uint32_t>{1});
}

TEST_CASE("7.2 with postcopy-preempt, switched: main, then preempt at once; completed") {
  USE_QEMU(qemu_72(), "7.2");
  const auto o = migrate("qemu-7.2", "postcopy-ram,postcopy-preempt", 2, true);
  INFO("source: " << o.source.dump());
  INFO("serve log: " << json(o.log).dump());
  CHECK(o.source["status"] == "completed");
  CHECK(decisions(o.log) == std::vector<std::string>{"main", "preempt"});
  // 7.2 does not wait for PONGs, but gets them; SHUT only once its stream has ended, as a
  // 7.2 source closes main when SHUT comes.
  CHECK(contains(pongs(o.log), 1));
  REQUIRE(events(o.log, "main_end").size() == 1);
  CHECK(events(o.log, "rp_shut").size() == 1);
  const auto eof = events(o.log, "eof");
  CHECK(std::any_of(eof.begin(), eof.end(), [](const json& e) { return e["conn"] == 0; }));
}

TEST_CASE("11.1 postcopy paused and resumed into serve --recovery: bitmaps, RESUME_ACK, completed") {
  USE_QEMU(qemu_11(), "11.1");
  const std::string caps = "postcopy-ram,postcopy-preempt";
  temp_dir dir("migchan-rp-");
  qemu_vm src({.name = "src"});
  src.set_capabilities({{"postcopy-ram", true}, {"postcopy-preempt", true}});
  // Slow enough in postcopy that migrate-pause lands while RAM is still being sent.
  src.set_parameters({{"max-bandwidth", 1 << 20}, {"max-postcopy-bandwidth", 50000}});
  std::string first_log;
  {
    serve_child first(dir, "mig.sock", {"--classifier", "qemu-10.1", "--caps", caps});
    src.migrate(first.uri());
    src.start_postcopy();
    src.wait_for_status({"postcopy-active"}, migrate_deadline);
    src.qmp().execute("migrate-pause");
    src.wait_for_status({"postcopy-paused"}, migrate_deadline);
    first_log = first.finish();
  }
  const auto log_a = json_lines(first_log);
  const auto blocks = events(log_a, "ram_blocks");
  REQUIRE(blocks.size() == 1);
  const auto path = dir.path() / "first.jsonl";
  std::ofstream(path) << first_log;

  serve_child second(dir, "recover.sock",
                     {"--classifier", "qemu-10.1", "--caps", caps, "--recovery", "--ram-blocks", path.string()});
  src.qmp().execute("migrate", {{"uri", second.uri()}, {"resume", true}});
  json last;
  try {
    last = src.wait_for_status({"completed"}, migrate_deadline);
  } catch (const std::runtime_error& e) {
    last = {{"status", e.what()}};
  }
  const auto log_b = json_lines(second.finish());
  INFO("source: " << last.dump());
  INFO("second serve: " << json(log_b).dump());
  CHECK(last["status"] == "completed");
  CHECK(decisions(log_b) == std::vector<std::string>{"main", "preempt"});
  const auto bitmaps = events(log_b, "rp_recv_bitmap");
  CHECK(bitmaps.size() == blocks[0]["blocks"].size());
  for (std::size_t i = 0; i < bitmaps.size() && i < blocks[0]["blocks"].size(); ++i)
    CHECK(bitmaps[i]["block"] == blocks[0]["blocks"][i]["name"]);
  CHECK(events(log_b, "rp_resume_ack").size() == 1);
  REQUIRE(events(log_b, "main_end").size() == 1);
  CHECK(events(log_b, "rp_shut").size() == 1);
}
