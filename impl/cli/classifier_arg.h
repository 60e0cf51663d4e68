// A classifier named on the command line: a built-in table's name, or C (a file or
// a QEMU tree, proofs/c_reader.h) read as `check` reads it (impl/cli/c_input.h). serve,
// proxy (and the traces they take), show and classify take either.
#pragma once

#include <memory>
#include <string>

#include "model/table.h"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace migchan {
struct parsed_table;
}

namespace migchan::cli {

struct classifier_arg {
  const table* t = nullptr;
  std::shared_ptr<const parsed_table> parsed;  // read from C: what *t points into
  bool from_c() const { return parsed != nullptr; }
};

// Throws usage_error: "unknown classifier 'qemu-7.3'; did you mean 'qemu-7.2'?",
// or the C reader's one line (FILE:LINE:COL: ...).
classifier_arg resolve_classifier(const std::string& name_or_file);

// --classifier as serve and classify take it: either form, `reference` by default.
CLI::Option* add_classifier(CLI::App* sub, std::string& name_or_file);

// A built-in table only (verify's and synth's bases, conform's --classifier).
// Throws usage_error: "unknown base classifier 'x' (built-in: qemu-7.2, ...)"; what:
// "classifier", "base classifier", ...
const table& builtin_named(const std::string& name, const char* what);

}  // namespace migchan::cli
