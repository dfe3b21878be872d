// Host tests for the Sv39 code. PTE and satp encodings are checked against raw
// values worked out by hand from the privileged spec's bit layout, so a wrong
// BitField declaration cannot agree with itself. The page-table tests run over
// a simulated physical memory (a vector of 4 KiB pages at a fake base of
// 0x80000000) and a frame source that can be told to fail after N tables, to
// reach every error path of map and map_range. A seeded random run compares
// map/unmap/translate with a reference model of leaves and tables.
#include "sv39.h"

#include <gtest/gtest.h>

#include "result_matchers.h"

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <random>
#include <set>
#include <utility>
#include <vector>

namespace kern {

void PrintTo(Error error, std::ostream* os) { *os << error_name(error); }
template <typename Tag>
void PrintTo(Address<Tag> address, std::ostream* os) { *os << "0x" << std::hex << address.value() << std::dec; }

namespace sv39 {

void PrintTo(PageSize size, std::ostream* os) {
  *os << (size == PageSize::k4K ? "4K" : size == PageSize::k2M ? "2M" : "1G");
}
void PrintTo(Perm perm, std::ostream* os) { *os << "Perm(0x" << std::hex << static_cast<unsigned>(perm) << std::dec << ")"; }

namespace {

constexpr uint64_t k4K = 0x1000;
constexpr uint64_t k2M = 0x20'0000;
constexpr uint64_t k1G = 0x4000'0000;
constexpr uint64_t kSimBase = 0x8000'0000;

using testing_support::fails_with;

// Physical memory of `pages` 4 KiB pages starting at kSimBase.
class SimMemory final : public PhysMemory {
 public:
  explicit SimMemory(size_t pages) : m_pages(pages) {}

  uint64_t* table_ptr(PhysAddr page) override {
    uint64_t offset = page.value() - kSimBase;
    if (page.value() < kSimBase || !is_aligned(offset, kPageSize) || offset / kPageSize >= m_pages.size()) {
      ADD_FAILURE() << "table_ptr outside simulated memory: " << testing::PrintToString(page);
      m_scratch.fill(0);
      return m_scratch.data();
    }
    return m_pages[offset / kPageSize].data();
  }

  size_t page_count() const { return m_pages.size(); }

 private:
  std::vector<std::array<uint64_t, kEntriesPerTable>> m_pages;
  std::array<uint64_t, kEntriesPerTable> m_scratch{};
};

// Hands out the pages of a SimMemory in order, zeroed (dirtied first, so a
// missing zeroing in the source would show). fail_after(n) lets n more
// allocations succeed and fails the rest.
class SimFrames final : public FrameSource {
 public:
  explicit SimFrames(SimMemory& memory) : m_memory(memory) {}

  Result<PhysAddr> alloc_table() override {
    if (m_limit && m_allocated >= *m_limit) return fail(Error::NotEnoughMemory);
    if (m_allocated >= m_memory.page_count()) return fail(Error::NotEnoughMemory);
    PhysAddr page(kSimBase + m_allocated * kPageSize);
    ++m_allocated;
    uint64_t* words = m_memory.table_ptr(page);
    for (size_t i = 0; i < kEntriesPerTable; ++i) words[i] = 0;
    return page;
  }

  void fail_after(size_t n) { m_limit = m_allocated + n; }
  size_t allocated() const { return m_allocated; }

 private:
  SimMemory& m_memory;
  size_t m_allocated = 0;
  std::optional<size_t> m_limit;
};

// A root table in a fresh simulated memory. Not movable: the table holds a
// reference to the memory.
struct Sim {
  explicit Sim(size_t pages = 256) : memory(pages), frames(memory), table(take_root(), memory) {}

  PhysAddr take_root() {
    Result<PhysAddr> root = frames.alloc_table();
    EXPECT_TRUE(root.has_value());
    return *root;
  }
  uint64_t* entries(PhysAddr table_page) { return memory.table_ptr(table_page); }

  SimMemory memory;
  SimFrames frames;
  PageTable table;
};

// ---- encodings ------------------------------------------------------------

TEST(Sv39Pte, LeafEncoding) {
  // V R W, A D (bits 6, 7), PPN 0x80200 at bit 10.
  Pte pte = Pte::leaf(PhysAddr(0x8020'0000), Perm::R | Perm::W);
  EXPECT_EQ(pte.raw(), 0x2008'00C7u);
  EXPECT_TRUE(pte.valid());
  EXPECT_TRUE(pte.is_leaf());
  EXPECT_FALSE(pte.is_table());
  EXPECT_EQ(pte.perm(), Perm::R | Perm::W);
  EXPECT_EQ(pte.phys(), PhysAddr(0x8020'0000));
  EXPECT_EQ(pte.rsw(), 0u);

  // V X U G A D = 0xF9, PPN 0x123456789.
  EXPECT_EQ(Pte::leaf(PhysAddr(0x1234'5678'9000), Perm::X | Perm::U | Perm::G).raw(), 0x48D'159E'24F9u);
  // The largest PPN fills bits 53..10 and nothing above.
  EXPECT_EQ(Pte::leaf(PhysAddr(0xFF'FFFF'FFFF'F000), Perm::R).raw(), 0x003F'FFFF'FFFF'FCC3u);
  static_assert(Pte::leaf(PhysAddr(0x8020'0000), Perm::R | Perm::W).raw() == 0x2008'00C7);
}

TEST(Sv39Pte, TableEncodingAndRsw) {
  Pte pte = Pte::table(PhysAddr(0x8000'1000));
  EXPECT_EQ(pte.raw(), 0x2000'0401u);
  EXPECT_TRUE(pte.valid());
  EXPECT_TRUE(pte.is_table());
  EXPECT_FALSE(pte.is_leaf());
  EXPECT_EQ(pte.phys(), PhysAddr(0x8000'1000));
  // RSW is bits 9..8.
  EXPECT_EQ(pte.with_rsw(2).raw(), 0x2000'0601u);
  EXPECT_EQ(pte.with_rsw(3).raw(), 0x2000'0701u);
  EXPECT_EQ(Pte(0x2000'0701).rsw(), 3u);
  EXPECT_EQ(pte.with_rsw(3).with_rsw(0).raw(), pte.raw());
}

TEST(Sv39Pte, DecodesRawEntries) {
  EXPECT_FALSE(Pte(0).valid());
  EXPECT_FALSE(Pte(0xCE).valid());  // everything but V
  // W without R: valid, but neither leaf nor table.
  Pte reserved(0x5);
  EXPECT_TRUE(reserved.valid());
  EXPECT_FALSE(reserved.is_leaf());
  EXPECT_FALSE(reserved.is_table());
  // Execute-only is a leaf.
  EXPECT_TRUE(Pte(0x9).is_leaf());
  EXPECT_EQ(Pte(0x9).perm(), Perm::X);
  EXPECT_EQ(Pte(0x3F).perm(), Perm::R | Perm::W | Perm::X | Perm::U | Perm::G);
}

TEST(Sv39Satp, Encoding) {
  // MODE 8 in 63..60, ASID in 59..44, PPN in 43..0.
  EXPECT_EQ(make_satp(PhysAddr(0x8004'2000), 0x1234), 0x8123'4000'0008'0042u);
  EXPECT_EQ(make_satp(PhysAddr(0xFF'FFFF'FFFF'F000), 0xFFFF), 0x8FFF'FFFF'FFFF'FFFFu);
  EXPECT_EQ(make_satp(PhysAddr(0), 0), 0x8000'0000'0000'0000u);
}

TEST(Sv39Va, VpnAndCanonical) {
  VirtAddr va((5ull << 30) | (7ull << 21) | (9ull << 12) | 0x123);
  ASSERT_EQ(va.value(), 0x1'40E0'9123u);
  EXPECT_EQ(vpn(va, 2), 5u);
  EXPECT_EQ(vpn(va, 1), 7u);
  EXPECT_EQ(vpn(va, 0), 9u);
  EXPECT_EQ(vpn(VirtAddr(0x3F'FFFF'FFFF), 2), 0xFFu);
  EXPECT_EQ(vpn(VirtAddr(0xFFFF'FFC0'0000'0000), 2), 0x100u);
  EXPECT_EQ(vpn(VirtAddr(0xFFFF'FFFF'FFFF'F000), 0), 0x1FFu);

  EXPECT_TRUE(is_canonical(VirtAddr(0)));
  EXPECT_TRUE(is_canonical(VirtAddr(0x3F'FFFF'FFFF)));
  EXPECT_FALSE(is_canonical(VirtAddr(0x40'0000'0000)));
  EXPECT_FALSE(is_canonical(VirtAddr(0x80'0000'0000)));
  EXPECT_TRUE(is_canonical(VirtAddr(0xFFFF'FFC0'0000'0000)));
  EXPECT_FALSE(is_canonical(VirtAddr(0xFFFF'FF80'0000'0000)));
  EXPECT_FALSE(is_canonical(VirtAddr(0x8000'0000'0000'0000)));
  EXPECT_TRUE(is_canonical(VirtAddr(~uint64_t{0})));
}

// ---- map and translate ----------------------------------------------------

TEST(Sv39Map, FourKiBPage) {
  Sim sim;
  ASSERT_TRUE(sim.table.map(VirtAddr(0x1000'0000), PhysAddr(0x8765'4000), PageSize::k4K, Perm::R | Perm::W,
                            sim.frames).has_value());
  EXPECT_EQ(sim.frames.allocated(), 3u);  // root, level 1, level 0
  for (uint64_t offset : {0x0ull, 0x123ull, 0xFFFull}) {
    std::optional<Translation> t = sim.table.translate(VirtAddr(0x1000'0000 + offset));
    ASSERT_TRUE(t.has_value()) << offset;
    EXPECT_EQ(t->pa, PhysAddr(0x8765'4000 + offset));
    EXPECT_EQ(t->perm, Perm::R | Perm::W);
    EXPECT_EQ(t->size, PageSize::k4K);
    EXPECT_EQ(t->rsw, 0u);
  }
  EXPECT_FALSE(sim.table.translate(VirtAddr(0x1000'1000)).has_value());
  EXPECT_FALSE(sim.table.translate(VirtAddr(0x0FFF'FFFF)).has_value());
  // The entry on disk is the leaf encoding, at VPN[0] of the level-0 table.
  uint64_t* root = sim.entries(sim.table.root());
  Pte l1(root[vpn(VirtAddr(0x1000'0000), 2)]);
  ASSERT_TRUE(l1.is_table());
  Pte l0(sim.entries(l1.phys())[vpn(VirtAddr(0x1000'0000), 1)]);
  ASSERT_TRUE(l0.is_table());
  EXPECT_EQ(sim.entries(l0.phys())[vpn(VirtAddr(0x1000'0000), 0)], Pte::leaf(PhysAddr(0x8765'4000), Perm::R | Perm::W).raw());
}

TEST(Sv39Map, TwoMiBPage) {
  Sim sim;
  ASSERT_TRUE(sim.table.map(VirtAddr(0x4020'0000), PhysAddr(0x8040'0000), PageSize::k2M, Perm::R | Perm::X,
                            sim.frames).has_value());
  EXPECT_EQ(sim.frames.allocated(), 2u);
  std::optional<Translation> t = sim.table.translate(VirtAddr(0x4020'0000 + 0x1F'FFFF));
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->pa, PhysAddr(0x8040'0000 + 0x1F'FFFF));
  EXPECT_EQ(t->size, PageSize::k2M);
  EXPECT_EQ(t->perm, Perm::R | Perm::X);
  EXPECT_EQ(sim.table.translate(VirtAddr(0x4020'1234))->pa, PhysAddr(0x8040'1234));
  EXPECT_FALSE(sim.table.translate(VirtAddr(0x4040'0000)).has_value());
  EXPECT_FALSE(sim.table.translate(VirtAddr(0x401F'FFFF)).has_value());
}

TEST(Sv39Map, OneGiBPage) {
  Sim sim;
  ASSERT_TRUE(sim.table.map(VirtAddr(0xC000'0000), PhysAddr(0x8000'0000), PageSize::k1G, Perm::R | Perm::W | Perm::X,
                            sim.frames).has_value());
  EXPECT_EQ(sim.frames.allocated(), 1u);  // only the root
  std::optional<Translation> t = sim.table.translate(VirtAddr(0xC000'0000 + 0x3FFF'FFFF));
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->pa, PhysAddr(0xBFFF'FFFF));
  EXPECT_EQ(t->size, PageSize::k1G);
  EXPECT_EQ(sim.table.translate(VirtAddr(0xC123'4567))->pa, PhysAddr(0x8123'4567));
  EXPECT_FALSE(sim.table.translate(VirtAddr(0x1'0000'0000)).has_value());
}

TEST(Sv39Map, UpperHalfAndNonCanonicalAlias) {
  Sim sim;
  VirtAddr high(0xFFFF'FFC0'0000'0000);  // VPN[2] = 256
  ASSERT_TRUE(sim.table.map(high, PhysAddr(0x4000'0000), PageSize::k1G, Perm::R, sim.frames).has_value());
  EXPECT_EQ(sim.table.translate(high + 0x10)->pa, PhysAddr(0x4000'0010));
  // Same VPN[2], but bits 63..39 do not repeat bit 38.
  EXPECT_FALSE(sim.table.translate(VirtAddr(0x40'0000'0010)).has_value());

  VirtAddr top(0xFFFF'FFFF'FFFF'F000);
  ASSERT_TRUE(sim.table.map(top, PhysAddr(0x8000'0000), PageSize::k4K, Perm::R | Perm::W, sim.frames).has_value());
  EXPECT_EQ(sim.table.translate(VirtAddr(~uint64_t{0}))->pa, PhysAddr(0x8000'0FFF));
}

TEST(Sv39Map, PermissionsPassThrough) {
  Sim sim;
  const Perm perms[] = {Perm::R, Perm::X, Perm::R | Perm::W, Perm::R | Perm::X, Perm::R | Perm::W | Perm::X,
                        Perm::R | Perm::U, Perm::X | Perm::U, Perm::R | Perm::W | Perm::U | Perm::G};
  uint64_t va = 0x10'0000;
  for (Perm perm : perms) {
    ASSERT_TRUE(sim.table.map(VirtAddr(va), PhysAddr(va), PageSize::k4K, perm, sim.frames).has_value());
    std::optional<Translation> t = sim.table.translate(VirtAddr(va));
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->perm, perm);
    va += k4K;
  }
}

TEST(Sv39Map, RejectsInvalidPerm) {
  Sim sim;
  VirtAddr va(0x1000);
  PhysAddr pa(0x8000'0000);
  for (Perm perm : {Perm::None, Perm::W, Perm::W | Perm::X, Perm::U, Perm::G | Perm::U, Perm::W | Perm::U,
                    static_cast<Perm>(0x1 | 0x2), static_cast<Perm>(0x40 | 0x2), static_cast<Perm>(0x80 | 0x8)}) {
    EXPECT_TRUE(fails_with(sim.table.map(va, pa, PageSize::k4K, perm, sim.frames), Error::InvalidArgument))
        << testing::PrintToString(perm);
    EXPECT_TRUE(fails_with(sim.table.map_range(va, pa, k4K, perm, sim.frames), Error::InvalidArgument));
  }
  EXPECT_EQ(sim.frames.allocated(), 1u);  // checked before any table was made
}

TEST(Sv39Map, RejectsMisalignment) {
  Sim sim;
  Perm rw = Perm::R | Perm::W;
  EXPECT_TRUE(fails_with(sim.table.map(VirtAddr(0x1001), PhysAddr(0x8000'0000), PageSize::k4K, rw, sim.frames),
                         Error::AlignmentError));
  EXPECT_TRUE(fails_with(sim.table.map(VirtAddr(0x1000), PhysAddr(0x8000'0800), PageSize::k4K, rw, sim.frames),
                         Error::AlignmentError));
  EXPECT_TRUE(fails_with(sim.table.map(VirtAddr(0x20'1000), PhysAddr(0x8000'0000), PageSize::k2M, rw, sim.frames),
                         Error::AlignmentError));
  EXPECT_TRUE(fails_with(sim.table.map(VirtAddr(0x20'0000), PhysAddr(0x8000'1000), PageSize::k2M, rw, sim.frames),
                         Error::AlignmentError));
  EXPECT_TRUE(fails_with(sim.table.map(VirtAddr(0x4000'0000), PhysAddr(0x8020'0000), PageSize::k1G, rw, sim.frames),
                         Error::AlignmentError));
  EXPECT_TRUE(fails_with(sim.table.map(VirtAddr(0x20'0000), PhysAddr(0x8000'0000), PageSize::k1G, rw, sim.frames),
                         Error::AlignmentError));
  EXPECT_EQ(sim.frames.allocated(), 1u);
}

TEST(Sv39Map, RejectsOutOfRangeAddresses) {
  Sim sim;
  Perm r = Perm::R;
  EXPECT_TRUE(fails_with(sim.table.map(VirtAddr(0x40'0000'0000), PhysAddr(0), PageSize::k4K, r, sim.frames),
                         Error::RangeError));
  EXPECT_TRUE(fails_with(sim.table.map(VirtAddr(0x8000'0000'0000'0000), PhysAddr(0), PageSize::k1G, r, sim.frames),
                         Error::RangeError));
  // A physical address beyond what 44 PPN bits can name.
  EXPECT_TRUE(fails_with(sim.table.map(VirtAddr(0), PhysAddr(uint64_t{1} << 56), PageSize::k4K, r, sim.frames),
                         Error::RangeError));
  EXPECT_TRUE(sim.table.map(VirtAddr(0), PhysAddr((uint64_t{1} << 56) - k1G), PageSize::k1G, r, sim.frames)
                  .has_value());
  EXPECT_EQ(sim.frames.allocated(), 1u);
}

TEST(Sv39Map, DeleteFirstOnOverlap) {
  Sim sim;
  Perm rw = Perm::R | Perm::W;
  auto map = [&](uint64_t va, uint64_t pa, PageSize size) {
    return sim.table.map(VirtAddr(va), PhysAddr(pa), size, rw, sim.frames);
  };
  // Leaf over leaf of the same size.
  ASSERT_TRUE(map(0x1000, 0x8000'1000, PageSize::k4K).has_value());
  EXPECT_TRUE(fails_with(map(0x1000, 0x8000'2000, PageSize::k4K), Error::DeleteFirst));
  EXPECT_EQ(sim.table.translate(VirtAddr(0x1000))->pa, PhysAddr(0x8000'1000));
  // A big leaf where a table (holding that 4K page) already is.
  EXPECT_TRUE(fails_with(map(0x0, 0x8000'0000, PageSize::k2M), Error::DeleteFirst));
  EXPECT_TRUE(fails_with(map(0x0, 0x8000'0000, PageSize::k1G), Error::DeleteFirst));
  // A small page under an existing big leaf, and a 2M under a 1G.
  ASSERT_TRUE(map(0x4000'0000, 0x8000'0000, PageSize::k1G).has_value());
  ASSERT_TRUE(map(0x20'0000, 0x8020'0000, PageSize::k2M).has_value());
  size_t tables = sim.frames.allocated();
  EXPECT_TRUE(fails_with(map(0x4000'5000, 0x9000'0000, PageSize::k4K), Error::DeleteFirst));
  EXPECT_TRUE(fails_with(map(0x4020'0000, 0x9000'0000, PageSize::k2M), Error::DeleteFirst));
  EXPECT_TRUE(fails_with(map(0x20'5000, 0x9000'0000, PageSize::k4K), Error::DeleteFirst));
  EXPECT_TRUE(fails_with(map(0x20'0000, 0x9000'0000, PageSize::k2M), Error::DeleteFirst));
  EXPECT_EQ(sim.frames.allocated(), tables);  // nothing built under a leaf
  EXPECT_EQ(sim.table.translate(VirtAddr(0x4000'5000))->pa, PhysAddr(0x8000'5000));
  EXPECT_EQ(sim.table.translate(VirtAddr(0x20'5000))->pa, PhysAddr(0x8020'5000));
  // An emptied table still blocks a big leaf: tables are not freed.
  ASSERT_TRUE(sim.table.unmap(VirtAddr(0x1000), PageSize::k4K).has_value());
  EXPECT_TRUE(fails_with(map(0x0, 0x8000'0000, PageSize::k1G), Error::DeleteFirst));
}

TEST(Sv39Map, NotEnoughMemoryLeavesNothingMapped) {
  for (size_t budget = 0; budget < 2; ++budget) {
    Sim sim;
    sim.frames.fail_after(budget);
    EXPECT_TRUE(fails_with(sim.table.map(VirtAddr(0x1000), PhysAddr(0x8000'0000), PageSize::k4K, Perm::R, sim.frames),
                           Error::NotEnoughMemory));
    EXPECT_FALSE(sim.table.translate(VirtAddr(0x1000)).has_value());
    EXPECT_EQ(sim.frames.allocated(), 1 + budget);
    // With tables to spare the same call succeeds, reusing what was built.
    sim.frames.fail_after(2 - budget);
    EXPECT_TRUE(sim.table.map(VirtAddr(0x1000), PhysAddr(0x8000'0000), PageSize::k4K, Perm::R, sim.frames).has_value());
  }
}

// ---- unmap ----------------------------------------------------------------

TEST(Sv39Unmap, RemovesExactlyThatLeaf) {
  Sim sim;
  Perm r = Perm::R;
  ASSERT_TRUE(sim.table.map(VirtAddr(0x1000), PhysAddr(0x8000'1000), PageSize::k4K, r, sim.frames).has_value());
  ASSERT_TRUE(sim.table.map(VirtAddr(0x2000), PhysAddr(0x8000'2000), PageSize::k4K, r, sim.frames).has_value());
  ASSERT_TRUE(sim.table.map(VirtAddr(0x4000'0000), PhysAddr(0x8000'0000), PageSize::k1G, r, sim.frames).has_value());

  ASSERT_TRUE(sim.table.unmap(VirtAddr(0x1000), PageSize::k4K).has_value());
  EXPECT_FALSE(sim.table.translate(VirtAddr(0x1000)).has_value());
  EXPECT_TRUE(sim.table.translate(VirtAddr(0x2000)).has_value());
  EXPECT_TRUE(fails_with(sim.table.unmap(VirtAddr(0x1000), PageSize::k4K), Error::FailedLookup));

  // Wrong size for what is there: the 1G leaf stays.
  EXPECT_TRUE(fails_with(sim.table.unmap(VirtAddr(0x4000'0000), PageSize::k4K), Error::FailedLookup));
  EXPECT_TRUE(fails_with(sim.table.unmap(VirtAddr(0x4000'0000), PageSize::k2M), Error::FailedLookup));
  EXPECT_TRUE(sim.table.translate(VirtAddr(0x4000'0000)).has_value());
  // A table is not a leaf.
  EXPECT_TRUE(fails_with(sim.table.unmap(VirtAddr(0x0), PageSize::k2M), Error::FailedLookup));
  EXPECT_TRUE(fails_with(sim.table.unmap(VirtAddr(0x0), PageSize::k1G), Error::FailedLookup));
  // Nothing at all there.
  EXPECT_TRUE(fails_with(sim.table.unmap(VirtAddr(0x40'0000'0000 - k1G), PageSize::k4K), Error::FailedLookup));
  // Argument errors as in map.
  EXPECT_TRUE(fails_with(sim.table.unmap(VirtAddr(0x2800), PageSize::k4K), Error::AlignmentError));
  EXPECT_TRUE(fails_with(sim.table.unmap(VirtAddr(0x40'0000'0000), PageSize::k1G), Error::RangeError));

  ASSERT_TRUE(sim.table.unmap(VirtAddr(0x4000'0000), PageSize::k1G).has_value());
  EXPECT_FALSE(sim.table.translate(VirtAddr(0x4000'0000)).has_value());

  // Mapping again reuses the existing tables.
  size_t tables = sim.frames.allocated();
  ASSERT_TRUE(sim.table.map(VirtAddr(0x1000), PhysAddr(0x9000'0000), PageSize::k4K, r, sim.frames).has_value());
  EXPECT_EQ(sim.table.translate(VirtAddr(0x1000))->pa, PhysAddr(0x9000'0000));
  EXPECT_EQ(sim.frames.allocated(), tables);
}

// ---- translate on entries our code would never write ---------------------

TEST(Sv39Translate, RejectsMalformedEntries) {
  Sim sim;
  uint64_t* root = sim.entries(sim.table.root());
  auto new_table = [&]() {
    Result<PhysAddr> page = sim.frames.alloc_table();
    EXPECT_TRUE(page.has_value());
    return *page;
  };

  root[0] = 0x5;  // V|W: W without R is reserved
  EXPECT_FALSE(sim.table.translate(VirtAddr(0x0)).has_value());
  EXPECT_TRUE(fails_with(sim.table.map(VirtAddr(0x1000), PhysAddr(0x8000'0000), PageSize::k4K, Perm::R, sim.frames),
                         Error::DeleteFirst));
  EXPECT_TRUE(fails_with(sim.table.unmap(VirtAddr(0x0), PageSize::k1G), Error::FailedLookup));

  // 1G leaf whose PPN is only 2M aligned: a misaligned superpage.
  root[1] = Pte::leaf(PhysAddr(0x8020'0000), Perm::R).raw();
  EXPECT_FALSE(sim.table.translate(VirtAddr(0x4000'0000)).has_value());
  EXPECT_TRUE(fails_with(sim.table.unmap(VirtAddr(0x4000'0000), PageSize::k1G), Error::FailedLookup));
  root[2] = Pte::leaf(PhysAddr(0x8000'0000), Perm::R).raw();  // aligned: fine
  EXPECT_EQ(sim.table.translate(VirtAddr(0x8000'0042))->pa, PhysAddr(0x8000'0042));

  // 2M leaf whose PPN is only 4K aligned.
  PhysAddr l1 = new_table();
  root[3] = Pte::table(l1).raw();
  sim.entries(l1)[0] = Pte::leaf(PhysAddr(0x8000'1000), Perm::R).raw();
  EXPECT_FALSE(sim.table.translate(VirtAddr(0xC000'0000)).has_value());

  // A pointer at level 0.
  PhysAddr l0 = new_table();
  sim.entries(l1)[1] = Pte::table(l0).raw();
  sim.entries(l0)[0] = Pte::table(l1).raw();
  EXPECT_FALSE(sim.table.translate(VirtAddr(0xC020'0000)).has_value());
  EXPECT_TRUE(fails_with(sim.table.unmap(VirtAddr(0xC020'0000), PageSize::k4K), Error::FailedLookup));

  // Reserved bits 63..54 (N, PBMT): we support neither Svnapot nor Svpbmt.
  sim.entries(l0)[1] = Pte::leaf(PhysAddr(0x8000'0000), Perm::R).raw() | 0x8000'0000'0000'0000;
  EXPECT_FALSE(sim.table.translate(VirtAddr(0xC020'1000)).has_value());
  sim.entries(l0)[2] = Pte::leaf(PhysAddr(0x8000'0000), Perm::R).raw() | 0x0040'0000'0000'0000;
  EXPECT_FALSE(sim.table.translate(VirtAddr(0xC020'2000)).has_value());

  // Not valid, whatever else is set.
  sim.entries(l0)[3] = 0x2008'00C6;
  EXPECT_FALSE(sim.table.translate(VirtAddr(0xC020'3000)).has_value());

  // A well-formed leaf with RSW bits reports them.
  sim.entries(l0)[4] = Pte::leaf(PhysAddr(0x8000'0000), Perm::R).with_rsw(2).raw();
  std::optional<Translation> t = sim.table.translate(VirtAddr(0xC020'4010));
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->rsw, 2u);
  EXPECT_EQ(t->pa, PhysAddr(0x8000'0010));
}

// ---- map_range --------------------------------------------------------------

// The (va offset, page bytes) pieces that cover [va, va + length), read back
// through translate; also checks that the pieces map pa contiguously.
std::vector<std::pair<uint64_t, uint64_t>> layout(const PageTable& table, VirtAddr va, PhysAddr pa, uint64_t length) {
  std::vector<std::pair<uint64_t, uint64_t>> pieces;
  uint64_t done = 0;
  while (done < length) {
    std::optional<Translation> t = table.translate(va + done);
    if (!t) {
      ADD_FAILURE() << "hole at " << testing::PrintToString(va + done);
      break;
    }
    EXPECT_EQ(t->pa, pa + done);
    uint64_t bytes = page_bytes(t->size);
    pieces.emplace_back(done, bytes);
    done += bytes;
  }
  return pieces;
}

// Every 4 KiB page of [va, va + length) unmapped.
testing::AssertionResult all_unmapped(const PageTable& table, VirtAddr va, uint64_t length) {
  for (uint64_t offset = 0; offset < length; offset += k4K) {
    if (table.translate(va + offset)) {
      return testing::AssertionFailure() << "still mapped: " << testing::PrintToString(va + offset);
    }
  }
  return testing::AssertionSuccess();
}

using Pieces = std::vector<std::pair<uint64_t, uint64_t>>;

TEST(Sv39MapRange, TwoGiBIdentityUsesGigapages) {
  Sim sim;
  ASSERT_TRUE(sim.table.map_range(VirtAddr(0x8000'0000), PhysAddr(0x8000'0000), 2 * k1G, Perm::R | Perm::W,
                                  sim.frames).has_value());
  EXPECT_EQ(layout(sim.table, VirtAddr(0x8000'0000), PhysAddr(0x8000'0000), 2 * k1G), (Pieces{{0, k1G}, {k1G, k1G}}));
  EXPECT_EQ(sim.frames.allocated(), 1u);
  EXPECT_FALSE(sim.table.translate(VirtAddr(0x1'0000'0000)).has_value());
  EXPECT_FALSE(sim.table.translate(VirtAddr(0x7FFF'FFFF)).has_value());
}

TEST(Sv39MapRange, OddRangeUsesLargestPagesAllowed) {
  Sim sim;
  // 4K up to a 2M boundary, 2M up to a 1G boundary, a 1G page, then 2M and
  // 4K tails.
  VirtAddr va(0x3FDF'F000);
  uint64_t length = k4K + k2M + k1G + k2M + 3 * k4K;
  ASSERT_TRUE(sim.table.map_range(va, PhysAddr(va.value()), length, Perm::R, sim.frames).has_value());
  Pieces expected{{0, k4K},
                  {k4K, k2M},
                  {k4K + k2M, k1G},
                  {k4K + k2M + k1G, k2M},
                  {k4K + 2 * k2M + k1G, k4K},
                  {2 * k4K + 2 * k2M + k1G, k4K},
                  {3 * k4K + 2 * k2M + k1G, k4K}};
  EXPECT_EQ(layout(sim.table, va, PhysAddr(va.value()), length), expected);
  EXPECT_FALSE(sim.table.translate(va - 1).has_value());
  EXPECT_FALSE(sim.table.translate(va + length).has_value());
}

TEST(Sv39MapRange, PhysicalAlignmentLimitsPageSize) {
  Sim sim;
  // va is 1G aligned but pa only 2M aligned: 2M pages.
  ASSERT_TRUE(sim.table.map_range(VirtAddr(k1G), PhysAddr(0x8020'0000), 4 * k2M, Perm::R, sim.frames).has_value());
  EXPECT_EQ(layout(sim.table, VirtAddr(k1G), PhysAddr(0x8020'0000), 4 * k2M),
            (Pieces{{0, k2M}, {k2M, k2M}, {2 * k2M, k2M}, {3 * k2M, k2M}}));
  // va 2M aligned, pa only 4K aligned: 4K pages throughout (2 level-0 tables).
  size_t before = sim.frames.allocated();
  ASSERT_TRUE(sim.table.map_range(VirtAddr(2 * k1G), PhysAddr(0x8000'1000), 2 * k2M, Perm::R, sim.frames).has_value());
  Pieces pieces = layout(sim.table, VirtAddr(2 * k1G), PhysAddr(0x8000'1000), 2 * k2M);
  EXPECT_EQ(pieces.size(), 1024u);
  for (const auto& piece : pieces) EXPECT_EQ(piece.second, k4K);
  EXPECT_EQ(sim.frames.allocated(), before + 3);  // one level 1, two level 0
}

TEST(Sv39MapRange, ArgumentErrors) {
  Sim sim;
  Perm r = Perm::R;
  EXPECT_TRUE(fails_with(sim.table.map_range(VirtAddr(0), PhysAddr(0), 0x1800, r, sim.frames), Error::AlignmentError));
  EXPECT_TRUE(fails_with(sim.table.map_range(VirtAddr(0x10), PhysAddr(0), k4K, r, sim.frames), Error::AlignmentError));
  EXPECT_TRUE(fails_with(sim.table.map_range(VirtAddr(0), PhysAddr(0x10), k4K, r, sim.frames), Error::AlignmentError));
  EXPECT_TRUE(fails_with(sim.table.map_range(VirtAddr(0x40'0000'0000), PhysAddr(0), k4K, r, sim.frames),
                         Error::RangeError));
  // Starts canonical, runs into the hole above the lower half.
  EXPECT_TRUE(fails_with(sim.table.map_range(VirtAddr(0x3F'FFFF'F000), PhysAddr(0), 2 * k4K, r, sim.frames),
                         Error::RangeError));
  // Wraps past 2^64.
  EXPECT_TRUE(fails_with(sim.table.map_range(VirtAddr(0xFFFF'FFFF'FFFF'F000), PhysAddr(0), 2 * k4K, r, sim.frames),
                         Error::RangeError));
  // Ends exactly at 2^64: fine.
  EXPECT_TRUE(sim.table.map_range(VirtAddr(0xFFFF'FFFF'FFFF'E000), PhysAddr(0), 2 * k4K, r, sim.frames).has_value());
  // Physical end beyond 2^56.
  EXPECT_TRUE(fails_with(sim.table.map_range(VirtAddr(0), PhysAddr((uint64_t{1} << 56) - k4K), 2 * k4K, r, sim.frames),
                         Error::RangeError));
  // Empty: nothing to do.
  EXPECT_TRUE(sim.table.map_range(VirtAddr(0x5000), PhysAddr(0), 0, r, sim.frames).has_value());
  EXPECT_FALSE(sim.table.translate(VirtAddr(0x5000)).has_value());
}

TEST(Sv39MapRange, RollsBackOnNotEnoughMemoryAtEveryPoint) {
  VirtAddr va(0x3FDF'F000);
  PhysAddr pa(0x3FDF'F000);
  uint64_t length = k4K + k2M + k1G + k2M + 3 * k4K;
  // The layout above needs 4 tables: level 1 and level 0 for the first 4K
  // page, level 1 for the second gigabyte, level 0 for the 4K tail.
  for (size_t budget = 0; budget <= 4; ++budget) {
    SCOPED_TRACE(testing::Message() << "budget " << budget);
    Sim sim;
    // Something that was there before must survive the rollback. It lives
    // in another gigabyte, so it shares no table with the range.
    VirtAddr before(5 * k1G + 0x1000);
    ASSERT_TRUE(sim.table.map(before, PhysAddr(0x1000), PageSize::k4K, Perm::R, sim.frames).has_value());
    sim.frames.fail_after(budget);
    Status mapped = sim.table.map_range(va, pa, length, Perm::R | Perm::W, sim.frames);
    if (budget < 4) {
      EXPECT_TRUE(fails_with(mapped, Error::NotEnoughMemory));
      EXPECT_TRUE(all_unmapped(sim.table, va, length));
    } else {
      EXPECT_TRUE(mapped.has_value());
      EXPECT_EQ(layout(sim.table, va, pa, length).size(), 7u);
    }
    EXPECT_EQ(sim.table.translate(before)->pa, PhysAddr(0x1000));
  }
}

TEST(Sv39MapRange, RollsBackOnOverlap) {
  Sim sim;
  // The range's last 4K page is already taken.
  VirtAddr va(0x3FDF'F000);
  uint64_t length = k4K + k2M + k1G + k2M + 3 * k4K;
  VirtAddr taken = va + (length - k4K);
  ASSERT_TRUE(sim.table.map(taken, PhysAddr(0x1234'5000), PageSize::k4K, Perm::R, sim.frames).has_value());
  EXPECT_TRUE(fails_with(sim.table.map_range(va, PhysAddr(va.value()), length, Perm::R, sim.frames), Error::DeleteFirst));
  EXPECT_TRUE(all_unmapped(sim.table, va, length - k4K));
  EXPECT_EQ(sim.table.translate(taken)->pa, PhysAddr(0x1234'5000));
  // With the obstacle gone the same call succeeds.
  ASSERT_TRUE(sim.table.unmap(taken, PageSize::k4K).has_value());
  EXPECT_TRUE(sim.table.map_range(va, PhysAddr(va.value()), length, Perm::R, sim.frames).has_value());
}

// ---- randomized against a reference model ---------------------------------

struct ModelLeaf {
  uint64_t pa;
  PageSize size;
  Perm perm;
};

TEST(Sv39Random, AgainstReferenceModel) {
  Sim sim(512);
  std::map<uint64_t, ModelLeaf> leaves;  // by first va
  std::set<uint64_t> level1_tables;      // 1G-aligned vas that have a level-1 table
  std::set<uint64_t> level0_tables;      // 2M-aligned vas that have a level-0 table
  std::mt19937_64 rng(0x5339);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };

  const uint64_t gigs[] = {0, 1, 2, 255, 256, 511};
  const uint64_t smalls[] = {0, 1, 2, 511};
  const Perm perms[] = {Perm::R, Perm::X, Perm::R | Perm::W, Perm::R | Perm::X, Perm::R | Perm::W | Perm::X,
                        Perm::R | Perm::U, Perm::X | Perm::U, Perm::R | Perm::W | Perm::U | Perm::G};
  auto random_va = [&](PageSize size) {
    uint64_t gig = gigs[pick(std::size(gigs))];
    uint64_t va = gig * k1G;
    if (gig >= 256) va |= 0xFFFF'FF80'0000'0000;  // sign-extend bit 38
    if (size != PageSize::k1G) va += smalls[pick(std::size(smalls))] * k2M;
    if (size == PageSize::k4K) va += smalls[pick(std::size(smalls))] * k4K;
    return va;
  };
  auto find_leaf = [&](uint64_t va) -> std::optional<std::pair<uint64_t, ModelLeaf>> {
    for (const auto& [start, leaf] : leaves) {
      if (va >= start && va - start < page_bytes(leaf.size)) return std::make_pair(start, leaf);
    }
    return std::nullopt;
  };
  auto overlaps = [&](uint64_t va, uint64_t bytes) {
    for (const auto& [start, leaf] : leaves) {
      if (start <= va + (bytes - 1) && va <= start + (page_bytes(leaf.size) - 1)) return true;
    }
    return false;
  };
  auto check_translate = [&](uint64_t va) {
    std::optional<Translation> got = sim.table.translate(VirtAddr(va));
    std::optional<std::pair<uint64_t, ModelLeaf>> want = find_leaf(va);
    ASSERT_EQ(got.has_value(), want.has_value()) << testing::PrintToString(VirtAddr(va));
    if (!want) return;
    EXPECT_EQ(got->pa, PhysAddr(want->second.pa + (va - want->first)));
    EXPECT_EQ(got->size, want->second.size);
    EXPECT_EQ(got->perm, want->second.perm);
  };

  for (int step = 0; step < 4000; ++step) {
    SCOPED_TRACE(testing::Message() << "step " << step);
    PageSize size = static_cast<PageSize>(pick(3));
    uint64_t bytes = page_bytes(size);
    if (pick(3) != 0) {
      uint64_t va = random_va(size);
      uint64_t pa = align_down(rng() & ((uint64_t{1} << 40) - 1), bytes);
      Perm perm = perms[pick(std::size(perms))];
      Status mapped = sim.table.map(VirtAddr(va), PhysAddr(pa), size, perm, sim.frames);
      uint64_t gig = align_down(va, k1G);
      uint64_t mid = align_down(va, k2M);
      bool blocked = overlaps(va, bytes) || (size == PageSize::k1G && level1_tables.count(gig) != 0) ||
                     (size == PageSize::k2M && level0_tables.count(mid) != 0);
      if (blocked) {
        ASSERT_TRUE(fails_with(mapped, Error::DeleteFirst));
      } else {
        ASSERT_TRUE(mapped.has_value());
        leaves[va] = {pa, size, perm};
        if (size != PageSize::k1G) level1_tables.insert(gig);
        if (size == PageSize::k4K) level0_tables.insert(mid);
      }
    } else if (!leaves.empty() && pick(2) == 0) {
      auto it = std::next(leaves.begin(), static_cast<long>(pick(leaves.size())));
      ASSERT_TRUE(sim.table.unmap(VirtAddr(it->first), it->second.size).has_value());
      leaves.erase(it);
    } else {
      uint64_t va = random_va(size);
      Status unmapped = sim.table.unmap(VirtAddr(va), size);
      auto it = leaves.find(va);
      if (it != leaves.end() && it->second.size == size) {
        ASSERT_TRUE(unmapped.has_value());
        leaves.erase(it);
      } else {
        ASSERT_TRUE(fails_with(unmapped, Error::FailedLookup));
      }
    }
    ASSERT_EQ(sim.frames.allocated(), 1 + level1_tables.size() + level0_tables.size());
    for (int probe = 0; probe < 4; ++probe) {
      uint64_t va = random_va(PageSize::k4K) + pick(k4K);
      ASSERT_NO_FATAL_FAILURE(check_translate(va));
    }
    if (!leaves.empty()) {
      auto it = std::next(leaves.begin(), static_cast<long>(pick(leaves.size())));
      ASSERT_NO_FATAL_FAILURE(check_translate(it->first + rng() % page_bytes(it->second.size)));
    }
  }
  for (const auto& [start, leaf] : leaves) {
    ASSERT_NO_FATAL_FAILURE(check_translate(start));
    ASSERT_NO_FATAL_FAILURE(check_translate(start + page_bytes(leaf.size) - 1));
  }
}

}  // namespace
}  // namespace sv39
}  // namespace kern
