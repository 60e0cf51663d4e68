// qemu_vm: one paused, diskless qemu-system-x86_64 with a connected QMP client, for interop tests.
#pragma once

#include "impl/qemu/process.h"
#include "impl/qemu/qmp.h"
#include "impl/qemu/temp_dir.h"

#include <array>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace migchan::qemu {

// {major, minor, micro}, e.g. {7, 2, 22}; compares like a version.
using version = std::array<int, 3>;

// $MIGCHAN_QEMU if set, else qemu-system-x86_64 found on $PATH; empty when there is none.
std::string find_qemu();
// Parses "QEMU emulator version 7.2.22 (Debian ...)"; nullopt when there is no version in it.
std::optional<version> parse_qemu_version(std::string_view text);
// Runs `binary --version`; nullopt when it cannot run or prints no version.
std::optional<version> qemu_version(const std::string &binary);

struct availability {
  bool ok = false;
  std::string binary;
  std::optional<qemu::version> version;
  std::string reason; // why not, when !ok
  explicit operator bool() const { return ok; }
};
// Whether a QEMU can be found and actually started with QMP; probed once, then cached.
const availability &qemu_available();

struct vm_options {
  std::string name = "vm";     // QMP socket name and message prefix ("src", "dst")
  bool incoming_defer = false; // adds -incoming defer (needed for multifd, see research §6 d3)
  std::vector<std::string> extra_args = {}; // e.g. {"-uuid", "1111..."} or {"-trace", "multifd_*"}
  millis start_timeout{3000};
};

// Started by the constructor as
//   qemu-system-x86_64 -M pc -m 64 -nodefaults -display none -S -accel tcg
//       -qmp unix:DIR/NAME.qmp,server=on,wait=off [-incoming defer] EXTRA...
// inside a private temp dir. The destructor SIGKILLs it by pid and removes the dir; when the
// destructor runs because of an exception it first copies QEMU's stderr to ours.
class qemu_vm {
public:
  explicit qemu_vm(vm_options opts = {});
  ~qemu_vm();
  qemu_vm(const qemu_vm &) = delete;
  qemu_vm &operator=(const qemu_vm &) = delete;

  const std::string &name() const { return opts_.name; }
  qmp_client &qmp() { return *qmp_; }
  process &proc() { return *proc_; }
  const std::filesystem::path &dir() const { return dir_.path(); }
  // "unix:DIR/<socket>", a migration address inside this VM's private dir.
  std::string unix_uri(std::string_view socket) const;

  void set_capabilities(const std::map<std::string, bool> &caps);
  void set_parameters(const json &params); // e.g. {{"multifd-channels", 4}}
  void migrate(const std::string &uri);
  void migrate_incoming(const std::string &uri);
  void start_postcopy();
  json query_migrate();
  json wait_for_status(const std::set<std::string> &statuses, millis timeout);
  // QMP quit, then wait for the exit; kills by pid if it is still running at the deadline.
  int quit(millis timeout = millis(2000));

private:
  template <typename F> auto named(F &&f) -> decltype(f());

  vm_options opts_;
  int uncaught_at_start_;
  temp_dir dir_;
  std::unique_ptr<process> proc_;
  std::optional<qmp_client> qmp_;
};

} // namespace migchan::qemu
