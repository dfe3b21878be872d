// The run queue keeps one doubly linked FIFO per priority, threaded through
// the RunLink that each thread embeds, and a two-level bitmap that says which
// lists are non-empty: bit p % 64 of m_bitmap[p / 64] is set while priority p
// has a queued link, and bit w of m_top is set while m_bitmap[w] is non-zero.
// The highest priority is then the highest set bit of m_top, followed by the
// highest set bit of the word it names: two count-leading-zeros, however many
// threads are queued. Every operation is O(1) and allocates nothing.
//
// A link records its own priority and whether it is queued, so remove() needs
// no search and can ignore a link that is not on the queue. The priority must
// not change while the link is queued: remove() finds the list through it.
// To change a queued thread's priority, remove it, change it, enqueue it.
#include "runqueue.h"

#include <bit>

namespace kern {

namespace {

constexpr unsigned kBitsPerWord = 64;
constexpr unsigned kWords = kPriorities / kBitsPerWord;
static_assert(kPriorities % kBitsPerWord == 0 && kWords <= kBitsPerWord,
              "m_top must have one bit for every bitmap word");

// Index of the highest set bit; `word` must be non-zero.
constexpr unsigned highest_bit(uint64_t word) {
  return kBitsPerWord - 1 - static_cast<unsigned>(std::countl_zero(word));
}

constexpr uint64_t bit(unsigned index) { return uint64_t{1} << index; }

}  // namespace

// Precondition: `link` is not queued. Breaking it would corrupt two lists,
// so a queued link is left where it is rather than linked a second time.
void RunQueue::enqueue(RunLink& link) {
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
  m_bitmap[priority / kBitsPerWord] |= bit(priority % kBitsPerWord);
  m_top |= bit(priority / kBitsPerWord);
}

// Same precondition and same defence as enqueue().
void RunQueue::enqueue_front(RunLink& link) {
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
  m_bitmap[priority / kBitsPerWord] |= bit(priority % kBitsPerWord);
  m_top |= bit(priority / kBitsPerWord);
}

void RunQueue::remove(RunLink& link) {
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
    uint64_t& word = m_bitmap[priority / kBitsPerWord];
    word &= ~bit(priority % kBitsPerWord);
    if (word == 0) m_top &= ~bit(priority / kBitsPerWord);
  }
}

int RunQueue::highest_priority() const {
  if (m_top == 0) return -1;
  unsigned word_index = highest_bit(m_top);
  return static_cast<int>(word_index * kBitsPerWord + highest_bit(m_bitmap[word_index]));
}

RunLink* RunQueue::peek_highest() const {
  int priority = highest_priority();
  return priority < 0 ? nullptr : m_lists[priority].head;
}

// Walks every list. The walk cannot loop even on a corrupted list: it checks
// next->prev == current at every step, so returning to a link already seen
// would need that link's prev to name two different links (or, for the head,
// to be both null and not null).
bool RunQueue::check_invariants() const {
  if ((m_top >> kWords) != 0) return false;
  for (unsigned word_index = 0; word_index < kWords; ++word_index) {
    bool top_bit = (m_top >> word_index) & 1;
    if (top_bit != (m_bitmap[word_index] != 0)) return false;
  }
  for (unsigned priority = 0; priority < kPriorities; ++priority) {
    const List& list = m_lists[priority];
    bool bitmap_bit = (m_bitmap[priority / kBitsPerWord] >> (priority % kBitsPerWord)) & 1;
    if (bitmap_bit != (list.head != nullptr)) return false;
    if ((list.head == nullptr) != (list.tail == nullptr)) return false;
    const RunLink* last = nullptr;
    for (const RunLink* link = list.head; link != nullptr; link = link->next) {
      if (!link->queued || link->priority != priority) return false;
      if (link->prev != last) return false;
      last = link;
    }
    if (list.tail != last) return false;
  }
  return true;
}

}  // namespace kern
