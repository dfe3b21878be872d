// Host tests for the physical page allocator over a fake window at
// 0x80000000 (where QEMU virt puts RAM). The allocator never touches the
// frames themselves, only its bitmap, so no memory stands behind the window.
// Besides the fixed cases, a seeded random run of every operation is checked
// step by step against a reference model (a std::set of free frames).
#include "page_alloc.h"

#include <gtest/gtest.h>

#include "result_matchers.h"

#include <cstdint>
#include <ostream>
#include <random>
#include <set>
#include <vector>

namespace kern {

// Readable names in failure messages instead of raw bytes.
void PrintTo(Error error, std::ostream* os) { *os << error_name(error); }
template <typename Tag>
void PrintTo(Address<Tag> address, std::ostream* os) { *os << "0x" << std::hex << address.value() << std::dec; }

namespace {

constexpr PhysAddr kBase{0x8000'0000};

using testing_support::fails_with;

PhysAddr frame(size_t index) { return kBase + index * kPageSize; }

// An allocator over `frames` frames at kBase with its own bitmap storage.
class PageAllocTest : public testing::Test {
 protected:
  void init(size_t frames, PhysAddr base = kBase) {
    m_bitmap.assign((frames + 63) / 64, ~uint64_t{0});  // garbage init must clear
    ASSERT_TRUE(m_alloc.init(base, frames, m_bitmap).has_value());
    ASSERT_TRUE(m_alloc.check_invariants());
  }

  std::vector<uint64_t> m_bitmap;
  PageAllocator m_alloc;
};

TEST(PageAllocInit, RejectsMisalignedBase) {
  std::vector<uint64_t> bitmap(1);
  PageAllocator alloc;
  EXPECT_TRUE(fails_with(alloc.init(kBase + 0x800, 10, bitmap), Error::AlignmentError));
  EXPECT_TRUE(fails_with(alloc.init(PhysAddr(1), 10, bitmap), Error::AlignmentError));
}

TEST(PageAllocInit, RejectsBitmapTooSmall) {
  std::vector<uint64_t> bitmap(1);
  PageAllocator alloc;
  EXPECT_TRUE(fails_with(alloc.init(kBase, 65, bitmap), Error::InvalidArgument));
  EXPECT_TRUE(fails_with(alloc.init(kBase, 1, std::span<uint64_t>()), Error::InvalidArgument));
  EXPECT_TRUE(alloc.init(kBase, 64, bitmap).has_value());
  EXPECT_EQ(alloc.total_frames(), 64u);
}

TEST(PageAllocInit, RejectsWindowPastEndOfAddressSpace) {
  std::vector<uint64_t> bitmap(1);
  PageAllocator alloc;
  EXPECT_TRUE(fails_with(alloc.init(PhysAddr(0xFFFF'FFFF'FFFF'F000), 1, bitmap), Error::RangeError));
  EXPECT_TRUE(fails_with(alloc.init(PhysAddr(0xFFFF'FFFF'FFFF'0000), 16, bitmap), Error::RangeError));
  EXPECT_TRUE(alloc.init(PhysAddr(0xFFFF'FFFF'FFFF'0000), 15, bitmap).has_value());
}

TEST(PageAllocInit, FailedInitKeepsPreviousState) {
  std::vector<uint64_t> bitmap(2);
  PageAllocator alloc;
  ASSERT_TRUE(alloc.init(kBase, 100, bitmap).has_value());
  alloc.free_range({kBase, 100 * kPageSize});
  EXPECT_TRUE(fails_with(alloc.init(kBase + 1, 100, bitmap), Error::AlignmentError));
  EXPECT_EQ(alloc.free_frames(), 100u);
  EXPECT_EQ(alloc.base(), kBase);
  EXPECT_TRUE(alloc.check_invariants());
}

TEST(PageAllocInit, DefaultConstructedHasNothing) {
  PageAllocator alloc;
  EXPECT_TRUE(fails_with(alloc.alloc(), Error::NotEnoughMemory));
  EXPECT_TRUE(fails_with(alloc.free(kBase), Error::RangeError));
  EXPECT_FALSE(alloc.is_free(kBase));
  EXPECT_TRUE(alloc.check_invariants());
}

TEST_F(PageAllocTest, StartsAllReserved) {
  init(100);
  EXPECT_EQ(m_alloc.total_frames(), 100u);
  EXPECT_EQ(m_alloc.free_frames(), 0u);
  EXPECT_EQ(m_alloc.base(), kBase);
  EXPECT_TRUE(fails_with(m_alloc.alloc(), Error::NotEnoughMemory));
  for (size_t i = 0; i < 100; ++i) EXPECT_FALSE(m_alloc.is_free(frame(i)));
}

TEST_F(PageAllocTest, FreeRangeRoundsInwards) {
  init(16);
  // [base + 0x800, base + 0x3800): frames 0 and 3 are only partly inside.
  m_alloc.free_range({kBase + 0x800, 3 * kPageSize});
  EXPECT_EQ(m_alloc.free_frames(), 2u);
  EXPECT_FALSE(m_alloc.is_free(frame(0)));
  EXPECT_TRUE(m_alloc.is_free(frame(1)));
  EXPECT_TRUE(m_alloc.is_free(frame(2)));
  EXPECT_FALSE(m_alloc.is_free(frame(3)));
  // Less than one whole frame frees nothing.
  m_alloc.free_range({frame(5) + 1, kPageSize});
  m_alloc.free_range({frame(7), kPageSize - 1});
  EXPECT_EQ(m_alloc.free_frames(), 2u);
  EXPECT_TRUE(m_alloc.check_invariants());
}

TEST_F(PageAllocTest, ReserveRangeRoundsOutwards) {
  init(16);
  m_alloc.free_range({kBase, 16 * kPageSize});
  EXPECT_EQ(m_alloc.free_frames(), 16u);
  // [base + 0x1800, base + 0x3001) touches frames 1, 2 and 3.
  m_alloc.reserve_range({kBase + 0x1800, 0x1801});
  EXPECT_EQ(m_alloc.free_frames(), 13u);
  EXPECT_TRUE(m_alloc.is_free(frame(0)));
  EXPECT_FALSE(m_alloc.is_free(frame(1)));
  EXPECT_FALSE(m_alloc.is_free(frame(2)));
  EXPECT_FALSE(m_alloc.is_free(frame(3)));
  EXPECT_TRUE(m_alloc.is_free(frame(4)));
  // One byte reserves its whole frame.
  m_alloc.reserve_range({frame(9) + 0xfff, 1});
  EXPECT_FALSE(m_alloc.is_free(frame(9)));
  EXPECT_EQ(m_alloc.free_frames(), 12u);
  // An empty range reserves nothing.
  m_alloc.reserve_range({frame(10), 0});
  EXPECT_TRUE(m_alloc.is_free(frame(10)));
  EXPECT_TRUE(m_alloc.check_invariants());
}

TEST_F(PageAllocTest, RangesAreClippedToWindow) {
  init(16);
  m_alloc.free_range({PhysAddr(0), kBase.value()});  // entirely below
  m_alloc.free_range({frame(16), 100 * kPageSize});  // entirely above
  EXPECT_EQ(m_alloc.free_frames(), 0u);
  m_alloc.free_range({kBase - 2 * kPageSize, 4 * kPageSize});  // straddles the start
  EXPECT_EQ(m_alloc.free_frames(), 2u);
  m_alloc.free_range({frame(14), 10 * kPageSize});  // straddles the end
  EXPECT_EQ(m_alloc.free_frames(), 4u);
  EXPECT_TRUE(m_alloc.is_free(frame(15)));
  // A range whose end would wrap around 2^64 ends at the top instead.
  m_alloc.reserve_range({kBase, 1});
  m_alloc.free_range({kBase + 0x800, ~uint64_t{0}});
  EXPECT_EQ(m_alloc.free_frames(), 15u);
  EXPECT_FALSE(m_alloc.is_free(frame(0)));
  m_alloc.reserve_range({PhysAddr(0), ~uint64_t{0}});
  EXPECT_EQ(m_alloc.free_frames(), 0u);
  EXPECT_TRUE(m_alloc.check_invariants());
}

TEST_F(PageAllocTest, RepeatedRangesKeepCountRight) {
  init(200);
  m_alloc.free_range({frame(10), 100 * kPageSize});
  m_alloc.free_range({frame(50), 100 * kPageSize});  // overlaps 60 free frames
  EXPECT_EQ(m_alloc.free_frames(), 140u);
  m_alloc.reserve_range({frame(0), 20 * kPageSize});
  m_alloc.reserve_range({frame(15), 20 * kPageSize});
  EXPECT_EQ(m_alloc.free_frames(), 115u);
  EXPECT_TRUE(m_alloc.check_invariants());
}

TEST_F(PageAllocTest, AllocUntilExhausted) {
  init(130);  // not a multiple of 64: the last word is partial
  m_alloc.free_range({kBase, 130 * kPageSize});
  std::set<uint64_t> seen;
  for (size_t i = 0; i < 130; ++i) {
    Result<PhysAddr> got = m_alloc.alloc();
    ASSERT_TRUE(got.has_value()) << "allocation " << i;
    EXPECT_TRUE(got->is_aligned(kPageSize));
    EXPECT_GE(*got, kBase);
    EXPECT_LT(*got, frame(130));
    EXPECT_FALSE(m_alloc.is_free(*got));
    EXPECT_TRUE(seen.insert(got->value()).second) << "handed out twice: " << testing::PrintToString(*got);
  }
  EXPECT_EQ(m_alloc.free_frames(), 0u);
  EXPECT_TRUE(fails_with(m_alloc.alloc(), Error::NotEnoughMemory));
  ASSERT_TRUE(m_alloc.free(frame(77)).has_value());
  EXPECT_EQ(m_alloc.alloc(), frame(77));
  EXPECT_TRUE(fails_with(m_alloc.alloc(), Error::NotEnoughMemory));
  EXPECT_TRUE(m_alloc.check_invariants());
}

TEST_F(PageAllocTest, AllocIsNextFit) {
  init(8);
  m_alloc.free_range({kBase, 8 * kPageSize});
  EXPECT_EQ(m_alloc.alloc(), frame(0));
  EXPECT_EQ(m_alloc.alloc(), frame(1));
  ASSERT_TRUE(m_alloc.free(frame(0)).has_value());
  // Frame 0 is free again, but the search goes on from frame 2.
  EXPECT_EQ(m_alloc.alloc(), frame(2));
  for (size_t i = 3; i < 8; ++i) EXPECT_EQ(m_alloc.alloc(), frame(i));
  // Then it wraps around.
  EXPECT_EQ(m_alloc.alloc(), frame(0));
  EXPECT_TRUE(m_alloc.check_invariants());
}

TEST_F(PageAllocTest, AllocSkipsReservedFrames) {
  init(300);
  m_alloc.free_range({frame(250), 3 * kPageSize});
  EXPECT_EQ(m_alloc.alloc(), frame(250));
  EXPECT_EQ(m_alloc.alloc(), frame(251));
  EXPECT_EQ(m_alloc.alloc(), frame(252));
  EXPECT_TRUE(fails_with(m_alloc.alloc(), Error::NotEnoughMemory));
}

TEST_F(PageAllocTest, FreeErrors) {
  init(64);
  m_alloc.free_range({kBase, 64 * kPageSize});
  Result<PhysAddr> got = m_alloc.alloc();
  ASSERT_TRUE(got.has_value());

  EXPECT_TRUE(fails_with(m_alloc.free(*got + 8), Error::AlignmentError));
  EXPECT_TRUE(fails_with(m_alloc.free(kBase - kPageSize), Error::RangeError));
  EXPECT_TRUE(fails_with(m_alloc.free(frame(64)), Error::RangeError));
  EXPECT_TRUE(fails_with(m_alloc.free(PhysAddr(0)), Error::RangeError));
  EXPECT_TRUE(fails_with(m_alloc.free(PhysAddr(0xFFFF'FFFF'FFFF'F000)), Error::RangeError));
  // Misalignment is reported before the window check.
  EXPECT_TRUE(fails_with(m_alloc.free(PhysAddr(3)), Error::AlignmentError));
  EXPECT_EQ(m_alloc.free_frames(), 63u);

  ASSERT_TRUE(m_alloc.free(*got).has_value());
  EXPECT_EQ(m_alloc.free_frames(), 64u);
  EXPECT_TRUE(fails_with(m_alloc.free(*got), Error::IllegalOperation));
  EXPECT_TRUE(fails_with(m_alloc.free(frame(40)), Error::IllegalOperation));
  EXPECT_EQ(m_alloc.free_frames(), 64u);
  EXPECT_TRUE(m_alloc.check_invariants());
}

TEST_F(PageAllocTest, IsFreeOutsideWindowOrMisaligned) {
  init(4);
  m_alloc.free_range({kBase, 4 * kPageSize});
  EXPECT_TRUE(m_alloc.is_free(frame(3)));
  EXPECT_FALSE(m_alloc.is_free(frame(4)));
  EXPECT_FALSE(m_alloc.is_free(kBase - kPageSize));
  EXPECT_FALSE(m_alloc.is_free(frame(1) + 16));
}

TEST_F(PageAllocTest, ContiguousRejectsBadArguments) {
  init(64);
  m_alloc.free_range({kBase, 64 * kPageSize});
  EXPECT_TRUE(fails_with(m_alloc.alloc_contiguous(0, kPageSize), Error::InvalidArgument));
  EXPECT_TRUE(fails_with(m_alloc.alloc_contiguous(1, 0), Error::InvalidArgument));
  EXPECT_TRUE(fails_with(m_alloc.alloc_contiguous(1, 2048), Error::InvalidArgument));
  EXPECT_TRUE(fails_with(m_alloc.alloc_contiguous(1, 3 * kPageSize), Error::InvalidArgument));
  EXPECT_TRUE(fails_with(m_alloc.alloc_contiguous(65, kPageSize), Error::NotEnoughMemory));
  EXPECT_TRUE(fails_with(m_alloc.alloc_contiguous(~size_t{0}, kPageSize), Error::NotEnoughMemory));
  EXPECT_EQ(m_alloc.free_frames(), 64u);
}

TEST_F(PageAllocTest, ContiguousHonoursAlignment) {
  constexpr uint64_t k2M = 2 << 20;
  // A window that starts one page past a 2 MiB boundary and spans 8 MiB.
  init(2048, kBase + kPageSize);
  m_alloc.free_range({kBase, 9u << 20});  // clipped to the window
  Result<PhysAddr> got = m_alloc.alloc_contiguous(4, k2M);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, kBase + k2M);
  for (size_t i = 0; i < 4; ++i) EXPECT_FALSE(m_alloc.is_free(*got + i * kPageSize));
  EXPECT_TRUE(m_alloc.is_free(*got + 4 * kPageSize));
  EXPECT_EQ(m_alloc.free_frames(), 2044u);

  // The next 2 MiB boundary has a reserved frame in the middle of its run.
  m_alloc.reserve_range({kBase + 2 * k2M + 100 * kPageSize, kPageSize});
  got = m_alloc.alloc_contiguous(512, k2M);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, kBase + 3 * k2M);
  // The last boundary in the window has no room for a whole 2 MiB run.
  EXPECT_TRUE(fails_with(m_alloc.alloc_contiguous(512, k2M), Error::NotEnoughMemory));
  // 64 KiB alignment: the window's first page is skipped.
  got = m_alloc.alloc_contiguous(3, 16 * kPageSize);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, kBase + 16 * kPageSize);
  EXPECT_TRUE(m_alloc.check_invariants());
}

TEST_F(PageAllocTest, ContiguousAcrossWordBoundaries) {
  init(256);
  m_alloc.free_range({frame(60), 11 * kPageSize});   // 60..70: crosses word 0/1
  m_alloc.free_range({frame(120), 80 * kPageSize});  // 120..199
  EXPECT_EQ(m_alloc.alloc_contiguous(11, kPageSize), frame(60));
  EXPECT_EQ(m_alloc.alloc_contiguous(80, kPageSize), frame(120));
  EXPECT_TRUE(fails_with(m_alloc.alloc_contiguous(1, kPageSize), Error::NotEnoughMemory));
  EXPECT_TRUE(m_alloc.check_invariants());
}

TEST_F(PageAllocTest, ContiguousWholeWindowAndHugeAlign) {
  init(64);
  m_alloc.free_range({kBase, 64 * kPageSize});
  // No address in the window is 2^63-aligned; must not overflow.
  EXPECT_TRUE(fails_with(m_alloc.alloc_contiguous(1, uint64_t{1} << 63), Error::NotEnoughMemory));
  EXPECT_TRUE(fails_with(m_alloc.alloc_contiguous(1, uint64_t{1} << 32), Error::NotEnoughMemory));
  EXPECT_EQ(m_alloc.alloc_contiguous(64, uint64_t{1} << 31), kBase);
  EXPECT_EQ(m_alloc.free_frames(), 0u);

  // A window at 0 is aligned to everything.
  std::vector<uint64_t> bitmap(1);
  PageAllocator low;
  ASSERT_TRUE(low.init(PhysAddr(0), 8, bitmap).has_value());
  low.free_range({PhysAddr(0), 8 * kPageSize});
  EXPECT_EQ(low.alloc_contiguous(2, uint64_t{1} << 63), PhysAddr(0));
}

// A seeded random sequence of every operation, compared after each step with
// a std::set of free frame indices.
TEST_F(PageAllocTest, RandomAgainstReferenceModel) {
  constexpr size_t kFrames = 1000;
  init(kFrames);
  std::set<size_t> model;
  std::vector<size_t> allocated;
  std::mt19937_64 rng(20240601);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };

  for (int step = 0; step < 20000; ++step) {
    SCOPED_TRACE(testing::Message() << "step " << step);
    switch (pick(10)) {
      case 0: case 1: case 2: case 3: {
        Result<PhysAddr> got = m_alloc.alloc();
        if (model.empty()) {
          ASSERT_TRUE(fails_with(got, Error::NotEnoughMemory));
          break;
        }
        ASSERT_TRUE(got.has_value());
        size_t index = (*got - kBase) / kPageSize;
        ASSERT_EQ(model.erase(index), 1u);
        allocated.push_back(index);
        break;
      }
      case 4: case 5: case 6: {
        if (allocated.empty()) break;
        size_t at = pick(allocated.size());
        size_t index = allocated[at];
        allocated[at] = allocated.back();
        allocated.pop_back();
        if (model.count(index) != 0) {  // freed meanwhile by free_range
          ASSERT_TRUE(fails_with(m_alloc.free(frame(index)), Error::IllegalOperation));
          break;
        }
        ASSERT_TRUE(m_alloc.free(frame(index)).has_value());
        model.insert(index);
        break;
      }
      case 7: {
        size_t count = 1 + pick(40);
        uint64_t align = kPageSize << pick(6);
        Result<PhysAddr> got = m_alloc.alloc_contiguous(count, align);
        size_t stride = align / kPageSize;
        auto run_free = [&](size_t first) {
          for (size_t i = first; i < first + count; ++i) {
            if (model.count(i) == 0) return false;
          }
          return true;
        };
        if (!got) {
          ASSERT_EQ(got.error(), Error::NotEnoughMemory);
          for (size_t first = 0; first + count <= kFrames; first += stride) {
            ASSERT_FALSE(run_free(first)) << "missed a free run at frame " << first;
          }
          break;
        }
        ASSERT_TRUE(got->is_aligned(align));
        size_t first = (*got - kBase) / kPageSize;
        ASSERT_TRUE(run_free(first));
        for (size_t i = first; i < first + count; ++i) {
          model.erase(i);
          allocated.push_back(i);
        }
        break;
      }
      case 8: {
        // Byte-granular range, sometimes sticking out of the window.
        uint64_t start = kBase.value() - 8 * kPageSize + rng() % ((kFrames + 16) * kPageSize);
        uint64_t size = rng() % (30 * kPageSize);
        bool do_free = pick(2) == 0;
        if (do_free) {
          m_alloc.free_range({PhysAddr(start), size});
        } else {
          m_alloc.reserve_range({PhysAddr(start), size});
        }
        for (size_t i = 0; i < kFrames; ++i) {
          uint64_t lo = frame(i).value();
          uint64_t hi = lo + kPageSize;
          bool whole = start <= lo && hi <= start + size;
          bool touched = start < hi && lo < start + size;
          if (do_free && whole) model.insert(i);
          if (!do_free && touched) model.erase(i);
        }
        break;
      }
      case 9: {
        size_t index = pick(kFrames + 10);
        Status freed = m_alloc.free(frame(index));
        if (index >= kFrames) {
          ASSERT_TRUE(fails_with(freed, Error::RangeError));
        } else if (model.count(index) != 0) {
          ASSERT_TRUE(fails_with(freed, Error::IllegalOperation));
        } else {
          ASSERT_TRUE(freed.has_value());
          model.insert(index);
        }
        break;
      }
    }
    ASSERT_EQ(m_alloc.free_frames(), model.size());
    ASSERT_TRUE(m_alloc.check_invariants());
    if (step % 500 == 0) {
      for (size_t i = 0; i < kFrames; ++i) ASSERT_EQ(m_alloc.is_free(frame(i)), model.count(i) != 0) << i;
    }
  }
}

// The largest window the kernel expects: 2 GiB of QEMU virt RAM.
TEST_F(PageAllocTest, TwoGiBWindow) {
  constexpr size_t kFrames = (size_t{2} << 30) / kPageSize;
  ASSERT_EQ(kFrames, 524288u);
  init(kFrames);
  m_alloc.free_range({kBase, size_t{2} << 30});
  EXPECT_EQ(m_alloc.free_frames(), kFrames);
  // The kernel image and OpenSBI at the bottom, a device tree near the top.
  m_alloc.reserve_range({kBase, 16u << 20});
  m_alloc.reserve_range({kBase + (2044u << 20), 0x12345});
  size_t reserved = (16u << 20) / kPageSize + 19;
  EXPECT_EQ(m_alloc.free_frames(), kFrames - reserved);

  Result<PhysAddr> big = m_alloc.alloc_contiguous(512, 2 << 20);
  ASSERT_TRUE(big.has_value());
  EXPECT_EQ(*big, kBase + (16u << 20));

  size_t count = 0;
  PhysAddr last;
  while (true) {
    Result<PhysAddr> got = m_alloc.alloc();
    if (!got) {
      EXPECT_EQ(got.error(), Error::NotEnoughMemory);
      break;
    }
    last = *got;
    ++count;
  }
  EXPECT_EQ(count, kFrames - reserved - 512);
  EXPECT_EQ(last, kBase + ((size_t{2} << 30) - kPageSize));
  EXPECT_EQ(m_alloc.free_frames(), 0u);
  ASSERT_TRUE(m_alloc.free(last).has_value());
  EXPECT_EQ(m_alloc.alloc(), last);
  EXPECT_TRUE(m_alloc.check_invariants());
}

}  // namespace
}  // namespace kern
