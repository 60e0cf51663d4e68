#include "proofs/synth_c.h"

#include <algorithm>
#include <array>
#include <map>
#include <sstream>
#include <vector>

#include "model/classify.h"
#include "model/render.h"
#include "proofs/synth_rows.h"

namespace migchan::proofs {

namespace {

// The columns a condition tests: everything the destination knows but the
// first bytes, which only the peek shows.
constexpr std::array<column, 9> context_columns{column::multifd,  column::postcopy_ram, column::postcopy_preempt,
                                                column::mapped_ram, column::transport, column::has_main,
                                                column::all_multifd, column::has_preempt, column::state};

using context = std::array<int, 9>;  // values of context_columns

context context_of(const observation& o) {
  return {o.multifd,          o.postcopy_ram, o.postcopy_preempt, o.mapped_ram, static_cast<int>(o.transport),
          o.has_main,         o.all_multifd,  o.has_preempt,      static_cast<int>(o.state)};
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

std::string bool_test(column c, bool v) {
  static const std::map<column, std::string> call{
      {column::multifd, "migrate_multifd()"},
      {column::postcopy_ram, "migrate_postcopy_ram()"},
      {column::postcopy_preempt, "migrate_postcopy_preempt()"},
      {column::mapped_ram, "migrate_mapped_ram()"},
      {column::has_main, "mis->from_src_file"},
      {column::all_multifd, "multifd_recv_all_channels_created()"},
      {column::has_preempt, "mis->postcopy_qemufile_dst"}};
  return (v ? "" : "!") + call.at(c);
}

// The names migration/ gives its incoming QIOChannels (qio_channel_set_name()).
std::string transport_test(transport t, bool eq) {
  static const std::array<std::string_view, enum_size<transport>> names{
      "migration-socket-incoming", "migration-fd-incoming", "migration-tls-incoming", "migration-file-incoming",
      "migration-exec-incoming"};
  return std::string(eq ? "!" : "") + "strcmp(ioc->name, \"" + std::string(names[static_cast<std::size_t>(t)]) + "\")";
}

std::string bool_peekable(bool v) {
  return std::string(v ? "" : "!") + "qio_channel_has_feature(ioc, QIO_CHANNEL_FEATURE_READ_MSG_PEEK)";
}

std::string state_test(mig_status s, bool eq) {
  std::string n(name(s));
  for (auto& ch : n) ch = ch == '-' ? '_' : static_cast<char>(ch - 'a' + 'A');
  return std::string("mis->state ") + (eq ? "==" : "!=") + " MIGRATION_STATUS_" + n;
}

// One column's test; empty when it allows every value.
std::string column_test(const guard& g, column c) {
  const mask m = g.get(c);
  const std::size_t size = info(c).size;
  if (m == domain_mask(c)) return "";
  if (size == 2) return bool_test(c, m == yes);
  const int n = __builtin_popcount(m);
  const bool negate = n > static_cast<int>(size) / 2;
  std::vector<std::string> parts;
  for (std::size_t v = 0; v < size; ++v) {
    if (((m >> v) & 1u) == (negate ? 1u : 0u)) continue;
    parts.push_back(c == column::state ? state_test(static_cast<mig_status>(v), !negate)
                                       : transport_test(static_cast<transport>(v), !negate));
  }
  std::string s;
  for (const auto& p : parts) s += (s.empty() ? "" : negate ? " && " : " || ") + p;
  return parts.size() > 1 ? "(" + s + ")" : s;
}

// `pad`: the indent of the `if` it goes in; more terms continue below it.
std::string condition(const std::vector<guard>& cubes, const std::string& pad) {
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
  for (const auto& t : terms) s += (s.empty() ? "" : " ||\n" + pad + "    ") + t;
  return s;
}

std::string statement(verdict v, const std::string& pad) {
  switch (v) {
    case verdict::main: return pad + "channel = CH_MAIN;\n";
    case verdict::multifd: return pad + "channel = CH_MULTIFD;\n";
    case verdict::preempt: return pad + "channel = CH_POSTCOPY;\n";
    case verdict::reject: return pad + "error_setg(errp, \"channel refused by the classifier\");\n" + pad + "return;\n";
    case verdict::drop: return pad + "error_report(\"channel ignored by the classifier\");\n" + pad + "return;\n";
    case verdict::abort: return pad + "g_assert_not_reached();\n";
    default: break;
  }
  throw c_unwritable("no C statement decides '" + std::string(name(v)) + "'");
}

// An if/else chain deciding `decided` (the contexts that reach it); contexts
// not in it are free. Smaller groups first, so later ones may cover them.
std::string chain(const std::map<context, verdict>& decided, const std::string& pad) {
  std::map<verdict, std::vector<context>> groups;
  for (const auto& [c, v] : decided) groups[v].push_back(c);
  std::vector<verdict> order;
  for (const auto& [v, cs] : groups) order.push_back(v);
  std::stable_sort(order.begin(), order.end(),
                   [&](verdict a, verdict b) { return groups[a].size() < groups[b].size(); });
  if (order.size() == 1) return statement(order[0], pad);
  std::string out;
  for (std::size_t i = 0; i + 1 < order.size(); ++i) {
    std::vector<context> later;
    for (std::size_t j = i + 1; j < order.size(); ++j)
      later.insert(later.end(), groups[order[j]].begin(), groups[order[j]].end());
    const auto cond = condition(cover(groups[order[i]], later), pad);
    out += (i == 0 ? pad + "if (" : " else if (") + cond + ") {\n" + statement(order[i], pad + "    ") + pad + "}";
  }
  return out + " else {\n" + statement(order.back(), pad + "    ") + pad + "}\n";
}

}  // namespace

std::string c_condition(const guard& g) {
  std::string s = g.is_any(column::peekable) ? "" : bool_peekable(g.get(column::peekable) == yes);
  for (const column c : context_columns) {
    const auto t = column_test(g, c);
    if (!t.empty()) s += (s.empty() ? "" : " && ") + t;
  }
  if (!g.is_any(column::magic)) {
    const mask m = g.get(column::magic);
    std::string t;
    if (m == of(first_bytes::vm_file_magic)) t = "channel_magic == QEMU_VM_FILE_MAGIC";
    else if (m == of(first_bytes::multifd_magic)) t = "channel_magic == MULTIFD_MAGIC";
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
      throw need(c, first_bytes::reset, "but in C a reset peek does what " + std::string(base_name) + "'s does (" +
                                            std::string(name(on_reset)) + ")");
    for (const auto m : {first_bytes::vm_command, first_bytes::ram_page})
      if (at(m) != at(first_bytes::other))
        throw need(c, m, "but C tells only QEMU_VM_FILE_MAGIC and MULTIFD_MAGIC from other bytes");
    file_magic[c] = at(first_bytes::vm_file_magic);
    multifd[c] = at(first_bytes::multifd_magic);
    other[c] = at(first_bytes::other);
  }

  std::ostringstream s;
  s << "/*\n * " << t.name << ": " << t.summary << ".\n * Written by `migchan synth --c`; read it back with\n"
    << " * `migchan check FILE --base " << base_name << "`.\n */\n"
    << "void migration_ioc_process_incoming(QIOChannel *ioc, Error **errp)\n{\n"
    << "    MigrationIncomingState *mis = migration_incoming_get_current();\n"
    << "    uint32_t channel_magic = 0;\n    int channel = CH_NONE;\n    int ret;\n\n";
  const std::string in1 = "        ", in2 = "            ";
  s << "    if (" << bool_peekable(false) << ") {\n" << chain(nopeek, in1) << "    }";
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
      s << " else if (" << condition(cover(cs, rest), "    ") << ") {\n" << statement(v, in1) << "    }";
    }
    s << " else {\n"
      << in1 << "ret = migration_channel_read_peek(ioc, (void *)&channel_magic, sizeof(channel_magic), errp);\n"
      << in1 << "if (ret != 0) {\n" << in2 << "return;\n" << in1 << "}\n"
      << in1 << "channel_magic = be32_to_cpu(channel_magic);\n"
      << in1 << "if (channel_magic == QEMU_VM_FILE_MAGIC) {\n" << chain(file_magic, in2) << in1
      << "} else if (channel_magic == MULTIFD_MAGIC) {\n" << chain(multifd, in2) << in1 << "} else {\n"
      << chain(other, in2) << in1 << "}\n    }\n";
  } else {
    s << " else {\n" << chain(whole, in1) << "    }\n";
  }
  s << "\n    if (channel == CH_MAIN) {\n        migration_incoming_setup(qemu_file_new_input(ioc));\n"
    << "    } else if (channel == CH_MULTIFD) {\n        multifd_recv_new_channel(ioc, errp);\n"
    << "    } else if (channel == CH_POSTCOPY) {\n"
    << "        postcopy_preempt_new_channel(mis, qemu_file_new_input(ioc));\n    }\n}\n";
  return s.str();
}

}  // namespace migchan::proofs
