#include "resources.h"

#include "os/kernel.h"
#include "os/print.h"

namespace procmgr {

using uapi::ObjectType;
using uapi::Rights;

namespace {

Slots g_slots;
HeapPages g_heap;
uint64_t g_untyped = 0;

const char* error_text(uapi::Error e) { return kern::error_name(static_cast<kern::Error>(e)); }

template <typename T>
kern::Status kstatus(const os::Result<T>& s) {
  if (!s) return kern::fail(static_cast<kern::Error>(s.error()));
  return {};
}

SlotStack g_free_chunks;
SlotStack g_free_replies;

}  // namespace

Slots& slots() { return g_slots; }
HeapPages& heap() { return g_heap; }
void set_untyped(uint64_t untyped) { g_untyped = untyped; }
uint64_t untyped() { return g_untyped; }

void Slots::init(uint64_t first_free, uint64_t limit) {
  m_limit = limit < kMax ? limit : kMax;
  for (uint64_t s = 0; s < first_free && s < m_limit; ++s) m_used[s / 64] |= uint64_t{1} << (s % 64);
  m_hint = first_free;
}

uint64_t Slots::take() {
  for (uint64_t n = 0; n < m_limit; ++n) {
    const uint64_t s = (m_hint + n) % m_limit;
    if (s == 0) continue;
    const uint64_t bit = uint64_t{1} << (s % 64);
    if ((m_used[s / 64] & bit) == 0) {
      m_used[s / 64] |= bit;
      m_hint = s + 1;
      return s;
    }
  }
  return 0;
}

uint64_t Slots::take_run(uint64_t count) {
  uint64_t run = 0;
  for (uint64_t s = 1; s < m_limit; ++s) {
    run = (m_used[s / 64] & (uint64_t{1} << (s % 64))) ? 0 : run + 1;
    if (run == count) {
      for (uint64_t t = s + 1 - count; t <= s; ++t) m_used[t / 64] |= uint64_t{1} << (t % 64);
      return s + 1 - count;
    }
  }
  return 0;
}

void Slots::give(uint64_t slot) {
  if (slot == 0 || slot >= m_limit) return;
  m_used[slot / 64] &= ~(uint64_t{1} << (slot % 64));
  if (slot < m_hint) m_hint = slot;
}

uint64_t make(ObjectType type, uint64_t size_bits, uint64_t count, const char* what) {
  const uint64_t first = count == 1 ? g_slots.take() : g_slots.take_run(count);
  if (first == 0) {
    os::print("procmgr: {}: out of slots\n", what);
    return 0;
  }
  const os::Status s = os::retype(g_untyped, type, size_bits, count, kRoot, first);
  if (!s) {
    os::print("procmgr: {}: retype failed: {}\n", what, error_text(s.error()));
    for (uint64_t i = 0; i < count; ++i) g_slots.give(first + i);
    return 0;
  }
  return first;
}

kern::Status grow_cspace(const uapi::BootInfo& info, uint64_t untyped) {
  const uint64_t old_limit = uint64_t{1} << info.root_cnode_radix;
  g_slots.init(info.first_free_slot, old_limit);
  g_untyped = untyped;
  // The new CNode and a spare slot for a cap to the old one, both in the old
  // CNode for now; then every used slot moves to the same index in the new.
  const uint64_t fresh = g_slots.take();
  const uint64_t old_self = g_slots.take();
  if (old_self == 0) return kern::fail(kern::Error::RangeError);
  TRY(kstatus(os::retype(untyped, ObjectType::CNode, kCSpaceRadix, 1, kRoot, fresh)));
  // The boot info promises the slots from first_free_slot on are empty
  // (fresh and old_self are among them).
  for (uint64_t s = 2; s < info.first_free_slot; ++s) {
    if (s == kRootTcb) continue;
    const os::Status moved = os::cnode_move(fresh, s, kRoot, s);
    if (!moved && moved.error() != uapi::Error::FailedLookup) return kstatus(moved);
  }
  // new[1]: the new CNode itself; new[old_self]: the old one, to finish.
  TRY(kstatus(os::cnode_copy(fresh, kRoot, kRoot, fresh, Rights::All)));
  TRY(kstatus(os::cnode_copy(fresh, old_self, kRoot, kRoot, Rights::All)));
  TRY(kstatus(os::invoke(kRootTcb, uapi::Label::TcbConfigure, {}, {fresh})));
  // From here cptrs name slots of the new CNode.
  TRY(kstatus(os::cnode_move(kRoot, kRootTcb, old_self, kRootTcb)));
  // Empty the old CNode (its self cap and the new CNode's original cap) and
  // drop the last cap to it, so it is destroyed rather than leaked.
  TRY(kstatus(os::cnode_move(kRoot, fresh, old_self, fresh)));
  TRY(kstatus(os::cnode_delete(old_self, kRoot)));
  TRY(kstatus(os::cnode_delete(kRoot, old_self)));
  // In use now: what the old CNode had, and `fresh` (the new CNode's own
  // cap), which take() handed out first.
  static_assert(kCSpaceRadix <= 20);
  g_slots.init(fresh + 1, uint64_t{1} << kCSpaceRadix);
  g_slots.give(old_self);
  return {};
}

kern::Result<void*> HeapPages::alloc_page() {
  if (m_free != nullptr) {
    FreePage* page = m_free;
    m_free = page->next;
    return static_cast<void*>(page);
  }
  const uint64_t frame = make(ObjectType::Frame, 0, 1, "heap page");
  if (frame == 0) return kern::fail(kern::Error::NotEnoughMemory);
  const uint64_t va = kHeapVa + m_mapped * kPage;
  const uint64_t rw = uint64_t(uapi::MapPerm::Read) | uint64_t(uapi::MapPerm::Write);
  if (!os::vspace_map(kRootVSpace, va, kRoot, frame, 1, rw)) return kern::fail(kern::Error::NotEnoughMemory);
  ++m_mapped;
  return reinterpret_cast<void*>(va);
}

void HeapPages::free_page(void* page) {
  auto* p = static_cast<FreePage*>(page);
  p->next = m_free;
  m_free = p;
}

void SlotStack::push(uint64_t slot) {
  if (m_top == nullptr || m_top->count == sizeof(m_top->slots) / 8) {
    auto page = g_heap.alloc_page();
    if (!page) {
      // Nowhere to remember it: the object stays carved, unused. Only when
      // procmgr's own memory is exhausted.
      os::print("procmgr: out of memory for a free list\n");
      return;
    }
    auto* p = static_cast<Page*>(*page);
    p->next = m_top;
    p->count = 0;
    m_top = p;
  }
  m_top->slots[m_top->count++] = slot;
}

uint64_t SlotStack::pop() {
  while (m_top != nullptr && m_top->count == 0) {
    Page* empty = m_top;
    m_top = empty->next;
    g_heap.free_page(empty);
  }
  return m_top != nullptr ? m_top->slots[--m_top->count] : 0;
}

uint64_t take_chunk() {
  const uint64_t chunk = g_free_chunks.pop();
  return chunk != 0 ? chunk : make(ObjectType::Untyped, kChunkBits, 1, "process chunk");
}

void give_chunk(uint64_t chunk) {
  if (chunk == 0) return;
  (void)os::cnode_revoke(kRoot, chunk);
  g_free_chunks.push(chunk);
}

uint64_t take_reply() {
  const uint64_t reply = g_free_replies.pop();
  return reply != 0 ? reply : make(ObjectType::Reply, 0, 1, "reply object");
}

void give_reply(uint64_t reply) {
  if (reply != 0) g_free_replies.push(reply);
}

}  // namespace procmgr
