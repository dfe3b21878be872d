// Scheduling: a strict priority scheduler with round robin inside a
// priority, driven by the timer tick. Threads of equal priority share the
// hart without yielding; a higher-priority thread runs first and preempts
// a lower one the moment it becomes runnable; Yield hands the hart to the
// next thread of the same priority.
//
// The root thread (255) waits in join() while the threads under test run.
#include <atomic>

#include "ktest.h"
#include "threads.h"

namespace {

using namespace kt;

uint64_t ticks_to_time(uint64_t ticks) { return ticks * (env().info->timebase_frequency / 100); }

// --- round robin ---------------------------------------------------------------

std::atomic<uint64_t> g_count[2];
std::atomic<uint64_t> g_switches[2];
constexpr uint64_t kWantedSwitches = 3;

// Counts until both threads have seen the other run kWantedSwitches times
// (each time the other's count moved since this one last looked means this
// thread was preempted and the other ran), or 300 ticks have passed. Waiting
// for the switches rather than a fixed 30 ticks keeps the test meaningful on
// a loaded host, where QEMU's virtual time (without -icount) can jump past
// many ticks at once.
uint64_t round_robin(uint64_t me) {
  const uint64_t other = 1 - me;
  const uint64_t end = cpu::rdtime() + ticks_to_time(300);
  uint64_t seen = g_count[other].load();
  while ((g_switches[0].load() < kWantedSwitches || g_switches[1].load() < kWantedSwitches) &&
         cpu::rdtime() < end) {
    g_count[me].fetch_add(1);
    const uint64_t now = g_count[other].load();
    if (now != seen) {
      g_switches[me].fetch_add(1);
      seen = now;
    }
  }
  return g_switches[me].load();
}

KTEST(preemption, round_robin) {
  g_count[0] = 0;
  g_count[1] = 0;
  g_switches[0] = 0;
  g_switches[1] = 0;
  const Thread a = KT_TRY(spawn(t, round_robin, 0));
  const Thread b = KT_TRY(spawn(t, round_robin, 1));
  const uint64_t switches_a = KT_TRY(join(t, a));
  const uint64_t switches_b = KT_TRY(join(t, b));
  // Without time slicing one would run alone until the 300 ticks are over,
  // never seeing the other move.
  if (switches_a < kWantedSwitches || switches_b < kWantedSwitches) {
    KT_FAIL("no round robin: {} and {} switches seen, counts {} and {}", switches_a, switches_b, g_count[0].load(),
            g_count[1].load());
  }
}

// --- priorities ------------------------------------------------------------------

std::atomic<uint64_t> g_sequence;
std::atomic<uint64_t> g_started[2];

uint64_t note_start(uint64_t me) {
  g_started[me] = g_sequence.fetch_add(1);
  return 0;
}

KTEST(preemption, higher_priority_first) {
  g_sequence = 1;
  ThreadOptions low, high;
  low.priority = 50;
  high.priority = 60;
  // Started low first: still the high one runs first.
  const Thread l = KT_TRY(spawn(t, note_start, 0, low));
  const Thread h = KT_TRY(spawn(t, note_start, 1, high));
  KT_TRY(join(t, l));
  KT_TRY(join(t, h));
  CHECK_EQ(g_started[1].load(), 1);
  CHECK_EQ(g_started[0].load(), 2);
}

// A lower-priority thread signals a higher one: the higher one runs at
// once, before the signaller's next instruction.
std::atomic<uint64_t> g_after_signal;
std::atomic<uint64_t> g_seen_by_high;

uint64_t high_waiter(uint64_t ntfn) {
  wait(ntfn);
  g_seen_by_high = g_after_signal.load();
  return 0;
}

uint64_t low_signaller(uint64_t ntfn) {
  signal(ntfn);
  g_after_signal = 1;
  return 0;
}

KTEST(preemption, preempted_on_wakeup) {
  g_after_signal = 0;
  g_seen_by_high = 99;
  const uint64_t ntfn = KT_TRY(t.make(ObjectType::Notification));
  ThreadOptions low, high;
  low.priority = 50;
  high.priority = 60;
  const Thread h = KT_TRY(spawn(t, high_waiter, ntfn, high));
  const Thread l = KT_TRY(spawn(t, low_signaller, ntfn, low));
  KT_TRY(join(t, h));
  KT_TRY(join(t, l));
  CHECK_EQ(g_seen_by_high.load(), 0);
  CHECK_EQ(g_after_signal.load(), 1);
}

// A busy higher-priority thread keeps a ready lower one off the hart, for
// as many ticks as it likes.
std::atomic<uint64_t> g_low_ran;

uint64_t busy_high(uint64_t) {
  const uint64_t end = cpu::rdtime() + ticks_to_time(10);
  while (cpu::rdtime() < end) {
  }
  return g_low_ran.load();
}

uint64_t mark_low(uint64_t) {
  g_low_ran = 1;
  return 0;
}

KTEST(preemption, lower_priority_starves) {
  g_low_ran = 0;
  ThreadOptions low, high;
  low.priority = 50;
  high.priority = 60;
  const Thread l = KT_TRY(spawn(t, mark_low, 0, low));
  const Thread h = KT_TRY(spawn(t, busy_high, 0, high));
  CHECK_EQ(KT_TRY(join(t, h)), 0);
  KT_TRY(join(t, l));
  CHECK_EQ(g_low_ran.load(), 1);
}

// --- yield -----------------------------------------------------------------------

std::atomic<bool> g_second_started;

// Yields until the other thread (same priority) has run; returns the number
// of yields it took. One, if Yield gives the hart away.
uint64_t yield_until_other(uint64_t) {
  uint64_t yields = 0;
  while (!g_second_started.load() && yields < 1'000'000) {
    os::yield();
    ++yields;
  }
  return yields;
}

uint64_t second(uint64_t) {
  g_second_started = true;
  return 0;
}

// The 100 Hz tick can interleave with the exchange: it may preempt the
// yielder before its first Yield (the other thread then runs first: 0
// yields) or the other thread before it sets its flag (2 or more). A run is
// clean when neither happened: the yielder was switched in exactly twice (at
// its start and after its one Yield) and yielded at least once. Every clean
// run must show exactly one Yield; one of ten runs must be clean.
KTEST(preemption, yield) {
  bool clean = false;
  for (int attempt = 0; attempt < 10 && !clean; ++attempt) {
    g_second_started = false;
    const Thread a = KT_TRY(spawn(t, yield_until_other, 0));
    const Thread b = KT_TRY(spawn(t, second, 0));
    const uint64_t yields = KT_TRY(join(t, a));
    KT_TRY(join(t, b));
    const uint64_t switches = counter(read_counters(a.tcb), uapi::Counter::ContextSwitches);
    clean = switches == 2 && yields >= 1;
    if (clean) CHECK_EQ(yields, 1);
    CHECK(yields < 1'000'000);  // Yield never gave the hart away
  }
  CHECK(clean);
}

// Changing the priority of a thread waiting in the run queue moves it: a
// thread raised above another that was queued first runs first.
KTEST(preemption, set_priority_requeues) {
  g_sequence = 1;
  ThreadOptions options;
  options.priority = 50;
  const Thread a = KT_TRY(spawn(t, note_start, 0, options));
  const Thread b = KT_TRY(spawn(t, note_start, 1, options));
  CHECK_OK(set_priority(b.tcb, 60));  // the root may, above b's own maximum of 50
  KT_TRY(join(t, a));
  KT_TRY(join(t, b));
  CHECK_EQ(g_started[1].load(), 1);
  CHECK_EQ(g_started[0].load(), 2);
}

}  // namespace
