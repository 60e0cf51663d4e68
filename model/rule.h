// A rule: a guard, a decision, a stable id and the upstream code it encodes.
// The same type serves constexpr built-in tables and tables read at run time
// (whose strings then live in an arena owned beside the table).
#pragma once

#include <string_view>

#include "model/guard.h"

namespace migchan {

struct upstream {
  std::string_view commit;  // e.g. "6720c2b3"
  std::string_view where;   // function or file, e.g. "migration_ioc_process_incoming"
};

struct rule {
  std::string_view id;  // stable, dotted: "peek.multifd_magic"
  guard when;
  verdict then = verdict::reject;
  reads cost = reads::nothing;  // what the classifier read to get here
  std::string_view text = {};   // QEMU's error text, or the assert that fires
  std::string_view c = {};      // the C condition this row stands for
  upstream ref = {};
  bool implicit_default = false;  // no branch assigned: an initializer decided
  std::string_view origin = {};   // file:line for tables read from C
};

// A capability or transport combination QEMU refuses before any channel
// arrives (migrate_caps_check(), migration_channels_and_transport_compatible()).
// Observations matching one are outside the valid space.
struct config_rule {
  std::string_view id;
  guard when;  // only capability and transport columns
  std::string_view text;
  upstream ref;
};

}  // namespace migchan
