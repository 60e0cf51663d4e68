#include "impl/conform/conform_observe.h"

#include <signal.h>

#include <algorithm>
#include <set>

namespace migchan::conform {

namespace {

// Statuses a destination reaches only once incoming processing started.
const std::set<std::string> started_statuses{"active",           "postcopy-active", "postcopy-paused",
                                             "postcopy-recover", "completed",       "device"};

// The stderr lines that say something, prefix kept, at most `max`.
std::string first_lines(const std::string& text, std::size_t max) {
  std::string out;
  std::size_t n = 0, at = 0;
  while (at < text.size() && n < max) {
    auto eol = text.find('\n', at);
    if (eol == std::string::npos) eol = text.size();
    auto line = text.substr(at, eol - at);
    at = eol + 1;
    if (line.empty() || line.find("warning: ") != std::string::npos) continue;
    out += (n++ ? " | " : "") + line;
  }
  return out;
}

}  // namespace

void note(observed& o, const qemu::vm_outcome& w) {
  for (const auto& e : w.events)
    if (e.value("event", "") == "MIGRATION") {
      const auto st = e["data"].value("status", "");
      o.went_active = o.went_active || started_statuses.count(st) > 0;
      o.completed = o.completed || st == "completed";
    }
  if (w.fate == qemu::vm_fate::alive) {
    o.went_active = o.went_active || started_statuses.count(w.status) > 0;
    o.completed = o.completed || w.status == "completed";
  }
  o.stderr_text = w.stderr_text;
  o.destination = w;
}

std::string observed::text() const {
  if (refused) return "refused: " + *refused;
  std::string out;
  if (failure) out += *failure + "; ";
  if (decisions) {
    out += "serve decided";
    std::string sep = " ";
    for (const auto& d : *decisions) out += sep + d, sep = ",";
    if (serve_state.is_object())
      for (const char* k : {"stalled", "aborted", "exited"})
        if (serve_state.value(k, false)) out += std::string(", ") + k;
  } else if (destination) {
    out += "destination " + destination->describe();
    if (went_active && destination->fate != qemu::vm_fate::alive) out += " after going active";
  }
  if (!source_status.empty()) out += "; source " + source_status;
  if (const auto lines = first_lines(stderr_text, 2); !lines.empty()) out += "; stderr: " + lines;
  return out;
}

namespace {

// Why the run shown differs from one expected run; nullopt when it does not.
std::optional<std::string> differs(const expected_run& e, const observed& o, const scenario& s) {
  if (o.decisions) {  // serve: the model's decisions, and serve's state (serve runs the same step())
    if (*o.decisions != e.decisions) return "serve decided otherwise";
    const auto flag = [&](const char* k) { return o.serve_state.value(k, false); };
    switch (e.fate) {
      case fate::started:
        if (o.source_status != "completed") return "the source did not complete";
        break;
      case fate::hung:
        if (!flag("stalled")) return "serve is not stalled";
        break;
      case fate::exited:
        if (!flag("exited")) return "serve did not exit";
        break;
      case fate::aborted:
      case fate::crashed:
        if (!flag("aborted")) return "serve did not abort";
        break;
      case fate::waiting:
      case fate::failed:
        if (flag("stalled") || flag("aborted") || flag("exited")) return "serve is out of service";
        break;
    }
    return std::nullopt;
  }

  if (!o.destination) return "no destination was watched";
  const auto& d = *o.destination;
  for (const auto& l : e.lines)
    if (o.stderr_text.find(l) == std::string::npos) return "stderr lacks \"" + l + "\"";
  const bool alive = d.fate == qemu::vm_fate::alive;
  switch (e.fate) {
    case fate::started:
      if (!o.went_active) return "the destination never went active";
      if (s.cancel) {
        // A 7.2 source may stay in cancelling for good: the cancel was taken either way.
        if (o.source_status != "cancelled" && o.source_status != "cancelling") return "the source did not cancel";
      } else if (e.main_loads) {
        if (!o.completed) return "the destination did not complete";
        if (s.how != family::replay && o.source_status != "completed") return "the source did not complete";
      }
      break;
    case fate::waiting:
      if (!alive) return "the destination is not alive with QMP";
      if (d.status != "" && d.status != "setup") return "the destination is not waiting in setup";
      break;
    case fate::hung:
      if (d.fate != qemu::vm_fate::blocked && d.fate != qemu::vm_fate::spinning) return "QMP is not dead";
      break;
    case fate::exited:
      if (d.fate != qemu::vm_fate::exited || d.code != 1) return "the destination did not exit with code 1";
      break;
    case fate::aborted:
      if (d.fate != qemu::vm_fate::killed || d.code != SIGABRT) return "the destination was not killed by SIGABRT";
      break;
    case fate::crashed: {
      const bool segv = d.fate == qemu::vm_fate::killed && d.code == SIGSEGV;
      const bool garbage = e.crash_line && o.stderr_text.find(*e.crash_line) != std::string::npos;
      if (!segv && !garbage) return "neither SIGSEGV nor the garbage's line";
      break;
    }
    case fate::failed:
      if (!alive || d.status != "failed") return "the destination is not alive in status failed";
      break;
  }
  return std::nullopt;
}

}  // namespace

judgement judge(const expectation& e, const observed& o, const scenario& s) {
  if (e.refused || o.refused) {
    if (e.refused && o.refused) return {verdict_kind::refused, {}};
    return {verdict_kind::disagree,
            e.refused ? "the model refuses the configuration, QEMU ran it" : "QEMU refused it, the model does not"};
  }
  if (o.failure) return {verdict_kind::disagree, *o.failure};
  std::optional<std::string> first;
  for (const auto& r : e.runs) {
    const auto why = differs(r, o, s);
    if (!why) return {verdict_kind::agree, {}};
    if (!first) first = why;
  }
  return {verdict_kind::disagree, first.value_or("the model predicts nothing")};
}

}  // namespace migchan::conform
