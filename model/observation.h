// Everything the destination can know when a channel arrives: its own
// configuration, the channel's transport and first bytes, and what it has
// already classified. This is the input of every classifier row.
#pragma once

#include "model/channel.h"
#include "model/domain.h"

#include <array>
#include <cstddef>
#include <string_view>

namespace migchan {

// The observation, generic over a value domain (see domain.h). Enum-valued
// fields are integers holding the enum's underlying value.
template <class D> struct basic_observation {
  using B = typename D::boolean;
  using I = typename D::integer;
  // destination capabilities (migrate_multifd(), migrate_postcopy_ram(), ...)
  B multifd, postcopy_ram, postcopy_preempt, mapped_ram;
  I transport;    // enum transport
  B has_main;     // mis->from_src_file != NULL
  B all_multifd;  // multifd_recv_all_channels_created()
  B has_preempt;  // mis->postcopy_qemufile_dst != NULL
  I state;        // enum mig_status: mis->state
  I magic;        // enum first_bytes: what a 4-byte peek would see
};

// The fields of an observation, named once for everything that lists them:
// rendering, Z3 variables and models, witnesses. Booleans have 2 values and no
// value names.
enum class field : std::uint8_t {
  multifd,
  postcopy_ram,
  postcopy_preempt,
  mapped_ram,
  transport,
  has_main,
  all_multifd,
  has_preempt,
  state,
  magic,
};
inline constexpr std::size_t field_count = 10;

struct field_info {
  std::string_view name;
  std::size_t values;
  const std::string_view* value_names;  // nullptr for a boolean
  constexpr bool boolean() const { return value_names == nullptr; }
};

constexpr field_info info(field f) {
  switch (f) {
    case field::multifd: return {"multifd", 2, nullptr};
    case field::postcopy_ram: return {"postcopy_ram", 2, nullptr};
    case field::postcopy_preempt: return {"postcopy_preempt", 2, nullptr};
    case field::mapped_ram: return {"mapped_ram", 2, nullptr};
    case field::transport: return {"transport", enum_size<transport>, enum_traits<transport>::names.data()};
    case field::has_main: return {"has_main", 2, nullptr};
    case field::all_multifd: return {"all_multifd", 2, nullptr};
    case field::has_preempt: return {"has_preempt", 2, nullptr};
    case field::state: return {"state", enum_size<mig_status>, enum_traits<mig_status>::names.data()};
    case field::magic: return {"magic", enum_size<first_bytes>, enum_traits<first_bytes>::names.data()};
  }
  return {};
}

// Calls f(field, value) for each field of a basic_observation, in order; the
// value is the domain's boolean or integer (an enum's underlying value).
template <class O, class F> constexpr void for_each_field(O&& o, F&& f) {
  f(field::multifd, o.multifd);
  f(field::postcopy_ram, o.postcopy_ram);
  f(field::postcopy_preempt, o.postcopy_preempt);
  f(field::mapped_ram, o.mapped_ram);
  f(field::transport, o.transport);
  f(field::has_main, o.has_main);
  f(field::all_multifd, o.all_multifd);
  f(field::has_preempt, o.has_preempt);
  f(field::state, o.state);
  f(field::magic, o.magic);
}

// The concrete observation, with real enums, for people and for the runtime.
struct observation {
  bool multifd = false, postcopy_ram = false, postcopy_preempt = false, mapped_ram = false;
  migchan::transport transport = transport::socket;
  bool has_main = false, all_multifd = false, has_preempt = false;
  mig_status state = mig_status::setup;
  first_bytes magic = first_bytes::vm_file_magic;

  constexpr basic_observation<concrete_domain> generic() const {
    return {multifd,
            postcopy_ram,
            postcopy_preempt,
            mapped_ram,
            static_cast<int>(transport),
            has_main,
            all_multifd,
            has_preempt,
            static_cast<int>(state),
            static_cast<int>(magic)};
  }
  constexpr bool operator==(const observation&) const = default;

  static constexpr observation from(const basic_observation<concrete_domain>& g) {
    return {g.multifd,
            g.postcopy_ram,
            g.postcopy_preempt,
            g.mapped_ram,
            static_cast<migchan::transport>(g.transport),
            g.has_main,
            g.all_multifd,
            g.has_preempt,
            static_cast<mig_status>(g.state),
            static_cast<first_bytes>(g.magic)};
  }
};

// Every observation of the raw space, valid or not (46,080): 2^7 booleans x
// transport x state x first bytes. The one enumeration of the space.
// for_each_of() walks the same order over chosen values of the three enum fields.
inline constexpr std::size_t raw_observations = 128 * enum_size<transport> * enum_size<mig_status> *
                                                enum_size<first_bytes>;
template <class F>
constexpr void for_each_of(const int* tv, std::size_t nt, const int* sv, std::size_t ns, const int* mv, std::size_t nm,
                           F&& f) {
  for (unsigned bits = 0; bits < 128; ++bits)
    for (std::size_t ti = 0; ti < nt; ++ti)
      for (std::size_t si = 0; si < ns; ++si)
        for (std::size_t mi = 0; mi < nm; ++mi)
          f(observation{bool(bits & 1), bool(bits & 2), bool(bits & 4), bool(bits & 8), transport(tv[ti]),
                        bool(bits & 16), bool(bits & 32), bool(bits & 64), mig_status(sv[si]), first_bytes(mv[mi])});
}
template <class E>
inline constexpr auto every_value = [] {
  std::array<int, enum_size<E>> v{};
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<int>(i);
  return v;
}();
template <class F> constexpr void for_each_raw(F&& f) {
  const auto& tv = every_value<transport>;
  const auto& sv = every_value<mig_status>;
  const auto& mv = every_value<first_bytes>;
  for_each_of(tv.data(), tv.size(), sv.data(), sv.size(), mv.data(), mv.size(), f);
}

// QIO_CHANNEL_FEATURE_READ_MSG_PEEK: set only on accepted sockets.
template <class D> constexpr auto peekable(const basic_observation<D>& o) {
  return o.transport == D::num(static_cast<int>(transport::socket));
}

// migration_has_main_and_multifd_channels() (00f3fcef): main is in and, with
// multifd, every multifd channel too.
template <class D> constexpr auto mm_done(const basic_observation<D>& o) {
  return o.has_main && (!o.multifd || o.all_multifd);
}

}  // namespace migchan
