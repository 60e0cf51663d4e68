// What QEMU prints for the outcomes decided around the classifier (the listener,
// multifd_recv_initial_packet() and multifd_recv_new_channel(), the setup
// asserts), per version, and the one function that words any step's outcome.
// The rows carry their own texts (rule::text). Proofs, serve, replay and conform
// all word outcomes here, so they cannot disagree.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "model/destination.h"

namespace migchan {

// printf formats as QEMU passes them to error_setg()/error_report(); the
// conversions are filled in order by qemu_format().
struct qemu_texts {
  std::string_view extra_connection;  // socket_accept_incoming_migration(), when every channel is in
  std::string_view multifd_prefix;    // error_propagate_prepend() in multifd_recv_new_channel(): %d registered
  std::string_view multifd_magic;     // %x received, %x expected
  std::string_view multifd_version;   // %u received, %u expected
  std::string_view multifd_uuid;      // %s received, %s expected, %hhd id
  std::string_view multifd_id;        // the id check's text: args id, channels, version, MULTIFD_VERSION
  std::string_view multifd_eof;       // qio_channel_read_all() on a short MultiFDInit_t
  std::string_view socket_reset;      // qio_channel_socket_readv() on ECONNRESET
  std::string_view already_setup;     // %d id; set without the prefix
  std::string_view past_array;        // id == multifd-channels indexing params[N]
  std::string_view multifd_off;       // a multifd channel while multifd_recv_state is NULL
  std::string_view dup_main;          // the assert a second main channel reaches
  std::string_view dup_preempt;       // the assert a second preempt channel reaches
  std::string_view tls_failed;        // migration_tls_incoming_handshake(): only reported
};

namespace texts {

inline constexpr qemu_texts v7_2{
    "socket_accept_incoming_migration: Extra incoming migration connection; ignoring",
    "failed to receive packet via multifd channel %d: ",
    "multifd: received packet magic %x expected %x",
    "multifd: received packet version %u expected %u",
    "multifd: received uuid '%s' and expected uuid '%s' for channel %hhd",
    // migration/multifd.c:228-230 at v7.2.0 prints the version for a bad id (until c77b4085, 9.0).
    "multifd: received channel version %3$u expected %4$u",
    "Unexpected end-of-file before all data were read",
    "Unable to read from socket: Connection reset by peer",
    "multifd: received id '%d' already setup'",
    "params[multifd-channels] read past the array: SIGSEGV, or \"multifd: received id '%d' already setup'\" "
    "from whatever lies there",
    "multifd_recv_new_channel() with multifd off: multifd_recv_state is NULL",
    "Assertion `!mis->from_src_file' failed",
    "Assertion `!mis->postcopy_qemufile_dst' failed",
    "TLS handshake failed: The TLS connection was non-properly terminated.",
};

// c77b4085 (9.0): the id check prints the id; migration/multifd.c:222-224 at v10.0.13.
inline constexpr qemu_texts v9_0 = [] {
  qemu_texts t = v7_2;
  t.multifd_id = "multifd: received channel id %u is greater than number of channels %u";
  return t;
}();

// 11.1: id == multifd-channels is refused too (seen on 11.1.3; the commit is not
// established: an 11.0 development tree still tests `msg.id > ...`).
inline constexpr qemu_texts v11_1 = [] {
  qemu_texts t = v9_0;
  t.multifd_id = "multifd: received channel id %u exceeds channel count %u";
  return t;
}();

}  // namespace texts

// The values a message's conversions take. Runtime callers fill them from the
// bytes they read; the proofs from representative().
struct text_args {
  int registered = 0;         // multifd channels registered so far
  std::uint32_t magic = 0;    // first 4 bytes, big-endian
  std::uint32_t version = 1;  // MultiFDInit_t.version
  std::string uuid = "00000000-0000-0000-0000-000000000000";
  std::string expected_uuid = "00000000-0000-0000-0000-000000000000";
  int id = 0;        // MultiFDInit_t.id
  int channels = 0;  // the destination's multifd-channels
};

// The 4 bytes a first-bytes class stands for, as QEMU reads them.
constexpr std::uint32_t representative_magic(first_bytes m) {
  switch (m) {
    case first_bytes::vm_file_magic: return qemu_vm_file_magic;
    case first_bytes::multifd_magic: return multifd_magic;
    case first_bytes::vm_command: return 0x08000a00U;  // MIG_CMD_RECV_BITMAP
    case first_bytes::ram_page: return 0;              // high half of a be64 page header
    case first_bytes::other: return 0x47455420U;       // "GET "
    default: return 0;
  }
}

text_args representative(const arrival<concrete_domain>& a, const dest_config<concrete_domain>& c,
                         const dest_state<concrete_domain>& before);

// Fills the conversions of a QEMU format (%d %u %x %s %hhd, and %N$u) from args
// given in order as text.
std::string qemu_format(std::string_view fmt, std::initializer_list<std::string> args);

// What QEMU prints for the outcome of one step (empty for a channel taken as
// main, multifd or preempt): the fired row's text, or the surrounding code's.
std::string outcome_text(const table& t, const arrival<concrete_domain>& a, const step_result<concrete_domain>& r,
                         const dest_state<concrete_domain>& before, const text_args& args);

}  // namespace migchan
