#include "proofs/single.h"

#include <algorithm>
#include <array>
#include <type_traits>
#include <chrono>

namespace migchan::proofs {

namespace {

using S = smt::domain;
using smt::expr;

}  // namespace

basic_observation<S> observation_vars(const std::string& p) {
  basic_observation<S> o;
  for_each_field(o, [&](field f, expr& v) {
    const auto n = p + std::string(info(f).name);
    v = info(f).boolean() ? expr::bool_var(n) : expr::int_var(n);
  });
  return o;
}

observation read_observation(const smt::solver& z, const basic_observation<S>& o) {
  basic_observation<concrete_domain> c{};
  std::array<int, field_count> v{};
  for_each_field(o, [&](field f, const expr& e) {
    v[static_cast<std::size_t>(f)] = info(f).boolean() ? z.eval_bool(e) : static_cast<int>(z.eval_int(e));
  });
  for_each_field(c, [&](field f, auto& x) {
    x = static_cast<std::remove_reference_t<decltype(x)>>(v[static_cast<std::size_t>(f)]);
  });
  return observation::from(c);
}

observation typical_observation(smt::solver& z, const basic_observation<S>& o, const std::string& query,
                                std::optional<unsigned> timeout_ms) {
  // Least telling first: a witness reads best with the configuration plain.
  const expr prefer[] = {!o.postcopy_preempt,
                         !o.postcopy_ram,
                         !o.mapped_ram,
                         !o.has_preempt,
                         !o.all_multifd,
                         o.state == static_cast<int>(mig_status::setup),
                         o.magic == static_cast<int>(first_bytes::vm_file_magic),
                         !o.multifd,
                         !o.has_main,
                         o.transport == static_cast<int>(transport::socket)};
  int pushed = 0;
  for (const auto& p : prefer) {
    z.push();
    z.add(p);
    if (z.check(query + ":typical", timeout_ms).answer == smt::answer::sat) {
      ++pushed;
    } else {
      z.pop();
    }
  }
  // The model of the last sat check is the one wanted; ask again if the last
  // check was not sat.
  const auto last = z.check(query + ":typical", timeout_ms);
  const auto w = last.answer == smt::answer::sat ? read_observation(z, o) : observation{};
  while (pushed-- > 0) z.pop();
  if (last.answer != smt::answer::sat) {
    z.check(query, timeout_ms);
    return read_observation(z, o);
  }
  return w;
}

std::string where(const rule& r) {
  return r.origin.empty() ? std::string(r.id) : std::string(r.id) + " (" + std::string(r.origin) + ")";
}

std::string where(const table& t, std::size_t row) {
  return row < t.rules.size() ? where(t.rules[row]) : std::string("(no rule)");
}

single_result check_single(const table& t, const single_options& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  single_result r;
  smt::solver z;
  const auto o = observation_vars("o.");
  z.add(valid<S>(t, o));
  const auto d = classify<S>(t, o);
  const std::size_t n = t.rules.size();
  const std::string prefix = std::string(t.name) + ":";

  const auto note = [&](const smt::result& res) {
    ++r.queries;
    if (res.answer == smt::answer::unknown && r.unknown.empty()) r.unknown = res.query + ": " + res.reason;
    return res.answer;
  };
  const auto ask = [&](const std::string& q) { return note(z.check(prefix + q, opt.timeout_ms)); };
  const auto id = [&](std::size_t i) { return std::string(t.rules[i].id); };

  z.push();
  z.add(d.rule == static_cast<int>(n));
  if (ask("exhaustive") == smt::answer::sat) r.gap = typical_observation(z, o, prefix + "exhaustive", opt.timeout_ms);
  z.pop();

  std::vector<expr> m;
  m.reserve(n);
  for (const auto& row : t.rules) m.push_back(matches<S>(row.when, o));

  std::vector<bool> matchable(n, true);
  for (std::size_t i = 0; i < n; ++i) {
    z.push();
    z.add(d.rule == static_cast<int>(i));
    const auto fires = ask("fires:" + id(i));
    if (fires == smt::answer::sat && t.rules[i].implicit_default)
      r.implicit_defaults.push_back({i, typical_observation(z, o, prefix + "fires:" + id(i), opt.timeout_ms)});
    z.pop();
    if (fires != smt::answer::unsat) continue;

    dead_rule dr{i, false, {}};
    z.push();
    z.add(m[i]);
    if (ask("matchable:" + id(i)) == smt::answer::unsat) {
      dr.unmatchable = true;
      matchable[i] = false;
    } else if (opt.blockers) {
      // Each earlier row's "does not match" is a named assumption: the unsat
      // core names rows that together cover this one, and dropping members one
      // at a time while it stays unsat leaves a minimal set.
      std::vector<std::string> names;
      for (std::size_t j = 0; j < i; ++j) {
        names.push_back("row" + std::to_string(j));
        z.add(!m[j], names.back());
      }
      if (note(z.check(prefix + "blocked:" + id(i), opt.timeout_ms)) == smt::answer::unsat) {
        auto core = z.unsat_core();
        for (std::size_t k = 0; k < core.size();) {
          auto trial = core;
          trial.erase(trial.begin() + static_cast<std::ptrdiff_t>(k));
          if (note(z.check_assuming(prefix + "blocked:" + id(i) + ":minimal", trial, opt.timeout_ms)) ==
              smt::answer::unsat) {
            // The new core is a subset of the trial; members before k were
            // already found necessary, so the walk goes on at k.
            const auto smaller = z.unsat_core();
            core.clear();
            for (const auto& c : trial)
              if (std::find(smaller.begin(), smaller.end(), c) != smaller.end()) core.push_back(c);
          } else {
            ++k;
          }
        }
        for (const auto& c : core) dr.blockers.push_back(std::stoul(c.substr(3)));
        std::sort(dr.blockers.begin(), dr.blockers.end());
      }
    }
    z.pop();
    r.dead.push_back(std::move(dr));
  }

  r.overlaps_skipped = opt.overlaps && n > opt.max_overlap_rows;
  if (opt.overlaps && !r.overlaps_skipped)
    for (std::size_t j = 0; j < n; ++j)
      for (std::size_t i = 0; i < j; ++i) {
        if (t.rules[i].then == t.rules[j].then || !matchable[i] || !matchable[j]) continue;
        z.push();
        z.add(m[i] && m[j]);
        const auto q = "overlap:" + id(i) + ":" + id(j);
        if (ask(q) == smt::answer::sat)
          r.overlaps.push_back({i, j, typical_observation(z, o, prefix + q, opt.timeout_ms)});
        z.pop();
      }

  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace migchan::proofs
