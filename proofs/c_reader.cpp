// The C classifier reader: clean (diff and mail quoting) -> lex -> parse the
// statements into a small AST -> run every path symbolically -> rows.
//
// Conditions become formulas over the guard columns (atoms are column masks,
// negation is pushed onto the atoms). Paths are tracked twice: as the exact set
// of observations they cover (a bitset over the whole observation space, 35840
// points) and as the conditions a row shows. A row shows only the `then`
// conditions and single-column `else` conditions: first match wins, so the
// rows of an if's `then` side, emitted first, already take the rest. Every
// path's rows are checked against its exact set before they are kept, and the
// exact conditions are used instead when the shorter ones would not decide the
// same.
#include "proofs/c_reader.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "model/classify.h"

namespace migchan {
namespace {

// Bounds that keep any input, however hostile, to a small amount of work.
constexpr std::size_t max_nesting = 128;  // statements inside statements
constexpr int max_depth = 256;            // expression and formula trees
constexpr std::size_t max_formula_nodes = std::size_t{1} << 20;
constexpr std::size_t max_cubes = 1024;   // disjuncts of one path condition
constexpr std::size_t max_paths = 4096;
constexpr std::size_t max_steps = std::size_t{1} << 21;
constexpr std::size_t max_rows = 4096;

constexpr std::string_view supported =
    "supported: if/else, &&, ||, !, ==, !=, (), declarations, channel = CH_*, bool assignments, "
    "error_setg/error_report + return or goto, assert, g_assert_not_reached, the peek call, "
    "migrate_*() capabilities, mis->from_src_file/state/postcopy_qemufile_dst, ioc->name";

struct pos {
  int line = 1, col = 1;
};

bool starts(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_ident_char(char c) { return is_ident_start(c) || (c >= '0' && c <= '9'); }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v' || c == '\n'; }

// ---------------------------------------------------------------- cleaning
// Diff markers and mail quoting are replaced by spaces, dropped lines are
// blanked: the text keeps its lines and columns, so errors point into the file
// as given.

struct cleaned {
  std::string text;
  std::string hunk_function;  // from "@@ ... @@ void name(...)"
};

void blank(std::string& s, std::size_t b, std::size_t e) {
  for (std::size_t i = b; i < e && i < s.size(); ++i)
    if (s[i] != '\n') s[i] = ' ';
}

std::string function_in(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    if (!is_ident_start(s[i])) { ++i; continue; }
    std::size_t j = i;
    while (j < s.size() && is_ident_char(s[j])) ++j;
    std::size_t k = j;
    while (k < s.size() && (s[k] == ' ' || s[k] == '\t')) ++k;
    if (k < s.size() && s[k] == '(') return std::string(s.substr(i, j - i));
    i = j;
  }
  return {};
}

cleaned clean(std::string_view src) {
  cleaned c{std::string(src), {}};
  std::string& t = c.text;
  std::vector<std::pair<std::size_t, std::size_t>> lines;  // [begin, end), no '\n'
  for (std::size_t b = 0, i = 0; i <= t.size(); ++i)
    if (i == t.size() || t[i] == '\n') { lines.emplace_back(b, i); b = i + 1; }
  std::vector<std::size_t> off(lines.size(), 0);  // where the line's content starts
  auto line = [&](std::size_t k) {
    return std::string_view(t).substr(lines[k].first + off[k], lines[k].second - lines[k].first - off[k]);
  };
  auto is_blank = [](std::string_view s) { return s.find_first_not_of(" \t\r\f\v") == std::string_view::npos; };

  // "> > + code" and ">> > code": when most lines are quoted, strip the markers
  // and one space after them, and drop the unquoted reply around them.
  std::size_t quoted = 0, filled = 0;
  for (std::size_t k = 0; k < lines.size(); ++k) {
    filled += !is_blank(line(k));
    quoted += !line(k).empty() && line(k)[0] == '>';
  }
  if (quoted > 0 && quoted * 2 >= filled) {
    for (std::size_t k = 0; k < lines.size(); ++k) {
      const auto s = line(k);
      if (s.empty()) continue;
      if (s[0] != '>') {  // the reply around the quote
        blank(t, lines[k].first, lines[k].second);
        continue;
      }
      std::size_t i = 0;
      while (i < s.size() && s[i] == '>') {
        ++i;
        if (i + 1 < s.size() && s[i] == ' ' && s[i + 1] == '>') ++i;
      }
      if (i < s.size() && s[i] == ' ') ++i;
      blank(t, lines[k].first, lines[k].first + i);
      off[k] = i;
    }
  }

  auto is_hunk = [](std::string_view s) { return starts(s, "@@ -") && s.find(" @@", 4) != std::string_view::npos; };
  auto is_header = [](std::string_view s) {
    return starts(s, "diff ") || starts(s, "index ") || starts(s, "--- ") || starts(s, "+++ ") ||
           starts(s, "new file") || starts(s, "deleted file") || starts(s, "similarity ") || starts(s, "rename ");
  };
  bool diff = false;
  for (std::size_t k = 0; k < lines.size() && !diff; ++k) diff = is_hunk(line(k));
  if (!diff) return c;
  bool in_hunk = false;
  for (std::size_t k = 0; k < lines.size(); ++k) {
    const auto s = line(k);
    const std::size_t b = lines[k].first + off[k], e = lines[k].second;
    if (is_hunk(s)) {
      if (c.hunk_function.empty()) c.hunk_function = function_in(s.substr(s.find(" @@", 4) + 3));
      blank(t, b, e);
      in_hunk = true;
      continue;
    }
    if (is_header(s)) {
      std::size_t j = k + 1;
      while (j < lines.size() && is_header(line(j))) ++j;
      if (j < lines.size() && is_hunk(line(j))) { blank(t, b, e); continue; }
    }
    if (!in_hunk) { blank(t, b, e); continue; }
    if (s.empty()) continue;
    if (s[0] == '+') t[b] = ' ';
    else if (s[0] != ' ' && s[0] != '\r') blank(t, b, e);  // '-', '\ No newline', prose
  }
  return c;
}

// ---------------------------------------------------------------- tokens

enum class tk : std::uint8_t { ident, number, string, charlit, punct, end };

struct token {
  tk kind;
  std::string_view text;
  pos at;
};

constexpr std::string_view puncts3[] = {"...", "<<=", ">>="};
constexpr std::string_view puncts2[] = {"->", "++", "--", "<<", ">>", "<=", ">=", "==", "!=", "&&",
                                        "||", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "##"};
constexpr std::string_view puncts1 = "{}[]();,:?~!%^&*-+=<>|/.";

// ---------------------------------------------------------------- syntax

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

bool is_keyword(std::string_view s) {
  static constexpr std::string_view kw[] = {"if", "else", "while", "for", "do", "switch", "case", "default",
                                            "break", "continue", "return", "goto", "sizeof", "typedef"};
  return std::find(std::begin(kw), std::end(kw), s) != std::end(kw);
}
bool is_type_keyword(std::string_view s) {
  static constexpr std::string_view kw[] = {"void", "char", "short", "int", "long", "float", "double", "signed",
                                            "unsigned", "bool", "_Bool", "const", "volatile", "static", "struct",
                                            "enum", "union", "extern", "register", "inline", "restrict"};
  return std::find(std::begin(kw), std::end(kw), s) != std::end(kw);
}

// ---------------------------------------------------------------- formulas
// Negation normal form over column atoms: a negated atom is the atom of the
// complement mask, so a formula is only atoms, ands and ors.

using cube = std::array<mask, column_count>;
using bits = std::vector<std::uint64_t>;

struct fnode {
  enum op_t : std::uint8_t { t, f, atom, conj, disj } op;
  column col = column::mm_done;
  mask m = 0;
  int a = -1, b = -1;
  int depth = 1;
};

// ---------------------------------------------------------------- observation space
// Every raw observation, in the order for_each_observation() would try them:
// 2^7 booleans x transport x state x magic.

constexpr std::size_t n_obs = 128 * enum_size<transport> * enum_size<mig_status> * enum_size<first_bytes>;
constexpr std::size_t n_words = (n_obs + 63) / 64;

struct universe {
  std::array<std::array<bits, 8>, column_count> val;  // val[c][v]: column c has value v
  std::vector<observation> obs;
};

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

const universe& space() {
  static const universe u = [] {
    universe r;
    for (auto& c : r.val)
      for (auto& v : c) v.assign(n_words, 0);
    r.obs.reserve(n_obs);
    for (unsigned b = 0; b < 128; ++b)
      for (std::size_t ti = 0; ti < enum_size<transport>; ++ti)
        for (std::size_t si = 0; si < enum_size<mig_status>; ++si)
          for (std::size_t mi = 0; mi < enum_size<first_bytes>; ++mi) {
            observation o;
            o.multifd = b & 1, o.postcopy_ram = b & 2, o.postcopy_preempt = b & 4, o.mapped_ram = b & 8;
            o.has_main = b & 16, o.all_multifd = b & 32, o.has_preempt = b & 64;
            o.transport = static_cast<transport>(ti);
            o.state = static_cast<mig_status>(si);
            o.magic = static_cast<first_bytes>(mi);
            const std::size_t i = r.obs.size();
            for (std::size_t c = 0; c < column_count; ++c) {
              const int v = column_value(o, column(c));
              r.val[c][static_cast<std::size_t>(v)][i / 64] |= std::uint64_t{1} << (i % 64);
            }
            r.obs.push_back(o);
          }
    return r;
  }();
  return u;
}

bits all_bits() { return bits(n_words, ~std::uint64_t{0}); }
bits no_bits() { return bits(n_words, 0); }
void and_with(bits& a, const bits& b) { for (std::size_t i = 0; i < n_words; ++i) a[i] &= b[i]; }
void or_with(bits& a, const bits& b) { for (std::size_t i = 0; i < n_words; ++i) a[i] |= b[i]; }
void and_not(bits& a, const bits& b) { for (std::size_t i = 0; i < n_words; ++i) a[i] &= ~b[i]; }
bool none(const bits& a) { return std::all_of(a.begin(), a.end(), [](std::uint64_t w) { return w == 0; }); }

bits column_bits(column c, mask m) {
  const auto& u = space();
  bits r = no_bits();
  for (std::size_t v = 0; v < info(c).size; ++v)
    if ((m >> v) & 1u) or_with(r, u.val[static_cast<std::size_t>(c)][v]);
  return r;
}

bits cube_bits(const cube& q) {
  bits r = all_bits();
  for (std::size_t c = 0; c < column_count; ++c)
    if (q[c] != domain_mask(column(c))) and_with(r, column_bits(column(c), q[c]));
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

// "unknown channel magic: %u" -> "unknown_channel_magic".
std::string slug(std::string_view fmt) {
  std::string words;
  std::size_t count = 0;
  for (std::size_t i = 0; i < fmt.size() && count < 3;) {
    if (fmt[i] == '%') {  // a conversion is not a word
      ++i;
      while (i < fmt.size() && !((fmt[i] >= 'a' && fmt[i] <= 'z' && fmt[i] != 'l' && fmt[i] != 'h' &&
                                  fmt[i] != 'j' && fmt[i] != 'z' && fmt[i] != 't') ||
                                 fmt[i] == '%'))
        ++i;
      ++i;
      continue;
    }
    const bool alnum = is_ident_char(fmt[i]) && fmt[i] != '_';
    if (!alnum) { ++i; continue; }
    std::size_t j = i;
    while (j < fmt.size() && is_ident_char(fmt[j]) && fmt[j] != '_') ++j;
    std::string w(fmt.substr(i, j - i));
    for (auto& ch : w)
      if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
    words += (count++ ? "_" : "") + w;
    i = j;
  }
  return words.empty() ? "reject" : words;
}

std::string sanitize(std::string s) {
  for (auto& ch : s)
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) ch = '?';
  return s;
}

std::string clip(std::string_view s) {
  std::string r = s.size() > 96 ? std::string(s.substr(0, 93)) + "..." : std::string(s);
  for (auto& ch : r)
    if (static_cast<unsigned char>(ch) < 0x20 || static_cast<unsigned char>(ch) >= 0x7f) ch = '?';
  return r;
}

// ---------------------------------------------------------------- the reader

class reader {
 public:
  reader(std::string_view source, std::string_view file, const table& base)
      : file_(sanitize(std::string(file))), base_(base) {
    auto c = clean(source);
    text_ = std::move(c.text);
    hunk_function_ = std::move(c.hunk_function);
    fn_.push_back({fnode::t, column::mm_done, 0, -1, -1, 1});  // formula 0: true
    fn_.push_back({fnode::f, column::mm_done, 0, -1, -1, 1});  // formula 1: false
  }

  parsed_table run();

 private:
  // ------------------------------------------------------------ errors
  [[noreturn]] void fail(pos p, const std::string& msg) const {
    throw c_reader_error(sanitize(file_ + ":" + std::to_string(p.line) + ":" + std::to_string(p.col) + ": " + msg));
  }
  [[noreturn]] void unsupported(pos p, std::string_view what) const {
    fail(p, "unsupported construct '" + clip(what) + "'; " + std::string(supported));
  }
  [[noreturn]] void expected(pos p, std::string_view what) const { fail(p, "expected " + std::string(what)); }

  // ------------------------------------------------------------ lexing
  void lex();

  // ------------------------------------------------------------ parsing
  const token& peek(std::size_t k = 0) const { return toks_[std::min(at_ + k, toks_.size() - 1)]; }
  bool is(std::string_view p, std::size_t k = 0) const {
    const auto& t = peek(k);
    return (t.kind == tk::punct || t.kind == tk::ident) && t.text == p;
  }
  std::size_t take() { return at_ < toks_.size() - 1 ? at_++ : at_; }
  void expect(std::string_view p, std::string_view context) {
    if (!is(p)) expected(peek().at, "'" + std::string(p) + "' " + std::string(context) + ", got " + shown(peek()));
    take();
  }
  std::string shown(const token& t) const {
    return t.kind == tk::end ? "end of input" : "'" + clip(t.text) + "'";
  }
  struct nest {
    reader& r;
    explicit nest(reader& rr, pos p) : r(rr) {
      if (++r.nesting_ > max_nesting) r.unsupported(p, "statements nested more than 128 deep");
    }
    ~nest() { --r.nesting_; }
    nest(const nest&) = delete;
    nest& operator=(const nest&) = delete;
  };

  int parse_stmt();
  int parse_block();
  bool at_declaration() const;
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
    st_.push_back(std::move(s));
    return static_cast<int>(st_.size() - 1);
  }
  void choose_function();

  // ------------------------------------------------------------ formulas
  int f_new(fnode n);
  int f_atom(column c, mask m);
  int f_and(int a, int b);
  int f_or(int a, int b);
  int f_not(int a);
  bits f_bits(int a);
  std::vector<cube> f_cubes(int a);
  std::vector<cube> cubes_of(const std::vector<int>& conj);
  bool f_names(int a, std::string& out) const;

  // ------------------------------------------------------------ meaning
  struct value {
    enum kind_t : std::uint8_t { truth, number, magic_var, magic_const, status_var, status_const, ioc_name, string, compare } kind;
    int f = -1;                // truth/compare: "is non-zero"
    unsigned long long n = 0;  // number
    bool host = true;          // magic: host byte order (after be32_to_cpu)
    int item = 0;              // first_bytes / mig_status value
    std::string s;             // string
  };
  static value mk(value::kind_t k) {
    value v;
    v.kind = k;
    return v;
  }
  struct path;
  value eval(int e, const path& p);
  int truth_of(const value& v, int e);
  std::string callee(int e) const;  // "" unless a call of a plain name
  std::string text_of(int e) const;
  std::string negated_text(int e) const;
  void unary_tokens(int e, std::set<std::size_t>& out) const;
  std::string string_of(int e) const;
  bool mentions(int e, std::string_view name) const;
  int find_call(int e, const std::set<std::string_view>& names) const;
  std::string error_text(int call, std::size_t fmt_arg, std::string& raw) const;
  int strip_casts(int e) const;

  struct decided {
    verdict v;
    pos at;
    std::string name;  // CH_MAIN, ...
  };
  struct pending_error {
    std::string text, slug;
    pos at;
    bool sticky;     // error_setg: the channel is refused whatever follows
    bool from_peek;
  };
  struct frame {
    const std::vector<int>* list;
    std::size_t i;
  };
  struct var {
    std::string name;
    int f;  // -1: opaque
  };
  struct path {
    std::vector<frame> cont;
    bits exact;
    std::vector<int> shown, exact_f;
    std::vector<std::string> ctext;
    std::vector<var> vars;
    std::optional<decided> channel, init;
    std::optional<pending_error> err;
    std::optional<std::pair<int, int>> last_then;  // formula, line of the branch last taken, if `then`
    bool peeked = false, magic_host = false;
    pos peek_at;
  };
  struct outcome {
    verdict v;
    std::string text;
    pos at;
    bool implicit = false;
    std::string detail;
  };

  void execute();
  enum class step { next, ended };
  step exec(int s, path& p, std::vector<path>& work);
  step exec_if(int s, path& p, std::vector<path>& work);
  step exec_call(int e, path& p, pos at);
  step exec_assign(std::size_t name_tok, int rhs, bool is_decl, path& p);
  void do_peek(int call, path& p, pos at);
  bool ret_test(int e, bool& fails_when_true, int& peek_call) const;
  void fork_add(path& p, int f, bool shown_too, const std::string& text);
  void finish(path& p, pos at, bool by_return);
  void emit(const path& p, const outcome& o, bool wait = false);
  std::string detail_for(const path& p, const std::string& base_name) const;
  std::string abort_detail(const path& p, std::string_view what) const;
  void count_fork();
  static bool is_value_call(std::string_view f);
  void prescan();
  var* find_var(path& p, std::string_view name) const;
  void set_var(path& p, std::string_view name, int f) const;
  std::string origin(pos at) const { return file_ + ":" + std::to_string(at.line); }
  std::string_view store(std::string s) {
    out_.arena.push_back(std::move(s));
    return out_.arena.back();
  }

  std::string file_;
  const table& base_;
  std::string text_, hunk_function_;
  std::vector<token> toks_;
  std::size_t at_ = 0;
  std::size_t nesting_ = 0;
  std::vector<expr> ex_;
  std::vector<stmt> st_;
  std::vector<fnode> fn_;
  int top_ = -1;
  pos end_at_;
  std::string function_;
  std::string chan_var_;
  std::set<std::string> magic_vars_, ret_vars_;
  bits valid_;
  bits covered_;
  std::size_t paths_ = 1, steps_ = 0;
  pos cur_;  // the statement being run, for errors found deep in a formula

  struct draft {
    std::string region_detail;
    cube when;
    outcome o;
    reads cost;
    std::string c;
    bool live;  // fires for some valid observation
  };
  std::vector<draft> drafts_;
  parsed_table out_;
};

// ================================================================ lexing

void reader::lex() {
  const std::string_view s = text_;
  pos p;
  std::size_t i = 0;
  bool line_start = true;
  auto advance = [&](std::size_t n) {
    for (std::size_t k = 0; k < n && i < s.size(); ++k, ++i) {
      if (s[i] == '\n') { ++p.line; p.col = 1; line_start = true; }
      else ++p.col;
    }
  };
  while (i < s.size()) {
    const char c = s[i];
    if (is_space(c)) { advance(1); continue; }
    if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      const auto e = s.find("*/", i + 2);
      if (e == std::string_view::npos) expected(p, "'*/' to close this comment (unterminated comment)");
      advance(e + 2 - i);
      continue;
    }
    if (c == '/' && i + 1 < s.size() && s[i + 1] == '/') {
      while (i < s.size() && s[i] != '\n') advance(1);
      continue;
    }
    const pos at = p;
    const std::size_t b = i;
    if (c == '#') {
      std::size_t j = i + 1;
      while (j < s.size() && (s[j] == ' ' || s[j] == '\t')) ++j;
      std::size_t k = j;
      while (k < s.size() && is_ident_char(s[k])) ++k;
      unsupported(at, line_start ? "#" + std::string(s.substr(j, k - j)) : "#");
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
          expected(at, std::string(c == '"' ? "'\"'" : "\"'\"") + " to close this literal (unterminated literal)");
        if (s[i] == '\\') { advance(i + 1 < s.size() && s[i + 1] != '\n' ? 2 : 1); continue; }
        if (s[i] == c) { advance(1); break; }
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
        if (u >= 0x20 && u < 0x7f) unsupported(at, std::string(1, c));
        static constexpr char hex[] = "0123456789abcdef";
        unsupported(at, std::string("byte \\x") + hex[u >> 4] + hex[u & 15]);
      }
      if (op == "##") unsupported(at, "##");
      advance(op.size());
      toks_.push_back({tk::punct, s.substr(b, op.size()), at});
    }
  }
  end_at_ = toks_.empty() ? pos{} : toks_.back().at;
  toks_.push_back({tk::end, {}, p});
}

// ================================================================ parsing

int reader::node(expr::kind_t k, std::size_t tok, std::size_t first, std::vector<int> kids) {
  expr e{k, tok, first, at_ > first ? at_ - 1 : first, std::move(kids), 1};
  for (int c : e.kids) e.depth = std::max(e.depth, ex_[static_cast<std::size_t>(c)].depth + 1);
  if (e.depth > max_depth) unsupported(toks_[tok].at, "expression nested more than 256 deep");
  ex_.push_back(std::move(e));
  return static_cast<int>(ex_.size() - 1);
}

int reader::parse_block() {
  const std::size_t open = take();  // '{'
  stmt b{stmt::block, open, -1, -1, {}, {}, {}};
  while (!is("}")) {
    if (peek().kind == tk::end) {
      const auto o = toks_[open].at;
      expected(peek().at, "'}' to close the '{' at " + std::to_string(o.line) + ":" + std::to_string(o.col) +
                              " (unbalanced braces), got end of input");
    }
    b.kids.push_back(parse_stmt());
  }
  take();
  return add_stmt(std::move(b));
}

bool reader::at_declaration() const {
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

int reader::parse_decl() {
  stmt d{stmt::decl, at_, -1, -1, {}, {}, {}};
  while (!(peek().kind == tk::ident && (is("=", 1) || is(";", 1) || is(",", 1) || is("[", 1)))) take();
  while (true) {
    while (is("*") || is("const")) take();
    if (peek().kind != tk::ident) expected(peek().at, "a name in the declaration, got " + shown(peek()));
    const std::size_t name = take();
    while (is("[")) {
      take();
      if (!is("]")) parse_expr();
      expect("]", "after the array size");
    }
    int init = -1;
    if (is("=")) {
      take();
      if (is("{")) unsupported(peek().at, "{ initializer list }");
      init = parse_assign();
    }
    d.declarators.emplace_back(name, init);
    if (is(",")) { take(); continue; }
    expect(";", "after the declaration");
    break;
  }
  return add_stmt(std::move(d));
}

int reader::parse_stmt() {
  nest guard(*this, peek().at);
  const token& t = peek();
  const std::size_t here = at_;
  if (t.kind == tk::end) expected(t.at, "a statement, got end of input");
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
  if (is("}")) expected(t.at, "a statement, got '}' (unbalanced braces)");
  if (t.kind == tk::ident) {
    const auto w = t.text;
    if (w == "while" || w == "for" || w == "do" || w == "switch" || w == "case" || w == "default" ||
        w == "break" || w == "continue" || w == "typedef" || w == "asm" || w == "__asm__")
      unsupported(t.at, w);
    if (w == "else") expected(t.at, "a statement, got 'else' without an 'if'");
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
      if (peek().kind != tk::ident) expected(peek().at, "a label after 'goto', got " + shown(peek()));
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

int reader::parse_assign() {
  const std::size_t first = at_;
  int lhs = parse_ternary();
  const auto& t = peek();
  if (t.kind == tk::punct && (t.text == "=" || t.text == "+=" || t.text == "-=" || t.text == "*=" ||
                              t.text == "/=" || t.text == "%=" || t.text == "&=" || t.text == "|=" ||
                              t.text == "^=" || t.text == "<<=" || t.text == ">>=")) {
    const std::size_t op = take();
    if (ex_[static_cast<std::size_t>(lhs)].depth >= max_depth) unsupported(toks_[op].at, "expression nested more than 256 deep");
    nest guard(*this, toks_[op].at);
    const int rhs = parse_assign();
    return node(expr::assign, op, first, {lhs, rhs});
  }
  return lhs;
}

int reader::parse_ternary() {
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

int reader::parse_binary(int min_prec) {
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

bool reader::at_cast() const {
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
         (n.kind == tk::punct && (n.text == "(" || n.text == "&" || n.text == "*" || n.text == "!" ||
                                  n.text == "-" || n.text == "~"));
}

void reader::skip_type_name() {
  take();  // '('
  while (!is(")") && peek().kind != tk::end) take();
  expect(")", "after the type name");
}

int reader::parse_unary() {
  const std::size_t first = at_;
  nest guard(*this, peek().at);
  const auto& t = peek();
  if (t.kind == tk::punct && (t.text == "!" || t.text == "~" || t.text == "-" || t.text == "+" ||
                              t.text == "*" || t.text == "&" || t.text == "++" || t.text == "--")) {
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

int reader::parse_postfix() {
  const std::size_t first = at_;
  int e = parse_primary();
  while (true) {
    if (is("(")) {
      const std::size_t op = take();
      std::vector<int> kids{e};
      if (!is(")")) {
        while (true) {
          kids.push_back(parse_assign());
          if (is(",")) { take(); continue; }
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
      if (peek().kind != tk::ident) expected(peek().at, "a field name after '" + std::string(toks_[op].text) + "'");
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

int reader::parse_primary() {
  const std::size_t first = at_;
  const auto& t = peek();
  switch (t.kind) {
    case tk::ident:
      if (is_keyword(t.text)) expected(t.at, "an expression, got '" + clip(t.text) + "'");
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
  expected(t.at, "an expression, got " + shown(t));
}

// The classifier: migration_channel_identify() (2026) or
// migration_ioc_process_incoming(), else the first function that assigns a
// CH_* value or peeks, else the first function. Without a function
// definition at the outer level, the whole text is a list of statements.
void reader::choose_function() {
  const std::size_t n = toks_.size();
  auto punct = [&](std::size_t k, std::string_view p) { return toks_[k].kind == tk::punct && toks_[k].text == p; };
  // One pass: the '(' of each ')', the '}' of each '{', and the brace depth.
  std::vector<std::size_t> open_of(n, n), close_of(n, n), stack, braces;
  std::vector<int> depth(n, 0);
  int d = 0;
  for (std::size_t k = 0; k < n; ++k) {
    depth[k] = d;
    if (punct(k, "(")) stack.push_back(k);
    if (punct(k, ")") && !stack.empty()) { open_of[k] = stack.back(); stack.pop_back(); }
    if (punct(k, "{")) { braces.push_back(k); ++d; }
    if (punct(k, "}")) {
      if (braces.empty()) { if (d == 0) continue; }
      else { close_of[braces.back()] = k; braces.pop_back(); }
      --d;
    }
  }
  struct fn {
    std::string name;
    std::size_t open, close;
  };
  std::vector<fn> fns;
  for (std::size_t k = 2; k < n; ++k) {  // name ( ... ) { at the outer level
    if (!punct(k, "{") || depth[k] != 0 || !punct(k - 1, ")")) continue;
    const std::size_t o = open_of[k - 1];
    if (o == n || o == 0 || toks_[o - 1].kind != tk::ident || is_keyword(toks_[o - 1].text)) continue;
    if (close_of[k] == n) {
      const auto at = toks_[k].at;
      expected(toks_[n - 1].at, "'}' to close the '{' at " + std::to_string(at.line) + ":" +
                                    std::to_string(at.col) + " (unbalanced braces), got end of input");
    }
    fns.push_back({std::string(toks_[o - 1].text), k, close_of[k]});
  }
  if (fns.empty()) return;
  for (std::size_t k = 0; k < n; ++k)
    if (punct(k, "}") && depth[k] == 0)
      expected(toks_[k].at, "a declaration or a function, got '}' (unbalanced braces)");
  const fn* pick = nullptr;
  for (std::string_view want : {"migration_channel_identify", "migration_ioc_process_incoming"})
    for (const auto& f : fns)
      if (!pick && f.name == want) pick = &f;
  for (const auto& f : fns) {
    if (pick) break;
    for (std::size_t k = f.open; k < f.close && !pick; ++k)
      if (toks_[k].kind == tk::ident && (starts(toks_[k].text, "CH_") || toks_[k].text == "migration_channel_read_peek"))
        pick = &f;
  }
  if (!pick) pick = &fns.front();
  function_ = pick->name;
  at_ = pick->open;
  top_ = parse_block();
  end_at_ = toks_[pick->close].at;
}

// ================================================================ formulas

int reader::f_new(fnode n) {
  if (n.a >= 0) n.depth = std::max(n.depth, fn_[static_cast<std::size_t>(n.a)].depth + 1);
  if (n.b >= 0) n.depth = std::max(n.depth, fn_[static_cast<std::size_t>(n.b)].depth + 1);
  if (n.depth > max_depth || fn_.size() >= max_formula_nodes) unsupported(cur_, "condition too complex");
  fn_.push_back(n);
  return static_cast<int>(fn_.size() - 1);
}

int reader::f_atom(column c, mask m) {
  m = static_cast<mask>(m & domain_mask(c));
  if (m == 0) return 1;
  if (m == domain_mask(c)) return 0;
  return f_new({fnode::atom, c, m, -1, -1, 1});
}

int reader::f_and(int a, int b) {
  const auto& x = fn_[static_cast<std::size_t>(a)];
  const auto& y = fn_[static_cast<std::size_t>(b)];
  if (x.op == fnode::f || y.op == fnode::t) return a;
  if (y.op == fnode::f || x.op == fnode::t) return b;
  if (x.op == fnode::atom && y.op == fnode::atom && x.col == y.col) return f_atom(x.col, static_cast<mask>(x.m & y.m));
  return f_new({fnode::conj, column::mm_done, 0, a, b, 1});
}

int reader::f_or(int a, int b) {
  const auto& x = fn_[static_cast<std::size_t>(a)];
  const auto& y = fn_[static_cast<std::size_t>(b)];
  if (x.op == fnode::t || y.op == fnode::f) return a;
  if (y.op == fnode::t || x.op == fnode::f) return b;
  if (x.op == fnode::atom && y.op == fnode::atom && x.col == y.col) return f_atom(x.col, static_cast<mask>(x.m | y.m));
  return f_new({fnode::disj, column::mm_done, 0, a, b, 1});
}

int reader::f_not(int a) {
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

bits reader::f_bits(int a) {
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
      if (r.size() >= max_cubes) { overflow = true; return r; }
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

std::vector<cube> reader::f_cubes(int a) {
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
        if (r.size() >= max_cubes) { overflow = true; break; }
        r.push_back(q);
      }
      break;
  }
  if (overflow) unsupported(cur_, "condition too complex");
  return r;
}

std::vector<cube> reader::cubes_of(const std::vector<int>& conj) {
  std::vector<cube> r{full_cube()};
  bool overflow = false;
  for (int f : conj) {
    r = product(r, f_cubes(f), overflow);
    if (overflow) unsupported(cur_, "condition too complex");
  }
  return tidy(std::move(r));
}

// Names the atoms of a conjunction; false for anything with an `or` in it.
bool reader::f_names(int a, std::string& out) const {
  const fnode& n = fn_[static_cast<std::size_t>(a)];
  if (n.op == fnode::atom) {
    out += (out.empty() ? "" : "_") + atom_name(n.col, n.m);
    return true;
  }
  if (n.op == fnode::conj) return f_names(n.a, out) && f_names(n.b, out);
  return false;
}

// ================================================================ meaning of expressions

std::string reader::callee(int e) const {
  const auto& x = ex_[static_cast<std::size_t>(e)];
  if (x.kind != expr::call) return {};
  const auto& c = ex_[static_cast<std::size_t>(x.kids[0])];
  return c.kind == expr::ident ? std::string(toks_[c.tok].text) : std::string{};
}

int reader::strip_casts(int e) const {
  while (true) {
    const auto& x = ex_[static_cast<std::size_t>(e)];
    if (x.kind == expr::cast || (x.kind == expr::unary && toks_[x.tok].text == "&")) e = x.kids[0];
    else return e;
  }
}

// The source of an expression, one line, spaced the way QEMU writes it.
void reader::unary_tokens(int e, std::set<std::size_t>& out) const {
  const auto& x = ex_[static_cast<std::size_t>(e)];
  if (x.kind == expr::unary) out.insert(x.tok);
  if (x.kind == expr::cast)
    for (std::size_t k = x.tok; k < x.last && k < toks_.size(); ++k)
      if (toks_[k].text == ")") {
        out.insert(k);
        break;
      }
  for (int k : x.kids) unary_tokens(k, out);
}

// `!x` for the else of `if (x)`; the else of `if (!x)` is `x`.
std::string reader::negated_text(int e) const {
  const auto& x = ex_[static_cast<std::size_t>(e)];
  if (x.kind == expr::unary && toks_[x.tok].text == "!") {
    const auto& y = ex_[static_cast<std::size_t>(x.kids[0])];
    return y.kind == expr::binary || y.kind == expr::ternary || y.kind == expr::assign
               ? "(" + text_of(x.kids[0]) + ")"
               : text_of(x.kids[0]);
  }
  const bool simple = x.kind == expr::ident || x.kind == expr::call || x.kind == expr::member;
  return simple ? "!" + text_of(e) : "!(" + text_of(e) + ")";
}

std::string reader::text_of(int e) const {
  const auto& x = ex_[static_cast<std::size_t>(e)];
  std::set<std::size_t> unary;  // prefix operators and the ')' closing a cast
  unary_tokens(e, unary);
  std::string r;
  auto operand_end = [&](std::size_t k) {
    const auto& t = toks_[k];
    return t.kind == tk::ident || t.kind == tk::number || t.kind == tk::string || t.kind == tk::charlit ||
           t.text == ")" || t.text == "]";
  };
  for (std::size_t k = x.first; k <= x.last && k < toks_.size(); ++k) {
    const auto& t = toks_[k];
    if (k > x.first) {
      const auto& p = toks_[k - 1];
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
std::string reader::string_of(int e) const {
  const auto& x = ex_[static_cast<std::size_t>(e)];
  std::string r;
  for (std::size_t k = x.tok; k < toks_.size() && toks_[k].kind == tk::string; ++k) {
    const auto s = toks_[k].text;
    if (s.size() >= 2) r += s.substr(1, s.size() - 2);
  }
  return r;
}

bool reader::mentions(int e, std::string_view name) const {
  if (name.empty()) return false;
  const auto& x = ex_[static_cast<std::size_t>(e)];
  if (x.kind == expr::ident && toks_[x.tok].text == name) return true;
  for (int k : x.kids)
    if (mentions(k, name)) return true;
  return false;
}

int reader::find_call(int e, const std::set<std::string_view>& names) const {
  const auto& x = ex_[static_cast<std::size_t>(e)];
  if (x.kind == expr::call && names.count(callee(e))) return e;
  for (int k : x.kids) {
    const int r = find_call(k, names);
    if (r >= 0) return r;
  }
  return -1;
}

// The format string of error_setg()/error_report(), with "%s" filled in where
// the argument is __func__ (QEMU's idiom for naming the function).
std::string reader::error_text(int call, std::size_t fmt_arg, std::string& raw) const {
  const auto& x = ex_[static_cast<std::size_t>(call)];
  const std::size_t fmt = fmt_arg + 1;  // kids[0] is the callee
  if (x.kids.size() <= fmt || ex_[static_cast<std::size_t>(x.kids[fmt])].kind != expr::string)
    unsupported(toks_[ex_[static_cast<std::size_t>(x.kids[0])].tok].at, callee(call) + "() without a literal format");
  raw = string_of(x.kids[fmt]);
  std::string r;
  std::size_t arg = fmt + 1;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '%') { r += raw[i]; continue; }
    std::size_t j = i + 1;
    if (j < raw.size() && raw[j] == '%') { r += "%%"; i = j; continue; }
    while (j < raw.size() && std::string_view("-+ #0123456789.*lhjzt").find(raw[j]) != std::string_view::npos) ++j;
    const std::string spec = raw.substr(i, j + 1 - i);
    const bool func = j < raw.size() && raw[j] == 's' && arg < x.kids.size() &&
                      ex_[static_cast<std::size_t>(x.kids[arg])].kind == expr::ident &&
                      (toks_[ex_[static_cast<std::size_t>(x.kids[arg])].tok].text == "__func__" ||
                       toks_[ex_[static_cast<std::size_t>(x.kids[arg])].tok].text == "__FUNCTION__");
    r += func && !function_.empty() ? function_ : spec;
    ++arg;
    i = j;
  }
  return r;
}

int reader::truth_of(const value& v, int e) {
  switch (v.kind) {
    case value::truth:
    case value::compare: return v.f;
    case value::number: return v.n != 0 ? 0 : 1;
    default: unsupported(toks_[ex_[static_cast<std::size_t>(e)].tok].at, text_of(e) + " as a condition");
  }
}

std::optional<first_bytes> magic_named(std::string_view s) {
  if (s == "QEMU_VM_FILE_MAGIC") return first_bytes::vm_file_magic;
  if (s == "MULTIFD_MAGIC") return first_bytes::multifd_magic;
  return std::nullopt;
}

std::optional<transport> transport_named(std::string_view s) {
  if (s == "migration-socket-incoming") return transport::socket;
  if (s == "migration-tls-incoming") return transport::tls;
  if (s == "migration-file-incoming") return transport::file;
  if (s == "migration-fd-incoming") return transport::fd;
  if (s == "migration-exec-incoming") return transport::exec;
  return std::nullopt;
}

std::optional<mig_status> status_named(std::string_view s) {
  if (!starts(s, "MIGRATION_STATUS_")) return std::nullopt;
  std::string n(s.substr(17));
  for (auto& ch : n) ch = ch == '_' ? '-' : (ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch - 'A' + 'a') : ch);
  return parse_enum<mig_status>(n);
}

reader::value reader::eval(int e, const path& p) {
  const auto& x = ex_[static_cast<std::size_t>(e)];
  const token& t = toks_[x.tok];
  auto truth = [](int f) { value v = mk(value::truth); v.f = f; return v; };
  switch (x.kind) {
    case expr::ident: {
      const auto w = t.text;
      if (w == "true") return truth(0);
      if (w == "false" || w == "NULL") return truth(1);
      if (auto m = magic_named(w)) {
        value v = mk(value::magic_const);
        v.item = static_cast<int>(*m);
        return v;
      }
      if (starts(w, "MIGRATION_STATUS_")) {
        const auto s = status_named(w);
        if (!s) unsupported(t.at, w);
        value v = mk(value::status_const);
        v.item = static_cast<int>(*s);
        return v;
      }
      if (magic_vars_.count(std::string(w))) {
        if (!p.peeked) return mk(value::number);  // not peeked on this path: still 0
        value v = mk(value::magic_var);
        v.host = p.magic_host;
        return v;
      }
      if (ret_vars_.count(std::string(w)))
        unsupported(t.at, std::string(w) + " outside 'if (" + std::string(w) + " != 0)' after the peek");
      for (auto it = p.vars.rbegin(); it != p.vars.rend(); ++it)
        if (it->name == w) {
          if (it->f < 0) unsupported(t.at, w);
          return truth(it->f);
        }
      unsupported(t.at, w);
    }
    case expr::number: {
      std::string digits(t.text);
      while (!digits.empty() && std::string_view("uUlL").find(digits.back()) != std::string_view::npos) digits.pop_back();
      char* end = nullptr;
      const unsigned long long n = std::strtoull(digits.c_str(), &end, 0);
      if (digits.empty() || end != digits.c_str() + digits.size()) unsupported(t.at, t.text);
      if (n == qemu_vm_file_magic || n == multifd_magic) {
        value v = mk(value::magic_const);
        v.item = static_cast<int>(n == qemu_vm_file_magic ? first_bytes::vm_file_magic : first_bytes::multifd_magic);
        v.n = n;
        return v;
      }
      value v = mk(value::number);
      v.n = n;
      return v;
    }
    case expr::string: {
      value v = mk(value::string);
      v.s = string_of(e);
      return v;
    }
    case expr::cast: return eval(x.kids[0], p);
    case expr::member: {
      const auto field = toks_[x.tok + 1].text;
      if (field == "from_src_file") return truth(f_atom(column::has_main, yes));
      if (field == "postcopy_qemufile_dst") return truth(f_atom(column::has_preempt, yes));
      if (field == "state") return mk(value::status_var);
      if (field == "name") return mk(value::ioc_name);
      unsupported(t.at, text_of(e));
    }
    case expr::call: {
      const std::string f = callee(e);
      const std::size_t nargs = x.kids.size() - 1;
      const auto at = toks_[ex_[static_cast<std::size_t>(x.kids[0])].tok].at;
      static const std::pair<std::string_view, column> caps[] = {
          {"migrate_multifd", column::multifd},
          {"migrate_use_multifd", column::multifd},
          {"migrate_postcopy_ram", column::postcopy_ram},
          {"migrate_postcopy_preempt", column::postcopy_preempt},
          {"migrate_mapped_ram", column::mapped_ram},
          {"migration_has_main_and_multifd_channels", column::mm_done},
          {"multifd_recv_all_channels_created", column::all_multifd},
      };
      for (const auto& [name, col] : caps)
        if (f == name) {
          if (nargs != 0) unsupported(at, f + "() with arguments");
          return truth(f_atom(col, yes));
        }
      if (f == "migration_needs_multiple_sockets") {
        if (nargs != 0) unsupported(at, f + "() with arguments");
        return truth(f_or(f_atom(column::multifd, yes), f_atom(column::postcopy_preempt, yes)));
      }
      if (f == "qio_channel_has_feature") {
        const auto& a = ex_[static_cast<std::size_t>(x.kids.back())];
        if (nargs != 2 || a.kind != expr::ident || toks_[a.tok].text != "QIO_CHANNEL_FEATURE_READ_MSG_PEEK")
          unsupported(at, text_of(e));
        return truth(f_atom(column::peekable, yes));
      }
      if (f == "strcmp" && nargs == 2) {
        value a = eval(x.kids[1], p), b = eval(x.kids[2], p);
        if (a.kind == value::string) std::swap(a, b);
        if (a.kind != value::ioc_name || b.kind != value::string) unsupported(at, text_of(e));
        const auto tr = transport_named(b.s);
        if (!tr) unsupported(ex_[static_cast<std::size_t>(x.kids[2])].kind == expr::string
                                 ? toks_[ex_[static_cast<std::size_t>(x.kids[2])].tok].at
                                 : toks_[ex_[static_cast<std::size_t>(x.kids[1])].tok].at,
                             "\"" + b.s + "\"");
        value v = mk(value::compare);
        v.f = f_atom(column::transport, static_cast<mask>(~of(*tr)));  // non-zero when the names differ
        return v;
      }
      if ((f == "cpu_to_be32" || f == "be32_to_cpu") && nargs == 1) {
        value v = eval(x.kids[1], p);
        if (v.kind != value::magic_var && v.kind != value::magic_const) unsupported(at, text_of(e));
        v.host = !v.host;
        return v;
      }
      // Setup that the model takes as succeeding: their failure is not a
      // classification.
      if (f == "multifd_load_setup" || f == "multifd_recv_setup") return mk(value::number);
      unsupported(at, f.empty() ? text_of(e) : f + "()");
    }
    case expr::unary: {
      if (t.text == "!") return truth(f_not(truth_of(eval(x.kids[0], p), x.kids[0])));
      if (t.text == "-" ) {
        value v = eval(x.kids[0], p);
        if (v.kind == value::number) { v.n = ~v.n + 1; return v; }
      }
      unsupported(t.at, t.text);
    }
    case expr::binary: {
      const auto op = t.text;
      if (op == "&&" || op == "||") {
        const int a = truth_of(eval(x.kids[0], p), x.kids[0]);
        const int b = truth_of(eval(x.kids[1], p), x.kids[1]);
        return truth(op == "&&" ? f_and(a, b) : f_or(a, b));
      }
      if (op != "==" && op != "!=") unsupported(t.at, op);
      value a = eval(x.kids[0], p), b = eval(x.kids[1], p);
      const bool eq = op == "==";
      auto pick = [&](int f) { return truth(eq ? f : f_not(f)); };
      if (b.kind == value::magic_var || b.kind == value::status_var ||
          (b.kind == value::number && a.kind != value::number && a.kind != value::magic_const) ||
          (a.kind == value::magic_const && b.kind == value::number))
        std::swap(a, b);
      if (a.kind == value::magic_var && b.kind == value::magic_const) {
        if (a.host != b.host)
          unsupported(t.at, text_of(e) + ": " + (a.host ? "host-order value against cpu_to_be32()" : "be32 value against a host-order constant"));
        return pick(f_atom(column::magic, of(static_cast<first_bytes>(b.item))));
      }
      if (a.kind == value::number && b.kind == value::magic_const) return truth(eq ? 1 : 0);  // 0 is no magic
      if (a.kind == value::status_var && b.kind == value::status_const)
        return pick(f_atom(column::state, of(static_cast<mig_status>(b.item))));
      if (a.kind == value::number && b.kind == value::number) return truth(((a.n == b.n) == eq) ? 0 : 1);
      if ((a.kind == value::truth || a.kind == value::compare) && b.kind == value::number) {
        if (b.n == 0) return pick(f_not(a.f));
        if (b.n == 1 && a.kind == value::truth) return pick(a.f);
      }
      if (a.kind == value::truth && b.kind == value::truth)
        return pick(f_or(f_and(a.f, b.f), f_and(f_not(a.f), f_not(b.f))));
      unsupported(t.at, text_of(e));
    }
    case expr::charlit:
    case expr::index:
    case expr::postfix:
    case expr::assign:
    case expr::ternary:
    case expr::size_of: break;
  }
  unsupported(t.at, x.kind == expr::charlit ? std::string(t.text) : std::string(t.text));
}

// ================================================================ running the paths

reader::var* reader::find_var(path& p, std::string_view name) const {
  for (auto it = p.vars.rbegin(); it != p.vars.rend(); ++it)
    if (it->name == name) return &*it;
  return nullptr;
}

void reader::set_var(path& p, std::string_view name, int f) const {
  if (auto* v = find_var(p, name)) v->f = f;
  else p.vars.push_back({std::string(name), f});
}

// Adds a condition the path now depends on. `shown_too`: also a condition its
// rows show.
void reader::fork_add(path& p, int f, bool shown_too, const std::string& text) {
  and_with(p.exact, f_bits(f));
  p.exact_f.push_back(f);
  if (shown_too) p.shown.push_back(f);
  if (!text.empty()) p.ctext.push_back(text);
}

std::string reader::detail_for(const path& p, const std::string& base_name) const {
  if (!p.last_then) return base_name;
  std::string n;
  if (!f_names(p.last_then->first, n)) n = "L" + std::to_string(p.last_then->second);
  return n;
}

void reader::emit(const path& p, const outcome& o, bool wait) {
  bool mm = false;
  for (int f : p.exact_f) {
    const auto& n = fn_[static_cast<std::size_t>(f)];
    mm = mm || (n.op == fnode::atom && n.col == column::mm_done && n.m == yes);
  }
  const std::string region = p.peeked || wait ? "peek" : mm ? "after_mm" : "nopeek";

  // Rows of this path: each fires where it matches and no earlier row does.
  auto regions = [&](const std::vector<cube>& cs, std::vector<bits>& fire) {
    bits seen = covered_, total = no_bits();
    fire.clear();
    for (const auto& q : cs) {
      bits b = cube_bits(q);
      and_with(b, valid_);
      bits f = b;
      and_not(f, seen);
      or_with(seen, b);
      or_with(total, f);
      fire.push_back(std::move(f));
    }
    return total == p.exact;
  };
  std::vector<bits> fire;
  std::vector<cube> cs = cubes_of(p.shown);
  if (!regions(cs, fire)) {
    cs = cubes_of(p.exact_f);
    if (!regions(cs, fire)) fail(cur_, "expected consistent paths (internal error in the C reader)");
  }
  const bool path_dead = none(p.exact);
  std::string c;
  for (const auto& t : p.ctext) c += (c.empty() ? "" : " && ") + t;
  if (c.empty()) c = "true";
  for (std::size_t i = 0; i < cs.size(); ++i) {
    // A row that never fires: an assert that always holds goes; an implicit
    // default stays when its whole path is dead (patch_v6.h keeps
    // after_mm.implicit_main); any other dead row stays only if its statement
    // decides nothing live anywhere (decided in run()).
    const bool live = !none(fire[i]);
    if (!live && (o.v == verdict::abort || (o.implicit && !path_dead))) continue;
    if (drafts_.size() >= max_rows) unsupported(cur_, "more than 4096 rows");
    drafts_.push_back({region + "." + o.detail, cs[i], o, p.peeked || wait ? reads::peek4 : reads::nothing, c, live});
    bits b = cube_bits(cs[i]);
    and_with(b, valid_);
    or_with(covered_, b);
  }
}

// A path ends: decide what its rows say.
void reader::finish(path& p, pos at, bool by_return) {
  outcome o;
  if (p.err && (p.err->sticky || by_return)) {
    o = {verdict::reject, p.err->text, p.err->at, false, p.err->from_peek ? "failed" : p.err->slug};
  } else if (p.channel) {
    o = {p.channel->v, p.channel->v == verdict::reject ? "channel left as CH_NONE" : "", p.channel->at, false,
         detail_for(p, p.channel->v == verdict::reject ? "none" : std::string(name(p.channel->v)))};
  } else if (p.init) {
    o = {p.init->v, p.init->v == verdict::reject ? "channel left as CH_NONE" : "", p.init->at, true,
         "implicit_" + std::string(p.init->v == verdict::reject ? "none" : name(p.init->v))};
  } else {
    expected(at, "an assignment to the channel variable, or an initializer, on every path: "
                 "the path ending here decides nothing");
  }
  emit(p, o);
}

std::optional<verdict> channel_named(std::string_view s) {
  if (s == "CH_MAIN") return verdict::main;
  if (s == "CH_MULTIFD") return verdict::multifd;
  if (s == "CH_POSTCOPY") return verdict::preempt;
  if (s == "CH_NONE") return verdict::reject;
  return std::nullopt;
}

// Calls that hand the channel over: the 7.2-9.0 forms decide by calling them.
const std::set<std::string_view>& sinks() {
  static const std::set<std::string_view> s{"migration_incoming_setup", "multifd_recv_new_channel",
                                            "postcopy_preempt_new_channel"};
  return s;
}
verdict sink_verdict(std::string_view f) {
  return f == "migration_incoming_setup" ? verdict::main : f == "multifd_recv_new_channel" ? verdict::multifd : verdict::preempt;
}

void reader::do_peek(int call, path& p, pos at) {
  const auto& x = ex_[static_cast<std::size_t>(call)];
  if (x.kids.size() < 3) unsupported(at, "migration_channel_read_peek() without a buffer");
  // migration_channel_read_peek() waits until 4 bytes arrive: a silent
  // channel blocks the destination here.
  std::string wait_text = "migration_channel_read_peek() waits until 4 bytes arrive";
  for (const auto& r : base_.rules)
    if (r.then == verdict::blocked && r.cost == reads::peek4 && !r.text.empty()) wait_text = std::string(r.text);
  path w = p;
  w.peeked = true;
  fork_add(w, f_atom(column::magic, of(first_bytes::silent)), true, "");
  w.ctext.push_back(text_of(call));
  emit(w, {verdict::blocked, wait_text, at, false, "wait"}, true);
  fork_add(p, f_atom(column::magic, except(first_bytes::silent)), false, "");
  p.peeked = true;
  p.magic_host = false;
  p.peek_at = at;
}

// `ret`, `ret != 0`, `ret < 0`, `!ret`, `ret == 0` ... on the peek's result.
bool reader::ret_test(int e, bool& fails_when_true, int& peek_call) const {
  const auto& x = ex_[static_cast<std::size_t>(e)];
  auto is_ret = [&](int k) {
    const auto& y = ex_[static_cast<std::size_t>(k)];
    if (y.kind == expr::ident && ret_vars_.count(std::string(toks_[y.tok].text))) return true;
    if (callee(k) == "migration_channel_read_peek") { peek_call = k; return true; }
    return false;
  };
  peek_call = -1;
  if (is_ret(e)) { fails_when_true = true; return true; }
  if (x.kind == expr::unary && toks_[x.tok].text == "!" && is_ret(x.kids[0])) { fails_when_true = false; return true; }
  if (x.kind != expr::binary || !is_ret(x.kids[0])) return false;
  const auto op = toks_[x.tok].text;
  const int r = x.kids[1];
  const auto& y = ex_[static_cast<std::size_t>(r)];
  const bool zero = y.kind == expr::number && toks_[y.tok].text == "0";
  const bool minus_one = y.kind == expr::unary && toks_[y.tok].text == "-" &&
                         ex_[static_cast<std::size_t>(y.kids[0])].kind == expr::number &&
                         toks_[ex_[static_cast<std::size_t>(y.kids[0])].tok].text == "1";
  if ((op == "!=" && zero) || (op == "<" && zero) || (op == "==" && minus_one)) { fails_when_true = true; return true; }
  if ((op == "==" && zero) || (op == ">=" && zero) || (op == "!=" && minus_one)) { fails_when_true = false; return true; }
  return false;
}


std::string reader::abort_detail(const path& p, std::string_view what) const {
  if (!p.last_then) return std::string(what);
  return detail_for(p, "") + "." + std::string(what);
}

void reader::count_fork() {
  if (++paths_ > max_paths) unsupported(cur_, "more than 4096 paths");
}

bool reader::is_value_call(std::string_view f) {
  static const std::set<std::string_view> known{
      "migrate_multifd", "migrate_use_multifd", "migrate_postcopy_ram", "migrate_postcopy_preempt",
      "migrate_mapped_ram", "migration_has_main_and_multifd_channels", "multifd_recv_all_channels_created",
      "migration_needs_multiple_sockets", "qio_channel_has_feature", "strcmp", "cpu_to_be32", "be32_to_cpu",
      "multifd_load_setup", "multifd_recv_setup"};
  return known.count(f) != 0;
}

reader::step reader::exec_assign(std::size_t name_tok, int rhs, bool is_decl, path& p) {
  const std::string name(toks_[name_tok].text);
  const bool special = magic_vars_.count(name) || ret_vars_.count(name);
  if (rhs < 0) {
    if (name != chan_var_ && !special) set_var(p, name, -1);
    return step::next;
  }
  const int rs = strip_casts(rhs);
  const auto& y = ex_[static_cast<std::size_t>(rs)];
  if (y.kind == expr::ident && starts(toks_[y.tok].text, "CH_")) {
    const auto ch = channel_named(toks_[y.tok].text);
    if (!ch) unsupported(toks_[y.tok].at, toks_[y.tok].text);
    decided d{*ch, cur_, std::string(toks_[y.tok].text)};
    if (is_decl) p.init = d;
    else p.channel = d;
    return step::next;
  }
  if (!chan_var_.empty() && name == chan_var_) unsupported(toks_[name_tok].at, name + " = " + text_of(rhs));
  const int sink = find_call(rhs, sinks());
  if (sink >= 0) {  // start_migration = multifd_recv_new_channel(...) (7.2)
    p.channel = decided{sink_verdict(callee(sink)), cur_, callee(sink)};
    finish(p, cur_, false);
    return step::ended;
  }
  const std::string f = callee(rs);
  if (f == "migration_channel_read_peek") {
    do_peek(rs, p, cur_);
    return step::next;
  }
  if (magic_vars_.count(name)) {
    const auto& x = ex_[static_cast<std::size_t>(rs)];
    if ((f == "be32_to_cpu" || f == "cpu_to_be32") && x.kids.size() == 2 &&
        ex_[static_cast<std::size_t>(x.kids[1])].kind == expr::ident && toks_[ex_[static_cast<std::size_t>(x.kids[1])].tok].text == name) {
      if (!p.peeked) expected(cur_, "migration_channel_read_peek() before '" + name + "' is converted");
      p.magic_host = !p.magic_host;
      return step::next;
    }
    if (is_decl) return step::next;  // uint32_t channel_magic = 0;
    unsupported(toks_[name_tok].at, name + " = " + text_of(rhs));
  }
  if (ret_vars_.count(name)) {
    if (is_decl) return step::next;  // int ret = 0;
    unsupported(toks_[name_tok].at, name + " = " + text_of(rhs));
  }
  if (!f.empty() && !is_value_call(f)) {  // f = qemu_file_new_input(ioc): not a condition
    set_var(p, name, -1);
    return step::next;
  }
  if (is_decl) {  // other declarations are ignored unless they are a condition
    try {
      set_var(p, name, truth_of(eval(rhs, p), rhs));
    } catch (const c_reader_error&) {
      set_var(p, name, -1);
    }
    return step::next;
  }
  set_var(p, name, truth_of(eval(rhs, p), rhs));
  return step::next;
}

reader::step reader::exec_call(int e, path& p, pos at) {
  const std::string f = callee(e);
  const auto& x = ex_[static_cast<std::size_t>(e)];
  if (f == "error_setg" || f == "error_setg_errno" || f == "error_report") {
    std::string raw;
    const std::size_t fmt = f == "error_setg" ? 1 : f == "error_setg_errno" ? 2 : 0;
    std::string text = error_text(e, fmt, raw);
    // error_setg() refuses the channel for good; error_report() only prints,
    // and refuses it only if `return` follows.
    p.err = pending_error{std::move(text), slug(raw), at, f != "error_report", false};
    return step::next;
  }
  if (f == "assert" || f == "g_assert") {
    if (x.kids.size() != 2) unsupported(at, f + "() without exactly one argument");
    const int c = x.kids[1];
    if (mentions(c, chan_var_)) unsupported(at, text_of(e));
    const int cond = truth_of(eval(c, p), c);
    const std::string ct = text_of(c);
    if (fn_[static_cast<std::size_t>(cond)].op != fnode::t) {
      count_fork();
      path fired = p;  // the assert fails: the destination aborts
      fork_add(fired, f_not(cond), true, negated_text(c));
      emit(fired, {verdict::abort, f + "(" + ct + ")", at, false, abort_detail(p, "assert")});
    }
    if (fn_[static_cast<std::size_t>(cond)].op == fnode::f) return step::ended;
    fork_add(p, cond, true, ct);
    return step::next;
  }
  if (f == "g_assert_not_reached" || f == "abort") {
    emit(p, {verdict::abort, f + "()", at, false, abort_detail(p, "not_reached")});
    return step::ended;
  }
  const int sink = find_call(e, sinks());
  if (sink >= 0) {
    p.channel = decided{sink_verdict(callee(sink)), at, callee(sink)};
    finish(p, at, false);
    return step::ended;
  }
  if (f == "migration_channel_read_peek") do_peek(e, p, at);
  return step::next;  // other calls do not take part in classifying
}

reader::step reader::exec_if(int s, path& p, std::vector<path>& work) {
  const stmt& x = st_[static_cast<std::size_t>(s)];
  const int c = x.cond;
  // `if (channel == CH_MAIN)`: the channel is used, so it is classified.
  if (mentions(c, chan_var_)) {
    finish(p, cur_, false);
    return step::ended;
  }
  // `if (!migration_incoming_setup(f, errp))`: handed over (7.2-9.0).
  const int sink = find_call(c, sinks());
  if (sink >= 0) {
    p.channel = decided{sink_verdict(callee(sink)), toks_[ex_[static_cast<std::size_t>(sink)].first].at, callee(sink)};
    finish(p, cur_, false);
    return step::ended;
  }
  bool fails_when_true = false;
  int peek_call = -1;
  if (ret_test(c, fails_when_true, peek_call)) {
    if (peek_call >= 0) do_peek(peek_call, p, cur_);
    if (!p.peeked) {  // not peeked on this path: ret is still 0
      const auto& branch = fails_when_true ? x.else_kids : x.kids;
      if (!branch.empty()) p.cont.push_back({&branch, 0});
      return step::next;
    }
    count_fork();
    const std::string ct = text_of(c);
    path failed = p;  // 4 bytes never came: "Failed to peek at channel"
    fork_add(failed, f_atom(column::magic, of(first_bytes::eof)), true, fails_when_true ? ct : negated_text(c));
    failed.err = pending_error{"Failed to peek at channel", "failed", p.peek_at, true, true};
    fork_add(p, f_atom(column::magic, except(first_bytes::eof)), false, "");
    path& then_p = fails_when_true ? failed : p;
    path& else_p = fails_when_true ? p : failed;
    then_p.cont.push_back({&x.kids, 0});
    if (!x.else_kids.empty()) else_p.cont.push_back({&x.else_kids, 0});
    work.push_back(std::move(else_p));
    work.push_back(std::move(then_p));
    return step::ended;
  }
  const int cond = truth_of(eval(c, p), c);
  const auto op = fn_[static_cast<std::size_t>(cond)].op;
  if (op == fnode::t || op == fnode::f) {  // multifd_recv_setup(errp) != 0: taken as succeeding
    const auto& branch = op == fnode::t ? x.kids : x.else_kids;
    if (!branch.empty()) p.cont.push_back({&branch, 0});
    return step::next;
  }
  count_fork();
  const std::string ct = text_of(c);
  path e = p;
  fork_add(p, cond, true, ct);
  p.last_then = std::make_pair(cond, toks_[x.tok].at.line);
  p.cont.push_back({&x.kids, 0});
  const int ncond = f_not(cond);
  fork_add(e, ncond, fn_[static_cast<std::size_t>(ncond)].op == fnode::atom, negated_text(c));
  e.last_then.reset();
  if (!x.else_kids.empty()) e.cont.push_back({&x.else_kids, 0});
  work.push_back(std::move(e));
  work.push_back(std::move(p));
  return step::ended;
}

reader::step reader::exec(int s, path& p, std::vector<path>& work) {
  const stmt& x = st_[static_cast<std::size_t>(s)];
  cur_ = toks_[x.tok].at;
  if (++steps_ > max_steps) unsupported(cur_, "more than 2 million steps");
  switch (x.kind) {
    case stmt::block: p.cont.push_back({&x.kids, 0}); return step::next;
    case stmt::empty:
    case stmt::elided:
    case stmt::label: return step::next;
    case stmt::if_: return exec_if(s, p, work);
    case stmt::return_: {
      if (x.value >= 0) {  // return CH_MAIN; decides, return channel; ends
        const auto& y = ex_[static_cast<std::size_t>(strip_casts(x.value))];
        if (y.kind == expr::ident && starts(toks_[y.tok].text, "CH_")) {
          const auto ch = channel_named(toks_[y.tok].text);
          if (!ch) unsupported(toks_[y.tok].at, toks_[y.tok].text);
          p.channel = decided{*ch, cur_, std::string(toks_[y.tok].text)};
          if (p.err && !p.err->sticky) p.err.reset();  // it was only printed
        }
      }
      finish(p, cur_, true);
      return step::ended;
    }
    case stmt::goto_: {
      const auto label = toks_[x.tok + 1].text;
      const auto& body = st_[static_cast<std::size_t>(top_)].kids;
      const std::size_t from = p.cont.empty() ? body.size() : p.cont.front().i;
      for (std::size_t j = from; j < body.size(); ++j) {
        const auto& l = st_[static_cast<std::size_t>(body[j])];
        if (l.kind == stmt::label && toks_[l.tok].text == label) {
          p.cont.clear();
          p.cont.push_back({&body, j + 1});
          return step::next;
        }
      }
      unsupported(cur_, "goto " + std::string(label) + " (only forward, to a label at the outer level)");
    }
    case stmt::decl:
      for (const auto& [name, init] : x.declarators) {
        if (init >= 0 && mentions(init, chan_var_)) {
          finish(p, cur_, false);
          return step::ended;
        }
        if (exec_assign(name, init, true, p) == step::ended) return step::ended;
      }
      return step::next;
    case stmt::expression: {
      const auto& y = ex_[static_cast<std::size_t>(x.value)];
      if (y.kind == expr::assign) {
        if (toks_[y.tok].text != "=") unsupported(toks_[y.tok].at, toks_[y.tok].text);
        const auto& l = ex_[static_cast<std::size_t>(y.kids[0])];
        if (l.kind != expr::ident) unsupported(toks_[y.tok].at, "assignment to " + text_of(y.kids[0]));
        if (mentions(y.kids[1], chan_var_)) {
          finish(p, cur_, false);
          return step::ended;
        }
        return exec_assign(l.tok, y.kids[1], false, p);
      }
      // migration_incoming_setup(ioc, channel, errp): the channel is used.
      if (mentions(x.value, chan_var_)) {
        finish(p, cur_, false);
        return step::ended;
      }
      if (y.kind == expr::call) return exec_call(x.value, p, cur_);
      if (y.kind == expr::cast) return step::next;  // (void)x;
      unsupported(toks_[y.tok].at, text_of(x.value));
    }
  }
  return step::next;
}

void reader::execute() {
  path start;
  start.cont.push_back({&st_[static_cast<std::size_t>(top_)].kids, 0});
  start.exact = valid_;
  std::vector<path> work;
  work.push_back(std::move(start));
  while (!work.empty()) {  // depth first, `then` before `else`: rows come out in source order
    path p = std::move(work.back());
    work.pop_back();
    while (true) {
      if (p.cont.empty()) {
        finish(p, end_at_, false);
        break;
      }
      auto& fr = p.cont.back();
      if (fr.i >= fr.list->size()) {
        p.cont.pop_back();
        continue;
      }
      const int s = (*fr.list)[fr.i++];
      if (exec(s, p, work) == step::ended) break;
    }
  }
}

// Which variable is the channel, which holds the magic, which the peek's result.
void reader::prescan() {
  auto note_channel = [&](std::size_t name, int init) {
    if (init < 0) return;
    const auto& y = ex_[static_cast<std::size_t>(strip_casts(init))];
    if (y.kind == expr::ident && starts(toks_[y.tok].text, "CH_")) {
      if (chan_var_.empty()) chan_var_ = toks_[name].text;
      else if (chan_var_ != toks_[name].text)
        unsupported(toks_[name].at, "a second channel variable " + std::string(toks_[name].text));
    }
    if (callee(strip_casts(init)) == "migration_channel_read_peek") ret_vars_.insert(std::string(toks_[name].text));
  };
  for (const auto& s : st_) {
    if (s.kind == stmt::decl)
      for (const auto& [name, init] : s.declarators) note_channel(name, init);
    if (s.kind == stmt::expression) {
      const auto& y = ex_[static_cast<std::size_t>(s.value)];
      if (y.kind == expr::assign && ex_[static_cast<std::size_t>(y.kids[0])].kind == expr::ident)
        note_channel(ex_[static_cast<std::size_t>(y.kids[0])].tok, y.kids[1]);
    }
  }
  for (std::size_t i = 0; i < ex_.size(); ++i) {
    const auto& x = ex_[i];
    if (callee(static_cast<int>(i)) != "migration_channel_read_peek" || x.kids.size() < 3) continue;
    const auto& buf = ex_[static_cast<std::size_t>(strip_casts(x.kids[2]))];
    if (buf.kind != expr::ident) unsupported(toks_[buf.tok].at, "peek into " + text_of(x.kids[2]));
    magic_vars_.insert(std::string(toks_[buf.tok].text));
  }
}

parsed_table reader::run() {
  lex();
  if (toks_.size() == 1) expected(pos{}, "a classifier, but the input holds no C code");
  choose_function();
  if (top_ < 0) {
    at_ = 0;
    stmt b{stmt::block, 0, -1, -1, {}, {}, {}};
    while (peek().kind != tk::end) b.kids.push_back(parse_stmt());
    top_ = add_stmt(std::move(b));
  }
  if (function_.empty()) function_ = hunk_function_;
  prescan();

  const auto& u = space();
  valid_ = no_bits();
  for (std::size_t i = 0; i < n_obs; ++i)
    if (valid<concrete_domain>(base_, u.obs[i].generic())) valid_[i / 64] |= std::uint64_t{1} << (i % 64);
  covered_ = no_bits();
  execute();

  std::set<std::pair<int, int>> live_at;  // statements that decide for some valid observation
  for (const auto& d : drafts_)
    if (d.live) live_at.emplace(d.o.at.line, d.o.at.col);
  std::set<std::string> used;
  out_.rules.reserve(drafts_.size());
  for (const auto& d : drafts_) {
    // The same statement reached on a path where it cannot fire: not a row.
    if (!d.live && !d.o.implicit && live_at.count({d.o.at.line, d.o.at.col})) continue;
    std::string id = d.region_detail;
    for (int k = 2; used.count(id); ++k) id = d.region_detail + "." + std::to_string(k);
    used.insert(id);
    rule r;
    r.id = store(id);
    for (std::size_t c = 0; c < column_count; ++c)
      r.when.set(column(c), d.when[c] == domain_mask(column(c)) ? any : d.when[c]);
    r.then = d.o.v;
    r.cost = d.cost;
    if (!d.o.text.empty()) r.text = store(d.o.text);
    r.c = store(d.c);
    r.ref = {{}, store(function_)};
    r.implicit_default = d.o.implicit;
    r.origin = store(origin(d.o.at));
    out_.rules.push_back(r);
  }
  for (const auto& f : base_.forbids)
    out_.forbids.push_back({store(std::string(f.id)), f.when, store(std::string(f.text)),
                            {store(std::string(f.ref.commit)), store(std::string(f.ref.where))}});
  out_.function = function_;
  out_.view = {store(file_), store("read from " + file_ + (function_.empty() ? "" : ", " + function_ + "()") +
                                   " against " + std::string(base_.name)),
               store(file_), out_.rules, out_.forbids, base_.sem};
  return std::move(out_);
}

}  // namespace

parsed_table read_classifier(std::string_view source, std::string_view file_name, const table& base) {
  return reader(source, file_name, base).run();
}

}  // namespace migchan
