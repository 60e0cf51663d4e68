#include <doctest/doctest.h>

#include "model/builtin.h"
#include "model/render.h"

using namespace migchan;

TEST_CASE("guards render only the columns they test") {
  CHECK(describe(classifiers::qemu_10_1_rules[4].when) == "mm_done=no peekable=yes magic=vm_file_magic");
  CHECK(describe(guard{}) == "(any)");
  CHECK(describe(guard{.magic = except(first_bytes::silent)}) == "magic=!silent");
}

TEST_CASE("JSON of a table carries every row with its upstream reference") {
  const auto j = to_json(classifiers::qemu_10_1);
  REQUIRE(j["rules"].size() == classifiers::qemu_10_1.rules.size());
  CHECK(j["rules"][5]["id"] == "peek.multifd_magic");
  CHECK(j["rules"][5]["upstream"]["commit"] == "00f3fcef");
  CHECK(j["rules"][5]["guard"]["magic"] == nlohmann::json::array({"multifd_magic"}));
  CHECK_FALSE(j["rules"][5]["guard"].contains("state"));
}

TEST_CASE("markdown marks implicit defaults") {
  const auto md = render_markdown(classifiers::patch_v6);
  CHECK(md.find("`nopeek.implicit_main` | mm_done=no peekable=no | main *(implicit default)*") != std::string::npos);
}
