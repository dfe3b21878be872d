// procmgr's own resources: the slots of its CSpace, the pages of its heap
// and the small Untyped chunks each process's kernel objects are carved from.
//
// Untyped memory can be carved again only once everything made from it is
// gone (docs/kernel.md §7.1), so per-process objects do not come straight
// from procmgr's big Untyped: that would leak a little with every process.
// Each process gets a chunk, an Untyped of kChunkBits carved once, holding
// its TCB and its CNode; at exit the chunk is revoked and goes back to a free
// list, whole. Heap pages are recycled the same way through a free list.
#pragma once

#include <cstdint>

#include "abi/abi.h"
#include "common/page_source.h"
#include "lib/result.h"
#include "os/boot_info.h"

namespace procmgr {

inline constexpr uint64_t kRoot = static_cast<uint64_t>(uapi::BootSlot::RootCNode);
inline constexpr uint64_t kRootVSpace = static_cast<uint64_t>(uapi::BootSlot::RootVSpace);
inline constexpr uint64_t kRootTcb = static_cast<uint64_t>(uapi::BootSlot::RootTcb);
inline constexpr uint64_t kPage = 4096;

// procmgr's CSpace after grow_cspace(): 2^16 slots (2 MiB), so the number of
// processes is bounded by memory, not by the kernel's 4096-slot root CNode.
inline constexpr uint64_t kCSpaceRadix = 16;

// Free slots of procmgr's root CNode, a bitmap.
class Slots {
 public:
  void init(uint64_t first_free, uint64_t limit);
  // A free slot, 0 when none is left.
  uint64_t take();
  // `count` consecutive free slots at the end of the used range, 0 if none.
  uint64_t take_run(uint64_t count);
  void give(uint64_t slot);

 private:
  static constexpr uint64_t kMax = uint64_t{1} << kCSpaceRadix;
  uint64_t m_used[kMax / 64] = {};
  uint64_t m_limit = 0;
  uint64_t m_hint = 0;
};
Slots& slots();

// Replaces the kernel-made root CNode (radix 12) by one of kCSpaceRadix with
// every cap at the same index, carved from `untyped`. Returns the kernel error
// of the step that failed.
kern::Status grow_cspace(const uapi::BootInfo& info, uint64_t untyped);

// Objects carved straight from procmgr's Untyped into fresh slots (for
// things that live as long as the system: servers, endpoints, the heap).
uint64_t make(uapi::ObjectType type, uint64_t size_bits, uint64_t count, const char* what);
void set_untyped(uint64_t untyped);
uint64_t untyped();

// procmgr's heap: pages mapped at kHeapVa upward, recycled through a free
// list.
class HeapPages final : public servers::PageSource {
 public:
  kern::Result<void*> alloc_page() override;
  void free_page(void* page) override;
  uint64_t pages_mapped() const { return m_mapped; }

 private:
  static constexpr uint64_t kHeapVa = 0x5000'0000;
  struct FreePage {
    FreePage* next;
  };
  FreePage* m_free = nullptr;
  uint64_t m_mapped = 0;
};
HeapPages& heap();

// A stack of slots (free chunks, free Reply objects), kept in heap pages.
class SlotStack {
 public:
  void push(uint64_t slot);
  uint64_t pop();  // 0 when empty

 private:
  struct Page {
    Page* next;
    uint64_t count;
    uint64_t slots[kPage / 8 - 2];
  };
  Page* m_top = nullptr;
};

// Reply objects, for callers procmgr answers later (wait). 0 when memory ran
// out.
uint64_t take_reply();
void give_reply(uint64_t reply);

// The per-process chunks: kChunkBits bytes, room for a TCB (2^10) and a CNode
// of kProcessCNodeRadix (2^9).
inline constexpr uint64_t kChunkBits = 11;
// A chunk's slot, 0 when memory ran out.
uint64_t take_chunk();
// Revokes the chunk (destroying what was carved from it) and keeps it.
void give_chunk(uint64_t chunk);

}  // namespace procmgr
