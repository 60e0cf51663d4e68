#include "model/predict.h"

namespace migchan {

namespace {

using cd = cd_domain;

fate fate_of(const dest_state<cd>& s) {
  if (s.exited) return fate::exited;
  if (s.aborted) return fate::aborted;  // refined to crashed by the step that did it
  if (s.stalled) return fate::hung;
  if (s.status == static_cast<int>(mig_status::failed)) return fate::failed;
  return s.starts > 0 ? fate::started : fate::waiting;
}

}  // namespace

prediction predict(const table& t, const dest_config<cd>& d, const dest_state<cd>& initial,
                   const std::vector<arrival<cd>>& in) {
  prediction p;
  auto s = initial;
  bool crashed = false;
  for (const auto& a0 : in)
    for (int k = 0; k < a0.count; ++k) {
      auto a = a0;
      a.count = 1;
      trace_step<cd> st;
      st.in = a;
      st.before = s;
      st.out = step<cd>(t, d, s, a);
      s = st.out.next;
      if (st.out.why != static_cast<int>(cause::behind)) {
        crashed = crashed || st.out.then == static_cast<int>(verdict::crash);
        if (auto text = outcome_text(t, a, st.out, st.before, representative(a, d, st.before)); !text.empty())
          p.printed.push_back(std::move(text));
      }
      p.steps.push_back(st);
    }
  p.last = s;
  p.fate = crashed ? fate::crashed : fate_of(s);
  return p;
}

std::vector<arrival<cd>> source_order(const sender_config<cd>& s, const dest_config<cd>& d) {
  const auto one = [&](channel_kind k, first_bytes m, init_packet i = init_packet::good) {
    return arrival<cd>{true, static_cast<int>(k), s.transport, static_cast<int>(m), 1, static_cast<int>(i)};
  };
  std::vector<arrival<cd>> out;
  // As the source writes them; what the destination sees can depend on it too: predict_order().
  out.push_back(one(channel_kind::main, first_bytes(main_first_bytes<cd>(s, d, 0, false))));
  const bool early = preempt_at_start(static_cast<sender_gen>(s.gen));
  // A preempt channel sends nothing until a page is requested.
  if (s.postcopy_preempt && early) out.push_back(one(channel_kind::preempt, first_bytes::silent));
  if (s.multifd && !s.recovery) {
    const auto want = multifd_inits<cd>(s, d);
    const auto magic = s.mapped_ram ? first_bytes::other : first_bytes::multifd_magic;
    for (int i = 0; i < want.good; ++i) out.push_back(one(channel_kind::multifd, magic));
    if (want.at_count) out.push_back(one(channel_kind::multifd, magic, init_packet::id_at_count));
    for (int i = 0; i < want.above_count; ++i)
      out.push_back(one(channel_kind::multifd, magic, init_packet::id_above_count));
  }
  if (s.postcopy_preempt && !early && s.switched) out.push_back(one(channel_kind::preempt, first_bytes::silent));
  return out;
}

std::vector<std::vector<arrival<cd>>> source_orders(const sender_config<cd>& s, const dest_config<cd>& d) {
  std::vector<std::vector<arrival<cd>>> out{source_order(s, d)};
  const auto first = out.front();
  // An early preempt channel sits right after main in source_order(); move it past each
  // multifd channel in turn.
  if (first.size() < 3 || first[1].kind != static_cast<int>(channel_kind::preempt)) return out;
  for (std::size_t at = 2; at < first.size() && first[at].kind == static_cast<int>(channel_kind::multifd); ++at) {
    auto next = out.back();
    std::swap(next[at - 1], next[at]);
    out.push_back(std::move(next));
  }
  return out;
}

namespace {

prediction predict_order(const table& t, const sender_config<cd>& s, const dest_config<cd>& d,
                         std::vector<arrival<cd>> in) {
  set_main_bytes(t, s, d, in);
  const auto initial = initial_state<cd>(s, d);
  auto p = predict(t, d, initial, in);
  const bool postponed = !preempt_at_start(static_cast<sender_gen>(s.gen));
  if (postponed && !in.empty() && in.back().kind == static_cast<int>(channel_kind::preempt) &&
      p.steps.back().before.starts == 0) {
    in.pop_back();  // the source never got its PONG: no preempt channel
    p = predict(t, d, initial, in);
  }
  return p;
}

}  // namespace

prediction predict_source(const table& t, const sender_config<cd>& s, const dest_config<cd>& d) {
  return predict_order(t, s, d, source_order(s, d));
}

std::vector<prediction> predict_sources(const table& t, const sender_config<cd>& s, const dest_config<cd>& d) {
  std::vector<prediction> out;
  for (auto& order : source_orders(s, d)) out.push_back(predict_order(t, s, d, std::move(order)));
  return out;
}

}  // namespace migchan
