// Synthesis: is there ANY classifier over what the destination observes that
// makes a set of properties hold under a set of named assumptions?
//
// The space: a decision for each observation (every combination of the guard
// columns: the destination's capabilities, the channel's transport, what it
// has already classified, its state and, where the transport lets it see them,
// the channel's first bytes), run through model/destination.h's step() with a
// base table's surroundings (start, setup and error semantics, the sender
// generations, refused configurations). Only decisions a destination can make
// are in it: main, multifd, preempt, reject, drop; defer (park without
// blocking) only for a channel that has not spoken or starts with a page, on a
// transport whose first bytes it sees; blocked only where a read really waits
// (silent or partial first bytes). No decision depends on the first bytes of a
// channel the destination cannot peek (model/check.h's rule).
//
// Counterexample-guided: Z3 proposes decisions, the candidate table is checked
// by the same query `migchan check` runs (proofs/encode.h), and each
// counterexample, a fixed sender behaviour, becomes a constraint on the
// decisions: the behaviour must not break the property under the new table
// (it may also become one the sender cannot produce). When the constraints
// contradict each other, an unsat core names the behaviours that no table
// handles together: the impossibility witness.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "proofs/c_reader.h"
#include "proofs/encode.h"

namespace migchan::proofs {

struct synth_options {
  // The code around the classifier and the configurations it refuses; its rows
  // are the default decisions, kept wherever no counterexample forces a change.
  const table* base = nullptr;
  std::vector<property> props;  // every one must hold
  query_options z3;             // transport, capabilities, multifd-channels, timeout of each Z3 call
  // Hypothetical: the destination sees the first decrypted bytes of a TLS
  // channel after the handshake as it sees a socket's peek (a buffered first read).
  bool tls_first_read = false;
  unsigned max_rounds = 400;  // candidate tables checked per solve()
};

// A fixed sender behaviour: configurations and arrivals (runs of identical
// multifd channels as one arrival), and for order-independent the natural order.
struct behaviour {
  property prop;
  sender_config<cd> src;
  dest_config<cd> dst;
  std::vector<arrival<cd>> in, natural;
  unsigned holds = 0;    // the assumptions it satisfies (bit mask over enum assumption)
  unsigned context = 0;  // the assumptions in force when it was found
};

// One behaviour of an impossibility witness, run through a table that handles
// every other behaviour of the witness: that table breaks it.
struct witness_run {
  behaviour b;
  std::shared_ptr<const parsed_table> table;
  counterexample cx;
  std::vector<observation> seen;  // what the destination observed at each arrival, in order
};

// The observation at which the witness's behaviours need decisions no single
// table can give them all, when there is one.
struct conflict_point {
  observation at;
  bool bytes_seen = false;           // whether the decision may depend on at.magic
  std::vector<std::uint16_t> needs;  // per witness behaviour: verdicts (bit mask) that keep it correct
};

struct synth_result {
  enum class outcome : std::uint8_t { found, impossible, unknown };
  outcome what = outcome::unknown;
  std::shared_ptr<const parsed_table> table;  // found: the base's rows, preceded by the rows that change them
  std::size_t changed_rows = 0;               // found: how many rows precede the base's
  std::vector<witness_run> witness;           // impossible: the smallest conflicting set found
  std::optional<conflict_point> point;
  unsigned rounds = 0;     // candidate tables checked
  std::size_t learnt = 0;  // sender behaviours known to the solver
  double seconds = 0;
  std::string reason;  // unknown: why
};

std::string_view name(synth_result::outcome o);

// One search space; what it learns (sender behaviours) persists between calls,
// so asking under several assumption sets costs little more than asking once.
class synthesizer {
 public:
  explicit synthesizer(const synth_options& o);
  ~synthesizer();
  synthesizer(const synthesizer&) = delete;
  synthesizer& operator=(const synthesizer&) = delete;

  // explain: on impossible, find the witness (costs a few more Z3 calls).
  synth_result solve(unsigned assumed, bool explain = true);
  // One table that keeps the properties under each of the assumption sets
  // `contexts` (each a bit mask), e.g. to ask whether two trade off.
  synth_result solve_all(const std::vector<unsigned>& contexts, bool explain = true);
  const synth_options& options() const;

 private:
  struct impl;
  std::unique_ptr<impl> p_;
};

// Whether a decision may depend on a channel's first bytes on this transport.
bool bytes_seen(transport t, bool tls_first_read);

}  // namespace migchan::proofs
