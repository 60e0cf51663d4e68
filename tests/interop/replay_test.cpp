// `migchan replay` of qemu-7.2's sound counterexample (the one `migchan check --classifier
// qemu-7.2 --caps multifd --transport socket` finds, proved here in-process) against a real
// 7.2 destination, through conform: the destination prints the line of the trace's
// explanation, as the model says; and every installed QEMU completes a replayed main stream
// naming its machine type.
#include "impl/conform/conform.h"
#include "impl/qemu/outcome.h"
#include "impl/qemu/temp_dir.h"
#include "model/builtin.h"
#include "proofs/trace.h"
#include "proofs/verify.h"
#include "tests/interop/harness.h"
#include "tests/interop/migchan_exe.h"

#include <algorithm>
#include <array>
#include <fstream>

using namespace migchan;
using namespace migchan::interop;

TEST_CASE("replay of qemu-7.2's multifd-before-main counterexample against a real 7.2 destination") {
  const auto* q = usable_qemu({7, 2, 0});
  if (!q) return;
  if ((*q->version)[0] != 7) {
    interop::detail::report_skip("needs QEMU 7.2, the oldest here is " + q->label());
    interop::detail::note_skip();
    return;
  }
  const table& t = *find_builtin("qemu-7.2");
  proofs::verify_options o;
  o.z3.caps = std::array<bool, 4>{true, false, false, false};  // exactly multifd
  o.z3.uri = transport::socket;
  const auto verified = proofs::verify_table(t, o);
  const auto sound = std::find_if(verified.results.begin(), verified.results.end(),
                                  [](const auto& r) { return r.prop == property::sound; });
  REQUIRE(sound != verified.results.end());
  REQUIRE(sound->refuted);
  REQUIRE(sound->trace);
  const auto& cx = *sound->trace;
  const auto trace = parse_replay_trace(to_json(proofs::to_replay(t, property::sound, cx)));  // as replay reads it
  // multifd arrives first and becomes main, then main is rejected by the MultiFDInit_t check.
  REQUIRE(trace.arrivals.size() == 2);
  CHECK(trace.arrivals[0].kind == channel_kind::multifd);
  CHECK(trace.arrivals[1].kind == channel_kind::main);
  REQUIRE(trace.arrivals[1].expect);
  CHECK(trace.arrivals[1].expect->why == cause::multifd_init);
  // The model's explanation of the rejected step, as the trace's text form prints it.
  REQUIRE(cx.steps.size() == 2);
  REQUIRE(cx.steps[1].out.then == int(verdict::reject));
  const auto why = proofs::explain(t, cx.dst, cx.steps[1]);
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
