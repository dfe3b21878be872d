#include "memory.h"

#include <optional>

#include "arch/riscv/cpu.h"
#include "arch/riscv/memlayout.h"
#include "kernel/vm.h"
#include "lib/kmem.h"

extern "C" char __kernel_start[], __text_end[], __rodata_end[], __kernel_end[];

namespace kern {
namespace {

using sv39::Perm;

class DirectMapMemory final : public sv39::PhysMemory {
 public:
  uint64_t* table_ptr(PhysAddr page) override { return arch::phys_ptr<uint64_t>(page); }
};

// Page-table pages come from the boot allocator, zeroed through the direct map.
class AllocatorFrames final : public sv39::FrameSource {
 public:
  explicit AllocatorFrames(PageAllocator& allocator) : m_allocator(allocator) {}
  Result<PhysAddr> alloc_table() override {
    PhysAddr frame = TRY(m_allocator.alloc());
    uint64_t* words = arch::phys_ptr<uint64_t>(frame);
    for (size_t i = 0; i < kPageSize / 8; ++i) words[i] = 0;
    ++m_count;
    return frame;
  }
  size_t count() const { return m_count; }

 private:
  PageAllocator& m_allocator;
  size_t m_count = 0;
};

PageAllocator g_allocator;
DirectMapMemory g_direct_map;
std::optional<sv39::PageTable> g_kernel_table;

uint64_t addr(const char* symbol) { return reinterpret_cast<uint64_t>(symbol); }

Status map_kernel_section(sv39::PageTable& table, const char* begin, const char* end, Perm perm,
                          sv39::FrameSource& frames) {
  const uint64_t length = align_up(addr(end) - addr(begin), kPageSize);
  if (length == 0) return {};
  return table.map_range(VirtAddr(addr(begin)), arch::kernel_virt_to_phys(begin), length, perm | Perm::G, frames);
}

// Maps [range) page-aligned outwards into the direct map.
Status map_direct(sv39::PageTable& table, PhysRange range, sv39::FrameSource& frames) {
  const PhysAddr base = range.base.align_down(kPageSize);
  const uint64_t length = align_up(range.end().value(), kPageSize) - base.value();
  if (range.end().value() > arch::kDirectMapSpan) return fail(Error::RangeError);
  return table.map_range(arch::phys_to_virt(base), base, length, Perm::R | Perm::W | Perm::G, frames);
}

}  // namespace

Result<MemoryLayout> memory_init(const PlatformInfo& platform, PhysRange device_tree) {
  MemoryLayout layout;
  const PhysAddr image_base = arch::kernel_virt_to_phys(__kernel_start);
  layout.kernel_image = {image_base, addr(__kernel_end) - addr(__kernel_start)};

  // The allocator's window spans every RAM range; gaps stay reserved.
  PhysAddr low(~uint64_t{0});
  PhysAddr high(0);
  bool image_in_ram = false;
  for (size_t i = 0; i < platform.memory_count; ++i) {
    const PhysRange& r = platform.memory[i];
    if (r.base < low) low = r.base;
    if (r.end() > high) high = r.end();
    if (r.contains(image_base) && r.contains(layout.kernel_image.end() - 1)) image_in_ram = true;
  }
  if (!image_in_ram) return fail(Error::Malformed);
  low = low.align_down(kPageSize);
  const size_t frames = (high.align_up(kPageSize) - low) / kPageSize;

  const uint64_t bitmap_bytes = align_up((frames + 63) / 64 * 8, kPageSize);
  layout.frame_bitmap = {layout.kernel_image.end(), bitmap_bytes};
  bool bitmap_in_ram = false;
  for (size_t i = 0; i < platform.memory_count; ++i) {
    const PhysRange& r = platform.memory[i];
    if (r.contains(layout.frame_bitmap.base) && r.contains(layout.frame_bitmap.end() - 1)) bitmap_in_ram = true;
  }
  if (!bitmap_in_ram) return fail(Error::NotEnoughMemory);

  auto* bitmap = arch::phys_ptr<uint64_t>(layout.frame_bitmap.base);
  TRY(g_allocator.init(low, frames, std::span<uint64_t>(bitmap, bitmap_bytes / 8)));
  for (size_t i = 0; i < platform.memory_count; ++i) g_allocator.free_range(platform.memory[i]);
  // Below the kernel sits the M-mode firmware (OpenSBI's fw_dynamic starts the
  // next stage at 0x80200000 and lives under it); keep it even if the tree
  // does not list it.
  g_allocator.reserve_range({low, image_base - low});
  g_allocator.reserve_range({image_base, layout.frame_bitmap.end() - image_base});
  g_allocator.reserve_range(device_tree);
  for (size_t i = 0; i < platform.reserved_count; ++i) g_allocator.reserve_range(platform.reserved[i]);
  if (platform.initrd) g_allocator.reserve_range(*platform.initrd);

  AllocatorFrames table_frames(g_allocator);
  const PhysAddr root = TRY(table_frames.alloc_table());
  sv39::PageTable& table = g_kernel_table.emplace(root, g_direct_map);
  TRY(map_kernel_section(table, __kernel_start, __text_end, Perm::R | Perm::X, table_frames));
  TRY(map_kernel_section(table, __text_end, __rodata_end, Perm::R, table_frames));
  TRY(map_kernel_section(table, __rodata_end, __kernel_end, Perm::R | Perm::W, table_frames));
  for (size_t i = 0; i < platform.memory_count; ++i) TRY(map_direct(table, platform.memory[i], table_frames));
  for (const auto& device : {platform.uart, platform.plic, platform.test_finisher}) {
    if (device) TRY(map_direct(table, device->mmio, table_frames));
  }
  layout.page_table_frames = table_frames.count();

  arch::write_satp(sv39::make_satp(root, 0));
  arch::sfence_vma_all();
  set_phys_to_virt_offset(arch::kDirectMapBase);
  TRY(vm_init(platform, root));
  return layout;
}

PageAllocator& page_allocator() { return g_allocator; }
sv39::PageTable& kernel_page_table() { return *g_kernel_table; }

}  // namespace kern
