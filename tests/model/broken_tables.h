// Deliberately broken tables that the single-arrival checks must catch: the
// enumeration (tests/model/check_test.cpp) and Z3 (tests/proofs/single_test.cpp)
// are held against the same ones.
#pragma once

#include <array>

#include "model/builtin.h"

namespace migchan::broken {

// 10.1 without its else: a peekable channel with unknown magic matches nothing.
constexpr std::array gap_rules{
    rule{"peek.main", {.mm_done = no, .peekable = yes, .magic = of(first_bytes::vm_file_magic)}, verdict::main},
    rule{"nopeek", {.mm_done = no, .peekable = no}, verdict::main},
    rule{"after_mm", {.mm_done = yes}, verdict::preempt},
};
constexpr table gap{"gap", "", "", gap_rules, {}, classifiers::qemu_10_1.sem};

// A row shadowed by the union of two earlier ones (neither covers it alone),
// a row whose guard no valid observation meets, and an else they leave nothing to.
constexpr std::array dead_rules{
    rule{"has_main", {.has_main = yes}, verdict::multifd},
    rule{"no_main", {.has_main = no}, verdict::main},
    rule{"shadowed", {.peekable = yes}, verdict::reject},
    rule{"preempt_without_ram", {.postcopy_ram = no, .postcopy_preempt = yes}, verdict::preempt},
    rule{"else", {}, verdict::reject},
};
constexpr table dead{"dead", "", "", dead_rules, {}, classifiers::qemu_10_1.sem};

}  // namespace migchan::broken
