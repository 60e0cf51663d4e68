// Single-rule mutants of a classifier table, for mutation testing of the
// properties: each mutant is the table with one rule's decision
// changed, one rule deleted, two adjacent rules swapped, or one guard column
// widened to any or narrowed by one value. A mutant owns its rows and is read
// through a `table` view with the original's forbids and semantics.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "model/check.h"

namespace migchan::mutation {

enum class op : std::uint8_t { decision, deletion, swap, widen, narrow };
std::string_view name(op o);  // "decision", "deletion", "swap", "widen", "narrow"

struct mutant {
  op kind;
  std::string what;        // e.g. "peek.main: then main -> reject", "peek.main: has_main {no} -> any"
  std::string table_name;  // the view's name: "<original>~<index>"
  std::vector<rule> rules;

  // The mutant as a table: `original` with these rows. Valid while *this lives
  // and is not moved from.
  table view(const table& original) const;
};

std::vector<mutant> single_rule_mutants(const table& t);

// "{vm_file_magic,silent}", "any" or "{}" for a column's mask.
std::string describe_mask(column c, mask m);

using migchan::for_each_raw_observation;  // model/check.h

// Where two tables with the same configuration rules decide a valid
// observation differently: a different verdict, or, for two rejects, a
// different error text.
struct difference {
  observation o;
  decision a, b;
};
struct comparison {
  std::size_t observations = 0;  // valid observations compared
  std::size_t differing = 0;
  std::optional<difference> first;
};
comparison compare(const table& a, const table& b);

// "peek.main (main)", "(no rule) (reject)"
std::string describe(const decision& d);

}  // namespace migchan::mutation
