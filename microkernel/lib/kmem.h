// Kernel objects, capability slots and page tables are named by physical
// address (that is what a capability stores) and reached through the direct
// map. The offset between the two is set once at boot (the direct-map base)
// or by a host test (its simulated memory), so the same code runs on both.
#pragma once

#include <cstdint>

#include "types.h"

namespace kern {

namespace detail {
inline uint64_t g_phys_to_virt_offset = 0;
}

inline void set_phys_to_virt_offset(uint64_t offset) { detail::g_phys_to_virt_offset = offset; }

template <typename T>
inline T* phys_to_ptr(PhysAddr pa) {
  return reinterpret_cast<T*>(pa.value() + detail::g_phys_to_virt_offset);
}

inline PhysAddr ptr_to_phys(const void* p) {
  return PhysAddr(reinterpret_cast<uint64_t>(p) - detail::g_phys_to_virt_offset);
}

}  // namespace kern
