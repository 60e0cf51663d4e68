// The sequence properties as Z3 queries. Nothing here restates a rule: the
// symbolic trace is model/destination.h's step() run over smt::domain, the
// property is model/properties.h's violates(), the assumptions are
// model/sender.h's holds(). One multifd event may stand for a run of identical
// channels, so a handful of events covers every arrival order for every N up to
// multifd_channels_max.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/properties.h"
#include "proofs/symbolic.h"

namespace migchan::proofs {

// A concrete counterexample: configurations and the trace, one run per event.
struct counterexample {
  sender_config<cd> src;
  dest_config<cd> dst;
  std::vector<trace_step<cd>> steps;    // the destination's run over the arrivals
  std::vector<trace_step<cd>> natural;  // for order-independent: the natural order's run
  unsigned arrivals = 0;                // channels, runs counted in full
};

struct query_options {
  int max_channels = multifd_channels_max;  // multifd-channels on either side: 1..max
  int events = 6;                           // symbolic events per trace (tests check 6 covers every order for N <= 5)
  std::optional<unsigned> timeout_ms = 20000;
  // Restrict the source's configuration (the destination's too, where they
  // match): capabilities exactly these, and this transport.
  std::optional<std::array<bool, 4>> caps;  // multifd, postcopy-ram, postcopy-preempt, mapped-ram
  std::optional<transport> uri;
};

// Every property of one table as Z3 queries over one symbolic trace, built
// once and asked many times with different properties and assumption sets.
class table_query {
 public:
  table_query(const table& t, const query_options& o = {});
  ~table_query();
  table_query(table_query&&) noexcept;
  table_query(const table_query&) = delete;
  table_query& operator=(const table_query&) = delete;

  // Is there a trace breaking `p` while the assumptions in `assumed` (bit mask
  // over enum assumption) hold? sat: yes; unsat: the property holds.
  smt::result check(property p, unsigned assumed);
  // The same for several assumption sets in one search: unsat iff `p` holds
  // under each of them.
  smt::result check_each(property p, const std::vector<unsigned>& sets);
  // The shortest counterexample under `assumed`: strictly fewer channels than
  // `fewer_than` (0: no bound). nullopt when there is none.
  std::optional<counterexample> shortest(property p, unsigned assumed, unsigned fewer_than = 0);

 private:
  struct impl;
  std::unique_ptr<impl> p_;
};

// One property of one table.
class query {
 public:
  query(const table& t, property p, const query_options& o = {});
  smt::result check(unsigned assumed) { return q_.check(p_, assumed); }
  std::optional<counterexample> shortest(unsigned assumed, unsigned fewer_than = 0) {
    return q_.shortest(p_, assumed, fewer_than);
  }

 private:
  table_query q_;
  property p_;
};

struct check_result {
  smt::result verdict;                  // unsat: the property holds under `assumed`
  std::vector<unsigned> minimal_sets;   // minimal assumption sets (bit masks) under which it holds
  std::optional<counterexample> trace;  // shortest counterexample under `assumed`, if refuted
};

// Z3 alone: checks `p` for table `t` under `assumed`; with `minimal_sets`, also
// searches every subset of the assumptions for the minimal ones.
check_result check(const table& t, property p, unsigned assumed, bool minimal_sets, const query_options& o = {});

// Expand a counterexample's runs into one arrival per channel.
std::vector<arrival<cd>> expand(const std::vector<trace_step<cd>>& steps);

}  // namespace migchan::proofs
