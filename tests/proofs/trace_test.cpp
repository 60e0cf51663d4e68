// The three forms of a counterexample (text, ITF, replay) name the same row at
// every step, and none where no row decided.
#include "proofs/trace.h"

#include <doctest/doctest.h>

#include <regex>
#include <sstream>

#include "model/builtin.h"
#include "proofs/verify.h"

using namespace migchan;

namespace {

// The row each step of the text form names ("" for none), in order, up to the natural-order part.
std::vector<std::string> text_rules(const std::string& text) {
  static const std::regex decided(R"(^       (rule ([^ ,]+)(, [a-z_]+)?|[a-z_]+) -> )");
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line, before;
  while (std::getline(in, line)) {
    if (line.find("in natural order") != std::string::npos) break;
    std::smatch m;
    if (before.find("before:") != std::string::npos && std::regex_search(line, m, decided)) out.push_back(m[2]);
    before = line;
  }
  return out;
}

}  // namespace

TEST_CASE("text, ITF and replay name the same row at every step of every counterexample") {
  std::vector<const table*> tables(builtin_tables.begin(), builtin_tables.end());
  const auto results = proofs::verify_tables(tables, {}, 2);
  std::size_t steps = 0, unnamed = 0;
  for (const auto& cr : results)
    for (const auto& pr : cr.results) {
      if (!pr.trace) continue;
      const auto& cx = *pr.trace;
      CAPTURE(cr.t->name);
      CAPTURE(name(pr.prop));
      const auto text = text_rules(proofs::format_text(*cr.t, pr.prop, 0, cx));
      const auto itf = itf::to_json(proofs::to_itf(*cr.t, pr.prop, 0, cx, "migchan check"));
      CHECK(itf["#meta"]["source"] == "migchan check");
      const auto replay = to_json(proofs::to_replay(*cr.t, pr.prop, cx));
      REQUIRE(text.size() == cx.steps.size());
      REQUIRE(itf["states"].size() == cx.steps.size() + 1);
      REQUIRE(replay["arrivals"].size() == cx.steps.size());
      CHECK(to_json(parse_replay_trace(replay)) == replay);  // replay reads back what the proofs write
      for (std::size_t i = 0; i <= cx.steps.size(); ++i) CHECK(itf["states"][i]["#meta"]["index"] == i);
      for (std::size_t i = 0; i < cx.steps.size(); ++i) {
        CAPTURE(i);
        const auto& st = cx.steps[i];
        const auto named = proofs::named_rule(*cr.t, st);
        const std::string want = named ? std::string(cr.t->rules[static_cast<std::size_t>(*named)].id) : "";
        CHECK(text[i] == want);
        CHECK(itf["states"][i + 1]["rule"] == want);
        CHECK(itf["states"][i + 1]["#meta"]["rule"] == (named ? nlohmann::ordered_json(want) : nullptr));
        CHECK(replay["arrivals"][i]["expect"]["rule"] == (named ? nlohmann::json(want) : nullptr));
        // Where the code before the classifier decided, no row is named.
        const auto why = static_cast<cause>(st.out.why);
        if (why == cause::listener || why == cause::behind || why == cause::tls_handshake) CHECK(!named);
        if (why == cause::rule) CHECK(named);
        ++steps, unnamed += !named;
      }
    }
  MESSAGE(steps << " steps, " << unnamed << " decided before any row");
  CHECK(unnamed > 0);
}
