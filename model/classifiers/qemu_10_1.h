// QEMU 10.1 and later: 00f3fcef peeks every peekable channel until main and all
// multifd channels are in; a channel after that is the preempt channel. The
// 2026 channel.c form (migration_channel_identify() @ 7d7bf3e6, merge 363a069b)
// classifies identically, so this table covers it too.
#pragma once

#include <array>

#include "model/classifiers/common.h"

namespace migchan::classifiers {

inline constexpr upstream v101{"00f3fcef", "migration_ioc_process_incoming"};
inline constexpr upstream v101_peek{"6720c2b3", "migration_channel_read_peek"};

// clang-format off
inline constexpr std::array qemu_10_1_rules{
//  id                          when                                                             then
  rule{"peek.wait",             {.mm_done = no, .peekable = yes, .magic = of(first_bytes::silent)}, verdict::blocked,
       reads::peek4, "migration_channel_read_peek() waits until 4 bytes arrive",
       "!migration_has_main_and_multifd_channels() && has_feature(READ_MSG_PEEK)", v101_peek},
  rule{"peek.failed",           {.mm_done = no, .peekable = yes, .magic = of(first_bytes::eof)}, verdict::reject,
       reads::peek4, "Failed to peek at channel", "ret != 0", v101_peek},
  rule{"peek.vm_file_magic",    {.mm_done = no, .peekable = yes, .magic = of(first_bytes::vm_file_magic)}, verdict::main,
       reads::peek4, {}, "channel_magic == QEMU_VM_FILE_MAGIC", v101},
  rule{"peek.multifd_magic",    {.mm_done = no, .peekable = yes, .magic = of(first_bytes::multifd_magic),
                                 .multifd = yes},                                                verdict::multifd,
       reads::peek4, {}, "channel_magic == MULTIFD_MAGIC", v101},
  rule{"peek.multifd_magic.assert", {.mm_done = no, .peekable = yes, .magic = of(first_bytes::multifd_magic),
                                 .multifd = no},                                                 verdict::abort,
       reads::peek4, "assert(migrate_multifd())", "channel_magic == MULTIFD_MAGIC", v101},
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
       reads::nothing, "assert(migrate_postcopy_preempt())", "else", v101},
};
inline constexpr std::array qemu_10_1_forbids{
  forbid::multifd_single_channel_uri, forbid::preempt_single_channel_uri,
  forbid::mapped_ram_needs_file, forbid::mapped_ram_postcopy, forbid::file_multifd_needs_mapped_ram,
};
// clang-format on

inline constexpr table qemu_10_1{
    "qemu-10.1", "peek until main and all multifd are in, then preempt (10.1 and the 2026 channel.c form)",
    "migration/migration.c @ 00f3fcef1981, e27418861; migration/channel.c @ 7d7bf3e60e42",
    qemu_10_1_rules, qemu_10_1_forbids,
    {start_rule::main_and_multifd, all_channels_rule::main_multifd_and_preempt, setup_rule::asserting,
     static_cast<std::uint8_t>(senders_of(sender_gen::early_preempt) | senders_of(sender_gen::postponed_preempt))}};

}  // namespace migchan::classifiers
