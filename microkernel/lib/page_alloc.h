// Physical page-frame allocator for the kernel's own boot needs (page tables,
// stacks, the boot-info page). It tracks frames of one contiguous physical
// window with one bit per frame (1 = free); the bitmap storage is handed in by
// the caller, so the allocator itself allocates nothing and runs unchanged on
// the host over a fake window. User-space memory is not allocated here: it is
// handed out as Untyped capabilities (see DESIGN.md §3).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "result.h"
#include "types.h"

namespace kern {

class PageAllocator {
 public:
  // Manages frames [base, base + frame_count * kPageSize). `bitmap` must hold
  // at least ceil(frame_count / 64) words. All frames start out reserved.
  // base must be page aligned (checked by init).
  PageAllocator() = default;
  Status init(PhysAddr base, size_t frame_count, std::span<uint64_t> bitmap);

  // Mark every whole frame inside [range) free, or reserved. Partial frames at
  // the edges are left as they are (free_range rounds inwards, reserve_range
  // outwards). Parts outside the window are ignored.
  void free_range(PhysRange range);
  void reserve_range(PhysRange range);

  // One frame, not zeroed. NotEnoughMemory when none is free.
  Result<PhysAddr> alloc();
  // `count` physically contiguous frames aligned to `align` bytes (a power of
  // two, at least kPageSize). InvalidArgument for count 0 or a bad align,
  // NotEnoughMemory when no such run is free.
  Result<PhysAddr> alloc_contiguous(size_t count, uint64_t align);
  // Give a frame back. AlignmentError if not page aligned, RangeError if
  // outside the window, IllegalOperation if it is already free (double free).
  Status free(PhysAddr frame);

  bool is_free(PhysAddr frame) const;
  size_t free_frames() const { return m_free; }
  size_t total_frames() const { return m_count; }
  PhysAddr base() const { return m_base; }

  // Recounts the bitmap and compares with the cached free count; checks that
  // no bit beyond the window is set. For tests and debug builds.
  bool check_invariants() const;

 private:
  bool test_bit(size_t index) const;
  void set_bit(size_t index, bool free);

  PhysAddr m_base;
  size_t m_count = 0;
  size_t m_free = 0;
  size_t m_hint = 0;  // next index to search from (next-fit)
  std::span<uint64_t> m_bitmap;
};

}  // namespace kern
