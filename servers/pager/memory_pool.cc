// The chunked pool (memory_pool.h). Bookkeeping is a few fixed arrays indexed
// by chunk: its state, a bitmap of its free frames, and two stacks (free
// chunks; frames chunks with a free frame) so that every allocation and
// free is O(1). Only reclaiming a chunk of free frames scans, and only when
// no free chunk is left.
#include "memory_pool.h"

namespace pager {

namespace {

using kern::kPageSize;
using uapi::ObjectType;

constexpr uint64_t kMapRW = uint64_t(uapi::MapPerm::Read) | uint64_t(uapi::MapPerm::Write);
constexpr uint64_t kMaxRetype = 256;  // objects per UntypedRetype

}  // namespace

Status MemoryPool::init(Invocations& kernel, const PoolConfig& config) {
  m_kernel = &kernel;
  m_config = config;
  if (config.pool_count == 0 || config.pool_count > kMaxPools) return kern::fail(Error::InvalidArgument);
  if (config.first_slot >= config.slot_limit) return kern::fail(Error::NotEnoughMemory);
  // As many chunks as the bookkeeping allows and the slots fit: one for each
  // chunk's Untyped, kFramesPerChunk for its objects.
  uint64_t n = kMaxChunks;
  while (n > 0 && kern::align_up(config.first_slot + n, kFramesPerChunk) + n * kFramesPerChunk > config.slot_limit) {
    --n;
  }
  m_object_first = kern::align_up(config.first_slot + n, kFramesPerChunk);

  for (uint64_t p = 0; p < config.pool_count && m_chunks < n; ++p) {
    const uint64_t first = m_chunks;
    const uint64_t carved = TRY(carve_chunks(config.first_pool + p, n - first));
    if (carved == 0) continue;
    m_chunks += carved;
    // A frame from the pool's first chunk tells where the pool's chunks lie.
    // Chunk 0 keeps it (the misc chunk holds the pager's own objects); any
    // other chunk is revoked back to a bare Untyped.
    TRY(kernel.retype(chunk_slot(first), ObjectType::Frame, 0, 1, config.cnode, object_slot(first)));
    const Result<uint64_t> paddr = kernel.frame_paddr(object_slot(first));
    if (first != 0) TRY(kernel.cnode_revoke(config.cnode, chunk_slot(first)));
    if (!paddr) return kern::fail(paddr.error());
    m_spans[m_span_count] = Span{*paddr, first, carved};
    // Insertion into the address order: at most kMaxPools, once.
    uint64_t i = m_span_count;
    for (; i > 0 && m_spans[m_by_paddr[i - 1]].paddr > *paddr; --i) m_by_paddr[i] = m_by_paddr[i - 1];
    m_by_paddr[i] = uint8_t(m_span_count);
    ++m_span_count;
  }
  if (m_chunks < 2) return kern::fail(Error::NotEnoughMemory);

  m_state[0] = ChunkState::Misc;
  m_misc_used = 1;
  for (uint64_t c = m_chunks - 1; c >= 1; --c) put_free_chunk(c);
  return {};
}

// Carves greedily: batches of up to kMaxRetype chunks, halved when the pool
// cannot hold the batch, until not even one chunk fits. A partly used pool
// thus gives what is left of it, a pool no larger than a chunk nothing.
Result<uint64_t> MemoryPool::carve_chunks(uint64_t untyped, uint64_t limit) {
  uint64_t done = 0;
  uint64_t count = limit < kMaxRetype ? limit : kMaxRetype;
  while (done < limit) {
    if (count > limit - done) count = limit - done;
    const Status carved =
        m_kernel->retype(untyped, ObjectType::Untyped, kChunkBits, count, m_config.cnode, chunk_slot(m_chunks + done));
    if (carved) {
      done += count;
      continue;
    }
    // InvalidArgument: the pool is not larger than a chunk.
    if (carved.error() == Error::InvalidArgument && done == 0) break;
    if (carved.error() != Error::NotEnoughMemory) return kern::fail(carved.error());
    if (count == 1) break;
    count /= 2;
  }
  return done;
}

const MemoryPool::Span& MemoryPool::span_of(uint64_t chunk) const {
  uint64_t lo = 0, hi = m_span_count;  // the last span whose first chunk is <= chunk
  while (hi - lo > 1) {
    const uint64_t mid = (lo + hi) / 2;
    if (m_spans[mid].first_chunk <= chunk) lo = mid; else hi = mid;
  }
  return m_spans[lo];
}

uint64_t MemoryPool::chunk_paddr(uint64_t chunk) const {
  const Span& span = span_of(chunk);
  return span.paddr + (chunk - span.first_chunk) * kChunkSize;
}

// ---- chunks ----------------------------------------------------------------

Result<uint64_t> MemoryPool::take_free_chunk() {
  if (m_free_chunks == 0) return kern::fail(Error::NotEnoughMemory);
  return m_free_stack[--m_free_chunks];
}

void MemoryPool::put_free_chunk(uint64_t chunk) {
  m_state[chunk] = ChunkState::Free;
  m_free_stack[m_free_chunks++] = uint16_t(chunk);
}

void MemoryPool::push_partial(uint64_t chunk) {
  m_partial_pos[chunk] = uint16_t(m_partial_count);
  m_partial_stack[m_partial_count++] = uint16_t(chunk);
}

void MemoryPool::remove_partial(uint64_t chunk) {
  const uint64_t pos = m_partial_pos[chunk];
  const uint16_t last = m_partial_stack[--m_partial_count];
  m_partial_stack[pos] = last;
  m_partial_pos[last] = uint16_t(pos);
}

// Retypes a free chunk into frames and maps them into the direct map. On
// failure the chunk is as it was (retype and map are all or nothing; a map
// failure revokes the frames).
Status MemoryPool::make_frames(uint64_t chunk) {
  Invocations& k = *m_kernel;
  TRY(k.retype(chunk_slot(chunk), ObjectType::Frame, 0, kFramesPerChunk, m_config.cnode, object_slot(chunk)));
  const Result<uint64_t> paddr = k.frame_paddr(object_slot(chunk));
  Status mapped = paddr ? Status{} : kern::fail(paddr.error());
  // A pool's chunks are contiguous from its first on; a frame elsewhere
  // would break the address-to-slot arithmetic.
  if (mapped && *paddr != chunk_paddr(chunk)) mapped = kern::fail(Error::InvalidArgument);
  if (mapped) {
    mapped = k.map(m_config.vspace, m_config.direct_map_va + chunk * kChunkSize, m_config.cnode, object_slot(chunk),
                   kFramesPerChunk, kMapRW);
  }
  if (!mapped) {
    (void)k.cnode_revoke(m_config.cnode, chunk_slot(chunk));
    return mapped;
  }
  m_state[chunk] = ChunkState::Frames;
  m_free_bits[chunk] = kAllFree;
  m_free_frames += kFramesPerChunk;
  push_partial(chunk);
  return {};
}

// A frames chunk all of whose frames are free becomes a free chunk again
// (taken at once by the caller): out of the direct map, frames revoked.
Result<uint64_t> MemoryPool::reclaim_frames_chunk() {
  for (uint64_t c = 1; c < m_chunks; ++c) {
    if (m_state[c] != ChunkState::Frames || m_free_bits[c] != kAllFree) continue;
    TRY(m_kernel->unmap(m_config.vspace, m_config.direct_map_va + c * kChunkSize, kChunkSize));
    TRY(m_kernel->cnode_revoke(m_config.cnode, chunk_slot(c)));
    remove_partial(c);
    m_free_frames -= kFramesPerChunk;
    m_state[c] = ChunkState::Free;
    return c;
  }
  return kern::fail(Error::NotEnoughMemory);
}

// ---- frames ----------------------------------------------------------------

Result<FrameRef> MemoryPool::alloc_frame() {
  if (m_partial_count == 0) {
    const uint64_t chunk = TRY(take_free_chunk());
    const Status made = make_frames(chunk);
    if (!made) {
      put_free_chunk(chunk);
      return kern::fail(made.error());
    }
  }
  const uint64_t chunk = m_partial_stack[m_partial_count - 1];
  const uint32_t bits = m_free_bits[chunk];
  const uint64_t index = uint64_t(__builtin_ctz(bits));
  m_free_bits[chunk] = bits & (bits - 1);
  if (m_free_bits[chunk] == 0) remove_partial(chunk);
  --m_free_frames;
  return FrameRef{object_slot(chunk) + index};
}

bool MemoryPool::decode(FrameRef frame, uint64_t& chunk, uint64_t& index) const {
  if (frame.handle < m_object_first) return false;
  const uint64_t rel = frame.handle - m_object_first;
  chunk = rel / kFramesPerChunk;
  index = rel % kFramesPerChunk;
  return chunk < m_chunks && m_state[chunk] == ChunkState::Frames;
}

bool MemoryPool::is_allocated(FrameRef frame) const {
  uint64_t chunk, index;
  return decode(frame, chunk, index) && (m_free_bits[chunk] & (uint32_t{1} << index)) == 0;
}

void MemoryPool::free_frame(FrameRef frame) {
  uint64_t chunk, index;
  if (!decode(frame, chunk, index) || (m_free_bits[chunk] & (uint32_t{1} << index)) != 0) {
    ++m_bad_frees;
    return;
  }
  __builtin_memset(frame_bytes(frame), 0, kPageSize);
  if (m_free_bits[chunk] == 0) push_partial(chunk);
  m_free_bits[chunk] |= uint32_t{1} << index;
  ++m_free_frames;
}

uint8_t* MemoryPool::frame_bytes(FrameRef frame) const {
  uint64_t chunk, index;
  if (!decode(frame, chunk, index)) return nullptr;
  return m_config.direct_map + chunk * kChunkSize + index * kPageSize;
}

Result<FrameRef> MemoryPool::frame_at(uint64_t paddr) const {
  if (!kern::is_aligned(paddr, kPageSize)) return kern::fail(Error::FailedLookup);
  // The last span (by address) that starts at or below paddr.
  uint64_t lo = 0, hi = m_span_count;
  while (lo < hi) {
    const uint64_t mid = (lo + hi) / 2;
    if (m_spans[m_by_paddr[mid]].paddr <= paddr) lo = mid + 1; else hi = mid;
  }
  if (lo == 0) return kern::fail(Error::FailedLookup);
  const Span& span = m_spans[m_by_paddr[lo - 1]];
  const uint64_t offset = paddr - span.paddr;
  if (offset / kChunkSize >= span.chunks) return kern::fail(Error::FailedLookup);
  const uint64_t chunk = span.first_chunk + offset / kChunkSize;
  if (m_state[chunk] != ChunkState::Frames) return kern::fail(Error::FailedLookup);
  return FrameRef{object_slot(chunk) + (offset % kChunkSize) / kPageSize};
}

// ---- address spaces --------------------------------------------------------

Result<uint64_t> MemoryPool::alloc_space() {
  Result<uint64_t> taken = take_free_chunk();
  if (!taken) taken = TRY(reclaim_frames_chunk());
  const uint64_t chunk = *taken;
  Invocations& k = *m_kernel;
  const uint64_t vspace = object_slot(chunk);
  Status made = k.retype(chunk_slot(chunk), ObjectType::VSpace, 0, 1, m_config.cnode, vspace);
  if (made) made = k.retype(chunk_slot(chunk), ObjectType::Untyped, kTablePoolBits, 1, m_config.cnode, vspace + 1);
  if (made) made = k.set_table_pool(vspace, vspace + 1);
  if (!made) {
    (void)k.cnode_revoke(m_config.cnode, chunk_slot(chunk));
    put_free_chunk(chunk);
    return kern::fail(made.error());
  }
  m_state[chunk] = ChunkState::Space;
  return chunk;
}

void MemoryPool::free_space(uint64_t chunk) {
  if (chunk >= m_chunks || m_state[chunk] != ChunkState::Space) {
    ++m_bad_frees;
    return;
  }
  // A chunk that cannot be revoked stays out of circulation rather than be
  // handed out with objects in it.
  if (!m_kernel->cnode_revoke(m_config.cnode, chunk_slot(chunk))) {
    ++m_bad_frees;
    return;
  }
  put_free_chunk(chunk);
}

Result<uint64_t> MemoryPool::make_object(uapi::ObjectType type, uint64_t size_bits) {
  if (m_chunks == 0 || m_misc_used == kFramesPerChunk) return kern::fail(Error::NotEnoughMemory);
  const uint64_t slot = object_slot(0) + m_misc_used;
  TRY(m_kernel->retype(chunk_slot(0), type, size_bits, 1, m_config.cnode, slot));
  ++m_misc_used;
  return slot;
}

// ---- PageSource ------------------------------------------------------------

kern::Result<void*> MemoryPool::alloc_page() {
  const FrameRef frame = TRY(alloc_frame());
  return frame_bytes(frame);
}

void MemoryPool::free_page(void* page) {
  const auto* bytes = static_cast<const uint8_t*>(page);
  if (m_config.direct_map == nullptr || bytes < m_config.direct_map ||
      uint64_t(bytes - m_config.direct_map) >= m_chunks * kChunkSize) {
    ++m_bad_frees;
    return;
  }
  const uint64_t offset = uint64_t(bytes - m_config.direct_map);
  free_frame(FrameRef{object_slot(offset / kChunkSize) + (offset % kChunkSize) / kPageSize});
}

// ---- invariants ------------------------------------------------------------

bool MemoryPool::check_invariants() const {
  uint64_t free_chunks = 0, free_frames = 0, partial = 0;
  for (uint64_t c = 0; c < m_chunks; ++c) {
    if (m_state[c] == ChunkState::Free) ++free_chunks;
    if (m_state[c] == ChunkState::Frames) {
      free_frames += uint64_t(__builtin_popcount(m_free_bits[c]));
      if (m_free_bits[c] != 0) {
        ++partial;
        if (m_partial_pos[c] >= m_partial_count || m_partial_stack[m_partial_pos[c]] != c) return false;
      }
    }
  }
  if (free_chunks != m_free_chunks || free_frames != m_free_frames || partial != m_partial_count) return false;
  for (uint64_t i = 0; i < m_free_chunks; ++i) {
    if (m_state[m_free_stack[i]] != ChunkState::Free) return false;
  }
  // The spans number every chunk once, in order, and do not overlap in
  // physical memory.
  uint64_t next = 0;
  for (uint64_t i = 0; i < m_span_count; ++i) {
    if (m_spans[i].first_chunk != next || m_spans[i].chunks == 0) return false;
    next += m_spans[i].chunks;
  }
  if (next != m_chunks) return false;
  for (uint64_t i = 1; i < m_span_count; ++i) {
    const Span& below = m_spans[m_by_paddr[i - 1]];
    if (below.paddr + below.chunks * kChunkSize > m_spans[m_by_paddr[i]].paddr) return false;
  }
  return m_chunks == 0 || m_state[0] == ChunkState::Misc;
}

}  // namespace pager
