// Host tests for user address spaces. Page tables and table pools live in a
// simulated physical arena (a page-aligned host buffer that the direct map
// places at 0x80000000, through set_phys_to_virt_offset). Mapped frames are
// only numbers, never touched: RAM frames come from a FrameTable window at
// 4 GiB, device frames lie below it. A recording TlbFlusher checks that every
// changed PTE is flushed in its own space. Each space's translations are also
// read back through sv39::PageTable::translate, the model of the hardware
// walk. A seeded random run compares every operation with a reference model
// (va -> frame, perm, cow per space), including map counts and the number of
// table pages in use (emptied tables must go back to the pool).
#include "vspace.h"

#include <gtest/gtest.h>

#include "result_matchers.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#include "kmem.h"

namespace kern {

void PrintTo(Error error, std::ostream* os) { *os << error_name(error); }
template <typename Tag>
void PrintTo(Address<Tag> address, std::ostream* os) { *os << "0x" << std::hex << address.value() << std::dec; }
namespace sv39 {
void PrintTo(Perm perm, std::ostream* os) { *os << "Perm(0x" << std::hex << static_cast<unsigned>(perm) << std::dec << ")"; }
}  // namespace sv39

namespace {

using sv39::Perm;
using sv39::Pte;

constexpr uint64_t k4K = 0x1000;
constexpr uint64_t k2M = 0x20'0000;
constexpr uint64_t k1G = 0x4000'0000;
constexpr uint64_t kArenaBase = 0x8000'0000;
constexpr size_t kArenaPages = 2048;
constexpr PhysAddr kFrameBase{0x1'0000'0000};
constexpr size_t kFrameCount = 4096;
constexpr PhysAddr kDevice{0x1000'0000};

constexpr Perm kRO = Perm::R | Perm::U;
constexpr Perm kRW = Perm::R | Perm::W | Perm::U;
constexpr Perm kRX = Perm::R | Perm::X | Perm::U;
constexpr Perm kRWX = Perm::R | Perm::W | Perm::X | Perm::U;
constexpr Perm kXO = Perm::X | Perm::U;

PhysAddr frame(size_t index) { return kFrameBase + index * k4K; }

using testing_support::fails_with;

// Page-aligned host memory standing in for physical memory at kArenaBase.
class Arena {
 public:
  Arena() : m_memory(static_cast<uint8_t*>(std::aligned_alloc(k4K, kArenaPages * k4K))) {
    std::memset(m_memory, 0xA5, kArenaPages * k4K);  // garbage: zeroing must be done by the code
    set_phys_to_virt_offset(reinterpret_cast<uint64_t>(m_memory) - kArenaBase);
  }
  ~Arena() { std::free(m_memory); }

  PhysAddr take(size_t pages, bool zeroed = false) {
    EXPECT_LE(m_used + pages, kArenaPages);
    PhysAddr start(kArenaBase + m_used * k4K);
    m_used += pages;
    if (zeroed) std::memset(phys_to_ptr<uint8_t>(start), 0, pages * k4K);
    return start;
  }

 private:
  uint8_t* m_memory;
  size_t m_used = 0;
};

class RecordingTlb final : public TlbFlusher {
 public:
  void flush_page(uint16_t asid, VirtAddr va) override { pages.insert({asid, va.value()}); }
  void flush_asid(uint16_t asid) override { asids.insert(asid); }

  bool covers(uint16_t asid, uint64_t va) const { return asids.contains(asid) || pages.contains({asid, va}); }
  void clear() { pages.clear(), asids.clear(); }

  std::set<std::pair<uint16_t, uint64_t>> pages;
  std::set<uint16_t> asids;
};

// One address space with its own root and pool. Not movable: UserSpace holds
// references to the pool state.
struct Space {
  Space(Arena& arena, const uint64_t* kernel_root, size_t pool_pages, uint16_t asid_, FrameTable& frames,
        TlbFlusher& tlb)
      : root(arena.take(1, true)),
        pool{arena.take(pool_pages), pool_pages * k4K, 0, PhysAddr(0), 0},
        asid(asid_),
        space(sv39::PageTable(root, direct_map_memory()), pool, asid, frames, tlb) {
    UserSpace::init_root(entries(), kernel_root);
  }

  uint64_t* entries() { return phys_to_ptr<uint64_t>(root); }
  uint64_t available() { return TablePool(pool).available(); }
  std::optional<sv39::Translation> translate(uint64_t va) {
    return sv39::PageTable(root, direct_map_memory()).translate(VirtAddr(va));
  }

  PhysAddr root;
  TablePoolState pool;
  uint16_t asid;
  UserSpace space;
};

class VSpaceTest : public testing::Test {
 protected:
  VSpaceTest() : m_counts(kFrameCount, 0), m_kernel_root(m_arena.take(1, true)) {
    frames.init(kFrameBase, kFrameCount, m_counts);
    uint64_t* kernel = phys_to_ptr<uint64_t>(m_kernel_root);
    for (size_t i = 256; i < 512; ++i) kernel[i] = Pte::table(PhysAddr(0x9000'0000 + i * k4K)).raw();
  }

  std::unique_ptr<Space> make_space(size_t pool_pages = 64, uint16_t asid = 1) {
    return std::make_unique<Space>(m_arena, phys_to_ptr<uint64_t>(m_kernel_root), pool_pages, asid, frames, tlb);
  }

  // The kernel half of a root is exactly the kernel's.
  bool kernel_half_intact(Space& s) {
    return std::memcmp(s.entries() + 256, phys_to_ptr<uint64_t>(m_kernel_root) + 256, 256 * 8) == 0;
  }

  // What lookup says about va, as one comparable value.
  using Info = std::tuple<PhysAddr, Perm, bool, uint32_t>;
  Info info(Space& s, uint64_t va) {
    Result<PageInfo> page = s.space.lookup(VirtAddr(va));
    EXPECT_TRUE(page.has_value()) << std::hex << va;
    return page ? Info{page->frame, page->perm, page->cow, page->map_count} : Info{};
  }

  std::vector<PhysAddr> frames_from(size_t first, size_t count) {
    std::vector<PhysAddr> out;
    for (size_t i = 0; i < count; ++i) out.push_back(frame(first + i));
    return out;
  }

  Arena m_arena;
  std::vector<uint32_t> m_counts;
  PhysAddr m_kernel_root;
  FrameTable frames;
  RecordingTlb tlb;
};

// ---- FrameTable, TablePool, AsidAllocator -----------------------------------

TEST(FrameTable, CountsOnlyItsWindow) {
  std::vector<uint32_t> counts(16, 0);
  FrameTable table;
  table.init(kFrameBase, 16, counts);
  EXPECT_TRUE(table.tracks(frame(0)));
  EXPECT_TRUE(table.tracks(frame(15)));
  EXPECT_FALSE(table.tracks(frame(16)));
  EXPECT_FALSE(table.tracks(kFrameBase - k4K));
  for (PhysAddr f : {frame(3), frame(3), kDevice, frame(16)}) table.add_mapping(f);
  EXPECT_EQ(table.map_count(frame(3)), 2u);
  EXPECT_EQ(table.map_count(kDevice), 0u);
  table.remove_mapping(frame(3));
  table.remove_mapping(kDevice);
  EXPECT_EQ(table.map_count(frame(3)), 1u);
  table.remove_mapping(frame(4));  // never below zero
  EXPECT_EQ(table.map_count(frame(4)), 0u);

  EXPECT_TRUE(table.any_mapped(frame(3), k4K));
  EXPECT_TRUE(table.any_mapped(frame(3) + 0x800, 1));
  EXPECT_TRUE(table.any_mapped(kFrameBase - k1G, k1G + 4 * k4K));  // overlaps the window's start
  EXPECT_FALSE(table.any_mapped(kFrameBase - k1G, k1G + 3 * k4K));
  EXPECT_FALSE(table.any_mapped(frame(4), 12 * k4K));
  EXPECT_FALSE(table.any_mapped(frame(0), 3 * k4K));
  EXPECT_FALSE(table.any_mapped(frame(3), 0));
  EXPECT_TRUE(table.any_mapped(frame(0), ~uint64_t{0}));  // runs past 2^64: clamped
  EXPECT_FALSE(table.any_mapped(kDevice, k4K));
  table.remove_mapping(frame(3));
  EXPECT_FALSE(table.any_mapped(frame(0), 16 * k4K));
}

TEST(TablePool, CarvesReusesAndZeroes) {
  Arena arena;
  TablePoolState state{arena.take(3), 3 * k4K, 0, PhysAddr(0), 0};
  TablePool pool(state);
  EXPECT_EQ(pool.available(), 3u);
  PhysAddr a = *pool.alloc_table();
  PhysAddr b = *pool.alloc_table();
  EXPECT_EQ(a, state.base);
  EXPECT_EQ(b, state.base + k4K);
  for (size_t i = 0; i < 512; ++i) ASSERT_EQ(phys_to_ptr<uint64_t>(a)[i], 0u);
  EXPECT_EQ(pool.available(), 1u);
  std::memset(phys_to_ptr<uint8_t>(a), 0x5A, k4K);
  pool.free_table(a);
  EXPECT_EQ(pool.available(), 2u);
  EXPECT_EQ(*pool.alloc_table(), a);  // the free list first
  for (size_t i = 0; i < 512; ++i) ASSERT_EQ(phys_to_ptr<uint64_t>(a)[i], 0u);
  EXPECT_TRUE(pool.alloc_table().has_value());
  EXPECT_EQ(pool.available(), 0u);
  EXPECT_TRUE(fails_with(pool.alloc_table(), Error::NotEnoughMemory));
  pool.free_table(b);
  pool.free_table(a);
  EXPECT_EQ(*pool.alloc_table(), a);
  EXPECT_EQ(*pool.alloc_table(), b);

  TablePoolState none;
  EXPECT_EQ(TablePool(none).available(), 0u);
  EXPECT_TRUE(fails_with(TablePool(none).alloc_table(), Error::NotEnoughMemory));
}

TEST(AsidAllocator, ExhaustionAndReuse) {
  std::vector<uint64_t> bitmap(2, ~uint64_t{0});  // garbage: init clears
  AsidAllocator asids;
  asids.init(bitmap, 100);
  std::set<uint16_t> seen;
  for (int i = 1; i < 100; ++i) seen.insert(asids.alloc().value_or(0));
  EXPECT_EQ(seen.size(), 99u);  // 1..99, each once
  EXPECT_EQ(*seen.begin(), 1u);
  EXPECT_EQ(*seen.rbegin(), 99u);
  EXPECT_TRUE(fails_with(asids.alloc(), Error::NotEnoughMemory));
  asids.free(70);
  asids.free(5);
  asids.free(0);    // the kernel's: ignored
  asids.free(200);  // out of range: ignored
  std::set<uint16_t> again{*asids.alloc(), *asids.alloc()};
  EXPECT_EQ(again, (std::set<uint16_t>{5, 70}));
  EXPECT_TRUE(fails_with(asids.alloc(), Error::NotEnoughMemory));

  AsidAllocator single;
  single.init(bitmap, 1);  // only the kernel's
  EXPECT_TRUE(fails_with(single.alloc(), Error::NotEnoughMemory));
  AsidAllocator full;
  std::vector<uint64_t> big(1024);
  full.init(big, 70000);  // clamped to 16-bit ASIDs
  for (int i = 1; i < 65536; ++i) ASSERT_TRUE(full.alloc().has_value());
  EXPECT_TRUE(fails_with(full.alloc(), Error::NotEnoughMemory));
}

// ---- map, lookup, unmap, protect, replace -----------------------------------

TEST_F(VSpaceTest, MapLookupTranslate) {
  auto s = make_space();
  EXPECT_TRUE(kernel_half_intact(*s));  // init_root
  std::vector<PhysAddr> f = frames_from(10, 3);
  f.push_back(kDevice);
  uint64_t va = 2 * k2M - 2 * k4K;  // crosses a 2 MiB boundary
  ASSERT_TRUE(s->space.map(VirtAddr(va), f, kRW).has_value());
  EXPECT_EQ(s->available(), 64u - 3);  // level 1 and two leaf tables
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(info(*s, va + i * k4K + 0x123), Info(f[i], kRW, false, i < 3 ? 1 : 0));  // devices: no count
    auto t = s->translate(va + i * k4K + 0x10);
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->pa, f[i] + 0x10);
    EXPECT_EQ(t->perm, kRW);
    EXPECT_TRUE(tlb.covers(1, va + i * k4K));
  }
  EXPECT_TRUE(fails_with(s->space.lookup(VirtAddr(va - k4K)), Error::FailedLookup));
  EXPECT_TRUE(fails_with(s->space.lookup(VirtAddr(va + 4 * k4K)), Error::FailedLookup));
  EXPECT_TRUE(fails_with(s->space.lookup(VirtAddr(5 * k1G)), Error::FailedLookup));
  EXPECT_TRUE(fails_with(s->space.lookup(VirtAddr(kUserTop)), Error::FailedLookup));
  EXPECT_TRUE(kernel_half_intact(*s));

  // Every valid user permission, the last page of the user half.
  for (Perm perm : {kRO, kRX, kRWX, kXO}) {
    uint64_t top = kUserTop - k4K;
    ASSERT_TRUE(s->space.map(VirtAddr(top), frames_from(1, 1), perm).has_value());
    EXPECT_EQ(s->space.lookup(VirtAddr(top))->perm, perm);
    ASSERT_EQ(*s->space.unmap(VirtAddr(top), k4K), 1u);
  }
}

TEST_F(VSpaceTest, MapErrorsChangeNothing) {
  auto s = make_space(3);
  std::vector<PhysAddr> one = frames_from(0, 1);
  ASSERT_TRUE(s->space.map(VirtAddr(0x10'0000), one, kRO).has_value());
  tlb.clear();
  std::vector<PhysAddr> four = frames_from(1, 4);
  std::vector<PhysAddr> misaligned{frame(1) + 8};
  std::vector<PhysAddr> unnameable{PhysAddr(uint64_t{1} << 56)};
  EXPECT_TRUE(fails_with(s->space.map(VirtAddr(0x1800), four, kRW), Error::AlignmentError));
  EXPECT_TRUE(fails_with(s->space.map(VirtAddr(0x1000), misaligned, kRW), Error::AlignmentError));
  EXPECT_TRUE(fails_with(s->space.map(VirtAddr(0x1000), {}, kRW), Error::RangeError));
  EXPECT_TRUE(fails_with(s->space.map(VirtAddr(kUserTop), four, kRW), Error::RangeError));
  EXPECT_TRUE(fails_with(s->space.map(VirtAddr(kUserTop - 2 * k4K), four, kRW), Error::RangeError));
  EXPECT_TRUE(fails_with(s->space.map(VirtAddr(0x1000), unnameable, kRW), Error::RangeError));
  for (Perm bad : {Perm::R | Perm::W, Perm::W | Perm::U, Perm::U, Perm::None, kRW | Perm::G, Perm::R | Perm::G}) {
    EXPECT_TRUE(fails_with(s->space.map(VirtAddr(0x1000), four, bad), Error::InvalidArgument));
  }
  // One page of the four is already mapped.
  EXPECT_TRUE(fails_with(s->space.map(VirtAddr(0x10'0000 - 2 * k4K), four, kRW), Error::DeleteFirst));
  // Two more tables needed (another 2 MiB and another 1 GiB region: 3), 1 left.
  EXPECT_EQ(s->available(), 1u);
  EXPECT_EQ(s->space.tables_needed(VirtAddr(k1G), k4K), 2u);
  EXPECT_TRUE(fails_with(s->space.map(VirtAddr(k1G), four, kRW), Error::NotEnoughMemory));
  EXPECT_TRUE(fails_with(s->space.map(VirtAddr(2 * k2M - k4K), four, kRW), Error::NotEnoughMemory));
  for (size_t i = 1; i <= 4; ++i) EXPECT_EQ(frames.map_count(frame(i)), 0u);
  EXPECT_EQ(s->available(), 1u);
  EXPECT_TRUE(fails_with(s->space.lookup(VirtAddr(k1G)), Error::FailedLookup));
  EXPECT_TRUE(fails_with(s->space.lookup(VirtAddr(2 * k2M)), Error::FailedLookup));
  EXPECT_TRUE(tlb.pages.empty() && tlb.asids.empty());
  // Within the existing leaf table: no tables needed, it fits.
  EXPECT_EQ(s->space.tables_needed(VirtAddr(0), 4 * k4K), 0u);
  EXPECT_TRUE(s->space.map(VirtAddr(0), four, kRW).has_value());
}

TEST_F(VSpaceTest, TablesNeeded) {
  auto s = make_space();
  EXPECT_EQ(s->space.tables_needed(VirtAddr(0), 0), 0u);
  EXPECT_EQ(s->space.tables_needed(VirtAddr(0), k4K), 2u);
  EXPECT_EQ(s->space.tables_needed(VirtAddr(k2M - k4K), 2 * k4K), 3u);
  EXPECT_EQ(s->space.tables_needed(VirtAddr(k1G - k4K), 2 * k4K), 4u);
  EXPECT_EQ(s->space.tables_needed(VirtAddr(0), 2 * k1G), 2u + 1024u);
  ASSERT_TRUE(s->space.map(VirtAddr(k2M), frames_from(0, 1), kRO).has_value());
  EXPECT_EQ(s->space.tables_needed(VirtAddr(k2M), k2M), 0u);
  EXPECT_EQ(s->space.tables_needed(VirtAddr(0), 3 * k2M), 2u);
  EXPECT_EQ(s->space.tables_needed(VirtAddr(kUserTop), k4K), 0u);
}

TEST_F(VSpaceTest, UnmapSkipsHolesAndFreesTables) {
  auto s = make_space();
  ASSERT_TRUE(s->space.map(VirtAddr(k2M - 2 * k4K), frames_from(0, 4), kRW).has_value());
  ASSERT_TRUE(s->space.map(VirtAddr(7 * k1G), frames_from(0, 1), kRO).has_value());
  EXPECT_EQ(frames.map_count(frame(0)), 2u);
  EXPECT_EQ(s->available(), 64u - 5);
  tlb.clear();
  // Only the middle two of the first four.
  EXPECT_EQ(*s->space.unmap(VirtAddr(k2M - k4K), 2 * k4K), 2u);
  EXPECT_TRUE(tlb.covers(1, k2M - k4K) && tlb.covers(1, k2M));
  EXPECT_EQ(frames.map_count(frame(1)) + frames.map_count(frame(2)), 0u);
  EXPECT_EQ(info(*s, k2M - 2 * k4K), Info(frame(0), kRW, false, 2));
  EXPECT_EQ(info(*s, k2M + k4K), Info(frame(3), kRW, false, 1));
  EXPECT_EQ(s->available(), 64u - 5);
  EXPECT_TRUE(tlb.asids.empty());
  // The whole user half: holes are fine, every emptied table goes back, and
  // freeing tables flushes the whole ASID.
  EXPECT_EQ(*s->space.unmap(VirtAddr(0), kUserTop), 3u);
  EXPECT_EQ(s->available(), 64u);
  EXPECT_TRUE(tlb.asids.contains(1));
  EXPECT_EQ(frames.map_count(frame(0)), 0u);
  EXPECT_EQ(*s->space.unmap(VirtAddr(0), kUserTop), 0u);
  for (size_t i = 0; i < 256; ++i) EXPECT_EQ(s->entries()[i], 0u);
  EXPECT_TRUE(kernel_half_intact(*s));

  EXPECT_TRUE(fails_with(s->space.unmap(VirtAddr(0x800), k4K), Error::AlignmentError));
  EXPECT_TRUE(fails_with(s->space.unmap(VirtAddr(0), 0x800), Error::AlignmentError));
  EXPECT_TRUE(fails_with(s->space.unmap(VirtAddr(0), 0), Error::RangeError));
  EXPECT_TRUE(fails_with(s->space.unmap(VirtAddr(k4K), kUserTop), Error::RangeError));
  EXPECT_TRUE(fails_with(s->space.unmap(VirtAddr(kUserTop), k4K), Error::RangeError));
  EXPECT_TRUE(fails_with(s->space.unmap(VirtAddr(k4K), ~uint64_t{0} - k4K + 1), Error::RangeError));
}

TEST_F(VSpaceTest, ProtectKeepsOrClearsCow) {
  auto a = make_space(64, 1);
  auto b = make_space(64, 2);
  ASSERT_TRUE(a->space.map(VirtAddr(0), frames_from(0, 4), kRW).has_value());
  ASSERT_TRUE(a->space.copy_range(b->space, VirtAddr(0), 4 * k4K, CopyMode::Cow).has_value());
  tlb.clear();
  // Dropping to read-only leaves the mark; a hole in the range is skipped.
  EXPECT_EQ(*a->space.protect(VirtAddr(0), 8 * k4K, kRX), 4u);
  EXPECT_EQ(info(*a, 0), Info(frame(0), kRX, true, 2));
  EXPECT_TRUE(tlb.covers(1, 0) && tlb.covers(1, 3 * k4K));
  // Granting W clears it.
  EXPECT_EQ(*a->space.protect(VirtAddr(k4K), k4K, kRW), 1u);
  EXPECT_EQ(info(*a, k4K), Info(frame(1), kRW, false, 2));
  EXPECT_EQ(a->translate(k4K)->rsw, kPteMayWrite);  // COW mark gone, may-write kept
  EXPECT_EQ(info(*b, k4K), Info(frame(1), kRO, true, 2));  // the other side keeps its mark
  // Unchanged entries are not flushed.
  tlb.clear();
  EXPECT_EQ(*a->space.protect(VirtAddr(k4K), k4K, kRW), 1u);
  EXPECT_TRUE(tlb.pages.empty());

  EXPECT_TRUE(fails_with(a->space.protect(VirtAddr(0x10), k4K, kRO), Error::AlignmentError));
  EXPECT_TRUE(fails_with(a->space.protect(VirtAddr(0), 0, kRO), Error::RangeError));
  EXPECT_TRUE(fails_with(a->space.protect(VirtAddr(kUserTop - k4K), 2 * k4K, kRO), Error::RangeError));
  EXPECT_TRUE(fails_with(a->space.protect(VirtAddr(0), k4K, kRW | Perm::G), Error::InvalidArgument));
  EXPECT_TRUE(fails_with(a->space.protect(VirtAddr(0), k4K, Perm::R), Error::InvalidArgument));
  EXPECT_EQ(a->space.lookup(VirtAddr(0))->perm, kRX);
  EXPECT_EQ(*a->space.protect(VirtAddr(k1G), k1G, kRO), 0u);
}

// Protect names no frame, so it must not make writable what the frame cap
// did not allow: only pages once mapped writable may become writable again.
TEST_F(VSpaceTest, ProtectGrantsWriteOnlyToPagesMappedWritable) {
  auto a = make_space(64, 1);
  auto b = make_space(64, 2);
  ASSERT_TRUE(a->space.map(VirtAddr(0), frames_from(0, 2), kRO).has_value());
  ASSERT_TRUE(a->space.map(VirtAddr(2 * k4K), frames_from(2, 2), kRW).has_value());
  EXPECT_EQ(a->translate(0)->rsw, 0u);
  EXPECT_EQ(a->translate(2 * k4K)->rsw, kPteMayWrite);
  // A range with a never-writable page: refused, nothing changes.
  EXPECT_TRUE(fails_with(a->space.protect(VirtAddr(0), 4 * k4K, kRW), Error::IllegalOperation));
  EXPECT_EQ(a->space.lookup(VirtAddr(0))->perm, kRO);
  EXPECT_EQ(a->space.lookup(VirtAddr(2 * k4K))->perm, kRW);
  // Down to read-only and back up is fine for the writable pages.
  EXPECT_EQ(*a->space.protect(VirtAddr(2 * k4K), 2 * k4K, kRO), 2u);
  EXPECT_EQ(*a->space.protect(VirtAddr(2 * k4K), 2 * k4K, kRW), 2u);
  // COW copies keep the right on both sides; Share copies it as it is.
  ASSERT_TRUE(a->space.copy_range(b->space, VirtAddr(0), 4 * k4K, CopyMode::Cow).has_value());
  EXPECT_EQ(*b->space.protect(VirtAddr(2 * k4K), k4K, kRW), 1u);
  EXPECT_TRUE(fails_with(b->space.protect(VirtAddr(0), k4K, kRW), Error::IllegalOperation));
  // replace_page with a writable mapping grants it.
  EXPECT_EQ(b->space.replace_page(VirtAddr(0), frame(9), kRO), frame(0));
  EXPECT_TRUE(fails_with(b->space.protect(VirtAddr(0), k4K, kRW), Error::IllegalOperation));
}

TEST_F(VSpaceTest, ReplacePage) {
  auto a = make_space(64, 1);
  auto b = make_space(64, 2);
  ASSERT_TRUE(a->space.map(VirtAddr(0x5000), frames_from(7, 1), kRW).has_value());
  ASSERT_TRUE(a->space.copy_range(b->space, VirtAddr(0), k2M, CopyMode::Cow).has_value());
  EXPECT_EQ(frames.map_count(frame(7)), 2u);
  tlb.clear();
  EXPECT_EQ(b->space.replace_page(VirtAddr(0x5000), frame(8), kRW), frame(7));
  EXPECT_EQ(info(*b, 0x5000), Info(frame(8), kRW, false, 1));
  EXPECT_EQ(info(*a, 0x5000), Info(frame(7), kRO, true, 1));
  EXPECT_TRUE(tlb.covers(2, 0x5000));

  EXPECT_TRUE(fails_with(b->space.replace_page(VirtAddr(0x5008), frame(9), kRW), Error::AlignmentError));
  EXPECT_TRUE(fails_with(b->space.replace_page(VirtAddr(0x5000), frame(9) + 1, kRW), Error::AlignmentError));
  EXPECT_TRUE(fails_with(b->space.replace_page(VirtAddr(kUserTop), frame(9), kRW), Error::RangeError));
  EXPECT_TRUE(fails_with(b->space.replace_page(VirtAddr(0x5000), frame(9), kRW | Perm::G), Error::InvalidArgument));
  EXPECT_TRUE(fails_with(b->space.replace_page(VirtAddr(0x6000), frame(9), kRW), Error::FailedLookup));
  EXPECT_TRUE(fails_with(b->space.replace_page(VirtAddr(k1G), frame(9), kRW), Error::FailedLookup));
  EXPECT_EQ(frames.map_count(frame(9)), 0u);
}

// ---- copy_range -------------------------------------------------------------

TEST_F(VSpaceTest, CopyCowMakesBothSidesReadOnly) {
  auto a = make_space(64, 1);
  auto b = make_space(64, 2);
  ASSERT_TRUE(a->space.map(VirtAddr(0x1'0000), frames_from(0, 2), kRX).has_value());   // text
  ASSERT_TRUE(a->space.map(VirtAddr(0x2'0000), frames_from(2, 3), kRW).has_value());   // data
  ASSERT_TRUE(a->space.map(VirtAddr(0x3'0000), frames_from(5, 1), kRWX).has_value());
  tlb.clear();
  Result<CopyStats> stats = a->space.copy_range(b->space, VirtAddr(0), k2M, CopyMode::Cow);
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(std::pair(stats->pages, stats->made_cow), std::pair(6ul, 4ul));
  for (auto* s : {a.get(), b.get()}) {
    for (uint64_t i = 0; i < 2; ++i) EXPECT_EQ(info(*s, 0x1'0000 + i * k4K), Info(frame(i), kRX, false, 2));
    for (uint64_t i = 0; i < 3; ++i) {
      EXPECT_EQ(info(*s, 0x2'0000 + i * k4K), Info(frame(2 + i), kRO, true, 2));
      EXPECT_EQ(s->translate(0x2'0000 + i * k4K)->rsw, kPteCowMark | kPteMayWrite);
    }
    EXPECT_EQ(info(*s, 0x3'0000), Info(frame(5), kRX, true, 2));
  }
  // Pages made read-only are flushed in the source, new ones in the copy.
  for (uint64_t va : {0x2'0000ull, 0x2'1000ull, 0x2'2000ull, 0x3'0000ull}) EXPECT_TRUE(tlb.covers(1, va));
  EXPECT_FALSE(tlb.covers(1, 0x1'0000));
  for (uint64_t va : {0x1'0000ull, 0x2'0000ull, 0x3'0000ull}) EXPECT_TRUE(tlb.covers(2, va));
  EXPECT_EQ(b->available(), 62u);
}

TEST_F(VSpaceTest, CopyShareKeepsPermissions) {
  auto a = make_space(64, 1);
  auto b = make_space(64, 2);
  ASSERT_TRUE(a->space.map(VirtAddr(0x1'0000), frames_from(0, 2), kRW).has_value());
  ASSERT_TRUE(a->space.map(VirtAddr(0x2'0000), std::vector<PhysAddr>{kDevice}, kRW).has_value());
  tlb.clear();
  Result<CopyStats> stats = a->space.copy_range(b->space, VirtAddr(0x1'0000), 0x2'0000, CopyMode::Share);
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(std::pair(stats->pages, stats->made_cow), std::pair(3ul, 0ul));
  for (auto* s : {a.get(), b.get()}) {
    EXPECT_EQ(info(*s, 0x1'1000), Info(frame(1), kRW, false, 2));
    EXPECT_EQ(info(*s, 0x2'0000), Info(kDevice, kRW, false, 0));
  }
  EXPECT_FALSE(tlb.covers(1, 0x1'0000));
  EXPECT_TRUE(tlb.covers(2, 0x1'0000));
}

TEST_F(VSpaceTest, CopySparseRangeIsFastAndExact) {
  auto a = make_space(64, 1);
  auto b = make_space(5, 2);
  // Three pages spread over more than 1 GiB, in three 2 MiB regions and two
  // 1 GiB regions: the copy needs 2 + 3 tables, exactly what b's pool holds.
  uint64_t vas[] = {k1G - k4K, k1G + 17 * k2M, k1G + 300 * k2M + 5 * k4K};
  for (size_t i = 0; i < 3; ++i) ASSERT_TRUE(a->space.map(VirtAddr(vas[i]), frames_from(i, 1), kRW).has_value());
  auto start = std::chrono::steady_clock::now();
  Result<CopyStats> stats = a->space.copy_range(b->space, VirtAddr(0), 128 * k1G, CopyMode::Cow);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->pages, 3u);
  EXPECT_EQ(b->available(), 0u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(info(*b, vas[i]), Info(frame(i), kRO, true, 2));
  EXPECT_LT(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count(), 50);
  // One page more than the pool can hold tables for.
  auto c = make_space(4, 3);
  EXPECT_TRUE(fails_with(a->space.copy_range(c->space, VirtAddr(0), 128 * k1G, CopyMode::Cow),
                         Error::NotEnoughMemory));
}

TEST_F(VSpaceTest, CopyErrorsChangeNothing) {
  auto a = make_space(64, 1);
  auto b = make_space(64, 2);
  auto c = make_space(1, 3);
  ASSERT_TRUE(a->space.map(VirtAddr(0), frames_from(0, 8), kRW).has_value());
  ASSERT_TRUE(b->space.map(VirtAddr(7 * k4K), frames_from(20, 1), kRO).has_value());
  tlb.clear();
  EXPECT_TRUE(fails_with(a->space.copy_range(b->space, VirtAddr(0x10), k4K, CopyMode::Cow), Error::AlignmentError));
  EXPECT_TRUE(fails_with(a->space.copy_range(b->space, VirtAddr(0), 0x10, CopyMode::Cow), Error::AlignmentError));
  EXPECT_TRUE(fails_with(a->space.copy_range(b->space, VirtAddr(0), 0, CopyMode::Cow), Error::RangeError));
  EXPECT_TRUE(fails_with(a->space.copy_range(b->space, VirtAddr(kUserTop), k4K, CopyMode::Cow), Error::RangeError));
  EXPECT_TRUE(fails_with(a->space.copy_range(a->space, VirtAddr(0), k4K, CopyMode::Cow), Error::InvalidArgument));
  EXPECT_TRUE(fails_with(a->space.copy_range(b->space, VirtAddr(0), k4K, CopyMode{3}), Error::InvalidArgument));
  EXPECT_TRUE(fails_with(a->space.copy_range(b->space, VirtAddr(0), 8 * k4K, CopyMode::Cow), Error::DeleteFirst));
  EXPECT_TRUE(fails_with(a->space.copy_range(c->space, VirtAddr(0), 8 * k4K, CopyMode::Cow), Error::NotEnoughMemory));
  for (size_t i = 0; i < 8; ++i) EXPECT_EQ(info(*a, i * k4K), Info(frame(i), kRW, false, 1));
  for (size_t i = 0; i < 7; ++i) EXPECT_FALSE(b->space.lookup(VirtAddr(i * k4K)).has_value());
  EXPECT_EQ(c->available(), 1u);
  EXPECT_TRUE(tlb.pages.empty() && tlb.asids.empty());
  // Next to b's page is fine.
  EXPECT_EQ(a->space.copy_range(b->space, VirtAddr(0), 7 * k4K, CopyMode::Cow)->pages, 7u);
}

TEST_F(VSpaceTest, ThreeGenerationsOfCow) {
  auto a = make_space(64, 1);
  auto b = make_space(64, 2);
  auto c = make_space(64, 3);
  ASSERT_TRUE(a->space.map(VirtAddr(0x40'0000), frames_from(0, 100), kRW).has_value());
  ASSERT_EQ(a->space.copy_range(b->space, VirtAddr(0), k1G, CopyMode::Cow)->made_cow, 100u);
  EXPECT_TRUE(tlb.asids.contains(1));  // more than 64 pages: the whole ASID
  Result<CopyStats> second = b->space.copy_range(c->space, VirtAddr(0), k1G, CopyMode::Cow);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(std::pair(second->pages, second->made_cow), std::pair(100ul, 0ul));  // already copy-on-write
  for (auto* s : {a.get(), b.get(), c.get()}) {
    for (size_t i = 0; i < 100; ++i) ASSERT_EQ(info(*s, 0x40'0000 + i * k4K), Info(frame(i), kRO, true, 3));
  }
  b->space.destroy();
  EXPECT_EQ(frames.map_count(frame(0)), 2u);
  EXPECT_EQ(info(*c, 0x40'0000), Info(frame(0), kRO, true, 2));
}

TEST_F(VSpaceTest, DestroyGivesEverythingBack) {
  auto s = make_space(64, 4);
  uint64_t start = s->available();
  ASSERT_TRUE(s->space.map(VirtAddr(0), frames_from(0, 600), kRW).has_value());
  ASSERT_TRUE(s->space.map(VirtAddr(3 * k1G + 5 * k2M), frames_from(0, 3), kRX).has_value());
  ASSERT_TRUE(s->space.map(VirtAddr(kUserTop - k4K), std::vector<PhysAddr>{kDevice}, kRW).has_value());
  EXPECT_EQ(frames.map_count(frame(0)), 2u);
  tlb.clear();
  s->space.destroy();
  EXPECT_EQ(s->available(), start);
  EXPECT_FALSE(frames.any_mapped(kFrameBase, kFrameCount * k4K));
  for (size_t i = 0; i < 256; ++i) EXPECT_EQ(s->entries()[i], 0u);
  EXPECT_TRUE(kernel_half_intact(*s));
  EXPECT_TRUE(tlb.asids.contains(4));
  // The space can be used again.
  EXPECT_TRUE(s->space.map(VirtAddr(0), frames_from(0, 1), kRW).has_value());
}

// ---- scan -------------------------------------------------------------------

constexpr uint64_t kUnmap = static_cast<uint64_t>(ScanFlag::Unmap);
constexpr uint64_t kAddresses = static_cast<uint64_t>(ScanFlag::ReportAddresses);
constexpr uint64_t kEveryPage = ~uint64_t{0};
constexpr size_t kReport = 60;  // uapi::kScanMaxReport

// Every entry and the visited pages of a scan of [va, va + length), one call
// after the other from where the last one stopped, as a caller would go on.
struct ScanTotal {
  std::vector<uint64_t> entries;
  uint64_t visited = 0;
  uint64_t calls = 0;
};

ScanTotal scan_all(UserSpace& space, uint64_t va, uint64_t length, uint64_t flags, uint64_t threshold,
                   size_t room = kReport) {
  ScanTotal total;
  const uint64_t end = va + length;
  for (uint64_t at = va; at < end;) {
    std::vector<uint64_t> report(room);
    Result<ScanResult> r = space.scan(VirtAddr(at), end - at, flags, threshold, report);
    EXPECT_TRUE(r.has_value());
    if (!r) break;
    ++total.calls;
    EXPECT_LE(r->reported, room);
    EXPECT_GT(r->next.value(), at);
    EXPECT_LE(r->next.value(), end);
    // Only a full report stops before the end.
    if (r->reported < room) {
      EXPECT_EQ(r->next.value(), end);
    }
    total.entries.insert(total.entries.end(), report.begin(), report.begin() + r->reported);
    total.visited += r->visited;
    at = r->next.value();
  }
  return total;
}

std::vector<uint64_t> frame_values(size_t first, size_t count) {
  std::vector<uint64_t> out;
  for (size_t i = 0; i < count; ++i) out.push_back(frame(first + i).value());
  return out;
}

TEST_F(VSpaceTest, ScanUnmapsAndReportsFramesLeftUnmapped) {
  auto a = make_space(64, 1);
  auto b = make_space(64, 2);
  const uint64_t start = a->available();
  // Ten pages across a 2 MiB boundary; the middle four are shared with b.
  const uint64_t va = k2M - 5 * k4K;
  ASSERT_TRUE(a->space.map(VirtAddr(va), frames_from(0, 10), kRW).has_value());
  ASSERT_TRUE(a->space.copy_range(b->space, VirtAddr(va + 3 * k4K), 4 * k4K, CopyMode::Share).has_value());
  tlb.clear();
  uint64_t report[kReport];
  Result<ScanResult> r = a->space.scan(VirtAddr(0), k1G, kUnmap, 0, report);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->next.value(), k1G);
  EXPECT_EQ(r->visited, 10u);
  ASSERT_EQ(r->reported, 6u);  // the frames no other mapping holds, in address order
  std::vector<uint64_t> expected = frame_values(0, 3);
  for (uint64_t f : frame_values(7, 3)) expected.push_back(f);
  EXPECT_EQ(std::vector<uint64_t>(report, report + 6), expected);
  for (size_t i = 0; i < 10; ++i) {
    EXPECT_FALSE(a->space.lookup(VirtAddr(va + i * k4K)).has_value());
    EXPECT_EQ(frames.map_count(frame(i)), i >= 3 && i < 7 ? 1u : 0u);
  }
  // Every table went back, and freeing them flushed the ASID.
  EXPECT_EQ(a->available(), start);
  EXPECT_TRUE(tlb.asids.contains(1));
  for (size_t i = 0; i < 256; ++i) EXPECT_EQ(a->entries()[i], 0u);
  EXPECT_TRUE(kernel_half_intact(*a));
  // b's scan now leaves the shared frames unmapped: all four reported.
  r = b->space.scan(VirtAddr(va), 10 * k4K, kUnmap, 0, report);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::pair(r->visited, r->reported), std::pair(4ul, 4ul));
  EXPECT_EQ(std::vector<uint64_t>(report, report + 4), frame_values(3, 4));
  EXPECT_FALSE(frames.any_mapped(kFrameBase, kFrameCount * k4K));
}

TEST_F(VSpaceTest, ScanWithoutUnmapChangesNothing) {
  auto a = make_space(64, 1);
  auto b = make_space(64, 2);
  ASSERT_TRUE(a->space.map(VirtAddr(0x10'0000), frames_from(0, 4), kRW).has_value());
  ASSERT_TRUE(a->space.copy_range(b->space, VirtAddr(0x10'0000), 2 * k4K, CopyMode::Cow).has_value());
  const uint64_t tables = a->available();
  tlb.clear();
  // Threshold 1: the two frames b shares (count 2) are left out.
  uint64_t report[kReport];
  Result<ScanResult> r = a->space.scan(VirtAddr(0), k2M, 0, 1, report);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::pair(r->visited, r->reported), std::pair(4ul, 2ul));
  EXPECT_EQ(std::vector<uint64_t>(report, report + 2), frame_values(2, 2));
  // After b unmaps them they are a's alone, and reported.
  ASSERT_EQ(*b->space.unmap(VirtAddr(0), k2M), 2u);
  r = a->space.scan(VirtAddr(0), k2M, 0, 1, report);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::pair(r->visited, r->reported), std::pair(4ul, 4ul));
  EXPECT_EQ(std::vector<uint64_t>(report, report + 4), frame_values(0, 4));
  // Counts are 32 bits: a threshold beyond them reports every page.
  EXPECT_EQ(a->space.scan(VirtAddr(0), k2M, 0, uint64_t{1} << 40, report)->reported, 4u);
  EXPECT_EQ(a->space.scan(VirtAddr(0), k2M, 0, 0xffff'ffff, report)->reported, 4u);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(info(*a, 0x10'0000 + i * k4K), Info(frame(i), i < 2 ? kRO : kRW, i < 2, 1));
  EXPECT_EQ(a->available(), tables);
  EXPECT_FALSE(tlb.asids.contains(1));
  for (const auto& [asid, page] : tlb.pages) EXPECT_NE(asid, 1u) << std::hex << page;
}

TEST_F(VSpaceTest, ScanReportsAddressesInOrderOverHoles) {
  auto s = make_space();
  // Pages in three 2 MiB regions and two 1 GiB regions, a device page among them.
  const std::vector<uint64_t> vas = {k4K, 3 * k4K, k2M + 7 * k4K, k1G - k4K, k1G, 5 * k1G + 9 * k2M};
  for (size_t i = 0; i < vas.size(); ++i) {
    std::vector<PhysAddr> f = i == 2 ? std::vector<PhysAddr>{kDevice} : frames_from(i, 1);
    ASSERT_TRUE(s->space.map(VirtAddr(vas[i]), f, kRO).has_value());
  }
  ScanTotal all = scan_all(s->space, 0, kUserTop, kAddresses, kEveryPage);
  EXPECT_EQ(all.entries, vas);
  EXPECT_EQ(all.visited, vas.size());
  EXPECT_EQ(all.calls, 1u);
  // A device frame has no count (0): threshold 0 reports it and nothing else.
  EXPECT_EQ(scan_all(s->space, 0, kUserTop, kAddresses, 0).entries, std::vector<uint64_t>{k2M + 7 * k4K});
  // Two entries at a time: a call stops right after its second report.
  uint64_t two[2];
  Result<ScanResult> r = s->space.scan(VirtAddr(0), kUserTop, kAddresses, kEveryPage, two);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->next.value(), 4 * k4K);
  EXPECT_EQ(std::pair(r->visited, r->reported), std::pair(2ul, 2ul));
  ScanTotal pairs = scan_all(s->space, 0, kUserTop, kAddresses, kEveryPage, 2);
  EXPECT_EQ(pairs.entries, vas);
  EXPECT_EQ(pairs.calls, 4u);  // the third report is full: a fourth call finds nothing more
  // Part of a range; empty ranges and ranges of holes.
  EXPECT_EQ(scan_all(s->space, 2 * k4K, k1G - 2 * k4K, kAddresses, kEveryPage).entries,
            (std::vector<uint64_t>{3 * k4K, k2M + 7 * k4K, k1G - k4K}));
  for (auto [va, length] : {std::pair(4 * k4K, k2M - 4 * k4K), std::pair(2 * k1G, 3 * k1G), std::pair(k4K * 5, k4K)}) {
    uint64_t report[kReport];
    r = s->space.scan(VirtAddr(va), length, kAddresses | kUnmap, kEveryPage, report);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->next.value(), va + length);
    EXPECT_EQ(std::pair(r->visited, r->reported), std::pair(0ul, 0ul));
  }
  // Unmapping as it lists: the same addresses, and the space is empty after.
  ScanTotal gone = scan_all(s->space, 0, kUserTop, kAddresses | kUnmap, kEveryPage, 4);
  EXPECT_EQ(gone.entries, vas);
  EXPECT_EQ(s->available(), 64u);
  EXPECT_EQ(scan_all(s->space, 0, kUserTop, kAddresses, kEveryPage).visited, 0u);
}

// Stopping at a full report and going on from `next` gives what one scan
// with room enough gives, and a stop in the middle of a leaf table loses
// nothing: the pages after it stay mapped, and the table stays.
TEST_F(VSpaceTest, ScanStopsWhenFullAndResumes) {
  auto a = make_space(64, 1);
  auto b = make_space(64, 2);
  const uint64_t start = a->available();
  // 200 pages: 100 in one leaf table, 100 across the next boundary, with a
  // hole between; every third page also mapped in b (count 2).
  const uint64_t va1 = 0x40'0000 + 10 * k4K;
  const uint64_t va2 = 0x80'0000 - 50 * k4K;
  ASSERT_TRUE(a->space.map(VirtAddr(va1), frames_from(0, 100), kRW).has_value());
  ASSERT_TRUE(a->space.map(VirtAddr(va2), frames_from(100, 100), kRW).has_value());
  for (uint64_t i = 0; i < 100; i += 3) {
    ASSERT_TRUE(a->space.copy_range(b->space, VirtAddr(va1 + i * k4K), k4K, CopyMode::Share).has_value());
  }
  EXPECT_EQ(a->available(), start - 4);  // a level-1 table and three leaf tables

  // The first call: 60 reports, all from the first table, among 60 + 20
  // pages visited (20 shared ones not reported).
  uint64_t report[kReport];
  tlb.clear();
  Result<ScanResult> r = a->space.scan(VirtAddr(0), k1G, kUnmap, 0, report);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->reported, kReport);
  EXPECT_EQ(r->visited, 90u);  // pages 0..89, 30 of them (0, 3, .., 87) shared
  EXPECT_EQ(r->next.value(), va1 + 90 * k4K);
  EXPECT_EQ(report[0], frame(1).value());
  EXPECT_EQ(report[59], frame(89).value());
  // The rest of the first table is intact, and the table with it.
  for (uint64_t i = 90; i < 100; ++i) {
    EXPECT_EQ(info(*a, va1 + i * k4K), Info(frame(i), kRW, false, i % 3 == 0 ? 2 : 1));
  }
  EXPECT_FALSE(a->space.lookup(VirtAddr(va1 + 89 * k4K)).has_value());
  EXPECT_EQ(a->available(), start - 4);
  EXPECT_TRUE(tlb.asids.contains(1));  // 90 pages changed: more than 64

  // Going on from there gives exactly the rest.
  ScanTotal rest = scan_all(a->space, r->next.value(), k1G - r->next.value(), kUnmap, 0);
  EXPECT_EQ(rest.visited, 110u);
  std::vector<uint64_t> expected;
  for (uint64_t i = 90; i < 200; ++i) {
    if (i >= 100 || i % 3 != 0) expected.push_back(frame(i).value());
  }
  EXPECT_EQ(rest.entries, expected);
  EXPECT_EQ(a->available(), start);
  for (size_t i = 0; i < 200; ++i) EXPECT_EQ(frames.map_count(frame(i)), i < 100 && i % 3 == 0 ? 1u : 0u);

  // The same in one go with room for everything, and the totals agree.
  auto c = make_space(64, 3);
  ASSERT_TRUE(c->space.map(VirtAddr(va1), frames_from(0, 100), kRW).has_value());
  ASSERT_TRUE(c->space.map(VirtAddr(va2), frames_from(100, 100), kRW).has_value());
  ScanTotal big = scan_all(c->space, 0, k1G, kUnmap, 1, 512);
  ScanTotal small = scan_all(b->space, 0, k1G, 0, kEveryPage, 7);
  EXPECT_EQ(big.calls, 1u);
  EXPECT_EQ(big.visited, 200u);
  std::vector<uint64_t> everything = frame_values(0, 200);
  EXPECT_EQ(big.entries, everything);
  EXPECT_EQ(small.visited, 34u);
  EXPECT_EQ(small.calls, 5u);
}

// A report that fills up on the last entry of a leaf table: the table goes
// back (everything in it was visited); the stop is the next table's start.
TEST_F(VSpaceTest, ScanStopsAtTheEndOfATable) {
  auto s = make_space(64, 1);
  const uint64_t start = s->available();
  ASSERT_TRUE(s->space.map(VirtAddr(k2M - 60 * k4K), frames_from(0, 70), kRW).has_value());
  uint64_t report[kReport];
  Result<ScanResult> r = s->space.scan(VirtAddr(0), k1G, kUnmap, kEveryPage, report);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->next.value(), k2M);
  EXPECT_EQ(std::pair(r->visited, r->reported), std::pair(60ul, 60ul));
  EXPECT_EQ(s->available(), start - 2);  // the first leaf table is back
  EXPECT_EQ(info(*s, k2M), Info(frame(60), kRW, false, 1));
  r = s->space.scan(VirtAddr(k2M), k1G - k2M, kUnmap, kEveryPage, report);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->next.value(), k1G);
  EXPECT_EQ(std::pair(r->visited, r->reported), std::pair(10ul, 10ul));
  EXPECT_EQ(s->available(), start);
  // Stopping at the very last page of the range is the range's end.
  ASSERT_TRUE(s->space.map(VirtAddr(0), frames_from(0, 2), kRW).has_value());
  uint64_t two[2];
  r = s->space.scan(VirtAddr(0), 2 * k4K, kUnmap, kEveryPage, two);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->next.value(), 2 * k4K);
  EXPECT_EQ(s->available(), start);
}

TEST_F(VSpaceTest, ScanErrorsChangeNothing) {
  auto s = make_space();
  ASSERT_TRUE(s->space.map(VirtAddr(0), frames_from(0, 2), kRW).has_value());
  tlb.clear();
  uint64_t report[kReport];
  // In the order they are checked: flags, alignment, range.
  for (uint64_t flags : {uint64_t{4}, uint64_t{8} | kUnmap, ~uint64_t{0}}) {
    EXPECT_TRUE(fails_with(s->space.scan(VirtAddr(0x10), 0, flags, 0, report), Error::InvalidArgument));
  }
  EXPECT_TRUE(fails_with(s->space.scan(VirtAddr(0x10), k4K, kUnmap, 0, report), Error::AlignmentError));
  EXPECT_TRUE(fails_with(s->space.scan(VirtAddr(0), 0x10, kUnmap, 0, report), Error::AlignmentError));
  EXPECT_TRUE(fails_with(s->space.scan(VirtAddr(0), 0, kUnmap, 0, report), Error::RangeError));
  EXPECT_TRUE(fails_with(s->space.scan(VirtAddr(kUserTop), k4K, 0, 0, report), Error::RangeError));
  EXPECT_TRUE(fails_with(s->space.scan(VirtAddr(k4K), kUserTop, kUnmap, 0, report), Error::RangeError));
  EXPECT_TRUE(fails_with(s->space.scan(VirtAddr(k4K), ~uint64_t{0} - k4K + 1, kUnmap, 0, report), Error::RangeError));
  EXPECT_TRUE(fails_with(s->space.scan(VirtAddr(0), k4K, kUnmap, 0, std::span<uint64_t>()), Error::InvalidArgument));
  for (size_t i = 0; i < 2; ++i) EXPECT_EQ(info(*s, i * k4K), Info(frame(i), kRW, false, 1));
  EXPECT_TRUE(tlb.pages.empty() && tlb.asids.empty());
  // The whole user half is a valid range.
  EXPECT_EQ(s->space.scan(VirtAddr(0), kUserTop, kUnmap, kEveryPage, report)->reported, 2u);
}

// ---- random operations against a reference model ----------------------------

struct RefPage {
  PhysAddr frame;
  Perm perm;
  bool cow;
  bool may_write;  // mapped writable once: protect may grant W
  bool operator==(const RefPage&) const = default;
};
using RefSpace = std::map<uint64_t, RefPage>;

std::optional<RefPage> find(const RefSpace& space, uint64_t va) {
  auto it = space.find(va);
  return it == space.end() ? std::nullopt : std::optional(it->second);
}

// Table pages a space with these mappings holds: one per 2 MiB and one per
// 1 GiB region in use (emptied tables go back to the pool at once).
uint64_t tables_for(const RefSpace& space) {
  std::set<uint64_t> regions_2m, regions_1g;
  for (const auto& [va, page] : space) {
    regions_2m.insert(va / k2M);
    regions_1g.insert(va / k1G);
  }
  return regions_2m.size() + regions_1g.size();
}

TEST_F(VSpaceTest, RandomAgainstReferenceModel) {
  constexpr size_t kSpaces = 3;
  constexpr uint64_t kWindowBase = k1G - 2 * k2M;  // crosses a 1 GiB boundary
  constexpr uint64_t kWindowPages = 4 * k2M / k4K;
  constexpr size_t kFramePool = 48;
  const Perm perms[] = {kRO, kRW, kRX, kRWX, kXO};
  std::mt19937_64 rng(20240611);
  auto pick = [&](uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng); };

  // Small pools for two of the spaces, so that NotEnoughMemory happens too.
  const size_t pool_pages[kSpaces] = {16, 4, 3};
  std::vector<std::unique_ptr<Space>> spaces;
  for (size_t i = 0; i < kSpaces; ++i) spaces.push_back(make_space(pool_pages[i], static_cast<uint16_t>(i + 1)));
  RefSpace ref[kSpaces];

  for (int step = 0; step < 1500; ++step) {
    size_t si = pick(kSpaces);
    UserSpace& space = spaces[si]->space;
    uint64_t va = kWindowBase + pick(kWindowPages) * k4K;
    uint64_t pages = 1 + pick(std::min<uint64_t>(40, (kWindowBase + kWindowPages * k4K - va) / k4K));
    uint64_t end = va + pages * k4K;
    Perm perm = perms[pick(5)];
    auto in_range = [&](const RefSpace& r) { return r.lower_bound(va) != r.lower_bound(end); };
    auto fits = [&](size_t i, const RefSpace& after) {
      return tables_for(after) - tables_for(ref[i]) <= pool_pages[i] - tables_for(ref[i]);
    };
    RefSpace before[kSpaces];
    for (size_t i = 0; i < kSpaces; ++i) before[i] = ref[i];
    tlb.clear();

    switch (pick(16)) {
      case 0: case 1: case 2: case 3: case 4: {
        std::vector<PhysAddr> f;
        for (uint64_t i = 0; i < pages; ++i) f.push_back(frame(pick(kFramePool)));
        Status result = space.map(VirtAddr(va), f, perm);
        if (in_range(ref[si])) {
          ASSERT_TRUE(fails_with(result, Error::DeleteFirst)) << step;
          break;
        }
        RefSpace after = ref[si];
        for (uint64_t i = 0; i < pages; ++i) after[va + i * k4K] = {f[i], perm, false, has(perm, Perm::W)};
        ASSERT_TRUE(fits(si, after) ? result.has_value() : fails_with(result, Error::NotEnoughMemory)) << step;
        if (result) ref[si] = after;
        break;
      }
      case 5: case 6: {
        uint64_t expected = std::distance(ref[si].lower_bound(va), ref[si].lower_bound(end));
        ASSERT_EQ(*space.unmap(VirtAddr(va), pages * k4K), expected) << step;
        ref[si].erase(ref[si].lower_bound(va), ref[si].lower_bound(end));
        break;
      }
      case 7: case 8: {
        bool allowed = true;
        for (auto it = ref[si].lower_bound(va); it != ref[si].lower_bound(end); ++it) {
          if (has(perm, Perm::W) && !it->second.may_write) allowed = false;
        }
        Result<uint64_t> result = space.protect(VirtAddr(va), pages * k4K, perm);
        if (!allowed) {
          ASSERT_TRUE(fails_with(result, Error::IllegalOperation)) << step;
          break;
        }
        ASSERT_TRUE(result.has_value()) << step;
        for (auto it = ref[si].lower_bound(va); it != ref[si].lower_bound(end); ++it) {
          it->second.perm = perm;
          if (has(perm, Perm::W)) it->second.cow = false;
        }
        break;
      }
      case 9: case 10: case 11: {
        size_t di = (si + 1 + pick(kSpaces - 1)) % kSpaces;
        CopyMode mode = pick(3) == 0 ? CopyMode::Share : CopyMode::Cow;
        Result<CopyStats> result = space.copy_range(spaces[di]->space, VirtAddr(va), pages * k4K, mode);
        if (in_range(ref[di])) {
          ASSERT_TRUE(fails_with(result, Error::DeleteFirst)) << step;
          break;
        }
        RefSpace after = ref[di];
        for (auto it = ref[si].lower_bound(va); it != ref[si].lower_bound(end); ++it) after[it->first] = it->second;
        ASSERT_TRUE(fits(di, after) ? result.has_value() : fails_with(result, Error::NotEnoughMemory)) << step;
        if (!result) break;
        for (auto it = ref[si].lower_bound(va); it != ref[si].lower_bound(end); ++it) {
          if (mode == CopyMode::Cow && has(it->second.perm, Perm::W)) {
            it->second.perm = it->second.perm & (Perm::R | Perm::X | Perm::U);
            it->second.cow = true;
          }
          ref[di][it->first] = it->second;
        }
        break;
      }
      case 12: case 13: {
        // Mostly a mapped page.
        if (!ref[si].empty() && pick(4) != 0) {
          auto mapped = ref[si].begin();
          std::advance(mapped, pick(ref[si].size()));
          va = mapped->first;
        }
        PhysAddr f = frame(pick(kFramePool));
        Result<PhysAddr> result = space.replace_page(VirtAddr(va), f, perm);
        auto it = ref[si].find(va);
        ASSERT_TRUE(it == ref[si].end() ? fails_with(result, Error::FailedLookup)
                                         : testing::AssertionResult(result == it->second.frame)) << step;
        if (result) it->second = {f, perm, false, has(perm, Perm::W)};
        break;
      }
      case 14: {
        // A scan with a small report, so that it often stops early; the
        // reference counts every frame's mappings and drops them as the
        // scan unmaps (a frame may be mapped twice in one space).
        const uint64_t flags = pick(4);
        const uint64_t threshold = pick(3) == 0 ? ~uint64_t{0} : pick(3);
        const size_t room = 1 + pick(8);
        std::vector<uint64_t> report(room);
        Result<ScanResult> result = space.scan(VirtAddr(va), pages * k4K, flags, threshold, report);
        ASSERT_TRUE(result.has_value()) << step;
        std::map<PhysAddr, uint64_t> counts;
        for (size_t i = 0; i < kSpaces; ++i) {
          for (const auto& [at, page] : ref[i]) ++counts[page.frame];
        }
        const bool unmap = (flags & uint64_t(ScanFlag::Unmap)) != 0;
        std::vector<uint64_t> want;
        uint64_t visited = 0;
        uint64_t next = end;
        for (auto it = ref[si].lower_bound(va); it != ref[si].lower_bound(end);) {
          ++visited;
          const uint64_t at = it->first;
          const PhysAddr f = it->second.frame;
          if (unmap) {
            --counts[f];
            it = ref[si].erase(it);
          } else {
            ++it;
          }
          if (counts[f] > threshold) continue;
          want.push_back((flags & uint64_t(ScanFlag::ReportAddresses)) != 0 ? at : f.value());
          if (want.size() == room) {
            next = at + k4K;
            break;
          }
        }
        ASSERT_EQ(result->next.value(), next) << step;
        ASSERT_EQ(result->visited, visited) << step;
        ASSERT_EQ(std::vector<uint64_t>(report.begin(), report.begin() + result->reported), want) << step;
        break;
      }
      default:
        if (pick(16) == 0) {
          space.destroy();
          ref[si].clear();
        }
        break;
    }

    // Every page of every space, through lookup and the hardware walk; every
    // change flushed; tables in use = regions in use; kernel half untouched.
    std::map<PhysAddr, uint32_t> counts;
    for (size_t i = 0; i < kSpaces; ++i) {
      for (uint64_t at = kWindowBase; at < kWindowBase + kWindowPages * k4K; at += k4K) {
        std::optional<RefPage> want = find(ref[i], at);
        Result<PageInfo> got = spaces[i]->space.lookup(VirtAddr(at));
        auto walked = spaces[i]->translate(at);
        // lookup does not report may-write; the walk below checks it.
        ASSERT_EQ(got ? std::optional(RefPage{got->frame, got->perm, got->cow, want && want->may_write}) : std::nullopt,
                  want)
            << step << " space " << i << " va " << std::hex << at;
        ASSERT_EQ(walked ? std::optional(RefPage{walked->pa, walked->perm, (walked->rsw & kPteCowMark) != 0,
                                                 (walked->rsw & kPteMayWrite) != 0})
                         : std::nullopt,
                  want) << step << " space " << i << " va " << std::hex << at;
        if (want) ++counts[want->frame];
        if (find(before[i], at) != want) {
          ASSERT_TRUE(tlb.covers(spaces[i]->asid, at)) << step << " va " << std::hex << at;
        }
      }
      ASSERT_EQ(pool_pages[i] - spaces[i]->available(), tables_for(ref[i])) << step;
      ASSERT_TRUE(kernel_half_intact(*spaces[i]));
    }
    for (size_t f = 0; f < kFramePool; ++f) ASSERT_EQ(frames.map_count(frame(f)), counts[frame(f)]) << step;
  }
  for (size_t i = 0; i < kSpaces; ++i) {
    spaces[i]->space.destroy();
    EXPECT_EQ(spaces[i]->available(), pool_pages[i]);
  }
  EXPECT_FALSE(frames.any_mapped(kFrameBase, kFrameCount * k4K));
}

// ---- cost of copy_range -----------------------------------------------------

TEST_F(VSpaceTest, CopyCostPerPage) {
  constexpr uint64_t kPages = (4 << 20) / k4K;  // 4 MiB
  constexpr int kRounds = 1000;
  auto a = make_space(8, 1);
  auto b = make_space(8, 2);
  ASSERT_TRUE(a->space.map(VirtAddr(k1G), frames_from(0, kPages), kRW).has_value());
  std::chrono::nanoseconds elapsed{0};
  for (int round = 0; round < kRounds; ++round) {
    // Writable again, so that every round does the full work.
    ASSERT_TRUE(a->space.protect(VirtAddr(k1G), kPages * k4K, kRW).has_value());
    auto start = std::chrono::steady_clock::now();
    Result<CopyStats> stats = a->space.copy_range(b->space, VirtAddr(k1G), kPages * k4K, CopyMode::Cow);
    elapsed += std::chrono::steady_clock::now() - start;
    ASSERT_EQ(stats->made_cow, kPages);
    b->space.destroy();
  }
  double pages = static_cast<double>(kPages) * kRounds;
  std::printf("copy_range COW of 4 MiB: %.2f ns/page (%d rounds)\n", static_cast<double>(elapsed.count()) / pages,
              kRounds);
  EXPECT_EQ(frames.map_count(frame(0)), 1u);
}

// ---- cost of scan -------------------------------------------------------------

// Two uses: releasing a space whose frames are all shared (every page
// visited, none reported: one call), and listing a space's pages 60 at a
// time (the report and the calls included). The recording TLB's flushes
// are not cheap, so the unmapping case changes more than 64 pages per call
// (one ASID flush) to time the loop itself.
TEST_F(VSpaceTest, ScanCostPerPage) {
  constexpr uint64_t kPages = (4 << 20) / k4K;  // 4 MiB
  constexpr uint64_t kEnd = k1G + kPages * k4K;
  constexpr int kRounds = 300;
  auto a = make_space(8, 1);
  auto b = make_space(8, 2);
  ASSERT_TRUE(b->space.map(VirtAddr(k1G), frames_from(0, kPages), kRW).has_value());
  std::chrono::nanoseconds unmapping{0};
  std::chrono::nanoseconds listing{0};
  uint64_t report[kReport];
  for (int round = 0; round < kRounds; ++round) {
    ASSERT_TRUE(a->space.map(VirtAddr(k1G), frames_from(0, kPages), kRW).has_value());
    auto start = std::chrono::steady_clock::now();
    uint64_t listed = 0;
    for (uint64_t at = k1G; at < kEnd;) {
      Result<ScanResult> r = a->space.scan(VirtAddr(at), kEnd - at, kAddresses, kEveryPage, report);
      listed += r->reported;
      at = r->next.value();
    }
    auto middle = std::chrono::steady_clock::now();
    Result<ScanResult> r = a->space.scan(VirtAddr(k1G), kPages * k4K, kUnmap, 0, report);
    auto end = std::chrono::steady_clock::now();
    ASSERT_EQ(listed, kPages);
    ASSERT_EQ(std::pair(r->visited, r->reported), std::pair(kPages, uint64_t{0}));
    listing += middle - start;
    unmapping += end - middle;
  }
  double pages = static_cast<double>(kPages) * kRounds;
  std::printf("scan of 4 MiB: %.2f ns/page unmapping (nothing reported), %.2f ns/page listing 60 a call (%d rounds)\n",
              static_cast<double>(unmapping.count()) / pages, static_cast<double>(listing.count()) / pages, kRounds);
  EXPECT_EQ(a->available(), 8u);
}

}  // namespace
}  // namespace kern
