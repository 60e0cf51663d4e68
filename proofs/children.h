// Work in child processes: each job runs in a process of its own, `workers`
// at a time, and hands back its result as bytes through a pipe. Z3 4.8.12
// crashed with two contexts busy in one process; a fresh process per job also
// keeps every answer independent of scheduling.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace migchan::proofs {

// The results in the order of `jobs`. A job that throws or dies makes this
// throw std::runtime_error naming it by `what(index)`.
std::vector<std::string> run_in_children(const std::vector<std::function<std::string()>>& jobs, unsigned workers,
                                         const std::function<std::string(std::size_t)>& what);

}  // namespace migchan::proofs
