// The reader's state while it runs every path; methods in c_reader.cpp (files, functions, rows),
// eval.cpp (expressions), exec.cpp (statements) and helpers.cpp (what helpers say).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proofs/c_reader.h"
#include "proofs/c_reader/error.h"
#include "proofs/c_reader/formula.h"
#include "proofs/c_reader/syntax.h"

namespace migchan::c_reader_detail {

// Calls that hand the channel over: the 7.2-10.0 forms decide by calling them.
const std::set<std::string_view>& sinks();
// Names with a fixed meaning, never read from a definition (options.c defines the capabilities).
bool primitive(std::string_view f);
// Of those, the calls whose value the reader knows (capabilities, channel features, setup).
const std::set<std::string_view>& known_values();
bool is_watch(std::string_view f);  // qio_channel_add_watch*()

class reader {
 public:
  reader(std::span<const c_source> files, const table& base);

  parsed_table run();

 private:
  // ------------------------------------------------------------ meaning
  struct value {
    enum kind_t : std::uint8_t {
      truth,
      number,
      magic_var,
      magic_const,
      status_var,
      status_const,
      ioc_name,
      string,
      compare
    } kind;
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
  value eval_call(int e, const path& p);
  int truth_of(const value& v, int e);
  std::string error_text(int call, std::size_t fmt_arg, std::string& raw, const std::string& func) const;

  struct decided {
    verdict v;
    pos at;
    std::string name;  // CH_MAIN, ...
  };
  struct pending_error {
    std::string text, slug;
    pos at;
    bool sticky;  // error_setg: the channel is refused whatever follows
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
  // A function the path runs in: the classifier, or one it called.
  struct call {
    int fn;                     // index into tree_.fns
    std::size_t depth;          // p.cont.size() when its body was entered
    bool in_condition = false;  // called inside an if condition: it must decide
  };
  struct path {
    std::vector<frame> cont;
    std::vector<call> calls;
    bits exact;
    std::vector<int> shown, exact_f;
    std::vector<std::string> ctext;
    std::vector<var> vars;
    std::optional<decided> channel, init;
    std::optional<pending_error> err;
    std::optional<std::pair<int, int>> last_then;  // formula, line of the branch last taken, if `then`
    bool peeked = false, magic_host = false;
    pos peek_at;
    std::string region;  // "woken" for channels a watch left pending; else derived
  };
  struct outcome {
    verdict v;
    std::string text;
    pos at;
    bool implicit = false;
    std::string detail;
  };

  void execute(int fn, int within, const std::string& region);  // within: a formula the paths start from
  enum class step { next, ended };
  step exec(int s, path& p, std::vector<path>& work);
  step exec_if(int s, path& p, std::vector<path>& work);
  step exec_call(int e, path& p, pos at);
  step exec_assign(std::size_t name_tok, int rhs, bool is_decl, path& p);
  int decider_call(int e);  // the first call in e of a function that classifies, or -1
  step exec_return(const stmt& x, path& p);
  step enter(int fn, path& p, bool in_condition);
  step leave(path& p);
  step watch(int call, path& p, pos at);
  void do_peek(int call, path& p, pos at);
  bool ret_test(int e, bool& fails_when_true, int& peek_call) const;
  void fork_add(path& p, int f, bool shown_too, const std::string& text);
  void finish(path& p, pos at, bool by_return);
  void emit(const path& p, const outcome& o, const std::string& region = {});
  std::string detail_for(const path& p, const std::string& base_name) const;
  std::string abort_detail(const path& p, std::string_view what) const;
  void count_fork();
  static bool is_value_call(std::string_view f);
  var* find_var(path& p, std::string_view name) const;
  void set_var(path& p, std::string_view name, int f) const;
  std::string origin(pos at) const { return err_.where(at); }
  std::string_view store(std::string s) {
    out_.arena.push_back(std::move(s));
    return out_.arena.back();
  }
  int current_fn(const path& p) const { return p.calls.empty() ? entry_ : p.calls.back().fn; }
  const std::string& chan_var(const path& p) const { return chan_var_[static_cast<std::size_t>(current_fn(p))]; }

  // ------------------------------------------------------------ functions (c_reader.cpp)
  const fn_def* defined(std::string_view name) const;
  int function(std::string_view name, bool loops = false);  // parsed on first use; -1 if not defined
  bool decides(std::string_view name);                      // takes part in classifying: to be run, not evaluated
  bool is_condition_helper(std::string_view name);          // a bool function among the files: read as a condition
  int choose_entry();
  void prescan(int fn);

  // ------------------------------------------------------------ helpers (helpers.cpp)
  // What migration_channel_read_peek() does for the first-bytes classes that
  // do not give it 4 bytes: from its body when it is among the files, else
  // from the base version's peek rows.
  struct peek_effect {
    verdict v =
        verdict::reject;  // blocked, abort, reject (fails, error set), drop (fails, only printed); main: 0 returned
    std::string text;
  };
  static constexpr std::array<first_bytes, 4> peek_classes{first_bytes::silent, first_bytes::partial,
                                                           first_bytes::reset, first_bytes::eof};
  std::array<peek_effect, 4> peek_effects_;
  void derive_peek();
  const rule* peek_row(first_bytes magic) const;
  int helper_formula(int fn);  // a helper returning a condition, as a formula over the columns
  int known_atom(int f);       // f itself, or the single column atom with exactly its observations
  void derive_surroundings();
  int find_wake_handler(int callback);
  int find_watch_callback();

  reporter err_;
  const table& base_;
  std::vector<std::string> texts_;     // cleaned files; tokens point into them
  std::vector<std::string> hunk_fns_;  // "@@ ... @@ name(" per file
  std::vector<fn_def> defs_;
  std::map<std::string, std::size_t, std::less<>> def_of_;  // name -> index into defs_
  std::map<std::size_t, int> parsed_;                       // defs_ index -> tree_.fns index
  std::map<std::string, bool, std::less<>> decides_;        // memo; false while being computed
  std::map<int, int> helper_memo_;                          // tree fn -> formula
  std::set<int> helper_busy_;
  tree tree_;
  int entry_ = -1;
  std::vector<std::string> chan_var_;  // per tree fn
  std::set<std::string> magic_vars_, ret_vars_;
  semantics sem_;
  std::vector<std::string> notes_;  // what was read from the C besides the rows
  int watch_callback_ = -1;         // the G_IO_IN watch's callback, when there is one
  bool wake_ = false;               // running the handler of channels a watch left pending
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
    std::string function;
  };
  std::vector<draft> drafts_;
  parsed_table out_;
};

}  // namespace migchan::c_reader_detail
