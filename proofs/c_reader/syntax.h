// The C subset as a tree of tokens, expressions and statements (indices into vectors), the index of
// a file's function definitions, and the parser that adds a function (or a list of statements) to
// the tree.
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
  enum kind_t : std::uint8_t {
    ident,
    number,
    string,
    charlit,
    call,
    member,
    index,
    unary,
    postfix,
    binary,
    assign,
    ternary,
    cast,
    size_of,
    braces
  } kind;
  std::size_t tok;          // the identifier, literal or operator
  std::size_t first, last;  // token range, for quoting the source
  std::vector<int> kids;    // call: callee then arguments
  int depth = 1;
};

struct stmt {
  enum kind_t : std::uint8_t {
    block,
    if_,
    expression,
    decl,
    return_,
    goto_,
    label,
    empty,
    elided,
    while_,
    break_,
    continue_
  } kind;
  std::size_t tok;
  int cond = -1, value = -1;  // if/while: condition (-1: for (;;)); expression/return: the expression
  std::vector<int> kids;      // block: statements; if: {then}, while: {body}; else_kids: {else}
  std::vector<int> else_kids;
  std::vector<std::pair<std::size_t, int>> declarators;  // name token, initializer or -1
};

// A function definition at a file's outer level, found without parsing it.
struct fn_def {
  std::string name;
  std::string type;  // the word before the name: "bool", "void", "MigChannelType", ...
  std::uint32_t file = 0;
  std::size_t open = 0, close = 0;  // offsets of the body's '{' and its '}'
  pos open_at, close_at;
  std::set<std::string, std::less<>> calls;  // names called in the body
  bool names_channel = false;                // a CH_* constant appears in the body
};

// Every function definition at the outer level of a cleaned text, in one
// linear pass that follows only comments, literals, parentheses and braces.
// Unbalanced braces around a definition are an error.
std::vector<fn_def> index_functions(std::string_view text, std::uint32_t file, const reporter& err);

struct tree {
  std::vector<token> toks;  // each piece parsed ends with a tk::end token
  std::vector<expr> ex;
  std::vector<stmt> st;
  struct body {
    std::string name;                      // "" for a list of statements without a function
    int top = -1;                          // its block
    pos end_at;                            // where falling off the block ends a path
    std::size_t st_begin = 0, st_end = 0;  // its statements are st[st_begin, st_end)
    std::size_t ex_begin = 0, ex_end = 0;  // and its expressions ex[ex_begin, ex_end)
    std::uint32_t file = 0;
  };
  std::vector<body> fns;

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

// Adds the body of `d` (a definition in `text`, the cleaned file) to the tree;
// returns its index in t.fns. `loops`: while, for (;;), break and continue are
// read too (for the helpers whose loops the reader follows).
int parse_function(tree& t, std::string_view text, const fn_def& d, const reporter& err, bool loops);

// Adds the whole text, a list of statements outside any function, as one body
// named `name` (a diff hunk's function, or "").
int parse_statements(tree& t, std::string_view text, std::uint32_t file, const std::string& name, const reporter& err);

}  // namespace migchan::c_reader_detail
