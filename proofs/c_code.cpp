#include "proofs/c_code.h"

#include <cctype>
#include <vector>

namespace migchan::c_code {
namespace {

std::string_view call_of(column c) {
  switch (c) {
    case column::mm_done: return "migration_has_main_and_multifd_channels()";
    case column::peekable: return "qio_channel_has_feature(ioc, QIO_CHANNEL_FEATURE_READ_MSG_PEEK)";
    case column::has_main: return "mis->from_src_file";
    case column::all_multifd: return "multifd_recv_all_channels_created()";
    case column::has_preempt: return "mis->postcopy_qemufile_dst";
    case column::multifd: return "migrate_multifd()";
    case column::postcopy_ram: return "migrate_postcopy_ram()";
    case column::postcopy_preempt: return "migrate_postcopy_preempt()";
    case column::mapped_ram: return "migrate_mapped_ram()";
    default: return {};
  }
}

// Value v of a column with more than two, tested for equality (eq) or not.
std::string value_test(column c, std::size_t v, bool eq) {
  std::string n(info(c).value_names[v]);
  if (c == column::transport)  // the names migration/ gives its incoming channels (qio_channel_set_name())
    return (eq ? "!strcmp(ioc->name, " : "strcmp(ioc->name, ") + quoted("migration-" + n + "-incoming") + ")";
  if (c == column::state) {
    for (auto& ch : n) ch = ch == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    return std::string("mis->state ") + (eq ? "==" : "!=") + " MIGRATION_STATUS_" + n;
  }
  const auto f = static_cast<first_bytes>(v);
  if (f != first_bytes::vm_file_magic && f != first_bytes::multifd_magic)
    throw unnameable("it tells " + n +
                     " apart from other first bytes, which C can name only as QEMU_VM_FILE_MAGIC "
                     "and MULTIFD_MAGIC");
  return std::string("channel_magic ") + (eq ? "==" : "!=") +
         (f == first_bytes::vm_file_magic ? " QEMU_VM_FILE_MAGIC" : " MULTIFD_MAGIC");
}

// A value for each conversion of a message.
std::string format_args(std::string_view fmt) {
  std::string args;
  for (std::size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') continue;
    if (i + 1 < fmt.size() && fmt[i + 1] == '%') {
      ++i;
      continue;
    }
    std::size_t j = i + 1;
    while (j < fmt.size() && std::string_view("-+ #0123456789.*lhjzt$").find(fmt[j]) != std::string_view::npos) ++j;
    args += j < fmt.size() && fmt[j] == 's' ? ", \"\"" : ", channel_magic";
    i = j;
  }
  return args;
}

}  // namespace

std::string test(column c, mask m, mask domain, bool group_all) {
  if (const auto call = call_of(c); !call.empty()) {
    if (m == 0) return "false";
    return (m == yes ? "" : "!") + std::string(call);
  }
  const mask out = static_cast<mask>(domain & ~m);
  const bool positive = __builtin_popcount(m) <= __builtin_popcount(out);
  const mask list = positive ? m : out;
  std::vector<std::string> parts;
  for (std::size_t v = 0; v < info(c).size; ++v)
    if ((list >> v) & 1u) parts.push_back(value_test(c, v, positive));
  if (parts.empty()) return positive ? "false" : "true";
  std::string s;
  for (const auto& p : parts) s += (s.empty() ? "" : positive ? " || " : " && ") + p;
  return parts.size() > 1 && (positive || group_all) ? "(" + s + ")" : s;
}

std::string quoted(std::string_view s) {
  std::string r = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') r += '\\';
    r += ch;
  }
  return r + "\"";
}

std::string_view channel_constant(verdict v) {
  switch (v) {
    case verdict::main: return "CH_MAIN";
    case verdict::multifd: return "CH_MULTIFD";
    case verdict::preempt: return "CH_POSTCOPY";
    default: return "CH_NONE";
  }
}

std::optional<std::string> statement(verdict v, std::string_view text) {
  switch (v) {
    case verdict::main:
    case verdict::multifd:
    case verdict::preempt: return "channel = " + std::string(channel_constant(v)) + ";";
    case verdict::reject: return "error_setg(errp, " + quoted(text) + format_args(text) + ");";
    case verdict::drop: return "error_report(" + quoted(text) + format_args(text) + ");";
    case verdict::abort: {
      constexpr std::string_view head = "Assertion `", tail = "' failed";
      if (text.starts_with(head) && text.ends_with(tail))
        return "assert(" + std::string(text.substr(head.size(), text.size() - head.size() - tail.size())) + ");";
      if (text == not_reached) return "g_assert_not_reached();";
      return "abort();";
    }
    default: return std::nullopt;
  }
}

std::string lines::indent(int depth) { return std::string(static_cast<std::size_t>(depth) * 4, ' '); }

void lines::line(int depth, std::string_view s) { s_ += indent(depth) + std::string(s) + "\n"; }

lines& lines::operator<<(std::string_view s) {
  s_ += s;
  return *this;
}

void lines::comment(std::initializer_list<std::string_view> said) {
  s_ += "/*\n";
  for (const auto l : said) s_ += " * " + std::string(l) + "\n";
  s_ += " */\n";
}

void lines::branch(int depth, bool first, std::string_view cond) {
  if (cond.empty()) line(depth, "} else {");
  else line(depth, (first ? "if (" : "} else if (") + std::string(cond) + ") {");
}

void lines::peek(int depth, std::string_view give_up) {
  line(depth, "ret = migration_channel_read_peek(ioc, (void *)&channel_magic, sizeof(channel_magic), errp);");
  line(depth, "if (ret != 0) {");
  line(depth + 1, give_up);
  line(depth, "}");
  line(depth, "channel_magic = be32_to_cpu(channel_magic);");
}

}  // namespace migchan::c_code
