// Conditions over the guard columns, both as formulas (what a row shows) and as exact sets of observations.
#pragma once

#include <algorithm>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "model/guard.h"
#include "proofs/c_reader/error.h"

namespace migchan::c_reader_detail {

using cube = std::array<mask, column_count>;
using bits = std::vector<std::uint64_t>;

// ---------------------------------------------------------------- observation space
// Every raw observation, in for_each_raw()'s order (model/observation.h).

constexpr std::size_t n_obs = raw_observations;

// The most values any column takes.
constexpr std::size_t max_column_values =
    std::max({enum_size<transport>, enum_size<mig_status>, enum_size<first_bytes>, std::size_t{2}});

struct universe {
  std::array<std::array<bits, max_column_values>, column_count> val;  // val[c][v]: column c has value v
  std::vector<observation> obs;
};

const universe& space();

bits no_bits();
void and_with(bits& a, const bits& b);
void or_with(bits& a, const bits& b);
void and_not(bits& a, const bits& b);
bool none(const bits& a);
bits cube_bits(const cube& q);

// ---------------------------------------------------------------- formulas
// Negation normal form over column atoms: a negated atom is the atom of the
// complement mask, so a formula is only atoms, ands and ors.

struct fnode {
  enum op_t : std::uint8_t { t, f, atom, conj, disj } op;
  column col = column::mm_done;
  mask m = 0;
  int a = -1, b = -1;
  int depth = 1;
};

// Formulas are indices into one store: 0 is true, 1 is false.
class formulas {
 public:
  // `cur`: the statement being run, for errors found deep in a formula.
  formulas(const reporter& err, const pos& cur);

  const fnode& operator[](int a) const { return fn_[static_cast<std::size_t>(a)]; }

  int f_atom(column c, mask m);
  int f_and(int a, int b);
  int f_or(int a, int b);
  int f_not(int a);
  bits f_bits(int a);
  std::vector<cube> cubes_of(const std::vector<int>& conj);
  bool f_names(int a, std::string& out) const;

 private:
  int f_new(fnode n);
  std::vector<cube> f_cubes(int a);

  const reporter& err_;
  const pos& cur_;
  std::vector<fnode> fn_;
};

}  // namespace migchan::c_reader_detail
