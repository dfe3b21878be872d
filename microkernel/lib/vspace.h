// User address spaces on top of the Sv39 page-table code: the operations
// behind the VSpace invocations, over ranges of 4 KiB pages.
//
//  - FrameTable: how many mappings each RAM frame has (one counter per
//    frame, allocated once at boot). A mapped frame is never handed out
//    again: Untyped memory holding a mapped frame is not reset.
//  - TablePool: the page-table pages of one address space, carved from
//    memory the pager gave the VSpace (an Untyped moved into it), with a free
//    list threaded through freed table pages. The kernel pays for nothing.
//  - UserSpace: map, unmap, protect, look up, copy a range into another
//    address space (COW or SHARE), replace a page by a copy, scan a range's
//    mapped pages (listing them, or unmapping them and reporting the frames
//    left unmapped). Every operation checks all its arguments and that
//    enough table pages are available before changing anything, so it
//    either happens completely or not at all. The caller flushes TLBs
//    through the TlbFlusher it passes.
//
// User addresses are the lower half of Sv39: [0, kUserTop). The COW mark is
// bit 0 of the PTE's RSW field.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "result.h"
#include "sv39.h"
#include "types.h"

namespace kern {

inline constexpr uint64_t kUserTop = uint64_t{1} << 38;  // 256 GiB
inline constexpr uint64_t kPteCowMark = 1;              // RSW bit 0: copy-on-write
// RSW bit 1: the page was mapped writable (from a frame cap with Write), so
// Protect may make it writable again (after COW made it read-only, say).
// Protect grants W to no page without it: the frame cap's rights stay the
// limit even though Protect names no frame.
inline constexpr uint64_t kPteMayWrite = 2;

// Table pages reached through the direct map (phys_to_ptr in kmem.h), which is
// how UserSpace and TablePool reach them: build a UserSpace's PageTable with it.
sv39::PhysMemory& direct_map_memory();

class FrameTable {
 public:
  // Tracks frames [base, base + frames * 4 KiB); counts must hold `frames`
  // entries, zeroed.
  void init(PhysAddr base, size_t frames, std::span<uint32_t> counts);
  bool tracks(PhysAddr frame) const;
  // 0 for frames outside the table (device memory is not counted).
  uint32_t map_count(PhysAddr frame) const;
  void add_mapping(PhysAddr frame);
  void remove_mapping(PhysAddr frame);  // never below 0 (an invariant: KASSERT-worthy)
  // remove_mapping, returning the count left (0 for frames outside the table).
  uint32_t drop_mapping(PhysAddr frame);
  // True if any tracked frame in [base, base + size) is mapped.
  bool any_mapped(PhysAddr base, uint64_t size) const;

 private:
  PhysAddr m_base;
  std::span<uint32_t> m_counts;
};

// The state of a table pool, stored inside the VSpace object.
struct TablePoolState {
  PhysAddr base;            // memory given by the pager; 0 size = no pool yet
  uint64_t size = 0;
  uint64_t watermark = 0;   // bytes carved so far
  PhysAddr free_list;       // freed table pages, linked through their first word; 0 = none
  uint64_t free_count = 0;
};

class TablePool final : public sv39::FrameSource {
 public:
  explicit TablePool(TablePoolState& state) : m_state(state) {}
  // A zeroed page; NotEnoughMemory when the pool is used up.
  Result<PhysAddr> alloc_table() override;
  void free_table(PhysAddr table);
  // Pages that alloc_table can still hand out.
  uint64_t available() const;

 private:
  TablePoolState& m_state;
};

class TlbFlusher {
 public:
  virtual void flush_page(uint16_t asid, VirtAddr va) = 0;
  virtual void flush_asid(uint16_t asid) = 0;

 protected:
  ~TlbFlusher() = default;
};

enum class CopyMode : uint8_t { Cow = 1, Share = 2 };

struct PageInfo {
  PhysAddr frame;
  sv39::Perm perm = sv39::Perm::None;
  bool cow = false;
  uint32_t map_count = 0;
};

struct CopyStats {
  uint64_t pages = 0;       // mappings created in the destination
  uint64_t made_cow = 0;    // source pages that became copy-on-write
};

// UserSpace::scan's flags, as VSpaceScan takes them (uapi::ScanFlag).
enum class ScanFlag : uint64_t { Unmap = 1, ReportAddresses = 2 };
inline constexpr uint64_t kScanKnownFlags = 3;

// What one scan did.
struct ScanResult {
  VirtAddr next;          // where it stopped: the range's end, or the page after the last one reported
  uint64_t visited = 0;   // mapped pages visited (all of them unmapped, with Unmap)
  uint64_t reported = 0;  // entries written to the report
};

class UserSpace {
 public:
  UserSpace(sv39::PageTable table, TablePoolState& pool, uint16_t asid, FrameTable& frames, TlbFlusher& tlb)
      : m_table(table), m_pool(pool), m_asid(asid), m_frames(frames), m_tlb(tlb) {}

  // Copy the kernel's upper-half root entries (256..511) into a new root.
  static void init_root(uint64_t* new_root, const uint64_t* kernel_root);

  // Map frames[i] at va + i * 4 KiB. perm must include U and be a valid leaf
  // (R, R+W, R+X, R+W+X, X). Errors: AlignmentError (va), RangeError (outside
  // [0, kUserTop) or frames empty), InvalidArgument (perm), DeleteFirst (any
  // page already mapped), NotEnoughMemory (pool too small for the tables).
  Status map(VirtAddr va, std::span<const PhysAddr> frames, sv39::Perm perm);
  // Unmap every mapped page in [va, va + length); unmapped holes are fine.
  // Returns how many pages were unmapped. AlignmentError, RangeError.
  Result<uint64_t> unmap(VirtAddr va, uint64_t length);
  // Set the permissions of every mapped page in the range (holes skipped).
  // Granting W clears the COW mark; IllegalOperation (and nothing changes)
  // if W is asked for a page that was never mapped writable. Same errors as
  // map, minus DeleteFirst.
  Result<uint64_t> protect(VirtAddr va, uint64_t length, sv39::Perm perm);
  // Copy the mappings of [va, va + length) into `dst` at the same addresses.
  // Cow: writable or already-COW pages become read-only + COW on both sides;
  // pages that were read-only and not COW (text) are shared read-only as
  // they are. Share: same frames, same permissions. Errors: alignment/range;
  // InvalidArgument if dst is this space; DeleteFirst if dst has any mapping
  // in the range; NotEnoughMemory if dst's pool cannot hold the tables.
  Result<CopyStats> copy_range(UserSpace& dst, VirtAddr va, uint64_t length, CopyMode mode);
  // FailedLookup if nothing is mapped at va.
  Result<PageInfo> lookup(VirtAddr va) const;
  // Point the page at va to `new_frame` with `perm` (COW mark cleared) and
  // return the frame it mapped before, whose count drops; the caller copies
  // the contents. FailedLookup if va is unmapped; InvalidArgument for perm.
  Result<PhysAddr> replace_page(VirtAddr va, PhysAddr new_frame, sv39::Perm perm);
  // Visit the mapped pages of [va, va + length) in address order. With
  // ScanFlag::Unmap each one is unmapped as unmap() does (emptied tables go
  // back to the pool, only in the part visited). A page whose frame's
  // mapping count (after the unmap) is at most `threshold` is reported: its
  // frame's physical address, or with ReportAddresses its virtual address,
  // goes into the next entry of `report`. The scan stops right after the
  // page that fills `report` (which must hold at least one entry); `next`
  // says where, so that the caller can go on from there. Errors, in order:
  // InvalidArgument (unknown flags), AlignmentError, RangeError, as unmap.
  Result<ScanResult> scan(VirtAddr va, uint64_t length, uint64_t flags, uint64_t threshold,
                          std::span<uint64_t> report);
  // Unmap everything and give every table page except the root back to the
  // pool. Cannot fail.
  void destroy();

  // Pages that would need new tables to map [va, va + length): for checks.
  uint64_t tables_needed(VirtAddr va, uint64_t length) const;

 private:
  sv39::PageTable m_table;
  TablePoolState& m_pool;
  uint16_t m_asid;
  FrameTable& m_frames;
  TlbFlusher& m_tlb;
};

// ASIDs for VSpaces: 1..count-1 (0 is the kernel's). One bit each.
class AsidAllocator {
 public:
  void init(std::span<uint64_t> bitmap, uint32_t count);
  Result<uint16_t> alloc();  // NotEnoughMemory when all are taken
  void free(uint16_t asid);

 private:
  std::span<uint64_t> m_bitmap;
  uint32_t m_count = 0;
  uint32_t m_hint = 1;
};

}  // namespace kern
