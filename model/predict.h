// What the model predicts for a whole run, in the terms a test of a real QEMU
// can observe: the destination's fate, each channel's outcome and the lines it
// prints. conform compares these with real runs; nothing here decides on its
// own: every step is step() of model/destination.h.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "model/sender.h"
#include "model/texts.h"

namespace migchan {

using cd_domain = concrete_domain;

// How a destination ends up after its channels.
enum class fate : std::uint8_t {
  started,  // incoming processing started: with a valid stream the migration completes
  waiting,  // not started and not stuck: it waits for channels that do not come (QMP alive)
  hung,     // its main loop is stuck on a channel (QMP dead)
  exited,   // an error, then exit(EXIT_FAILURE)
  aborted,  // an assertion: SIGABRT
  crashed,  // undefined behaviour: SIGSEGV, or whatever the garbage it read says
  failed,   // an error set the state FAILED; it keeps running (exit-on-error off)
};
template <> struct enum_traits<fate> {
  static constexpr auto names = make_names("started", "waiting", "hung", "exited", "aborted", "crashed", "failed");
  static constexpr std::size_t size = names.size();
};

struct prediction {
  std::vector<trace_step<cd_domain>> steps;
  dest_state<cd_domain> last;
  migchan::fate fate = fate::waiting;
  std::vector<std::string> printed;  // what the destination prints, in order
};

// step() over the arrivals, one channel each (a run of count k is k arrivals).
prediction predict(const table& t, const dest_config<cd_domain>& d, const dest_state<cd_domain>& initial,
                   const std::vector<arrival<cd_domain>>& in);

// The order a source opens its channels: main first (its connect completes
// before any other starts); an early preempt channel right after it
// (postcopy_preempt_setup() before multifd_save_setup(), migration/migration.c:4270
// and :4286 at v7.2.0; x-preempt-pre-7-2 on 8.0+ with a <= 7.2 machine); then
// the multifd channels, ids 0.. in order; a postponed preempt channel last, and
// only if postcopy is switched on. Each channel sends what its kind sends first.
std::vector<arrival<cd_domain>> source_order(const sender_config<cd_domain>& s, const dest_config<cd_domain>& d);

// Every order in which the destination can accept the source's channels. Each
// connect after main's runs in a thread of its own (socket_send_channel_create(),
// migration/socket.c:35, and qio_task_run_in_thread(), io/channel-socket.c:209 at
// v7.2.0), so an early preempt channel, kicked just before the multifd channels, can
// land at any place among them; seen on 7.2 sources. source_order() is the first.
// (The multifd channels race too, but they differ only by id, which matters to
// nothing here while the counts match.)
std::vector<std::vector<arrival<cd_domain>>> source_orders(const sender_config<cd_domain>& s,
                                                           const dest_config<cd_domain>& d);

// The source's channels in its own order, with a postponed preempt channel
// dropped when the destination never started (the source waits for a PONG).
prediction predict_source(const table& t, const sender_config<cd_domain>& s, const dest_config<cd_domain>& d);
// The same for every order of source_orders(), in that order.
std::vector<prediction> predict_sources(const table& t, const sender_config<cd_domain>& s,
                                        const dest_config<cd_domain>& d);

}  // namespace migchan
