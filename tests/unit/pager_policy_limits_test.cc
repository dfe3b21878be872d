// Host tests of what every pager policy must do when memory runs out, and
// of what fork and release cost, against the fake kernel of
// pager_fake_kernel.h: out of frames at any point of a fork, or out of page
// tables at any of its CopyRange calls, the fork fails and changes nothing
// the processes can see and leaks nothing; out of frames in a copy-on-write
// fault, the fault fails and changes nothing; fork and release make kernel
// calls in proportion to the mapped pages, not to the size of the address
// space. Instantiated over registered_policies() like pager_policy_test.cc.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "pager/policy.h"
#include "pager/regions.h"
#include "pager_policy_fixture.h"
#include "result_matchers.h"

namespace pager::testing_support {
namespace {

using kern::testing_support::fails_with;

// The scan calls that go over `pages` mapped pages: one per full batch of
// kScanBatch, and the one that finds the end.
uint64_t scan_calls_bound(uint64_t pages) { return pages / kScanBatch + 1; }

INSTANTIATE_TEST_SUITE_P(Registered, PolicyTest, ::testing::ValuesIn(registered_policies()), policy_test_name);

// ---- Running out ---------------------------------------------------------------

// The number of forks that failed before one succeeded, and that one's
// stats.
struct Rounds {
  size_t failed = 0;
  ForkStats stats;
};

class RunningOutTest : public PolicyTest {
 protected:
  // Forks the populated parent again and again, arm(round) first making the
  // round-th resource the fork asks for run out, until a fork succeeds.
  // After every failure: NotEnoughMemory, the child has nothing mapped,
  // every frame taken for it is back, and the parent reads as before, maps
  // every frame of its alone and can still write (a write then takes no
  // frame: nothing is shared). Then disarm(), and the child forked at last
  // must be isolated from the parent, and releasing both must give every
  // frame back.
  template <typename Arm, typename Disarm>
  Rounds fork_until_it_succeeds(Arm arm, Disarm disarm) {
    Rounds rounds;
    const size_t before = kernel.allocated();
    Image parent_image = image;
    std::optional<Forked> child;
    for (;; ++rounds.failed) {
      SCOPED_TRACE(rounds.failed);
      if (rounds.failed > mapped.size()) {
        ADD_FAILURE() << "fork never succeeded";
        return rounds;
      }
      arm(rounds.failed);
      auto regions = parent.regions.fork();
      if (!regions) {
        ADD_FAILURE() << "RegionSet::fork";
        return rounds;
      }
      auto stats = policy().fork(kernel, parent.regions, parent.vs, kChildVs, ForkHints{kSp});
      if (stats) {
        child = Forked{Process{kChildVs, std::move(*regions)}, *stats};
        break;
      }
      EXPECT_TRUE(fails_with(stats, Error::NotEnoughMemory));
      EXPECT_EQ(kernel.mapped_pages(kChildVs), 0u);
      EXPECT_EQ(kernel.allocated(), before);
      EXPECT_TRUE(kernel.check_counts());
      expect_image(parent, parent_image);
      for (VirtAddr va : mapped) EXPECT_EQ(kernel.lookup(parent.vs, va)->map_count, 1u) << std::hex << va.value();
      // A seventh of the pages each round, at the limit still.
      const uint8_t value = uint8_t(0x80 + rounds.failed);
      for (size_t i = rounds.failed % 7; i < writable.size(); i += 7) {
        const VirtAddr va = writable[i];
        EXPECT_TRUE(store(policy(), kernel, parent.regions, parent.vs, va + kOffset, value));
        parent_image[(va + kOffset).value()] = value;
      }
      EXPECT_EQ(kernel.allocated(), before);
      if (::testing::Test::HasFailure()) return rounds;
    }
    disarm();
    rounds.stats = child->stats;
    expect_image(child->process, parent_image);
    expect_no_writable_sharing();
    Image child_image = parent_image;
    write_all(parent, parent_image, 0x55);
    expect_image(child->process, child_image);
    write_all(child->process, child_image, 0x66);
    expect_image(parent, parent_image);
    release(parent);
    release(child->process);
    EXPECT_EQ(kernel.allocated(), 0u);
    EXPECT_TRUE(kernel.check_counts());
    return rounds;
  }
};

INSTANTIATE_TEST_SUITE_P(Registered, RunningOutTest, ::testing::ValuesIn(registered_policies()), policy_test_name);

// Out of frames at every point of the fork. The first limit that lets the
// fork through is exactly the frames it copied into.
TEST_P(RunningOutTest, ForkOutOfFramesAtEveryPointRollsBack) {
  populate();
  const size_t before = kernel.allocated();
  const Rounds rounds = fork_until_it_succeeds([&](size_t round) { kernel.set_frame_limit(before + round); },
                                               [&] { kernel.set_frame_limit(8192); });
  EXPECT_EQ(rounds.failed, rounds.stats.pages_copied);
}

// The kernel's table pool short at each CopyRange of the fork (the kernel
// fails it whole, mapping nothing): the fork rolls back as well, including
// the spans an earlier call already mapped into the child.
TEST_P(RunningOutTest, ForkOutOfPageTablesAtEveryCopyRangeRollsBack) {
  populate();
  const Rounds rounds = fork_until_it_succeeds([&](size_t round) { kernel.fail_copy_range_in(round + 1); },
                                               [&] { kernel.fail_copy_range_in(0); });
  EXPECT_GE(rounds.failed, 1u);
}

// Out of frames in a copy-on-write fault on a page still shared: the fault
// fails with NotEnoughMemory and changes nothing, on either side. Policies
// that share no writable page at fork are given one as another policy would
// have left it (a CopyRange(COW) into a third address space).
TEST_P(PolicyTest, CopyOnWriteFaultOutOfFramesChangesNothing) {
  populate();
  auto child = fork(parent, kChildVs, kSp);
  ASSERT_TRUE(child);
  std::optional<Process> third;
  auto shared_pages = [&] {
    std::vector<std::pair<const Process*, VirtAddr>> v;
    for (const Process* p : {&parent, &child->process}) {
      for (VirtAddr va : writable) {
        const auto info = kernel.lookup(p->vs, va);
        if (info && info->map_count > 1) v.emplace_back(p, va);
      }
    }
    return v;
  };
  auto faults = shared_pages();
  if (faults.empty()) {
    auto regions = parent.regions.fork();
    ASSERT_TRUE(regions);
    ASSERT_TRUE(kernel.copy_range(parent.vs, kGrandchildVs, kData, 2 * kPageSize, CopyMode::Cow));
    third.emplace(Process{kGrandchildVs, std::move(*regions)});
    faults = shared_pages();
  }
  ASSERT_FALSE(faults.empty());

  kernel.set_frame_limit(kernel.allocated());
  const size_t frames = kernel.allocated();
  for (const auto& [p, va] : faults) {
    SCOPED_TRACE(::testing::Message() << "vspace " << p->vs.handle << " page " << std::hex << va.value());
    const FakeKernel::Pte before = *kernel.find(p->vs, va);
    EXPECT_TRUE(fails_with(policy().handle_fault(kernel, p->regions, p->vs, va + kOffset, Access::Write),
                           Error::NotEnoughMemory));
    const FakeKernel::Pte after = *kernel.find(p->vs, va);
    EXPECT_EQ(after.frame, before.frame);
    EXPECT_EQ(after.perm, before.perm);
    EXPECT_EQ(after.cow, before.cow);
    EXPECT_EQ(kernel.allocated(), frames);
  }
  EXPECT_TRUE(kernel.check_counts());
  expect_image(parent, image);
  expect_image(child->process, image);

  // With frames again, the same writes go through and stay private.
  kernel.set_frame_limit(8192);
  Image child_image = image;
  write_all(child->process, child_image, 0x77);
  expect_image(parent, image);
  release(child->process);
  if (third) release(*third);
  release(parent);
  EXPECT_EQ(kernel.allocated(), 0u);
  EXPECT_TRUE(kernel.check_counts());
}

// ---- What fork and release cost -------------------------------------------------

// A process with an 8 MiB stack reservation and 3 pages mapped, forked or
// not, releases with one scan call when its regions lie close together
// (however the pager groups them, the 2045 pages never touched cost
// nothing), and with at most one per region when the stack lies far above
// the image, as a real process's does.
TEST_P(PolicyTest, ReleaseScansTheMappedPagesNotTheRange) {
  constexpr uint64_t kBigStack = 8 * 1024 * 1024;
  struct Layout {
    const char* name;
    VirtAddr stack_top;
    uint64_t release_calls;
  };
  // Close: the stack's guard page right above the data page.
  const Layout layouts[] = {{"close", kData + 2 * kPageSize + kBigStack, 1}, {"far", kStackTop, 3}};
  VSpaceRef vs{10};
  for (const Layout& layout : layouts) {
    SCOPED_TRACE(layout.name);
    Process p{vs, RegionSet(pages)};
    ASSERT_TRUE(ok(p.regions.add_segment(RegionKind::Text, kText, kPageSize)));
    ASSERT_TRUE(ok(p.regions.add_segment(RegionKind::Data, kData, kPageSize)));
    ASSERT_TRUE(ok(p.regions.add_stack(layout.stack_top, kBigStack)));
    ASSERT_TRUE(policy().handle_fault(kernel, p.regions, p.vs, kText, Access::Execute));
    ASSERT_TRUE(store(policy(), kernel, p.regions, p.vs, kData, 1));
    ASSERT_TRUE(store(policy(), kernel, p.regions, p.vs, layout.stack_top - 8, 2));
    ASSERT_EQ(kernel.mapped_pages(p.vs), 3u);

    uint64_t scans = kernel.scans();
    auto child = fork(p, VSpaceRef{vs.handle + 1}, layout.stack_top - 8);
    ASSERT_TRUE(child);
    EXPECT_LE(kernel.scans() - scans, 2u) << "fork scanned more than once per writable region";
    scans = kernel.scans();
    release(child->process);
    EXPECT_LE(kernel.scans() - scans, layout.release_calls);
    scans = kernel.scans();
    release(p);
    EXPECT_LE(kernel.scans() - scans, layout.release_calls);
    EXPECT_EQ(kernel.allocated(), 0u);
    vs = VSpaceRef{vs.handle + 2};
  }
}

// Fork and release of the 313-page image make at most one scan call per 60
// pages of each region they go over, plus one that finds the region's end
// (the pager may merge neighbouring regions into one call: never more).
TEST_P(PolicyTest, ForkAndReleaseScanInBatches) {
  populate();
  const auto bound = [&](const std::vector<VirtAddr>& of) {
    uint64_t calls = 0;
    for (const Region& r : parent.regions.regions()) {
      const auto n = uint64_t(std::count_if(of.begin(), of.end(), [&](VirtAddr va) { return r.contains(va); }));
      if (n > 0) calls += scan_calls_bound(n);
    }
    return calls;
  };
  uint64_t scans = kernel.scans();
  auto child = fork(parent, kChildVs, kSp);
  ASSERT_TRUE(child);
  EXPECT_LE(kernel.scans() - scans, bound(writable));
  scans = kernel.scans();
  release(child->process);
  EXPECT_LE(kernel.scans() - scans, bound(mapped));
  scans = kernel.scans();
  release(parent);
  EXPECT_LE(kernel.scans() - scans, bound(mapped));
  EXPECT_EQ(kernel.allocated(), 0u);
}

// ---- One policy's own promises ----------------------------------------------------

class EagerTest : public NamedPolicyTest {
 protected:
  EagerTest() : NamedPolicyTest("eager") {}
};

// Eager lists the pages to copy 60 at a time: a 300-page heap takes at
// least ceil(300 / 60) scan calls, and not one per page of the range.
TEST_F(EagerTest, ForkListsPagesInBatches) {
  populate();
  const uint64_t scans = kernel.scans();
  auto child = fork(parent, kChildVs, kSp);
  ASSERT_TRUE(child);
  const uint64_t calls = kernel.scans() - scans;
  EXPECT_GE(calls, (kHeapPages + kScanBatch - 1) / kScanBatch);
  EXPECT_LE(calls, (kHeapPages + kScanBatch - 1) / kScanBatch + 4);  // + the end of each writable region
  EXPECT_EQ(child->stats.pages_copied, writable.size());
}

}  // namespace
}  // namespace pager::testing_support
