// What the pager's policies may ask of the kernel, as an abstract class. Each
// method mirrors one invocation of docs/kernel.md §7.5-7.6 (VSpaceMap, Unmap,
// Protect, CopyRange, Lookup, CopyPage, Scan) or the pager's own frame pool
// (allocate, free). The policies see only this interface, so the same code
// runs inside the pager server, where an implementation marshals the
// invocations, and in the host tests, where a fake kernel simulates page
// tables, frame contents and mapping counts. Frames and address spaces are
// opaque handles here: in the server a FrameRef is the slot of a Frame cap in
// the pool's CNode and a VSpaceRef the cptr of a VSpace cap; the policies never
// look inside them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "abi/abi.h"
#include "lib/result.h"
#include "lib/types.h"

namespace pager {

using kern::Error;
using kern::Result;
using kern::Status;
using kern::VirtAddr;

// Page permissions, the same bits as uapi::MapPerm (the kernel's encoding), so
// an implementation passes them through unchanged.
enum class Perm : uint8_t { None = 0, Read = 1, Write = 2, Execute = 4 };
constexpr Perm operator|(Perm a, Perm b) { return Perm(uint8_t(a) | uint8_t(b)); }
constexpr Perm operator&(Perm a, Perm b) { return Perm(uint8_t(a) & uint8_t(b)); }
constexpr Perm without(Perm set, Perm p) { return Perm(uint8_t(set) & ~uint8_t(p)); }
constexpr bool has(Perm set, Perm p) { return (set & p) == p; }
inline constexpr Perm kRX = Perm::Read | Perm::Execute;
inline constexpr Perm kRW = Perm::Read | Perm::Write;
static_assert(uint64_t(Perm::Read) == uint64_t(uapi::MapPerm::Read));
static_assert(uint64_t(Perm::Write) == uint64_t(uapi::MapPerm::Write));
static_assert(uint64_t(Perm::Execute) == uint64_t(uapi::MapPerm::Execute));

// The combinations the kernel accepts (kernel.md §7.5): not empty, no W
// without R, nothing beyond RWX.
constexpr bool is_valid_perm(Perm p) {
  const uint8_t bits = uint8_t(p);
  return bits != 0 && bits <= 7 && !(has(p, Perm::Write) && !has(p, Perm::Read));
}

// The access that faulted, as the kernel's fault message carries it.
using Access = uapi::FaultAccess;
using CopyMode = uapi::CopyMode;

struct FrameRef {
  uint64_t handle = 0;
  constexpr bool operator==(const FrameRef&) const = default;
};

struct VSpaceRef {
  uint64_t handle = 0;
  constexpr bool operator==(const VSpaceRef&) const = default;
};

// VSpaceLookup's reply.
struct PageInfo {
  FrameRef frame;
  Perm perm = Perm::None;
  bool cow = false;         // the PTE carries the copy-on-write mark
  uint64_t map_count = 0;   // mappings of the frame, in every VSpace
};

// VSpaceCopyRange's reply.
struct CopyRangeResult {
  uint64_t mapped = 0;      // mappings created in the destination
  uint64_t made_cow = 0;    // source pages that lost W and gained the mark
};

// Room a caller of unmap_collect or list_mapped provides: one VSpaceScan
// reports up to this many entries (InvalidArgument for less room).
inline constexpr size_t kScanBatch = 60;

// What one VSpaceScan did: where it stopped (the end of the range, or the
// page after the last one reported when the output was full), how many
// mapped pages it went over, and how many entries it put out.
struct ScanResult {
  VirtAddr next;
  uint64_t visited = 0;
  size_t count = 0;
};

class KernelOps {
 public:
  // A zero-filled frame from the pager's pool (the pool zeroes it, so a fresh
  // page never shows another process's data). NotEnoughMemory when the pool
  // is empty.
  virtual Result<FrameRef> alloc_frame() = 0;
  // Gives a frame back to the pool. The caller must have unmapped it
  // everywhere (the kernel would keep a mapped frame's memory alive anyway).
  virtual void free_frame(FrameRef frame) = 0;

  // VSpaceMap: frames[i] at va + i pages. All or nothing; DeleteFirst when a
  // page is already mapped, NotEnoughMemory when the table pool is short.
  virtual Status map(VSpaceRef vspace, VirtAddr va, std::span<const FrameRef> frames, Perm perm) = 0;
  // VSpaceUnmap: returns the number of pages that were mapped in the range.
  virtual Result<uint64_t> unmap(VSpaceRef vspace, VirtAddr va, uint64_t length) = 0;
  // VSpaceProtect: returns the number of mapped pages in the range. W clears
  // the copy-on-write mark.
  virtual Result<uint64_t> protect(VSpaceRef vspace, VirtAddr va, uint64_t length, Perm perm) = 0;
  // VSpaceCopyRange from src to dst at the same addresses.
  virtual Result<CopyRangeResult> copy_range(VSpaceRef src, VSpaceRef dst, VirtAddr va, uint64_t length,
                                             CopyMode mode) = 0;
  // VSpaceLookup: FailedLookup when nothing is mapped at va.
  virtual Result<PageInfo> lookup(VSpaceRef vspace, VirtAddr va) = 0;
  // VSpaceCopyPage: copies the page at va into `frame` and maps it there
  // instead, with `perm` and without the mark. Returns the frame mapped before
  // (its mapping count has dropped by one).
  virtual Result<FrameRef> copy_page(VSpaceRef vspace, VirtAddr va, FrameRef frame, Perm perm) = 0;
  // VSpaceScan with Unmap: unmaps the mapped pages of [va, va + length) in
  // address order and puts into `freed` each frame whose last mapping that
  // was, stopping early once `freed` is full (a caller loops from next). The
  // cost is proportional to the mapped pages, not to the range.
  virtual Result<ScanResult> unmap_collect(VSpaceRef vspace, VirtAddr va, uint64_t length,
                                           std::span<FrameRef> freed) = 0;
  // VSpaceScan listing: the addresses of the mapped pages of the range, in
  // order, stopping early once `pages` is full. Changes nothing.
  virtual Result<ScanResult> list_mapped(VSpaceRef vspace, VirtAddr va, uint64_t length,
                                         std::span<VirtAddr> pages) = 0;

 protected:
  ~KernelOps() = default;
};

}  // namespace pager
