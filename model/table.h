// A classifier: ordered rules (first match wins, last rule catches all), the
// configurations its QEMU version refuses, and the few version-specific facts
// of the surrounding code that decide what happens after classification.
#pragma once

#include <span>

#include "model/dispatch.h"
#include "model/rule.h"

namespace migchan {

// When incoming processing starts (migration_incoming_process()).
enum class start_rule : std::uint8_t {
  on_last_channel,        // 7.2: first channel without multifd/preempt, Nth multifd, or preempt
  should_start_incoming,  // 8.0-10.0: migration_should_start_incoming(main_channel) (5655aab0)
  main_and_multifd,       // 10.1+: migration_has_main_and_multifd_channels() (00f3fcef)
};

// What the socket listener's migration_has_all_channels() counts.
enum class all_channels_rule : std::uint8_t {
  multifd_else_preempt,      // 7.2-10.0: main, then multifd if on, else preempt if on
  main_multifd_and_preempt,  // 10.1+: main, all multifd and, with preempt, preempt too
};

// A second channel taken as main or preempt: 7.2-10.0 `if (!mis->from_src_file)`
// ignores a second main and a second preempt replaces the first; 00f3fcef turned
// both into assert(!mis->from_src_file) and assert(!mis->postcopy_qemufile_dst).
// patch-v6's dispatch asserted for CH_POSTCOPY only, both
// migrate_postcopy_preempt() and !mis->postcopy_qemufile_dst.
enum class setup_rule : std::uint8_t { lenient, asserting, asserting_preempt };

// Which sender generations a classifier is checked against. Two facts of the
// source vary: when it opens the preempt channel, and whether main's header waits
// for the multifd channels. From 9.0, multifd_send_setup() waits until every
// multifd connect has finished (the channels_created semaphore, "migration/multifd:
// Wait for multifd channels creation before proceeding") and only then does
// migration_thread() write main's header (migration/multifd.c:972-979 and
// migration/migration.c:3770-3775 at v10.2.2); 7.2 to 8.2 write it at once.
enum class sender_gen : std::uint8_t {
  early_preempt,                // 7.2 (and 8.x with x-preempt-pre-7-2): preempt opened at migration start
  postponed_preempt,            // 8.x (5655aab0): preempt opened after the first PONG, recovery after resume prepare
  early_preempt_multifd_first,  // 9.0+ with x-preempt-pre-7-2
  postponed_preempt_multifd_first,  // 9.0+
};
inline constexpr std::size_t sender_gen_count = 4;
template <> struct enum_traits<sender_gen> {
  static constexpr auto names = make_names("early-preempt", "postponed-preempt", "early-preempt-multifd-first",
                                           "postponed-preempt-multifd-first");
  static constexpr std::size_t size = names.size();
};
constexpr bool preempt_at_start(sender_gen g) {
  return g == sender_gen::early_preempt || g == sender_gen::early_preempt_multifd_first;
}
constexpr bool multifd_first(sender_gen g) {
  return g == sender_gen::early_preempt_multifd_first || g == sender_gen::postponed_preempt_multifd_first;
}

// multifd_recv_initial_packet()'s id check: `msg.id > migrate_multifd_channels()`
// lets id == N through to params[N], one past the array (7.2 to 10.2);
// 11.x refuses it ("exceeds channel count").
enum class id_check : std::uint8_t { greater, greater_equal };

// What the destination does after reporting a channel error (migration_channel_process_incoming()).
enum class on_error : std::uint8_t {
  report,         // 7.2-9.x: error_report_err() only; the destination carries on
  fail_and_exit,  // 10.0+: state FAILED, then exit(EXIT_FAILURE) unless exit-on-error is off
};

struct qemu_texts;

struct semantics {
  start_rule start;
  all_channels_rule all_channels;
  setup_rule setup;
  std::uint8_t senders;  // bit set of sender_gen
  id_check ids = id_check::greater;
  on_error errors = on_error::report;
  // 7.2's multifd_load_setup() allocates a new multifd_recv_state whenever a main
  // channel is set up, so a main reconnecting for postcopy recovery zeroes the count.
  bool main_resets_multifd = false;
  const qemu_texts* texts = nullptr;  // the version's messages (model/texts.h)
  // patch-v6 dispatches CH_MULTIFD only `if (migrate_multifd())`: with multifd
  // off the channel is dropped, where the others reach a NULL multifd_recv_state.
  bool multifd_off_dropped = false;
};

// Whether step() treats two tables' surroundings alike (texts aside).
constexpr bool same_steps(const semantics& a, const semantics& b) {
  return a.start == b.start && a.all_channels == b.all_channels && a.setup == b.setup && a.senders == b.senders &&
         a.ids == b.ids && a.errors == b.errors && a.main_resets_multifd == b.main_resets_multifd &&
         a.multifd_off_dropped == b.multifd_off_dropped;
}

template <class... G> constexpr std::uint8_t senders_of(G... g) {
  return static_cast<std::uint8_t>(((1u << static_cast<unsigned>(g)) | ...));
}

struct table {
  std::string_view name;     // "qemu-10.1"
  std::string_view summary;  // one line
  std::string_view source;   // upstream file @ commit the rows were read from
  std::span<const rule> rules;
  std::span<const config_rule> forbids;
  semantics sem;
  const dispatch_view* compiled = nullptr;  // the rows as an array (model/compiled.h), for the runtime
};

}  // namespace migchan
