// The kernel invocations the pager server makes, in the kernel's own terms:
// capability slots of the pager's CNode and physical addresses, exactly the
// arguments and replies of docs/kernel.md §7.1, §7.2, §7.5 and §7.6. The
// server (user/pager/main.cc) implements this with one os::invoke per method;
// the host tests implement it with a fake that simulates the objects. Above
// it, MemoryPool (memory_pool.h) turns slots and physical addresses into
// frames, and PoolKernelOps (pool_kernel_ops.h) gives the policies their
// KernelOps. Every cptr here is looked up in the pager's own CNode, as the
// kernel does; a CNode argument names a CNode cap in it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "abi/abi.h"
#include "kernel_ops.h"

namespace pager {

// VSpaceLookup's reply words.
struct RawPageInfo {
  uint64_t paddr = 0;
  uint64_t perm = 0;       // MapPerm bits
  bool cow = false;
  uint64_t map_count = 0;  // every mapping of the frame, the pager's own included
};

// VSpaceScan's flags and reply (kernel.md §7.5).
inline constexpr uint64_t kScanUnmap = uint64_t(uapi::ScanFlag::Unmap);
inline constexpr uint64_t kScanReportAddresses = uint64_t(uapi::ScanFlag::ReportAddresses);
inline constexpr size_t kScanMaxReport = uapi::kScanMaxReport;  // entries in one reply
static_assert(kScanBatch == kScanMaxReport);
struct RawScan {
  uint64_t next = 0;     // where the scan stopped
  uint64_t visited = 0;  // mapped pages gone over (unmapped, with kScanUnmap)
  uint64_t count = 0;    // entries written to `out`
};

class Invocations {
 public:
  // UntypedRetype: `count` objects into slots first_slot.. of `cnode`.
  virtual Status retype(uint64_t untyped, uapi::ObjectType type, uint64_t size_bits, uint64_t count, uint64_t cnode,
                        uint64_t first_slot) = 0;
  // CNodeCopy: slot `dest` of `cnode` gets a copy of `src_cnode`[src] with
  // all the source's rights.
  virtual Status cnode_copy(uint64_t cnode, uint64_t dest, uint64_t src_cnode, uint64_t src) = 0;
  // CNodeDelete and CNodeRevoke of slot `index` of `cnode`.
  virtual Status cnode_delete(uint64_t cnode, uint64_t index) = 0;
  virtual Status cnode_revoke(uint64_t cnode, uint64_t index) = 0;
  // FrameGetInfo: the frame's physical address.
  virtual Result<uint64_t> frame_paddr(uint64_t frame) = 0;
  // VSpaceSetTablePool (moves the Untyped into the VSpace).
  virtual Status set_table_pool(uint64_t vspace, uint64_t untyped) = 0;
  // VSpaceMap of frames cnode[first .. first + count) at va.
  virtual Status map(uint64_t vspace, uint64_t va, uint64_t cnode, uint64_t first, uint64_t count, uint64_t perm) = 0;
  // VSpaceUnmap, VSpaceProtect: the number of pages unmapped / mapped.
  virtual Result<uint64_t> unmap(uint64_t vspace, uint64_t va, uint64_t length) = 0;
  virtual Result<uint64_t> protect(uint64_t vspace, uint64_t va, uint64_t length, uint64_t perm) = 0;
  // VSpaceCopyRange from src into dst.
  virtual Result<CopyRangeResult> copy_range(uint64_t src, uint64_t dst, uint64_t va, uint64_t length,
                                             uapi::CopyMode mode) = 0;
  virtual Result<RawPageInfo> lookup(uint64_t vspace, uint64_t va) = 0;
  // VSpaceCopyPage: the physical address of the frame mapped before.
  virtual Result<uint64_t> copy_page(uint64_t vspace, uint64_t va, uint64_t frame, uint64_t perm) = 0;
  // VSpaceScan of [va, va + length) with `flags`, reporting the pages whose
  // frame's mapping count (after the unmap, with kScanUnmap) is at most
  // `threshold`: physical addresses, or virtual ones with
  // kScanReportAddresses, into out (kScanMaxReport entries).
  virtual Result<RawScan> scan(uint64_t vspace, uint64_t va, uint64_t length, uint64_t flags, uint64_t threshold,
                               std::span<uint64_t, kScanMaxReport> out) = 0;

 protected:
  ~Invocations() = default;
};

}  // namespace pager
