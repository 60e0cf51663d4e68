// The sending side: which channels a source opens, what each sends first, and
// which arrival orders it can produce. Every constraint on order that is not a
// consequence of the source's code is a named assumption (docs/assumptions.md);
// none is built in silently.
#pragma once

#include <array>
#include <span>

#include "model/destination.h"

namespace migchan {

template <class D> struct sender_config {
  using B = typename D::boolean;
  B multifd, postcopy_ram, postcopy_preempt, mapped_ram;
  typename D::integer transport;  // enum transport of the migration URI (tls: sockets under TLS)
  typename D::integer channels;   // multifd-channels
  typename D::integer gen;        // enum sender_gen
  B recovery;                     // reconnecting after a postcopy pause, not a fresh migration
  // Postcopy is started (migrate-start-postcopy): the moment an 8.0+ source opens
  // its preempt channel (postcopy_start(), 5655aab0). A recovery is always switched.
  B switched = D::lit(true);
};

enum class assumption : std::uint8_t {
  main_connects_first,           // the destination accepts main before any other channel
  preempt_after_multifd,         // the preempt channel arrives after every multifd channel
  multifd_excludes_preempt,      // multifd and postcopy-preempt are never on together
  tls_main_first,                // with TLS, main finishes its handshake first
  non_peekable_implies_multifd,  // non-peekable transports carry only main and multifd channels
  non_peekable_configs_match,    // on a non-peekable transport both sides have the same capabilities
  configs_match,                 // both sides have the same capabilities and channel count
};
template <> struct enum_traits<assumption> {
  static constexpr auto names = make_names("main-connects-first", "preempt-after-multifd", "multifd-excludes-preempt",
                                           "tls-main-first", "non-peekable-implies-multifd",
                                           "non-peekable-configs-match", "configs-match");
  static constexpr std::size_t size = names.size();
};
inline constexpr std::size_t assumption_count = enum_size<assumption>;

// One step of a trace: the arrival and what the destination did with it.
template <class D> struct trace_step {
  arrival<D> in;
  step_result<D> out;
  dest_state<D> before;
};

template <class D> constexpr typename D::boolean same_caps(const sender_config<D>& s, const dest_config<D>& d) {
  return s.multifd == d.multifd && s.postcopy_ram == d.postcopy_ram && s.postcopy_preempt == d.postcopy_preempt &&
         s.mapped_ram == d.mapped_ram && (!s.multifd || s.channels == d.channels);
}

// A configuration QEMU accepts: the table's capability and transport refusals.
template <class D>
constexpr typename D::boolean accepted(const table& t, typename D::boolean multifd, typename D::boolean postcopy_ram,
                                       typename D::boolean postcopy_preempt, typename D::boolean mapped_ram,
                                       const typename D::integer& transport) {
  const basic_observation<D> o{multifd,
                               postcopy_ram,
                               postcopy_preempt,
                               mapped_ram,
                               transport,
                               D::lit(false),
                               D::lit(false),
                               D::lit(false),
                               en<D>(mig_status::setup),
                               en<D>(first_bytes::vm_file_magic)};
  return valid<D>(t, o);
}

template <class D> constexpr typename D::boolean sender_ok(const table& t, const sender_config<D>& s) {
  auto gen_ok = D::lit(false);
  for (unsigned g = 0; g < sender_gen_count; ++g)
    if ((t.sem.senders >> g) & 1u) gen_ok = gen_ok || s.gen == D::num(static_cast<int>(g));
  return gen_ok && accepted<D>(t, s.multifd, s.postcopy_ram, s.postcopy_preempt, s.mapped_ram, s.transport) &&
         s.channels >= D::num(multifd_channels_min) && s.channels <= D::num(multifd_channels_max) &&
         (!s.recovery || s.postcopy_ram) && (!s.recovery || s.switched) && (s.postcopy_ram || !s.switched);
}

template <class D>
constexpr typename D::boolean dest_ok(const table& t, const dest_config<D>& d, const typename D::integer& transport) {
  return accepted<D>(t, d.multifd, d.postcopy_ram, d.postcopy_preempt, d.mapped_ram, transport) &&
         d.channels >= D::num(multifd_channels_min) && d.channels <= D::num(multifd_channels_max);
}

// A file: migration's channels are opened by the destination itself, one main
// and multifd-channels more as its own configuration says
// (file_start_incoming_migration(), 2dd7ee7a51): the source cannot make them
// differ. A mismatch there shows only when the stream is loaded.
template <class D> constexpr typename D::boolean pair_possible(const sender_config<D>& s, const dest_config<D>& d) {
  return !(s.transport == en<D>(transport::file)) || same_caps<D>(s, d);
}

template <class D> constexpr dest_state<D> initial_state(const sender_config<D>& s, const dest_config<D>& d) {
  const auto f = fresh_state<D>(), p = paused_state<D>(d);
  auto r = f;
  r.has_main = D::ite(s.recovery, p.has_main, f.has_main);
  r.has_preempt = D::ite(s.recovery, p.has_preempt, f.has_preempt);
  r.multifd_count = D::ite(s.recovery, p.multifd_count, f.multifd_count);
  r.status = D::ite(s.recovery, p.status, f.status);
  return r;
}

// How many connections a socket listener holds before a connect has to wait: its
// backlog is multifd-channels with multifd, RAM_CHANNEL_MAX (2) with
// postcopy-preempt, else 1 (socket_start_incoming_migration_internal(),
// migration/socket.c:150-160 at v10.2.2, :181-191 at v7.2.0), and Linux queues one
// more than the backlog (sk_acceptq_is_full() is `>`). The capabilities are the
// ones in force at migrate-incoming: `-incoming defer`, which 11.1 needs for multifd.
template <class D> constexpr typename D::integer accept_queue(const dest_config<D>& d) {
  return D::ite(d.multifd, d.channels, D::ite(d.postcopy_preempt, D::num(2), D::num(1))) + D::num(1);
}

// The connections a source opens after main that its header waits for: every one
// up to its last multifd channel (an early preempt channel among them takes a
// place in the accept queue too). `in` maps an element to its arrival.
template <class D, class It, class In> constexpr typename D::integer connects_behind(It first, It last, const In& in) {
  using B = typename D::boolean;
  auto n = D::num(0);
  B multifd_later = D::lit(false);
  while (last != first) {
    const auto& a = in(*--last);
    multifd_later = multifd_later || (a.present && a.kind == en<D>(channel_kind::multifd));
    n = n + D::ite(a.present && multifd_later, a.count, D::num(0));
  }
  return n;
}

template <class D> constexpr typename D::boolean gen_is(const typename D::integer& gen, bool (*pred)(sender_gen)) {
  auto r = D::lit(false);
  for (unsigned g = 0; g < sender_gen_count; ++g)
    if (pred(static_cast<sender_gen>(g))) r = r || gen == D::num(static_cast<int>(g));
  return r;
}

// Whether the destination, in this state, would wait on a channel that sends
// nothing yet (a blocking peek) rather than take it by order or watch it.
template <class D>
constexpr typename D::boolean waits_on_silence(const table& t, const dest_config<D>& d, const dest_state<D>& before,
                                               const typename D::integer& transport) {
  return classify<D>(t, observe<D>(d, before, transport, en<D>(first_bytes::silent))).then == en<D>(verdict::blocked);
}

// What main carries when the destination takes it. A multifd-first source writes
// its header only once every multifd connect has finished; a destination that
// waits on main accepts nothing meanwhile, so when the connections behind main do
// not fit in its accept queue main stays silent for good. One that does not wait
// keeps accepting, the connects finish and the header comes. (Over TLS the
// destination never peeks, and a file has no listener.)
template <class D>
constexpr typename D::integer main_first_bytes(const sender_config<D>& s, const dest_config<D>& d,
                                               const typename D::integer& behind, const typename D::boolean& waits) {
  const auto starved = gen_is<D>(s.gen, multifd_first) && s.multifd && s.transport == en<D>(transport::socket) &&
                       waits && behind > accept_queue<D>(d);
  return D::ite(s.recovery, en<D>(first_bytes::vm_command),
                D::ite(starved, en<D>(first_bytes::silent), en<D>(first_bytes::vm_file_magic)));
}

// For a concrete order: main gets the first bytes main_first_bytes() says, in
// the state the channels ahead of it leave the destination in.
inline void set_main_bytes(const table& t, const sender_config<concrete_domain>& s,
                           const dest_config<concrete_domain>& d, std::span<arrival<concrete_domain>> order) {
  using cd = concrete_domain;
  const auto self = [](const arrival<cd>& a) -> const arrival<cd>& { return a; };
  auto state = initial_state<cd>(s, d);
  for (auto it = order.begin(); it != order.end(); ++it) {
    if (it->kind == static_cast<int>(channel_kind::main)) {
      it->magic = main_first_bytes<cd>(s, d, connects_behind<cd>(it + 1, order.end(), self),
                                       waits_on_silence<cd>(t, d, state, it->transport));
      return;  // a source opens one main: no state past it is needed
    }
    for (int k = 0; k < it->count; ++k) {
      auto one = *it;
      one.count = 1;
      state = step<cd>(t, d, state, one).next;
    }
  }
}

// How many of a source's multifd channels carry each kind of MultiFDInit_t for
// this destination: ids 0..S-1 against the destination's N.
template <class D> struct init_counts { typename D::integer good, at_count, above_count; };
template <class D> constexpr init_counts<D> multifd_inits(const sender_config<D>& s, const dest_config<D>& d) {
  const auto n = s.channels;
  // Only a destination reading MultiFDInit_t judges ids against its own count.
  const auto judged = d.multifd && !d.mapped_ram && !s.mapped_ram;
  const auto over = judged && n > d.channels;
  return {D::ite(over, d.channels, n), D::ite(over, D::num(1), D::num(0)),
          D::ite(over, n - d.channels - D::num(1), D::num(0))};
}

// What the source can produce: every channel of the configuration arrives once
// (a run of `count` multifd channels counts as count), with the first bytes its
// kind sends; a postponed preempt channel is opened only once postcopy is
// switched on and the destination has started processing (the first PONG,
// 5655aab0; resume prepare on recovery), an early one always.
//
// `t` decides whether the destination waits on a silent main (main_first_bytes());
// synthesis, whose table is what it searches for, passes none: main's header comes.
template <class D>
constexpr typename D::boolean sender_can_produce(const table* t, const sender_config<D>& s, const dest_config<D>& d,
                                                 std::span<const trace_step<D>> tr, const dest_state<D>& final_state) {
  using B = typename D::boolean;
  using I = typename D::integer;
  const auto is = [](const auto& v, auto e) { return v == en<D>(e); };
  B ok = D::lit(true);
  I mains = D::num(0), preempts = D::num(0);
  I good = D::num(0), at_count = D::num(0), above_count = D::num(0);
  B prev_present = D::lit(true);
  I prev_kind = D::num(0);
  // file_start_incoming_migration() opens main and then each multifd channel
  // itself, in order: for a file: URI order is a fact, not an assumption.
  const B ordered = is(s.transport, transport::file);
  const B postponed = !gen_is<D>(s.gen, preempt_at_start);
  const auto arrival_of = [](const trace_step<D>& st) -> const arrival<D>& { return st.in; };
  for (auto it = tr.begin(); it != tr.end(); ++it) {
    const auto& st = *it;
    const auto& a = st.in;
    ok = ok && (!a.present || prev_present) && (!a.present || !ordered || a.kind >= prev_kind);
    prev_present = a.present;
    prev_kind = D::ite(a.present, a.kind, prev_kind);
    const B main = is(a.kind, channel_kind::main), multifd = is(a.kind, channel_kind::multifd);
    const B preempt = is(a.kind, channel_kind::preempt);
    const I main_magic = main_first_bytes<D>(s, d, connects_behind<D>(it + 1, tr.end(), arrival_of),
                                             t ? waits_on_silence<D>(*t, d, st.before, a.transport) : D::lit(false));
    // mapped-ram channels carry file contents, no MultiFDInit_t.
    const I multifd_magic = D::ite(s.mapped_ram, en<D>(first_bytes::other), en<D>(first_bytes::multifd_magic));
    ok = ok && (!a.present || ((main || multifd || preempt) && a.transport == s.transport && a.count >= D::num(1) &&
                               (multifd || a.count == D::num(1)) && (!main || a.magic == main_magic) &&
                               (!multifd || a.magic == multifd_magic) &&
                               (!multifd || is(a.init, init_packet::good) || is(a.init, init_packet::id_at_count) ||
                                is(a.init, init_packet::id_above_count)) &&
                               (multifd || is(a.init, init_packet::good)) &&
                               (!preempt || is(a.magic, first_bytes::silent) || is(a.magic, first_bytes::ram_page)) &&
                               (!preempt || !postponed || st.before.starts >= D::num(1)) && st.out.valid_run));
    const B m = a.present && multifd;
    mains = mains + D::ite(a.present && main, D::num(1), D::num(0));
    good = good + D::ite(m && is(a.init, init_packet::good), a.count, D::num(0));
    at_count = at_count + D::ite(m && is(a.init, init_packet::id_at_count), a.count, D::num(0));
    above_count = above_count + D::ite(m && is(a.init, init_packet::id_above_count), a.count, D::num(0));
    preempts = preempts + D::ite(a.present && preempt, D::num(1), D::num(0));
  }
  const auto want = multifd_inits<D>(s, d);
  const B fresh_multifd = s.multifd && !s.recovery;
  const B multifd_ok = D::ite(fresh_multifd,
                              good == want.good && at_count == want.at_count && above_count == want.above_count,
                              good == D::num(0) && at_count == D::num(0) && above_count == D::num(0));
  const B preempt_count_ok =
      D::ite(s.postcopy_preempt,
             D::ite(postponed, preempts == D::ite(s.switched && final_state.starts >= D::num(1), D::num(1), D::num(0)),
                    preempts == D::num(1)),
             preempts == D::num(0));
  return ok && mains == D::num(1) && multifd_ok && preempt_count_ok;
}

template <class D>
constexpr typename D::boolean holds(assumption a, const sender_config<D>& s, const dest_config<D>& d,
                                    std::span<const trace_step<D>> tr) {
  using B = typename D::boolean;
  const auto is = [](const auto& v, auto e) { return v == en<D>(e); };
  const auto first_is_main = [&] {
    return tr.empty() ? D::lit(true) : (!tr[0].in.present || is(tr[0].in.kind, channel_kind::main));
  };
  switch (a) {
    case assumption::main_connects_first: return first_is_main();
    case assumption::preempt_after_multifd: {
      B ok = D::lit(true), seen_preempt = D::lit(false);
      for (const auto& st : tr) {
        ok = ok && !(st.in.present && seen_preempt && is(st.in.kind, channel_kind::multifd));
        seen_preempt = seen_preempt || (st.in.present && is(st.in.kind, channel_kind::preempt));
      }
      return ok;
    }
    case assumption::multifd_excludes_preempt: return !(s.multifd && s.postcopy_preempt);
    case assumption::tls_main_first: return !is(s.transport, transport::tls) || first_is_main();
    case assumption::non_peekable_implies_multifd: return is(s.transport, transport::socket) || !s.postcopy_preempt;
    case assumption::non_peekable_configs_match: return is(s.transport, transport::socket) || same_caps<D>(s, d);
    case assumption::configs_match: return same_caps<D>(s, d);
  }
  return D::lit(true);
}

}  // namespace migchan

namespace migchan {

// Runs the destination over a trace whose arrivals are filled in; fills in
// each step's state before and result. Returns the final state.
template <class D>
constexpr dest_state<D> run(const table& t, const dest_config<D>& d, dest_state<D> s, std::span<trace_step<D>> tr) {
  for (auto& st : tr) {
    st.before = s;
    st.out = step<D>(t, d, s, st.in);
    s = st.out.next;
  }
  return s;
}

}  // namespace migchan
