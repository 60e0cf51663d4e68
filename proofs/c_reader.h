// Reads a QEMU channel classifier written in C (the subset QEMU uses for it)
// and turns it into a migchan::table: one row per path through its if/else
// tree, in source order, first match wins.
//
//   auto t = migchan::read_classifier(text, "patch.c", migchan::classifiers::qemu_10_1);
//   migchan::classify(t.view, o);
//
// Accepted input: a whole function (or several: the classifier is
// migration_channel_identify() or migration_ioc_process_incoming(), else the
// first function that assigns CH_* or peeks), or just its statements; also a
// unified-diff hunk (the `+` side) and text quoted with "> " markers.
//
// Every path ends in a decision: the last assignment of a CH_* constant, a
// channel handed to migration_incoming_setup() / multifd_recv_new_channel() /
// postcopy_preempt_new_channel() (the 7.2-9.0 forms), an error (reject: set
// through errp; drop: only error_report()ed before a return), an assert (abort),
// or, when nothing assigned, the initializer (the row is then marked
// implicit_default). The peek call adds the rows `peek.wait`, `peek.partial`,
// `peek.reset` and `peek.failed`, behaving as the base version's
// migration_channel_read_peek() does.
//
// Errors: c_reader_error, one line "FILE:LINE:COL: unsupported construct 'X';
// supported: ..." or "FILE:LINE:COL: expected ...". Any input ends in a table or
// that error: no crash, no assert, no unbounded work.
#pragma once

#include <deque>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "model/compiled.h"

namespace migchan {

class c_reader_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A table read from C. `view` points into the storage below, so the object can
// be moved but not copied.
struct parsed_table {
  table view{};
  std::vector<rule> rules;
  std::vector<config_rule> forbids;  // copied from the base table
  std::deque<std::string> arena;     // ids, texts, C conditions, origins
  std::string function;              // the classifier's name, "" when unknown
  std::unique_ptr<runtime_dispatch> dispatch;  // the rows as an array, for the runtime

  parsed_table() = default;
  parsed_table(parsed_table&&) = default;
  parsed_table& operator=(parsed_table&&) = default;
  parsed_table(const parsed_table&) = delete;
  parsed_table& operator=(const parsed_table&) = delete;
};

// `base` supplies what does not depend on the C text: the configurations the
// QEMU version refuses (forbids, which also decide which observations are
// valid), the start/setup semantics and the peek.wait text.
parsed_table read_classifier(std::string_view source, std::string_view file_name, const table& base);

}  // namespace migchan
