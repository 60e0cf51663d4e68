// A real source into a real destination: socket, TLS or file:, switched to postcopy, paused
// and recovered, or cancelled, as the scenario says.
#include "impl/conform/conform_run.h"
#include "impl/qemu/temp_dir.h"
#include "impl/qemu/tls.h"

namespace migchan::conform::detail {

namespace {

// Slow enough that migrate-start-postcopy, migrate-pause and migrate_cancel land while RAM is
// still being sent; fast enough to end in a few hundred ms.
constexpr long long slow = 1LL << 20;
constexpr long long fast = 1LL << 33;
// Postcopy's own limit while waiting to pause; lifted for the resumed run.
constexpr long long postcopy_trickle = 50000;
// A source connects every channel right after `migrate` (main first, the rest within a few
// ms); a destination that will do nothing more is watched this long beyond that.
constexpr millis channels_connected{100};

// The first phase of a recovery: postcopy running, then paused on both sides; then the
// destination listens again and the source resumes into it.
void pause_and_resume(qemu::qemu_vm& src, qemu::qemu_vm& dst) {
  // The destination too: paused before it loaded the postcopy package, it fails instead.
  src.wait_for_status({"postcopy-active"}, end_deadline);
  dst.wait_for_status({"postcopy-active"}, end_deadline);
  src.migrate_pause();
  src.wait_for_status({"postcopy-paused"}, end_deadline);
  dst.wait_for_status({"postcopy-paused"}, end_deadline);
  const auto again = dst.unix_uri("recover.sock");
  dst.migrate_recover(again);
  src.set_parameters({{"max-postcopy-bandwidth", 0}});
  src.migrate_resume(again);
}

}  // namespace

observed run_real(const options&, const target& t, const scenario& s, const expectation& e, nlohmann::json& details) {
  observed o;
  qemu::temp_dir dir("migchan-conform-");
  if (s.transport == transport::tls) qemu::write_psk_keys(dir.path() / "tls");
  auto dst = start_vm(t, s, side::destination, dir.path() / "tls");
  auto src = start_vm(t, s, side::source, dir.path() / "tls");
  const auto file = dir.path() / "mig.file";
  // What QEMU (or the harness, for what the binary lacks) refuses comes before any channel.
  try {
    configure(*dst, s, s.channels);
    configure(*src, s, s.source_channels.value_or(s.channels));
    const bool slowly = s.switched || s.recovery || s.cancel;
    src->set_parameters({{"max-bandwidth", slowly ? slow : fast}});
    if (s.recovery) src->set_parameters({{"max-postcopy-bandwidth", postcopy_trickle}});
    if (s.transport == transport::file) {
      src->migrate_to_file(file);
    } else {
      dst->migrate_incoming(s.tcp ? "tcp:127.0.0.1:0" : dst->unix_uri("mig.sock"), incoming_of(s));
      src->migrate(s.tcp ? listening_at(*dst) : dst->unix_uri("mig.sock"));
    }
  } catch (const std::runtime_error& ex) {
    o.refused = ex.what();
    return o;
  }
  try {
    if (s.transport == transport::file) {
      // The destination opens the file itself, once the source has written all of it.
      if (const auto st = source_status(*src, true); st != "completed") {
        o.failure = "the source did not complete its file: " + st;
        return o;
      }
      try {
        dst->migrate_incoming_from_file(file, incoming_of(s));
      } catch (const qemu::unsupported& ex) {
        o.refused = ex.what();  // a destination without file: (7.2) refuses it only now
        return o;
      }
    }
    if (s.switched) src->start_postcopy();
    if (s.recovery) pause_and_resume(*src, *dst);
    if (s.cancel) {
      follow(o, *dst, end_deadline, {"active", "completed", "failed", "cancelled"});
      if (o.destination && o.destination->fate == qemu::vm_fate::alive) src->migrate_cancel();
    }
  } catch (const std::runtime_error& ex) {
    o.failure = ex.what();
  }
  // A source's channels are all connected within a few ms of `migrate`.
  settle_destination(o, *dst, e, channels_connected);
  // The source ends on its own once the destination has completed (or where the scenario says).
  o.source_status = source_status(*src, o.completed || s.source_ends);
  details["destination_events"] = o.destination ? nlohmann::json(o.destination->events) : nlohmann::json::array();
  return o;
}

}  // namespace migchan::conform::detail
