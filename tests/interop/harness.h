// Shared bits of the interop tests: which QEMUs to run against, the loud skip, migration deadlines.
#pragma once

#include "impl/qemu/qemu_vm.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace migchan::interop {

using namespace std::chrono_literals;

// Real migrations of these 64 MiB paused VMs take 10-500 ms; a few seconds means "hung", not "slow".
inline constexpr auto migrate_deadline = 5s;

namespace detail {

// doctest has no runtime skip. We count the test cases that skipped (once each, however often
// they say so), and when every test that ran was skipped and none failed, the process exits 77
// so `meson test` reports SKIP rather than OK.
struct skip_count {
  size_t started = 0;
  const doctest::TestCaseData* current = nullptr;
  std::set<const doctest::TestCaseData*> skipped;
  bool failed = false;
};

inline skip_count& skips() {
  static skip_count count;
  return count;
}

inline void note_skip() {
  auto& c = skips();
  if (c.skipped.empty())
    std::atexit([] {
      const auto& c = skips();
      if (!c.failed && c.started > 0 && c.skipped.size() == c.started) {
        std::fflush(nullptr);
        std::_Exit(77);
      }
    });
  c.skipped.insert(c.current);
}

struct skip_listener : doctest::IReporter {
  explicit skip_listener(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats&) override {}
  void test_case_start(const doctest::TestCaseData& tc) override {
    ++skips().started;
    skips().current = &tc;
  }
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats& st) override {
    if (!st.testCaseSuccess) skips().failed = true;
  }
  void test_case_exception(const doctest::TestCaseException&) override { skips().failed = true; }
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};

// "SKIPPED: <why>" on stdout and stderr; a failure instead under MIGCHAN_INTEROP_REQUIRED (CI that
// installed every QEMU).
inline void report_skip(const std::string& why) {
  if (std::getenv("MIGCHAN_INTEROP_REQUIRED")) FAIL("QEMU required (MIGCHAN_INTEROP_REQUIRED) but " << why);
  MESSAGE("SKIPPED: " << why);
  std::fprintf(stderr, "SKIPPED: %s\n", why.c_str());
}

}  // namespace detail

// The installed QEMUs that start (qemu::installed_qemus(): Debian's 7.2 and sid's 11.1 unless
// MIGCHAN_QEMUS says otherwise), oldest first. Each one that does not start is reported as
// skipped, with why; when none starts, the test case counts as skipped.
inline std::vector<const qemu::availability*> usable_qemus() {
  std::vector<const qemu::availability*> out;
  for (const auto& q : qemu::installed_qemus()) {
    if (q) out.push_back(&q);
    else detail::report_skip(q.reason);
  }
  std::stable_sort(out.begin(), out.end(), [](const auto* a, const auto* b) { return *a->version < *b->version; });
  if (out.empty()) detail::note_skip();
  return out;
}

// The oldest usable QEMU at `at_least` or newer; nullptr, reported as skipped, when there is none.
inline const qemu::availability* usable_qemu(const qemu::version& at_least) {
  for (const auto* q : usable_qemus())
    if (*q->version >= at_least) return q;
  detail::report_skip("needs QEMU " + qemu::to_string(at_least) + " or newer (.ci/qemu-sid installs 11.1)");
  detail::note_skip();
  return nullptr;
}

// A destination (-incoming defer) and a source, each of its own binary, for one migration over a
// unix socket in the destination's dir. The options name, binary and incoming_defer are set here;
// the rest (machine, tls, extra_args) come from the caller.
struct migration_pair {
  qemu::qemu_vm dst;
  qemu::qemu_vm src;
  std::string uri = dst.unix_uri("mig.sock");

  migration_pair(const qemu::availability& from, const qemu::availability& to, qemu::vm_options dst_opts = {},
                 qemu::vm_options src_opts = {})
      : dst(with(std::move(dst_opts), "dst", to.binary, true)),
        src(with(std::move(src_opts), "src", from.binary, false)) {}
  explicit migration_pair(const qemu::availability& q, qemu::vm_options dst_opts = {}, qemu::vm_options src_opts = {})
      : migration_pair(q, q, std::move(dst_opts), std::move(src_opts)) {}

  // On both sides, before the destination listens (11.1 refuses multifd and preempt after).
  void set_capabilities(const std::map<std::string, bool>& caps) {
    for (auto* vm : {&dst, &src}) vm->set_capabilities(caps);
  }
  // migrate-incoming on the destination, then migrate on the source.
  void start(const qemu::incoming_options& in = {}) {
    dst.migrate_incoming(uri, in);
    src.migrate(uri);
  }
  // Both sides' query-migrate once each reached `completed`; throws (quoting the status) if not.
  std::pair<qemu::json, qemu::json> wait_completed() {
    auto s = src.wait_for_status({"completed"}, migrate_deadline);
    return {s, dst.wait_for_status({"completed"}, migrate_deadline)};
  }

 private:
  static qemu::vm_options with(qemu::vm_options o, const char* name, const std::string& binary, bool incoming) {
    o.name = name;
    o.binary = binary;
    o.incoming_defer = incoming;
    return o;
  }
};

// The oldest and the newest usable QEMU, for migrations across versions; nullopt, reported as
// skipped, when there are not two versions.
inline std::optional<std::pair<const qemu::availability*, const qemu::availability*>> usable_version_pair() {
  const auto qemus = usable_qemus();
  if (qemus.size() >= 2 && *qemus.front()->version != *qemus.back()->version)
    return std::pair{qemus.front(), qemus.back()};
  detail::report_skip("needs two QEMU versions (Debian's 7.2 and .ci/qemu-sid's 11.1)");
  detail::note_skip();
  return std::nullopt;
}

}  // namespace migchan::interop

REGISTER_LISTENER("migchan_skip_count", 1, migchan::interop::detail::skip_listener);

// `list` becomes usable_qemus(); the test returns when it is empty (counted as skipped).
#define MIGCHAN_REQUIRE_QEMUS(list)                     \
  const auto list = ::migchan::interop::usable_qemus(); \
  if (list.empty()) return
// The statement after it runs once per usable_qemus() entry, `q` naming it in every failure:
//   MIGCHAN_FOR_EACH_QEMU(q) { qemu_vm vm({.binary = q->binary}); ... }
#define MIGCHAN_FOR_EACH_QEMU(q)      \
  MIGCHAN_REQUIRE_QEMUS(each_qemu_);  \
  for (const auto* q : each_qemu_)    \
    if (CAPTURE(q->label()); false) { \
    } else
// `q` becomes usable_qemu(version{...}); the test returns when there is none (counted as skipped).
#define MIGCHAN_REQUIRE_QEMU_AT_LEAST(q, ...)                                             \
  const auto* q = ::migchan::interop::usable_qemu(::migchan::qemu::version{__VA_ARGS__}); \
  if (!q) return

// `older` and `newer` become usable_version_pair()'s; the test returns when there is no pair.
#define MIGCHAN_REQUIRE_TWO_VERSIONS(older, newer)              \
  const auto pair_ = ::migchan::interop::usable_version_pair(); \
  if (!pair_) return;                                           \
  const auto *older = pair_->first, *newer = pair_->second

// A test of the default QEMU (qemu_available()) without one prints SKIPPED and returns.
#define MIGCHAN_REQUIRE_QEMU()                                                       \
  do {                                                                               \
    const auto& qemu_avail_ = ::migchan::qemu::qemu_available();                     \
    if (!qemu_avail_) {                                                              \
      ::migchan::interop::detail::report_skip("unavailable: " + qemu_avail_.reason); \
      ::migchan::interop::detail::note_skip();                                       \
      return;                                                                        \
    }                                                                                \
  } while (0)
