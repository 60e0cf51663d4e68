#include "impl/cli/c_input.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "impl/cli/classifier_arg.h"
#include "impl/cli/cli.h"
#include "impl/cli/patch.h"
#include "model/builtin.h"

namespace migchan::cli {
namespace {

namespace fs = std::filesystem;

// Largest file read: the C reader's own limit (proofs/c_reader.h), checked
// before reading so that a huge file is refused without being read.
constexpr std::uintmax_t max_bytes = std::uintmax_t{16} << 20;

std::string slurp(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw usage_error("cannot read '" + path + "': " + std::strerror(EISDIR));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw usage_error("cannot open '" + path + "': " + std::strerror(errno));
  if (const auto size = fs::file_size(path, ec); !ec && size > max_bytes)
    throw usage_error("'" + path + "' has " + std::to_string(size) +
                      " bytes, more than the 16 MiB the C reader "
                      "takes in one file");
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) throw usage_error("cannot read '" + path + "': " + std::strerror(errno));
  return s.str();
}

std::string read_input(const std::string& path) {
  if (path != "-") return slurp(path);
  std::ostringstream s;
  s << std::cin.rdbuf();
  return s.str();
}

// The tree a file sits in: the nearest directory above it with VERSION and
// migration/, named as the file was (relative stays relative).
std::optional<fs::path> tree_of(const fs::path& file) {
  std::error_code ec;
  fs::path d = file.parent_path();
  if (d.empty()) d = fs::current_path(ec);
  for (int up = 0; up < 3 && !d.empty(); ++up) {
    if (fs::is_regular_file(d / "VERSION", ec) && fs::is_directory(d / "migration", ec)) return d;
    const fs::path parent = d.has_relative_path() && d.parent_path().empty() ? fs::path(".") : d.parent_path();
    if (parent == d || d == ".") break;
    d = parent;
  }
  return std::nullopt;
}

std::string version_of(const fs::path& tree) {
  std::ifstream in(tree / "VERSION");
  std::string v;
  std::getline(in, v);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\r')) v.pop_back();
  return v;
}

const table& base_of_tree(const fs::path& tree, const std::string& shown, std::string& why) {
  const auto v = version_of(tree);
  std::string note;
  const table& t = builtin_for_version(v, note);
  why = "QEMU " + v + ", " + shown + "/VERSION" + note;
  return t;
}

// A patch names files as the tree it was made in did: keep dropping leading
// components until the rest is a file of this tree (`diff -u` of two trees),
// else drop none (a new file).
std::string in_tree(const fs::path& tree, const std::string& p) {
  std::error_code ec;
  std::string rest = p.substr(std::min(p.find_first_not_of('/'), p.size()));
  while (!rest.empty()) {
    if (fs::is_regular_file(tree / rest, ec)) return rest;
    const auto slash = rest.find('/');
    if (slash == std::string::npos) break;
    rest = rest.substr(slash + 1);
  }
  return p;
}

bool in_migration(const std::string& rel) {
  return rel.rfind("migration/", 0) == 0 && rel.size() > 2 && rel.substr(rel.size() - 2) == ".c" &&
         rel.find('/', 10) == std::string::npos;
}

}  // namespace

const table& builtin_for_version(const std::string& version, std::string& note) {
  int major = 0, minor = 0;
  std::sscanf(version.c_str(), "%d.%d", &major, &minor);
  // QEMU releases each built-in table models (their summaries say the same).
  struct since {
    int major, minor;
    const char* name;
  };
  static constexpr since releases[] = {{11, 1, "qemu-11.1"}, {10, 1, "qemu-10.1"}, {10, 0, "qemu-10.0"},
                                       {9, 0, "qemu-9.0"},   {8, 1, "qemu-8.1"},   {8, 0, "qemu-8.0"},
                                       {7, 2, "qemu-7.2"}};
  for (const auto& r : releases)
    if (major > r.major || (major == r.major && minor >= r.minor)) return *find_builtin(r.name);
  note = "; older than every built-in table, 7.2's is used";
  return *find_builtin("qemu-7.2");
}

std::vector<c_source> tree_files(const std::string& dir, const std::string& prefix) {
  std::error_code ec;
  const fs::path root(dir);
  const bool tree = fs::is_directory(root / "migration", ec);
  const fs::path from = tree ? root / "migration" : root;
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(from, ec))
    if (e.is_regular_file() && e.path().extension() == ".c") names.push_back(e.path().filename().string());
  if (ec) throw usage_error("cannot read '" + dir + "': " + ec.message());
  std::sort(names.begin(), names.end());
  if (names.empty()) throw usage_error("'" + dir + "' holds no migration/*.c (nor *.c): not a QEMU tree");
  std::vector<c_source> out;
  for (const auto& n : names) out.push_back({prefix + (tree ? "migration/" : "") + n, slurp((from / n).string())});
  return out;
}

c_input load_c(const std::string& input, const std::string& base, const std::string& fallback) {
  c_input r;
  std::error_code ec;
  const bool base_tree = !base.empty() && fs::is_directory(base, ec);
  if (base_tree) {
    if (input != "-" && fs::is_directory(input, ec))
      throw usage_error("with --base DIR, give a patch (git diff, git format-patch, mbox), not the directory '" +
                        input + "'");
    const auto s = patch::parse(read_input(input), input == "-" ? "stdin" : input);
    r.subjects = s.subjects;
    const fs::path root(base);
    auto files = tree_files(base, "");
    r.before = files;
    std::map<std::string, std::string> text;
    for (auto& f : files) text[f.name] = std::move(f.text);
    std::map<std::string, std::vector<bool>> changed;
    for (const auto& d : s.files) {
      if (d.hunks.empty()) continue;
      const std::string from = d.old_path.empty() ? "" : in_tree(root, d.old_path);
      const std::string to = d.new_path.empty() ? "" : in_tree(root, d.new_path);
      std::string old;
      if (!from.empty()) {
        if (const auto it = text.find(from); it != text.end()) old = it->second;
        else if (fs::is_regular_file(root / from, ec)) old = slurp((root / from).string());
        else
          throw patch::patch_error((input == "-" ? std::string("stdin") : input) + ":" + std::to_string(d.line) + ": " +
                                   from + " is not in " + base);
      }
      patch::file_diff named = d;  // errors name the file as the tree does
      named.new_path = to.empty() ? from : to;
      auto a = patch::apply(old, named, input == "-" ? "stdin" : input, (root / from).string());
      if (to.empty()) {  // deleted
        text.erase(from);
        changed.erase(from);
        continue;
      }
      if (from != to) text.erase(from);
      text[to] = std::move(a.text);
      changed[to] = std::move(a.changed);
    }
    for (auto& [name, t] : text)
      if (in_migration(name)) r.files.push_back({name, std::move(t)});
    for (auto& [name, c] : changed) r.changed.emplace_back(name, std::move(c));
    r.base = &base_of_tree(root, base, r.base_why);
    r.what = (input == "-" ? std::string("stdin") : input) + " applied to " + base;
    return r;
  }
  if (input != "-" && fs::is_directory(input, ec)) {
    r.files = tree_files(input, input + (input.back() == '/' ? "" : "/"));
    r.what = "the tree " + input + " (" + std::to_string(r.files.size()) + " files)";
    if (!base.empty()) {
      r.base = &builtin_named(base, "base classifier");
      r.base_why = "--base";
    } else if (fs::is_regular_file(fs::path(input) / "VERSION", ec)) {
      r.base = &base_of_tree(input, input, r.base_why);
    }
  } else {
    r.files.push_back({input == "-" ? "stdin" : input, read_input(input)});
    r.what = r.files.front().name;
    if (!base.empty()) {
      r.base = &builtin_named(base, "base classifier");
      r.base_why = "--base";
    } else if (input != "-") {
      if (const auto t = tree_of(input)) r.base = &base_of_tree(*t, t->string(), r.base_why);
    }
  }
  if (!r.base) {
    r.base = &builtin_named(fallback, "base classifier");
    r.base_why = "default";
  }
  return r;
}

}  // namespace migchan::cli
