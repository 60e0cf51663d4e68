#include "model/texts.h"

#include <cstdio>
#include <vector>

namespace migchan {

text_args representative(const arrival<concrete_domain>& a, const dest_config<concrete_domain>& c,
                         const dest_state<concrete_domain>& before) {
  text_args x;
  x.registered = before.multifd_count;
  x.magic = representative_magic(static_cast<first_bytes>(a.magic));
  x.channels = c.channels;
  switch (static_cast<init_packet>(a.init)) {
    case init_packet::good: x.id = before.multifd_count; break;
    case init_packet::id_at_count: x.id = c.channels; break;
    case init_packet::id_above_count: x.id = c.channels + 1; break;
    case init_packet::id_repeated: x.id = 0; break;
    case init_packet::bad_version: x.version = 2; break;
    case init_packet::bad_uuid: x.uuid = "11111111-2222-3333-4444-555555555555"; break;
    case init_packet::truncated:
    case init_packet::truncated_eof: break;
  }
  return x;
}

std::string qemu_format(std::string_view fmt, std::initializer_list<std::string> args) {
  const std::vector<std::string> v(args);
  std::string out;
  std::size_t next = 0;
  for (std::size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      out += fmt[i];
      continue;
    }
    if (i + 1 < fmt.size() && fmt[i + 1] == '%') {
      out += '%', ++i;
      continue;
    }
    std::size_t j = i + 1, index = next++;
    if (j + 1 < fmt.size() && fmt[j] >= '1' && fmt[j] <= '9' && fmt[j + 1] == '$')
      index = static_cast<std::size_t>(fmt[j] - '1'), j += 2;
    while (j < fmt.size() && (fmt[j] == 'h' || fmt[j] == 'l')) ++j;  // length modifiers
    if (j < fmt.size()) out += index < v.size() ? v[index] : std::string("?");
    i = j;
  }
  return out;
}

namespace {

std::string hex32(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%x", v);
  return buf;
}

}  // namespace

std::string outcome_text(const table& t, const arrival<concrete_domain>& a, const step_result<concrete_domain>& r,
                         const dest_state<concrete_domain>& before, const text_args& x) {
  const qemu_texts& q = *t.sem.texts;
  const auto magic = static_cast<first_bytes>(a.magic);
  const auto prefixed = [&](const std::string& what) {
    return qemu_format(q.multifd_prefix, {std::to_string(x.registered)}) + what;
  };
  switch (static_cast<cause>(r.why)) {
    case cause::rule: {
      const auto v = static_cast<verdict>(r.then);
      if (v == verdict::main || v == verdict::multifd || v == verdict::preempt || v == verdict::defer) return {};
      if (r.rule < 0 || r.rule >= static_cast<int>(t.rules.size())) return "no rule matched";
      const auto& row = t.rules[static_cast<std::size_t>(r.rule)];
      // A row's text has at most one conversion: the peeked magic, as QEMU prints it.
      return qemu_format(row.text, {std::to_string(x.magic)});
    }
    case cause::listener: return std::string(q.extra_connection);
    case cause::multifd_init:
      if (r.then == static_cast<int>(verdict::blocked))
        return "multifd_recv_initial_packet() waits for the 64 bytes of MultiFDInit_t";
      if (magic == first_bytes::eof || static_cast<init_packet>(a.init) == init_packet::truncated_eof)
        return prefixed(std::string(q.multifd_eof));
      if (magic == first_bytes::reset) return prefixed(std::string(q.socket_reset));
      return prefixed(qemu_format(q.multifd_magic, {hex32(x.magic), hex32(multifd_magic)}));
    case cause::multifd_check:
      switch (static_cast<init_packet>(a.init)) {
        case init_packet::bad_version:
          return prefixed(qemu_format(q.multifd_version, {std::to_string(x.version), std::to_string(multifd_version)}));
        case init_packet::bad_uuid:
          return prefixed(qemu_format(q.multifd_uuid, {x.uuid, x.expected_uuid, std::to_string(x.id)}));
        case init_packet::id_repeated: return qemu_format(q.already_setup, {std::to_string(x.id)});
        case init_packet::id_at_count:
          if (r.then == static_cast<int>(verdict::crash)) return qemu_format(q.past_array, {std::to_string(x.id)});
          [[fallthrough]];
        case init_packet::id_above_count:
        case init_packet::good:
        case init_packet::truncated:
        case init_packet::truncated_eof:
          return prefixed(qemu_format(q.multifd_id, {std::to_string(x.id), std::to_string(x.channels),
                                                     std::to_string(x.version), std::to_string(multifd_version)}));
      }
      return {};
    case cause::tls_handshake:
      if (magic == first_bytes::partial) return "the TLS server handshake waits for the client on a blocking socket";
      return std::string(q.tls_failed);
    case cause::multifd_off:
      return r.then == static_cast<int>(verdict::drop) ? "CH_MULTIFD with multifd off: not dispatched"
                                                       : std::string(q.multifd_off);
    case cause::dup_main: return std::string(q.dup_main);
    case cause::dup_preempt:
      return before.has_preempt ? std::string(q.dup_preempt) : "Assertion `migrate_postcopy_preempt()' failed";
    case cause::behind:
      return before.aborted  ? "not examined: the destination has died"
             : before.exited ? "not examined: the destination has exited"
                             : "not examined: the destination is stalled on an earlier channel";
    case cause::none: return {};
  }
  return {};
}

}  // namespace migchan
