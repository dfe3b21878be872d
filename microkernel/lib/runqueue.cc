// The run queue's invariant checker; the operations themselves are inline
// in runqueue.h (they sit on the scheduler's every decision).
#include "runqueue.h"


namespace kern {

namespace {
constexpr unsigned kBitsPerWord = runqueue_detail::kBitsPerWord;
constexpr unsigned kWords = runqueue_detail::kWords;
}  // namespace

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
