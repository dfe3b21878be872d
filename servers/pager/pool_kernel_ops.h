// KernelOps (kernel_ops.h) for the pager server: the policies' view of the
// kernel, made of the raw invocations (invocations.h) and the memory pool.
// A FrameRef is the slot of a pool frame in the pager's CNode; a VSpaceRef
// the slot of a VSpace cap. Two translations happen here and nowhere else:
//
// - The kernel answers with physical addresses (VSpaceLookup, CopyPage);
//   the pool turns them into frames.
// - Every pool frame is also mapped once in the pager's own direct map, so
//   the kernel's mapping count of a frame is one more than the mappings in
//   process address spaces. Lookup subtracts that one, so that a policy's
//   "last mapping" (map_count == 1) means what it says.
#pragma once

#include "invocations.h"
#include "kernel_ops.h"
#include "memory_pool.h"

namespace pager {

class PoolKernelOps final : public KernelOps {
 public:
  // `cnode` is the pager's own CNode, where the frames' slots are.
  PoolKernelOps(Invocations& kernel, MemoryPool& pool, uint64_t cnode)
      : m_kernel(&kernel), m_pool(&pool), m_cnode(cnode) {}

  Result<FrameRef> alloc_frame() override { return m_pool->alloc_frame(); }
  void free_frame(FrameRef frame) override { m_pool->free_frame(frame); }
  // Consecutive slots go in one VSpaceMap (up to 256 frames); if a later
  // batch fails, the earlier ones are unmapped again (all or nothing).
  Status map(VSpaceRef vspace, VirtAddr va, std::span<const FrameRef> frames, Perm perm) override;
  Result<uint64_t> unmap(VSpaceRef vspace, VirtAddr va, uint64_t length) override;
  Result<uint64_t> protect(VSpaceRef vspace, VirtAddr va, uint64_t length, Perm perm) override;
  Result<CopyRangeResult> copy_range(VSpaceRef src, VSpaceRef dst, VirtAddr va, uint64_t length,
                                     CopyMode mode) override;
  // A frame outside the pool (none should be mapped in a process) comes
  // back as FrameRef{0} with its count as the kernel gives it; freeing that
  // is refused by the pool.
  Result<PageInfo> lookup(VSpaceRef vspace, VirtAddr va) override;
  Result<FrameRef> copy_page(VSpaceRef vspace, VirtAddr va, FrameRef frame, Perm perm) override;
  // Threshold 1: the direct map's mapping is the last one left.
  Result<ScanResult> unmap_collect(VSpaceRef vspace, VirtAddr va, uint64_t length,
                                   std::span<FrameRef> freed) override;
  Result<ScanResult> list_mapped(VSpaceRef vspace, VirtAddr va, uint64_t length,
                                 std::span<VirtAddr> pages) override;
  // Frames a scan reported that the pool does not know (never expected).
  uint64_t foreign_frames() const { return m_foreign_frames; }

 private:
  Invocations* m_kernel;
  MemoryPool* m_pool;
  uint64_t m_cnode;
  uint64_t m_foreign_frames = 0;
};

}  // namespace pager
