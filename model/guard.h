// A guard is a conjunction of column tests; each column allows a set of values
// (a bit mask) or is don't-care. Two columns are derived from the others:
// `peekable` (from transport) and `mm_done` (has_main and all multifd).
#pragma once

#include <cstdint>
#include <type_traits>

#include "model/observation.h"

namespace migchan {

using mask = std::uint16_t;

inline constexpr mask any = 0xffff;
inline constexpr mask yes = 0b10;  // bool columns: bit 1 = true allowed
inline constexpr mask no = 0b01;   //               bit 0 = false allowed

template <class E> constexpr mask full = static_cast<mask>((1u << (enum_size<E>)) - 1);

template <class E, class... Es> constexpr mask of(E e, Es... es) {
  return static_cast<mask>((1u << static_cast<unsigned>(e)) | (0u | ... | (1u << static_cast<unsigned>(es))));
}
template <class E, class... Es> constexpr mask except(E e, Es... es) {
  return static_cast<mask>(full<E> & ~of(e, es...));
}

enum class column : std::uint8_t {
  mm_done,
  peekable,
  transport,
  magic,
  has_main,
  all_multifd,
  has_preempt,
  state,
  multifd,
  postcopy_ram,
  postcopy_preempt,
  mapped_ram,
};
inline constexpr std::size_t column_count = 12;

struct column_info {
  std::string_view name;
  std::size_t size;                     // values in the column's domain
  const std::string_view* value_names;  // nullptr for bool columns
};

namespace detail {
inline constexpr std::string_view bool_names[] = {"no", "yes"};
}

constexpr column_info info(column c) {
  switch (c) {
    case column::mm_done: return {"mm_done", 2, detail::bool_names};
    case column::peekable: return {"peekable", 2, detail::bool_names};
    case column::transport: return {"transport", enum_size<transport>, enum_traits<transport>::names.data()};
    case column::magic: return {"magic", enum_size<first_bytes>, enum_traits<first_bytes>::names.data()};
    case column::has_main: return {"has_main", 2, detail::bool_names};
    case column::all_multifd: return {"all_multifd", 2, detail::bool_names};
    case column::has_preempt: return {"has_preempt", 2, detail::bool_names};
    case column::state: return {"state", enum_size<mig_status>, enum_traits<mig_status>::names.data()};
    case column::multifd: return {"multifd", 2, detail::bool_names};
    case column::postcopy_ram: return {"postcopy_ram", 2, detail::bool_names};
    case column::postcopy_preempt: return {"postcopy_preempt", 2, detail::bool_names};
    case column::mapped_ram: return {"mapped_ram", 2, detail::bool_names};
  }
  return {};
}

constexpr mask domain_mask(column c) { return static_cast<mask>((1u << info(c).size) - 1); }

// The guard column that tests an observation field (the others derive: mm_done, peekable).
constexpr column column_of(field f) {
  switch (f) {
    case field::multifd: return column::multifd;
    case field::postcopy_ram: return column::postcopy_ram;
    case field::postcopy_preempt: return column::postcopy_preempt;
    case field::mapped_ram: return column::mapped_ram;
    case field::transport: return column::transport;
    case field::has_main: return column::has_main;
    case field::all_multifd: return column::all_multifd;
    case field::has_preempt: return column::has_preempt;
    case field::state: return column::state;
    case field::magic: return column::magic;
  }
  return column::mm_done;
}

struct guard {
  // Order follows QEMU's if/else chains: state first, then the channel.
  mask mm_done = any, peekable = any, transport = any, magic = any;
  mask has_main = any, all_multifd = any, has_preempt = any, state = any;
  mask multifd = any, postcopy_ram = any, postcopy_preempt = any, mapped_ram = any;

  constexpr mask get(column c) const {
    const mask m[] = {mm_done,     peekable, transport, magic,        has_main,         all_multifd,
                      has_preempt, state,    multifd,   postcopy_ram, postcopy_preempt, mapped_ram};
    return static_cast<mask>(m[static_cast<std::size_t>(c)] & domain_mask(c));
  }
  constexpr void set(column c, mask v) {
    mask* m[] = {&mm_done,     &peekable, &transport, &magic,        &has_main,         &all_multifd,
                 &has_preempt, &state,    &multifd,   &postcopy_ram, &postcopy_preempt, &mapped_ram};
    *m[static_cast<std::size_t>(c)] = v;
  }
  constexpr bool is_any(column c) const { return get(c) == domain_mask(c); }
  constexpr bool operator==(const guard& o) const {
    for (std::size_t i = 0; i < column_count; ++i)
      if (get(column(i)) != o.get(column(i))) return false;
    return true;
  }
};

// Value of an integer column in `m`: for the concrete domain a bit test; for a
// symbolic domain a disjunction of equalities (constant-folded when full/empty).
template <class D> constexpr typename D::boolean in_set(typename D::integer v, mask m, std::size_t size) {
  const mask dom = static_cast<mask>((1u << size) - 1);
  m = static_cast<mask>(m & dom);
  if (m == dom) return D::lit(true);
  if (m == 0) return D::lit(false);
  if constexpr (std::is_same_v<D, concrete_domain>) {
    return v >= 0 && v < static_cast<int>(size) && ((m >> v) & 1u);
  } else {
    // The shorter of "one of these" and "none of the others": symbolic values
    // are kept in their domain by the constraints on them (valid(), the sender).
    const auto ones = static_cast<std::size_t>(__builtin_popcount(m));
    if (2 * ones > size) {
      auto r = D::lit(true);
      for (std::size_t i = 0; i < size; ++i)
        if (!((m >> i) & 1u)) r = r && (v != D::num(static_cast<int>(i)));
      return r;
    }
    auto r = D::lit(false);
    for (std::size_t i = 0; i < size; ++i)
      if ((m >> i) & 1u) r = r || (v == D::num(static_cast<int>(i)));
    return r;
  }
}

template <class D> constexpr typename D::boolean in_set(typename D::boolean v, mask m) {
  m = static_cast<mask>(m & 0b11);
  if (m == 0b11) return D::lit(true);
  if (m == yes) return v;
  if (m == no) return !v;
  return D::lit(false);
}

template <class D> constexpr typename D::boolean matches(const guard& g, const basic_observation<D>& o) {
  return in_set<D>(mm_done<D>(o), g.mm_done) && in_set<D>(peekable<D>(o), g.peekable) &&
         in_set<D>(o.transport, g.transport, enum_size<transport>) &&
         in_set<D>(o.magic, g.magic, enum_size<first_bytes>) && in_set<D>(o.has_main, g.has_main) &&
         in_set<D>(o.all_multifd, g.all_multifd) && in_set<D>(o.has_preempt, g.has_preempt) &&
         in_set<D>(o.state, g.state, enum_size<mig_status>) && in_set<D>(o.multifd, g.multifd) &&
         in_set<D>(o.postcopy_ram, g.postcopy_ram) && in_set<D>(o.postcopy_preempt, g.postcopy_preempt) &&
         in_set<D>(o.mapped_ram, g.mapped_ram);
}

}  // namespace migchan
