// The socket-free core of the runtime: `decider` turns facts about accepted
// connections (first bytes peeked, peer closed, peek timed out) into the model's
// arrivals, in the destination's order, and asks step() of model/destination.h.
// It neither classifies nor keeps destination state on its own: the table decides.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "impl/runtime/wire.h"
#include "model/texts.h"

namespace migchan {

using dest_cfg = dest_config<concrete_domain>;
using dest_st = dest_state<concrete_domain>;
using json_line = nlohmann::ordered_json;

// dest_state's fields by name: {"has_main": false, "multifd_count": 0, "status": "setup", ...}
json_line to_json(const dest_st& s);

// accept: decide strictly in accept order (QEMU's migration_ioc_process_incoming()
// runs per accepted channel, so an undecided head holds back those behind it).
// data: decide each connection as soon as its first bytes are decidable.
enum class order_mode : std::uint8_t { accept, data };
std::optional<order_mode> parse_order(std::string_view s);
std::string_view name(order_mode o);

// Connection facts in, decisions out, in the destination's order.
class decider {
 public:
  // One step() of the model, or the wake-up of a parked (deferred) channel.
  struct decision {
    std::size_t conn = 0;
    bool wake = false;  // decided by the step of connection `by`
    std::size_t by = 0;
    bool reexamined = false;           // a parked channel stepped again after another one woke
    std::optional<first_bytes> magic;  // nullopt: decided before its bytes could matter
    std::optional<init_packet> init;   // a MultiFDInit_t judged, for a multifd_magic channel
    bytes prefix;                      // what had been peeked (up to 64 bytes)
    bool timed_out = false;            // the peek timeout made it `silent` or `partial`
    dest_st before{}, after{};
    int rule = 0;  // index into the table's rules; rules.size() when none matched
    verdict then = verdict::reject;
    migchan::cause why = cause::rule;
    reads cost = reads::nothing;
    bool started = false;  // incoming processing started on this step
  };

  // `uuid`: the destination's -uuid, which a MultiFDInit_t must carry.
  decider(const table& t, const dest_cfg& c, order_mode order, const dest_st& initial, const uuid_bytes& uuid = {});

  std::size_t add();  // a newly accepted connection; numbered 0, 1, ...
  // The newest peeked prefix (up to 64 bytes, a MultiFDInit_t, are looked at) and
  // how the peer stands after it. Ignored once the connection is decided.
  void update(std::size_t conn, byte_view prefix, peer_end end);
  // The peek timeout: what has not come by now does not come (silent, partial, a
  // MultiFDInit_t cut short).
  void time_out(std::size_t conn);
  // Decides everything that can be decided now, in order.
  std::vector<decision> pump();

  bool undecided(std::size_t conn) const { return pending_.contains(conn); }
  // Accept order: the connection the destination is looking at now.
  std::optional<std::size_t> head() const {
    return pending_.empty() ? std::nullopt : std::optional{pending_.begin()->first};
  }
  std::size_t undecided_count() const { return pending_.size(); }
  std::size_t count() const { return next_; }  // connections added
  const dest_st& state() const { return state_; }
  const table& classifier() const { return table_; }
  const dest_cfg& config() const { return config_; }
  order_mode order() const { return order_; }
  // The rule that fired, or nullptr when none matched.
  const rule* fired(const decision& d) const;
  // The arrival a decision stepped on, and the values QEMU's message for it prints.
  arrival<concrete_domain> arrival_of(const decision& d) const;
  text_args text_of(const decision& d) const;

 private:
  struct facts {
    bytes prefix;
    peer_end end = peer_end::open;
    bool timed_out = false;
    std::optional<first_bytes> magic;  // decidable from the prefix, or at the timeout
    std::optional<init_packet> init;   // for multifd_magic: 64 bytes, an end, or the timeout
    bool decidable() const { return magic && (*magic != first_bytes::multifd_magic || init); }
  };
  arrival<concrete_domain> arrival_of(first_bytes magic, init_packet init) const;
  // step() gives the same for every arrival the facts still allow.
  bool independent(const facts& f) const;
  void judge(facts& f) const;
  void decide(std::size_t conn, const facts& f, bool known, std::vector<decision>& out);

  const table& table_;
  dest_cfg config_;
  order_mode order_;
  dest_st state_;
  uuid_bytes uuid_;
  std::set<int> registered_;  // multifd ids set up, for "already setup"
  std::size_t next_ = 0;
  std::map<std::size_t, facts> pending_;  // undecided, by accept order
  std::deque<std::size_t> ready_;         // data order: in the order they became decidable
  std::deque<std::size_t> parked_;        // deferred, oldest first
  // independent() of a silent head depends on the state only, which rarely changes.
  mutable std::optional<std::pair<dest_st, bool>> independent_cache_;
};

// The values QEMU's message prints for a channel whose first bytes are `prefix` (a
// MultiFDInit_t is read from 64 of them; fewer: the magic class's representative), at a
// destination with `channels` multifd channels, `registered` of them set up, and uuid `expected`.
text_args text_args_of(byte_view prefix, first_bytes magic, int registered, int channels, const uuid_bytes& expected);

// QEMU's words for a decision (model/texts.h outcome_text() with the bytes seen):
// empty for main, multifd, preempt and defer.
std::string error_text(const decider& d, const decider::decision& x);

// The log line of one decision, as JSON text appended to `out` (no newline);
// to_json() is the same line parsed:
// {"t", "conn", "transport", "first_bytes_hex", "magic", "state_before", "rule",
//  "decision", "cause", "reads", "state_after", "started", "waited", ["error"]}
void write_json(std::string& out, const decider& d, const decider::decision& x, double t, double waited);
json_line to_json(const decider& d, const decider::decision& x, double t, double waited);

std::string hex(byte_view b);

}  // namespace migchan
