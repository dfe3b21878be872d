// The `cow` policy, as Linux and FreeBSD fork: nothing is copied at fork.
// CopyRange(COW) over the address space maps every page into the
// child (one per span of regions: policy.h); the writable ones lose W and gain the copy-on-write mark on both
// sides, read-only ones (text, rodata) are shared as they are. The first
// write to a marked page faults: the pager copies it if the frame is still
// shared, and only gives W back if the writer holds its last mapping (the
// other side has written its own copy already, or has exited), so a page is
// copied at most once per sharer that writes it (handle_fault_common).
//
// Fork costs two kernel calls, however large the address space: the per-page
// work is the kernel's loop over the page tables.
#include "../policy.h"

namespace pager {

namespace {

class CowPolicy final : public Policy {
 public:
  constexpr CowPolicy() = default;

  const char* name() const override { return "cow"; }

  Result<ForkStats> fork(KernelOps& kernel, const RegionSet& regions, VSpaceRef parent, VSpaceRef child,
                         const ForkHints&) const override {
    ForkStats stats;
    for (const Range& span : region_spans(regions)) {
      // All or nothing in the kernel: a failed call maps nothing in the child
      // and leaves the parent's pages as they were.
      const Result<CopyRangeResult> shared = kernel.copy_range(parent, child, span.start, span.size(), CopyMode::Cow);
      if (!shared) {
        // Earlier spans' pages: the parent's marks stay (a write gives W back).
        (void)release_regions(kernel, regions, child);
        return kern::fail(shared.error());
      }
      stats.pages_shared += shared->mapped;
    }
    return stats;
  }
};

constinit const CowPolicy g_cow;

}  // namespace

const Policy& policy_cow() { return g_cow; }

}  // namespace pager
