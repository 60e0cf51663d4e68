// `migchan replay` of qemu-7.2's sound counterexample (written by `migchan check --classifier
// qemu-7.2 --caps multifd --transport socket --traces DIR`) against a real 7.2 destination,
// through conform: the destination prints the line of the trace's explanation, as the model
// says; and every installed QEMU completes a replayed main stream naming its machine type.
#include "impl/conform/conform.h"
#include "impl/qemu/outcome.h"
#include "impl/qemu/temp_dir.h"
#include "tests/interop/harness.h"
#include "tests/interop/migchan_exe.h"

#include <fstream>
#include <sstream>

using namespace migchan;
using namespace migchan::interop;

namespace {

// The text after "-> reject: " in the .txt form of a trace: the model's explanation.
std::string explanation(const std::filesystem::path& txt) {
  std::ifstream in(txt);
  const std::string mark = "-> reject: ";
  for (std::string line; std::getline(in, line);)
    if (const auto at = line.find(mark); at != std::string::npos) return line.substr(at + mark.size());
  return {};
}

}  // namespace

TEST_CASE("replay of qemu-7.2's multifd-before-main counterexample against a real 7.2 destination") {
  const auto* q = usable_qemu({7, 2, 0});
  if (!q) return;
  if ((*q->version)[0] != 7) {
    interop::detail::report_skip("needs QEMU 7.2, the oldest here is " + q->label());
    interop::detail::note_skip();
    return;
  }
  qemu::temp_dir dir("migchan-replay-test-");
  qemu::process check({migchan_exe(), "check", "--classifier", "qemu-7.2", "--caps", "multifd", "--transport",
                       "socket", "--traces", dir.path().string()},
                      {.capture_stdout = true});
  const auto rc = check.wait_exit(std::chrono::milliseconds(60000));
  INFO(check.output());
  REQUIRE(rc.has_value());
  REQUIRE(*rc == 1);  // refuted
  const auto trace = load_replay_trace((dir.path() / "qemu-7.2.sound.replay.json").string());
  // multifd arrives first and becomes main, then main is rejected by the MultiFDInit_t check.
  REQUIRE(trace.arrivals.size() == 2);
  CHECK(trace.arrivals[0].kind == channel_kind::multifd);
  CHECK(trace.arrivals[1].kind == channel_kind::main);
  REQUIRE(trace.arrivals[1].expect);
  CHECK(trace.arrivals[1].expect->why == cause::multifd_init);
  const auto why = explanation(dir.path() / "qemu-7.2.sound.txt");
  CHECK(why.find("received packet magic 5145564d expected 11223344") != std::string::npos);

  const conform::binary b{q->binary, *q->version};
  const auto r = conform::run({migchan_exe()}, conform::make_target(b, b),
                              conform::scenario_of(trace, "sound counterexample"));
  INFO(r.prediction << "\n" << r.outcome << "\n" << r.why << "\n" << r.details.dump());
  CHECK(r.verdict == conform::verdict_kind::agree);
  CHECK(r.fate == "waiting");
  // The line conform looked for is the trace's own explanation, as QEMU printed it.
  CHECK(r.details["stderr"].get<std::string>().find(why) != std::string::npos);
}

TEST_CASE("replay --machine: main names the destination's machine type, and every installed QEMU completes") {
  MIGCHAN_REQUIRE_QEMUS(qemus);
  qemu::temp_dir dir("migchan-replay-test-");
  const auto trace = dir.path() / "main-only.json";
  std::ofstream(trace) << R"({"classifier": "qemu-7.2", "arrivals": [{"kind": "main"}]})";
  for (const auto* q : qemus) {
    CAPTURE(q->label());
    qemu::qemu_vm dst({.name = "dst", .binary = q->binary, .incoming_defer = true});
    const auto uri = dst.unix_uri("mig.sock");
    dst.migrate_incoming(uri);
    qemu::process rep({migchan_exe(), "replay", trace.string(), "--to", uri, "--wait", "300", "--machine",
                       dst.machine_type()},
                      {.capture_stdout = true});
    const auto d = qemu::watch(dst, migrate_deadline);
    INFO(d.stderr_text << rep.output());
    CHECK(d.describe() == "alive, migration completed");
  }
}
