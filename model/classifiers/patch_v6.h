// The channel discovery of "migration: enable multifd and postcopy together"
// (v6 2/4, Prasad Pandit, 15 Feb 2025, <20250215123119.814345-3-ppandit@redhat.com>),
// the version Fabiano Rosas reviewed: `uint8_t channel = CH_MAIN;` then branches
// that assign on some paths only. Every path on which nothing assigns is a row
// marked implicit_default, so the fall-through he asked about ("Is it an error,
// g_assert_not_reached(), a fallthrough?") is visible. An unknown magic is only
// error_report()ed: the channel is dropped and nothing fails. The dispatch half
// takes a multifd channel only `if (migrate_multifd())` and asserts
// migrate_postcopy_preempt() and !mis->postcopy_qemufile_dst for a preempt
// one; a second main is ignored by 10.0's `if (!mis->from_src_file)`.
#pragma once

#include <array>

#include "model/classifiers/common.h"
#include "model/texts.h"

namespace migchan::classifiers {

inline constexpr upstream v6{"patch-v6", "migration_ioc_process_incoming"};
inline constexpr upstream v6_peek{"6720c2b3", "migration_channel_read_peek"};

// clang-format off
inline constexpr std::array patch_v6_rules{
//  id                          when                                                             then
  rule{"peek.wait",             {.mm_done = no, .peekable = yes, .magic = of(first_bytes::silent)}, verdict::blocked,
       reads::peek4, "migration_channel_read_peek() waits until 4 bytes arrive",
       "!migration_has_main_and_multifd_channels() && has_feature(READ_MSG_PEEK)", v6_peek},
  rule{"peek.partial",          {.mm_done = no, .peekable = yes, .magic = of(first_bytes::partial)}, verdict::blocked,
       reads::peek4, "migration_channel_read_peek() sleeps 1 ms and peeks again, forever: 1-3 bytes never become 4",
       "len != buflen", v6_peek},
  rule{"peek.reset",            {.mm_done = no, .peekable = yes, .magic = of(first_bytes::reset)}, verdict::reject,
       reads::peek4, "Unable to read from socket: Connection reset by peer", "len < 0", v6_peek},
  rule{"peek.failed",           {.mm_done = no, .peekable = yes, .magic = of(first_bytes::eof)}, verdict::reject,
       reads::peek4, "Failed to peek at channel", "len == 0", v6_peek},
  rule{"peek.vm_file_magic",    {.mm_done = no, .peekable = yes, .magic = of(first_bytes::vm_file_magic)}, verdict::main,
       reads::peek4, {}, "channel_magic == cpu_to_be32(QEMU_VM_FILE_MAGIC)", v6},
  rule{"peek.multifd_magic",    {.mm_done = no, .peekable = yes, .magic = of(first_bytes::multifd_magic)}, verdict::multifd,
       reads::peek4, {}, "channel_magic == cpu_to_be32(MULTIFD_MAGIC)", v6},
  rule{"peek.postcopy_recovery", {.mm_done = no, .peekable = yes, .has_main = no,
                                 .state = of(mig_status::postcopy_paused)},                      verdict::main,
       reads::peek4, {}, "!mis->from_src_file && mis->state == MIGRATION_STATUS_POSTCOPY_PAUSED", v6},
  rule{"peek.unknown_magic",    {.mm_done = no, .peekable = yes},                                verdict::drop,
       reads::peek4, "migration_ioc_process_incoming: unknown channel magic: %u", "else: error_report()", v6},
  rule{"nopeek.tls_or_file",    {.mm_done = no, .peekable = no, .transport = of(transport::tls, transport::file),
                                 .has_main = yes},                                               verdict::multifd,
       reads::nothing, {}, "mis->from_src_file && (!strcmp(ioc->name, \"migration-tls-incoming\") || "
                           "!strcmp(ioc->name, \"migration-file-incoming\"))", v6},
  rule{"nopeek.implicit_main",  {.mm_done = no, .peekable = no},                                 verdict::main,
       reads::nothing, {}, "no else: channel = CH_MAIN from the initializer", v6, true},
  rule{"after_mm.preempt",      {.mm_done = yes, .has_main = yes},                               verdict::preempt,
       reads::nothing, {}, "else if (mis->from_src_file)", v6},
  rule{"after_mm.implicit_main", {.mm_done = yes},                                               verdict::main,
       reads::nothing, {}, "no else: channel = CH_MAIN from the initializer", v6, true},
};
inline constexpr std::array patch_v6_forbids{
  forbid::multifd_single_channel_uri, forbid::preempt_single_channel_uri,
  forbid::mapped_ram_needs_file, forbid::mapped_ram_postcopy, forbid::file_multifd_needs_mapped_ram,
};
// clang-format on

// The rows as an array for the runtime, compiled once in model/compiled_tables.cpp.
extern const dispatch_view patch_v6_dispatch;

inline constexpr table patch_v6{
    "patch-v6",
    "the Feb 2025 refactor as posted for review, implicit CH_MAIN defaults made explicit",
    "qemu-devel <20250215123119.814345-3-ppandit@redhat.com>",
    patch_v6_rules,
    patch_v6_forbids,
    {start_rule::main_and_multifd, all_channels_rule::main_multifd_and_preempt, setup_rule::asserting_preempt,
     senders_of(sender_gen::early_preempt_multifd_first, sender_gen::postponed_preempt_multifd_first),
     id_check::greater, on_error::fail_and_exit, false, &texts::v9_0, true},
    &patch_v6_dispatch};

}  // namespace migchan::classifiers
