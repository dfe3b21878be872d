// The pager policy interface of DESIGN.md §7: what happens to memory at
// fork, on a page fault and at release. A policy is a stateless class in its
// own file under policies/, reached through the registry below by name
// ("eager", "cow", ...). Adding one takes its file and one X(...) line in
// policies/policies.def, nothing else. Policies are stateless so that one
// instance serves every address space and a process can switch policy at
// run time: each call gets the region set, the VSpace and the kernel.
//
// Because a process may change policy while pages made copy-on-write by
// another policy are still mapped, every policy must resolve every fault kind;
// the building blocks at the end of this file (zero_fill, resolve_cow,
// release_range, handle_fault_common) do the work that does not depend on
// policy, so a policy overrides only what it does differently (usually fork).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "kernel_ops.h"
#include "regions.h"

namespace pager {

// What fork did, for the counters the benchmark reports.
struct ForkStats {
  uint64_t pages_copied = 0;  // new frames filled with a copy of a parent page
  uint64_t pages_shared = 0;  // mappings the child got of the parent's frames (COW or read-only)
};

// What the pager knows of the parent at fork beyond its memory: the stack
// pointer of the thread that called fork (0 when unknown), for policies that
// copy the pages about to be written.
struct ForkHints {
  VirtAddr sp;
};

// How a fault was resolved. Segfault is not an error: the pager then asks
// procmgr to kill the process with SIGSEGV. An error (NotEnoughMemory) means
// the fault could not be resolved and the process must be killed (SIGKILL).
enum class FaultResolution : uint8_t { ZeroFilled, Copied, MadeWritable, Spurious, Segfault };

class Policy {
 public:
  constexpr Policy() = default;

  virtual const char* name() const = 0;

  // Fills `child`, an empty VSpace, with the parent's memory as this policy
  // wants it. `regions` is the parent's set (the child gets a copy of it from
  // RegionSet::fork, not from here). On error the child VSpace has nothing
  // mapped, every frame taken for it is back in the pool, and the parent's
  // memory reads as before (its permissions may have lost W: a later write
  // fault gives it back).
  virtual Result<ForkStats> fork(KernelOps& kernel, const RegionSet& regions, VSpaceRef parent, VSpaceRef child,
                                 const ForkHints& hints) const = 0;

  // Resolves a fault at va in `vspace`. Errors: NotEnoughMemory (no frame),
  // or an unexpected kernel error; the caller kills the process on any.
  // By default handle_fault_common (below): zero fill or copy-on-write.
  virtual Result<FaultResolution> handle_fault(KernelOps& kernel, const RegionSet& regions, VSpaceRef vspace,
                                               VirtAddr va, Access access) const;

  // Unmaps everything in `vspace` and frees every frame that nothing else
  // maps any more. Errors only from an unexpected kernel failure. By
  // default release_regions (below).
  virtual Status release(KernelOps& kernel, const RegionSet& regions, VSpaceRef vspace) const;

 protected:
  ~Policy() = default;
};

// ---- The registry --------------------------------------------------------

// Each policy file defines `const Policy& policy_NAME();` returning a
// constant-initialised instance (no global constructors: the server runs
// freestanding without .init_array).
#define X(name) const Policy& policy_##name();
#include "policies/policies.def"
#undef X

struct PolicyEntry {
  const char* name;
  const Policy& (*get)();
};

inline constexpr PolicyEntry kPolicies[] = {
#define X(name) {#name, &policy_##name},
#include "policies/policies.def"
#undef X
};

// The policy registered under `name`, or NotFound. No libc: compare by hand.
inline Result<const Policy*> find_policy(const char* name) {
  for (const PolicyEntry& entry : kPolicies) {
    size_t i = 0;
    while (entry.name[i] != '\0' && entry.name[i] == name[i]) ++i;
    if (entry.name[i] == name[i]) return &entry.get();
  }
  return kern::fail(Error::NotFound);
}

inline std::span<const PolicyEntry> registered_policies() { return kPolicies; }

// ---- Building blocks shared by the policies ------------------------------

// Maps a fresh zeroed frame at the page of va with `perm`. A DeleteFirst from
// Map means another thread's fault mapped the page first: the frame goes back
// and the fault is Spurious.
inline Result<FaultResolution> zero_fill(KernelOps& kernel, VSpaceRef vspace, VirtAddr page, Perm perm) {
  const FrameRef frame = TRY(kernel.alloc_frame());
  const Status mapped = kernel.map(vspace, page, {&frame, 1}, perm);
  if (!mapped) {
    kernel.free_frame(frame);
    if (mapped.error() == Error::DeleteFirst) return FaultResolution::Spurious;
    return kern::fail(mapped.error());
  }
  return FaultResolution::ZeroFilled;
}

// A write to a read-only page of a writable region: the last mapping of a
// frame gets W back (no copy), a shared one gets a private copy. This is the
// Linux/FreeBSD rule, and every policy needs it for pages another policy
// left copy-on-write.
inline Result<FaultResolution> resolve_cow(KernelOps& kernel, VSpaceRef vspace, VirtAddr page, Perm perm) {
  const PageInfo info = TRY(kernel.lookup(vspace, page));
  if (info.map_count == 1) {
    TRY(kernel.protect(vspace, page, kern::kPageSize, perm));
    return FaultResolution::MadeWritable;
  }
  const FrameRef copy = TRY(kernel.alloc_frame());
  const Result<FrameRef> old = kernel.copy_page(vspace, page, copy, perm);
  if (!old) {
    kernel.free_frame(copy);
    return kern::fail(old.error());
  }
  return FaultResolution::Copied;
}

// Classifies the fault against the regions and the page tables, then zero
// fills or resolves copy-on-write. What every policy does on a fault unless it
// has a reason to differ.
inline Result<FaultResolution> handle_fault_common(KernelOps& kernel, const RegionSet& regions, VSpaceRef vspace,
                                                   VirtAddr va, Access access) {
  const VirtAddr page = va.align_down(kern::kPageSize);
  PageState state;
  const Result<PageInfo> info = kernel.lookup(vspace, page);
  if (info) {
    state = {true, info->perm};
  } else if (info.error() != Error::FailedLookup) {
    return kern::fail(info.error());
  }
  // Every kind but Segfault implies that find(va) names the region, whose
  // permissions the new mapping takes.
  switch (regions.classify(va, access, state)) {
    case FaultKind::Segfault: return FaultResolution::Segfault;
    case FaultKind::Spurious: return FaultResolution::Spurious;
    case FaultKind::ZeroFillAndMap: return zero_fill(kernel, vspace, page, regions.find(va)->perm);
    case FaultKind::CopyOnWrite: return resolve_cow(kernel, vspace, page, regions.find(va)->perm);
  }
  return FaultResolution::Segfault;
}

// A range of addresses, [start, end).
struct Range {
  VirtAddr start;
  VirtAddr end;
  constexpr uint64_t size() const { return end - start; }
  constexpr bool empty() const { return start == end; }
  constexpr bool contains(const Range& r) const { return r.start >= start && r.end <= end; }
};

// The regions' accessible parts, merged into a few spans that one kernel
// call each can cover: neighbouring regions join while the gap between them
// is under kSpanGap. Nothing is mapped in such a gap (heap pages above the
// break are released by sbrk, a guard page is never mapped), and the one
// page a process has outside its regions, its IPC buffer, lies above the
// stack (server.cc checks), so the spans reach exactly the region pages. A
// gap is not free to the kernel, which walks the page tables of a range an
// entry at a time (about 5 instructions per 2 MiB of hole), while a call
// costs about a thousand: so the image and heap make one span, the stack
// 128 GiB higher another.
inline constexpr uint64_t kSpanGap = uint64_t{64} << 20;
inline constexpr size_t kMaxSpans = 8;
struct Spans {
  Range range[kMaxSpans];
  size_t count = 0;
  const Range* begin() const { return range; }
  const Range* end() const { return range + count; }
};
inline Spans region_spans(const RegionSet& regions) {
  Spans spans;
  for (const Region& r : regions.regions()) {
    if (r.start == r.end) continue;  // an empty heap
    if (spans.count > 0) {
      Range& last = spans.range[spans.count - 1];
      if (r.start - last.end < kSpanGap || spans.count == kMaxSpans) {
        last.end = r.end;
        continue;
      }
    }
    spans.range[spans.count++] = Range{r.start, r.end};
  }
  return spans;
}

// Unmaps every page in [start, end) and frees the frames whose last mapping
// that was. The kernel's mapping count is the only reference count (the
// pager keeps no per-frame table of its own), and VSpaceScan reports the
// frames it dropped to zero, up to kScanBatch per call: the cost follows the
// mapped pages, not the size of the range.
inline Status release_range(KernelOps& kernel, VSpaceRef vspace, VirtAddr start, VirtAddr end) {
  FrameRef freed[kScanBatch];
  while (start < end) {
    const ScanResult r = TRY(kernel.unmap_collect(vspace, start, end - start, freed));
    for (size_t i = 0; i < r.count; ++i) kernel.free_frame(freed[i]);
    if (r.next <= start) return kern::fail(Error::RangeError);  // no progress: never expected
    start = r.next;
  }
  return {};
}

// release_range over the regions' spans.
inline Status release_regions(KernelOps& kernel, const RegionSet& regions, VSpaceRef vspace) {
  for (const Range& span : region_spans(regions)) TRY(release_range(kernel, vspace, span.start, span.end));
  return {};
}

// Calls visit(page) for every page mapped in [start, end) of vspace, in
// address order, kScanBatch pages per kernel call; stops at visit's first
// error.
template <typename Visit>
Status for_each_mapped(KernelOps& kernel, VSpaceRef vspace, VirtAddr start, VirtAddr end, Visit&& visit) {
  VirtAddr pages[kScanBatch];
  while (start < end) {
    const ScanResult r = TRY(kernel.list_mapped(vspace, start, end - start, pages));
    for (size_t i = 0; i < r.count; ++i) TRY(visit(pages[i]));
    if (r.next <= start) return kern::fail(Error::RangeError);
    start = r.next;
  }
  return {};
}

// Replaces the child's page at `page` (a mapping shared with the parent) by a
// private copy with `perm`. The frame goes back if the kernel refuses.
inline Status copy_into_private_frame(KernelOps& kernel, VSpaceRef vspace, VirtAddr page, Perm perm) {
  const FrameRef frame = TRY(kernel.alloc_frame());
  const Result<FrameRef> old = kernel.copy_page(vspace, page, frame, perm);
  if (!old) {
    kernel.free_frame(frame);
    return kern::fail(old.error());
  }
  return {};
}

inline Result<FaultResolution> Policy::handle_fault(KernelOps& kernel, const RegionSet& regions, VSpaceRef vspace,
                                                   VirtAddr va, Access access) const {
  return handle_fault_common(kernel, regions, vspace, va, access);
}

inline Status Policy::release(KernelOps& kernel, const RegionSet& regions, VSpaceRef vspace) const {
  return release_regions(kernel, regions, vspace);
}

}  // namespace pager
