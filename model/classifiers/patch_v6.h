// The channel-discovery patch of the Feb 2025 review (../shared/seed/), as posted:
// `uint8_t channel = CH_MAIN;` then branches that assign on some paths only.
// Every path on which nothing assigns is a row marked implicit_default, so the
// fall-through Fabiano Rosas asked about ("Is it an error, g_assert_not_reached(),
// a fallthrough?") is visible. Posted against the 10.0 tree, so a second main is
// ignored by `if (!mis->from_src_file)` as in 10.0.
#pragma once

#include <array>

#include "model/classifiers/common.h"

namespace migchan::classifiers {

inline constexpr upstream v6{"patch-v6", "migration_ioc_process_incoming"};
inline constexpr upstream v6_peek{"6720c2b3", "migration_channel_read_peek"};

// clang-format off
inline constexpr std::array patch_v6_rules{
//  id                          when                                                             then
  rule{"peek.wait",             {.mm_done = no, .peekable = yes, .magic = of(first_bytes::silent)}, verdict::blocked,
       reads::peek4, "migration_channel_read_peek() waits until 4 bytes arrive",
       "!migration_has_main_and_multifd_channels() && has_feature(READ_MSG_PEEK)", v6_peek},
  rule{"peek.failed",           {.mm_done = no, .peekable = yes, .magic = of(first_bytes::eof)}, verdict::reject,
       reads::peek4, "Failed to peek at channel", "ret != 0", v6_peek},
  rule{"peek.vm_file_magic",    {.mm_done = no, .peekable = yes, .magic = of(first_bytes::vm_file_magic)}, verdict::main,
       reads::peek4, {}, "channel_magic == cpu_to_be32(QEMU_VM_FILE_MAGIC)", v6},
  rule{"peek.multifd_magic",    {.mm_done = no, .peekable = yes, .magic = of(first_bytes::multifd_magic)}, verdict::multifd,
       reads::peek4, {}, "channel_magic == cpu_to_be32(MULTIFD_MAGIC)", v6},
  rule{"peek.postcopy_recovery", {.mm_done = no, .peekable = yes, .has_main = no,
                                 .state = of(mig_status::postcopy_paused)},                      verdict::main,
       reads::peek4, {}, "!mis->from_src_file && mis->state == MIGRATION_STATUS_POSTCOPY_PAUSED", v6},
  rule{"peek.unknown_magic",    {.mm_done = no, .peekable = yes},                                verdict::reject,
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

inline constexpr table patch_v6{
    "patch-v6", "the Feb 2025 refactor as posted for review, implicit CH_MAIN defaults made explicit",
    "../shared/seed/qemu-devel-review-thread.txt", patch_v6_rules, patch_v6_forbids,
    {start_rule::main_and_multifd, all_channels_rule::main_multifd_and_preempt, setup_rule::lenient,
     static_cast<std::uint8_t>(senders_of(sender_gen::early_preempt) | senders_of(sender_gen::postponed_preempt))}};

}  // namespace migchan::classifiers
