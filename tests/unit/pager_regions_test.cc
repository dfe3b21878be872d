// Host tests of the pager's core (servers/pager): the region set (adding,
// finding, classifying faults, sbrk, fork and release of its storage) and the
// `eager` policy against a fake kernel. The fake kernel simulates what the
// policies rely on from docs/kernel.md §7.5: per-VSpace page tables with
// permissions and the copy-on-write mark, frame contents, and the count of
// mappings of every frame; it also plays the process, reading and writing
// bytes through the page tables so a test sees what a program would.
#include <gtest/gtest.h>

#include "fake_page_source.h"

#include <cstring>
#include <map>
#include <optional>
#include <vector>

#include "pager/policy.h"
#include "pager/regions.h"
#include "result_matchers.h"

namespace pager {
namespace {

using kern::kPageSize;
using kern::testing_support::fails_with;
using kern::testing_support::ok;

constexpr VirtAddr kText{0x10000};
constexpr VirtAddr kRodata{0x20000};
constexpr VirtAddr kData{0x30000};
constexpr VirtAddr kBss{0x40000};
constexpr VirtAddr kHeap{0x100000};
constexpr uint64_t kHeapMax = 64 * kPageSize;
constexpr VirtAddr kStackTop{0x3f000000};
constexpr uint64_t kStackMax = 16 * kPageSize;


using CountingPageSource = servers::testing_support::FakePageSource;

// ---- The fake kernel -----------------------------------------------------

class FakeKernel final : public KernelOps {
 public:
  struct Pte {
    uint64_t frame;
    Perm perm;
    bool cow;
    bool may_write;
  };

  explicit FakeKernel(size_t frame_limit = 4096) : m_limit(frame_limit) {}

  Result<FrameRef> alloc_frame() override {
    if (m_allocated >= m_limit) return kern::fail(Error::NotEnoughMemory);
    uint64_t handle;
    if (!m_free.empty()) {
      handle = m_free.back();
      m_free.pop_back();
    } else {
      m_frames.emplace_back(kPageSize);
      m_counts.push_back(0);
      m_in_use.push_back(false);
      handle = m_frames.size();
    }
    std::fill(m_frames[handle - 1].begin(), m_frames[handle - 1].end(), 0);
    m_in_use[handle - 1] = true;
    ++m_allocated;
    return FrameRef{handle};
  }

  void free_frame(FrameRef frame) override {
    ASSERT_TRUE(valid(frame)) << "free of frame " << frame.handle << " not allocated";
    EXPECT_EQ(m_counts[frame.handle - 1], 0u) << "free of a mapped frame";
    m_in_use[frame.handle - 1] = false;
    m_free.push_back(frame.handle);
    --m_allocated;
  }

  Status map(VSpaceRef vs, VirtAddr va, std::span<const FrameRef> frames, Perm perm) override {
    if (frames.empty()) return kern::fail(Error::RangeError);
    if (!is_valid_perm(perm)) return kern::fail(Error::InvalidArgument);
    for (FrameRef f : frames) {
      if (!valid(f)) return kern::fail(Error::InvalidCapability);
    }
    TRY(check_range(va, frames.size() * kPageSize));
    auto& table = m_tables[vs.handle];
    for (size_t i = 0; i < frames.size(); ++i) {
      if (table.contains(va.value() + i * kPageSize)) return kern::fail(Error::DeleteFirst);
    }
    for (size_t i = 0; i < frames.size(); ++i) {
      table[va.value() + i * kPageSize] = Pte{frames[i].handle, perm, false, has(perm, Perm::Write)};
      ++m_counts[frames[i].handle - 1];
    }
    return {};
  }

  Result<uint64_t> unmap(VSpaceRef vs, VirtAddr va, uint64_t length) override {
    TRY(check_range(va, length));
    auto& table = m_tables[vs.handle];
    uint64_t n = 0;
    for (uint64_t a = va.value(); a < va.value() + length; a += kPageSize) {
      auto it = table.find(a);
      if (it == table.end()) continue;
      --m_counts[it->second.frame - 1];
      table.erase(it);
      ++n;
    }
    return n;
  }

  Result<uint64_t> protect(VSpaceRef vs, VirtAddr va, uint64_t length, Perm perm) override {
    if (!is_valid_perm(perm)) return kern::fail(Error::InvalidArgument);
    TRY(check_range(va, length));
    auto& table = m_tables[vs.handle];
    auto first = table.lower_bound(va.value()), last = table.lower_bound(va.value() + length);
    if (has(perm, Perm::Write)) {
      for (auto it = first; it != last; ++it) {
        if (!it->second.may_write) return kern::fail(Error::IllegalOperation);
      }
    }
    uint64_t n = 0;
    for (auto it = first; it != last; ++it, ++n) {
      it->second.perm = perm;
      if (has(perm, Perm::Write)) it->second.cow = false;
    }
    return n;
  }

  Result<CopyRangeResult> copy_range(VSpaceRef src, VSpaceRef dst, VirtAddr va, uint64_t length,
                                     CopyMode mode) override {
    if (mode != CopyMode::Cow && mode != CopyMode::Share) return kern::fail(Error::InvalidArgument);
    TRY(check_range(va, length));
    if (src == dst) return kern::fail(Error::InvalidArgument);
    auto& from = m_tables[src.handle];
    auto& to = m_tables[dst.handle];
    auto first = from.lower_bound(va.value()), last = from.lower_bound(va.value() + length);
    if (to.lower_bound(va.value()) != to.lower_bound(va.value() + length)) return kern::fail(Error::DeleteFirst);
    CopyRangeResult result;
    for (auto it = first; it != last; ++it) {
      if (mode == CopyMode::Cow && has(it->second.perm, Perm::Write)) {
        it->second.perm = without(it->second.perm, Perm::Write);
        it->second.cow = true;
        ++result.made_cow;
      }
      to[it->first] = it->second;
      ++m_counts[it->second.frame - 1];
      ++result.mapped;
    }
    return result;
  }

  Result<PageInfo> lookup(VSpaceRef vs, VirtAddr va) override {
    const Pte* pte = find(vs, va);
    if (pte == nullptr) return kern::fail(Error::FailedLookup);
    return PageInfo{FrameRef{pte->frame}, pte->perm, pte->cow, m_counts[pte->frame - 1]};
  }

  Result<FrameRef> copy_page(VSpaceRef vs, VirtAddr va, FrameRef frame, Perm perm) override {
    if (!valid(frame)) return kern::fail(Error::InvalidCapability);
    if (!is_valid_perm(perm)) return kern::fail(Error::InvalidArgument);
    if (!va.is_aligned(kPageSize)) return kern::fail(Error::AlignmentError);
    auto& table = m_tables[vs.handle];
    auto it = table.find(va.value());
    if (it == table.end()) return kern::fail(Error::FailedLookup);
    if (it->second.frame == frame.handle) return kern::fail(Error::InvalidArgument);
    const uint64_t old = it->second.frame;
    m_frames[frame.handle - 1] = m_frames[old - 1];
    --m_counts[old - 1];
    ++m_counts[frame.handle - 1];
    it->second = Pte{frame.handle, perm, false, has(perm, Perm::Write)};
    return FrameRef{old};
  }

  Result<ScanResult> unmap_collect(VSpaceRef vs, VirtAddr va, uint64_t length, std::span<FrameRef> freed) override {
    if (freed.size() < kScanBatch) return kern::fail(Error::InvalidArgument);
    TRY(check_range(va, length));
    ++m_scans;
    auto& table = m_tables[vs.handle];
    ScanResult r{va + length, 0, 0};
    for (auto it = table.lower_bound(va.value()); it != table.end() && it->first < va.value() + length;) {
      const uint64_t frame = it->second.frame;
      const uint64_t page = it->first;
      it = table.erase(it);
      ++r.visited;
      if (--m_counts[frame - 1] == 0) {
        freed[r.count++] = FrameRef{frame};
        if (r.count == kScanBatch) {
          r.next = VirtAddr(page + kPageSize);
          break;
        }
      }
    }
    return r;
  }

  Result<ScanResult> list_mapped(VSpaceRef vs, VirtAddr va, uint64_t length, std::span<VirtAddr> pages) override {
    if (pages.size() < kScanBatch) return kern::fail(Error::InvalidArgument);
    TRY(check_range(va, length));
    ++m_scans;
    auto& table = m_tables[vs.handle];
    ScanResult r{va + length, 0, 0};
    for (auto it = table.lower_bound(va.value()); it != table.end() && it->first < va.value() + length; ++it) {
      ++r.visited;
      pages[r.count++] = VirtAddr(it->first);
      if (r.count == kScanBatch) {
        r.next = VirtAddr(it->first + kPageSize);
        break;
      }
    }
    return r;
  }

  // Scan calls made so far (for the tests that a release costs calls in
  // proportion to the mapped pages).
  uint64_t scans() const { return m_scans; }

  // ---- The process's view: loads and stores through the page tables ----

  // The byte at va, or nullopt when the access would fault.
  std::optional<uint8_t> read(VSpaceRef vs, VirtAddr va) const {
    const Pte* pte = find(vs, va);
    if (pte == nullptr || !has(pte->perm, Perm::Read)) return std::nullopt;
    return m_frames[pte->frame - 1][va.value() % kPageSize];
  }
  bool write(VSpaceRef vs, VirtAddr va, uint8_t value) {
    const Pte* pte = find(vs, va);
    if (pte == nullptr || !has(pte->perm, Perm::Write)) return false;
    m_frames[pte->frame - 1][va.value() % kPageSize] = value;
    return true;
  }
  bool executable(VSpaceRef vs, VirtAddr va) const {
    const Pte* pte = find(vs, va);
    return pte != nullptr && has(pte->perm, Perm::Execute);
  }

  const Pte* find(VSpaceRef vs, VirtAddr va) const {
    auto t = m_tables.find(vs.handle);
    if (t == m_tables.end()) return nullptr;
    auto it = t->second.find(va.align_down(kPageSize).value());
    return it == t->second.end() ? nullptr : &it->second;
  }

  size_t mapped_pages(VSpaceRef vs) const {
    auto t = m_tables.find(vs.handle);
    return t == m_tables.end() ? 0 : t->second.size();
  }
  size_t allocated() const { return m_allocated; }
  void set_frame_limit(size_t limit) { m_limit = limit; }

  // Every count equals the mappings found in the tables; no mapped frame is
  // free.
  bool check_counts() const {
    std::vector<uint64_t> counted(m_counts.size(), 0);
    for (const auto& [vs, table] : m_tables) {
      for (const auto& [va, pte] : table) {
        if (!m_in_use[pte.frame - 1]) return false;
        ++counted[pte.frame - 1];
      }
    }
    return counted == m_counts;
  }

 private:
  bool valid(FrameRef f) const { return f.handle >= 1 && f.handle <= m_frames.size() && m_in_use[f.handle - 1]; }
  static Status check_range(VirtAddr va, uint64_t length) {
    if (!va.is_aligned(kPageSize) || !kern::is_aligned(length, kPageSize)) return kern::fail(Error::AlignmentError);
    if (length == 0 || va.value() >= kUserTop || length > kUserTop - va.value()) return kern::fail(Error::RangeError);
    return {};
  }

  std::vector<std::vector<uint8_t>> m_frames;  // contents; handle h is index h - 1
  std::vector<uint64_t> m_counts;              // mappings of each frame
  std::vector<bool> m_in_use;
  std::vector<uint64_t> m_free;
  size_t m_limit;
  size_t m_allocated = 0;
  uint64_t m_scans = 0;
  std::map<uint64_t, std::map<uint64_t, Pte>> m_tables;  // vspace -> va -> pte
};

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

// Runs a process's store through the policy as the kernel and pager would:
// on a fault, handle it and retry. False if the policy says Segfault.
bool store(const Policy& policy, FakeKernel& kernel, const RegionSet& regions, VSpaceRef vs, VirtAddr va,
           uint8_t value) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (kernel.write(vs, va, value)) return true;
    auto r = policy.handle_fault(kernel, regions, vs, va, Access::Write);
    if (!r) ADD_FAILURE() << "fault failed: " << kern::error_name(r.error());
    if (!r || *r == FaultResolution::Segfault) return false;
  }
  ADD_FAILURE() << "fault at " << va.value() << " never resolved";
  return false;
}

std::optional<uint8_t> load(const Policy& policy, FakeKernel& kernel, const RegionSet& regions, VSpaceRef vs,
                            VirtAddr va) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (auto v = kernel.read(vs, va)) return v;
    auto r = policy.handle_fault(kernel, regions, vs, va, Access::Read);
    if (!r || *r == FaultResolution::Segfault) return std::nullopt;
  }
  return std::nullopt;
}

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
