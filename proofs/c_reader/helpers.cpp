// What the functions around the classifier say: conditions written as helpers,
// migration_channel_read_peek()'s outcomes, the multifd id check, what happens
// after a channel error, what the listener counts, and who decides the
// channels a G_IO_IN watch left pending.
#include <map>
#include <optional>

#include "model/texts.h"
#include "proofs/c_reader/clean.h"
#include "proofs/c_reader/reader.h"

namespace migchan::c_reader_detail {

// ================================================================ conditions

int reader::known_atom(int f) {
  const bits b = fm_.f_bits(f);
  for (const column c : {column::mm_done, column::peekable, column::has_main, column::all_multifd, column::has_preempt,
                         column::multifd, column::postcopy_ram, column::postcopy_preempt, column::mapped_ram})
    for (const mask m : {yes, no}) {
      const int a = fm_.f_atom(c, m);
      if (fm_.f_bits(a) == b) return a;
    }
  return f;
}

// Every path through a function that returns a condition: the disjunction of
// each path's condition with what it returns. When that is exactly one column
// (migration_has_main_and_multifd_channels() is mm_done), the column stands
// for it, so rows name it as the built-in tables do.
int reader::helper_formula(int fn) {
  if (const auto it = helper_memo_.find(fn); it != helper_memo_.end()) return it->second;
  const auto& body = tree_.fns[static_cast<std::size_t>(fn)];
  if (!helper_busy_.insert(fn).second) err_.unsupported(cur_, body.name + "() calling itself");
  const pos saved = cur_;
  struct hpath {
    std::vector<frame> cont;
    int cond;
    path vars;
  };
  int result = 1;
  std::vector<hpath> work;
  work.push_back({{{&tree_.st[static_cast<std::size_t>(body.top)].kids, 0}}, 0, {}});
  std::size_t paths = 1;
  while (!work.empty()) {
    hpath h = std::move(work.back());
    work.pop_back();
    while (!h.cont.empty()) {
      auto& fr = h.cont.back();
      if (fr.i >= fr.list->size()) {
        h.cont.pop_back();
        continue;
      }
      const stmt& x = tree_.st[static_cast<std::size_t>((*fr.list)[fr.i++])];
      cur_ = tree_.toks[x.tok].at;
      if (++steps_ > max_steps) err_.unsupported(cur_, "more than 2 million steps");
      if (x.kind == stmt::block) {
        h.cont.push_back({&x.kids, 0});
      } else if (x.kind == stmt::if_) {
        const int c = truth_of(eval(x.cond, h.vars), x.cond);
        if (fm_[c].op == fnode::t || fm_[c].op == fnode::f) {
          const auto& branch = fm_[c].op == fnode::t ? x.kids : x.else_kids;
          if (!branch.empty()) h.cont.push_back({&branch, 0});
          continue;
        }
        if (++paths > max_paths) err_.unsupported(cur_, "more than 4096 paths");
        hpath e = h;
        e.cond = fm_.f_and(h.cond, fm_.f_not(c));
        if (!x.else_kids.empty()) e.cont.push_back({&x.else_kids, 0});
        work.push_back(std::move(e));
        h.cond = fm_.f_and(h.cond, c);
        h.cont.push_back({&x.kids, 0});
      } else if (x.kind == stmt::return_) {
        if (x.value < 0) err_.expected(cur_, "a value after 'return' in " + body.name + "()");
        result = fm_.f_or(result, fm_.f_and(h.cond, truth_of(eval(x.value, h.vars), x.value)));
        h.cont.clear();
      } else if (x.kind == stmt::decl) {
        for (const auto& [name, init] : x.declarators) {
          int f = -1;
          try {
            if (init >= 0) f = truth_of(eval(init, h.vars), init);
          } catch (const c_reader_error&) {
            f = -1;  // MigrationIncomingState *mis = ...: not a condition
          }
          set_var(h.vars, tree_.toks[name].text, f);
        }
      } else if (x.kind == stmt::expression || x.kind == stmt::empty || x.kind == stmt::label) {
        // calls for their effects (trace_*()): no part of the condition
      } else {
        err_.unsupported(cur_, std::string(tree_.toks[x.tok].text) + " in " + body.name + "()");
      }
    }
  }
  cur_ = saved;
  helper_busy_.erase(fn);
  result = known_atom(result);
  helper_memo_[fn] = result;
  return result;
}

// ================================================================ the peek

const rule* reader::peek_row(first_bytes magic) const {
  for (const auto& r : base_.rules)
    if (r.cost == reads::peek4 && r.when.get(column::magic) == of(magic)) return &r;
  return nullptr;
}

namespace {

// migration_channel_read_peek() run for one class of first bytes: what the
// read returns is fixed by the class, so a loop that goes round once without
// leaving goes round forever.
class peek_run {
 public:
  enum class kind : std::uint8_t { none, brk, cont, ret, abort, blocked };
  struct state {
    std::map<std::string, long long, std::less<>> vars;
    bool errp_set = false;
    std::string error, printed, abort_text;
    kind k = kind::none;
    long long returned = 0;
  };

  peek_run(const tree& t, const reporter& err, long long read_result, std::string socket_error)
      : t_(t), err_(err), read_(read_result), socket_error_(std::move(socket_error)) {}

  void run(const std::vector<int>& list, state& s) {
    for (int id : list) {
      run_stmt(id, s);
      if (s.k != kind::none) return;
    }
  }

 private:
  static constexpr long long err_block = -2;  // QIO_CHANNEL_ERR_BLOCK
  static constexpr long long buflen = 4;

  std::optional<long long> value(int e, state& s) {
    const auto& x = t_.ex[static_cast<std::size_t>(e)];
    const auto& tok = t_.toks[x.tok];
    switch (x.kind) {
      case expr::number: {
        std::string d(tok.text);
        while (!d.empty() && std::string_view("uUlL").find(d.back()) != std::string_view::npos) d.pop_back();
        char* end = nullptr;
        const long long v = std::strtoll(d.c_str(), &end, 0);
        if (d.empty() || end != d.c_str() + d.size()) return std::nullopt;
        return v;
      }
      case expr::ident: {
        const auto w = tok.text;
        if (w == "QIO_CHANNEL_ERR_BLOCK") return err_block;
        if (w == "buflen") return buflen;
        if (w == "true") return 1;
        if (w == "false" || w == "NULL") return 0;
        if (const auto it = s.vars.find(w); it != s.vars.end()) return it->second;
        return std::nullopt;
      }
      case expr::cast: return value(x.kids[0], s);
      case expr::call: {
        const std::string f = t_.callee(e);
        if (starts(f, "qio_channel_read")) {  // the read: its result is the class's
          if (read_ < 0 && read_ != err_block && !s.errp_set) {
            s.errp_set = true;
            s.error = socket_error_;
          }
          return read_;
        }
        return std::nullopt;
      }
      case expr::unary: {
        const auto v = value(x.kids[0], s);
        if (!v) return std::nullopt;
        if (tok.text == "!") return *v == 0;
        if (tok.text == "-") return -*v;
        return std::nullopt;
      }
      case expr::binary: {
        const auto op = tok.text;
        if (op == "&&" || op == "||") {
          const auto a = value(x.kids[0], s), b = value(x.kids[1], s);
          if (op == "&&" && ((a && !*a) || (b && !*b))) return 0;
          if (op == "||" && ((a && *a) || (b && *b))) return 1;
          if (!a || !b) return std::nullopt;
          return op == "&&" ? (*a && *b) : (*a || *b);
        }
        const auto a = value(x.kids[0], s), b = value(x.kids[1], s);
        if (!a || !b) return std::nullopt;
        if (op == "==") return *a == *b;
        if (op == "!=") return *a != *b;
        if (op == "<") return *a < *b;
        if (op == ">") return *a > *b;
        if (op == "<=") return *a <= *b;
        if (op == ">=") return *a >= *b;
        return std::nullopt;
      }
      case expr::assign: {
        const auto& l = t_.ex[static_cast<std::size_t>(x.kids[0])];
        const auto v = value(x.kids[1], s);
        if (tok.text != "=" || l.kind != expr::ident) err_.unsupported(tok.at, t_.text_of(e));
        if (v) s.vars[std::string(t_.toks[l.tok].text)] = *v;
        else s.vars.erase(std::string(t_.toks[l.tok].text));
        return v;
      }
      default: return std::nullopt;
    }
  }

  static bool same(const state& a, const state& b) {
    return a.vars == b.vars && a.errp_set == b.errp_set && a.error == b.error && a.printed == b.printed && a.k == b.k &&
           a.returned == b.returned && a.abort_text == b.abort_text;
  }

  void call(int e, state& s) {
    const auto& x = t_.ex[static_cast<std::size_t>(e)];
    const std::string f = t_.callee(e);
    const auto literal = [&](std::size_t k) {
      return k < x.kids.size() && t_.ex[static_cast<std::size_t>(x.kids[k])].kind == expr::string
                 ? t_.string_of(x.kids[k])
                 : std::string();
    };
    if (f == "error_setg" || f == "error_setg_errno") {
      if (s.errp_set) {  // error_setv() asserts that nothing was set yet
        s.k = kind::abort;
        s.abort_text = "Assertion `*errp == NULL' failed (error_setv(), over \"" +
                       s.error.substr(0, s.error.find(':')) + "\")";
        return;
      }
      s.errp_set = true;
      s.error = literal(f == "error_setg" ? 2 : 3);
    } else if (f == "error_report") {
      s.printed = literal(1);
    } else if (f == "assert" || f == "g_assert") {
      const auto v = x.kids.size() == 2 ? value(x.kids[1], s) : std::nullopt;
      if (v && !*v) {
        s.k = kind::abort;
        s.abort_text = "Assertion `" + t_.text_of(x.kids[1]) + "' failed";
      }
    } else {
      (void)value(e, s);  // the read, or a sleep or a wait: no state of ours
    }
  }

  void run_stmt(int id, state& s) {
    const stmt& x = t_.st[static_cast<std::size_t>(id)];
    const pos at = t_.toks[x.tok].at;
    switch (x.kind) {
      case stmt::block: run(x.kids, s); return;
      case stmt::empty:
      case stmt::label:
      case stmt::elided: return;
      case stmt::break_: s.k = kind::brk; return;
      case stmt::continue_: s.k = kind::cont; return;
      case stmt::decl:
        for (const auto& [name, init] : x.declarators) {
          const auto v = init >= 0 ? value(init, s) : std::nullopt;
          if (v) s.vars[std::string(t_.toks[name].text)] = *v;
          else s.vars.erase(std::string(t_.toks[name].text));
        }
        return;
      case stmt::expression: {
        if (t_.ex[static_cast<std::size_t>(x.value)].kind == expr::call) call(x.value, s);
        else (void)value(x.value, s);
        return;
      }
      case stmt::return_: {
        const auto v = x.value >= 0 ? value(x.value, s) : std::optional<long long>(0);
        if (!v) err_.unsupported(at, "return " + t_.text_of(x.value) + " (a value that depends on more than the read)");
        s.k = kind::ret;
        s.returned = *v;
        return;
      }
      case stmt::if_: {
        const auto c = value(x.cond, s);
        if (c) {
          run(*c ? x.kids : x.else_kids, s);
          return;
        }
        // Either way, as long as both ways end alike (a sleep in a coroutine or not).
        state a = s, b = s;
        run(x.kids, a);
        run(x.else_kids, b);
        if (!same(a, b)) err_.unsupported(at, "'" + t_.text_of(x.cond) + "' deciding what the peek does");
        s = std::move(a);
        return;
      }
      case stmt::while_: {
        for (int round = 0; round < 64; ++round) {
          if (x.cond >= 0) {
            const auto c = value(x.cond, s);
            if (!c) err_.unsupported(at, "while (" + t_.text_of(x.cond) + ")");
            if (!*c) return;
          }
          run(x.kids, s);
          if (s.k == kind::brk) {
            s.k = kind::none;
            return;
          }
          if (s.k == kind::cont) s.k = kind::none;
          if (s.k != kind::none) return;
        }
        s.k = kind::blocked;  // the same read, the same way round, forever
        return;
      }
      case stmt::goto_: err_.unsupported(at, "goto");
    }
  }

  const tree& t_;
  const reporter& err_;
  long long read_;
  std::string socket_error_;
};

}  // namespace

void reader::derive_peek() {
  const std::string socket_error = base_.sem.texts ? std::string(base_.sem.texts->socket_reset)
                                                   : "Unable to read from socket";
  const int fn = defined("migration_channel_read_peek") ? function("migration_channel_read_peek", true) : -1;
  for (std::size_t k = 0; k < peek_classes.size(); ++k) {
    const first_bytes m = peek_classes[k];
    const rule* row = peek_row(m);
    auto& e = peek_effects_[k];
    if (fn < 0) {  // the base version's migration_channel_read_peek()
      if (row) e = {row->then, std::string(row->text)};
      else if (m == first_bytes::silent || m == first_bytes::partial)
        e = {verdict::blocked, "migration_channel_read_peek() waits"};
      else e = {verdict::reject, m == first_bytes::eof ? "Failed to peek at channel" : socket_error};
      continue;
    }
    const long long read = m == first_bytes::silent    ? -2
                           : m == first_bytes::partial ? 2
                           : m == first_bytes::eof     ? 0
                                                       : -1;
    peek_run run(tree_, err_, read, socket_error);
    peek_run::state s;
    run.run(tree_.st[static_cast<std::size_t>(tree_.fns[static_cast<std::size_t>(fn)].top)].kids, s);
    const bool same_as_base =
        [&](verdict v) { return row && row->then == v; }(s.k == peek_run::kind::blocked ? verdict::blocked
                                                         : s.k == peek_run::kind::abort ? verdict::abort
                                                                                        : verdict::reject);
    switch (s.k) {
      case peek_run::kind::blocked:
        e = {verdict::blocked, same_as_base
                                   ? std::string(row->text)
                                   : "migration_channel_read_peek() peeks again forever: the 4 bytes do not come"};
        break;
      case peek_run::kind::abort: e = {verdict::abort, same_as_base ? std::string(row->text) : s.abort_text}; break;
      case peek_run::kind::ret:
        if (s.returned == 0) e = {verdict::main, ""};  // goes on as if 4 bytes had come
        else if (s.errp_set) e = {verdict::reject, s.error};
        else
          e = {verdict::drop, s.printed.empty() ? "migration_channel_read_peek() failed without an error" : s.printed};
        break;
      default:
        err_.expected(tree_.fns[static_cast<std::size_t>(fn)].end_at,
                      "a return on every path of migration_channel_read_peek()");
    }
  }
  if (fn < 0) return;
  peek_run full(tree_, err_, 4, socket_error);
  peek_run::state s;
  full.run(tree_.st[static_cast<std::size_t>(tree_.fns[static_cast<std::size_t>(fn)].top)].kids, s);
  if (s.k != peek_run::kind::ret || s.returned != 0)
    err_.expected(tree_.fns[static_cast<std::size_t>(fn)].end_at,
                  "migration_channel_read_peek() to return 0 once 4 bytes are there");
  const fn_def* d = defined("migration_channel_read_peek");
  notes_.push_back("peek: migration_channel_read_peek() at " + err_.where(d->open_at));
}

// ================================================================ around the classifier

void reader::derive_surroundings() {
  // multifd_recv_initial_packet(): `msg.id > migrate_multifd_channels()` lets
  // id == N through (7.2-11.0), `>=` does not.
  if (const fn_def* d = defined("multifd_recv_initial_packet")) {
    try {
      const auto& body = tree_.fns[static_cast<std::size_t>(function("multifd_recv_initial_packet"))];
      const auto is_id = [&](int e) {
        const auto& x = tree_.ex[static_cast<std::size_t>(e)];
        return x.kind == expr::member && tree_.toks[x.tok + 1].text == "id";
      };
      const auto is_count = [&](int e) { return tree_.find_call(e, {"migrate_multifd_channels"}) >= 0; };
      for (std::size_t i = body.ex_begin; i < body.ex_end; ++i) {
        const auto& x = tree_.ex[i];
        if (x.kind != expr::binary) continue;
        const auto op = tree_.toks[x.tok].text;
        const int l = x.kids[0], r = x.kids[1];
        std::optional<id_check> c;
        if (is_id(l) && is_count(r)) c = op == ">" ? id_check::greater : op == ">=" ? id_check::greater_equal : c;
        if (is_count(l) && is_id(r)) c = op == "<" ? id_check::greater : op == "<=" ? id_check::greater_equal : c;
        if (!c) continue;
        sem_.ids = *c;
        notes_.push_back("id check: " + tree_.text_of(static_cast<int>(i)) + " at " + err_.where(tree_.toks[x.tok].at));
        break;
      }
    } catch (const c_reader_error& e) {
      notes_.push_back(std::string("id check: not read (") + e.what() + "), the base's is used");
    }
    (void)d;
  }
  // migration_channel_process_incoming(): an error is reported, then (10.0+)
  // the destination fails and exits.
  if (const fn_def* d = defined("migration_channel_process_incoming")) {
    bool exits = d->calls.count("exit") != 0, reports = d->calls.count("error_report_err") != 0;
    for (const auto& c : d->calls)
      if (const fn_def* h = defined(c); h && c.find("error") != std::string::npos) {
        exits = exits || h->calls.count("exit");
        reports = reports || h->calls.count("error_report_err");
      }
    if (exits || reports) {
      sem_.errors = exits ? on_error::fail_and_exit : on_error::report;
      notes_.push_back(std::string("after a channel error: ") + (exits ? "exit (exit-on-error)" : "only reported") +
                       ", migration_channel_process_incoming() at " + err_.where(d->open_at));
    }
  }
  // migration_has_all_channels(): what the socket listener waits for.
  if (is_condition_helper("migration_has_all_channels")) {
    try {
      const int f = helper_formula(function("migration_has_all_channels"));
      const auto a = [&](column c) { return fm_.f_atom(c, yes); };
      const auto n = [&](column c) { return fm_.f_atom(c, no); };
      const int multifd_else_preempt = fm_.f_and(
          a(column::has_main),
          fm_.f_or(fm_.f_and(a(column::multifd), a(column::all_multifd)),
                   fm_.f_and(n(column::multifd), fm_.f_or(n(column::postcopy_preempt), a(column::has_preempt)))));
      const int all_three = fm_.f_and(a(column::mm_done),
                                      fm_.f_or(n(column::postcopy_preempt), a(column::has_preempt)));
      const bits got = fm_.f_bits(f);
      const fn_def* d = defined("migration_has_all_channels");
      if (got == fm_.f_bits(multifd_else_preempt) || got == fm_.f_bits(all_three)) {
        sem_.all_channels = got == fm_.f_bits(all_three) ? all_channels_rule::main_multifd_and_preempt
                                                         : all_channels_rule::multifd_else_preempt;
        notes_.push_back(std::string("the listener waits for ") +
                         (sem_.all_channels == all_channels_rule::main_multifd_and_preempt
                              ? "main, every multifd channel and preempt"
                              : "main, then every multifd channel, else preempt") +
                         ": migration_has_all_channels() at " + err_.where(d->open_at));
      } else {
        notes_.push_back("migration_has_all_channels() at " + err_.where(d->open_at) +
                         " counts channels in a way migchan does not model; the base's rule is used");
      }
    } catch (const c_reader_error& e) {
      helper_busy_.clear();
      notes_.push_back(std::string("migration_has_all_channels(): not read (") + e.what() +
                       "), the base's rule is used");
    }
  }
}

// In the watch's callback, the call made once main and every multifd channel
// are in: it decides the channels still pending.
int reader::find_wake_handler(int callback) {
  const auto& cb = tree_.fns[static_cast<std::size_t>(callback)];
  const path none_yet;
  for (int id : tree_.st[static_cast<std::size_t>(cb.top)].kids) {
    const stmt& x = tree_.st[static_cast<std::size_t>(id)];
    if (x.kind != stmt::if_) continue;
    int c = -1;
    try {
      c = truth_of(eval(x.cond, none_yet), x.cond);
    } catch (const c_reader_error&) {
      continue;
    }
    if (c != fm_.f_atom(column::mm_done, yes) && fm_.f_bits(c) != fm_.f_bits(fm_.f_atom(column::mm_done, yes)))
      continue;
    std::vector<const std::vector<int>*> lists{&x.kids};
    while (!lists.empty()) {
      const auto* l = lists.back();
      lists.pop_back();
      for (int k : *l) {
        const stmt& y = tree_.st[static_cast<std::size_t>(k)];
        if (y.kind == stmt::block) lists.push_back(&y.kids);
        if (y.kind != stmt::expression || tree_.ex[static_cast<std::size_t>(y.value)].kind != expr::call) continue;
        const std::string f = tree_.callee(y.value);
        if (decides(f)) return function(f);
      }
    }
  }
  err_.expected(tree_.fns[static_cast<std::size_t>(callback)].end_at,
                "in " + cb.name +
                    "(), a call once migration_has_main_and_multifd_channels() holds, deciding the "
                    "channels the watch left pending");
}

}  // namespace migchan::c_reader_detail
