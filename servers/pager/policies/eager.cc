// The `eager` policy, as xv6 and OS/161 fork: at fork every mapped page of
// every writable region is copied into a new frame for the child, so parent
// and child never share a writable frame and no copy-on-write fault follows.
// Read-only regions (text, rodata, read-only anon) are shared instead: no
// one can write them, so a copy would buy nothing, and "shared text is not
// copied" holds under every policy. Faults after an eager fork are zero
// fills; pages another policy left copy-on-write before this process
// switched are resolved by the default handle_fault as everywhere.
//
// The copy uses only kernel invocations, no mapping of frames into the
// pager: the whole address space is first shared into the child with
// CopyRange(SHARE), one call per span of regions (policy.h), then every page the child now maps in a writable region
// (listed by VSpaceScan, 60 at a time) is replaced by a private copy with
// CopyPage, which copies the parent's frame into a fresh one and drops the
// shared mapping. On any failure the child's mappings are released again,
// which frees exactly the copies (their only mapping is the child's) and
// leaves the parent's frames alone.
#include "../policy.h"

namespace pager {

namespace {

class EagerPolicy final : public Policy {
 public:
  constexpr EagerPolicy() = default;

  const char* name() const override { return "eager"; }

  Result<ForkStats> fork(KernelOps& kernel, const RegionSet& regions, VSpaceRef parent, VSpaceRef child,
                         const ForkHints&) const override {
    ForkStats stats;
    const Status copied = copy_regions(kernel, regions, parent, child, stats);
    if (!copied) {
      // Best effort: the original error is what the caller needs to see.
      (void)release_regions(kernel, regions, child);
      return kern::fail(copied.error());
    }
    return stats;
  }

 private:
  static Status copy_regions(KernelOps& kernel, const RegionSet& regions, VSpaceRef parent, VSpaceRef child,
                             ForkStats& stats) {
    for (const Range& span : region_spans(regions)) {
      stats.pages_shared += TRY(kernel.copy_range(parent, child, span.start, span.size(), CopyMode::Share)).mapped;
    }
    for (const Region& r : regions.regions()) {
      if (!r.writable() || r.start == r.end) continue;
      TRY(for_each_mapped(kernel, child, r.start, r.end, [&](VirtAddr page) -> Status {
        TRY(copy_into_private_frame(kernel, child, page, r.perm));
        ++stats.pages_copied;
        --stats.pages_shared;
        return {};
      }));
    }
    return {};
  }
};

constinit const EagerPolicy g_eager;

}  // namespace

const Policy& policy_eager() { return g_eager; }

}  // namespace pager
