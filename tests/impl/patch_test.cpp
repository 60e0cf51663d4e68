// impl/cli/patch.h: patches as reviewers get them, read and applied in memory.
#include "impl/cli/patch.h"

#include <doctest/doctest.h>

#include <string>

using namespace migchan::patch;

namespace {

std::string error_of(std::string_view text, std::string_view old = "") {
  try {
    const auto s = parse(text, "p.diff");
    for (const auto& d : s.files) (void)apply(old, d, "p.diff", "tree/x.c");
  } catch (const patch_error& e) {
    return e.what();
  }
  return "";
}

const std::string base = "one\ntwo\nthree\nfour\nfive\nsix\nseven\n";

}  // namespace

TEST_CASE("git diff: paths without a/ and b/, counts, context of any size") {
  const auto s = parse(
      "diff --git a/migration/x.c b/migration/x.c\nindex 1..2 100644\n--- a/migration/x.c\n"
      "+++ b/migration/x.c\n@@ -2,3 +2,3 @@ int f(void)\n two\n-three\n+THREE\n four\n",
      "p.diff");
  REQUIRE(s.files.size() == 1);
  CHECK(s.files[0].old_path == "migration/x.c");
  CHECK(s.files[0].new_path == "migration/x.c");
  REQUIRE(s.files[0].hunks.size() == 1);
  CHECK(s.files[0].hunks[0].header == "@@ -2,3 +2,3 @@");
  const auto a = apply(base, s.files[0], "p.diff", "x.c");
  CHECK(a.text == "one\ntwo\nTHREE\nfour\nfive\nsix\nseven\n");
  CHECK(a.changed == std::vector<bool>{false, false, true, false, false, false, false});
}

TEST_CASE("an mbox series: subjects, patches applied in order, a hunk found away from its stated line") {
  const std::string mbox =
      "From 1 Mon Sep 17 00:00:00 2001\nSubject: [PATCH 1/2] first\n\n---\n"
      "--- a/x.c\n+++ b/x.c\n@@ -1,2 +1,3 @@\n one\n+ONE AND A HALF\n two\n-- \n2.47.3\n\n"
      "From 2 Mon Sep 17 00:00:00 2001\nSubject: [PATCH 2/2] second,\n folded\n\n---\n"
      "--- a/x.c\n+++ b/x.c\n@@ -3,2 +4,2 @@\n four\n-five\n+FIVE\n-- \n2.47.3\n";
  const auto s = parse(mbox, "s.mbox");
  CHECK(s.subjects == std::vector<std::string>{"[PATCH 1/2] first", "[PATCH 2/2] second, folded"});
  REQUIRE(s.files.size() == 2);
  std::string t = base;
  for (const auto& d : s.files) t = apply(t, d, "s.mbox", "x.c").text;  // the second hunk says line 3: it is at 5
  CHECK(t == "one\nONE AND A HALF\ntwo\nthree\nfour\nFIVE\nsix\nseven\n");
}

TEST_CASE("-U0 additions go after their stated line; diff -u names files by their tree") {
  const auto s = parse("--- t1/x.c\t2025-01-01 00:00:00\n+++ t2/x.c\t2025-01-02 00:00:00\n@@ -3,0 +4,2 @@\n+a\n+b\n",
                       "p.diff");
  CHECK(s.files[0].old_path == "t1/x.c");
  const auto a = apply(base, s.files[0], "p.diff", "x.c");
  CHECK(a.text == "one\ntwo\nthree\na\nb\nfour\nfive\nsix\nseven\n");
  // A blank context line whose space a mailer ate is still context.
  const auto blank = parse("--- a/x.c\n+++ b/x.c\n@@ -1,3 +1,3 @@\n one\n\n-x\n+y\n", "p.diff");
  CHECK(apply("one\n\nx\n", blank.files[0], "p.diff", "x.c").text == "one\n\ny\n");
}

TEST_CASE("what cannot be applied is one line naming the hunk") {
  CHECK(error_of("just prose\n") == "p.diff: not a patch: no hunk ('@@ -a,b +c,d @@') in it");
  CHECK(error_of("@@ -1 +1 @@\n-a\n+b\n") == "p.diff:1: a hunk before any file header ('--- a/FILE', '+++ b/FILE')");
  CHECK(error_of("--- a/x.c\n+++ b/x.c\n@@ -1,3 +1,3 @@\n one\n") ==
        "p.diff:3: hunk @@ -1,3 +1,3 @@ ends early (the patch is cut short)");
  CHECK(error_of("--- a/x.c\n+++ b/x.c\n@@ -1,2 +1,2 @@\n one\n-zwei\n+two\n", base) ==
        "p.diff:3: hunk @@ -1,2 +1,2 @@ of x.c does not apply to tree/x.c");
  CHECK(error_of("--- a/x.c\n+++ b/x.c\n@@ -1,1 +1,1 @@\n?one\n", base) ==
        "p.diff:4: hunk @@ -1,1 +1,1 @@ has a line that is not ' ', '-' or '+' within its counts");
}
