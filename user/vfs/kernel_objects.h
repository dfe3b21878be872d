// vfs's use of its own kernel objects, behind the interfaces its logic
// takes (servers/vfs): pages retyped from its memory pool and mapped into
// itself (FrameMapper), and Reply objects that keep the replies of parked
// requests (ReplyStore).
//
// The CNode (boot_caps.h: 2^8 slots, kFirstFree on free) is laid out as
//   kReplyFirst .. + kReplyCount - 1   the Reply objects, made at start
//   kBatchUntyped                      a batch of pages' Untyped, briefly
//   kScratchFirst .. + kScratchCount - 1  a batch's Frame caps, briefly
// A batch of 2^k pages is an Untyped of 2^(12+k) bytes carved from the
// pool, retyped into Frames, mapped, and then revoked and deleted: the
// mappings keep the frames (the kernel never frees a mapped frame, and the
// pool's memory under them is never handed out again), so vfs needs no
// slot per page and can map a pool far bigger than its CNode. Batches
// start at one page and double, so each lands aligned right after the
// last and the pool loses nothing to alignment.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/boot_caps.h"
#include "vfs/pool_pages.h"
#include "vfs/service.h"

namespace vfs {

inline constexpr uint64_t kReplyFirst = boot_caps::kFirstFree;
// Requests that may wait at once (blocked pipe or console readers and
// writers); one more gets -ENOMEM.
inline constexpr uint64_t kReplyCount = 1024;
inline constexpr uint64_t kBatchUntyped = kReplyFirst + kReplyCount;
inline constexpr uint64_t kScratchFirst = 2048;
inline constexpr uint64_t kScratchCount = 128;
static_assert(kBatchUntyped < kScratchFirst);
static_assert(kScratchFirst + kScratchCount <= uint64_t{1} << boot_caps::kVfsCNodeRadix);

class PoolMapper final : public FrameMapper {
 public:
  explicit PoolMapper(uint64_t pool_bits) : m_pool_bits(pool_bits) {}
  kern::Status map_fresh(uint64_t va, size_t count) override;

 private:
  uint64_t m_pool_bits;
};

// Reply objects in the slots above, on a free list (a stack of slots).
class ObjectReplies final : public ReplyStore {
 public:
  // Retype the Reply objects from the pool. False if that failed: then
  // there are none, and every request that would wait gets -ENOMEM.
  bool create();
  Result<ReplyToken> save() override;
  bool send(ReplyToken token, const Message& reply) override;
  size_t available() const { return m_free_count; }

 private:
  uint64_t m_free[kReplyCount] = {};
  size_t m_free_count = 0;
};

}  // namespace vfs
