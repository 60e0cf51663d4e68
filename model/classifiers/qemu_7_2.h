// QEMU 7.2: migration_ioc_process_incoming() @ 6f39c90b (v7.2.0). Nothing is
// peeked: the first connection is main whatever it carries, every later one is
// multifd when multifd is on, else preempt.
#pragma once

#include <array>

#include "model/classifiers/common.h"
#include "model/texts.h"

namespace migchan::classifiers {

inline constexpr upstream v72{"6f39c90b", "migration_ioc_process_incoming"};

// clang-format off
inline constexpr std::array qemu_7_2_rules{
//  id                  when                                                          then
  rule{"first.main",    {.has_main = no},                                             verdict::main,
       reads::nothing, {}, "!mis->from_src_file", v72},
  rule{"later.multifd", {.has_main = yes, .multifd = yes},                            verdict::multifd,
       reads::nothing, {}, "migrate_use_multifd()", v72},
  rule{"later.preempt", {.has_main = yes, .multifd = no, .postcopy_preempt = yes},    verdict::preempt,
       reads::nothing, {}, "else: assert(migrate_postcopy_preempt())", v72},
  rule{"later.assert",  {.has_main = yes, .multifd = no, .postcopy_preempt = no},     verdict::abort,
       reads::nothing, "Assertion `migration_needs_multiple_sockets()' failed", "else", v72},
};
inline constexpr std::array qemu_7_2_forbids{
  forbid::multifd_single_channel_uri, forbid::preempt_single_channel_uri,
  forbid::no_file_transport, forbid::no_mapped_ram,
};
// clang-format on

// The rows as an array for the runtime, compiled once in model/compiled_tables.cpp.
extern const dispatch_view qemu_7_2_dispatch;

inline constexpr table qemu_7_2{"qemu-7.2",
                                "order only: first connection is main, later ones multifd, else preempt",
                                "migration/migration.c @ 6f39c90b86b9",
                                qemu_7_2_rules,
                                qemu_7_2_forbids,
                                {start_rule::on_last_channel, all_channels_rule::multifd_else_preempt,
                                 setup_rule::lenient, senders_of(sender_gen::early_preempt), id_check::greater,
                                 on_error::report, true, &texts::v7_2},
                                &qemu_7_2_dispatch};

}  // namespace migchan::classifiers
