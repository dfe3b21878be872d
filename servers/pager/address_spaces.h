// The pager's table of address spaces: a small positive id (never 0, the
// lowest free one, reused after release) for each, as procmgr and the
// fault badges (kFaultBit | id) name them. An entry holds what the pager
// needs to run and tear down one address space: the chunk its VSpace and
// page tables live in, the VSpace cap, the region set, the policy it runs
// under (per address space, so it can be switched at run time) and its IPC
// buffer frame. The table only stores them; server.cc fills and empties
// them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>

#include "common/page_source.h"
#include "kernel_ops.h"
#include "policy.h"
#include "regions.h"

namespace pager {

inline constexpr uint64_t kNoChunk = ~uint64_t{0};

struct AddressSpace {
  explicit AddressSpace(uint64_t space_id, servers::PageSource& pages) : id(space_id), regions(pages) {}

  uint64_t id;
  uint64_t chunk = kNoChunk;   // MemoryPool chunk of the VSpace; kNoChunk until it has one
  VSpaceRef vspace;            // slot of the VSpace cap; handle 0 until it has one
  FrameRef ipc_frame;          // the IPC buffer; handle 0 until it has one
  const Policy* policy = nullptr;
  RegionSet regions;
};

class SpaceTable {
 public:
  static constexpr uint64_t kMaxSpaces = 512;

  explicit SpaceTable(servers::PageSource& pages) : m_pages(&pages) {}
  SpaceTable(const SpaceTable&) = delete;
  SpaceTable& operator=(const SpaceTable&) = delete;

  // A new entry with the lowest free id and an empty region set; nullptr
  // when all kMaxSpaces ids are taken.
  AddressSpace* create() {
    for (uint64_t id = 1; id <= kMaxSpaces; ++id) {
      if (m_used[id]) continue;
      m_used[id] = true;
      ++m_count;
      return new (slot(id)) AddressSpace(id, *m_pages);
    }
    return nullptr;
  }

  // The entry of `id`, or nullptr for an id not in use (0, out of range,
  // released).
  AddressSpace* find(uint64_t id) {
    if (id == 0 || id > kMaxSpaces || !m_used[id]) return nullptr;
    return std::launder(reinterpret_cast<AddressSpace*>(slot(id)));
  }

  // Ends the entry (its region set gives its storage back) and frees the id.
  void destroy(uint64_t id) {
    AddressSpace* space = find(id);
    if (space == nullptr) return;
    space->~AddressSpace();
    m_used[id] = false;
    --m_count;
  }

  size_t count() const { return m_count; }

 private:
  void* slot(uint64_t id) { return &m_storage[(id - 1) * sizeof(AddressSpace)]; }

  servers::PageSource* m_pages;
  size_t m_count = 0;
  bool m_used[kMaxSpaces + 1] = {};
  alignas(AddressSpace) unsigned char m_storage[kMaxSpaces * sizeof(AddressSpace)];
};

}  // namespace pager
