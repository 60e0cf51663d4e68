#include "impl/runtime/caps.h"

#include <algorithm>
#include <stdexcept>

namespace migchan {

capability_set parse_capabilities(std::string_view list) {
  capability_set on{};
  std::size_t at = 0;
  while (at <= list.size()) {
    const auto comma = list.find(',', at);
    const auto item = list.substr(at, comma == std::string_view::npos ? std::string_view::npos : comma - at);
    at = comma == std::string_view::npos ? list.size() + 1 : comma + 1;
    if (item.empty() || item == "none") continue;
    const auto it = std::find(capability_names.begin(), capability_names.end(), item);
    if (it == capability_names.end())
      throw std::invalid_argument("unknown capability '" + std::string(item) +
                                  "' (one of: " + capabilities_text({true, true, true, true}, ", ") + ", none)");
    on[static_cast<std::size_t>(it - capability_names.begin())] = true;
  }
  return on;
}

std::string capabilities_text(const capability_set& on, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < capability_names.size(); ++i)
    if (on[i]) out += (out.empty() ? "" : std::string(separator)) + std::string(capability_names[i]);
  return out;
}

dest_config<concrete_domain> parse_caps(std::string_view list, int channels) {
  const auto on = parse_capabilities(list);
  return {on[0], on[1], on[2], on[3], channels};
}

std::string caps_string(const dest_config<concrete_domain>& c) {
  return capabilities_text({c.multifd, c.postcopy_ram, c.postcopy_preempt, c.mapped_ram});
}

}  // namespace migchan
