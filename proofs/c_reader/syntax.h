// The C subset as a tree of tokens, expressions and statements (indices into vectors), and its parser.
#pragma once

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proofs/c_reader/error.h"

namespace migchan::c_reader_detail {

enum class tk : std::uint8_t { ident, number, string, charlit, punct, end };

struct token {
  tk kind;
  std::string_view text;  // into the cleaned text
  pos at;
};

struct expr {
  enum kind_t : std::uint8_t { ident, number, string, charlit, call, member, index, unary, postfix, binary, assign, ternary, cast, size_of } kind;
  std::size_t tok;          // the identifier, literal or operator
  std::size_t first, last;  // token range, for quoting the source
  std::vector<int> kids;    // call: callee then arguments
  int depth = 1;
};

struct stmt {
  enum kind_t : std::uint8_t { block, if_, expression, decl, return_, goto_, label, empty, elided } kind;
  std::size_t tok;
  int cond = -1, value = -1;          // if: condition; expression/return: the expression
  std::vector<int> kids;              // block: statements; if: {then} and else_kids: {else}
  std::vector<int> else_kids;
  std::vector<std::pair<std::size_t, int>> declarators;  // name token, initializer or -1
};

struct tree {
  std::vector<token> toks;  // the last one is tk::end
  std::vector<expr> ex;
  std::vector<stmt> st;
  int top = -1;             // the block to run: the classifier's body, or the whole text
  pos end_at;               // where falling off that block ends a path
  std::string function;     // the classifier's name, "" when unknown

  std::string callee(int e) const;  // "" unless a call of a plain name
  int strip_casts(int e) const;
  std::string text_of(int e) const;
  std::string negated_text(int e) const;
  std::string string_of(int e) const;
  bool mentions(int e, std::string_view name) const;
  int find_call(int e, const std::set<std::string_view>& names) const;

 private:
  void unary_tokens(int e, std::set<std::size_t>& out) const;
};

// `text` must outlive the tree (tokens point into it). `hunk_function` names
// the classifier when the text holds no function definition.
tree parse(std::string_view text, const std::string& hunk_function, const reporter& err);

}  // namespace migchan::c_reader_detail
