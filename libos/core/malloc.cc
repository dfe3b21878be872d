// The heap allocator (see malloc.h). Memory comes in segments, one per
// non-contiguous grow of the MoreCore:
//
//     [Segment 16] [block] [block] ... [block] [end sentinel 16]
//
// A block is a 16-byte header { prev_size, size | in-use bit } and its
// payload; the size counts the header and is a multiple of 16, so payloads
// stay 16-byte aligned. prev_size is kept exact for every block (0 for the
// first of a segment), which is what lets free() find the block before it.
// The sentinel is a permanently in-use header of size 0 that stops
// coalescing at the segment's end; when the MoreCore grows contiguously it
// becomes the header of the new memory's first block. A free block stores its
// bin links where its payload would be, hence the 32-byte minimum.
#include "malloc.h"

#include "cstring.h"

namespace os::libc {

struct Heap::Block {
  size_t prev_size;
  size_t size_flags;
  Block* next;  // free blocks only: neighbours in the bin
  Block* prev;
};

struct Heap::Segment {
  Segment* next;
  size_t size;  // header, blocks and sentinel
};

namespace {

using Block = Heap::Block;
using Segment = Heap::Segment;

constexpr size_t kHeader = 16;
constexpr size_t kMinBlock = 32;
constexpr size_t kInUse = 1;
constexpr size_t kSizeMask = ~size_t(Heap::kAlignment - 1);
// Grow in large steps so that a run of small mallocs costs few system calls,
// and in whole pages, which is what the pager maps anyway.
constexpr size_t kGrowMin = 64 * 1024;
constexpr size_t kGrowUnit = 4096;
// The segment header and sentinel a fresh segment needs, plus slack for
// aligning a break that is not 16-byte aligned.
constexpr size_t kSegmentOverhead = 2 * kHeader + Heap::kAlignment;
// Requests above this fail outright, so size arithmetic below cannot wrap.
constexpr size_t kMaxRequest = size_t(-1) / 4;
// Exact-size bins cover blocks up to this size, one per 16 bytes.
constexpr size_t kExactLimit = 512;
constexpr size_t kExactBins = kExactLimit / 16 - 1;  // sizes 32..512

static_assert(sizeof(Block) == kMinBlock && sizeof(Segment) == kHeader);

constexpr size_t align_up(size_t n, size_t a) { return (n + a - 1) & ~(a - 1); }
constexpr uintptr_t addr(const void* p) { return reinterpret_cast<uintptr_t>(p); }

size_t size_of(const Block* b) { return b->size_flags & kSizeMask; }
bool in_use(const Block* b) { return (b->size_flags & kInUse) != 0; }
char* bytes(const void* p) { return static_cast<char*>(const_cast<void*>(p)); }
Block* next_block(const Block* b) { return reinterpret_cast<Block*>(bytes(b) + size_of(b)); }
Block* prev_block(const Block* b) {
  return b->prev_size == 0 ? nullptr : reinterpret_cast<Block*>(bytes(b) - b->prev_size);
}
void* payload(Block* b) { return bytes(b) + kHeader; }
Block* block_of(const void* p) { return reinterpret_cast<Block*>(bytes(p) - kHeader); }
Block* first_block(const Segment* s) { return reinterpret_cast<Block*>(bytes(s) + kHeader); }
Block* sentinel(const Segment* s) { return reinterpret_cast<Block*>(bytes(s) + s->size - kHeader); }

// Sets b's size and state, and the prev_size its successor keeps of it.
void set_block(Block* b, size_t size, bool used) {
  b->size_flags = size | (used ? kInUse : 0);
  next_block(b)->prev_size = size;
}

// The block size that serves a request of n bytes, or 0 if n is too large.
size_t block_size_for(size_t n) {
  if (n > kMaxRequest) return 0;
  const size_t size = align_up(n + kHeader, Heap::kAlignment);
  return size < kMinBlock ? kMinBlock : size;
}

}  // namespace

// Exact bins 0..30 for 32..512 bytes, then bin 31 + k - 9 for sizes in
// [2^k, 2^(k+1)), the last bin taking everything larger.
size_t Heap::bin_index(size_t block_size) {
  if (block_size <= kExactLimit) return block_size / 16 - 2;
  const size_t log2 = 63 - size_t(__builtin_clzll(block_size));
  const size_t index = kExactBins + log2 - 9;
  return index < kBins ? index : kBins - 1;
}

void Heap::bin_insert(Block* b) {
  const size_t i = bin_index(size_of(b));
  b->prev = nullptr;
  b->next = m_bins[i];
  if (b->next != nullptr) b->next->prev = b;
  m_bins[i] = b;
  m_nonempty |= uint64_t(1) << i;
}

void Heap::bin_remove(Block* b) {
  const size_t i = bin_index(size_of(b));
  if (b->prev != nullptr) b->prev->next = b->next;
  else m_bins[i] = b->next;
  if (b->next != nullptr) b->next->prev = b->prev;
  if (m_bins[i] == nullptr) m_nonempty &= ~(uint64_t(1) << i);
}

// Removes and returns a free block of at least block_size bytes, or nullptr.
// Exact bins and the bins above the request's hold only blocks that fit; the
// request's own power-of-two bin needs a first-fit walk.
Block* Heap::take_fit(size_t block_size) {
  const size_t i = bin_index(block_size);
  for (Block* b = m_bins[i]; b != nullptr; b = b->next) {
    if (size_of(b) >= block_size) {
      bin_remove(b);
      return b;
    }
  }
  const uint64_t above = i + 1 < kBins ? m_nonempty & (~uint64_t(0) << (i + 1)) : 0;
  if (above == 0) return nullptr;
  Block* b = m_bins[__builtin_ctzll(above)];
  bin_remove(b);
  return b;
}

// Gets at least block_size more bytes from the MoreCore and puts them in the
// bins as one free block (merged with a free block at the old top when the
// memory is contiguous). Returns false when the MoreCore has none.
bool Heap::grow_heap(size_t block_size) {
  const size_t least = align_up(block_size + kSegmentOverhead, kGrowUnit);
  size_t request = least < kGrowMin ? kGrowMin : least;
  char* old = static_cast<char*>(m_core.grow(request));
  if (old == nullptr && request > least) {
    // Near the end of memory: the last few pages are still worth having.
    request = least;
    old = static_cast<char*>(m_core.grow(request));
  }
  if (old == nullptr) return false;
  m_heap_bytes += request;
  const bool contiguous = m_segments != nullptr && old == m_break &&
                          bytes(m_segments) + m_segments->size == m_break;
  m_break = old + request;

  Block* fresh;
  if (contiguous) {
    // The old sentinel becomes the new block's header; a new sentinel closes
    // the segment at the new break.
    fresh = sentinel(m_segments);
    m_segments->size += request;
  } else {
    char* start = bytes(reinterpret_cast<void*>(align_up(addr(old), kAlignment)));
    char* end = bytes(reinterpret_cast<void*>(addr(old + request) & kSizeMask));
    auto* segment = reinterpret_cast<Segment*>(start);
    segment->next = m_segments;
    segment->size = size_t(end - start);
    m_segments = segment;
    fresh = first_block(segment);
    fresh->prev_size = 0;
  }
  Block* end = sentinel(m_segments);
  end->size_flags = kInUse;
  set_block(fresh, size_t(bytes(end) - bytes(fresh)), true);
  release_block(fresh);
  return true;
}

// Shrinks the in-use block b to block_size, freeing the tail if it is big
// enough to be a block of its own.
void Heap::split(Block* b, size_t block_size) {
  const size_t size = size_of(b);
  if (size - block_size < kMinBlock) {
    set_block(b, size, true);
    return;
  }
  set_block(b, block_size, true);
  Block* tail = next_block(b);
  set_block(tail, size - block_size, true);
  release_block(tail);
}

// Frees b, merging it with free neighbours, and files the result in its bin.
Block* Heap::release_block(Block* b) {
  // Cleared first: if b merges into the block before it, this header is left
  // behind as stale bytes, and it must not look in use to a second free.
  b->size_flags &= ~kInUse;
  size_t size = size_of(b);
  Block* next = next_block(b);
  if (!in_use(next)) {
    bin_remove(next);
    size += size_of(next);
  }
  Block* prev = prev_block(b);
  if (prev != nullptr && !in_use(prev)) {
    bin_remove(prev);
    size += size_of(prev);
    b = prev;
  }
  set_block(b, size, false);
  bin_insert(b);
  return b;
}

// Whether p looks like a pointer malloc returned and free has not taken
// back: inside a segment, aligned, with an in-use header whose size agrees
// with both neighbours. Reads only memory inside the heap.
Heap::Block* Heap::allocated_block(const void* p) const {
  if (addr(p) % kAlignment != 0) return nullptr;
  for (const Segment* s = m_segments; s != nullptr; s = s->next) {
    if (addr(p) < addr(first_block(s)) + kHeader || addr(p) >= addr(sentinel(s))) continue;
    Block* b = block_of(p);
    const size_t size = size_of(b);
    if (!in_use(b) || size < kMinBlock || size > addr(sentinel(s)) - addr(b)) return nullptr;
    if (next_block(b)->prev_size != size) return nullptr;
    if (b->prev_size > addr(b) - addr(first_block(s))) return nullptr;
    if (b->prev_size != 0 && size_of(prev_block(b)) != b->prev_size) return nullptr;
    return b;
  }
  return nullptr;
}

void* Heap::malloc(size_t size) {
  const size_t need = block_size_for(size);
  if (need == 0) return nullptr;
  Block* b = take_fit(need);
  if (b == nullptr) {
    if (!grow_heap(need)) return nullptr;
    b = take_fit(need);
  }
  set_block(b, size_of(b), true);
  split(b, need);
  return payload(b);
}

void* Heap::calloc(size_t count, size_t size) {
  size_t total;
  if (__builtin_mul_overflow(count, size, &total)) return nullptr;
  void* p = malloc(total);
  if (p != nullptr) memset(p, 0, total);
  return p;
}

void Heap::free(void* ptr) {
  if (ptr == nullptr) return;
  Block* b = allocated_block(ptr);
  if (b == nullptr) {
    ++m_invalid_frees;
    return;
  }
  release_block(b);
}

// In place when it can be: shrinking splits off the tail; growing takes the
// free block after, first growing the heap when the block sits at its top.
// Otherwise it moves.
void* Heap::realloc(void* ptr, size_t size) {
  if (ptr == nullptr) return malloc(size);
  if (size == 0) {
    free(ptr);
    return nullptr;
  }
  Block* b = allocated_block(ptr);
  if (b == nullptr) {
    ++m_invalid_frees;
    return nullptr;
  }
  const size_t need = block_size_for(size);
  if (need == 0) return nullptr;
  const size_t have = size_of(b);
  if (need <= have) {
    split(b, need);
    return ptr;
  }

  Block* next = next_block(b);
  const size_t next_free = in_use(next) ? 0 : size_of(next);
  Block* after = in_use(next) ? next : next_block(next);
  if (have + next_free < need && after == sentinel(m_segments)) {
    // At the top of the newest segment: a contiguous grow lands right after.
    if (grow_heap(need - have - next_free)) {
      next = next_block(b);
    }
  }
  if (!in_use(next) && have + size_of(next) >= need) {
    bin_remove(next);
    set_block(b, have + size_of(next), true);
    split(b, need);
    return ptr;
  }

  void* moved = malloc(size);
  if (moved == nullptr) return nullptr;
  memcpy(moved, ptr, have - kHeader);
  release_block(b);
  return moved;
}

size_t Heap::usable_size(const void* ptr) const {
  const Block* b = allocated_block(ptr);
  return b == nullptr ? 0 : size_of(b) - kHeader;
}

Heap::Stats Heap::stats() const {
  Stats st{};
  st.heap_bytes = m_heap_bytes;
  st.invalid_frees = m_invalid_frees;
  for (const Segment* s = m_segments; s != nullptr; s = s->next) {
    ++st.segments;
    for (const Block* b = first_block(s); b != sentinel(s); b = next_block(b)) {
      if (in_use(b)) {
        st.used_bytes += size_of(b);
        ++st.used_blocks;
      } else {
        st.free_bytes += size_of(b);
        ++st.free_blocks;
      }
    }
  }
  return st;
}

Heap::Check Heap::check() const {
  size_t free_in_segments = 0;
  size_t segment_bytes = 0;
  for (const Segment* s = m_segments; s != nullptr; s = s->next) {
    if (addr(s) % kAlignment != 0 || s->size % kAlignment != 0 || s->size < 2 * kHeader + kMinBlock) {
      return {"malformed segment", s};
    }
    segment_bytes += s->size;
    const Block* end = sentinel(s);
    if (end->size_flags != kInUse) return {"sentinel overwritten", end};
    size_t prev_size = 0;
    bool prev_free = false;
    const Block* b = first_block(s);
    for (; b != end; b = next_block(b)) {
      const size_t size = size_of(b);
      if (b->prev_size != prev_size) return {"prev_size disagrees with the previous block", b};
      if (size < kMinBlock || (b->size_flags & ~kSizeMask & ~kInUse) != 0) return {"bad block size", b};
      if (size > addr(end) - addr(b)) return {"block runs past its segment", b};
      if (!in_use(b)) {
        if (prev_free) return {"two adjacent free blocks", b};
        ++free_in_segments;
        const Block* f = m_bins[bin_index(size)];
        while (f != nullptr && f != b) f = f->next;
        if (f == nullptr) return {"free block missing from its bin", b};
      }
      prev_free = !in_use(b);
      prev_size = size;
    }
    if (end->prev_size != prev_size) return {"sentinel prev_size disagrees", end};
  }
  if (segment_bytes > m_heap_bytes) return {"segments larger than the memory obtained", nullptr};

  size_t free_in_bins = 0;
  for (size_t i = 0; i < kBins; ++i) {
    const bool marked = (m_nonempty >> i & 1) != 0;
    if (marked != (m_bins[i] != nullptr)) return {"non-empty bitmap disagrees with bin", m_bins[i]};
    const Block* prev = nullptr;
    for (const Block* f = m_bins[i]; f != nullptr; prev = f, f = f->next) {
      // More entries than free blocks means a cycle or a foreign entry.
      if (++free_in_bins > free_in_segments) return {"bins hold more blocks than the heap", f};
      if (in_use(f)) return {"in-use block in a bin", f};
      if (bin_index(size_of(f)) != i) return {"block in the wrong bin", f};
      if (f->prev != prev) return {"broken bin back link", f};
    }
  }
  if (free_in_bins != free_in_segments) return {"free blocks and bin entries differ", nullptr};
  return {nullptr, nullptr};
}

}  // namespace os::libc
