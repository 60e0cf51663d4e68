// Where serve and proxy write their log: one JSON object per line. Lines may be
// buffered; idle() is called whenever the server's loop is about to wait, so
// whoever follows the log sees every line as soon as the server has nothing to do.
#pragma once

#include <functional>
#include <string_view>
#include <type_traits>
#include <utility>

#include <nlohmann/json.hpp>

namespace migchan {

using json_line = nlohmann::ordered_json;

class log_sink {
 public:
  using line_fn = std::function<void(std::string_view)>;
  log_sink() = default;
  // A callable taking each line as JSON text, and optionally the idle hook.
  template <class F>
    requires std::is_invocable_v<F, std::string_view>
  log_sink(F line, std::function<void()> idle = {}) : line_(std::move(line)), idle_(std::move(idle)) {}

  explicit operator bool() const { return static_cast<bool>(line_); }
  void operator()(std::string_view line) const { line_(line); }
  void operator()(const std::string& line) const { line_(line); }
  void operator()(const json_line& j) const { line_(j.dump()); }
  void idle() const {
    if (idle_) idle_();
  }

 private:
  line_fn line_;
  std::function<void()> idle_;
};

}  // namespace migchan
