// The observation space as bitsets, and the formula store with its cubes and the names of atoms in rule ids.
#include "proofs/c_reader/formula.h"

#include <algorithm>

namespace migchan::c_reader_detail {

// ================================================================ observation space

namespace {

constexpr std::size_t n_words = (n_obs + 63) / 64;

int column_value(const observation& o, column c) {
  switch (c) {
    case column::mm_done: return o.has_main && (!o.multifd || o.all_multifd);
    case column::peekable: return is_peekable(o.transport);
    case column::transport: return static_cast<int>(o.transport);
    case column::magic: return static_cast<int>(o.magic);
    case column::has_main: return o.has_main;
    case column::all_multifd: return o.all_multifd;
    case column::has_preempt: return o.has_preempt;
    case column::state: return static_cast<int>(o.state);
    case column::multifd: return o.multifd;
    case column::postcopy_ram: return o.postcopy_ram;
    case column::postcopy_preempt: return o.postcopy_preempt;
    case column::mapped_ram: return o.mapped_ram;
  }
  return 0;
}

bits all_bits() { return bits(n_words, ~std::uint64_t{0}); }

bits column_bits(column c, mask m) {
  const auto& u = space();
  bits r = no_bits();
  for (std::size_t v = 0; v < info(c).size; ++v)
    if ((m >> v) & 1u) or_with(r, u.val[static_cast<std::size_t>(c)][v]);
  return r;
}

cube full_cube() {
  cube q{};
  for (std::size_t c = 0; c < column_count; ++c) q[c] = domain_mask(column(c));
  return q;
}

bool subset(const cube& a, const cube& b) {
  for (std::size_t c = 0; c < column_count; ++c)
    if ((a[c] & ~b[c]) != 0) return false;
  return true;
}

}  // namespace

const universe& space() {
  static const universe u = [] {
    universe r;
    for (auto& c : r.val)
      for (auto& v : c) v.assign(n_words, 0);
    r.obs.reserve(n_obs);
    for_each_raw([&](const observation& o) {
      const std::size_t i = r.obs.size();
      for (std::size_t c = 0; c < column_count; ++c) {
        const int v = column_value(o, column(c));
        r.val[c][static_cast<std::size_t>(v)][i / 64] |= std::uint64_t{1} << (i % 64);
      }
      r.obs.push_back(o);
    });
    return r;
  }();
  return u;
}

bits no_bits() { return bits(n_words, 0); }
void and_with(bits& a, const bits& b) {
  for (std::size_t i = 0; i < n_words; ++i) a[i] &= b[i];
}
void or_with(bits& a, const bits& b) {
  for (std::size_t i = 0; i < n_words; ++i) a[i] |= b[i];
}
void and_not(bits& a, const bits& b) {
  for (std::size_t i = 0; i < n_words; ++i) a[i] &= ~b[i];
}
bool none(const bits& a) {
  return std::all_of(a.begin(), a.end(), [](std::uint64_t w) { return w == 0; });
}

bits cube_bits(const cube& q) {
  bits r = all_bits();
  for (std::size_t c = 0; c < column_count; ++c)
    if (q[c] != domain_mask(column(c))) and_with(r, column_bits(column(c), q[c]));
  return r;
}

// ================================================================ formulas

namespace {

std::vector<cube> product(const std::vector<cube>& xs, const std::vector<cube>& ys, bool& overflow) {
  std::vector<cube> r;
  for (const auto& x : xs)
    for (const auto& y : ys) {
      cube q{};
      bool empty = false;
      for (std::size_t c = 0; c < column_count; ++c) {
        q[c] = static_cast<mask>(x[c] & y[c]);
        empty = empty || q[c] == 0;
      }
      if (empty) continue;
      if (r.size() >= max_cubes) {
        overflow = true;
        return r;
      }
      r.push_back(q);
    }
  return r;
}

// Subsumed disjuncts go; disjuncts that differ in one column merge.
std::vector<cube> tidy(std::vector<cube> v) {
  for (bool changed = true; changed && v.size() <= 64;) {
    changed = false;
    for (std::size_t i = 0; i < v.size() && !changed; ++i)
      for (std::size_t j = 0; j < v.size() && !changed; ++j) {
        if (i == j) continue;
        std::size_t differ = 0, where = 0;
        for (std::size_t c = 0; c < column_count; ++c)
          if (v[i][c] != v[j][c]) ++differ, where = c;
        if (differ == 1) {
          v[std::min(i, j)][where] = static_cast<mask>(v[i][where] | v[j][where]);
          v.erase(v.begin() + static_cast<std::ptrdiff_t>(std::max(i, j)));
          changed = true;
        }
      }
  }
  std::vector<cube> r;
  for (std::size_t i = 0; i < v.size(); ++i) {
    bool dup = false;
    for (std::size_t j = 0; j < v.size() && !dup; ++j)
      dup = j != i && subset(v[i], v[j]) && (!subset(v[j], v[i]) || j < i);
    if (!dup) r.push_back(v[i]);
  }
  return r;
}

// ---------------------------------------------------------------- names

std::string value_name(column c, std::size_t v) {
  std::string s(info(c).value_names[v]);
  std::replace(s.begin(), s.end(), '-', '_');
  return s;
}

// A name for an atom in a rule id: "first" for !mis->from_src_file,
// "tls_or_file" for a transport set, "not_postcopy_paused" for a state != X.
std::string atom_name(column c, mask m) {
  const auto n = info(c).size;
  if (n == 2) {
    const bool y = m == yes;
    switch (c) {
      case column::mm_done: return y ? "mm_done" : "before_mm";
      case column::peekable: return y ? "peekable" : "nopeek";
      case column::has_main: return y ? "after_main" : "first";
      case column::postcopy_preempt: return y ? "preempt" : "no_preempt";
      default: return (y ? "" : "no_") + std::string(info(c).name);
    }
  }
  std::size_t count = 0;
  for (std::size_t v = 0; v < n; ++v) count += (m >> v) & 1u;
  const bool positive = count * 2 <= n;
  std::string s = positive ? "" : "not_";
  bool sep = false;
  for (std::size_t v = 0; v < n; ++v)
    if ((((m >> v) & 1u) != 0) == positive) {
      s += (sep ? "_or_" : "") + value_name(c, v);
      sep = true;
    }
  return s;
}

}  // namespace

formulas::formulas(const reporter& err, const pos& cur) : err_(err), cur_(cur) {
  fn_.push_back({fnode::t, column::mm_done, 0, -1, -1, 1});  // formula 0: true
  fn_.push_back({fnode::f, column::mm_done, 0, -1, -1, 1});  // formula 1: false
}

int formulas::f_new(fnode n) {
  if (n.a >= 0) n.depth = std::max(n.depth, fn_[static_cast<std::size_t>(n.a)].depth + 1);
  if (n.b >= 0) n.depth = std::max(n.depth, fn_[static_cast<std::size_t>(n.b)].depth + 1);
  if (n.depth > max_depth || fn_.size() >= max_formula_nodes) err_.unsupported(cur_, "condition too complex");
  fn_.push_back(n);
  return static_cast<int>(fn_.size() - 1);
}

int formulas::f_atom(column c, mask m) {
  m = static_cast<mask>(m & domain_mask(c));
  if (m == 0) return 1;
  if (m == domain_mask(c)) return 0;
  return f_new({fnode::atom, c, m, -1, -1, 1});
}

int formulas::f_and(int a, int b) {
  const auto& x = fn_[static_cast<std::size_t>(a)];
  const auto& y = fn_[static_cast<std::size_t>(b)];
  if (x.op == fnode::f || y.op == fnode::t) return a;
  if (y.op == fnode::f || x.op == fnode::t) return b;
  if (x.op == fnode::atom && y.op == fnode::atom && x.col == y.col) return f_atom(x.col, static_cast<mask>(x.m & y.m));
  return f_new({fnode::conj, column::mm_done, 0, a, b, 1});
}

int formulas::f_or(int a, int b) {
  const auto& x = fn_[static_cast<std::size_t>(a)];
  const auto& y = fn_[static_cast<std::size_t>(b)];
  if (x.op == fnode::t || y.op == fnode::f) return a;
  if (y.op == fnode::t || x.op == fnode::f) return b;
  if (x.op == fnode::atom && y.op == fnode::atom && x.col == y.col) return f_atom(x.col, static_cast<mask>(x.m | y.m));
  return f_new({fnode::disj, column::mm_done, 0, a, b, 1});
}

int formulas::f_not(int a) {
  const fnode n = fn_[static_cast<std::size_t>(a)];
  switch (n.op) {
    case fnode::t: return 1;
    case fnode::f: return 0;
    case fnode::atom: return f_atom(n.col, static_cast<mask>(~n.m));
    case fnode::conj: return f_or(f_not(n.a), f_not(n.b));
    case fnode::disj: return f_and(f_not(n.a), f_not(n.b));
  }
  return 0;
}

bits formulas::f_bits(int a) {
  const fnode n = fn_[static_cast<std::size_t>(a)];
  switch (n.op) {
    case fnode::t: return all_bits();
    case fnode::f: return no_bits();
    case fnode::atom: return column_bits(n.col, n.m);
    case fnode::conj: {
      bits r = f_bits(n.a);
      and_with(r, f_bits(n.b));
      return r;
    }
    case fnode::disj: {
      bits r = f_bits(n.a);
      or_with(r, f_bits(n.b));
      return r;
    }
  }
  return no_bits();
}

std::vector<cube> formulas::f_cubes(int a) {
  const fnode n = fn_[static_cast<std::size_t>(a)];
  bool overflow = false;
  std::vector<cube> r;
  switch (n.op) {
    case fnode::t: r.push_back(full_cube()); break;
    case fnode::f: break;
    case fnode::atom: {
      cube q = full_cube();
      q[static_cast<std::size_t>(n.col)] = n.m;
      r.push_back(q);
      break;
    }
    case fnode::conj: r = product(f_cubes(n.a), f_cubes(n.b), overflow); break;
    case fnode::disj:
      r = f_cubes(n.a);
      for (const auto& q : f_cubes(n.b)) {
        if (r.size() >= max_cubes) {
          overflow = true;
          break;
        }
        r.push_back(q);
      }
      break;
  }
  if (overflow) err_.unsupported(cur_, "condition too complex");
  return r;
}

std::vector<cube> formulas::cubes_of(const std::vector<int>& conj) {
  std::vector<cube> r{full_cube()};
  bool overflow = false;
  for (int f : conj) {
    r = product(r, f_cubes(f), overflow);
    if (overflow) err_.unsupported(cur_, "condition too complex");
  }
  return tidy(std::move(r));
}

// Names the atoms of a conjunction; false for anything with an `or` in it.
bool formulas::f_names(int a, std::string& out) const {
  const fnode& n = fn_[static_cast<std::size_t>(a)];
  if (n.op == fnode::atom) {
    out += (out.empty() ? "" : "_") + atom_name(n.col, n.m);
    return true;
  }
  if (n.op == fnode::conj) return f_names(n.a, out) && f_names(n.b, out);
  return false;
}

}  // namespace migchan::c_reader_detail
