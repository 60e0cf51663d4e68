// The runtime form of a table: its rows compiled to one byte per combination
// of the classes its guards tell apart (model/compiled.h builds it). classify()
// over concrete values uses it when a table has one.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "model/observation.h"

namespace migchan {

// The raw columns, those an observation stores (mm_done and peekable derive from them).
enum class raw : std::uint8_t {
  transport,
  magic,
  state,
  multifd,
  postcopy_ram,
  postcopy_preempt,
  mapped_ram,
  has_main,
  all_multifd,
  has_preempt,
};
inline constexpr std::size_t raw_count = 10;
inline constexpr std::size_t raw_values_max = 16;

struct rule;

// A column value's class times the column's stride: the index of an
// observation is the sum of its ten offsets, without a multiplication.
using dispatch_offsets = std::array<std::array<std::uint32_t, raw_values_max>, raw_count>;

// One entry of the array: the row that fires (rules.size() where none does)
// and its decision, so that classify() reads no row.
struct dispatch_entry {
  std::uint8_t row, then, cost;  // index into rules; enum verdict; enum reads
};

struct dispatch_view {
  std::span<const rule> from;                                     // the rows it was compiled from: used only for those
  std::span<const dispatch_entry> row;                            // by packed class index
  const std::array<std::uint8_t, raw_values_max>* cls = nullptr;  // [raw_count]: value -> class
  const std::uint32_t* stride = nullptr;                          // [raw_count]
  const dispatch_offsets* off = nullptr;                          // cls * stride
  bool defers = false;                                            // some row parks a channel
};

// Whether the dispatch array can answer: every enum field inside its enum
// (else the rows decide).
constexpr bool dispatchable(const basic_observation<concrete_domain>& o) {
  return static_cast<unsigned>(o.transport) < enum_size<transport> &&
         static_cast<unsigned>(o.magic) < enum_size<first_bytes> &&
         static_cast<unsigned>(o.state) < enum_size<mig_status>;
}

// The row that fires and its decision, through the dispatch array, for a
// dispatchable() observation.
constexpr dispatch_entry fired_row(const dispatch_view& d, const basic_observation<concrete_domain>& o) {
  const auto& f = *d.off;
  // Summed as a tree, grouped by where the fields come from, so that in step()
  // only two additions follow the loads that depend on the destination's state.
  const std::uint32_t channel = f[0][static_cast<std::size_t>(o.transport)] + f[1][static_cast<std::size_t>(o.magic)];
  const std::uint32_t config = (f[3][o.multifd] + f[4][o.postcopy_ram]) +
                               (f[5][o.postcopy_preempt] + f[6][o.mapped_ram]);
  const std::uint32_t progress = (f[2][static_cast<std::size_t>(o.state)] + f[7][o.has_main]) +
                                 (f[8][o.all_multifd] + f[9][o.has_preempt]);
  return d.row[(channel + config) + progress];
}

}  // namespace migchan
