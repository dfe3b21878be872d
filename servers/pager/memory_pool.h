// The pager's physical memory: a few Untypeds (its pools, anywhere in RAM,
// some partly used already) carved once, at start, into fixed chunks of
// 2^kChunkBits bytes, because Untyped memory can be reused only when
// everything made from it is gone. Chunks are numbered across the pools, in
// the order the pools are given; a pool's chunks lie end to end in physical
// memory (retype lays objects of one size out that way), so each pool is a
// span {physical address, first chunk, count}. A chunk is, in turn:
//
//   free     an Untyped with no descendants;
//   frames   retyped into kFramesPerChunk Frames, each mapped into the
//            pager's own VSpace at direct_map_va + chunk number * kChunkSize
//            + its index * 4 KiB (the direct map: contiguous even though the
//            pools are not), so the pager reads and writes page contents by
//            pointer. Frames
//            are handed out and taken back one at a time (alloc_frame,
//            free_frame) and zeroed when they come back, never deleted; a
//            chunk all of whose frames are free can be turned back into a
//            free chunk when an address space needs one (reclaim);
//   space    an address space's VSpace (8 KiB) and its page-table pool (an
//            Untyped of 2^kTablePoolBits), given back by revoking the chunk;
//   misc     the pager's own objects (make_object), for good.
//
// Slots: chunk c's Untyped is at chunk_slot(c); the objects made from it at
// object_slot(c) + 0 .. kFramesPerChunk - 1. A frame's slot and its pointer
// are computed from one another; its physical address from its chunk's span,
// and back (frame_at) by a binary search of the spans sorted by address,
// which is how a VSpaceLookup's physical address becomes a FrameRef. The pool also
// serves as the servers::PageSource of the region sets (a page is a frame).
//
// Every mapping the direct map makes counts in the kernel's per-frame
// mapping count: see PoolKernelOps, which hides that one from the policies.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/page_source.h"
#include "invocations.h"
#include "kernel_ops.h"

namespace pager {

struct PoolConfig {
  uint64_t first_pool = 0;    // slots [first_pool, first_pool + pool_count) hold the pool Untypeds
  uint64_t pool_count = 0;    // 1 .. MemoryPool::kMaxPools
  uint64_t cnode = 0;         // the pager's own CNode (every slot below is in it)
  uint64_t vspace = 0;        // the pager's own VSpace (the direct map goes here)
  uint64_t first_slot = 0;    // slots [first_slot, slot_limit) are the pool's
  uint64_t slot_limit = 0;    // 2^radix of the CNode
  uint64_t direct_map_va = 0; // where the pool's frames are mapped in the pager
  uint8_t* direct_map = nullptr;  // the same address, as a pointer
};

class MemoryPool final : public servers::PageSource {
 public:
  static constexpr uint64_t kChunkBits = 17;
  static constexpr uint64_t kChunkSize = uint64_t{1} << kChunkBits;
  static constexpr uint64_t kFramesPerChunk = kChunkSize / kern::kPageSize;  // 32: one bit each in a word
  static constexpr uint64_t kTablePoolBits = 16;  // 16 page tables per address space
  // The most chunks the pager keeps track of: 4 GiB, about what a CNode of
  // the kernel's largest radix (20) has slots for (33 per chunk). More memory
  // is used up to this. Chunk numbers fit the uint16_t stacks below.
  static constexpr size_t kMaxChunks = 32768;
  // The most pools: the kernel hands out at most 96 Untypeds.
  static constexpr size_t kMaxPools = 96;
  static_assert(kFramesPerChunk == 32);

  enum class ChunkState : uint8_t { Free, Frames, Space, Misc };

  constexpr MemoryPool() = default;
  MemoryPool(const MemoryPool&) = delete;
  MemoryPool& operator=(const MemoryPool&) = delete;

  // Carves each pool in turn into as many chunks as it holds (its size is
  // not needed: retype says when it is full), until the slots or kMaxChunks
  // run out; keeps the first chunk as the misc chunk and learns each pool's
  // physical address (a frame retyped from its first chunk, then revoked).
  // A pool with no room for a chunk is skipped. InvalidArgument for no pools
  // or more than kMaxPools; NotEnoughMemory if fewer than two chunks result;
  // any other kernel error as it comes. Call once.
  Status init(Invocations& kernel, const PoolConfig& config);

  // ---- frames ----
  // A zeroed frame. NotEnoughMemory when no frame is free and no chunk left.
  Result<FrameRef> alloc_frame();
  // Zeroes the frame and makes it free again. The caller has unmapped it
  // from every address space. A handle that is not an allocated frame is
  // ignored and counted (bad_frees()), never trusted.
  void free_frame(FrameRef frame);
  // The frame's bytes through the direct map; nullptr for an invalid handle.
  uint8_t* frame_bytes(FrameRef frame) const;
  // The frame (allocated or free) at a physical address, or FailedLookup if
  // the address is not one of the pool's frames.
  Result<FrameRef> frame_at(uint64_t paddr) const;
  bool is_allocated(FrameRef frame) const;

  // ---- address spaces ----
  // A chunk holding a fresh VSpace with its table pool set. Takes a free
  // chunk, or reclaims a chunk of free frames. NotEnoughMemory when neither
  // exists.
  Result<uint64_t> alloc_space();
  uint64_t space_vspace(uint64_t chunk) const { return object_slot(chunk); }
  // Revokes the chunk (the VSpace, its tables and every copy of its cap go)
  // and makes it free.
  void free_space(uint64_t chunk);

  // ---- the pager's own objects ----
  // One object of `type` from the misc chunk, in a slot of its own, for good.
  Result<uint64_t> make_object(uapi::ObjectType type, uint64_t size_bits);

  // ---- servers::PageSource, for the region sets ----
  kern::Result<void*> alloc_page() override;
  void free_page(void* page) override;

  // ---- figures ----
  uint64_t free_bytes() const { return m_free_chunks * kChunkSize + m_free_frames * kern::kPageSize; }
  uint64_t total_bytes() const { return m_chunks * kChunkSize; }
  uint64_t chunk_count() const { return m_chunks; }
  uint64_t free_frames() const { return m_free_frames; }
  uint64_t bad_frees() const { return m_bad_frees; }
  ChunkState state(uint64_t chunk) const { return m_state[chunk]; }
  uint64_t chunk_slot(uint64_t chunk) const { return m_config.first_slot + chunk; }
  uint64_t object_slot(uint64_t chunk) const { return m_object_first + chunk * kFramesPerChunk; }
  // The physical address of a chunk (chunk < chunk_count()).
  uint64_t chunk_paddr(uint64_t chunk) const;
  // The pools that gave at least one chunk.
  uint64_t pool_count() const { return m_span_count; }

  // Counters agree with the chunk states and bitmaps, the stacks hold
  // exactly the chunks they should. For tests.
  bool check_invariants() const;

 private:
  static constexpr uint32_t kAllFree = 0xffff'ffff;

  // One pool's chunks, physically contiguous.
  struct Span {
    uint64_t paddr;        // of its first chunk
    uint64_t first_chunk;
    uint64_t chunks;
  };

  // Carves chunks from `untyped` into chunk_slot(m_chunks).., at most
  // `limit`; the number carved.
  Result<uint64_t> carve_chunks(uint64_t untyped, uint64_t limit);
  // The span holding `chunk` (chunk < m_chunks).
  const Span& span_of(uint64_t chunk) const;
  Result<uint64_t> take_free_chunk();
  void put_free_chunk(uint64_t chunk);
  Status make_frames(uint64_t chunk);
  Result<uint64_t> reclaim_frames_chunk();
  void push_partial(uint64_t chunk);
  void remove_partial(uint64_t chunk);
  // The chunk and index of a frame handle, false if it is not a frame slot
  // of a frames chunk.
  bool decode(FrameRef frame, uint64_t& chunk, uint64_t& index) const;

  Invocations* m_kernel = nullptr;
  PoolConfig m_config;
  uint64_t m_chunks = 0;
  uint64_t m_object_first = 0;
  Span m_spans[kMaxPools] = {};   // in chunk order
  uint64_t m_span_count = 0;
  uint8_t m_by_paddr[kMaxPools] = {};  // indices of m_spans, by physical address
  uint64_t m_misc_used = 0;       // objects made in the misc chunk
  uint64_t m_free_chunks = 0;
  uint64_t m_free_frames = 0;
  uint64_t m_bad_frees = 0;
  ChunkState m_state[kMaxChunks] = {};
  uint32_t m_free_bits[kMaxChunks] = {};       // frames chunks: bit i set = frame i free
  uint16_t m_free_stack[kMaxChunks] = {};      // the free chunks
  uint16_t m_partial_stack[kMaxChunks] = {};   // frames chunks with a free frame
  uint16_t m_partial_pos[kMaxChunks] = {};     // a chunk's index in m_partial_stack
  uint64_t m_partial_count = 0;
};

}  // namespace pager
