// Reading the boot-info page the kernel gives the root task.
#pragma once

#include <cstdint>
#include <optional>

#include "abi/abi.h"

namespace os {

struct UntypedChoice {
  uint64_t slot;       // in the root CNode
  unsigned size_bits;  // log2 of its size in bytes
};

// The largest RAM (not device) Untyped the boot info lists, other than the
// one in slot `except` (0: none excluded); nullopt if there is none.
inline std::optional<UntypedChoice> largest_ram_untyped(const uapi::BootInfo& info, uint64_t except = 0) {
  std::optional<UntypedChoice> best;
  for (uint64_t i = 0; i < info.untyped.count; ++i) {
    const uapi::UntypedDesc& u = info.untyped_list[i];
    const uint64_t slot = info.untyped.first + i;
    if (u.device || slot == except) continue;
    if (!best || u.size_bits > best->size_bits) best = UntypedChoice{slot, u.size_bits};
  }
  return best;
}

}  // namespace os
