// Capability and transport refusals shared by several QEMU versions.
#pragma once

#include "model/table.h"

namespace migchan::forbid {

constexpr upstream caps72{"6f39c90b", "migrate_caps_check"};

// Multifd needs several sockets: "multifd is not supported by current protocol"
// (7.2 migrate_caps_check); later "Migration requires multi-channel URIs".
inline constexpr config_rule multifd_single_channel_uri{
    "caps.multifd_needs_multi_channel_uri",
    {.transport = except(transport::socket, transport::tls, transport::file), .multifd = yes},
    "multifd is not supported by current protocol",
    caps72};
inline constexpr config_rule preempt_single_channel_uri{"caps.preempt_needs_multi_channel_uri",
                                                        {.transport = except(transport::socket, transport::tls),
                                                         .postcopy_preempt = yes},
                                                        "Migration requires multi-channel URIs (e.g. tcp)",
                                                        {"6f39c90b", "migration_needs_multiple_sockets"}};
// The file: URI and mapped-ram arrived with 2dd7ee7a51 (9.0).
inline constexpr config_rule no_file_transport{
    "caps.no_file_uri", {.transport = of(transport::file)}, "unknown migration protocol: file", caps72};
inline constexpr config_rule no_mapped_ram{
    "caps.no_mapped_ram", {.mapped_ram = yes}, "mapped-ram capability does not exist", caps72};
// b405dfff (8.1): "Postcopy is not yet compatible with multifd"; removed by e2741886 (10.1).
inline constexpr config_rule postcopy_multifd{"caps.postcopy_not_with_multifd",
                                              {.multifd = yes, .postcopy_ram = yes},
                                              "Postcopy is not yet compatible with multifd",
                                              {"b405dfff", "migrate_caps_check"}};
// 9.0+: mapped-ram only on a seekable file, never with postcopy.
inline constexpr config_rule mapped_ram_needs_file{"caps.mapped_ram_needs_file",
                                                   {.transport = except(transport::file), .mapped_ram = yes},
                                                   "Mapped-ram migration requires a seekable transport",
                                                   {"2dd7ee7a51", "migrate_caps_check"}};
inline constexpr config_rule mapped_ram_postcopy{"caps.mapped_ram_not_with_postcopy",
                                                 {.postcopy_ram = yes, .mapped_ram = yes},
                                                 "Mapped-ram migration is incompatible with postcopy",
                                                 {"2dd7ee7a51", "migrate_caps_check"}};
// A file carries multifd only as mapped-ram (file_start_incoming_migration()).
inline constexpr config_rule file_multifd_needs_mapped_ram{
    "caps.file_multifd_needs_mapped_ram",
    {.transport = of(transport::file), .multifd = yes, .mapped_ram = no},
    "Migration requires multi-channel URIs (e.g. tcp)",
    {"2dd7ee7a51", "migration_channels_and_transport_compatible"}};

}  // namespace migchan::forbid
