// Vocabulary of channel discovery: what a destination can know about an incoming
// channel, and what it can decide. Names follow QEMU's migration/ code.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace migchan {

// What the sender opened the channel as (CH_MAIN / CH_MULTIFD / CH_POSTCOPY).
enum class channel_kind : std::uint8_t { main, multifd, preempt };

// The QIOChannel type the destination sees. Only an accepted socket advertises
// QIO_CHANNEL_FEATURE_READ_MSG_PEEK (io/channel-socket.c @ 84615a19); fd: sockets,
// TLS sessions, files and exec pipes do not.
enum class transport : std::uint8_t { socket, fd, tls, file, exec };

// The first bytes a channel sends on its own, as classes. `silent` means it sends
// nothing until the destination acts (a preempt channel before any page request).
enum class first_bytes : std::uint8_t {
  vm_file_magic,  // "QEVM" 0x5145564d: a main stream
  multifd_magic,  // 0x11223344: MultiFDInit_t
  vm_command,     // 0x08 QEMU_VM_COMMAND: a main channel reconnecting for postcopy recovery
  ram_page,       // be64 RAM page header: preempt after a page request
  silent,         // nothing until the destination acts
  partial,        // 1-3 bytes, then nothing more: a 4-byte peek never completes
  eof,            // the peer closed before sending a byte
  reset,          // the peer reset the connection before sending a byte
  other,          // anything else
};

// What a multifd channel's MultiFDInit_t says, judged against the destination:
// its multifd-channels N, its uuid and the ids it has registered. A source with N
// channels sends ids 0..N-1 once each; a source with more channels than the
// destination sends one id equal to N and the rest above it.
enum class init_packet : std::uint8_t {
  good,            // version 1, the destination's uuid, an id below N not registered yet
  id_at_count,     // id == N: passes `msg.id > migrate_multifd_channels()` (7.2-10.2)
  id_above_count,  // id > N
  id_repeated,     // an id already registered ("already setup")
  bad_version,     // version other than 1
  bad_uuid,        // another VM's uuid
  truncated,       // fewer than 64 bytes, then nothing: the blocking read waits
  truncated_eof,   // fewer than 64 bytes, then the peer closed or reset
};

// MigrationStatus values the destination's classifier can observe.
enum class mig_status : std::uint8_t {
  none,
  setup,
  active,
  postcopy_active,
  postcopy_paused,
  postcopy_recover,
  failed,
  completed,
};

// What the destination does with the channel.
enum class verdict : std::uint8_t {
  main,     // becomes mis->from_src_file
  multifd,  // multifd_recv_new_channel()
  preempt,  // postcopy_preempt_new_channel()
  reject,   // error_setg()/error_report() and return: the channel is not used
  exit,     // an error, then the destination exits (exit-on-error, 10.0+)
  abort,    // a reachable assert(): the destination process dies
  crash,    // undefined behaviour: an access past an array (SIGSEGV, or garbage read)
  drop,     // the listener's "Extra incoming migration connection; ignoring"
  blocked,  // the destination waits on a channel that will not speak
  defer,    // parked without blocking; re-examined when data arrives or state changes
};

// A row decides what the classifier returns; exiting after an error and an
// access past an array are the code around it (model/destination.h step()).
constexpr bool row_verdict(verdict v) { return v != verdict::exit && v != verdict::crash; }

// What deciding cost: nothing, migration_channel_read_peek() of 4 bytes, or 7.2's
// blocking 64-byte MultiFDInit_t read in multifd_recv_initial_packet().
enum class reads : std::uint8_t { nothing, peek4, read64 };

template <class E> struct enum_traits;

template <class... S> constexpr auto make_names(S... s) {
  return std::array<std::string_view, sizeof...(S)>{std::string_view{s}...};
}

#define MIGCHAN_ENUM_NAMES(E, ...)                         \
  template <> struct enum_traits<E> {                      \
    static constexpr auto names = make_names(__VA_ARGS__); \
    static constexpr std::size_t size = names.size();      \
  }

MIGCHAN_ENUM_NAMES(channel_kind, "main", "multifd", "preempt");
MIGCHAN_ENUM_NAMES(transport, "socket", "fd", "tls", "file", "exec");
MIGCHAN_ENUM_NAMES(first_bytes, "vm_file_magic", "multifd_magic", "vm_command", "ram_page", "silent", "partial", "eof",
                   "reset", "other");
MIGCHAN_ENUM_NAMES(init_packet, "good", "id_at_count", "id_above_count", "id_repeated", "bad_version", "bad_uuid",
                   "truncated", "truncated_eof");
MIGCHAN_ENUM_NAMES(mig_status, "none", "setup", "active", "postcopy-active", "postcopy-paused", "postcopy-recover",
                   "failed", "completed");
MIGCHAN_ENUM_NAMES(verdict, "main", "multifd", "preempt", "reject", "exit", "abort", "crash", "drop", "blocked",
                   "defer");
MIGCHAN_ENUM_NAMES(reads, "nothing", "peek4", "read64");
#undef MIGCHAN_ENUM_NAMES

template <class E> constexpr std::size_t enum_size = enum_traits<E>::size;

template <class E> constexpr std::string_view name(E e) { return enum_traits<E>::names[static_cast<std::size_t>(e)]; }

template <class E> constexpr std::optional<E> parse_enum(std::string_view s) {
  for (std::size_t i = 0; i < enum_size<E>; ++i)
    if (enum_traits<E>::names[i] == s) return static_cast<E>(i);
  return std::nullopt;
}

constexpr bool is_peekable(transport t) { return t == transport::socket; }

// Constants of the wire formats (migration/savevm.h, migration/multifd.h).
inline constexpr std::uint32_t qemu_vm_file_magic = 0x5145564dU;
inline constexpr std::uint32_t qemu_vm_file_version = 3;
inline constexpr std::uint8_t qemu_vm_configuration = 0x07;
inline constexpr std::uint8_t qemu_vm_command = 0x08;
inline constexpr std::uint32_t multifd_magic = 0x11223344U;
inline constexpr std::uint32_t multifd_version = 1;
inline constexpr std::size_t multifd_init_size = 64;  // sizeof(MultiFDInit_t)

}  // namespace migchan
