#include "proofs/symbolic.h"

namespace migchan::proofs {

using smt::expr;

sender_config<S> sender_vars(const std::string& p) {
  return {expr::bool_var(p + "multifd"),    expr::bool_var(p + "postcopy_ram"), expr::bool_var(p + "postcopy_preempt"),
          expr::bool_var(p + "mapped_ram"), expr::int_var(p + "transport"),     expr::int_var(p + "channels"),
          expr::int_var(p + "gen"),         expr::bool_var(p + "recovery"),     expr::bool_var(p + "switched")};
}

dest_config<S> dest_vars(const std::string& p) {
  return {expr::bool_var(p + "multifd"),    expr::bool_var(p + "postcopy_ram"), expr::bool_var(p + "postcopy_preempt"),
          expr::bool_var(p + "mapped_ram"), expr::int_var(p + "channels"),      expr::bool_var(p + "exit_on_error")};
}

dest_config<S> dest_like(const sender_config<S>& s, const std::string& p) {
  return {s.multifd, s.postcopy_ram, s.postcopy_preempt, s.mapped_ram, s.channels, expr::bool_var(p + "exit_on_error")};
}

void constrain_configs(smt::solver& z, std::initializer_list<const table*> tables, const sender_config<S>& src,
                       const dest_config<S>& dst, int max_channels, bool mismatch) {
  for (const table* t : tables) {
    z.add(sender_ok<S>(*t, src));
    z.add(dest_ok<S>(*t, dst, src.transport));
  }
  z.add(src.channels <= max_channels && dst.channels <= max_channels);
  z.add(src.multifd || src.channels == 1);  // the count means nothing without multifd
  z.add(dst.multifd || dst.channels == 1);
  z.add(!src.recovery || dst.postcopy_ram);
  z.add(pair_possible<S>(src, dst));  // e.g. a file: destination opens its channels itself
  if (mismatch) z.add(!same_caps<S>(src, dst));
}

std::vector<arrival<S>> arrival_vars(int events, const sender_config<S>& src, const std::string& p) {
  std::vector<arrival<S>> in;
  for (int i = 0; i < events; ++i) {
    const auto n = p + std::to_string(i) + ".";
    in.push_back({expr::bool_var(n + "present"), expr::int_var(n + "kind"), src.transport, expr::int_var(n + "magic"),
                  expr::int_var(n + "count"), expr::int_var(n + "init")});
  }
  return in;
}

expr name_term(smt::solver& z, const expr& e, const std::string& name) {
  if (e.is_const()) return e;
  const expr v = e.is_bool() ? expr::bool_var(name) : expr::int_var(name);
  z.add(v == e);
  return v;
}

dest_state<S> name_state(smt::solver& z, const dest_state<S>& s, const std::string& p) {
  const auto n = [&](const expr& e, const char* field) { return name_term(z, e, p + field); };
  // Field by field: the solver sees the names in this order whatever the struct's.
  dest_state<S> r;
  r.has_main = n(s.has_main, "has_main");
  r.has_preempt = n(s.has_preempt, "has_preempt");
  r.multifd_count = n(s.multifd_count, "multifd_count");
  r.status = n(s.status, "status");
  r.starts = n(s.starts, "starts");
  r.stalled = n(s.stalled, "stalled");
  r.aborted = n(s.aborted, "aborted");
  r.parked = n(s.parked, "parked");
  r.parked_kind = n(s.parked_kind, "parked_kind");
  r.exited = n(s.exited, "exited");
  return r;
}

std::vector<trace_step<S>> run_symbolic(smt::solver& z, const table& t, const dest_config<S>& d,
                                        const dest_state<S>& init, const std::vector<arrival<S>>& in,
                                        const std::string& p, dest_state<S>& final_state) {
  std::vector<trace_step<S>> tr(in.size());
  auto state = init;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const auto n = p + std::to_string(i) + ".";
    auto& st = tr[i];
    st.in = in[i];
    st.before = state;
    st.out = step<S>(t, d, state, st.in);
    st.out.then = name_term(z, st.out.then, n + "then");
    st.out.why = name_term(z, st.out.why, n + "why");
    st.out.next = name_state(z, st.out.next, n + "next.");
    state = st.out.next;
  }
  final_state = state;
  return tr;
}

expr channels_of(const std::vector<arrival<S>>& in) {
  expr total = expr::integer(0);
  for (const auto& a : in) total = total + ite(a.present, a.count, expr::integer(0));
  return total;
}

sender_config<cd> read_config(const smt::solver& z, const sender_config<S>& s) {
  return {z.eval_bool(s.multifd),
          z.eval_bool(s.postcopy_ram),
          z.eval_bool(s.postcopy_preempt),
          z.eval_bool(s.mapped_ram),
          static_cast<int>(z.eval_int(s.transport)),
          static_cast<int>(z.eval_int(s.channels)),
          static_cast<int>(z.eval_int(s.gen)),
          z.eval_bool(s.recovery),
          z.eval_bool(s.switched)};
}

dest_config<cd> read_config(const smt::solver& z, const dest_config<S>& d) {
  return {z.eval_bool(d.multifd),
          z.eval_bool(d.postcopy_ram),
          z.eval_bool(d.postcopy_preempt),
          z.eval_bool(d.mapped_ram),
          static_cast<int>(z.eval_int(d.channels)),
          z.eval_bool(d.exit_on_error)};
}

std::vector<trace_step<cd>> read_arrivals(const smt::solver& z, const std::vector<arrival<S>>& in, int transport) {
  std::vector<trace_step<cd>> tr;
  for (const auto& a : in) {
    if (!z.eval_bool(a.present)) break;
    trace_step<cd> st{};
    st.in = {true,
             static_cast<int>(z.eval_int(a.kind)),
             transport,
             static_cast<int>(z.eval_int(a.magic)),
             static_cast<int>(z.eval_int(a.count)),
             static_cast<int>(z.eval_int(a.init))};
    tr.push_back(st);
  }
  return tr;
}

}  // namespace migchan::proofs
