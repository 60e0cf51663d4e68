// json_text writes what nlohmann reads back equal; the decision log line is the
// same whether written as text or built as an object.
#include "impl/runtime/json_text.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <random>

#include "impl/runtime/receiver.h"
#include "model/builtin.h"

using namespace migchan;
using json = nlohmann::json;

TEST_CASE("strings with quotes, backslashes and control bytes, numbers and nesting read back equal") {
  std::string out;
  json_text j(out);
  j.begin();
  j.key("s").str("a\"b\\c\nd\x01\x1f end");
  j.key("i").num(-42).key("u").num(std::uint64_t{18446744073709551615ULL});
  j.key("empty").begin().end();
  j.key("nested").begin().key("t").boolean(true).key("f").boolean(false).key("n").null().end();
  j.key("last").str("");
  j.end();
  const auto v = json::parse(out);
  CHECK(v["s"] == "a\"b\\c\nd\x01\x1f end");
  CHECK(v["i"] == -42);
  CHECK(v["u"] == 18446744073709551615ULL);
  CHECK(v["empty"] == json::object());
  CHECK(v["nested"] == json{{"t", true}, {"f", false}, {"n", nullptr}});
  CHECK(v["last"] == "");
}

TEST_CASE("doubles read back to the same value") {
  std::mt19937_64 g(7);
  std::uniform_real_distribution<double> d(0, 1e4);
  for (int i = 0; i < 10000; ++i) {
    const double x = i < 5 ? std::vector<double>{0.0, 1e-9, 0.150324578, 12345.678901234, 1e300}[i] : d(g);
    std::string out;
    json_text(out).num(x);
    CHECK(json::parse(out).get<double>() == x);
  }
}

TEST_CASE("a decision's line as text is the object to_json() gives, key for key and in order") {
  decider d(classifiers::qemu_10_1, parse_caps("multifd", 2), order_mode::accept, fresh_state<concrete_domain>());
  const auto c = d.add();
  const std::uint8_t get[] = {'G', 'E', 'T', ' ', '/'};
  d.update(c, get, peer_end::open);
  const auto out = d.pump();
  REQUIRE(out.size() == 1);
  std::string text;
  write_json(text, d, out[0], 0.25, 0.125);
  const auto parsed = json_line::parse(text);
  CHECK(parsed == to_json(d, out[0], 0.25, 0.125));
  CHECK(parsed["error"] == "unknown channel magic: 1195725856");
  CHECK(parsed.begin().key() == "t");  // the order of the keys is kept
}
