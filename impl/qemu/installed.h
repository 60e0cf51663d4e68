// installed: which qemu-system-x86_64 binaries there are, their versions, and whether they run.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace migchan::qemu {

// {major, minor, micro}, e.g. {7, 2, 22}; compares like a version.
using version = std::array<int, 3>;
// "7.2.22".
std::string to_string(const version& v);

// $MIGCHAN_QEMU if set, else qemu-system-x86_64 found on $PATH; empty when there is none.
std::string find_qemu();
// Where .ci/qemu-sid puts its wrapper: ${MIGCHAN_CACHE:-/var/cache/migchan}/qemu-sid/qemu-system-x86_64.
std::string sid_qemu();
// The binaries tests run against: the colon-separated $MIGCHAN_QEMUS when set; otherwise
// find_qemu() (Debian's own, or $MIGCHAN_QEMU) and sid_qemu(), whether or not they exist, so that
// a missing one is reported. Duplicates (same path) are listed once.
std::vector<std::string> qemu_candidates();

// Parses "QEMU emulator version 7.2.22 (Debian ...)"; nullopt when there is no version in it.
std::optional<version> parse_qemu_version(std::string_view text);
// Runs `binary --version`; nullopt when it cannot run or prints no version.
std::optional<version> qemu_version(const std::string& binary);

struct availability {
  bool ok = false;
  std::string binary;
  std::optional<qemu::version> version;
  std::string reason;  // why not, when !ok
  explicit operator bool() const { return ok; }
  // "QEMU 7.2.22 (/usr/bin/qemu-system-x86_64)", or the binary alone when it has no version.
  std::string label() const;
};
// Whether `binary` exists, prints a version and starts with QMP (a throw-away VM). Not cached.
availability probe_qemu(const std::string& binary);
// probe_qemu(find_qemu()), probed once, then cached.
const availability& qemu_available();
// probe_qemu() of every qemu_candidates() entry, in that order, probed once, then cached.
const std::vector<availability>& installed_qemus();

}  // namespace migchan::qemu
