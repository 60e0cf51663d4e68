// `migchan check`: exit 0 only if every property of a classifier holds. The
// classifier is built in (--classifier) or read from C: a file, a QEMU tree,
// or a patch applied in memory to a tree (--base DIR), whose findings then
// cite the patched lines and come with what changed against the tree.
// `--format mail` words it all as a reply to the patch.
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "impl/cli/c_input.h"
#include "impl/cli/classifier_arg.h"
#include "impl/cli/cli.h"
#include "impl/cli/patch.h"
#include "impl/cli/verify_run.h"
#include "model/builtin.h"
#include "model/render.h"
#include "proofs/c_reader.h"
#include "proofs/diff.h"
#include "proofs/trace.h"

namespace migchan::cli {
namespace {

struct source_args {
  std::string input, base;
};

// A table read from C, and (for a patch) the tree's before it.
struct read_c {
  c_input in;
  parsed_table now;
  std::optional<parsed_table> before;
  std::string before_error;  // the tree's classifier could not be read
  std::optional<proofs::diff_result> changes;
};

// "migration/migration.c:1034" -> whether the patch wrote that line.
struct patched_lines {
  std::map<std::string, const std::vector<bool>*, std::less<>> files;
  bool operator()(std::string_view origin) const {
    const auto colon = origin.rfind(':');
    if (colon == std::string_view::npos) return false;
    const auto it = files.find(origin.substr(0, colon));
    if (it == files.end()) return false;
    const auto line = std::strtoul(std::string(origin.substr(colon + 1)).c_str(), nullptr, 10);
    return line >= 1 && line <= it->second->size() && (*it->second)[line - 1];
  }
};

std::string where_marked(const rule& r, const patched_lines& patched) {
  return proofs::where(r) + (patched(r.origin) ? " +" : "");
}

// What keeps a dead row from firing, with the rows the patch wrote marked.
std::string blocked_by(const table& t, const proofs::dead_rule& d, const patched_lines& patched) {
  if (d.unmatchable || patched.files.empty()) return blockers_text(t, d);
  std::string s;
  for (std::size_t b : d.blockers) s += (s.empty() ? "" : ", ") + where_marked(t.rules[b], patched);
  return "blocked by " + s;
}

// The rows a trace went through, with where they are in the C: format_text
// names rows by id only. A row on a line the patch wrote is marked "+".
// `conditions`: with the C condition of each.
std::string rows_involved(const table& t, property p, const proofs::counterexample& cx, const patched_lines& patched,
                          const std::string& indent, bool conditions = true) {
  std::set<int> rows;
  for (const auto* tr : {&cx.steps, &cx.natural}) {
    if (tr == &cx.natural && p != property::order_independent) continue;  // printed for that one only
    for (const auto& st : *tr) {
      // The row that classified the channel, also when the code after it
      // (multifd_recv_new_channel(), the setup asserts) decided the outcome.
      const auto why = static_cast<cause>(st.out.why);
      if (st.in.present && why != cause::behind && why != cause::listener && why != cause::none)
        rows.insert(st.out.rule);
      if (st.out.woke) rows.insert(st.out.woke_rule);
    }
  }
  std::string s;
  for (int i : rows) {
    if (i < 0 || i >= static_cast<int>(t.rules.size())) continue;
    const rule& r = t.rules[static_cast<std::size_t>(i)];
    s += indent + "  " + where_marked(r, patched) + (r.implicit_default ? " implicit default" : "") +
         (conditions ? ": " + std::string(r.c) : std::string()) + "\n";
  }
  return s.empty() ? s : indent + "rows involved:\n" + s;
}

std::string reading(const read_c& c) {
  const auto& t = c.now;
  std::string s = (t.function.empty() ? "statements" : t.function + "()") + ", " + std::to_string(t.rules.size()) +
                  " rows, read against " + std::string(c.in.base->name) + " (" + c.in.base_why + ")";
  return s;
}

// What changed against the tree the patch applies to: rows that decide
// differently, and properties whose verdict or assumption sets moved.
void print_changes(const read_c& c, const run_result& r, const patched_lines& patched, const std::string& indent,
                   std::ostream& os) {
  if (!c.before) {
    os << indent << "the tree's own classifier could not be read: " << c.before_error << "\n";
    return;
  }
  const table &was = c.before->view, &now = c.now.view;
  const auto& d = *c.changes;
  if (d.regions.empty()) {
    os << indent << "decisions: the same for every channel in every state\n";
  } else {
    os << indent << "decisions: " << d.regions.size() << (d.truncated ? "+" : "")
       << (d.regions.size() == 1 ? " region decides" : " regions decide") << " differently\n";
    int n = 0;
    const patched_lines unpatched;  // the tree's lines are its own
    for (const auto& g : d.regions) {
      const auto side = [&](const table& t, int row, const patched_lines& marks) {
        if (row == proofs::refused) return std::string("refused");
        const auto i = static_cast<std::size_t>(row);
        if (i >= t.rules.size()) return std::string("no rule");
        return where_marked(t.rules[i], marks) + " -> " + std::string(name(t.rules[i].then));
      };
      os << indent << "  " << ++n << ". " << describe(g.where) << "\n"
         << indent << "     before: " << side(was, g.rule_a, unpatched) << "\n"
         << indent << "     after:  " << side(now, g.rule_b, patched) << "\n";
    }
  }
  const auto& a = r.results[1].results;
  const auto& b = r.results[0].results;
  bool any = false;
  for (std::size_t k = 0; k < a.size() && k < b.size(); ++k) {
    auto x = a[k].minimal_sets, y = b[k].minimal_sets;
    std::sort(x.begin(), x.end());
    std::sort(y.begin(), y.end());
    if (a[k].refuted == b[k].refuted && x == y) continue;
    if (!any) os << indent << "properties:\n";
    any = true;
    std::string n(name(b[k].prop));
    n.resize(18, ' ');
    os << indent << "  " << n << " " << (a[k].refuted ? "refuted" : "proved") << " -> "
       << (b[k].refuted ? "refuted" : "proved") << ", holds " << sets_text(a[k].minimal_sets) << " -> "
       << sets_text(b[k].minimal_sets) << "\n";
  }
  const auto& sa = r.single[1];
  const auto& sb = r.single[0];
  if (sa.holds() != sb.holds()) {
    if (!any) os << indent << "properties:\n";
    any = true;
    os << indent << "  single arrival     " << (sa.holds() ? "held" : "failed") << " -> "
       << (sb.holds() ? "holds" : "fails") << "\n";
  }
  if (!any) os << indent << "properties: as before\n";
}

// The findings, as `check FILE` always printed them; returns the exit code.
int print_text(const read_c& c, const run_result& r, const patched_lines& patched, std::ostream& os) {
  const table& t = *r.results.front().t;
  const auto& s = r.single.front();
  const auto& cr = r.results.front();
  const std::string base(c.in.base->name);
  os << t.name << ": " << reading(c) << "\n";
  if (c.in.before) os << "patch: " << c.in.what << "\n";
  for (const auto& n : c.now.notes) os << "  " << n << "\n";
  os << "\n";
  // What the reader understood, so each finding below can be traced to a row.
  std::size_t wid = 0, wori = 0, wdec = 0;
  for (const auto& row : t.rules) {
    wid = std::max(wid, row.id.size());
    wori = std::max(wori, row.origin.size() + (patched(row.origin) ? 2 : 0));
    wdec = std::max(wdec, name(row.then).size() + (row.implicit_default ? 11 : 0));
  }
  os << "rows (first match wins" << (patched.files.empty() ? "" : "; + marks a line the patch wrote") << "):\n";
  for (const auto& row : t.rules) {
    std::string id(row.id), ori = std::string(row.origin) + (patched(row.origin) ? " +" : ""), dec(name(row.then));
    if (row.implicit_default) dec += " (implicit)";
    id.resize(wid, ' ');
    ori.resize(wori, ' ');
    dec.resize(wdec, ' ');
    os << "  " << id << "  " << ori << "  " << dec << "  " << describe(row.when) << "\n";
  }
  os << "\n";
  os << "single arrival (one channel, every observation " << base << " accepts):\n";
  const auto verdict_line = [&](const char* what, bool ok) {
    std::string n = what;
    n.resize(20, ' ');
    os << "  " << n << " " << (ok ? "holds" : "FAILS") << "\n";
  };
  verdict_line("exhaustive", !s.gap);
  if (s.gap) os << "    no row matches " << describe(*s.gap) << "\n";
  verdict_line("no-dead-rule", s.dead.empty());
  for (const auto& d : s.dead) {
    os << "    " << where_marked(t.rules[d.row], patched) << " never fires: " << blocked_by(t, d, patched) << "\n"
       << "      " << t.rules[d.row].c << "\n";
  }
  verdict_line("no-implicit-default", s.implicit_defaults.empty());
  for (const auto& h : s.implicit_defaults) {
    const rule& row = t.rules[h.row];
    os << "    " << where_marked(row, patched) << " decides " << name(row.then)
       << ": nothing on this path assigns the channel, the initializer does\n"
       << "      path:    " << row.c << "\n      witness: " << describe(h.witness) << "\n";
  }
  if (!s.unknown.empty()) os << "  Z3 gave up: " << s.unknown << "\n";
  if (s.overlaps_skipped) os << "  overlaps: not looked for, more than 128 rows\n";
  if (!s.overlaps.empty()) {
    os << "  overlaps (information: rows with different decisions that match one observation; the first decides)\n";
    for (const auto& o : s.overlaps)
      os << "    " << proofs::where(t, o.first) << " " << name(t.rules[o.first].then) << " / "
         << proofs::where(t, o.second) << " " << name(t.rules[o.second].then)
         << "\n      witness: " << describe(o.witness) << "\n";
  }
  os << "\nsequence properties (assuming " << proofs::assumption_list(r.assumed) << "):\n";
  for (const auto& pr : cr.results) {
    std::string n(name(pr.prop));
    n.resize(18, ' ');
    os << "  " << n << " " << (pr.refuted ? "refuted" : "proved ") << "  holds " << sets_text(pr.minimal_sets)
       << (pr.unknown.empty() ? "" : "  (Z3: " + pr.unknown + ")") << "\n";
  }
  for (const auto& pr : cr.results)
    if (pr.trace)
      os << "\n"
         << proofs::format_text(t, pr.prop, r.assumed, *pr.trace)
         << rows_involved(t, pr.prop, *pr.trace, patched, "  ");
  if (c.in.before) {
    os << "\nagainst " << c.in.what.substr(c.in.what.rfind(" applied to ") + 12) << " before the patch:\n";
    print_changes(c, r, patched, "  ", os);
  }
  const auto verdict = tally_of(r, 0);
  os << "\n" << verdict.line(t.name, r.seconds) << "\n";
  return verdict.exit();
}

// Plain text for a reply on the list: what was checked, each finding with
// file:line, the shortest trace of each refuted property, and what the patch
// changed. No timings, nothing a mail client would mangle.
int print_mail(const read_c& c, const run_result& r, const patched_lines& patched, std::ostream& os) {
  const table& t = *r.results.front().t;
  const auto& s = r.single.front();
  const auto& cr = r.results.front();
  os << "migchan check of " << (c.in.subjects.empty() ? c.in.what : c.in.subjects.front()) << "\n";
  for (std::size_t k = 1; k < c.in.subjects.size(); ++k) os << "               and " << c.in.subjects[k] << "\n";
  if (!c.in.subjects.empty()) os << "(" << c.in.what << ")\n";
  os << "\nThe classifier, " << reading(c) << ".\n";
  if (!patched.files.empty()) os << "A '+' after file:line marks a line this patch adds.\n";

  std::size_t findings = 0;
  std::ostringstream f;
  if (s.gap) f << "\n" << ++findings << ". Not exhaustive: no row decides " << describe(*s.gap) << "\n";
  for (const auto& d : s.dead)
    f << "\n"
      << ++findings << ". Dead branch: " << where_marked(t.rules[d.row], patched) << " never fires ("
      << blocked_by(t, d, patched) << ").\n   " << t.rules[d.row].c << "\n";
  for (const auto& h : s.implicit_defaults) {
    const rule& row = t.rules[h.row];
    f << "\n"
      << ++findings << ". Implicit default: " << where_marked(row, patched) << " decides " << name(row.then)
      << " because nothing on this path assigns the channel; the initializer does.\n   For example: "
      << describe(h.witness) << "\n";
  }
  std::map<std::string, std::size_t> shown;  // a trace already printed, by its steps
  for (const auto& pr : cr.results) {
    if (!pr.refuted) continue;
    f << "\n" << ++findings << ". " << name(pr.prop) << " is refuted; it holds " << sets_text(pr.minimal_sets) << ".\n";
    if (!pr.trace) continue;
    std::istringstream lines(proofs::format_text(t, pr.prop, r.assumed, *pr.trace));
    std::string l, head, body;
    std::getline(lines, head);  // "X breaks P (assuming ...), N channels:"
    while (std::getline(lines, l)) body += "   " + l + "\n";
    const auto [it, fresh] = shown.emplace(body, findings);
    if (!fresh) {
      f << "   Shortest counterexample: the one of " << it->second << ".\n";
      continue;
    }
    f << "   Shortest counterexample, " << head.substr(head.rfind(", ") + 2) << "\n"
      << body << rows_involved(t, pr.prop, *pr.trace, patched, "   ", false);
  }
  os << "\n"
     << (findings ? std::to_string(findings) + (findings == 1 ? " finding" : " findings") : "No finding")
     << " (assuming " << proofs::assumption_list(r.assumed) << "):\n"
     << f.str();
  if (c.in.before) {
    os << "\nAgainst the tree before the patch:\n";
    print_changes(c, r, patched, "  ", os);
  }
  os << "\n-- \nmigchan check --format mail\n";
  return tally_of(r, 0).exit();
}

nlohmann::json changes_json(const read_c& c, const run_result& r) {
  if (!c.before) return {{"error", c.before_error}};
  nlohmann::json regions = nlohmann::json::array();
  const auto side = [](const table& t, int row) -> nlohmann::json {
    if (row == proofs::refused) return {{"refused", true}};
    const auto i = static_cast<std::size_t>(row);
    if (i >= t.rules.size()) return {{"rule", nullptr}};
    return {{"rule", std::string(t.rules[i].id)},
            {"decision", std::string(name(t.rules[i].then))},
            {"origin", std::string(t.rules[i].origin)}};
  };
  for (const auto& g : c.changes->regions)
    regions.push_back({{"where", describe(g.where)},
                       {"before", side(c.before->view, g.rule_a)},
                       {"after", side(c.now.view, g.rule_b)},
                       {"witness", to_json(g.witness)}});
  auto all = to_json(r);
  return {{"regions", regions}, {"regions_truncated", c.changes->truncated}, {"before", all["classifiers"][1]}};
}

int check_source(const common_args& a, const source_args& src) {
  if (a.format != "text" && a.format != "json" && a.format != "mail")
    throw usage_error("bad value '" + a.format + "' for --format (one of: text, json, mail)");
  read_c c;
  try {
    c.in = load_c(src.input, src.base, "qemu-10.1");
  } catch (const patch::patch_error& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
  try {
    c.now = read_classifier(c.in.files, *c.in.base);
  } catch (const c_reader_error& e) {
    std::cerr << e.what() << "\n";  // FILE:LINE:COL: ..., as compilers print it
    return 2;
  }
  if (c.in.before) {
    try {
      c.before = read_classifier(*c.in.before, *c.in.base);
    } catch (const c_reader_error& e) {
      c.before_error = e.what();
    }
  }
  std::vector<const table*> tables{&c.now.view};
  if (c.before) tables.push_back(&c.before->view);
  common_args quiet = a;
  quiet.format = "json";  // the format is ours to print
  const auto r = run(quiet, tables, true);
  if (c.before) c.changes = proofs::diff(c.before->view, c.now.view);
  patched_lines patched;
  for (const auto& [file, lines] : c.in.changed) patched.files.emplace(file, &lines);
  if (a.format == "mail") return print_mail(c, r, patched, std::cout);
  if (a.format == "json") {
    auto j = to_json(r);
    if (c.before) j["classifiers"].erase(1);
    const auto verdict = tally_of(r, 0);
    j["file"] = src.input;
    j["base"] = std::string(c.in.base->name);
    j["base_from"] = c.in.base_why;
    j["function"] = c.now.function;
    j["functions"] = c.now.functions;
    j["notes"] = c.now.notes;
    j["holds"] = verdict.failed == 0 && !verdict.unknown;
    j["exit"] = verdict.exit();
    if (c.in.before) j["against_base"] = changes_json(c, r);
    std::cout << j.dump(2) << "\n";
    return verdict.exit();
  }
  return print_text(c, r, patched, std::cout);
}

int check_builtin(const common_args& a) {
  if (a.format != "text" && a.format != "json")
    throw usage_error("bad value '" + a.format + "' for --format (one of: text, json; mail is for C)");
  const auto r = run(a, {&builtin_named(a.classifier, "classifier")}, false);
  const auto verdict = tally_of(r, 0);
  if (a.format == "json") {
    auto j = to_json(r);
    j["holds"] = verdict.failed == 0 && !verdict.unknown;
    j["exit"] = verdict.exit();
    std::cout << j.dump(2) << "\n";
    return verdict.exit();
  }
  const auto& cr = r.results.front();
  for (const auto& pr : cr.results) {
    std::string n(name(pr.prop));
    n.resize(18, ' ');
    std::cout << n << " " << (pr.refuted ? "refuted" : "proved ") << "  holds " << sets_text(pr.minimal_sets)
              << (pr.unknown.empty() ? "" : "  (Z3: " + pr.unknown + ")") << "\n";
  }
  const auto& s = r.single.front();
  std::cout << "single arrival     " << (s.holds() ? "holds" : "FAILS") << "\n";
  for (const auto& pr : cr.results)
    if (pr.trace) std::cout << "\n" << proofs::format_text(*cr.t, pr.prop, r.assumed, *pr.trace);
  std::cout << "\n" << verdict.line(cr.t->name, r.seconds) << "\n";
  return verdict.exit();
}

}  // namespace

action add_check(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "check",
      "exit 0 only if every property of a classifier holds: a built-in one (--classifier) or one written "
      "in C (a file, a QEMU tree, or a patch with --base DIR; - reads stdin)");
  auto a = std::make_shared<common_args>();
  auto src = std::make_shared<source_args>();
  add_common(sub, *a);
  sub->add_option("input", src->input,
                  "the classifier in C: FILE (whole files, a function, its statements, a diff hunk, a mail-quoted "
                  "patch), a QEMU tree DIR (its migration/*.c), or with --base DIR a PATCH (git diff, git "
                  "format-patch, an mbox)");
  sub->add_option("--base", src->base,
                  "a built-in classifier whose QEMU version the C is read against (refused configurations, setup and "
                  "start semantics), or, for a PATCH, the QEMU tree it applies to; default: the tree's VERSION, "
                  "else qemu-10.1");
  sub->get_option("--format")->description("text, json, or mail (for C: a plain-text reply to the patch)");
  return [=] {
    // --classifier FILE.c (or a tree) is the input itself.
    if (!a->classifier.empty() && !find_builtin(a->classifier) && src->input.empty()) {
      if (!src->base.empty()) throw usage_error("--base goes with FILE, DIR or PATCH, not --classifier");
      auto as_input = *src;
      as_input.input = a->classifier;
      auto args = *a;
      args.classifier.clear();
      std::error_code ec;
      if (as_input.input != "-" && !std::filesystem::exists(as_input.input, ec))
        (void)resolve_classifier(as_input.input);  // neither a built-in nor a file: says which was meant
      return check_source(args, as_input);
    }
    if (src->input.empty() && a->classifier.empty())
      throw usage_error("check needs a FILE, DIR or PATCH, or --classifier C: one of them is required");
    if (!src->input.empty() && !a->classifier.empty())
      throw usage_error("check takes a FILE, DIR or PATCH, or --classifier C, not both");
    if (!src->base.empty() && src->input.empty()) throw usage_error("--base applies to FILE, DIR or PATCH only");
    return src->input.empty() ? check_builtin(*a) : check_source(*a, *src);
  };
}

}  // namespace migchan::cli
