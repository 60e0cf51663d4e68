// The tree read back: the source text rows and errors quote, and the lookups the reader makes on nodes.
#include "proofs/c_reader/syntax.h"

namespace migchan::c_reader_detail {

std::string tree::callee(int e) const {
  const auto& x = ex[static_cast<std::size_t>(e)];
  if (x.kind != expr::call) return {};
  const auto& c = ex[static_cast<std::size_t>(x.kids[0])];
  return c.kind == expr::ident ? std::string(toks[c.tok].text) : std::string{};
}

int tree::strip_casts(int e) const {
  while (true) {
    const auto& x = ex[static_cast<std::size_t>(e)];
    if (x.kind == expr::cast || (x.kind == expr::unary && toks[x.tok].text == "&")) e = x.kids[0];
    else return e;
  }
}

// The source of an expression, one line, spaced the way QEMU writes it.
void tree::unary_tokens(int e, std::set<std::size_t>& out) const {
  const auto& x = ex[static_cast<std::size_t>(e)];
  if (x.kind == expr::unary) out.insert(x.tok);
  if (x.kind == expr::cast)
    for (std::size_t k = x.tok; k < x.last && k < toks.size(); ++k)
      if (toks[k].text == ")") {
        out.insert(k);
        break;
      }
  for (int k : x.kids) unary_tokens(k, out);
}

// `!x` for the else of `if (x)`; the else of `if (!x)` is `x`.
std::string tree::negated_text(int e) const {
  const auto& x = ex[static_cast<std::size_t>(e)];
  if (x.kind == expr::unary && toks[x.tok].text == "!") {
    const auto& y = ex[static_cast<std::size_t>(x.kids[0])];
    return y.kind == expr::binary || y.kind == expr::ternary || y.kind == expr::assign ? "(" + text_of(x.kids[0]) + ")"
                                                                                       : text_of(x.kids[0]);
  }
  const bool simple = x.kind == expr::ident || x.kind == expr::call || x.kind == expr::member;
  return simple ? "!" + text_of(e) : "!(" + text_of(e) + ")";
}

std::string tree::text_of(int e) const {
  const auto& x = ex[static_cast<std::size_t>(e)];
  std::set<std::size_t> unary;  // prefix operators and the ')' closing a cast
  unary_tokens(e, unary);
  std::string r;
  auto operand_end = [&](std::size_t k) {
    const auto& t = toks[k];
    return t.kind == tk::ident || t.kind == tk::number || t.kind == tk::string || t.kind == tk::charlit ||
           t.text == ")" || t.text == "]";
  };
  for (std::size_t k = x.first; k <= x.last && k < toks.size(); ++k) {
    const auto& t = toks[k];
    if (k > x.first) {
      const auto& p = toks[k - 1];
      const bool prev_unary = unary.count(k - 1) != 0;
      const bool tight = t.text == ")" || t.text == "]" || t.text == "," || t.text == "->" || t.text == "." ||
                         p.text == "(" || p.text == "[" || p.text == "->" || p.text == "." || prev_unary ||
                         (t.text == "(" && p.kind == tk::ident) || (t.text == "[" && operand_end(k - 1)) ||
                         ((t.text == "++" || t.text == "--") && operand_end(k - 1));
      if (!tight) r += ' ';
    }
    r += t.text;
  }
  return r;
}

// The contents of a string literal (adjacent literals joined, escapes kept).
std::string tree::string_of(int e) const {
  const auto& x = ex[static_cast<std::size_t>(e)];
  std::string r;
  for (std::size_t k = x.tok; k < toks.size() && toks[k].kind == tk::string; ++k) {
    const auto s = toks[k].text;
    if (s.size() >= 2) r += s.substr(1, s.size() - 2);
  }
  return r;
}

bool tree::mentions(int e, std::string_view name) const {
  if (name.empty()) return false;
  const auto& x = ex[static_cast<std::size_t>(e)];
  if (x.kind == expr::ident && toks[x.tok].text == name) return true;
  for (int k : x.kids)
    if (mentions(k, name)) return true;
  return false;
}

int tree::find_call(int e, const std::set<std::string_view>& names) const {
  const auto& x = ex[static_cast<std::size_t>(e)];
  if (x.kind == expr::call && names.count(callee(e))) return e;
  for (int k : x.kids) {
    const int r = find_call(k, names);
    if (r >= 0) return r;
  }
  return -1;
}

}  // namespace migchan::c_reader_detail
