// QEMU 10.1 and later: 00f3fcef peeks every peekable channel until main and all
// multifd channels are in; a channel after that is the preempt channel. The
// 2026 channel.c form (migration_channel_identify() @ 7d7bf3e6, merge 363a069b)
// classifies identically; it differs in the code around it (the multifd id
// check), so 11.x is a table of its own over the same rows. Verified at
// v10.2.2 migration/migration.c:1012-1098.
#pragma once

#include <array>

#include "model/classifiers/common.h"
#include "model/texts.h"

namespace migchan::classifiers {

inline constexpr upstream v101{"00f3fcef", "migration_ioc_process_incoming"};
inline constexpr upstream v101_peek{"6720c2b3", "migration_channel_read_peek"};

// clang-format off
inline constexpr std::array qemu_10_1_rules{
//  id                          when                                                             then
  rule{"peek.wait",             {.mm_done = no, .peekable = yes, .magic = of(first_bytes::silent)}, verdict::blocked,
       reads::peek4, "migration_channel_read_peek() waits until 4 bytes arrive",
       "!migration_has_main_and_multifd_channels() && has_feature(READ_MSG_PEEK)", v101_peek},
  rule{"peek.partial",          {.mm_done = no, .peekable = yes, .magic = of(first_bytes::partial)}, verdict::blocked,
       reads::peek4, "migration_channel_read_peek() peeks again forever: 1-3 bytes never become 4 (1 ms sleeps; "
       "from 10.2 a busy loop on G_IO_IN)", "len != buflen", v101_peek},
  rule{"peek.reset",            {.mm_done = no, .peekable = yes, .magic = of(first_bytes::reset)}, verdict::reject,
       reads::peek4, "Unable to read from socket: Connection reset by peer", "len < 0", v101_peek},
  rule{"peek.failed",           {.mm_done = no, .peekable = yes, .magic = of(first_bytes::eof)}, verdict::reject,
       reads::peek4, "Failed to peek at channel", "len == 0", v101_peek},
  rule{"peek.vm_file_magic",    {.mm_done = no, .peekable = yes, .magic = of(first_bytes::vm_file_magic)}, verdict::main,
       reads::peek4, {}, "channel_magic == QEMU_VM_FILE_MAGIC", v101},
  rule{"peek.multifd_magic",    {.mm_done = no, .peekable = yes, .magic = of(first_bytes::multifd_magic),
                                 .multifd = yes},                                                verdict::multifd,
       reads::peek4, {}, "channel_magic == MULTIFD_MAGIC", v101},
  rule{"peek.multifd_magic.assert", {.mm_done = no, .peekable = yes, .magic = of(first_bytes::multifd_magic),
                                 .multifd = no},                                                 verdict::abort,
       reads::peek4, "Assertion `migrate_multifd()' failed", "channel_magic == MULTIFD_MAGIC", v101},
  rule{"peek.postcopy_recovery", {.mm_done = no, .peekable = yes, .has_main = no,
                                 .state = of(mig_status::postcopy_paused)},                      verdict::main,
       reads::peek4, {}, "!mis->from_src_file && mis->state == MIGRATION_STATUS_POSTCOPY_PAUSED", v101},
  rule{"peek.unknown_magic",    {.mm_done = no, .peekable = yes},                                verdict::reject,
       reads::peek4, "unknown channel magic: %u", "else", v101},
  rule{"nopeek.multifd",        {.mm_done = no, .peekable = no, .has_main = yes, .multifd = yes}, verdict::multifd,
       reads::nothing, {}, "mis->from_src_file && migrate_multifd()", v101},
  rule{"nopeek.main",           {.mm_done = no, .peekable = no, .has_main = no},                 verdict::main,
       reads::nothing, {}, "!mis->from_src_file", v101},
  rule{"nopeek.no_multifd",     {.mm_done = no, .peekable = no},                                 verdict::reject,
       reads::nothing, "non-peekable channel used without multifd", "else", v101},
  rule{"after_mm.preempt",      {.mm_done = yes, .postcopy_preempt = yes},                       verdict::preempt,
       reads::nothing, {}, "else: assert(migrate_postcopy_preempt())", v101},
  rule{"after_mm.assert",       {.mm_done = yes, .postcopy_preempt = no},                        verdict::abort,
       reads::nothing, "Assertion `migrate_postcopy_preempt()' failed", "else", v101},
};
inline constexpr std::array qemu_10_1_forbids{
  forbid::multifd_single_channel_uri, forbid::preempt_single_channel_uri,
  forbid::mapped_ram_needs_file, forbid::mapped_ram_postcopy, forbid::file_multifd_needs_mapped_ram,
};
// clang-format on

// The rows as an array for the runtime, compiled once in model/compiled_tables.cpp.
extern const dispatch_view qemu_10_1_dispatch;

inline constexpr semantics sem_10_1{start_rule::main_and_multifd,
                                    all_channels_rule::main_multifd_and_preempt,
                                    setup_rule::asserting,
                                    senders_of(sender_gen::early_preempt_multifd_first,
                                               sender_gen::postponed_preempt_multifd_first),
                                    id_check::greater,
                                    on_error::fail_and_exit,
                                    false,
                                    &texts::v9_0};

inline constexpr table qemu_10_1{"qemu-10.1",
                                 "peek until main and all multifd are in, then preempt (10.1-11.0)",
                                 "migration/migration.c @ 00f3fcef1981, e27418861; v10.2.2",
                                 qemu_10_1_rules,
                                 qemu_10_1_forbids,
                                 sem_10_1,
                                 &qemu_10_1_dispatch};

// 11.1: an id equal to multifd-channels is refused ("exceeds channel count"),
// where 10.1-11.0 index params[] one past its end.
inline constexpr table qemu_11_1{"qemu-11.1",
                                 "as 10.1 (channel.c form), with an id equal to multifd-channels refused (11.1)",
                                 "migration/channel.c @ 7d7bf3e60e42; 11.1.3",
                                 qemu_10_1_rules,
                                 qemu_10_1_forbids,
                                 [] {
                                   auto s = sem_10_1;
                                   s.ids = id_check::greater_equal;
                                   s.texts = &texts::v11_1;
                                   return s;
                                 }(),
                                 &qemu_10_1_dispatch};

}  // namespace migchan::classifiers
