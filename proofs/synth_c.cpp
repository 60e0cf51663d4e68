#include "proofs/synth_c.h"

#include <algorithm>
#include <array>
#include <map>
#include <vector>

#include "model/classify.h"
#include "model/render.h"
#include "proofs/c_code.h"
#include "proofs/synth_rows.h"

namespace migchan::proofs {

namespace {

// The columns a condition tests: everything the destination knows but the
// first bytes, which only the peek shows.
constexpr std::array<column, 9> context_columns{column::multifd,     column::postcopy_ram, column::postcopy_preempt,
                                                column::mapped_ram,  column::transport,    column::has_main,
                                                column::all_multifd, column::has_preempt,  column::state};

using context = std::array<int, 9>;  // values of context_columns

context context_of(const observation& o) {
  return {
      o.multifd,     o.postcopy_ram, o.postcopy_preempt,       o.mapped_ram, static_cast<int>(o.transport), o.has_main,
      o.all_multifd, o.has_preempt,  static_cast<int>(o.state)};
}

guard exact(const context& c) {
  guard g;
  for (std::size_t i = 0; i < c.size(); ++i) g.set(context_columns[i], static_cast<mask>(1u << c[i]));
  return g;
}

bool inside(const guard& g, const context& c) {
  for (std::size_t i = 0; i < c.size(); ++i)
    if (!((g.get(context_columns[i]) >> c[i]) & 1u)) return false;
  return true;
}

// Cubes covering `mine` and none of `others`; contexts in neither are free.
std::vector<guard> cover(const std::vector<context>& mine, const std::vector<context>& others) {
  std::vector<guard> cubes;
  for (const auto& c : mine) cubes.push_back(exact(c));
  // Merge cubes equal but in one column, column by column, until none merge.
  for (bool merged = true; merged;) {
    merged = false;
    for (std::size_t ci = 0; ci < context_columns.size(); ++ci) {
      const column col = context_columns[ci];
      std::map<std::vector<mask>, std::size_t> by_rest;
      std::vector<guard> next;
      for (const auto& g : cubes) {
        std::vector<mask> rest;
        for (const column c : context_columns) rest.push_back(c == col ? mask{0} : g.get(c));
        const auto [it, fresh] = by_rest.emplace(rest, next.size());
        if (fresh) {
          next.push_back(g);
          continue;
        }
        auto& h = next[it->second];
        h.set(col, static_cast<mask>(h.get(col) | g.get(col)));
        merged = true;
      }
      cubes = std::move(next);
    }
  }
  // Widen a column to any where that takes in no context of another decision.
  for (auto& g : cubes)
    for (const column c : context_columns) {
      guard w = g;
      w.set(c, any);
      if (std::none_of(others.begin(), others.end(), [&](const context& o) { return inside(w, o); })) g = w;
    }
  std::vector<guard> kept;
  for (std::size_t i = 0; i < cubes.size(); ++i) {
    bool covered = false;
    for (std::size_t j = 0; j < cubes.size() && !covered; ++j) {
      if (i == j) continue;
      bool sub = true;
      for (const column c : context_columns) sub = sub && (cubes[i].get(c) & ~cubes[j].get(c)) == 0;
      covered = sub && (!(cubes[i] == cubes[j]) || j < i);
    }
    if (!covered) kept.push_back(cubes[i]);
  }
  return kept;
}

// One column's test; empty when it allows every value.
std::string column_test(const guard& g, column c) {
  return g.is_any(c) ? "" : c_code::test(c, g.get(c), domain_mask(c), true);
}

// `depth`: that of the `if` it goes in; more terms continue below it.
std::string condition(const std::vector<guard>& cubes, int depth) {
  std::vector<std::string> terms;
  for (const auto& g : cubes) {
    std::string t;
    int n = 0;
    for (const column c : context_columns) {
      const auto s = column_test(g, c);
      if (s.empty()) continue;
      t += (t.empty() ? "" : " && ") + s;
      ++n;
    }
    if (t.empty()) return "true";
    terms.push_back(cubes.size() > 1 && n > 1 ? "(" + t + ")" : t);
  }
  std::string s;
  for (const auto& t : terms) s += (s.empty() ? "" : " ||\n" + c_code::lines::indent(depth + 1)) + t;
  return s;
}

// The synthesized rows carry no message of QEMU's: the C says who refused.
void decide(c_code::lines& out, int depth, verdict v) {
  const std::string_view text = v == verdict::reject ? "channel refused by the classifier"
                                : v == verdict::drop ? "channel ignored by the classifier"
                                                     : c_code::not_reached;
  const auto s = c_code::statement(v, text);
  if (!s) throw c_unwritable("no C statement decides '" + std::string(name(v)) + "'");
  out.line(depth, *s);
  if (v == verdict::reject || v == verdict::drop) out.line(depth, "return;");
}

// An if/else chain deciding `decided` (the contexts that reach it); contexts
// not in it are free. Smaller groups first, so later ones may cover them.
void chain(c_code::lines& out, int depth, const std::map<context, verdict>& decided) {
  std::map<verdict, std::vector<context>> groups;
  for (const auto& [c, v] : decided) groups[v].push_back(c);
  std::vector<verdict> order;
  for (const auto& [v, cs] : groups) order.push_back(v);
  std::stable_sort(order.begin(), order.end(),
                   [&](verdict a, verdict b) { return groups[a].size() < groups[b].size(); });
  if (order.size() == 1) return decide(out, depth, order[0]);
  for (std::size_t i = 0; i + 1 < order.size(); ++i) {
    std::vector<context> later;
    for (std::size_t j = i + 1; j < order.size(); ++j)
      later.insert(later.end(), groups[order[j]].begin(), groups[order[j]].end());
    out.branch(depth, i == 0, condition(cover(groups[order[i]], later), depth));
    decide(out, depth + 1, order[i]);
  }
  out.branch(depth, false, "");
  decide(out, depth + 1, order.back());
  out.line(depth, "}");
}

std::string magic_test(first_bytes f) { return c_code::test(column::magic, of(f), domain_mask(column::magic)); }

}  // namespace

std::string c_condition(const guard& g) {
  std::string s = column_test(g, column::peekable);
  for (const column c : context_columns) {
    const auto t = column_test(g, c);
    if (!t.empty()) s += (s.empty() ? "" : " && ") + t;
  }
  if (!g.is_any(column::magic)) {
    const mask m = g.get(column::magic);
    std::string t;
    if (m == of(first_bytes::vm_file_magic) || m == of(first_bytes::multifd_magic)) t = column_test(g, column::magic);
    else {
      for (std::size_t v = 0; v < enum_size<first_bytes>; ++v)
        if ((m >> v) & 1u) t += (t.empty() ? "" : "|") + std::string(name(static_cast<first_bytes>(v)));
      t = "first bytes " + t;
    }
    s += (s.empty() ? "" : " && ") + t;
  }
  return s.empty() ? "true" : s;
}

std::string write_c(const table& t, const table& base, std::string_view base_name) {
  // Every observation of a configuration the base accepts, by context.
  std::map<context, std::array<verdict, enum_size<first_bytes>>> by_context;
  std::map<context, observation> example;
  for (const auto& o : synth_detail::accepted_observations(base)) {
    by_context[context_of(o)][static_cast<std::size_t>(o.magic)] = classify(t, o).then;
    example.emplace(context_of(o), o);
  }
  const rule* reset_row = nullptr;
  for (const auto& r : base.rules)
    if (r.cost == reads::peek4 && r.when.get(column::magic) == of(first_bytes::reset)) reset_row = &r;
  const verdict on_reset = reset_row && reset_row->then == verdict::abort ? verdict::abort : verdict::reject;
  const auto need = [&](const context& c, first_bytes m, const std::string& what) {
    auto o = example.at(c);
    o.magic = m;
    return c_unwritable("cannot write " + std::string(t.name) + " in C: at " + describe(o) + " it decides " +
                        std::string(name(by_context.at(c)[static_cast<std::size_t>(m)])) + ", " + what);
  };

  std::map<context, verdict> nopeek, whole, file_magic, multifd, other;
  for (const auto& entry : by_context) {
    // Not a structured binding: clang 14 does not let the lambdas below capture one.
    const auto& c = entry.first;
    const auto& d = entry.second;
    const bool constant = std::all_of(d.begin(), d.end(), [&](verdict v) { return v == d[0]; });
    const bool peekable = is_peekable(static_cast<transport>(c[4]));
    if (!peekable && !constant)
      throw need(c, first_bytes::vm_file_magic, "but a non-peekable channel's first bytes are not seen");
    if (constant) {
      (peekable ? whole : nopeek)[c] = d[0];
      continue;
    }
    const auto at = [&](first_bytes m) { return d[static_cast<std::size_t>(m)]; };
    for (const auto m : {first_bytes::silent, first_bytes::partial})
      if (at(m) != verdict::blocked) throw need(c, m, "but in C the peek waits for 4 bytes (blocked)");
    if (at(first_bytes::eof) != verdict::reject)
      throw need(c, first_bytes::eof, "but in C a failed peek refuses the channel (reject)");
    if (at(first_bytes::reset) != on_reset)
      throw need(c, first_bytes::reset,
                 "but in C a reset peek does what " + std::string(base_name) + "'s does (" +
                     std::string(name(on_reset)) + ")");
    for (const auto m : {first_bytes::vm_command, first_bytes::ram_page})
      if (at(m) != at(first_bytes::other))
        throw need(c, m, "but C tells only QEMU_VM_FILE_MAGIC and MULTIFD_MAGIC from other bytes");
    file_magic[c] = at(first_bytes::vm_file_magic);
    multifd[c] = at(first_bytes::multifd_magic);
    other[c] = at(first_bytes::other);
  }

  c_code::lines out;
  out.comment({std::string(t.name) + ": " + std::string(t.summary) + ".",
               "Written by `migchan synth --c`; read it back with",
               "`migchan check FILE --base " + std::string(base_name) + "`."});
  out << "void migration_ioc_process_incoming(QIOChannel *ioc, Error **errp)\n{\n";
  out.line(1, c_code::incoming_state);
  out.line(1, "uint32_t channel_magic = 0;");
  out.line(1, "int channel = CH_NONE;");
  out.line(1, "int ret;");
  out << "\n";
  out.branch(1, true, c_code::test(column::peekable, no, domain_mask(column::peekable)));
  chain(out, 2, nopeek);
  // Peekable channels: those decided whatever they send first, then the peek.
  if (!file_magic.empty()) {
    std::map<context, verdict> split = whole;
    for (const auto& [c, v] : file_magic) split[c] = verdict::blocked;  // stands for "peek first"
    std::map<verdict, std::vector<context>> groups;
    for (const auto& [c, v] : split) groups[v].push_back(c);
    std::vector<context> peeked = groups[verdict::blocked];
    groups.erase(verdict::blocked);
    for (const auto& [v, cs] : groups) {
      std::vector<context> rest = peeked;
      for (const auto& [w, ds] : groups)
        if (w != v) rest.insert(rest.end(), ds.begin(), ds.end());
      out.branch(1, false, condition(cover(cs, rest), 1));
      decide(out, 2, v);
    }
    out.branch(1, false, "");
    out.peek(2, "return;");
    out.branch(2, true, magic_test(first_bytes::vm_file_magic));
    chain(out, 3, file_magic);
    out.branch(2, false, magic_test(first_bytes::multifd_magic));
    chain(out, 3, multifd);
    out.branch(2, false, "");
    chain(out, 3, other);
    out.line(2, "}");
  } else {
    out.branch(1, false, "");
    chain(out, 2, whole);
  }
  out.line(1, "}");
  // What QEMU does with the channel once it knows which it is.
  out << "\n";
  out.branch(1, true, "channel == " + std::string(c_code::channel_constant(verdict::main)));
  out.line(2, "migration_incoming_setup(qemu_file_new_input(ioc));");
  out.branch(1, false, "channel == " + std::string(c_code::channel_constant(verdict::multifd)));
  out.line(2, "multifd_recv_new_channel(ioc, errp);");
  out.branch(1, false, "channel == " + std::string(c_code::channel_constant(verdict::preempt)));
  out.line(2, "postcopy_preempt_new_channel(mis, qemu_file_new_input(ioc));");
  out.line(1, "}");
  out << "}\n";
  return out.str();
}

}  // namespace migchan::proofs
