#include "sched.h"

#include "arch/riscv/cpu.h"
#include "kernel/hart.h"
#include "lib/sv39.h"

namespace kern {

namespace detail {
RunQueue g_run_queue;
bool g_preempt_current = false;  // the current thread used up its slice or yielded
}  // namespace detail

namespace {

using detail::g_preempt_current;
using detail::g_run_queue;

using SatpAsid = BitField<44, 16>;  // satp.ASID (privileged spec, "satp")


Tcb& tcb_of_link(RunLink* link) {
  return *reinterpret_cast<Tcb*>(reinterpret_cast<char*>(link) - offsetof(Tcb, run));
}

void account_switch_out(Tcb& thread) {
  thread.counters[uapi::Counter::Instructions] += arch::read_instret() - thread.switched_in_instret;
  thread.counters[uapi::Counter::Cycles] += arch::read_cycle() - thread.switched_in_cycle;
}

void switch_to(Hart& hart, Tcb& next) {
  if (hart.current != &next) {
    if (hart.current != nullptr) account_switch_out(*hart.current);
    ++next.counters[uapi::Counter::ContextSwitches];
    next.switched_in_instret = arch::read_instret();
    next.switched_in_cycle = arch::read_cycle();
    hart.current = &next;
  }
  const uint64_t satp = next.satp;
  if (satp != hart.current_satp) {
    // Every VSpace has its own ASID, so no flush is needed on a switch,
    // except for ASID 0, which address spaces share once ASIDs run out.
    arch::write_satp(satp);
    if (SatpAsid::get(satp) == 0 || SatpAsid::get(hart.current_satp) == 0) arch::sfence_vma_all();
    hart.current_satp = satp;
  }
  next.context.hart = &hart;
}

// A thread can run only with a CSpace and a VSpace bound.
bool can_run(Tcb& thread) {
  return thread.state == ThreadState::Runnable && !tcb_slot(thread, TcbSlot::VSpace).empty() &&
         !tcb_slot(thread, TcbSlot::CSpace).empty();
}

// A Runnable thread whose CSpace or VSpace binding was deleted (revoking
// the object's ancestor deletes the binding copy) cannot run: it becomes
// Inactive, as if suspended. Left Runnable but out of the queue it would
// never run again, not even after a new binding and TcbResume (which only
// wakes Inactive threads). Found by the fuzzer (user/fuzz): the invariant
// checker saw a Runnable thread in no run queue.
void drop_unrunnable(Tcb& thread) {
  if (thread.state == ThreadState::Runnable) thread.state = ThreadState::Inactive;
}

}  // namespace

Tcb* current_thread() { return this_hart().current; }


void make_runnable(Tcb& thread) {
  thread.state = ThreadState::Runnable;
  if (&thread != current_thread() && !thread.run.queued) g_run_queue.enqueue(thread.run);
}

void make_blocked(Tcb& thread, ThreadState state) {
  g_run_queue.remove(thread.run);
  thread.state = state;
}

void preempt_tick() { g_preempt_current = true; }
void yield_current() { g_preempt_current = true; }

void set_priority(Tcb& thread, uint8_t priority) {
  const bool queued = thread.run.queued;
  if (queued) g_run_queue.remove(thread.run);
  thread.run.priority = priority;
  if (queued) g_run_queue.enqueue(thread.run);
}

void schedule_and_return() {
  Hart& hart = this_hart();
  Tcb* current = hart.current;
  // The common case first: the thread that trapped goes on, nothing else
  // is ready, its address space is still the loaded one.
  if (current != nullptr && !g_preempt_current && g_run_queue.empty() && can_run(*current) &&
      current->satp == hart.current_satp) {
    arch::return_to_user(&current->context);
  }
  if (current != nullptr && !can_run(*current)) drop_unrunnable(*current);
  if (current != nullptr && can_run(*current)) {
    const int highest = g_run_queue.highest_priority();
    const bool someone_better = highest > current->run.priority ||
                                (g_preempt_current && highest == current->run.priority);
    if (!someone_better) {
      g_preempt_current = false;
      switch_to(hart, *current);
      arch::return_to_user(&current->context);
    }
    // Preempted by a higher priority: keep its turn (front); end of slice
    // or yield: back of the line.
    if (g_preempt_current) g_run_queue.enqueue(current->run);
    else g_run_queue.enqueue_front(current->run);
  }
  g_preempt_current = false;

  while (true) {
    while (RunLink* link = g_run_queue.peek_highest()) {
      Tcb& next = tcb_of_link(link);
      g_run_queue.remove(*link);
      if (!can_run(next)) {  // lost its CSpace or VSpace while queued
        drop_unrunnable(next);
        continue;
      }
      switch_to(hart, next);
      arch::return_to_user(&next.context);
    }
    // Idle: wait with interrupts enabled until one makes a thread runnable.
    // wfi wakes on a pending interrupt even with SIE clear, so nothing is
    // missed between the check above and the wfi.
    if (hart.current != nullptr) account_switch_out(*hart.current);
    hart.current = nullptr;
    arch::wait_for_interrupt();
    arch::enable_interrupts();
    arch::disable_interrupts();
  }
}

}  // namespace kern
