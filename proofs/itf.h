// ITF, the Informal Trace Format of Apalache ADR-015, as read by the ITF Trace
// Viewer, itf-rs and quint-connect:
//
//   { "#meta": {...}, "params": [...], "vars": ["a", ...],
//     "states": [ { "#meta": {...}, "a": <value>, ... }, ... ], "loop": 2 }
//
// A value is a JSON bool, string, array (list) or object (record, whose field
// names do not start with '#'), or one of the tagged forms {"#bigint":"-12"},
// {"#tup":[...]}, {"#set":[...]}, {"#map":[[k,v],...]}, {"#unserializable":"..."}.
// Integers are always {"#bigint":"<decimal>"}: bare JSON numbers were dropped from
// ITF (apalache #2732) and are refused here on writing, as readers refuse them.
//
// Errors are std::runtime_error with one line starting "ITF: ", naming the state
// (counted from 0, as in the "states" array) and the variable.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace migchan::itf {

// ordered_json keeps "#meta" and the variables in the order they were written;
// an nlohmann::json converts to it implicitly.
using value = nlohmann::ordered_json;

value bigint(long long v);                                // {"#bigint":"<v>"}
bool is_int(const value& v);                              // a well-formed #bigint
long long as_int(const value& v);                         // throws if not an int or out of range
value tup(std::vector<value> items);                      // {"#tup":[...]}
value set(std::vector<value> items);                      // {"#set":[...]}
value map(std::vector<std::pair<value, value>> entries);  // {"#map":[[k,v],...]}

// Throws if v is not an ITF value; `where` starts the message, e.g. "state 3, 'count'".
void validate_value(const value& v, std::string_view where);

struct state {
  value meta = value::object();         // written as the state's "#meta" unless empty
  std::map<std::string, value> values;  // exactly the trace's vars
};

struct trace {
  value meta = value::object();     // "#meta", e.g. {"format":"ITF","source":...}
  std::vector<std::string> params;  // "params", omitted when empty
  std::vector<std::string> vars;    // "vars", in the order states are written
  std::vector<state> states;
  std::optional<std::size_t> loop;  // "loop": index of the state a lasso returns to
};

// Validates as an ITF reader would: every state holds exactly `vars`, every value is ITF.
value to_json(const trace& t);

std::string dump(const trace& t);  // two-space indented, ending in a newline

// save() writes <path>.tmp and renames it over <path>. I/O failures throw
// std::system_error ("cannot open '<path>'"); format errors name the file.
void save(const std::string& path, const trace& t);

// nlohmann hook, so `value j = t;` works too.
void to_json(value& j, const trace& t);

}  // namespace migchan::itf
