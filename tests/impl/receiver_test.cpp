#include "impl/runtime/receiver.h"
#include "impl/runtime/stream_writer.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "model/builtin.h"
#include "tests/impl/runtime_util.h"

using namespace migchan;
using namespace migchan::test;
using fb = first_bytes;
using ck = channel_kind;

namespace {

bytes main_bytes() { return minimal_main_stream(); }
bytes init_bytes(int id) { return encode_multifd_init({}, static_cast<std::uint8_t>(id)); }

const table& builtin(std::string_view n) {
  const table* t = find_builtin(n);
  REQUIRE(t);
  return *t;
}

}  // namespace

TEST_CASE("decider: 7.2 takes the first connection as main before it has sent anything") {
  decider d(classifiers::qemu_7_2, parse_caps("multifd", 2), order_mode::accept, fresh_state<concrete_domain>());
  const auto c0 = d.add();
  auto out = d.pump();
  REQUIRE(out.size() == 1);
  CHECK(out[0].conn == c0);
  CHECK(out[0].then == verdict::main);
  CHECK_FALSE(out[0].magic);  // first.main does not look at the bytes
  // The next one is read as MultiFDInit_t, so its bytes matter: nothing until they come.
  const auto c1 = d.add();
  CHECK(d.pump().empty());
  const auto m = main_bytes();
  d.update(c1, m, peer_end::open);
  out = d.pump();
  REQUIRE(out.size() == 1);
  CHECK(out[0].then == verdict::reject);
  CHECK(out[0].why == cause::multifd_init);
  CHECK(error_text(d, out[0]) ==
        "failed to receive packet via multifd channel 0: multifd: received packet magic 5145564d expected 11223344");
}

TEST_CASE("decider: accept order waits for the head, data order does not") {
  for (auto order : {order_mode::accept, order_mode::data}) {
    CAPTURE(name(order));
    decider d(classifiers::reference, parse_caps("multifd", 2), order, fresh_state<concrete_domain>());
    const auto m = d.add(), f0 = d.add();
    const auto init = init_bytes(0);
    d.update(f0, init, peer_end::open);
    auto out = d.pump();
    if (order == order_mode::accept) {
      CHECK(out.empty());  // main has not spoken
    } else {
      REQUIRE(out.size() == 1);
      CHECK(out[0].conn == f0);
    }
    const auto mb = main_bytes();
    d.update(m, mb, peer_end::open);
    auto rest = d.pump();
    out.insert(out.end(), rest.begin(), rest.end());
    REQUIRE(out.size() == 2);
    CHECK(out[order == order_mode::accept ? 0 : 1].conn == m);
    CHECK(d.undecided_count() == 0);
  }
}

TEST_CASE("decider: 1-3 bytes, then the peek timeout, make a channel partial: 10.1 peeks it forever") {
  decider d(classifiers::qemu_10_1, parse_caps("multifd", 2), order_mode::accept, fresh_state<concrete_domain>());
  const auto c = d.add();
  const std::uint8_t qe[] = {'Q', 'E'};
  d.update(c, qe, peer_end::open);
  CHECK(d.pump().empty());
  d.time_out(c);
  const auto out = d.pump();
  REQUIRE(out.size() == 1);
  CHECK(out[0].magic == fb::partial);
  CHECK(out[0].timed_out);
  CHECK(out[0].then == verdict::blocked);
  CHECK(d.fired(out[0])->id == "peek.partial");
  CHECK(d.state().stalled);
  // Behind a stalled destination, nothing is examined: decided at once.
  d.add();
  const auto behind = d.pump();
  REQUIRE(behind.size() == 1);
  CHECK(behind[0].why == cause::behind);
}

TEST_CASE("parse_caps and refusal use the table's own config rules") {
  CHECK(caps_string(parse_caps("postcopy-ram,multifd", 4)) == "multifd,postcopy-ram");
  CHECK_THROWS_WITH_AS(
      parse_caps("multifd,xbzrle", 2),
      "unknown capability 'xbzrle' (one of: multifd, postcopy-ram, postcopy-preempt, mapped-ram, none)",
      std::invalid_argument);
  CHECK(refusal(classifiers::qemu_7_2, parse_caps("mapped-ram", 2)).value() ==
        "qemu-7.2 refuses this configuration (caps.no_mapped_ram): mapped-ram capability does not exist");
  CHECK(refusal(classifiers::reference, parse_caps("postcopy-preempt", 2)).value() ==
        "Postcopy preempt requires postcopy-ram");
  CHECK_FALSE(refusal(classifiers::qemu_7_2, parse_caps("multifd,postcopy-ram", 2)));
}

TEST_CASE("serve decides M,F0,F1 and F0,M,F1 over loopback as the model predicts") {
  for (const auto* name_ : {"qemu-7.2", "qemu-10.1", "reference", "qemu-8.0", "patch-v6"}) {
    const table& t = builtin(name_);
    for (bool multifd_first : {false, true}) {
      CAPTURE(name_);
      CAPTURE(multifd_first);
      log_capture log;
      auto o = serve_opts(t, "multifd");
      const auto cfg = o.config;
      background<receiver> srv(o, log);
      std::vector<unique_fd> keep;
      std::vector<arrival<concrete_domain>> in;
      const auto open_main = [&] {
        keep.push_back(dial(srv.address(), main_bytes()));
        in.push_back(arrive(ck::main, fb::vm_file_magic));
      };
      const auto open_multifd = [&](int id) {
        keep.push_back(dial(srv.address(), init_bytes(id)));
        in.push_back(arrive(ck::multifd, fb::multifd_magic));
      };
      // Each connection is decided before the next is opened, as a source's
      // channels are seconds apart on the destination's clock.
      if (multifd_first) open_multifd(0), log.wait_decisions(1), open_main();
      else open_main(), log.wait_decisions(1), open_multifd(0);
      log.wait_decisions(2);
      open_multifd(1);
      REQUIRE(log.wait_decisions(3));
      const auto got = log_capture::decisions(log.all());
      same_as_model(t, cfg, in, got);
      for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i]["conn"] == i);
    }
  }
}

TEST_CASE("the natural order on 7.2, and the multifd-first order that breaks it") {
  SUBCASE("M,F0,F1: main, multifd, multifd, ids 0 and 1 checked") {
    log_capture log;
    background<receiver> srv(serve_opts(classifiers::qemu_7_2, "multifd"), log);
    auto m = dial(srv.address(), main_bytes());
    auto f0 = dial(srv.address(), init_bytes(0));
    auto f1 = dial(srv.address(), init_bytes(1));
    REQUIRE(log.wait_event("multifd_init", 2));
    const auto d = log_capture::decisions(log.all());
    REQUIRE(d.size() == 3);
    CHECK(d[0]["decision"] == "main");
    CHECK(d[1]["decision"] == "multifd");
    CHECK(d[2]["decision"] == "multifd");
    CHECK(d[2]["started"] == true);  // 7.2 starts on the last multifd channel
    REQUIRE(log.wait_event("main_header"));
    const auto h = log_capture::events(log.all(), "main_header")[0];
    CHECK(h["magic"] == "5145564d");
    CHECK(h["version"] == 3);
    CHECK(h["machine"] == "pc-i440fx-7.2");
  }
  SUBCASE("F0,M,F1: main, reject(multifd_init) with QEMU's text, multifd; main's sender sees a reset") {
    log_capture log;
    background<receiver> srv(serve_opts(classifiers::qemu_7_2, "multifd"), log);
    auto f0 = dial(srv.address(), init_bytes(0));
    REQUIRE(log.wait_decisions(1));
    auto m = dial(srv.address(), main_bytes());
    CHECK(how_peer_ended(m.get()) == "reset");  // closed with its bytes unread, as 7.2 does
    auto f1 = dial(srv.address(), init_bytes(1));
    REQUIRE(log.wait_decisions(3));
    const auto d = log_capture::decisions(log.all());
    CHECK(d[0]["decision"] == "main");
    CHECK(d[1]["decision"] == "reject");
    CHECK(d[1]["cause"] == "multifd_init");
    CHECK(d[1]["error"] ==
          "failed to receive packet via multifd channel 0: multifd: received packet magic 5145564d expected 11223344");
    CHECK(d[2]["decision"] == "multifd");
    CHECK(how_peer_ended(f0.get(), 50ms) == "open");
  }
}

TEST_CASE("--order data decides as first bytes arrive; --order accept keeps accept order") {
  for (auto order : {order_mode::data, order_mode::accept}) {
    CAPTURE(name(order));
    log_capture log;
    auto o = serve_opts(classifiers::reference, "multifd", 2, order);
    o.peek_timeout = 5000ms;  // nobody times out here
    const auto cfg = o.config;
    background<receiver> srv(o, log);
    auto m = dial(srv.address()), f0 = dial(srv.address()), f1 = dial(srv.address());
    const auto i1 = init_bytes(1), i0 = init_bytes(0), mb = main_bytes();
    send_all(f1.get(), i1);
    if (order == order_mode::data) REQUIRE(log.wait_decisions(1));
    send_all(f0.get(), i0);
    if (order == order_mode::data) {
      REQUIRE(log.wait_decisions(2));
    } else {
      std::this_thread::sleep_for(100ms);  // time to peek both: still nothing, main has not spoken
      CHECK(log_capture::decisions(log.all()).empty());
    }
    send_all(m.get(), mb);
    REQUIRE(log.wait_decisions(3));
    const auto got = log_capture::decisions(log.all());
    if (order == order_mode::data) {
      CHECK(got[0]["conn"] == 2);
      CHECK(got[1]["conn"] == 1);
      CHECK(got[2]["conn"] == 0);
      same_as_model(classifiers::reference, cfg,
                    {arrive(ck::multifd, fb::multifd_magic), arrive(ck::multifd, fb::multifd_magic),
                     arrive(ck::main, fb::vm_file_magic)},
                    got);
    } else {
      // Head-of-line: nothing is decided before main has spoken.
      CHECK(got[0]["conn"] == 0);
      CHECK(got[1]["conn"] == 1);
      CHECK(got[2]["conn"] == 2);
      same_as_model(classifiers::reference, cfg,
                    {arrive(ck::main, fb::vm_file_magic), arrive(ck::multifd, fb::multifd_magic),
                     arrive(ck::multifd, fb::multifd_magic)},
                    got);
    }
  }
}

TEST_CASE("a silent first connection stalls an accept-order 10.1 destination; serve reports it and stops") {
  log_capture log;
  auto o = serve_opts(classifiers::qemu_10_1, "multifd");
  o.peek_timeout = 200ms;
  background<receiver> srv(o, log);
  auto silent = dial(srv.address());
  auto m = dial(srv.address(), main_bytes());
  auto f0 = dial(srv.address(), init_bytes(0));
  REQUIRE(log.wait_decisions(3));
  const auto d = log_capture::decisions(log.all());
  CHECK(d[0]["conn"] == 0);
  CHECK(d[0]["decision"] == "blocked");
  CHECK(d[0]["rule"] == "peek.wait");
  CHECK(d[0]["magic"] == "silent");
  CHECK(d[0]["timed_out"] == true);
  CHECK(d[0]["waited"].get<double>() >= 0.2);
  CHECK(d[0]["state_after"]["stalled"] == true);
  for (int i : {1, 2}) {
    CHECK(d[i]["decision"] == "blocked");
    CHECK(d[i]["cause"] == "behind");
  }
  CHECK(srv.stop_and_wait() == 1);  // stalled: a finding, and no hang
  const auto all = log.all();
  REQUIRE(all.back().contains("summary"));
  CHECK(all.back()["summary"]["stalled"] == true);
}

TEST_CASE("reference parks a silent channel and wakes it once main and all multifd are in") {
  log_capture log;
  auto o = serve_opts(classifiers::reference, "multifd,postcopy-ram,postcopy-preempt");
  o.peek_timeout = 100ms;
  background<receiver> srv(o, log);
  auto p = dial(srv.address());
  REQUIRE(log.wait_decisions(1));
  auto m = dial(srv.address(), main_bytes());
  auto f0 = dial(srv.address(), init_bytes(0));
  auto f1 = dial(srv.address(), init_bytes(1));
  REQUIRE(log.wait([](const lines& a) { return log_capture::decisions(a, true).size() >= 5; }));
  const auto d = log_capture::decisions(log.all(), true);
  CHECK(d[0]["decision"] == "defer");
  CHECK(d[0]["rule"] == "peek.preempt.wait");
  CHECK(d[3]["conn"] == 3);
  CHECK(d[4]["wake"] == true);
  CHECK(d[4]["conn"] == 0);
  CHECK(d[4]["by"] == 3);
  CHECK(d[4]["decision"] == "preempt");
  CHECK(d[4]["rule"] == "peek.preempt");
  // The woken channel is drained: bytes sent to it now are read.
  const auto page = ram_page_header(0x3fff000, ram_save_flag_zero);
  send_all(p.get(), page);
  p.reset();
  REQUIRE(log.wait([](const lines& a) {
    for (const auto& e : log_capture::events(a, "eof"))
      if (e["conn"] == 0) return true;
    return false;
  }));
}

TEST_CASE("postcopy: MIG_RP_MSG_SHUT on main as soon as its stream has ended") {
  log_capture log;
  auto o = serve_opts(classifiers::qemu_7_2, "postcopy-ram");
  o.shut_idle = 5000ms;  // far away: the SHUT below is the end's, not the idle fallback's
  background<receiver> srv(o, log);
  auto m = dial(srv.address(), main_bytes());
  const auto sent = steady::now();
  CHECK(hex(read_bytes(m.get(), 8)) == "0001000400000000");
  CHECK(steady::now() - sent < 4000ms);
  REQUIRE(log.wait_event("rp_shut"));
  const auto end = log_capture::events(log.all(), "main_end");
  REQUIRE(end.size() == 1);
  CHECK(end[0]["at"] == main_bytes().size());
  CHECK(end[0]["postcopy"] == false);
  CHECK(log_capture::events(log.all(), "rp_shut").size() == 1);
}

TEST_CASE("postcopy: a PONG for each PING on main's return path, once it is open") {
  log_capture log;
  background<receiver> srv(serve_opts(classifiers::reference, "postcopy-ram,postcopy-preempt"), log);
  stream_writer w;
  w.header().configuration("pc-i440fx-11.1").ping(5).command(mig_cmd::open_return_path).ping(7).ping(0x42);
  auto m = dial(srv.address(), w.data());
  CHECK(hex(read_bytes(m.get(), 16)) == "00020004000000070002000400000042");
  REQUIRE(log.wait_event("rp_pong", 2));
  const auto pongs = log_capture::events(log.all(), "rp_pong");
  CHECK(pongs[0]["value"] == 7);
  CHECK(pongs[1]["bytes_hex"] == "0002000400000042");
  const auto errors = log_capture::events(log.all(), "error");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0]["error"] == "CMD_PING (0x5) received with no return path");
}

TEST_CASE("recovery: the bitmap of each RECV_BITMAP, RESUME_ACK, then SHUT at EOF") {
  log_capture log;
  auto o = serve_opts(classifiers::reference, "postcopy-ram");
  o.recovery = true;
  o.ram = ram_layout{1, {{"pc.ram", 1 << 20}}, 4096};
  background<receiver> srv(o, log);
  stream_writer w;
  w.raw(recovery_command_bytes("pc.ram")).command(mig_cmd::postcopy_resume);
  w.section(qemu_vm_section_end, 1).ram_flag(ram_save_flag_eos).footer(1).eof();
  auto m = dial(srv.address(), w.data());
  bytes want = rp_recv_bitmap("pc.ram", 1 << 20, 4096, true);
  for (const auto& b : {rp_resume_ack(), rp_shut()}) want.insert(want.end(), b.begin(), b.end());
  CHECK(read_bytes(m.get(), want.size()) == want);
  REQUIRE(log.wait_event("rp_shut"));
  const auto bitmaps = log_capture::events(log.all(), "rp_recv_bitmap");
  REQUIRE(bitmaps.size() == 1);
  CHECK(bitmaps[0]["block"] == "pc.ram");
  CHECK(log_capture::decisions(log.all()).front()["magic"] == "vm_command");
}

TEST_CASE("postcopy: a stream serve cannot follow gets MIG_RP_MSG_SHUT once main has been idle, never early") {
  log_capture log;
  auto o = serve_opts(classifiers::qemu_7_2, "postcopy-ram");
  o.shut_idle = 150ms;
  background<receiver> srv(o, log);
  // Device state without its footer yet: where the stream ends cannot be told.
  stream_writer w;
  w.header().configuration("pc-i440fx-7.2").section(qemu_vm_section_full, 3, "timer").raw(bytes(40, 0x7e));
  auto m = dial(srv.address(), w.data());
  const auto sent = steady::now();
  CHECK(hex(read_bytes(m.get(), 8)) == "0001000400000000");
  CHECK(steady::now() - sent >= 140ms);
  REQUIRE(log.wait_event("rp_shut"));
  CHECK(log_capture::events(log.all(), "rp_shut").size() == 1);
  CHECK(log_capture::events(log.all(), "main_end").empty());
}

TEST_CASE("abort: the destination dies, serve stops by itself") {
  log_capture log;
  background<receiver> srv(serve_opts(classifiers::qemu_10_1, ""), log);
  const auto addr = srv.address();
  auto f = dial(addr, init_bytes(0));
  CHECK(srv.wait_exit() == 1);
  const auto d = log_capture::decisions(log.all());
  REQUIRE(d.size() == 1);
  CHECK(d[0]["decision"] == "abort");
  CHECK(d[0]["error"] == "Assertion `migrate_multifd()' failed");
  CHECK_THROWS_AS(dial(addr), std::system_error);  // nothing listens any more
}

TEST_CASE("--exit-after-complete: main ends, everything closed, exit 0 with the byte counts") {
  log_capture log;
  auto o = serve_opts(classifiers::qemu_10_1, "multifd");
  o.exit_after_complete = true;
  background<receiver> srv(o, log);
  {
    auto m = dial(srv.address(), main_bytes());
    auto f0 = dial(srv.address(), init_bytes(0));
    auto f1 = dial(srv.address(), init_bytes(1));
    REQUIRE(log.wait_event("multifd_init", 2));
  }
  CHECK(srv.wait_exit() == 0);
  const auto s = log.all().back()["summary"];
  CHECK(s["completed"] == true);
  CHECK(s["multifd_ids"] == json_line({0, 1}));
  REQUIRE(s["channels"].size() == 3);
  CHECK(s["channels"][0]["bytes"] == main_bytes().size());
  CHECK(s["channels"][1]["bytes"] == multifd_init_size);
}

TEST_CASE("bad input: each bad connection gets a clear reason, the good ones are served") {
  auto o = serve_opts(classifiers::reference, "multifd", 2, order_mode::data);
  o.peek_timeout = 150ms;
  const auto last_error = [](const lines& all, std::size_t conn) {
    std::string e;
    for (const auto& j : all)
      if (j.contains("conn") && j["conn"] == conn && j.contains("error")) e = j["error"];
    return e;
  };

  SUBCASE("partial magic, then a stall: partial after the peek timeout") {
    log_capture log;
    background<receiver> srv(o, log);
    const std::uint8_t qe[] = {'Q', 'E'};
    auto c = dial(srv.address(), qe);
    auto m = dial(srv.address(), main_bytes());
    REQUIRE(log.wait_decisions(2));
    auto d = log_capture::decisions(log.all());
    CHECK(d[0]["conn"] == 1);  // main is not held up by it
    CHECK(d[0]["decision"] == "main");
    CHECK(d[1]["first_bytes_hex"] == "5145");
    CHECK(d[1]["magic"] == "partial");
    CHECK(d[1]["timed_out"] == true);
    CHECK(d[1]["decision"] == "reject");
    same_as_model(classifiers::reference, o.config,
                  {arrive(ck::main, fb::vm_file_magic), arrive(ck::main, fb::partial)}, d);
    CHECK(last_error(log.all(), 0) == "fewer than 4 bytes, and no more");
    CHECK(how_peer_ended(c.get()) == "reset");
  }
  SUBCASE("one byte at a time") {
    log_capture log;
    background<receiver> srv(o, log);
    auto c = dial(srv.address());
    const auto mb = main_bytes();
    for (std::size_t i = 0; i < mb.size(); ++i) {
      send_all(c.get(), byte_view(mb.data() + i, 1));
      if (i < 3) {  // each byte on its own, while the magic is still incomplete
        std::this_thread::sleep_for(20ms);
        CHECK(log_capture::decisions(log.all()).empty());
      }
    }
    REQUIRE(log.wait_event("main_header"));
    const auto d = log_capture::decisions(log.all());
    CHECK(d[0]["decision"] == "main");
    CHECK(log_capture::events(log.all(), "main_header")[0]["machine"] == "pc-i440fx-7.2");
  }
  SUBCASE("reset during the peek") {
    log_capture log;
    background<receiver> srv(o, log);
    const std::uint8_t qe[] = {'Q', 'E'};
    auto c = dial(srv.address(), qe);
    reset_close(c);
    REQUIRE(log.wait_decisions(1));
    const auto d = log_capture::decisions(log.all())[0];
    CHECK(d["magic"] == "partial");  // 2 bytes, then the reset: QEMU would peek them forever
    CHECK(d["decision"] == "reject");
    CHECK(d["error"] == "fewer than 4 bytes, and no more");
  }
  SUBCASE("reset before any byte") {
    log_capture log;
    background<receiver> srv(o, log);
    auto c = dial(srv.address());
    reset_close(c);
    REQUIRE(log.wait_decisions(1));
    const auto d = log_capture::decisions(log.all())[0];
    CHECK(d["magic"] == "reset");
    CHECK(d["error"] == "channel closed before its first bytes");
  }
  SUBCASE("immediate EOF") {
    log_capture log;
    background<receiver> srv(o, log);
    { auto c = dial(srv.address()); }
    REQUIRE(log.wait_decisions(1));
    CHECK(log_capture::decisions(log.all())[0]["error"] == "channel closed before its first bytes");
  }
  SUBCASE("garbage") {
    log_capture log;
    background<receiver> srv(o, log);
    const std::string_view junk = "GET / HTTP/1.1\r\n\r\n";
    auto c = dial(srv.address(), byte_view(reinterpret_cast<const std::uint8_t*>(junk.data()), junk.size()));
    REQUIRE(log.wait_decisions(1));
    const auto d = log_capture::decisions(log.all())[0];
    CHECK(d["magic"] == "other");
    CHECK(d["first_bytes_hex"] == "474554202f204854");
    CHECK(d["error"] == "unknown channel magic");
    CHECK(how_peer_ended(c.get()) == "reset");
  }
  SUBCASE("MultiFDInit_t with a bad version") {
    log_capture log;
    background<receiver> srv(o, log);
    auto b = init_bytes(0);
    b[7] = 2;
    auto c = dial(srv.address(), b);
    REQUIRE(log.wait_decisions(1));
    const auto d = log_capture::decisions(log.all())[0];
    CHECK(d["init"] == "bad_version");
    CHECK(d["cause"] == "multifd_check");
    CHECK(d["error"] ==
          "failed to receive packet via multifd channel 0: multifd: received packet version 2 expected 1");
    CHECK(how_peer_ended(c.get()) != "open");
  }
  SUBCASE("MultiFDInit_t with a duplicate id") {
    log_capture log;
    background<receiver> srv(o, log);
    auto a = dial(srv.address(), init_bytes(0));
    REQUIRE(log.wait_event("multifd_init"));
    auto b = dial(srv.address(), init_bytes(0));
    REQUIRE(log.wait_decisions(2));
    // multifd_recv_new_channel() sets this one without the "via multifd channel" prefix.
    CHECK(log_capture::decisions(log.all())[1]["error"] == "multifd: received id '0' already setup'");
    CHECK(how_peer_ended(b.get()) != "open");
    CHECK(how_peer_ended(a.get(), 20ms) == "open");
  }
  SUBCASE("MultiFDInit_t with an id out of range, and a wrong uuid") {
    log_capture log;
    background<receiver> srv(o, log);
    auto a = dial(srv.address(), init_bytes(7));
    auto u = parse_uuid("11111111-2222-3333-4444-555555555555");
    auto b = dial(srv.address(), encode_multifd_init(*u, 1));
    REQUIRE(log.wait_decisions(2));
    const auto d = log_capture::decisions(log.all());
    // reference checks ids as 11.1 does. QEMU counts only channels set up, so
    // both failures are "via multifd channel 0".
    CHECK(d[0]["error"] ==
          "failed to receive packet via multifd channel 0: multifd: received channel id 7 "
          "exceeds channel count 2");
    CHECK(d[1]["error"] ==
          "failed to receive packet via multifd channel 0: multifd: received uuid "
          "'11111111-2222-3333-4444-555555555555' and expected uuid "
          "'00000000-0000-0000-0000-000000000000' for channel 1");
  }
}

TEST_CASE("1,000 connections opened and abandoned: good ones still served, descriptors back to baseline") {
  log_capture log;
  auto o = serve_opts(classifiers::reference, "multifd", 2, order_mode::data);
  o.peek_timeout = 20000ms;  // they stay undecided until their clients go
  background<receiver> srv(o, log);
  const auto baseline = open_fds();
  {
    std::vector<unique_fd> idle;
    for (int i = 0; i < 1000; ++i) idle.push_back(dial(srv.address()));
    // While a thousand wait undecided, main is still decided at once.
    auto m = dial(srv.address(), main_bytes());
    REQUIRE(log.wait([](const lines& a) {
      for (const auto& d : log_capture::decisions(a))
        if (d["decision"] == "main") return true;
      return false;
    }));
    CHECK(log_capture::decisions(log.all()).size() < 1000);
  }  // every client closes
  REQUIRE(log.wait_decisions(1001, 10000ms));
  std::size_t rejected = 0;
  for (const auto& d : log_capture::decisions(log.all())) rejected += d["decision"] == "reject";
  CHECK(rejected == 1000);
  CHECK(wait_fds(baseline));
  // And it still serves.
  auto f = dial(srv.address(), init_bytes(0));
  REQUIRE(log.wait_event("multifd_init"));
}

TEST_CASE("--max-connections pauses accepting instead of failing") {
  log_capture log;
  auto o = serve_opts(classifiers::reference, "", 2, order_mode::data);
  o.max_connections = 3;
  o.peek_timeout = 5000ms;
  background<receiver> srv(o, log);
  std::vector<unique_fd> held;
  for (int i = 0; i < 3; ++i) held.push_back(dial(srv.address()));
  REQUIRE(log.wait_event("accept_paused"));
  auto m = dial(srv.address(), main_bytes());  // queued in the backlog, not refused
  held.clear();                                // three eofs free three places
  REQUIRE(log.wait([](const lines& a) {
    for (const auto& d : log_capture::decisions(a))
      if (d["decision"] == "main" && d["conn"] == 3) return true;
    return false;
  }));
}

TEST_CASE("migchan serve: bad input is one line and exit 2") {
  one_line_error({"serve", "--listen", "tcp:127.0.0.1"}, "migchan: bad URI 'tcp:127.0.0.1': missing port");
  one_line_error({"serve", "--listen", "udp:1:2"}, "unsupported transport 'udp'");
  one_line_error({"serve", "--classifier", "qemu-6.0", "--listen", "tcp:127.0.0.1:0"}, "unknown classifier 'qemu-6.0'");
  one_line_error({"serve", "--listen", "tcp:127.0.0.1:0", "--caps", "multifd,zero-copy"},
                 "unknown capability 'zero-copy'");
  one_line_error({"serve", "--classifier", "qemu-10.1", "--listen", "tcp:127.0.0.1:0", "--caps", "mapped-ram"},
                 "qemu-10.1 refuses this configuration (caps.mapped_ram_needs_file)");
  one_line_error({"serve", "--listen", "tcp:127.0.0.1:0", "--order", "fifo"}, "bad value 'fifo' for --order");
  one_line_error({"serve", "--listen", "tcp:127.0.0.1:0", "--uuid", "xyz"}, "bad value 'xyz' for --uuid");
  const std::vector<std::string> recover{"serve",  "--listen",     "tcp:127.0.0.1:0",
                                         "--caps", "postcopy-ram", "--recovery"};
  auto with = [&](std::vector<std::string> more) {
    auto a = recover;
    a.insert(a.end(), more.begin(), more.end());
    return a;
  };
  one_line_error({"serve", "--listen", "tcp:127.0.0.1:0", "--ram-blocks", "x.jsonl"}, "--ram-blocks needs --recovery");
  one_line_error(with({"--ram-blocks", "/nonexistent/first.jsonl"}),
                 "cannot open --ram-blocks '/nonexistent/first.jsonl'");
  one_line_error(with({"--ram-blocks", "README.md"}), "--ram-blocks 'README.md' has no ram_blocks line");
}

TEST_CASE("migchan serve as a child: the summary after --timeout, and after SIGTERM, SIGHUP or SIGUSR1") {
  const auto r = run_migchan({"serve", "--classifier", "qemu-7.2", "--listen", "tcp:127.0.0.1:0", "--timeout", "300"});
  CHECK(r.rc == 0);
  CHECK(r.out.find("\"listening\":\"tcp:127.0.0.1:") != std::string::npos);
  CHECK(r.out.find("\"summary\"") != std::string::npos);
  for (const int sig : {SIGTERM, SIGHUP, SIGUSR1}) {
    CAPTURE(sig);
    const auto base = (std::filesystem::temp_directory_path() /
                       ("migchan-term-" + std::to_string(::getpid()) + "-" + std::to_string(sig)))
                          .string();
    const auto sock = base + ".sock", logfile = base + ".log";
    migchan_child serve({"serve", "--classifier", "qemu-7.2", "--listen", "unix:" + sock, "--log", logfile,
                         "--log-max-mib", "1"});
    REQUIRE(file_lines_with(logfile, "\"listening\""));
    { auto m = dial(parse_uri("unix:" + sock), main_bytes()); }
    REQUIRE(file_lines_with(logfile, "\"decision\":\"main\""));
    serve.signal(sig);
    const auto t = serve.wait();
    CAPTURE(t.out);
    CHECK(t.rc == 0);
    CHECK(file_lines_with(logfile, "\"summary\""));
    CHECK(file_lines_with(logfile, "\"max_bytes\":1048576"));
    std::filesystem::remove(sock);
    std::filesystem::remove(logfile);
  }
}

TEST_CASE("descriptor exhaustion: serve pauses accepting, keeps serving, and says why") {
  namespace fs = std::filesystem;
  const auto dir = fs::temp_directory_path() / ("migchan-emfile-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const auto sock = (dir / "s").string(), logfile = (dir / "log").string();
  // serve with 40 descriptors, in a child; the clients here have plenty.
  auto child = std::async(std::launch::async, [&] {
    return run_migchan({"serve", "--listen", "unix:" + sock, "--caps", "multifd", "--order", "data", "--peek-timeout",
                        "20000", "--timeout", "4000", "--log", logfile},
                       10000ms, 40);
  });
  REQUIRE(file_lines_with(logfile, "\"listening\"", 1, 5000ms));
  const auto addr = parse_uri("unix:" + sock);
  {
    std::vector<unique_fd> idle;
    for (int i = 0; i < 100; ++i) idle.push_back(dial(addr));  // more than it can hold
    CHECK(file_lines_with(logfile, "Too many open files", 1, 3000ms));
  }
  auto m = dial(addr, main_bytes());
  CHECK(file_lines_with(logfile, "\"decision\":\"main\"", 1, 3000ms));
  m.reset();
  const auto r = child.get();
  CHECK(r.rc == 0);
  std::ifstream in(logfile);
  std::string line, last;
  std::size_t rejects = 0;
  while (std::getline(in, line)) {
    if (line.find("\"decision\":\"reject\"") != std::string::npos) ++rejects;
    last = line;
  }
  CHECK(rejects == 100);  // every abandoned one decided, none lost
  CHECK(last.find("\"summary\"") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("decider: a decision no bytes could change names no row, also when its bytes had come") {
  // qemu-10.1 with multifd: a silent first channel stalls the destination (the peek
  // blocks); main's bytes behind it change nothing.
  decider d(classifiers::qemu_10_1, parse_caps("multifd", 2), order_mode::accept, fresh_state<concrete_domain>());
  const auto c0 = d.add(), c1 = d.add();
  d.update(c1, main_bytes(), peer_end::open);
  d.time_out(c0);
  const auto out = d.pump();
  REQUIRE(out.size() == 2);
  CHECK(out[0].then == verdict::blocked);
  CHECK(out[1].why == cause::behind);
  CHECK(out[1].magic == first_bytes::vm_file_magic);  // its bytes were known
  CHECK(d.fired(out[1]) == nullptr);
  CHECK(to_json(d, out[1], 0, 0)["rule"].is_null());
  // A drop by the listener names no row either; a row that read the bytes does.
  decider l(classifiers::qemu_7_2, parse_caps("", 2), order_mode::accept, fresh_state<concrete_domain>());
  const auto m = l.add();
  l.update(m, main_bytes(), peer_end::open);
  const auto extra = l.add();
  l.update(extra, main_bytes(), peer_end::open);
  const auto got = l.pump();
  REQUIRE(got.size() == 2);
  CHECK(got[0].then == verdict::main);
  CHECK(to_json(l, got[0], 0, 0)["rule"] == "first.main");
  CHECK(got[1].why == cause::listener);
  CHECK(to_json(l, got[1], 0, 0)["rule"].is_null());
}

TEST_CASE("serve: a main whose stream is refused is no completed migration, and the exit code says so") {
  log_capture log;
  auto o = serve_opts(classifiers::qemu_7_2, "");
  o.exit_after_complete = true;
  background<receiver> srv(o, log);
  { auto c = dial(srv.address(), init_bytes(0)); }  // 7.2 takes any first channel as main
  CHECK(srv.wait_exit() == 1);
  REQUIRE(log.wait([](const lines& a) { return !a.empty() && a.back().contains("summary"); }));
  const auto s = log.all().back()["summary"];
  CHECK(s["completed"] == false);
  CHECK(s["main_error"] == "Not a migration stream");
  CHECK(s["result"] == "the migration failed: Not a migration stream");
  CHECK(s["exit"] == 1);
}

TEST_CASE("serve: a capped log counts what it did not write, and the summary is written past the cap") {
  std::vector<std::string> written;
  std::mutex m;
  log_sink sink([&](std::string_view l) {
    std::lock_guard g(m);
    written.emplace_back(l);
  });
  sink.cap(1500);
  auto o = serve_opts(classifiers::reference, "");
  o.exit_after_complete = false;
  o.timeout = 0ms;
  std::promise<int> rc;
  auto r = std::make_unique<receiver>(o, sink);
  std::thread t([&] { rc.set_value(r->run()); });
  for (int i = 0; i < 40; ++i) {
    auto c = dial(r->address(), bytes{'G', 'E', 'T', ' '});
    CHECK(how_peer_ended(c.get()) != "open");  // rejected: decided and closed
  }
  r->stop();
  t.join();
  std::lock_guard g(m);
  REQUIRE(!written.empty());
  const auto last = json_line::parse(written.back());
  REQUIRE(last.contains("summary"));
  const auto& l = last["summary"]["log"];
  CHECK(l["max_bytes"] == 1500);
  CHECK(l["bytes"].get<std::uint64_t>() <= 1500);
  CHECK(l["suppressed_lines"].get<std::uint64_t>() >= 20);
  CHECK(last["summary"]["decisions"]["reject"] == 40);  // counted, though not all logged
  std::size_t total = 0;
  for (std::size_t i = 0; i + 1 < written.size(); ++i) total += written[i].size() + 1;
  CHECK(total == l["bytes"]);
}

TEST_CASE("migchan serve: --trace gives the configuration, C files are classifiers, numbers are shown as typed") {
  const auto r = run_migchan({"serve", "--trace", "tests/traces/replay/qemu-7.2-multifd-first.json", "--listen",
                              "tcp:127.0.0.1:0", "--timeout", "100"});
  CAPTURE(r.out);
  CHECK(r.rc == 0);
  CHECK(r.out.find("\"classifier\":\"qemu-7.2\",\"caps\":\"multifd\",\"multifd_channels\":2") != std::string::npos);
  const auto file = written_c(
      "patch-v6",
      (std::filesystem::temp_directory_path() / ("migchan-serve-" + std::to_string(::getpid()) + ".c")).string());
  const auto c = run_migchan({"serve", "--classifier", file, "--listen", "tcp:127.0.0.1:0", "--timeout", "100"});
  CAPTURE(c.out);
  CHECK(c.rc == 0);
  CHECK(c.out.find("\"classifier\":\"" + file + "\"") != std::string::npos);
  std::filesystem::remove(file);
  one_line_error({"serve", "--trace", "tests/traces/replay/qemu-7.2-natural.json", "--caps", "multifd", "--listen",
                  "tcp:127.0.0.1:0"},
                 "--trace gives the configuration: not with --caps");
  one_line_error({"serve", "--listen", "tcp:127.0.0.1:0", "--timeout", "99999999999999999999999"},
                 "--timeout must be 0..1099511627776, not 99999999999999999999999");
  one_line_error({"serve", "--listen", "tcp:127.0.0.1:0", "--peek-timeout", "1s"}, "bad value '1s' for --peek-timeout");
}
