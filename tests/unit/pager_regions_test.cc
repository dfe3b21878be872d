// Host tests of the pager's core (servers/pager): the region set (adding,
// finding, classifying faults, sbrk, fork and release of its storage) and the
// `eager` policy against the fake kernel of pager_fake_kernel.h (page
// tables, frame contents and mapping counts, and the process's loads and
// stores through them). The properties every policy must have at fork are
// in pager_policy_test.cc.
#include <gtest/gtest.h>

#include <cstring>
#include <optional>
#include <vector>

#include "fake_page_source.h"
#include "pager/policy.h"
#include "pager/regions.h"
#include "pager_fake_kernel.h"
#include "result_matchers.h"

namespace pager {
namespace {

using kern::kPageSize;
using kern::testing_support::fails_with;
using kern::testing_support::ok;
using testing_support::FakeKernel;
using testing_support::load;
using testing_support::store;

constexpr VirtAddr kText{0x10000};
constexpr VirtAddr kRodata{0x20000};
constexpr VirtAddr kData{0x30000};
constexpr VirtAddr kBss{0x40000};
constexpr VirtAddr kHeap{0x100000};
constexpr uint64_t kHeapMax = 64 * kPageSize;
constexpr VirtAddr kStackTop{0x3f000000};
constexpr uint64_t kStackMax = 16 * kPageSize;

using CountingPageSource = servers::testing_support::FakePageSource;

// ---- Regions ---------------------------------------------------------------

// A typical process image: text, rodata, data, bss, heap, stack.
Status add_image(RegionSet& set) {
  TRY(set.add_segment(RegionKind::Text, kText, 2 * kPageSize));
  TRY(set.add_segment(RegionKind::Rodata, kRodata, kPageSize));
  TRY(set.add_segment(RegionKind::Data, kData, 2 * kPageSize));
  TRY(set.add_segment(RegionKind::Bss, kBss, 3 * kPageSize));
  TRY(set.add_heap(kHeap, kHeapMax));
  TRY(set.add_stack(kStackTop, kStackMax));
  return {};
}

TEST(Regions, AddAndFind) {
  CountingPageSource pages;
  RegionSet set(pages);
  EXPECT_EQ(pages.outstanding(), 0u);  // no storage until the first region
  ASSERT_TRUE(ok(add_image(set)));
  EXPECT_EQ(pages.outstanding(), 1u);
  EXPECT_EQ(set.count(), 6u);
  EXPECT_TRUE(set.check_invariants());

  EXPECT_EQ(set.find(kText)->kind, RegionKind::Text);
  EXPECT_EQ(set.find(kText + 2 * kPageSize - 1)->kind, RegionKind::Text);
  EXPECT_EQ(set.find(kText + 2 * kPageSize), nullptr);
  EXPECT_EQ(set.find(kData + 5)->kind, RegionKind::Data);
  EXPECT_EQ(set.find(kBss + 2 * kPageSize)->kind, RegionKind::Bss);
  EXPECT_EQ(set.find(VirtAddr(0)), nullptr);
  EXPECT_EQ(set.find(VirtAddr(kUserTop - 1)), nullptr);
  // The heap reserves its maximum even while empty; the guard page belongs
  // to the stack.
  EXPECT_EQ(set.find(kHeap + kHeapMax - 1)->kind, RegionKind::Heap);
  EXPECT_EQ(set.find(kStackTop - kStackMax - 1)->kind, RegionKind::Stack);
  EXPECT_EQ(set.find(kStackTop - kStackMax - kPageSize - 1), nullptr);
  EXPECT_EQ(set.find(kStackTop), nullptr);

  // Sorted whatever the order of adding.
  const auto regions = set.regions();
  for (size_t i = 1; i < regions.size(); ++i) EXPECT_LT(regions[i - 1].reserved_start, regions[i].reserved_start);
}

TEST(Regions, AddRejectsBadRanges) {
  CountingPageSource pages;
  RegionSet set(pages);
  ASSERT_TRUE(ok(add_image(set)));
  EXPECT_TRUE(fails_with(set.add_segment(RegionKind::Data, VirtAddr(0x80001), kPageSize), Error::AlignmentError));
  EXPECT_TRUE(fails_with(set.add_segment(RegionKind::Data, VirtAddr(0x80000), 100), Error::AlignmentError));
  EXPECT_TRUE(fails_with(set.add_segment(RegionKind::Data, VirtAddr(0x80000), 0), Error::InvalidArgument));
  EXPECT_TRUE(fails_with(set.add_segment(RegionKind::Heap, VirtAddr(0x80000), kPageSize), Error::InvalidArgument));
  EXPECT_TRUE(fails_with(set.add_segment(RegionKind::Data, VirtAddr(kUserTop), kPageSize), Error::RangeError));
  EXPECT_TRUE(fails_with(set.add_segment(RegionKind::Data, VirtAddr(kUserTop - kPageSize), 2 * kPageSize),
                         Error::RangeError));
  EXPECT_TRUE(fails_with(set.add_segment(RegionKind::Data, VirtAddr(kPageSize), ~uint64_t{0} & ~(kPageSize - 1)),
                         Error::RangeError));
  // Overlaps: inside, straddling either end, covering, the heap's
  // reservation, the stack's guard page.
  EXPECT_TRUE(fails_with(set.add_segment(RegionKind::Data, kText + kPageSize, kPageSize), Error::DeleteFirst));
  EXPECT_TRUE(fails_with(set.add_segment(RegionKind::Data, kText - kPageSize, 2 * kPageSize), Error::DeleteFirst));
  EXPECT_TRUE(fails_with(set.add_segment(RegionKind::Data, kData + kPageSize, 8 * kPageSize), Error::DeleteFirst));
  EXPECT_TRUE(fails_with(set.add_segment(RegionKind::Data, VirtAddr(0x8000), 0x10000), Error::DeleteFirst));
  EXPECT_TRUE(fails_with(set.add_anon(kHeap + kHeapMax - kPageSize, kPageSize, kRW), Error::DeleteFirst));
  EXPECT_TRUE(fails_with(set.add_anon(kStackTop - kStackMax - kPageSize, kPageSize, kRW), Error::DeleteFirst));
  // One heap, one stack; a stack needs room for its guard page.
  EXPECT_TRUE(fails_with(set.add_heap(VirtAddr(0x1000000), kPageSize), Error::IllegalOperation));
  EXPECT_TRUE(fails_with(set.add_stack(VirtAddr(0x2000000), kPageSize), Error::IllegalOperation));
  RegionSet other(pages);
  EXPECT_TRUE(fails_with(other.add_stack(VirtAddr(4 * kPageSize), 4 * kPageSize), Error::RangeError));
  EXPECT_TRUE(fails_with(other.add_stack(VirtAddr(kUserTop + kPageSize), kPageSize), Error::RangeError));
  EXPECT_TRUE(ok(other.add_stack(VirtAddr(5 * kPageSize), 4 * kPageSize)));
  // Anonymous regions take only perms the kernel accepts.
  EXPECT_TRUE(fails_with(set.add_anon(VirtAddr(0x800000), kPageSize, Perm::Write), Error::InvalidArgument));
  EXPECT_TRUE(fails_with(set.add_anon(VirtAddr(0x800000), kPageSize, Perm::None), Error::InvalidArgument));
  // Touching neighbours are fine.
  EXPECT_TRUE(ok(set.add_anon(kText + 2 * kPageSize, kPageSize, Perm::Read)));
  EXPECT_TRUE(ok(set.add_anon(kText - kPageSize, kPageSize, kRX)));
  EXPECT_EQ(set.count(), 8u);
  EXPECT_TRUE(set.check_invariants());
}

TEST(Regions, AnonAddAndRemove) {
  CountingPageSource pages;
  RegionSet set(pages);
  ASSERT_TRUE(ok(set.add_anon(VirtAddr(0x700000), 4 * kPageSize, kRW)));
  ASSERT_TRUE(ok(set.add_segment(RegionKind::Data, VirtAddr(0x600000), kPageSize)));
  EXPECT_TRUE(fails_with(set.remove_anon(VirtAddr(0x600000)), Error::FailedLookup));
  EXPECT_TRUE(fails_with(set.remove_anon(VirtAddr(0x701000)), Error::FailedLookup));
  EXPECT_TRUE(ok(set.remove_anon(VirtAddr(0x700000))));
  EXPECT_EQ(set.find(VirtAddr(0x700000)), nullptr);
  EXPECT_EQ(set.count(), 1u);
  EXPECT_TRUE(set.check_invariants());
}

TEST(Regions, StorageExhaustion) {
  CountingPageSource pages;
  pages.set_limit(0);
  RegionSet set(pages);
  EXPECT_TRUE(fails_with(set.add_segment(RegionKind::Text, kText, kPageSize), Error::NotEnoughMemory));
  EXPECT_EQ(set.count(), 0u);
  pages.set_limit(1);
  for (size_t i = 0; i < RegionSet::kMaxRegions; ++i) {
    ASSERT_TRUE(ok(set.add_anon(VirtAddr(0x100000 + 2 * i * kPageSize), kPageSize, kRW))) << i;
  }
  EXPECT_TRUE(fails_with(set.add_anon(VirtAddr(0x10000), kPageSize, kRW), Error::NotEnoughMemory));
  EXPECT_EQ(set.count(), RegionSet::kMaxRegions);
  EXPECT_TRUE(set.check_invariants());
  // No page for the child's copy: the fork fails, the parent is untouched.
  EXPECT_TRUE(fails_with(set.fork(), Error::NotEnoughMemory));
  EXPECT_EQ(pages.outstanding(), 1u);
}

TEST(Regions, ClassifyEveryKindAndAccess) {
  CountingPageSource pages;
  RegionSet set(pages);
  ASSERT_TRUE(ok(add_image(set)));
  ASSERT_TRUE(set.sbrk(int64_t(kPageSize)));
  ASSERT_TRUE(ok(set.add_anon(VirtAddr(0x800000), kPageSize, kRX)));
  const PageState unmapped;
  using F = FaultKind;
  struct Case {
    VirtAddr va;
    F read, write, execute;
  };
  const Case cases[] = {
      {kText, F::ZeroFillAndMap, F::Segfault, F::ZeroFillAndMap},
      {kRodata, F::ZeroFillAndMap, F::Segfault, F::Segfault},
      {kData, F::ZeroFillAndMap, F::ZeroFillAndMap, F::Segfault},
      {kBss + 2 * kPageSize, F::ZeroFillAndMap, F::ZeroFillAndMap, F::Segfault},
      {kHeap, F::ZeroFillAndMap, F::ZeroFillAndMap, F::Segfault},
      {kHeap + kPageSize, F::Segfault, F::Segfault, F::Segfault},  // above the break
      {kStackTop - 8, F::ZeroFillAndMap, F::ZeroFillAndMap, F::Segfault},
      {kStackTop - kStackMax, F::ZeroFillAndMap, F::ZeroFillAndMap, F::Segfault},  // the limit
      {kStackTop - kStackMax - 8, F::Segfault, F::Segfault, F::Segfault},          // guard page
      {VirtAddr(0x800010), F::ZeroFillAndMap, F::Segfault, F::ZeroFillAndMap},     // anon R-X
      {VirtAddr(0), F::Segfault, F::Segfault, F::Segfault},
      {VirtAddr(0x50000), F::Segfault, F::Segfault, F::Segfault},
      {VirtAddr(~uint64_t{0}), F::Segfault, F::Segfault, F::Segfault},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.va.value());
    EXPECT_EQ(set.classify(c.va, Access::Read, unmapped), c.read);
    EXPECT_EQ(set.classify(c.va, Access::Write, unmapped), c.write);
    EXPECT_EQ(set.classify(c.va, Access::Execute, unmapped), c.execute);
  }
  // Mapped pages: a write to a read-only page of a writable region is the
  // policy's copy-on-write case; an access the page already allows is
  // spurious; the region's permissions still come first.
  EXPECT_EQ(set.classify(kData, Access::Write, {true, Perm::Read}), F::CopyOnWrite);
  EXPECT_EQ(set.classify(kStackTop - 8, Access::Write, {true, Perm::Read}), F::CopyOnWrite);
  EXPECT_EQ(set.classify(kData, Access::Read, {true, Perm::Read}), F::Spurious);
  EXPECT_EQ(set.classify(kData, Access::Write, {true, kRW}), F::Spurious);
  EXPECT_EQ(set.classify(kText, Access::Write, {true, kRX}), F::Segfault);
  EXPECT_EQ(set.classify(kData, Access::Execute, {true, kRW}), F::Segfault);
  EXPECT_EQ(set.classify(kData, Access(7), unmapped), F::Segfault);  // a malformed access value
}

TEST(Regions, Sbrk) {
  CountingPageSource pages;
  RegionSet set(pages);
  EXPECT_TRUE(fails_with(set.sbrk(0), Error::FailedLookup));
  ASSERT_TRUE(ok(set.add_heap(kHeap, kHeapMax)));

  auto r = set.sbrk(0);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->old_break, kHeap);
  EXPECT_EQ(r->release_start, r->release_end);

  // Growing by one byte makes the first page accessible.
  r = set.sbrk(1);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->old_break, kHeap);
  EXPECT_EQ(set.heap_break(), kHeap + 1);
  EXPECT_EQ(set.find(kHeap)->end, kHeap + kPageSize);
  EXPECT_EQ(set.classify(kHeap + kPageSize - 1, Access::Write, {}), FaultKind::ZeroFillAndMap);

  // Up to the limit exactly, not one byte beyond; a failure changes nothing.
  r = set.sbrk(int64_t(kHeapMax - 1));
  ASSERT_TRUE(r);
  EXPECT_EQ(set.heap_break(), kHeap + kHeapMax);
  EXPECT_TRUE(fails_with(set.sbrk(1), Error::NotEnoughMemory));
  EXPECT_TRUE(fails_with(set.sbrk(INT64_MAX), Error::NotEnoughMemory));
  EXPECT_EQ(set.heap_break(), kHeap + kHeapMax);

  // Shrinking within a page releases nothing; across pages, the pages above
  // the new (rounded) break.
  r = set.sbrk(-100);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->release_start, r->release_end);
  r = set.sbrk(-int64_t(3 * kPageSize));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->old_break, kHeap + kHeapMax - 100);
  EXPECT_EQ(r->release_start, kHeap + kHeapMax - 3 * kPageSize);
  EXPECT_EQ(r->release_end, kHeap + kHeapMax);
  EXPECT_EQ(set.classify(kHeap + kHeapMax - kPageSize, Access::Read, {}), FaultKind::Segfault);

  // Not below the heap's start, whatever the size of the decrement.
  const uint64_t used = set.heap_break() - kHeap;
  EXPECT_TRUE(fails_with(set.sbrk(-int64_t(used) - 1), Error::InvalidArgument));
  EXPECT_TRUE(fails_with(set.sbrk(INT64_MIN), Error::InvalidArgument));
  r = set.sbrk(-int64_t(used));
  ASSERT_TRUE(r);
  EXPECT_EQ(set.heap_break(), kHeap);
  EXPECT_EQ(r->release_start, kHeap);
  EXPECT_EQ(set.find(kHeap)->size(), 0u);
  EXPECT_TRUE(set.check_invariants());
}

TEST(Regions, ForkAndReleaseLeakNoPages) {
  CountingPageSource pages;
  {
    RegionSet parent(pages);
    auto empty = parent.fork();  // an empty set forks without storage
    ASSERT_TRUE(empty);
    EXPECT_EQ(pages.outstanding(), 0u);

    ASSERT_TRUE(ok(add_image(parent)));
    ASSERT_TRUE(parent.sbrk(int64_t(3 * kPageSize)));
    auto child = parent.fork();
    ASSERT_TRUE(child);
    EXPECT_EQ(pages.outstanding(), 2u);
    ASSERT_EQ(child->count(), parent.count());
    for (size_t i = 0; i < parent.count(); ++i) {
      EXPECT_EQ(std::memcmp(&child->regions()[i], &parent.regions()[i], sizeof(Region)), 0);
    }
    // Independent afterwards.
    ASSERT_TRUE(child->sbrk(int64_t(kPageSize)));
    ASSERT_TRUE(ok(child->add_anon(VirtAddr(0x800000), kPageSize, kRW)));
    EXPECT_EQ(parent.heap_break(), kHeap + 3 * kPageSize);
    EXPECT_EQ(parent.find(VirtAddr(0x800000)), nullptr);

    child->release();
    child->release();  // idempotent
    EXPECT_EQ(pages.outstanding(), 1u);
    EXPECT_EQ(child->count(), 0u);

    // Moving hands the page over; the destructor of the last owner frees it.
    RegionSet moved = std::move(parent);
    EXPECT_EQ(parent.count(), 0u);
    EXPECT_EQ(moved.count(), 6u);
    EXPECT_EQ(pages.outstanding(), 1u);
  }
  EXPECT_EQ(pages.outstanding(), 0u);
}

// ---- Policies ----------------------------------------------------------------

TEST(PolicyRegistry, FindsByExactName) {
  auto eager = find_policy("eager");
  ASSERT_TRUE(eager);
  EXPECT_STREQ((*eager)->name(), "eager");
  EXPECT_TRUE(fails_with(find_policy("eage"), Error::NotFound));
  EXPECT_TRUE(fails_with(find_policy("eagerx"), Error::NotFound));
  EXPECT_TRUE(fails_with(find_policy(""), Error::NotFound));
  // Every registered policy answers to its own name.
  for (const PolicyEntry& entry : registered_policies()) EXPECT_STREQ(entry.get().name(), entry.name);
}

constexpr VSpaceRef kParent{1};
constexpr VSpaceRef kChild{2};

class EagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ok(add_image(regions)));
    ASSERT_TRUE(regions.sbrk(int64_t(8 * kPageSize)));
  }

  // Touches a known set of pages in the parent: the text (executed), one data
  // page, two bss pages, 8 heap pages, 2 stack pages. 15 pages, 13 writable.
  void populate() {
    auto text = policy.handle_fault(kernel, regions, kParent, kText, Access::Execute);
    ASSERT_TRUE(text);
    ASSERT_EQ(*text, FaultResolution::ZeroFilled);
    ASSERT_TRUE(load(policy, kernel, regions, kParent, kRodata));
    for (VirtAddr va : written_pages()) ASSERT_TRUE(store(policy, kernel, regions, kParent, va + 7, pattern(va)));
    ASSERT_EQ(kernel.mapped_pages(kParent), 15u);
  }

  static std::vector<VirtAddr> written_pages() {
    std::vector<VirtAddr> v{kData, kBss, kBss + 2 * kPageSize, kStackTop - kPageSize, kStackTop - 2 * kPageSize};
    for (uint64_t i = 0; i < 8; ++i) v.push_back(kHeap + i * kPageSize);
    return v;
  }
  static uint8_t pattern(VirtAddr va) { return uint8_t(va.value() >> 12) ^ 0x5a; }

  CountingPageSource pages;
  RegionSet regions{pages};
  FakeKernel kernel;
  const Policy& policy = **find_policy("eager");
};

TEST_F(EagerTest, FaultsZeroFillWithTheRegionsPermissions) {
  EXPECT_EQ(load(policy, kernel, regions, kParent, kBss + 123), 0);
  EXPECT_EQ(kernel.find(kParent, kBss)->perm, kRW);
  auto r = policy.handle_fault(kernel, regions, kParent, kText + kPageSize + 4, Access::Execute);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, FaultResolution::ZeroFilled);
  EXPECT_TRUE(kernel.executable(kParent, kText + kPageSize));
  EXPECT_EQ(kernel.find(kParent, kText + kPageSize)->perm, kRX);
  // Wrong access or outside: Segfault, nothing mapped, no frame taken.
  const size_t frames = kernel.allocated();
  EXPECT_FALSE(store(policy, kernel, regions, kParent, kText, 1));
  EXPECT_EQ(*policy.handle_fault(kernel, regions, kParent, kData, Access::Execute), FaultResolution::Segfault);
  EXPECT_EQ(*policy.handle_fault(kernel, regions, kParent, kStackTop - kStackMax - 1, Access::Write),
            FaultResolution::Segfault);
  EXPECT_EQ(*policy.handle_fault(kernel, regions, kParent, kHeap + 8 * kPageSize, Access::Read),
            FaultResolution::Segfault);
  EXPECT_EQ(kernel.allocated(), frames);
  // A second fault on a page that is already fine is spurious.
  EXPECT_EQ(*policy.handle_fault(kernel, regions, kParent, kBss, Access::Write), FaultResolution::Spurious);
  // Out of frames: an error for the caller (which kills the process).
  kernel.set_frame_limit(kernel.allocated());
  EXPECT_TRUE(fails_with(policy.handle_fault(kernel, regions, kParent, kData, Access::Write), Error::NotEnoughMemory));
  EXPECT_EQ(kernel.find(kParent, kData), nullptr);
}

TEST_F(EagerTest, ForkCopiesWritablePagesAndIsolates) {
  populate();
  auto child_regions = regions.fork();
  ASSERT_TRUE(child_regions);
  const size_t before = kernel.allocated();
  auto stats = policy.fork(kernel, regions, kParent, kChild, ForkHints{});
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->pages_copied, 13u);
  EXPECT_EQ(stats->pages_shared, 2u);  // text and rodata
  EXPECT_EQ(kernel.allocated(), before + 13);
  EXPECT_EQ(kernel.mapped_pages(kChild), 15u);
  EXPECT_TRUE(kernel.check_counts());
  // Text is the same frame on both sides; written pages are not.
  EXPECT_EQ(kernel.find(kChild, kText)->frame, kernel.find(kParent, kText)->frame);
  EXPECT_EQ(kernel.find(kChild, kText)->perm, kRX);
  for (VirtAddr va : written_pages()) {
    EXPECT_NE(kernel.find(kChild, va)->frame, kernel.find(kParent, va)->frame);
    EXPECT_EQ(kernel.find(kChild, va)->perm, kRW);
    EXPECT_FALSE(kernel.find(kChild, va)->cow);
  }

  // The child sees the parent's memory as of the fork ...
  for (VirtAddr va : written_pages()) EXPECT_EQ(kernel.read(kChild, va + 7), pattern(va));
  // ... and neither sees the other's later writes.
  for (VirtAddr va : written_pages()) {
    ASSERT_TRUE(store(policy, kernel, regions, kParent, va + 7, 0x11));
    ASSERT_TRUE(store(policy, kernel, *child_regions, kChild, va + 8, 0x22));
  }
  for (VirtAddr va : written_pages()) {
    EXPECT_EQ(kernel.read(kChild, va + 7), pattern(va));
    EXPECT_EQ(kernel.read(kParent, va + 8), 0);
    EXPECT_EQ(kernel.read(kParent, va + 7), 0x11);
    EXPECT_EQ(kernel.read(kChild, va + 8), 0x22);
  }
  // No write after an eager fork takes a frame: nothing was shared writable.
  EXPECT_EQ(kernel.allocated(), before + 13);

  // A page first touched after the fork is private to whoever touches it.
  ASSERT_TRUE(store(policy, kernel, *child_regions, kChild, kData + kPageSize, 9));
  EXPECT_EQ(kernel.find(kParent, kData + kPageSize), nullptr);

  // Releasing both gives every frame back.
  ASSERT_TRUE(ok(policy.release(kernel, *child_regions, kChild)));
  EXPECT_EQ(kernel.mapped_pages(kChild), 0u);
  EXPECT_EQ(kernel.allocated(), before);
  EXPECT_EQ(kernel.read(kParent, kText), 0);  // shared text survives the child
  ASSERT_TRUE(ok(policy.release(kernel, regions, kParent)));
  EXPECT_EQ(kernel.allocated(), 0u);
  EXPECT_TRUE(kernel.check_counts());
}

TEST_F(EagerTest, ForkOfAnEmptyAddressSpace) {
  auto stats = policy.fork(kernel, regions, kParent, kChild, ForkHints{});
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->pages_copied, 0u);
  EXPECT_EQ(kernel.mapped_pages(kChild), 0u);
}

// Out of frames at every possible point of the fork: the fork fails with
// NotEnoughMemory, the child has nothing mapped, every frame taken for it is
// back, and the parent's memory is as it was.
TEST_F(EagerTest, ForkOutOfFramesRollsBack) {
  populate();
  const size_t before = kernel.allocated();
  for (size_t extra = 0; extra < 13; ++extra) {
    SCOPED_TRACE(extra);
    kernel.set_frame_limit(before + extra);
    EXPECT_TRUE(fails_with(policy.fork(kernel, regions, kParent, kChild, ForkHints{}), Error::NotEnoughMemory));
    EXPECT_EQ(kernel.mapped_pages(kChild), 0u);
    EXPECT_EQ(kernel.allocated(), before);
    EXPECT_TRUE(kernel.check_counts());
    for (VirtAddr va : written_pages()) {
      EXPECT_EQ(kernel.read(kParent, va + 7), pattern(va));
      EXPECT_EQ(kernel.find(kParent, va)->perm, kRW);
    }
  }
  kernel.set_frame_limit(before + 13);
  EXPECT_TRUE(policy.fork(kernel, regions, kParent, kChild, ForkHints{}));
}

// A page left copy-on-write (by a cow fork before this process switched to
// eager) is resolved the Linux way: copied while shared, made writable again
// when the last sharer writes.
TEST_F(EagerTest, ResolvesLeftoverCopyOnWritePages) {
  ASSERT_TRUE(store(policy, kernel, regions, kParent, kData, 42));
  auto child_regions = regions.fork();
  ASSERT_TRUE(child_regions);
  auto copied = kernel.copy_range(kParent, kChild, kData, kPageSize, CopyMode::Cow);
  ASSERT_TRUE(copied);
  EXPECT_EQ(copied->made_cow, 1u);
  EXPECT_EQ(kernel.read(kChild, kData), 42);

  auto r = policy.handle_fault(kernel, *child_regions, kChild, kData, Access::Write);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, FaultResolution::Copied);
  ASSERT_TRUE(kernel.write(kChild, kData, 43));
  EXPECT_EQ(kernel.read(kParent, kData), 42);

  r = policy.handle_fault(kernel, regions, kParent, kData, Access::Write);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, FaultResolution::MadeWritable);
  EXPECT_FALSE(kernel.find(kParent, kData)->cow);
  EXPECT_EQ(kernel.allocated(), 2u);

  // Out of frames while the page is still shared: an error, nothing changed.
  ASSERT_TRUE(ok(policy.release(kernel, *child_regions, kChild)));
  ASSERT_TRUE(kernel.copy_range(kParent, kChild, kData, kPageSize, CopyMode::Cow));
  kernel.set_frame_limit(kernel.allocated());
  EXPECT_TRUE(fails_with(policy.handle_fault(kernel, regions, kParent, kData, Access::Write), Error::NotEnoughMemory));
  EXPECT_TRUE(kernel.find(kParent, kData)->cow);
  EXPECT_TRUE(kernel.check_counts());
}

}  // namespace
}  // namespace pager
