// The bitmap holds one bit per frame, 1 = free, packed 64 frames to a word, so
// a search looks at a whole word at a time: a zero word is skipped in one
// step and std::countr_zero finds the first free frame inside a non-zero one.
// With 2 GiB of RAM (524288 frames) that is 8192 words to cover the window.
//
// alloc() is next-fit: it starts where the previous allocation stopped and
// wraps around once, so frames freed behind the hint are found again only
// after the rest of the window. alloc_contiguous() searches from the bottom,
// one aligned candidate at a time, and on a reserved frame jumps straight to
// the next free one instead of trying every candidate in between.
//
// Invariant (checked by check_invariants): m_free equals the number of set
// bits, and no bit for an index >= m_count is set, so every set bit names a
// real frame and the scans need no bounds check on what countr_zero returns.
#include "page_alloc.h"

#include <algorithm>
#include <bit>

namespace kern {

namespace {

constexpr size_t kBitsPerWord = 64;
constexpr uint64_t kAllOnes = ~uint64_t{0};

constexpr size_t words_for(size_t frames) { return (frames + kBitsPerWord - 1) / kBitsPerWord; }

// Bits [lo, hi) of a word, 0 <= lo < hi <= 64.
constexpr uint64_t bit_mask(size_t lo, size_t hi) {
  uint64_t upper = hi == kBitsPerWord ? kAllOnes : (uint64_t{1} << hi) - 1;
  return upper & (kAllOnes << lo);
}

}  // namespace

// Errors: AlignmentError for an unaligned base; RangeError when the window
// would run past the end of the address space; InvalidArgument when `bitmap`
// is too small. On error the allocator is left as it was.
Status PageAllocator::init(PhysAddr base, size_t frame_count, std::span<uint64_t> bitmap) {
  if (!base.is_aligned(kPageSize)) return fail(Error::AlignmentError);
  // The end address must be representable: base + frame_count pages <= 2^64 - 1.
  if (frame_count > ((kAllOnes - base.value()) >> kPageShift)) return fail(Error::RangeError);
  size_t words = words_for(frame_count);
  if (bitmap.size() < words) return fail(Error::InvalidArgument);

  m_base = base;
  m_count = frame_count;
  m_free = 0;
  m_hint = 0;
  m_bitmap = bitmap.first(words);
  std::fill(m_bitmap.begin(), m_bitmap.end(), uint64_t{0});
  return {};
}

bool PageAllocator::test_bit(size_t index) const {
  return (m_bitmap[index / kBitsPerWord] >> (index % kBitsPerWord)) & 1;
}

// Changes the bit only; the caller keeps m_free in step.
void PageAllocator::set_bit(size_t index, bool free) {
  uint64_t bit = uint64_t{1} << (index % kBitsPerWord);
  uint64_t& word = m_bitmap[index / kBitsPerWord];
  word = free ? (word | bit) : (word & ~bit);
}

namespace {

// Frame indices [first, last) of the window that a byte range covers, with
// the range clipped to the window. `outwards` includes partial frames at the
// edges, otherwise they are dropped. Empty (first >= last) when the range
// misses the window.
struct FrameSpan {
  size_t first = 0;
  size_t last = 0;
};

FrameSpan frames_of(PhysRange range, PhysAddr window_base, size_t window_frames, bool outwards) {
  uint64_t window_start = window_base.value();
  uint64_t window_end = window_start + window_frames * kPageSize;  // no overflow: init checked
  uint64_t start = range.base.value();
  // A range that runs past the top of the address space ends there.
  uint64_t end = range.size > kAllOnes - start ? kAllOnes : start + range.size;
  start = std::max(start, window_start);
  end = std::min(end, window_end);
  if (start >= end) return {};
  // Both offsets are at most window_frames pages, so the roundings below
  // cannot overflow.
  uint64_t lo = start - window_start;
  uint64_t hi = end - window_start;
  if (outwards) return {lo >> kPageShift, align_up(hi, kPageSize) >> kPageShift};
  return {align_up(lo, kPageSize) >> kPageShift, hi >> kPageShift};
}

// Sets frames [first, last) free or reserved a word at a time, whatever
// state they were in before. Returns how many bits changed, for the caller's
// free count.
size_t set_run(std::span<uint64_t> bitmap, size_t first, size_t last, bool free) {
  size_t changed = 0;
  while (first < last) {
    size_t word_index = first / kBitsPerWord;
    size_t word_start = word_index * kBitsPerWord;
    size_t hi = std::min(last - word_start, kBitsPerWord);
    uint64_t mask = bit_mask(first - word_start, hi);
    uint64_t old_word = bitmap[word_index];
    uint64_t new_word = free ? (old_word | mask) : (old_word & ~mask);
    changed += static_cast<size_t>(std::popcount(old_word ^ new_word));
    bitmap[word_index] = new_word;
    first = word_start + hi;
  }
  return changed;
}

// The first frame in [from, to) whose state is `free`, or `to` if none.
size_t find(std::span<const uint64_t> bitmap, size_t from, size_t to, bool free) {
  while (from < to) {
    size_t word_index = from / kBitsPerWord;
    size_t word_start = word_index * kBitsPerWord;
    uint64_t word = free ? bitmap[word_index] : ~bitmap[word_index];
    word &= bit_mask(from - word_start, kBitsPerWord);
    if (word != 0) return std::min(word_start + static_cast<size_t>(std::countr_zero(word)), to);
    from = word_start + kBitsPerWord;
  }
  return to;
}

}  // namespace

void PageAllocator::free_range(PhysRange range) {
  FrameSpan span = frames_of(range, m_base, m_count, false);
  m_free += set_run(m_bitmap, span.first, span.last, true);
}

void PageAllocator::reserve_range(PhysRange range) {
  FrameSpan span = frames_of(range, m_base, m_count, true);
  m_free -= set_run(m_bitmap, span.first, span.last, false);
}

Result<PhysAddr> PageAllocator::alloc() {
  if (m_free == 0) return fail(Error::NotEnoughMemory);
  // m_free > 0 guarantees a set bit; since no bit past m_count is set,
  // searching [hint, count) and then [0, hint) finds it.
  size_t index = find(m_bitmap, m_hint, m_count, true);
  if (index == m_count) index = find(m_bitmap, 0, m_hint, true);
  set_bit(index, false);
  --m_free;
  m_hint = index + 1 == m_count ? 0 : index + 1;
  return m_base + index * kPageSize;
}

Result<PhysAddr> PageAllocator::alloc_contiguous(size_t count, uint64_t align) {
  if (count == 0 || !is_power_of_two(align) || align < kPageSize) return fail(Error::InvalidArgument);
  if (count > m_free) return fail(Error::NotEnoughMemory);

  // Candidates are the indices whose address is a multiple of `align`: the
  // first one, then every `stride` frames. Computed without forming
  // align_up(base), which could overflow for a huge align.
  uint64_t misalignment = m_base.value() & (align - 1);
  uint64_t first_offset = misalignment == 0 ? 0 : align - misalignment;
  if (first_offset >= m_count * kPageSize) return fail(Error::NotEnoughMemory);
  size_t first_candidate = first_offset >> kPageShift;
  uint64_t stride = align >> kPageShift;

  size_t candidate = first_candidate;
  // count <= m_free <= m_count, so m_count - count does not underflow.
  while (candidate <= m_count - count) {
    size_t reserved = find(m_bitmap, candidate, candidate + count, false);
    if (reserved == candidate + count) {
      m_free -= set_run(m_bitmap, candidate, candidate + count, false);
      return m_base + candidate * kPageSize;
    }
    // No run can include `reserved`: go to the first aligned candidate at
    // or after the next free frame.
    size_t next_free = find(m_bitmap, reserved + 1, m_count, true);
    if (next_free == m_count) break;
    uint64_t steps = (next_free - first_candidate + stride - 1) / stride;
    candidate = first_candidate + steps * stride;
  }
  return fail(Error::NotEnoughMemory);
}

Status PageAllocator::free(PhysAddr frame) {
  if (!frame.is_aligned(kPageSize)) return fail(Error::AlignmentError);
  if (frame < m_base || ((frame - m_base) >> kPageShift) >= m_count) return fail(Error::RangeError);
  size_t index = (frame - m_base) >> kPageShift;
  if (test_bit(index)) return fail(Error::IllegalOperation);
  set_bit(index, true);
  ++m_free;
  return {};
}

// False for an address that is not a page-aligned frame of the window.
bool PageAllocator::is_free(PhysAddr frame) const {
  if (!frame.is_aligned(kPageSize) || frame < m_base) return false;
  size_t index = (frame - m_base) >> kPageShift;
  return index < m_count && test_bit(index);
}

bool PageAllocator::check_invariants() const {
  if (m_bitmap.size() != words_for(m_count)) return false;
  if (m_count == 0 ? m_hint != 0 : m_hint >= m_count) return false;
  size_t counted = 0;
  for (uint64_t word : m_bitmap) counted += static_cast<size_t>(std::popcount(word));
  if (counted != m_free) return false;
  size_t tail = m_count % kBitsPerWord;
  if (tail != 0 && (m_bitmap.back() & bit_mask(tail, kBitsPerWord)) != 0) return false;
  return true;
}

}  // namespace kern
