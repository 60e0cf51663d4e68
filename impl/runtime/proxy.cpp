#include "impl/runtime/proxy.h"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <map>
#include <stdexcept>
#include <unordered_map>

#include "impl/runtime/event_loop.h"
#include "impl/runtime/server.h"

namespace migchan {

namespace {

using clock_type = event_loop::clock;

// Bytes on their way in one direction; at most `cap` are held.
struct buffer {
  bytes b;
  std::size_t off = 0;
  std::size_t size() const { return b.size() - off; }
  const std::uint8_t* data() const { return b.data() + off; }
  void consume(std::size_t n) {
    off += n;
    if (off == b.size()) b.clear(), off = 0;
  }
  void append(const std::uint8_t* p, std::size_t n) {
    if (off > 0 && off >= b.size() / 2) b.erase(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(off)), off = 0;
    b.insert(b.end(), p, p + n);
  }
};

void set_linger_reset(int fd) {
  linger l{1, 0};  // close() sends RST: a reset is relayed as a reset
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
}

}  // namespace

struct proxy::impl {
  enum class state : std::uint8_t { identify, held, connecting, relay };

  struct pair {
    std::size_t n = 0;              // accept order
    std::optional<std::size_t> dn;  // dial order: the connection number the destination sees
    unique_fd down, up;
    state s = state::identify;
    std::optional<first_bytes> cls;  // trace mode: what it was identified as
    bool rdhup = false;
    std::optional<event_loop::timer_id> id_timer, peek_timer, dial_timer;
    std::size_t dial_retries = 0;  // short of descriptors: dials tried again
    bytes prefix;                  // the first bytes relayed upstream (a MultiFDInit_t at most), for the table
    buffer d2u, u2d;
    bool down_eof = false, up_eof = false, up_wr_shut = false, down_wr_shut = false;
    std::uint32_t down_mask = 0, up_mask = 0;
    std::uint64_t bytes_up = 0, bytes_down = 0;
    clock_type::time_point accepted, dialed;
  };

  struct pair_record {
    std::size_t n = 0;
    std::optional<std::size_t> dn;
    std::optional<first_bytes> cls;
    std::uint64_t bytes_up = 0, bytes_down = 0;
    std::string end;
  };

  proxy_options opt;
  log_sink log;
  event_loop loop;
  socket_address dest;  // resolved before binding: a bad --to binds nothing
  std::optional<decider> dec;
  server srv;
  std::size_t accepted = 0;
  std::map<std::size_t, std::unique_ptr<pair>> pairs;  // by accept order
  std::unordered_map<std::size_t, std::size_t> by_dn;  // dial order -> accept order
  std::map<std::string, std::size_t> counts;
  std::vector<pair_record> records;
  // trace order
  std::vector<first_bytes> slots;
  std::size_t cursor = 0;
  std::optional<std::size_t> dialing;  // waiting for this pair's connect before the next dial
  bool gap_pending = false, abandoned = false;
  std::optional<event_loop::timer_id> hold_timer;
  std::array<std::uint8_t, 65536> scratch{};

  // Before anything binds: a configuration the table refuses is the caller's mistake.
  static proxy_options checked(proxy_options o) {
    if (o.classifier)
      if (auto why = refusal(*o.classifier, o.config)) throw std::invalid_argument(*why);
    return o;
  }

  impl(proxy_options o, log_sink l)
      : opt(checked(std::move(o))),
        log(std::move(l)),
        dest(resolve_address(opt.to)),
        srv(loop, log, opt.listen, 1024,
            {.accepted = [this](unique_fd fd) { add_pair(std::move(fd)); },
             .room =
                 [this](bool resuming) {
                   return pairs.size() < opt.max_connections && !(resuming && redial_pending());
                 },
             .paused =
                 [this](bool shortage, const std::string& error) {
                   if (shortage) event(nullptr, "accept_paused", {{"reason", error}});
                 }}) {
    if (opt.classifier)
      dec.emplace(*opt.classifier, opt.config, order_mode::accept,
                  opt.recovery ? paused_state<concrete_domain>(opt.config) : fresh_state<concrete_domain>());
    if (opt.order)
      for (const auto& a : opt.order->arrivals)
        for (int k = 0; k < a.count; ++k) slots.push_back(a.magic);
  }

  void event(const pair* p, std::string_view what, json_line extra = json_line::object()) {
    if (!log) return;
    json_line j;
    j["t"] = srv.now_t();
    j["conn"] = p && p->dn ? json_line(*p->dn) : json_line(nullptr);
    j["accepted"] = p ? json_line(p->n) : json_line(nullptr);
    j["event"] = std::string(what);
    for (auto& [k, v] : extra.items()) j[k] = v;
    log(j);
  }

  pair* find(std::size_t n) {
    auto it = pairs.find(n);
    return it == pairs.end() ? nullptr : it->second.get();
  }

  // --- accepting
  void add_pair(unique_fd fd) {
    auto p = std::make_unique<pair>();
    p->n = accepted++;
    p->down = std::move(fd);
    p->accepted = clock_type::now();
    auto& ref = *p;
    pairs.emplace(ref.n, std::move(p));
    if (opt.order && cursor < slots.size()) identify(ref);
    else dial(ref);
  }

  // Accepting stays paused while pairs already accepted are still short of descriptors.
  bool redial_pending() const {
    for (const auto& [n, p] : pairs)
      if (p->dial_timer) return true;
    return false;
  }

  // --- trace order: identify by first bytes, hold, dial in the trace's order
  void identify(pair& p) {
    const auto n = p.n;
    loop.add(p.down.get(), EPOLLIN | EPOLLRDHUP | EPOLLET, [this, n](std::uint32_t ev) {
      pair* q = find(n);
      if (!q || q->s != state::identify) return;
      if (ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) q->rdhup = true;
      peek_identify(*q);
    });
    p.id_timer = loop.add_timer(opt.peek_timeout, [this, n] {
      pair* q = find(n);
      if (!q || q->s != state::identify) return;
      q->id_timer.reset();
      identified(*q, first_bytes::silent);
    });
    peek_identify(p);
  }

  void peek_identify(pair& p) {
    std::uint8_t buf[8];
    const auto got = ::recv(p.down.get(), buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
    bytes seen;
    bool closed = false;
    if (got > 0) seen.assign(buf, buf + got), closed = p.rdhup && got < 8;
    else if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) closed = true;
    if (auto cls = classify_prefix(seen, closed ? peer_end::closed : peer_end::open)) identified(p, *cls);
  }

  void identified(pair& p, first_bytes cls) {
    if (p.id_timer) loop.cancel_timer(*p.id_timer), p.id_timer.reset();
    p.cls = cls;
    p.s = state::held;
    loop.remove(p.down.get());  // untouched until dialed: its bytes wait in the kernel
    event(&p, "identified", {{"magic", std::string(name(cls))}});
    advance();
  }

  void advance() {
    if (!opt.order || dialing || gap_pending) return;
    if (cursor >= slots.size()) {
      // Dialing can close a pair (and come back here), so pick them first.
      std::vector<std::size_t> held;
      for (auto& [n, p] : pairs)
        if (p->s == state::held) held.push_back(n);
      for (auto n : held)
        if (pair* p = find(n); p && p->s == state::held) dial(*p);
      return;
    }
    pair* next = nullptr;
    for (auto& [n, p] : pairs)
      if (p->s == state::held && p->cls == slots[cursor]) {
        next = p.get();
        break;
      }
    if (!next) {
      if (!hold_timer) {
        const auto at = cursor;
        hold_timer = loop.add_timer(opt.hold_timeout, [this, at] {
          hold_timer.reset();
          if (cursor != at || dialing) return;
          abandoned = true;
          event(nullptr, "order_abandoned", {{"waiting_for", std::string(name(slots[cursor]))}, {"arrival", cursor}});
          cursor = slots.size();
          advance();
        });
      }
      return;
    }
    if (hold_timer) loop.cancel_timer(*hold_timer), hold_timer.reset();
    ++cursor;
    dialing = next->n;
    dial(*next);
  }

  void dialed_next() {
    dialing.reset();
    if (opt.gap.count() > 0) {
      gap_pending = true;
      loop.add_timer(opt.gap, [this] {
        gap_pending = false;
        advance();
      });
    } else {
      advance();
    }
  }

  // --- dialing the destination
  void dial(pair& p) {
    p.s = state::connecting;
    p.dialed = clock_type::now();
    const auto n = p.n;
    if (dec) {
      p.dn = dec->add();
      by_dn[*p.dn] = n;
      const auto dn = *p.dn;
      p.peek_timer = loop.add_timer(opt.peek_timeout, [this, n, dn] {
        if (pair* q = find(n)) q->peek_timer.reset();
        dec->time_out(dn);
        pump_decisions();
      });
    }
    connect_up(p);
  }

  // The connection to the destination. Short of descriptors (or of room in a unix
  // socket's backlog) the source is not reset: accepting pauses, as serve's does,
  // and the dial is tried again until the source goes away.
  void connect_up(pair& p) {
    const auto n = p.n;
    int err = 0;
    auto up = connect_nonblocking(dest, err);
    if (is_resource_error(err) || err == EAGAIN) {
      if (!p.dial_retries++) event(&p, "dial_paused", {{"reason", std::strerror(err)}});
      if (is_resource_error(err)) srv.pause_accept(true);
      p.dial_timer = loop.add_timer(std::chrono::milliseconds(100), [this, n] {
        if (pair* q = find(n)) q->dial_timer.reset(), connect_up(*q);
      });
      watch(p, true, 0);
      return;
    }
    if (!up) return fail(p, "cannot connect to " + describe(opt.to) + ": " + std::strerror(err));
    p.up = std::move(up);
    loop.add(p.up.get(), EPOLLOUT, [this, n](std::uint32_t) {
      if (pair* q = find(n)) on_up(*q);
    });
    p.up_mask = EPOLLOUT;
    p.down_mask = 0;
    loop.remove(p.down.get());
    interest(p);
  }

  void fail(pair& p, const std::string& why) {
    event(&p, "error", {{"error", why}});
    set_linger_reset(p.down.get());
    close_pair(p, "refused");
  }

  void on_up(pair& p) {
    if (p.s == state::connecting) {
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(p.up.get(), SOL_SOCKET, SO_ERROR, &err, &len);
      if (err == EINPROGRESS) return;
      const bool was_next = dialing == p.n;
      if (err) {
        fail(p, "cannot connect to " + describe(opt.to) + ": " + std::strerror(err));
        if (was_next) dialed_next();
        return;
      }
      p.s = state::relay;
      event(&p, "dialed", {{"waited", seconds(p.dialed - p.accepted)}});
      if (was_next) dialed_next();
    }
    relay(p);
  }

  // --- relaying, both directions
  // false when the pair was closed
  bool pull(pair& p, bool from_down) {
    auto& fd = from_down ? p.down : p.up;
    auto& buf = from_down ? p.d2u : p.u2d;
    auto& eof = from_down ? p.down_eof : p.up_eof;
    while (!eof && buf.size() < opt.buffer) {
      const auto got = ::recv(fd.get(), scratch.data(), std::min(scratch.size(), opt.buffer - buf.size()), 0);
      if (got < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        reset(p, from_down, std::strerror(errno));
        return false;
      }
      if (got == 0) {
        eof = true;
        if (from_down) facts(p, peer_end::closed);
        break;
      }
      buf.append(scratch.data(), static_cast<std::size_t>(got));
      if (from_down) {
        p.bytes_up += static_cast<std::size_t>(got);
        if (p.prefix.size() < multifd_init_size) {
          const auto take = std::min<std::size_t>(multifd_init_size - p.prefix.size(), static_cast<std::size_t>(got));
          p.prefix.insert(p.prefix.end(), scratch.begin(), scratch.begin() + static_cast<std::ptrdiff_t>(take));
          facts(p, peer_end::open);
        }
      } else {
        p.bytes_down += static_cast<std::size_t>(got);
      }
    }
    return true;
  }

  bool push(pair& p, bool to_up) {
    auto& fd = to_up ? p.up : p.down;
    auto& buf = to_up ? p.d2u : p.u2d;
    while (buf.size() > 0) {
      const auto sent = ::send(fd.get(), buf.data(), buf.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (sent < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        reset(p, !to_up, std::strerror(errno));
        return false;
      }
      buf.consume(static_cast<std::size_t>(sent));
    }
    return true;
  }

  void relay(pair& p) {
    if (p.s != state::relay) return interest(p);
    if (!pull(p, true) || !push(p, true) || !pull(p, false) || !push(p, false)) return;
    // A half-close is relayed once everything before it is.
    if (p.down_eof && p.d2u.size() == 0 && !p.up_wr_shut) ::shutdown(p.up.get(), SHUT_WR), p.up_wr_shut = true;
    if (p.up_eof && p.u2d.size() == 0 && !p.down_wr_shut) ::shutdown(p.down.get(), SHUT_WR), p.down_wr_shut = true;
    if (p.up_wr_shut && p.down_wr_shut) return close_pair(p, "eof");
    interest(p);
  }

  void watch(pair& p, bool down, std::uint32_t mask) {
    auto& fd = down ? p.down : p.up;
    auto& cur = down ? p.down_mask : p.up_mask;
    const auto n = p.n;
    if (mask == 0) {
      loop.remove(fd.get());  // a fully shut socket would report EPOLLHUP for ever
    } else if (!loop.watching(fd.get())) {
      loop.add(fd.get(), mask, [this, n, down](std::uint32_t) {
        if (pair* q = find(n)) down ? relay(*q) : on_up(*q);
      });
    } else if (mask != cur) {
      loop.modify(fd.get(), mask);
    }
    cur = mask;
  }

  void interest(pair& p) {
    if (p.s == state::connecting) {
      watch(p, true, 0);
      return watch(p, false, EPOLLOUT);
    }
    const std::uint32_t in = EPOLLIN | EPOLLRDHUP;
    watch(p, true, (!p.down_eof && p.d2u.size() < opt.buffer ? in : 0u) | (p.u2d.size() > 0 ? EPOLLOUT : 0u));
    watch(p, false, (!p.up_eof && p.u2d.size() < opt.buffer ? in : 0u) | (p.d2u.size() > 0 ? EPOLLOUT : 0u));
  }

  void reset(pair& p, bool from_down, const std::string& why) {
    event(&p, "reset", {{"side", from_down ? "source" : "destination"}, {"error", why}});
    set_linger_reset(p.down.get());
    if (p.up) set_linger_reset(p.up.get());
    close_pair(p, "reset");
  }

  void close_pair(pair& p, std::string_view end) {
    if (p.s != state::identify && p.s != state::held) facts(p, end == "reset" ? peer_end::reset : peer_end::closed);
    if (p.id_timer) loop.cancel_timer(*p.id_timer);
    if (p.peek_timer) loop.cancel_timer(*p.peek_timer);  // its facts are final now
    if (p.dial_timer) loop.cancel_timer(*p.dial_timer);
    event(&p, "closed", {{"end", std::string(end)}, {"bytes_up", p.bytes_up}, {"bytes_down", p.bytes_down}});
    if (records.size() < 4096) records.push_back({p.n, p.dn, p.cls, p.bytes_up, p.bytes_down, std::string(end)});
    loop.remove(p.down.get());
    if (p.up) loop.remove(p.up.get());
    if (p.dn) by_dn.erase(*p.dn);
    const auto n = p.n;
    if (dialing == n) dialing.reset();
    pairs.erase(n);
    srv.resume_accept();
    pump_decisions();
    advance();
  }

  // --- classification on the way
  void facts(pair& p, peer_end end) {
    if (!dec || !p.dn) return;
    dec->update(*p.dn, p.prefix, end);
    pump_decisions();
  }

  void pump_decisions() {
    if (!dec) return;
    for (const auto& d : dec->pump()) {
      ++counts[std::string(name(d.then))];
      if (!log) continue;
      const auto now = clock_type::now();
      auto it = by_dn.find(d.conn);
      pair* p = it == by_dn.end() ? nullptr : find(it->second);
      auto j = to_json(*dec, d, seconds(now - srv.started()), p ? seconds(now - p->dialed) : 0.0);
      j["accepted"] = p ? json_line(p->n) : json_line(nullptr);
      log(j);
    }
  }

  // Until stop() or the timeout: nothing else ends a relay.
  int run() {
    srv.run(
        opt.timeout,
        [this] {
          return json_line{{"to", to_string(opt.to)},
                           {"order", opt.order ? "trace" : "natural"},
                           {"classifier", opt.classifier ? json_line(std::string(opt.classifier->name)) : nullptr}};
        },
        [] { return false; }, [this] { return summary(); });
    return opt.order && !trace_followed() ? 1 : 0;  // as the summary's "exit"
  }

  bool trace_followed() const { return !abandoned && cursor >= slots.size(); }

  json_line summary() const {
    json_line s;
    s["order"] = opt.order ? "trace" : "natural";
    if (opt.order) s["trace_followed"] = trace_followed();
    s["classifier"] = opt.classifier ? json_line(std::string(opt.classifier->name)) : json_line(nullptr);
    s["connections"] = accepted;
    json_line decisions = json_line::object();
    for (auto& [k, v] : counts) decisions[k] = v;
    s["decisions"] = decisions;
    if (dec) s["state"] = to_json(dec->state());
    json_line list = json_line::array();
    for (const auto& r : records) {
      json_line j;
      j["accepted"] = r.n;
      j["conn"] = r.dn ? json_line(*r.dn) : json_line(nullptr);
      if (r.cls) j["magic"] = std::string(name(*r.cls));
      j["bytes_up"] = r.bytes_up;
      j["bytes_down"] = r.bytes_down;
      j["end"] = r.end;
      list.push_back(j);
    }
    for (const auto& [n, p] : pairs) {
      json_line j;
      j["accepted"] = n;
      j["conn"] = p->dn ? json_line(*p->dn) : json_line(nullptr);
      j["bytes_up"] = p->bytes_up;
      j["bytes_down"] = p->bytes_down;
      j["end"] = "open";
      list.push_back(j);
    }
    s["pairs"] = list;
    s["log"] = log.summary();
    const bool ok = !opt.order || trace_followed();
    s["result"] = !opt.order ? "relayed" : ok ? "the trace's order was followed" : "the trace's order was not followed";
    s["exit"] = ok ? 0 : 1;
    return s;
  }
};

proxy::proxy(proxy_options o, log_sink log) : p_(std::make_unique<impl>(std::move(o), std::move(log))) {}
proxy::~proxy() = default;
const uri& proxy::address() const { return p_->srv.address(); }
int proxy::run() { return p_->run(); }
void proxy::stop() noexcept { p_->srv.stop(); }

}  // namespace migchan
