// The C classifier reader: clean (diff and mail quoting, preprocessor) ->
// index each file's functions in one pass -> choose the classifier -> lex and
// parse only the functions it reaches -> run every path symbolically -> rows.
// This file finds the functions and turns a path's end into rows and the rows
// into the table; the stages are in proofs/c_reader/.
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

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "model/classify.h"
#include "proofs/c_reader/clean.h"
#include "proofs/c_reader/reader.h"

namespace migchan {
namespace c_reader_detail {

reader::reader(std::span<const c_source> files, const table& base) : base_(base), sem_(base.sem) {
  // Paths hold pointers into the tree while functions are still being added
  // to it, so it must never move: every node takes at least one token of its
  // own, and the tokens are capped. Untouched, the room costs no memory.
  const std::size_t room = max_tokens + 2 * max_functions + 64;
  tree_.toks.reserve(room);
  tree_.st.reserve(room);
  tree_.ex.reserve(room);
  tree_.fns.reserve(max_functions + 1);  // the functions read, or one list of statements
  chan_var_.reserve(max_functions + 1);
  texts_.reserve(files.size());  // tokens point into these strings: no reallocation
  for (std::size_t i = 0; i < files.size(); ++i) {
    err_.files.push_back(sanitize(files[i].name));
    if (files[i].text.size() > max_source_bytes)
      err_.fail_file(static_cast<std::uint32_t>(i), std::to_string(files[i].text.size()) + " bytes, more than the " +
                                                        std::to_string(max_source_bytes >> 20) +
                                                        " MiB the C reader takes in one file");
    auto c = clean(files[i].text);
    texts_.push_back(std::move(c.text));
    hunk_fns_.push_back(std::move(c.hunk_function));
  }
  if (err_.files.empty()) err_.files.push_back("-");
}

// ================================================================ functions

const fn_def* reader::defined(std::string_view name) const {
  const auto it = def_of_.find(name);
  return it == def_of_.end() ? nullptr : &defs_[it->second];
}

int reader::function(std::string_view name, bool loops) {
  const auto it = def_of_.find(name);
  if (it == def_of_.end()) return -1;
  if (const auto p = parsed_.find(it->second); p != parsed_.end()) return p->second;
  if (parsed_.size() >= max_functions)
    err_.unsupported(defs_[it->second].open_at, "more than " + std::to_string(max_functions) + " functions to read");
  const auto& d = defs_[it->second];
  const int fn = parse_function(tree_, texts_[d.file], d, err_, loops);
  parsed_[it->second] = fn;
  prescan(fn);
  return fn;
}

// Calls whose value the reader knows without reading them: capabilities, channel
// features, byte order, the setup calls.
const std::set<std::string_view>& known_values() {
  static const std::set<std::string_view> s{"migrate_multifd",
                                            "migrate_use_multifd",
                                            "migrate_postcopy_ram",
                                            "migrate_postcopy_preempt",
                                            "migrate_mapped_ram",
                                            "multifd_recv_all_channels_created",
                                            "qio_channel_has_feature",
                                            "strcmp",
                                            "cpu_to_be32",
                                            "be32_to_cpu",
                                            "multifd_load_setup",
                                            "multifd_recv_setup",
                                            "migrate_channel_requires_tls_upgrade",
                                            "migration_incoming_early_channel_remove"};
  return s;
}

// Names with a fixed meaning: never read from their definition, even when
// the files define them (options.c defines the capabilities).
bool primitive(std::string_view f) {
  static const std::set<std::string_view> others{"migration_channel_read_peek",
                                                 "migration_incoming_get_current",
                                                 "assert",
                                                 "g_assert",
                                                 "error_setg",
                                                 "error_setg_errno",
                                                 "error_report",
                                                 "error_propagate",
                                                 "error_report_err",
                                                 "g_assert_not_reached",
                                                 "abort",
                                                 "exit"};
  return known_values().count(f) != 0 || others.count(f) != 0;
}

bool is_watch(std::string_view f) { return starts(f, "qio_channel_add_watch"); }

const std::set<std::string_view>& sinks() {
  static const std::set<std::string_view> s{"migration_incoming_setup", "multifd_recv_new_channel",
                                            "postcopy_preempt_new_channel"};
  return s;
}

bool reader::decides(std::string_view name) {
  const fn_def* d = defined(name);
  if (!d || primitive(name) || sinks().count(name)) return false;
  if (const auto it = decides_.find(name); it != decides_.end()) return it->second;
  decides_[std::string(name)] = false;  // a call back into it adds nothing
  bool r = d->names_channel;
  for (const auto& c : d->calls)
    r = r || c == "migration_channel_read_peek" || sinks().count(c) || is_watch(c) || (c != name && decides(c));
  decides_[std::string(name)] = r;
  return r;
}

// The callback of a G_IO_IN watch the classifier (or what it runs) sets, or -1.
int reader::find_watch_callback() {
  std::vector<int> todo{entry_};
  std::set<int> seen{entry_};
  while (!todo.empty()) {
    const auto& body = tree_.fns[static_cast<std::size_t>(todo.back())];
    todo.pop_back();
    for (std::size_t i = body.ex_begin; i < body.ex_end; ++i) {
      const std::string f = tree_.callee(static_cast<int>(i));
      if (is_watch(f)) {
        const auto& x = tree_.ex[i];
        if (x.kids.size() < 4) continue;
        const auto& cb = tree_.ex[static_cast<std::size_t>(tree_.strip_casts(x.kids[3]))];
        if (cb.kind != expr::ident) continue;
        const std::string name(tree_.toks[cb.tok].text);
        const int fn = function(name);
        if (fn < 0) err_.expected(tree_.toks[cb.tok].at, "the watch's callback " + name + "() among the files");
        return fn;
      }
      if (decides(f)) {
        const int fn = function(f);
        if (seen.insert(fn).second) todo.push_back(fn);
      }
    }
  }
  return -1;
}

// The classifier: see proofs/c_reader.h.
int reader::choose_entry() {
  static constexpr std::string_view by_name[] = {"migration_channel_process_incoming", "migration_channel_identify",
                                                 "migration_ioc_process_incoming"};
  for (auto n : by_name)
    if (decides(n)) return function(n);
  for (const auto& d : defs_)
    if (d.names_channel || d.calls.count("migration_channel_read_peek")) return function(d.name);
  for (const auto& d : defs_)
    for (const auto& c : d.calls)
      if (sinks().count(c)) return function(d.name);
  // Nothing classifies: say what was looked for, and what is missing.
  std::string missing;
  for (auto n : by_name)
    if (const fn_def* d = defined(n))
      for (auto m : by_name)
        if (d->calls.count(m) && !defined(m))
          missing = "; " + std::string(n) + "() calls " + std::string(m) + "(), which " +
                    (err_.files.size() == 1 ? "is not in this file (give the tree, or the file that defines it too)"
                                            : "none of the files defines");
  std::string where = err_.files.front();
  if (err_.files.size() > 1) where = std::to_string(err_.files.size()) + " files (" + where + ", ...)";
  throw c_reader_error(sanitize(where +
                                ": no classifier: looked for migration_channel_process_incoming(), "
                                "migration_channel_identify() and migration_ioc_process_incoming(), and for "
                                "a function that assigns CH_*, peeks or hands the channel over" +
                                missing));
}

// ================================================================ rows

std::string reader::detail_for(const path& p, const std::string& base_name) const {
  if (!p.last_then) return base_name;
  std::string n;
  if (!fm_.f_names(p.last_then->first, n)) n = "L" + std::to_string(p.last_then->second);
  return n;
}

void reader::emit(const path& p, const outcome& o, const std::string& region_hint) {
  bool mm = false;
  for (int f : p.exact_f) {
    const auto& n = fm_[f];
    mm = mm || (n.op == fnode::atom && n.col == column::mm_done && n.m == yes);
  }
  const std::string region = !region_hint.empty() ? region_hint
                             : !p.region.empty()  ? p.region
                             : p.peeked           ? "peek"
                             : mm                 ? "after_mm"
                                                  : "nopeek";

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
  std::vector<cube> cs = fm_.cubes_of(p.shown);
  if (!regions(cs, fire)) {
    cs = fm_.cubes_of(p.exact_f);
    if (!regions(cs, fire)) err_.fail(cur_, "expected consistent paths (internal error in the C reader)");
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
    if (drafts_.size() >= max_rows) err_.unsupported(cur_, "more than 4096 rows");
    drafts_.push_back({region + "." + o.detail, cs[i], o,
                       p.peeked || region_hint == "peek" ? reads::peek4 : reads::nothing, c, live,
                       tree_.fns[static_cast<std::size_t>(current_fn(p))].name});
    bits b = cube_bits(cs[i]);
    and_with(b, valid_);
    or_with(covered_, b);
  }
}

// A path ends: decide what its rows say.
void reader::finish(path& p, pos at, bool by_return) {
  outcome o;
  if (p.err && p.err->sticky) {
    o = {verdict::reject, p.err->text, p.err->at, false, p.err->slug};
  } else if (p.err && by_return) {
    // error_report() and return: the channel is dropped, nothing fails.
    o = {verdict::drop, p.err->text, p.err->at, false, p.err->slug};
  } else if (p.channel) {
    o = {p.channel->v, p.channel->v == verdict::reject ? "channel left as CH_NONE" : "", p.channel->at, false,
         detail_for(p, p.channel->v == verdict::reject ? "none" : std::string(name(p.channel->v)))};
  } else if (p.init) {
    o = {p.init->v, p.init->v == verdict::reject ? "channel left as CH_NONE" : "", p.init->at, true,
         "implicit_" + std::string(p.init->v == verdict::reject ? "none" : name(p.init->v))};
  } else {
    err_.expected(at,
                  "an assignment to the channel variable, or an initializer, on every path: "
                  "the path ending here decides nothing");
  }
  emit(p, o);
}

std::string reader::abort_detail(const path& p, std::string_view what) const {
  if (!p.last_then) return std::string(what);
  return detail_for(p, "") + "." + std::string(what);
}

parsed_table reader::run() {
  for (std::size_t f = 0; f < texts_.size(); ++f)
    for (auto& d : index_functions(texts_[f], static_cast<std::uint32_t>(f), err_)) {
      def_of_.emplace(d.name, defs_.size());  // the first definition wins
      defs_.push_back(std::move(d));
    }
  if (defs_.empty()) {  // statements without a function: one file
    entry_ = parse_statements(tree_, texts_.front(), 0, hunk_fns_.front(), err_);
    prescan(entry_);
  } else {
    entry_ = choose_entry();
  }

  const auto& u = space();
  valid_ = no_bits();
  for (std::size_t i = 0; i < n_obs; ++i)
    if (valid<concrete_domain>(base_, u.obs[i].generic())) valid_[i / 64] |= std::uint64_t{1} << (i % 64);
  covered_ = no_bits();
  derive_peek();
  derive_surroundings();

  // Channels a G_IO_IN watch left pending are decided once main and every
  // multifd channel are in, by the handler the watch's callback calls then:
  // their rows come first, so that they decide those observations.
  watch_callback_ = find_watch_callback();
  if (watch_callback_ >= 0) {
    const int handler = find_wake_handler(watch_callback_);
    const int pending =
        fm_.f_and(fm_.f_atom(column::mm_done, yes),
                  fm_.f_and(fm_.f_atom(column::peekable, yes), fm_.f_atom(column::magic, of(first_bytes::silent))));
    wake_ = true;
    execute(handler, pending, "woken");
    wake_ = false;
  }
  execute(entry_, 0, "");

  std::set<std::pair<int, int>> live_at;  // statements that decide for some valid observation
  for (const auto& d : drafts_)
    if (d.live) live_at.emplace(d.o.at.line, static_cast<int>(d.o.at.file) * 65536 + d.o.at.col);
  std::set<std::string> used;
  out_.rules.reserve(drafts_.size());
  for (const auto& d : drafts_) {
    // The same statement reached on a path where it cannot fire: not a row.
    if (!d.live && !d.o.implicit && live_at.count({d.o.at.line, static_cast<int>(d.o.at.file) * 65536 + d.o.at.col}))
      continue;
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
    r.ref = {{}, store(d.function)};
    r.implicit_default = d.o.implicit;
    r.origin = store(origin(d.o.at));
    out_.rules.push_back(r);
  }
  for (const auto& f : base_.forbids)
    out_.forbids.push_back({store(std::string(f.id)),
                            f.when,
                            store(std::string(f.text)),
                            {store(std::string(f.ref.commit)), store(std::string(f.ref.where))}});
  const std::string& fname = tree_.fns[static_cast<std::size_t>(entry_)].name;
  out_.function = fname;
  std::set<std::uint32_t> files_read;
  for (const auto& f : tree_.fns) {
    if (!f.name.empty()) out_.functions.push_back(f.name);
    files_read.insert(f.file);
  }
  for (const auto f : files_read) out_.files.push_back(err_.files[f]);
  out_.notes = notes_;
  const std::string& name = err_.files[tree_.fns[static_cast<std::size_t>(entry_)].file];
  out_.view = {store(name),
               store("read from " + name + (fname.empty() ? "" : ", " + fname + "()") + " against " +
                     std::string(base_.name)),
               store(name),
               out_.rules,
               out_.forbids,
               sem_};
  out_.dispatch = compile_at_run_time(out_.rules);
  out_.view.compiled = &out_.dispatch->view;
  return std::move(out_);
}

}  // namespace c_reader_detail

parsed_table read_classifier(std::span<const c_source> files, const table& base) {
  return c_reader_detail::reader(files, base).run();
}

parsed_table read_classifier(std::string_view source, std::string_view file_name, const table& base) {
  const c_source one{std::string(file_name), std::string(source)};
  return c_reader_detail::reader(std::span<const c_source>(&one, 1), base).run();
}

}  // namespace migchan
