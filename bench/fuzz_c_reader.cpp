// libFuzzer target for proofs/c_reader.cpp: any bytes end in a table or in a
// one-line c_reader_error naming the file. A crash, a hang, a sanitizer report,
// another exception, a malformed message or a table with a gap is a finding.
//
//   ninja -C build-clang bench/fuzz_c_reader
//   build-clang/bench/fuzz_c_reader -max_total_time=60 -max_len=4096 \
//     -dict=bench/fuzz_c_reader.dict -seed_inputs=tests/traces/c/qemu_10_1.c,...
#include <cstddef>
#include <cstdint>
#include <set>
#include <string_view>

#include "model/builtin.h"
#include "model/check.h"
#include "proofs/c_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // The first byte picks the base table, so forbids of every version are tried.
  const auto& base = *migchan::builtin_tables[size == 0 ? 0 : data[0] % migchan::builtin_tables.size()];
  try {
    const auto t = migchan::read_classifier(text, "fuzz.c", base);
    std::set<std::string_view> ids;
    for (const auto& r : t.view.rules)
      if (!ids.insert(r.id).second) __builtin_trap();  // ids are unique
    if (t.view.rules.size() <= 64) {  // every valid observation is decided
      migchan::for_each_observation(t.view, [&](const migchan::observation& o) {
        if (!migchan::classify(t.view, o).fired) __builtin_trap();
      });
    }
  } catch (const migchan::c_reader_error& e) {
    const std::string_view w = e.what();
    // The reader's own consistency check ends its message so; a message may quote the
    // input, which can hold those words anywhere else (a fuzzer-found false alarm).
    if (w.substr(0, 7) != "fuzz.c:" || w.find('\n') != std::string_view::npos ||
        w.ends_with("(internal error in the C reader)"))
      __builtin_trap();
  }
  return 0;
}
