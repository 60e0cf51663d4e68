// qemu_vm: one paused, diskless qemu-system-x86_64 with a connected QMP client, for interop tests.
#pragma once

#include "impl/qemu/installed.h"
#include "impl/qemu/process.h"
#include "impl/qemu/qmp.h"
#include "impl/qemu/temp_dir.h"
#include "impl/qemu/tls.h"

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace migchan::qemu {

// What this binary cannot do (a QMP argument, a capability, a transport it does not have), as
// opposed to something it refused: "dst: QEMU 7.2.22 has no migrate-incoming argument 'exit-on-error'".
struct unsupported : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct vm_options {
  std::string name = "vm";                   // QMP socket name and message prefix ("src", "dst")
  std::string binary = {};                   // empty: find_qemu()
  std::string machine = "pc";                // -M; "pc" is the binary's newest pc-i440fx (machine_type() says which)
  bool incoming_defer = false;               // -incoming defer: capabilities can be set before listening
  std::optional<tls_psk> tls = {};           // -object tls-creds-psk, and the tls-creds parameter set at start
  std::vector<std::string> extra_args = {};  // e.g. {"-uuid", "1111..."} or {"-trace", "multifd_*"}
  millis start_timeout{3000};
};

struct incoming_options {
  // nullopt: QEMU's default (exit on error where the binary has the argument). A value on a
  // binary without the argument (7.2) throws `unsupported`.
  std::optional<bool> exit_on_error = std::nullopt;
};

// Started by the constructor as
//   BINARY -M MACHINE -m 64 -nodefaults -display none -S -accel tcg
//       -qmp unix:DIR/NAME.qmp,server=on,wait=off [-incoming defer] [-object tls-creds-psk,...] EXTRA...
// inside a private temp dir, with the `events` capability on (MIGRATION events, for watch()).
// The destructor SIGKILLs it by pid and removes the dir; when the destructor runs because of an
// exception it first copies QEMU's stderr to ours.
class qemu_vm {
 public:
  explicit qemu_vm(vm_options opts = {});
  ~qemu_vm();
  qemu_vm(const qemu_vm&) = delete;
  qemu_vm& operator=(const qemu_vm&) = delete;

  const std::string& name() const { return opts_.name; }
  const std::string& binary() const { return binary_; }
  qmp_client& qmp() { return *qmp_; }
  process& proc() { return *proc_; }
  const std::filesystem::path& dir() const { return dir_.path(); }
  // "unix:DIR/<socket>", a migration address inside this VM's private dir.
  std::string unix_uri(std::string_view socket) const;

  // From the QMP greeting: the version of the running QEMU.
  qemu::version version() const;
  // The running machine type without QOM's suffix: "pc-i440fx-11.1" (qom-get /machine type).
  std::string machine_type();
  // Whether `command` takes `argument` (query-qmp-schema, fetched once).
  bool has_argument(const std::string& command, const std::string& argument);
  // Whether query-migrate-capabilities lists `capability` (fetched once).
  bool has_capability(const std::string& capability);
  // The transports `migrate` takes in its `channels` argument ("socket", "exec", "rdma", "file");
  // empty for a binary without that argument (7.2 takes URIs only, and no file:).
  std::set<std::string> transports();

  // A capability this binary does not have throws `unsupported` before anything is sent.
  void set_capabilities(const std::map<std::string, bool>& caps);
  void set_parameters(const json& params);  // e.g. {{"multifd-channels", 4}}
  void migrate(const std::string& uri);
  // `migrate` with resume: true, the source's side of postcopy recovery.
  void migrate_resume(const std::string& uri);
  // Set capabilities first: 11.1 refuses multifd and postcopy-preempt once incoming has started
  // ("Multifd must be set before incoming starts"), 7.2 took them either way.
  void migrate_incoming(const std::string& uri, const incoming_options& in = {});
  void start_postcopy();                         // migrate-start-postcopy
  void migrate_pause();                          // migrate-pause
  void migrate_recover(const std::string& uri);  // the destination's side of postcopy recovery
  void migrate_cancel();                         // migrate_cancel

  // "file:PATH". The file: transport throws `unsupported` where transports() lacks it; with the
  // mapped-ram capability on both sides (11.1) the file holds RAM at fixed offsets.
  static std::string file_uri(const std::filesystem::path& file);
  void migrate_to_file(const std::filesystem::path& file);
  void migrate_incoming_from_file(const std::filesystem::path& file, const incoming_options& in = {});

  json query_migrate();
  json wait_for_status(const std::set<std::string>& statuses, millis timeout);
  // QMP quit, then wait for the exit; kills by pid if it is still running at the deadline.
  int quit(millis timeout = millis(2000));

 private:
  template <typename F> auto named(F&& f) -> decltype(f());
  [[noreturn]] void fail_unsupported(const std::string& what) const;
  void require_file_transport();

  vm_options opts_;
  int uncaught_at_start_;
  temp_dir dir_;
  std::string binary_;
  std::unique_ptr<process> proc_;
  std::optional<qmp_client> qmp_;
  std::optional<json> schema_;
  std::optional<std::set<std::string>> capabilities_;
};

}  // namespace migchan::qemu
