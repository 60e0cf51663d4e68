#include "impl/qemu/qemu_vm.h"

#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>

namespace migchan::qemu {

std::string find_qemu() {
  if (const char *env = std::getenv("MIGCHAN_QEMU"); env && *env)
    return env;
  const char *path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  size_t pos = 0;
  while (pos <= dirs.size()) {
    size_t end = dirs.find(':', pos);
    if (end == std::string::npos)
      end = dirs.size();
    std::string dir = dirs.substr(pos, end - pos);
    std::string candidate = (dir.empty() ? "." : dir) + "/qemu-system-x86_64";
    if (access(candidate.c_str(), X_OK) == 0)
      return candidate;
    pos = end + 1;
  }
  return {};
}

std::optional<version> parse_qemu_version(std::string_view text) {
  // "QEMU emulator version 7.2.22 (Debian ...)": numbers after the first "version ".
  size_t pos = text.find("version ");
  if (pos == std::string_view::npos)
    return std::nullopt;
  pos += 8;
  version v{0, 0, 0};
  size_t parts = 0;
  while (parts < v.size() && pos < text.size() &&
         std::isdigit(static_cast<unsigned char>(text[pos]))) {
    int n = 0;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])))
      n = n * 10 + (text[pos++] - '0');
    v[parts++] = n;
    if (pos + 1 < text.size() && text[pos] == '.' &&
        std::isdigit(static_cast<unsigned char>(text[pos + 1])))
      ++pos;
    else
      break;
  }
  if (parts < 2)
    return std::nullopt;
  return v;
}

std::optional<version> qemu_version(const std::string &binary) {
  try {
    process p({binary, "--version"}, {.capture_stdout = true});
    if (!p.wait_exit(millis(3000)))
      return std::nullopt;
    // It has exited, but the reader thread may still be draining the pipe.
    p.wait_for_output_end(millis(1000));
    return parse_qemu_version(p.output());
  } catch (const std::exception &) {
    return std::nullopt;
  }
}

const availability &qemu_available() {
  static const availability cached = [] {
    availability a;
    a.binary = find_qemu();
    if (a.binary.empty()) {
      a.reason = "qemu-system-x86_64 not found on PATH (set MIGCHAN_QEMU to its path)";
      return a;
    }
    if (access(a.binary.c_str(), X_OK) != 0) {
      a.reason = a.binary + " is not executable";
      return a;
    }
    a.version = qemu_version(a.binary);
    if (!a.version) {
      a.reason = a.binary + " --version printed no version";
      return a;
    }
    try {
      qemu_vm probe({.name = "probe"});
      probe.qmp().execute("query-status");
      probe.quit();
    } catch (const std::exception &e) {
      a.reason = "cannot start " + a.binary + ": " + e.what();
      return a;
    }
    a.ok = true;
    return a;
  }();
  return cached;
}

qemu_vm::qemu_vm(vm_options opts)
    : opts_(std::move(opts)), uncaught_at_start_(std::uncaught_exceptions()),
      dir_("migchan-qemu-") {
  std::string binary = find_qemu();
  if (binary.empty())
    throw std::runtime_error(opts_.name + ": qemu-system-x86_64 not found (set MIGCHAN_QEMU)");
  std::string qmp_path = (dir_.path() / (opts_.name + ".qmp")).string();
  // clang-format off
  std::vector<std::string> argv = {
      binary, "-M", "pc", "-m", "64", "-nodefaults", "-display", "none", "-S", "-accel", "tcg",
      "-qmp", "unix:" + qmp_path + ",server=on,wait=off"};
  // clang-format on
  if (opts_.incoming_defer) {
    argv.push_back("-incoming");
    argv.push_back("defer");
  }
  argv.insert(argv.end(), opts_.extra_args.begin(), opts_.extra_args.end());
  proc_ = std::make_unique<process>(std::move(argv));

  auto still_starting = [this] {
    if (auto status = proc_->wait_exit(millis(0)))
      throw std::runtime_error(opts_.name + ": QEMU exited with status " + std::to_string(*status) +
                               " before QMP was ready: " + proc_->first_output_line());
  };
  qmp_.emplace(qmp_path, opts_.start_timeout, still_starting);
}

qemu_vm::~qemu_vm() {
  // A failing test unwinds through here: show what QEMU said, since it may be the only clue.
  if (std::uncaught_exceptions() > uncaught_at_start_ && proc_) {
    std::string err = proc_->output();
    if (!err.empty())
      std::fprintf(stderr, "--- %s (pid %d) stderr ---\n%s---\n", opts_.name.c_str(),
                   static_cast<int>(proc_->pid()), err.c_str());
  }
  qmp_.reset();
  if (proc_)
    proc_->kill();
}

std::string qemu_vm::unix_uri(std::string_view socket) const {
  return "unix:" + (dir_.path() / socket).string();
}

// Two VMs in one test both say "qmp migrate: ...", so prefix which one it was.
template <typename F> auto qemu_vm::named(F &&f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::runtime_error &e) {
    throw std::runtime_error(opts_.name + ": " + e.what());
  }
}

void qemu_vm::set_capabilities(const std::map<std::string, bool> &caps) {
  json list = json::array();
  for (const auto &[name, state] : caps)
    list.push_back({{"capability", name}, {"state", state}});
  named([&] { return qmp_->execute("migrate-set-capabilities", {{"capabilities", list}}); });
}

void qemu_vm::set_parameters(const json &params) {
  named([&] { return qmp_->execute("migrate-set-parameters", params); });
}

void qemu_vm::migrate(const std::string &uri) {
  named([&] { return qmp_->execute("migrate", {{"uri", uri}}); });
}

void qemu_vm::migrate_incoming(const std::string &uri) {
  named([&] { return qmp_->execute("migrate-incoming", {{"uri", uri}}); });
}

void qemu_vm::start_postcopy() {
  named([&] { return qmp_->execute("migrate-start-postcopy"); });
}

json qemu_vm::query_migrate() {
  return named([&] { return qmp_->execute("query-migrate"); });
}

json qemu_vm::wait_for_status(const std::set<std::string> &statuses, millis timeout) {
  return named([&] { return qmp_->wait_for_status(statuses, timeout); });
}

int qemu_vm::quit(millis timeout) {
  try {
    qmp_->execute("quit", json::object(), timeout);
  } catch (const std::runtime_error &) {
    // QEMU may close the socket before its reply reaches us; the exit below is what counts.
  }
  if (auto status = proc_->wait_exit(timeout))
    return *status;
  return proc_->kill();
}

} // namespace migchan::qemu
