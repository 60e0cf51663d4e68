// The only file that includes z3++.h. Terms cross the header as reference-counted
// Z3_ast handles; everything else (context, solver, model) stays in here.
#include "proofs/smt.h"

#include <z3++.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>

namespace migchan::smt {

namespace {

// One context per thread, so independent queries (one classifier each) can run
// on several cores; an expr belongs to the thread that made it. Set once the
// context is gone (thread exit), so exprs that outlive it do not release
// references into freed memory.
thread_local bool context_gone = false;

struct context_owner {
  z3::context c;  // Z3_mk_context_rc; errors are reported as z3::exception
  ~context_owner() { context_gone = true; }
};

z3::context& ctx() {
  thread_local context_owner owner;
  return owner.c;
}

Z3_ast handle(std::uintptr_t p) { return reinterpret_cast<Z3_ast>(p); }

[[noreturn]] void misuse(const std::string& what) { throw std::logic_error("smt: " + what); }

}  // namespace

// The bridge between expr's handle and z3::expr.
struct access {
  using sort_t = expr::sort_t;

  static z3::expr term(const expr& e) {
    switch (e.sort_) {
      case expr::sort_t::none: misuse("use of a null expr");
      case expr::sort_t::boolean:
        if (e.is_const()) return ctx().bool_val(e.value_ != 0);
        break;
      case expr::sort_t::integer:
        if (e.is_const()) return ctx().int_val(static_cast<int64_t>(e.value_));
        break;
    }
    return z3::expr(ctx(), handle(e.ast_));
  }

  static expr wrap(const z3::expr& t) {
    expr e;
    if (t.is_bool()) e.sort_ = expr::sort_t::boolean;
    else if (t.is_int()) e.sort_ = expr::sort_t::integer;
    else misuse("unexpected sort " + t.get_sort().to_string());
    Z3_ast a = t;
    Z3_inc_ref(ctx(), a);
    e.ast_ = reinterpret_cast<std::uintptr_t>(a);
    return e;
  }

  // Build a term with Z3, turning its errors into one-line runtime_errors.
  template <class F> static expr build(F f) {
    try {
      return wrap(f());
    } catch (const z3::exception& ex) {
      throw std::runtime_error(std::string("smt: cannot build term: ") + ex.msg());
    }
  }

  static expr constant(expr::sort_t s, long long v) {
    expr e;
    e.sort_ = s;
    e.value_ = v;
    return e;
  }

  static void require(const expr& e, expr::sort_t s, const char* op) {
    if (e.sort_ == expr::sort_t::none) misuse(std::string("null expr given to ") + op);
    if (e.sort_ != s)
      misuse(std::string(op) + " needs " + (s == expr::sort_t::boolean ? "boolean" : "integer") + " operands");
  }

  // a is (not b) or b is (not a)
  static bool negates(const expr& a, const expr& b) {
    if (a.is_const() || b.is_const()) return false;
    auto neg_of = [](const expr& x, const expr& y) {
      z3::expr t = term(x);
      return t.is_not() && static_cast<Z3_ast>(t.arg(0)) == handle(y.ast_);
    };
    return neg_of(a, b) || neg_of(b, a);
  }

  static expr::sort_t sort_of(const expr& e) { return e.sort_; }
};

using sort_t = access::sort_t;

// ---- expr: lifetime -----------------------------------------------------------

expr::expr(const expr& o) : sort_(o.sort_), value_(o.value_), ast_(o.ast_) {
  if (ast_) Z3_inc_ref(ctx(), handle(ast_));
}

expr::expr(expr&& o) noexcept : sort_(o.sort_), value_(o.value_), ast_(o.ast_) {
  o.sort_ = sort_t::none;
  o.ast_ = 0;
}

expr& expr::operator=(const expr& o) {
  if (this != &o) {
    expr copy(o);
    *this = std::move(copy);
  }
  return *this;
}

expr& expr::operator=(expr&& o) noexcept {
  if (this != &o) {
    if (ast_ && !context_gone) Z3_dec_ref(ctx(), handle(ast_));
    sort_ = o.sort_;
    value_ = o.value_;
    ast_ = o.ast_;
    o.sort_ = sort_t::none;
    o.ast_ = 0;
  }
  return *this;
}

expr::~expr() {
  if (ast_ && !context_gone) Z3_dec_ref(ctx(), handle(ast_));
}

// ---- expr: factories and queries ------------------------------------------------

expr expr::boolean(bool b) { return access::constant(sort_t::boolean, b ? 1 : 0); }
expr expr::integer(int v) { return access::constant(sort_t::integer, v); }

expr expr::bool_var(const std::string& name) {
  return access::build([&] { return ctx().bool_const(name.c_str()); });
}

expr expr::int_var(const std::string& name) {
  return access::build([&] { return ctx().int_const(name.c_str()); });
}

std::optional<long long> expr::as_int() const {
  if (is_int() && is_const()) return value_;
  return std::nullopt;
}

bool expr::same(const expr& o) const {
  if (sort_ != o.sort_) return false;
  if (is_const() != o.is_const()) return false;
  return is_const() ? value_ == o.value_ : ast_ == o.ast_;
}

std::string expr::str() const {
  if (!valid()) return "<null>";
  if (is_bool() && is_const()) return value_ ? "true" : "false";
  if (is_const()) return std::to_string(value_);
  return access::term(*this).to_string();
}

// ---- expr: booleans -------------------------------------------------------------

expr operator!(const expr& a) {
  access::require(a, sort_t::boolean, "operator!");
  if (a.is_const()) return expr::boolean(!a.value_);
  z3::expr t = access::term(a);
  if (t.is_not()) return access::wrap(t.arg(0));  // !!x -> x
  return access::build([&] { return !t; });
}

expr operator&&(const expr& a, const expr& b) {
  access::require(a, sort_t::boolean, "operator&&");
  access::require(b, sort_t::boolean, "operator&&");
  if (a.is_false() || b.is_true() || a.same(b)) return a;
  if (b.is_false() || a.is_true()) return b;
  if (access::negates(a, b)) return expr::boolean(false);
  return access::build([&] { return access::term(a) && access::term(b); });
}

expr operator||(const expr& a, const expr& b) {
  access::require(a, sort_t::boolean, "operator||");
  access::require(b, sort_t::boolean, "operator||");
  if (a.is_true() || b.is_false() || a.same(b)) return a;
  if (b.is_true() || a.is_false()) return b;
  if (access::negates(a, b)) return expr::boolean(true);
  return access::build([&] { return access::term(a) || access::term(b); });
}

expr implies(const expr& a, const expr& b) { return !a || b; }

// ---- expr: comparisons ----------------------------------------------------------

expr operator==(const expr& a, const expr& b) {
  if (!a.valid() || !b.valid()) misuse("null expr given to operator==");
  if (access::sort_of(a) != access::sort_of(b)) misuse("operator== needs operands of one sort");
  if (a.is_const() && b.is_const()) return expr::boolean(a.value_ == b.value_);
  if (a.same(b)) return expr::boolean(true);
  if (a.is_bool()) {
    if (a.is_true()) return b;
    if (b.is_true()) return a;
    if (a.is_false()) return !b;
    if (b.is_false()) return !a;
    if (access::negates(a, b)) return expr::boolean(false);
  }
  return access::build([&] { return access::term(a) == access::term(b); });
}

expr operator!=(const expr& a, const expr& b) { return !(a == b); }

namespace {

template <class Fold, class Build>
expr compare(const expr& a, const expr& b, const char* op, bool reflexive, Fold fold, Build build) {
  access::require(a, sort_t::integer, op);
  access::require(b, sort_t::integer, op);
  if (a.is_const() && b.is_const()) return expr::boolean(fold(*a.as_int(), *b.as_int()));
  if (a.same(b)) return expr::boolean(reflexive);
  return access::build([&] { return build(access::term(a), access::term(b)); });
}

}  // namespace

expr operator<(const expr& a, const expr& b) {
  return compare(
      a, b, "operator<", false, [](long long x, long long y) { return x < y; },
      [](const z3::expr& x, const z3::expr& y) { return x < y; });
}
expr operator<=(const expr& a, const expr& b) {
  return compare(
      a, b, "operator<=", true, [](long long x, long long y) { return x <= y; },
      [](const z3::expr& x, const z3::expr& y) { return x <= y; });
}
expr operator>(const expr& a, const expr& b) { return b < a; }
expr operator>=(const expr& a, const expr& b) { return b <= a; }

// ---- expr: arithmetic -----------------------------------------------------------

expr operator+(const expr& a, const expr& b) {
  access::require(a, sort_t::integer, "operator+");
  access::require(b, sort_t::integer, "operator+");
  long long sum;
  if (a.is_const() && b.is_const() && !__builtin_add_overflow(*a.as_int(), *b.as_int(), &sum))
    return access::constant(sort_t::integer, sum);
  if (a.as_int() == 0) return b;
  if (b.as_int() == 0) return a;
  return access::build([&] { return access::term(a) + access::term(b); });
}

expr operator-(const expr& a, const expr& b) {
  access::require(a, sort_t::integer, "operator-");
  access::require(b, sort_t::integer, "operator-");
  long long diff;
  if (a.is_const() && b.is_const() && !__builtin_sub_overflow(*a.as_int(), *b.as_int(), &diff))
    return access::constant(sort_t::integer, diff);
  if (b.as_int() == 0) return a;
  if (a.same(b)) return expr::integer(0);
  return access::build([&] { return access::term(a) - access::term(b); });
}

expr operator-(const expr& a) { return expr::integer(0) - a; }

expr ite(const expr& c, const expr& a, const expr& b) {
  access::require(c, sort_t::boolean, "ite");
  if (!a.valid() || !b.valid()) misuse("null expr given to ite");
  if (access::sort_of(a) != access::sort_of(b)) misuse("ite needs branches of one sort");
  if (c.is_true() || a.same(b)) return a;
  if (c.is_false()) return b;
  if (a.is_bool()) {
    if (a.is_true()) return c || b;
    if (a.is_false()) return !c && b;
    if (b.is_true()) return !c || a;
    if (b.is_false()) return c && a;
  }
  return access::build([&] { return z3::ite(access::term(c), access::term(a), access::term(b)); });
}

std::string_view name(answer a) {
  switch (a) {
    case answer::sat: return "sat";
    case answer::unsat: return "unsat";
    case answer::unknown: break;
  }
  return "unknown";
}

// ---- solver ---------------------------------------------------------------------

namespace {

struct named_assumption {
  std::string name;
  z3::expr literal;  // the tracking literal guarding the assumption
};

thread_local unsigned next_literal = 0;  // tracking literals are unique across a context's solvers

// Timeouts are enforced here rather than with Z3's "timeout" parameter. In Z3
// 4.8.12 that parameter is unreliable: its timer fires once, and the cancel it
// sets is cleared by any reslimit push/pop that follows (util/rlimit.cpp), so a
// query can run on unbounded; and an expired timer returns to the worker pool
// while its mutex is still held, so a nested timer (try_for) deadlocks (Z3 PR
// #5371, fixed later). The watchdog instead interrupts the context after the
// deadline and keeps interrupting until the check returns.
class watchdog {
 public:
  // Interrupts `c`, the context of the thread that checks. One thread for all the
  // checks of a solver, started at the first timed one: a thread a check cost
  // verify 8 % of its wall time (some 2,000 checks of a few microseconds each).
  explicit watchdog(z3::context& c) : c_(c) {}
  watchdog(const watchdog&) = delete;
  watchdog& operator=(const watchdog&) = delete;
  ~watchdog() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      quit_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  // Watches one check while the returned guard lives: past `ms` from now,
  // interrupt until the guard stops it or is destroyed (also when the check throws).
  class guard {
   public:
    explicit guard(watchdog* d) : d_(d) {}
    guard(const guard&) = delete;
    guard& operator=(const guard&) = delete;
    ~guard() { stop(); }
    // The check has returned; true if an interrupt was sent for it.
    bool stop() {
      watchdog* d = std::exchange(d_, nullptr);
      return d && d->disarm();
    }

   private:
    watchdog* d_;
  };
  [[nodiscard]] guard arm(std::optional<unsigned> ms) {
    if (!ms) return guard(nullptr);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      deadline_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(*ms);
      armed_ = true;
      fired_ = false;
      ++generation_;
      if (!thread_.joinable()) thread_ = std::thread([this] { watch(); });
    }
    cv_.notify_all();
    return guard(this);
  }

 private:
  bool disarm() {
    bool fired;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      armed_ = false;
      fired = fired_;
    }
    cv_.notify_all();
    return fired;
  }

  void watch() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!quit_) {
      if (!armed_) {
        cv_.wait(lock, [this] { return armed_ || quit_; });
        continue;
      }
      const auto generation = generation_;
      const auto over = [this, generation] { return generation_ != generation || !armed_ || quit_; };
      if (cv_.wait_until(lock, deadline_, over)) continue;
      while (!over()) {  // past the deadline: interrupt until the check returns
        Z3_interrupt(c_);
        fired_ = true;
        cv_.wait_for(lock, std::chrono::milliseconds(10), over);
      }
    }
  }

  z3::context& c_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::chrono::steady_clock::time_point deadline_;
  unsigned long generation_ = 0;
  bool armed_ = false, fired_ = false, quit_ = false;
  std::thread thread_;
};

// Z3_interrupt's cancel is sticky until the next check pushes a resource limit.
// One that lands just as the check returns would make later model evaluation
// fail with "canceled", so run an empty check to clear it.
void clear_stale_cancel() {
  z3::solver empty(ctx(), z3::solver::simple());
  empty.check();
}

}  // namespace

struct solver::impl {
  // The plain SMT kernel, not the default combined solver: a query without
  // assumptions would go to the tactic solver, whose try_for tactics start
  // nested Z3 timers (see watchdog for why those are avoided).
  // Arithmetic solver 2 (the older simplex core) answers migchan's queries,
  // bounded integer counts under many if-then-elses, 3 to 5 times faster than
  // 4.8.12's default (bench/verify_bench.cpp).
  z3::solver s = [] {
    z3::solver x(ctx(), z3::solver::simple());
    z3::params p(ctx());
    p.set("smt.arith.solver", 2u);
    x.set(p);
    return x;
  }();
  std::vector<named_assumption> named;
  std::vector<std::size_t> scopes;  // named.size() at each push()
  std::optional<z3::model> model;   // after sat
  std::vector<std::string> core;    // after unsat
  std::string last_query;
  std::optional<answer> last;  // of the last check, if any
  watchdog dog{ctx()};         // the checking thread's context: a solver is used where it was made

  // Run one check; `enabled` are the tracking literals to assume.
  result run(const std::string& query, const z3::expr_vector& enabled, std::optional<unsigned> timeout_ms) {
    model.reset();
    core.clear();
    last.reset();
    last_query = query;
    result r;
    r.query = query;
    try {
      auto t0 = std::chrono::steady_clock::now();
      auto watching = dog.arm(timeout_ms);
      z3::check_result cr = s.check(enabled);
      const bool timed_out = watching.stop();
      r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (timed_out) {
        clear_stale_cancel();
        if (cr == z3::unknown) {
          r.answer = answer::unknown;
          r.reason = "timeout";
          return finish(r);
        }
      }
      switch (cr) {
        case z3::sat:
          r.answer = answer::sat;
          model = s.get_model();
          break;
        case z3::unsat: {
          r.answer = answer::unsat;
          z3::expr_vector c = s.unsat_core();
          for (const auto& n : named)
            for (unsigned i = 0; i < c.size(); ++i)
              if (z3::eq(c[i], n.literal)) {
                core.push_back(n.name);
                break;
              }
          break;
        }
        case z3::unknown:
          r.answer = answer::unknown;
          r.reason = s.reason_unknown();
          break;
      }
    } catch (const z3::exception& ex) {
      throw std::runtime_error("smt: query '" + query + "': " + ex.msg());
    }
    return finish(r);
  }

  result finish(const result& r) {
    last = r.answer;
    return r;
  }

  const z3::expr& literal(const std::string& query, const std::string& want) const {
    auto it = std::find_if(named.begin(), named.end(), [&](const named_assumption& n) { return n.name == want; });
    if (it == named.end()) misuse("query '" + query + "': no assumption named '" + want + "'");
    return it->literal;
  }

  z3::expr_vector all_literals() const {
    z3::expr_vector v(ctx());
    for (const auto& n : named) v.push_back(n.literal);
    return v;
  }

  const z3::model& need_model(const char* what) const {
    if (!model) misuse(std::string(what) + " needs a sat answer from the last check");
    return *model;
  }
};

solver::solver() : p_(std::make_unique<impl>()) {}
solver::~solver() = default;
solver::solver(solver&&) noexcept = default;
solver& solver::operator=(solver&&) noexcept = default;

void solver::add(const expr& e) {
  access::require(e, sort_t::boolean, "solver::add");
  if (e.is_true()) return;
  try {
    p_->s.add(access::term(e));
  } catch (const z3::exception& ex) {
    throw std::runtime_error(std::string("smt: cannot add constraint: ") + ex.msg());
  }
}

void solver::add(const expr& e, const std::string& name) {
  access::require(e, sort_t::boolean, "solver::add");
  for (const auto& n : p_->named)
    if (n.name == name) misuse("assumption '" + name + "' is already in scope");
  try {
    std::string lit_name = "assume!" + std::to_string(next_literal++) + "!" + name;
    z3::expr lit = ctx().bool_const(lit_name.c_str());
    p_->s.add(z3::implies(lit, access::term(e)));
    p_->named.push_back({name, lit});
  } catch (const z3::exception& ex) {
    throw std::runtime_error("smt: cannot add assumption '" + name + "': " + ex.msg());
  }
}

void solver::push() {
  p_->s.push();
  p_->scopes.push_back(p_->named.size());
}

void solver::pop() {
  if (p_->scopes.empty()) misuse("pop() without push()");
  p_->s.pop();
  p_->named.erase(p_->named.begin() + static_cast<std::ptrdiff_t>(p_->scopes.back()), p_->named.end());
  p_->scopes.pop_back();
}

result solver::check(const std::string& query, std::optional<unsigned> timeout_ms) {
  return p_->run(query, p_->all_literals(), timeout_ms);
}

result solver::check_assuming(const std::string& query, const std::vector<std::string>& names,
                              std::optional<unsigned> timeout_ms) {
  z3::expr_vector enabled(ctx());
  for (const auto& want : names) enabled.push_back(p_->literal(query, want));
  // The others are off: their tracking literals are free, so the solver may
  // falsify them and their guarded constraints hold vacuously.
  return p_->run(query, enabled, timeout_ms);
}

result solver::check_assuming_any(const std::string& query, const std::vector<std::string>& common,
                                  const std::vector<std::vector<std::string>>& sets,
                                  std::optional<unsigned> timeout_ms) {
  z3::expr_vector enabled(ctx());
  for (const auto& want : common) enabled.push_back(p_->literal(query, want));
  try {
    z3::expr_vector any(ctx());
    for (const auto& set : sets) {
      z3::expr_vector all(ctx());
      for (const auto& want : set) all.push_back(p_->literal(query, want));
      any.push_back(z3::mk_and(all));
    }
    // A literal of its own switches the disjunction on for this check only;
    // left free afterwards, it leaves later checks as they were.
    const std::string name = "any!" + std::to_string(next_literal++);
    z3::expr lit = ctx().bool_const(name.c_str());
    p_->s.add(z3::implies(lit, z3::mk_or(any)));
    enabled.push_back(lit);
  } catch (const z3::exception& ex) {
    throw std::runtime_error("smt: query '" + query + "': " + ex.msg());
  }
  return p_->run(query, enabled, timeout_ms);
}

result solver::minimize(const std::string& query, const expr& objective, std::optional<unsigned> timeout_ms) {
  access::require(objective, sort_t::integer, "solver::minimize");
  result r = check(query, timeout_ms);
  if (r.answer != answer::sat || objective.is_const()) return r;
  z3::expr obj = access::term(objective);
  long long best = eval_int(objective);
  z3::model best_model = *p_->model;
  // Each step asks for a strictly smaller value; an objective unbounded below
  // would never stop, so give up after a fixed number of steps.
  constexpr int max_steps = 1000;
  for (int step = 0;; ++step) {
    if (step == max_steps) {
      r.reason = "minimum not proven: gave up after " + std::to_string(max_steps) + " steps";
      break;
    }
    p_->s.push();
    p_->s.add(obj < ctx().int_val(static_cast<int64_t>(best)));
    result next;
    try {
      next = p_->run(query, p_->all_literals(), timeout_ms);
    } catch (...) {
      p_->s.pop();
      throw;
    }
    p_->s.pop();
    r.seconds += next.seconds;
    if (next.answer == answer::unsat) break;
    if (next.answer == answer::unknown) {
      r.reason = "minimum not proven: " + next.reason;
      break;
    }
    best = eval_int(objective);
    best_model = *p_->model;
  }
  p_->model = best_model;
  p_->core.clear();
  p_->last = r.answer = answer::sat;
  return r;
}

bool solver::eval_bool(const expr& e) const {
  access::require(e, sort_t::boolean, "solver::eval_bool");
  const z3::model& m = p_->need_model("eval_bool");
  if (e.is_const()) return e.is_true();
  try {
    z3::expr v = m.eval(access::term(e), true);
    if (v.is_true()) return true;
    if (v.is_false()) return false;
    throw std::runtime_error("smt: query '" + p_->last_query + "': " + e.str() + " has no boolean value in the model");
  } catch (const z3::exception& ex) {
    throw std::runtime_error("smt: query '" + p_->last_query + "': " + ex.msg());
  }
}

long long solver::eval_int(const expr& e) const {
  access::require(e, sort_t::integer, "solver::eval_int");
  const z3::model& m = p_->need_model("eval_int");
  if (e.is_const()) return *e.as_int();
  try {
    z3::expr v = m.eval(access::term(e), true);
    int64_t out = 0;
    if (v.is_numeral_i64(out)) return out;
    throw std::runtime_error("smt: query '" + p_->last_query + "': value of " + e.str() + " does not fit in 64 bits");
  } catch (const z3::exception& ex) {
    throw std::runtime_error("smt: query '" + p_->last_query + "': " + ex.msg());
  }
}

std::vector<std::string> solver::unsat_core() const {
  if (p_->last != answer::unsat) misuse("unsat_core() needs an unsat answer from the last check");
  return p_->core;
}

std::vector<std::string> solver::assumptions() const {
  std::vector<std::string> out;
  for (const auto& n : p_->named) out.push_back(n.name);
  return out;
}

std::string solver::to_smt2() const { return p_->s.to_smt2(); }

}  // namespace migchan::smt
