#include "proofs/c_writer.h"

#include <array>
#include <optional>
#include <vector>

#include "model/check.h"
#include "model/texts.h"
#include "proofs/c_code.h"

namespace migchan {
namespace {

using rows = std::vector<std::size_t>;  // indices into table::rules

constexpr std::array<first_bytes, 4> outcome_classes{first_bytes::silent, first_bytes::partial, first_bytes::reset,
                                                     first_bytes::eof};
constexpr mask after_peek = except(first_bytes::silent, first_bytes::partial, first_bytes::reset, first_bytes::eof);
constexpr std::array<column, column_count> column_order{column::mm_done,          column::peekable,
                                                        column::transport,        column::magic,
                                                        column::has_main,         column::all_multifd,
                                                        column::has_preempt,      column::state,
                                                        column::multifd,          column::postcopy_ram,
                                                        column::postcopy_preempt, column::mapped_ram};

bool single(mask m) { return m != 0 && (m & (m - 1)) == 0; }

std::optional<first_bytes> outcome_of(const rule& r) {
  if (r.cost != reads::peek4) return std::nullopt;
  for (const auto c : outcome_classes)
    if (r.when.get(column::magic) == of(c)) return c;
  return std::nullopt;
}

bool implies(const guard& a, const guard& b) {
  for (std::size_t c = 0; c < column_count; ++c)
    if ((a.get(column(c)) & ~b.get(column(c))) != 0) return false;
  return true;
}

guard meet(guard a, const guard& b) {
  for (std::size_t c = 0; c < column_count; ++c)
    a.set(column(c), static_cast<mask>(a.get(column(c)) & b.get(column(c))));
  return a;
}

guard with(guard g, column c, mask m) {
  g.set(c, m);
  return g;
}

class writer {
 public:
  explicit writer(const table& t) : t_(t) {}
  std::string run();

 private:
  [[noreturn]] void fail(std::size_t row, const std::string& why) const {
    throw c_writer_error(std::string(t_.name) + ": row " + std::string(t_.rules[row].id) +
                         " cannot be written in C: " + why);
  }
  void line(int depth, std::string_view s) { out_.line(depth, s); }

  std::string atom(column c, mask m, mask domain, std::size_t row) const;
  std::string cond(const guard& g, const guard& ctx, std::size_t row) const;
  void decide(std::size_t row, int depth);
  bool covers_rest(const rows& items, std::size_t k, const guard& g, const guard& ctx) const;
  void write_rows(const rows& r, const guard& ctx, int depth);
  void chain(const rows& r, const guard& ctx, int depth);
  void peek_block(const rows& r, const guard& ctx, int depth);
  void read_peek();
  void helpers();
  void chain_function(const std::string& name, const rows& r, const guard& ctx, const std::string& comment);
  void process_incoming(bool watch);
  void watch_layout(const rows& woken, const rows& after_all, const rows& early_peek, const rows& early_nopeek);

  const table& t_;
  c_code::lines out_;
  std::optional<verdict> init_;  // the verdict of the implicit-default rows: the initializer's
  bool returns_channel_ = true;  // the function being written returns the channel
};

std::string writer::atom(column c, mask m, mask domain, std::size_t row) const {
  try {
    return c_code::test(c, m, domain);
  } catch (const c_code::unnameable& e) {
    fail(row, e.what());
  }
}

// The guard as a C condition, leaving out what the context already says.
std::string writer::cond(const guard& g, const guard& ctx, std::size_t row) const {
  std::string s;
  for (const column c : column_order) {
    const mask dom = ctx.get(c), m = static_cast<mask>(g.get(c) & dom);
    if (m == dom) continue;
    if (c == column::magic && dom == domain_mask(column::magic)) fail(row, "it tests first bytes outside the peek");
    s += (s.empty() ? "" : " && ") + atom(c, m, dom, row);
  }
  return s;
}

void writer::decide(std::size_t i, int d) {
  const rule& r = t_.rules[i];
  const auto text = r.then == verdict::reject && r.text.empty() ? std::string_view("channel refused") : r.text;
  const auto stmt = c_code::statement(r.then, text);
  if (!stmt) fail(i, "a " + std::string(name(r.then)) + " decision outside the peek and the watch");
  line(d, *stmt);
  if (r.then == verdict::drop) line(d, returns_channel_ ? "return channel;" : "return;");
}

// Whether g (row items[k]'s) holds for every valid observation of the
// context that no earlier row takes: then it is the chain's `else`.
bool writer::covers_rest(const rows& items, std::size_t k, const guard& g, const guard& ctx) const {
  bool covers = true;
  for_each_raw_observation(t_, [&](const observation& o) {
    const auto v = o.generic();
    if (!covers || !matches<concrete_domain>(ctx, v)) return;
    for (std::size_t j = 0; j < k; ++j)
      if (matches<concrete_domain>(t_.rules[items[j]].when, v)) return;
    covers = matches<concrete_domain>(g, o.generic());
  });
  return covers;
}

void writer::chain(const rows& r, const guard& ctx, int d) {
  rows items;
  bool implicit_seen = false;
  for (std::size_t i : r) {
    const rule& x = t_.rules[i];
    if (x.implicit_default) {
      if (init_ && *init_ != x.then) fail(i, "implicit defaults that decide differently need two initializers");
      init_ = x.then;
      implicit_seen = true;
      continue;
    }
    if (implicit_seen) fail(i, "a row after an implicit default: what nothing assigns comes last");
    items.push_back(i);
  }
  bool open = false;
  for (std::size_t k = 0; k < items.size(); ++k) {
    const rule& x = t_.rules[items[k]];
    // assert(E) beside the row it guards: `if (P) { assert(E); channel = ...; }`
    std::optional<std::size_t> partner;
    if (k + 1 < items.size()) {
      const rule& y = t_.rules[items[k + 1]];
      const rule* a = x.then == verdict::abort ? &x : y.then == verdict::abort ? &y : nullptr;
      const rule* b = a == &x ? &y : &x;
      if (a && b->then != verdict::abort)
        for (const column c : column_order) {
          if (info(c).size != 2 || a->when.get(c) != no || b->when.get(c) != yes) continue;
          if (!(with(a->when, c, any) == with(b->when, c, any))) continue;
          if (a->text == "Assertion `" + atom(c, yes, 0b11, items[k]) + "' failed") partner = items[k + 1];
        }
    }
    guard g = x.when;
    if (partner)
      for (const column c : column_order)
        if (info(c).size == 2 && g.get(c) != t_.rules[*partner].when.get(c)) g.set(c, any);
    const std::string c = cond(g, ctx, items[k]);
    const std::size_t last = partner ? k + 1 : k;
    const bool abort_first = x.then == verdict::abort;
    const auto body = [&](int dd) {
      if (!partner) return decide(items[k], dd);
      decide(abort_first ? items[k] : *partner, dd);
      decide(abort_first ? *partner : items[k], dd);
    };
    if (c.empty() && !open) {  // the context decides: no condition, nothing after it is reached
      body(d);
      return;
    }
    const bool is_else = open &&
                         (c.empty() || (last + 1 == items.size() && !implicit_seen && covers_rest(items, k, g, ctx)));
    out_.branch(d, !open, is_else ? "" : c);
    open = true;
    body(d + 1);
    if (partner) ++k;
    if (is_else) break;
  }
  if (open) line(d, "}");
}

// The rows that peek, under the condition they share: the peek, then the
// first bytes it found.
void writer::peek_block(const rows& r, const guard& ctx, int d) {
  const rule* first = nullptr;
  for (std::size_t i : r)
    if (outcome_of(t_.rules[i])) first = first ? first : &t_.rules[i];
  const guard g = with(first->when, column::magic, any);
  std::size_t k = 0;
  while (k < r.size() && implies(with(t_.rules[r[k]].when, column::magic, any), g)) ++k;
  rows in(r.begin(), r.begin() + static_cast<std::ptrdiff_t>(k)),
      rest(r.begin() + static_cast<std::ptrdiff_t>(k), r.end());
  for (std::size_t i : rest)
    if (t_.rules[i].cost == reads::peek4) fail(i, "it peeks under another condition than the rows before it");
  rows magic_rows;
  for (std::size_t i : in)
    if (!outcome_of(t_.rules[i])) magic_rows.push_back(i);
  const std::string c = cond(g, ctx, r.front());
  const int in_d = c.empty() ? d : d + 1;
  if (!c.empty()) line(d, "if (" + c + ") {");
  out_.peek(in_d, "return channel;");
  write_rows(magic_rows, with(meet(ctx, g), column::magic, after_peek), in_d);
  if (!c.empty()) {
    if (!rest.empty()) {
      line(d, "} else {");
      write_rows(rest, ctx, d + 1);
    }
    line(d, "}");
  } else {
    write_rows(rest, ctx, d);  // past a peek that always happens: never reached
  }
}

void writer::write_rows(const rows& r, const guard& ctx, int d) {
  if (r.empty()) return;
  // Split where QEMU's code does: main and multifd in or not, peekable or not.
  for (const column c : {column::mm_done, column::peekable}) {
    if (single(ctx.get(c))) continue;
    bool fixed = true;
    std::size_t changes = 0, at = 0;
    for (std::size_t k = 0; k < r.size(); ++k) {
      fixed = fixed && single(t_.rules[r[k]].when.get(c));
      if (k > 0 && t_.rules[r[k]].when.get(c) != t_.rules[r[k - 1]].when.get(c)) ++changes, at = k;
    }
    if (!fixed || changes != 1) continue;
    const mask v1 = t_.rules[r.front()].when.get(c), v2 = t_.rules[r.back()].when.get(c);
    line(d, "if (" + atom(c, v1, 0b11, r.front()) + ") {");
    write_rows(rows(r.begin(), r.begin() + static_cast<std::ptrdiff_t>(at)), with(ctx, c, v1), d + 1);
    line(d, "} else {");
    write_rows(rows(r.begin() + static_cast<std::ptrdiff_t>(at), r.end()), with(ctx, c, v2), d + 1);
    line(d, "}");
    return;
  }
  for (std::size_t i : r)
    if (outcome_of(t_.rules[i])) return peek_block(r, ctx, d);
  chain(r, ctx, d);
}

// migration_channel_read_peek(): what the table's peek rows say it does
// when the first bytes are not all there.
void writer::read_peek() {
  std::array<std::optional<std::size_t>, 4> row_of{};
  for (std::size_t i = 0; i < t_.rules.size(); ++i)
    if (const auto c = outcome_of(t_.rules[i]))
      for (std::size_t k = 0; k < outcome_classes.size(); ++k)
        if (outcome_classes[k] == *c) {
          if (row_of[k] && t_.rules[*row_of[k]].then != t_.rules[i].then)
            fail(i, "the peek fails two ways for the same first bytes");
          row_of[k] = row_of[k].value_or(i);
        }
  const auto effect = [&](std::size_t k) { return row_of[k] ? t_.rules[*row_of[k]].then : verdict::blocked; };
  const std::string socket_error = t_.sem.texts ? std::string(t_.sem.texts->socket_reset) : "";
  out_.comment({"Look at the first bytes without taking them: they stay for whoever reads",
                "the channel next. 0 once buflen bytes are there."});
  out_ << "int migration_channel_read_peek(QIOChannel *ioc, const char *buf, const size_t buflen, Error **errp)\n{\n";
  line(1, "struct iovec iov = { .iov_base = (char *)buf, .iov_len = buflen };");
  line(1, "ssize_t got;");
  out_ << "\n";
  line(1, "for (;;) {");
  line(2, "got = qio_channel_readv_full(ioc, &iov, 1, NULL, NULL, QIO_CHANNEL_READ_FLAG_MSG_PEEK, errp);");
  line(2, "if (got == buflen) {");
  line(3, "return 0;");
  line(2, "}");
  for (std::size_t k = 0; k < outcome_classes.size(); ++k) {
    const verdict v = effect(k);
    const std::string text = row_of[k] ? std::string(t_.rules[*row_of[k]].text) : "";
    const first_bytes c = outcome_classes[k];
    if (c == first_bytes::silent || c == first_bytes::partial) {
      if (v != verdict::blocked) fail(*row_of[k], "a peek that gives up on too few bytes");
      continue;
    }
    if (v == verdict::blocked) fail(*row_of[k], "a peek that waits on a closed channel");
    if (c == first_bytes::eof) {
      line(2, "if (got == 0) {");
      if (v == verdict::reject) line(3, "error_setg(errp, " + c_code::quoted(text) + ");");
      else if (v == verdict::drop) line(3, "error_report(" + c_code::quoted(text) + ");");
      else fail(*row_of[k], "a peek that ends any other way on end of file");
      line(3, "return -1;");
      line(2, "}");
    } else {  // reset: the read has set *errp already
      line(2, "if (got < 0 && got != QIO_CHANNEL_ERR_BLOCK) {");
      if (v == verdict::abort) line(3, "error_setg(errp, \"Failed to peek at channel\");  /* over the read's error */");
      else if (v != verdict::reject || text != socket_error)
        fail(*row_of[k], "a failed read that says anything but the socket's own error");
      line(3, "return -1;");
      line(2, "}");
    }
  }
  line(2, "/* nothing yet, or fewer bytes than asked for: look again */");
  line(2, "g_usleep(1000);");
  line(1, "}");
  out_ << "}\n\n";
}

// What surrounds the classifier: the helpers it reads as conditions, what the
// listener counts, the multifd id check.
void writer::helpers() {
  out_ << "bool migration_has_main_and_multifd_channels(void)\n{\n";
  line(1, c_code::incoming_state);
  out_ << "\n";
  line(1, "if (!mis->from_src_file) {");
  line(2, "return false;");
  line(1, "}");
  line(1, "return !migrate_multifd() || multifd_recv_all_channels_created();");
  out_ << "}\n\n/* What the socket listener waits for before it turns connections away. */\n"
          "bool migration_has_all_channels(void)\n{\n";
  line(1, c_code::incoming_state);
  out_ << "\n";
  if (t_.sem.all_channels == all_channels_rule::main_multifd_and_preempt) {
    line(1, "return migration_has_main_and_multifd_channels() &&");
    line(1, "       (!migrate_postcopy_preempt() || mis->postcopy_qemufile_dst);");
  } else {
    line(1, "if (!mis->from_src_file) {");
    line(2, "return false;");
    line(1, "}");
    line(1, "if (migrate_multifd()) {");
    line(2, "return multifd_recv_all_channels_created();");
    line(1, "}");
    line(1, "if (migrate_postcopy_preempt()) {");
    line(2, "return mis->postcopy_qemufile_dst != NULL;");
    line(1, "}");
    line(1, "return true;");
  }
  out_ << "}\n\n/* Of the MultiFDInit_t checks, only the channel id's matters here. */\n"
          "static int multifd_recv_initial_packet(QIOChannel *c, Error **errp)\n{\n";
  line(1, "MultiFDInit_t msg;");
  out_ << "\n";
  line(1, "if (qio_channel_read_all(c, (char *)&msg, sizeof(msg), errp) != 0) {");
  line(2, "return -1;");
  line(1, "}");
  line(1,
       std::string("if (msg.id ") + (t_.sem.ids == id_check::greater ? ">" : ">=") + " migrate_multifd_channels()) {");
  line(2, "error_setg(errp, \"multifd: channel id %u out of range\", msg.id);");
  line(2, "return -1;");
  line(1, "}");
  line(1, "return msg.id;");
  out_ << "}\n\n";
}

void writer::chain_function(const std::string& fn, const rows& r, const guard& ctx, const std::string& comment) {
  c_code::lines body;
  std::swap(body, out_);
  const auto saved = init_;
  write_rows(r, ctx, 1);
  std::swap(body, out_);
  const std::string init(init_ ? c_code::channel_constant(*init_) : "CH_NONE");
  init_ = saved;
  out_ << "/* " << comment << " */\nstatic MigChannelType " << fn
       << "(MigrationIncomingState *mis, QIOChannel *ioc, Error **errp)\n{\n";
  line(1, "MigChannelType channel = " + init + ";");
  line(1, "uint32_t channel_magic = 0;");
  line(1, "int ret = 0;");
  out_ << "\n" << body.str() << "\n";
  line(1, "return channel;");
  out_ << "}\n\n";
}

void writer::process_incoming(bool watch) {
  out_ << "void migration_channel_process_incoming(QIOChannel *ioc)\n{\n";
  line(1, c_code::incoming_state);
  line(1, "Error *local_err = NULL;");
  line(1, "MigChannelType channel;");
  out_ << "\n";
  line(1, "if (migrate_channel_requires_tls_upgrade(ioc)) {");
  line(2, "/* after the handshake the TLS channel comes back here */");
  line(2, "migration_tls_channel_process_incoming(ioc, &local_err);");
  if (watch) {
    line(1, "} else if (migration_has_main_and_multifd_channels()) {");
    line(2, "channel = migration_channel_after_all(mis, ioc, &local_err);");
    line(2, "migration_incoming_setup(ioc, channel, &local_err);");
    line(1, "} else if (qio_channel_has_feature(ioc, QIO_CHANNEL_FEATURE_READ_MSG_PEEK)) {");
    line(2, "/* decided once it has something to say */");
    line(2, "qio_channel_add_watch(ioc, G_IO_IN, migration_incoming_channel_readable, mis, NULL);");
    line(2, "migration_incoming_pending_add(mis, ioc);");
    line(1, "} else {");
    line(2, "migration_incoming_channel_install(mis, ioc, &local_err);");
    line(1, "}");
  } else {
    line(1, "} else {");
    line(2, "channel = migration_channel_identify(mis, ioc, &local_err);");
    line(2, "if (channel != CH_NONE && migration_incoming_setup(ioc, channel, &local_err)) {");
    line(3, "migration_start_incoming();");
    line(2, "}");
    line(1, "}");
  }
  out_ << "\n";
  line(1, "if (local_err) {");
  line(2, "error_report_err(local_err);");
  if (t_.sem.errors == on_error::fail_and_exit) {
    line(2, "migrate_set_state(&mis->state, mis->state, MIGRATION_STATUS_FAILED);");
    line(2, "if (mis->exit_on_error) {");
    line(3, "exit(EXIT_FAILURE);");
    line(2, "}");
  }
  line(1, "}");
  out_ << "}\n";
}

void writer::watch_layout(const rows& woken, const rows& after_all, const rows& early_peek, const rows& early_nopeek) {
  const guard before = with(guard{}, column::mm_done, no), all_in = with(guard{}, column::mm_done, yes);
  chain_function("migration_channel_peek", early_peek, with(before, column::peekable, yes),
                 "A readable peekable channel, before main and every multifd channel are in.");
  chain_function("migration_channel_identify", early_nopeek, with(before, column::peekable, no),
                 "A non-peekable channel, before main and every multifd channel are in: order decides.");
  chain_function("migration_channel_after_all", after_all, all_in,
                 "A channel that arrives once main and every multifd channel are in.");
  // The channels still pending once the others are in.
  {
    c_code::lines body;
    std::swap(body, out_);
    const guard pending = with(with(all_in, column::peekable, yes), column::magic, of(first_bytes::silent));
    returns_channel_ = false;
    write_rows(woken, pending, 1);
    returns_channel_ = true;
    std::swap(body, out_);
    out_ << "/* Once main and every multifd channel are in: the channel still waiting to be readable. */\n"
            "static void migration_incoming_pending_resolve(MigrationIncomingState *mis, QIOChannel *ioc)\n{\n";
    line(1, "MigChannelType channel = CH_NONE;");
    line(1, "uint32_t channel_magic = 0;");
    line(1, "Error *local_err = NULL;");
    line(1, "Error **errp = &local_err;");
    out_ << "\n" << body.str() << "\n";
    line(1, "migration_incoming_setup(ioc, channel, errp);");
    out_ << "}\n\n";
  }
  out_
      << "static bool migration_incoming_channel_install(MigrationIncomingState *mis, QIOChannel *ioc, Error **errp)\n{\n";
  line(1, "MigChannelType ch;");
  out_ << "\n";
  line(1, "if (qio_channel_has_feature(ioc, QIO_CHANNEL_FEATURE_READ_MSG_PEEK)) {");
  line(2, "ch = migration_channel_peek(mis, ioc, errp);");
  line(1, "} else {");
  line(2, "ch = migration_channel_identify(mis, ioc, errp);");
  line(1, "}");
  line(1, "return ch != CH_NONE && migration_incoming_setup(ioc, ch, errp);");
  out_
      << "}\n\n/* G_IO_IN on a watched channel: classify it, then maybe the one left over. */\n"
         "static gboolean migration_incoming_channel_readable(QIOChannel *ioc, GIOCondition condition, gpointer opaque)\n{\n";
  line(1, "MigrationIncomingState *mis = opaque;");
  line(1, "Error *local_err = NULL;");
  out_ << "\n";
  line(1, "migration_incoming_pending_drop(mis, ioc);");
  line(1, "if (!migration_incoming_channel_install(mis, ioc, &local_err)) {");
  line(2, "error_report_err(local_err);");
  line(1, "}");
  line(1, "if (migration_has_main_and_multifd_channels()) {");
  line(2, "migration_incoming_pending_resolve(mis, migration_incoming_pending_first(mis));");
  line(1, "}");
  line(1, "return G_SOURCE_REMOVE;");
  out_ << "}\n\n";
}

std::string writer::run() {
  for (std::size_t i = 0; i < t_.rules.size(); ++i) {
    const rule& r = t_.rules[i];
    if (r.then == verdict::exit || r.then == verdict::crash) fail(i, "an outcome only the code around it decides");
    if (r.then == verdict::blocked && !outcome_of(r)) fail(i, "a wait that is not the peek's");
  }
  out_.comment({std::string(t_.name) + ": " + std::string(t_.summary) + ".",
                "Written by migchan from its built-in table, in QEMU's idiom but not QEMU's",
                "code: the same decisions, for `migchan check` to read back."});
  out_ << "\n#include \"qemu/osdep.h\"\n#include \"channel.h\"\n#include \"migration.h\"\n#include \"multifd.h\"\n"
          "#include \"options.h\"\n#include \"qapi/error.h\"\n\n";
  bool peeks = false, defers = false;
  for (const auto& r : t_.rules) {
    peeks = peeks || outcome_of(r).has_value();
    defers = defers || r.then == verdict::defer;
  }
  if (peeks) read_peek();
  helpers();
  rows all;
  for (std::size_t i = 0; i < t_.rules.size(); ++i) all.push_back(i);
  if (!defers) {
    chain_function("migration_channel_identify", all, guard{}, "Which channel this is.");
    process_incoming(false);
    return out_.str();
  }
  // The watch: the pending channels' rows first, then the rest by arrival.
  const guard pending = with(with(with(guard{}, column::mm_done, yes), column::peekable, yes), column::magic,
                             of(first_bytes::silent));
  rows woken, after_all, early_peek, early_nopeek;
  std::size_t i = 0;
  for (; i < all.size() && implies(t_.rules[i].when, pending); ++i) woken.push_back(i);
  for (; i < all.size(); ++i) {
    const rule& r = t_.rules[i];
    const mask mm = r.when.get(column::mm_done), pk = r.when.get(column::peekable);
    if (r.then == verdict::defer) {
      if (!(r.when == with(with(with(guard{}, column::mm_done, no), column::peekable, yes), column::magic,
                           of(first_bytes::silent))))
        fail(i, "a wait other than a silent peekable channel's before main and every multifd channel are in");
      continue;  // the watch
    }
    if (mm == yes) after_all.push_back(i);
    else if (mm == no && pk == yes) early_peek.push_back(i);
    else if (mm == no && pk == no) early_nopeek.push_back(i);
    else fail(i, "a table with a watch decides by whether main and every multifd channel are in, then by peekability");
  }
  watch_layout(woken, after_all, early_peek, early_nopeek);
  process_incoming(true);
  return out_.str();
}

}  // namespace

std::string write_c(const table& t) { return writer(t).run(); }

}  // namespace migchan
