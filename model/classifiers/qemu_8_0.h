// QEMU 8.0 to 8.2: 6720c2b3 peeks 4 bytes when multifd is on, postcopy-ram is
// off and the channel is peekable; QEVM means main, any other value multifd.
// Otherwise the 7.2 order rule stays. 5655aab0 moves the start to
// migration_should_start_incoming(). f8c543e8 (8.2) only renames. 8.1 adds one
// refusal (b405dfff: multifd with postcopy), so 8.0 and 8.1-8.2 share the rows.
#pragma once

#include <array>

#include "model/classifiers/common.h"
#include "model/texts.h"

namespace migchan::classifiers {

inline constexpr upstream v80{"6720c2b3", "migration_ioc_process_incoming"};
inline constexpr upstream v80_peek{"6720c2b3", "migration_channel_read_peek"};

// clang-format off
inline constexpr std::array qemu_8_0_rules{
//  id                     when                                                                   then
  rule{"peek.wait",        {.peekable = yes, .magic = of(first_bytes::silent),
                            .multifd = yes, .postcopy_ram = no},                                  verdict::blocked,
       reads::peek4, "migration_channel_read_peek() sleeps 1 ms until 4 bytes arrive",
       "migrate_use_multifd() && !migrate_postcopy_ram() && has_feature(READ_MSG_PEEK)", v80_peek},
  rule{"peek.partial",     {.peekable = yes, .magic = of(first_bytes::partial),
                            .multifd = yes, .postcopy_ram = no},                                  verdict::blocked,
       reads::peek4, "migration_channel_read_peek() sleeps 1 ms and peeks again, forever: 1-3 bytes never become 4",
       "len != buflen", v80_peek},
  // The socket's read already set *errp; error_setg() on it asserts.
  rule{"peek.reset",       {.peekable = yes, .magic = of(first_bytes::reset),
                            .multifd = yes, .postcopy_ram = no},                                  verdict::abort,
       reads::peek4, "Assertion `*errp == NULL' failed (error_setv(), over \"Unable to read from socket\")",
       "len <= 0 && len != QIO_CHANNEL_ERR_BLOCK", v80_peek},
  rule{"peek.failed",      {.peekable = yes, .magic = of(first_bytes::eof),
                            .multifd = yes, .postcopy_ram = no},                                  verdict::reject,
       reads::peek4, "Failed to peek at channel", "len <= 0 && len != QIO_CHANNEL_ERR_BLOCK", v80_peek},
  rule{"peek.vm_file_magic", {.peekable = yes, .magic = of(first_bytes::vm_file_magic),
                            .multifd = yes, .postcopy_ram = no},                                  verdict::main,
       reads::peek4, {}, "channel_magic == cpu_to_be32(QEMU_VM_FILE_MAGIC)", v80},
  rule{"peek.other",       {.peekable = yes, .multifd = yes, .postcopy_ram = no},                 verdict::multifd,
       reads::peek4, {}, "default_channel = false: migrate_use_multifd()", v80},
  rule{"nopeek.first",     {.has_main = no},                                                      verdict::main,
       reads::nothing, {}, "default_channel = !mis->from_src_file", v80},
  rule{"nopeek.multifd",   {.has_main = yes, .multifd = yes},                                     verdict::multifd,
       reads::nothing, {}, "migrate_use_multifd()", v80},
  rule{"nopeek.preempt",   {.has_main = yes, .multifd = no, .postcopy_preempt = yes},             verdict::preempt,
       reads::nothing, {}, "else: assert(migrate_postcopy_preempt())", v80},
  rule{"nopeek.assert",    {.has_main = yes, .multifd = no, .postcopy_preempt = no},              verdict::abort,
       reads::nothing, "Assertion `migration_needs_multiple_sockets()' failed", "else", v80},
};
inline constexpr std::array qemu_8_0_forbids{
  forbid::multifd_single_channel_uri, forbid::preempt_single_channel_uri,
  forbid::no_file_transport, forbid::no_mapped_ram,
};
// clang-format on

// The rows as an array for the runtime, compiled once in model/compiled_tables.cpp.
extern const dispatch_view qemu_8_0_dispatch;

inline constexpr semantics sem_8_0{start_rule::should_start_incoming,
                                   all_channels_rule::multifd_else_preempt,
                                   setup_rule::lenient,
                                   senders_of(sender_gen::early_preempt, sender_gen::postponed_preempt),
                                   id_check::greater,
                                   on_error::report,
                                   false,
                                   &texts::v7_2};

inline constexpr table qemu_8_0{"qemu-8.0",
                                "peek QEVM when multifd && !postcopy-ram && peekable; else order (8.0)",
                                "migration/migration.c @ 6720c2b32725, 5655aab0794b",
                                qemu_8_0_rules,
                                qemu_8_0_forbids,
                                sem_8_0,
                                &qemu_8_0_dispatch};

inline constexpr std::array qemu_8_1_forbids{
    forbid::multifd_single_channel_uri, forbid::preempt_single_channel_uri,
    forbid::no_file_transport,          forbid::no_mapped_ram,
    forbid::postcopy_multifd,
};

inline constexpr table qemu_8_1{"qemu-8.1",
                                "as 8.0, and multifd with postcopy refused (8.1-8.2)",
                                "migration/migration.c @ f8c543e808f2; migration/options.c @ b405dfff",
                                qemu_8_0_rules,
                                qemu_8_1_forbids,
                                sem_8_0,
                                &qemu_8_0_dispatch};

}  // namespace migchan::classifiers
