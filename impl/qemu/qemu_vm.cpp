#include "impl/qemu/qemu_vm.h"

#include <cstdio>
#include <exception>
#include <stdexcept>

namespace migchan::qemu {

namespace {

// The members of a query-qmp-schema object type, by member name -> type name.
std::map<std::string, std::string> members_of(const json& schema, const std::string& type) {
  std::map<std::string, std::string> out;
  for (const auto& entity : schema)
    if (entity.value("name", "") == type)
      for (const auto& m : entity.value("members", json::array())) out[m.value("name", "")] = m.value("type", "");
  return out;
}

const json* entity_named(const json& schema, const std::string& name) {
  for (const auto& entity : schema)
    if (entity.value("name", "") == name) return &entity;
  return nullptr;
}

}  // namespace

qemu_vm::qemu_vm(vm_options opts)
    : opts_(std::move(opts)),
      uncaught_at_start_(std::uncaught_exceptions()),
      dir_("migchan-qemu-"),
      binary_(opts_.binary.empty() ? find_qemu() : opts_.binary) {
  if (binary_.empty()) throw std::runtime_error(opts_.name + ": qemu-system-x86_64 not found (set MIGCHAN_QEMU)");
  std::string qmp_path = (dir_.path() / (opts_.name + ".qmp")).string();
  // clang-format off
  std::vector<std::string> argv = {
      binary_, "-M", opts_.machine, "-m", "64", "-nodefaults", "-display", "none", "-S",
      "-accel", "tcg", "-qmp", "unix:" + qmp_path + ",server=on,wait=off"};
  // clang-format on
  if (opts_.incoming_defer) {
    argv.push_back("-incoming");
    argv.push_back("defer");
  }
  if (opts_.tls) {
    argv.push_back("-object");
    argv.push_back(tls_object(*opts_.tls));
  }
  argv.insert(argv.end(), opts_.extra_args.begin(), opts_.extra_args.end());
  proc_ = std::make_unique<process>(std::move(argv));

  auto still_starting = [this] {
    if (auto status = proc_->wait_exit(millis(0)))
      throw std::runtime_error(opts_.name + ": QEMU exited with status " + std::to_string(*status) +
                               " before QMP was ready: " + proc_->first_output_line());
  };
  qmp_.emplace(qmp_path, opts_.start_timeout, still_starting);
  set_capabilities({{"events", true}});
  if (opts_.tls) set_parameters({{"tls-creds", tls_creds_id}});
}

qemu_vm::~qemu_vm() {
  // A failing test unwinds through here: show what QEMU said, since it may be the only clue.
  if (std::uncaught_exceptions() > uncaught_at_start_ && proc_) {
    std::string err = proc_->output();
    if (!err.empty())
      std::fprintf(stderr, "--- %s (pid %d) stderr ---\n%s---\n", opts_.name.c_str(), static_cast<int>(proc_->pid()),
                   err.c_str());
  }
  qmp_.reset();
  if (proc_) proc_->kill();
}

std::string qemu_vm::unix_uri(std::string_view socket) const { return "unix:" + (dir_.path() / socket).string(); }

// Two VMs in one test both say "qmp migrate: ...", so prefix which one it was.
template <typename F> auto qemu_vm::named(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const unsupported&) {
    throw;
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(opts_.name + ": " + e.what());
  }
}

void qemu_vm::fail_unsupported(const std::string& what) const {
  throw unsupported(opts_.name + ": QEMU " + to_string(version()) + " has no " + what);
}

qemu::version qemu_vm::version() const {
  const auto& v = qmp_->greeting()["QMP"]["version"]["qemu"];
  return {v.value("major", 0), v.value("minor", 0), v.value("micro", 0)};
}

std::string qemu_vm::machine_type() {
  // QOM names machine classes "<machine>-machine" (TYPE_MACHINE_SUFFIX), on 7.2 as on 11.1.
  static constexpr std::string_view suffix = "-machine";
  std::string type = named([&] {
                       return qmp_->execute("qom-get", {{"path", "/machine"}, {"property", "type"}});
                     }).get<std::string>();
  if (type.size() > suffix.size() && type.compare(type.size() - suffix.size(), suffix.size(), suffix) == 0)
    type.resize(type.size() - suffix.size());
  return type;
}

bool qemu_vm::has_argument(const std::string& command, const std::string& argument) {
  if (!schema_) schema_ = named([&] { return qmp_->execute("query-qmp-schema", json::object(), millis(5000)); });
  const json* cmd = entity_named(*schema_, command);
  return cmd && members_of(*schema_, cmd->value("arg-type", "")).count(argument) > 0;
}

bool qemu_vm::has_capability(const std::string& capability) {
  if (!capabilities_) {
    capabilities_.emplace();
    for (const auto& c : named([&] { return qmp_->execute("query-migrate-capabilities"); }))
      capabilities_->insert(c.value("capability", ""));
  }
  return capabilities_->count(capability) > 0;
}

std::set<std::string> qemu_vm::transports() {
  std::set<std::string> out;
  if (!has_argument("migrate", "channels")) return out;
  // migrate.channels: [MigrationChannel]; MigrationChannel.addr: MigrationAddress, a union whose
  // tag `transport` is an enum. The schema names types by number, so follow the members.
  const json& schema = *schema_;
  const json* cmd = entity_named(schema, "migrate");
  const json* list = entity_named(schema, members_of(schema, cmd->value("arg-type", ""))["channels"]);
  if (!list) return out;
  const auto addr = members_of(schema, list->value("element-type", ""))["addr"];
  const json* tag = entity_named(schema, members_of(schema, addr)["transport"]);
  if (tag)
    for (const auto& v : tag->value("values", json::array())) out.insert(v.get<std::string>());
  return out;
}

void qemu_vm::set_capabilities(const std::map<std::string, bool>& caps) {
  json list = json::array();
  for (const auto& [name, state] : caps) {
    if (!has_capability(name)) fail_unsupported("migration capability '" + name + "'");
    list.push_back({{"capability", name}, {"state", state}});
  }
  named([&] { return qmp_->execute("migrate-set-capabilities", {{"capabilities", list}}); });
}

void qemu_vm::set_parameters(const json& params) {
  named([&] { return qmp_->execute("migrate-set-parameters", params); });
}

void qemu_vm::migrate(const std::string& uri) {
  named([&] { return qmp_->execute("migrate", {{"uri", uri}}); });
}

void qemu_vm::migrate_resume(const std::string& uri) {
  named([&] { return qmp_->execute("migrate", {{"uri", uri}, {"resume", true}}); });
}

void qemu_vm::migrate_incoming(const std::string& uri, const incoming_options& in) {
  json args = {{"uri", uri}};
  if (in.exit_on_error) {
    if (!has_argument("migrate-incoming", "exit-on-error"))
      fail_unsupported("migrate-incoming argument 'exit-on-error'");
    args["exit-on-error"] = *in.exit_on_error;
  }
  named([&] { return qmp_->execute("migrate-incoming", args); });
}

void qemu_vm::start_postcopy() {
  named([&] { return qmp_->execute("migrate-start-postcopy"); });
}

void qemu_vm::migrate_pause() {
  named([&] { return qmp_->execute("migrate-pause"); });
}

void qemu_vm::migrate_recover(const std::string& uri) {
  named([&] { return qmp_->execute("migrate-recover", {{"uri", uri}}); });
}

void qemu_vm::migrate_cancel() {
  named([&] { return qmp_->execute("migrate_cancel"); });
}

std::string qemu_vm::file_uri(const std::filesystem::path& file) { return "file:" + file.string(); }

void qemu_vm::require_file_transport() {
  if (!transports().count("file")) fail_unsupported("file: migration transport");
}

void qemu_vm::migrate_to_file(const std::filesystem::path& file) {
  require_file_transport();
  migrate(file_uri(file));
}

void qemu_vm::migrate_incoming_from_file(const std::filesystem::path& file, const incoming_options& in) {
  require_file_transport();
  migrate_incoming(file_uri(file), in);
}

json qemu_vm::query_migrate() {
  return named([&] { return qmp_->execute("query-migrate"); });
}

json qemu_vm::wait_for_status(const std::set<std::string>& statuses, millis timeout) {
  return named([&] { return qmp_->wait_for_status(statuses, timeout); });
}

int qemu_vm::quit(millis timeout) {
  try {
    qmp_->execute("quit", json::object(), timeout);
  } catch (const std::runtime_error&) {
    // QEMU may close the socket before its reply reaches us; the exit below is what counts.
  }
  if (auto status = proc_->wait_exit(timeout)) return *status;
  return proc_->kill();
}

}  // namespace migchan::qemu
