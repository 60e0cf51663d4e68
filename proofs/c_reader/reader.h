// The reader's state while it runs every path; methods in eval.cpp, exec.cpp, proofs/c_reader.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proofs/c_reader.h"
#include "proofs/c_reader/error.h"
#include "proofs/c_reader/formula.h"
#include "proofs/c_reader/syntax.h"

namespace migchan::c_reader_detail {

class reader {
 public:
  reader(std::string_view source, std::string_view file, const table& base);

  parsed_table run();

 private:
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
  std::string error_text(int call, std::size_t fmt_arg, std::string& raw) const;

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
  // The base version's peek row for these first bytes (what migration_channel_read_peek() does).
  const rule* peek_row(first_bytes magic) const;
  std::string detail_for(const path& p, const std::string& base_name) const;
  std::string abort_detail(const path& p, std::string_view what) const;
  void count_fork();
  static bool is_value_call(std::string_view f);
  void prescan();
  var* find_var(path& p, std::string_view name) const;
  void set_var(path& p, std::string_view name, int f) const;
  std::string origin(pos at) const { return err_.file + ":" + std::to_string(at.line); }
  std::string_view store(std::string s) {
    out_.arena.push_back(std::move(s));
    return out_.arena.back();
  }

  reporter err_;
  const table& base_;
  std::string text_, hunk_function_;
  tree tree_;
  std::string chan_var_;
  std::set<std::string> magic_vars_, ret_vars_;
  bits valid_;
  bits covered_;
  std::size_t paths_ = 1, steps_ = 0;
  pos cur_;  // the statement being run, for errors found deep in a formula
  formulas fm_{err_, cur_};

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

}  // namespace migchan::c_reader_detail
