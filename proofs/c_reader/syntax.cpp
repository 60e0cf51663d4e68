// Characters to tokens to nodes: a recursive-descent parser, and the choice of the classifier function.
#include "proofs/c_reader/syntax.h"

#include <algorithm>
#include <iterator>
#include <optional>

#include "proofs/c_reader/clean.h"

namespace migchan::c_reader_detail {
namespace {

constexpr std::string_view puncts3[] = {"...", "<<=", ">>="};
constexpr std::string_view puncts2[] = {"->", "++", "--", "<<", ">>", "<=", ">=", "==", "!=", "&&",
                                        "||", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "##"};
constexpr std::string_view puncts1 = "{}[]();,:?~!%^&*-+=<>|/.";

bool is_keyword(std::string_view s) {
  static constexpr std::string_view kw[] = {"if",      "else",  "while",    "for",    "do",   "switch", "case",
                                            "default", "break", "continue", "return", "goto", "sizeof", "typedef"};
  return std::find(std::begin(kw), std::end(kw), s) != std::end(kw);
}
bool is_type_keyword(std::string_view s) {
  static constexpr std::string_view kw[] = {"void",     "char",   "short",    "int",  "long",  "float",
                                            "double",   "signed", "unsigned", "bool", "_Bool", "const",
                                            "volatile", "static", "struct",   "enum", "union", "extern",
                                            "register", "inline", "restrict"};
  return std::find(std::begin(kw), std::end(kw), s) != std::end(kw);
}

// Where a scan of C text stands: the offset, its line and column, and whether
// only blanks stand before it on its line (a '#' there starts a directive).
struct cursor {
  std::string_view s;
  std::size_t i;
  pos p;
  bool line_start = true;

  void advance(std::size_t n) {
    for (std::size_t k = 0; k < n && i < s.size(); ++k, ++i) {
      if (s[i] == '\n') {
        ++p.line;
        p.col = 1;
        line_start = true;
      } else ++p.col;
    }
  }
  // Steps over one blank, comment or line comment; false at anything else. A comment
  // that never ends is an error for `strict`, else it runs to the end of the text.
  bool skip_blank(const reporter* strict) {
    const char c = s[i];
    if (is_space(c)) {
      advance(1);
      return true;
    }
    if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      const auto e = s.find("*/", i + 2);
      if (e == std::string_view::npos && strict)
        strict->expected(p, "'*/' to close this comment (unterminated comment)");
      advance(e == std::string_view::npos ? s.size() - i : e + 2 - i);
      return true;
    }
    if (c == '/' && i + 1 < s.size() && s[i + 1] == '/') {
      while (i < s.size() && s[i] != '\n') advance(1);
      return true;
    }
    return false;
  }
};

class parser {
 public:
  parser(tree& t, const reporter& err, bool loops) : toks_(t.toks), ex_(t.ex), st_(t.st), err_(err), loops_(loops) {}

  // Tokens of text[begin, end), positions counted from `from`, then a tk::end token.
  void lex(std::string_view text, std::size_t begin, std::size_t end, pos from);
  int parse_body(std::size_t open);  // the block whose '{' is token `open`
  int parse_list();                  // statements up to the end token, as one block
  std::size_t mark() const { return toks_.size(); }
  void start_at(std::size_t k) { at_ = k; }

 private:
  // ------------------------------------------------------------ parsing
  const token& peek(std::size_t k = 0) const { return toks_[std::min(at_ + k, toks_.size() - 1)]; }
  bool is(std::string_view p, std::size_t k = 0) const {
    const auto& t = peek(k);
    return (t.kind == tk::punct || t.kind == tk::ident) && t.text == p;
  }
  std::size_t take() { return at_ < toks_.size() - 1 && toks_[at_].kind != tk::end ? at_++ : at_; }
  void expect(std::string_view p, std::string_view context) {
    if (!is(p)) err_.expected(peek().at, "'" + std::string(p) + "' " + std::string(context) + ", got " + shown(peek()));
    take();
  }
  std::string shown(const token& t) const { return t.kind == tk::end ? "end of input" : "'" + clip(t.text) + "'"; }
  struct nest {
    parser& r;
    explicit nest(parser& rr, pos p) : r(rr) {
      if (++r.nesting_ > max_nesting) r.err_.unsupported(p, "statements nested more than 128 deep");
    }
    ~nest() { --r.nesting_; }
    nest(const nest&) = delete;
    nest& operator=(const nest&) = delete;
  };

  int parse_stmt();
  int parse_block();
  bool at_declaration() const;
  std::size_t macro_block_brace() const;
  int parse_decl();
  int parse_expr() { return parse_assign(); }
  int parse_assign();
  int parse_ternary();
  int parse_binary(int min_prec);
  int parse_unary();
  int parse_postfix();
  int parse_primary();
  bool at_cast() const;
  void skip_type_name();
  int node(expr::kind_t k, std::size_t tok, std::size_t first, std::vector<int> kids);
  int add_stmt(stmt s) {
    if (st_.size() == st_.capacity()) err_.unsupported(toks_[s.tok].at, "a tree larger than its room");
    st_.push_back(std::move(s));
    return static_cast<int>(st_.size() - 1);
  }

  std::vector<token>& toks_;
  std::vector<expr>& ex_;
  std::vector<stmt>& st_;
  const reporter& err_;
  bool loops_;
  std::size_t at_ = 0;
  std::size_t nesting_ = 0;
};

// ================================================================ lexing

void parser::lex(std::string_view text, std::size_t begin, std::size_t end, pos from) {
  cursor cur{text.substr(0, end), begin, from};
  const std::string_view s = cur.s;
  std::size_t& i = cur.i;
  pos& p = cur.p;
  bool& line_start = cur.line_start;
  const auto advance = [&](std::size_t n) { cur.advance(n); };
  while (i < s.size()) {
    if (cur.skip_blank(&err_)) continue;
    const char c = s[i];
    const pos at = p;
    const std::size_t b = i;
    if (toks_.size() >= max_tokens || toks_.size() + 1 >= toks_.capacity())
      err_.unsupported(at, "more than " + std::to_string(max_tokens) + " tokens in the functions read");
    if (c == '#') {
      std::size_t j = i + 1;
      while (j < s.size() && (s[j] == ' ' || s[j] == '\t')) ++j;
      std::size_t k = j;
      while (k < s.size() && is_ident_char(s[k])) ++k;
      err_.unsupported(at, line_start ? "#" + std::string(s.substr(j, k - j)) : "#");
    }
    line_start = false;
    if (is_ident_start(c)) {
      while (i < s.size() && is_ident_char(s[i])) advance(1);
      toks_.push_back({tk::ident, s.substr(b, i - b), at});
    } else if (c >= '0' && c <= '9') {
      while (i < s.size() && (is_ident_char(s[i]) || s[i] == '.')) advance(1);
      toks_.push_back({tk::number, s.substr(b, i - b), at});
    } else if (c == '"' || c == '\'') {
      advance(1);
      while (true) {
        if (i >= s.size() || s[i] == '\n')
          err_.expected(at, std::string(c == '"' ? "'\"'" : "\"'\"") + " to close this literal (unterminated literal)");
        if (s[i] == '\\') {
          advance(i + 1 < s.size() && s[i + 1] != '\n' ? 2 : 1);
          continue;
        }
        if (s[i] == c) {
          advance(1);
          break;
        }
        advance(1);
      }
      toks_.push_back({c == '"' ? tk::string : tk::charlit, s.substr(b, i - b), at});
    } else {
      std::string_view op;
      for (auto q : puncts3)
        if (s.substr(i, 3) == q) op = q;
      if (op.empty())
        for (auto q : puncts2)
          if (s.substr(i, 2) == q) op = q;
      if (op.empty() && puncts1.find(c) != std::string_view::npos) op = s.substr(i, 1);
      if (op.empty()) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7f) err_.unsupported(at, std::string(1, c));
        static constexpr char hex[] = "0123456789abcdef";
        err_.unsupported(at, std::string("byte \\x") + hex[u >> 4] + hex[u & 15]);
      }
      if (op == "##") err_.unsupported(at, "##");
      advance(op.size());
      toks_.push_back({tk::punct, s.substr(b, op.size()), at});
    }
  }
  toks_.push_back({tk::end, {}, p});
}

// ================================================================ parsing

int parser::node(expr::kind_t k, std::size_t tok, std::size_t first, std::vector<int> kids) {
  expr e{k, tok, first, at_ > first ? at_ - 1 : first, std::move(kids), 1};
  for (int c : e.kids) e.depth = std::max(e.depth, ex_[static_cast<std::size_t>(c)].depth + 1);
  if (e.depth > max_depth) err_.unsupported(toks_[tok].at, "expression nested more than 256 deep");
  if (ex_.size() == ex_.capacity()) err_.unsupported(toks_[tok].at, "a tree larger than its room");
  ex_.push_back(std::move(e));
  return static_cast<int>(ex_.size() - 1);
}

int parser::parse_block() {
  const std::size_t open = take();  // '{'
  stmt b{stmt::block, open, -1, -1, {}, {}, {}};
  while (!is("}")) {
    if (peek().kind == tk::end) {
      const auto o = toks_[open].at;
      err_.expected(peek().at, "'}' to close the '{' at " + std::to_string(o.line) + ":" + std::to_string(o.col) +
                                   " (unbalanced braces), got end of input");
    }
    b.kids.push_back(parse_stmt());
  }
  take();
  return add_stmt(std::move(b));
}

// The '{' after NAME(...) when the statement is a macro wrapped around a
// block; 0 otherwise.
std::size_t parser::macro_block_brace() const {
  if (peek().kind != tk::ident || !is("(", 1)) return 0;
  int depth = 0;
  for (std::size_t k = 1; peek(k).kind != tk::end; ++k) {
    if (is("(", k)) ++depth;
    else if (is(")", k) && --depth == 0) return is("{", k + 1) ? at_ + k + 1 : 0;
    else if (is(";", k) || is("{", k) || is("}", k)) return 0;
  }
  return 0;
}

bool parser::at_declaration() const {
  // T... [*...] name (= | ; | , | [): at least one type word, then a name.
  std::size_t k = 0;
  std::size_t words = 0;
  while (peek(k).kind == tk::ident && !is_keyword(peek(k).text)) {
    if (peek(k).text == "struct" || peek(k).text == "enum" || peek(k).text == "union") ++k;
    ++k, ++words;
  }
  std::size_t stars = 0;
  while (is("*", k) || is("const", k)) ++k, ++stars;
  if (stars == 0) {
    if (words < 2) return false;
    --k;  // the last word is the name
  } else {
    if (words < 1 || peek(k).kind != tk::ident || is_keyword(peek(k).text)) return false;
  }
  return is("=", k + 1) || is(";", k + 1) || is(",", k + 1) || is("[", k + 1);
}

int parser::parse_decl() {
  stmt d{stmt::decl, at_, -1, -1, {}, {}, {}};
  while (!(peek().kind == tk::ident && (is("=", 1) || is(";", 1) || is(",", 1) || is("[", 1)))) take();
  while (true) {
    while (is("*") || is("const")) take();
    if (peek().kind != tk::ident) err_.expected(peek().at, "a name in the declaration, got " + shown(peek()));
    const std::size_t name = take();
    while (is("[")) {
      take();
      if (!is("]")) parse_expr();
      expect("]", "after the array size");
    }
    int init = -1;
    if (is("=")) {
      take();
      if (is("{")) {  // struct iovec iov = { ... }: kept as an opaque value
        const std::size_t first = at_;
        int depth = 0;
        do {
          if (peek().kind == tk::end) err_.expected(peek().at, "'}' to close the initializer, got end of input");
          if (is("{")) ++depth;
          if (is("}")) --depth;
          take();
        } while (depth > 0);
        init = node(expr::braces, first, first, {});
      } else {
        init = parse_assign();
      }
    }
    d.declarators.emplace_back(name, init);
    if (is(",")) {
      take();
      continue;
    }
    expect(";", "after the declaration");
    break;
  }
  return add_stmt(std::move(d));
}

int parser::parse_stmt() {
  nest guard(*this, peek().at);
  const token& t = peek();
  const std::size_t here = at_;
  if (t.kind == tk::end) err_.expected(t.at, "a statement, got end of input");
  if (is("{")) return parse_block();
  if (is(";")) {
    take();
    return add_stmt({stmt::empty, here, -1, -1, {}, {}, {}});
  }
  if (is("...")) {  // "..." stands for code left out of an excerpt
    take();
    if (is(";")) take();
    return add_stmt({stmt::elided, here, -1, -1, {}, {}, {}});
  }
  if (is("}")) err_.expected(t.at, "a statement, got '}' (unbalanced braces)");
  if (t.kind == tk::ident) {
    const auto w = t.text;
    if (loops_ && (w == "while" || w == "for")) {
      take();
      expect("(", "after '" + std::string(w) + "'");
      stmt s{stmt::while_, here, -1, -1, {}, {}, {}};
      if (w == "while") {
        s.cond = parse_expr();
      } else if (!is(";") || !is(";", 1)) {  // only for (;;)
        err_.unsupported(peek().at, "for (...) with clauses");
      } else {
        take();
        take();
      }
      expect(")", "to close the loop condition");
      s.kids.push_back(parse_stmt());
      return add_stmt(std::move(s));
    }
    if (loops_ && (w == "break" || w == "continue")) {
      take();
      expect(";", "after '" + std::string(w) + "'");
      return add_stmt({w == "break" ? stmt::break_ : stmt::continue_, here, -1, -1, {}, {}, {}});
    }
    if (w == "while" || w == "for" || w == "do" || w == "switch" || w == "case" || w == "default" || w == "break" ||
        w == "continue" || w == "typedef" || w == "asm" || w == "__asm__")
      err_.unsupported(t.at, w);
    if (w == "else") err_.expected(t.at, "a statement, got 'else' without an 'if'");
    if (w == "if") {
      take();
      expect("(", "after 'if'");
      stmt s{stmt::if_, here, -1, -1, {}, {}, {}};
      s.cond = parse_expr();
      expect(")", "to close the if condition");
      s.kids.push_back(parse_stmt());
      if (is("else")) {
        take();
        s.else_kids.push_back(parse_stmt());
      }
      return add_stmt(std::move(s));
    }
    if (w == "return") {
      take();
      stmt s{stmt::return_, here, -1, -1, {}, {}, {}};
      if (!is(";")) s.value = parse_expr();
      expect(";", "after 'return'");
      return add_stmt(std::move(s));
    }
    if (w == "goto") {
      take();
      if (peek().kind != tk::ident) err_.expected(peek().at, "a label after 'goto', got " + shown(peek()));
      take();
      stmt s{stmt::goto_, here, -1, -1, {}, {}, {}};  // the label is the next token
      expect(";", "after 'goto'");
      return add_stmt(std::move(s));
    }
    if (is(":", 1) && !is_keyword(w)) {
      take();
      take();
      return add_stmt({stmt::label, here, -1, -1, {}, {}, {}});
    }
    // WITH_QEMU_LOCK_GUARD(&m) { ... }: a macro around a block runs the block once.
    if (const std::size_t brace = macro_block_brace(); brace != 0) {
      if (w.find("FOREACH") != std::string_view::npos) err_.unsupported(t.at, std::string(w) + " (a loop)");
      while (at_ < brace) take();
      return parse_block();
    }
    if ((w == "g_autoptr" || w == "g_auto") && is("(", 1) && peek(2).kind == tk::ident && is(")", 3)) {
      for (int k = 0; k < 4; ++k) take();  // g_autoptr(Error) err = NULL;
      return parse_decl();
    }
    if (at_declaration()) return parse_decl();
  }
  stmt s{stmt::expression, here, -1, -1, {}, {}, {}};
  s.value = parse_expr();
  expect(";", "after the expression");
  return add_stmt(std::move(s));
}

int parser::parse_assign() {
  const std::size_t first = at_;
  int lhs = parse_ternary();
  const auto& t = peek();
  if (t.kind == tk::punct &&
      (t.text == "=" || t.text == "+=" || t.text == "-=" || t.text == "*=" || t.text == "/=" || t.text == "%=" ||
       t.text == "&=" || t.text == "|=" || t.text == "^=" || t.text == "<<=" || t.text == ">>=")) {
    const std::size_t op = take();
    if (ex_[static_cast<std::size_t>(lhs)].depth >= max_depth)
      err_.unsupported(toks_[op].at, "expression nested more than 256 deep");
    nest guard(*this, toks_[op].at);
    const int rhs = parse_assign();
    return node(expr::assign, op, first, {lhs, rhs});
  }
  return lhs;
}

int parser::parse_ternary() {
  const std::size_t first = at_;
  const int c = parse_binary(1);
  if (!is("?")) return c;
  const std::size_t op = take();
  nest guard(*this, toks_[op].at);
  const int a = parse_expr();
  expect(":", "in '?:'");
  const int b = parse_ternary();
  return node(expr::ternary, op, first, {c, a, b});
}

int binary_prec(const token& t) {
  if (t.kind != tk::punct) return 0;
  const auto s = t.text;
  if (s == "||") return 1;
  if (s == "&&") return 2;
  if (s == "|") return 3;
  if (s == "^") return 4;
  if (s == "&") return 5;
  if (s == "==" || s == "!=") return 6;
  if (s == "<" || s == ">" || s == "<=" || s == ">=") return 7;
  if (s == "<<" || s == ">>") return 8;
  if (s == "+" || s == "-") return 9;
  if (s == "*" || s == "/" || s == "%") return 10;
  return 0;
}

int parser::parse_binary(int min_prec) {
  const std::size_t first = at_;
  int lhs = parse_unary();
  while (true) {
    const int prec = binary_prec(peek());
    if (prec < min_prec || prec == 0) return lhs;
    const std::size_t op = take();
    const int rhs = parse_binary(prec + 1);
    lhs = node(expr::binary, op, first, {lhs, rhs});
  }
}

bool parser::at_cast() const {
  // "(" type words [*...] ")" followed by an operand.
  if (!is("(")) return false;
  std::size_t k = 1, words = 0, stars = 0;
  bool typeish = false;
  while (peek(k).kind == tk::ident && !is_keyword(peek(k).text)) {
    const auto w = peek(k).text;
    typeish = typeish || is_type_keyword(w) || (w.size() > 2 && w.substr(w.size() - 2) == "_t");
    ++k, ++words;
  }
  while (is("*", k) || is("const", k)) ++k, ++stars;
  if (words == 0 || !is(")", k) || !(typeish || stars > 0)) return false;
  const auto& n = peek(k + 1);
  return n.kind == tk::ident || n.kind == tk::number || n.kind == tk::string || n.kind == tk::charlit ||
         (n.kind == tk::punct &&
          (n.text == "(" || n.text == "&" || n.text == "*" || n.text == "!" || n.text == "-" || n.text == "~"));
}

void parser::skip_type_name() {
  take();  // '('
  while (!is(")") && peek().kind != tk::end) take();
  expect(")", "after the type name");
}

int parser::parse_unary() {
  const std::size_t first = at_;
  nest guard(*this, peek().at);
  const auto& t = peek();
  if (t.kind == tk::punct && (t.text == "!" || t.text == "~" || t.text == "-" || t.text == "+" || t.text == "*" ||
                              t.text == "&" || t.text == "++" || t.text == "--")) {
    const std::size_t op = take();
    const int a = parse_unary();
    return node(expr::unary, op, first, {a});
  }
  if (t.kind == tk::ident && t.text == "sizeof") {
    const std::size_t op = take();
    if (is("(") && (at_cast() || (peek(1).kind == tk::ident && is(")", 2)))) {
      skip_type_name();
      return node(expr::size_of, op, first, {});
    }
    const int a = parse_unary();
    return node(expr::size_of, op, first, {a});
  }
  if (at_cast()) {
    const std::size_t op = at_;
    skip_type_name();
    const int a = parse_unary();
    return node(expr::cast, op, first, {a});
  }
  return parse_postfix();
}

int parser::parse_postfix() {
  const std::size_t first = at_;
  int e = parse_primary();
  while (true) {
    if (is("(")) {
      const std::size_t op = take();
      std::vector<int> kids{e};
      if (!is(")")) {
        while (true) {
          kids.push_back(parse_assign());
          if (is(",")) {
            take();
            continue;
          }
          break;
        }
      }
      expect(")", "to close the call");
      e = node(expr::call, op, first, std::move(kids));
    } else if (is("[")) {
      const std::size_t op = take();
      const int i = parse_expr();
      expect("]", "to close the index");
      e = node(expr::index, op, first, {e, i});
    } else if (is("->") || is(".")) {
      const std::size_t op = take();
      if (peek().kind != tk::ident)
        err_.expected(peek().at, "a field name after '" + std::string(toks_[op].text) + "'");
      take();
      e = node(expr::member, op, first, {e});
    } else if (is("++") || is("--")) {
      const std::size_t op = take();
      e = node(expr::postfix, op, first, {e});
    } else {
      return e;
    }
  }
}

int parser::parse_primary() {
  const std::size_t first = at_;
  const auto& t = peek();
  switch (t.kind) {
    case tk::ident:
      if (is_keyword(t.text)) err_.expected(t.at, "an expression, got '" + clip(t.text) + "'");
      take();
      return node(expr::ident, first, first, {});
    case tk::number: take(); return node(expr::number, first, first, {});
    case tk::charlit: take(); return node(expr::charlit, first, first, {});
    case tk::string:
      take();
      while (peek().kind == tk::string) take();  // "a" "b" is one literal
      return node(expr::string, first, first, {});
    case tk::punct:
      if (t.text == "(") {
        take();
        const int e = parse_expr();
        expect(")", "to close the parenthesis");
        return e;
      }
      break;
    case tk::end: break;
  }
  err_.expected(t.at, "an expression, got " + shown(t));
}

int parser::parse_body(std::size_t open) {
  at_ = open;
  return parse_block();
}

int parser::parse_list() {
  stmt b{stmt::block, at_, -1, -1, {}, {}, {}};
  while (peek().kind != tk::end) b.kids.push_back(parse_stmt());
  return add_stmt(std::move(b));
}

}  // namespace

int parse_function(tree& t, std::string_view text, const fn_def& d, const reporter& err, bool loops) {
  parser p(t, err, loops);
  const std::size_t open = p.mark();
  const std::size_t st_begin = t.st.size(), ex_begin = t.ex.size();
  p.lex(text, d.open, d.close + 1, d.open_at);
  const int top = p.parse_body(open);
  t.fns.push_back({d.name, top, d.close_at, st_begin, t.st.size(), ex_begin, t.ex.size(), d.file});
  return static_cast<int>(t.fns.size() - 1);
}

int parse_statements(tree& t, std::string_view text, std::uint32_t file, const std::string& name, const reporter& err) {
  parser p(t, err, false);
  const std::size_t first = p.mark();
  const std::size_t st_begin = t.st.size(), ex_begin = t.ex.size();
  p.lex(text, 0, text.size(), pos{1, 1, file});
  if (t.toks.size() == first + 1) err.expected(pos{1, 1, file}, "a classifier, but the input holds no C code");
  p.start_at(first);
  const int top = p.parse_list();
  const pos end_at = t.toks.size() > first + 1 ? t.toks[t.toks.size() - 2].at : pos{1, 1, file};
  t.fns.push_back({name, top, end_at, st_begin, t.st.size(), ex_begin, t.ex.size(), file});
  return static_cast<int>(t.fns.size() - 1);
}

std::vector<fn_def> index_functions(std::string_view s, std::uint32_t file, const reporter& err) {
  std::vector<fn_def> out;
  cursor cur{s, 0, pos{1, 1, file}};
  std::size_t& i = cur.i;
  pos& p = cur.p;
  const auto advance = [&](std::size_t n) { cur.advance(n); };
  int paren = 0, brace = 0;
  bool in_fn = false;        // brace > 0 inside a definition (out.back())
  std::string prev_ident;    // at the outer level: the identifier just before this token
  std::string prev_type;     // and the one before it, if only '*' stood between
  std::string name_before;   // the identifier before the '(' that opened the outer parentheses
  std::string type_before;   // the word before that name
  std::string candidate;     // after those parentheses closed: a definition if '{' follows
  std::optional<pos> stray;  // a '}' at the outer level
  std::string word;          // inside a definition: the last identifier, for NAME(
  while (i < s.size()) {
    if (cur.skip_blank(nullptr)) continue;
    const char c = s[i];
    if (c == '"' || c == '\'') {
      advance(1);
      while (i < s.size() && s[i] != c && s[i] != '\n')
        advance(s[i] == '\\' && i + 1 < s.size() && s[i + 1] != '\n' ? 2 : 1);
      advance(1);
      prev_ident.clear();
      candidate.clear();
      word.clear();
      continue;
    }
    if (is_ident_start(c) || (c >= '0' && c <= '9')) {
      const std::size_t b = i;
      while (i < s.size() && (is_ident_char(s[i]) || s[i] == '.')) advance(1);
      const auto w = s.substr(b, i - b);
      const bool ident = is_ident_start(c) && w.find('.') == std::string_view::npos;
      if (brace == 0) {
        prev_type = prev_ident;
        prev_ident = ident ? std::string(w) : std::string();
        candidate.clear();
      } else if (in_fn) {
        word = ident ? std::string(w) : std::string();
        if (ident && starts(w, "CH_")) out.back().names_channel = true;
      }
      continue;
    }
    const pos at = p;
    advance(1);
    if (brace > 0) {
      if (c == '(' && in_fn && !word.empty()) out.back().calls.insert(word);
      if (c == '{') ++brace;
      if (c == '}' && --brace == 0 && in_fn) {
        out.back().close = i - 1;
        out.back().close_at = at;
        in_fn = false;
      }
      word.clear();
      continue;
    }
    if (c == '(') {
      if (paren++ == 0) {
        name_before = prev_ident;
        type_before = prev_type;
      }
    } else if (c == ')') {
      if (paren > 0 && --paren == 0) candidate = name_before;
    } else if (c == '{') {
      brace = 1;
      static constexpr std::string_view keywords[] = {"if", "while", "for", "switch", "sizeof", "return"};
      bool keyword = false;
      for (auto k : keywords) keyword = keyword || candidate == k;
      if (!candidate.empty() && !keyword && paren == 0) {
        fn_def d;
        d.name = candidate;
        d.type = type_before;
        d.file = file;
        d.open = i - 1;
        d.open_at = at;
        out.push_back(std::move(d));
        in_fn = true;
      }
    } else if (c == '}') {
      if (!stray) stray = at;
    } else if (c == ';') {
      paren = 0;  // a stray parenthesis ends with its declaration
    }
    if (c != ')') candidate.clear();
    if (c != '*') prev_ident.clear(), prev_type.clear();
  }
  if (out.empty()) return out;
  if (in_fn) {
    const auto o = out.back().open_at;
    err.expected(p, "'}' to close the '{' at " + std::to_string(o.line) + ":" + std::to_string(o.col) +
                        " (unbalanced braces), got end of input");
  }
  if (stray) err.expected(*stray, "a declaration or a function, got '}' (unbalanced braces)");
  return out;
}

}  // namespace migchan::c_reader_detail
