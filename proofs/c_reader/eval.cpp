// What an expression means on a path: a formula over the guard columns, or the value it stands for.
#include "proofs/c_reader/reader.h"

#include <cstdlib>

#include "proofs/c_reader/clean.h"

namespace migchan::c_reader_detail {
namespace {

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

}  // namespace

// ================================================================ meaning of expressions

// The format string of error_setg()/error_report(), with "%s" filled in where
// the argument is __func__ (QEMU's idiom for naming the function).
std::string reader::error_text(int call, std::size_t fmt_arg, std::string& raw, const std::string& function) const {
  const auto& x = tree_.ex[static_cast<std::size_t>(call)];
  const std::size_t fmt = fmt_arg + 1;  // kids[0] is the callee
  if (x.kids.size() <= fmt || tree_.ex[static_cast<std::size_t>(x.kids[fmt])].kind != expr::string)
    err_.unsupported(tree_.toks[tree_.ex[static_cast<std::size_t>(x.kids[0])].tok].at,
                     tree_.callee(call) + "() without a literal format");
  raw = tree_.string_of(x.kids[fmt]);
  std::string r;
  std::size_t arg = fmt + 1;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '%') {
      r += raw[i];
      continue;
    }
    std::size_t j = i + 1;
    if (j < raw.size() && raw[j] == '%') {
      r += "%%";
      i = j;
      continue;
    }
    while (j < raw.size() && std::string_view("-+ #0123456789.*lhjzt").find(raw[j]) != std::string_view::npos) ++j;
    const std::string spec = raw.substr(i, j + 1 - i);
    const bool func = j < raw.size() && raw[j] == 's' && arg < x.kids.size() &&
                      tree_.ex[static_cast<std::size_t>(x.kids[arg])].kind == expr::ident &&
                      (tree_.toks[tree_.ex[static_cast<std::size_t>(x.kids[arg])].tok].text == "__func__" ||
                       tree_.toks[tree_.ex[static_cast<std::size_t>(x.kids[arg])].tok].text == "__FUNCTION__");
    r += func && !function.empty() ? function : spec;
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
    default:
      err_.unsupported(tree_.toks[tree_.ex[static_cast<std::size_t>(e)].tok].at, tree_.text_of(e) + " as a condition");
  }
}

reader::value reader::eval(int e, const path& p) {
  const auto& x = tree_.ex[static_cast<std::size_t>(e)];
  const token& t = tree_.toks[x.tok];
  auto truth = [](int f) {
    value v = mk(value::truth);
    v.f = f;
    return v;
  };
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
        if (!s) err_.unsupported(t.at, w);
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
        err_.unsupported(t.at, std::string(w) + " outside 'if (" + std::string(w) + " != 0)' after the peek");
      for (auto it = p.vars.rbegin(); it != p.vars.rend(); ++it)
        if (it->name == w) {
          if (it->f < 0) err_.unsupported(t.at, w);
          return truth(it->f);
        }
      err_.unsupported(t.at, w);
    }
    case expr::number: {
      std::string digits(t.text);
      while (!digits.empty() && std::string_view("uUlL").find(digits.back()) != std::string_view::npos)
        digits.pop_back();
      char* end = nullptr;
      const unsigned long long n = std::strtoull(digits.c_str(), &end, 0);
      if (digits.empty() || end != digits.c_str() + digits.size()) err_.unsupported(t.at, t.text);
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
      v.s = tree_.string_of(e);
      return v;
    }
    case expr::cast: return eval(x.kids[0], p);
    case expr::member: {
      const auto field = tree_.toks[x.tok + 1].text;
      if (field == "from_src_file") return truth(fm_.f_atom(column::has_main, yes));
      if (field == "postcopy_qemufile_dst") return truth(fm_.f_atom(column::has_preempt, yes));
      if (field == "state") return mk(value::status_var);
      if (field == "name") return mk(value::ioc_name);
      if (field == "len" && wake_) {  // the channels a watch left pending: the one the model tracks
        value v = mk(value::number);
        v.n = 1;
        return v;
      }
      err_.unsupported(t.at, tree_.text_of(e));
    }
    case expr::call: return eval_call(e, p);
    case expr::unary: {
      if (t.text == "!") return truth(fm_.f_not(truth_of(eval(x.kids[0], p), x.kids[0])));
      if (t.text == "-") {
        value v = eval(x.kids[0], p);
        if (v.kind == value::number) {
          v.n = ~v.n + 1;
          return v;
        }
      }
      err_.unsupported(t.at, t.text);
    }
    case expr::binary: {
      const auto op = t.text;
      if (op == "&&" || op == "||") {
        const int a = truth_of(eval(x.kids[0], p), x.kids[0]);
        const int b = truth_of(eval(x.kids[1], p), x.kids[1]);
        return truth(op == "&&" ? fm_.f_and(a, b) : fm_.f_or(a, b));
      }
      if (op == "<" || op == ">" || op == "<=" || op == ">=") {  // between numbers only
        const value a = eval(x.kids[0], p), b = eval(x.kids[1], p);
        if (a.kind != value::number || b.kind != value::number) err_.unsupported(t.at, tree_.text_of(e));
        const bool r = op == "<" ? a.n < b.n : op == ">" ? a.n > b.n : op == "<=" ? a.n <= b.n : a.n >= b.n;
        return truth(r ? 0 : 1);
      }
      if (op != "==" && op != "!=") err_.unsupported(t.at, op);
      value a = eval(x.kids[0], p), b = eval(x.kids[1], p);
      const bool eq = op == "==";
      auto pick = [&](int f) { return truth(eq ? f : fm_.f_not(f)); };
      if (b.kind == value::magic_var || b.kind == value::status_var ||
          (b.kind == value::number && a.kind != value::number && a.kind != value::magic_const) ||
          (a.kind == value::magic_const && b.kind == value::number))
        std::swap(a, b);
      if (a.kind == value::magic_var && b.kind == value::magic_const) {
        if (a.host != b.host)
          err_.unsupported(t.at, tree_.text_of(e) + ": " +
                                     (a.host ? "host-order value against cpu_to_be32()"
                                             : "be32 value against a host-order constant"));
        return pick(fm_.f_atom(column::magic, of(static_cast<first_bytes>(b.item))));
      }
      if (a.kind == value::number && b.kind == value::magic_const) return truth(eq ? 1 : 0);  // 0 is no magic
      if (a.kind == value::status_var && b.kind == value::status_const)
        return pick(fm_.f_atom(column::state, of(static_cast<mig_status>(b.item))));
      if (a.kind == value::number && b.kind == value::number) return truth(((a.n == b.n) == eq) ? 0 : 1);
      if ((a.kind == value::truth || a.kind == value::compare) && b.kind == value::number) {
        if (b.n == 0) return pick(fm_.f_not(a.f));
        if (b.n == 1 && a.kind == value::truth) return pick(a.f);
      }
      if (a.kind == value::truth && b.kind == value::truth)
        return pick(fm_.f_or(fm_.f_and(a.f, b.f), fm_.f_and(fm_.f_not(a.f), fm_.f_not(b.f))));
      err_.unsupported(t.at, tree_.text_of(e));
    }
    case expr::charlit:
    case expr::index:
    case expr::postfix:
    case expr::assign:
    case expr::ternary:
    case expr::size_of:
    case expr::braces: break;
  }
  err_.unsupported(t.at, x.kind == expr::charlit ? std::string(t.text) : std::string(t.text));
}

bool reader::is_condition_helper(std::string_view f) {
  const fn_def* d = defined(f);
  return d && (d->type == "bool" || d->type == "gboolean") && !primitive(f) && !decides(f);
}

reader::value reader::eval_call(int e, const path& p) {
  const auto& x = tree_.ex[static_cast<std::size_t>(e)];
  const std::string f = tree_.callee(e);
  const std::size_t nargs = x.kids.size() - 1;
  const auto at = tree_.toks[tree_.ex[static_cast<std::size_t>(x.kids[0])].tok].at;
  auto truth = [](int v) {
    value r = mk(value::truth);
    r.f = v;
    return r;
  };
  static const std::pair<std::string_view, column> caps[] = {
      {"migrate_multifd", column::multifd},           {"migrate_use_multifd", column::multifd},
      {"migrate_postcopy_ram", column::postcopy_ram}, {"migrate_postcopy_preempt", column::postcopy_preempt},
      {"migrate_mapped_ram", column::mapped_ram},     {"multifd_recv_all_channels_created", column::all_multifd},
  };
  for (const auto& [name, col] : caps)
    if (f == name) {
      if (nargs != 0) err_.unsupported(at, f + "() with arguments");
      return truth(fm_.f_atom(col, yes));
    }
  if (f == "qio_channel_has_feature") {
    const auto& a = tree_.ex[static_cast<std::size_t>(x.kids.back())];
    if (nargs != 2 || a.kind != expr::ident || tree_.toks[a.tok].text != "QIO_CHANNEL_FEATURE_READ_MSG_PEEK")
      err_.unsupported(at, tree_.text_of(e));
    return truth(fm_.f_atom(column::peekable, yes));
  }
  if (f == "strcmp" && nargs == 2) {
    value a = eval(x.kids[1], p), b = eval(x.kids[2], p);
    if (a.kind == value::string) std::swap(a, b);
    if (a.kind != value::ioc_name || b.kind != value::string) err_.unsupported(at, tree_.text_of(e));
    const auto tr = transport_named(b.s);
    if (!tr)
      err_.unsupported(tree_.ex[static_cast<std::size_t>(x.kids[2])].kind == expr::string
                           ? tree_.toks[tree_.ex[static_cast<std::size_t>(x.kids[2])].tok].at
                           : tree_.toks[tree_.ex[static_cast<std::size_t>(x.kids[1])].tok].at,
                       "\"" + b.s + "\"");
    value v = mk(value::compare);
    v.f = fm_.f_atom(column::transport, static_cast<mask>(~of(*tr)));  // non-zero when the names differ
    return v;
  }
  if ((f == "cpu_to_be32" || f == "be32_to_cpu") && nargs == 1) {
    value v = eval(x.kids[1], p);
    if (v.kind != value::magic_var && v.kind != value::magic_const) err_.unsupported(at, tree_.text_of(e));
    v.host = !v.host;
    return v;
  }
  // Setup that the model takes as succeeding: their failure is not a
  // classification.
  if (f == "multifd_load_setup" || f == "multifd_recv_setup") return mk(value::number);
  // The rows describe a channel after any TLS handshake (step() models the
  // handshake), so the upgrade is already done.
  if (f == "migrate_channel_requires_tls_upgrade") return truth(1);
  // The channel a watch callback was called for is still on the pending list.
  if (f == "migration_incoming_early_channel_remove") return truth(0);
  // A condition written as a function among the files: read its body.
  if (is_condition_helper(f)) return truth(helper_formula(function(f)));
  if (f == "migration_has_main_and_multifd_channels" && nargs == 0) return truth(fm_.f_atom(column::mm_done, yes));
  if (f == "migration_needs_multiple_sockets" && nargs == 0)
    return truth(fm_.f_or(fm_.f_atom(column::multifd, yes), fm_.f_atom(column::postcopy_preempt, yes)));
  err_.unsupported(at, f.empty() ? tree_.text_of(e) : f + "()");
}

}  // namespace migchan::c_reader_detail
