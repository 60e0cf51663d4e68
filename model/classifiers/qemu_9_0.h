// QEMU 9.0 to 10.0: as 8.0, with 2dd7ee7a51 adding !migrate_mapped_ram() to the
// peek guard (file channels are not peeked), and a peek that fails on a reset
// reporting the socket's own error instead of asserting. b405dfff (8.1)
// refuses multifd with postcopy, so the !postcopy_ram term no longer matters.
// 10.0 classifies alike but exits on a channel error (exit-on-error). Verified
// at v10.0.13 migration/migration.c:1002-1071 and migration/channel.c:113-147.
#pragma once

#include <array>

#include "model/classifiers/common.h"
#include "model/texts.h"

namespace migchan::classifiers {

inline constexpr upstream v90{"2dd7ee7a51", "migration_ioc_process_incoming"};
inline constexpr upstream v90_peek{"6720c2b3", "migration_channel_read_peek"};

// clang-format off
inline constexpr std::array qemu_9_0_rules{
//  id                     when                                                                   then
  rule{"peek.wait",        {.peekable = yes, .magic = of(first_bytes::silent),
                            .multifd = yes, .postcopy_ram = no, .mapped_ram = no},                verdict::blocked,
       reads::peek4, "migration_channel_read_peek() sleeps 1 ms until 4 bytes arrive",
       "migrate_multifd() && !migrate_mapped_ram() && !migrate_postcopy_ram() && has_feature(READ_MSG_PEEK)",
       v90_peek},
  rule{"peek.partial",     {.peekable = yes, .magic = of(first_bytes::partial),
                            .multifd = yes, .postcopy_ram = no, .mapped_ram = no},                verdict::blocked,
       reads::peek4, "migration_channel_read_peek() sleeps 1 ms and peeks again, forever: 1-3 bytes never become 4",
       "len != buflen", v90_peek},
  rule{"peek.reset",       {.peekable = yes, .magic = of(first_bytes::reset),
                            .multifd = yes, .postcopy_ram = no, .mapped_ram = no},                verdict::reject,
       reads::peek4, "Unable to read from socket: Connection reset by peer",
       "len < 0 && len != QIO_CHANNEL_ERR_BLOCK", v90_peek},
  rule{"peek.failed",      {.peekable = yes, .magic = of(first_bytes::eof),
                            .multifd = yes, .postcopy_ram = no, .mapped_ram = no},                verdict::reject,
       reads::peek4, "Failed to peek at channel", "len == 0", v90_peek},
  rule{"peek.vm_file_magic", {.peekable = yes, .magic = of(first_bytes::vm_file_magic),
                            .multifd = yes, .postcopy_ram = no, .mapped_ram = no},                verdict::main,
       reads::peek4, {}, "channel_magic == cpu_to_be32(QEMU_VM_FILE_MAGIC)", v90},
  rule{"peek.other",       {.peekable = yes, .multifd = yes, .postcopy_ram = no, .mapped_ram = no}, verdict::multifd,
       reads::peek4, {}, "default_channel = false: migrate_multifd()", v90},
  rule{"nopeek.first",     {.has_main = no},                                                      verdict::main,
       reads::nothing, {}, "default_channel = !mis->from_src_file", v90},
  rule{"nopeek.multifd",   {.has_main = yes, .multifd = yes},                                     verdict::multifd,
       reads::nothing, {}, "migrate_multifd()", v90},
  rule{"nopeek.preempt",   {.has_main = yes, .multifd = no, .postcopy_preempt = yes},             verdict::preempt,
       reads::nothing, {}, "else: assert(migrate_postcopy_preempt())", v90},
  rule{"nopeek.assert",    {.has_main = yes, .multifd = no, .postcopy_preempt = no},              verdict::abort,
       reads::nothing, "Assertion `migration_needs_multiple_sockets()' failed", "else", v90},
};
inline constexpr std::array qemu_9_0_forbids{
  forbid::multifd_single_channel_uri, forbid::preempt_single_channel_uri, forbid::postcopy_multifd,
  forbid::mapped_ram_needs_file, forbid::mapped_ram_postcopy, forbid::file_multifd_needs_mapped_ram,
};
// clang-format on

// The rows as an array for the runtime, compiled once in model/compiled_tables.cpp.
extern const dispatch_view qemu_9_0_dispatch;

inline constexpr semantics sem_9_0{start_rule::should_start_incoming,
                                   all_channels_rule::multifd_else_preempt,
                                   setup_rule::lenient,
                                   senders_of(sender_gen::early_preempt_multifd_first,
                                              sender_gen::postponed_preempt_multifd_first),
                                   id_check::greater,
                                   on_error::report,
                                   false,
                                   &texts::v9_0};

inline constexpr table qemu_9_0{"qemu-9.0",
                                "as 8.1 plus !mapped-ram in the peek guard (9.0-9.2)",
                                "migration/migration.c @ 2dd7ee7a51",
                                qemu_9_0_rules,
                                qemu_9_0_forbids,
                                sem_9_0,
                                &qemu_9_0_dispatch};

// "Fix hang after error in destination setup phase": a channel error fails the
// migration and exits unless migrate-incoming's exit-on-error is off
// (migration/channel.c:49-55 and migration/migration.c:313 at v10.0.13).
inline constexpr table qemu_10_0{"qemu-10.0",
                                 "as 9.0, and a channel error ends the destination (exit-on-error)",
                                 "migration/migration.c, migration/channel.c @ v10.0.13",
                                 qemu_9_0_rules,
                                 qemu_9_0_forbids,
                                 [] {
                                   auto s = sem_9_0;
                                   s.errors = on_error::fail_and_exit;
                                   return s;
                                 }(),
                                 &qemu_9_0_dispatch};

}  // namespace migchan::classifiers
