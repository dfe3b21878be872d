// Sv39 page tables (RISC-V privileged spec, "Sv39: Page-Based 39-bit Virtual-
// Memory System"). A virtual address has three 9-bit indices above the 12-bit
// page offset; bits 63..39 must equal bit 38.
//
//   38        30 29        21 20        12 11           0
//  | VPN[2]     | VPN[1]     | VPN[0]     | page offset  |
//
// A PTE (64 bits):
//
//   63  62 61 60    54 53        10 9  8 7 6 5 4 3 2 1 0
//  | N | PBMT | rsvd  |    PPN     | RSW |D|A|G|U|X|W|R|V|
//
// R=W=X=0 with V=1 points to the next level; any of R/X set makes a leaf at
// that level (1 GiB, 2 MiB or 4 KiB). The two RSW bits are ours: the COW mark
// will live there.
//
// The code works on physical memory through a PhysMemory interface and gets
// new table pages from a FrameSource, so the host tests run it over a
// simulated physical memory. It flushes no TLB: callers do (sfence.vma).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "bitfield.h"
#include "result.h"
#include "types.h"

namespace kern::sv39 {

inline constexpr unsigned kLevels = 3;
inline constexpr size_t kEntriesPerTable = 512;
inline constexpr uint64_t kVaBits = 39;

enum class PageSize : uint8_t { k4K = 0, k2M = 1, k1G = 2 };  // value = level
constexpr uint64_t page_bytes(PageSize s) { return kPageSize << (9 * static_cast<unsigned>(s)); }

// Leaf permissions and attributes, as a bit set using the PTE's own bit
// positions (so converting is a mask, not a table).
enum class Perm : uint8_t {
  None = 0,
  R = 1 << 1,
  W = 1 << 2,
  X = 1 << 3,
  U = 1 << 4,
  G = 1 << 5,
};
constexpr Perm operator|(Perm a, Perm b) { return static_cast<Perm>(static_cast<uint8_t>(a) | static_cast<uint8_t>(b)); }
constexpr Perm operator&(Perm a, Perm b) { return static_cast<Perm>(static_cast<uint8_t>(a) & static_cast<uint8_t>(b)); }
constexpr bool has(Perm set, Perm p) { return (set & p) == p && p != Perm::None; }

class Pte {
 public:
  using V = BitFlag<0>;
  using R = BitFlag<1>;
  using W = BitFlag<2>;
  using X = BitFlag<3>;
  using U = BitFlag<4>;
  using G = BitFlag<5>;
  using A = BitFlag<6>;
  using D = BitFlag<7>;
  using Rsw = BitField<8, 2>;
  using Ppn = BitField<10, 44>;
  using PermBits = BitField<1, 5>;  // R W X U G as one field, matches Perm

  constexpr Pte() = default;
  constexpr explicit Pte(uint64_t raw) : m_raw(raw) {}

  // A leaf mapping `pa` with `perm`; A and D are preset so hardware that does
  // not update them never faults on first access. Requires perm to include R
  // or X, and W only together with R (W without R is reserved).
  static constexpr Pte leaf(PhysAddr pa, Perm perm);
  // A pointer to the next-level table at `table` (page aligned).
  static constexpr Pte table(PhysAddr table);

  constexpr uint64_t raw() const { return m_raw; }
  constexpr bool valid() const { return V::get(m_raw); }
  constexpr bool is_leaf() const { return valid() && (R::get(m_raw) || X::get(m_raw)); }
  constexpr bool is_table() const { return valid() && !is_leaf() && !W::get(m_raw); }
  constexpr Perm perm() const { return static_cast<Perm>(PermBits::get(m_raw) << 1); }
  constexpr PhysAddr phys() const { return PhysAddr(Ppn::get(m_raw) << kPageShift); }
  constexpr uint64_t rsw() const { return Rsw::get(m_raw); }
  constexpr Pte with_rsw(uint64_t v) const { return Pte(Rsw::set(m_raw, v)); }

 private:
  uint64_t m_raw = 0;
};

constexpr Pte Pte::leaf(PhysAddr pa, Perm perm) {
  uint64_t raw = V::set(0, 1);
  raw = PermBits::set(raw, static_cast<uint64_t>(perm) >> 1);
  raw = A::set(raw, 1);
  raw = D::set(raw, 1);
  raw = Ppn::set(raw, pa.value() >> kPageShift);
  return Pte(raw);
}

constexpr Pte Pte::table(PhysAddr table) {
  return Pte(Ppn::set(V::set(0, 1), table.value() >> kPageShift));
}

// VPN[level] of a virtual address.
constexpr size_t vpn(VirtAddr va, unsigned level) { return (va.value() >> (kPageShift + 9 * level)) & 0x1ff; }
// True if bits 63..39 all equal bit 38.
constexpr bool is_canonical(VirtAddr va) {
  uint64_t top = va.value() >> (kVaBits - 1);
  return top == 0 || top == (~uint64_t{0} >> (kVaBits - 1));
}

// The satp value for Sv39 (MODE = 8) with the given root table and ASID.
constexpr uint64_t make_satp(PhysAddr root, uint16_t asid) {
  using Mode = BitField<60, 4>;
  using Asid = BitField<44, 16>;
  using RootPpn = BitField<0, 44>;
  return Mode::set(0, 8) | Asid::set(0, asid) | RootPpn::set(0, root.value() >> kPageShift);
}

class PhysMemory {
 public:
  // A pointer through which the 4 KiB page at `page` can be read and written.
  virtual uint64_t* table_ptr(PhysAddr page) = 0;

 protected:
  ~PhysMemory() = default;
};

class FrameSource {
 public:
  // A zeroed, page-aligned frame for a page table; NotEnoughMemory if none.
  virtual Result<PhysAddr> alloc_table() = 0;

 protected:
  ~FrameSource() = default;
};

struct Translation {
  PhysAddr pa;       // the translated address (page base + offset)
  Perm perm = Perm::None;
  PageSize size = PageSize::k4K;
  uint64_t rsw = 0;
};

class PageTable {
 public:
  PageTable(PhysAddr root, PhysMemory& memory) : m_root(root), m_memory(memory) {}

  PhysAddr root() const { return m_root; }

  // Map one page of `size` at va -> pa. Errors: AlignmentError if va or pa is
  // not aligned to the page size; RangeError if va is not canonical;
  // InvalidArgument for a Perm that is no valid leaf (none of R/X, or W
  // without R); DeleteFirst if any part of the range is already mapped (a
  // leaf on the way, or a table where a big leaf should go);
  // NotEnoughMemory if a table page cannot be had. On failure nothing is
  // mapped (tables created on the way may remain, empty).
  Status map(VirtAddr va, PhysAddr pa, PageSize size, Perm perm, FrameSource& frames);

  // Map [va, va + length) -> [pa, ...) using the largest pages that alignment
  // and length allow. length must be a multiple of 4 KiB. Same errors as map;
  // on failure, the pages this call mapped are unmapped again.
  Status map_range(VirtAddr va, PhysAddr pa, uint64_t length, Perm perm, FrameSource& frames);

  // Remove the leaf that maps exactly the page at va of the given size.
  // FailedLookup if there is none of that size there.
  Status unmap(VirtAddr va, PageSize size);

  // Walk the tables like the hardware would. nullopt for an unmapped or non-
  // canonical address or a malformed entry (e.g. W without R).
  std::optional<Translation> translate(VirtAddr va) const;

 private:
  PhysAddr m_root;
  PhysMemory& m_memory;
};

}  // namespace kern::sv39
