#include "impl/cli/classifier_arg.h"

#include <CLI/CLI.hpp>
#include <filesystem>
#include <vector>

#include "impl/cli/c_input.h"
#include "impl/cli/cli.h"
#include "impl/cli/patch.h"
#include "model/builtin.h"
#include "proofs/c_reader.h"

namespace migchan::cli {

namespace {

std::vector<std::string> builtin_names() {
  std::vector<std::string> known;
  for (const table* t : builtin_tables) known.emplace_back(t->name);
  return known;
}

}  // namespace

const table& builtin_named(const std::string& n, const char* what) {
  if (const table* t = find_builtin(n)) return *t;
  throw usage_error("unknown " + std::string(what) + " '" + n + "' (built-in: " + join(builtin_names()) + ")");
}

CLI::Option* add_classifier(CLI::App* sub, std::string& v) {
  v = "reference";
  return sub->add_option("--classifier", v, "a built-in classifier or a C file (default: " + v + ")");
}

classifier_arg resolve_classifier(const std::string& v) {
  classifier_arg out;
  if ((out.t = find_builtin(v))) return out;
  std::error_code ec;
  if (v == "-" || std::filesystem::exists(v, ec)) {
    try {
      const auto in = load_c(v, "", "qemu-10.1");  // as check reads it: a file or a QEMU tree
      out.parsed = std::make_shared<parsed_table>(read_classifier(in.files, *in.base));
    } catch (const c_reader_error& e) {
      throw usage_error(e.what());
    } catch (const patch::patch_error& e) {
      throw usage_error(e.what());
    }
    out.t = &out.parsed->view;
    return out;
  }
  const auto known = builtin_names();
  if (auto c = closest(v, known)) throw usage_error("unknown classifier '" + v + "'; did you mean '" + *c + "'?");
  throw usage_error("unknown classifier '" + v + "': neither a built-in (" + join(known) + ") nor a C file or tree");
}

}  // namespace migchan::cli
