// The C both writers produce, written one way: proofs/c_writer.h (a built-in
// table as a whole channel.c) and proofs/synth_c.h (a synthesized table as one
// function) differ in how they lay rows out, not in how a test, a decision or
// the peek reads, so that proofs/c_reader.h reads back one dialect.
#pragma once

#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "model/table.h"

namespace migchan::c_code {

// First bytes C has no name for: QEMU names only QEMU_VM_FILE_MAGIC and MULTIFD_MAGIC.
class unnameable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One column's test for the values m among those still possible (`domain`): a
// yes/no column is QEMU's call or field, negated or not; another the shorter
// of "one of these" and "none of those". `group_all`: parenthesise a list of
// tests even when it is a conjunction (synth_c's layout does, c_writer's not).
// Throws unnameable.
std::string test(column c, mask m, mask domain, bool group_all = false);

std::string quoted(std::string_view s);

// What QEMU's MigChannelType calls the channel v decides; CH_NONE for the rest.
std::string_view channel_constant(verdict v);

// The message GLib's g_assert_not_reached() prints, which the reader gives its rows.
inline constexpr std::string_view not_reached = "code should not be reached";

inline constexpr std::string_view incoming_state = "MigrationIncomingState *mis = migration_incoming_get_current();";

// The one statement that decides v, `text` the row's message (its conversions
// get arguments, so the call is whole C): an assignment for a channel,
// error_setg() for reject, error_report() for drop, for abort assert(E) when
// text is "Assertion `E' failed", g_assert_not_reached() when it is
// not_reached, else abort(). nullopt: no statement decides v. What follows it
// (a return) is the writer's.
std::optional<std::string> statement(verdict v, std::string_view text);

// C code built line by line, four spaces a level.
class lines {
 public:
  static std::string indent(int depth);
  void line(int depth, std::string_view s);
  lines& operator<<(std::string_view s);                       // as it is: function heads, blank lines
  void comment(std::initializer_list<std::string_view> said);  // a /* ... */ block, a line each
  // `if (cond) {` for the first branch, `} else if (cond) {` after it, `} else {` for an empty cond.
  void branch(int depth, bool first, std::string_view cond);
  // The first 4 bytes into channel_magic without taking them; `give_up` when the peek fails.
  void peek(int depth, std::string_view give_up);
  const std::string& str() const { return s_; }
  void swap(lines& other) noexcept { s_.swap(other.s_); }

 private:
  std::string s_;
};

}  // namespace migchan::c_code
