// A table compiled for the runtime: every raw column's values mapped to the
// classes the table's guards tell apart, and one byte per combination of
// classes, the row that fires there. classify() is then a handful of loads.
// The rows stay the source: the array is computed from them (at compile time
// for built-in tables, at run time for tables read from C), and agrees() checks
// the two on every raw observation. The Z3 encoding keeps using the rows.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>

#include <memory>
#include <vector>

#include "model/classify.h"

namespace migchan {

// Rows a dispatch array can serve: a value's signature has a bit per row
// (classes_of()) and an entry a byte for the row.
inline constexpr std::size_t dispatch_rows_max = 63;

namespace compiled_detail {

constexpr std::size_t values(raw c) {
  switch (c) {
    case raw::transport: return enum_size<transport>;
    case raw::magic: return enum_size<first_bytes>;
    case raw::state: return enum_size<mig_status>;
    default: return 2;
  }
}

// The guard column a raw enum column is tested by.
constexpr column tested_as(raw c) {
  return c == raw::transport ? column::transport : c == raw::magic ? column::magic : column::state;
}

// Classes of an enum column: values every row's mask treats alike share one.
struct classes {
  std::array<std::array<std::uint8_t, raw_values_max>, raw_count> of{};
  std::array<std::uint8_t, raw_count> count{};
};

constexpr classes classes_of(std::span<const rule> rules) {
  classes k;
  for (std::size_t c = 0; c < raw_count; ++c) {
    const auto col = static_cast<raw>(c);
    const std::size_t n = values(col);
    if (col != raw::transport && col != raw::magic && col != raw::state) {
      for (std::size_t v = 0; v < n; ++v) k.of[c][v] = static_cast<std::uint8_t>(v);
      k.count[c] = static_cast<std::uint8_t>(n);
      continue;
    }
    // A value's signature: which masks hold it (peekable derives from transport).
    std::array<std::uint64_t, raw_values_max> sig{};
    for (std::size_t v = 0; v < n; ++v) {
      std::uint64_t s = 0;
      for (std::size_t r = 0; r < rules.size() && r < dispatch_rows_max; ++r)
        s |= static_cast<std::uint64_t>((rules[r].when.get(tested_as(col)) >> v) & 1u) << r;
      if (col == raw::transport)
        s |= static_cast<std::uint64_t>(is_peekable(static_cast<transport>(v))) << dispatch_rows_max;
      sig[v] = s;
    }
    std::uint8_t next = 0;
    for (std::size_t v = 0; v < n; ++v) {
      std::size_t same = v;
      for (std::size_t w = 0; w < v; ++w)
        if (sig[w] == sig[v]) {
          same = w;
          break;
        }
      k.of[c][v] = same == v ? next++ : k.of[c][same];
    }
    k.count[c] = next;
  }
  return k;
}

constexpr observation representative(const classes& k, std::size_t index,
                                     const std::array<std::uint32_t, raw_count>& stride) {
  std::array<std::size_t, raw_count> v{};
  for (std::size_t c = 0; c < raw_count; ++c) {
    const std::size_t cls = index / stride[c] % k.count[c];
    for (std::size_t x = 0; x < values(static_cast<raw>(c)); ++x)
      if (k.of[c][x] == cls) {
        v[c] = x;
        break;
      }
  }
  observation o;
  o.transport = static_cast<transport>(v[0]);
  o.magic = static_cast<first_bytes>(v[1]);
  o.state = static_cast<mig_status>(v[2]);
  o.multifd = v[3], o.postcopy_ram = v[4], o.postcopy_preempt = v[5], o.mapped_ram = v[6];
  o.has_main = v[7], o.all_multifd = v[8], o.has_preempt = v[9];
  return o;
}

constexpr std::array<std::uint32_t, raw_count> strides(const classes& k) {
  std::array<std::uint32_t, raw_count> s{};
  std::uint32_t acc = 1;
  for (std::size_t c = 0; c < raw_count; ++c) s[c] = acc, acc *= k.count[c];
  return s;
}

constexpr dispatch_entry entry(const basic_decision<concrete_domain>& d) {
  return {static_cast<std::uint8_t>(d.rule), static_cast<std::uint8_t>(d.then), static_cast<std::uint8_t>(d.cost)};
}

constexpr dispatch_offsets offsets(const std::array<std::array<std::uint8_t, raw_values_max>, raw_count>& cls,
                                   const std::array<std::uint32_t, raw_count>& stride) {
  dispatch_offsets f{};
  for (std::size_t c = 0; c < raw_count; ++c)
    for (std::size_t v = 0; v < raw_values_max; ++v) f[c][v] = cls[c][v] * stride[c];
  return f;
}

}  // namespace compiled_detail

// How many entries a table's dispatch array has.
constexpr std::size_t dispatch_size(std::span<const rule> rules) {
  const auto k = compiled_detail::classes_of(rules);
  std::size_t n = 1;
  for (auto c : k.count) n *= c;
  return n;
}

template <std::size_t N> struct compiled_table {
  std::array<dispatch_entry, N> row{};
  std::array<std::array<std::uint8_t, raw_values_max>, raw_count> cls{};
  std::array<std::uint32_t, raw_count> stride{};
  dispatch_offsets off{};

  constexpr dispatch_view view(std::span<const rule> from) const {
    bool defers = false;
    for (const auto& r : from) defers = defers || r.then == verdict::defer;
    return {from, row, cls.data(), stride.data(), &off, defers};
  }
};

// The same, built at run time for tables read from C. It lives where
// compile_at_run_time() put it, so a table may point at `view`.
struct runtime_dispatch {
  std::vector<dispatch_entry> row;
  std::array<std::array<std::uint8_t, raw_values_max>, raw_count> cls{};
  std::array<std::uint32_t, raw_count> stride{};
  dispatch_offsets off{};
  dispatch_view view;
};

template <std::size_t N> constexpr compiled_table<N> compile(std::span<const rule> rules) {
  compiled_table<N> out;
  const auto k = compiled_detail::classes_of(rules);
  out.cls = k.of;
  out.stride = compiled_detail::strides(k);
  out.off = compiled_detail::offsets(out.cls, out.stride);
  const table t{"", "", "", rules, {}, {}};
  for (std::size_t i = 0; i < N; ++i) {
    const auto o = compiled_detail::representative(k, i, out.stride);
    out.row[i] = compiled_detail::entry(classify<concrete_domain>(t, o.generic()));
  }
  return out;
}

// A table with more rows gets a view of no rows, which classify() never uses.
inline std::unique_ptr<runtime_dispatch> compile_at_run_time(std::span<const rule> rules) {
  auto out = std::make_unique<runtime_dispatch>();
  if (rules.size() > dispatch_rows_max) return out;
  const auto k = compiled_detail::classes_of(rules);
  out->cls = k.of;
  out->stride = compiled_detail::strides(k);
  out->off = compiled_detail::offsets(out->cls, out->stride);
  out->row.resize(dispatch_size(rules));
  const table t{"", "", "", rules, {}, {}};
  for (std::size_t i = 0; i < out->row.size(); ++i)
    out->row[i] = compiled_detail::entry(
        classify<concrete_domain>(t, compiled_detail::representative(k, i, out->stride).generic()));
  bool defers = false;
  for (const auto& r : rules) defers = defers || r.then == verdict::defer;
  out->view = {rules, out->row, out->cls.data(), out->stride.data(), &out->off, defers};
  return out;
}

// Array and rows agree on every raw observation (valid or not), shown without
// visiting all of them: every row's guard treats the values of one class alike
// (peekable derives from transport: its class keeps that too; the boolean
// columns, from which mm_done derives, are not merged), so first-match over the
// rows is constant on each combination of classes, and the array holds that
// first match for each combination: compile() put it there, and
// tests/model/compiled_test.cpp checks every raw observation one by one.
constexpr bool agrees(std::span<const rule> rules, const dispatch_view& d) {
  using namespace compiled_detail;
  for (std::size_t c = 0; c < 3; ++c) {
    const auto col = static_cast<raw>(c);
    for (std::size_t v = 0; v < values(col); ++v)
      for (std::size_t w = 0; w < v; ++w) {
        if (d.cls[c][v] != d.cls[c][w]) continue;
        for (const auto& r : rules)
          if (((r.when.get(tested_as(col)) >> v) & 1u) != ((r.when.get(tested_as(col)) >> w) & 1u)) return false;
        if (col == raw::transport && is_peekable(static_cast<transport>(v)) != is_peekable(static_cast<transport>(w)))
          return false;
      }
  }
  for (std::size_t c = 3; c < raw_count; ++c)
    if (d.cls[c][0] != 0 || d.cls[c][1] != 1) return false;
  classes k;
  for (std::size_t c = 0; c < raw_count; ++c) {
    k.of[c] = d.cls[c];
    std::uint8_t n = 0;
    for (std::size_t v = 0; v < values(static_cast<raw>(c)); ++v) n = std::max<std::uint8_t>(n, d.cls[c][v] + 1);
    k.count[c] = n;
  }
  std::array<std::uint32_t, raw_count> stride{};
  for (std::size_t c = 0; c < raw_count; ++c) stride[c] = d.stride[c];
  // Whose rows they are is compared at run time (classify(), tests/model/compiled_test.cpp):
  // GCC cannot compare unrelated pointers in a constant expression under UBSan.
  return stride == strides(k) && *d.off == offsets(k.of, stride) && d.row.size() == dispatch_size(rules) &&
         d.from.size() == rules.size();
}

}  // namespace migchan
