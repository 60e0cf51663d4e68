#include "impl/runtime/receiver.h"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cerrno>
#include <set>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <unordered_map>

#include "impl/runtime/event_loop.h"
#include "impl/runtime/return_path.h"
#include "impl/runtime/server.h"
#include "model/sender.h"
#include "impl/runtime/caps.h"

namespace migchan {

// --- configuration ---------------------------------------------------------

std::optional<std::string> refusal(const table& t, const dest_cfg& c, transport tr) {
  observation o;
  o.multifd = c.multifd, o.postcopy_ram = c.postcopy_ram, o.postcopy_preempt = c.postcopy_preempt;
  o.mapped_ram = c.mapped_ram, o.transport = tr;
  for (const auto& f : t.forbids)
    if (matches<concrete_domain>(f.when, o.generic()))
      return std::string(t.name) + " refuses this configuration (" + std::string(f.id) + "): " + std::string(f.text);
  if (!dest_ok<concrete_domain>(t, c, static_cast<int>(tr))) {
    if (c.postcopy_preempt && !c.postcopy_ram) return std::string("Postcopy preempt requires postcopy-ram");
    return "multifd-channels must be " + channels_range() + ", not " + std::to_string(c.channels);
  }
  return std::nullopt;
}

// --- receiver ---------------------------------------------------------------

namespace {

using clock_type = event_loop::clock;
constexpr std::size_t head_max = 512;          // main: enough for the header and configuration
constexpr std::size_t read_budget = 1u << 20;  // per wake-up, so one busy channel cannot starve others
constexpr std::size_t records_max = 4096;      // channels listed in the summary

}  // namespace

struct receiver::impl {
  enum class phase : std::uint8_t { peek, main, drain, hold };

  struct conn {
    std::size_t n = 0;
    unique_fd fd;
    phase ph = phase::peek;
    clock_type::time_point accepted;
    std::optional<event_loop::timer_id> peek_timer;
    bool rdhup = false;
    bytes prefix;
    std::size_t record = SIZE_MAX;
    bytes head;  // main: the first bytes, for the header
    bool header_logged = false;
    std::unique_ptr<return_path> rp;  // main: what it answers
    bytes out;                        // main: return-path bytes the socket has not taken yet
    std::size_t out_at = 0;
    std::optional<rp_action> held;  // main: SHUT until no connection is undecided
    bool want_write = false, rp_broken = false, idle_armed = false;
    clock_type::time_point last_read;
  };

  struct channel_record {
    std::size_t conn = 0;
    verdict then = verdict::main;
    std::string rule;
    std::uint64_t bytes = 0;
    std::optional<int> multifd_id;
    json_line header;
    bool rp_shut = false;
    std::string end = "open";
    std::string error;
  };

  serve_options opt;
  log_sink log;
  event_loop loop;
  decider dec;
  server srv;
  bool done = false, shut_down = false;
  bool main_eof = false, completed = false;
  std::optional<std::string> main_error;  // qemu_loadvm_state_header() refused main's stream
  std::unordered_map<std::size_t, std::unique_ptr<conn>> conns;
  std::vector<channel_record> records;
  bool records_truncated = false;
  std::map<std::string, std::size_t> counts;
  std::set<int> multifd_ids;
  std::array<std::uint8_t, 65536> scratch{};
  std::string line;  // a decision's log line, reused

  // Before anything binds: a configuration the table refuses is the caller's mistake.
  static serve_options checked(serve_options o) {
    if (!o.classifier) throw std::invalid_argument("serve needs a classifier");
    if (auto why = refusal(*o.classifier, o.config)) throw std::invalid_argument(*why);
    return o;
  }

  impl(serve_options o, log_sink l)
      : opt(checked(std::move(o))),
        log(std::move(l)),
        dec(*opt.classifier, opt.config, opt.order,
            opt.recovery ? paused_state<concrete_domain>(opt.config) : fresh_state<concrete_domain>(), opt.uuid),
        srv(loop, log, opt.listen, opt.backlog,
            {.accepted = [this](unique_fd fd) { add_conn(std::move(fd)); },
             .room = [this](bool) { return conns.size() < opt.max_connections; },
             .paused =
                 [this](bool shortage, const std::string& error) {
                   const auto limit = "--max-connections " + std::to_string(opt.max_connections);
                   event(SIZE_MAX, "accept_paused", {{"reason", shortage ? error : limit}});
                 }}) {}

  void event(std::size_t n, std::string_view what, json_line extra = json_line::object()) {
    if (!log) return;
    json_line j;
    j["t"] = srv.now_t();
    j["conn"] = n == SIZE_MAX ? json_line(nullptr) : json_line(n);
    j["event"] = std::string(what);
    for (auto& [k, v] : extra.items()) j[k] = v;
    log(j);
  }

  // --- accepting
  void add_conn(unique_fd fd) {
    auto c = std::make_unique<conn>();
    c->n = dec.add();
    c->fd = std::move(fd);
    c->accepted = clock_type::now();
    const auto n = c->n;
    // Edge-triggered while peeking: unread bytes must not wake the loop again and again.
    loop.add(c->fd.get(), EPOLLIN | EPOLLRDHUP | EPOLLET, [this, n](std::uint32_t ev) { on_peek_event(n, ev); });
    conns.emplace(n, std::move(c));
    // Data order gives each connection its time from its accept; accept order
    // from when it reaches the head, as QEMU looks at one channel at a time.
    if (opt.order == order_mode::data) arm_peek_timer(*conns[n]);
    peek(*conns[n]);
    pump();
  }

  void arm_peek_timer(conn& c) {
    const auto n = c.n;
    c.peek_timer = loop.add_timer(opt.peek_timeout, [this, n] {
      if (auto* c2 = find(n)) c2->peek_timer.reset();
      dec.time_out(n);
      pump();
    });
  }

  conn* find(std::size_t n) {
    auto it = conns.find(n);
    return it == conns.end() ? nullptr : it->second.get();
  }

  // --- peeking
  void on_peek_event(std::size_t n, std::uint32_t ev) {
    conn* c = find(n);
    if (!c || c->ph != phase::peek) return;
    if (ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) c->rdhup = true;
    peek(*c);
    pump();
  }

  void peek(conn& c) {
    std::uint8_t buf[multifd_init_size];  // a MultiFDInit_t at most is looked at
    const auto got = ::recv(c.fd.get(), buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
    auto end = peer_end::open;
    if (got > 0) {
      c.prefix.assign(buf, buf + got);
      if (c.rdhup && static_cast<std::size_t>(got) < sizeof buf) end = peer_end::closed;
    } else if (got == 0) {
      end = peer_end::closed;
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      // A reset during the peek: what was seen before it is all there is.
      end = errno == ECONNRESET ? peer_end::reset : peer_end::closed;
    }
    if (end != peer_end::open || !c.prefix.empty()) dec.update(c.n, c.prefix, end);
  }

  void pump() {
    if (shut_down) return;
    for (const auto& d : dec.pump()) {
      act(d);
      if (shut_down) return;
    }
    if (opt.order == order_mode::accept)
      if (const auto h = dec.head())
        if (conn* c = find(*h); c && !c->peek_timer) arm_peek_timer(*c);
    if (dec.undecided_count() == 0)
      for (auto& [n, c] : conns)
        if (c->held) answer(*c, {*std::exchange(c->held, std::nullopt)}, true);
  }

  // --- acting on decisions
  void act(const decider::decision& d) {
    ++counts[std::string(name(d.then))];
    conn* c = find(d.conn);
    const auto now = clock_type::now();
    if (log) {
      line.clear();
      write_json(line, dec, d, seconds(now - srv.started()), c ? seconds(now - c->accepted) : 0.0);
      log(line);
    }
    if (d.then == verdict::abort || d.then == verdict::crash || d.then == verdict::exit) return abort_serving();
    if (!c) return;  // a parked channel whose peer has gone
    if (c->peek_timer) loop.cancel_timer(*c->peek_timer), c->peek_timer.reset();
    const auto n = c->n;
    switch (d.then) {
      case verdict::main:
      case verdict::multifd:
      case verdict::preempt:
      case verdict::defer: {
        const rule* r = dec.fired(d);
        if (c->record == SIZE_MAX && records.size() < records_max) {
          c->record = records.size();
          channel_record rec;
          rec.conn = n, rec.then = d.then, rec.rule = r ? std::string(r->id) : std::string{};
          records.push_back(std::move(rec));
        } else if (c->record == SIZE_MAX) {
          records_truncated = true;
        } else {
          records[c->record].then = d.then, records[c->record].rule = r ? std::string(r->id) : std::string{};
        }
        if (d.then == verdict::main) {
          c->rp = std::make_unique<return_path>(return_path::options{opt.config.postcopy_ram || opt.return_path,
                                                                     opt.recovery, opt.ram});
          start_reading(*c, phase::main);
        } else if (d.then == verdict::multifd) {
          log_init(*c, d);
          start_reading(*c, phase::drain);
        } else if (d.then == verdict::preempt) {
          start_reading(*c, phase::drain);
        } else {
          hold(*c);
        }
        return;
      }
      case verdict::blocked: return hold(*c);
      case verdict::reject:
      case verdict::drop:
      case verdict::exit:
      case verdict::abort:
      case verdict::crash: return close_conn(*c, "closed");
    }
  }

  // The connection stays as it is, unread; only its peer going away is watched.
  void hold(conn& c) {
    c.ph = phase::hold;
    const auto n = c.n;
    loop.modify(c.fd.get(), EPOLLRDHUP, [this, n](std::uint32_t ev) {
      conn* c2 = find(n);
      if (!c2) return;
      const bool reset = (ev & EPOLLERR) != 0;
      event(n, reset ? "reset" : "eof", {{"while", "held"}});
      close_conn(*c2, reset ? "reset" : "eof");
    });
  }

  void start_reading(conn& c, phase ph) {
    c.ph = ph;
    const auto n = c.n;
    loop.modify(c.fd.get(), EPOLLIN | EPOLLRDHUP, [this, n](std::uint32_t ev) {
      if (conn* c2 = find(n); c2 && (ev & EPOLLOUT)) flush_out(*c2);
      if (conn* c2 = find(n)) on_readable(*c2);
    });
    on_readable(c);
  }

  channel_record* record_of(conn& c) { return c.record < records.size() ? &records[c.record] : nullptr; }

  void on_readable(conn& c) {
    std::size_t budget = read_budget;
    while (budget > 0) {
      const auto got = ::recv(c.fd.get(), scratch.data(), std::min(scratch.size(), budget), 0);
      if (got < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        return peer_gone(c, "reset", std::error_code(errno, std::generic_category()).message());
      }
      if (got == 0) return peer_gone(c, "eof", {});
      const auto n = static_cast<std::size_t>(got);
      budget -= std::min(budget, n);
      if (auto* r = record_of(c)) r->bytes += n;
      if (c.ph == phase::main) on_main_bytes(c, byte_view(scratch.data(), n));
    }
  }

  void on_main_bytes(conn& c, byte_view b) {
    if (!c.header_logged) {
      const auto take = std::min(b.size(), head_max - c.head.size());
      c.head.insert(c.head.end(), b.begin(), b.begin() + static_cast<std::ptrdiff_t>(take));
      log_header(c, false);
    }
    if (!c.rp) return;
    answer(c, c.rp->feed(b), true);
    if (c.rp->shut_due()) {
      c.last_read = clock_type::now();
      if (!c.idle_armed) arm_idle(c, c.last_read + opt.shut_idle);
    }
  }

  // Sends what the return path answers (unless the peer has gone) and logs it. SHUT waits
  // while a connection is undecided: the source closes every channel once SHUT comes, which
  // would turn a channel that is silent until then into one that closed unheard.
  void answer(conn& c, const std::vector<rp_action>& actions, bool send) {
    for (const auto& a : actions) {
      if (!a.data.empty()) {
        if (!send) continue;
        if (a.event == "rp_shut" && dec.undecided_count() > 0) {
          c.held = a;
          continue;
        }
        send_rp(c, a.data);
        if (auto* r = record_of(c); r && a.event == "rp_shut") r->rp_shut = true;
      }
      event(c.n, a.event, a.fields);
    }
  }

  void send_rp(conn& c, const bytes& data) {
    if (c.rp_broken) return;
    c.out.insert(c.out.end(), data.begin(), data.end());
    flush_out(c);
  }

  // As much as the socket takes; the rest when it says it is writable again.
  void flush_out(conn& c) {
    while (c.out_at < c.out.size() && !c.rp_broken) {
      const auto sent = ::send(c.fd.get(), c.out.data() + c.out_at, c.out.size() - c.out_at,
                               MSG_NOSIGNAL | MSG_DONTWAIT);
      if (sent >= 0) {
        c.out_at += static_cast<std::size_t>(sent);
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (!c.want_write) loop.modify(c.fd.get(), EPOLLIN | EPOLLRDHUP | EPOLLOUT);
        c.want_write = true;
        return;
      } else if (errno != EINTR) {
        c.rp_broken = true;
        event(c.n, "error",
              {{"error",
                "cannot send on the return path: " + std::error_code(errno, std::generic_category()).message()}});
      }
    }
    c.out.clear(), c.out_at = 0;
    if (c.want_write) loop.modify(c.fd.get(), EPOLLIN | EPOLLRDHUP);
    c.want_write = false;
  }

  // Records magic, version and machine name once they are all there.
  void log_header(conn& c, bool at_end) {
    if (c.header_logged) return;
    auto h = parse_main_header(c.head);
    const bool complete = h && (h->machine || h->magic != qemu_vm_file_magic ||
                                (c.head.size() > 8 && c.head[8] != qemu_vm_configuration));
    if (!complete && !at_end && c.head.size() < head_max) return;
    c.header_logged = true;
    json_line j;
    j["magic"] = h ? hex(byte_view(c.head.data(), 4)) : hex(c.head);
    j["version"] = h ? json_line(h->version) : json_line(nullptr);
    j["machine"] = h && h->machine ? json_line(*h->machine) : json_line(nullptr);
    // qemu_loadvm_state_header()'s checks, for when the wrong channel became main.
    if (!h) j["error"] = "Unexpected end of stream before the header";
    else if (h->magic != qemu_vm_file_magic) j["error"] = "Not a migration stream";
    else if (h->version != qemu_vm_file_version) j["error"] = "Unsupported migration stream version";
    if (auto* r = record_of(c)) r->header = j;
    // A resumed main has no header: it starts with the recovery commands.
    if (j.contains("error") && !opt.recovery && !main_error) main_error = j["error"].get<std::string>();
    event(c.n, "main_header", j);
  }

  // The fallback when the stream's end cannot be recognised: SHUT once main has been
  // idle, never earlier (a 7.2 source closes main when SHUT comes, see docs/runtime.md).
  void arm_idle(conn& c, clock_type::time_point when) {
    c.idle_armed = true;
    const auto n = c.n;
    loop.add_timer(when, [this, n] {
      conn* c2 = find(n);
      if (!c2) return;
      c2->idle_armed = false;
      if (!c2->rp->shut_due()) return;
      const auto due = c2->last_read + opt.shut_idle;
      if (clock_type::now() < due) return arm_idle(*c2, due);
      if (auto a = c2->rp->idle()) answer(*c2, {*a}, true);
    });
  }

  // The MultiFDInit_t the model judged good (multifd_recv_initial_packet()); a
  // mapped-ram channel has none.
  void log_init(conn& c, const decider::decision& d) {
    const auto m = d.prefix.size() >= multifd_init_size ? decode_multifd_init(d.prefix) : std::nullopt;
    if (!m) return;
    multifd_ids.insert(m->id);
    if (auto* r = record_of(c)) r->multifd_id = m->id;
    event(c.n, "multifd_init", {{"id", m->id}, {"version", m->version}, {"uuid", format_uuid(m->uuid)}});
  }

  void peer_gone(conn& c, std::string_view how, const std::string& why) {
    if (c.ph == phase::main) log_header(c, true);
    if (c.rp) answer(c, c.rp->close(), false);
    json_line j;
    if (auto* r = record_of(c)) j["bytes"] = r->bytes;
    if (!why.empty()) j["error"] = why;
    event(c.n, how, j);
    if (c.ph == phase::main) main_eof = true;
    close_conn(c, how);
  }

  void close_conn(conn& c, std::string_view end) {
    if (auto* r = record_of(c)) r->end = std::string(end);
    if (c.peek_timer) loop.cancel_timer(*c.peek_timer);
    loop.remove(c.fd.get());
    const auto n = c.n;
    conns.erase(n);  // closes the socket; c is gone
    srv.resume_accept();
    check_complete();
  }

  void check_complete() {
    if (!opt.exit_after_complete || completed || !main_eof || !conns.empty() || dec.undecided_count() > 0) return;
    completed = !main_error;  // a destination that refused main's stream has failed
    done = true;
    loop.stop();
  }

  // The real destination died here: nothing more is accepted or read.
  void abort_serving() {
    shut_down = true;
    done = true;
    srv.close_listener();
    for (auto& [n, c] : conns) loop.remove(c->fd.get());
    conns.clear();
    loop.stop();
  }

  json_line summary() const {
    json_line s;
    s["classifier"] = std::string(opt.classifier->name);
    s["order"] = std::string(name(opt.order));
    s["caps"] = caps_string(opt.config);
    s["multifd_channels"] = opt.config.channels;
    s["connections"] = dec.count();
    json_line decisions = json_line::object();
    for (auto& [k, v] : counts) decisions[k] = v;
    s["decisions"] = decisions;
    s["undecided"] = dec.undecided_count();
    s["state"] = to_json(dec.state());
    s["stalled"] = dec.state().stalled;
    s["aborted"] = dec.state().aborted;
    s["completed"] = completed;
    s["main_error"] = main_error ? json_line(*main_error) : json_line(nullptr);
    json_line chans = json_line::array();
    for (const auto& r : records) {
      json_line j;
      j["conn"] = r.conn;
      j["decision"] = std::string(name(r.then));
      j["rule"] = r.rule.empty() ? json_line(nullptr) : json_line(r.rule);
      j["bytes"] = r.bytes;
      if (r.multifd_id) j["multifd_id"] = *r.multifd_id;
      if (!r.header.is_null()) j["header"] = r.header;
      if (r.then == verdict::main) j["rp_shut"] = r.rp_shut;
      if (!r.error.empty()) j["error"] = r.error;
      j["end"] = r.end;
      chans.push_back(j);
    }
    s["channels"] = chans;
    if (records_truncated) s["channels_truncated"] = true;
    s["multifd_ids"] = multifd_ids;
    s["log"] = log.summary();
    const auto [code, result] = outcome();
    s["result"] = result;
    s["exit"] = code;
    return s;
  }

  int run() {
    srv.run(
        opt.timeout,
        [this] {
          json_line j;
          j["classifier"] = std::string(opt.classifier->name);
          j["caps"] = caps_string(opt.config);
          j["multifd_channels"] = opt.config.channels;
          j["order"] = std::string(name(opt.order));
          j["peek_timeout_ms"] = opt.peek_timeout.count();
          j["state"] = to_json(dec.state());
          return j;
        },
        [this] { return done; }, [this] { return summary(); });
    return outcome().first;
  }

  // The exit code and what it means, as the summary's last words say it.
  std::pair<int, std::string> outcome() const {
    const auto& st = dec.state();
    if (st.aborted) return {1, "the destination aborted"};
    if (st.exited) return {1, "the destination exited after an error (exit-on-error)"};
    if (st.stalled) return {1, "the destination is stalled"};
    if (main_error) return {1, "the migration failed: " + *main_error};
    if (completed) return {0, "the migration completed"};
    return {0, "the destination ended neither stalled, aborted nor failed"};
  }
};

receiver::receiver(serve_options o, log_sink log) : p_(std::make_unique<impl>(std::move(o), std::move(log))) {}
receiver::~receiver() = default;
const uri& receiver::address() const { return p_->srv.address(); }
int receiver::run() { return p_->run(); }
void receiver::stop() noexcept { p_->srv.stop(); }

}  // namespace migchan
