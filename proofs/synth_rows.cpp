#include "proofs/synth_rows.h"

#include <algorithm>
#include <array>
#include <vector>

#include "proofs/synth_c.h"
#include "model/sender.h"

namespace migchan::proofs::synth_detail {

namespace {

constexpr std::uint16_t bit(verdict v) { return static_cast<std::uint16_t>(1u << static_cast<unsigned>(v)); }

}  // namespace

// bits 0-6: the booleans in observation order, 7-9 transport, 10-13 state, 14-17 magic.
key key_of(const observation& o, bool bytes_seen) {
  const int b = int(o.multifd) | int(o.postcopy_ram) << 1 | int(o.postcopy_preempt) << 2 | int(o.mapped_ram) << 3 |
                int(o.has_main) << 4 | int(o.all_multifd) << 5 | int(o.has_preempt) << 6;
  return b | static_cast<int>(o.transport) << 7 | static_cast<int>(o.state) << 10 |
         (bytes_seen ? static_cast<int>(o.magic) : any_magic) << 14;
}

bool magic_unseen(key k) { return ((k >> 14) & 15) == any_magic; }

observation observation_of(key k) {
  observation o;
  o.multifd = k & 1, o.postcopy_ram = k & 2, o.postcopy_preempt = k & 4, o.mapped_ram = k & 8;
  o.has_main = k & 16, o.all_multifd = k & 32, o.has_preempt = k & 64;
  o.transport = static_cast<transport>((k >> 7) & 7);
  o.state = static_cast<mig_status>((k >> 10) & 15);
  o.magic = magic_unseen(k) ? first_bytes::vm_file_magic : static_cast<first_bytes>((k >> 14) & 15);
  return o;
}

std::string key_name(key k) { return std::to_string(k); }

std::uint16_t allowed(key k) {
  std::uint16_t m = bit(verdict::main) | bit(verdict::multifd) | bit(verdict::preempt) | bit(verdict::reject) |
                    bit(verdict::drop);
  if (magic_unseen(k)) return m;
  const auto magic = observation_of(k).magic;
  // Parking waits for first bytes or for the other channels without holding
  // anyone up; it only makes sense for a channel that has said nothing that
  // names it (model/destination.h re-examines it as silent).
  if (magic == first_bytes::silent || magic == first_bytes::ram_page) m |= bit(verdict::defer);
  // A read waits only where the bytes do not come.
  if (magic == first_bytes::silent || magic == first_bytes::partial) m |= bit(verdict::blocked);
  return m;
}

std::vector<observation> accepted_observations(const table& base) {
  std::vector<observation> out;
  for_each_raw([&](const observation& o) {
    if (accepted<concrete_domain>(base, o.multifd, o.postcopy_ram, o.postcopy_preempt, o.mapped_ram,
                                  static_cast<int>(o.transport)))
      out.push_back(o);
  });
  return out;
}

namespace {

guard guard_of(key k) {
  const auto o = observation_of(k);
  const auto b = [](bool v) { return v ? yes : no; };
  guard g;
  g.multifd = b(o.multifd), g.postcopy_ram = b(o.postcopy_ram), g.postcopy_preempt = b(o.postcopy_preempt);
  g.mapped_ram = b(o.mapped_ram), g.has_main = b(o.has_main), g.all_multifd = b(o.all_multifd);
  g.has_preempt = b(o.has_preempt);
  g.transport = of(o.transport);
  g.state = of(o.state);
  g.magic = magic_unseen(k) ? any : of(o.magic);
  return g;
}

// Columns differing between two guards, or -1 if more than one does.
int only_difference(const guard& a, const guard& b) {
  int diff = -1;
  for (std::size_t c = 0; c < column_count; ++c) {
    if (a.get(column(c)) == b.get(column(c))) continue;
    if (diff >= 0) return -2;
    diff = static_cast<int>(c);
  }
  return diff;
}

struct cube {
  guard g;
  verdict v;
};

}  // namespace

built_table build_table(const table& base, const std::map<key, verdict>& decided, bool tls_first_read,
                        const std::string& name) {
  const auto seen = [&](transport t) { return is_peekable(t) || (tls_first_read && t == transport::tls); };
  const auto obs = accepted_observations(base);
  std::vector<verdict> dec;
  for (const auto& o : obs) {
    const auto it = decided.find(key_of(o, seen(o.transport)));
    dec.push_back(it != decided.end() ? it->second : classify(base, o).then);
  }
  std::vector<cube> cubes;
  for (const auto& [k, v] : decided)
    if (classify(base, observation_of(k)).then != v) cubes.push_back({guard_of(k), v});

  // Merge two rows of one decision that differ in one column, until none do.
  for (bool merged = true; merged;) {
    merged = false;
    for (std::size_t i = 0; i < cubes.size() && !merged; ++i)
      for (std::size_t j = i + 1; j < cubes.size() && !merged; ++j) {
        if (cubes[i].v != cubes[j].v) continue;
        const int c = only_difference(cubes[i].g, cubes[j].g);
        if (c == -2) continue;
        if (c >= 0) cubes[i].g.set(column(c), static_cast<mask>(cubes[i].g.get(column(c)) | cubes[j].g.get(column(c))));
        cubes.erase(cubes.begin() + static_cast<std::ptrdiff_t>(j));
        merged = true;
      }
  }
  // Widen a column to "any" where every observation it adds is decided alike
  // anyway: the row reads shorter and decides nothing new.
  const auto sound = [&](const cube& q) {
    for (std::size_t i = 0; i < obs.size(); ++i)
      if (dec[i] != q.v && matches<concrete_domain>(q.g, obs[i].generic())) return false;
    if (q.g.is_any(column::magic)) return true;
    for (std::size_t t = 0; t < enum_size<transport>; ++t)  // first bytes only where they are seen
      if (((q.g.get(column::transport) >> t) & 1u) && !seen(static_cast<transport>(t))) return false;
    return true;
  };
  constexpr std::array widen_order{column::mapped_ram, column::postcopy_ram, column::postcopy_preempt, column::multifd,
                                   column::state,      column::has_preempt,  column::all_multifd,      column::has_main,
                                   column::magic,      column::transport};
  for (auto& q : cubes)
    for (const column c : widen_order) {
      if (q.g.is_any(c)) continue;
      cube w = q;
      w.g.set(c, any);
      if (sound(w)) q = w;
    }
  // Drop rows another row of the same decision now covers.
  const auto covers = [](const guard& a, const guard& b) {
    for (std::size_t c = 0; c < column_count; ++c)
      if ((b.get(column(c)) & ~a.get(column(c))) != 0) return false;
    return true;
  };
  std::vector<cube> kept;
  for (std::size_t i = 0; i < cubes.size(); ++i) {
    bool redundant = false;
    for (std::size_t j = 0; j < cubes.size() && !redundant; ++j)
      redundant = j != i && cubes[j].v == cubes[i].v && covers(cubes[j].g, cubes[i].g) &&
                  (!covers(cubes[i].g, cubes[j].g) || j < i);
    if (!redundant) kept.push_back(cubes[i]);
  }
  cubes = std::move(kept);

  auto out = std::make_shared<parsed_table>();
  const auto store = [&](std::string s) -> std::string_view {
    out->arena.push_back(std::move(s));
    return out->arena.back();
  };
  for (std::size_t i = 0; i < cubes.size(); ++i) {
    const auto& q = cubes[i];
    rule r;
    r.id = store("synth." + std::to_string(i + 1));
    r.when = q.g;
    r.then = q.v;
    r.cost = q.g.is_any(column::magic) || q.v == verdict::defer ? reads::nothing : reads::peek4;
    r.text = q.v == verdict::reject || q.v == verdict::drop ? store("refused by the synthesized classifier")
                                                            : std::string_view{};
    r.c = store(c_condition(q.g));
    r.ref = {"migchan", "synth"};
    out->rules.push_back(r);
  }
  for (const auto& r : base.rules) out->rules.push_back(r);
  out->forbids.assign(base.forbids.begin(), base.forbids.end());
  out->function = name;
  out->view =
      table{store(name),
            store(std::string(base.name) + "'s rows" + (tls_first_read ? " (TLS read as a socket's peek)" : "") +
                  " with " + std::to_string(cubes.size()) + (cubes.size() == 1 ? " row" : " rows") +
                  " in front, found by migchan synth"),
            "migchan synth",
            out->rules,
            out->forbids,
            base.sem};
  return {std::move(out), cubes.size()};
}

std::shared_ptr<const parsed_table> first_read_rows(const table& base) {
  auto out = std::make_shared<parsed_table>();
  const mask peeked = of(transport::socket, transport::tls);
  for (rule r : base.rules) {
    const mask p = r.when.get(column::peekable);
    if (p == yes || p == no) {
      r.when.peekable = any;
      r.when.transport = static_cast<mask>(r.when.get(column::transport) & (p == yes ? peeked : ~peeked));
    }
    out->rules.push_back(r);
  }
  out->forbids.assign(base.forbids.begin(), base.forbids.end());
  out->view = base;
  out->view.rules = out->rules;
  out->view.forbids = out->forbids;
  return out;
}

}  // namespace migchan::proofs::synth_detail
