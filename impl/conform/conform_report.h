// How `migchan conform` shows its results: a few lines per scenario as it finishes, one JSON
// object per scenario, and the versions x scenarios table of docs/fidelity.md.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "impl/conform/conform.h"

namespace migchan::conform {

void print_text(std::ostream& out, const result& r);
// "40 agree, 5 refused by the model and by QEMU, 0 disagree"
std::string totals(const std::vector<result>& all);
nlohmann::json summary_json(const std::vector<result>& all);

// docs/fidelity.md: one row per scenario, one column per target, in the order they ran. A
// cell is the verdict and the model's fate, "refused", or "-" where the scenario does not run.
std::string fidelity_markdown(const std::vector<target>& targets, const std::vector<result>& all);

}  // namespace migchan::conform
