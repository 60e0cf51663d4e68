// A newer migration/channel.c than any release: a peekable channel that
// arrives before main and every multifd channel is not peeked at once but
// watched (a G_IO_IN watch; pending channels are kept in mis->channels_early)
// and classified by its first bytes only once it is readable. A channel still
// pending when main and every multifd channel are in is the preempt channel,
// found by elimination (migration_incoming_detect_preempt_channel()); one that
// arrives after them is the preempt channel at once. Non-peekable channels
// keep the order rule of migration_channel_identify().
//
// Provenance: the file was found in a public code index that could not tie it
// to a repository or commit, and no matching qemu-devel posting was found; it
// is not in any QEMU release. docs/io-watch.md says what it fixes and which
// assumptions remain; `migchan check` reads it from its C (proofs/c_reader.h).
// The code around it is taken to be 11.1's: the id check refuses id ==
// multifd-channels, a channel error exits.
#pragma once

#include <array>

#include "model/classifiers/common.h"
#include "model/classifiers/qemu_10_1.h"
#include "model/texts.h"

namespace migchan::classifiers {

inline constexpr upstream iow_incoming{"unattributed", "migration_channel_process_incoming"};
inline constexpr upstream iow_detect{"unattributed", "migration_incoming_detect_preempt_channel"};
inline constexpr upstream iow_peek{"unattributed", "migration_channel_peek"};
inline constexpr upstream iow_read{"unattributed", "migration_channel_read_peek"};
inline constexpr upstream iow_identify{"unattributed", "migration_channel_identify"};

// clang-format off
inline constexpr std::array io_watch_rules{
//  id                          when                                                             then
  // Still pending once main and every multifd channel are in: decided by elimination.
  rule{"woken.unused",          {.mm_done = yes, .peekable = yes, .magic = of(first_bytes::silent),
                                 .postcopy_preempt = no},                                        verdict::drop,
       reads::nothing, "migration_incoming_detect_preempt_channel: Found %u unused channels",
       "pending when main and multifd are in, postcopy-preempt off: only reported", iow_detect},
  rule{"woken.preempt",         {.mm_done = yes, .peekable = yes, .magic = of(first_bytes::silent),
                                 .postcopy_preempt = yes},                                       verdict::preempt,
       reads::nothing, {}, "the one channel pending when main and multifd are in", iow_detect},
  rule{"after_mm.assert",       {.mm_done = yes, .postcopy_preempt = no},                        verdict::abort,
       reads::nothing, "Assertion `migrate_postcopy_preempt()' failed",
       "migration_has_main_and_multifd_channels() on arrival", iow_incoming},
  rule{"after_mm.preempt",      {.mm_done = yes, .postcopy_preempt = yes},                       verdict::preempt,
       reads::nothing, {}, "migration_has_main_and_multifd_channels() on arrival", iow_incoming},
  // Peekable and early: watched, classified once readable.
  rule{"watch.wait",            {.mm_done = no, .peekable = yes, .magic = of(first_bytes::silent)}, verdict::defer,
       reads::nothing, {}, "G_IO_IN watch: nothing to read yet", iow_incoming},
  rule{"peek.partial",          {.mm_done = no, .peekable = yes, .magic = of(first_bytes::partial)}, verdict::blocked,
       reads::peek4, "migration_channel_read_peek() sleeps 1 ms and peeks again, forever: 1-3 bytes never become 4",
       "readable, fewer than 4 bytes", iow_read},
  rule{"peek.reset",            {.mm_done = no, .peekable = yes, .magic = of(first_bytes::reset)}, verdict::reject,
       reads::peek4, "Unable to read from socket: Connection reset by peer", "readable, then the read fails", iow_read},
  rule{"peek.failed",           {.mm_done = no, .peekable = yes, .magic = of(first_bytes::eof)}, verdict::reject,
       reads::peek4, "Failed to peek at channel", "readable, then end of file", iow_read},
  rule{"peek.vm_file_magic",    {.mm_done = no, .peekable = yes, .magic = of(first_bytes::vm_file_magic)}, verdict::main,
       reads::peek4, {}, "QEMU_VM_FILE_MAGIC", iow_peek},
  rule{"peek.multifd_magic.assert", {.mm_done = no, .peekable = yes, .magic = of(first_bytes::multifd_magic),
                                 .multifd = no},                                                 verdict::abort,
       reads::peek4, "Assertion `migrate_multifd()' failed", "MULTIFD_MAGIC without multifd", iow_peek},
  rule{"peek.multifd_magic",    {.mm_done = no, .peekable = yes, .magic = of(first_bytes::multifd_magic),
                                 .multifd = yes},                                                verdict::multifd,
       reads::peek4, {}, "MULTIFD_MAGIC", iow_peek},
  rule{"peek.postcopy_recovery", {.mm_done = no, .peekable = yes, .has_main = no,
                                 .state = of(mig_status::postcopy_paused)},                      verdict::main,
       reads::peek4, {}, "no main yet and postcopy paused: main reconnecting", iow_peek},
  rule{"peek.unknown_magic",    {.mm_done = no, .peekable = yes},                                verdict::reject,
       reads::peek4, "Unknown channel magic: %u", "any other first bytes", iow_peek},
  // Non-peekable: arrival order.
  rule{"nopeek.main",           {.mm_done = no, .peekable = no, .has_main = no},                 verdict::main,
       reads::nothing, {}, "no main yet", iow_identify},
  rule{"nopeek.multifd",        {.mm_done = no, .peekable = no, .has_main = yes, .multifd = yes}, verdict::multifd,
       reads::nothing, {}, "main in, multifd on", iow_identify},
  // Dead: with main in and multifd off, main and every multifd channel are in.
  rule{"nopeek.unexpected",     {.mm_done = no, .peekable = no},                                 verdict::reject,
       reads::nothing, "Unexpected non-peekable channel observed", "main in, multifd off", iow_identify},
};
// clang-format on

extern const dispatch_view io_watch_dispatch;  // model/compiled_tables.cpp

inline constexpr table io_watch{
    "io-watch",
    "peekable channels classified once readable, preempt found by elimination (unreleased channel.c)",
    "migration/channel.c, unattributed (not in any release)",
    io_watch_rules,
    qemu_10_1_forbids,
    qemu_11_1.sem,
    &io_watch_dispatch};

}  // namespace migchan::classifiers
