#include "model/replay_form.h"

#include <algorithm>
#include <cstdint>

namespace migchan {

namespace {

using json = nlohmann::json;

[[noreturn]] void bad(const std::string& where, const std::string& what) { throw trace_error(where + ": " + what); }

template <class E> E enum_field(const json& v, const std::string& where) {
  if (!v.is_string()) bad(where, "expected a string");
  if (auto e = parse_enum<E>(v.get<std::string>())) return *e;
  std::string names;
  for (auto n : enum_traits<E>::names) names += (names.empty() ? "" : ", ") + std::string(n);
  // JSON's escapes keep the message on one line whatever the value holds.
  const auto escaped = v.dump();
  bad(where, "'" + escaped.substr(1, escaped.size() - 2) + "' is not one of " + names);
}

bool bool_field(const json& obj, const char* key, const std::string& where, bool fallback) {
  if (!obj.contains(key)) return fallback;
  if (!obj[key].is_boolean()) bad(where + "." + key, "expected true or false");
  return obj[key].get<bool>();
}

int int_field(const json& obj, const char* key, const std::string& where, int fallback, int lo, int hi) {
  if (!obj.contains(key)) return fallback;
  const auto& v = obj[key];
  if (!v.is_number_integer()) bad(where + "." + key, "expected an integer");
  // As written: 18446744073709551615 is not -1.
  const bool in = v.is_number_unsigned() ? v.get<std::uint64_t>() <= static_cast<std::uint64_t>(hi) && hi >= lo &&
                                               v.get<std::uint64_t>() >= static_cast<std::uint64_t>(std::max(lo, 0))
                                         : v.get<std::int64_t>() >= lo && v.get<std::int64_t>() <= hi;
  if (!in) bad(where + "." + key, v.dump() + " is outside " + std::to_string(lo) + ".." + std::to_string(hi));
  return static_cast<int>(v.get<std::int64_t>());
}

first_bytes default_magic(channel_kind k, bool recovery) {
  switch (k) {
    case channel_kind::main: return recovery ? first_bytes::vm_command : first_bytes::vm_file_magic;
    case channel_kind::multifd: return first_bytes::multifd_magic;
    case channel_kind::preempt: return first_bytes::silent;
  }
  return first_bytes::other;
}

}  // namespace

replay_trace parse_replay_trace(const json& j) {
  if (!j.is_object()) bad("trace", "expected a JSON object");
  replay_trace t;
  if (!j.contains("classifier") || !j["classifier"].is_string()) bad("classifier", "expected a string");
  t.classifier = j["classifier"].get<std::string>();
  json cfg = json::object();
  if (j.contains("config")) {
    cfg = j["config"];
    if (!cfg.is_object()) bad("config", "expected an object");
  }
  t.config.multifd = bool_field(cfg, "multifd", "config", false);
  t.config.postcopy_ram = bool_field(cfg, "postcopy_ram", "config", false);
  t.config.postcopy_preempt = bool_field(cfg, "postcopy_preempt", "config", false);
  t.config.mapped_ram = bool_field(cfg, "mapped_ram", "config", false);
  t.config.channels = int_field(cfg, "channels", "config", multifd_channels_default, multifd_channels_min,
                                multifd_channels_max);
  t.config.exit_on_error = bool_field(cfg, "exit_on_error", "config", true);
  t.recovery = bool_field(cfg, "recovery", "config", false);
  if (cfg.contains("transport")) t.transport = enum_field<transport>(cfg["transport"], "config.transport");
  if (j.contains("property")) {
    if (!j["property"].is_string()) bad("property", "expected a string");
    t.property = j["property"].get<std::string>();
  }
  if (j.contains("source_config")) {
    const auto& s = j["source_config"];
    if (!s.is_object()) bad("source_config", "expected an object");
    replay_source r;
    r.multifd = bool_field(s, "multifd", "source_config", false);
    r.postcopy_ram = bool_field(s, "postcopy_ram", "source_config", false);
    r.postcopy_preempt = bool_field(s, "postcopy_preempt", "source_config", false);
    r.channels = int_field(s, "channels", "source_config", multifd_channels_default, multifd_channels_min,
                           multifd_channels_max);
    t.source = r;
  }
  if (!j.contains("arrivals") || !j["arrivals"].is_array()) bad("arrivals", "expected an array");
  if (j["arrivals"].empty()) bad("arrivals", "is empty");
  for (std::size_t i = 0; i < j["arrivals"].size(); ++i) {
    const auto& a = j["arrivals"][i];
    const auto where = "arrivals[" + std::to_string(i) + "]";
    if (!a.is_object()) bad(where, "expected an object");
    if (!a.contains("kind")) bad(where + ".kind", "missing");
    replay_arrival r;
    r.kind = enum_field<channel_kind>(a["kind"], where + ".kind");
    r.magic = a.contains("magic") ? enum_field<first_bytes>(a["magic"], where + ".magic")
                                  : default_magic(r.kind, t.recovery);
    if (a.contains("init")) r.init = enum_field<init_packet>(a["init"], where + ".init");
    r.count = int_field(a, "count", where, 1, 1, multifd_channels_max);
    if (a.contains("gap_ms")) r.gap_ms = int_field(a, "gap_ms", where, 0, 0, 600000);
    if (a.contains("end")) r.end = enum_field<replay_end>(a["end"], where + ".end");
    if (a.contains("expect") && !a["expect"].is_null()) {
      const auto& e = a["expect"];
      if (!e.is_object()) bad(where + ".expect", "expected an object");
      if (!e.contains("decision")) bad(where + ".expect.decision", "missing");
      replay_expect x;
      x.decision = enum_field<verdict>(e["decision"], where + ".expect.decision");
      if (e.contains("rule") && !e["rule"].is_null()) {
        if (!e["rule"].is_string()) bad(where + ".expect.rule", "expected a string or null");
        x.rule = e["rule"].get<std::string>();
      }
      if (e.contains("cause")) x.why = enum_field<cause>(e["cause"], where + ".expect.cause");
      r.expect = x;
    }
    t.arrivals.push_back(r);
  }
  return t;
}

// Keys sorted (nlohmann::json), "init" and "expect.rule" always written: the bytes
// verify, check and synth have always written beside each ITF trace.
nlohmann::json to_json(const replay_trace& t) {
  using json = nlohmann::json;
  json arrivals = json::array();
  for (const auto& a : t.arrivals) {
    json x{{"kind", std::string(name(a.kind))},
           {"magic", std::string(name(a.magic))},
           {"init", std::string(name(a.init))},
           {"count", a.count}};
    if (a.gap_ms) x["gap_ms"] = *a.gap_ms;
    if (a.end) x["end"] = std::string(name(*a.end));
    if (a.expect)
      x["expect"] = {{"decision", std::string(name(a.expect->decision))},
                     {"rule", a.expect->rule ? json(*a.expect->rule) : json(nullptr)},
                     {"cause", std::string(name(a.expect->why))}};
    arrivals.push_back(x);
  }
  json j{{"classifier", t.classifier},
         {"config",
          {{"multifd", t.config.multifd},
           {"postcopy_ram", t.config.postcopy_ram},
           {"postcopy_preempt", t.config.postcopy_preempt},
           {"mapped_ram", t.config.mapped_ram},
           {"channels", t.config.channels},
           {"exit_on_error", t.config.exit_on_error},
           {"transport", std::string(name(t.transport))},
           {"recovery", t.recovery}}},
         {"arrivals", arrivals}};
  if (t.property) j["property"] = *t.property;
  if (t.source)
    j["source_config"] = {{"multifd", t.source->multifd},
                          {"postcopy_ram", t.source->postcopy_ram},
                          {"postcopy_preempt", t.source->postcopy_preempt},
                          {"channels", t.source->channels}};
  return j;
}

}  // namespace migchan
