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

// A channel as the source opens it: its kind and, for multifd, what its
// MultiFDInit_t says to this destination.
struct opened {
  channel_kind kind;
  init_packet init = init_packet::good;
  constexpr auto operator<=>(const opened&) const = default;
};

arrival<cd> make(opened c, const sender_config<cd>& s, const dest_config<cd>& d, first_bytes preempt_magic) {
  const auto k = c.kind;
  // Main's bytes as the source writes them; what the destination sees: set_main_bytes().
  const first_bytes magic = k == channel_kind::main ? first_bytes(main_first_bytes<cd>(s, d, 0, false))
                            : k == channel_kind::multifd
                                ? (s.mapped_ram ? first_bytes::other : first_bytes::multifd_magic)
                                : preempt_magic;
  return {true, static_cast<int>(k), s.transport, static_cast<int>(magic), 1, static_cast<int>(c.init)};
}

}  // namespace

std::vector<std::vector<arrival<cd>>> orders(const sender_config<cd>& s, const dest_config<cd>& d,
                                             first_bytes preempt) {
  std::vector<opened> chans{{channel_kind::main}};
  if (s.multifd && !s.recovery) {
    const auto want = multifd_inits<cd>(s, d);
    for (int i = 0; i < want.good; ++i) chans.push_back({channel_kind::multifd, init_packet::good});
    for (int i = 0; i < want.at_count; ++i) chans.push_back({channel_kind::multifd, init_packet::id_at_count});
    for (int i = 0; i < want.above_count; ++i) chans.push_back({channel_kind::multifd, init_packet::id_above_count});
  }
  if (s.postcopy_preempt) chans.push_back({channel_kind::preempt});
  std::sort(chans.begin(), chans.end());
  std::vector<std::vector<arrival<cd>>> out;
  do {
    std::vector<arrival<cd>> seq;
    for (auto c : chans) seq.push_back(make(c, s, d, preempt));
    out.push_back(std::move(seq));
  } while (std::next_permutation(chans.begin(), chans.end()));
  return out;
}

namespace {

// A postponed preempt channel only connects after the destination started; if
// it never starts, the channel never comes.
bool feasible(const table& t, const sender_config<cd>& s, const dest_config<cd>& d, std::vector<trace_step<cd>>& tr) {
  const auto final_state = run<cd>(t, d, initial_state<cd>(s, d), tr);
  return sender_can_produce<cd>(&t, s, d, tr, final_state);
}

unsigned holds_mask(const sender_config<cd>& s, const dest_config<cd>& d, std::span<const trace_step<cd>> tr) {
  unsigned m = 0;
  for (std::size_t a = 0; a < assumption_count; ++a)
    if (holds<cd>(static_cast<assumption>(a), s, d, tr)) m |= 1u << a;
  return m;
}

}  // namespace

void visit(const table& t, int max_channels, visitor f, void* ctx) {
  // exit-on-error only matters where the version has it.
  const int exit_modes = t.sem.errors == on_error::fail_and_exit ? 2 : 1;
  for (unsigned caps = 0; caps < 16; ++caps)
    for (int tp = 0; tp < static_cast<int>(enum_size<transport>); ++tp)
      for (int n = 1; n <= max_channels; ++n)
        for (int gen = 0; gen < static_cast<int>(sender_gen_count); ++gen)
          for (int rec = 0; rec < 2; ++rec)
            for (int sw = 0; sw < 2; ++sw) {
              sender_config<cd> s{bool(caps & 1), bool(caps & 2), bool(caps & 4), bool(caps & 8), tp, n, gen,
                                  rec == 1,       sw == 1};
              if (!sender_ok<cd>(t, s)) continue;
              if (!s.multifd && n > 1) continue;  // the channel count only matters with multifd
              // Switching only changes when a postponed preempt channel opens.
              if (s.switched && !(s.postcopy_preempt && !preempt_at_start(sender_gen(gen))) && !s.recovery) continue;
              for (unsigned dcaps = 0; dcaps < 16; ++dcaps)
                for (int dn = 1; dn <= max_channels; ++dn)
                  for (int ex = 0; ex < exit_modes; ++ex) {
                    dest_config<cd> d{bool(dcaps & 1), bool(dcaps & 2), bool(dcaps & 4), bool(dcaps & 8), dn, ex == 0};
                    if (!dest_ok<cd>(t, d, tp) || (!d.multifd && dn > 1)) continue;
                    if ((s.recovery && !d.postcopy_ram) || !pair_possible<cd>(s, d)) continue;
                    const bool match = same_caps<cd>(s, d);
                    // The preempt channel sends the same first bytes in every order, the natural one too.
                    for (auto pm : {first_bytes::silent, first_bytes::ram_page}) {
                      if (pm == first_bytes::ram_page && !s.postcopy_preempt) break;
                      std::vector<std::vector<trace_step<cd>>> feasible_traces;
                      for (auto seq : orders(s, d, pm)) {
                        set_main_bytes(t, s, d, seq);
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
                          if (natural_order<cd>(tr)) {
                            natural = &tr;
                            break;
                          }
                      for (const auto& tr : feasible_traces)
                        f(ctx, s, d, tr,
                          natural ? std::span<const trace_step<cd>>(*natural) : std::span<const trace_step<cd>>{},
                          holds_mask(s, d, tr));
                    }
                  }
            }
}

outcome enumerate(const table& t, int max_channels) {
  outcome out;
  visit(
      t, max_channels,
      [](void* ctx, const sender_config<cd>& s, const dest_config<cd>& d, std::span<const trace_step<cd>> tr,
         std::span<const trace_step<cd>> natural, unsigned hm) {
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
      },
      &out);
  return out;
}

}  // namespace migchan::brute
