// `migchan history DIR [REV..REV]`: the classifier of a QEMU git checkout at
// every commit that touches its files, each read from C and checked, and for
// each property the first commit where its verdict changed. Commits are read
// from git's object store; the work tree is never touched.
#include <algorithm>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <thread>

#include "impl/cli/c_input.h"
#include "impl/cli/cli.h"
#include "impl/cli/git.h"
#include "impl/cli/verify_run.h"
#include "model/builtin.h"
#include "model/render.h"
#include "proofs/c_reader.h"
#include "proofs/trace.h"

namespace migchan::cli {
namespace {

struct commit {
  std::string id, date, subject;
  std::string base;   // the built-in its VERSION names
  std::string error;  // the classifier could not be read
  std::unique_ptr<parsed_table> table;
  int result = -1;  // index into the verified tables
};

// What a table decides and the code around it: commits whose classifier reads
// the same are checked once.
std::string fingerprint(const table& t, const std::string& base) {
  std::ostringstream s;
  s << base << "|" << int(t.sem.start) << int(t.sem.all_channels) << int(t.sem.setup) << int(t.sem.senders)
    << int(t.sem.ids) << int(t.sem.errors) << t.sem.main_resets_multifd << t.sem.multifd_off_dropped;
  for (const auto& r : t.rules)
    s << "|" << describe(r.when) << ">" << name(r.then) << name(r.cost) << r.implicit_default;
  return s.str();
}

// The C files a commit's classifier may live in: those the newest readable
// commit read, and the files it has lived in so far.
std::vector<std::string> classifier_files(git::blobs& blobs, const std::string& dir, const std::string& tip) {
  std::vector<std::string> files{"migration/channel.c", "migration/migration.c", "migration/multifd.c"};
  std::vector<c_source> src;
  for (const auto& line : [&] {
         std::vector<std::string> v;
         std::istringstream in(git::run(dir, {"ls-tree", "--name-only", tip, "migration/"}));
         for (std::string l; std::getline(in, l);) v.push_back(l);
         return v;
       }())
    if (line.size() > 2 && line.substr(line.size() - 2) == ".c")
      if (auto t = blobs.read(tip, line)) src.push_back({line, std::move(*t)});
  try {
    const auto t = read_classifier(src, *find_builtin("qemu-11.1"));
    files.insert(files.end(), t.files.begin(), t.files.end());
  } catch (const c_reader_error&) {
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  return files;
}

std::string short_id(const std::string& id) { return id.substr(0, 12); }

struct column_result {
  std::string verdict;  // "proved", "refuted", "holds", "FAILS", "-"
  std::vector<unsigned> sets;
};

}  // namespace

action add_history(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "history",
      "the classifier of a QEMU git checkout at each commit that touches its files: every property's "
      "verdict, and the first commit where each changed");
  struct args {
    std::string dir, range, assume, format = "text";
    int max_channels = multifd_channels_max;
  };
  auto x = std::make_shared<args>();
  sub->add_option("dir", x->dir, "a git checkout of QEMU")->required();
  sub->add_option("range", x->range, "commits to look at, as git log takes them (REV..REV; default: all of HEAD's)");
  sub->add_option("--assume", x->assume, "comma-separated named assumptions in force");
  add_max_channels(sub, x->max_channels);
  one_of(sub->add_option("--format", x->format, "text or json"), {"text", "json"});
  return [=]() -> int {
    common_args a;
    a.command = "history";
    a.assume = x->assume;
    a.max_channels = x->max_channels;
    a.format = "json";  // run() prints nothing of its own
    const unsigned assumed = parse_assumptions(x->assume);
    std::string tip = "HEAD";
    try {
      git::run(x->dir, {"rev-parse", "--git-dir"});
      if (!x->range.empty()) {
        const auto dots = x->range.find("..");
        tip = dots == std::string::npos ? x->range : x->range.substr(dots + 2);
        if (tip.empty()) tip = "HEAD";
        if (!tip.empty() && tip.front() == '.') tip = tip.substr(1);  // A...B
      }
      git::run(x->dir, {"rev-parse", "--verify", "--quiet", tip + "^{commit}"});
    } catch (const git::error& e) {
      throw usage_error(std::string(e.what()));
    }
    git::blobs blobs(x->dir);
    const auto files = classifier_files(blobs, x->dir, tip);
    std::vector<std::string> log_args{"log", "--reverse", "--format=%H%x1f%cs%x1f%s"};
    log_args.push_back(x->range.empty() ? "HEAD" : x->range);
    log_args.push_back("--");
    log_args.insert(log_args.end(), files.begin(), files.end());
    log_args.push_back("VERSION");
    std::vector<commit> commits;
    {
      std::istringstream log(git::run(x->dir, log_args));
      for (std::string l; std::getline(log, l);) {
        const auto a1 = l.find('\x1f'), a2 = l.find('\x1f', a1 + 1);
        if (a1 == std::string::npos || a2 == std::string::npos) continue;
        commits.push_back({l.substr(0, a1), l.substr(a1 + 1, a2 - a1 - 1), l.substr(a2 + 1), {}, {}, {}, -1});
      }
    }
    if (commits.empty())
      throw usage_error("no commit in " + x->dir + " " + (x->range.empty() ? "HEAD" : x->range) +
                        " touches the classifier's files");
    // Read every commit, then check each distinct classifier once, all at once.
    std::map<std::string, int> seen;
    std::vector<const table*> tables;
    for (auto& c : commits) {
      std::vector<c_source> src;
      std::istringstream tree(git::run(x->dir, {"ls-tree", "--name-only", c.id, "migration/"}));
      for (std::string l; std::getline(tree, l);)
        if (std::find(files.begin(), files.end(), l) != files.end())
          if (auto t = blobs.read(c.id, l)) src.push_back({l, std::move(*t)});
      std::string note;
      const auto version = blobs.read(c.id, "VERSION").value_or("");
      const table& base = builtin_for_version(version.substr(0, version.find('\n')), note);
      c.base = std::string(base.name);
      try {
        c.table = std::make_unique<parsed_table>(read_classifier(src, base));
      } catch (const c_reader_error& e) {
        c.error = e.what();
        continue;
      }
      const auto fp = fingerprint(c.table->view, c.base);
      const auto [it, fresh] = seen.emplace(fp, static_cast<int>(tables.size()));
      if (fresh) tables.push_back(&c.table->view);
      c.result = it->second;
    }
    const auto r = tables.empty() ? run_result{} : run(a, tables, true);

    // Per commit, per column: the verdict.
    std::vector<std::string> heads;
    for (std::size_t p = 0; p < property_count; ++p) heads.emplace_back(name(static_cast<property>(p)));
    heads.emplace_back("single-arrival");
    std::vector<std::vector<column_result>> cells;
    for (const auto& c : commits) {
      std::vector<column_result> row;
      if (c.result < 0) {
        row.assign(heads.size(), {"-", {}});
      } else {
        const auto& cr = r.results[static_cast<std::size_t>(c.result)];
        for (const auto& pr : cr.results) row.push_back({pr.refuted ? "refuted" : "proved", pr.minimal_sets});
        row.push_back({r.single[static_cast<std::size_t>(c.result)].holds() ? "holds" : "FAILS", {}});
      }
      cells.push_back(std::move(row));
    }
    // The first commit where each column's verdict differs from the one before it (unreadable ones skipped).
    struct change {
      std::size_t at;
      std::string from, to;
    };
    std::vector<std::optional<change>> first(heads.size());
    for (std::size_t col = 0; col < heads.size(); ++col) {
      std::optional<std::string> prev;
      for (std::size_t i = 0; i < commits.size() && !first[col]; ++i) {
        const auto& v = cells[i][col].verdict;
        if (v == "-") continue;
        if (prev && *prev != v) first[col] = change{i, *prev, v};
        prev = v;
      }
    }

    if (x->format == "json") {
      nlohmann::json out{{"dir", x->dir},
                         {"range", x->range.empty() ? "HEAD" : x->range},
                         {"files", files},
                         {"assumptions", names_json(assumed)},
                         {"commits", nlohmann::json::array()},
                         {"first_changes", nlohmann::json::object()}};
      for (std::size_t i = 0; i < commits.size(); ++i) {
        const auto& c = commits[i];
        nlohmann::json j{{"commit", c.id}, {"date", c.date}, {"subject", c.subject}, {"base", c.base}};
        if (!c.error.empty()) j["error"] = c.error;
        else j["function"] = c.table->function;
        nlohmann::json v = nlohmann::json::object();
        for (std::size_t col = 0; col < heads.size(); ++col) {
          nlohmann::json sets = nlohmann::json::array();
          for (unsigned m : cells[i][col].sets) sets.push_back(names_json(m));
          v[heads[col]] = {{"verdict", cells[i][col].verdict}};
          if (col < property_count && c.result >= 0) v[heads[col]]["minimal_assumption_sets"] = sets;
        }
        j["verdicts"] = v;
        out["commits"].push_back(j);
      }
      for (std::size_t col = 0; col < heads.size(); ++col)
        out["first_changes"][heads[col]] = first[col] ? nlohmann::json{{"commit", commits[first[col]->at].id},
                                                                       {"date", commits[first[col]->at].date},
                                                                       {"subject", commits[first[col]->at].subject},
                                                                       {"from", first[col]->from},
                                                                       {"to", first[col]->to}}
                                                      : nlohmann::json(nullptr);
      std::cout << out.dump(2) << "\n";
      return 0;
    }

    auto& os = std::cout;
    std::string fl;
    for (const auto& f : files) fl += (fl.empty() ? "" : ", ") + f;
    os << x->dir << " " << (x->range.empty() ? "HEAD" : x->range) << ": " << commits.size()
       << (commits.size() == 1 ? " commit" : " commits") << " touching " << fl << " or VERSION, " << tables.size()
       << (tables.size() == 1 ? " classifier" : " distinct classifiers") << " (assuming "
       << proofs::assumption_list(assumed) << ")\n\n";
    std::vector<std::size_t> width;
    for (const auto& h : heads) width.push_back(std::max<std::size_t>(h.size(), 7));
    const auto pad = [](std::string s, std::size_t w) {
      s.resize(std::max(w, s.size()), ' ');
      return s;
    };
    os << "commit        date        base       ";
    for (std::size_t col = 0; col < heads.size(); ++col) os << pad(heads[col], width[col]) << "  ";
    os << "subject\n";
    for (std::size_t i = 0; i < commits.size(); ++i) {
      const auto& c = commits[i];
      os << short_id(c.id) << "  " << c.date << "  " << pad(c.base, 9) << "  ";
      for (std::size_t col = 0; col < heads.size(); ++col) os << pad(cells[i][col].verdict, width[col]) << "  ";
      os << c.subject << "\n";
      if (!c.error.empty()) os << "              not read: " << c.error << "\n";
    }
    os << "\nfirst change of each verdict:\n";
    for (std::size_t col = 0; col < heads.size(); ++col) {
      os << "  " << pad(heads[col], 18) << " ";
      if (!first[col]) {
        os << "none\n";
        continue;
      }
      const auto& c = commits[first[col]->at];
      os << short_id(c.id) << " " << c.date << " " << first[col]->from << " -> " << first[col]->to << ": " << c.subject
         << "\n";
    }
    return 0;
  };
}

}  // namespace migchan::cli
