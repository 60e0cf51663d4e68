// docs/findings.md against the real QEMUs it was made with: docs/gen-findings.py runs every
// reproducer and every check the page shows (migchan conform against QEMU 7.2 and 11.1, migchan
// check against the trees .ci/qemu-sources fetches); the page must come out as it is, and each
// finding's failure must be what the real destination did. Skipped, saying why, without the two
// QEMUs or the trees.
#include "impl/qemu/process.h"
#include "impl/qemu/temp_dir.h"
#include "tests/interop/harness.h"
#include "tests/interop/migchan_exe.h"

#include <cstdlib>
#include <sstream>

using namespace migchan;
using namespace migchan::interop;
using json = nlohmann::json;
using std::chrono::milliseconds;

namespace {

std::filesystem::path source_root() {
  const char* root = std::getenv("MIGCHAN_SOURCE_ROOT");
  REQUIRE_MESSAGE(root, "MIGCHAN_SOURCE_ROOT must name the source tree");
  return root;
}

bool is_release(const qemu::availability& q, int major, int minor) {
  return q.version && (*q.version)[0] == major && (*q.version)[1] == minor;
}

// The failure each finding is about, as the real destination (or source) showed it: scenario,
// target, a piece of conform's outcome line or the source's status.
struct shown {
  const char* scenario;
  const char* target;
  const char* outcome;
};
constexpr shown failures[] = {
    {"proxy-pc72-preempt-before-multifd", "11.1", "QMP dead, blocked"},
    {"proxy-pc72-preempt-before-multifd", "7.2 -> 11.1", "QMP dead, blocked"},
    {"proxy-pc72-preempt-before-multifd", "7.2", "QMP dead, blocked"},
    {"replay-partial", "11.1", "QMP dead, spinning"},
    {"replay-partial-close", "11.1", "QMP dead, spinning"},
    {"replay-partial-reset", "11.1", "QMP dead, spinning"},
    {"replay-silent", "11.1", "QMP dead, blocked"},
    {"multifd-2-into-4", "11.1", "alive, migration setup"},
    {"multifd-4-into-2", "11.1", "QMP dead, blocked"},
    {"multifd-8-into-4", "11.1", "QMP dead, blocked"},
    {"replay-id-at-count", "11.1", "exceeds channel count 2"},
    {"replay-second-main", "11.1", "SIGABRT"},
    {"replay-second-main-no-exit", "11.1", "SIGABRT"},
    {"replay-multifd-without-multifd", "11.1", "SIGABRT"},
    {"replay-multifd-without-multifd-no-exit", "11.1", "SIGABRT"},
};

}  // namespace

TEST_CASE("docs/findings.md is what its reproducers and checks print, and each finding fails as it says") {
  MIGCHAN_REQUIRE_TWO_VERSIONS(older, newer);
  if (!is_release(*older, 7, 2) || !is_release(*newer, 11, 1)) {
    detail::report_skip("docs/findings.md is made with QEMU 7.2 and 11.1");
    detail::note_skip();
    return;
  }
  const auto root = source_root();
  qemu::temp_dir dir("migchan-findings-test-");
  const auto page = dir.path() / "findings.md", results = dir.path() / "results.jsonl";
  qemu::process p({"/bin/sh", "-c", "out=$1; shift; exec \"$@\" > \"$out\"", "sh", page.string(), "python3",
                   (root / "docs" / "gen-findings.py").string(), "--migchan", migchan_exe(), "--qemu", older->binary,
                   "--qemu", newer->binary, "--results", results.string()});
  const auto rc = p.wait_exit(milliseconds(280000));
  INFO(p.output());
  REQUIRE(rc.has_value());
  if (*rc == 77) {  // the QEMU trees could not be had: the generator said why
    detail::report_skip(p.output());
    detail::note_skip();
    return;
  }
  REQUIRE(*rc == 0);

  std::vector<json> runs;
  {
    std::istringstream in(slurp(results));
    for (std::string line; std::getline(in, line);) runs.push_back(json::parse(line));
  }
  const auto find = [&](const std::string& scenario, const std::string& target) -> const json* {
    for (const auto& r : runs)
      if (r["scenario"] == scenario && r["target"] == target && r["classifier"] != "io-watch") return &r;
    return nullptr;
  };
  for (const auto& r : runs) {
    CAPTURE(r.dump());
    CHECK(r["verdict"] != "disagree");
  }
  for (const auto& f : failures) {
    CAPTURE(f.scenario);
    CAPTURE(f.target);
    const json* r = find(f.scenario, f.target);
    REQUIRE(r);
    CHECK(r->value("outcome", "").find(f.outcome) != std::string::npos);
  }
  // 2 into 4 over TCP: the source completes while the destination waits.
  for (const char* target : {"7.2", "11.1"}) {
    const json* r = find("multifd-2-into-4", target);
    REQUIRE(r);
    CHECK((*r)["details"].value("source_status", "") == "completed");
  }

  if (slurp(page) != slurp(root / "docs" / "findings.md")) {
    qemu::process diff({"diff", "-u", (root / "docs" / "findings.md").string(), page.string()},
                       {.capture_stdout = true});
    (void)diff.wait_exit(milliseconds(10000));
    FAIL_CHECK("docs/findings.md is stale:\n"
               << diff.output() << "regenerate: python3 docs/gen-findings.py --migchan build/impl/migchan --qemu "
               << older->binary << " --qemu " << newer->binary << " > docs/findings.md");
  }
}

TEST_CASE("7.2 with a MultiFDInit_t id equal to multifd-channels: every one of 3 runs crashes as the model says") {
  // Whether 7.2 dies by SIGSEGV or reads "already setup" from past the array is chance (about 1
  // in 3 dies); the model's `crashed` covers both, and each run must be one of them.
  MIGCHAN_REQUIRE_QEMUS(qemus);
  const qemu::availability* q72 = nullptr;
  for (const auto* q : qemus)
    if (is_release(*q, 7, 2)) q72 = q;
  if (!q72) {
    detail::report_skip("needs QEMU 7.2");
    detail::note_skip();
    return;
  }
  qemu::process p({migchan_exe(), "conform", "--qemu", q72->binary, "--format", "json", "--scenario",
                   "replay-id-at-count", "--scenario", "replay-id-at-count", "--scenario", "replay-id-at-count"},
                  {.capture_stdout = true});
  const auto rc = p.wait_exit(milliseconds(60000));
  INFO(p.output());
  REQUIRE(rc.has_value());
  CHECK(*rc == 0);
  int runs = 0;
  for (const auto& r : json_lines(p.output())) {
    if (!r.contains("scenario")) continue;
    ++runs;
    CHECK(r["fate"] == "crashed");
    CHECK(r["verdict"] == "agree");
    const auto outcome = r["outcome"].get<std::string>();
    CHECK((outcome.find("SIGSEGV") != std::string::npos || outcome.find("already setup") != std::string::npos));
  }
  CHECK(runs == 3);
}
