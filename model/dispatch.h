// The runtime form of a table: its rows compiled to one byte per combination
// of the classes its guards tell apart (model/compiled.h builds it). classify()
// over concrete values uses it when a table has one.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "model/observation.h"

namespace migchan {

// The raw columns, those an observation stores (mm_done and peekable derive from them).
enum class raw : std::uint8_t {
  transport, magic, state, multifd, postcopy_ram, postcopy_preempt, mapped_ram, has_main, all_multifd, has_preempt,
};
inline constexpr std::size_t raw_count = 10;
inline constexpr std::size_t raw_values_max = 16;

struct rule;

struct dispatch_view {
  std::span<const rule> from;         // the rows it was compiled from: used only for those
  std::span<const std::uint8_t> row;  // by packed class index; rules.size() where none fires
  const std::array<std::uint8_t, raw_values_max>* cls = nullptr;  // [raw_count]: value -> class
  const std::uint32_t* stride = nullptr;                           // [raw_count]
  bool defers = false;                                             // some row parks a channel
};

// The row (index into rules, or rules.size()) that fires, through the dispatch
// array; nullopt for a field outside its enum (then the rows decide).
constexpr std::optional<std::size_t> fired_row(const dispatch_view& d, const basic_observation<concrete_domain>& o) {
  if (static_cast<unsigned>(o.transport) >= enum_size<transport> ||
      static_cast<unsigned>(o.magic) >= enum_size<first_bytes> || static_cast<unsigned>(o.state) >= enum_size<mig_status>)
    return std::nullopt;
  const std::size_t at = d.cls[0][static_cast<std::size_t>(o.transport)] * d.stride[0] +
                         d.cls[1][static_cast<std::size_t>(o.magic)] * d.stride[1] +
                         d.cls[2][static_cast<std::size_t>(o.state)] * d.stride[2] + o.multifd * d.stride[3] +
                         o.postcopy_ram * d.stride[4] + o.postcopy_preempt * d.stride[5] +
                         o.mapped_ram * d.stride[6] + o.has_main * d.stride[7] + o.all_multifd * d.stride[8] +
                         o.has_preempt * d.stride[9];
  return d.row[at];
}

}  // namespace migchan
