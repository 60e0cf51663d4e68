#include "proofs/synth.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <stdexcept>
#include <tuple>

#include "proofs/synth_rows.h"

namespace migchan::proofs {

using smt::expr;
using namespace synth_detail;

std::string_view name(synth_result::outcome o) {
  switch (o) {
    case synth_result::outcome::found: return "found";
    case synth_result::outcome::impossible: return "impossible";
    case synth_result::outcome::unknown: return "unknown";
  }
  return "?";
}

bool bytes_seen(transport t, bool tls_first_read) { return is_peekable(t) || (tls_first_read && t == transport::tls); }

namespace {

auto tied(const dest_state<cd>& s) {
  return std::tie(s.has_main, s.has_preempt, s.multifd_count, s.status, s.starts, s.stalled, s.aborted, s.parked,
                  s.parked_kind, s.exited);
}
struct state_less {
  bool operator()(const dest_state<cd>& a, const dest_state<cd>& b) const { return tied(a) < tied(b); }
};

expr lit(bool b) { return expr::boolean(b); }
expr num(int v) { return expr::integer(v); }

sender_config<S> lift(const sender_config<cd>& s) {
  return {lit(s.multifd),  lit(s.postcopy_ram), lit(s.postcopy_preempt), lit(s.mapped_ram), num(s.transport),
          num(s.channels), num(s.gen),          lit(s.recovery),         lit(s.switched)};
}
dest_config<S> lift(const dest_config<cd>& d) {
  return {lit(d.multifd),    lit(d.postcopy_ram), lit(d.postcopy_preempt),
          lit(d.mapped_ram), num(d.channels),     lit(d.exit_on_error)};
}
arrival<S> lift(const arrival<cd>& a) {
  return {lit(a.present), num(a.kind), num(a.transport), num(a.magic), num(a.count), num(a.init)};
}

auto tied(const arrival<cd>& a) { return std::tie(a.present, a.kind, a.transport, a.magic, a.count, a.init); }
auto tied(const sender_config<cd>& s) {
  return std::tie(s.multifd, s.postcopy_ram, s.postcopy_preempt, s.mapped_ram, s.transport, s.channels, s.gen,
                  s.recovery, s.switched);
}
auto tied(const dest_config<cd>& d) {
  return std::tie(d.multifd, d.postcopy_ram, d.postcopy_preempt, d.mapped_ram, d.channels, d.exit_on_error);
}
bool same_arrivals(const std::vector<arrival<cd>>& a, const std::vector<arrival<cd>>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const auto& x, const auto& y) { return tied(x) == tied(y); });
}
bool same(const behaviour& a, const behaviour& b) {
  return a.prop == b.prop && tied(a.src) == tied(b.src) && tied(a.dst) == tied(b.dst) && same_arrivals(a.in, b.in) &&
         same_arrivals(a.natural, b.natural);
}

std::vector<arrival<cd>> arrivals_of(const std::vector<trace_step<cd>>& steps) {
  std::vector<arrival<cd>> in;
  for (const auto& st : steps) in.push_back(st.in);
  return in;
}

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

struct synthesizer::impl {
  synth_options o;
  smt::solver z;
  struct decision_var {
    expr d;
    std::string prior;   // name of the assumption "keep the base's decision", empty if the base's is not allowed
    std::string refuse;  // name of the assumption "reject the channel"
  };
  std::map<key, decision_var> vars;
  std::map<int, expr> parks;  // per (transport, first bytes) class: some key of it defers
  std::vector<behaviour> learnt;
  std::vector<std::vector<key>> learnt_keys;  // per behaviour: the keys it can reach, in order of first reach
  std::vector<property> order;                // properties, the one broken last first
  std::map<key, expr> alias;                  // while encoding: decisions taken from other variables

  explicit impl(const synth_options& opts) : o(opts), order(opts.props) {
    if (!o.base) throw std::logic_error("synth: no base table");
    if (o.tls_first_read) first_read = first_read_rows(*o.base);
  }

  // The default decisions: the base's rows, TLS read as a socket with a buffered first read.
  std::shared_ptr<const parsed_table> first_read;
  const table& prior() const { return first_read ? first_read->view : *o.base; }

  bool seen(transport t) const { return bytes_seen(t, o.tls_first_read); }
  key key_for(const observation& ob) const { return key_of(ob, seen(ob.transport)); }

  const expr& var_for(key k) {
    if (const auto it = vars.find(k); it != vars.end()) return it->second.d;
    const expr d = expr::int_var("d." + key_name(k));
    const auto al = allowed(k);
    z.add(in_domain(d, al));
    decision_var dv{d, {}, "refuse." + key_name(k)};
    z.add(d == static_cast<int>(verdict::reject), dv.refuse);
    const auto prior = classify(this->prior(), observation_of(k)).then;
    if ((al >> static_cast<unsigned>(prior)) & 1u) {
      dv.prior = "prior." + key_name(k);
      z.add(d == static_cast<int>(prior), dv.prior);
    }
    const expr& out = vars.emplace(k, dv).first->second.d;
    couple_wake(k);
    // The same observation with other first bytes: decided too, so a change
    // the behaviours force can cover the whole of it (as a row would) instead
    // of the bytes that happened to be tried.
    if (!magic_unseen(k))
      for (std::size_t m = 0; m < enum_size<first_bytes>; ++m) {
        auto ob = observation_of(k);
        ob.magic = static_cast<first_bytes>(m);
        var_for(key_for(ob));
      }
    return out;
  }

  // model/destination.h looks at a parked channel again as a silent socket
  // channel. For any other parked class (a socket channel that sent a page, a
  // TLS channel with a buffered first read) that is faithful only if the
  // table decides that class as it decides a silent socket channel once main
  // and every multifd channel are in: required of tables that park it.
  void couple_wake(key k) {
    if (magic_unseen(k)) return;
    auto ob = observation_of(k);
    if (ob.magic != first_bytes::silent && ob.magic != first_bytes::ram_page) return;
    if (ob.transport == transport::socket && ob.magic == first_bytes::silent) return;
    const int cls = static_cast<int>(ob.transport) * 16 + static_cast<int>(ob.magic);
    auto it = parks.find(cls);
    if (it == parks.end()) it = parks.emplace(cls, expr::bool_var("parks." + std::to_string(cls))).first;
    const expr flag = it->second;
    const expr d = vars.at(k).d;
    z.add(implies(d == static_cast<int>(verdict::defer), flag));
    if (!mm_done<cd>(ob.generic())) return;
    ob.transport = transport::socket, ob.magic = first_bytes::silent;
    const expr partner = var_for(key_for(ob));
    z.add(implies(flag, d == partner));
  }

  // Which keys each step of a fixed behaviour can reach, over every table:
  // every decision at every key, states merged.
  std::vector<std::set<key>> explore(const dest_config<cd>& d, const dest_state<cd>& init,
                                     const std::vector<arrival<cd>>& in) const {
    std::vector<std::set<key>> keys(in.size());
    std::vector<dest_state<cd>> frontier{init};
    for (std::size_t i = 0; i < in.size(); ++i) {
      std::set<dest_state<cd>, state_less> next;
      std::map<key, int> assign;
      for (const auto& s : frontier) expand(d, s, in[i], assign, next, keys[i]);
      frontier.assign(next.begin(), next.end());
    }
    return keys;
  }

  void expand(const dest_config<cd>& d, const dest_state<cd>& s, const arrival<cd>& a, std::map<key, int>& assign,
              std::set<dest_state<cd>, state_less>& out, std::set<key>& keys) const {
    std::optional<key> pending;
    const auto decide = [&](const basic_observation<cd>& ob) -> basic_decision<cd> {
      if (pending) return {0, static_cast<int>(verdict::reject), 0};
      const key k = key_for(observation::from(ob));
      keys.insert(k);
      if (const auto it = assign.find(k); it != assign.end()) return {0, it->second, 0};
      pending = k;
      return {0, static_cast<int>(verdict::reject), 0};
    };
    const auto r = step_deciding<cd>(*o.base, true, decide, d, s, a);
    if (!pending) {
      out.insert(r.next);
      return;
    }
    const key k = *pending;
    const auto al = allowed(k);
    for (std::size_t v = 0; v < enum_size<verdict>; ++v) {
      if (!((al >> v) & 1u)) continue;
      assign[k] = static_cast<int>(v);
      expand(d, s, a, assign, out, keys);
    }
    assign.erase(k);
  }

  // The decision for a symbolic observation: its configuration, transport and
  // first bytes are known, the destination's state is not; `reach` lists the
  // keys it can be.
  basic_decision<S> decide_sym(const basic_observation<S>& ob, const std::set<key>& reach) {
    std::array<const expr*, field_count> fields{};
    for_each_field(ob, [&](field f, const expr& e) { fields[static_cast<std::size_t>(f)] = &e; });
    const auto values = [](key k) {
      std::array<int, field_count> v{};
      for_each_field(observation_of(k).generic(), [&](field f, int x) { v[static_cast<std::size_t>(f)] = x; });
      return v;
    };
    std::array<std::optional<int>, field_count> known;
    for (std::size_t j = 0; j < field_count; ++j) {
      const expr& e = *fields[j];
      if (e.is_true()) known[j] = 1;
      else if (e.is_false()) known[j] = 0;
      else if (const auto v = e.as_int()) known[j] = static_cast<int>(*v);
    }
    constexpr auto transport_at = static_cast<std::size_t>(field::transport);
    constexpr auto magic_at = static_cast<std::size_t>(field::magic);
    if (!known[transport_at] || !known[magic_at])
      throw std::logic_error("synth: an observation of unknown transport or first bytes");
    std::vector<key> cand;
    for (const key k : reach) {
      const auto v = values(k);
      bool ok = true;
      for (std::size_t j = 0; j < field_count && ok; ++j)
        if (known[j] && !(j == magic_at && magic_unseen(k))) ok = v[j] == *known[j];
      if (ok) cand.push_back(k);
    }
    // None: no state the exploration reached asks this, e.g. the look at a
    // parked channel, which concrete steps skip while nothing is parked; what
    // is decided then goes nowhere.
    if (cand.empty()) return {num(0), num(static_cast<int>(verdict::reject)), num(0)};
    const auto dvar = [&](key k) {
      const auto it = alias.find(k);
      return it != alias.end() ? it->second : var_for(k);
    };
    expr res = dvar(cand.back());
    for (std::size_t i = cand.size() - 1; i-- > 0;) {
      const auto v = values(cand[i]);
      expr cond = lit(true);
      for (std::size_t j = 0; j < field_count; ++j) {
        if (known[j]) continue;
        const expr& e = *fields[j];
        cond = cond && (e.is_bool() ? (v[j] ? e : !e) : e == v[j]);
      }
      res = ite(cond, dvar(cand[i]), res);
    }
    return {num(0), res, num(0)};
  }

  struct sym_run {
    std::vector<trace_step<S>> steps;
    dest_state<S> final_state;
  };

  sym_run run_sym(const dest_config<S>& dc, dest_state<S> state, const std::vector<arrival<cd>>& in,
                  const std::vector<std::set<key>>& keys, const std::string& prefix) {
    sym_run r;
    r.steps.resize(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
      const auto n = prefix + std::to_string(i) + ".";
      auto& st = r.steps[i];
      st.in = lift(in[i]);
      st.before = state;
      const auto& reach = keys[i];
      st.out = step_deciding<S>(
          *o.base, true, [&](const basic_observation<S>& ob) { return decide_sym(ob, reach); }, dc, state, st.in);
      auto& out = st.out;
      out.then = name_term(z, out.then, n + "then");
      out.why = name_term(z, out.why, n + "why");
      out.started = name_term(z, out.started, n + "started");
      out.valid_run = name_term(z, out.valid_run, n + "valid_run");
      out.woke = name_term(z, out.woke, n + "woke");
      out.woke_then = name_term(z, out.woke_then, n + "woke_then");
      out.next = name_state(z, out.next, n);
      state = out.next;
    }
    r.final_state = state;
    return r;
  }

  std::string cx_name(std::size_t i) const { return "cx." + std::to_string(i); }

  // True when the decisions break the behaviour's property and the sender can
  // produce it against them. `reached`: the keys it can reach, in order.
  expr encode_bad(const behaviour& b, const std::string& prefix, std::vector<key>* reached) {
    const auto sc = lift(b.src);
    const auto dc = lift(b.dst);
    const auto init_cd = initial_state<cd>(b.src, b.dst);
    const auto init = initial_state<S>(sc, dc);
    const auto note = [&](const std::vector<std::set<key>>& ks) {
      if (!reached) return;
      for (const auto& s : ks)
        for (key k : s)
          if (std::find(reached->begin(), reached->end(), k) == reached->end()) reached->push_back(k);
    };
    const auto keys = explore(b.dst, init_cd, b.in);
    note(keys);
    const auto run = run_sym(dc, init, b.in, keys, prefix + ".e");
    sym_run nat;
    expr bad = sender_can_produce<S>(nullptr, sc, dc, run.steps, run.final_state);
    if (!b.natural.empty()) {
      const auto nkeys = explore(b.dst, init_cd, b.natural);
      note(nkeys);
      nat = run_sym(dc, init, b.natural, nkeys, prefix + ".n");
      bad = bad && sender_can_produce<S>(nullptr, sc, dc, nat.steps, nat.final_state);
    }
    return bad && violates<S>(b.prop, sc, dc, run.steps, run.final_state, nat.steps);
  }

  // The behaviour must not break its property under the decisions: either the
  // sender cannot produce it against them, or it keeps the property.
  void learn(property p, unsigned context, const counterexample& cx) {
    behaviour b{p, cx.src, cx.dst, arrivals_of(cx.steps), arrivals_of(cx.natural), 0, context};
    for (std::size_t a = 0; a < assumption_count; ++a) {
      const auto as = static_cast<assumption>(a);
      const bool moot = as == assumption::configs_match && about_mismatch(p);
      if (moot || holds<cd>(as, cx.src, cx.dst, cx.steps)) b.holds |= 1u << a;
    }
    for (const auto& seen_before : learnt)
      if (same(seen_before, b))
        throw std::logic_error(
            "synth: a counterexample came back after it was learnt (the encoding disagrees with step())");
    const std::size_t i = learnt.size();
    std::vector<key> reached;
    z.add(!encode_bad(b, "b" + std::to_string(i), &reached), cx_name(i));
    learnt.push_back(std::move(b));
    learnt_keys.push_back(std::move(reached));
  }

  // The behaviours some context allows.
  std::vector<std::string> active(const std::vector<unsigned>& contexts) const {
    std::vector<std::string> names;
    for (std::size_t i = 0; i < learnt.size(); ++i)
      if (std::any_of(contexts.begin(), contexts.end(), [&](unsigned c) { return (learnt[i].holds & c) == c; }))
        names.push_back(cx_name(i));
    return names;
  }

  std::vector<std::string> all_priors() const {
    std::vector<std::string> names;
    for (const auto& [k, v] : vars)
      if (!v.prior.empty()) names.push_back(v.prior);
    return names;
  }

  // A model of the behaviours `cx` that keeps as many of the base's decisions
  // as the unsat cores allow. nullopt: the behaviours alone contradict each
  // other (the core is in `core`); unknown answers throw.
  // `polish`: in: take back what the cores dropped; out: whether the answer
  // keeps every base decision that fits.
  std::optional<std::map<key, verdict>> propose(const std::vector<std::string>& cx, std::vector<std::string>& core,
                                                std::string& unknown, bool& polish) {
    auto priors = all_priors();
    std::vector<std::string> dropped;
    const auto ask = [&](const std::vector<std::string>& extra) {
      auto names = cx;
      names.insert(names.end(), priors.begin(), priors.end());
      names.insert(names.end(), extra.begin(), extra.end());
      const auto r = z.check_assuming("synth", names, o.z3.timeout_ms);
      if (r.answer == smt::answer::unknown) unknown = r.reason.empty() ? "unknown" : r.reason;
      return r.answer;
    };
    for (;;) {
      const auto a = ask({});
      if (a == smt::answer::unknown) return std::nullopt;
      if (a == smt::answer::sat) break;
      const auto c = z.unsat_core();
      std::vector<std::string> from_priors;
      for (const auto& n : c)
        if (n.rfind("prior.", 0) == 0) from_priors.push_back(n);
      if (from_priors.empty()) {
        core = c;
        return std::nullopt;
      }
      std::erase_if(priors, [&](const std::string& n) {
        return std::find(from_priors.begin(), from_priors.end(), n) != from_priors.end();
      });
      dropped.insert(dropped.end(), from_priors.begin(), from_priors.end());
    }
    // A core is seldom minimal: take back each base decision that still fits,
    // so the table changes only what the behaviours force; where the base's
    // decision is gone, refuse the channel if that fits.
    if (dropped.empty()) polish = true;
    std::vector<std::string> extra;
    if (polish) {
      for (const auto& n : dropped) {
        const auto a = ask({n});
        if (a == smt::answer::unknown) return std::nullopt;
        if (a == smt::answer::sat) priors.push_back(n);
      }
      std::vector<std::string> refuse;
      for (const auto& [k, v] : vars)
        if (v.prior.empty() || std::find(priors.begin(), priors.end(), v.prior) == priors.end())
          refuse.push_back(v.refuse);
      const auto a = ask(refuse);
      if (a == smt::answer::unknown) return std::nullopt;
      if (a == smt::answer::sat) extra = refuse;
      else
        for (const auto& n : refuse) {
          extra.push_back(n);
          const auto b = ask(extra);
          if (b == smt::answer::unknown) return std::nullopt;
          if (b != smt::answer::sat) extra.pop_back();
        }
    }
    if (ask(extra) != smt::answer::sat) {
      if (unknown.empty()) throw std::logic_error("synth: a satisfiable query became unsatisfiable");
      return std::nullopt;
    }
    std::map<key, verdict> d;
    for (const auto& [k, v] : vars) d[k] = static_cast<verdict>(z.eval_int(v.d));
    return d;
  }

  // A property the candidate breaks under one of the contexts, with its
  // shortest counterexample there.
  struct refutation {
    property prop;
    unsigned context;
    counterexample cx;
  };
  std::optional<refutation> refute(const table& t, const std::vector<unsigned>& contexts, std::string& unknown) {
    // Most counterexamples are short: look among few arrivals first, which
    // is quicker, and only then among as many as the proof needs.
    if (o.z3.events > 3)
      if (auto found = refute_with(t, contexts, unknown, 3); found || !unknown.empty()) return found;
    return refute_with(t, contexts, unknown, o.z3.events);
  }

  std::optional<refutation> refute_with(const table& t, const std::vector<unsigned>& contexts, std::string& unknown,
                                        int events) {
    auto qo = o.z3;
    qo.events = events;
    table_query q(t, qo);
    for (std::size_t i = 0; i < order.size(); ++i) {
      const property p = order[i];
      for (const unsigned c : contexts) {
        const auto r = q.check(p, c);
        if (r.answer == smt::answer::unknown) {
          unknown = r.reason.empty() ? "unknown" : r.reason;
          return std::nullopt;
        }
        if (r.answer == smt::answer::unsat) continue;
        auto cx = q.shortest(p, c);
        if (!cx) throw std::logic_error("synth: a refuted property without a counterexample");
        // Ask first next time about the property broken last.
        std::rotate(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(i),
                    order.begin() + static_cast<std::ptrdiff_t>(i) + 1);
        return refutation{p, c, std::move(*cx)};
      }
    }
    return std::nullopt;
  }

  counterexample run_concrete(const table& t, const behaviour& b) const {
    counterexample cx{b.src, b.dst, {}, {}, 0};
    const auto steps_of = [&](const std::vector<arrival<cd>>& in) {
      std::vector<trace_step<cd>> tr(in.size());
      for (std::size_t i = 0; i < in.size(); ++i) tr[i].in = in[i];
      run<cd>(t, b.dst, initial_state<cd>(b.src, b.dst), tr);
      return tr;
    };
    cx.steps = steps_of(b.in);
    if (!b.natural.empty()) cx.natural = steps_of(b.natural);
    for (const auto& st : cx.steps) cx.arrivals += static_cast<unsigned>(st.in.count);
    return cx;
  }

  std::size_t index_of(const std::string& cx) const { return std::stoul(cx.substr(3)); }

  expr in_domain(const expr& d, std::uint16_t al) const {
    expr dom = lit(false);
    for (std::size_t v = 0; v < enum_size<verdict>; ++v)
      if ((al >> v) & 1u) dom = dom || d == static_cast<int>(v);
    return dom;
  }

  witness_run witness_of(std::size_t behaviour_index, const std::map<key, verdict>& d, const std::string& name) const {
    witness_run w;
    w.b = learnt[behaviour_index];
    w.table = build_table(prior(), d, o.tls_first_read, name).t;
    w.cx = run_concrete(w.table->view, w.b);
    for (const auto& st : w.cx.steps)
      w.seen.push_back(observation::from(observe<cd>(w.b.dst, st.before, st.in.transport, st.in.magic)));
    return w;
  }

  // The point of decision: a key every behaviour reaches such that, were the
  // destination free to decide it differently for each behaviour (and alike
  // everywhere else), every behaviour would be handled. Then, with every other
  // decision fixed, what each behaviour needs there has nothing in common.
  bool find_point(const std::vector<std::size_t>& idx, synth_result& r) {
    std::vector<key> everywhere;
    for (const key k : learnt_keys[idx[0]]) {
      bool all = true;
      for (const auto j : idx)
        all = all && std::find(learnt_keys[j].begin(), learnt_keys[j].end(), k) != learnt_keys[j].end();
      if (all) everywhere.push_back(k);
    }
    std::vector<key> reach;
    for (const auto j : idx)
      for (const key k : learnt_keys[j])
        if (std::find(reach.begin(), reach.end(), k) == reach.end()) reach.push_back(k);
    const std::vector<std::string> first{cx_name(idx[0])};
    // Latest first: the point where the behaviours, handled alike so far, part.
    std::reverse(everywhere.begin(), everywhere.end());
    for (const key k : everywhere) {
      z.push();
      std::vector<expr> copy{vars.at(k).d};
      for (std::size_t j = 1; j < idx.size(); ++j) {
        const auto n = "alt." + key_name(k) + "." + std::to_string(j);
        copy.push_back(expr::int_var(n));
        z.add(in_domain(copy.back(), allowed(k)));
        alias[k] = copy.back();
        z.add(!encode_bad(learnt[idx[j]], n, nullptr));
        alias.clear();
      }
      std::vector<std::string> unused;
      std::string unknown;
      bool polish = true;
      const auto d = propose(first, unused, unknown, polish);
      if (!d) {
        z.pop();
        continue;
      }
      conflict_point cp{observation_of(k), !magic_unseen(k), {}};
      z.push();
      for (const key other : reach)
        if (other != k) z.add(vars.at(other).d == static_cast<int>(d->at(other)));
      for (std::size_t j = 0; j < idx.size(); ++j) {
        std::uint16_t needs = 0;
        for (std::size_t v = 0; v < enum_size<verdict>; ++v) {
          if (!((allowed(k) >> v) & 1u)) continue;
          z.push();
          z.add(copy[j] == static_cast<int>(v));
          if (z.check_assuming("synth:needs", first, o.z3.timeout_ms).answer == smt::answer::sat)
            needs = static_cast<std::uint16_t>(needs | 1u << v);
          z.pop();
        }
        cp.needs.push_back(needs);
      }
      z.pop();
      z.pop();
      // Each behaviour through the table that decides k as another behaviour
      // needs; a behaviour content with any decision there is no point of its.
      std::vector<witness_run> runs;
      for (std::size_t j = 0; j < idx.size(); ++j) {
        std::uint16_t other = 0;
        for (std::size_t i = 0; i < idx.size(); ++i)
          if (i != j) other |= cp.needs[i];
        std::uint16_t pick = static_cast<std::uint16_t>(other & ~cp.needs[j]);
        if (pick == 0) pick = static_cast<std::uint16_t>(allowed(k) & ~cp.needs[j]);
        if (pick == 0) break;
        auto dj = *d;
        dj[k] = static_cast<verdict>(__builtin_ctz(pick));
        runs.push_back(witness_of(idx[j], dj, "synth-w" + std::to_string(j + 1)));
      }
      if (runs.size() != idx.size()) continue;
      r.witness = std::move(runs);
      r.point = cp;
      return true;
    }
    return false;
  }

  void explain_impossible(std::vector<std::string> core, synth_result& r) {
    // Smallest by deletion: drop a behaviour whenever the rest still contradict.
    for (std::size_t i = 0; i < core.size();) {
      auto rest = core;
      rest.erase(rest.begin() + static_cast<std::ptrdiff_t>(i));
      const auto a = z.check_assuming("synth:core", rest, o.z3.timeout_ms);
      if (a.answer == smt::answer::unsat) core = std::move(rest);
      else ++i;
    }
    std::vector<std::size_t> idx;
    for (const auto& c : core) idx.push_back(index_of(c));
    std::sort(idx.begin(), idx.end());
    if (idx.size() >= 2 && find_point(idx, r)) return;
    // Otherwise: each behaviour through a table that handles all the others.
    for (std::size_t i = 0; i < idx.size(); ++i) {
      std::vector<std::string> others;
      for (std::size_t j = 0; j < idx.size(); ++j)
        if (j != i) others.push_back(cx_name(idx[j]));
      std::vector<std::string> unused;
      std::string unknown;
      bool polish = true;
      const auto d = propose(others, unused, unknown, polish);
      if (!d) throw std::logic_error("synth: the witness is not minimal");
      r.witness.push_back(witness_of(idx[i], *d, "synth-w" + std::to_string(i + 1)));
    }
  }

  synth_result solve(const std::vector<unsigned>& contexts, bool explain) {
    const auto t0 = std::chrono::steady_clock::now();
    synth_result r;
    // Candidates keep the base's decisions only as far as the first unsat
    // cores allow; a candidate that passes is polished (every base decision
    // that still fits taken back) and checked again before it is the answer.
    bool polish = false;
    for (;;) {
      std::vector<std::string> core;
      const auto d = propose(active(contexts), core, r.reason, polish);
      if (!d) {
        if (r.reason.empty()) {
          r.what = synth_result::outcome::impossible;
          if (explain) explain_impossible(core, r);
        }
        break;
      }
      if (r.rounds >= o.max_rounds) {
        r.reason = "no answer after " + std::to_string(r.rounds) + " candidate tables";
        break;
      }
      ++r.rounds;
      auto built = build_table(prior(), *d, o.tls_first_read, "synth");
      auto broken = refute(built.t->view, contexts, r.reason);
      if (!r.reason.empty()) break;
      if (!broken && !polish) {
        polish = true;
        continue;
      }
      if (!broken) {
        r.what = synth_result::outcome::found;
        r.table = std::move(built.t);
        r.changed_rows = built.changed_rows;
        break;
      }
      learn(broken->prop, broken->context, broken->cx);
      polish = false;
    }
    r.learnt = learnt.size();
    r.seconds = since(t0);
    return r;
  }
};

synthesizer::synthesizer(const synth_options& o) : p_(std::make_unique<impl>(o)) {}
synthesizer::~synthesizer() = default;
synth_result synthesizer::solve(unsigned assumed, bool explain) { return p_->solve({assumed}, explain); }
synth_result synthesizer::solve_all(const std::vector<unsigned>& contexts, bool explain) {
  return p_->solve(contexts, explain);
}
const synth_options& synthesizer::options() const { return p_->o; }

}  // namespace migchan::proofs
