// The scenarios `migchan conform` runs, in order. Names are stable: docs/fidelity.md and
// `--scenario` use them.
#include "impl/conform/conform.h"
#include "model/builtin.h"

namespace migchan::conform {

namespace {

struct caps {
  bool multifd = false, postcopy_ram = false, postcopy_preempt = false, mapped_ram = false;
};
constexpr caps none{};
constexpr caps multifd{true};
constexpr caps postcopy{false, true};
constexpr caps preempt{false, true, true};
constexpr caps multifd_postcopy{true, true};
constexpr caps multifd_preempt{true, true, true};

scenario make(std::string name, family how, std::string summary, caps c) {
  scenario s;
  s.name = std::move(name);
  s.how = how;
  s.summary = std::move(summary);
  s.multifd = c.multifd, s.postcopy_ram = c.postcopy_ram, s.postcopy_preempt = c.postcopy_preempt;
  s.mapped_ram = c.mapped_ram;
  if (how == family::replay) s.across_versions = false;  // no source: the destination's own run says it all
  return s;
}

template <class F> scenario with(scenario s, F&& f) {
  f(s);
  return s;
}

replay_arrival ch(channel_kind k, first_bytes m, init_packet i = init_packet::good) {
  replay_arrival a;
  a.kind = k, a.magic = m, a.init = i;
  return a;
}
const replay_arrival main_ch = ch(channel_kind::main, first_bytes::vm_file_magic);
const replay_arrival multifd_ch = ch(channel_kind::multifd, first_bytes::multifd_magic);
const replay_arrival preempt_ch = ch(channel_kind::preempt, first_bytes::silent);
replay_arrival first(first_bytes m) { return ch(channel_kind::main, m); }

// A scenario that reproduces finding N of docs/findings.md: `conform --list` shows the tag, and
// the page's generator (docs/gen-findings.py) runs every scenario that carries it.
auto finding(int n) {
  return [n](scenario& s) { s.summary += " [finding " + std::to_string(n) + "]"; };
}
replay_arrival init(init_packet i) { return ch(channel_kind::multifd, first_bytes::multifd_magic, i); }

std::vector<scenario> build() {
  using f = family;
  std::vector<scenario> v;
  const auto switched = [](scenario& s) { s.switched = true; };
  // A real source into a real destination.
  v.push_back(make("precopy", f::real, "precopy", none));
  v.push_back(with(make("multifd-2", f::real, "multifd, 2 channels", multifd), [](auto& s) { s.channels = 2; }));
  v.push_back(with(make("multifd-4", f::real, "multifd, 4 channels", multifd), [](auto& s) { s.channels = 4; }));
  v.push_back(with(make("postcopy", f::real, "postcopy-ram, migrate-start-postcopy", postcopy), switched));
  v.push_back(with(make("preempt", f::real, "postcopy-ram and postcopy-preempt, switched", preempt), switched));
  v.push_back(make("preempt-unswitched", f::real, "postcopy-ram and postcopy-preempt, never switched", preempt));
  // From 11.1 to 7.2 both sides reach postcopy-active and stay there: the RAM stream of
  // multifd in postcopy, not channel discovery (docs/conform.md).
  v.push_back(with(make("multifd-postcopy", f::real, "multifd 2 and postcopy-ram, switched", multifd_postcopy),
                   [](auto& s) { s.switched = true, s.to_older = false; }));
  // An early preempt channel may land after the multifd channels; 7.2's listener then turns it
  // away, and once switched its postcopy reads the missing channel and crashes: past what the
  // model follows (docs/conform.md). The early sender runs pc72-multifd-postcopy-preempt.
  const auto postponed_only = [](scenario& s) { s.switched = true, s.early_sender = false; };
  v.push_back(with(make("multifd-postcopy-preempt", f::real, "multifd 2, postcopy-ram and postcopy-preempt, switched",
                        multifd_preempt),
                   postponed_only));
  v.push_back(with(make("recovery", f::real, "postcopy-ram switched, migrate-pause, migrate-recover, resume", postcopy),
                   [](auto& s) { s.switched = s.recovery = true; }));
  v.push_back(with(make("recovery-preempt", f::real, "as recovery, with postcopy-preempt", preempt),
                   [](auto& s) { s.switched = s.recovery = true; }));
  v.push_back(with(make("tls-precopy", f::real, "precopy under TLS (tls-creds-psk on both sides)", none),
                   [](auto& s) { s.transport = transport::tls; }));
  v.push_back(with(make("tls-multifd-2", f::real, "multifd 2 under TLS (tls-creds-psk on both sides)", multifd),
                   [](auto& s) { s.transport = transport::tls; }));
  v.push_back(with(make("file-precopy", f::real, "precopy to a file:, then migrate-incoming from it", none),
                   [](auto& s) { s.transport = transport::file; }));
  v.push_back(with(make("file-mapped-ram", f::real, "mapped-ram and multifd 2 through a file:", multifd),
                   [](auto& s) { s.transport = transport::file, s.mapped_ram = true; }));
  v.push_back(with(make("multifd-cancel", f::real, "multifd 2, migrate_cancel once the destination is active", multifd),
                   [](auto& s) { s.cancel = true; }));
  // The source's own end is part of the finding: over TCP its whole stream fits in the socket
  // buffers and it completes; the destination never starts.
  v.push_back(
      with(with(make("multifd-2-into-4", f::real, "source multifd-channels 2, destination 4, over TCP", multifd),
                [](auto& s) { s.channels = 4, s.source_channels = 2, s.source_ends = s.tcp = true; }),
           finding(3)));
  // A 9.0+ source writes main only after every multifd connect, which the destination's accept
  // queue cannot hold while it waits on main. Where main is written at once or taken by order,
  // the multifd connects race: which id a destination reads first is chance, not the model's.
  const auto surplus = [](int from, int to) {
    return [=](scenario& s) { s.channels = to, s.source_channels = from, s.waiting_pair_only = true; };
  };
  v.push_back(with(with(make("multifd-4-into-2", f::real, "source multifd-channels 4, destination 2", multifd),
                        surplus(4, 2)),
                   finding(3)));
  v.push_back(with(with(make("multifd-8-into-4", f::real, "source multifd-channels 8, destination 4", multifd),
                        surplus(8, 4)),
                   finding(3)));
  const auto pc72 = [](scenario& s) { s.machine = "pc-i440fx-7.2"; };
  v.push_back(with(with(make("pc72-multifd-postcopy-preempt", f::real,
                             "both sides -machine pc-i440fx-7.2: multifd 2, postcopy-ram and postcopy-preempt",
                             multifd_preempt),
                        pc72),
                   finding(1)));

  // A real source into `migchan serve` with the destination's table.
  v.push_back(make("serve-precopy", f::serve, "precopy into serve", none));
  v.push_back(make("serve-multifd-2", f::serve, "multifd 2 into serve", multifd));
  v.push_back(with(make("serve-multifd-4", f::serve, "multifd 4 into serve", multifd),
                   [](auto& s) { s.channels = 4; }));
  v.push_back(with(make("serve-postcopy", f::serve, "postcopy-ram, switched, into serve", postcopy), switched));
  v.push_back(with(make("serve-preempt", f::serve, "postcopy-ram and postcopy-preempt, switched, into serve", preempt),
                   switched));
  v.push_back(with(make("serve-multifd-postcopy", f::serve, "multifd 2 and postcopy-ram, switched, into serve",
                        multifd_postcopy),
                   switched));
  v.push_back(with(make("serve-multifd-postcopy-preempt", f::serve,
                        "multifd 2, postcopy-ram and postcopy-preempt, switched, into serve", multifd_preempt),
                   postponed_only));
  // With --classifier io-watch this shows what that design does with the same real source.
  v.push_back(with(with(make("serve-pc72-multifd-postcopy-preempt", f::serve,
                             "as pc72-multifd-postcopy-preempt, into serve", multifd_preempt),
                        pc72),
                   finding(1)));

  // `migchan replay` into a real destination: orders and channels a source does not make.
  const auto arrivals = [](std::vector<replay_arrival> a) { return [a](scenario& s) { s.arrivals = a; }; };
  v.push_back(with(make("replay-natural", f::replay, "main, then 2 multifd channels", multifd),
                   arrivals({main_ch, multifd_ch, multifd_ch})));
  v.push_back(with(make("replay-multifd-first", f::replay, "a multifd channel, main, a multifd channel", multifd),
                   arrivals({multifd_ch, main_ch, multifd_ch})));
  v.push_back(with(make("replay-main-last", f::replay, "2 multifd channels, then main", multifd),
                   arrivals({multifd_ch, multifd_ch, main_ch})));
  v.push_back(with(make("replay-garbage", f::replay, "a first connection sending \"GET / HTTP/1.0\"", none),
                   arrivals({first(first_bytes::other)})));
  v.push_back(with(make("replay-garbage-exit-on-error", f::replay, "as replay-garbage, exit-on-error: true", none),
                   [&](auto& s) { arrivals({first(first_bytes::other)})(s), s.exit_on_error = true; }));
  v.push_back(with(make("replay-garbage-no-exit", f::replay, "as replay-garbage, exit-on-error: false", none),
                   [&](auto& s) { arrivals({first(first_bytes::other)})(s), s.exit_on_error = false; }));
  v.push_back(with(with(make("replay-partial", f::replay, "a first connection sending 2 bytes, then nothing", none),
                        arrivals({first(first_bytes::partial)})),
                   finding(2)));
  const auto partial_then = [&](replay_end e) {
    auto a = first(first_bytes::partial);
    a.end = e;
    return arrivals({a});
  };
  v.push_back(
      with(with(make("replay-partial-close", f::replay, "a first connection sending 2 bytes, then closed", none),
                partial_then(replay_end::close)),
           finding(2)));
  v.push_back(with(with(make("replay-partial-reset", f::replay, "a first connection sending 2 bytes, then reset", none),
                        partial_then(replay_end::reset)),
                   finding(2)));
  v.push_back(with(with(make("replay-silent", f::replay, "a first connection sending nothing", none),
                        arrivals({first(first_bytes::silent)})),
                   finding(2)));
  v.push_back(with(make("replay-eof", f::replay, "a first connection closed before any byte", none),
                   arrivals({first(first_bytes::eof)})));
  v.push_back(with(make("replay-reset", f::replay, "a first connection reset before any byte", none),
                   arrivals({first(first_bytes::reset)})));
  const auto no_exit = [](scenario& s) { s.exit_on_error = false; };
  v.push_back(
      with(with(make("replay-second-main", f::replay, "main, then a second QEVM connection (multifd 2)", multifd),
                arrivals({main_ch, main_ch})),
           finding(5)));
  v.push_back(with(
      with(with(make("replay-second-main-no-exit", f::replay, "as replay-second-main, exit-on-error: false", multifd),
                arrivals({main_ch, main_ch})),
           no_exit),
      finding(5)));
  v.push_back(with(with(make("replay-multifd-without-multifd", f::replay,
                             "a MultiFDInit_t to a destination without multifd", none),
                        arrivals({first(first_bytes::multifd_magic)})),
                   finding(5)));
  v.push_back(with(with(with(make("replay-multifd-without-multifd-no-exit", f::replay,
                                  "as replay-multifd-without-multifd, exit-on-error: false", none),
                             arrivals({first(first_bytes::multifd_magic)})),
                        no_exit),
                   finding(5)));
  v.push_back(with(with(make("replay-id-at-count", f::replay, "main, id 0, then id 2 = multifd-channels", multifd),
                        arrivals({main_ch, multifd_ch, init(init_packet::id_at_count)})),
                   finding(4)));
  v.push_back(with(make("replay-id-above-count", f::replay, "main, id 0, then id 3 > multifd-channels", multifd),
                   arrivals({main_ch, multifd_ch, init(init_packet::id_above_count)})));
  v.push_back(with(make("replay-id-repeated", f::replay, "main, id 0, then id 0 again", multifd),
                   arrivals({main_ch, multifd_ch, init(init_packet::id_repeated)})));
  v.push_back(with(make("replay-bad-uuid", f::replay, "main, then a MultiFDInit_t with another VM's uuid", multifd),
                   arrivals({main_ch, init(init_packet::bad_uuid)})));
  v.push_back(with(make("replay-bad-version", f::replay, "main, then a MultiFDInit_t of version 2", multifd),
                   arrivals({main_ch, init(init_packet::bad_version)})));
  v.push_back(with(make("replay-truncated-init", f::replay, "main, then 20 of MultiFDInit_t's 64 bytes, held open",
                        multifd),
                   arrivals({main_ch, init(init_packet::truncated)})));
  v.push_back(with(make("replay-truncated-init-eof", f::replay, "main, then 20 of MultiFDInit_t's 64 bytes, closed",
                        multifd),
                   arrivals({main_ch, init(init_packet::truncated_eof)})));
  v.push_back(with(make("replay-preempt-first", f::replay, "postcopy-preempt: the silent preempt channel before main",
                        preempt),
                   arrivals({preempt_ch, main_ch})));
  v.push_back(with(with(make("replay-preempt-before-multifd", f::replay,
                             "multifd 2 and postcopy-preempt: main, the silent preempt channel, 2 multifd channels",
                             multifd_preempt),
                        arrivals({main_ch, preempt_ch, multifd_ch, multifd_ch})),
                   finding(1)));

  // A real source through `migchan proxy --order` into a real destination.
  v.push_back(with(make("proxy-natural", f::proxy, "relayed as accepted (multifd 2)", multifd),
                   arrivals({main_ch, multifd_ch, multifd_ch})));
  v.push_back(with(make("proxy-multifd-first", f::proxy, "a multifd channel dialed before main (multifd 2)", multifd),
                   arrivals({multifd_ch, main_ch, multifd_ch})));
  v.push_back(with(make("proxy-main-last", f::proxy, "both multifd channels dialed before main (multifd 2)", multifd),
                   arrivals({multifd_ch, multifd_ch, main_ch})));
  // The order a source on pc-i440fx-7.2 opens its channels in, made certain.
  v.push_back(with(with(make("proxy-pc72-preempt-before-multifd", f::proxy,
                             "as pc72-multifd-postcopy-preempt, dialed main, preempt, 2 multifd channels",
                             multifd_preempt),
                        [&](auto& s) {
                          arrivals({main_ch, preempt_ch, multifd_ch, multifd_ch})(s), pc72(s);
                        }),
                   finding(1)));
  return v;
}

}  // namespace

const std::vector<scenario>& catalogue() {
  static const std::vector<scenario> all = build();
  return all;
}

const scenario* find_scenario(const std::string& name) {
  for (const auto& s : catalogue())
    if (s.name == name) return &s;
  return nullptr;
}

scenario scenario_of(const replay_trace& t, const std::string& name) {
  scenario s = make(name, family::replay, "the trace's arrivals", none);
  s.multifd = t.config.multifd, s.postcopy_ram = t.config.postcopy_ram;
  s.postcopy_preempt = t.config.postcopy_preempt, s.mapped_ram = t.config.mapped_ram;
  s.channels = t.config.channels;
  s.transport = t.transport;
  s.recovery = t.recovery;
  // exit-on-error off means something only to a table whose channel errors end the destination.
  if (const table* tt = find_builtin(t.classifier); tt && tt->sem.errors == on_error::fail_and_exit)
    if (!t.config.exit_on_error) s.exit_on_error = false;
  s.arrivals = t.arrivals;
  for (auto& a : s.arrivals) a.expect.reset();
  return s;
}

bool applies(const target& t, const scenario& s) {
  if (s.waiting_pair_only &&
      (!multifd_first(sender_for(t.source.version, s.machine.value_or(t.machine))) || t.destination.version[0] < 8))
    return false;
  if (!s.early_sender && preempt_at_start(sender_for(t.source.version, s.machine.value_or(t.machine)))) return false;
  if (!t.cross()) return true;
  return s.across_versions && (s.to_older || t.source.version < t.destination.version);
}

std::string_view name(family f) {
  switch (f) {
    case family::real: return "real";
    case family::serve: return "serve";
    case family::replay: return "replay";
    case family::proxy: return "proxy";
  }
  return "?";
}

}  // namespace migchan::conform
