// The sequence properties, as predicates that are true when a trace breaks
// them. One definition serves Z3 (over symbolic traces) and the brute-force
// enumerator (over concrete ones). docs/properties.md states them in prose.
#pragma once

#include "model/sender.h"

namespace migchan {

enum class property : std::uint8_t {
  sound,
  no_abort,
  no_silent_peek,
  complete,
  order_independent,
  mismatch_rejected,
};
template <> struct enum_traits<property> {
  static constexpr auto names = make_names("sound", "no-abort", "no-silent-peek", "complete", "order-independent",
                                           "mismatch-rejected");
  static constexpr std::size_t size = names.size();
};
inline constexpr std::size_t property_count = enum_size<property>;

// Which configurations a property quantifies over: sound, complete and
// order-independent describe a well-behaved sender (both sides configured
// alike); mismatch-rejected only configurations that differ; no-abort and
// no-silent-peek every configuration, since a crash or a hang is never an
// acceptable answer to a mistake. The assumption configs-match narrows those
// two to matching configurations; it has no meaning for mismatch-rejected.
constexpr bool about_mismatch(property p) { return p == property::mismatch_rejected; }
constexpr bool about_match(property p) {
  return p == property::sound || p == property::complete || p == property::order_independent;
}

template <class D> struct assignment {
  typename D::integer main_verdict, preempt_verdict;            // verdict, or -1 if absent
  std::array<typename D::integer, enum_size<verdict>> multifd;  // multifd channels per verdict
};

namespace detail {
template <class D> constexpr auto is(const typename D::integer& v, auto e) { return v == en<D>(e); }

// The verdict a channel finally got: a deferred one takes its wake-up decision.
template <class D> constexpr typename D::integer final_verdict(std::span<const trace_step<D>> tr, std::size_t i) {
  auto v = tr[i].out.then;
  auto woken = en<D>(verdict::defer);
  for (std::size_t j = i; j < tr.size(); ++j) woken = D::ite(tr[j].out.woke, tr[j].out.woke_then, woken);
  return D::ite(is<D>(v, verdict::defer), woken, v);
}

template <class D> constexpr typename D::boolean decided_as_kind(const typename D::integer& v) {
  return is<D>(v, verdict::main) || is<D>(v, verdict::multifd) || is<D>(v, verdict::preempt);
}
}  // namespace detail

template <class D> constexpr assignment<D> assignment_of(std::span<const trace_step<D>> tr) {
  assignment<D> a{D::num(-1), D::num(-1), {}};
  for (auto& m : a.multifd) m = D::num(0);
  for (std::size_t i = 0; i < tr.size(); ++i) {
    const auto& in = tr[i].in;
    const auto v = detail::final_verdict<D>(tr, i);
    a.main_verdict = D::ite(in.present && detail::is<D>(in.kind, channel_kind::main), v, a.main_verdict);
    a.preempt_verdict = D::ite(in.present && detail::is<D>(in.kind, channel_kind::preempt), v, a.preempt_verdict);
    // A run whose first channel stops the destination (abort, blocked) stands
    // for that channel and count - 1 channels behind it, which stay blocked.
    const auto multifd_here = in.present && detail::is<D>(in.kind, channel_kind::multifd);
    const auto terminal = (detail::is<D>(v, verdict::abort) || detail::is<D>(v, verdict::crash) ||
                           detail::is<D>(v, verdict::exit) || detail::is<D>(v, verdict::blocked)) &&
                          !detail::is<D>(tr[i].out.why, cause::behind);
    for (std::size_t k = 0; k < a.multifd.size(); ++k)
      a.multifd[k] = a.multifd[k] + D::ite(multifd_here && v == D::num(static_cast<int>(k)),
                                           D::ite(terminal, D::num(1), in.count), D::num(0));
    const auto blocked = static_cast<std::size_t>(verdict::blocked);
    a.multifd[blocked] = a.multifd[blocked] + D::ite(multifd_here && terminal, in.count - D::num(1), D::num(0));
  }
  return a;
}

template <class D> constexpr typename D::boolean operator==(const assignment<D>& x, const assignment<D>& y) {
  auto eq = x.main_verdict == y.main_verdict && x.preempt_verdict == y.preempt_verdict;
  for (std::size_t k = 0; k < x.multifd.size(); ++k) eq = eq && x.multifd[k] == y.multifd[k];
  return eq;
}

// True when `tr` breaks `p`. `natural` is the same configuration's trace in
// natural order (main, multifd..., preempt), used by order-independent.
template <class D>
constexpr typename D::boolean violates(property p, const sender_config<D>& s, const dest_config<D>& d,
                                       std::span<const trace_step<D>> tr, const dest_state<D>& final_state,
                                       std::span<const trace_step<D>> natural) {
  using B = typename D::boolean;
  using detail::is;
  B misclassified = D::lit(false), aborted = D::lit(false), silent_wait = D::lit(false);
  B unassigned = D::lit(false), early_start = D::lit(false), accepted_disabled = D::lit(false);
  for (std::size_t i = 0; i < tr.size(); ++i) {
    const auto& st = tr[i];
    const B present = st.in.present;
    const auto v = st.out.then;
    misclassified = misclassified ||
                    (present && is<D>(st.out.why, cause::rule) && detail::decided_as_kind<D>(v) && v != st.in.kind) ||
                    (st.out.woke && detail::decided_as_kind<D>(st.out.woke_then) &&
                     st.out.woke_then != st.out.woke_kind);
    aborted = aborted ||
              (present && !is<D>(st.out.why, cause::behind) &&
               (is<D>(v, verdict::abort) || is<D>(v, verdict::crash))) ||
              (st.out.woke && is<D>(st.out.woke_then, verdict::abort));
    silent_wait = silent_wait ||
                  (present && (is<D>(st.out.why, cause::rule) || is<D>(st.out.why, cause::multifd_init)) &&
                   is<D>(v, verdict::blocked)) ||
                  (st.out.woke && is<D>(st.out.woke_then, verdict::blocked));
    // Taking a channel for a feature the destination has off is no reject.
    const auto fv_here = detail::final_verdict<D>(tr, i);
    accepted_disabled = accepted_disabled || (present && is<D>(st.out.why, cause::rule) &&
                                              ((is<D>(fv_here, verdict::multifd) && !d.multifd) ||
                                               (is<D>(fv_here, verdict::preempt) && !d.postcopy_preempt)));
    const auto fv = detail::final_verdict<D>(tr, i);
    unassigned = unassigned || (present && !(fv == st.in.kind && (is<D>(st.out.why, cause::rule))));
    early_start = early_start || (st.out.started &&
                                  !(st.out.next.has_main && (!d.multifd || st.out.next.multifd_count >= d.channels)));
  }
  switch (p) {
    case property::sound: return misclassified;
    case property::no_abort: return aborted;
    case property::no_silent_peek: return silent_wait;
    case property::complete: {
      // An 8.0+ source opens its preempt channel only once postcopy is switched on.
      const B preempt_due = s.postcopy_preempt && (gen_is<D>(s.gen, preempt_at_start) || s.switched);
      return unassigned || early_start || final_state.starts != D::num(1) ||
             (preempt_due && !(assignment_of<D>(tr).preempt_verdict >= D::num(0)));
    }
    case property::order_independent: return !(assignment_of<D>(tr) == assignment_of<D>(natural));
    case property::mismatch_rejected:
      // A channel still parked once processing runs is never used nor refused.
      return misclassified || aborted || silent_wait || accepted_disabled ||
             (final_state.parked && final_state.starts >= D::num(1));
  }
  return D::lit(false);
}

// The natural order: main, then multifd, then preempt.
template <class D> constexpr typename D::boolean natural_order(std::span<const trace_step<D>> tr) {
  typename D::boolean ok = D::lit(true);
  for (std::size_t i = 1; i < tr.size(); ++i) ok = ok && (!tr[i].in.present || tr[i].in.kind >= tr[i - 1].in.kind);
  return ok;
}

}  // namespace migchan
