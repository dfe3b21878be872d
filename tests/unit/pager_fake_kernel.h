// A fake kernel for the host tests of the pager's policies: a KernelOps
// that simulates what the policies rely on from docs/kernel.md §7.5, namely
// per-VSpace page tables with permissions and the copy-on-write mark, frame
// contents, and the count of mappings of every frame. It also plays the
// process, reading and writing bytes through the page tables so a test sees
// what a program would, and counts its VSpaceScan calls so a test can check
// what a release or a fork costs. store() and load() run a process's access
// through a policy as the kernel and the pager would: fault, resolve, retry.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "pager/policy.h"
#include "pager/regions.h"

namespace pager::testing_support {

using kern::kPageSize;
class FakeKernel final : public KernelOps {
 public:
  struct Pte {
    uint64_t frame;
    Perm perm;
    bool cow;
    bool may_write;
  };

  explicit FakeKernel(size_t frame_limit = 4096) : m_limit(frame_limit) {}

  Result<FrameRef> alloc_frame() override {
    if (m_allocated >= m_limit) return kern::fail(Error::NotEnoughMemory);
    uint64_t handle;
    if (!m_free.empty()) {
      handle = m_free.back();
      m_free.pop_back();
    } else {
      m_frames.emplace_back(kPageSize);
      m_counts.push_back(0);
      m_in_use.push_back(false);
      handle = m_frames.size();
    }
    std::fill(m_frames[handle - 1].begin(), m_frames[handle - 1].end(), 0);
    m_in_use[handle - 1] = true;
    ++m_allocated;
    return FrameRef{handle};
  }

  void free_frame(FrameRef frame) override {
    ASSERT_TRUE(valid(frame)) << "free of frame " << frame.handle << " not allocated";
    EXPECT_EQ(m_counts[frame.handle - 1], 0u) << "free of a mapped frame";
    m_in_use[frame.handle - 1] = false;
    m_free.push_back(frame.handle);
    --m_allocated;
  }

  Status map(VSpaceRef vs, VirtAddr va, std::span<const FrameRef> frames, Perm perm) override {
    if (frames.empty()) return kern::fail(Error::RangeError);
    if (!is_valid_perm(perm)) return kern::fail(Error::InvalidArgument);
    for (FrameRef f : frames) {
      if (!valid(f)) return kern::fail(Error::InvalidCapability);
    }
    TRY(check_range(va, frames.size() * kPageSize));
    auto& table = m_tables[vs.handle];
    for (size_t i = 0; i < frames.size(); ++i) {
      if (table.contains(va.value() + i * kPageSize)) return kern::fail(Error::DeleteFirst);
    }
    for (size_t i = 0; i < frames.size(); ++i) {
      table[va.value() + i * kPageSize] = Pte{frames[i].handle, perm, false, has(perm, Perm::Write)};
      ++m_counts[frames[i].handle - 1];
    }
    return {};
  }

  Result<uint64_t> unmap(VSpaceRef vs, VirtAddr va, uint64_t length) override {
    TRY(check_range(va, length));
    auto& table = m_tables[vs.handle];
    uint64_t n = 0;
    for (uint64_t a = va.value(); a < va.value() + length; a += kPageSize) {
      auto it = table.find(a);
      if (it == table.end()) continue;
      --m_counts[it->second.frame - 1];
      table.erase(it);
      ++n;
    }
    return n;
  }

  Result<uint64_t> protect(VSpaceRef vs, VirtAddr va, uint64_t length, Perm perm) override {
    if (!is_valid_perm(perm)) return kern::fail(Error::InvalidArgument);
    TRY(check_range(va, length));
    auto& table = m_tables[vs.handle];
    auto first = table.lower_bound(va.value()), last = table.lower_bound(va.value() + length);
    if (has(perm, Perm::Write)) {
      for (auto it = first; it != last; ++it) {
        if (!it->second.may_write) return kern::fail(Error::IllegalOperation);
      }
    }
    uint64_t n = 0;
    for (auto it = first; it != last; ++it, ++n) {
      it->second.perm = perm;
      if (has(perm, Perm::Write)) it->second.cow = false;
    }
    return n;
  }

  Result<CopyRangeResult> copy_range(VSpaceRef src, VSpaceRef dst, VirtAddr va, uint64_t length,
                                     CopyMode mode) override {
    if (mode != CopyMode::Cow && mode != CopyMode::Share) return kern::fail(Error::InvalidArgument);
    TRY(check_range(va, length));
    if (src == dst) return kern::fail(Error::InvalidArgument);
    auto& from = m_tables[src.handle];
    auto& to = m_tables[dst.handle];
    auto first = from.lower_bound(va.value()), last = from.lower_bound(va.value() + length);
    if (to.lower_bound(va.value()) != to.lower_bound(va.value() + length)) return kern::fail(Error::DeleteFirst);
    if (m_copy_range_fail_in > 0 && --m_copy_range_fail_in == 0) return kern::fail(Error::NotEnoughMemory);
    CopyRangeResult result;
    for (auto it = first; it != last; ++it) {
      if (mode == CopyMode::Cow && has(it->second.perm, Perm::Write)) {
        it->second.perm = without(it->second.perm, Perm::Write);
        it->second.cow = true;
        ++result.made_cow;
      }
      to[it->first] = it->second;
      ++m_counts[it->second.frame - 1];
      ++result.mapped;
    }
    return result;
  }

  Result<PageInfo> lookup(VSpaceRef vs, VirtAddr va) override {
    const Pte* pte = find(vs, va);
    if (pte == nullptr) return kern::fail(Error::FailedLookup);
    return PageInfo{FrameRef{pte->frame}, pte->perm, pte->cow, m_counts[pte->frame - 1]};
  }

  Result<FrameRef> copy_page(VSpaceRef vs, VirtAddr va, FrameRef frame, Perm perm) override {
    if (!valid(frame)) return kern::fail(Error::InvalidCapability);
    if (!is_valid_perm(perm)) return kern::fail(Error::InvalidArgument);
    if (!va.is_aligned(kPageSize)) return kern::fail(Error::AlignmentError);
    auto& table = m_tables[vs.handle];
    auto it = table.find(va.value());
    if (it == table.end()) return kern::fail(Error::FailedLookup);
    if (it->second.frame == frame.handle) return kern::fail(Error::InvalidArgument);
    const uint64_t old = it->second.frame;
    m_frames[frame.handle - 1] = m_frames[old - 1];
    --m_counts[old - 1];
    ++m_counts[frame.handle - 1];
    it->second = Pte{frame.handle, perm, false, has(perm, Perm::Write)};
    return FrameRef{old};
  }

  Result<ScanResult> unmap_collect(VSpaceRef vs, VirtAddr va, uint64_t length, std::span<FrameRef> freed) override {
    if (freed.size() < kScanBatch) return kern::fail(Error::InvalidArgument);
    TRY(check_range(va, length));
    ++m_scans;
    auto& table = m_tables[vs.handle];
    ScanResult r{va + length, 0, 0};
    for (auto it = table.lower_bound(va.value()); it != table.end() && it->first < va.value() + length;) {
      const uint64_t frame = it->second.frame;
      const uint64_t page = it->first;
      it = table.erase(it);
      ++r.visited;
      if (--m_counts[frame - 1] == 0) {
        freed[r.count++] = FrameRef{frame};
        if (r.count == kScanBatch) {
          r.next = VirtAddr(page + kPageSize);
          break;
        }
      }
    }
    return r;
  }

  Result<ScanResult> list_mapped(VSpaceRef vs, VirtAddr va, uint64_t length, std::span<VirtAddr> pages) override {
    if (pages.size() < kScanBatch) return kern::fail(Error::InvalidArgument);
    TRY(check_range(va, length));
    ++m_scans;
    auto& table = m_tables[vs.handle];
    ScanResult r{va + length, 0, 0};
    for (auto it = table.lower_bound(va.value()); it != table.end() && it->first < va.value() + length; ++it) {
      ++r.visited;
      pages[r.count++] = VirtAddr(it->first);
      if (r.count == kScanBatch) {
        r.next = VirtAddr(it->first + kPageSize);
        break;
      }
    }
    return r;
  }

  // Scan calls made so far (for the tests that a release costs calls in
  // proportion to the mapped pages).
  uint64_t scans() const { return m_scans; }

  // ---- The process's view: loads and stores through the page tables ----

  // The byte at va, or nullopt when the access would fault.
  std::optional<uint8_t> read(VSpaceRef vs, VirtAddr va) const {
    const Pte* pte = find(vs, va);
    if (pte == nullptr || !has(pte->perm, Perm::Read)) return std::nullopt;
    return m_frames[pte->frame - 1][va.value() % kPageSize];
  }
  bool write(VSpaceRef vs, VirtAddr va, uint8_t value) {
    const Pte* pte = find(vs, va);
    if (pte == nullptr || !has(pte->perm, Perm::Write)) return false;
    m_frames[pte->frame - 1][va.value() % kPageSize] = value;
    return true;
  }
  bool executable(VSpaceRef vs, VirtAddr va) const {
    const Pte* pte = find(vs, va);
    return pte != nullptr && has(pte->perm, Perm::Execute);
  }

  const Pte* find(VSpaceRef vs, VirtAddr va) const {
    auto t = m_tables.find(vs.handle);
    if (t == m_tables.end()) return nullptr;
    auto it = t->second.find(va.align_down(kPageSize).value());
    return it == t->second.end() ? nullptr : &it->second;
  }

  size_t mapped_pages(VSpaceRef vs) const {
    auto t = m_tables.find(vs.handle);
    return t == m_tables.end() ? 0 : t->second.size();
  }
  size_t allocated() const { return m_allocated; }
  void set_frame_limit(size_t limit) { m_limit = limit; }
  // The n-th copy_range from now fails with NotEnoughMemory, having changed
  // nothing, as the kernel's does when the destination's table pool is
  // short (1 = the next one); 0 = none.
  void fail_copy_range_in(size_t n) { m_copy_range_fail_in = n; }

  // Every count equals the mappings found in the tables; no mapped frame is
  // free.
  bool check_counts() const {
    std::vector<uint64_t> counted(m_counts.size(), 0);
    for (const auto& [vs, table] : m_tables) {
      for (const auto& [va, pte] : table) {
        if (!m_in_use[pte.frame - 1]) return false;
        ++counted[pte.frame - 1];
      }
    }
    return counted == m_counts;
  }

  // The copy-on-write invariant: no mapping of a frame that is mapped more
  // than once allows writing, so no process can write memory another sees.
  // Returns the first offending (vspace, page), or nullopt.
  std::optional<std::pair<VSpaceRef, VirtAddr>> writable_shared_frame() const {
    for (const auto& [vs, table] : m_tables) {
      for (const auto& [va, pte] : table) {
        if (has(pte.perm, Perm::Write) && m_counts[pte.frame - 1] > 1) return std::pair{VSpaceRef{vs}, VirtAddr(va)};
      }
    }
    return std::nullopt;
  }

 private:
  bool valid(FrameRef f) const { return f.handle >= 1 && f.handle <= m_frames.size() && m_in_use[f.handle - 1]; }
  static Status check_range(VirtAddr va, uint64_t length) {
    if (!va.is_aligned(kPageSize) || !kern::is_aligned(length, kPageSize)) return kern::fail(Error::AlignmentError);
    if (length == 0 || va.value() >= kUserTop || length > kUserTop - va.value()) return kern::fail(Error::RangeError);
    return {};
  }

  std::vector<std::vector<uint8_t>> m_frames;  // contents; handle h is index h - 1
  std::vector<uint64_t> m_counts;              // mappings of each frame
  std::vector<bool> m_in_use;
  std::vector<uint64_t> m_free;
  size_t m_limit;
  size_t m_allocated = 0;
  uint64_t m_scans = 0;
  size_t m_copy_range_fail_in = 0;
  std::map<uint64_t, std::map<uint64_t, Pte>> m_tables;  // vspace -> va -> pte
};

// Runs a process's store through the policy as the kernel and pager would:
// on a fault, handle it and retry. False if the policy says Segfault.
inline bool store(const Policy& policy, FakeKernel& kernel, const RegionSet& regions, VSpaceRef vs, VirtAddr va,
                  uint8_t value) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (kernel.write(vs, va, value)) return true;
    auto r = policy.handle_fault(kernel, regions, vs, va, Access::Write);
    if (!r) ADD_FAILURE() << "fault failed: " << kern::error_name(r.error());
    if (!r || *r == FaultResolution::Segfault) return false;
  }
  ADD_FAILURE() << "fault at " << va.value() << " never resolved";
  return false;
}

inline std::optional<uint8_t> load(const Policy& policy, FakeKernel& kernel, const RegionSet& regions, VSpaceRef vs,
                                   VirtAddr va) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (auto v = kernel.read(vs, va)) return v;
    auto r = policy.handle_fault(kernel, regions, vs, va, Access::Read);
    if (!r || *r == FaultResolution::Segfault) return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace pager::testing_support
