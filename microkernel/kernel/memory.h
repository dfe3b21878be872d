// Boot-time memory: the physical page allocator over all RAM the device tree
// lists (minus the firmware, the kernel image, the device tree and reserved
// regions) and the kernel's final page table, which replaces entry.S's coarse
// boot table:
//   - kernel text R+X, rodata R, data and bss R+W (nothing is W and X);
//   - every RAM range, and the MMIO of the devices the kernel drives, in the
//     direct map (memlayout.h), R+W.
#pragma once

#include "lib/page_alloc.h"
#include "lib/platform.h"
#include "lib/result.h"
#include "lib/sv39.h"

namespace kern {

struct MemoryLayout {
  PhysRange kernel_image;   // physical extent of the loaded kernel
  PhysRange frame_bitmap;   // the allocator's bitmap, right after the image
  size_t page_table_frames = 0;
};

// Sets up the allocator and switches to the final page table. Errors:
// NotEnoughMemory if RAM cannot hold the bitmap and the tables, Malformed if
// the device tree's RAM does not contain the kernel image.
Result<MemoryLayout> memory_init(const PlatformInfo& platform, PhysRange device_tree);

PageAllocator& page_allocator();
sv39::PageTable& kernel_page_table();

}  // namespace kern
