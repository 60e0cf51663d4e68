// Reads a QEMU channel classifier written in C (the subset QEMU uses for it)
// and turns it into a migchan::table: one row per path through its if/else
// tree, in source order, first match wins.
//
//   auto t = migchan::read_classifier(text, "migration/migration.c", migchan::classifiers::qemu_10_1);
//   migchan::classify(t.view, o);
//
// Accepted input: whole C files (a QEMU tree's migration/*.c: preprocessor
// lines, macros, types and unrelated functions are skipped), a function, or
// just its statements; also a unified-diff hunk (the `+` side) and text quoted
// with "> " markers. The classifier is found by name: the first of
// migration_channel_process_incoming(), migration_channel_identify() and
// migration_ioc_process_incoming() that is defined and takes part in
// classifying, else the first function that assigns CH_*, peeks or hands the
// channel over. Functions it calls that are defined among the files are
// followed: those that classify are run in place (migration_channel_peek(),
// migration_incoming_channel_install(), ...), those that return a condition
// are read as one (migration_has_main_and_multifd_channels(), ...).
//
// Every path ends in a decision: the last assignment of a CH_* constant, a
// CH_* constant passed on, a channel handed to migration_incoming_setup() /
// multifd_recv_new_channel() / postcopy_preempt_new_channel() (the 7.2-10.0
// forms), an error (reject: set through errp; drop: only error_report()ed
// before a return), an assert (abort), a G_IO_IN watch on the channel (defer:
// nothing to read yet; once readable, the watch's callback classifies it), or,
// when nothing assigned, the initializer (the row is then marked
// implicit_default). The peek call adds the rows `peek.wait`, `peek.partial`,
// `peek.reset` and `peek.failed`, as migration_channel_read_peek() behaves:
// read from its body when it is among the files, else the base version's.
//
// Around the classifier, the files can also say how multifd_recv_initial_packet()
// checks the channel id, what migration_channel_process_incoming() does after
// an error and what migration_has_all_channels() counts; what they do not say
// comes from the base table (parsed_table::notes lists what came from C).
//
// Errors: c_reader_error, one line "FILE:LINE:COL: unsupported construct 'X';
// supported: ..." or "FILE:LINE:COL: expected ...", or "FILE: ..." about a
// whole file. Any input ends in a table or that error: no crash, no assert, no
// unbounded work (16 MiB per file at most; time and memory linear in the
// input).
#pragma once

#include <deque>
#include <span>
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

// One file to read: its name as errors and rows cite it, and its text.
struct c_source {
  std::string name;
  std::string text;
};

// A table read from C. `view` points into the storage below, so the object can
// be moved but not copied.
struct parsed_table {
  table view{};
  std::vector<rule> rules;
  std::vector<config_rule> forbids;            // copied from the base table
  std::deque<std::string> arena;               // ids, texts, C conditions, origins
  std::string function;                        // the classifier's name, "" when unknown
  std::vector<std::string> functions;          // every function read, the classifier first
  std::vector<std::string> files;              // the files they are in
  std::vector<std::string> notes;              // what the C said besides the rows ("id check: ...")
  std::unique_ptr<runtime_dispatch> dispatch;  // the rows as an array, for the runtime

  parsed_table() = default;
  parsed_table(parsed_table&&) = default;
  parsed_table& operator=(parsed_table&&) = default;
  parsed_table(const parsed_table&) = delete;
  parsed_table& operator=(const parsed_table&) = delete;
};

// `base` supplies what does not depend on the C text: the configurations the
// QEMU version refuses (forbids, which also decide which observations are
// valid), the start/setup semantics and what the files do not say.
parsed_table read_classifier(std::span<const c_source> files, const table& base);
parsed_table read_classifier(std::string_view source, std::string_view file_name, const table& base);

}  // namespace migchan
