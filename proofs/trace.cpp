#include "proofs/trace.h"

#include <cstdio>
#include <sstream>

#include "model/texts.h"

namespace migchan::proofs {

namespace {

template <class E> std::string nm(int v) {
  if (v < 0 || v >= static_cast<int>(enum_size<E>)) return "?";
  return std::string(name(static_cast<E>(v)));
}

std::string rule_id(const table& t, int i) {
  return i >= 0 && i < static_cast<int>(t.rules.size()) ? std::string(t.rules[static_cast<std::size_t>(i)].id)
                                                        : std::string("(none)");
}

const char* yn(bool b) { return b ? "yes" : "no"; }

std::string state_text(const dest_state<cd>& s, const dest_config<cd>& d) {
  std::ostringstream o;
  o << "main=" << yn(s.has_main) << " multifd=" << s.multifd_count << "/" << (d.multifd ? d.channels : 0)
    << " preempt=" << yn(s.has_preempt) << " status=" << nm<mig_status>(s.status) << " starts=" << s.starts;
  if (s.parked) o << " parked=" << nm<channel_kind>(s.parked_kind);
  if (s.stalled) o << " STALLED";
  if (s.aborted) o << " ABORTED";
  if (s.exited) o << " EXITED";
  return o.str();
}

}  // namespace

std::string describe(const sender_config<cd>& s) {
  std::ostringstream o;
  o << "multifd=" << yn(s.multifd) << " postcopy-ram=" << yn(s.postcopy_ram)
    << " postcopy-preempt=" << yn(s.postcopy_preempt) << " mapped-ram=" << yn(s.mapped_ram);
  if (s.multifd) o << " multifd-channels=" << s.channels;
  o << " transport=" << nm<transport>(s.transport) << " sender=" << name(static_cast<sender_gen>(s.gen))
    << (s.recovery ? " postcopy-recovery" : " fresh");
  return o.str();
}

std::string describe(const dest_config<cd>& d) {
  std::ostringstream o;
  o << "multifd=" << yn(d.multifd) << " postcopy-ram=" << yn(d.postcopy_ram)
    << " postcopy-preempt=" << yn(d.postcopy_preempt) << " mapped-ram=" << yn(d.mapped_ram);
  if (d.multifd) o << " multifd-channels=" << d.channels;
  return o.str();
}

std::string assumption_list(unsigned mask) {
  std::string s;
  for (std::size_t a = 0; a < assumption_count; ++a)
    if ((mask >> a) & 1u) s += (s.empty() ? "" : ", ") + std::string(name(static_cast<assumption>(a)));
  return "{" + s + "}";
}

std::optional<int> named_rule(const table& t, const trace_step<cd>& st) {
  switch (static_cast<cause>(st.out.why)) {
    case cause::listener:
    case cause::tls_handshake:
    case cause::behind:
    case cause::none: return std::nullopt;
    default: break;
  }
  if (!st.in.present || st.out.rule < 0 || st.out.rule >= static_cast<int>(t.rules.size())) return std::nullopt;
  return st.out.rule;
}

namespace {

// "rule first.main", "rule later.multifd, multifd_init", "listener": who decided a step.
std::string decided_by(const table& t, const trace_step<cd>& st) {
  const auto r = named_rule(t, st);
  if (!r) return nm<cause>(st.out.why);
  return "rule " + rule_id(t, *r) + (st.out.why == int(cause::rule) ? "" : ", " + nm<cause>(st.out.why));
}

}  // namespace

std::string explain(const table& t, const dest_config<cd>& d, const trace_step<cd>& st) {
  return outcome_text(t, st.in, st.out, st.before, representative(st.in, d, st.before));
}

std::string format_text(const table& t, property p, unsigned assumed, const counterexample& cx) {
  std::ostringstream o;
  o << t.name << " breaks " << name(p) << " (assuming " << assumption_list(assumed) << "), " << cx.arrivals
    << (cx.arrivals == 1 ? " channel" : " channels") << ":\n";
  o << "  source:      " << describe(cx.src) << "\n";
  if (same_caps<cd>(cx.src, cx.dst)) o << "  destination: the same capabilities\n";
  else o << "  destination: " << describe(cx.dst) << "\n";
  int n = 0;
  const auto line = [&](const trace_step<cd>& st) {
    o << "  " << ++n << ". " << nm<channel_kind>(st.in.kind);
    if (st.in.count > 1) o << " x" << st.in.count;
    o << " (" << nm<transport>(st.in.transport) << ", " << nm<first_bytes>(st.in.magic) << ")\n"
      << "       before: " << state_text(st.before, cx.dst) << "\n"
      << "       " << decided_by(t, st) << " -> " << nm<verdict>(st.out.then);
    const auto why = explain(t, cx.dst, st);
    if (!why.empty()) o << ": " << why;
    if (st.out.why == int(cause::rule) &&
        (st.out.then == int(verdict::main) || st.out.then == int(verdict::multifd) ||
         st.out.then == int(verdict::preempt)) &&
        st.out.then != st.in.kind)
      o << "   <-- opened as " << nm<channel_kind>(st.in.kind);
    if (st.out.woke)
      o << "\n       parked " << nm<channel_kind>(st.out.woke_kind) << " channel decided: rule "
        << rule_id(t, st.out.woke_rule) << " -> " << nm<verdict>(st.out.woke_then);
    if (st.out.started) o << "\n       incoming processing starts";
    o << "\n       after:  " << state_text(st.out.next, cx.dst) << "\n";
  };
  for (auto it = cx.steps.begin(); it != cx.steps.end(); ++it) {
    line(*it);
    // A source's main is silent only when its header waits for connects the accept queue cannot hold.
    if (it->in.kind == int(channel_kind::main) && it->in.magic == int(first_bytes::silent)) {
      const auto self = [](const trace_step<cd>& st) -> const arrival<cd>& { return st.in; };
      o << "       (main's header waits for the " << connects_behind<cd>(it + 1, cx.steps.end(), self)
        << " connects behind it; the destination's accept queue holds " << accept_queue<cd>(cx.dst) << ")\n";
    }
  }
  if (p == property::order_independent && !cx.natural.empty()) {
    o << "  in natural order the same channels end differently:\n";
    n = 0;
    for (const auto& st : cx.natural) line(st);
  }
  unsigned hm = 0;
  for (std::size_t a = 0; a < assumption_count; ++a)
    if (holds<cd>(static_cast<assumption>(a), cx.src, cx.dst, cx.steps)) hm |= 1u << a;
  o << "  assumptions this trace satisfies: " << assumption_list(hm) << "\n";
  o << "  no trace with fewer channels breaks " << name(p) << " under these assumptions\n";
  return o.str();
}

std::string meaning(const table& t, property p, const counterexample& cx) {
  std::ostringstream o;
  const auto rule_at = [&](int i) -> const rule* {
    return i >= 0 && i < static_cast<int>(t.rules.size()) ? &t.rules[static_cast<std::size_t>(i)] : nullptr;
  };
  const auto cite = [&](const rule* r) {
    if (!r) return std::string("no rule");
    return "`" + std::string(r->c) + "` (" + std::string(r->id) + ", " + std::string(r->ref.commit) + " " +
           std::string(r->ref.where) + ")";
  };
  int n = 0;
  for (const auto& st : cx.steps) {
    ++n;
    const bool by_rule = st.out.why == int(cause::rule);
    const bool kind_verdict = st.out.then <= int(verdict::preempt);
    if (by_rule && kind_verdict && st.out.then != st.in.kind) {
      o << "Channel " << n << " was opened as " << nm<channel_kind>(st.in.kind) << " but " << cite(rule_at(st.out.rule))
        << " takes it as " << nm<verdict>(st.out.then) << ".";
      return o.str();
    }
    if (st.out.woke && st.out.woke_then <= int(verdict::preempt) && st.out.woke_then != st.out.woke_kind) {
      o << "A parked " << nm<channel_kind>(st.out.woke_kind) << " channel is decided by "
        << cite(rule_at(st.out.woke_rule)) << " as " << nm<verdict>(st.out.woke_then) << ".";
      return o.str();
    }
    if (st.out.why != int(cause::behind) &&
        (st.out.then == int(verdict::abort) || st.out.then == int(verdict::crash))) {
      o << "Channel " << n << " (" << nm<channel_kind>(st.in.kind) << ") makes the destination "
        << (st.out.then == int(verdict::abort) ? "abort: " : "crash: ") << explain(t, cx.dst, st)
        << (by_rule ? " in " + cite(rule_at(st.out.rule)) : std::string()) << ".";
      return o.str();
    }
    if (st.out.then == int(verdict::blocked) && st.out.why != int(cause::behind)) {
      o << "Channel " << n << " (" << nm<channel_kind>(st.in.kind) << ", " << nm<first_bytes>(st.in.magic)
        << ") stalls the destination's main loop: " << explain(t, cx.dst, st)
        << (by_rule ? " after " + cite(rule_at(st.out.rule)) : std::string()) << "; every channel behind it waits too.";
      return o.str();
    }
    if (p == property::complete && st.out.why != int(cause::rule)) {
      o << "Channel " << n << " (" << nm<channel_kind>(st.in.kind) << ") is not used: " << explain(t, cx.dst, st)
        << ".";
      return o.str();
    }
  }
  if (p == property::order_independent)
    return "The same channels arriving in natural order (main, multifd, preempt) end with a different assignment.";
  const auto& last = cx.steps.empty() ? dest_state<cd>{} : cx.steps.back().out.next;
  if (last.starts == 0)
    return "Every channel arrived, yet incoming processing never starts: the destination waits forever.";
  if (last.starts > 1) return "Incoming processing starts more than once.";
  return "A channel is left without its role.";
}

itf::trace to_itf(const table& t, property p, unsigned assumed, const counterexample& cx, std::string_view source) {
  itf::trace tr;
  nlohmann::json as = nlohmann::json::array();
  for (std::size_t a = 0; a < assumption_count; ++a)
    if ((assumed >> a) & 1u) as.push_back(std::string(name(static_cast<assumption>(a))));
  tr.meta = {{"format", "ITF"},
             {"format-description", "https://apalache-mc.org/docs/adr/015adr-trace.html"},
             {"source", std::string(source)},
             {"classifier", std::string(t.name)},
             {"property", std::string(name(p))},
             {"assumptions", as},
             {"meaning", meaning(t, p, cx)},
             {"source_config", describe(cx.src)},
             {"destination_config", describe(cx.dst)}};
  tr.vars = {"step",     "opened_as",     "count",       "transport", "first_bytes", "rule",    "decision", "cause",
             "has_main", "multifd_count", "has_preempt", "status",    "starts",      "stalled", "aborted"};
  const auto put_state = [&](itf::state& s, const dest_state<cd>& d) {
    s.values["has_main"] = d.has_main;
    s.values["multifd_count"] = itf::bigint(d.multifd_count);
    s.values["has_preempt"] = d.has_preempt;
    s.values["status"] = nm<mig_status>(d.status);
    s.values["starts"] = itf::bigint(d.starts);
    s.values["stalled"] = d.stalled;
    s.values["aborted"] = d.aborted;
  };
  itf::state init;
  init.values = {{"step", itf::bigint(0)}, {"opened_as", ""}, {"count", itf::bigint(0)}, {"transport", ""},
                 {"first_bytes", ""},      {"rule", ""},      {"decision", ""},          {"cause", ""}};
  put_state(init, cx.steps.empty() ? dest_state<cd>{} : cx.steps.front().before);
  init.meta = {{"index", 0}};
  tr.states.push_back(init);
  int i = 0;
  for (const auto& st : cx.steps) {
    itf::state s;
    const auto r = named_rule(t, st);
    const auto rule = r ? rule_id(t, *r) : std::string();  // "": no row decided it
    s.values = {{"step", itf::bigint(++i)},
                {"opened_as", nm<channel_kind>(st.in.kind)},
                {"count", itf::bigint(st.in.count)},
                {"transport", nm<transport>(st.in.transport)},
                {"first_bytes", nm<first_bytes>(st.in.magic)},
                {"rule", rule},
                {"decision", nm<verdict>(st.out.then)},
                {"cause", nm<cause>(st.out.why)}};
    put_state(s, st.out.next);
    s.meta = {{"index", i},
              {"rule", r ? nlohmann::json(rule) : nlohmann::json(nullptr)},
              {"explain", explain(t, cx.dst, st)}};
    tr.states.push_back(s);
  }
  return tr;
}

replay_trace to_replay(const table& t, property p, const counterexample& cx) {
  replay_trace r;
  r.classifier = std::string(t.name);
  r.property = std::string(name(p));
  r.config = cx.dst;
  r.transport = static_cast<transport>(cx.src.transport);
  r.recovery = cx.src.recovery;
  r.source = replay_source{cx.src.multifd, cx.src.postcopy_ram, cx.src.postcopy_preempt, cx.src.channels};
  for (const auto& st : cx.steps) {
    replay_arrival a;
    a.kind = static_cast<channel_kind>(st.in.kind);
    a.magic = static_cast<first_bytes>(st.in.magic);
    a.init = static_cast<init_packet>(st.in.init);
    a.count = st.in.count;
    const auto r_ = named_rule(t, st);
    a.expect = replay_expect{static_cast<verdict>(st.out.then),
                             r_ ? std::optional<std::string>(rule_id(t, *r_)) : std::nullopt,
                             static_cast<cause>(st.out.why)};
    r.arrivals.push_back(a);
  }
  return r;
}

}  // namespace migchan::proofs
