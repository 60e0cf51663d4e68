#include "impl/decider.h"

#include <algorithm>
#include <string>

#include "model/sender.h"

namespace migchan {

namespace {
// An object with room for its keys: a log line is built per decision, so no regrowth.
json_line object_of(std::size_t keys) {
  json_line j(json_line::value_t::object);
  j.get_ref<json_line::object_t&>().reserve(keys);
  return j;
}
}  // namespace

json_line to_json(const dest_st& s) {
  json_line j = object_of(9);
  j["has_main"] = s.has_main;
  j["has_preempt"] = s.has_preempt;
  j["multifd_count"] = s.multifd_count;
  j["status"] = s.status >= 0 && s.status < static_cast<int>(enum_size<mig_status>)
                    ? json_line(std::string(name(static_cast<mig_status>(s.status))))
                    : json_line(s.status);
  j["starts"] = s.starts;
  j["stalled"] = s.stalled;
  j["aborted"] = s.aborted;
  j["parked"] = s.parked;
  j["parked_kind"] = s.parked && s.parked_kind >= 0 && s.parked_kind < static_cast<int>(enum_size<channel_kind>)
                         ? json_line(std::string(name(static_cast<channel_kind>(s.parked_kind))))
                         : json_line(nullptr);
  return j;
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

constexpr std::size_t prefix_max = 8;  // classify_prefix() decides with at most a be64

bool same_state(const dest_st& a, const dest_st& b) {
  return a.has_main == b.has_main && a.has_preempt == b.has_preempt && a.multifd_count == b.multifd_count &&
         a.status == b.status && a.starts == b.starts && a.stalled == b.stalled && a.aborted == b.aborted &&
         a.parked == b.parked && a.parked_kind == b.parked_kind;
}

// The same outcome. Which row the table would have picked matters only when the
// table decided (cause rule); behind a stalled destination it is not looked at.
bool same_step(const step_result<concrete_domain>& a, const step_result<concrete_domain>& b) {
  const bool by_rule = a.why == static_cast<int>(cause::rule);
  return same_state(a.next, b.next) && a.then == b.then && a.why == b.why &&
         (!by_rule || (a.rule == b.rule && a.cost == b.cost)) && a.started == b.started && a.woke == b.woke &&
         a.woke_rule == b.woke_rule && a.woke_then == b.woke_then;
}

}  // namespace

decider::decider(const table& t, const dest_cfg& c, order_mode order, const dest_st& initial)
    : table_(t), config_(c), order_(order), state_(initial) {}

std::size_t decider::add() {
  const auto n = next_++;
  pending_.emplace(n, facts{});
  return n;
}

void decider::update(std::size_t conn, byte_view prefix, bool closed) {
  auto it = pending_.find(conn);
  if (it == pending_.end() || it->second.magic) return;  // decided, or decidable already
  auto& f = it->second;
  f.prefix.assign(prefix.begin(), prefix.begin() + static_cast<std::ptrdiff_t>(std::min(prefix.size(), prefix_max)));
  f.closed = closed;
  f.magic = classify_prefix(f.prefix, closed);
  if (f.magic && order_ == order_mode::data) ready_.push_back(conn);
}

void decider::time_out(std::size_t conn) {
  auto it = pending_.find(conn);
  if (it == pending_.end() || it->second.magic) return;
  // Nothing decidable yet: to the destination this channel has not spoken.
  it->second.magic = first_bytes::silent;
  it->second.timed_out = true;
  if (order_ == order_mode::data) ready_.push_back(conn);
}

arrival<concrete_domain> decider::arrival_of(first_bytes magic) const {
  // The kind the sender meant is unknown here; it only feeds soundness bookkeeping.
  return {true, -1, static_cast<int>(transport::socket), static_cast<int>(magic), 1};
}

bool decider::independent(std::size_t) const {
  if (independent_cache_ && same_state(independent_cache_->first, state_)) return independent_cache_->second;
  bool same = true;
  const auto base = step<concrete_domain>(table_, config_, state_, arrival_of(first_bytes{}));
  for (std::size_t m = 1; m < enum_size<first_bytes> && same; ++m)
    same = same_step(base, step<concrete_domain>(table_, config_, state_, arrival_of(static_cast<first_bytes>(m))));
  independent_cache_.emplace(state_, same);
  return same;
}

const rule* decider::fired(const decision& d) const {
  return d.rule >= 0 && d.rule < static_cast<int>(table_.rules.size()) ? &table_.rules[static_cast<std::size_t>(d.rule)]
                                                                        : nullptr;
}

void decider::decide(std::size_t conn, std::optional<first_bytes> magic, std::vector<decision>& out) {
  decision d;
  d.conn = conn;
  d.magic = magic;
  if (auto it = pending_.find(conn); it != pending_.end()) {
    d.prefix = it->second.prefix;
    d.timed_out = it->second.timed_out;
    pending_.erase(it);
  } else {
    d.reexamined = true;  // a parked channel, looked at again
  }
  d.before = state_;
  const auto r = step<concrete_domain>(table_, config_, state_, arrival_of(magic.value_or(first_bytes::silent)));
  state_ = r.next;
  d.after = state_;
  d.rule = r.rule;
  d.then = static_cast<verdict>(r.then);
  d.why = static_cast<cause>(r.why);
  d.cost = static_cast<reads>(r.cost);
  d.started = r.started;
  if (!magic && d.why != cause::rule) d.rule = static_cast<int>(table_.rules.size()), d.cost = reads::nothing;
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
        if (head->second.magic) {
          decide(head->first, head->second.magic, out), progress = true;
        } else if (independent(head->first)) {
          decide(head->first, std::nullopt, out), progress = true;
        }
      }
    } else {
      while (!ready_.empty()) {
        const auto c = ready_.front();
        ready_.pop_front();
        if (auto it = pending_.find(c); it != pending_.end()) decide(c, it->second.magic, out), progress = true;
      }
      // A destination out of service decides nothing by content: do not make them wait.
      if (state_.stalled || state_.aborted)
        for (auto it = pending_.begin(); it != pending_.end();) {
          const auto c = (it++)->first;
          if (independent(c)) decide(c, std::nullopt, out), progress = true;
        }
    }
    // The model keeps one parked slot: channels parked beside the one that woke
    // are looked at again, as fresh silent arrivals.
    while (!parked_.empty() && !state_.parked) {
      const auto c = parked_.front();
      parked_.pop_front();
      decide(c, first_bytes::silent, out), progress = true;
    }
  }
  return out;
}

std::string error_text(const decider& d, const decider::decision& x) {
  const auto failed = [&](const std::string& what) {
    return "failed to receive packet via multifd channel " + std::to_string(x.before.multifd_count) + ": " + what;
  };
  switch (x.why) {
    case cause::rule: {
      if (x.then == verdict::main || x.then == verdict::multifd || x.then == verdict::preempt ||
          x.then == verdict::defer)
        return {};
      const rule* r = d.fired(x);
      std::string text = !r ? "no rule matched" : r->text.empty() ? std::string(r->c) : std::string(r->text);
      return x.then == verdict::abort ? "abort: " + text : text;
    }
    case cause::listener:
      return "socket_accept_incoming_migration: Extra incoming migration connection; ignoring";
    case cause::multifd_init: {
      if (x.then == verdict::blocked)
        return "multifd_recv_initial_packet() blocks reading the 64-byte MultiFDInit_t of a silent channel";
      if (x.prefix.size() < 4) return failed("Unexpected end-of-file before all data were read");
      bytes packet(multifd_init_size, 0);
      std::copy(x.prefix.begin(), x.prefix.end(), packet.begin());
      return failed(check_multifd_init(*decode_multifd_init(packet), {}, 255).value_or("bad MultiFDInit_t"));
    }
    case cause::multifd_off:
      return "abort: multifd_recv_new_channel() with multifd off (multifd_recv_state is NULL)";
    case cause::multifd_overflow:
      return failed("more multifd channels than multifd-channels " + std::to_string(d.config().channels));
    case cause::dup_main: return "abort: assert(!mis->from_src_file)";
    case cause::dup_preempt: return "abort: assert(!mis->postcopy_qemufile_dst)";
    case cause::behind:
      return x.before.aborted ? "not examined: the destination has aborted"
                              : "not examined: the destination is stalled on an earlier channel";
    case cause::none: return {};
  }
  return {};
}

json_line to_json(const decider& d, const decider::decision& x, double t, double waited) {
  json_line j = object_of(18);
  j["t"] = t;
  j["conn"] = x.conn;
  if (x.wake) j["wake"] = true, j["by"] = x.by;
  if (x.reexamined) j["reexamined"] = true;
  j["transport"] = "socket";
  j["first_bytes_hex"] = hex(x.prefix);
  j["magic"] = x.magic ? json_line(std::string(name(*x.magic))) : json_line(nullptr);
  if (x.timed_out) j["timed_out"] = true;
  j["state_before"] = to_json(x.before);
  const rule* r = d.fired(x);
  j["rule"] = r ? json_line(std::string(r->id)) : json_line(nullptr);
  j["decision"] = std::string(name(x.then));
  j["cause"] = std::string(name(x.why));
  j["reads"] = std::string(name(x.cost));
  j["state_after"] = to_json(x.after);
  j["started"] = x.started;
  j["waited"] = waited;
  if (auto e = error_text(d, x); !e.empty()) j["error"] = e;
  return j;
}

}  // namespace migchan
