// Host tests of the fork semantics every pager policy must keep
// (servers/pager/policy.h), against the fake kernel of pager_fake_kernel.h:
// after fork the child reads what the parent had, and from then on neither
// sees the other's writes, in any order and over any number of generations;
// no frame that two mappings share is writable through either; text and
// rodata are never copied; the IPC buffer is nobody's but its process's;
// releasing every process gives every frame back. The tests are
// instantiated over registered_policies(), so a policy added to
// policies.def is tested here without anyone writing a test for it; what
// only one policy promises (cow copies nothing, eager every writable page,
// hotcopy exactly the stack pages around sp) is checked by name. Failures
// and costs are in pager_policy_limits_test.cc.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <optional>
#include <set>
#include <vector>

#include "pager/policy.h"
#include "pager/regions.h"
#include "pager_policy_fixture.h"
#include "result_matchers.h"

namespace pager::testing_support {
namespace {

INSTANTIATE_TEST_SUITE_P(Registered, PolicyTest, ::testing::ValuesIn(registered_policies()), policy_test_name);

// ---- Isolation ----------------------------------------------------------------

class IsolationTest : public PolicyTest {
 protected:
  // Fork, then each side writes every writable page, the one then the
  // other: neither sees the other's writes, and releasing both gives every
  // frame back.
  void check_isolation(bool parent_first) {
    populate();
    auto child = fork(parent, kChildVs, kSp);
    ASSERT_TRUE(child);
    expect_image(child->process, image);
    expect_no_writable_sharing();

    Image parent_image = image, child_image = image;
    const Process& first = parent_first ? parent : child->process;
    const Process& second = parent_first ? child->process : parent;
    Image& first_image = parent_first ? parent_image : child_image;
    Image& second_image = parent_first ? child_image : parent_image;
    write_all(first, first_image, 0x11);
    expect_image(first, first_image);
    expect_image(second, second_image);
    expect_no_writable_sharing();
    write_all(second, second_image, 0x22);
    expect_image(first, first_image);
    expect_image(second, second_image);

    // A page first touched after the fork is private to whoever touches it.
    ASSERT_TRUE(store(policy(), kernel, second.regions, second.vs, kBss + kPageSize, 9));
    EXPECT_EQ(kernel.find(first.vs, kBss + kPageSize), nullptr);
    EXPECT_TRUE(kernel.check_counts());

    release(first);
    expect_image(second, second_image);  // the survivor's memory, text included
    release(second);
    EXPECT_EQ(kernel.allocated(), 0u);
    EXPECT_TRUE(kernel.check_counts());
  }
};

INSTANTIATE_TEST_SUITE_P(Registered, IsolationTest, ::testing::ValuesIn(registered_policies()), policy_test_name);

TEST_P(IsolationTest, ParentWritesFirst) { check_isolation(true); }

TEST_P(IsolationTest, ChildWritesFirst) { check_isolation(false); }

// ---- What fork copies -----------------------------------------------------------

TEST_P(PolicyTest, ForkNeverCopiesTextAndCountsEveryPage) {
  populate();
  const size_t before = kernel.allocated();
  auto child = fork(parent, kChildVs, kSp);
  ASSERT_TRUE(child);
  const ForkStats& stats = child->stats;
  const std::set<uint64_t> copied = copied_pages(parent, child->process);

  EXPECT_EQ(stats.pages_copied, copied.size());
  EXPECT_EQ(stats.pages_copied + stats.pages_shared, kernel.mapped_pages(parent.vs));
  EXPECT_EQ(kernel.allocated(), before + copied.size());
  EXPECT_TRUE(kernel.check_counts());
  expect_no_writable_sharing();

  // Read-only regions: the parent's frame, with the region's permissions.
  for (VirtAddr va : {kText, kText + kPageSize, kRodata}) {
    EXPECT_EQ(kernel.find(child->process.vs, va)->frame, kernel.find(parent.vs, va)->frame);
    EXPECT_EQ(copied.count(va.value()), 0u);
  }
  EXPECT_EQ(kernel.find(child->process.vs, kText)->perm, kRX);
  EXPECT_EQ(kernel.find(child->process.vs, kRodata)->perm, Perm::Read);
  // A copy is a private writable page with the parent's contents.
  for (uint64_t va : copied) {
    const FakeKernel::Pte* pte = kernel.find(child->process.vs, VirtAddr(va));
    EXPECT_EQ(pte->perm, kRW);
    EXPECT_FALSE(pte->cow);
    EXPECT_EQ(kernel.read(child->process.vs, VirtAddr(va) + kOffset), pattern(VirtAddr(va)));
  }

  std::set<uint64_t> expected;
  if (is("cow")) {
    EXPECT_EQ(stats.pages_copied, 0u);
  } else if (is("eager")) {
    for (VirtAddr va : writable) expected.insert(va.value());
    EXPECT_EQ(copied, expected);
  } else if (is("hotcopy")) {
    // The page of sp, one below, one above: all three are mapped.
    for (uint64_t n : {4, 3, 2}) expected.insert(stack_page(n).value());
    EXPECT_EQ(copied, expected);
  }

  release(child->process);
  release(parent);
  EXPECT_EQ(kernel.allocated(), 0u);
  EXPECT_TRUE(kernel.check_counts());
}

// Whatever the hint, a fork succeeds and isolates: sp unknown (0), in the
// heap, in the guard page, at the stack's ends, beyond every region.
TEST_P(PolicyTest, AnyStackPointerHintIsHarmless) {
  populate();
  const size_t before = kernel.allocated();
  const VirtAddr hints[] = {VirtAddr(0), kHeap + 5 * kPageSize + 8, kStackBottom - 8, kStackBottom,
                            kStackTop - 1, kStackTop, VirtAddr(kUserTop - 8), VirtAddr(~uint64_t{0} - 7)};
  for (VirtAddr sp : hints) {
    SCOPED_TRACE(sp.value());
    auto child = fork(parent, kChildVs, sp);
    ASSERT_TRUE(child);
    expect_image(child->process, image);
    expect_no_writable_sharing();
    EXPECT_EQ(child->stats.pages_copied + child->stats.pages_shared, kernel.mapped_pages(parent.vs));
    release(child->process);
    EXPECT_EQ(kernel.allocated(), before);
    EXPECT_TRUE(kernel.check_counts());
  }
  expect_image(parent, image);
}

// The IPC buffer, the one page a process has outside its regions, sits a
// page above the stack (servers/pager/protocol.h); the server maps and frees
// it. No fork gives it to the child, even with sp in the stack's top page,
// and no release touches it.
TEST_P(PolicyTest, ForkAndReleaseLeaveTheIpcBufferAlone) {
  const VirtAddr ipc_buffer = kStackTop + kPageSize;
  populate();
  auto frame = kernel.alloc_frame();
  ASSERT_TRUE(frame);
  ASSERT_TRUE(ok(kernel.map(parent.vs, ipc_buffer, {&*frame, 1}, kRW)));
  ASSERT_TRUE(kernel.write(parent.vs, ipc_buffer, 0xee));
  for (VirtAddr sp : {kStackTop - 8, kSp, VirtAddr(0)}) {
    SCOPED_TRACE(sp.value());
    auto child = fork(parent, kChildVs, sp);
    ASSERT_TRUE(child);
    EXPECT_EQ(kernel.find(child->process.vs, ipc_buffer), nullptr);
    EXPECT_EQ(kernel.mapped_pages(child->process.vs), mapped.size());
    EXPECT_EQ(child->stats.pages_copied + child->stats.pages_shared, mapped.size());
    EXPECT_EQ(kernel.find(parent.vs, ipc_buffer)->perm, kRW);
    release(child->process);
  }
  EXPECT_TRUE(ok(policy().release(kernel, parent.regions, parent.vs)));
  EXPECT_EQ(kernel.read(parent.vs, ipc_buffer), 0xee);
  EXPECT_EQ(kernel.allocated(), 1u);
  ASSERT_TRUE(kernel.unmap(parent.vs, ipc_buffer, kPageSize));
  kernel.free_frame(*frame);
  EXPECT_EQ(kernel.allocated(), 0u);
  EXPECT_TRUE(kernel.check_counts());
}

// ---- Three generations ----------------------------------------------------------

// Parent, child and grandchild share pages (a data page, a heap page, the
// stack page at sp) and write them in each of the 6 orders. Every process
// reads its own value afterwards; a fault on a page still shared takes a
// frame for a copy, the last sharer's fault takes none (MadeWritable); under
// cow the data page goes Copied, Copied, MadeWritable whatever the order.
TEST_P(PolicyTest, ThreeGenerationsWriteInEveryOrder) {
  std::array<int, 3> order{0, 1, 2};
  do {
    SCOPED_TRACE(::testing::Message() << "order " << order[0] << order[1] << order[2]);
    FakeKernel k{64};
    CountingPageSource source;
    Process p{kParentVs, RegionSet(source)};
    ASSERT_TRUE(ok(p.regions.add_segment(RegionKind::Text, kText, kPageSize)));
    ASSERT_TRUE(ok(p.regions.add_segment(RegionKind::Data, kData, kPageSize)));
    ASSERT_TRUE(ok(p.regions.add_heap(kHeap, kHeapMax)));
    ASSERT_TRUE(p.regions.sbrk(int64_t(kPageSize)));
    ASSERT_TRUE(ok(p.regions.add_stack(kStackTop, kStackMax)));
    const VirtAddr shared[] = {kData, kHeap, kSp.align_down(kPageSize)};
    ASSERT_TRUE(policy().handle_fault(k, p.regions, p.vs, kText, Access::Execute));
    for (VirtAddr va : shared) ASSERT_TRUE(store(policy(), k, p.regions, p.vs, va + kOffset, 0x99));

    auto c_regions = p.regions.fork();
    ASSERT_TRUE(c_regions);
    ASSERT_TRUE(policy().fork(k, p.regions, p.vs, kChildVs, ForkHints{kSp}));
    Process c{kChildVs, std::move(*c_regions)};
    auto g_regions = c.regions.fork();
    ASSERT_TRUE(g_regions);
    ASSERT_TRUE(policy().fork(k, c.regions, c.vs, kGrandchildVs, ForkHints{kSp}));
    Process g{kGrandchildVs, std::move(*g_regions)};
    EXPECT_TRUE(k.check_counts());

    const Process* procs[] = {&p, &c, &g};
    uint8_t expected[3] = {0x99, 0x99, 0x99};
    std::vector<FaultResolution> data_resolutions;
    for (int who : order) {
      const Process& writer = *procs[who];
      const uint8_t value = uint8_t(0x10 * (who + 1));
      for (VirtAddr va : shared) {
        const auto info = k.lookup(writer.vs, va);
        ASSERT_TRUE(info);
        const size_t frames = k.allocated();
        if (has(info->perm, Perm::Write)) {
          EXPECT_EQ(info->map_count, 1u) << "writable and shared at " << std::hex << va.value();
        } else {
          auto r = policy().handle_fault(k, writer.regions, writer.vs, va + kOffset, Access::Write);
          ASSERT_TRUE(r) << kern::error_name(r.error());
          if (va == kData) data_resolutions.push_back(*r);
          if (info->map_count == 1) {
            EXPECT_EQ(*r, FaultResolution::MadeWritable) << std::hex << va.value();
            EXPECT_EQ(k.allocated(), frames);
            EXPECT_EQ(k.find(writer.vs, va)->frame, info->frame.handle);
          } else {
            EXPECT_EQ(*r, FaultResolution::Copied) << std::hex << va.value();
            EXPECT_EQ(k.allocated(), frames + 1);
          }
        }
        ASSERT_TRUE(k.write(writer.vs, va + kOffset, value));
      }
      expected[who] = value;
      for (int i = 0; i < 3; ++i) {
        for (VirtAddr va : shared) EXPECT_EQ(k.read(procs[i]->vs, va + kOffset), expected[i]) << "process " << i;
      }
      EXPECT_FALSE(k.writable_shared_frame());
    }
    if (is("cow")) {
      EXPECT_EQ(data_resolutions, (std::vector{FaultResolution::Copied, FaultResolution::Copied,
                                               FaultResolution::MadeWritable}));
    }
    for (int who : order) {
      EXPECT_TRUE(ok(policy().release(k, procs[who]->regions, procs[who]->vs)));
      EXPECT_TRUE(k.check_counts());
    }
    EXPECT_EQ(k.allocated(), 0u);
  } while (std::next_permutation(order.begin(), order.end()));
}

// ---- Forking twice ------------------------------------------------------------

// The parent forks a first child with `first`, its stack grows two pages
// deeper, then it forks a second child with the policy under test. The
// second fork's hot window (pages 6, 5, 4) holds pages the parent still
// shares copy-on-write with the first child: nothing the parent writes may
// reach the first child, nor the other way round.
class OlderChildTest : public PolicyTest {
 protected:
  void check(const Policy& first) {
    populate();
    auto older = fork(first, parent, kChildVs, kSp);
    ASSERT_TRUE(older);
    const VirtAddr deeper_sp = stack_page(5) + 0x10;
    auto younger = fork(parent, kSecondChildVs, deeper_sp);
    ASSERT_TRUE(younger);
    expect_no_writable_sharing();
    expect_image(older->process, image);
    expect_image(younger->process, image);

    Image parent_image = image, older_image = image, younger_image = image;
    write_all(parent, parent_image, 0x31);
    expect_image(older->process, older_image);
    expect_image(younger->process, younger_image);
    write_all(older->process, older_image, 0x32);
    expect_image(parent, parent_image);
    expect_image(younger->process, younger_image);
    write_all(younger->process, younger_image, 0x33);
    expect_image(parent, parent_image);
    expect_image(older->process, older_image);

    release(parent);
    release(younger->process);
    expect_image(older->process, older_image);
    release(older->process);
    EXPECT_EQ(kernel.allocated(), 0u);
    EXPECT_TRUE(kernel.check_counts());
  }
};

INSTANTIATE_TEST_SUITE_P(Registered, OlderChildTest, ::testing::ValuesIn(registered_policies()), policy_test_name);

TEST_P(OlderChildTest, StaysIsolatedWhenForkedByTheSamePolicy) { check(policy()); }

// The first fork by cow: the process switched policy since.
TEST_P(OlderChildTest, StaysIsolatedWhenForkedByCow) { check(**find_policy("cow")); }

// The hot window's pages specifically: the parent's stack page 5 is
// copy-on-write with the first child (sp was in page 3 then) and inside the
// window of the second fork. Writing it from the parent must copy, and the
// first child keeps the old value.
TEST_P(OlderChildTest, ParentWriteAfterSecondForkLeavesTheFirstChildsPage) {
  populate();
  auto older = fork(**find_policy("cow"), parent, kChildVs, kSp);
  ASSERT_TRUE(older);
  auto younger = fork(parent, kSecondChildVs, stack_page(5) + 0x10);
  ASSERT_TRUE(younger);
  const VirtAddr page = stack_page(5);
  const FakeKernel::Pte* pte = kernel.find(parent.vs, page);
  ASSERT_NE(pte, nullptr);
  EXPECT_FALSE(has(pte->perm, Perm::Write)) << "the parent may write a frame the first child maps";
  EXPECT_EQ(pte->frame, kernel.find(older->process.vs, page)->frame);
  ASSERT_TRUE(store(policy(), kernel, parent.regions, parent.vs, page + kOffset, 0x44));
  EXPECT_EQ(kernel.read(older->process.vs, page + kOffset), pattern(page));
  EXPECT_EQ(kernel.read(younger->process.vs, page + kOffset), pattern(page));
  EXPECT_EQ(kernel.read(parent.vs, page + kOffset), 0x44);
  release(older->process);
  release(younger->process);
  release(parent);
  EXPECT_EQ(kernel.allocated(), 0u);
}

// ---- One policy's own promises ----------------------------------------------------

class HotcopyTest : public NamedPolicyTest {
 protected:
  HotcopyTest() : NamedPolicyTest("hotcopy") {}
};

// sp outside the stack's accessible part (unknown, in the heap, in the
// guard page): hotcopy forks as cow does, copying nothing and leaving every
// page of the child as the parent's (same frame, writable ones marked).
TEST_F(HotcopyTest, StackPointerOutsideTheStackForksAsCow) {
  populate();
  for (VirtAddr sp : {VirtAddr(0), kHeap + 5 * kPageSize + 8, kStackBottom - 8}) {
    SCOPED_TRACE(sp.value());
    const size_t before = kernel.allocated();
    auto child = fork(parent, kChildVs, sp);
    ASSERT_TRUE(child);
    EXPECT_EQ(child->stats.pages_copied, 0u);
    EXPECT_EQ(child->stats.pages_shared, mapped.size());
    EXPECT_EQ(kernel.allocated(), before);
    for (VirtAddr va : mapped) {
      const FakeKernel::Pte* p = kernel.find(parent.vs, va);
      const FakeKernel::Pte* c = kernel.find(child->process.vs, va);
      ASSERT_NE(c, nullptr);
      EXPECT_EQ(c->frame, p->frame);
      EXPECT_EQ(c->perm, p->perm);
      EXPECT_EQ(c->cow, p->cow);
    }
    for (VirtAddr va : writable) EXPECT_TRUE(kernel.find(child->process.vs, va)->cow) << std::hex << va.value();
    release(child->process);
  }
}

// sp in the highest or the lowest page of the stack: the window is clipped
// to the stack (never the guard page, never above the top), no error.
TEST_F(HotcopyTest, WindowIsClippedAtTheStacksEnds) {
  const VirtAddr bottom_pages[] = {kStackBottom, kStackBottom + kPageSize, kStackBottom + 2 * kPageSize};
  for (VirtAddr va : bottom_pages) ASSERT_TRUE(store(policy(), kernel, parent.regions, parent.vs, va + 1, 3));
  for (uint64_t n : {1, 2, 3}) ASSERT_TRUE(store(policy(), kernel, parent.regions, parent.vs, stack_page(n) + 1, 4));
  for (VirtAddr va : bottom_pages) mapped.push_back(va);
  for (uint64_t n : {1, 2, 3}) mapped.push_back(stack_page(n));

  struct Case {
    VirtAddr sp;
    std::set<uint64_t> copied;
  };
  const Case cases[] = {
      {kStackTop - 8, {stack_page(1).value(), stack_page(2).value()}},
      {kStackTop - 1, {stack_page(1).value(), stack_page(2).value()}},
      {kStackBottom, {bottom_pages[0].value(), bottom_pages[1].value()}},
      {kStackBottom + 8, {bottom_pages[0].value(), bottom_pages[1].value()}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.sp.value());
    auto child = fork(parent, kChildVs, c.sp);
    ASSERT_TRUE(child);
    EXPECT_EQ(copied_pages(parent, child->process), c.copied);
    EXPECT_EQ(child->stats.pages_copied, c.copied.size());
    release(child->process);
  }
  release(parent);
  EXPECT_EQ(kernel.allocated(), 0u);
}

// Pages of the window that are not mapped are not made up: sp in a page
// never touched copies only the mapped neighbours.
TEST_F(HotcopyTest, WindowCopiesOnlyMappedPages) {
  populate();
  // Pages 8 to 11 are not mapped; 12 is. sp in page 11: window 12, 11, 10.
  auto child = fork(parent, kChildVs, stack_page(11) + 0x100);
  ASSERT_TRUE(child);
  EXPECT_EQ(copied_pages(parent, child->process), (std::set<uint64_t>{stack_page(12).value()}));
  EXPECT_EQ(kernel.find(child->process.vs, stack_page(11)), nullptr);
  EXPECT_EQ(kernel.find(child->process.vs, stack_page(10)), nullptr);
}

}  // namespace
}  // namespace pager::testing_support
