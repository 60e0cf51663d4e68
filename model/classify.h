// First match wins. `classify` is written once against a value domain: with
// concrete values it returns the rule that fires; with Z3 terms it returns the
// nested if-then-else the proofs reason about.
#pragma once

#include "model/table.h"

namespace migchan {

template <class D> struct basic_decision {
  typename D::integer rule;  // index into table.rules; rules.size() if none matched
  typename D::integer then;  // enum verdict
  typename D::integer cost;  // enum reads
};

namespace detail {
// First match over the rows. Out of line at run time: the dispatch array
// answers there, and this loop would only crowd its registers.
[[gnu::noinline]] constexpr basic_decision<concrete_domain> first_match(const table& t,
                                                                        const basic_observation<concrete_domain>& o) {
  for (std::size_t i = 0; i < t.rules.size(); ++i)
    if (matches<concrete_domain>(t.rules[i].when, o))
      return {static_cast<int>(i), static_cast<int>(t.rules[i].then), static_cast<int>(t.rules[i].cost)};
  // "No rule matched" is a verdict of its own; checks report it as a gap.
  return {static_cast<int>(t.rules.size()), static_cast<int>(verdict::reject), static_cast<int>(reads::nothing)};
}
}  // namespace detail

// The table's dispatch array, if it was compiled from these very rows (a copy of
// a table given other rows keeps the pointer), else nullptr.
constexpr const dispatch_view* own_dispatch(const table& t) {
  const dispatch_view* d = t.compiled;
  return d && d->from.data() == t.rules.data() && d->from.size() == t.rules.size() ? d : nullptr;
}

// classify() over concrete values given own_dispatch(t), for callers that look it up once.
constexpr basic_decision<concrete_domain> classify_through(const dispatch_view* d, const table& t,
                                                           const basic_observation<concrete_domain>& o) {
  if (d && dispatchable(o)) [[likely]] {
    const auto e = fired_row(*d, o);
    return {e.row, e.then, e.cost};
  }
  return detail::first_match(t, o);
}

template <class D> constexpr basic_decision<D> classify(const table& t, const basic_observation<D>& o) {
  const int n = static_cast<int>(t.rules.size());
  if constexpr (std::is_same_v<D, concrete_domain>) {
    return classify_through(std::is_constant_evaluated() ? nullptr : own_dispatch(t), t, o);
  } else {
    basic_decision<D> d{D::num(n), D::num(static_cast<int>(verdict::reject)), D::num(static_cast<int>(reads::nothing))};
    for (int i = n - 1; i >= 0; --i) {
      const auto m = matches<D>(t.rules[i].when, o);
      d = {D::ite(m, D::num(i), d.rule), D::ite(m, D::num(static_cast<int>(t.rules[i].then)), d.then),
           D::ite(m, D::num(static_cast<int>(t.rules[i].cost)), d.cost)};
    }
    return d;
  }
}

struct decision {
  const rule* fired;  // nullptr when no rule matched
  verdict then;
  reads cost;
};

constexpr decision classify(const table& t, const observation& o) {
  const auto d = classify<concrete_domain>(t, o.generic());
  const bool hit = d.rule < static_cast<int>(t.rules.size());
  return {hit ? &t.rules[static_cast<std::size_t>(d.rule)] : nullptr, static_cast<verdict>(d.then),
          static_cast<reads>(d.cost)};
}

// An observation is valid when no config rule of the table refuses it and its
// fields are consistent with one another.
template <class D> constexpr typename D::boolean valid(const table& t, const basic_observation<D>& o) {
  auto ok = o.transport >= D::num(0) && o.transport < D::num(static_cast<int>(enum_size<transport>)) &&
            o.magic >= D::num(0) && o.magic < D::num(static_cast<int>(enum_size<first_bytes>)) &&
            o.state >= D::num(0) && o.state < D::num(static_cast<int>(enum_size<mig_status>)) &&
            (!o.postcopy_preempt || o.postcopy_ram) && (!o.all_multifd || o.multifd) &&
            (!o.has_preempt || o.postcopy_preempt);
  for (const auto& f : t.forbids) ok = ok && !matches<D>(f.when, o);
  return ok;
}

}  // namespace migchan
