// `migchan replay`: a trace's arrivals executed over real sockets. Each channel
// is opened in the trace's order and sends what its kind sends first (a minimal
// main stream, MultiFDInit_t with the right id and uuid, recovery command bytes,
// nothing for a silent preempt channel); then the replayer reports what the peer
// did to each connection.
// The trace it takes is the replay form, model/replay_form.h.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "impl/runtime/receiver.h"
#include "model/replay_form.h"

namespace migchan {

replay_trace load_replay_trace(const std::string& path);  // also "cannot read trace 'x': No such file ..."

// The first bytes a channel sends: main a minimal stream (recovery: RECV_BITMAP for
// "pc.ram"), multifd its MultiFDInit_t as `init` says (`good_id` for a good one,
// judged against `channels`), preempt a zero page of "pc.ram" for ram_page;
// `other` is garbage, `partial` 2 bytes; silent, eof and reset send nothing. The
// main stream names `machine` in its configuration (nullopt: minimal_main_stream()'s
// default); a destination refuses a stream whose machine type is not its own.
// The id a MultiFDInit_t carries for `init`: `good_id` for a good one (and for a bad
// version or uuid), else the id that makes it what it is against `channels`.
int multifd_id_sent(init_packet init, int good_id, int channels);

bytes first_bytes_of(first_bytes magic, init_packet init, const uuid_bytes& uuid, int good_id, int channels,
                     const std::optional<std::string>& machine = std::nullopt);

// One connection of the replay.
struct replay_channel {
  std::size_t arrival = 0;  // index into the trace's arrivals
  channel_kind kind = channel_kind::main;
  first_bytes magic = first_bytes::vm_file_magic;
  init_packet init = init_packet::good;
  std::optional<int> multifd_id;  // the id its MultiFDInit_t carries: good ones 0, 1, ... in order
  bytes first;
  replay_end end = replay_end::stay;
  int gap_ms = 0;  // wait before opening it
};
// Multifd arrivals with count k become k channels. Throws trace_error when the
// trace cannot run over sockets (transport other than socket), or names a
// multifd id past 255.
std::vector<replay_channel> expand(const replay_trace& t, const uuid_bytes& uuid, int default_gap_ms,
                                   const std::optional<std::string>& machine = std::nullopt);

// refused: connect() failed; connect_timeout: it did not complete in time (the
// destination's accept queue is full); not_opened: the replay was interrupted first.
enum class peer_did : std::uint8_t { open, eof, reset, refused, closed_by_us, connect_timeout, not_opened };
std::string_view name(peer_did p);

struct replay_outcome {
  replay_channel ch;
  peer_did did = peer_did::open;
  bool tried = false;            // connect() was started
  std::size_t sent = 0;          // of ch.first; 0 when it never connected
  std::size_t received = 0;      // bytes the peer sent back (MIG_RP_MSG_SHUT is 8)
  bytes received_head;           // the first 16 of them
  double opened = 0, ended = 0;  // seconds since the replay started; ended 0 while open
  std::string error;
};

struct replay_options {
  uri to;
  std::chrono::milliseconds gap{10};     // between connections, unless the arrival says
  std::chrono::milliseconds wait{1000};  // after the last connection, for the peer to act
  uuid_bytes uuid{};
  std::optional<std::string> machine;               // in main's configuration; nullopt: minimal_main_stream()'s
  std::chrono::milliseconds connect_timeout{2000};  // per connection
  int stop_fd = -1;  // readable (an eventfd a signal handler writes): stop, report what there is
};

// Opens every channel in order, each once the one before it is connected, and
// watches them until `wait` after the last one, or until the peer has closed all
// of them, or until stop_fd is readable (*interrupted is then true).
std::vector<replay_outcome> run_replay(const replay_trace& t, const replay_options& o, bool* interrupted = nullptr);
nlohmann::ordered_json to_json(const replay_outcome& r);

// What a replay came to, for its last line. exit: 0 every connection accepted; 1
// one after the first refused or not accepted in time; 2 the first could not
// connect (nothing to replay against: `result` is that one line).
struct replay_summary {
  std::size_t channels = 0, opened = 0, not_accepted = 0;
  std::map<std::string, std::size_t> peer;  // how many ended each way
  bool interrupted = false;
  std::optional<std::string> unreachable;
  int exit = 0;
  std::string result;
};
replay_summary summarize(const std::vector<replay_outcome>& out, bool interrupted);
std::string summary_text(const replay_summary& s);  // "summary: 3 of 3 channels opened: 2 open, 1 reset; ..."
nlohmann::ordered_json to_json(const replay_summary& s);

}  // namespace migchan
