// An address space as the pager sees it: a set of regions, each a page-aligned
// range of user addresses with one kind and one set of permissions. The
// region set knows nothing of page tables; it answers "which region holds
// this address", "what should happen on this fault", and grows or shrinks the
// heap. The policies (policy.h) turn its answers into kernel invocations.
//
// Each region *reserves* a range that no other region may overlap, and makes
// a part of it *accessible*:
//   text   R-X, rodata R--, data RW-, bss RW- (zero-filled like everything
//          else that was never written), anon (mmap-like) with given perms:
//          reserved == accessible.
//   heap   RW-: reserves [start, start + max); accessible up to the break
//          rounded up to a page; sbrk moves the break inside the reservation.
//   stack  RW-: reserves [bottom - 1 page, top); the lowest page is the guard
//          page, never accessible, so an overflow faults instead of running
//          into whatever lies below. Pages are filled on first touch, so the
//          stack "grows down" to its limit without any bookkeeping.
//
// Storage: the regions live sorted by address in one 4 KiB page taken from a
// caller-provided PageSource on the first add, so an address space costs no
// memory until it has a region and the pager allocates nothing behind its
// pool's back. One page holds kMaxRegions regions; FIXME: a process with more
// mmap regions than that gets NotEnoughMemory (chain pages if it matters).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/page_source.h"
#include "kernel_ops.h"

namespace pager {

// Whole 4 KiB pages for the pager's own bookkeeping.
using servers::PageSource;

enum class RegionKind : uint8_t { Text, Rodata, Data, Bss, Heap, Stack, Anon };

// The fixed permissions of each kind (Anon takes its own).
constexpr Perm kind_perm(RegionKind kind) {
  switch (kind) {
    case RegionKind::Text: return kRX;
    case RegionKind::Rodata: return Perm::Read;
    case RegionKind::Data:
    case RegionKind::Bss:
    case RegionKind::Heap:
    case RegionKind::Stack:
    case RegionKind::Anon: return kRW;
  }
  return Perm::None;
}

// User addresses are the lower half of Sv39 (kernel.md §7.5).
inline constexpr uint64_t kUserTop = uint64_t{1} << 38;

struct Region {
  RegionKind kind = RegionKind::Anon;
  Perm perm = Perm::None;
  VirtAddr reserved_start;  // stack: the guard page
  VirtAddr reserved_end;    // heap: start + max size
  VirtAddr start;           // first accessible address
  VirtAddr end;             // end of the accessible part (heap: break rounded up)
  VirtAddr brk;             // heap only: the break, byte-granular as sbrk reports it

  constexpr bool reserves(VirtAddr va) const { return va >= reserved_start && va < reserved_end; }
  constexpr bool contains(VirtAddr va) const { return va >= start && va < end; }
  constexpr uint64_t size() const { return end - start; }
  constexpr bool writable() const { return has(perm, Perm::Write); }
};

// What the page tables say about the faulting page (from VSpaceLookup).
struct PageState {
  bool mapped = false;
  Perm perm = Perm::None;
};

enum class FaultKind : uint8_t {
  ZeroFillAndMap,  // accessible, nothing mapped: a fresh zeroed page
  CopyOnWrite,     // a write to a writable region whose page is mapped read-only
  Spurious,        // the page already allows the access (another thread got there first)
  Segfault,        // outside every region, the guard page, or an access the region forbids
};

// sbrk's answer: the old break (what sbrk(2) returns) and, when the heap
// shrank past a page boundary, the pages the caller must unmap and free.
struct SbrkResult {
  VirtAddr old_break;
  VirtAddr release_start;
  VirtAddr release_end;  // == release_start when nothing is to be released
};

class RegionSet {
 public:
  static constexpr size_t kMaxRegions = kern::kPageSize / sizeof(Region);

  explicit RegionSet(PageSource& pages) : m_pages(&pages) {}
  ~RegionSet() { release(); }
  RegionSet(const RegionSet&) = delete;
  RegionSet& operator=(const RegionSet&) = delete;
  RegionSet(RegionSet&& other);
  RegionSet& operator=(RegionSet&& other);

  // Adding a region. Every adder checks before it changes anything:
  // AlignmentError (start or size not page aligned), InvalidArgument (size 0,
  // or a kind or perm that does not fit the call), RangeError (beyond the
  // user half, or a stack without room for its guard page), DeleteFirst
  // (overlaps another region's reservation), NotEnoughMemory (no storage
  // page, or kMaxRegions reached).
  //
  // Text, Rodata, Data or Bss at [start, start + size).
  Status add_segment(RegionKind kind, VirtAddr start, uint64_t size);
  // An mmap-like anonymous region with perms (a valid kernel combination).
  Status add_anon(VirtAddr start, uint64_t size, Perm perm);
  // The heap, empty at first (break == start), allowed to grow to max_size.
  // IllegalOperation if there is a heap already.
  Status add_heap(VirtAddr start, uint64_t max_size);
  // The stack: accessible [top - max_size, top), guard page just below.
  // IllegalOperation if there is a stack already.
  Status add_stack(VirtAddr top, uint64_t max_size);

  // Removes the Anon region that starts at `start` (munmap of a whole
  // mapping). FailedLookup if there is none. The caller unmaps its pages.
  Status remove_anon(VirtAddr start);

  // The region whose reservation holds va (the guard page finds its stack),
  // or nullptr.
  const Region* find(VirtAddr va) const;

  // What a fault at va with `access` means, given the page's current state.
  // Never fails: anything that is not a legal access is a Segfault.
  FaultKind classify(VirtAddr va, Access access, PageState page) const;

  // Moves the heap's break by `increment` bytes. NotEnoughMemory beyond the
  // heap's maximum (ENOMEM), InvalidArgument below its start, FailedLookup
  // without a heap. sbrk(0) reports the break.
  Result<SbrkResult> sbrk(int64_t increment);
  VirtAddr heap_break() const;

  // A copy of the set for a forked child, with its own storage page from the
  // same source. NotEnoughMemory if no page is left (nothing changes).
  Result<RegionSet> fork() const;

  // Drops every region and gives the storage page back. Idempotent.
  void release();

  std::span<const Region> regions() const { return {m_regions, m_count}; }
  size_t count() const { return m_count; }

  // Sorted, non-overlapping, aligned, each region's parts nested as the file
  // comment says. For tests.
  bool check_invariants() const;

 private:
  Status insert(const Region& region);
  Region* heap();

  PageSource* m_pages;
  Region* m_regions = nullptr;  // the storage page, kMaxRegions entries, sorted by reserved_start
  size_t m_count = 0;
};

}  // namespace pager
