// The one layer that talks to Z3. Nothing outside smt.cpp sees a Z3 header or a
// Z3_ name: an expr holds its term as a pointer-sized handle (a reference-counted
// Z3_ast) and a solver hides its Z3 objects behind a pimpl.
//
// Constants are folded before Z3 is asked to build anything (true && x -> x,
// 2 == 3 -> false, ite(true, a, b) -> a), so model code run through `domain` on
// known inputs produces plain true/false without touching the solver.
//
// Each thread has its own Z3 context, created on first use: an expr or solver
// must stay on the thread that made it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace migchan::smt {

class expr {
 public:
  // A null expr: only assignable, copyable and destructible. Using it in an
  // operator throws std::logic_error.
  expr() = default;
  expr(const expr& other);
  expr(expr&& other) noexcept;
  expr& operator=(const expr& other);
  expr& operator=(expr&& other) noexcept;
  ~expr();

  static expr boolean(bool b);
  static expr integer(int v);
  static expr bool_var(const std::string& name);
  static expr int_var(const std::string& name);

  bool valid() const { return sort_ != sort_t::none; }
  bool is_bool() const { return sort_ == sort_t::boolean; }
  bool is_int() const { return sort_ == sort_t::integer; }

  // Folded constants: is_true()/is_false() hold only for a literal true/false,
  // never for a term Z3 might prove valid.
  bool is_const() const { return valid() && ast_ == 0; }
  bool is_true() const { return is_bool() && is_const() && value_ != 0; }
  bool is_false() const { return is_bool() && is_const() && value_ == 0; }
  std::optional<long long> as_int() const;  // the value of an integer constant

  // Structural identity (the same constant or the same hash-consed Z3 term).
  // operator== builds an equation instead.
  bool same(const expr& other) const;

  // SMT-LIB text of the term, e.g. "(+ x 1)"; constants print as "true", "3".
  std::string str() const;

  friend expr operator&&(const expr& a, const expr& b);
  friend expr operator||(const expr& a, const expr& b);
  friend expr operator!(const expr& a);
  friend expr operator==(const expr& a, const expr& b);  // integers, or booleans (iff)
  friend expr operator!=(const expr& a, const expr& b);
  friend expr operator<(const expr& a, const expr& b);
  friend expr operator<=(const expr& a, const expr& b);
  friend expr operator>(const expr& a, const expr& b);
  friend expr operator>=(const expr& a, const expr& b);
  friend expr operator+(const expr& a, const expr& b);
  friend expr operator-(const expr& a, const expr& b);
  friend expr operator-(const expr& a);
  friend expr ite(const expr& c, const expr& a, const expr& b);
  friend expr implies(const expr& a, const expr& b);

 private:
  enum class sort_t : std::uint8_t { none, boolean, integer };
  friend class solver;
  friend struct access;  // smt.cpp's bridge to Z3 terms

  sort_t sort_ = sort_t::none;
  long long value_ = 0;     // the constant, when ast_ == 0
  std::uintptr_t ast_ = 0;  // a Z3_ast holding one reference, or 0 for a constant
};

expr ite(const expr& c, const expr& a, const expr& b);  // a and b of one sort
expr implies(const expr& a, const expr& b);

// Mixed with plain values, as model code written for concrete_domain expects.
inline expr operator&&(const expr& a, bool b) { return a && expr::boolean(b); }
inline expr operator&&(bool a, const expr& b) { return expr::boolean(a) && b; }
inline expr operator||(const expr& a, bool b) { return a || expr::boolean(b); }
inline expr operator||(bool a, const expr& b) { return expr::boolean(a) || b; }
inline expr operator==(const expr& a, bool b) { return a == expr::boolean(b); }
inline expr operator==(bool a, const expr& b) { return expr::boolean(a) == b; }
inline expr operator!=(const expr& a, bool b) { return a != expr::boolean(b); }
inline expr operator!=(bool a, const expr& b) { return expr::boolean(a) != b; }
#define MIGCHAN_SMT_INT_OP(op)                                                    \
  inline expr operator op(const expr& a, int b) { return a op expr::integer(b); } \
  inline expr operator op(int a, const expr& b) { return expr::integer(a) op b; }
MIGCHAN_SMT_INT_OP(==)
MIGCHAN_SMT_INT_OP(!=)
MIGCHAN_SMT_INT_OP(<)
MIGCHAN_SMT_INT_OP(<=)
MIGCHAN_SMT_INT_OP(>)
MIGCHAN_SMT_INT_OP(>=)
MIGCHAN_SMT_INT_OP(+)
MIGCHAN_SMT_INT_OP(-)
#undef MIGCHAN_SMT_INT_OP

// The value domain of model/domain.h that builds Z3 terms.
struct domain {
  using boolean = expr;
  using integer = expr;
  static expr lit(bool b) { return expr::boolean(b); }
  static expr num(int v) { return expr::integer(v); }
  static expr ite(const expr& c, const expr& a, const expr& b) { return smt::ite(c, a, b); }
};

enum class answer : std::uint8_t { sat, unsat, unknown };
std::string_view name(answer a);  // "sat", "unsat", "unknown"

struct result {
  smt::answer answer = smt::answer::unknown;
  std::string reason;  // for unknown: Z3's reason_unknown, e.g. "timeout"
  double seconds = 0;
  std::string query;  // the name given to check()
};

// A solver holds hard constraints and named assumptions. A named assumption is
// guarded by its own tracking literal, so an unsat core can name it and
// check_assuming() can switch it off.
//
// Errors from Z3 become std::runtime_error ("smt: query 'q': ..."); misuse (model
// access after unsat, an unknown assumption name) becomes std::logic_error.
class solver {
 public:
  solver();
  ~solver();
  solver(solver&&) noexcept;
  solver& operator=(solver&&) noexcept;
  solver(const solver&) = delete;
  solver& operator=(const solver&) = delete;

  void add(const expr& e);                           // hard constraint
  void add(const expr& e, const std::string& name);  // named assumption; names are unique in scope

  void push();
  void pop();  // also forgets the named assumptions added since the matching push()

  // Check with every named assumption enabled. With timeout_ms the check is
  // interrupted once that much time has passed and answers unknown with reason
  // "timeout" (0 interrupts at once; an answer found first still stands).
  result check(const std::string& query, std::optional<unsigned> timeout_ms = {});
  // Check with only `names` enabled; the other named assumptions are off.
  result check_assuming(const std::string& query, const std::vector<std::string>& names,
                        std::optional<unsigned> timeout_ms = {});
  // Check with `common` enabled and, of `sets`, any one wholly enabled: unsat
  // iff check_assuming(common and s) is unsat for every s in sets, in one search.
  result check_assuming_any(const std::string& query, const std::vector<std::string>& common,
                            const std::vector<std::vector<std::string>>& sets, std::optional<unsigned> timeout_ms = {});
  // check(), then lower `objective` (an integer) step by step until it can go no
  // lower. On sat the model is one of minimal objective. If a step runs out of time
  // the answer stays sat with the best model found and reason says the minimum is
  // not proven.
  result minimize(const std::string& query, const expr& objective, std::optional<unsigned> timeout_ms = {});

  // After sat (model completion on: unconstrained terms get a default value).
  bool eval_bool(const expr& e) const;
  long long eval_int(const expr& e) const;

  // After unsat: the named assumptions in the core, in the order they were added.
  std::vector<std::string> unsat_core() const;
  // The names of the named assumptions currently in scope, in the order added.
  std::vector<std::string> assumptions() const;

  std::string to_smt2() const;  // the assertions, for debugging a query

 private:
  struct impl;
  std::unique_ptr<impl> p_;
};

}  // namespace migchan::smt
