// ITF (Apalache ADR-015) traces. Every write passes the checks an ITF reader makes,
// so nothing is written that a reader would refuse.
#include "proofs/itf.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace migchan::itf {

namespace {

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error("ITF: " + what); }

// A short rendering of a JSON value for an error message.
std::string excerpt(const value& v) {
  std::string s = v.dump();
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return s;
}

bool is_decimal(const std::string& s) {
  std::size_t i = (!s.empty() && s[0] == '-') ? 1 : 0;
  if (i == s.size()) return false;
  for (; i < s.size(); ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

bool is_tagged(const value& v) {
  if (!v.is_object()) return false;
  for (const auto& [k, _] : v.items())
    if (!k.empty() && k[0] == '#') return true;
  return false;
}

void check_value(const value& v, const std::string& where) {
  switch (v.type()) {
    case value::value_t::boolean:
    case value::value_t::string: return;
    case value::value_t::array:
      for (std::size_t i = 0; i < v.size(); ++i) check_value(v[i], where + "[" + std::to_string(i) + "]");
      return;
    case value::value_t::number_integer:
    case value::value_t::number_unsigned:
      fail(where + ": bare JSON number " + v.dump() + ", write integers as {\"#bigint\":\"" + v.dump() + "\"}");
    case value::value_t::number_float: fail(where + ": JSON number " + v.dump() + " is not an ITF value");
    case value::value_t::object: break;
    default: fail(where + ": " + excerpt(v) + " is not an ITF value");
  }
  if (!is_tagged(v)) {  // a record
    for (const auto& [k, field] : v.items()) check_value(field, where + "." + k);
    return;
  }
  if (v.size() != 1) fail(where + ": tagged value " + excerpt(v) + " has more than one key");
  const std::string& tag = v.begin().key();
  const value& body = v.begin().value();
  if (tag == "#bigint") {
    if (!body.is_string() || !is_decimal(body.get<std::string>()))
      fail(where + ": #bigint must be a decimal string, found " + excerpt(body));
  } else if (tag == "#tup" || tag == "#set") {
    if (!body.is_array()) fail(where + ": " + tag + " must be an array, found " + excerpt(body));
    check_value(body, where + tag);
  } else if (tag == "#map") {
    if (!body.is_array()) fail(where + ": #map must be an array, found " + excerpt(body));
    for (std::size_t i = 0; i < body.size(); ++i) {
      std::string at = where + "#map[" + std::to_string(i) + "]";
      if (!body[i].is_array() || body[i].size() != 2)
        fail(at + ": a #map entry must be a [key, value] pair, found " + excerpt(body[i]));
      check_value(body[i][0], at + ".key");
      check_value(body[i][1], at + ".value");
    }
  } else if (tag == "#unserializable") {
    if (!body.is_string()) fail(where + ": #unserializable must be a string");
  } else {
    fail(where + ": unknown tag '" + tag + "'");
  }
}

std::vector<std::string> string_list(const value& j, const char* key) {
  if (!j.is_array()) fail(std::string("'") + key + "' must be an array of strings");
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& e : j) {
    if (!e.is_string()) fail(std::string("'") + key + "' must be an array of strings, found " + excerpt(e));
    std::string s = e.get<std::string>();
    if (s.empty() || s[0] == '#') fail(std::string("'") + key + "' lists an invalid name '" + s + "'");
    if (!seen.insert(s).second) fail("'" + s + "' is listed twice in '" + key + "'");
    out.push_back(std::move(s));
  }
  return out;
}

// What an ITF reader checks; to_json() runs its output through this.
void check_trace(const value& j) {
  if (!j.is_object()) fail("a trace must be a JSON object, found " + excerpt(j));
  for (const auto& [k, _] : j.items())
    if (k != "#meta" && k != "params" && k != "vars" && k != "states" && k != "loop")
      fail("unknown top-level key '" + k + "'");
  if (j.contains("#meta") && !j.at("#meta").is_object()) fail("'#meta' must be an object");
  if (j.contains("params")) string_list(j.at("params"), "params");
  if (!j.contains("vars")) fail("trace lacks 'vars'");
  const auto vars = string_list(j.at("vars"), "vars");
  if (!j.contains("states")) fail("trace lacks 'states'");
  const value& states = j.at("states");
  if (!states.is_array()) fail("'states' must be an array");
  for (std::size_t i = 0; i < states.size(); ++i) {
    const value& s = states[i];
    std::string at = "state " + std::to_string(i);
    if (!s.is_object()) fail(at + " is not a JSON object");
    for (const auto& [k, v] : s.items()) {
      if (k == "#meta") {
        if (!v.is_object()) fail(at + ": '#meta' must be an object");
        continue;
      }
      if (std::find(vars.begin(), vars.end(), k) == vars.end())
        fail(at + " has variable '" + k + "' not listed in 'vars'");
      check_value(v, at + ", '" + k + "'");
    }
    for (const auto& var : vars)
      if (!s.contains(var)) fail(at + " lacks variable '" + var + "'");
  }
  if (j.contains("loop")) {
    const value& l = j.at("loop");
    long long n = -1;
    if (l.is_number_unsigned() || l.is_number_integer()) n = l.get<long long>();
    else if (is_int(l)) n = as_int(l);
    else fail("'loop' must be a state index, found " + excerpt(l));
    if (n < 0 || static_cast<std::size_t>(n) >= states.size())
      fail("'loop' " + std::to_string(n) + " is not the index of a state");
  }
}

}  // namespace

value bigint(long long v) { return value{{"#bigint", std::to_string(v)}}; }

bool is_int(const value& v) {
  if (!v.is_object() || v.size() != 1 || !v.contains("#bigint")) return false;
  const value& s = v.at("#bigint");
  return s.is_string() && is_decimal(s.get<std::string>());
}

long long as_int(const value& v) {
  if (!is_int(v)) fail("expected an integer {\"#bigint\":\"...\"}, found " + excerpt(v));
  const std::string& s = v.at("#bigint").get_ref<const std::string&>();
  long long out = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc{} || end != s.data() + s.size()) fail("integer " + s + " does not fit in 64 bits");
  return out;
}

value tup(std::vector<value> items) { return value{{"#tup", value(std::move(items))}}; }
value set(std::vector<value> items) { return value{{"#set", value(std::move(items))}}; }

value map(std::vector<std::pair<value, value>> entries) {
  value pairs = value::array();
  for (auto& [k, v] : entries) pairs.push_back(value::array({std::move(k), std::move(v)}));
  return value{{"#map", std::move(pairs)}};
}

void validate_value(const value& v, std::string_view where) { check_value(v, std::string(where)); }

value to_json(const trace& t) {
  value j = value::object();
  if (!t.meta.empty()) j["#meta"] = t.meta;
  if (!t.params.empty()) j["params"] = t.params;
  j["vars"] = t.vars;
  value states = value::array();
  for (std::size_t i = 0; i < t.states.size(); ++i) {
    const state& s = t.states[i];
    value o = value::object();
    if (!s.meta.empty()) o["#meta"] = s.meta;
    for (const auto& var : t.vars) {
      auto it = s.values.find(var);
      if (it == s.values.end()) fail("state " + std::to_string(i) + " lacks variable '" + var + "'");
      o[var] = it->second;
    }
    for (const auto& [k, _] : s.values)
      if (!o.contains(k)) fail("state " + std::to_string(i) + " has variable '" + k + "' not listed in 'vars'");
    states.push_back(std::move(o));
  }
  j["states"] = std::move(states);
  if (t.loop) j["loop"] = *t.loop;
  check_trace(j);
  return j;
}

std::string dump(const trace& t) { return to_json(t).dump(2) + "\n"; }

namespace {

// "ITF: <detail>" -> "ITF: <path>: <detail>"
[[noreturn]] void rethrow_for(const std::string& path, const std::runtime_error& e) {
  std::string what = e.what();
  if (what.rfind("ITF: ", 0) == 0) what = what.substr(5);
  fail(path + ": " + what);
}

}  // namespace

void save(const std::string& path, const trace& t) {
  std::string text;
  try {
    text = dump(t);
  } catch (const std::runtime_error& e) {
    rethrow_for(path, e);
  }
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::system_error(errno, std::generic_category(), "cannot open '" + tmp + "'");
    out << text;
    out.flush();
    if (!out) throw std::system_error(errno, std::generic_category(), "cannot write '" + tmp + "'");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    std::remove(tmp.c_str());
    throw std::system_error(err, std::generic_category(), "cannot rename '" + tmp + "' to '" + path + "'");
  }
}

void to_json(value& j, const trace& t) { j = to_json(t); }

}  // namespace migchan::itf
