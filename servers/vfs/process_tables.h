// The descriptor table of each process vfs knows, by pid: a small chained
// hash table whose nodes come from the server's Heap, so its memory shows
// in the leak tests like everything else. Pids are whatever procmgr says
// (positive, below msg::kServerBit); the table does not interpret them.
#pragma once

#include <cstddef>
#include <cstdint>

#include "errno.h"
#include "files.h"
#include "heap.h"

namespace vfs {

class ProcessTables {
 public:
  explicit ProcessTables(Heap& heap) : m_heap(heap) {}
  ProcessTables(const ProcessTables&) = delete;
  ProcessTables& operator=(const ProcessTables&) = delete;

  // The table of `pid`, or null.
  FdTable* find(uint64_t pid) const {
    for (Node* n = m_buckets[bucket(pid)]; n != nullptr; n = n->next)
      if (n->pid == pid) return n->table;
    return nullptr;
  }

  // Record `table` as pid's; the caller checked that pid has none.
  // NoMemory, and then nothing changed.
  Status insert(uint64_t pid, FdTable* table) {
    auto node = m_heap.make<Node>();
    if (!node) return fail(to_errno(node.error()));
    Node*& head = m_buckets[bucket(pid)];
    **node = Node{head, pid, table};
    head = *node;
    ++m_count;
    return {};
  }

  // Forget pid's table and return it (null if there was none).
  FdTable* remove(uint64_t pid) {
    for (Node** link = &m_buckets[bucket(pid)]; *link != nullptr; link = &(*link)->next) {
      Node* n = *link;
      if (n->pid != pid) continue;
      FdTable* table = n->table;
      *link = n->next;
      m_heap.destroy(n);
      --m_count;
      return table;
    }
    return nullptr;
  }

  // Forget some table and return it, null when there are none (to free
  // them all).
  FdTable* remove_any() {
    for (Node* head : m_buckets)
      if (head != nullptr) return remove(head->pid);
    return nullptr;
  }

  size_t count() const { return m_count; }

 private:
  struct Node {
    Node* next;
    uint64_t pid;
    FdTable* table;
  };
  static constexpr size_t kBuckets = 64;
  static size_t bucket(uint64_t pid) { return pid % kBuckets; }

  Heap& m_heap;
  Node* m_buckets[kBuckets] = {};
  size_t m_count = 0;
};

}  // namespace vfs
