#include "proofs/itf.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <stdexcept>
#include <string>
#include <system_error>
#include <unistd.h>

namespace itf = migchan::itf;
using itf::value;

namespace {

itf::trace sample() {
  itf::trace t;
  t.meta = {{"format", "ITF"}, {"source", "migchan"}};
  t.vars = {"count", "channel", "has_main"};
  for (int i = 0; i < 3; ++i) {
    itf::state s;
    s.meta = {{"index", i}};
    s.values["count"] = itf::bigint(i == 2 ? -9000000000LL : i);
    s.values["channel"] = i == 0 ? "main" : "multifd";
    s.values["has_main"] = i > 0;
    t.states.push_back(s);
  }
  return t;
}

// The message of the runtime_error that f throws, or "" if none.
template <class F> std::string error_of(F f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("integers are written as #bigint") {
  CHECK(itf::bigint(42).dump() == R"({"#bigint":"42"})");
  CHECK(itf::bigint(-7).dump() == R"({"#bigint":"-7"})");
  CHECK(itf::as_int(itf::bigint(9000000000LL)) == 9000000000LL);
  CHECK(itf::as_int(value::parse(R"({"#bigint":"-0012"})")) == -12);
  CHECK(itf::is_int(itf::bigint(0)));
  CHECK_FALSE(itf::is_int(value(3)));
  CHECK_FALSE(itf::is_int(value::parse(R"({"#bigint":"1.5"})")));
  CHECK_FALSE(itf::is_int(value::parse(R"({"#bigint":"+1"})")));
  CHECK_FALSE(itf::is_int(value::parse(R"({"#bigint":"-"})")));
  CHECK(error_of([] { itf::as_int(value(3)); }).rfind("ITF: expected an integer", 0) == 0);
  CHECK(error_of([] { itf::as_int(value::parse(R"({"#bigint":"99999999999999999999"})")); }) ==
        "ITF: integer 99999999999999999999 does not fit in 64 bits");
}

TEST_CASE("tagged values") {
  CHECK(itf::tup({itf::bigint(1), "a"}).dump() == R"({"#tup":[{"#bigint":"1"},"a"]})");
  CHECK(itf::set({true}).dump() == R"({"#set":[true]})");
  CHECK(itf::map({{"k", itf::bigint(2)}}).dump() == R"({"#map":[["k",{"#bigint":"2"}]]})");
  CHECK_NOTHROW(itf::validate_value(itf::map({{itf::tup({}), itf::set({})}}), "v"));
}

TEST_CASE("a trace is written in ADR-015 form") {
  value j = itf::to_json(sample());
  CHECK(j.dump() == R"({"#meta":{"format":"ITF","source":"migchan"},"vars":["count","channel","has_main"],)"
                    R"("states":[)"
                    R"({"#meta":{"index":0},"count":{"#bigint":"0"},"channel":"main","has_main":false},)"
                    R"({"#meta":{"index":1},"count":{"#bigint":"1"},"channel":"multifd","has_main":true},)"
                    R"({"#meta":{"index":2},"count":{"#bigint":"-9000000000"},"channel":"multifd","has_main":true}]})");
  itf::trace t = sample();
  t.meta = value::object();
  t.states[0].meta = value::object();
  t.loop = 1;
  t.params = {"N"};
  value k = itf::to_json(t);
  CHECK_FALSE(k.contains("#meta"));
  CHECK_FALSE(k["states"][0].contains("#meta"));
  CHECK(k["loop"] == 1);
  CHECK(k["params"] == value::array({"N"}));
  CHECK(itf::dump(t).back() == '\n');
}

TEST_CASE("files: save writes the dump, and names the file when the trace is not ITF") {
  std::string path = "itf_test." + std::to_string(::getpid()) + ".itf.json";
  itf::save(path, sample());
  std::FILE* f = std::fopen(path.c_str(), "r");
  REQUIRE(f);
  std::string text;
  for (int c; (c = std::fgetc(f)) != EOF;) text += static_cast<char>(c);
  std::fclose(f);
  CHECK(text == itf::dump(sample()));
  itf::trace t = sample();
  t.states[0].values.erase("count");
  CHECK(error_of([&] { itf::save(path, t); }) == "ITF: " + path + ": state 0 lacks variable 'count'");
  std::remove(path.c_str());
  CHECK_THROWS_AS(itf::save("/nonexistent/" + path, sample()), std::system_error);
}

TEST_CASE("values that are not ITF are refused with one line naming where") {
  auto err = [](const char* text) {
    return error_of([&] { itf::validate_value(value::parse(text), "state 0, 'r'"); });
  };
  CHECK(err("5") == R"(ITF: state 0, 'r': bare JSON number 5, write integers as {"#bigint":"5"})");
  CHECK(err(R"({"f":[true,null]})") == "ITF: state 0, 'r'.f[1]: null is not an ITF value");
  CHECK(err(R"({"#bigint":"12a"})") == R"(ITF: state 0, 'r': #bigint must be a decimal string, found "12a")");
  CHECK(err(R"({"#bigint":"1","x":2})").rfind("ITF: state 0, 'r': tagged value", 0) == 0);
  CHECK(err(R"({"#map":[[1]]})").rfind("ITF: state 0, 'r'#map[0]: a #map entry must be a [key, value] pair", 0) == 0);
  CHECK(err(R"({"#foo":[]})") == "ITF: state 0, 'r': unknown tag '#foo'");
  CHECK(err("5").find('\n') == std::string::npos);
}

TEST_CASE("writing refuses what an ITF reader would refuse") {
  itf::trace t = sample();
  t.states[1].values["count"] = 1;  // a bare number
  CHECK(error_of([&] { itf::to_json(t); }) ==
        R"(ITF: state 1, 'count': bare JSON number 1, write integers as {"#bigint":"1"})");
  t = sample();
  t.states[2].values.erase("channel");
  CHECK(error_of([&] { itf::to_json(t); }) == "ITF: state 2 lacks variable 'channel'");
  t = sample();
  t.states[0].values["stray"] = true;
  CHECK(error_of([&] { itf::to_json(t); }) == "ITF: state 0 has variable 'stray' not listed in 'vars'");
  t = sample();
  t.loop = 3;
  CHECK(error_of([&] { itf::to_json(t); }) == "ITF: 'loop' 3 is not the index of a state");
}
