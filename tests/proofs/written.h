// C that migchan writes from a built-in table (proofs/c_writer.h), read back
// for the tests that need a classifier in C: the upstream forms no test can
// download, and patch-v6 with the fix its review asked for.
#pragma once

#include <string>
#include <vector>

#include "model/builtin.h"
#include "proofs/c_reader.h"
#include "proofs/c_writer.h"

namespace migchan::testing {

// t written as C under `file`, read back against `base`.
inline parsed_table written(const table& t, const table& base, const std::string& file = "channel.c") {
  return read_classifier(write_c(t), file, base);
}
inline parsed_table written(const table& t) { return written(t, t); }

// patch-v6 as Fabiano Rosas asked: every default written out (`else { channel
// = CH_MAIN; }`) and the `else if (mis->from_src_file)` that is always true
// made a plain `else`.
struct patch_v6_fixed {
  std::vector<rule> rows;
  table view;

  patch_v6_fixed() : view(classifiers::patch_v6) {
    for (rule r : classifiers::patch_v6.rules) {
      if (r.id == "after_mm.implicit_main") continue;
      if (r.id == "after_mm.preempt") r.when.has_main = any;
      r.implicit_default = false;
      rows.push_back(r);
    }
    view.name = "patch-v6-fixed";
    view.rules = rows;
    view.compiled = nullptr;
  }
  patch_v6_fixed(const patch_v6_fixed&) = delete;
  patch_v6_fixed& operator=(const patch_v6_fixed&) = delete;
};

}  // namespace migchan::testing
