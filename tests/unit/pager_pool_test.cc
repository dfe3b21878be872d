// Host tests of the pager server's building blocks (servers/pager): the
// chunked memory pool and PoolKernelOps against the fake kernel of
// pager_fake_invocations.h, the exec-block parser, the fault-to-signal
// mapping, the fault-report ring and the address-space table.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <memory>
#include <string>
#include <vector>

#include "fake_page_source.h"
#include "pager/address_spaces.h"
#include "pager/exec_block.h"
#include "pager/fault_report.h"
#include "pager/memory_pool.h"
#include "pager/pool_kernel_ops.h"
#include "pager_fake_invocations.h"
#include "posix_matchers.h"
#include "result_matchers.h"

namespace pager {
namespace {

using kern::kPageSize;
using kern::testing_support::fails_with;
using kern::testing_support::ok;
using posix::Errno;
using posix::testing_support::fails_with_errno;
using testing_support::FakeInvocations;

constexpr uint64_t kCNode = 2, kVSpace = 3, kPoolSlot = 6, kMailbox = 7, kFirstSlot = 272;
constexpr uint64_t kPoolBits = 22;  // 4 MiB: 32 chunks
constexpr uint64_t kPoolPaddr = 0x8840'0000;
constexpr uint64_t kDirectMapVa = 0x10'0000'0000;
constexpr uint64_t kChunk = MemoryPool::kChunkSize;

struct PoolFixture {
  explicit PoolFixture(uint64_t radix = 12, uint64_t pool_bits = kPoolBits)
      : PoolFixture(radix, {{kPoolSlot, pool_bits, kPoolPaddr}}) {}
  // Pools in consecutive slots from the first spec's.
  PoolFixture(uint64_t radix, const std::vector<FakeInvocations::PoolSpec>& pools)
      : kernel(radix, pools, kCNode, kVSpace, kMailbox),
        config{.first_pool = pools.front().slot,
               .pool_count = pools.size(),
               .cnode = kCNode,
               .vspace = kVSpace,
               .first_slot = kFirstSlot,
               .slot_limit = uint64_t{1} << radix,
               .direct_map_va = kDirectMapVa,
               .direct_map = kernel.direct_map()} {}

  FakeInvocations kernel;
  PoolConfig config;
  MemoryPool pool;
};

class PoolTest : public ::testing::Test, public PoolFixture {
 protected:
  void SetUp() override { ASSERT_TRUE(ok(pool.init(kernel, config))); }
};

// ---- MemoryPool ----------------------------------------------------------------

TEST_F(PoolTest, CarvesThePoolIntoChunksAndKeepsOneForItself) {
  EXPECT_EQ(pool.chunk_count(), 32u);
  EXPECT_EQ(pool.total_bytes(), uint64_t{1} << kPoolBits);
  EXPECT_EQ(pool.free_bytes(), 31 * kChunk);
  EXPECT_EQ(pool.chunk_paddr(0), kPoolPaddr);
  EXPECT_EQ(pool.chunk_paddr(31), kPoolPaddr + 31 * kChunk);
  EXPECT_EQ(pool.pool_count(), 1u);
  EXPECT_EQ(pool.state(0), MemoryPool::ChunkState::Misc);
  EXPECT_EQ(kernel.slot_type(FakeInvocations::kSelfCNodeId, pool.chunk_slot(31)), uapi::ObjectType::Untyped);
  EXPECT_TRUE(pool.check_invariants());
}

TEST_F(PoolTest, FramesAreZeroedMappedInTheDirectMapAndFoundByAddress) {
  const uint64_t free_before = pool.free_bytes();
  auto frame = pool.alloc_frame();
  ASSERT_TRUE(frame);
  EXPECT_EQ(pool.free_bytes(), free_before - kPageSize);
  uint8_t* bytes = pool.frame_bytes(*frame);
  ASSERT_NE(bytes, nullptr);
  for (size_t i = 0; i < kPageSize; ++i) ASSERT_EQ(bytes[i], 0) << i;
  // The pointer is the direct map of the frame's physical address.
  const uint64_t paddr = *kernel.frame_paddr(frame->handle);
  EXPECT_EQ(kernel.find_pte(kVSpace, kDirectMapVa + uint64_t(bytes - kernel.direct_map()))->paddr, paddr);
  bytes[7] = 0x5a;
  EXPECT_EQ(kernel.bytes(paddr)[7], 0x5a);
  bytes[7] = 0;
  EXPECT_EQ(kernel.map_count(paddr), 1u);  // the direct map
  auto found = pool.frame_at(paddr);
  ASSERT_TRUE(found);
  EXPECT_EQ(*found, *frame);
  EXPECT_TRUE(pool.is_allocated(*frame));
  EXPECT_TRUE(fails_with(pool.frame_at(paddr + 1), Error::FailedLookup));
  EXPECT_TRUE(fails_with(pool.frame_at(kPoolPaddr), Error::FailedLookup));  // the misc chunk
  EXPECT_TRUE(fails_with(pool.frame_at(kPoolPaddr + (uint64_t{1} << kPoolBits)), Error::FailedLookup));

  std::memset(bytes, 0x77, kPageSize);
  pool.free_frame(*frame);
  EXPECT_EQ(pool.free_bytes(), free_before);
  EXPECT_FALSE(pool.is_allocated(*frame));
  for (size_t i = 0; i < kPageSize; ++i) ASSERT_EQ(bytes[i], 0) << "freed frames are zeroed, byte " << i;
  EXPECT_TRUE(pool.check_invariants());
}

TEST_F(PoolTest, BadFreesAreIgnoredAndCounted) {
  auto frame = pool.alloc_frame();
  ASSERT_TRUE(frame);
  pool.free_frame(*frame);
  const uint64_t free_bytes = pool.free_bytes();
  pool.free_frame(*frame);                    // twice
  pool.free_frame(FrameRef{0});               // nothing
  pool.free_frame(FrameRef{kFirstSlot});      // a chunk's Untyped
  pool.free_frame(FrameRef{pool.object_slot(0)});  // the misc chunk
  pool.free_page(reinterpret_cast<void*>(0x1000));
  EXPECT_EQ(pool.bad_frees(), 5u);
  EXPECT_EQ(pool.free_bytes(), free_bytes);
  EXPECT_TRUE(pool.check_invariants());
}

TEST_F(PoolTest, AllocatesEveryFrameThenRunsDryAndRecovers) {
  std::vector<FrameRef> frames;
  for (;;) {
    auto f = pool.alloc_frame();
    if (!f) {
      EXPECT_EQ(f.error(), Error::NotEnoughMemory);
      break;
    }
    frames.push_back(*f);
  }
  EXPECT_EQ(frames.size(), 31 * MemoryPool::kFramesPerChunk);
  EXPECT_EQ(pool.free_bytes(), 0u);
  EXPECT_TRUE(fails_with(pool.alloc_space(), Error::NotEnoughMemory));
  EXPECT_TRUE(pool.check_invariants());
  for (FrameRef f : frames) pool.free_frame(f);
  EXPECT_EQ(pool.free_bytes(), 31 * kChunk);
  EXPECT_EQ(pool.bad_frees(), 0u);
  EXPECT_TRUE(pool.check_invariants());
}

TEST_F(PoolTest, SpacesGetAVSpaceWithATablePoolAndAreRevokedWhole) {
  auto chunk = pool.alloc_space();
  ASSERT_TRUE(chunk);
  EXPECT_EQ(pool.state(*chunk), MemoryPool::ChunkState::Space);
  EXPECT_EQ(pool.free_bytes(), 30 * kChunk);
  const uint64_t vspace = pool.space_vspace(*chunk);
  EXPECT_EQ(kernel.slot_type(FakeInvocations::kSelfCNodeId, vspace), uapi::ObjectType::VSpace);
  // The table pool was moved into the VSpace: its slot is empty.
  EXPECT_EQ(kernel.slot_type(FakeInvocations::kSelfCNodeId, vspace + 1), uapi::ObjectType::Null);

  auto frame = pool.alloc_frame();
  ASSERT_TRUE(frame);
  ASSERT_TRUE(ok(kernel.map(vspace, 0x10000, kCNode, frame->handle, 1, 3)));
  const uint64_t paddr = *kernel.frame_paddr(frame->handle);
  EXPECT_EQ(kernel.map_count(paddr), 2u);
  pool.free_space(*chunk);
  EXPECT_EQ(kernel.slot_type(FakeInvocations::kSelfCNodeId, vspace), uapi::ObjectType::Null);
  EXPECT_EQ(kernel.map_count(paddr), 1u) << "destroying the VSpace unmaps its pages";
  pool.free_frame(*frame);
  EXPECT_EQ(pool.free_bytes(), 31 * kChunk);
  EXPECT_EQ(kernel.live_objects(uapi::ObjectType::VSpace), 1u);  // the pager's own
  // The chunk is reusable: its Untyped has no descendants left.
  std::vector<uint64_t> chunks;
  for (int i = 0; i < 31; ++i) {
    auto c = pool.alloc_space();
    ASSERT_TRUE(c) << i;
    chunks.push_back(*c);
  }
  EXPECT_TRUE(fails_with(pool.alloc_space(), Error::NotEnoughMemory));
  for (uint64_t c : chunks) pool.free_space(c);
  EXPECT_EQ(pool.free_bytes(), 31 * kChunk);
  EXPECT_TRUE(pool.check_invariants());
}

TEST_F(PoolTest, ReclaimsAChunkOfFreeFramesForASpace) {
  std::vector<FrameRef> frames;
  while (auto f = pool.alloc_frame()) frames.push_back(*f);
  for (FrameRef f : frames) pool.free_frame(f);
  // Every chunk is now frames, all free: a space takes one back.
  const uint64_t free_bytes = pool.free_bytes();
  auto chunk = pool.alloc_space();
  ASSERT_TRUE(chunk);
  EXPECT_EQ(pool.free_bytes(), free_bytes - kChunk);
  EXPECT_EQ(kernel.mapped_pages(kVSpace), 30 * MemoryPool::kFramesPerChunk) << "out of the direct map";
  EXPECT_TRUE(pool.check_invariants());
  pool.free_space(*chunk);
  EXPECT_EQ(pool.free_bytes(), free_bytes);
  // A chunk with one frame in use is not reclaimed.
  EXPECT_TRUE(kernel.problems().empty());
}

TEST_F(PoolTest, PartlyUsedFrameChunksAreNotReclaimed) {
  std::vector<FrameRef> frames;
  while (auto f = pool.alloc_frame()) frames.push_back(*f);
  // Keep one frame of every chunk.
  for (size_t i = 0; i < frames.size(); ++i) {
    if (i % MemoryPool::kFramesPerChunk != 0) pool.free_frame(frames[i]);
  }
  EXPECT_TRUE(fails_with(pool.alloc_space(), Error::NotEnoughMemory));
  EXPECT_TRUE(pool.check_invariants());
}

TEST_F(PoolTest, AFailedFrameChunkLeavesTheChunkFree) {
  kernel.fail_in(2);  // the retype succeeds, FrameGetInfo fails
  EXPECT_TRUE(fails_with(pool.alloc_frame(), Error::NotEnoughMemory));
  EXPECT_EQ(pool.free_bytes(), 31 * kChunk);
  kernel.fail_in(3);  // the direct map fails
  EXPECT_TRUE(fails_with(pool.alloc_frame(), Error::NotEnoughMemory));
  EXPECT_EQ(pool.free_bytes(), 31 * kChunk);
  EXPECT_TRUE(pool.alloc_frame());
  EXPECT_TRUE(pool.check_invariants());
}

TEST_F(PoolTest, AFailedSpaceLeavesTheChunkFree) {
  for (uint64_t n = 1; n <= 3; ++n) {
    kernel.fail_in(n);
    EXPECT_TRUE(fails_with(pool.alloc_space(), Error::NotEnoughMemory)) << n;
    EXPECT_EQ(pool.free_bytes(), 31 * kChunk);
  }
  auto chunk = pool.alloc_space();
  EXPECT_TRUE(chunk);
  EXPECT_TRUE(pool.check_invariants());
}

TEST_F(PoolTest, MiscObjectsComeFromTheFirstChunk) {
  auto notification = pool.make_object(uapi::ObjectType::Notification, 0);
  ASSERT_TRUE(notification);
  EXPECT_EQ(*notification, pool.object_slot(0) + 1);
  EXPECT_EQ(kernel.slot_type(FakeInvocations::kSelfCNodeId, *notification), uapi::ObjectType::Notification);
  EXPECT_EQ(pool.free_bytes(), 31 * kChunk);
}

TEST_F(PoolTest, ServesAsThePageSourceOfRegionSets) {
  const uint64_t free_bytes = pool.free_bytes();
  {
    RegionSet regions(pool);
    ASSERT_TRUE(ok(regions.add_segment(RegionKind::Text, VirtAddr(0x10000), kPageSize)));
    EXPECT_EQ(pool.free_bytes(), free_bytes - kPageSize);
  }
  EXPECT_EQ(pool.free_bytes(), free_bytes);
  EXPECT_EQ(pool.bad_frees(), 0u);
}

TEST(Pool, FewerSlotsMeanFewerChunks) {
  // 2^10 slots: (1024 - 272 - ...) / 33 chunks at most.
  PoolFixture f(10);
  ASSERT_TRUE(ok(f.pool.init(f.kernel, f.config)));
  EXPECT_EQ(f.pool.chunk_count(), 22u);
  EXPECT_LE(f.pool.object_slot(f.pool.chunk_count()), 1024u);
  EXPECT_TRUE(f.pool.check_invariants());
}

TEST(Pool, ATinyPoolIsRefused) {
  PoolFixture f(12, MemoryPool::kChunkBits);
  EXPECT_TRUE(fails_with(f.pool.init(f.kernel, f.config), Error::NotEnoughMemory));
}

TEST(Pool, APoolAlreadyCarvedFromHoldsWhatFits) {
  PoolFixture f;
  // Someone retyped a frame from the pool first: its first chunk is lost.
  ASSERT_TRUE(ok(f.kernel.retype(kPoolSlot, uapi::ObjectType::Frame, 0, 1, kCNode, 100)));
  ASSERT_TRUE(ok(f.pool.init(f.kernel, f.config)));
  EXPECT_EQ(f.pool.chunk_count(), 31u);
  EXPECT_EQ(f.pool.chunk_paddr(0), kPoolPaddr + kChunk);
  auto frame = f.pool.alloc_frame();
  ASSERT_TRUE(frame);
  // The direct map starts at the first chunk: its bytes are the frame's.
  const uint64_t paddr = *f.kernel.frame_paddr(frame->handle);
  f.pool.frame_bytes(*frame)[9] = 0x42;
  EXPECT_EQ(f.kernel.bytes(paddr)[9], 0x42);
  EXPECT_EQ(*f.pool.frame_at(paddr), *frame);
}


// ---- Several pools ----------------------------------------------------------------

// Pools as procmgr hands them over, largest first but anywhere in memory:
// out of address order, with gaps, one too small for a chunk, one partly
// used (the kernel carved the root task's objects from it).
constexpr uint64_t kPoolA = 0x9000'0000, kPoolB = 0x8800'0000, kPoolC = 0xa000'0000, kPoolD = 0xb000'0000,
                   kPoolE = 0xc000'0000;

class PoolsTest : public ::testing::Test, public PoolFixture {
 protected:
  PoolsTest()
      : PoolFixture(12, {{8, 21, kPoolB},                         // 16 chunks, the lowest address
                         {9, 20, kPoolA},                         // 8
                         {10, 20, kPoolE},                        // 8, one lost to a frame below
                         {11, 18, kPoolC},                        // 2
                         {12, MemoryPool::kChunkBits, kPoolD}}) {}  // none: not larger than a chunk
  void SetUp() override {
    ASSERT_TRUE(ok(kernel.retype(10, uapi::ObjectType::Frame, 0, 1, kCNode, 200)));
    ASSERT_TRUE(ok(pool.init(kernel, config)));
  }
  static constexpr uint64_t kChunks = 16 + 8 + 7 + 2;

  // Which pool a physical address is in, by its base; 0 if none.
  static uint64_t pool_of(uint64_t paddr) {
    for (auto [base, bits] : {std::pair{kPoolA, 20}, {kPoolB, 21}, {kPoolC, 18}, {kPoolE, 20}}) {
      if (paddr >= base && paddr < base + (uint64_t{1} << bits)) return base;
    }
    return 0;
  }
};

TEST_F(PoolsTest, CarvesEveryPoolInTurnAndSumsThem) {
  EXPECT_EQ(pool.chunk_count(), kChunks);
  EXPECT_EQ(pool.total_bytes(), kChunks * kChunk);
  EXPECT_EQ(pool.free_bytes(), (kChunks - 1) * kChunk);
  EXPECT_EQ(pool.pool_count(), 4u) << "the pool no larger than a chunk gives none";
  // Chunks are numbered in the order the pools were given.
  EXPECT_EQ(pool.chunk_paddr(0), kPoolB);
  EXPECT_EQ(pool.chunk_paddr(15), kPoolB + 15 * kChunk);
  EXPECT_EQ(pool.chunk_paddr(16), kPoolA);
  EXPECT_EQ(pool.chunk_paddr(24), kPoolE + kChunk) << "past the frame carved before";
  EXPECT_EQ(pool.chunk_paddr(31), kPoolC);
  EXPECT_EQ(pool.chunk_paddr(32), kPoolC + kChunk);
  // Learning a pool's address left no frame behind but chunk 0's.
  EXPECT_EQ(kernel.slot_type(FakeInvocations::kSelfCNodeId, pool.object_slot(16)), uapi::ObjectType::Null);
  EXPECT_EQ(kernel.slot_type(FakeInvocations::kSelfCNodeId, pool.object_slot(0)), uapi::ObjectType::Frame);
  EXPECT_TRUE(pool.check_invariants());
}

TEST_F(PoolsTest, FramesOfEveryPoolAreFoundByAddressAndExhaustionSpansThePools) {
  std::vector<FrameRef> frames;
  std::set<uint64_t> paddrs;
  std::map<uint64_t, uint64_t> per_pool;
  for (;;) {
    auto f = pool.alloc_frame();
    if (!f) {
      EXPECT_EQ(f.error(), Error::NotEnoughMemory);
      break;
    }
    const uint64_t paddr = *kernel.frame_paddr(f->handle);
    ASSERT_TRUE(paddrs.insert(paddr).second) << std::hex << paddr;
    ++per_pool[pool_of(paddr)];
    auto found = pool.frame_at(paddr);
    ASSERT_TRUE(found) << std::hex << paddr;
    EXPECT_EQ(*found, *f);
    // The direct-map pointer is the frame's memory.
    uint8_t* bytes = pool.frame_bytes(*f);
    ASSERT_EQ(bytes[0], 0);
    bytes[0] = uint8_t(frames.size());
    EXPECT_EQ(kernel.bytes(paddr)[0], uint8_t(frames.size()));
    frames.push_back(*f);
  }
  EXPECT_EQ(frames.size(), (kChunks - 1) * MemoryPool::kFramesPerChunk);
  EXPECT_EQ(per_pool[kPoolB], 15 * MemoryPool::kFramesPerChunk);  // less the misc chunk
  EXPECT_EQ(per_pool[kPoolA], 8 * MemoryPool::kFramesPerChunk);
  EXPECT_EQ(per_pool[kPoolE], 7 * MemoryPool::kFramesPerChunk);
  EXPECT_EQ(per_pool[kPoolC], 2 * MemoryPool::kFramesPerChunk);
  EXPECT_EQ(per_pool[0], 0u);
  EXPECT_EQ(pool.free_bytes(), 0u);
  EXPECT_TRUE(fails_with(pool.alloc_space(), Error::NotEnoughMemory));
  EXPECT_TRUE(pool.check_invariants());

  for (FrameRef f : frames) pool.free_frame(f);
  EXPECT_EQ(pool.free_bytes(), (kChunks - 1) * kChunk);
  EXPECT_EQ(pool.bad_frees(), 0u);
  // Every chunk, in every pool, can be turned back into a space.
  for (uint64_t i = 1; i < kChunks; ++i) ASSERT_TRUE(pool.alloc_space()) << i;
  EXPECT_TRUE(fails_with(pool.alloc_space(), Error::NotEnoughMemory));
  EXPECT_TRUE(pool.check_invariants());
  EXPECT_TRUE(kernel.problems().empty());
}

TEST_F(PoolsTest, AddressesOutsideThePoolsAreNotFrames) {
  std::vector<FrameRef> frames;
  while (auto f = pool.alloc_frame()) frames.push_back(*f);
  for (uint64_t paddr : {kPoolB - kPageSize, kPoolB + (uint64_t{1} << 21), kPoolA - kPageSize,
                         kPoolA + (uint64_t{1} << 20), kPoolE, kPoolE + kChunk - kPageSize, kPoolC + 2 * kChunk,
                         kPoolD, kPoolE + (uint64_t{1} << 20), uint64_t{0}, ~uint64_t{0} - kPageSize + 1}) {
    EXPECT_TRUE(fails_with(pool.frame_at(paddr), Error::FailedLookup)) << std::hex << paddr;
  }
  // Each pool's first and last frame are.
  for (uint64_t paddr : {kPoolB + kChunk, kPoolA, kPoolE + kChunk, kPoolC, kPoolC + 2 * kChunk - kPageSize,
                         kPoolA + (uint64_t{1} << 20) - kPageSize}) {
    EXPECT_TRUE(pool.frame_at(paddr)) << std::hex << paddr;
  }
}

TEST_F(PoolsTest, LookupFindsFramesOfALaterPool) {
  PoolKernelOps ops{kernel, pool, kCNode};
  const VSpaceRef vspace{pool.space_vspace(*pool.alloc_space())};
  std::vector<FrameRef> frames;
  while (auto f = pool.alloc_frame()) frames.push_back(*f);
  const FrameRef last = frames.back();  // from the last pool carved
  EXPECT_EQ(pool_of(*kernel.frame_paddr(last.handle)), kPoolC);
  ASSERT_TRUE(ok(ops.map(vspace, VirtAddr(0x10000), {&last, 1}, kRW)));
  auto info = ops.lookup(vspace, VirtAddr(0x10000));
  ASSERT_TRUE(info);
  EXPECT_EQ(info->frame, last);
  EXPECT_EQ(info->map_count, 1u);
}

TEST(Pools, SlotsRunningOutStopTheCarvingInALaterPool) {
  PoolFixture f(10, {{8, 21, kPoolB}, {9, 22, kPoolA}});
  ASSERT_TRUE(ok(f.pool.init(f.kernel, f.config)));
  EXPECT_EQ(f.pool.chunk_count(), 22u);
  EXPECT_EQ(f.pool.pool_count(), 2u);
  EXPECT_EQ(f.pool.chunk_paddr(21), kPoolA + 5 * kChunk);
  EXPECT_TRUE(f.pool.check_invariants());
}

TEST(Pools, AFullPoolIsSkippedAndNoPoolIsRefused) {
  PoolFixture f(12, {{8, 18, kPoolC}, {9, 20, kPoolA}});
  ASSERT_TRUE(ok(f.kernel.retype(8, uapi::ObjectType::Untyped, 17, 2, kCNode, 100)));
  ASSERT_TRUE(ok(f.pool.init(f.kernel, f.config)));
  EXPECT_EQ(f.pool.chunk_count(), 8u);
  EXPECT_EQ(f.pool.chunk_paddr(0), kPoolA);

  PoolFixture none(12, {{8, 20, kPoolA}});
  none.config.pool_count = 0;
  EXPECT_TRUE(fails_with(none.pool.init(none.kernel, none.config), Error::InvalidArgument));
  PoolFixture too_many(12, {{8, 20, kPoolA}});
  too_many.config.pool_count = MemoryPool::kMaxPools + 1;
  EXPECT_TRUE(fails_with(too_many.pool.init(too_many.kernel, too_many.config), Error::InvalidArgument));
}

// ---- PoolKernelOps ---------------------------------------------------------------

class OpsTest : public PoolTest {
 protected:
  void SetUp() override {
    PoolTest::SetUp();
    auto chunk = pool.alloc_space();
    ASSERT_TRUE(chunk);
    vspace = VSpaceRef{pool.space_vspace(*chunk)};
  }
  PoolKernelOps ops{kernel, pool, kCNode};
  VSpaceRef vspace;
};

TEST_F(OpsTest, LookupHidesTheDirectMapping) {
  auto frame = ops.alloc_frame();
  ASSERT_TRUE(frame);
  ASSERT_TRUE(ok(ops.map(vspace, VirtAddr(0x10000), {&*frame, 1}, kRW)));
  auto info = ops.lookup(vspace, VirtAddr(0x10123));
  ASSERT_TRUE(info);
  EXPECT_EQ(info->frame, *frame);
  EXPECT_EQ(info->perm, kRW);
  EXPECT_FALSE(info->cow);
  EXPECT_EQ(info->map_count, 1u) << "the only mapping in a process";
  EXPECT_TRUE(fails_with(ops.lookup(vspace, VirtAddr(0x20000)), Error::FailedLookup));
}

TEST_F(OpsTest, MapsRunsOfConsecutiveSlotsTogetherAndUndoesAPartialMap) {
  std::vector<FrameRef> frames;
  for (int i = 0; i < 4; ++i) frames.push_back(*ops.alloc_frame());
  std::swap(frames[1], frames[3]);  // no two neighbours consecutive: four runs
  const uint64_t before = kernel.invocations();
  ASSERT_TRUE(ok(ops.map(vspace, VirtAddr(0x10000), frames, Perm::Read)));
  EXPECT_GT(kernel.invocations() - before, 1u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(ops.lookup(vspace, VirtAddr(0x10000 + i * kPageSize))->frame, frames[i]);
  ASSERT_TRUE(ops.unmap(vspace, VirtAddr(0x10000), 4 * kPageSize));

  // Consecutive slots: one invocation.
  std::sort(frames.begin(), frames.end(), [](FrameRef a, FrameRef b) { return a.handle < b.handle; });
  const uint64_t start = kernel.invocations();
  ASSERT_TRUE(ok(ops.map(vspace, VirtAddr(0x10000), frames, Perm::Read)));
  EXPECT_EQ(kernel.invocations() - start, 1u);
  ASSERT_TRUE(ops.unmap(vspace, VirtAddr(0x10000), 4 * kPageSize));

  // A later batch fails: the earlier ones are unmapped again.
  std::swap(frames[1], frames[3]);
  ASSERT_TRUE(ok(ops.map(vspace, VirtAddr(0x12000), {&frames[2], 1}, Perm::Read)));
  EXPECT_TRUE(fails_with(ops.map(vspace, VirtAddr(0x10000), frames, Perm::Read), Error::DeleteFirst));
  EXPECT_EQ(kernel.mapped_pages(vspace.handle), 1u);
}

TEST_F(OpsTest, CopyPageReturnsTheOldFrame) {
  auto a = ops.alloc_frame(), b = ops.alloc_frame();
  ASSERT_TRUE(a && b);
  pool.frame_bytes(*a)[5] = 42;
  ASSERT_TRUE(ok(ops.map(vspace, VirtAddr(0x10000), {&*a, 1}, Perm::Read)));
  auto old = ops.copy_page(vspace, VirtAddr(0x10000), *b, kRW);
  ASSERT_TRUE(old);
  EXPECT_EQ(*old, *a);
  EXPECT_EQ(pool.frame_bytes(*b)[5], 42);
  EXPECT_EQ(ops.lookup(vspace, VirtAddr(0x10000))->frame, *b);
}

// ---- The exec block ----------------------------------------------------------------

std::vector<uint8_t> exec_block(uint64_t argc, uint64_t envc, const std::vector<std::string>& strings) {
  std::vector<uint8_t> block(16);
  std::memcpy(block.data(), &argc, 8);
  std::memcpy(block.data() + 8, &envc, 8);
  for (const std::string& s : strings) {
    block.insert(block.end(), s.begin(), s.end());
    block.push_back(0);
  }
  return block;
}

TEST(ExecBlock, ParsesPathArgumentsAndEnvironment) {
  std::string_view storage[8];
  const auto block = exec_block(2, 1, {"/bin/echo", "echo", "hi", "HOME=/"});
  auto args = parse_exec_block(block, storage);
  ASSERT_TRUE(args);
  EXPECT_EQ(args->path, "/bin/echo");
  ASSERT_EQ(args->argv.size(), 2u);
  EXPECT_EQ(args->argv[0], "echo");
  EXPECT_EQ(args->argv[1], "hi");
  ASSERT_EQ(args->envp.size(), 1u);
  EXPECT_EQ(args->envp[0], "HOME=/");
}

TEST(ExecBlock, EmptyStringsAndPaddingAreFine) {
  std::string_view storage[8];
  auto block = exec_block(1, 0, {"/p", ""});
  block.resize(block.size() + 5, 0);
  auto args = parse_exec_block(block, storage);
  ASSERT_TRUE(args);
  EXPECT_EQ(args->argv[0], "");
}

TEST(ExecBlock, MalformedBlocks) {
  std::string_view storage[8];
  EXPECT_TRUE(fails_with_errno(parse_exec_block({}, storage), Errno::Invalid));
  auto header_only = exec_block(0, 0, {});
  EXPECT_TRUE(fails_with_errno(parse_exec_block(header_only, storage), Errno::Invalid));  // no path
  EXPECT_TRUE(fails_with_errno(parse_exec_block(exec_block(0, 0, {""}), storage), Errno::Invalid));
  auto cut = exec_block(2, 0, {"/p", "a", "b"});
  cut.pop_back();  // the last NUL
  EXPECT_TRUE(fails_with_errno(parse_exec_block(cut, storage), Errno::Invalid));
  EXPECT_TRUE(fails_with_errno(parse_exec_block(exec_block(3, 0, {"/p", "a"}), storage), Errno::Invalid));
  EXPECT_TRUE(fails_with_errno(parse_exec_block(exec_block(5, 4, {"/p"}), storage), Errno::ArgListTooLong));
  EXPECT_TRUE(fails_with_errno(parse_exec_block(exec_block(~uint64_t{0}, 2, {"/p"}), storage), Errno::ArgListTooLong));
  EXPECT_TRUE(fails_with_errno(parse_exec_block(exec_block(1, ~uint64_t{0}, {"/p"}), storage), Errno::ArgListTooLong));
  std::vector<uint8_t> huge(procmgr::protocol::kExecBlockMax + 1, 'x');
  EXPECT_TRUE(fails_with_errno(parse_exec_block(huge, storage), Errno::ArgListTooLong));
}

// ---- Faults ----------------------------------------------------------------------

TEST(FaultSignal, EachFaultKindGetsItsSignal) {
  using procmgr::protocol::kSigIll, procmgr::protocol::kSigKill, procmgr::protocol::kSigSegv;
  EXPECT_EQ(page_fault_signal(FaultResolution::ZeroFilled), 0u);
  EXPECT_EQ(page_fault_signal(FaultResolution::Copied), 0u);
  EXPECT_EQ(page_fault_signal(FaultResolution::MadeWritable), 0u);
  EXPECT_EQ(page_fault_signal(FaultResolution::Spurious), 0u);
  EXPECT_EQ(page_fault_signal(FaultResolution::Segfault), uint64_t(kSigSegv));
  EXPECT_EQ(page_fault_signal(kern::fail(Error::NotEnoughMemory)), uint64_t(kSigKill));
  EXPECT_EQ(page_fault_signal(kern::fail(Error::InvalidCapability)), uint64_t(kSigKill));
  EXPECT_EQ(fault_signal(uapi::FaultLabel::UnknownSyscall, 0), uint64_t(kSigIll));
  EXPECT_EQ(fault_signal(uapi::FaultLabel::Exception, 2), uint64_t(kSigIll));
  for (uint64_t scause : {0, 1, 3, 4, 5, 6, 7}) {
    EXPECT_EQ(fault_signal(uapi::FaultLabel::Exception, scause), uint64_t(kSigSegv)) << scause;
  }
  EXPECT_EQ(fault_signal(uapi::FaultLabel(99), 0), uint64_t(kSigSegv));
}

TEST(FaultRing, FifoUntilFull) {
  FaultRing<4> ring;
  EXPECT_FALSE(ring.pop());
  for (uint64_t i = 1; i <= 4; ++i) EXPECT_TRUE(ring.push({i, 11, 0x100 * i, 0}));
  EXPECT_FALSE(ring.push({5, 11, 0, 0}));
  EXPECT_EQ(ring.size(), 4u);
  for (uint64_t i = 1; i <= 4; ++i) {
    auto r = ring.pop();
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, (FaultReport{i, 11, 0x100 * i, 0}));
  }
  EXPECT_FALSE(ring.pop());
  // Wrapping around many times.
  for (uint64_t i = 0; i < 100; ++i) {
    ASSERT_TRUE(ring.push({i, 9, 0, 0}));
    ASSERT_EQ(ring.pop()->id, i);
  }
}

// ---- The address-space table -----------------------------------------------------------

TEST(SpaceTable, LowestFreeIdNeverZeroReusedAfterDestroy) {
  servers::testing_support::FakePageSource pages(true);
  auto table = std::make_unique<SpaceTable>(pages);
  EXPECT_EQ(table->find(0), nullptr);
  AddressSpace* a = table->create();
  AddressSpace* b = table->create();
  AddressSpace* c = table->create();
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(a->id, 1u);
  EXPECT_EQ(b->id, 2u);
  EXPECT_EQ(c->id, 3u);
  EXPECT_EQ(table->find(2), b);
  ASSERT_TRUE(ok(b->regions.add_segment(RegionKind::Text, VirtAddr(0x10000), kPageSize)));
  EXPECT_EQ(pages.outstanding(), 1u);
  table->destroy(2);
  EXPECT_EQ(pages.outstanding(), 0u) << "the region set's storage goes with the entry";
  EXPECT_EQ(table->find(2), nullptr);
  EXPECT_EQ(table->count(), 2u);
  AddressSpace* d = table->create();
  ASSERT_TRUE(d);
  EXPECT_EQ(d->id, 2u);
  EXPECT_EQ(d->chunk, kNoChunk);
  EXPECT_EQ(d->regions.count(), 0u);
  table->destroy(99);
  table->destroy(0);
  EXPECT_EQ(table->count(), 3u);
  for (uint64_t id = 1; id <= 3; ++id) table->destroy(id);
}

TEST(SpaceTable, FullTable) {
  servers::testing_support::FakePageSource pages;
  auto table = std::make_unique<SpaceTable>(pages);
  for (uint64_t i = 0; i < SpaceTable::kMaxSpaces; ++i) ASSERT_NE(table->create(), nullptr);
  EXPECT_EQ(table->create(), nullptr);
  EXPECT_EQ(table->find(SpaceTable::kMaxSpaces + 1), nullptr);
  table->destroy(17);
  EXPECT_EQ(table->create()->id, 17u);
  for (uint64_t id = 1; id <= SpaceTable::kMaxSpaces; ++id) table->destroy(id);
}

}  // namespace
}  // namespace pager
