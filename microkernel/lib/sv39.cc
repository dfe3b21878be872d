// Building and walking Sv39 tables. Every operation is a descent from the root
// through at most three tables, indexed by VPN[2], VPN[1], VPN[0]; a mapping
// of size 1 GiB, 2 MiB or 4 KiB is a leaf at level 2, 1 or 0. The descent is
// written once (walk) and used both to create missing tables (map) and to
// look entries up without changing anything (unmap).
//
// translate() is the reference for what the hardware will do with our tables,
// so it applies the spec's checks rather than trusting our own writers: an
// entry with W but not R, a pointer at level 0, reserved bits 63..54 set (we
// use neither Svpbmt nor Svnapot) or a superpage leaf whose PPN is not aligned
// to its size all fault on hardware, so they translate to nothing here.
//
// Mapping validates every argument before touching a table. The only changes
// a failing map() can leave behind are empty intermediate tables; map_range()
// also unmaps the leaves it had already made.
#include "sv39.h"

namespace kern::sv39 {

namespace {

// Bits 63..54: N, PBMT and reserved. We use none of them.
using UpperBits = BitField<54, 10>;

// One past the highest physical address a PTE can name (2^56): the largest
// PPN plus one, in pages.
constexpr uint64_t kPhysLimit = (Pte::Ppn::get(~uint64_t{0}) + 1) << kPageShift;

constexpr uint8_t kLeafPermMask = static_cast<uint8_t>(Perm::R | Perm::W | Perm::X | Perm::U | Perm::G);

// A leaf must be readable or executable, may be writable only if readable,
// and may carry no bits that are not leaf permissions.
bool is_valid_leaf_perm(Perm perm) {
  if ((static_cast<uint8_t>(perm) & ~kLeafPermMask) != 0) return false;
  if (!has(perm, Perm::R) && !has(perm, Perm::X)) return false;
  return !has(perm, Perm::W) || has(perm, Perm::R);
}

// True if [va, va + length) lies in one canonical half (length > 0): both
// ends canonical, no wrap past 2^64, and not straddling the hole between the
// halves.
bool is_canonical_range(VirtAddr va, uint64_t length) {
  uint64_t last = va.value() + (length - 1);
  if (last < va.value()) return false;
  if (!is_canonical(va) || !is_canonical(VirtAddr(last))) return false;
  // Same half: bit 38 equal at both ends.
  using TopBit = BitFlag<kVaBits - 1>;
  return TopBit::get(va.value()) == TopBit::get(last);
}

// True if [pa, pa + length) fits in what a PTE can name.
bool is_nameable_phys(PhysAddr pa, uint64_t length) {
  return pa.value() < kPhysLimit && length <= kPhysLimit - pa.value();
}

// The argument checks shared by map and map_range, in the order the errors
// are documented. `align` is the page size the addresses must be aligned to.
Status check_map_args(VirtAddr va, PhysAddr pa, uint64_t length, uint64_t align, Perm perm) {
  if (!va.is_aligned(align) || !pa.is_aligned(align) || !is_aligned(length, kPageSize)) {
    return fail(Error::AlignmentError);
  }
  if (!is_canonical_range(va, length) || !is_nameable_phys(pa, length)) return fail(Error::RangeError);
  if (!is_valid_leaf_perm(perm)) return fail(Error::InvalidArgument);
  return {};
}

// The page size map_range uses next: the largest one that both addresses are
// aligned to and that fits in what remains.
PageSize next_page_size(VirtAddr va, PhysAddr pa, uint64_t remaining) {
  for (PageSize size : {PageSize::k1G, PageSize::k2M}) {
    uint64_t bytes = page_bytes(size);
    if (va.is_aligned(bytes) && pa.is_aligned(bytes) && remaining >= bytes) return size;
  }
  return PageSize::k4K;
}

// Whether a valid entry is one the hardware accepts at `level` at all.
bool is_well_formed(Pte pte, unsigned level) {
  if (UpperBits::get(pte.raw()) != 0) return false;
  if (pte.is_table()) return level > 0;
  if (!pte.is_leaf()) return false;  // W without R
  // A superpage's PPN must be aligned to its size: its low 9 * level bits,
  // which would otherwise overlap the VPN bits passed through, are zero.
  return pte.phys().is_aligned(page_bytes(static_cast<PageSize>(level)));
}

// Descends from the root to the entry for `va` at `level`. With `frames`, a
// missing table on the way is taken from it and linked in (DeleteFirst if a
// leaf or a malformed entry is in the way, NotEnoughMemory if the source is
// empty). Without, nothing changes and any gap is FailedLookup.
Result<uint64_t*> walk(PhysMemory& memory, PhysAddr root, VirtAddr va, unsigned level, FrameSource* frames) {
  uint64_t* table = memory.table_ptr(root);
  for (unsigned l = kLevels - 1; l > level; --l) {
    uint64_t& entry = table[vpn(va, l)];
    Pte pte(entry);
    if (!pte.valid()) {
      if (frames == nullptr) return fail(Error::FailedLookup);
      PhysAddr new_table = TRY(frames->alloc_table());
      pte = Pte::table(new_table);
      entry = pte.raw();
    } else if (!pte.is_table() || !is_well_formed(pte, l)) {
      return fail(frames == nullptr ? Error::FailedLookup : Error::DeleteFirst);
    }
    table = memory.table_ptr(pte.phys());
  }
  return &table[vpn(va, level)];
}

// Undoes the first `done` bytes of a table.map_range(va, pa, length) call.
// The page sizes depend only on the arguments, so choosing them again yields
// exactly the leaves that call made; each of them is there, so unmap cannot
// fail.
void unmap_prefix(PageTable& table, VirtAddr va, PhysAddr pa, uint64_t length, uint64_t done) {
  uint64_t undone = 0;
  while (undone < done) {
    PageSize size = next_page_size(va + undone, pa + undone, length - undone);
    (void)table.unmap(va + undone, size);
    undone += page_bytes(size);
  }
}

}  // namespace

Status PageTable::map(VirtAddr va, PhysAddr pa, PageSize size, Perm perm, FrameSource& frames) {
  uint64_t bytes = page_bytes(size);
  TRY(check_map_args(va, pa, bytes, bytes, perm));
  uint64_t* slot = TRY(walk(m_memory, m_root, va, static_cast<unsigned>(size), &frames));
  // A leaf of the same size, or a table beneath a would-be superpage.
  if (Pte(*slot).valid()) return fail(Error::DeleteFirst);
  *slot = Pte::leaf(pa, perm).raw();
  return {};
}

Status PageTable::map_range(VirtAddr va, PhysAddr pa, uint64_t length, Perm perm, FrameSource& frames) {
  if (length == 0) {
    if (!va.is_aligned(kPageSize) || !pa.is_aligned(kPageSize)) return fail(Error::AlignmentError);
    if (!is_valid_leaf_perm(perm)) return fail(Error::InvalidArgument);
    return {};
  }
  TRY(check_map_args(va, pa, length, kPageSize, perm));

  uint64_t done = 0;
  while (done < length) {
    PageSize size = next_page_size(va + done, pa + done, length - done);
    Status mapped = map(va + done, pa + done, size, perm, frames);
    if (!mapped) {
      unmap_prefix(*this, va, pa, length, done);
      return mapped;
    }
    done += page_bytes(size);
  }
  return {};
}

Status PageTable::unmap(VirtAddr va, PageSize size) {
  if (!va.is_aligned(page_bytes(size))) return fail(Error::AlignmentError);
  if (!is_canonical(va)) return fail(Error::RangeError);
  unsigned level = static_cast<unsigned>(size);
  uint64_t* slot = TRY(walk(m_memory, m_root, va, level, nullptr));
  Pte pte(*slot);
  if (!pte.is_leaf() || !is_well_formed(pte, level)) return fail(Error::FailedLookup);
  *slot = 0;
  return {};
}

std::optional<Translation> PageTable::translate(VirtAddr va) const {
  if (!is_canonical(va)) return std::nullopt;
  const uint64_t* table = m_memory.table_ptr(m_root);
  for (unsigned level = kLevels; level-- > 0;) {
    Pte pte(table[vpn(va, level)]);
    if (!pte.valid() || !is_well_formed(pte, level)) return std::nullopt;
    if (pte.is_leaf()) {
      PageSize size = static_cast<PageSize>(level);
      uint64_t offset = va.value() & (page_bytes(size) - 1);
      return Translation{pte.phys() + offset, pte.perm(), size, pte.rsw()};
    }
    table = m_memory.table_ptr(pte.phys());
  }
  return std::nullopt;  // not reached: a level-0 pointer is not well formed
}

}  // namespace kern::sv39
