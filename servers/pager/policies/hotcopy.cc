// The `hotcopy` policy, our own: copy-on-write for everything except the few
// stack pages around the parent's stack pointer, which are copied at fork.
//
// The idea. Right after fork both processes return through the same stack
// frames and write them at once: the child, which the kernel runs first,
// and the parent when fork returns to it, whether the child is about to
// exit or to exec. Under `cow` each of those
// first writes is a page fault delivered to the pager over IPC, resolved
// with a lookup and a copy (the first writer) or a permission change (the
// last one): two faults per hot page, each several times dearer than the
// copy itself. Here the pager copies the hot pages during fork, inside the
// Fork request it is serving anyway, for the price of the copies alone.
// Everything else stays copy-on-write, so the cost of fork still does not
// grow with the size of the address space.
//
// How. CopyRange for each span of regions (policy.h), the stack's span in
// three parts: COW below the hot window, SHARE inside it (the
// parent's entries stay exactly as they are: writable pages stay writable,
// a page still copy-on-write with an older child stays marked), COW above.
// Then each page the child got in the window is replaced by a private copy
// (CopyPage). The window is the page holding sp, kHotPagesBelow pages
// under it (calls made right after fork) and kHotPagesAbove above it (the
// callers' frames fork returns into), clipped to the stack region.
//
// The benchmark (docs/fork.md) shows the effect: see the fault counts of
// cow and hotcopy after a fork.
#include "../policy.h"

namespace pager {

namespace {

constexpr uint64_t kHotPagesBelow = 1;
constexpr uint64_t kHotPagesAbove = 1;

class HotCopyPolicy final : public Policy {
 public:
  constexpr HotCopyPolicy() = default;

  const char* name() const override { return "hotcopy"; }

  Result<ForkStats> fork(KernelOps& kernel, const RegionSet& regions, VSpaceRef parent, VSpaceRef child,
                         const ForkHints& hints) const override {
    ForkStats stats;
    const Status copied = copy(kernel, regions, parent, child, hot_window(regions, hints.sp), stats);
    if (!copied) {
      (void)release_regions(kernel, regions, child);
      return kern::fail(copied.error());
    }
    return stats;
  }

 private:
  // The pages around sp inside the stack region, or empty when sp is not in
  // the stack's accessible part (unknown, or a thread on another stack).
  static Range hot_window(const RegionSet& regions, VirtAddr sp) {
    const Region* stack = regions.find(sp);
    if (stack == nullptr || stack->kind != RegionKind::Stack || !stack->contains(sp)) return {};
    const VirtAddr page = sp.align_down(kern::kPageSize);
    const uint64_t below = kHotPagesBelow * kern::kPageSize;
    const uint64_t above = (kHotPagesAbove + 1) * kern::kPageSize;
    const VirtAddr lo = page - stack->start >= below ? page - below : stack->start;
    const VirtAddr hi = stack->end - page >= above ? page + above : stack->end;
    return {lo, hi};
  }

  // COW for every span, except the hot window: SHARE, then private copies.
  static Status copy(KernelOps& kernel, const RegionSet& regions, VSpaceRef parent, VSpaceRef child,
                     const Range& hot, ForkStats& stats) {
    const auto share = [&](VirtAddr start, VirtAddr end, CopyMode mode) -> Status {
      if (start < end) stats.pages_shared += TRY(kernel.copy_range(parent, child, start, end - start, mode)).mapped;
      return {};
    };
    for (const Range& span : region_spans(regions)) {
      if (hot.empty() || !span.contains(hot)) {
        TRY(share(span.start, span.end, CopyMode::Cow));
        continue;
      }
      TRY(share(span.start, hot.start, CopyMode::Cow));
      TRY(share(hot.start, hot.end, CopyMode::Share));
      TRY(share(hot.end, span.end, CopyMode::Cow));
    }
    if (hot.empty()) return {};
    const Perm perm = regions.find(hot.start)->perm;
    return for_each_mapped(kernel, child, hot.start, hot.end, [&](VirtAddr page) -> Status {
      TRY(copy_into_private_frame(kernel, child, page, perm));
      ++stats.pages_copied;
      --stats.pages_shared;
      return {};
    });
  }
};

constinit const HotCopyPolicy g_hotcopy;

}  // namespace

const Policy& policy_hotcopy() { return g_hotcopy; }

}  // namespace pager
