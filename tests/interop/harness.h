// Shared bits of the interop tests: the loud skip and migration deadlines.
#pragma once

#include "impl/qemu/qemu_vm.h"

#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace migchan::interop {

using namespace std::chrono_literals;

// Real migrations here take 10-500 ms (research §8); a few seconds means "hung", not "slow".
inline constexpr auto migrate_deadline = 5s;

namespace detail {

// doctest has no runtime skip. We count skips, and when every test that ran was skipped and
// none failed, the process exits 77 so `meson test` reports SKIP rather than OK.
struct skip_count {
  int started = 0;
  int skipped = 0;
  bool failed = false;
};

inline skip_count &skips() {
  static skip_count count;
  return count;
}

inline void note_skip() {
  if (skips().skipped++ == 0)
    std::atexit([] {
      const auto &c = skips();
      if (!c.failed && c.started > 0 && c.skipped == c.started) {
        std::fflush(nullptr);
        std::_Exit(77);
      }
    });
}

struct skip_listener : doctest::IReporter {
  explicit skip_listener(const doctest::ContextOptions &) {}
  void report_query(const doctest::QueryData &) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats &) override {}
  void test_case_start(const doctest::TestCaseData &) override { ++skips().started; }
  void test_case_reenter(const doctest::TestCaseData &) override {}
  void test_case_end(const doctest::CurrentTestCaseStats &st) override {
    if (!st.testCaseSuccess)
      skips().failed = true;
  }
  void test_case_exception(const doctest::TestCaseException &) override { skips().failed = true; }
  void subcase_start(const doctest::SubcaseSignature &) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData &) override {}
  void log_message(const doctest::MessageData &) override {}
  void test_case_skipped(const doctest::TestCaseData &) override {}
};

} // namespace detail

} // namespace migchan::interop

REGISTER_LISTENER("migchan_skip_count", 1, migchan::interop::detail::skip_listener);

// A test without QEMU prints SKIPPED on stdout and stderr and returns.
// With MIGCHAN_INTEROP_REQUIRED set (CI that installed QEMU) it fails instead.
#define MIGCHAN_REQUIRE_QEMU()                                                                     \
  do {                                                                                             \
    const auto &qemu_avail_ = ::migchan::qemu::qemu_available();                                   \
    if (!qemu_avail_) {                                                                            \
      if (std::getenv("MIGCHAN_INTEROP_REQUIRED"))                                                 \
        FAIL("QEMU required (MIGCHAN_INTEROP_REQUIRED) but unavailable: " << qemu_avail_.reason);  \
      MESSAGE("SKIPPED: " << qemu_avail_.reason);                                                  \
      std::fprintf(stderr, "SKIPPED: %s\n", qemu_avail_.reason.c_str());                           \
      ::migchan::interop::detail::note_skip();                                                     \
      return;                                                                                      \
    }                                                                                              \
  } while (0)
