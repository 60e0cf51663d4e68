// A counterexample for people (text), for trace tools (ITF, Apalache ADR-015)
// and for the runtime (`migchan replay`'s replay form).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "proofs/encode.h"
#include "model/replay_form.h"
#include "proofs/itf.h"

namespace migchan::proofs {

// The row a step names in every form of a trace (text, ITF, replay): the one the
// classifier picked, whenever the classifier ran on the channel, also when the
// code after it decided the outcome (multifd_recv_initial_packet(), the setup
// asserts); none when the code before it did (the listener's drop, a TLS
// handshake, a destination already out of service) or no row matched.
std::optional<int> named_rule(const table& t, const trace_step<cd>& st);

// What happened to one channel, in QEMU's words: the rule's error text or
// assert, or what the code around the classifier said.
std::string explain(const table& t, const dest_config<cd>& d, const trace_step<cd>& st);

// "1. multifd socket multifd_magic ..." lines, the property broken, the
// configurations and the assumptions the trace satisfies.
std::string format_text(const table& t, property p, unsigned assumed, const counterexample& cx);

// What the counterexample means in QEMU terms: the step that breaks the
// property, the C condition and commit of the rule that fired there.
std::string meaning(const table& t, property p, const counterexample& cx);

// `source`: the command that found it, "migchan verify" or "migchan check" (#meta.source).
itf::trace to_itf(const table& t, property p, unsigned assumed, const counterexample& cx, std::string_view source);

// The trace in the replay form (model/replay_form.h), `migchan replay`'s input, each
// arrival expecting what the model decided.
replay_trace to_replay(const table& t, property p, const counterexample& cx);

std::string describe(const sender_config<cd>& s);
std::string describe(const dest_config<cd>& d);
std::string assumption_list(unsigned mask);  // "{a, b}" or "{}"

}  // namespace migchan::proofs
