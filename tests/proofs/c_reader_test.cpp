// proofs/c_reader.h and proofs/c_writer.h: every built-in form written as C
// reads back deciding as its table does; whole files (preprocessor, macros,
// other functions) and several files are read as QEMU's sources are; helpers
// are followed; bad input is one line; work is bounded. The upstream files
// themselves are read by tests/real_sources_test.sh.
#include "proofs/c_reader.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "model/builtin.h"
#include "model/check.h"
#include "model/expectations.h"
#include "model/render.h"
#include "proofs/c_writer.h"

using namespace migchan;

namespace {

std::filesystem::path traces() { return MIGCHAN_C_TRACES; }

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  REQUIRE_MESSAGE(in, "cannot open " << p.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
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
  if (d.then == verdict::reject || d.then == verdict::abort || d.then == verdict::blocked || d.then == verdict::drop)
    s += " '" + std::string(d.fired->text) + "'";
  if (d.fired->implicit_default) s += " implicit";
  return s;
}

// Exhaustive: the table read from C decides exactly like the built-in one on
// every raw observation the built-in accepts (so a distinction only the read
// table makes is seen too). Returns how many were compared.
std::size_t compare(const table& read, const table& builtin) {
  std::size_t mismatches = 0;
  const auto n = for_each_raw_observation(builtin, [&](const observation& o) {
    const auto want = decision(builtin, o), got = decision(read, o);
    if (want != got && mismatches++ < 5)
      FAIL_CHECK(describe(o) << "\n  " << builtin.name << ": " << want << "\n  read: " << got << " ("
                             << (classify(read, o).fired ? classify(read, o).fired->id : "-") << ")");
  });
  CHECK(mismatches == 0);
  return n;
}

std::vector<std::string_view> ids(const table& t) {
  std::vector<std::string_view> r;
  for (const auto& row : t.rules) r.push_back(row.id);
  return r;
}

std::string dead_rows(const table& t) {
  const auto a = analyse(t);
  std::string dead;
  for (std::size_t i = 0; i < t.rules.size(); ++i)
    if (!a.fires[i]) dead += (dead.empty() ? "" : ",") + std::string(t.rules[i].id);
  return dead;
}

// The line of the last occurrence (the first may be in a comment).
int line_of(const std::string& text, std::string_view needle) {
  const auto at = text.rfind(needle);
  REQUIRE(at != std::string::npos);
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
}

parsed_table written(const table& t) { return read_classifier(write_c(t), "channel.c", t); }

const std::string tail =
    "; supported: if/else, &&, ||, !, ==, !=, (), declarations, channel = CH_*, bool assignments, "
    "error_setg/error_report + return or goto, assert, g_assert_not_reached, the peek call, "
    "migrate_*() capabilities, mis->from_src_file/state/postcopy_qemufile_dst, ioc->name";

}  // namespace

TEST_CASE("every built-in form, written as C, reads back deciding as its table does, with its surroundings") {
  for (const table* t : builtin_tables) {
    const std::string name(t->name);
    CAPTURE(name);
    if (name == "reference") {  // it tells first bytes apart that C names no constant for
      CHECK_THROWS_AS((void)write_c(*t), c_writer_error);
      continue;
    }
    const std::string c = write_c(*t);
    const auto r = read_classifier(c, "channel.c", *t);
    const auto n = compare(r.view, *t);
    MESSAGE(name << ": " << t->rules.size() << " rows written as " << std::count(c.begin(), c.end(), '\n')
                 << " lines of C, read back as " << r.rules.size() << " rows, " << n << " observations compared");
    CHECK(r.function == "migration_channel_process_incoming");
    // What the code around the classifier does was read from the C too.
    CHECK(same_steps(r.view.sem, t->sem));
    CHECK(r.notes.size() == (c.find("read_peek(QIOChannel") != std::string::npos ? 4u : 3u));
    // Read from C, the table still passes the single-arrival checks, with
    // the dead rows the built-in table records.
    const auto a = analyse(r.view);
    CHECK_FALSE(a.gap.has_value());
    CHECK(a.duplicate == npos);
    const std::string dead = dead_rows(r.view);
    CHECK((dead.empty() == find_expectation(t->name)->dead_rows.empty()));
  }
}

TEST_CASE("the 10.1 form: rows in source order, named from their conditions, cited by line") {
  const std::string c = write_c(classifiers::qemu_10_1);
  const auto t = read_classifier(c, "channel.c", classifiers::qemu_10_1);
  CHECK(ids(t.view) ==
        std::vector<std::string_view>{"peek.wait", "peek.partial", "peek.reset", "peek.failed", "peek.vm_file_magic",
                                      "peek.multifd_magic.assert", "peek.multifd_magic", "peek.first_postcopy_paused",
                                      "peek.unknown_channel_magic", "nopeek.after_main_multifd", "nopeek.first",
                                      "nopeek.non_peekable_channel", "after_mm.assert", "after_mm.preempt"});
  // In the order they were read: the classifier, what says what surrounds it, what it runs.
  CHECK(t.functions == std::vector<std::string>{"migration_channel_process_incoming", "migration_channel_read_peek",
                                                "multifd_recv_initial_packet", "migration_has_all_channels",
                                                "migration_has_main_and_multifd_channels",
                                                "migration_channel_identify"});
  // The error branch is dead (from_src_file without multifd means main and
  // multifd are done) and kept, as qemu_10_1.h keeps nopeek.no_multifd.
  CHECK(dead_rows(t.view) == "nopeek.non_peekable_channel");
  CHECK(t.rules[11].text == "non-peekable channel used without multifd");
  CHECK(describe(t.rules[0].when) == describe(guard{.mm_done = no, .peekable = yes, .magic = of(first_bytes::silent)}));
  CHECK(t.rules[0].cost == reads::peek4);
  CHECK(t.rules[5].text == "Assertion `migrate_multifd()' failed");
  CHECK(t.rules[8].origin == "channel.c:" + std::to_string(line_of(c, "error_setg(errp, \"unknown channel magic")));
  CHECK(t.rules[8].ref.where == "migration_channel_identify");
  // The peek's own outcomes, read from migration_channel_read_peek()'s body.
  CHECK(t.rules[2].text == "Unable to read from socket: Connection reset by peer");
  CHECK(t.rules[3].text == "Failed to peek at channel");
  CHECK(t.rules[10].c ==
        "!migration_has_main_and_multifd_channels() && "
        "!qio_channel_has_feature(ioc, QIO_CHANNEL_FEATURE_READ_MSG_PEEK) && "
        "!(mis->from_src_file && migrate_multifd()) && !mis->from_src_file");
  CHECK(t.rules[11].cost == reads::nothing);
}

TEST_CASE("the peek's outcomes come from migration_channel_read_peek()'s body when it is among the files") {
  // 8.0-8.2: error_setg() over the error the failed read already set asserts.
  const auto v80 = written(classifiers::qemu_8_0);
  CHECK(v80.rules[2].id == "peek.reset");
  CHECK(v80.rules[2].then == verdict::abort);
  CHECK(v80.rules[2].text == classifiers::qemu_8_0.rules[2].text);
  // 9.0 on: the socket's own error.
  const auto v90 = written(classifiers::qemu_9_0);
  CHECK(v90.rules[2].then == verdict::reject);
  // The same body against a base whose peek differs: the body wins.
  const auto mixed = read_classifier(write_c(classifiers::qemu_9_0), "channel.c", classifiers::qemu_8_0);
  CHECK(mixed.rules[2].then == verdict::reject);
  CHECK(mixed.rules[2].text == "Unable to read from socket: Connection reset by peer");
  // Without the body, the base's rows say it.
  const std::string c = write_c(classifiers::qemu_9_0);
  const auto body = c.find("int migration_channel_read_peek"), end = c.find("\n}\n", body);
  const std::string without = c.substr(0, body) + c.substr(end + 3);
  const auto base_says = read_classifier(without, "channel.c", classifiers::qemu_8_0);
  CHECK(base_says.rules[2].then == verdict::abort);
  // A body that gives up on a reset by only printing: the channel is dropped.
  std::string printing = c;
  const auto reset = printing.find("if (got < 0 && got != QIO_CHANNEL_ERR_BLOCK) {");
  printing.insert(printing.find('\n', reset) + 1, "            error_report(\"peek failed\");\n");
  const auto dropped = read_classifier(printing, "channel.c", classifiers::qemu_9_0);
  CHECK(dropped.rules[2].id == "peek.reset");
  CHECK(dropped.rules[2].then == verdict::reject);  // the read's own error is set: still refused
  // One that waits on end of file: a path no table has.
  std::string waiting = c;
  const auto eof = waiting.find("if (got == 0) {");
  waiting.replace(eof, waiting.find("}\n", eof) + 2 - eof, "");
  const auto w = read_classifier(waiting, "channel.c", classifiers::qemu_9_0);
  CHECK(w.rules[2].id == "peek.failed");  // with the other waits, at the call
  CHECK(w.rules[2].then == verdict::blocked);
}

TEST_CASE("patch-v6: paths that assign nothing are implicit CH_MAIN rows from the initializer's line") {
  const std::string c = write_c(classifiers::patch_v6);
  const auto t = read_classifier(c, "channel.c", classifiers::patch_v6);
  const std::string init = "channel.c:" + std::to_string(line_of(c, "MigChannelType channel = CH_MAIN;"));
  std::vector<std::string_view> implicit;
  for (const auto& r : t.rules)
    if (r.implicit_default) {
      implicit.push_back(r.id);
      CHECK(r.then == verdict::main);
      CHECK(r.origin == init);
    }
  CHECK(implicit == std::vector<std::string_view>{"nopeek.implicit_main", "after_mm.implicit_main"});
  CHECK(dead_rows(t.view) == find_expectation("patch-v6")->dead_rows);  // as the built-in records it
  // error_report() and return: the channel is dropped, nothing fails.
  CHECK(t.rules[7].text == "migration_ioc_process_incoming: unknown channel magic: %u");
  CHECK(t.rules[7].then == verdict::drop);
  for (const table* b : {&classifiers::qemu_8_0, &classifiers::qemu_10_1})
    for (const auto& r : written(*b).rules) CHECK_FALSE(r.implicit_default);
}

TEST_CASE("io-watch: a silent peekable channel waits for G_IO_IN; the one left when the rest are in is preempt") {
  const auto t = written(classifiers::io_watch);
  REQUIRE(t.rules.size() >= 5);
  // The pending channels' handler, read with main and multifd in: its rows come first.
  CHECK(t.rules[0].id.starts_with("woken."));
  CHECK(t.rules[0].then == verdict::drop);
  CHECK(t.rules[0].text == "migration_incoming_detect_preempt_channel: Found %u unused channels");
  CHECK(t.rules[1].id == "woken.preempt");
  CHECK(describe(t.rules[1].when) ==
        describe(guard{.mm_done = yes, .peekable = yes, .magic = of(first_bytes::silent), .postcopy_preempt = yes}));
  std::size_t watch = 0;
  while (watch < t.rules.size() && t.rules[watch].then != verdict::defer) ++watch;
  REQUIRE(watch < t.rules.size());
  CHECK(t.rules[watch].id == "watch.wait");
  CHECK(t.rules[watch].cost == reads::nothing);
  CHECK(describe(t.rules[watch].when) ==
        describe(guard{.mm_done = no, .peekable = yes, .magic = of(first_bytes::silent)}));
  // Readable: classified by the callback, through the peek.
  CHECK(t.rules[watch + 1].id == "peek.partial");
  CHECK(t.rules[watch + 1].ref.where == "migration_channel_peek");
  CHECK(dead_rows(t.view) == "nopeek.unexpected_non_peekable");
  // A watch whose callback is not among the files; a callback without a
  // handler for what is left pending.
  std::string c = write_c(classifiers::io_watch);
  std::string lost = c;
  const auto cb = lost.find("migration_incoming_channel_readable, mis");
  lost.replace(cb, 35, "somewhere_else");
  CHECK(error_of([&] {
          (void)read_classifier(lost, "w.c", classifiers::io_watch);
        }).find("expected the watch's callback somewhere_else() among the files") != std::string::npos);
  std::string unhandled = c;
  const auto h = unhandled.find("        migration_incoming_pending_resolve(mis, ");
  unhandled.insert(h, "        //");
  CHECK(error_of([&] {
          (void)read_classifier(unhandled, "w.c", classifiers::io_watch);
        }).find("deciding the channels the watch left pending") != std::string::npos);
}

TEST_CASE("whole files: preprocessor lines, macros, types and other functions are skipped") {
  const std::string c = write_c(classifiers::qemu_10_1);
  const std::string noise =
      "/*\n * Copyright notice\n */\n#include \"qemu/osdep.h\"\n#define PEEK(x) \\\n    do { x } while (0)\n"
      "#if 0\nvoid broken( {\n#endif\n"
      "static const char *const names[CH_NUM] = {\n    [CH_NONE] = \"NONE\",\n};\n"
      "typedef struct { int a; } Pending;\nQEMU_BUILD_BUG_ON(sizeof(Pending) > 64);\n"
      "static void unrelated(int n)\n{\n    switch (n) {\n    case 1: while (n--) {}\n    }\n"
      "    WITH_QEMU_LOCK_GUARD(&lock) {\n        n = 0;\n    }\n#ifdef CONFIG_RDMA\n    if (n) {\n#else\n"
      "    if (!n) {\n#endif\n    }\n}\n";
  const auto t = read_classifier(noise + c, "migration.c", classifiers::qemu_10_1);
  compare(t.view, classifiers::qemu_10_1);
  // Lines count from the top of the file.
  const std::string both = noise + c;
  CHECK(t.rules[8].origin ==
        "migration.c:" + std::to_string(line_of(both, "error_setg(errp, \"unknown channel magic")));
  // Macros inside the classifier: a lock guard around a block, g_autoptr.
  std::string guarded = c;
  const auto at = guarded.find("    if (!migration_has_main_and_multifd_channels()) {");
  guarded.insert(
      at,
      "    g_autoptr(Error) local = NULL;\n    QEMU_LOCK_GUARD(&mis->lock);\n    WITH_RCU_READ_LOCK_GUARD() {\n"
      "        trace_migration_channel(ioc);\n    }\n");
  compare(read_classifier(guarded, "g.c", classifiers::qemu_10_1).view, classifiers::qemu_10_1);
  // A loop in a macro's clothes is still a loop.
  std::string foreach_loop = c;
  foreach_loop.insert(foreach_loop.find("    if (!migration_has_main_and_multifd_channels()) {"),
                      "    QLIST_FOREACH(x, &list, next) {\n    }\n");
  CHECK(error_of([&] {
          (void)read_classifier(foreach_loop, "l.c", classifiers::qemu_10_1);
        }).find("unsupported construct 'QLIST_FOREACH (a loop)'") != std::string::npos);
}

TEST_CASE("several files: the classifier is found in one and what it calls in the others") {
  const std::string c = write_c(classifiers::qemu_10_1);
  const auto split = c.find("static MigChannelType migration_channel_identify");
  const std::vector<c_source> files{{"migration/migration.c", c.substr(0, split)},
                                    {"migration/channel.c",
                                     std::string(static_cast<std::size_t>(std::count(
                                                     c.begin(), c.begin() + static_cast<std::ptrdiff_t>(split), '\n')),
                                                 '\n') +
                                         c.substr(split)}};
  const auto t = read_classifier(files, classifiers::qemu_10_1);
  compare(t.view, classifiers::qemu_10_1);
  CHECK(t.view.name == "migration/channel.c");
  CHECK(t.files == std::vector<std::string>{"migration/migration.c", "migration/channel.c"});
  CHECK(t.rules[8].origin ==
        "migration/channel.c:" + std::to_string(line_of(c, "error_setg(errp, \"unknown channel magic")));
  CHECK(t.rules[2].origin.starts_with("migration/channel.c:"));
  // The notes say where each surrounding fact came from.
  bool peek_note = false;
  for (const auto& n : t.notes)
    peek_note = peek_note || n.starts_with("peek: migration_channel_read_peek() at migration/migration.c:");
  CHECK(peek_note);
}

TEST_CASE("helpers among the files are followed: a changed helper changes the rows") {
  std::string c = write_c(classifiers::qemu_10_1);
  // migration_has_main_and_multifd_channels() that forgets multifd.
  const auto at = c.find("    return !migrate_multifd() || multifd_recv_all_channels_created();");
  c.replace(at, 70, "    return true;");
  const auto t = read_classifier(c, "channel.c", classifiers::qemu_10_1);
  // The rows now test main alone where they tested mm_done.
  CHECK(t.rules[0].when.get(column::mm_done) == domain_mask(column::mm_done));
  CHECK(t.rules[0].when.get(column::has_main) == no);
  bool differs = false;
  for_each_raw_observation(classifiers::qemu_10_1, [&](const observation& o) {
    differs = differs || classify(t.view, o).then != classify(classifiers::qemu_10_1, o).then;
  });
  CHECK(differs);
  // The id check and what follows an error, read from the C.
  std::string ids = write_c(classifiers::qemu_10_1);
  ids.replace(ids.find("if (msg.id > migrate_multifd_channels())"), 40, "if (msg.id >= migrate_multifd_channels())");
  CHECK(read_classifier(ids, "c.c", classifiers::qemu_10_1).view.sem.ids == id_check::greater_equal);
  std::string quiet = write_c(classifiers::qemu_10_1);
  quiet.replace(quiet.find("exit(EXIT_FAILURE);"), 19, "abort_migration();");
  CHECK(read_classifier(quiet, "c.c", classifiers::qemu_10_1).view.sem.errors == on_error::report);
  // migration_has_all_channels() as 7.2-10.0 count, or neither way.
  const auto old = read_classifier(write_c(classifiers::qemu_10_0), "c.c", classifiers::qemu_10_1);
  CHECK(old.view.sem.all_channels == all_channels_rule::multifd_else_preempt);
  std::string odd = write_c(classifiers::qemu_10_1);
  odd.replace(odd.find("    return migration_has_main_and_multifd_channels() &&"), 0,
              "    return mis->from_src_file;\n");
  const auto o = read_classifier(odd, "c.c", classifiers::qemu_10_1);
  CHECK(o.view.sem.all_channels == classifiers::qemu_10_1.sem.all_channels);
  bool noted = false;
  for (const auto& n : o.notes) noted = noted || n.find("in a way migchan does not model") != std::string::npos;
  CHECK(noted);
}

TEST_CASE("a file without a classifier names what was looked for") {
  const std::string looked =
      "no classifier: looked for migration_channel_process_incoming(), "
      "migration_channel_identify() and migration_ioc_process_incoming(), and for a function "
      "that assigns CH_*, peeks or hands the channel over";
  CHECK(error_of_text("#include <stdio.h>\nint main(void)\n{\n    return 0;\n}\n") == "t.c: " + looked);
  // channel.c of 7.2-10.2 alone: the classifier it calls is in migration.c.
  CHECK(error_of_text("void migration_channel_process_incoming(QIOChannel *ioc)\n{\n"
                      "    migration_ioc_process_incoming(ioc, &err);\n}\n") ==
        "t.c: " + looked +
            "; migration_channel_process_incoming() calls migration_ioc_process_incoming(), which is "
            "not in this file (give the tree, or the file that defines it too)");
  const std::vector<c_source> two{{"a.c", "int f(void)\n{\n    return 1;\n}\n"}, {"b.c", "int g;\n"}};
  CHECK(error_of([&] { (void)read_classifier(two, classifiers::qemu_10_1); }) == "2 files (a.c, ...): " + looked);
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

  CHECK(error_of_text("") == "t.c:1:1: expected a classifier, but the input holds no C code");
  CHECK(error_of_text("  \n\n") == "t.c:1:1: expected a classifier, but the input holds no C code");
  CHECK(error_of_text("#include <stdio.h>") == "t.c:1:1: expected a classifier, but the input holds no C code");
  CHECK(error_of_text("uint8_t channel = CH_MAIN;\nwhile (1) {}") == "t.c:2:1: unsupported construct 'while'" + tail);
  CHECK(error_of_text("bool x = true;\nx = y + 1;") == "t.c:2:7: unsupported construct '+'" + tail);
  CHECK(error_of_text("uint8_t channel = CH_MAIN;\nif (mystery(ioc)) { channel = CH_MULTIFD; }") ==
        "t.c:2:5: unsupported construct 'mystery()'" + tail);
  CHECK(error_of_text("if (x) {") ==
        "t.c:1:9: expected '}' to close the '{' at 1:8 (unbalanced braces), got end of input");
  CHECK(error_of_text("}") == "t.c:1:1: expected a statement, got '}' (unbalanced braces)");
  CHECK(error_of_text("x = 1; /* never closed") ==
        "t.c:1:8: expected '*/' to close this comment (unterminated comment)");
  CHECK(error_of_text("uint8_t channel = CH_MAIN;\nerror_setg(errp, \"oops);") ==
        "t.c:2:18: expected '\"' to close this literal (unterminated literal)");
  CHECK(error_of_text("channel = CH_MAIN;\nchannel = CH_BOGUS;") ==
        "t.c:2:11: unsupported construct 'CH_BOGUS'" + tail);
  CHECK(error_of_text("if (migrate_multifd()) { channel = CH_MULTIFD; }") ==
        "t.c:1:48: expected an assignment to the channel variable, or an initializer, on every path: the path "
        "ending here decides nothing");
  CHECK(error_of_text("uint8_t channel = CH_MAIN;\nif (mis->state == MIGRATION_STATUS_LOST) {}") ==
        "t.c:2:19: unsupported construct 'MIGRATION_STATUS_LOST'" + tail);
  // Unbalanced braces around a whole file's functions.
  CHECK(error_of_text("void f(void)\n{\n    if (x) {\n}\n") ==
        "t.c:5:1: expected '}' to close the '{' at 2:1 (unbalanced braces), got end of input");
  CHECK(error_of_text("void f(void)\n{\n}\n}\n") ==
        "t.c:4:1: expected a declaration or a function, got '}' (unbalanced braces)");
  // A file name with a newline still gives one line.
  const auto odd = error_of([] { (void)read_classifier("while (1) {}", "a\nb.c", classifiers::qemu_10_1); });
  CHECK(odd.find('\n') == std::string::npos);
}

TEST_CASE("work is bounded: deep nesting, path explosions, huge files are errors, not crashes") {
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
  // Many declarations: a bound, not quadratic work.
  std::string decls = "uint8_t channel = CH_MAIN;\n";
  for (int i = 0; i < 300; ++i) decls += "bool v" + std::to_string(i) + " = migrate_multifd();\n";
  CHECK(error_of_text(decls) == "t.c:258:1: unsupported construct 'more than 256 variables'" + tail);
  std::string tokens = "uint8_t channel = CH_MAIN;\n";
  for (int i = 0; i < 70000; ++i) tokens += "f(a, b);\n";
  CHECK(error_of_text(tokens).find("more than 262144 tokens in the functions read") != std::string::npos);
  CHECK(error_of_text(std::string((16u << 20) + 1, ' ')) ==
        "t.c: 16777217 bytes, more than the 16 MiB the C reader takes in one file");
}

TEST_CASE("a file of 15 MiB of other functions and declarations is read in one linear pass") {
  const std::string c = write_c(classifiers::qemu_10_1);
  std::string big;
  big.reserve(15u << 20);
  for (int i = 0; big.size() + c.size() < (15u << 20) - 200; ++i)
    big += "static int helper" + std::to_string(i) +
           "(int n)\n{\n    int a = n; int b = a;\n    while (b--) {\n"
           "        a += b;\n    }\n    return a;\n}\n";
  big += c;
  const auto t0 = std::chrono::steady_clock::now();
  const auto t = read_classifier(big, "big.c", classifiers::qemu_10_1);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  MESSAGE(big.size() << " bytes read in " << s << " s");
  compare(t.view, classifiers::qemu_10_1);
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
  CHECK(ids(t.view) ==
        std::vector<std::string_view>{"nopeek.implicit_main", "nopeek.multifd", "nopeek.implicit_main.2"});
  CHECK(t.rules[1].origin == "q.txt:5");
}

TEST_CASE("truncated C ends in a table or a c_reader_error") {
  std::size_t tables = 0, errors = 0;
  for (const table* b : {&classifiers::qemu_8_0, &classifiers::qemu_10_1, &classifiers::io_watch}) {
    const std::string text = write_c(*b);
    for (std::size_t n = 0; n < text.size(); n += 53) {
      try {
        (void)read_classifier(std::string_view(text).substr(0, n), "cut.c", *b);
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
  CHECK(tables > 0);
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
  // Without a channel variable, the calls that take the channel decide (7.2-10.0).
  const auto old = read_classifier(
      "if (!mis->from_src_file) { f = qemu_file_new_input(ioc); migration_incoming_setup(f, errp); }\n"
      "else if (migrate_multifd()) { multifd_recv_new_channel(ioc, &local_err); }\n"
      "else { postcopy_preempt_new_channel(mis, f); }\n",
      "t.c", classifiers::qemu_7_2);
  CHECK(ids(old.view) == std::vector<std::string_view>{"nopeek.first", "nopeek.multifd", "nopeek.preempt"});
  // A CH_* constant passed on decides as that channel.
  const auto passed = read_classifier(
      "void f(QIOChannel *ioc)\n{\n    if (migrate_postcopy_preempt()) {\n"
      "        migration_incoming_setup_channel(ioc, CH_POSTCOPY, &error_abort);\n    }\n"
      "    migration_incoming_setup_channel(ioc, CH_MAIN, &error_abort);\n}\n",
      "t.c", classifiers::qemu_10_1);
  CHECK(passed.rules[0].then == verdict::preempt);
  CHECK(passed.rules[1].then == verdict::main);
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
        "t.c:3:26: unsupported construct 'goto out (only forward, to a label at the outer level)'" + tail);
  // An assert that fails wherever the path goes: nothing after it is a row.
  const auto a = read_classifier(
      "uint8_t channel = CH_NONE;\nif (!migrate_multifd()) {\n"
      "    assert(migrate_multifd());\n    channel = CH_MAIN;\n} else {\n"
      "    channel = CH_MULTIFD;\n}\n",
      "t.c", classifiers::qemu_10_1);
  CHECK(ids(a.view) == std::vector<std::string_view>{"nopeek.no_multifd.assert", "nopeek.multifd"});
}
