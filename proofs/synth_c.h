// A table written as a QEMU classifier in C, in the subset proofs/c_reader.h
// reads, so that `migchan check FILE --base BASE` reads it back to a table that
// decides every observation alike:
//
//   void migration_ioc_process_incoming(QIOChannel *ioc, Error **errp)
//   {   ... if/else over migrate_*(), mis->from_src_file, mis->state, ioc->name ...
//       ret = migration_channel_read_peek(...);   only where the first bytes decide
//       ... channel = CH_MAIN; / error_setg(errp, ...); return; ...
//       if (channel == CH_MAIN) { ... }
//   }
//
// The subset has QEMU 10.1's shape: a peek waits on a channel that has not
// sent 4 bytes, and only QEMU_VM_FILE_MAGIC and MULTIFD_MAGIC are told apart
// by value. A table that needs more (parking a silent channel, telling a
// QEMU_VM_COMMAND or a page header from other bytes, blocking without a peek)
// cannot be written in it: write_c() says which observation needs what.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "model/table.h"

namespace migchan::proofs {

struct c_unwritable : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A guard as the condition the C would test; first bytes other than the two
// magics are named by their class.
std::string c_condition(const guard& g);

// `base`: the table whose QEMU version the C will be read against (its peek
// rows say what a failed peek does). Throws c_unwritable.
std::string write_c(const table& t, const table& base, std::string_view base_name);

}  // namespace migchan::proofs
