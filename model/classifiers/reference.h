// migchan's own classifier. It decides by what a channel says whenever it can
// see it, never waits on a channel that may stay silent, and falls back to
// arrival order only for channels it cannot peek (TLS, file, fd, exec). Every
// row that depends on order is a named assumption in docs/assumptions.md; see
// docs/reference.md for the design.
#pragma once

#include <array>

#include "model/classifiers/common.h"
#include "model/texts.h"

namespace migchan::classifiers {

inline constexpr upstream ref_own{"migchan", "reference"};

// clang-format off
inline constexpr std::array reference_rules{
//  id                        when                                                                then
  // Peekable channels: the first bytes name the channel.
  rule{"peek.main",           {.peekable = yes, .magic = of(first_bytes::vm_file_magic), .has_main = no}, verdict::main,
       reads::peek4, {}, "magic == QEMU_VM_FILE_MAGIC && !mis->from_src_file", ref_own},
  rule{"peek.main.duplicate", {.peekable = yes, .magic = of(first_bytes::vm_file_magic)},        verdict::reject,
       reads::peek4, "second main channel", "magic == QEMU_VM_FILE_MAGIC", ref_own},
  rule{"peek.multifd",        {.peekable = yes, .magic = of(first_bytes::multifd_magic), .all_multifd = no,
                               .multifd = yes},                                                   verdict::multifd,
       reads::peek4, {}, "magic == MULTIFD_MAGIC && migrate_multifd() && !multifd_recv_all_channels_created()", ref_own},
  rule{"peek.multifd.extra",  {.peekable = yes, .magic = of(first_bytes::multifd_magic), .multifd = yes}, verdict::reject,
       reads::peek4, "more multifd channels than multifd-channels", "magic == MULTIFD_MAGIC && migrate_multifd()", ref_own},
  rule{"peek.multifd.disabled", {.peekable = yes, .magic = of(first_bytes::multifd_magic)},      verdict::reject,
       reads::peek4, "multifd channel but multifd is disabled", "magic == MULTIFD_MAGIC", ref_own},
  rule{"peek.postcopy_recovery", {.peekable = yes, .magic = of(first_bytes::vm_command), .has_main = no,
                               .state = of(mig_status::postcopy_paused)},                         verdict::main,
       reads::peek4, {}, "magic[0] == QEMU_VM_COMMAND && !mis->from_src_file && state == POSTCOPY_PAUSED", ref_own},
  rule{"peek.command.unexpected", {.peekable = yes, .magic = of(first_bytes::vm_command)},        verdict::reject,
       reads::peek4, "QEMU_VM_COMMAND outside postcopy recovery", "magic[0] == QEMU_VM_COMMAND", ref_own},
  // Only the preempt channel stays silent (or starts with a page): wait for
  // data or for main and all multifd, without blocking anyone. Without
  // postcopy-preempt no such channel is legitimate: refuse it at once.
  rule{"peek.preempt.wait",   {.mm_done = no, .peekable = yes, .magic = of(first_bytes::silent, first_bytes::ram_page),
                               .postcopy_preempt = yes},
       verdict::defer, reads::nothing, {}, "no magic yet and postcopy-preempt: watch for G_IO_IN", ref_own},
  rule{"peek.preempt",        {.peekable = yes, .magic = of(first_bytes::silent, first_bytes::ram_page),
                               .has_preempt = no, .postcopy_preempt = yes},                       verdict::preempt,
       reads::nothing, {}, "migration_has_main_and_multifd_channels() && migrate_postcopy_preempt()", ref_own},
  rule{"peek.preempt.unexpected", {.peekable = yes, .magic = of(first_bytes::silent, first_bytes::ram_page)},
       verdict::reject, reads::nothing, "channel without magic but no preempt channel expected", "else", ref_own},
  rule{"peek.eof",            {.peekable = yes, .magic = of(first_bytes::eof, first_bytes::reset)}, verdict::reject,
       reads::peek4, "channel closed before its first bytes", "len <= 0", ref_own},
  // Known only once the watch has waited long enough: what serve's peek timeout does.
  rule{"peek.partial",        {.peekable = yes, .magic = of(first_bytes::partial)},              verdict::reject,
       reads::peek4, "fewer than 4 bytes, and no more", "0 < len < 4, no G_IO_IN since", ref_own},
  rule{"peek.unknown",        {.peekable = yes},                                                 verdict::reject,
       reads::peek4, "unknown channel magic", "else", ref_own},
  // Non-peekable channels: arrival order is all there is.
  rule{"nopeek.main",         {.peekable = no, .has_main = no},                                  verdict::main,
       reads::nothing, {}, "!mis->from_src_file", ref_own},
  rule{"nopeek.multifd",      {.peekable = no, .all_multifd = no, .multifd = yes},               verdict::multifd,
       reads::nothing, {}, "migrate_multifd() && !multifd_recv_all_channels_created()", ref_own},
  rule{"nopeek.preempt",      {.mm_done = yes, .peekable = no, .has_preempt = no, .postcopy_preempt = yes},
       verdict::preempt, reads::nothing, {}, "migrate_postcopy_preempt() && !mis->postcopy_qemufile_dst", ref_own},
  rule{"nopeek.unexpected",   {.peekable = no},                                                  verdict::reject,
       reads::nothing, "non-peekable channel matches no expected channel", "else", ref_own},
};
// clang-format on

// The rows as an array for the runtime, compiled once in model/compiled_tables.cpp.
extern const dispatch_view reference_dispatch;

inline constexpr table reference{
    "reference",
    "migchan's classifier: by content when peekable, never waits on a silent channel",
    "model/classifiers/reference.h",
    reference_rules,
    qemu_10_1_forbids,
    // A refused channel leaves the destination running; ids are checked against
    // the count as 11.x does.
    {start_rule::main_and_multifd, all_channels_rule::main_multifd_and_preempt, setup_rule::asserting,
     senders_of(sender_gen::early_preempt_multifd_first, sender_gen::postponed_preempt_multifd_first),
     id_check::greater_equal, on_error::report, false, &texts::v11_1},
    &reference_dispatch};

}  // namespace migchan::classifiers
