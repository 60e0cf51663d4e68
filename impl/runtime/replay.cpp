#include "impl/runtime/replay.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "impl/runtime/event_loop.h"

namespace migchan {

// --- the replay form ----------------------------------------------------------

using json = nlohmann::json;

replay_trace load_replay_trace(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw trace_error("trace '" + path + "' is a directory, not a replay-form file (*.replay.json)");
  std::ifstream in(path);
  if (!in) throw trace_error("cannot read trace '" + path + "': " + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  json j;
  try {
    j = json::parse(ss.str());
  } catch (const json::exception& e) {
    // nlohmann's what() is "[json.exception.parse_error.101] parse error at line 1, ..." or
    // "[json.exception.out_of_range.406] number overflow parsing '1e999'".
    std::string what = e.what();
    if (auto at = what.find("] "); at != std::string::npos) what = what.substr(at + 2);
    throw trace_error("trace '" + path + "': not JSON: " + what);
  }
  // The other form verify and check write beside it: ITF, for trace viewers.
  if (j.is_object() && j.contains("vars") && j.contains("states"))
    throw trace_error("trace '" + path +
                      "' is an ITF trace (for trace viewers); replay takes the replay form "
                      "written beside it (*.replay.json)");
  try {
    return parse_replay_trace(j);
  } catch (const trace_error& e) {
    throw trace_error("trace '" + path + "': " + e.what());
  } catch (const json::exception& e) {
    throw trace_error("trace '" + path + "': " + e.what());
  }
}

int multifd_id_sent(init_packet init, int good_id, int channels) {
  switch (init) {
    case init_packet::id_at_count: return channels;
    case init_packet::id_above_count: return channels + 1;
    case init_packet::id_repeated: return 0;
    default: return good_id;
  }
}

bytes first_bytes_of(first_bytes magic, init_packet init, const uuid_bytes& uuid, int good_id, int channels,
                     const std::optional<std::string>& machine) {
  switch (magic) {
    case first_bytes::vm_file_magic: {
      // The minimal stream is 34 bytes, but a 7.2 destination that misreads
      // main as a multifd channel reads 64 before it checks the magic: pad
      // past that (a correct destination stops reading at the VM description).
      auto b = machine ? minimal_main_stream(*machine) : minimal_main_stream();
      if (b.size() < multifd_init_size + 8) b.resize(multifd_init_size + 8, 0);
      return b;
    }
    case first_bytes::vm_command: return recovery_command_bytes("pc.ram");
    case first_bytes::multifd_magic: {
      const auto id = multifd_id_sent(init, good_id, channels);
      auto who = uuid;
      if (init == init_packet::bad_uuid) who[0] ^= 0xff;
      auto b = encode_multifd_init(who, static_cast<std::uint8_t>(id));
      if (init == init_packet::bad_version) b[7] = 2;  // be32 version: 2
      // A MultiFDInit_t cut short: its magic, version and a piece of the uuid.
      if (init == init_packet::truncated || init == init_packet::truncated_eof) b.resize(20);
      return b;
    }
    case first_bytes::ram_page: {
      // What a preempt channel sends after a page request: a zero page of pc.ram.
      auto b = ram_page_header(0x3fff000, ram_save_flag_zero);
      const std::string_view block = "\x06pc.ram";
      b.insert(b.end(), block.begin(), block.end());
      b.push_back(0);
      return b;
    }
    case first_bytes::other: {
      const std::string_view junk = "GET / HTTP/1.0\r\n\r\n";
      return bytes(junk.begin(), junk.end());
    }
    case first_bytes::partial: return {0x51, 0x45};  // "QE": half a magic
    case first_bytes::silent:
    case first_bytes::eof:
    case first_bytes::reset: return {};
  }
  return {};
}

std::vector<replay_channel> expand(const replay_trace& t, const uuid_bytes& uuid, int default_gap_ms,
                                   const std::optional<std::string>& machine) {
  if (t.transport != transport::socket)
    throw trace_error("transport '" + std::string(name(t.transport)) + "' cannot be replayed over sockets");
  std::vector<replay_channel> out;
  int next_id = 0;
  for (std::size_t i = 0; i < t.arrivals.size(); ++i) {
    const auto& a = t.arrivals[i];
    for (int k = 0; k < a.count; ++k) {
      replay_channel c;
      c.arrival = i;
      c.kind = a.kind;
      c.magic = a.magic;
      c.init = a.init;
      const bool init_sent = a.magic == first_bytes::multifd_magic;
      const bool good = init_sent && (a.init == init_packet::good || a.init == init_packet::bad_version ||
                                      a.init == init_packet::bad_uuid);
      if (init_sent && a.init != init_packet::truncated && a.init != init_packet::truncated_eof) {
        // MultiFDInit_t's id is one byte: a channel id past 255 cannot be sent.
        const int id = multifd_id_sent(a.init, next_id, t.config.channels);
        if (id > 255)
          throw trace_error("arrivals[" + std::to_string(i) + "]: multifd channel " + std::to_string(id) +
                            " cannot be sent, MultiFDInit_t's id is a byte (0..255)");
        c.multifd_id = id;
      }
      c.first = first_bytes_of(a.magic, a.init, uuid, next_id, t.config.channels, machine);
      if (good) ++next_id;
      c.end = a.end                                                                 ? *a.end
              : a.magic == first_bytes::eof || a.init == init_packet::truncated_eof ? replay_end::close
              : a.magic == first_bytes::reset                                       ? replay_end::reset
                                                                                    : replay_end::stay;
      c.gap_ms = out.empty() ? 0 : k == 0 ? a.gap_ms.value_or(default_gap_ms) : default_gap_ms;
      out.push_back(std::move(c));
    }
  }
  return out;
}

std::string_view name(peer_did p) {
  switch (p) {
    case peer_did::open: return "open";
    case peer_did::eof: return "eof";
    case peer_did::reset: return "reset";
    case peer_did::refused: return "refused";
    case peer_did::closed_by_us: return "closed_by_us";
    case peer_did::connect_timeout: return "connect_timeout";
    case peer_did::not_opened: return "not_opened";
  }
  return "?";
}

// --- running it ---------------------------------------------------------------

namespace {

using clock_type = event_loop::clock;

struct replayer {
  replayer(const replay_options& o) : opt(o), to(resolve_address(o.to)) {
    if (opt.stop_fd >= 0)
      loop.add(opt.stop_fd, EPOLLIN, [this](std::uint32_t) {
        interrupted = true;
        loop.stop();
      });
  }
  ~replayer() {
    if (opt.stop_fd >= 0) loop.remove(opt.stop_fd);
    for (auto& fd : fds)
      if (fd) loop.remove(fd.get());
  }
  const replay_options& opt;
  socket_address to;
  std::vector<replay_outcome> out;
  std::vector<unique_fd> fds;
  event_loop loop;
  clock_type::time_point t0 = clock_type::now();
  std::size_t ended = 0;
  bool interrupted = false;
  std::optional<std::size_t> connecting;  // the next opens once this one is connected or has failed
  std::optional<event_loop::timer_id> connect_timer;

  double now_t() const { return std::chrono::duration<double>(clock_type::now() - t0).count(); }

  void finish(std::size_t i, peer_did did, std::string error = {}) {
    out[i].did = did;
    out[i].ended = now_t();
    out[i].error = std::move(error);
    if (fds[i]) loop.remove(fds[i].get());
    fds[i].reset();
    ++ended;
    if (connecting == i) connected_or_failed();
  }

  void connected_or_failed() {
    connecting.reset();
    if (connect_timer) loop.cancel_timer(*connect_timer), connect_timer.reset();
  }

  void on_readable(std::size_t i) {
    std::uint8_t buf[4096];
    for (;;) {
      const auto got = ::recv(fds[i].get(), buf, sizeof buf, 0);
      if (got > 0) {
        auto& r = out[i];
        r.received += static_cast<std::size_t>(got);
        for (ssize_t k = 0; k < got && r.received_head.size() < 16; ++k) r.received_head.push_back(buf[k]);
        continue;
      }
      if (got == 0) return finish(i, peer_did::eof);
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      const int e = errno;
      return finish(i, e == ECONNRESET ? peer_did::reset : peer_did::eof, std::strerror(e));
    }
  }

  // connect() without blocking; a destination whose accept queue is full never
  // completes the handshake (tcp) or says EAGAIN (unix): bounded by connect_timeout.
  void open(std::size_t i) {
    out[i].tried = true;
    out[i].opened = now_t();
    connecting = i;
    connect_timer = loop.add_timer(opt.connect_timeout, [this, i] {
      connect_timer.reset();
      if (connecting != i) return;
      finish(i, peer_did::connect_timeout,
             "connect() to " + describe(opt.to) + " did not complete in " +
                 std::to_string(opt.connect_timeout.count()) + " ms: the destination's accept queue is full");
    });
    try_connect(i);
  }

  void try_connect(std::size_t i) {
    if (connecting != i) return;
    int err = 0;
    fds[i] = connect_nonblocking(to, err);
    if (err == EAGAIN) {  // a unix socket's backlog is full: try again shortly
      fds[i].reset();
      loop.add_timer(std::chrono::milliseconds(10), [this, i] { try_connect(i); });
      return;
    }
    if (!fds[i])
      return finish(i, peer_did::refused, "cannot connect to " + describe(opt.to) + ": " + std::strerror(err));
    if (err == 0) return connected(i);
    loop.add(fds[i].get(), EPOLLOUT, [this, i](std::uint32_t) {
      int e = 0;
      socklen_t len = sizeof e;
      ::getsockopt(fds[i].get(), SOL_SOCKET, SO_ERROR, &e, &len);
      if (e == EINPROGRESS) return;
      loop.remove(fds[i].get());
      if (e) return finish(i, peer_did::refused, "cannot connect to " + describe(opt.to) + ": " + std::strerror(e));
      connected(i);
    });
  }

  void connected(std::size_t i) {
    connected_or_failed();
    auto& r = out[i];
    const auto& first = r.ch.first;
    if (!first.empty()) {
      // A fresh socket's buffer takes these few bytes at once.
      const auto n = ::send(fds[i].get(), first.data(), first.size(), MSG_NOSIGNAL);
      if (n > 0) r.sent = static_cast<std::size_t>(n);
      if (n != static_cast<ssize_t>(first.size())) {
        const int e = n < 0 ? errno : EAGAIN;
        return finish(i, e == ECONNRESET ? peer_did::reset : peer_did::eof, std::strerror(e));
      }
    }
    if (r.ch.end != replay_end::stay) {
      if (r.ch.end == replay_end::reset) {
        const linger hard{1, 0};  // close() then sends RST
        ::setsockopt(fds[i].get(), SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
      }
      return finish(i, peer_did::closed_by_us);
    }
    loop.add(fds[i].get(), EPOLLIN | EPOLLRDHUP, [this, i](std::uint32_t) { on_readable(i); });
  }
};

}  // namespace

std::vector<replay_outcome> run_replay(const replay_trace& t, const replay_options& o, bool* interrupted) {
  replayer r(o);
  for (auto& c : expand(t, o.uuid, static_cast<int>(o.gap.count()), o.machine)) {
    replay_outcome x;
    x.ch = std::move(c);
    x.did = peer_did::not_opened;
    r.out.push_back(std::move(x));
  }
  r.fds.resize(r.out.size());
  // Connections are opened in order, each once the one before it is connected (the
  // destination accepts them in this order) and its gap has passed; events of those
  // already open are served meanwhile, so a reset is seen when it happens.
  const auto stopped = [&] { return r.interrupted; };
  for (std::size_t i = 0; i < r.out.size() && !r.interrupted; ++i) {
    r.loop.run_until(stopped, clock_type::now() + std::chrono::milliseconds(r.out[i].ch.gap_ms));
    if (r.interrupted) break;
    r.out[i].did = peer_did::open;
    r.open(i);
    // Bounded by connect_timeout.
    r.loop.run_until([&] { return r.interrupted || !r.connecting; }, clock_type::now() + std::chrono::hours(24));
  }
  std::size_t tried = 0;
  for (const auto& x : r.out) tried += x.tried;
  r.loop.run_until([&] { return r.interrupted || r.ended == tried; }, clock_type::now() + o.wait);
  if (interrupted) *interrupted = r.interrupted;
  return std::move(r.out);
}

replay_summary summarize(const std::vector<replay_outcome>& out, bool interrupted) {
  replay_summary s;
  s.interrupted = interrupted;
  s.channels = out.size();
  for (std::size_t i = 0; i < out.size(); ++i) {
    const auto& r = out[i];
    if (!r.tried) continue;
    ++s.opened;
    ++s.peer[std::string(name(r.did))];
    const bool failed = r.did == peer_did::refused || r.did == peer_did::connect_timeout;
    if (failed && s.opened == 1) s.unreachable = r.error;
    else if (failed) ++s.not_accepted;
  }
  if (s.unreachable) {
    s.exit = 2;
    s.result = *s.unreachable;
  } else if (s.not_accepted) {
    s.exit = 1;
    s.result = std::to_string(s.not_accepted) + " connection" + (s.not_accepted == 1 ? " was" : "s were") +
               " not accepted";
  } else {
    s.exit = 0;
    s.result = "every connection was accepted";
  }
  return s;
}

std::string summary_text(const replay_summary& s) {
  std::string t = "summary: " + std::to_string(s.opened) + " of " + std::to_string(s.channels) + " channels opened";
  if (s.interrupted) t += " (interrupted)";
  std::string peer;
  for (const auto& [k, v] : s.peer) peer += (peer.empty() ? "" : ", ") + std::to_string(v) + " " + k;
  if (!peer.empty()) t += ": " + peer;
  return t + "; " + s.result + " (exit " + std::to_string(s.exit) + ")";
}

nlohmann::ordered_json to_json(const replay_summary& s) {
  nlohmann::ordered_json peer = nlohmann::ordered_json::object();
  for (const auto& [k, v] : s.peer) peer[k] = v;
  return {{"channels", s.channels},       {"opened", s.opened}, {"peer", peer},
          {"interrupted", s.interrupted}, {"result", s.result}, {"exit", s.exit}};
}

nlohmann::ordered_json to_json(const replay_outcome& r) {
  nlohmann::ordered_json j;
  j["arrival"] = r.ch.arrival;
  j["kind"] = std::string(name(r.ch.kind));
  j["magic"] = std::string(name(r.ch.magic));
  if (r.ch.init != init_packet::good) j["init"] = std::string(name(r.ch.init));
  if (r.ch.multifd_id) j["multifd_id"] = *r.ch.multifd_id;
  j["sent"] = r.sent;
  j["opened"] = r.opened;
  j["peer"] = std::string(name(r.did));
  if (r.did != peer_did::open) j["ended"] = r.ended;
  j["received"] = r.received;
  if (!r.received_head.empty()) j["received_hex"] = hex(r.received_head);
  if (!r.error.empty()) j["error"] = r.error;
  return j;
}

}  // namespace migchan
