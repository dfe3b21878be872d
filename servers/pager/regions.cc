// The region set: a sorted array of regions in one page from the caller's
// PageSource (see regions.h for the kinds and the reserved/accessible split).
// Sorting by reservation start lets find() binary-search and the overlap check
// look only at the two neighbours of the insertion point. Every mutator
// validates first and changes state only when it can no longer fail.
#include "regions.h"

#include <new>

namespace pager {

namespace {

using kern::kPageSize;

// A range [start, start + size) that lies inside the user half, computed
// without overflow.
bool fits_user_half(uint64_t start, uint64_t size) { return start < kUserTop && size <= kUserTop - start; }

Status check_range(VirtAddr start, uint64_t size) {
  if (!start.is_aligned(kPageSize) || !kern::is_aligned(size, kPageSize)) return kern::fail(Error::AlignmentError);
  if (size == 0) return kern::fail(Error::InvalidArgument);
  if (!fits_user_half(start.value(), size)) return kern::fail(Error::RangeError);
  return {};
}

Region make_region(RegionKind kind, Perm perm, VirtAddr start, uint64_t size) {
  Region r;
  r.kind = kind;
  r.perm = perm;
  r.reserved_start = r.start = start;
  r.reserved_end = r.end = start + size;
  return r;
}

}  // namespace

RegionSet::RegionSet(RegionSet&& other)
    : m_pages(other.m_pages), m_regions(other.m_regions), m_count(other.m_count) {
  other.m_regions = nullptr;
  other.m_count = 0;
}

RegionSet& RegionSet::operator=(RegionSet&& other) {
  if (this != &other) {
    release();
    m_pages = other.m_pages;
    m_regions = other.m_regions;
    m_count = other.m_count;
    other.m_regions = nullptr;
    other.m_count = 0;
  }
  return *this;
}

Status RegionSet::add_segment(RegionKind kind, VirtAddr start, uint64_t size) {
  if (kind != RegionKind::Text && kind != RegionKind::Rodata && kind != RegionKind::Data &&
      kind != RegionKind::Bss) {
    return kern::fail(Error::InvalidArgument);
  }
  TRY(check_range(start, size));
  return insert(make_region(kind, kind_perm(kind), start, size));
}

Status RegionSet::add_anon(VirtAddr start, uint64_t size, Perm perm) {
  if (!is_valid_perm(perm)) return kern::fail(Error::InvalidArgument);
  TRY(check_range(start, size));
  return insert(make_region(RegionKind::Anon, perm, start, size));
}

Status RegionSet::add_heap(VirtAddr start, uint64_t max_size) {
  TRY(check_range(start, max_size));
  if (heap() != nullptr) return kern::fail(Error::IllegalOperation);
  Region r = make_region(RegionKind::Heap, kind_perm(RegionKind::Heap), start, max_size);
  r.end = start;  // empty until sbrk
  r.brk = start;
  return insert(r);
}

Status RegionSet::add_stack(VirtAddr top, uint64_t max_size) {
  if (!top.is_aligned(kPageSize) || !kern::is_aligned(max_size, kPageSize)) {
    return kern::fail(Error::AlignmentError);
  }
  if (max_size == 0) return kern::fail(Error::InvalidArgument);
  // The guard page needs a page of its own below the stack's limit.
  if (top.value() > kUserTop || max_size > top.value() || top.value() - max_size < kPageSize) {
    return kern::fail(Error::RangeError);
  }
  for (const Region& r : regions()) {
    if (r.kind == RegionKind::Stack) return kern::fail(Error::IllegalOperation);
  }
  const VirtAddr bottom = top - max_size;
  Region r = make_region(RegionKind::Stack, kind_perm(RegionKind::Stack), bottom, max_size);
  r.reserved_start = bottom - kPageSize;
  return insert(r);
}

Status RegionSet::insert(const Region& region) {
  // Find the insertion point: the first region that starts after this one.
  size_t pos = 0;
  while (pos < m_count && m_regions[pos].reserved_start < region.reserved_start) ++pos;
  if (pos > 0 && m_regions[pos - 1].reserved_end > region.reserved_start) return kern::fail(Error::DeleteFirst);
  if (pos < m_count && m_regions[pos].reserved_start < region.reserved_end) return kern::fail(Error::DeleteFirst);
  if (m_count == kMaxRegions) return kern::fail(Error::NotEnoughMemory);
  if (m_regions == nullptr) m_regions = static_cast<Region*>(TRY(m_pages->alloc_page()));

  // Nothing can fail from here on.
  for (size_t i = m_count; i > pos; --i) new (&m_regions[i]) Region(m_regions[i - 1]);
  new (&m_regions[pos]) Region(region);
  ++m_count;
  return {};
}

Status RegionSet::remove_anon(VirtAddr start) {
  size_t pos = 0;
  while (pos < m_count && !(m_regions[pos].kind == RegionKind::Anon && m_regions[pos].start == start)) ++pos;
  if (pos == m_count) return kern::fail(Error::FailedLookup);
  for (size_t i = pos + 1; i < m_count; ++i) m_regions[i - 1] = m_regions[i];
  --m_count;
  return {};
}

const Region* RegionSet::find(VirtAddr va) const {
  // Binary search for the last region starting at or below va.
  size_t lo = 0, hi = m_count;
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (m_regions[mid].reserved_start <= va) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo == 0) return nullptr;
  const Region& r = m_regions[lo - 1];
  return r.reserves(va) ? &r : nullptr;
}

FaultKind RegionSet::classify(VirtAddr va, Access access, PageState page) const {
  const Region* r = find(va);
  // Outside every region, in the guard page, or in the heap above the break.
  if (r == nullptr || !r->contains(va)) return FaultKind::Segfault;

  Perm needed = Perm::None;
  switch (access) {
    case Access::Read: needed = Perm::Read; break;
    case Access::Write: needed = Perm::Write; break;
    case Access::Execute: needed = Perm::Execute; break;
  }
  // An unknown access value comes from a broken fault message: refuse it.
  if (needed == Perm::None || !has(r->perm, needed)) return FaultKind::Segfault;

  if (!page.mapped) return FaultKind::ZeroFillAndMap;
  if (has(page.perm, needed)) return FaultKind::Spurious;
  // Only a write can be refused by a mapped page of a region that allows it:
  // the page was made read-only at fork (or shared), and the policy decides
  // whether to copy it or to give W back.
  if (access == Access::Write) return FaultKind::CopyOnWrite;
  // A read or execute the region allows but the PTE does not: the page was
  // mapped with narrower rights than its region. Treat it as a segfault
  // rather than guess; no policy maps pages that way.
  return FaultKind::Segfault;
}

Region* RegionSet::heap() {
  for (size_t i = 0; i < m_count; ++i) {
    if (m_regions[i].kind == RegionKind::Heap) return &m_regions[i];
  }
  return nullptr;
}

VirtAddr RegionSet::heap_break() const {
  for (const Region& r : regions()) {
    if (r.kind == RegionKind::Heap) return r.brk;
  }
  return VirtAddr(0);
}

Result<SbrkResult> RegionSet::sbrk(int64_t increment) {
  Region* h = heap();
  if (h == nullptr) return kern::fail(Error::FailedLookup);
  const uint64_t old_brk = h->brk.value();
  uint64_t new_brk;
  if (increment >= 0) {
    const uint64_t inc = uint64_t(increment);
    if (inc > h->reserved_end.value() - old_brk) return kern::fail(Error::NotEnoughMemory);
    new_brk = old_brk + inc;
  } else {
    // Negate in unsigned arithmetic: -INT64_MIN does not fit an int64_t.
    const uint64_t dec = uint64_t{0} - uint64_t(increment);
    if (dec > old_brk - h->start.value()) return kern::fail(Error::InvalidArgument);
    new_brk = old_brk - dec;
  }

  const VirtAddr old_end = h->end;
  h->brk = VirtAddr(new_brk);
  h->end = VirtAddr(kern::align_up(new_brk, kPageSize));
  SbrkResult result{VirtAddr(old_brk), h->end, h->end};
  if (h->end < old_end) result.release_end = old_end;
  return result;
}

Result<RegionSet> RegionSet::fork() const {
  RegionSet child(*m_pages);
  if (m_count == 0) return child;
  child.m_regions = static_cast<Region*>(TRY(m_pages->alloc_page()));
  for (size_t i = 0; i < m_count; ++i) new (&child.m_regions[i]) Region(m_regions[i]);
  child.m_count = m_count;
  return child;
}

void RegionSet::release() {
  if (m_regions != nullptr) m_pages->free_page(m_regions);
  m_regions = nullptr;
  m_count = 0;
}

bool RegionSet::check_invariants() const {
  if (m_count > kMaxRegions || (m_count > 0 && m_regions == nullptr)) return false;
  bool seen_heap = false, seen_stack = false;
  for (size_t i = 0; i < m_count; ++i) {
    const Region& r = m_regions[i];
    for (VirtAddr a : {r.reserved_start, r.reserved_end, r.start, r.end}) {
      if (!a.is_aligned(kPageSize) || a.value() > kUserTop) return false;
    }
    if (!(r.reserved_start <= r.start && r.start <= r.end && r.end <= r.reserved_end)) return false;
    if (r.reserved_start == r.reserved_end || !is_valid_perm(r.perm)) return false;
    if (i > 0 && m_regions[i - 1].reserved_end > r.reserved_start) return false;
    switch (r.kind) {
      case RegionKind::Heap:
        if (seen_heap || r.start != r.reserved_start || r.brk < r.start || r.brk > r.reserved_end ||
            r.end != r.brk.align_up(kPageSize)) {
          return false;
        }
        seen_heap = true;
        break;
      case RegionKind::Stack:
        if (seen_stack || r.start - r.reserved_start != kPageSize || r.end != r.reserved_end) return false;
        seen_stack = true;
        break;
      default:
        if (r.start != r.reserved_start || r.end != r.reserved_end) return false;
        if (r.kind != RegionKind::Anon && r.perm != kind_perm(r.kind)) return false;
        break;
    }
  }
  return true;
}

}  // namespace pager
