#include "impl/qemu/installed.h"

#include "impl/qemu/process.h"
#include "impl/qemu/qemu_vm.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <exception>

namespace migchan::qemu {

namespace {

std::vector<std::string> split_colons(std::string_view list) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t end = list.find(':', pos);
    if (end == std::string_view::npos) end = list.size();
    out.emplace_back(list.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

}  // namespace

std::string to_string(const version& v) {
  return std::to_string(v[0]) + "." + std::to_string(v[1]) + "." + std::to_string(v[2]);
}

std::string find_qemu() {
  if (const char* env = std::getenv("MIGCHAN_QEMU"); env && *env) return env;
  const char* path = std::getenv("PATH");
  for (const auto& dir : split_colons(path ? path : "/usr/bin:/bin")) {
    std::string candidate = (dir.empty() ? "." : dir) + "/qemu-system-x86_64";
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

std::string sid_qemu() {
  const char* cache = std::getenv("MIGCHAN_CACHE");
  return std::string(cache && *cache ? cache : "/var/cache/migchan") + "/qemu-sid/qemu-system-x86_64";
}

std::vector<std::string> qemu_candidates() {
  std::vector<std::string> all;
  if (const char* env = std::getenv("MIGCHAN_QEMUS"); env && *env) all = split_colons(env);
  else all = {find_qemu(), sid_qemu()};
  std::vector<std::string> out;
  for (auto& b : all)
    if (!b.empty() && std::find(out.begin(), out.end(), b) == out.end()) out.push_back(std::move(b));
  return out;
}

std::optional<version> parse_qemu_version(std::string_view text) {
  // "QEMU emulator version 7.2.22 (Debian ...)": numbers after the first "version ".
  size_t pos = text.find("version ");
  if (pos == std::string_view::npos) return std::nullopt;
  pos += 8;
  version v{0, 0, 0};
  size_t parts = 0;
  while (parts < v.size() && pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
    int n = 0;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) n = n * 10 + (text[pos++] - '0');
    v[parts++] = n;
    if (pos + 1 < text.size() && text[pos] == '.' && std::isdigit(static_cast<unsigned char>(text[pos + 1]))) ++pos;
    else break;
  }
  if (parts < 2) return std::nullopt;
  return v;
}

std::optional<version> qemu_version(const std::string& binary) {
  try {
    process p({binary, "--version"}, {.capture_stdout = true});
    if (!p.wait_exit(millis(3000))) return std::nullopt;
    // It has exited, but the reader thread may still be draining the pipe.
    p.wait_for_output_end(millis(1000));
    return parse_qemu_version(p.output());
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string availability::label() const {
  return version ? "QEMU " + to_string(*version) + " (" + binary + ")" : binary;
}

availability probe_qemu(const std::string& binary) {
  availability a;
  a.binary = binary;
  if (a.binary.empty()) {
    a.reason = "qemu-system-x86_64 not found on PATH (set MIGCHAN_QEMU to its path)";
    return a;
  }
  if (access(a.binary.c_str(), X_OK) != 0) {
    a.reason = a.binary + " is not an executable file" +
               (a.binary == sid_qemu() ? std::string(" (.ci/qemu-sid installs it)") : "");
    return a;
  }
  a.version = qemu_version(a.binary);
  if (!a.version) {
    a.reason = a.binary + " --version printed no version";
    return a;
  }
  try {
    qemu_vm probe({.name = "probe", .binary = a.binary});
    probe.qmp().execute("query-status");
    probe.quit();
  } catch (const std::exception& e) {
    a.reason = "cannot start " + a.binary + ": " + e.what();
    return a;
  }
  a.ok = true;
  return a;
}

const availability& qemu_available() {
  static const availability cached = probe_qemu(find_qemu());
  return cached;
}

const std::vector<availability>& installed_qemus() {
  static const std::vector<availability> cached = [] {
    std::vector<availability> out;
    for (const auto& b : qemu_candidates()) out.push_back(b == find_qemu() ? qemu_available() : probe_qemu(b));
    return out;
  }();
  return cached;
}

}  // namespace migchan::qemu
