#include "impl/runtime/decider.h"

#include <algorithm>
#include <string>

#include "impl/runtime/json_text.h"
#include "model/sender.h"

namespace migchan {

void write_json(json_text& j, const dest_st& s) {
  j.begin();
  j.key("has_main").boolean(s.has_main);
  j.key("has_preempt").boolean(s.has_preempt);
  j.key("multifd_count").num(s.multifd_count);
  if (s.status >= 0 && s.status < static_cast<int>(enum_size<mig_status>))
    j.key("status").str(name(static_cast<mig_status>(s.status)));
  else j.key("status").num(s.status);
  j.key("starts").num(s.starts);
  j.key("stalled").boolean(s.stalled);
  j.key("aborted").boolean(s.aborted);
  j.key("exited").boolean(s.exited);
  j.key("parked").boolean(s.parked);
  if (s.parked && s.parked_kind >= 0 && s.parked_kind < static_cast<int>(enum_size<channel_kind>))
    j.key("parked_kind").str(name(static_cast<channel_kind>(s.parked_kind)));
  else j.key("parked_kind").null();
  j.end();
}

json_line to_json(const dest_st& s) {
  std::string text;
  json_text j(text);
  write_json(j, s);
  return json_line::parse(text);
}

std::optional<order_mode> parse_order(std::string_view s) {
  if (s == "accept") return order_mode::accept;
  if (s == "data") return order_mode::data;
  return std::nullopt;
}

std::string_view name(order_mode o) { return o == order_mode::accept ? "accept" : "data"; }

std::string hex(byte_view b) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s;
  s.reserve(b.size() * 2);
  for (auto c : b) s += digits[c >> 4], s += digits[c & 0xf];
  return s;
}

// --- decider ----------------------------------------------------------------

namespace {

bool same_state(const dest_st& a, const dest_st& b) {
  return a.has_main == b.has_main && a.has_preempt == b.has_preempt && a.multifd_count == b.multifd_count &&
         a.status == b.status && a.starts == b.starts && a.stalled == b.stalled && a.aborted == b.aborted &&
         a.parked == b.parked && a.parked_kind == b.parked_kind && a.exited == b.exited;
}

// The same outcome. Which row the table would have picked matters only when the
// table decided (cause rule); behind a stalled destination it is not looked at.
bool same_step(const step_result<concrete_domain>& a, const step_result<concrete_domain>& b) {
  const bool by_rule = a.why == static_cast<int>(cause::rule);
  return same_state(a.next, b.next) && a.then == b.then && a.why == b.why &&
         (!by_rule || (a.rule == b.rule && a.cost == b.cost)) && a.started == b.started && a.woke == b.woke &&
         a.woke_rule == b.woke_rule && a.woke_then == b.woke_then;
}

std::optional<multifd_init> init_of(byte_view prefix) {
  return prefix.size() >= multifd_init_size ? decode_multifd_init(prefix) : std::nullopt;
}

}  // namespace

decider::decider(const table& t, const dest_cfg& c, order_mode order, const dest_st& initial, const uuid_bytes& uuid)
    : table_(t), config_(c), order_(order), state_(initial), uuid_(uuid) {}

std::size_t decider::add() {
  const auto n = next_++;
  pending_.emplace(n, facts{});
  return n;
}

void decider::judge(facts& f) const {
  if (f.magic != first_bytes::multifd_magic || f.init) return;
  if (const auto m = init_of(f.prefix)) f.init = judge_init(*m, uuid_, config_.channels, registered_);
  else if (f.end != peer_end::open) f.init = init_packet::truncated_eof;
  else if (f.timed_out) f.init = init_packet::truncated;
}

void decider::update(std::size_t conn, byte_view prefix, peer_end end) {
  auto it = pending_.find(conn);
  if (it == pending_.end() || it->second.decidable()) return;  // decided, or decidable already
  auto& f = it->second;
  f.prefix.assign(prefix.begin(),
                  prefix.begin() + static_cast<std::ptrdiff_t>(std::min(prefix.size(), multifd_init_size)));
  f.end = end;
  if (!f.magic) f.magic = classify_prefix(byte_view(f.prefix).first(std::min<std::size_t>(f.prefix.size(), 8)), end);
  judge(f);
  if (f.decidable() && order_ == order_mode::data) ready_.push_back(conn);
}

void decider::time_out(std::size_t conn) {
  auto it = pending_.find(conn);
  if (it == pending_.end() || it->second.decidable()) return;
  auto& f = it->second;
  // What has not come by now: to the destination this channel has stopped speaking.
  if (!f.magic) f.magic = classify_silence(f.prefix);
  f.timed_out = true;
  judge(f);
  if (order_ == order_mode::data) ready_.push_back(conn);
}

arrival<concrete_domain> decider::arrival_of(first_bytes magic, init_packet init) const {
  // The kind the sender meant is unknown here; it only feeds soundness bookkeeping.
  return {true, -1, static_cast<int>(transport::socket), static_cast<int>(magic), 1, static_cast<int>(init)};
}

arrival<concrete_domain> decider::arrival_of(const decision& d) const {
  return arrival_of(d.magic.value_or(first_bytes::silent), d.init.value_or(init_packet::good));
}

bool decider::independent(const facts& f) const {
  const bool silent_head = !f.magic;
  if (silent_head && independent_cache_ && same_state(independent_cache_->first, state_))
    return independent_cache_->second;
  const auto base = step<concrete_domain>(table_, config_, state_, arrival_of(first_bytes{}, init_packet::good));
  bool same = true;
  const auto try_all_inits = [&](first_bytes m) {
    for (std::size_t i = 0; i < enum_size<init_packet> && same; ++i)
      same = same_step(base,
                       step<concrete_domain>(table_, config_, state_, arrival_of(m, static_cast<init_packet>(i))));
  };
  if (f.magic) {
    try_all_inits(*f.magic);
  } else {
    for (std::size_t m = 0; m < enum_size<first_bytes> && same; ++m) try_all_inits(static_cast<first_bytes>(m));
    independent_cache_.emplace(state_, same);
  }
  return same;
}

const rule* decider::fired(const decision& d) const {
  return d.rule >= 0 && d.rule < static_cast<int>(table_.rules.size()) ? &table_.rules[static_cast<std::size_t>(d.rule)]
                                                                       : nullptr;
}

text_args text_args_of(byte_view prefix, first_bytes magic, int registered, int channels, const uuid_bytes& expected) {
  text_args x;
  x.registered = registered;
  x.channels = channels;
  x.magic = prefix.size() >= 4 ? be32(prefix, 0) : representative_magic(magic);
  x.expected_uuid = format_uuid(expected);
  if (const auto m = init_of(prefix)) x.version = m->version, x.uuid = format_uuid(m->uuid), x.id = m->id;
  return x;
}

text_args decider::text_of(const decision& d) const {
  return text_args_of(d.prefix, d.magic.value_or(first_bytes::silent), d.before.multifd_count, config_.channels, uuid_);
}

void decider::decide(std::size_t conn, const facts& f, bool known, std::vector<decision>& out) {
  decision d;
  d.conn = conn;
  if (known) d.magic = f.magic, d.init = f.init;
  d.prefix = f.prefix;
  d.timed_out = f.timed_out;
  d.reexamined = !pending_.contains(conn);  // a parked channel, looked at again
  pending_.erase(conn);
  d.before = state_;
  const auto r = step<concrete_domain>(table_, config_, state_, arrival_of(d));
  // Names no row unless the table decided, or the bytes could have changed the
  // outcome (docs/runtime.md): a drop by the listener, or anything behind a dead
  // destination, is the same whatever came.
  const bool no_row = r.why != static_cast<int>(cause::rule) && (!known || independent(facts{}));
  state_ = r.next;
  d.after = state_;
  d.rule = r.rule;
  d.then = static_cast<verdict>(r.then);
  d.why = static_cast<cause>(r.why);
  d.cost = static_cast<reads>(r.cost);
  d.started = r.started;
  if (no_row) d.rule = static_cast<int>(table_.rules.size()), d.cost = reads::nothing;
  if (d.then == verdict::multifd && d.why == cause::rule)
    if (const auto m = init_of(d.prefix)) registered_.insert(m->id);
  out.push_back(d);
  if (d.then == verdict::defer) parked_.push_back(conn);
  if (r.woke && !parked_.empty()) {
    decision w;
    w.conn = parked_.front();
    parked_.pop_front();
    w.wake = true;
    w.by = conn;
    w.magic = first_bytes::silent;
    w.before = w.after = state_;
    w.rule = r.woke_rule;
    w.then = static_cast<verdict>(r.woke_then);
    w.why = cause::rule;
    out.push_back(w);
  }
}

std::vector<decider::decision> decider::pump() {
  std::vector<decision> out;
  for (bool progress = true; progress;) {
    progress = false;
    if (order_ == order_mode::accept) {
      // The head of the accept queue first; those behind it wait (QEMU's order).
      if (!pending_.empty()) {
        const auto head = pending_.begin();
        const facts f = head->second;
        if (f.decidable()) decide(head->first, f, true, out), progress = true;
        else if (independent(f)) decide(head->first, f, false, out), progress = true;
      }
    } else {
      while (!ready_.empty()) {
        const auto c = ready_.front();
        ready_.pop_front();
        if (auto it = pending_.find(c); it != pending_.end()) {
          const facts f = it->second;
          decide(c, f, true, out), progress = true;
        }
      }
      // A destination out of service decides nothing by content: do not make them wait.
      if (state_.stalled || state_.aborted || state_.exited)
        for (auto it = pending_.begin(); it != pending_.end();) {
          const auto c = it->first;
          const facts f = (it++)->second;
          if (independent(f)) decide(c, f, false, out), progress = true;
        }
    }
    // The model keeps one parked slot: channels parked beside the one that woke
    // are looked at again, as fresh silent arrivals.
    while (!parked_.empty() && !state_.parked) {
      const auto c = parked_.front();
      parked_.pop_front();
      facts f;
      f.magic = first_bytes::silent;
      decide(c, f, true, out), progress = true;
    }
  }
  return out;
}

std::string error_text(const decider& d, const decider::decision& x) {
  step_result<concrete_domain> r{};
  r.rule = x.rule;
  r.then = static_cast<int>(x.then);
  r.why = static_cast<int>(x.why);
  return outcome_text(d.classifier(), d.arrival_of(x), r, x.before, d.text_of(x));
}

void write_json(std::string& out, const decider& d, const decider::decision& x, double t, double waited) {
  json_text j(out);
  j.begin();
  j.key("t").num(t);
  j.key("conn").num(static_cast<std::uint64_t>(x.conn));
  if (x.wake) j.key("wake").boolean(true), j.key("by").num(static_cast<std::uint64_t>(x.by));
  if (x.reexamined) j.key("reexamined").boolean(true);
  j.key("transport").str("socket");
  j.key("first_bytes_hex").str(hex(byte_view(x.prefix).first(std::min<std::size_t>(x.prefix.size(), 8))));
  if (x.magic) j.key("magic").str(name(*x.magic));
  else j.key("magic").null();
  if (x.init) j.key("init").str(name(*x.init));
  if (x.timed_out) j.key("timed_out").boolean(true);
  j.key("state_before");
  write_json(j, x.before);
  if (const rule* r = d.fired(x)) j.key("rule").str(r->id);
  else j.key("rule").null();
  j.key("decision").str(name(x.then));
  j.key("cause").str(name(x.why));
  j.key("reads").str(name(x.cost));
  j.key("state_after");
  write_json(j, x.after);
  j.key("started").boolean(x.started);
  j.key("waited").num(waited);
  if (auto e = error_text(d, x); !e.empty()) j.key("error").str(e);
  j.end();
}

json_line to_json(const decider& d, const decider::decision& x, double t, double waited) {
  std::string text;
  write_json(text, d, x, t, waited);
  return json_line::parse(text);
}

}  // namespace migchan
