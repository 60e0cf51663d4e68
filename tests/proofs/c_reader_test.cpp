#include "proofs/c_reader.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "model/builtin.h"
#include "model/check.h"
#include "model/render.h"

using namespace migchan;

namespace {

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  REQUIRE_MESSAGE(in, "cannot open " << p.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::filesystem::path traces() { return MIGCHAN_C_TRACES; }

parsed_table read_trace(const std::string& name, const table& base) {
  return read_classifier(slurp(traces() / name), name, base);
}

// The message of the c_reader_error that f throws, or "" if none.
template <class F> std::string error_of(F f) {
  try {
    f();
  } catch (const c_reader_error& e) {
    return e.what();
  }
  return "";
}

std::string error_of_text(std::string_view text) {
  return error_of([&] { (void)read_classifier(text, "t.c", classifiers::qemu_10_1); });
}

// What a row decides, as far as a destination can tell.
std::string decision(const table& t, const observation& o) {
  const auto d = classify(t, o);
  if (!d.fired) return "no row";
  std::string s = std::string(name(d.then)) + " reads=" + std::string(name(d.cost));
  if (d.then == verdict::reject || d.then == verdict::abort || d.then == verdict::blocked)
    s += " '" + std::string(d.fired->text) + "'";
  if (d.fired->implicit_default) s += " implicit";
  return s;
}

struct comparison {
  std::size_t representatives = 0;  // for_each_observation() over the built-in table
  std::size_t all = 0;              // every raw observation valid for the built-in table
  std::size_t mismatches = 0;
};

// Exhaustive: the parsed table must decide exactly like the built-in one on
// every valid observation, first on the representatives check.h uses, then on
// all 35840 raw observations (so a distinction only the parsed table makes is
// seen too).
comparison compare(const table& parsed, const table& builtin) {
  comparison c;
  auto one = [&](const observation& o) {
    const auto want = decision(builtin, o), got = decision(parsed, o);
    if (want != got && c.mismatches++ < 5)
      FAIL_CHECK(describe(o) << "\n  " << builtin.name << ": " << want << "\n  parsed: " << got << " ("
                             << (classify(parsed, o).fired ? classify(parsed, o).fired->id : "-") << ")");
  };
  c.representatives = for_each_observation(builtin, [&](const observation& o) { one(o); });
  c.all = for_each_raw_observation(builtin, one);
  return c;
}

std::vector<std::string_view> ids(const table& t) {
  std::vector<std::string_view> r;
  for (const auto& row : t.rules) r.push_back(row.id);
  return r;
}

// The line of the last occurrence (the first may be in a comment).
int line_of(const std::string& text, std::string_view needle) {
  const auto at = text.rfind(needle);
  REQUIRE(at != std::string::npos);
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
}

struct sample {
  const char* file;
  const table* builtin;
  std::size_t representatives, all;  // observations compared
  const char* dead;                  // the one row that never fires, as in tests/model/check_test.cpp
};

// clang-format off
constexpr sample samples[] = {
  {"qemu_7_2.c",         &classifiers::qemu_7_2,   52, 4032, ""},
  {"qemu_8_0.c",         &classifiers::qemu_8_0,  312, 4032, ""},
  {"qemu_10_1.c",        &classifiers::qemu_10_1, 868, 4752, "nopeek.non_peekable_channel"},
  {"qemu_2026.c",        &classifiers::qemu_10_1, 868, 4752, "nopeek.non_peekable_channel"},
  {"patch_v6.c",         &classifiers::patch_v6,  868, 4752, "after_mm.implicit_main"},
  {"patch_v6_hunk.c",    &classifiers::patch_v6,  868, 4752, "after_mm.implicit_main"},
  {"patch_v6_quoted.c",  &classifiers::patch_v6,  868, 4752, "after_mm.implicit_main"},
};
// clang-format on

}  // namespace

TEST_CASE("each upstream form read from C decides like the built-in table of the same name") {
  for (const auto& s : samples) {
    const std::string file = s.file;
    CAPTURE(file);
    const auto t = read_trace(s.file, *s.builtin);
    const auto c = compare(t.view, *s.builtin);
    MESSAGE(file << " vs " << s.builtin->name << ": " << t.rules.size() << " rows, " << c.representatives
                   << " representative and " << c.all << " raw valid observations compared");
    CHECK(c.mismatches == 0);
    CHECK(c.representatives == s.representatives);
    CHECK(c.all == s.all);
    // Read from C, the table still passes the single-arrival checks.
    const auto a = analyse(t.view);
    CHECK_FALSE(a.gap.has_value());
    CHECK(a.duplicate == npos);
    std::string dead;
    for (std::size_t i = 0; i < t.rules.size(); ++i)
      if (!a.fires[i]) dead += (dead.empty() ? "" : " ") + std::string(t.rules[i].id);
    CHECK(dead == s.dead);
  }
}

TEST_CASE("rows read from the 10.1 form, in source order, named from their predicates") {
  const auto t = read_trace("qemu_10_1.c", classifiers::qemu_10_1);
  CHECK(t.function == "migration_ioc_process_incoming");
  CHECK(ids(t.view) == std::vector<std::string_view>{
                           "peek.wait", "peek.partial", "peek.reset", "peek.failed", "peek.vm_file_magic",
                           "peek.multifd_magic.assert", "peek.multifd_magic", "peek.first_postcopy_paused",
                           "peek.unknown_channel_magic", "nopeek.after_main_multifd", "nopeek.first",
                           "nopeek.non_peekable_channel", "after_mm.assert", "after_mm.preempt"});
  // The error branch is dead (from_src_file without multifd means main and
  // multifd are done) and kept, as qemu_10_1.h keeps nopeek.no_multifd.
  CHECK(t.rules[11].text == "non-peekable channel used without multifd");
  const auto& wait = t.rules[0];
  CHECK(describe(wait.when) == describe(guard{.mm_done = no, .peekable = yes, .magic = of(first_bytes::silent)}));
  CHECK(wait.then == verdict::blocked);
  CHECK(wait.cost == reads::peek4);
  CHECK(t.rules[5].text == "Assertion `migrate_multifd()' failed");
  CHECK(t.rules[8].text == "unknown channel magic: %u");
  CHECK(t.rules[8].origin == "qemu_10_1.c:" + std::to_string(line_of(slurp(traces() / "qemu_10_1.c"),
                                                                     "error_setg(errp, \"unknown channel magic")));
  // The peek's own outcomes, as the base version's migration_channel_read_peek() has them.
  CHECK(t.rules[1].then == verdict::blocked);
  CHECK(t.rules[2].text == "Unable to read from socket: Connection reset by peer");
  CHECK(t.rules[10].c == "!migration_has_main_and_multifd_channels() && "
                        "!qio_channel_has_feature(ioc, QIO_CHANNEL_FEATURE_READ_MSG_PEEK) && "
                        "!(mis->from_src_file && migrate_multifd()) && !mis->from_src_file");
  CHECK(t.rules[0].c == "!migration_has_main_and_multifd_channels() && "
                        "qio_channel_has_feature(ioc, QIO_CHANNEL_FEATURE_READ_MSG_PEEK) && "
                        "migration_channel_read_peek(ioc, (void *)&channel_magic, sizeof(channel_magic), errp)");
  CHECK(t.rules[11].cost == reads::nothing);
}

TEST_CASE("the 8.0 form: default_channel is derived, the calls that take the channel decide") {
  const auto t = read_trace("qemu_8_0.c", classifiers::qemu_8_0);
  CHECK(t.function.empty());  // statements only
  CHECK(ids(t.view) == std::vector<std::string_view>{"peek.wait", "peek.partial", "peek.reset", "peek.failed",
                                                     "peek.vm_file_magic", "peek.multifd", "nopeek.first",
                                                     "nopeek.assert", "nopeek.multifd", "nopeek.preempt"});
  // The same guards the built-in table writes for the order rule.
  CHECK(describe(t.rules[6].when) == describe(classifiers::qemu_8_0.rules[6].when));
  CHECK(describe(t.rules[7].when) == describe(classifiers::qemu_8_0.rules[9].when));
  CHECK(describe(t.rules[8].when) == describe(classifiers::qemu_8_0.rules[7].when));
  CHECK(describe(t.rules[9].when) == describe(classifiers::qemu_8_0.rules[8].when));
  CHECK(t.rules[7].text == "Assertion `migration_needs_multiple_sockets()' failed");
  // 8.0-8.2 assert when the peek's read fails on a reset (error_setg() over a set error).
  CHECK(t.rules[2].then == verdict::abort);
}

TEST_CASE("patch-v6: paths that assign nothing are implicit CH_MAIN rows from the initializer's line") {
  for (const char* file : {"patch_v6.c", "patch_v6_hunk.c", "patch_v6_quoted.c"}) {
    const std::string shown = file;
    CAPTURE(shown);
    const std::string text = slurp(traces() / file);
    const auto t = read_classifier(text, file, classifiers::patch_v6);
    CHECK(t.function == "migration_ioc_process_incoming");
    const std::string init = std::string(file) + ":" + std::to_string(line_of(text, "uint8_t channel = CH_MAIN;"));
    std::vector<std::string_view> implicit;
    for (const auto& r : t.rules)
      if (r.implicit_default) {
        implicit.push_back(r.id);
        CHECK(r.then == verdict::main);
        CHECK(r.origin == init);
      }
    CHECK(implicit == std::vector<std::string_view>{"nopeek.implicit_main", "after_mm.implicit_main"});
    // after_mm.implicit_main never fires (main and multifd done means main is in),
    // and is kept, as patch_v6.h keeps it.
    const auto a = analyse(t.view);
    CHECK(a.dead_count == 1);
    REQUIRE(a.dead < t.rules.size());
    CHECK(t.rules[a.dead].id == "after_mm.implicit_main");
    CHECK(ids(t.view) == std::vector<std::string_view>{
                             "peek.wait", "peek.partial", "peek.reset", "peek.failed", "peek.vm_file_magic",
                             "peek.multifd_magic", "peek.first_postcopy_paused", "peek.unknown_channel_magic",
                             "nopeek.after_main_tls_or_file", "nopeek.implicit_main", "after_mm.after_main",
                             "after_mm.implicit_main"});
    // __func__ filled in from the definition or the hunk header; error_report() and
    // return: the channel is dropped, nothing fails.
    CHECK(t.rules[7].text == "migration_ioc_process_incoming: unknown channel magic: %u");
    CHECK(t.rules[7].then == verdict::drop);
  }
  for (const auto& s : {classifiers::qemu_8_0, classifiers::qemu_10_1}) {
    const auto t = read_trace(s.name == "qemu-8.0" ? "qemu_8_0.c" : "qemu_10_1.c", s);
    for (const auto& r : t.rules) CHECK_FALSE(r.implicit_default);
  }
}

TEST_CASE("a broken input gives one line: FILE:LINE:COL and what is supported or expected") {
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(traces())) {
    const auto name = entry.path().filename().string();
    if (name.find("_error.c") == std::string::npos) continue;
    ++files;
    CAPTURE(name);
    const std::string text = slurp(entry.path());
    const std::string marker = "// ERROR: ";
    REQUIRE(text.rfind(marker, 0) == 0);
    const std::string want = name + ":" + text.substr(marker.size(), text.find('\n') - marker.size());
    const std::string got = error_of([&] { (void)read_classifier(text, name, classifiers::qemu_10_1); });
    CHECK(got.rfind(want, 0) == 0);
    CHECK(got.find('\n') == std::string::npos);
    if (got.find("unsupported construct") != std::string::npos)
      CHECK(got.find("; supported: if/else, &&, ||, !, ==, !=") != std::string::npos);
  }
  CHECK(files == 11);

  const std::string tail = "; supported: if/else, &&, ||, !, ==, !=, (), declarations, channel = CH_*, bool "
                           "assignments, error_setg/error_report + return or goto, assert, g_assert_not_reached, "
                           "the peek call, migrate_*() capabilities, "
                           "mis->from_src_file/state/postcopy_qemufile_dst, ioc->name";
  CHECK(error_of_text("") == "t.c:1:1: expected a classifier, but the input holds no C code");
  CHECK(error_of_text("  \n\n") == "t.c:1:1: expected a classifier, but the input holds no C code");
  CHECK(error_of_text("uint8_t channel = CH_MAIN;\nwhile (1) {}") == "t.c:2:1: unsupported construct 'while'" + tail);
  CHECK(error_of_text("bool x = true;\nx = y + 1;") == "t.c:2:7: unsupported construct '+'" + tail);
  CHECK(error_of_text("uint8_t channel = CH_MAIN;\nif (mystery(ioc)) { channel = CH_MULTIFD; }") ==
        "t.c:2:5: unsupported construct 'mystery()'" + tail);
  CHECK(error_of_text("if (x) {") == "t.c:1:9: expected '}' to close the '{' at 1:8 (unbalanced braces), got end of input");
  CHECK(error_of_text("}") == "t.c:1:1: expected a statement, got '}' (unbalanced braces)");
  CHECK(error_of_text("x = 1; /* never closed") == "t.c:1:8: expected '*/' to close this comment (unterminated comment)");
  CHECK(error_of_text("uint8_t channel = CH_MAIN;\nerror_setg(errp, \"oops);") ==
        "t.c:2:18: expected '\"' to close this literal (unterminated literal)");
  CHECK(error_of_text("channel = CH_MAIN;\nchannel = CH_BOGUS;") == "t.c:2:11: unsupported construct 'CH_BOGUS'" + tail);
  CHECK(error_of_text("#include <stdio.h>") == "t.c:1:1: unsupported construct '#include'" + tail);
  CHECK(error_of_text("if (migrate_multifd()) { channel = CH_MULTIFD; }") ==
        "t.c:1:48: expected an assignment to the channel variable, or an initializer, on every path: the path "
        "ending here decides nothing");
  CHECK(error_of_text("uint8_t channel = CH_MAIN;\nif (mis->state == MIGRATION_STATUS_LOST) {}") ==
        "t.c:2:19: unsupported construct 'MIGRATION_STATUS_LOST'" + tail);
  // A file name with a newline still gives one line.
  const auto odd = error_of([] { (void)read_classifier("while (1) {}", "a\nb.c", classifiers::qemu_10_1); });
  CHECK(odd.find('\n') == std::string::npos);
}

TEST_CASE("work is bounded: deep nesting and path explosions are errors, not crashes") {
  const std::string deep = "uint8_t channel = CH_MAIN;\nif (" + std::string(20000, '(') + "migrate_multifd()" +
                           std::string(20000, ')') + ") { channel = CH_MULTIFD; }";
  CHECK(error_of_text(deep).find("nested more than") != std::string::npos);
  std::string negs = "uint8_t channel = CH_MAIN;\nif (" + std::string(20000, '!') + "migrate_multifd()) {}";
  CHECK(error_of_text(negs).find("nested more than") != std::string::npos);
  std::string blocks = "uint8_t channel = CH_MAIN;\n" + std::string(5000, '{') + std::string(5000, '}');
  CHECK(error_of_text(blocks).find("nested more than 128 deep") != std::string::npos);
  std::string many = "uint8_t channel = CH_MAIN;\n";
  for (int i = 0; i < 20; ++i) many += "if (migrate_multifd()) { channel = CH_MULTIFD; } else { channel = CH_MAIN; }\n";
  many += "if (mis->from_src_file) { channel = CH_POSTCOPY; }\n";
  CHECK(error_of_text(many).find("more than 4096 paths") != std::string::npos);
  std::string chain = "uint8_t channel = CH_MAIN;\nif (migrate_multifd()";
  for (int i = 0; i < 5000; ++i) chain += " && migrate_multifd()";
  chain += ") { channel = CH_MULTIFD; }";
  CHECK(error_of_text(chain).find("nested more than 256 deep") != std::string::npos);
}

TEST_CASE("a diff hunk keeps the + side and drops the - side") {
  const char* hunk =
      "--- a/migration/migration.c\n"
      "+++ b/migration/migration.c\n"
      "@@ -1,6 +1,6 @@ void migration_ioc_process_incoming(QIOChannel *ioc, Error **errp)\n"
      " uint8_t channel = CH_MAIN;\n"
      "-while (peeking) {\n"
      "+if (mis->from_src_file && migrate_multifd()) {\n"
      "     channel = CH_MULTIFD;\n"
      " }\n";
  const auto t = read_classifier(hunk, "h.diff", classifiers::qemu_10_1);
  CHECK(t.function == "migration_ioc_process_incoming");
  REQUIRE(t.rules.size() == 2);
  CHECK(t.rules[0].id == "nopeek.after_main_multifd");
  CHECK(t.rules[0].origin == "h.diff:7");
  CHECK(t.rules[1].id == "nopeek.implicit_main");
  CHECK(t.rules[1].origin == "h.diff:4");
  // Errors point into the diff as given.
  CHECK(error_of_text("@@ -1,2 +1,2 @@\n uint8_t channel = CH_MAIN;\n+switch (x) {}\n")
            .rfind("t.c:3:2: unsupported construct 'switch'", 0) == 0);
}

TEST_CASE("text quoted with '> ' markers is read without them") {
  const char* mail =
      "> uint8_t channel = CH_MAIN;\n"
      "> if (!mis->from_src_file) {\n"
      ">> why no else here?\n"
      "I agree.\n"
      "> } else if (migrate_multifd()) {\n"
      ">     channel = CH_MULTIFD;\n"
      "> }\n";
  // Every level of quoting is stripped, so a reviewer's ">> why no else here?"
  // is read as code (and fails); unquoted lines ("I agree.") are dropped.
  CHECK(error_of_text(mail) == "t.c:3:8: expected ';' after the expression, got 'no'");
  const char* quoted =
      "> uint8_t channel = CH_MAIN;\n"
      "> if (!mis->from_src_file) {\n"
      "I agree.\n"
      "> } else if (migrate_multifd()) {\n"
      ">     channel = CH_MULTIFD;\n"
      "> }\n";
  const auto t = read_classifier(quoted, "q.txt", classifiers::qemu_10_1);
  CHECK(ids(t.view) == std::vector<std::string_view>{"nopeek.implicit_main", "nopeek.multifd", "nopeek.implicit_main.2"});
  CHECK(t.rules[1].origin == "q.txt:5");
}

TEST_CASE("2026 form: goto out after the failed peek, return channel, CH_NONE initializer") {
  const auto t = read_trace("qemu_2026.c", classifiers::qemu_10_1);
  CHECK(t.function == "migration_channel_identify");
  CHECK(t.rules[3].id == "peek.failed");
  CHECK(t.rules[3].text == "Failed to peek at channel");
  for (const auto& r : t.rules) CHECK_FALSE(r.implicit_default);  // every path assigns or errs
}

TEST_CASE("truncated samples end in a table or a c_reader_error") {
  std::size_t tables = 0, errors = 0;
  for (const auto& s : samples) {
    const std::string text = slurp(traces() / s.file);
    for (std::size_t n = 0; n < text.size(); n += 37) {
      try {
        (void)read_classifier(std::string_view(text).substr(0, n), s.file, *s.builtin);
        ++tables;
      } catch (const c_reader_error& e) {
        CHECK(std::string_view(e.what()).find('\n') == std::string_view::npos);
        CHECK(std::string_view(e.what()).find("internal error") == std::string_view::npos);
        ++errors;
      }
    }
  }
  MESSAGE(tables << " prefixes read as tables, " << errors << " rejected");
  CHECK(errors > 0);
}

TEST_CASE("the classification ends where the channel is first used") {
  // Passing the channel on, testing it or returning it ends the path: what
  // follows is setup, not classification.
  const auto t = read_classifier(
      "MigChannelType channel = CH_NONE;\n"
      "if (migrate_multifd()) { channel = CH_MULTIFD; } else { channel = CH_MAIN; }\n"
      "if (migration_incoming_setup(ioc, channel, errp)) { migration_start_incoming(); }\n"
      "channel = CH_POSTCOPY;\n",
      "t.c", classifiers::qemu_10_1);
  REQUIRE(t.rules.size() == 2);
  CHECK(t.rules[0].then == verdict::multifd);
  CHECK(t.rules[0].origin == "t.c:2");
  CHECK(t.rules[1].then == verdict::main);
  // Without a channel variable, the calls that take the channel decide (7.2-9.0).
  const auto old = read_classifier(
      "if (!mis->from_src_file) { f = qemu_file_new_input(ioc); migration_incoming_setup(f, errp); }\n"
      "else if (migrate_multifd()) { multifd_recv_new_channel(ioc, &local_err); }\n"
      "else { postcopy_preempt_new_channel(mis, f); }\n",
      "t.c", classifiers::qemu_7_2);
  CHECK(ids(old.view) == std::vector<std::string_view>{"nopeek.first", "nopeek.multifd", "nopeek.preempt"});
}

TEST_CASE("errors, asserts and returns decide as QEMU does") {
  const auto t = read_classifier(
      "uint8_t channel = CH_MAIN;\n"
      "g_autoptr(Error) err = NULL;\n"
      "if (mis->from_src_file) {\n"
      "    error_report(\"only printed\");\n"  // no return: classification goes on
      "    if (migrate_multifd()) { return CH_MULTIFD; }\n"
      "    if (mis->postcopy_qemufile_dst) { g_assert_not_reached(); }\n"
      "    error_setg(errp, \"%s: no %s for %s\", __func__, \"x\", \"y\");\n"  // sticky: refused
      "    channel = CH_POSTCOPY;\n"
      "}\n",
      "t.c", classifiers::qemu_10_1);
  // No function name is known (no definition, no hunk header): %s stays.
  CHECK(ids(t.view) == std::vector<std::string_view>{"nopeek.multifd", "nopeek.has_preempt.not_reached",
                                                     "nopeek.no_for", "nopeek.implicit_main"});
  CHECK(t.rules[0].then == verdict::multifd);
  CHECK(t.rules[1].then == verdict::abort);
  CHECK(t.rules[1].text == "code should not be reached");  // what GLib prints
  CHECK(t.rules[2].then == verdict::reject);
  CHECK(t.rules[2].text == "%s: no %s for %s");
  CHECK(t.rules[2].origin == "t.c:7");
  CHECK(t.rules[3].implicit_default);
  // A peek whose result is tested on another path only: ret is still 0 here,
  // and an unpeeked channel_magic is still 0, so it matches no magic.
  const auto u = read_classifier(
      "uint8_t channel = CH_MAIN; uint32_t channel_magic = 0; int ret = 0;\n"
      "if (qio_channel_has_feature(ioc, QIO_CHANNEL_FEATURE_READ_MSG_PEEK)) {\n"
      "    ret = migration_channel_read_peek(ioc, (void *)&channel_magic, sizeof(channel_magic), errp);\n"
      "}\n"
      "if (ret != 0) { goto out; }\n"
      "if (channel_magic == cpu_to_be32(MULTIFD_MAGIC)) { channel = CH_MULTIFD; }\n"
      "out:\n"
      "return channel;\n",
      "t.c", classifiers::qemu_10_1);
  CHECK(ids(u.view) == std::vector<std::string_view>{"peek.wait", "peek.partial", "peek.reset", "peek.failed",
                                                     "peek.multifd_magic", "peek.implicit_main",
                                                     "nopeek.implicit_main"});
  CHECK(error_of_text("uint8_t channel = CH_MAIN;\nout:\nif (migrate_multifd()) { goto out; }") ==
        "t.c:3:26: unsupported construct 'goto out (only forward, to a label at the outer level)'" +
            std::string("; supported: if/else, &&, ||, !, ==, !=, (), declarations, channel = CH_*, bool "
                        "assignments, error_setg/error_report + return or goto, assert, g_assert_not_reached, "
                        "the peek call, migrate_*() capabilities, "
                        "mis->from_src_file/state/postcopy_qemufile_dst, ioc->name"));
}
