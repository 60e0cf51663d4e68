// Where serve and proxy write their log: one JSON object per line. Lines may be
// buffered; idle() is called whenever the server's loop is about to wait, so
// whoever follows the log sees every line as soon as the server has nothing to do.
//
// A log may be capped (`--log-max-mib`): once `max_bytes` have been written, lines
// are counted instead of written, so that a peer opening connections without end
// cannot fill the disk; the summary, written with always(), says how many.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <type_traits>
#include <utility>

#include <nlohmann/json.hpp>

namespace migchan {

using json_line = nlohmann::ordered_json;

class log_sink {
 public:
  using line_fn = std::function<void(std::string_view)>;
  struct counts {
    std::uint64_t lines = 0, bytes = 0;  // written
    std::uint64_t suppressed_lines = 0, suppressed_bytes = 0;
    std::uint64_t max_bytes = 0;  // 0: no cap
  };

  log_sink() = default;
  // A callable taking each line as JSON text, and optionally the idle hook.
  template <class F>
  requires std::is_invocable_v<F, std::string_view> log_sink(F line, std::function<void()> idle = {})
      : line_(std::move(line)), idle_(std::move(idle)), counts_(std::make_shared<counts>()) {}

  // At most `max_bytes` (newlines included) of lines other than always()'s; 0: no cap.
  void cap(std::uint64_t max_bytes) {
    if (counts_) counts_->max_bytes = max_bytes;
  }

  explicit operator bool() const { return static_cast<bool>(line_); }
  void operator()(std::string_view line) const {
    auto& c = *counts_;
    if (c.max_bytes && c.bytes + line.size() + 1 > c.max_bytes) {
      ++c.suppressed_lines, c.suppressed_bytes += line.size() + 1;
      return;
    }
    always(line);
  }
  void operator()(const std::string& line) const { (*this)(std::string_view(line)); }
  void operator()(const json_line& j) const { (*this)(std::string_view(j.dump())); }
  // Past the cap too: the summary.
  void always(std::string_view line) const {
    ++counts_->lines, counts_->bytes += line.size() + 1;
    line_(line);
  }
  void always(const json_line& j) const { always(std::string_view(j.dump())); }
  void idle() const {
    if (idle_) idle_();
  }
  counts written() const { return counts_ ? *counts_ : counts{}; }
  // {"lines", "bytes", "max_bytes", "suppressed_lines", "suppressed_bytes"} for a summary.
  json_line summary() const {
    const auto c = written();
    return {{"lines", c.lines},
            {"bytes", c.bytes},
            {"max_bytes", c.max_bytes},
            {"suppressed_lines", c.suppressed_lines},
            {"suppressed_bytes", c.suppressed_bytes}};
  }

 private:
  line_fn line_;
  std::function<void()> idle_;
  std::shared_ptr<counts> counts_;
};

}  // namespace migchan
