// A fake kernel for the pager server's host tests, at the level of the raw
// invocations (servers/pager/invocations.h): capability slots in the pager's
// CNode and in procmgr's mailbox CNode, Untyped memory with its watermark,
// Frames over a simulated physical memory, VSpaces with page tables, their
// table pools and the per-frame mapping counts, and the derivation tree that
// Revoke walks. What it checks is what the pager relies on from
// docs/kernel.md: retype only into empty slots and within the Untyped,
// watermark reset only when nothing made from it is left, map only frames
// with free pages and enough table-pool pages, revoke destroying
// descendants (a destroyed VSpace loses every mapping). Misuse that the real
// kernel would silently tolerate but that would leak or corrupt memory (a
// frame destroyed or retyped over while mapped) is recorded in problems().
//
// It also plays the processes: read() and write() go through a VSpace's
// page tables as a load or store would. Physical memory is a memfd covering
// every pool (pools may lie anywhere: discontiguous, with gaps); the pager's
// direct map is a host window where each VSpaceMap into the pager's own
// VSpace at kDirectMapVa + x maps the frame's page of that memfd at window +
// x, so the pager's pointers and the simulated physical memory are the same
// bytes, as on the machine.
#pragma once

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "pager/invocations.h"

namespace pager::testing_support {

using kern::kPageSize;
using uapi::ObjectType;

class FakeInvocations final : public Invocations {
 public:
  static constexpr uint64_t kSelfCNodeId = 1, kMailboxCNodeId = 2;
  static constexpr uint64_t kUserTop = uint64_t{1} << 38;
  static constexpr uint64_t kDirectMapVa = 0x10'0000'0000;

  // An Untyped of 2^bits bytes at paddr (a multiple of its size) in `slot`.
  struct PoolSpec {
    uint64_t slot;
    uint64_t bits;
    uint64_t paddr;
  };

  struct Pte {
    uint64_t paddr;
    uint64_t perm;
    bool cow;
    bool may_write;
  };

  // The pager's CNode has 2^radix slots; each pool is an Untyped in its
  // slot. The CNode cap itself sits in `cnode_slot`, the pager's VSpace in
  // `vspace_slot` (unlimited table pool) and the mailbox CNode (4 slots) in
  // `mailbox_slot`.
  FakeInvocations(uint64_t radix, const std::vector<PoolSpec>& pools, uint64_t cnode_slot, uint64_t vspace_slot,
                  uint64_t mailbox_slot)
      : m_radix(radix) {
    uint64_t end = 0, total = 0;
    m_phys_base = ~uint64_t{0};
    for (const PoolSpec& p : pools) {
      m_phys_base = std::min(m_phys_base, p.paddr);
      end = std::max(end, p.paddr + (uint64_t{1} << p.bits));
      total += uint64_t{1} << p.bits;
    }
    m_phys_size = end - m_phys_base;
    m_window_size = total;
    m_fd = memfd_create("fake-ram", 0);
    if (m_fd < 0 || ftruncate(m_fd, off_t(m_phys_size)) != 0) std::abort();
    m_memory = map_or_abort(nullptr, m_phys_size, PROT_READ | PROT_WRITE, MAP_SHARED, m_fd, 0);
    m_window = map_or_abort(nullptr, m_window_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    for (const PoolSpec& p : pools) {
      std::memset(bytes(p.paddr), 0xcc, uint64_t{1} << p.bits);
      const uint64_t pool = new_object(ObjectType::Untyped, p.paddr, p.bits);
      add_cap(kSelfCNodeId, p.slot, ObjectType::Untyped, pool, -1);
    }
    add_cap(kSelfCNodeId, cnode_slot, ObjectType::CNode, kSelfCNodeId, -1);
    add_cap(kSelfCNodeId, mailbox_slot, ObjectType::CNode, kMailboxCNodeId, -1);
    m_self_vspace = new_object(ObjectType::VSpace, 0, 0);
    m_objects[m_self_vspace].table_pages = ~uint64_t{0};
    add_cap(kSelfCNodeId, vspace_slot, ObjectType::VSpace, m_self_vspace, -1);
  }
  // One pool of 2^pool_bits bytes at pool_paddr in slot pool_slot.
  FakeInvocations(uint64_t radix, uint64_t pool_slot, uint64_t pool_bits, uint64_t pool_paddr, uint64_t cnode_slot,
                  uint64_t vspace_slot, uint64_t mailbox_slot)
      : FakeInvocations(radix, {{pool_slot, pool_bits, pool_paddr}}, cnode_slot, vspace_slot, mailbox_slot) {}
  ~FakeInvocations() {
    munmap(m_window, m_window_size);
    munmap(m_memory, m_phys_size);
    close(m_fd);
  }
  FakeInvocations(const FakeInvocations&) = delete;
  FakeInvocations& operator=(const FakeInvocations&) = delete;

  // ---- Invocations ----

  Status retype(uint64_t untyped, ObjectType type, uint64_t size_bits, uint64_t count, uint64_t cnode,
                uint64_t first_slot) override {
    TRY(tick());
    const int64_t ut = TRY(lookup_cap(kSelfCNodeId, untyped));
    if (m_caps[ut].type != ObjectType::Untyped) return kern::fail(Error::InvalidCapability);
    const uint64_t dest = TRY(cnode_id(cnode));
    if (count == 0 || count > 256) return kern::fail(Error::InvalidArgument);
    if (first_slot == 0 || first_slot + count > slots(dest)) return kern::fail(Error::RangeError);
    Object& u = m_objects[m_caps[ut].object];
    uint64_t bits;
    switch (type) {
      case ObjectType::Untyped: bits = size_bits; break;
      case ObjectType::Frame: bits = 12; break;
      case ObjectType::VSpace: bits = 13; break;
      case ObjectType::Notification:
      case ObjectType::Endpoint: bits = 5; break;
      default: return kern::fail(Error::InvalidArgument);
    }
    if (type == ObjectType::Untyped && (bits < 4 || bits >= u.bits)) return kern::fail(Error::InvalidArgument);
    for (uint64_t i = 0; i < count; ++i) {
      if (m_slots.contains({dest, first_slot + i})) return kern::fail(Error::DeleteFirst);
    }
    if (!has_children(ut)) u.watermark = 0;
    const uint64_t start = kern::align_up(u.watermark, uint64_t{1} << bits);
    const uint64_t size = count << bits;
    if (start + size > (uint64_t{1} << u.bits)) return kern::fail(Error::NotEnoughMemory);
    const uint64_t paddr = u.paddr + start;
    for (const auto& [frame_paddr, n] : m_counts) {
      if (n > 0 && frame_paddr >= paddr && frame_paddr < paddr + size) problem("retype over a mapped frame");
    }
    if (paddr >= m_phys_base && paddr + size <= m_phys_base + m_phys_size) std::memset(bytes(paddr), 0, size);
    for (uint64_t i = 0; i < count; ++i) {
      const uint64_t obj = new_object(type, paddr + (i << bits), bits);
      add_cap(dest, first_slot + i, type, obj, ut);
    }
    m_objects[m_caps[ut].object].watermark = start + size;  // `u` may have moved
    return {};
  }

  Status cnode_copy(uint64_t cnode, uint64_t dest, uint64_t src_cnode, uint64_t src) override {
    TRY(tick());
    const uint64_t to = TRY(cnode_id(cnode));
    const uint64_t from = TRY(cnode_id(src_cnode));
    if (dest == 0 || dest >= slots(to) || src == 0 || src >= slots(from)) return kern::fail(Error::RangeError);
    const int64_t source = TRY(lookup_cap(from, src));
    if (m_slots.contains({to, dest})) return kern::fail(Error::DeleteFirst);
    if (m_caps[source].type == ObjectType::Untyped) return kern::fail(Error::IllegalOperation);
    add_cap(to, dest, m_caps[source].type, m_caps[source].object, source);
    return {};
  }

  Status cnode_delete(uint64_t cnode, uint64_t index) override {
    TRY(tick());
    const uint64_t id = TRY(cnode_id(cnode));
    if (index == 0 || index >= slots(id)) return kern::fail(Error::RangeError);
    auto it = m_slots.find({id, index});
    if (it != m_slots.end()) delete_cap(it->second);
    return {};
  }

  Status cnode_revoke(uint64_t cnode, uint64_t index) override {
    TRY(tick());
    const uint64_t id = TRY(cnode_id(cnode));
    if (index == 0 || index >= slots(id)) return kern::fail(Error::RangeError);
    auto it = m_slots.find({id, index});
    if (it != m_slots.end()) revoke_cap(it->second);
    return {};
  }

  Result<uint64_t> frame_paddr(uint64_t frame) override {
    TRY(tick());
    const int64_t cap = TRY(lookup_cap(kSelfCNodeId, frame));
    if (m_caps[cap].type != ObjectType::Frame) return kern::fail(Error::IllegalOperation);
    return m_objects[m_caps[cap].object].paddr;
  }

  Status set_table_pool(uint64_t vspace, uint64_t untyped) override {
    TRY(tick());
    Object& vs = TRY(vspace_object(vspace));
    const int64_t ut = TRY(lookup_cap(kSelfCNodeId, untyped));
    if (m_caps[ut].type != ObjectType::Untyped) return kern::fail(Error::InvalidCapability);
    if (has_children(ut)) return kern::fail(Error::IllegalOperation);
    if (vs.pool_cap >= 0) return kern::fail(Error::DeleteFirst);
    const Object& u = m_objects[m_caps[ut].object];
    if (u.bits < 12) return kern::fail(Error::InvalidArgument);
    // Moved into the VSpace: out of the CNode, same place in the tree.
    m_slots.erase({m_caps[ut].cnode, m_caps[ut].slot});
    m_caps[ut].cnode = 0;
    m_caps[ut].slot = 0;
    vs.pool_cap = ut;
    vs.table_pages = (uint64_t{1} << u.bits) / kPageSize;
    return {};
  }

  Status map(uint64_t vspace, uint64_t va, uint64_t cnode, uint64_t first, uint64_t count, uint64_t perm) override {
    TRY(tick());
    Object& vs = TRY(vspace_object(vspace));
    const uint64_t from = TRY(cnode_id(cnode));
    if (count == 0 || count > 256) return kern::fail(Error::RangeError);
    std::vector<uint64_t> frames;
    for (uint64_t i = 0; i < count; ++i) {
      if (first + i == 0 || first + i >= slots(from)) return kern::fail(Error::RangeError);
      auto it = m_slots.find({from, first + i});
      if (it == m_slots.end() || m_caps[it->second].type != ObjectType::Frame) {
        return kern::fail(Error::InvalidCapability);
      }
      if (!valid_perm(perm)) return kern::fail(Error::InvalidArgument);
      frames.push_back(m_objects[m_caps[it->second].object].paddr);
    }
    TRY(check_range(va, count * kPageSize));
    for (uint64_t i = 0; i < count; ++i) {
      if (vs.table.contains(va + i * kPageSize)) return kern::fail(Error::DeleteFirst);
    }
    std::vector<uint64_t> pages;
    for (uint64_t i = 0; i < count; ++i) pages.push_back(va + i * kPageSize);
    if (tables_with(vs, pages) > vs.table_pages) return kern::fail(Error::NotEnoughMemory);
    for (uint64_t i = 0; i < count; ++i) {
      vs.table[va + i * kPageSize] = Pte{frames[i], perm, false, (perm & 2) != 0};
      ++m_counts[frames[i]];
      if (&vs == &m_objects[m_self_vspace]) direct_map_page(va + i * kPageSize, frames[i]);
    }
    return {};
  }

  Result<uint64_t> unmap(uint64_t vspace, uint64_t va, uint64_t length) override {
    TRY(tick());
    Object& vs = TRY(vspace_object(vspace));
    TRY(check_range(va, length));
    uint64_t n = 0;
    for (auto it = vs.table.lower_bound(va); it != vs.table.end() && it->first < va + length;) {
      if (&vs == &m_objects[m_self_vspace]) direct_unmap_page(it->first);
      --m_counts[it->second.paddr];
      it = vs.table.erase(it);
      ++n;
    }
    return n;
  }

  Result<uint64_t> protect(uint64_t vspace, uint64_t va, uint64_t length, uint64_t perm) override {
    TRY(tick());
    Object& vs = TRY(vspace_object(vspace));
    if (!valid_perm(perm)) return kern::fail(Error::InvalidArgument);
    TRY(check_range(va, length));
    auto first = vs.table.lower_bound(va), last = vs.table.lower_bound(va + length);
    if (perm & 2) {
      for (auto it = first; it != last; ++it) {
        if (!it->second.may_write) return kern::fail(Error::IllegalOperation);
      }
    }
    uint64_t n = 0;
    for (auto it = first; it != last; ++it, ++n) {
      it->second.perm = perm;
      if (perm & 2) it->second.cow = false;
    }
    return n;
  }

  Result<CopyRangeResult> copy_range(uint64_t src, uint64_t dst, uint64_t va, uint64_t length,
                                     uapi::CopyMode mode) override {
    TRY(tick());
    Object& from = TRY(vspace_object(src));
    Object& to = TRY(vspace_object(dst));
    if (mode != uapi::CopyMode::Cow && mode != uapi::CopyMode::Share) return kern::fail(Error::InvalidArgument);
    TRY(check_range(va, length));
    if (&from == &to) return kern::fail(Error::InvalidArgument);
    auto first = from.table.lower_bound(va), last = from.table.lower_bound(va + length);
    if (to.table.lower_bound(va) != to.table.lower_bound(va + length)) return kern::fail(Error::DeleteFirst);
    std::vector<uint64_t> pages;
    for (auto it = first; it != last; ++it) pages.push_back(it->first);
    if (tables_with(to, pages) > to.table_pages) return kern::fail(Error::NotEnoughMemory);
    CopyRangeResult result;
    for (auto it = first; it != last; ++it) {
      if (mode == uapi::CopyMode::Cow && (it->second.perm & 2)) {
        it->second.perm &= ~uint64_t{2};
        it->second.cow = true;
        ++result.made_cow;
      }
      to.table[it->first] = it->second;
      ++m_counts[it->second.paddr];
      ++result.mapped;
    }
    return result;
  }

  Result<RawPageInfo> lookup(uint64_t vspace, uint64_t va) override {
    TRY(tick());
    Object& vs = TRY(vspace_object(vspace));
    if (va >= kUserTop) return kern::fail(Error::FailedLookup);
    auto it = vs.table.find(kern::align_down(va, kPageSize));
    if (it == vs.table.end()) return kern::fail(Error::FailedLookup);
    return RawPageInfo{it->second.paddr, it->second.perm, it->second.cow, m_counts[it->second.paddr]};
  }

  Result<uint64_t> copy_page(uint64_t vspace, uint64_t va, uint64_t frame, uint64_t perm) override {
    TRY(tick());
    Object& vs = TRY(vspace_object(vspace));
    const int64_t cap = TRY(lookup_cap(kSelfCNodeId, frame));
    if (m_caps[cap].type != ObjectType::Frame) return kern::fail(Error::InvalidCapability);
    if (!valid_perm(perm)) return kern::fail(Error::InvalidArgument);
    if (!kern::is_aligned(va, kPageSize)) return kern::fail(Error::AlignmentError);
    auto it = vs.table.find(va);
    if (va >= kUserTop || it == vs.table.end()) return kern::fail(Error::FailedLookup);
    const uint64_t paddr = m_objects[m_caps[cap].object].paddr;
    if (it->second.paddr == paddr) return kern::fail(Error::InvalidArgument);
    const uint64_t old = it->second.paddr;
    std::memcpy(bytes(paddr), bytes(old), kPageSize);
    --m_counts[old];
    ++m_counts[paddr];
    it->second = Pte{paddr, perm, false, (perm & 2) != 0};
    return old;
  }

  Result<RawScan> scan(uint64_t vspace, uint64_t va, uint64_t length, uint64_t flags, uint64_t threshold,
                       std::span<uint64_t, kScanMaxReport> out) override {
    TRY(tick());
    Object& vs = TRY(vspace_object(vspace));
    if ((flags & ~(kScanUnmap | kScanReportAddresses)) != 0) return kern::fail(Error::InvalidArgument);
    TRY(check_range(va, length));
    ++m_scans;
    RawScan r{va + length, 0, 0};
    for (auto it = vs.table.lower_bound(va); it != vs.table.end() && it->first < va + length;) {
      const uint64_t page = it->first;
      const uint64_t paddr = it->second.paddr;
      if (flags & kScanUnmap) {
        if (&vs == &m_objects[m_self_vspace]) direct_unmap_page(page);
        --m_counts[paddr];
        it = vs.table.erase(it);
      } else {
        ++it;
      }
      ++r.visited;
      if (m_counts[paddr] <= threshold) {
        out[r.count++] = (flags & kScanReportAddresses) ? page : paddr;
        if (r.count == kScanMaxReport) {
          r.next = page + kPageSize;
          break;
        }
      }
    }
    return r;
  }
  uint64_t scans() const { return m_scans; }

  // ---- The processes' view and the tests' probes ----

  // The pager's direct map: kDirectMapVa in its VSpace is this pointer.
  uint8_t* direct_map() { return m_window; }
  // Physical memory, as the kernel sees it.
  uint8_t* bytes(uint64_t paddr) { return m_memory + (paddr - m_phys_base); }

  // The VSpace object a cap in the pager's CNode names (for read/write).
  const Pte* find_pte(uint64_t vspace_slot, uint64_t va) {
    auto vs = vspace_object(vspace_slot);
    if (!vs) return nullptr;
    auto it = vs->get().table.find(kern::align_down(va, kPageSize));
    return it == vs->get().table.end() ? nullptr : &it->second;
  }
  std::optional<uint8_t> read(uint64_t vspace_slot, uint64_t va) {
    const Pte* pte = find_pte(vspace_slot, va);
    if (pte == nullptr || !(pte->perm & 1)) return std::nullopt;
    return bytes(pte->paddr)[va % kPageSize];
  }
  bool write(uint64_t vspace_slot, uint64_t va, uint8_t value) {
    const Pte* pte = find_pte(vspace_slot, va);
    if (pte == nullptr || !(pte->perm & 2)) return false;
    bytes(pte->paddr)[va % kPageSize] = value;
    return true;
  }
  bool executable(uint64_t vspace_slot, uint64_t va) {
    const Pte* pte = find_pte(vspace_slot, va);
    return pte != nullptr && (pte->perm & 4);
  }
  size_t mapped_pages(uint64_t vspace_slot) {
    auto vs = vspace_object(vspace_slot);
    return vs ? vs->get().table.size() : 0;
  }
  uint64_t map_count(uint64_t paddr) const {
    auto it = m_counts.find(paddr);
    return it == m_counts.end() ? 0 : it->second;
  }
  // The type of the cap in mailbox slot `index` (Null if empty), and the
  // object it names (to compare with the pager's own caps).
  ObjectType mailbox_type(uint64_t index) const { return slot_type(kMailboxCNodeId, index); }
  ObjectType slot_type(uint64_t cnode, uint64_t index) const {
    auto it = m_slots.find({cnode, index});
    return it == m_slots.end() ? ObjectType::Null : m_caps[it->second].type;
  }
  bool same_object(uint64_t cnode_a, uint64_t a, uint64_t cnode_b, uint64_t b) const {
    auto x = m_slots.find({cnode_a, a}), y = m_slots.find({cnode_b, b});
    return x != m_slots.end() && y != m_slots.end() && m_caps[x->second].object == m_caps[y->second].object;
  }
  // procmgr taking the caps out of the mailbox: moved into a CNode of its
  // own (still descendants of the pager's caps).
  void take_mailbox() {
    for (uint64_t i = 1; i < 4; ++i) {
      auto it = m_slots.find({kMailboxCNodeId, i});
      if (it == m_slots.end()) continue;
      const int64_t cap = it->second;
      m_slots.erase(it);
      m_caps[cap].cnode = kProcmgrCNodeId;
      m_caps[cap].slot = m_next_procmgr_slot++;
      m_slots[{kProcmgrCNodeId, m_caps[cap].slot}] = cap;
    }
  }
  size_t live_objects(ObjectType type) const {
    size_t n = 0;
    for (const Object& o : m_objects) n += o.alive && o.type == type;
    return n;
  }
  size_t procmgr_caps() const {
    size_t n = 0;
    for (const auto& [key, cap] : m_slots) n += key.first == kProcmgrCNodeId;
    return n;
  }
  // The invocation `n` from now (1 = the next) fails with `error`; 0 = none.
  void fail_in(uint64_t n, Error error = Error::NotEnoughMemory) {
    m_fail_in = n;
    m_fail_error = error;
  }
  uint64_t invocations() const { return m_invocations; }
  const std::vector<std::string>& problems() const { return m_problems; }

 private:
  static constexpr uint64_t kProcmgrCNodeId = 3;

  struct Object {
    ObjectType type = ObjectType::Null;
    uint64_t paddr = 0;
    uint64_t bits = 0;
    bool alive = true;
    uint64_t watermark = 0;           // Untyped
    std::map<uint64_t, Pte> table;     // VSpace
    uint64_t table_pages = 0;          // VSpace: pool pages (0 = no pool)
    int64_t pool_cap = -1;             // VSpace: the moved Untyped's cap
  };
  struct Cap {
    uint64_t cnode = 0;
    uint64_t slot = 0;
    ObjectType type = ObjectType::Null;
    uint64_t object = 0;
    int64_t parent = -1;
    bool alive = true;
  };

  static uint8_t* map_or_abort(void* at, uint64_t size, int prot, int flags, int fd, uint64_t offset) {
    void* p = mmap(at, size, prot, flags, fd, off_t(offset));
    if (p == MAP_FAILED) std::abort();
    return static_cast<uint8_t*>(p);
  }
  // The pager's direct map follows its VSpace's mappings in the window.
  void direct_map_page(uint64_t va, uint64_t paddr) {
    if (va < kDirectMapVa || va - kDirectMapVa >= m_window_size) return;
    map_or_abort(m_window + (va - kDirectMapVa), kPageSize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, m_fd,
                 paddr - m_phys_base);
  }
  void direct_unmap_page(uint64_t va) {
    if (va < kDirectMapVa || va - kDirectMapVa >= m_window_size) return;
    map_or_abort(m_window + (va - kDirectMapVa), kPageSize, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
  }

  Status tick() {
    ++m_invocations;
    if (m_fail_in > 0 && --m_fail_in == 0) return kern::fail(m_fail_error);
    return {};
  }
  void problem(const std::string& what) {
    m_problems.push_back(what);
    ADD_FAILURE() << "fake kernel: " << what;
  }

  uint64_t new_object(ObjectType type, uint64_t paddr, uint64_t bits) {
    Object object;
    object.type = type;
    object.paddr = paddr;
    object.bits = bits;
    m_objects.push_back(std::move(object));
    return m_objects.size() - 1;
  }
  int64_t add_cap(uint64_t cnode, uint64_t slot, ObjectType type, uint64_t object, int64_t parent) {
    Cap cap;
    cap.cnode = cnode;
    cap.slot = slot;
    cap.type = type;
    cap.object = object;
    cap.parent = parent;
    m_caps.push_back(cap);
    const int64_t id = int64_t(m_caps.size() - 1);
    m_slots[{cnode, slot}] = id;
    return id;
  }
  uint64_t slots(uint64_t cnode) const {
    if (cnode == kSelfCNodeId) return uint64_t{1} << m_radix;
    if (cnode == kMailboxCNodeId) return 4;
    return ~uint64_t{0};
  }
  Result<int64_t> lookup_cap(uint64_t cnode, uint64_t slot) const {
    if (slot == 0 || slot >= slots(cnode)) return kern::fail(Error::RangeError);
    auto it = m_slots.find({cnode, slot});
    if (it == m_slots.end()) return kern::fail(Error::FailedLookup);
    return it->second;
  }
  Result<uint64_t> cnode_id(uint64_t slot) const {
    const int64_t cap = TRY(lookup_cap(kSelfCNodeId, slot));
    if (m_caps[cap].type != ObjectType::CNode) return kern::fail(Error::InvalidCapability);
    return m_caps[cap].object;
  }
  Result<std::reference_wrapper<Object>> vspace_object(uint64_t slot) {
    const int64_t cap = TRY(lookup_cap(kSelfCNodeId, slot));
    if (m_caps[cap].type != ObjectType::VSpace) return kern::fail(Error::InvalidCapability);
    return std::ref(m_objects[m_caps[cap].object]);
  }
  bool has_children(int64_t cap) const {
    for (const Cap& c : m_caps) {
      if (c.alive && c.parent == cap) return true;
    }
    return false;
  }
  static bool valid_perm(uint64_t perm) { return perm != 0 && perm <= 7 && perm != 2 && perm != 6; }
  static Status check_range(uint64_t va, uint64_t length) {
    if (!kern::is_aligned(va, kPageSize) || !kern::is_aligned(length, kPageSize)) {
      return kern::fail(Error::AlignmentError);
    }
    if (length == 0 || va >= kUserTop || length > kUserTop - va) return kern::fail(Error::RangeError);
    return {};
  }
  // Page tables (level 1 and level 0; the root is the VSpace itself) that
  // the mappings would need with `pages` added.
  static uint64_t tables_with(const Object& vs, const std::vector<uint64_t>& pages) {
    std::set<uint64_t> l1, l0;
    for (const auto& [va, pte] : vs.table) l1.insert(va >> 30), l0.insert(va >> 21);
    for (uint64_t va : pages) l1.insert(va >> 30), l0.insert(va >> 21);
    return l1.size() + l0.size();
  }

  void delete_cap(int64_t cap) {
    Cap& c = m_caps[cap];
    if (!c.alive) return;
    c.alive = false;
    if (c.slot != 0) m_slots.erase({c.cnode, c.slot});
    for (Cap& child : m_caps) {
      if (child.alive && child.parent == cap) child.parent = c.parent;
    }
    bool last = true;
    for (const Cap& other : m_caps) last &= !(other.alive && other.object == c.object && other.type == c.type);
    if (last && c.type != ObjectType::CNode) destroy(c.object);
  }
  void revoke_cap(int64_t cap) {
    for (bool found = true; found;) {
      found = false;
      for (size_t i = 0; i < m_caps.size(); ++i) {
        if (m_caps[i].alive && descends_from(int64_t(i), cap)) {
          delete_cap(int64_t(i));
          found = true;
        }
      }
    }
  }
  bool descends_from(int64_t cap, int64_t ancestor) const {
    for (int64_t p = m_caps[cap].parent; p >= 0; p = m_caps[p].parent) {
      if (p == ancestor) return true;
    }
    return false;
  }
  void destroy(uint64_t object) {
    Object& o = m_objects[object];
    o.alive = false;
    if (o.type == ObjectType::VSpace) {
      for (const auto& [va, pte] : o.table) --m_counts[pte.paddr];
      o.table.clear();
      if (o.pool_cap >= 0) delete_cap(o.pool_cap);
      o.pool_cap = -1;
    }
    if (o.type == ObjectType::Frame && map_count(o.paddr) > 0) {
      // Not an error in the real kernel, but the memory can then never be
      // handed out again; the pager must never do it.
      problem("a mapped frame was destroyed");
    }
  }

  uint64_t m_radix;
  uint64_t m_scans = 0;
  uint64_t m_phys_base = 0;     // lowest pool address
  uint64_t m_phys_size = 0;     // up to the end of the highest pool
  int m_fd = -1;                // the physical memory
  uint8_t* m_memory = nullptr;  // all of it, by physical address
  uint8_t* m_window = nullptr;  // the pager's direct map
  uint64_t m_window_size = 0;   // the pools' total size
  uint64_t m_self_vspace;
  std::vector<Object> m_objects;
  std::vector<Cap> m_caps;
  std::map<std::pair<uint64_t, uint64_t>, int64_t> m_slots;  // (cnode, slot) -> cap
  std::map<uint64_t, uint64_t> m_counts;                      // paddr -> mappings
  uint64_t m_next_procmgr_slot = 1;
  uint64_t m_fail_in = 0;
  Error m_fail_error = Error::NotEnoughMemory;
  uint64_t m_invocations = 0;
  std::vector<std::string> m_problems;
};

}  // namespace pager::testing_support
