// The symbolic setup every sequence query shares (verify, check, diff):
// configuration variables and the constraints QEMU puts on them, symbolic
// arrivals run through model/destination.h's step(), and the concrete replay
// of what Z3 found. Nothing here restates a rule.
#pragma once

#include <string>
#include <vector>

#include "model/properties.h"
#include "proofs/smt.h"

namespace migchan::proofs {

using S = smt::domain;
using cd = concrete_domain;

sender_config<S> sender_vars(const std::string& prefix);
dest_config<S> dest_vars(const std::string& prefix);
// The destination configured as the source is (exit-on-error stays its own).
dest_config<S> dest_like(const sender_config<S>& s, const std::string& prefix);

// The configurations every table in `tables` accepts, with 1..max_channels
// multifd channels (fixed at 1 without multifd, as the oracle does), a recovery
// only into postcopy, and only pairs that can meet; `mismatch`: the two differ.
void constrain_configs(smt::solver& z, std::initializer_list<const table*> tables, const sender_config<S>& src,
                       const dest_config<S>& dst, int max_channels, bool mismatch);

// `events` symbolic runs of channels over the source's transport.
std::vector<arrival<S>> arrival_vars(int events, const sender_config<S>& src, const std::string& prefix);

// step() over the arrivals; each state and verdict gets a named variable so Z3
// sees small definitions instead of one term as deep as the trace.
std::vector<trace_step<S>> run_symbolic(smt::solver& z, const table& t, const dest_config<S>& d,
                                        const dest_state<S>& init, const std::vector<arrival<S>>& in,
                                        const std::string& prefix, dest_state<S>& final_state);
// A variable `name` defined as e; a constant stays itself, as a name would only
// hide from the folding in smt.h a value already known.
smt::expr name_term(smt::solver& z, const smt::expr& e, const std::string& name);
// Each field of s through name_term, named prefix + the field.
dest_state<S> name_state(smt::solver& z, const dest_state<S>& s, const std::string& prefix);

// The total number of channels the arrivals carry.
smt::expr channels_of(const std::vector<arrival<S>>& in);

sender_config<cd> read_config(const smt::solver& z, const sender_config<S>& s);
dest_config<cd> read_config(const smt::solver& z, const dest_config<S>& d);
// The present arrivals of a model, as concrete steps not yet run.
std::vector<trace_step<cd>> read_arrivals(const smt::solver& z, const std::vector<arrival<S>>& in, int transport);

}  // namespace migchan::proofs
