// The built-in classifiers, in release order.
#pragma once

#include <array>
#include <optional>

#include "model/classify.h"
#include "model/classifiers/io_watch.h"
#include "model/classifiers/patch_v6.h"
#include "model/classifiers/qemu_10_1.h"
#include "model/classifiers/qemu_7_2.h"
#include "model/classifiers/qemu_8_0.h"
#include "model/classifiers/qemu_9_0.h"
#include "model/classifiers/reference.h"

namespace migchan {

inline constexpr std::array<const table*, 10> builtin_tables{&classifiers::qemu_7_2,  &classifiers::qemu_8_0,
                                                             &classifiers::qemu_8_1,  &classifiers::qemu_9_0,
                                                             &classifiers::qemu_10_0, &classifiers::qemu_10_1,
                                                             &classifiers::qemu_11_1, &classifiers::io_watch,
                                                             &classifiers::patch_v6,  &classifiers::reference};

constexpr const table* find_builtin(std::string_view name) {
  for (const table* t : builtin_tables)
    if (t->name == name) return t;
  return nullptr;
}

}  // namespace migchan
