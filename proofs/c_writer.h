// Writes a table as C in QEMU's idiom: a migration/channel.c of our own that
// `migchan check` reads back (proofs/c_reader.h) to a table deciding as the
// original does, with the same surroundings (the id check, what follows a
// channel error, what the listener counts). It covers the built-in forms no
// test can download: 8.0's peek, the 11.x channel.c, patch-v6's implicit
// defaults, the IO watch.
//
//   std::string c = migchan::write_c(migchan::classifiers::qemu_8_0);
//
// Rows become if/else chains, split on mm_done and peekability as QEMU's code
// is; a row's `Assertion `E' failed` text becomes assert(E), beside the row it
// guards when they differ in that one column; implicit-default rows are left
// out, so the initializer decides them; peek rows become the body of
// migration_channel_read_peek(); defer rows a G_IO_IN watch, whose callback
// classifies the channel once readable and decides the channels still pending
// once main and every multifd channel are in.
#pragma once

#include <stdexcept>
#include <string>

#include "model/table.h"

namespace migchan {

// One line naming the row (or the surrounding fact) C cannot express.
class c_writer_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::string write_c(const table& t);

}  // namespace migchan
