// tls: pre-shared-key TLS credentials for a migration (QEMU's tls-creds-psk object).
#pragma once

#include <filesystem>
#include <string>

namespace migchan::qemu {

// The id of the credentials object qemu_vm creates; the value of the tls-creds parameter.
inline constexpr const char* tls_creds_id = "tls0";

enum class tls_endpoint { server, client };  // the destination listens: server

struct tls_psk {
  std::filesystem::path keys_dir;  // holds keys.psk (write_psk_keys)
  tls_endpoint endpoint = tls_endpoint::client;
};

// Creates `dir` if needed and writes DIR/keys.psk, mode 0600: one line "qemu:<64 hex digits>",
// QEMU's default identity and a random 32-byte key. Both sides of a migration use the same dir.
// Throws std::system_error when it cannot.
void write_psk_keys(const std::filesystem::path& dir);

// "tls-creds-psk,id=tls0,endpoint=server,dir=DIR", the value of -object.
std::string tls_object(const tls_psk& tls);

}  // namespace migchan::qemu
