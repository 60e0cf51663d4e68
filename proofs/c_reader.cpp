// The C classifier reader: clean (diff and mail quoting) -> lex -> parse the
// statements into a small AST -> run every path symbolically -> rows. This
// file turns a path's end into rows and the rows into the table; the stages
// before it are in proofs/c_reader/.
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

reader::reader(std::string_view source, std::string_view file, const table& base)
    : err_{sanitize(std::string(file))}, base_(base) {
  auto c = clean(source);
  text_ = std::move(c.text);
  hunk_function_ = std::move(c.hunk_function);
}

// ================================================================ rows

std::string reader::detail_for(const path& p, const std::string& base_name) const {
  if (!p.last_then) return base_name;
  std::string n;
  if (!fm_.f_names(p.last_then->first, n)) n = "L" + std::to_string(p.last_then->second);
  return n;
}

void reader::emit(const path& p, const outcome& o, bool wait) {
  bool mm = false;
  for (int f : p.exact_f) {
    const auto& n = fm_[f];
    mm = mm || (n.op == fnode::atom && n.col == column::mm_done && n.m == yes);
  }
  const std::string region = p.peeked || wait ? "peek" : mm ? "after_mm" : "nopeek";

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
    drafts_.push_back({region + "." + o.detail, cs[i], o, p.peeked || wait ? reads::peek4 : reads::nothing, c, live});
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
    err_.expected(at, "an assignment to the channel variable, or an initializer, on every path: "
                      "the path ending here decides nothing");
  }
  emit(p, o);
}

std::string reader::abort_detail(const path& p, std::string_view what) const {
  if (!p.last_then) return std::string(what);
  return detail_for(p, "") + "." + std::string(what);
}

parsed_table reader::run() {
  tree_ = parse(text_, hunk_function_, err_);
  prescan();

  const auto& u = space();
  valid_ = no_bits();
  for (std::size_t i = 0; i < n_obs; ++i)
    if (valid<concrete_domain>(base_, u.obs[i].generic())) valid_[i / 64] |= std::uint64_t{1} << (i % 64);
  covered_ = no_bits();
  execute();

  std::set<std::pair<int, int>> live_at;  // statements that decide for some valid observation
  for (const auto& d : drafts_)
    if (d.live) live_at.emplace(d.o.at.line, d.o.at.col);
  std::set<std::string> used;
  out_.rules.reserve(drafts_.size());
  for (const auto& d : drafts_) {
    // The same statement reached on a path where it cannot fire: not a row.
    if (!d.live && !d.o.implicit && live_at.count({d.o.at.line, d.o.at.col})) continue;
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
    r.ref = {{}, store(tree_.function)};
    r.implicit_default = d.o.implicit;
    r.origin = store(origin(d.o.at));
    out_.rules.push_back(r);
  }
  for (const auto& f : base_.forbids)
    out_.forbids.push_back({store(std::string(f.id)), f.when, store(std::string(f.text)),
                            {store(std::string(f.ref.commit)), store(std::string(f.ref.where))}});
  out_.function = tree_.function;
  out_.view = {store(err_.file),
               store("read from " + err_.file + (tree_.function.empty() ? "" : ", " + tree_.function + "()") +
                     " against " + std::string(base_.name)),
               store(err_.file), out_.rules, out_.forbids, base_.sem};
  out_.dispatch = compile_at_run_time(out_.rules);
  out_.view.compiled = &out_.dispatch->view;
  return std::move(out_);
}

}  // namespace c_reader_detail

parsed_table read_classifier(std::string_view source, std::string_view file_name, const table& base) {
  return c_reader_detail::reader(source, file_name, base).run();
}

}  // namespace migchan
