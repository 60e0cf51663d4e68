// Single-arrival checks by enumeration: every valid observation matches a rule
// (exhaustive), every rule fires for some valid observation (no dead rule), ids
// are unique. constexpr, so built-in tables are checked by static_assert; the
// same function checks tables read at run time.
//
// Enumeration is over the raw fields; values of an enum column that no guard in
// the table tells apart are tried once (one representative per class).
#pragma once

#include <array>
#include <cstddef>
#include <optional>

#include "model/classify.h"

namespace migchan {

inline constexpr std::size_t max_rules = 128;
inline constexpr std::size_t npos = static_cast<std::size_t>(-1);

struct analysis {
  std::size_t observations = 0;    // valid observations tried (representatives)
  std::optional<observation> gap;  // a valid observation no rule matches
  std::size_t dead = npos;         // first rule that never fires
  std::size_t dead_count = 0;
  std::array<bool, max_rules> fires{};   // fires[i]: rule i fires for some valid observation
  std::size_t duplicate = npos;          // first rule whose id repeats an earlier one
  std::size_t unobservable = npos;       // first rule that fires on a non-peekable channel by its first bytes
  std::size_t not_a_row_verdict = npos;  // first rule deciding exit or crash, which only step() does
  bool too_large = false;
};

namespace detail {

// Representatives of an enum column: one value per class of values that every
// mask in `masks` treats alike.
template <std::size_t Size>
constexpr std::size_t representatives(const mask* masks, std::size_t n, std::array<int, Size>& out) {
  std::size_t count = 0;
  std::array<unsigned, Size> sig{};
  for (std::size_t v = 0; v < Size; ++v) {
    unsigned s = 0;
    for (std::size_t k = 0; k < n && k < 32; ++k) s |= ((masks[k] >> v) & 1u) << k;
    bool seen = false;
    for (std::size_t j = 0; j < count; ++j) seen = seen || sig[j] == s;
    if (!seen) {
      sig[count] = s;
      out[count++] = static_cast<int>(v);
    }
  }
  return count;
}

constexpr std::size_t masks_of(const table& t, column c, mask* out, std::size_t cap) {
  std::size_t n = 0;
  auto add = [&](mask m) {
    for (std::size_t i = 0; i < n; ++i)
      if (out[i] == m) return;
    if (n < cap) out[n++] = m;
  };
  for (const auto& r : t.rules) add(r.when.get(c));
  for (const auto& f : t.forbids) add(f.when.get(c));
  if (c == column::transport) add(of(transport::socket));  // peekable is derived from it
  return n;
}

}  // namespace detail

// Calls f(observation) for one representative of every class of valid observations.
template <class F> constexpr std::size_t for_each_observation(const table& t, F&& f) {
  std::array<mask, 32> tm{}, mm{}, sm{};
  const auto ntm = detail::masks_of(t, column::transport, tm.data(), tm.size());
  const auto nmm = detail::masks_of(t, column::magic, mm.data(), mm.size());
  const auto nsm = detail::masks_of(t, column::state, sm.data(), sm.size());
  std::array<int, enum_size<transport>> tv{};
  std::array<int, enum_size<first_bytes>> mv{};
  std::array<int, enum_size<mig_status>> sv{};
  const auto nt = detail::representatives(tm.data(), ntm, tv);
  const auto nm = detail::representatives(mm.data(), nmm, mv);
  const auto ns = detail::representatives(sm.data(), nsm, sv);
  std::size_t count = 0;
  for_each_of(tv.data(), nt, sv.data(), ns, mv.data(), nm, [&](const observation& o) {
    if (!valid<concrete_domain>(t, o.generic())) return;
    ++count;
    f(o);
  });
  return count;
}

// Calls f(observation) for every valid observation of the raw space, every
// field value without the class shortcut: for tests and for comparing tables
// whose guards split classes differently.
template <class F> constexpr std::size_t for_each_raw_observation(const table& t, F&& f) {
  std::size_t count = 0;
  for_each_raw([&](const observation& o) {
    if (!valid<concrete_domain>(t, o.generic())) return;
    ++count;
    f(o);
  });
  return count;
}

constexpr analysis analyse(const table& t) {
  analysis a;
  if (t.rules.size() > max_rules) {
    a.too_large = true;
    return a;
  }
  for (std::size_t i = 0; i < t.rules.size() && a.duplicate == npos; ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (t.rules[i].id == t.rules[j].id) {
        a.duplicate = i;
        break;
      }
  a.observations = for_each_observation(t, [&](const observation& o) {
    // Indices, not pointers: GCC cannot compare pointers in constexpr under UBSan.
    const auto d = classify<concrete_domain>(t, o.generic());
    if (static_cast<std::size_t>(d.rule) >= t.rules.size()) {
      if (!a.gap) a.gap = o;
    } else {
      const auto i = static_cast<std::size_t>(d.rule);
      a.fires[i] = true;
      // Only a peek shows first bytes: a row that tells non-peekable
      // channels apart by them decides on data QEMU cannot see.
      if (!is_peekable(o.transport) && !t.rules[i].when.is_any(column::magic) && a.unobservable == npos)
        a.unobservable = i;
    }
  });
  for (std::size_t i = 0; i < t.rules.size(); ++i) {
    if (!a.fires[i]) {
      if (a.dead == npos) a.dead = i;
      ++a.dead_count;
    }
    if (!row_verdict(t.rules[i].then) && a.not_a_row_verdict == npos) a.not_a_row_verdict = i;
  }
  return a;
}

// For compile-time errors that name the offending rule: instantiating one of
// these incomplete templates puts the id into the compiler's message.
struct rule_id {
  char s[64]{};
  constexpr rule_id(std::string_view v) {
    for (std::size_t i = 0; i < v.size() && i < 63; ++i) s[i] = v[i];
  }
};
template <rule_id Id> struct rule_is_dead;
template <rule_id Id> struct rule_id_is_duplicated;
template <rule_id Table> struct table_is_not_exhaustive;
template <rule_id Id> struct rule_reads_first_bytes_of_a_non_peekable_channel;
template <rule_id Id> struct rule_decides_what_only_the_code_around_it_does;

// static_assert(checked<classifiers::qemu_10_1, "">()): the table is exhaustive,
// its ids are unique, and no rule is dead except the one named (a dead row that
// history recorded on purpose, e.g. an unreachable implicit default).
template <const table& T, rule_id ExpectedDead = rule_id{""}> consteval bool checked() {
  constexpr analysis a = analyse(T);
  static_assert(!a.too_large, "table has more rows than the compile-time checker handles");
  constexpr bool expected_dead = a.dead == npos ||
                                 (a.dead_count == 1 && T.rules[a.dead].id == std::string_view{ExpectedDead.s});
  if constexpr (a.duplicate != npos) (void)sizeof(rule_id_is_duplicated<rule_id{T.rules[a.duplicate].id}>);
  if constexpr (a.gap.has_value()) (void)sizeof(table_is_not_exhaustive<rule_id{T.name}>);
  if constexpr (!expected_dead) (void)sizeof(rule_is_dead<rule_id{T.rules[a.dead].id}>);
  if constexpr (a.unobservable != npos)
    (void)sizeof(rule_reads_first_bytes_of_a_non_peekable_channel<rule_id{T.rules[a.unobservable].id}>);
  if constexpr (a.not_a_row_verdict != npos)
    (void)sizeof(rule_decides_what_only_the_code_around_it_does<rule_id{T.rules[a.not_a_row_verdict].id}>);
  return a.duplicate == npos && !a.gap && expected_dead && a.unobservable == npos && a.not_a_row_verdict == npos;
}

}  // namespace migchan
