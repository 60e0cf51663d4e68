// What upstream history says each classifier should prove and refute, checked
// by `migchan verify` (exit 1 on any difference). For each property: the
// minimal sets of named assumptions under which it holds (empty list: it holds
// under no set). Each entry names the evidence.
#pragma once

#include <array>
#include <string_view>

#include "model/properties.h"

namespace migchan {

inline constexpr unsigned no_set = 0xffffu;

constexpr unsigned set() { return 0; }
template <class... A> constexpr unsigned set(assumption a, A... as) {
  return (1u << static_cast<unsigned>(a)) | set(as...);
}

using set_list = std::array<unsigned, 8>;

// Up to eight sets; the rest of the list is padding.
template <class... U> constexpr set_list sets(U... u) {
  set_list l{};
  for (auto& x : l) x = no_set;
  std::size_t i = 0;
  ((l[i++] = u), ...);
  return l;
}

struct expectation {
  std::string_view classifier;
  std::string_view dead_rows;  // comma-separated ids of rows no valid observation reaches
  std::array<set_list, property_count> minimal_sets;
};

namespace expect_detail {
using enum assumption;
constexpr unsigned N = no_set;
constexpr unsigned main_first = set(main_connects_first);
constexpr unsigned main_and_preempt_last = set(main_connects_first, preempt_after_multifd);
constexpr unsigned main_and_exclusive = set(main_connects_first, multifd_excludes_preempt);
constexpr unsigned cm = set(configs_match);
// A silent preempt channel is read before all multifd channels are in: either
// preempt never runs with multifd, or it comes last; and both sides agree
// (a destination with multifd and a source with preempt read it too).
constexpr std::array<unsigned, 2> peek_race{set(multifd_excludes_preempt, configs_match),
                                            set(main_connects_first, preempt_after_multifd, configs_match)};
// 8.1 to 10.0 refuse multifd with postcopy (b405dfff): nothing silent is ever
// peeked while both sides agree; TLS still relies on order.
constexpr std::array<set_list, property_count> like_8_1{
    sets(main_first), sets(cm), sets(cm), sets(main_first), sets(main_first), sets(),
};
// Where only non-peekable channels (TLS, file, fd, exec) can still be read
// as MultiFDInit_t while they stay silent: they decide by order alone.
constexpr set_list silent_only_if_not_peekable =
    sets(set(non_peekable_implies_multifd), set(multifd_excludes_preempt, non_peekable_configs_match),
         set(multifd_excludes_preempt, configs_match),
         set(main_connects_first, preempt_after_multifd, non_peekable_configs_match),
         set(preempt_after_multifd, tls_main_first, non_peekable_configs_match),
         set(main_connects_first, preempt_after_multifd, configs_match),
         set(preempt_after_multifd, tls_main_first, configs_match));
// 10.1 to 11.0 and patch-v6: the preempt race needs one of two order assumptions.
constexpr std::array<set_list, property_count> like_10_1{
    sets(main_first),
    sets(cm),
    sets(set(main_connects_first, preempt_after_multifd, configs_match),
         set(main_connects_first, multifd_excludes_preempt, configs_match)),
    sets(main_and_preempt_last, main_and_exclusive),
    sets(main_and_preempt_last, main_and_exclusive),
    sets(),
};
}  // namespace expect_detail

// Up to 11.0, multifd_recv_initial_packet() tests `msg.id > migrate_multifd_channels()`
// (migration/multifd.c:228 at v7.2.0, :217 at v10.2.2): a source with more
// multifd channels than the destination sends id == multifd-channels, which
// indexes params[] one past its end (SIGSEGV seen on 7.2.22). So no-abort needs
// configs-match in every version but 11.1.
// clang-format off
inline constexpr std::array expectations{
  // 7.2: order only. Misordering breaks it (6720c2b3's message); multifd with
  // preempt reads the silent preempt channel as MultiFDInit, and after a
  // postcopy pause multifd_load_setup() (migration/multifd.c:1164-1181 at
  // v7.2.0) zeroes the multifd count, so the preempt channel that reconnects
  // with main is read as MultiFDInit too; complete never holds because only
  // main reconnects while 7.2 starts only on the Nth multifd channel.
  expectation{"qemu-7.2", "", {{
    /* sound */             sets(expect_detail::main_first),
    /* no-abort */          sets(expect_detail::cm),
    /* no-silent-peek */    sets(expect_detail::peek_race[0]),
    /* complete */          sets(),
    /* order-independent */ sets(expect_detail::main_and_preempt_last, expect_detail::main_and_exclusive),
    /* mismatch-rejected */ sets(),
  }}},
  // 8.0: the peek fixes sockets without postcopy-ram only (6720c2b3: "best
  // effort"); TLS and postcopy-ram still rely on order; multifd+postcopy is
  // still accepted (refused from 8.1, b405dfff), so preempt can race multifd.
  expectation{"qemu-8.0", "", {{
    sets(expect_detail::main_first),
    sets(expect_detail::cm),
    sets(expect_detail::peek_race[0], expect_detail::peek_race[1]),
    sets(expect_detail::main_and_exclusive),
    sets(expect_detail::main_and_preempt_last, expect_detail::main_and_exclusive),
    sets(),
  }}},
  expectation{"qemu-8.1", "", expect_detail::like_8_1},
  // 9.0: mapped-ram file channels come in order; a reset peek no longer asserts (4f8cf323).
  expectation{"qemu-9.0", "", expect_detail::like_8_1},
  // 10.0: a channel error ends the destination, which no property but
  // completeness sees, and a matching source causes none.
  expectation{"qemu-10.0", "", expect_detail::like_8_1},
  // 10.1: multifd with preempt again (e2741886); an early preempt channel
  // (x-preempt-pre-7-2) racing multifd is peeked and blocks: the hidden
  // assumption Fabiano Rosas named in the review of patch-v6.
  expectation{"qemu-10.1", "nopeek.no_multifd", expect_detail::like_10_1},
  // 11.1 refuses id == multifd-channels: what is left to abort is a MultiFDInit_t
  // ahead of main on a destination without multifd (assert(migrate_multifd())).
  expectation{"qemu-11.1", "nopeek.no_multifd", {{
    expect_detail::like_10_1[0],
    sets(expect_detail::main_first, expect_detail::cm),
    expect_detail::like_10_1[2], expect_detail::like_10_1[3], expect_detail::like_10_1[4], expect_detail::like_10_1[5],
  }}},
  // io-watch: a silent peekable channel is watched, not peeked, so the
  // preempt race is gone on sockets; everything else is as in 11.1.
  expectation{"io-watch", "nopeek.unexpected", {{
    expect_detail::like_10_1[0], sets(expect_detail::main_first, expect_detail::cm),
    expect_detail::silent_only_if_not_peekable, expect_detail::like_10_1[3], expect_detail::like_10_1[4],
    expect_detail::like_10_1[5],
  }}},
  // patch-v6 decides like 10.1 on every reachable path; its implicit CH_MAIN
  // defaults are reached only by a first non-peekable channel.
  expectation{"patch-v6", "after_mm.implicit_main", expect_detail::like_10_1},
  // reference: on sockets every property holds with no assumption; only
  // non-peekable channels depend on order or on matching configurations
  // (docs/reference.md).
  expectation{"reference", "", {{
    sets(expect_detail::main_first, set(assumption::tls_main_first)),
    sets(set()),
    expect_detail::silent_only_if_not_peekable,
    sets(expect_detail::main_and_preempt_last, expect_detail::main_and_exclusive,
     set(assumption::preempt_after_multifd, assumption::tls_main_first),
     set(assumption::multifd_excludes_preempt, assumption::tls_main_first),
     set(assumption::main_connects_first, assumption::non_peekable_implies_multifd),
     set(assumption::tls_main_first, assumption::non_peekable_implies_multifd)),
    sets(expect_detail::main_and_preempt_last, expect_detail::main_and_exclusive,
     set(assumption::preempt_after_multifd, assumption::tls_main_first),
     set(assumption::multifd_excludes_preempt, assumption::tls_main_first),
     set(assumption::main_connects_first, assumption::non_peekable_implies_multifd),
     set(assumption::tls_main_first, assumption::non_peekable_implies_multifd)),
    sets(set(assumption::non_peekable_configs_match)),
  }}},
};
// clang-format on

constexpr const expectation* find_expectation(std::string_view classifier) {
  for (const auto& e : expectations)
    if (e.classifier == classifier) return &e;
  return nullptr;
}

}  // namespace migchan
