// The destination as a state machine: step(state, arrival) classifies one
// incoming channel with a table and applies what the surrounding QEMU code does
// with the decision (the listener guard, multifd_recv_new_channel()'s 64-byte
// read, the setup asserts, when incoming processing starts, postcopy recovery).
// Written once against a value domain: the runtime, the brute-force enumerator
// and the Z3 encoding all run this same code.
#pragma once

#include "model/classify.h"

namespace migchan {

template <class D, class E> constexpr typename D::integer en(E e) { return D::num(static_cast<int>(e)); }

// Why a step ended as it did: the table, or code around it.
enum class cause : std::uint8_t {
  rule,           // the table's decision stands
  listener,       // socket listener: migration_has_all_channels() already true
  multifd_init,   // multifd_recv_initial_packet(): the 64-byte read blocked, failed, or its magic is wrong
  multifd_check,  // the read MultiFDInit_t: version, uuid or channel id refused, or the id already set up
  tls_handshake,  // the TLS server handshake blocked or failed; nothing was classified
  multifd_off,    // a multifd decision with multifd off: multifd_recv_state is NULL
  dup_main,       // assert(!mis->from_src_file)
  dup_preempt,    // assert(!mis->postcopy_qemufile_dst) (patch-v6: or assert(migrate_postcopy_preempt()))
  behind,         // not examined: an earlier channel blocked, killed or ended the destination
  none,           // padding: no arrival
};
template <> struct enum_traits<cause> {
  static constexpr auto names = make_names("rule", "listener", "multifd_init", "multifd_check", "tls_handshake",
                                           "multifd_off", "dup_main", "dup_preempt", "behind", "none");
  static constexpr std::size_t size = names.size();
};

// multifd-channels: a uint8 that migrate_params_check() refuses at 0
// (qapi/migration.json:972 and migration/migration.c:1500 at v7.2.0), 2 unless set
// (DEFAULT_MIGRATE_MULTIFD_CHANNELS, migration/migration.c:98 at v7.2.0).
inline constexpr int multifd_channels_min = 1, multifd_channels_max = 255, multifd_channels_default = 2;

template <class D> struct dest_config {
  using B = typename D::boolean;
  B multifd, postcopy_ram, postcopy_preempt, mapped_ram;
  typename D::integer channels;  // multifd-channels, multifd_channels_min..max
  // migrate-incoming's exit-on-error (10.0+, default on); versions without it ignore it.
  B exit_on_error = D::lit(true);
};

// The booleans first: together, a concrete state is 24 bytes with no hole. With
// them spread it was 28, and GCC copied each step's result into the next step's
// input through the stack in pieces a load cannot be forwarded from, a stall
// that cost more than the rest of a concrete step(). Build it by field name.
template <class D> struct dest_state {
  using B = typename D::boolean;
  using I = typename D::integer;
  B has_main, has_preempt;
  B stalled, aborted;
  B parked;                  // a deferred channel waits (only tables with defer rows)
  B exited = D::lit(false);  // the process exited after an error (exit-on-error)
  I multifd_count;
  I status;       // enum mig_status
  I starts;       // times incoming processing started (migration_incoming_process / postcopy_try_recover)
  I parked_kind;  // what the sender opened it as, for soundness
};

template <class D> struct arrival {
  using I = typename D::integer;
  typename D::boolean present;  // false: padding at the end of a symbolic trace
  I kind;                       // enum channel_kind: what the sender opened
  I transport;                  // enum transport
  I magic;                      // enum first_bytes
  I count;                      // how many identical channels arrive back to back (>= 1)
  // enum init_packet: what its MultiFDInit_t says against the destination, if it is read as one
  I init = D::num(0);
};

template <class D> struct step_result {
  using B = typename D::boolean;
  using I = typename D::integer;
  dest_state<D> next;
  I rule, then, cost, why;  // rule index (rules.size() if none), verdict, reads, cause
  B started;                // incoming processing started on this step
  B valid_run;              // count > 1 is allowed only where every channel of the run fares alike
  B woke;                   // a parked channel was decided on this step
  I woke_rule, woke_then, woke_kind;
};

template <class D> constexpr dest_state<D> fresh_state() {
  return {.has_main = D::lit(false),
          .has_preempt = D::lit(false),
          .stalled = D::lit(false),
          .aborted = D::lit(false),
          .parked = D::lit(false),
          .exited = D::lit(false),
          .multifd_count = D::num(0),
          .status = en<D>(mig_status::setup),
          .starts = D::num(0),
          .parked_kind = D::num(0)};
}

// After a postcopy pause: main and preempt are gone, multifd channels stay.
template <class D> constexpr dest_state<D> paused_state(const dest_config<D>& c) {
  auto s = fresh_state<D>();
  s.multifd_count = D::ite(c.multifd, c.channels, D::num(0));
  s.status = en<D>(mig_status::postcopy_paused);
  return s;
}

template <class D>
constexpr basic_observation<D> observe(const dest_config<D>& c, const dest_state<D>& s,
                                       const typename D::integer& transport, const typename D::integer& magic) {
  return {c.multifd,
          c.postcopy_ram,
          c.postcopy_preempt,
          c.mapped_ram,
          transport,
          s.has_main,
          c.multifd && s.multifd_count >= c.channels,
          s.has_preempt,
          s.status,
          magic};
}

// migration_has_all_channels(), as the socket listener sees it.
template <class D>
constexpr typename D::boolean has_all_channels(all_channels_rule r, const dest_config<D>& c, const dest_state<D>& s) {
  const auto all_multifd = s.multifd_count >= c.channels;
  if (r == all_channels_rule::multifd_else_preempt)
    return s.has_main && D::ite(c.multifd, all_multifd, D::ite(c.postcopy_preempt, s.has_preempt, D::lit(true)));
  return s.has_main && (!c.multifd || all_multifd) && (!c.postcopy_preempt || s.has_preempt);
}

constexpr bool table_defers(const table& t) {
  if (!std::is_constant_evaluated())
    if (const dispatch_view* d = own_dispatch(t)) return d->defers;
  for (const auto& r : t.rules)
    if (r.then == verdict::defer) return true;
  return false;
}

// step() with the table's decision made by `decide(observation)` instead of its
// rows (proofs/synth searches over decisions); `t` still gives the code around
// the classifier, and `defers` whether a parked channel is looked at again.
template <class D, class Decide>
constexpr step_result<D> step_deciding(const table& t, bool defers, const Decide& decide, const dest_config<D>& c,
                                       const dest_state<D>& s, const arrival<D>& a) {
  using B = typename D::boolean;
  const auto is = [](const auto& v, auto e) { return v == en<D>(e); };
  const B out_of_service = s.stalled || s.aborted || s.exited;
  const B accepted_by_listener = is(a.transport, transport::socket) || is(a.transport, transport::tls);
  const B listener_drops = accepted_by_listener && has_all_channels<D>(t.sem.all_channels, c, s);

  const auto o = observe<D>(c, s, a.transport, a.magic);
  const basic_decision<D> d = decide(o);
  const B v_main = is(d.then, verdict::main), v_multifd = is(d.then, verdict::multifd);
  const B v_preempt = is(d.then, verdict::preempt);

  // multifd_recv_new_channel(): without mapped-ram it first reads the 64-byte
  // MultiFDInit_t, blocking, whatever was peeked before; then checks magic,
  // version, uuid and id (multifd_recv_initial_packet()), then that the id is
  // not set up yet. QEMU never counts the channels themselves.
  const B packets = v_multifd && c.multifd && !c.mapped_ram;
  const B magic_ok = is(a.magic, first_bytes::multifd_magic);
  const B init_blocks = packets && (is(a.magic, first_bytes::silent) || is(a.magic, first_bytes::partial) ||
                                    (magic_ok && is(a.init, init_packet::truncated)));
  const B init_bad = packets && !init_blocks && (!magic_ok || is(a.init, init_packet::truncated_eof));
  const B init_read = packets && magic_ok && !init_blocks && !init_bad;
  const B id_past_array = init_read && is(a.init, init_packet::id_at_count) && D::lit(t.sem.ids == id_check::greater);
  const B init_refused = init_read && !is(a.init, init_packet::good) && !id_past_array;
  const B multifd_off = v_multifd && !c.multifd;
  const B dup_main = v_main && s.has_main && D::lit(t.sem.setup == setup_rule::asserting);
  const B dup_preempt =
      v_preempt && (s.has_preempt || (!c.postcopy_preempt && D::lit(t.sem.setup == setup_rule::asserting_preempt))) &&
      D::lit(t.sem.setup != setup_rule::lenient);
  // TLS: the listener accepts, then the server handshake runs to its end on the
  // blocking socket inside the same callback (migration/tls.c, io/channel-tls.c),
  // so accept and classification are one step. On TLS the first-bytes classes
  // describe what follows a completed handshake, except `partial` (a client that
  // stops inside its handshake: the main loop blocks) and eof/reset (the
  // handshake fails, which is only reported).
  const B tls = is(a.transport, transport::tls);
  const B handshake_waits = tls && is(a.magic, first_bytes::partial);
  const B handshake_fails = tls && (is(a.magic, first_bytes::eof) || is(a.magic, first_bytes::reset));

  const auto pick = [](const B& cond, const auto& a1, const auto& b1) { return D::ite(cond, a1, b1); };
  // Each of why and then is a list of cases, the first that holds wins: one case a line, kept
  // from clang-format, which would indent each nested pick() one step further.
  // clang-format off
  const auto why = pick(!a.present, en<D>(cause::none),
                   pick(out_of_service, en<D>(cause::behind),
                   pick(listener_drops, en<D>(cause::listener),
                   pick(handshake_waits || handshake_fails, en<D>(cause::tls_handshake),
                   pick(init_blocks || init_bad, en<D>(cause::multifd_init),
                   pick(init_refused || id_past_array, en<D>(cause::multifd_check),
                   pick(multifd_off, en<D>(cause::multifd_off),
                   pick(dup_main, en<D>(cause::dup_main),
                   pick(dup_preempt, en<D>(cause::dup_preempt), en<D>(cause::rule))))))))));
  // An error reported through migration_channel_process_incoming(): 10.0+ then
  // exits unless exit-on-error is off.
  const B exits = D::lit(t.sem.errors == on_error::fail_and_exit) && c.exit_on_error;
  const auto refused = pick(exits, en<D>(verdict::exit), en<D>(verdict::reject));
  const auto then = pick(!a.present || out_of_service, en<D>(verdict::blocked),
                    pick(listener_drops, en<D>(verdict::drop),
                    pick(handshake_waits, en<D>(verdict::blocked),
                    pick(handshake_fails, en<D>(verdict::reject),
                    pick(init_blocks, en<D>(verdict::blocked),
                    pick(init_bad || init_refused, refused,
                    pick(id_past_array, en<D>(verdict::crash),
                    pick(multifd_off, en<D>(t.sem.multifd_off_dropped ? verdict::drop : verdict::abort),
                    pick(dup_main || dup_preempt, en<D>(verdict::abort),
                    pick(is(d.then, verdict::reject), refused, d.then))))))))));
  // clang-format on
  const B handshake = handshake_waits || handshake_fails;
  const auto cost = pick(packets && !out_of_service && !listener_drops && !handshake, en<D>(reads::read64),
                         pick(handshake, en<D>(reads::nothing), d.cost));

  const B by_rule = is(why, cause::rule);
  const B now_main = by_rule && is(then, verdict::main) && !s.has_main;
  const B now_multifd = by_rule && is(then, verdict::multifd);
  const B now_preempt = by_rule && is(then, verdict::preempt);
  // An error returned to migration_channel_process_incoming() (not the TLS handshake's).
  const B reported = a.present && !out_of_service && !handshake &&
                     (is(then, verdict::reject) || is(then, verdict::exit));

  dest_state<D> n = s;
  n.has_main = s.has_main || now_main;
  n.multifd_count = D::ite(now_main && D::lit(t.sem.main_resets_multifd), D::num(0), s.multifd_count) +
                    D::ite(now_multifd, a.count, D::num(0));
  n.has_preempt = s.has_preempt || now_preempt;
  n.aborted = s.aborted || (a.present && !out_of_service && (is(then, verdict::abort) || is(then, verdict::crash)));
  n.stalled = s.stalled || (a.present && !out_of_service && is(then, verdict::blocked));
  n.exited = s.exited || (a.present && !out_of_service && is(then, verdict::exit));
  const B now_parked = by_rule && is(then, verdict::defer);
  n.parked = s.parked || now_parked;
  n.parked_kind = D::ite(now_parked, a.kind, s.parked_kind);

  // When incoming processing starts.
  const B assigned = now_main || now_multifd || now_preempt || (by_rule && is(then, verdict::main));
  B start = D::lit(false);
  switch (t.sem.start) {
    case start_rule::on_last_channel:  // 7.2 start_migration
      start = (now_main && !(c.multifd || c.postcopy_preempt)) || (now_multifd && n.multifd_count == c.channels) ||
              now_preempt;
      break;
    case start_rule::should_start_incoming:  // 5655aab0
      start = assigned &&
              D::ite(c.multifd, has_all_channels<D>(t.sem.all_channels, c, n), by_rule && is(then, verdict::main));
      break;
    case start_rule::main_and_multifd:  // 00f3fcef: a preempt channel returns early
      start = assigned && !now_preempt && n.has_main && (!c.multifd || n.multifd_count >= c.channels);
      break;
  }
  n.starts = s.starts + D::ite(start, D::num(1), D::num(0));
  // postcopy_try_recover(): a start while paused resumes instead.
  n.status = D::ite(start,
                    D::ite(is(s.status, mig_status::postcopy_paused), en<D>(mig_status::postcopy_recover),
                           en<D>(mig_status::active)),
                    s.status);
  if (t.sem.errors == on_error::fail_and_exit) n.status = D::ite(reported, en<D>(mig_status::failed), n.status);

  // A run of identical channels is one step only if each of them would fare
  // the same: no state change but the multifd count, which stays below the
  // total until the last one, or a terminal outcome for the first.
  const B run_ok = a.count == D::num(1) || !a.present || (now_multifd && s.multifd_count + a.count <= c.channels) ||
                   (!now_main && !now_preempt && !now_parked && !now_multifd && !is(then, verdict::main));

  step_result<D> r{n,
                   d.rule,
                   then,
                   cost,
                   why,
                   start && a.present,
                   a.count >= D::num(1) && run_ok,
                   D::lit(false),
                   D::num(static_cast<int>(t.rules.size())),
                   en<D>(verdict::defer),
                   D::num(0)};

  // A parked channel is looked at again once main and all multifd are in.
  if (defers) {
    const B ready = n.parked && !n.stalled && !n.aborted && !n.exited && n.has_main &&
                    (!c.multifd || n.multifd_count >= c.channels);
    // Concretely, nothing is parked most of the time: no second look then.
    if constexpr (std::is_same_v<D, concrete_domain>)
      if (!ready) return r;
    const auto o2 = observe<D>(c, n, en<D>(transport::socket), en<D>(first_bytes::silent));
    const basic_decision<D> d2 = decide(o2);
    const B decided = ready && !is(d2.then, verdict::defer);
    r.woke = decided;
    r.woke_rule = d2.rule;
    r.woke_then = d2.then;
    r.woke_kind = n.parked_kind;
    r.next.parked = n.parked && !decided;
    r.next.has_preempt = n.has_preempt || (decided && is(d2.then, verdict::preempt));
  }
  return r;
}

template <class D>
constexpr step_result<D> step(const table& t, const dest_config<D>& c, const dest_state<D>& s, const arrival<D>& a) {
  // Concretely the dispatch array is looked up once per step, not per classification.
  if constexpr (std::is_same_v<D, concrete_domain>)
    if (!std::is_constant_evaluated())
      if (const dispatch_view* d = own_dispatch(t))
        return step_deciding<D>(
            t, d->defers, [d, &t](const basic_observation<D>& o) { return classify_through(d, t, o); }, c, s, a);
  return step_deciding<D>(
      t, table_defers(t), [&t](const basic_observation<D>& o) { return classify<D>(t, o); }, c, s, a);
}

}  // namespace migchan
