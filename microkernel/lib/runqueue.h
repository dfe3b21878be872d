// The scheduler's run queue: 256 priorities (255 highest), round robin
// within a priority. One intrusive FIFO list per priority and a two-level
// bitmap of non-empty priorities, so picking the next thread is two
// count-leading-zeros, whatever the number of threads. Threads embed a
// RunLink; the queue allocates nothing.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kern {

inline constexpr unsigned kPriorities = 256;

struct RunLink {
  RunLink* next = nullptr;
  RunLink* prev = nullptr;
  uint8_t priority = 0;
  bool queued = false;
};

class RunQueue {
 public:
  // Append at the tail of its priority (round robin). Precondition: not queued.
  void enqueue(RunLink& link);
  // Put at the head of its priority (a preempted thread keeps its turn).
  void enqueue_front(RunLink& link);
  // Remove if queued; a no-op otherwise.
  void remove(RunLink& link);
  // The head of the highest non-empty priority, not removed; null if empty.
  RunLink* peek_highest() const;
  // Highest priority with a queued thread, or -1.
  int highest_priority() const;
  bool empty() const { return m_top == 0; }
  // For tests: the bitmaps agree with the lists, links are consistent.
  bool check_invariants() const;

 private:
  struct List {
    RunLink* head = nullptr;
    RunLink* tail = nullptr;
  };
  List m_lists[kPriorities];
  uint64_t m_bitmap[kPriorities / 64] = {};
  uint64_t m_top = 0;  // bit i set: m_bitmap[i] != 0
};

}  // namespace kern
