// Tests for the scheduler's run queue (microkernel/lib/runqueue.h). The small
// cases pin down the order the scheduler relies on: highest priority first,
// FIFO within a priority, enqueue_front for a preempted thread, removal from
// any position. The randomised case runs a seeded sequence of operations
// against a reference model (a std::deque per priority), checking after every
// step that both agree on what runs next and that check_invariants() holds,
// and finally drains the queue to compare the complete order.
#include "runqueue.h"

#include <gtest/gtest.h>

#include <array>
#include <deque>
#include <random>
#include <vector>

namespace kern {
namespace {

// Links at a given priority; the vector never grows after construction, so
// the addresses stay valid while the queue holds them.
std::vector<RunLink> make_links(size_t count, uint8_t priority) {
  std::vector<RunLink> links(count);
  for (RunLink& link : links) link.priority = priority;
  return links;
}

// Removes every link in the order the scheduler would pick them.
std::vector<RunLink*> drain(RunQueue& queue) {
  std::vector<RunLink*> order;
  while (RunLink* next = queue.peek_highest()) {
    order.push_back(next);
    queue.remove(*next);
    EXPECT_TRUE(queue.check_invariants());
  }
  return order;
}

TEST(RunQueue, StartsEmpty) {
  RunQueue queue;
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.peek_highest(), nullptr);
  EXPECT_EQ(queue.highest_priority(), -1);
  EXPECT_TRUE(queue.check_invariants());
}

TEST(RunQueue, FifoWithinPriority) {
  RunQueue queue;
  auto links = make_links(4, 10);
  for (RunLink& link : links) queue.enqueue(link);
  EXPECT_FALSE(queue.empty());
  EXPECT_EQ(queue.highest_priority(), 10);
  EXPECT_TRUE(queue.check_invariants());
  EXPECT_EQ(drain(queue), (std::vector<RunLink*>{&links[0], &links[1], &links[2], &links[3]}));
  EXPECT_TRUE(queue.empty());
}

TEST(RunQueue, HighestPriorityFirstAcrossBitmapWords) {
  RunQueue queue;
  // Priorities at both ends of every bitmap word, enqueued in a scrambled order.
  const std::array<uint8_t, 8> priorities{64, 0, 255, 63, 128, 127, 191, 192};
  std::array<RunLink, 8> links;
  for (size_t i = 0; i < links.size(); ++i) {
    links[i].priority = priorities[i];
    queue.enqueue(links[i]);
  }
  EXPECT_TRUE(queue.check_invariants());
  std::vector<int> order;
  for (RunLink* link : drain(queue)) order.push_back(link->priority);
  EXPECT_EQ(order, (std::vector<int>{255, 192, 191, 128, 127, 64, 63, 0}));
}

TEST(RunQueue, EveryPriorityAlone) {
  RunQueue queue;
  for (unsigned p = 0; p < kPriorities; ++p) {
    RunLink link;
    link.priority = static_cast<uint8_t>(p);
    queue.enqueue(link);
    EXPECT_EQ(queue.highest_priority(), static_cast<int>(p));
    EXPECT_EQ(queue.peek_highest(), &link);
    EXPECT_TRUE(queue.check_invariants());
    queue.remove(link);
    EXPECT_TRUE(queue.empty());
    EXPECT_TRUE(queue.check_invariants());
  }
}

// The scheduler's round robin: take the head, let it run, put it at the tail.
TEST(RunQueue, RoundRobinRotates) {
  RunQueue queue;
  auto links = make_links(3, 7);
  for (RunLink& link : links) queue.enqueue(link);
  std::vector<RunLink*> picked;
  for (int slice = 0; slice < 7; ++slice) {
    RunLink* current = queue.peek_highest();
    ASSERT_NE(current, nullptr);
    picked.push_back(current);
    queue.remove(*current);
    queue.enqueue(*current);
    EXPECT_TRUE(queue.check_invariants());
  }
  EXPECT_EQ(picked, (std::vector<RunLink*>{&links[0], &links[1], &links[2], &links[0], &links[1], &links[2],
                                           &links[0]}));
}

TEST(RunQueue, EnqueueFrontKeepsTheTurn) {
  RunQueue queue;
  auto links = make_links(3, 20);
  queue.enqueue(links[0]);
  queue.enqueue(links[1]);
  queue.enqueue_front(links[2]);
  EXPECT_EQ(queue.peek_highest(), &links[2]);
  EXPECT_TRUE(queue.check_invariants());
  EXPECT_EQ(drain(queue), (std::vector<RunLink*>{&links[2], &links[0], &links[1]}));
}

TEST(RunQueue, EnqueueFrontOnEmptyPriority) {
  RunQueue queue;
  auto links = make_links(2, 3);
  queue.enqueue_front(links[0]);
  queue.enqueue(links[1]);
  EXPECT_TRUE(queue.check_invariants());
  EXPECT_EQ(drain(queue), (std::vector<RunLink*>{&links[0], &links[1]}));
}

TEST(RunQueue, RemoveHeadMiddleTail) {
  for (size_t victim = 0; victim < 3; ++victim) {
    RunQueue queue;
    auto links = make_links(3, 99);
    for (RunLink& link : links) queue.enqueue(link);
    queue.remove(links[victim]);
    EXPECT_FALSE(links[victim].queued);
    EXPECT_EQ(links[victim].next, nullptr);
    EXPECT_EQ(links[victim].prev, nullptr);
    EXPECT_TRUE(queue.check_invariants());
    std::vector<RunLink*> expected;
    for (size_t i = 0; i < links.size(); ++i) {
      if (i != victim) expected.push_back(&links[i]);
    }
    EXPECT_EQ(drain(queue), expected) << "victim " << victim;
  }
}

TEST(RunQueue, RemoveOfUnqueuedLinkIsNoOp) {
  RunQueue queue;
  auto links = make_links(2, 5);
  RunLink stranger;
  stranger.priority = 5;
  queue.enqueue(links[0]);
  queue.enqueue(links[1]);
  queue.remove(stranger);
  EXPECT_TRUE(queue.check_invariants());
  queue.remove(links[0]);
  queue.remove(links[0]);  // a second time
  EXPECT_TRUE(queue.check_invariants());
  EXPECT_EQ(drain(queue), (std::vector<RunLink*>{&links[1]}));
  queue.remove(stranger);
  EXPECT_TRUE(queue.empty());
}

// Breaking the precondition must not link the same node twice.
TEST(RunQueue, EnqueueOfQueuedLinkIsIgnored) {
  RunQueue queue;
  auto links = make_links(2, 5);
  queue.enqueue(links[0]);
  queue.enqueue(links[1]);
  queue.enqueue(links[0]);
  queue.enqueue_front(links[1]);
  EXPECT_TRUE(queue.check_invariants());
  EXPECT_EQ(drain(queue), (std::vector<RunLink*>{&links[0], &links[1]}));
}

TEST(RunQueue, HighestPriorityFollowsRemovals) {
  RunQueue queue;
  RunLink low, mid, high, top;
  low.priority = 1;
  mid.priority = 65;
  high.priority = 130;
  top.priority = 255;
  queue.enqueue(mid);
  EXPECT_EQ(queue.highest_priority(), 65);
  queue.enqueue(low);
  EXPECT_EQ(queue.highest_priority(), 65);
  queue.enqueue(top);
  queue.enqueue(high);
  EXPECT_EQ(queue.highest_priority(), 255);
  EXPECT_EQ(queue.peek_highest(), &top);
  queue.remove(top);
  EXPECT_EQ(queue.highest_priority(), 130);
  queue.remove(mid);  // not the highest: nothing changes at the top
  EXPECT_EQ(queue.highest_priority(), 130);
  queue.remove(high);
  EXPECT_EQ(queue.highest_priority(), 1);
  EXPECT_EQ(queue.peek_highest(), &low);
  queue.remove(low);
  EXPECT_EQ(queue.highest_priority(), -1);
  EXPECT_TRUE(queue.empty());
  EXPECT_TRUE(queue.check_invariants());
}

// The reference model: one deque per priority, holding link indices.
class Model {
 public:
  void enqueue(uint8_t priority, size_t index) { m_lists[priority].push_back(index); }
  void enqueue_front(uint8_t priority, size_t index) { m_lists[priority].push_front(index); }
  void remove(uint8_t priority, size_t index) {
    auto& list = m_lists[priority];
    for (auto it = list.begin(); it != list.end(); ++it) {
      if (*it == index) {
        list.erase(it);
        return;
      }
    }
  }
  int highest_priority() const {
    for (int p = kPriorities - 1; p >= 0; --p) {
      if (!m_lists[p].empty()) return p;
    }
    return -1;
  }
  // Index of the head of the highest priority; the model must not be empty.
  size_t head() const { return m_lists[highest_priority()].front(); }

 private:
  std::array<std::deque<size_t>, kPriorities> m_lists;
};

TEST(RunQueue, RandomSequenceMatchesModel) {
  constexpr size_t kLinks = 64;
  constexpr int kSteps = 20000;
  std::mt19937 rng(12345);
  std::vector<RunLink> links(kLinks);
  // Few distinct priorities so that lists get long, plus the edges of the
  // bitmap words.
  const std::array<uint8_t, 8> priorities{0, 1, 63, 64, 100, 191, 192, 255};
  auto random_priority = [&] { return priorities[rng() % priorities.size()]; };
  for (RunLink& link : links) link.priority = random_priority();

  RunQueue queue;
  Model model;
  for (int step = 0; step < kSteps; ++step) {
    size_t index = rng() % kLinks;
    RunLink& link = links[index];
    switch (rng() % 5) {
      case 0:
        if (!link.queued) model.enqueue(link.priority, index);
        queue.enqueue(link);
        break;
      case 1:
        if (!link.queued) model.enqueue_front(link.priority, index);
        queue.enqueue_front(link);
        break;
      case 2:
        if (link.queued) model.remove(link.priority, index);
        queue.remove(link);
        break;
      case 3:  // a priority change, done the only legal way
        if (link.queued) model.remove(link.priority, index);
        queue.remove(link);
        link.priority = random_priority();
        model.enqueue(link.priority, index);
        queue.enqueue(link);
        break;
      case 4:  // a time slice ends: the running thread goes to the back
        if (RunLink* current = queue.peek_highest()) {
          size_t current_index = static_cast<size_t>(current - links.data());
          model.remove(current->priority, current_index);
          model.enqueue(current->priority, current_index);
          queue.remove(*current);
          queue.enqueue(*current);
        }
        break;
    }
    ASSERT_TRUE(queue.check_invariants()) << "step " << step;
    ASSERT_EQ(queue.highest_priority(), model.highest_priority()) << "step " << step;
    ASSERT_EQ(queue.empty(), model.highest_priority() < 0) << "step " << step;
    if (!queue.empty()) {
      ASSERT_EQ(queue.peek_highest(), &links[model.head()]) << "step " << step;
    }
  }

  while (!queue.empty()) {
    size_t expected = model.head();
    RunLink* next = queue.peek_highest();
    ASSERT_EQ(next, &links[expected]);
    model.remove(next->priority, expected);
    queue.remove(*next);
    ASSERT_TRUE(queue.check_invariants());
  }
  EXPECT_EQ(model.highest_priority(), -1);
}

// check_invariants() must notice damage, or the model test proves little.
TEST(RunQueue, CheckInvariantsDetectsCorruption) {
  auto damaged = [](auto damage) {
    RunQueue queue;
    auto links = make_links(3, 42);
    for (RunLink& link : links) queue.enqueue(link);
    damage(links);
    return !queue.check_invariants();
  };
  EXPECT_TRUE(damaged([](std::vector<RunLink>& l) { l[1].priority = 41; }));
  EXPECT_TRUE(damaged([](std::vector<RunLink>& l) { l[2].queued = false; }));
  EXPECT_TRUE(damaged([](std::vector<RunLink>& l) { l[2].prev = &l[0]; }));
  EXPECT_TRUE(damaged([](std::vector<RunLink>& l) { l[0].prev = &l[2]; }));
  // A cycle back to the head: the walk must still end.
  EXPECT_TRUE(damaged([](std::vector<RunLink>& l) { l[2].next = &l[0]; }));
  EXPECT_TRUE(damaged([](std::vector<RunLink>& l) { l[2].next = &l[1]; }));
  EXPECT_FALSE(damaged([](std::vector<RunLink>&) {}));
}

}  // namespace
}  // namespace kern
