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

// --- implementation (inline: the scheduler's hot path) ----------------------
//
// One doubly linked FIFO per priority, threaded through the RunLink each
// thread embeds, and a two-level bitmap of non-empty lists: bit p % 64 of
// m_bitmap[p / 64] is set while priority p has a queued link, and bit w of
// m_top while m_bitmap[w] is non-zero. The highest priority is the highest
// set bit of m_top, then of the word it names. Every operation is O(1).
// A link records its own priority and whether it is queued, so remove()
// needs no search and ignores a link that is not queued. The priority must
// not change while the link is queued: remove it, change it, enqueue it.

namespace runqueue_detail {

inline constexpr unsigned kBitsPerWord = 64;
inline constexpr unsigned kWords = kPriorities / kBitsPerWord;
static_assert(kPriorities % kBitsPerWord == 0 && kWords <= kBitsPerWord,
              "m_top must have one bit for every bitmap word");

// Index of the highest set bit; `word` must be non-zero. A binary search
// rather than std::countl_zero: rv64gc has no count-leading-zeros
// instruction (that is Zbb), and libgcc's generic __clzdi2 cost ~40
// instructions on the scheduler's every decision.
inline constexpr unsigned highest_bit(uint64_t word) {
  unsigned index = 0;
  if (word >> 32) { word >>= 32; index += 32; }
  if (word >> 16) { word >>= 16; index += 16; }
  if (word >> 8) { word >>= 8; index += 8; }
  if (word >> 4) { word >>= 4; index += 4; }
  if (word >> 2) { word >>= 2; index += 2; }
  if (word >> 1) { index += 1; }
  return index;
}
static_assert(highest_bit(1) == 0 && highest_bit(0x8000'0000'0000'0000) == 63 && highest_bit(0x1234) == 12);

// m_top has one bit per bitmap word: four bits, looked up directly.
inline constexpr uint8_t kHighestOfNibble[16] = {0, 0, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3};
static_assert(kWords <= 4, "m_top fits the nibble table");

inline constexpr uint64_t bit(unsigned index) { return uint64_t{1} << index; }

}  // namespace runqueue_detail

// Precondition: `link` is not queued. Breaking it would corrupt two lists,
// so a queued link is left where it is rather than linked a second time.
inline void RunQueue::enqueue(RunLink& link) {
  if (link.queued) return;
  unsigned priority = link.priority;
  List& list = m_lists[priority];
  link.next = nullptr;
  link.prev = list.tail;
  if (list.tail != nullptr) {
    list.tail->next = &link;
  } else {
    list.head = &link;
  }
  list.tail = &link;
  link.queued = true;
  m_bitmap[priority / runqueue_detail::kBitsPerWord] |= runqueue_detail::bit(priority % runqueue_detail::kBitsPerWord);
  m_top |= runqueue_detail::bit(priority / runqueue_detail::kBitsPerWord);
}

// Same precondition and same defence as enqueue().
inline void RunQueue::enqueue_front(RunLink& link) {
  if (link.queued) return;
  unsigned priority = link.priority;
  List& list = m_lists[priority];
  link.prev = nullptr;
  link.next = list.head;
  if (list.head != nullptr) {
    list.head->prev = &link;
  } else {
    list.tail = &link;
  }
  list.head = &link;
  link.queued = true;
  m_bitmap[priority / runqueue_detail::kBitsPerWord] |= runqueue_detail::bit(priority % runqueue_detail::kBitsPerWord);
  m_top |= runqueue_detail::bit(priority / runqueue_detail::kBitsPerWord);
}

inline void RunQueue::remove(RunLink& link) {
  if (!link.queued) return;
  unsigned priority = link.priority;
  List& list = m_lists[priority];
  if (link.prev != nullptr) {
    link.prev->next = link.next;
  } else {
    list.head = link.next;
  }
  if (link.next != nullptr) {
    link.next->prev = link.prev;
  } else {
    list.tail = link.prev;
  }
  link.next = nullptr;
  link.prev = nullptr;
  link.queued = false;
  if (list.head == nullptr) {
    uint64_t& word = m_bitmap[priority / runqueue_detail::kBitsPerWord];
    word &= ~runqueue_detail::bit(priority % runqueue_detail::kBitsPerWord);
    if (word == 0) m_top &= ~runqueue_detail::bit(priority / runqueue_detail::kBitsPerWord);
  }
}

inline int RunQueue::highest_priority() const {
  if (m_top == 0) return -1;
  unsigned word_index = runqueue_detail::kHighestOfNibble[m_top];
  return static_cast<int>(word_index * runqueue_detail::kBitsPerWord + runqueue_detail::highest_bit(m_bitmap[word_index]));
}

inline RunLink* RunQueue::peek_highest() const {
  int priority = highest_priority();
  return priority < 0 ? nullptr : m_lists[priority].head;
}

}  // namespace kern
