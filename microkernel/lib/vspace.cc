// User address spaces over Sv39 tables. Every range operation (map, unmap,
// protect, copy, scan, destroy) is one walk of the tables, level by level: a
// root entry or level-1 entry with nothing beneath is skipped in one step (a
// whole 1 GiB or 2 MiB hole), and the work per mapped page is a loop over the
// entries of one leaf table. copy_range walks the source once and writes the
// destination entries straight into destination leaf tables, each created
// once; it never maps page by page.
//
// All or nothing: an operation first checks its arguments, then whether the
// destination has anything in the way (DeleteFirst) and how many table pages
// it needs against the pool's available() (NotEnoughMemory). Only then does it
// change anything, and from there on it cannot fail: the table allocations it
// makes were counted beforehand.
//
// Leaf tables and level-1 tables that unmap leaves empty go back to the pool
// at once, so a space that maps and unmaps keeps no dead tables. scan is the
// one walk that may stop early (its report is full): it prunes only what it
// visited, and leaves the rest of a table it stopped in as it was.
//
// TLB: every leaf PTE that changes is flushed in its own space, including
// entries that go from invalid to valid (the base ISA lets a hart cache an
// invalid entry until sfence.vma; without Svvptc that would be a spurious
// fault). Up to kFlushPageLimit pages are flushed one by one, beyond that the
// whole ASID. Freeing a table always flushes the whole ASID: an address-only
// sfence.vma need not drop cached pointers to it. Flushes happen after all
// entries are written, before the call returns.
//
// Tables are reached through the direct map (phys_to_ptr), as is the free
// list of the table pool, threaded through the first word of freed pages.
#include "vspace.h"

#include <algorithm>
#include <bit>
#include <type_traits>

#include "kmem.h"

namespace kern {

namespace {

using sv39::PageSize;
using sv39::Perm;
using sv39::Pte;
using sv39::vpn;

constexpr size_t kEntries = sv39::kEntriesPerTable;
constexpr uint64_t k2MiB = sv39::page_bytes(PageSize::k2M);
constexpr uint64_t k1GiB = sv39::page_bytes(PageSize::k1G);
constexpr unsigned kRootLevel = sv39::kLevels - 1;

// One past the highest physical address a PTE can name (2^56).
constexpr uint64_t kPhysLimit = (Pte::Ppn::get(~uint64_t{0}) + 1) * kPageSize;

constexpr uint64_t kWriteMask = Pte::W::kMask;
constexpr uint64_t kCowMask = Pte::Rsw::set(0, kPteCowMark);
constexpr uint64_t kMayWriteMask = Pte::Rsw::set(0, kPteMayWrite);

// A fresh user leaf: writable mappings remember that they may be writable.
uint64_t user_leaf_bits(PhysAddr frame, Perm perm) {
  const uint64_t bits = Pte::leaf(frame, perm).raw();
  return has(perm, Perm::W) ? bits | kMayWriteMask : bits;
}
constexpr uint64_t kPermMask = Pte::PermBits::kMask;
constexpr uint8_t kUserPermBits = static_cast<uint8_t>(Perm::R | Perm::W | Perm::X | Perm::U);

// More changed pages than this in one call flush the whole ASID.
constexpr uint32_t kFlushPageLimit = 64;

class DirectMap final : public sv39::PhysMemory {
 public:
  uint64_t* table_ptr(PhysAddr page) override { return phys_to_ptr<uint64_t>(page); }
};

constinit DirectMap g_direct_map;

uint64_t* table_at(PhysAddr page) { return phys_to_ptr<uint64_t>(page); }

// Unrolled: a new leaf table is paid by the pages it will hold, so its
// zeroing should cost about one store per entry.
void zero_table(uint64_t* table) {
#pragma GCC unroll 8
  for (size_t i = 0; i < kEntries; ++i) table[i] = 0;
}

// The start of the next region of `size` bytes after va.
constexpr uint64_t next_boundary(uint64_t va, uint64_t size) { return align_down(va, size) + size; }

// A user leaf: R, R+W, R+X, R+W+X or X, always with U, never G.
bool is_valid_user_perm(Perm perm) {
  if ((static_cast<uint8_t>(perm) & ~kUserPermBits) != 0) return false;
  if (!has(perm, Perm::U)) return false;
  if (!has(perm, Perm::R) && !has(perm, Perm::X)) return false;
  return !has(perm, Perm::W) || has(perm, Perm::R);
}

// A page-aligned range of user addresses, non-empty, inside [0, kUserTop).
Status check_user_range(VirtAddr va, uint64_t length) {
  if (!va.is_aligned(kPageSize) || !is_aligned(length, kPageSize)) return fail(Error::AlignmentError);
  if (length == 0 || va.value() >= kUserTop || length > kUserTop - va.value()) return fail(Error::RangeError);
  return {};
}

Status check_frame(PhysAddr frame) {
  if (!frame.is_aligned(kPageSize)) return fail(Error::AlignmentError);
  if (frame.value() >= kPhysLimit) return fail(Error::RangeError);
  return {};
}

bool is_mapped(uint64_t entry) { return Pte::V::get(entry) != 0; }

// A valid pointer to the next level: V set, R, W and X clear.
constexpr uint64_t kKindMask = Pte::V::kMask | Pte::R::kMask | Pte::W::kMask | Pte::X::kMask;
bool is_pointer(uint64_t entry) { return (entry & kKindMask) == Pte::V::kMask; }

// True if every entry in [first, last) is zero. Eight entries a turn where
// it can (a mostly empty table is checked in about a quarter of the
// instructions of a plain loop: release and unmap check each partly covered
// table this way, several per exit).
bool is_clear(const uint64_t* table, size_t first, size_t last) {
  for (; first < last && (first & 7) != 0; ++first) {
    if (table[first] != 0) return false;
  }
  for (; first + 8 <= last; first += 8) {
    const uint64_t* t = table + first;
    if ((t[0] | t[1] | t[2] | t[3] | t[4] | t[5] | t[6] | t[7]) != 0) return false;
  }
  for (; first < last; ++first) {
    if (table[first] != 0) return false;
  }
  return true;
}

// True if every entry of `table` outside [first, last) is zero.
bool is_clear_outside(const uint64_t* table, size_t first, size_t last) {
  return is_clear(table, 0, first) && is_clear(table, last, kEntries);
}

// The first valid entry in [first, last), or last. Unmapped entries are
// zero (nothing here writes an invalid non-zero entry), so runs of eight
// zero entries are skipped a turn at a time.
size_t first_mapped(const uint64_t* table, size_t first, size_t last) {
  while (first < last) {
    if ((first & 7) == 0 && first + 8 <= last) {
      const uint64_t* t = table + first;
      if ((t[0] | t[1] | t[2] | t[3] | t[4] | t[5] | t[6] | t[7]) == 0) {
        first += 8;
        continue;
      }
    }
    if (is_mapped(table[first])) return first;
    ++first;
  }
  return last;
}

// The pages whose PTEs one call changed in one space: how many, and the
// first kFlushPageLimit of them as page numbers (user addresses fit 32 bits
// that way). flush() flushes those pages, or the whole ASID if there are more.
struct FlushBatch {
  uint64_t count = 0;
  uint32_t pages[kFlushPageLimit];

  bool full() const { return count > kFlushPageLimit; }
  void note(uint64_t page) {
    if (count < kFlushPageLimit) pages[count] = static_cast<uint32_t>(page);
    ++count;
  }
  void flush(TlbFlusher& tlb, uint16_t asid) const {
    if (full()) {
      tlb.flush_asid(asid);
      return;
    }
    for (uint64_t i = 0; i < count; ++i) tlb.flush_page(asid, VirtAddr(uint64_t{pages[i]} * kPageSize));
  }
};

// Like FlushBatch::note, with the count in a register of the caller's loop.
inline void record(uint32_t* pages, uint64_t& count, uint64_t page) {
  if (count < kFlushPageLimit) [[unlikely]] {
    pages[count] = static_cast<uint32_t>(page);
  }
  ++count;
}

// The per-page loops, one leaf table at a time: entry i maps page number
// page0 + i. The tables are __restrict (PTE stores change neither the
// FrameTable nor the other table) and the FrameTable is a copy (a base and a
// span over the shared counts) so that its fields stay in registers: a
// conditional load is not hoisted out of a loop otherwise.

// copy_range, first step for one leaf table: notes the pages that
// copy_entries will map in dst (every mapped one in src [i, last)) while
// there are few enough to flush one by one. After the first
// kFlushPageLimit + 1 pages this costs nothing, and the copy loop need not
// note them.
void note_copied(const uint64_t* src, size_t i, size_t last, uint64_t page0, FlushBatch& dst_batch) {
  for (; i < last && !dst_batch.full(); ++i) {
    if (is_mapped(src[i])) dst_batch.note(page0 + i);
  }
}

// copy_range, second step: entries [i, last) of src into dst. With
// cow_trigger = W, a writable entry loses W and gains the COW mark on both
// sides; those pages are noted in src_pages, stats.made_cow being their count.
void copy_entries(uint64_t* __restrict src, uint64_t* __restrict dst, size_t i, size_t last, uint64_t page0,
                  uint64_t cow_trigger, FrameTable frames, CopyStats& stats, uint32_t* src_pages) {
  uint64_t made_cow = stats.made_cow;
  uint64_t copied = stats.pages;
  for (; i < last; ++i) {
    uint64_t entry = src[i];
    if (!is_mapped(entry)) continue;
    if ((entry & cow_trigger) != 0) {
      entry = (entry & ~kWriteMask) | kCowMask;
      src[i] = entry;
      record(src_pages, made_cow, page0 + i);
    }
    dst[i] = entry;
    frames.add_mapping(Pte(entry).phys());
    ++copied;
  }
  stats.made_cow = made_cow;
  stats.pages = copied;
}

// unmap: clears the mapped entries in [first, last).
void unmap_entries(uint64_t* __restrict table, size_t first, size_t last, uint64_t page0, FrameTable frames,
                   FlushBatch& batch) {
  uint64_t count = batch.count;
  for (size_t i = first; i < last; ++i) {
    uint64_t entry = table[i];
    if (!is_mapped(entry)) continue;
    table[i] = 0;
    frames.remove_mapping(Pte(entry).phys());
    record(batch.pages, count, page0 + i);
  }
  batch.count = count;
}

// destroy: drops the counts of the frames mapped in [first, last); the table
// goes away, so its entries are left as they are.
void release_entries(const uint64_t* table, size_t first, size_t last, FrameTable frames) {
  for (size_t i = first; i < last; ++i) {
    uint64_t entry = table[i];
    if (is_mapped(entry)) frames.remove_mapping(Pte(entry).phys());
  }
}

// protect: replaces the bits in `clear` by `set` in the mapped entries of
// [first, last). Returns how many are mapped.
uint64_t protect_entries(uint64_t* __restrict table, size_t first, size_t last, uint64_t page0, uint64_t clear,
                         uint64_t set, FlushBatch& batch) {
  uint64_t mapped = 0;
  uint64_t count = batch.count;
  for (size_t i = first; i < last; ++i) {
    uint64_t entry = table[i];
    if (!is_mapped(entry)) continue;
    ++mapped;
    uint64_t changed = (entry & ~clear) | set;
    if (changed == entry) continue;
    table[i] = changed;
    record(batch.pages, count, page0 + i);
  }
  batch.count = count;
  return mapped;
}

// A visitor's answer when it went through all of [first, last).
constexpr size_t kWentThrough = ~size_t{0};

// scan: where the report goes and how far it has got, and the pages that
// an unmapping scan changed.
struct ScanState {
  uint64_t* report;
  uint64_t capacity;
  uint32_t threshold;  // counts are 32 bits: larger thresholds are this one
  uint64_t visited = 0;
  uint64_t reported = 0;
  FlushBatch batch;
};

// scan, for the entries [first, last) of one leaf table: each mapped entry
// is visited (cleared, with kUnmap) and reported if its frame's count is at
// most the threshold. Returns kWentThrough, or the index after the entry
// whose report filled the report. Not inlined: in a function of its own the
// loop keeps everything in registers: about 20 instructions a mapped page
// (RISC-V, GCC 12), 25 when unmapping.
template <bool kUnmap, bool kAddresses>
[[gnu::noinline]] size_t scan_entries(uint64_t* __restrict table, size_t first, size_t last, uint64_t page0,
                                      FrameTable frames, ScanState& state) {
  uint64_t* __restrict report = state.report;
  const uint32_t threshold = state.threshold;
  uint64_t* const report_end = report + state.capacity;
  uint64_t* out = report + state.reported;
  uint64_t visited = state.visited;
  uint64_t flushed = state.batch.count;
  size_t stop = kWentThrough;
  for (size_t i = first; i < last; ++i) {
    const uint64_t entry = table[i];
    if (!is_mapped(entry)) continue;
    ++visited;
    const PhysAddr frame = Pte(entry).phys();
    uint32_t count;
    if constexpr (kUnmap) {
      table[i] = 0;
      count = frames.drop_mapping(frame);
      record(state.batch.pages, flushed, page0 + i);
    } else {
      count = frames.map_count(frame);
    }
    if (count > threshold) continue;
    *out++ = kAddresses ? (page0 + i) * kPageSize : frame.value();
    if (out == report_end) {
      stop = i + 1;
      break;
    }
  }
  state.visited = visited;
  state.reported = static_cast<uint64_t>(out - report);
  state.batch.count = flushed;
  return stop;
}

// What a walk met: a superpage (a valid entry that is not a pointer above
// level 0: UserSpace never makes one, but one must not be mapped over), and
// where it ended: `end`, or the address of the entry a visitor stopped at.
struct WalkEnd {
  bool superpage = false;
  uint64_t stop = 0;
};

// Walks the tables below `root` that cover [start, end) (page aligned,
// end <= kUserTop), skipping each missing subtree in one step, and calls
// visit(table, first, last, base) for every leaf table: its entries
// [first, last) lie in the range, and entry i maps base + i * 4 KiB.
//
// A visitor returns void, or a size_t: kWentThrough, or the index in
// [first, last] where it stopped; then the walk ends there, and the entries
// from that index on count as not visited.
//
// With `prune`, the entries visited count as gone (visit has cleared them, or
// the table is going away with them): leaf tables and level-1 tables with
// nothing outside the part visited are unlinked and given back to that pool,
// which zeroes a page again before handing it out.
template <typename Visit>
WalkEnd walk_leaf_tables(PhysAddr root, uint64_t start, uint64_t end, Visit&& visit, TablePool* prune = nullptr) {
  constexpr bool kMayStop = !std::is_void_v<std::invoke_result_t<Visit&, uint64_t*, size_t, size_t, uint64_t>>;
  // Indices, not addresses, drive the loops: a hole costs one load and one
  // test. Only the first and last entry at each level can be partly in range.
  WalkEnd result{false, end};
  if (start >= end) return result;
  uint64_t* l2 = table_at(root);
  size_t first2 = vpn(VirtAddr(start), 2);
  size_t last2 = vpn(VirtAddr(end - 1), 2);
  for (size_t i2 = first2; i2 <= last2; ++i2) {
    uint64_t e2 = l2[i2];
    if (!is_mapped(e2)) continue;
    if (!is_pointer(e2)) {
      result.superpage = true;
      continue;
    }
    uint64_t* l1 = table_at(Pte(e2).phys());
    uint64_t base2 = i2 * k1GiB;
    size_t first1 = i2 == first2 ? vpn(VirtAddr(start), 1) : 0;
    size_t last1 = i2 == last2 ? vpn(VirtAddr(end - 1), 1) : kEntries - 1;
    bool all_freed = true;
    bool stopped = false;
    for (size_t i1 = first1; i1 <= last1; ++i1) {
      uint64_t e1 = l1[i1];
      if (!is_mapped(e1)) continue;
      if (!is_pointer(e1)) {
        result.superpage = true;
        all_freed = false;
        continue;
      }
      uint64_t* l0 = table_at(Pte(e1).phys());
      uint64_t base1 = base2 + i1 * k2MiB;
      size_t first0 = base1 < start ? vpn(VirtAddr(start), 0) : 0;
      size_t last0 = base1 + k2MiB > end ? vpn(VirtAddr(end - 1), 0) + 1 : kEntries;
      size_t visited_end = last0;
      if constexpr (kMayStop) {
        const size_t stop = visit(l0, first0, last0, base1);
        if (stop != kWentThrough) {
          visited_end = stop;
          stopped = true;
          result.stop = base1 + stop * kPageSize;
        }
      } else {
        visit(l0, first0, last0, base1);
      }
      if (prune != nullptr && is_clear_outside(l0, first0, visited_end)) {
        l1[i1] = 0;
        prune->free_table(Pte(e1).phys());
      } else {
        all_freed = false;
      }
      if (stopped) {
        last1 = i1;  // the level-1 entries visited end here
        break;
      }
    }
    if (prune != nullptr && all_freed && is_clear_outside(l1, first1, last1 + 1)) {
      l2[i2] = 0;
      prune->free_table(Pte(e2).phys());
    }
    if (stopped) break;
  }
  return result;
}

// True if anything is mapped in [start, end) below root.
bool any_mapped_in(PhysAddr root, uint64_t start, uint64_t end) {
  bool found = false;
  bool superpage = walk_leaf_tables(root, start, end, [&](uint64_t* table, size_t first, size_t last, uint64_t) {
                     found = found || first_mapped(table, first, last) < last;
                   }).superpage;
  return found || superpage;
}

// The leaf table for va below root, creating the tables on the way from
// `pool`. The caller has checked that nothing but pointers is on the way and
// that the pool holds enough pages, so this cannot fail.
uint64_t* leaf_table_for(PhysAddr root, uint64_t va, TablePool& pool) {
  uint64_t* table = table_at(root);
  for (unsigned level = kRootLevel; level > 0; --level) {
    uint64_t& entry = table[vpn(VirtAddr(va), level)];
    if (!is_mapped(entry)) entry = Pte::table(*pool.alloc_table()).raw();
    table = table_at(Pte(entry).phys());
  }
  return table;
}

// Table pages that copying the mappings of [start, end) from src to dst
// needs: one per source leaf table with something mapped in the range whose
// counterpart dst lacks, plus one per missing dst level-1 table above those.
// dst has no superpage in the way (checked before).
uint64_t copy_tables_needed(PhysAddr src, PhysAddr dst, uint64_t start, uint64_t end) {
  uint64_t needed = 0;
  size_t counted_root_index = kEntries;  // the root entry whose new level-1 table is counted
  const uint64_t* dst_root = table_at(dst);
  walk_leaf_tables(src, start, end, [&](uint64_t* table, size_t first, size_t last, uint64_t base) {
    if (first_mapped(table, first, last) == last) return;
    size_t root_index = vpn(VirtAddr(base), 2);
    Pte e2(dst_root[root_index]);
    if (!e2.is_table()) {
      if (root_index != counted_root_index) ++needed;
      counted_root_index = root_index;
      ++needed;
      return;
    }
    if (!Pte(table_at(e2.phys())[vpn(VirtAddr(base), 1)]).is_table()) ++needed;
  });
  return needed;
}

// One scan's walk, with the loop for its flags.
template <bool kUnmap, bool kAddresses>
WalkEnd scan_walk(PhysAddr root, uint64_t start, uint64_t end, FrameTable frames, ScanState& state,
                  TablePool* prune) {
  return walk_leaf_tables(
      root, start, end,
      [&](uint64_t* table, size_t first, size_t last, uint64_t base) {
        return scan_entries<kUnmap, kAddresses>(table, first, last, base / kPageSize, frames, state);
      },
      prune);
}

}  // namespace

sv39::PhysMemory& direct_map_memory() { return g_direct_map; }

// ---- FrameTable -----------------------------------------------------------

void FrameTable::init(PhysAddr base, size_t frames, std::span<uint32_t> counts) {
  m_base = base;
  m_counts = counts.first(std::min(frames, counts.size()));
}

bool FrameTable::tracks(PhysAddr frame) const {
  // Below the base, the difference wraps to a huge index.
  return (frame - m_base) / kPageSize < m_counts.size();
}

uint32_t FrameTable::map_count(PhysAddr frame) const {
  return tracks(frame) ? m_counts[(frame - m_base) / kPageSize] : 0;
}

void FrameTable::add_mapping(PhysAddr frame) {
  uint64_t index = (frame - m_base) / kPageSize;
  if (index < m_counts.size()) ++m_counts[index];
}

void FrameTable::remove_mapping(PhysAddr frame) {
  uint64_t index = (frame - m_base) / kPageSize;
  if (index < m_counts.size() && m_counts[index] > 0) --m_counts[index];
}

uint32_t FrameTable::drop_mapping(PhysAddr frame) {
  uint64_t index = (frame - m_base) / kPageSize;
  if (index >= m_counts.size()) return 0;
  uint32_t& count = m_counts[index];
  if (count > 0) --count;
  return count;
}

bool FrameTable::any_mapped(PhysAddr base, uint64_t size) const {
  if (size == 0 || m_counts.empty()) return false;
  uint64_t window_end = m_base.value() + m_counts.size() * kPageSize;
  uint64_t lo = std::max(base.value(), m_base.value());
  uint64_t hi = std::min(size > ~uint64_t{0} - base.value() ? ~uint64_t{0} : base.value() + size, window_end);
  if (lo >= hi) return false;
  for (uint64_t i = (lo - m_base.value()) / kPageSize; i <= (hi - 1 - m_base.value()) / kPageSize; ++i) {
    if (m_counts[i] != 0) return true;
  }
  return false;
}

// ---- TablePool --------------------------------------------------------------

Result<PhysAddr> TablePool::alloc_table() {
  PhysAddr page;
  if (m_state.free_count > 0) {
    page = m_state.free_list;
    m_state.free_list = PhysAddr(*table_at(page));
    --m_state.free_count;
  } else {
    if (m_state.size - m_state.watermark < kPageSize) return fail(Error::NotEnoughMemory);
    page = m_state.base + m_state.watermark;
    m_state.watermark += kPageSize;
  }
  zero_table(table_at(page));
  return page;
}

void TablePool::free_table(PhysAddr table) {
  *table_at(table) = m_state.free_list.value();
  m_state.free_list = table;
  ++m_state.free_count;
}

uint64_t TablePool::available() const {
  return m_state.free_count + (m_state.size - m_state.watermark) / kPageSize;
}

// ---- UserSpace --------------------------------------------------------------

void UserSpace::init_root(uint64_t* new_root, const uint64_t* kernel_root) {
  for (size_t i = kEntries / 2; i < kEntries; ++i) new_root[i] = kernel_root[i];
}

Status UserSpace::map(VirtAddr va, std::span<const PhysAddr> frames, Perm perm) {
  if (!va.is_aligned(kPageSize)) return fail(Error::AlignmentError);
  for (PhysAddr frame : frames) {
    if (!frame.is_aligned(kPageSize)) return fail(Error::AlignmentError);
  }
  if (frames.empty() || frames.size() > kUserTop / kPageSize) return fail(Error::RangeError);
  uint64_t start = va.value();
  uint64_t end = start + frames.size() * kPageSize;
  TRY(check_user_range(va, end - start));
  for (PhysAddr frame : frames) TRY(check_frame(frame));
  if (!is_valid_user_perm(perm)) return fail(Error::InvalidArgument);
  if (any_mapped_in(m_table.root(), start, end)) return fail(Error::DeleteFirst);
  TablePool pool(m_pool);
  if (tables_needed(va, end - start) > pool.available()) return fail(Error::NotEnoughMemory);

  uint64_t leaf_bits = user_leaf_bits(PhysAddr(0), perm);
  FrameTable counts = m_frames;  // a copy, as in the per-page loops above
  FlushBatch batch;
  size_t next = 0;
  for (uint64_t at = start; at < end;) {
    uint64_t stop = std::min(end, next_boundary(at, k2MiB));
    uint64_t* table = leaf_table_for(m_table.root(), at, pool);
    for (; at < stop; at += kPageSize) {
      PhysAddr frame = frames[next++];
      table[vpn(VirtAddr(at), 0)] = Pte::Ppn::set(leaf_bits, frame.value() / kPageSize);
      counts.add_mapping(frame);
      batch.note(at / kPageSize);
    }
  }
  batch.flush(m_tlb, m_asid);
  return {};
}

Result<uint64_t> UserSpace::unmap(VirtAddr va, uint64_t length) {
  TRY(check_user_range(va, length));
  TablePool pool(m_pool);
  uint64_t tables_before = pool.available();
  FlushBatch batch;
  walk_leaf_tables(
      m_table.root(), va.value(), va.value() + length,
      [&](uint64_t* table, size_t first, size_t last, uint64_t base) {
        unmap_entries(table, first, last, base / kPageSize, m_frames, batch);
      },
      &pool);
  // A freed table may still be cached as a pointer on the way to its pages,
  // and sfence.vma with an address covers only leaf entries.
  if (pool.available() != tables_before) {
    m_tlb.flush_asid(m_asid);
  } else {
    batch.flush(m_tlb, m_asid);
  }
  return batch.count;
}

Result<uint64_t> UserSpace::protect(VirtAddr va, uint64_t length, Perm perm) {
  TRY(check_user_range(va, length));
  if (!is_valid_user_perm(perm)) return fail(Error::InvalidArgument);

  if (has(perm, Perm::W)) {
    bool allowed = true;
    walk_leaf_tables(m_table.root(), va.value(), va.value() + length,
                     [&](uint64_t* table, size_t first, size_t last, uint64_t) {
                       for (size_t i = first; i < last; ++i) {
                         if (Pte(table[i]).valid() && (table[i] & kMayWriteMask) == 0) allowed = false;
                       }
                     });
    if (!allowed) return fail(Error::IllegalOperation);
  }

  // Perm uses the PTE's own bit positions: it is the new PermBits field as is.
  uint64_t perm_bits = static_cast<uint64_t>(perm);
  uint64_t clear = has(perm, Perm::W) ? kPermMask | kCowMask : kPermMask;
  uint64_t pages = 0;
  FlushBatch batch;
  walk_leaf_tables(m_table.root(), va.value(), va.value() + length,
                   [&](uint64_t* table, size_t first, size_t last, uint64_t base) {
                     pages += protect_entries(table, first, last, base / kPageSize, clear, perm_bits, batch);
                   });
  batch.flush(m_tlb, m_asid);
  return pages;
}

Result<CopyStats> UserSpace::copy_range(UserSpace& dst, VirtAddr va, uint64_t length, CopyMode mode) {
  TRY(check_user_range(va, length));
  if (dst.m_table.root() == m_table.root()) return fail(Error::InvalidArgument);
  if (mode != CopyMode::Cow && mode != CopyMode::Share) return fail(Error::InvalidArgument);
  uint64_t start = va.value();
  uint64_t end = start + length;
  PhysAddr src_root = m_table.root();
  PhysAddr dst_root = dst.m_table.root();
  if (any_mapped_in(dst_root, start, end)) return fail(Error::DeleteFirst);
  TablePool dst_pool(dst.m_pool);
  if (copy_tables_needed(src_root, dst_root, start, end) > dst_pool.available()) {
    return fail(Error::NotEnoughMemory);
  }

  // Cow: a writable page loses W and gains the mark on both sides; read-only
  // pages (text, or already COW) are copied as they are. Share: every entry
  // is copied as it is.
  uint64_t cow_trigger = mode == CopyMode::Cow ? kWriteMask : 0;
  CopyStats stats;
  FlushBatch src_batch;
  FlushBatch dst_batch;
  walk_leaf_tables(src_root, start, end, [&](uint64_t* src, size_t first, size_t last, uint64_t base) {
    size_t i = first_mapped(src, first, last);
    if (i == last) return;
    uint64_t* out = leaf_table_for(dst_root, base, dst_pool);
    note_copied(src, i, last, base / kPageSize, dst_batch);
    copy_entries(src, out, i, last, base / kPageSize, cow_trigger, m_frames, stats, src_batch.pages);
  });
  src_batch.count = stats.made_cow;
  src_batch.flush(m_tlb, m_asid);
  dst_batch.flush(dst.m_tlb, dst.m_asid);
  return stats;
}

Result<PageInfo> UserSpace::lookup(VirtAddr va) const {
  if (va.value() >= kUserTop) return fail(Error::FailedLookup);
  const uint64_t* table = table_at(m_table.root());
  for (unsigned level = kRootLevel; level > 0; --level) {
    Pte entry(table[vpn(va, level)]);
    if (!entry.is_table()) return fail(Error::FailedLookup);
    table = table_at(entry.phys());
  }
  Pte leaf(table[vpn(va, 0)]);
  if (!leaf.is_leaf()) return fail(Error::FailedLookup);
  return PageInfo{leaf.phys(), leaf.perm(), (leaf.raw() & kCowMask) != 0, m_frames.map_count(leaf.phys())};
}

Result<PhysAddr> UserSpace::replace_page(VirtAddr va, PhysAddr new_frame, Perm perm) {
  if (!va.is_aligned(kPageSize) || !new_frame.is_aligned(kPageSize)) return fail(Error::AlignmentError);
  TRY(check_user_range(va, kPageSize));
  TRY(check_frame(new_frame));
  if (!is_valid_user_perm(perm)) return fail(Error::InvalidArgument);
  uint64_t* table = table_at(m_table.root());
  for (unsigned level = kRootLevel; level > 0; --level) {
    Pte entry(table[vpn(va, level)]);
    if (!entry.is_table()) return fail(Error::FailedLookup);
    table = table_at(entry.phys());
  }
  uint64_t& slot = table[vpn(va, 0)];
  Pte old(slot);
  if (!old.is_leaf()) return fail(Error::FailedLookup);

  slot = user_leaf_bits(new_frame, perm);
  m_frames.add_mapping(new_frame);
  m_frames.remove_mapping(old.phys());
  m_tlb.flush_page(m_asid, va);
  return old.phys();
}

Result<ScanResult> UserSpace::scan(VirtAddr va, uint64_t length, uint64_t flags, uint64_t threshold,
                                   std::span<uint64_t> report) {
  if ((flags & ~kScanKnownFlags) != 0) return fail(Error::InvalidArgument);
  TRY(check_user_range(va, length));
  if (report.empty()) return fail(Error::InvalidArgument);  // the kernel always gives room
  const bool unmap = (flags & static_cast<uint64_t>(ScanFlag::Unmap)) != 0;
  const bool addresses = (flags & static_cast<uint64_t>(ScanFlag::ReportAddresses)) != 0;
  const uint64_t start = va.value();
  const uint64_t end = start + length;
  const uint32_t threshold32 = static_cast<uint32_t>(std::min<uint64_t>(threshold, UINT32_MAX));
  ScanState state{report.data(), report.size(), threshold32, 0, 0, {}};
  if (unmap) {
    TablePool pool(m_pool);
    const uint64_t tables_before = pool.available();
    const WalkEnd walked = addresses ? scan_walk<true, true>(m_table.root(), start, end, m_frames, state, &pool)
                                     : scan_walk<true, false>(m_table.root(), start, end, m_frames, state, &pool);
    // As in unmap: a freed table may be cached as a pointer.
    if (pool.available() != tables_before) {
      m_tlb.flush_asid(m_asid);
    } else {
      state.batch.flush(m_tlb, m_asid);
    }
    return ScanResult{VirtAddr(walked.stop), state.visited, state.reported};
  }
  const WalkEnd walked = addresses ? scan_walk<false, true>(m_table.root(), start, end, m_frames, state, nullptr)
                                   : scan_walk<false, false>(m_table.root(), start, end, m_frames, state, nullptr);
  return ScanResult{VirtAddr(walked.stop), state.visited, state.reported};
}

void UserSpace::destroy() {
  // Every table below the root is freed, so the entries need no clearing;
  // only the frames' counts drop.
  TablePool pool(m_pool);
  walk_leaf_tables(
      m_table.root(), 0, kUserTop,
      [&](const uint64_t* table, size_t first, size_t last, uint64_t) {
        release_entries(table, first, last, m_frames);
      },
      &pool);
  // The ASID may go to another space next: leave nothing of this one behind.
  m_tlb.flush_asid(m_asid);
}

uint64_t UserSpace::tables_needed(VirtAddr va, uint64_t length) const {
  if (length == 0 || va.value() >= kUserTop) return 0;
  uint64_t start = va.align_down(kPageSize).value();
  uint64_t end = length > kUserTop - va.value() ? kUserTop : va.value() + length;
  const uint64_t* l2 = table_at(m_table.root());
  uint64_t needed = 0;
  for (uint64_t at = start; at < end;) {
    uint64_t stop1 = std::min(end, next_boundary(at, k1GiB));
    Pte e2(l2[vpn(VirtAddr(at), 2)]);
    if (!e2.is_table()) {
      // A new level-1 table and a leaf table for every 2 MiB touched.
      needed += 1 + (align_up(stop1, k2MiB) - align_down(at, k2MiB)) / k2MiB;
      at = stop1;
      continue;
    }
    const uint64_t* l1 = table_at(e2.phys());
    for (; at < stop1; at = std::min(stop1, next_boundary(at, k2MiB))) {
      if (!Pte(l1[vpn(VirtAddr(at), 1)]).is_table()) ++needed;
    }
  }
  return needed;
}

// ---- AsidAllocator ----------------------------------------------------------

namespace {
constexpr uint32_t kBitsPerWord = 64;
constexpr uint32_t kMaxAsids = uint32_t{1} << 16;
}  // namespace

void AsidAllocator::init(std::span<uint64_t> bitmap, uint32_t count) {
  uint64_t capacity = bitmap.size() * uint64_t{kBitsPerWord};
  m_count = static_cast<uint32_t>(std::min<uint64_t>({count, capacity, kMaxAsids}));
  m_bitmap = bitmap;
  for (uint64_t& word : m_bitmap) word = 0;
  if (m_count > 0) m_bitmap[0] = 1;  // ASID 0 is the kernel's
  m_hint = 1;
}

Result<uint16_t> AsidAllocator::alloc() {
  // Next fit from the hint, wrapping once; set bits are taken ASIDs.
  uint32_t start = m_hint < m_count ? m_hint : 1;
  for (uint32_t pass = 0; pass < 2; ++pass) {
    uint32_t from = pass == 0 ? start : 1;
    uint32_t to = pass == 0 ? m_count : start;
    for (uint32_t asid = from; asid < to;) {
      uint32_t word_index = asid / kBitsPerWord;
      // Bits below `asid` in this word count as taken.
      uint64_t taken = m_bitmap[word_index] | ((uint64_t{1} << (asid % kBitsPerWord)) - 1);
      if (taken == ~uint64_t{0}) {
        asid = (word_index + 1) * kBitsPerWord;
        continue;
      }
      uint32_t found = word_index * kBitsPerWord + static_cast<uint32_t>(std::countr_one(taken));
      if (found >= to) break;
      m_bitmap[word_index] |= uint64_t{1} << (found % kBitsPerWord);
      m_hint = found + 1;
      return static_cast<uint16_t>(found);
    }
  }
  return fail(Error::NotEnoughMemory);
}

void AsidAllocator::free(uint16_t asid) {
  if (asid == 0 || asid >= m_count) return;
  m_bitmap[asid / kBitsPerWord] &= ~(uint64_t{1} << (asid % kBitsPerWord));
}

}  // namespace kern
