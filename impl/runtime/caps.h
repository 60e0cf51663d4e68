// Migration capabilities as the command line names them: QEMU's own names
// (migrate-set-capabilities), in the order the model's configurations carry them.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "model/destination.h"

namespace migchan {

inline constexpr std::array<std::string_view, 4> capability_names{"multifd", "postcopy-ram", "postcopy-preempt",
                                                                  "mapped-ram"};
using capability_set = std::array<bool, 4>;  // indexed as capability_names

// "multifd,postcopy-ram" ("" or "none" for none); throws std::invalid_argument
// ("unknown capability 'x' (one of: multifd, ..., none)").
capability_set parse_capabilities(std::string_view list);
// The inverse, joined by `separator`; "" for none.
std::string capabilities_text(const capability_set& on, std::string_view separator = ",");

// A destination's configuration: those capabilities and multifd-channels.
dest_config<concrete_domain> parse_caps(std::string_view list, int channels);
std::string caps_string(const dest_config<concrete_domain>& c);

// "1..255": the multifd-channels considered, from multifd_channels_min to `max`.
inline std::string channels_range(int max = multifd_channels_max) {
  return std::to_string(multifd_channels_min) + ".." + std::to_string(max);
}

}  // namespace migchan
