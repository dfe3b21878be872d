// The kernel's virtual memory map (Sv39, 39-bit addresses). The lower half
// (0 .. 0x3f_ffff_ffff) will belong to user space; the kernel lives in the
// upper half, which every address space shares:
//
//   0xffff_ffc0_0000_0000  direct map: physical P at kDirectMapBase + P, for
//                          every RAM range and the MMIO of the devices the
//                          kernel drives (up to kDirectMapSpan)
//   0xffff_ffff_8020_0000  the kernel image (text RX, rodata R, data+bss RW),
//                          linked here by kernel.ld, loaded at 0x8020_0000
#pragma once

#include <cstdint>

#include "lib/types.h"

namespace arch {

inline constexpr uint64_t kDirectMapBase = 0xffff'ffc0'0000'0000;
inline constexpr uint64_t kDirectMapSpan = uint64_t{64} << 30;  // 64 GiB of physical space
inline constexpr uint64_t kKernelVirtBase = 0xffff'ffff'8020'0000;
inline constexpr uint64_t kKernelPhysBase = 0x8020'0000;

inline kern::VirtAddr phys_to_virt(kern::PhysAddr pa) { return kern::VirtAddr(kDirectMapBase + pa.value()); }

template <typename T>
inline T* phys_ptr(kern::PhysAddr pa) { return reinterpret_cast<T*>(kDirectMapBase + pa.value()); }

// Physical address of a symbol of the kernel image.
inline kern::PhysAddr kernel_virt_to_phys(const void* p) {
  return kern::PhysAddr(reinterpret_cast<uint64_t>(p) - kKernelVirtBase + kKernelPhysBase);
}

}  // namespace arch
