// JSON text written straight into a string, for the log lines serve and proxy
// write per connection: no object is built per line. Every value nlohmann's
// parser reads back equal (tests/impl/json_text_test.cpp).
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

namespace migchan {

class json_text {
 public:
  explicit json_text(std::string& out) : out_(out) {}

  json_text& begin() { return sep(), out_ += '{', first_ = true, *this; }
  json_text& end() { return out_ += '}', first_ = false, *this; }
  json_text& key(std::string_view k) {
    sep();
    quoted(k);
    out_ += ':';
    first_ = true;  // the value that follows needs no comma
    return *this;
  }
  json_text& str(std::string_view v) { return sep(), quoted(v), *this; }
  json_text& boolean(bool v) { return sep(), out_ += v ? "true" : "false", *this; }
  json_text& null() { return sep(), out_ += "null", *this; }
  json_text& num(std::int64_t v) { return sep(), digits(v), *this; }
  json_text& num(std::uint64_t v) { return sep(), digits(v), *this; }
  json_text& num(int v) { return num(static_cast<std::int64_t>(v)); }
  json_text& num(double v) {
    sep();
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest text that reads back the same
    out_.append(buf, r.ptr);
    return *this;
  }

 private:
  void sep() {
    if (!first_) out_ += ',';
    first_ = false;
  }
  template <class I> void digits(I v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
  }
  void quoted(std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    out_ += '"';
    for (const char c : s) {
      const auto u = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') out_ += '\\', out_ += c;
      else if (u < 0x20) out_ += "\\u00", out_ += hex[u >> 4], out_ += hex[u & 0xf];
      else out_ += c;
    }
    out_ += '"';
  }

  std::string& out_;
  bool first_ = true;
};

}  // namespace migchan
