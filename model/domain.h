// A value domain lets one piece of model code be read two ways: with
// `concrete_domain` it computes (constexpr, used by the runtime and the brute-force
// enumerator); with the SMT domain in proofs/ the same code builds Z3 terms. That is
// how the Z3 encoding is derived from the rule rows and the step function instead
// of being a second hand-written copy of them.
//
// A domain D provides:
//   D::boolean, D::integer           value types
//   D::lit(bool), D::num(int)        constants
//   D::ite(c, a, b)                  for both value types
// and the operators  && || !  on booleans,  == != < <= > >= + -  on integers
// (also against plain int).
#pragma once

namespace migchan {

struct concrete_domain {
  using boolean = bool;
  using integer = int;
  static constexpr boolean lit(bool b) { return b; }
  static constexpr integer num(int v) { return v; }
  static constexpr boolean ite(boolean c, boolean a, boolean b) { return c ? a : b; }
  static constexpr integer ite(boolean c, integer a, integer b) { return c ? a : b; }
};

}  // namespace migchan
