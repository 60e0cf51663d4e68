// `migchan conform` (a child, killed by pid) against every installed QEMU and across versions:
// every scenario agrees, each result is printed as soon as its scenario ends, docs/fidelity.md is
// what the full run prints, and bad input exits 2.
#include "impl/conform/conform.h"
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

// Waits for `p` to exit 0 and returns its JSON lines.
std::vector<json> finished(qemu::process& p) {
  const auto rc = p.wait_exit(milliseconds(60000));
  INFO(p.output());
  REQUIRE(rc.has_value());
  CHECK(*rc == 0);
  return json_lines(p.output());
}

}  // namespace

TEST_CASE("conform on each QEMU: results come one by one as the scenarios end, and agree") {
  MIGCHAN_FOR_EACH_QEMU(q) {
    // The hang scenario takes the longest (its watch and QMP probes): the first result must be
    // out while it still runs.
    qemu::process p({migchan_exe(), "conform", "--qemu", q->binary, "--format", "json", "--scenario", "replay-garbage",
                     "--scenario", "pc72-multifd-postcopy-preempt"},
                    {.capture_stdout = true});
    REQUIRE(p.wait_for_output("\"scenario\":\"replay-garbage\"", milliseconds(30000)));
    CHECK(p.is_alive());
    const auto lines = finished(p);
    REQUIRE(lines.size() == 3);
    CHECK(lines[0]["verdict"] == "agree");
    CHECK(lines[1]["scenario"] == "pc72-multifd-postcopy-preempt");
    CHECK(lines[1]["verdict"] == "agree");
    CHECK(lines[1]["fate"].get<std::string>().rfind("hung", 0) == 0);
    CHECK(lines[2]["summary"]["disagree"] == 0);
  }
}

TEST_CASE("conform --source 11.1 --destination 7.2 runs the pair on pc-i440fx-7.2 with 7.2's table") {
  MIGCHAN_REQUIRE_TWO_VERSIONS(older, newer);
  qemu::process p({migchan_exe(), "conform", "--source", newer->binary, "--destination", older->binary, "--format",
                   "json", "--scenario", "multifd-2", "--scenario", "preempt"},
                  {.capture_stdout = true});
  const auto lines = finished(p);
  REQUIRE(lines.size() == 3);
  for (int i = 0; i < 2; ++i) {
    CHECK(lines[i]["target"].get<std::string>().find(" -> ") != std::string::npos);
    CHECK(lines[i]["classifier"] == conform::classifier_for(*older->version)->name);
    CHECK(lines[i]["details"]["machine"] ==
          "pc-i440fx-" + std::to_string((*older->version)[0]) + "." + std::to_string((*older->version)[1]));
    CHECK(lines[i]["verdict"] == "agree");
  }
  // An 8.0+ source on a machine type <= 7.2 opens its preempt channel at start (x-preempt-pre-7-2);
  // 11.1, as every 9.0+ source, writes main only after its multifd connects.
  CHECK(lines[1]["details"]["sender"] == "early-preempt-multifd-first");
}

TEST_CASE("conform on both QEMUs and across versions: every scenario agrees, and docs/fidelity.md is current") {
  MIGCHAN_REQUIRE_TWO_VERSIONS(older, newer);
  const char* root = std::getenv("MIGCHAN_SOURCE_ROOT");
  REQUIRE_MESSAGE(root, "MIGCHAN_SOURCE_ROOT must name the source tree");
  const auto doc = std::filesystem::path(root) / "docs" / "fidelity.md";
  qemu::temp_dir dir("migchan-conform-test-");
  const auto out = dir.path() / "fidelity.md";
  // The page is stdout alone; the per-scenario lines go to stderr, which we capture.
  qemu::process p({"/bin/sh", "-c", "out=$1; shift; exec \"$@\" > \"$out\"", "sh", out.string(), migchan_exe(),
                   "conform", "--qemu", older->binary, "--qemu", newer->binary, "--format", "markdown"});
  const auto rc = p.wait_exit(milliseconds(240000));
  INFO(p.output());
  REQUIRE(rc.has_value());
  CHECK(*rc == 0);
  const auto page = slurp(out);
  CHECK(page.find("**disagree**") == std::string::npos);
  INFO("regenerate: migchan conform --qemu " << older->binary << " --qemu " << newer->binary
                                             << " --format markdown > docs/fidelity.md");
  CHECK(page == slurp(doc));
}

TEST_CASE("conform with bad input exits 2 with one line") {
  const std::vector<std::vector<std::string>> bad{
      {"--qemu", "/nonexistent/qemu-system-x86_64"},
      {"--qemu", "/bin/true"},
      {"--source", "/bin/true"},
      {"--qemu", "/bin/true", "--scenario", "no-such-scenario"},
      {"--qemu", "/bin/true", "--format", "yaml"},
      {"--qemu", "/bin/true", "--classifier", "qemu-0.1"},
      {},
  };
  for (const auto& args : bad) {
    std::vector<std::string> argv{migchan_exe(), "conform"};
    argv.insert(argv.end(), args.begin(), args.end());
    qemu::process p(argv, {.capture_stdout = true});
    const auto rc = p.wait_exit(milliseconds(10000));
    INFO(p.output());
    REQUIRE(rc.has_value());
    CHECK(*rc == 2);
    CHECK(p.output().find("migchan: ") == 0);
  }
}

TEST_CASE("conform --list names every scenario, and says which are left out by default") {
  qemu::process p({migchan_exe(), "conform", "--list"}, {.capture_stdout = true});
  const auto rc = p.wait_exit(milliseconds(10000));
  REQUIRE(rc.has_value());
  CHECK(*rc == 0);
  for (const auto& s : conform::catalogue()) {
    CAPTURE(s.name);
    const auto listed = std::string(s.name) + "  (" + std::string(conform::name(s.how)) +
                        (s.by_default ? ")" : ", not by default)");
    CHECK(p.output().find(listed) != std::string::npos);
  }
}
