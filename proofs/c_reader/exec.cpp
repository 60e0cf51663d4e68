// Running the statements: every path through the classifier, forked at each if, assert and peek.
#include "proofs/c_reader/reader.h"

#include <optional>

#include "proofs/c_reader/clean.h"

namespace migchan::c_reader_detail {
namespace {

// "unknown channel magic: %u" -> "unknown_channel_magic".
std::string slug(std::string_view fmt) {
  std::string words;
  std::size_t count = 0;
  for (std::size_t i = 0; i < fmt.size() && count < 3;) {
    if (fmt[i] == '%') {  // a conversion is not a word
      ++i;
      while (i < fmt.size() && !((fmt[i] >= 'a' && fmt[i] <= 'z' && fmt[i] != 'l' && fmt[i] != 'h' && fmt[i] != 'j' &&
                                  fmt[i] != 'z' && fmt[i] != 't') ||
                                 fmt[i] == '%'))
        ++i;
      ++i;
      continue;
    }
    const bool alnum = is_ident_char(fmt[i]) && fmt[i] != '_';
    if (!alnum) {
      ++i;
      continue;
    }
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

std::optional<verdict> channel_named(std::string_view s) {
  if (s == "CH_MAIN") return verdict::main;
  if (s == "CH_MULTIFD") return verdict::multifd;
  if (s == "CH_POSTCOPY") return verdict::preempt;
  if (s == "CH_NONE") return verdict::reject;
  return std::nullopt;
}

verdict sink_verdict(std::string_view f) {
  return f == "migration_incoming_setup"   ? verdict::main
         : f == "multifd_recv_new_channel" ? verdict::multifd
                                           : verdict::preempt;
}

}  // namespace

// ================================================================ running the paths

reader::var* reader::find_var(path& p, std::string_view name) const {
  for (auto it = p.vars.rbegin(); it != p.vars.rend(); ++it)
    if (it->name == name) return &*it;
  return nullptr;
}

void reader::set_var(path& p, std::string_view name, int f) const {
  if (auto* v = find_var(p, name)) {
    v->f = f;
    return;
  }
  if (p.vars.size() >= max_vars) err_.unsupported(cur_, "more than " + std::to_string(max_vars) + " variables");
  p.vars.push_back({std::string(name), f});
}

// Adds a condition the path now depends on. `shown_too`: also a condition its
// rows show.
void reader::fork_add(path& p, int f, bool shown_too, const std::string& text) {
  and_with(p.exact, fm_.f_bits(f));
  p.exact_f.push_back(f);
  if (shown_too) p.shown.push_back(f);
  if (!text.empty()) p.ctext.push_back(text);
}

namespace {
// The row detail of a peek outcome.
std::string_view peek_detail(first_bytes m) {
  switch (m) {
    case first_bytes::silent: return "wait";
    case first_bytes::partial: return "partial";
    case first_bytes::reset: return "reset";
    default: return "failed";
  }
}
}  // namespace

void reader::do_peek(int call, path& p, pos at) {
  const auto& x = tree_.ex[static_cast<std::size_t>(call)];
  if (x.kids.size() < 3) err_.unsupported(at, "migration_channel_read_peek() without a buffer");
  // First bytes that make migration_channel_read_peek() wait forever or abort
  // end the path at the call; those it fails on are forked where its result
  // is tested (exec_if).
  for (std::size_t k = 0; k < peek_classes.size(); ++k) {
    const auto& e = peek_effects_[k];
    if (e.v != verdict::blocked && e.v != verdict::abort) continue;
    path w = p;
    w.peeked = true;
    fork_add(w, fm_.f_atom(column::magic, of(peek_classes[k])), true, "");
    w.ctext.push_back(tree_.text_of(call));
    emit(w, {e.v, e.text, at, false, std::string(peek_detail(peek_classes[k]))}, "peek");
    fork_add(p, fm_.f_atom(column::magic, except(peek_classes[k])), false, "");
  }
  p.peeked = true;
  p.magic_host = false;
  p.peek_at = at;
}

// `ret`, `ret != 0`, `ret < 0`, `!ret`, `ret == 0` ... on the peek's result.
bool reader::ret_test(int e, bool& fails_when_true, int& peek_call) const {
  const auto& x = tree_.ex[static_cast<std::size_t>(e)];
  auto is_ret = [&](int k) {
    const auto& y = tree_.ex[static_cast<std::size_t>(k)];
    if (y.kind == expr::ident && ret_vars_.count(std::string(tree_.toks[y.tok].text))) return true;
    if (tree_.callee(k) == "migration_channel_read_peek") {
      peek_call = k;
      return true;
    }
    return false;
  };
  peek_call = -1;
  if (is_ret(e)) {
    fails_when_true = true;
    return true;
  }
  if (x.kind == expr::unary && tree_.toks[x.tok].text == "!" && is_ret(x.kids[0])) {
    fails_when_true = false;
    return true;
  }
  if (x.kind != expr::binary || !is_ret(x.kids[0])) return false;
  const auto op = tree_.toks[x.tok].text;
  const int r = x.kids[1];
  const auto& y = tree_.ex[static_cast<std::size_t>(r)];
  const bool zero = y.kind == expr::number && tree_.toks[y.tok].text == "0";
  const bool minus_one = y.kind == expr::unary && tree_.toks[y.tok].text == "-" &&
                         tree_.ex[static_cast<std::size_t>(y.kids[0])].kind == expr::number &&
                         tree_.toks[tree_.ex[static_cast<std::size_t>(y.kids[0])].tok].text == "1";
  if ((op == "!=" && zero) || (op == "<" && zero) || (op == "==" && minus_one)) {
    fails_when_true = true;
    return true;
  }
  if ((op == "==" && zero) || (op == ">=" && zero) || (op == "!=" && minus_one)) {
    fails_when_true = false;
    return true;
  }
  return false;
}

void reader::count_fork() {
  if (++paths_ > max_paths) err_.unsupported(cur_, "more than 4096 paths");
}

bool reader::is_value_call(std::string_view f) {
  // Besides the known values, two helpers whose definitions are read when the files have them.
  return known_values().count(f) != 0 || f == "migration_has_main_and_multifd_channels" ||
         f == "migration_needs_multiple_sockets";
}

// The first call in e of a function that takes part in classifying, or -1.
int reader::decider_call(int e) {
  const auto& x = tree_.ex[static_cast<std::size_t>(e)];
  if (x.kind == expr::call && decides(tree_.callee(e))) return e;
  for (int k : x.kids) {
    const int r = decider_call(k);
    if (r >= 0) return r;
  }
  return -1;
}

reader::step reader::exec_assign(std::size_t name_tok, int rhs, bool is_decl, path& p) {
  const std::string name(tree_.toks[name_tok].text);
  const bool special = magic_vars_.count(name) || ret_vars_.count(name);
  if (rhs < 0) {
    if (name != chan_var(p) && !special) set_var(p, name, -1);
    return step::next;
  }
  const int rs = tree_.strip_casts(rhs);
  const auto& y = tree_.ex[static_cast<std::size_t>(rs)];
  if (y.kind == expr::ident && starts(tree_.toks[y.tok].text, "CH_")) {
    const auto ch = channel_named(tree_.toks[y.tok].text);
    if (!ch) err_.unsupported(tree_.toks[y.tok].at, tree_.toks[y.tok].text);
    decided d{*ch, cur_, std::string(tree_.toks[y.tok].text)};
    if (is_decl) p.init = d;
    else p.channel = d;
    return step::next;
  }
  const int sink = tree_.find_call(rhs, sinks());
  if (sink >= 0) {  // start_migration = multifd_recv_new_channel(...) (7.2)
    p.channel = decided{sink_verdict(tree_.callee(sink)), cur_, tree_.callee(sink)};
    finish(p, cur_, false);
    return step::ended;
  }
  const std::string f = tree_.callee(rs);
  if (f == "migration_channel_read_peek") {
    do_peek(rs, p, cur_);
    return step::next;
  }
  if (is_watch(f)) return watch(rs, p, cur_);
  // ch = migration_channel_peek(mis, ioc, errp): it classifies, so it runs here.
  if (const int d = decider_call(rhs); d >= 0) {
    if (name != chan_var(p) && !special) set_var(p, name, -1);
    return enter(function(tree_.callee(d)), p, false);
  }
  if (!chan_var(p).empty() && name == chan_var(p))
    err_.unsupported(tree_.toks[name_tok].at, name + " = " + tree_.text_of(rhs));
  if (magic_vars_.count(name)) {
    const auto& x = tree_.ex[static_cast<std::size_t>(rs)];
    if ((f == "be32_to_cpu" || f == "cpu_to_be32") && x.kids.size() == 2 &&
        tree_.ex[static_cast<std::size_t>(x.kids[1])].kind == expr::ident &&
        tree_.toks[tree_.ex[static_cast<std::size_t>(x.kids[1])].tok].text == name) {
      if (!p.peeked) err_.expected(cur_, "migration_channel_read_peek() before '" + name + "' is converted");
      p.magic_host = !p.magic_host;
      return step::next;
    }
    if (is_decl) return step::next;  // uint32_t channel_magic = 0;
    err_.unsupported(tree_.toks[name_tok].at, name + " = " + tree_.text_of(rhs));
  }
  if (ret_vars_.count(name)) {
    if (is_decl) return step::next;  // int ret = 0;
    err_.unsupported(tree_.toks[name_tok].at, name + " = " + tree_.text_of(rhs));
  }
  if (!f.empty() && !is_value_call(f) && !is_condition_helper(f)) {  // f = qemu_file_new_input(ioc): not a condition
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
  const std::string f = tree_.callee(e);
  const auto& x = tree_.ex[static_cast<std::size_t>(e)];
  if (f == "error_setg" || f == "error_setg_errno" || f == "error_report") {
    std::string raw;
    const std::size_t fmt = f == "error_setg" ? 1 : f == "error_setg_errno" ? 2 : 0;
    std::string text = error_text(e, fmt, raw, tree_.fns[static_cast<std::size_t>(current_fn(p))].name);
    // error_setg() refuses the channel for good; error_report() only prints,
    // and refuses it only if `return` follows.
    p.err = pending_error{std::move(text), slug(raw), at, f != "error_report", false};
    return step::next;
  }
  if (f == "assert" || f == "g_assert") {
    if (x.kids.size() != 2) err_.unsupported(at, f + "() without exactly one argument");
    const int c = x.kids[1];
    if (tree_.mentions(c, chan_var(p))) err_.unsupported(at, tree_.text_of(e));
    const int cond = truth_of(eval(c, p), c);
    const std::string ct = tree_.text_of(c);
    if (fm_[cond].op != fnode::t) {
      count_fork();
      path fired = p;  // the assert fails: the destination aborts
      fork_add(fired, fm_.f_not(cond), true, tree_.negated_text(c));
      // What glibc's assert() and GLib's g_assert() print.
      const auto said = f == "assert" ? "Assertion `" + ct + "' failed" : "assertion failed: (" + ct + ")";
      emit(fired, {verdict::abort, said, at, false, abort_detail(p, "assert")});
    }
    if (fm_[cond].op == fnode::f) return step::ended;
    const bool live = !none(p.exact);
    fork_add(p, cond, true, ct);
    // An assert that fails wherever this path goes: nothing after it runs.
    if (live && none(p.exact)) return step::ended;
    return step::next;
  }
  if (f == "g_assert_not_reached" || f == "abort") {
    emit(p, {verdict::abort, f == "abort" ? std::string("abort()") : "code should not be reached", at, false,
             abort_detail(p, "not_reached")});
    return step::ended;
  }
  const int sink = tree_.find_call(e, sinks());
  if (sink >= 0) {
    p.channel = decided{sink_verdict(tree_.callee(sink)), at, tree_.callee(sink)};
    finish(p, at, false);
    return step::ended;
  }
  // migration_incoming_setup_channel(ioc, CH_POSTCOPY, ...): passed on as that channel.
  for (std::size_t k = 1; k < x.kids.size(); ++k) {
    const auto& a = tree_.ex[static_cast<std::size_t>(tree_.strip_casts(x.kids[k]))];
    if (a.kind != expr::ident || !starts(tree_.toks[a.tok].text, "CH_")) continue;
    const auto ch = channel_named(tree_.toks[a.tok].text);
    if (!ch) err_.unsupported(tree_.toks[a.tok].at, tree_.toks[a.tok].text);
    p.channel = decided{*ch, at, std::string(tree_.toks[a.tok].text)};
    finish(p, at, false);
    return step::ended;
  }
  if (f == "migration_channel_read_peek") do_peek(e, p, at);
  if (is_watch(f)) return watch(e, p, at);
  if (const int d = decider_call(e); d >= 0) return enter(function(tree_.callee(d)), p, false);
  return step::next;  // other calls do not take part in classifying
}

reader::step reader::exec_if(int s, path& p, std::vector<path>& work) {
  const stmt& x = tree_.st[static_cast<std::size_t>(s)];
  const int c = x.cond;
  // `if (channel == CH_MAIN)`: the channel is used, so it is classified.
  if (tree_.mentions(c, chan_var(p))) {
    finish(p, cur_, false);
    return step::ended;
  }
  // `if (!migration_incoming_setup(f, errp))`: handed over (7.2-9.0).
  const int sink = tree_.find_call(c, sinks());
  if (sink >= 0) {
    p.channel = decided{sink_verdict(tree_.callee(sink)), tree_.toks[tree_.ex[static_cast<std::size_t>(sink)].first].at,
                        tree_.callee(sink)};
    finish(p, cur_, false);
    return step::ended;
  }
  // if (!migration_incoming_channel_install(...)): it classifies, so it runs here.
  if (const int d = decider_call(c); d >= 0) return enter(function(tree_.callee(d)), p, true);
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
    const std::string ct = tree_.text_of(c);
    const auto& fail_branch = fails_when_true ? x.kids : x.else_kids;
    const auto& ok_branch = fails_when_true ? x.else_kids : x.kids;
    // The first bytes migration_channel_read_peek() fails on (the peer reset
    // or closed before 4 bytes): one path each, with the error it set.
    std::vector<path> failed;
    for (std::size_t k = 0; k < peek_classes.size(); ++k) {
      const auto& eff = peek_effects_[k];
      if (eff.v != verdict::reject && eff.v != verdict::drop) continue;
      const first_bytes m = peek_classes[k];
      path gone = p;
      fork_add(gone, fm_.f_atom(column::magic, of(m)), true, fails_when_true ? ct : tree_.negated_text(c));
      if (!eff.text.empty())
        gone.err = pending_error{eff.text, std::string(peek_detail(m)), p.peek_at, eff.v == verdict::reject, true};
      if (!fail_branch.empty()) gone.cont.push_back({&fail_branch, 0});
      fork_add(p, fm_.f_atom(column::magic, except(m)), false, "");
      failed.push_back(std::move(gone));
    }
    if (!ok_branch.empty()) p.cont.push_back({&ok_branch, 0});
    work.push_back(std::move(p));
    for (auto it = failed.rbegin(); it != failed.rend(); ++it) work.push_back(std::move(*it));  // rows in class order
    return step::ended;
  }
  const int cond = truth_of(eval(c, p), c);
  const auto op = fm_[cond].op;
  if (op == fnode::t || op == fnode::f) {  // multifd_recv_setup(errp) != 0: taken as succeeding
    const auto& branch = op == fnode::t ? x.kids : x.else_kids;
    if (!branch.empty()) p.cont.push_back({&branch, 0});
    return step::next;
  }
  count_fork();
  const std::string ct = tree_.text_of(c);
  path e = p;
  fork_add(p, cond, true, ct);
  p.last_then = std::make_pair(cond, tree_.toks[x.tok].at.line);
  p.cont.push_back({&x.kids, 0});
  const int ncond = fm_.f_not(cond);
  fork_add(e, ncond, fm_[ncond].op == fnode::atom, tree_.negated_text(c));
  e.last_then.reset();
  if (!x.else_kids.empty()) e.cont.push_back({&x.else_kids, 0});
  work.push_back(std::move(e));
  work.push_back(std::move(p));
  return step::ended;
}

// `return`: in the classifier, or with the channel, a decision or an error in
// hand, the path ends; otherwise a called function returns to its caller.
reader::step reader::exec_return(const stmt& x, path& p) {
  if (x.value >= 0) {
    const auto& y = tree_.ex[static_cast<std::size_t>(tree_.strip_casts(x.value))];
    if (y.kind == expr::ident && starts(tree_.toks[y.tok].text, "CH_")) {  // return CH_MAIN; decides
      const auto ch = channel_named(tree_.toks[y.tok].text);
      if (!ch) err_.unsupported(tree_.toks[y.tok].at, tree_.toks[y.tok].text);
      p.channel = decided{*ch, cur_, std::string(tree_.toks[y.tok].text)};
      if (p.err && !p.err->sticky) p.err.reset();  // it was only printed
      finish(p, cur_, true);
      return step::ended;
    }
    if (tree_.mentions(x.value, chan_var(p))) {  // return channel; ends
      finish(p, cur_, true);
      return step::ended;
    }
    if (const int d = decider_call(x.value); d >= 0) return enter(function(tree_.callee(d)), p, false);
  }
  if (p.calls.size() <= 1 || (p.err && p.err->sticky) || p.channel) {
    finish(p, cur_, true);
    return step::ended;
  }
  return leave(p);
}

reader::step reader::enter(int fn, path& p, bool in_condition) {
  if (fn < 0) err_.unsupported(cur_, "a call into a function that is not among the files");
  for (const auto& c : p.calls)
    if (c.fn == fn)
      err_.unsupported(cur_, tree_.fns[static_cast<std::size_t>(fn)].name + "() called again from itself");
  if (p.calls.size() >= 32) err_.unsupported(cur_, "calls nested more than 32 deep");
  p.calls.push_back({fn, p.cont.size(), in_condition});
  p.cont.push_back({&tree_.st[static_cast<std::size_t>(tree_.fns[static_cast<std::size_t>(fn)].top)].kids, 0});
  return step::next;
}

reader::step reader::leave(path& p) {
  const call c = p.calls.back();
  if (c.in_condition)
    err_.unsupported(cur_, tree_.fns[static_cast<std::size_t>(c.fn)].name +
                               "() returning without a decision, inside a condition");
  p.cont.resize(c.depth);
  p.calls.pop_back();
  return step::next;
}

// qio_channel_add_watch*(ioc, G_IO_IN, callback, ...): a channel with nothing
// to read waits, without blocking anyone; once readable, the callback
// classifies it. Channels still waiting when main and every multifd channel
// are in are decided by the handler the callback calls then (run()).
reader::step reader::watch(int e, path& p, pos at) {
  const auto& x = tree_.ex[static_cast<std::size_t>(e)];
  if (x.kids.size() < 4 || tree_.text_of(x.kids[2]).find("G_IO_IN") == std::string::npos)
    err_.unsupported(at, tree_.text_of(e) + " (a watch other than G_IO_IN with a callback)");
  const auto& cb = tree_.ex[static_cast<std::size_t>(tree_.strip_casts(x.kids[3]))];
  if (cb.kind != expr::ident) err_.unsupported(at, tree_.text_of(e) + " (a callback that is not a function's name)");
  const std::string name(tree_.toks[cb.tok].text);
  const int fn = function(name);
  if (fn < 0) err_.expected(tree_.toks[cb.tok].at, "the watch's callback " + name + "() among the files");
  if (watch_callback_ >= 0 && watch_callback_ != fn) err_.unsupported(at, "two watches with different callbacks");
  watch_callback_ = fn;
  count_fork();
  path w = p;
  fork_add(w, fm_.f_atom(column::magic, of(first_bytes::silent)), true, "");
  w.ctext.push_back(tree_.text_of(e));
  emit(w, {verdict::defer, "", at, false, "wait"}, "watch");
  fork_add(p, fm_.f_atom(column::magic, except(first_bytes::silent)), false, "");
  p.cont.clear();
  p.calls.clear();
  p.ctext.push_back(name + "()");
  return enter(fn, p, false);
}

reader::step reader::exec(int s, path& p, std::vector<path>& work) {
  const stmt& x = tree_.st[static_cast<std::size_t>(s)];
  cur_ = tree_.toks[x.tok].at;
  if (++steps_ > max_steps) err_.unsupported(cur_, "more than 2 million steps");
  switch (x.kind) {
    case stmt::block: p.cont.push_back({&x.kids, 0}); return step::next;
    case stmt::empty:
    case stmt::elided:
    case stmt::label: return step::next;
    case stmt::if_: return exec_if(s, p, work);
    case stmt::return_: return exec_return(x, p);
    case stmt::goto_: {
      const auto label = tree_.toks[x.tok + 1].text;
      const auto& c = p.calls.back();
      const auto& body = tree_.st[static_cast<std::size_t>(tree_.fns[static_cast<std::size_t>(c.fn)].top)].kids;
      const std::size_t from = p.cont.size() > c.depth ? p.cont[c.depth].i : body.size();
      for (std::size_t j = from; j < body.size(); ++j) {
        const auto& l = tree_.st[static_cast<std::size_t>(body[j])];
        if (l.kind == stmt::label && tree_.toks[l.tok].text == label) {
          p.cont.resize(c.depth);
          p.cont.push_back({&body, j + 1});
          return step::next;
        }
      }
      err_.unsupported(cur_, "goto " + std::string(label) + " (only forward, to a label at the outer level)");
    }
    case stmt::decl:
      for (const auto& [name, init] : x.declarators) {
        if (init >= 0 && tree_.mentions(init, chan_var(p))) {
          finish(p, cur_, false);
          return step::ended;
        }
        if (exec_assign(name, init, true, p) == step::ended) return step::ended;
      }
      return step::next;
    case stmt::expression: {
      const auto& y = tree_.ex[static_cast<std::size_t>(x.value)];
      if (y.kind == expr::assign) {
        if (tree_.toks[y.tok].text != "=") err_.unsupported(tree_.toks[y.tok].at, tree_.toks[y.tok].text);
        const auto& l = tree_.ex[static_cast<std::size_t>(y.kids[0])];
        if (l.kind != expr::ident) err_.unsupported(tree_.toks[y.tok].at, "assignment to " + tree_.text_of(y.kids[0]));
        if (tree_.mentions(y.kids[1], chan_var(p))) {
          finish(p, cur_, false);
          return step::ended;
        }
        return exec_assign(l.tok, y.kids[1], false, p);
      }
      // migration_incoming_setup(ioc, channel, errp): the channel is used.
      if (tree_.mentions(x.value, chan_var(p))) {
        finish(p, cur_, false);
        return step::ended;
      }
      if (y.kind == expr::call) return exec_call(x.value, p, cur_);
      if (y.kind == expr::cast) return step::next;  // (void)x;
      err_.unsupported(tree_.toks[y.tok].at, tree_.text_of(x.value));
    }
    case stmt::while_:
    case stmt::break_:
    case stmt::continue_: err_.unsupported(cur_, tree_.toks[x.tok].text);
  }
  return step::next;
}

void reader::execute(int fn, int within, const std::string& region) {
  path start;
  start.exact = valid_;
  and_not(start.exact, covered_);  // what an earlier run's rows decide is not this run's
  if (fm_[within].op != fnode::t) fork_add(start, within, true, "");
  start.region = region;
  start.calls.push_back({fn, 0, false});
  start.cont.push_back({&tree_.st[static_cast<std::size_t>(tree_.fns[static_cast<std::size_t>(fn)].top)].kids, 0});
  std::vector<path> work;
  work.push_back(std::move(start));
  while (!work.empty()) {  // depth first, `then` before `else`: rows come out in source order
    path p = std::move(work.back());
    work.pop_back();
    while (true) {
      if (p.cont.size() <= p.calls.back().depth) {  // the function's body is done
        if (p.calls.size() == 1) {
          finish(p, tree_.fns[static_cast<std::size_t>(p.calls.back().fn)].end_at, false);
          break;
        }
        leave(p);
        continue;
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

// Which variable is the function's channel, which holds the magic, which the peek's result.
void reader::prescan(int fn) {
  const auto& body = tree_.fns[static_cast<std::size_t>(fn)];
  if (chan_var_.size() < tree_.fns.size()) chan_var_.resize(tree_.fns.size());
  std::string& chan = chan_var_[static_cast<std::size_t>(fn)];
  auto note_channel = [&](std::size_t name, int init) {
    if (init < 0) return;
    const auto& y = tree_.ex[static_cast<std::size_t>(tree_.strip_casts(init))];
    if (y.kind == expr::ident && starts(tree_.toks[y.tok].text, "CH_")) {
      if (chan.empty()) chan = tree_.toks[name].text;
      else if (chan != tree_.toks[name].text)
        err_.unsupported(tree_.toks[name].at, "a second channel variable " + std::string(tree_.toks[name].text));
    }
    if (tree_.callee(tree_.strip_casts(init)) == "migration_channel_read_peek")
      ret_vars_.insert(std::string(tree_.toks[name].text));
  };
  for (std::size_t i = body.st_begin; i < body.st_end; ++i) {
    const auto& s = tree_.st[i];
    if (s.kind == stmt::decl)
      for (const auto& [name, init] : s.declarators) note_channel(name, init);
    if (s.kind == stmt::expression) {
      const auto& y = tree_.ex[static_cast<std::size_t>(s.value)];
      if (y.kind == expr::assign && tree_.ex[static_cast<std::size_t>(y.kids[0])].kind == expr::ident)
        note_channel(tree_.ex[static_cast<std::size_t>(y.kids[0])].tok, y.kids[1]);
    }
  }
  for (std::size_t i = body.ex_begin; i < body.ex_end; ++i) {
    const auto& x = tree_.ex[i];
    if (tree_.callee(static_cast<int>(i)) != "migration_channel_read_peek" || x.kids.size() < 3) continue;
    const auto& buf = tree_.ex[static_cast<std::size_t>(tree_.strip_casts(x.kids[2]))];
    if (buf.kind != expr::ident) err_.unsupported(tree_.toks[buf.tok].at, "peek into " + tree_.text_of(x.kids[2]));
    magic_vars_.insert(std::string(tree_.toks[buf.tok].text));
  }
}

}  // namespace migchan::c_reader_detail
