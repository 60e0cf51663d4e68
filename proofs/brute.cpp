#include "proofs/brute.h"

#include <algorithm>

namespace migchan::brute {

bool outcome::refuted(property p, unsigned assumed) const {
  const auto& masks = violating_masks[static_cast<std::size_t>(p)];
  for (unsigned m = 0; m < assumption_sets; ++m)
    if (masks[m] && (m & assumed) == assumed) return true;
  return false;
}

const witness* outcome::shortest_under(property p, unsigned assumed) const {
  const witness* best = nullptr;
  for (unsigned m = 0; m < assumption_sets; ++m) {
    const auto& w = shortest[static_cast<std::size_t>(p)][m];
    if (w && (m & assumed) == assumed && (!best || w->steps.size() < best->steps.size())) best = &*w;
  }
  return best;
}

namespace {

arrival<cd> make(channel_kind k, const sender_config<cd>& s, first_bytes preempt_magic) {
  const first_bytes magic = k == channel_kind::main      ? (s.recovery ? first_bytes::vm_command : first_bytes::vm_file_magic)
                            : k == channel_kind::multifd ? (s.mapped_ram ? first_bytes::other : first_bytes::multifd_magic)
                                                         : preempt_magic;
  return {true, static_cast<int>(k), s.transport, static_cast<int>(magic), 1};
}

}  // namespace

std::vector<std::vector<arrival<cd>>> orders(const sender_config<cd>& s) {
  std::vector<channel_kind> kinds{channel_kind::main};
  if (s.multifd && !s.recovery)
    for (int i = 0; i < s.channels; ++i) kinds.push_back(channel_kind::multifd);
  if (s.postcopy_preempt) kinds.push_back(channel_kind::preempt);
  std::sort(kinds.begin(), kinds.end());
  std::vector<std::vector<arrival<cd>>> out;
  for (auto pm : {first_bytes::silent, first_bytes::ram_page}) {
    auto k = kinds;
    do {
      std::vector<arrival<cd>> seq;
      for (auto c : k) seq.push_back(make(c, s, pm));
      out.push_back(std::move(seq));
    } while (std::next_permutation(k.begin(), k.end()));
    if (!s.postcopy_preempt) break;
  }
  return out;
}

namespace {

// A postponed preempt channel only connects after the destination started; if
// it never starts, the channel never comes.
bool feasible(const table& t, const sender_config<cd>& s, const dest_config<cd>& d, std::vector<trace_step<cd>>& tr) {
  const auto final_state = run<cd>(t, d, initial_state<cd>(s, d), tr);
  return sender_can_produce<cd>(s, tr, final_state);
}

unsigned holds_mask(const sender_config<cd>& s, const dest_config<cd>& d, std::span<const trace_step<cd>> tr) {
  unsigned m = 0;
  for (std::size_t a = 0; a < assumption_count; ++a)
    if (holds<cd>(static_cast<assumption>(a), s, d, tr)) m |= 1u << a;
  return m;
}

}  // namespace

void visit(const table& t, int max_channels, visitor f, void* ctx) {
  for (unsigned caps = 0; caps < 16; ++caps)
    for (int tp = 0; tp < static_cast<int>(enum_size<transport>); ++tp)
      for (int n = 1; n <= max_channels; ++n)
        for (int gen = 0; gen < static_cast<int>(sender_gen_count); ++gen)
          for (int rec = 0; rec < 2; ++rec) {
            sender_config<cd> s{bool(caps & 1), bool(caps & 2), bool(caps & 4), bool(caps & 8), tp, n, gen, rec == 1};
            if (!sender_ok<cd>(t, s)) continue;
            if (!s.multifd && n > 1) continue;  // the channel count only matters with multifd
            const auto seqs = orders(s);
            for (unsigned dcaps = 0; dcaps < 16; ++dcaps)
              for (int dn = 1; dn <= max_channels; ++dn) {
                dest_config<cd> d{bool(dcaps & 1), bool(dcaps & 2), bool(dcaps & 4), bool(dcaps & 8), dn};
                if (!dest_ok<cd>(t, d, tp) || (!d.multifd && dn > 1)) continue;
                if ((s.recovery && !d.postcopy_ram) || !pair_possible<cd>(s, d)) continue;
                const bool match = same_caps<cd>(s, d);
                std::vector<std::vector<trace_step<cd>>> feasible_traces;
                for (const auto& seq : seqs) {
                  std::vector<trace_step<cd>> tr(seq.size());
                  for (std::size_t i = 0; i < seq.size(); ++i) tr[i].in = seq[i];
                  if (!feasible(t, s, d, tr)) {
                    // A postponed preempt placed last but never let in: the
                    // destination never started, so the channel never comes.
                    if (tr.back().in.kind != static_cast<int>(channel_kind::preempt)) continue;
                    tr.pop_back();
                    if (!feasible(t, s, d, tr)) continue;
                  }
                  feasible_traces.push_back(std::move(tr));
                }
                const std::vector<trace_step<cd>>* natural = nullptr;
                if (match)
                  for (const auto& tr : feasible_traces)
                    if (natural_order<cd>(tr)) { natural = &tr; break; }
                for (const auto& tr : feasible_traces)
                  f(ctx, s, d, tr, natural ? std::span<const trace_step<cd>>(*natural) : std::span<const trace_step<cd>>{},
                    holds_mask(s, d, tr));
              }
          }
}

outcome enumerate(const table& t, int max_channels) {
  outcome out;
  visit(t, max_channels, [](void* ctx, const sender_config<cd>& s, const dest_config<cd>& d,
                            std::span<const trace_step<cd>> tr, std::span<const trace_step<cd>> natural, unsigned hm) {
    auto& o = *static_cast<outcome*>(ctx);
    ++o.traces;
    const bool match = same_caps<cd>(s, d);
    const auto fin = tr.empty() ? initial_state<cd>(s, d) : tr.back().out.next;
    for (std::size_t p = 0; p < property_count; ++p) {
      const auto prop = static_cast<property>(p);
      if ((about_mismatch(prop) && match) || (about_match(prop) && !match)) continue;
      if (prop == property::order_independent && natural.empty()) continue;
      if (!violates<cd>(prop, s, d, tr, fin, natural)) continue;
      // configs-match says nothing about mismatch-rejected: treat it as held.
      const unsigned m = about_mismatch(prop) ? hm | 1u << static_cast<unsigned>(assumption::configs_match) : hm;
      o.violating_masks[p].set(m);
      auto& w = o.shortest[p][m];
      if (!w || tr.size() < w->steps.size())
        w = witness{s, d, {tr.begin(), tr.end()}, {natural.begin(), natural.end()}};
    }
  }, &out);
  return out;
}

}  // namespace migchan::brute
