// PoolKernelOps: KernelOps over the raw invocations and the pool
// (pool_kernel_ops.h).
#include "pool_kernel_ops.h"

namespace pager {

namespace {

constexpr uint64_t kMaxMapBatch = 256;  // frames per VSpaceMap

uint64_t bits(Perm perm) { return uint64_t(perm); }

}  // namespace

Status PoolKernelOps::map(VSpaceRef vspace, VirtAddr va, std::span<const FrameRef> frames, Perm perm) {
  if (frames.empty()) return kern::fail(Error::RangeError);
  size_t done = 0;
  while (done < frames.size()) {
    size_t run = 1;
    while (done + run < frames.size() && run < kMaxMapBatch &&
           frames[done + run].handle == frames[done].handle + run) {
      ++run;
    }
    const Status mapped =
        m_kernel->map(vspace.handle, va.value() + done * kern::kPageSize, m_cnode, frames[done].handle, run, bits(perm));
    if (!mapped) {
      if (done > 0) (void)m_kernel->unmap(vspace.handle, va.value(), done * kern::kPageSize);
      return mapped;
    }
    done += run;
  }
  return {};
}

Result<uint64_t> PoolKernelOps::unmap(VSpaceRef vspace, VirtAddr va, uint64_t length) {
  return m_kernel->unmap(vspace.handle, va.value(), length);
}

Result<uint64_t> PoolKernelOps::protect(VSpaceRef vspace, VirtAddr va, uint64_t length, Perm perm) {
  return m_kernel->protect(vspace.handle, va.value(), length, bits(perm));
}

Result<CopyRangeResult> PoolKernelOps::copy_range(VSpaceRef src, VSpaceRef dst, VirtAddr va, uint64_t length,
                                                  CopyMode mode) {
  return m_kernel->copy_range(src.handle, dst.handle, va.value(), length, mode);
}

Result<PageInfo> PoolKernelOps::lookup(VSpaceRef vspace, VirtAddr va) {
  const RawPageInfo raw = TRY(m_kernel->lookup(vspace.handle, va.value()));
  PageInfo info{FrameRef{0}, Perm(uint8_t(raw.perm & 7)), raw.cow, raw.map_count};
  const Result<FrameRef> frame = m_pool->frame_at(raw.paddr);
  if (frame) {
    info.frame = *frame;
    if (info.map_count > 0) --info.map_count;  // the direct map's
  }
  return info;
}

Result<FrameRef> PoolKernelOps::copy_page(VSpaceRef vspace, VirtAddr va, FrameRef frame, Perm perm) {
  const uint64_t old = TRY(m_kernel->copy_page(vspace.handle, va.value(), frame.handle, bits(perm)));
  const Result<FrameRef> old_frame = m_pool->frame_at(old);
  return old_frame ? *old_frame : FrameRef{0};
}

Result<ScanResult> PoolKernelOps::unmap_collect(VSpaceRef vspace, VirtAddr va, uint64_t length,
                                                std::span<FrameRef> freed) {
  uint64_t raw[kScanMaxReport];
  // The kernel reports up to a full reply's worth: room for it is required.
  if (freed.size() < kScanMaxReport) return kern::fail(Error::InvalidArgument);
  const RawScan r = TRY(m_kernel->scan(vspace.handle, va.value(), length, kScanUnmap, 1, raw));
  size_t out = 0;
  for (uint64_t i = 0; i < r.count; ++i) {
    const Result<FrameRef> frame = m_pool->frame_at(raw[i]);
    if (frame) {
      freed[out++] = *frame;
    } else {
      ++m_foreign_frames;
    }
  }
  return ScanResult{VirtAddr(r.next), r.visited, out};
}

Result<ScanResult> PoolKernelOps::list_mapped(VSpaceRef vspace, VirtAddr va, uint64_t length,
                                              std::span<VirtAddr> pages) {
  uint64_t raw[kScanMaxReport];
  if (pages.size() < kScanMaxReport) return kern::fail(Error::InvalidArgument);
  const RawScan r = TRY(m_kernel->scan(vspace.handle, va.value(), length, kScanReportAddresses, ~uint64_t{0}, raw));
  for (uint64_t i = 0; i < r.count; ++i) pages[i] = VirtAddr(raw[i]);
  return ScanResult{VirtAddr(r.next), r.visited, r.count};
}

}  // namespace pager
