// libFuzzer target for proofs/c_reader.cpp: any bytes end in a table or in a
// one-line c_reader_error (or, for a patch, a one-line patch_error) naming the
// file. A crash, a hang, a sanitizer report, another exception, a malformed
// message or a table with a gap is a finding.
//
// The input is one file, or several separated by form feeds (\f): a QEMU
// tree's files read together; when the last of them holds a hunk, it is a
// patch applied in memory to the first, as `check --base DIR PATCH` does.
//
//   ninja -C build-clang fuzz    # the target and its seeds (bench/fuzz_seeds.sh)
//   build-clang/bench/fuzz_c_reader -max_total_time=60 -max_len=65536 \
//     -dict=bench/fuzz_c_reader.dict -seed_inputs=build-clang/bench/qemu-10.1.c,...
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "impl/cli/patch.h"
#include "model/builtin.h"
#include "model/check.h"
#include "proofs/c_reader.h"

namespace {

bool one_line(std::string_view w, std::string_view prefix) {
  // The reader's own consistency check ends its message so; a message may quote the
  // input, which can hold those words anywhere else (a fuzzer-found false alarm).
  return w.substr(0, prefix.size()) == prefix && w.find('\n') == std::string_view::npos &&
         !w.ends_with("(internal error in the C reader)");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // The size picks the base table, so forbids and peeks of every version are tried.
  const auto& base = *migchan::builtin_tables[size % migchan::builtin_tables.size()];
  std::vector<migchan::c_source> files;
  for (std::size_t b = 0;;) {
    const auto e = text.find('\f', b);
    files.push_back({"fuzz" + std::to_string(files.size()) + ".c", std::string(text.substr(b, e - b))});
    if (e == std::string_view::npos || files.size() == 8) break;
    b = e + 1;
  }
  if (files.size() > 1 && files.back().text.find("\n@@ -") != std::string::npos) {
    try {
      const auto s = migchan::patch::parse(files.back().text, "fuzz.patch");
      files.pop_back();
      for (const auto& d : s.files)
        if (!d.new_path.empty())
          files.front().text = migchan::patch::apply(files.front().text, d, "fuzz.patch", "fuzz0.c").text;
    } catch (const migchan::patch::patch_error& e) {
      if (!one_line(e.what(), "fuzz.patch")) __builtin_trap();
      return 0;
    }
  }
  try {
    const auto t = migchan::read_classifier(files, base);
    std::set<std::string_view> ids;
    for (const auto& r : t.view.rules)
      if (!ids.insert(r.id).second) __builtin_trap();  // ids are unique
    if (t.view.rules.size() <= 64) {                   // every valid observation is decided
      migchan::for_each_observation(t.view, [&](const migchan::observation& o) {
        if (!migchan::classify(t.view, o).fired) __builtin_trap();
      });
    }
  } catch (const migchan::c_reader_error& e) {
    const std::string_view w = e.what();
    if (!one_line(w, "fuzz") && !(files.size() > 1 && one_line(w, std::to_string(files.size()) + " files")))
      __builtin_trap();
  }
  return 0;
}
