// Scheduling: a preemptive priority scheduler with round robin inside a
// priority (RunQueue), driven by the 100 Hz tick. The running thread is
// not in the queue. The kernel is event driven: every path out of a trap
// ends in schedule_and_return(), which picks the thread to run and leaves
// the kernel into it (or idles until an interrupt makes one runnable).
#pragma once

#include "kernel/objects.h"

namespace kern {

Tcb* current_thread();
// Runnable and queued (unless it is the current thread). A thread of higher
// priority than the current one preempts it at the next schedule.
void make_runnable(Tcb& thread);
// Leaves the run queue; `state` says why (blocked, inactive).
void make_blocked(Tcb& thread, ThreadState state);
// The timer tick: the current thread goes to the back of its priority.
void preempt_tick();
// Yield: the same, at the thread's request.
void yield_current();
// Change priority, requeueing if needed.
void set_priority(Tcb& thread, uint8_t priority);

// Pick the thread to run and leave the kernel into it; idles (interrupts
// on, wfi) while nothing is runnable.
[[noreturn]] void schedule_and_return();

namespace detail {
extern RunQueue g_run_queue;
extern bool g_preempt_current;
}  // namespace detail

// For the IPC fast path: true if no queued thread has `priority` or more,
// and the current slice has not run out. Then the slow path, which would
// queue the woken thread behind any others of its priority, would pick it
// next too: the fast path makes the same choice.
[[gnu::always_inline]] inline bool nothing_runnable_at_or_above(uint8_t priority) {
  return !detail::g_preempt_current &&
         (detail::g_run_queue.empty() || detail::g_run_queue.highest_priority() < priority);
}
// The run queue, read-only, for the invariant checker (invariants.cc).
inline const RunQueue& run_queue() { return detail::g_run_queue; }

}  // namespace kern
