// What the families of scenarios share: their QEMUs, configured as the scenario says, and the
// watch of the destination up to the end the prediction names (every wait has a deadline; a
// hang is found by the probe of impl/qemu/outcome.h, never assumed).
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "impl/conform/conform_observe.h"
#include "impl/qemu/process.h"
#include "impl/qemu/qemu_vm.h"

namespace migchan::conform::detail {

using qemu::millis;

// A migration of these paused 64 MiB VMs ends in 10-500 ms; 5 s means it will not.
inline constexpr millis end_deadline{5000};
// How long a destination that should do nothing more is watched before the probe.
inline constexpr millis quiet{150};
// How long QMP gets to answer the probe: well under 10 ms when the loop runs, but the machine
// may be busy.
inline constexpr millis probe{500};

enum class side { source, destination };

// A VM of the target for one side of the scenario, in its own temp dir; with TLS its PSK
// credentials from `tls_dir`.
std::unique_ptr<qemu::qemu_vm> start_vm(const target& t, const scenario& s, side which,
                                        const std::filesystem::path& tls_dir);
// The scenario's capabilities and multifd-channels (`channels`); throws what QEMU throws.
void configure(qemu::qemu_vm& vm, const scenario& s, int channels);
qemu::incoming_options incoming_of(const scenario& s);

// watch() with a short probe, folded into `o`.
qemu::vm_outcome follow(observed& o, qemu::qemu_vm& vm, millis timeout,
                        std::set<std::string> until = {"completed", "failed", "cancelled"});
// Watches the destination to the end `e` predicts, `stimulus` being how long its channels
// still take to arrive; folds what it sees into `o`.
void settle_destination(observed& o, qemu::qemu_vm& dst, const expectation& e, millis stimulus);
// The source's status: waited for up to the deadline when it should end, else as it is.
std::string source_status(qemu::qemu_vm& src, bool should_end);

// Whether some expected run starts (and so may end on its own).
bool may_start(const expectation& e);

// Where a destination given "tcp:127.0.0.1:0" listens, from query-migrate (QEMU picked the port).
std::string listening_at(qemu::qemu_vm& dst);

// `migchan ARGS...` as a child with stdout captured.
std::unique_ptr<qemu::process> start_migchan(const options& o, std::vector<std::string> args);

observed run_real(const options& o, const target& t, const scenario& s, const expectation& e, nlohmann::json& details);
observed run_serve(const options& o, const target& t, const scenario& s, const expectation& e, nlohmann::json& details);
observed run_replay(const options& o, const target& t, const scenario& s, const expectation& e,
                    nlohmann::json& details);
observed run_proxy(const options& o, const target& t, const scenario& s, const expectation& e, nlohmann::json& details);

}  // namespace migchan::conform::detail
