#include "impl/runtime/event_loop.h"

#include <doctest/doctest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "impl/runtime/uri.h"
#include "impl/runtime/wire.h"

using namespace migchan;
using namespace std::chrono_literals;
using clock_type = event_loop::clock;
using run_result = event_loop::run_result;

namespace {

struct socket_pair {
  unique_fd a, b;
  socket_pair() {
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
    a.reset(sv[0]);
    b.reset(sv[1]);
  }
};

void send_all(int fd, const bytes& b) {
  REQUIRE(::send(fd, b.data(), b.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(b.size()));
}

auto within(clock_type::duration d) { return clock_type::now() + d; }

}  // namespace

TEST_CASE("a readable socket runs its callback with EPOLLIN") {
  event_loop loop;
  socket_pair p;
  std::string got;
  std::uint32_t seen = 0;
  loop.add(p.a.get(), EPOLLIN, [&](std::uint32_t ev) {
    seen |= ev;
    char buf[16];
    auto n = ::recv(p.a.get(), buf, sizeof buf, 0);
    if (n > 0) got.append(buf, static_cast<std::size_t>(n));
  });
  CHECK(loop.watching(p.a.get()));
  REQUIRE(::send(p.b.get(), "QEVM", 4, MSG_NOSIGNAL) == 4);
  CHECK(loop.run_until([&] { return got.size() == 4; }, within(2s)) == run_result::done);
  CHECK(got == "QEVM");
  CHECK((seen & EPOLLIN) != 0);
}

TEST_CASE("a peer closing shows up as EPOLLRDHUP") {
  event_loop loop;
  socket_pair p;
  bool hup = false;
  loop.add(p.a.get(), EPOLLIN | EPOLLRDHUP, [&](std::uint32_t ev) { hup = (ev & EPOLLRDHUP) != 0; });
  p.b.reset();
  CHECK(loop.run_until([&] { return hup; }, within(2s)) == run_result::done);
}

TEST_CASE("timers fire in deadline order, not in the order they were added") {
  event_loop loop;
  std::vector<int> order;
  auto start = clock_type::now();
  loop.add_timer(start + 30ms, [&] { order.push_back(30); });
  loop.add_timer(start + 10ms, [&] { order.push_back(10); });
  loop.add_timer(start + 20ms, [&] { order.push_back(20); });
  loop.add_timer(start + 10ms, [&] { order.push_back(11); });  // a tie: after the first 10
  CHECK(loop.pending_timers() == 4);
  CHECK(loop.run_until([&] { return order.size() == 4; }, within(2s)) == run_result::done);
  CHECK(order == std::vector<int>{10, 11, 20, 30});
  CHECK(clock_type::now() - start >= 30ms);  // none fired early
  CHECK(loop.pending_timers() == 0);
}

TEST_CASE("a cancelled timer never fires") {
  event_loop loop;
  bool fired = false, later = false;
  auto id = loop.add_timer(5ms, [&] { fired = true; });
  loop.add_timer(20ms, [&] { later = true; });
  CHECK(loop.cancel_timer(id));
  CHECK_FALSE(loop.cancel_timer(id));
  CHECK_FALSE(loop.cancel_timer(12345));
  CHECK(loop.run_until([&] { return later; }, within(2s)) == run_result::done);
  CHECK_FALSE(fired);
}

TEST_CASE("a timer can cancel a later one that is due in the same round") {
  event_loop loop;
  auto when = clock_type::now() + 5ms;
  bool second = false;
  event_loop::timer_id second_id = 0;
  loop.add_timer(when, [&] { loop.cancel_timer(second_id); });
  second_id = loop.add_timer(when, [&] { second = true; });
  CHECK(loop.run_until(within(50ms)) == run_result::timed_out);
  CHECK_FALSE(second);
}

TEST_CASE("run_until with nothing to do times out at its deadline, not before") {
  event_loop loop;
  auto start = clock_type::now();
  CHECK(loop.run_until([] { return false; }, start + 50ms) == run_result::timed_out);
  auto took = clock_type::now() - start;
  CHECK(took >= 50ms);
  CHECK(took < 1s);
}

TEST_CASE("stop() from a callback ends the run, and the loop can run again") {
  event_loop loop;
  socket_pair p;
  int calls = 0;
  loop.add(p.a.get(), EPOLLIN, [&](std::uint32_t) {
    ++calls;
    loop.stop();
  });
  REQUIRE(::send(p.b.get(), "x", 1, MSG_NOSIGNAL) == 1);
  CHECK(loop.run_until(within(2s)) == run_result::stopped);
  CHECK(calls == 1);
  // Level-triggered and unread: the next run sees it again and stops again.
  CHECK(loop.run_until(within(2s)) == run_result::stopped);
  CHECK(calls == 2);
  loop.remove(p.a.get());
  CHECK(loop.run_until(within(20ms)) == run_result::timed_out);
  CHECK(calls == 2);
}

TEST_CASE("a timer that re-arms itself for now does not starve fd events") {
  event_loop loop;
  socket_pair p;
  int ticks = 0;
  std::function<void()> tick = [&] {
    ++ticks;
    loop.add_timer(clock_type::now(), tick);
  };
  loop.add_timer(clock_type::now(), tick);
  bool readable = false;
  loop.add(p.a.get(), EPOLLIN, [&](std::uint32_t) { readable = true; });
  REQUIRE(::send(p.b.get(), "x", 1, MSG_NOSIGNAL) == 1);
  CHECK(loop.run_until([&] { return readable; }, within(2s)) == run_result::done);
  CHECK(ticks >= 1);
}

TEST_CASE("removing a watched fd from another callback drops its pending event") {
  event_loop loop;
  socket_pair p, q;
  int calls = 0;
  // Whichever runs first removes the other; the other's event is already in the batch.
  loop.add(p.a.get(), EPOLLIN, [&](std::uint32_t) { ++calls, loop.remove(q.a.get()); });
  loop.add(q.a.get(), EPOLLIN, [&](std::uint32_t) { ++calls, loop.remove(p.a.get()); });
  REQUIRE(::send(p.b.get(), "x", 1, MSG_NOSIGNAL) == 1);
  REQUIRE(::send(q.b.get(), "x", 1, MSG_NOSIGNAL) == 1);
  loop.run_once(within(2s));
  CHECK(calls == 1);
  CHECK(loop.watching(p.a.get()) != loop.watching(q.a.get()));
}

TEST_CASE("an fd re-added in the same round gets only events from later rounds") {
  event_loop loop;
  socket_pair p, q;
  int old_calls = 0, fresh_calls = 0;
  bool swapped = false;
  auto swap_other = [&](int other) {
    ++old_calls;
    if (swapped) return;
    swapped = true;
    loop.remove(other);
    loop.add(other, EPOLLIN, [&](std::uint32_t) { ++fresh_calls; });
  };
  loop.add(p.a.get(), EPOLLIN, [&](std::uint32_t) { swap_other(q.a.get()); });
  loop.add(q.a.get(), EPOLLIN, [&](std::uint32_t) { swap_other(p.a.get()); });
  REQUIRE(::send(p.b.get(), "x", 1, MSG_NOSIGNAL) == 1);
  REQUIRE(::send(q.b.get(), "x", 1, MSG_NOSIGNAL) == 1);
  loop.run_once(within(2s));
  CHECK(old_calls == 1);  // the stale event for the re-added fd was skipped
  CHECK(fresh_calls == 0);
  loop.run_once(within(2s));  // still readable: now the new callback runs
  CHECK(fresh_calls == 1);
}

TEST_CASE("a callback may remove its own fd and close it") {
  event_loop loop;
  socket_pair p;
  int calls = 0;
  std::string marker = "callback state that must outlive remove()";
  loop.add(p.a.get(), EPOLLIN, [&, marker](std::uint32_t) {
    ++calls;
    loop.remove(p.a.get());
    p.a.reset();
    CHECK(marker.size() > 0);  // the lambda's captures are still alive
  });
  REQUIRE(::send(p.b.get(), "x", 1, MSG_NOSIGNAL) == 1);
  CHECK(loop.run_until([&] { return calls == 1; }, within(2s)) == run_result::done);
  CHECK_FALSE(loop.watching(p.a.get()));
}

TEST_CASE("bad fds and double adds are errors that name the fd") {
  event_loop loop;
  CHECK_THROWS_WITH_AS(loop.add(-1, EPOLLIN, [](std::uint32_t) {}), "cannot watch fd -1: Bad file descriptor",
                       std::system_error);
  socket_pair p;
  loop.add(p.a.get(), EPOLLIN, [](std::uint32_t) {});
  auto fd = std::to_string(p.a.get());
  CHECK_THROWS_WITH_AS(loop.add(p.a.get(), EPOLLIN, [](std::uint32_t) {}),
                       ("cannot watch fd " + fd + ": File exists").c_str(), std::system_error);
  CHECK_THROWS_WITH_AS(
      loop.modify(p.b.get(), EPOLLIN),
      ("cannot modify fd " + std::to_string(p.b.get()) + ", it is not watched: No such file or directory").c_str(),
      std::system_error);
  loop.remove(p.b.get());  // not watched: a no-op
  loop.remove(p.a.get());
  loop.remove(p.a.get());
}

TEST_CASE("modify switches interest and callback") {
  event_loop loop;
  socket_pair p;
  int writable = 0, readable = 0;
  loop.add(p.a.get(), 0, [&](std::uint32_t) { ++readable; });
  loop.modify(p.a.get(), EPOLLOUT, [&](std::uint32_t ev) {
    if (ev & EPOLLOUT) ++writable;
    loop.modify(p.a.get(), 0);  // once is enough
  });
  CHECK(loop.run_until([&] { return writable == 1; }, within(2s)) == run_result::done);
  CHECK(readable == 0);
}

TEST_CASE("an exception from a callback leaves run_until") {
  event_loop loop;
  loop.add_timer(0ms, [] { throw std::runtime_error("boom"); });
  CHECK_THROWS_WITH_AS(loop.run_until(within(2s)), "boom", std::runtime_error);
  CHECK(loop.pending_timers() == 0);
}

// The receiver's shape in miniature: one thread accepts on loopback and classifies each
// connection by peeking, and a connection that says nothing does not hold up the others.
TEST_CASE("loopback: a silent connection does not delay classifying the next one") {
  event_loop loop;
  auto address = parse_uri("tcp:127.0.0.1:0");
  auto listener = listen_on(address, 8);
  address.port = local_port(listener.get());

  struct conn {
    unique_fd fd;
    std::optional<first_bytes> verdict;
    event_loop::timer_id peek_timeout = 0;
  };
  std::map<int, conn> conns;  // by accepted fd
  std::vector<int> accept_order;
  auto decide = [&](conn& c, first_bytes v) {
    c.verdict = v;
    loop.cancel_timer(c.peek_timeout);
    loop.remove(c.fd.get());
  };

  loop.add(listener.get(), EPOLLIN, [&](std::uint32_t) {
    while (auto fd = accept_nonblocking(listener.get())) {
      int key = fd.get();
      accept_order.push_back(key);
      auto& c = conns[key];
      c.fd = std::move(fd);
      c.peek_timeout = loop.add_timer(300ms, [&, key] {
        auto& c = conns.at(key);
        if (!c.verdict) decide(c, first_bytes::silent);
      });
      loop.add(key, EPOLLIN | EPOLLRDHUP, [&, key](std::uint32_t ev) {
        auto& c = conns.at(key);
        std::uint8_t buf[8];
        auto n = ::recv(key, buf, sizeof buf, MSG_PEEK);
        bool closed = n == 0 || (ev & (EPOLLRDHUP | EPOLLHUP)) != 0;
        auto v = classify_prefix(byte_view(buf, n > 0 ? static_cast<std::size_t>(n) : 0),
                                 closed ? peer_end::closed : peer_end::open);
        if (v) decide(c, *v);
      });
    }
  });

  auto silent = connect_to(address);  // like a preempt channel before any page request
  auto main_ch = connect_to(address);
  auto gone = connect_to(address);
  send_all(main_ch.get(), minimal_main_stream());
  gone.reset();

  auto classified = [&](std::size_t n) {
    return [&, n] {
      std::size_t k = 0;
      for (auto& [fd, c] : conns) k += c.verdict.has_value();
      return k >= n;
    };
  };
  auto start = clock_type::now();
  REQUIRE(loop.run_until(classified(2), within(2s)) == run_result::done);
  CHECK(clock_type::now() - start < 300ms);  // before the silent one's peek timeout
  REQUIRE(loop.run_until(classified(3), within(2s)) == run_result::done);

  REQUIRE(accept_order.size() == 3);  // loopback accepts in connect order
  CHECK(conns.at(accept_order[0]).verdict == first_bytes::silent);
  CHECK(conns.at(accept_order[1]).verdict == first_bytes::vm_file_magic);
  CHECK(conns.at(accept_order[2]).verdict == first_bytes::eof);
  CHECK(loop.pending_timers() == 0);
}

TEST_CASE("on_idle runs before a wait, not between rounds that find events ready") {
  event_loop loop;
  socket_pair p;
  int idles = 0, reads = 0;
  loop.on_idle([&] { ++idles; });
  loop.add(p.a.get(), EPOLLIN, [&](std::uint32_t) {
    char c;
    if (::recv(p.a.get(), &c, 1, 0) == 1) ++reads;  // one byte a round: the socket stays ready
  });
  send_all(p.b.get(), {'Q', 'E', 'V', 'M'});
  CHECK(loop.run_until([&] { return reads == 4; }, within(2s)) == run_result::done);
  CHECK(idles == 0);  // always something ready
  CHECK(loop.run_until(within(20ms)) == run_result::timed_out);
  CHECK(idles >= 1);  // nothing ready: idle, then the wait
  const int before = idles;
  loop.on_idle({});
  CHECK(loop.run_until(within(20ms)) == run_result::timed_out);
  CHECK(idles == before);
}
