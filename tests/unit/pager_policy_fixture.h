// The fixture of the pager policy tests (pager_policy_test.cc,
// pager_policy_limits_test.cc): a parent process with text, rodata, data,
// bss, a 300-page heap and a stack over the fake kernel of
// pager_fake_kernel.h, forks of it, and what each process should read.
// PolicyTest is parameterised by a registered policy (instantiate it over
// registered_policies() with policy_test_name); NamedPolicyTest picks one by
// name for what only that policy promises.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "fake_page_source.h"
#include "pager/policy.h"
#include "pager/regions.h"
#include "pager_fake_kernel.h"
#include "result_matchers.h"

namespace pager {

// A policy parameter prints as its name in GoogleTest's messages.
inline void PrintTo(const PolicyEntry& entry, std::ostream* os) { *os << entry.name; }

}  // namespace pager

namespace pager::testing_support {

using kern::kPageSize;
using kern::testing_support::ok;

inline constexpr VirtAddr kText{0x10000};
inline constexpr VirtAddr kRodata{0x20000};
inline constexpr VirtAddr kData{0x30000};
inline constexpr VirtAddr kBss{0x40000};
inline constexpr VirtAddr kHeap{0x100000};
inline constexpr uint64_t kHeapMax = 1024 * kPageSize;
inline constexpr uint64_t kHeapPages = 300;  // written: five full scan batches
inline constexpr VirtAddr kStackTop{0x3f000000};
inline constexpr uint64_t kStackMax = 16 * kPageSize;
inline constexpr VirtAddr kStackBottom = kStackTop - kStackMax;

// The n-th stack page from the top (1 is the highest).
constexpr VirtAddr stack_page(uint64_t n) { return kStackTop - n * kPageSize; }
// The stack pointer at fork, in the third page from the top: the hot window
// of hotcopy is pages 4, 3 and 2.
inline constexpr VirtAddr kSp = stack_page(3) + 0x7f0;

inline constexpr VSpaceRef kParentVs{1};
inline constexpr VSpaceRef kChildVs{2};
inline constexpr VSpaceRef kGrandchildVs{3};
inline constexpr VSpaceRef kSecondChildVs{4};

using CountingPageSource = servers::testing_support::FakePageSource;

// What a process should read: a byte value at each of a set of addresses.
using Image = std::map<uint64_t, uint8_t>;

inline uint8_t pattern(VirtAddr page) { return uint8_t(page.value() >> 12) ^ 0x5a; }
// Where in a page the tests write: not the first byte, so that an offset
// mistake in a copy would show.
inline constexpr uint64_t kOffset = 7;

struct Process {
  VSpaceRef vs;
  RegionSet regions;
};

struct Forked {
  Process process;
  ForkStats stats;
};

// A parent with text, rodata, data, bss, a 300-page heap and a stack
// (mapped by populate()), and the helpers every test uses. The policy under
// test is the subclass's.
class PolicyFixture : public ::testing::Test {
 protected:
  virtual const Policy& policy() const = 0;

  void SetUp() override {
    ASSERT_TRUE(ok(parent.regions.add_segment(RegionKind::Text, kText, 2 * kPageSize)));
    ASSERT_TRUE(ok(parent.regions.add_segment(RegionKind::Rodata, kRodata, kPageSize)));
    ASSERT_TRUE(ok(parent.regions.add_segment(RegionKind::Data, kData, 2 * kPageSize)));
    ASSERT_TRUE(ok(parent.regions.add_segment(RegionKind::Bss, kBss, 3 * kPageSize)));
    ASSERT_TRUE(ok(parent.regions.add_heap(kHeap, kHeapMax)));
    ASSERT_TRUE(parent.regions.sbrk(int64_t((kHeapPages + 10) * kPageSize)));
    ASSERT_TRUE(ok(parent.regions.add_stack(kStackTop, kStackMax)));
  }

  // Maps the parent's image: both text pages (executed), rodata (read), and
  // writes a pattern into both data pages, two of the three bss pages, 300
  // heap pages and seven stack pages (the top six, which hold every hot
  // window the tests use, and one deep below). Fills `mapped`, `writable`
  // and `image`.
  void populate() {
    for (VirtAddr va : {kText, kText + kPageSize}) {
      auto r = policy().handle_fault(kernel, parent.regions, parent.vs, va, Access::Execute);
      ASSERT_TRUE(r);
      ASSERT_EQ(*r, FaultResolution::ZeroFilled);
      mapped.push_back(va);
      image[(va + kOffset).value()] = 0;
    }
    ASSERT_EQ(load(policy(), kernel, parent.regions, parent.vs, kRodata + kOffset), 0);
    mapped.push_back(kRodata);
    image[(kRodata + kOffset).value()] = 0;

    writable = {kData, kData + kPageSize, kBss, kBss + 2 * kPageSize};
    for (uint64_t i = 0; i < kHeapPages; ++i) writable.push_back(kHeap + i * kPageSize);
    for (uint64_t n : {12, 6, 5, 4, 3, 2, 1}) writable.push_back(stack_page(n));
    for (VirtAddr va : writable) {
      ASSERT_TRUE(store(policy(), kernel, parent.regions, parent.vs, va + kOffset, pattern(va)));
      image[(va + kOffset).value()] = pattern(va);
    }
    mapped.insert(mapped.end(), writable.begin(), writable.end());
    ASSERT_EQ(kernel.mapped_pages(parent.vs), mapped.size());
  }

  // Forks `from` as the server does, its region set and then its memory by
  // `with`, into the empty VSpace `vs`. nullopt (and a test failure) if
  // either fails.
  std::optional<Forked> fork(const Policy& with, const Process& from, VSpaceRef vs, VirtAddr sp) {
    auto regions = from.regions.fork();
    if (!regions) {
      ADD_FAILURE() << "RegionSet::fork: " << kern::error_name(regions.error());
      return std::nullopt;
    }
    auto stats = with.fork(kernel, from.regions, from.vs, vs, ForkHints{sp});
    if (!stats) {
      ADD_FAILURE() << with.name() << " fork: " << kern::error_name(stats.error());
      return std::nullopt;
    }
    return Forked{Process{vs, std::move(*regions)}, *stats};
  }
  std::optional<Forked> fork(const Process& from, VSpaceRef vs, VirtAddr sp) { return fork(policy(), from, vs, sp); }

  // The pages of `child` whose frame is not the parent's: the copies fork
  // made. Fails the test if the child does not map exactly the parent's
  // pages.
  std::set<uint64_t> copied_pages(const Process& from, const Process& child) const {
    EXPECT_EQ(kernel.mapped_pages(child.vs), kernel.mapped_pages(from.vs));
    std::set<uint64_t> copied;
    for (VirtAddr va : mapped) {
      const FakeKernel::Pte* p = kernel.find(from.vs, va);
      const FakeKernel::Pte* c = kernel.find(child.vs, va);
      if (p == nullptr || c == nullptr) {
        ADD_FAILURE() << "page " << std::hex << va.value() << " not mapped in both";
        continue;
      }
      if (p->frame != c->frame) copied.insert(va.value());
    }
    return copied;
  }

  // Every address of `expected` reads its value in `p`, without a fault.
  void expect_image(const Process& p, const Image& expected) const {
    for (const auto& [va, value] : expected) {
      const std::optional<uint8_t> got = kernel.read(p.vs, VirtAddr(va));
      ASSERT_TRUE(got) << "vspace " << p.vs.handle << " cannot read " << std::hex << va;
      EXPECT_EQ(*got, value) << "vspace " << p.vs.handle << " at " << std::hex << va;
    }
  }

  // Writes `value` at every writable page of the image of `p` (through
  // faults, as the process would) and records it in `expected`.
  void write_all(const Process& p, Image& expected, uint8_t value) {
    for (VirtAddr va : writable) {
      ASSERT_TRUE(store(policy(), kernel, p.regions, p.vs, va + kOffset, value));
      expected[(va + kOffset).value()] = value;
    }
  }

  void expect_no_writable_sharing() const {
    const auto bad = kernel.writable_shared_frame();
    EXPECT_FALSE(bad) << "vspace " << bad->first.handle << " may write the shared frame at " << std::hex
                      << bad->second.value();
  }

  void release(const Process& p) {
    EXPECT_TRUE(ok(policy().release(kernel, p.regions, p.vs)));
    EXPECT_EQ(kernel.mapped_pages(p.vs), 0u);
  }

  CountingPageSource pages;
  FakeKernel kernel{8192};
  Process parent{kParentVs, RegionSet(pages)};
  std::vector<VirtAddr> mapped;    // every page populate() mapped in the parent
  std::vector<VirtAddr> writable;  // those of them in writable regions
  Image image;                     // what the parent reads after populate()
};

// The fixture with a registered policy as its parameter.
class PolicyTest : public PolicyFixture, public ::testing::WithParamInterface<PolicyEntry> {
 protected:
  const Policy& policy() const override { return GetParam().get(); }
  bool is(const char* name) const { return std::strcmp(GetParam().name, name) == 0; }
};

// The policy's name as the test's suffix: Registered/PolicyTest.X/cow.
inline std::string policy_test_name(const ::testing::TestParamInfo<PolicyEntry>& info) { return info.param.name; }

// The fixture with the policy registered under a name the subclass gives.
class NamedPolicyTest : public PolicyFixture {
 protected:
  explicit NamedPolicyTest(const char* name) : m_policy(*find_policy(name)) {}
  const Policy& policy() const override { return *m_policy; }

 private:
  const Policy* m_policy;
};

}  // namespace pager::testing_support
