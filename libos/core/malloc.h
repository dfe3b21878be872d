// The heap behind malloc: a boundary-tag allocator with segregated free lists,
// over memory it obtains from a MoreCore (sbrk on the target, a fake in the
// tests). Every block carries a 16-byte header with its own size and its
// predecessor's, so a freed block merges with free neighbours on both sides
// at once and free space never sits in two adjacent blocks. Free blocks are
// kept in 64 bins: exact sizes up to 512 bytes, then one bin per power of
// two; a bitmap of non-empty bins finds the smallest that can serve a
// request without walking the empty ones.
//
// Not thread-safe: the C wrappers own the one Heap of a process, whose
// programs are single-threaded.
//
// FIXME: memory is never handed back to the MoreCore (the pager's sbrk does
// not shrink yet), and there is no aligned_alloc/posix_memalign (nothing needs
// more than 16-byte alignment yet; it would split a larger free block).
#pragma once

#include <cstddef>
#include <cstdint>

namespace os::libc {

// Where the heap gets memory. grow(n) extends the program break by n bytes
// and returns the old break (the start of the new memory), or nullptr when no
// memory is left. Successive grows usually return adjacent memory, but the
// heap does not rely on it: a gap starts a new segment.
class MoreCore {
 public:
  virtual void* grow(size_t bytes) = 0;

 protected:
  ~MoreCore() = default;
};

class Heap {
 public:
  static constexpr size_t kAlignment = 16;

  constexpr explicit Heap(MoreCore& core) : m_core(core) {}
  Heap(const Heap&) = delete;
  Heap& operator=(const Heap&) = delete;

  // C semantics. malloc(0) returns a unique pointer. calloc returns nullptr
  // when count * size overflows. realloc(nullptr, n) is malloc(n);
  // realloc(p, 0) frees p and returns nullptr (as glibc does); a failed
  // realloc leaves p untouched. Every pointer returned is 16-byte aligned.
  void* malloc(size_t size);
  void* calloc(size_t count, size_t size);
  void* realloc(void* ptr, size_t size);

  // free(nullptr) does nothing. A pointer this heap did not hand out, or one
  // already freed, is detected when its header shows it (not always: a
  // header the program overwrote can look valid), counted in
  // Stats::invalid_frees and otherwise ignored; the heap stays consistent.
  // realloc treats such a pointer the same way and returns nullptr.
  void free(void* ptr);

  // The bytes usable at ptr, at least what was asked for.
  size_t usable_size(const void* ptr) const;

  struct Stats {
    size_t heap_bytes;   // obtained from the MoreCore, overhead included
    size_t used_bytes;   // in allocated blocks, headers included
    size_t free_bytes;   // in free blocks, headers included
    size_t used_blocks;
    size_t free_blocks;
    size_t segments;
    size_t invalid_frees;
  };
  Stats stats() const;

  // Walks every segment, block and bin and reports the first broken
  // invariant, for tests and debugging. ok() when all hold.
  struct Check {
    const char* problem;  // nullptr when consistent
    const void* where;    // the block concerned, if any
    bool ok() const { return problem == nullptr; }
  };
  Check check() const;

 // Opaque outside malloc.cc, which lays them over heap memory; declared here
  // only so that file's helpers can name them.
  struct Block;
  struct Segment;

 private:
  static constexpr size_t kBins = 64;

  static size_t bin_index(size_t block_size);
  void bin_insert(Block* b);
  void bin_remove(Block* b);
  Block* take_fit(size_t block_size);
  bool grow_heap(size_t block_size);
  void split(Block* b, size_t block_size);
  Block* release_block(Block* b);
  Block* allocated_block(const void* p) const;

  MoreCore& m_core;
  Block* m_bins[kBins] = {};
  uint64_t m_nonempty = 0;  // bit i set when m_bins[i] is non-empty
  Segment* m_segments = nullptr;  // most recent first
  char* m_break = nullptr;  // the break after our last grow, to spot gaps
  size_t m_heap_bytes = 0;
  size_t m_invalid_frees = 0;
};

}  // namespace os::libc
