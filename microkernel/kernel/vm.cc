#include "vm.h"

#include "arch/riscv/cpu.h"
#include "kernel/memory.h"
#include "lib/kmem.h"

namespace kern {
namespace {

class SfenceFlusher final : public TlbFlusher {
 public:
  void flush_page(uint16_t asid, VirtAddr va) override { arch::sfence_vma_page(asid, va.value()); }
  void flush_asid(uint16_t asid) override { arch::sfence_vma_asid(asid); }
};

constexpr uint32_t kAsids = 1u << 16;  // satp.ASID is 16 bits on QEMU (probed bits could be fewer)

FrameTable g_frames;
AsidAllocator g_asids;
uint64_t g_asid_bitmap[kAsids / 64];
SfenceFlusher g_tlb;
PhysAddr g_kernel_root;

VSpaceMeta* g_pools = nullptr;  // VSpaces with an attached table pool

VSpaceMeta& meta_at(PhysAddr vspace) { return *phys_to_ptr<VSpaceMeta>(vspace + kVSpaceMetaOffset); }
bool is_listed(const VSpaceMeta& meta) { return g_pools == &meta || meta.pool_prev != nullptr; }

void unlink_pool(VSpaceMeta& meta) {
  if (!is_listed(meta)) return;
  if (meta.pool_prev != nullptr) meta.pool_prev->pool_next = meta.pool_next;
  else g_pools = meta.pool_next;
  if (meta.pool_next != nullptr) meta.pool_next->pool_prev = meta.pool_prev;
  meta.pool_next = meta.pool_prev = nullptr;
}

}  // namespace

void pool_attach(PhysAddr vspace) {
  VSpaceMeta& meta = meta_at(vspace);
  if (is_listed(meta)) return;
  meta.pool_prev = nullptr;
  meta.pool_next = g_pools;
  if (g_pools != nullptr) g_pools->pool_prev = &meta;
  g_pools = &meta;
}

void pool_untyped_deleted(const Capability& untyped) {
  const uint64_t size = uint64_t{1} << untyped.untyped_size_bits();
  for (VSpaceMeta* meta = g_pools; meta != nullptr; meta = meta->pool_next) {
    if (meta->pool.base != untyped.object() || meta->pool.size != size) continue;
    // Unmap everything (dropping the frames' counts) and give the tables
    // back to the pool while its memory is still intact, then forget it.
    const PhysAddr vspace = ptr_to_phys(meta) - kVSpaceMetaOffset;
    user_space(Capability::make(ObjectType::VSpace, vspace, Rights::All)).destroy();
    meta->pool = TablePoolState{};
    unlink_pool(*meta);
    return;
  }
}

void pool_detach(PhysAddr vspace) { unlink_pool(meta_at(vspace)); }

Status vm_init(const PlatformInfo& platform, PhysAddr kernel_root) {
  g_kernel_root = kernel_root;
  PhysAddr low(~uint64_t{0});
  PhysAddr high(0);
  for (size_t i = 0; i < platform.memory_count; ++i) {
    if (platform.memory[i].base < low) low = platform.memory[i].base;
    if (platform.memory[i].end() > high) high = platform.memory[i].end();
  }
  low = low.align_down(kPageSize);
  const size_t frames = (high.align_up(kPageSize) - low) / kPageSize;
  const size_t table_pages = (frames * sizeof(uint32_t) + kPageSize - 1) / kPageSize;
  const PhysAddr table = TRY(page_allocator().alloc_contiguous(table_pages, kPageSize));
  auto* counts = phys_to_ptr<uint32_t>(table);
  for (size_t i = 0; i < frames; ++i) counts[i] = 0;
  g_frames.init(low, frames, std::span<uint32_t>(counts, frames));
  g_asids.init(std::span<uint64_t>(g_asid_bitmap, kAsids / 64), kAsids);
  return {};
}

FrameTable& frame_table() { return g_frames; }
AsidAllocator& asid_allocator() { return g_asids; }
TlbFlusher& tlb_flusher() { return g_tlb; }
const uint64_t* kernel_root_table() { return phys_to_ptr<uint64_t>(g_kernel_root); }
PhysAddr kernel_root_phys() { return g_kernel_root; }

VSpaceMeta& vspace_meta(const Capability& vspace) {
  return *phys_to_ptr<VSpaceMeta>(vspace.object() + kVSpaceMetaOffset);
}

uint64_t vspace_satp(const Capability& vspace) {
  return sv39::make_satp(vspace.object(), vspace_meta(vspace).asid);
}

UserSpace user_space(const Capability& vspace) {
  static class : public sv39::PhysMemory {
   public:
    uint64_t* table_ptr(PhysAddr page) override { return phys_to_ptr<uint64_t>(page); }
  } direct_map;
  VSpaceMeta& meta = vspace_meta(vspace);
  return UserSpace(sv39::PageTable(vspace.object(), direct_map), meta.pool, meta.asid, g_frames, g_tlb);
}

}  // namespace kern
