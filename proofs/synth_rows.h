// The pieces of proofs/synth.h's search space that are plain data: which
// observation a decision belongs to, which decisions it may take, and how a
// set of decisions becomes readable rows (grouped guards) in front of the
// base table's rows.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "model/classify.h"
#include "proofs/c_reader.h"

namespace migchan::proofs::synth_detail {

// One decision of the space: an observation, its first bytes left out where the
// transport does not show them. Packed into an int for maps and Z3 names.
using key = int;
inline constexpr int any_magic = 15;  // the packed magic of a key whose bytes are not seen

key key_of(const observation& o, bool bytes_seen);
observation observation_of(key k);  // magic: vm_file_magic when unseen
bool magic_unseen(key k);
std::string key_name(key k);  // for Z3 variable names

// Every observation of a configuration `base` accepts: not only valid() ones,
// since step() reaches some the single-arrival checks leave out (a channel
// taken as preempt with postcopy-preempt off sets has_preempt).
std::vector<observation> accepted_observations(const table& base);

// The decisions the space allows for this key (bit mask over enum verdict).
std::uint16_t allowed(key k);

// The base's rows, preceded by rows grouping `decided` where it differs from
// them. `decided` must hold only allowed decisions; observations it leaves out
// keep the base's. Each added row matches only observations the result decides
// as it says, so their order does not matter.
struct built_table {
  std::shared_ptr<const parsed_table> t;
  std::size_t changed_rows = 0;
};
built_table build_table(const table& base, const std::map<key, verdict>& decided, bool tls_first_read,
                        const std::string& name);

// The base's rows with a TLS channel's first bytes read as a socket's peek
// (the hypothetical buffered first read): its rows for peekable channels
// cover TLS too, its rows for the others no longer do.
std::shared_ptr<const parsed_table> first_read_rows(const table& base);

}  // namespace migchan::proofs::synth_detail
