// Trap dispatch for traps taken in the kernel. The kernel runs with
// interrupts off except while idle (sched.cc), so the expected traps are
// the interrupts that end an idle wait: the timer and device interrupts
// (which may make a driver runnable). Anything else is a kernel bug and
// panics with the full register state. User-mode traps go to user_trap
// (syscall.cc).
#include "arch/riscv/cpu.h"
#include "kernel/irq.h"
#include "kernel/panic.h"
#include "kernel/timer.h"

extern "C" void kernel_trap(arch::TrapFrame* frame) {
  using arch::scause::Code;
  using arch::scause::Interrupt;
  if (Interrupt::get(frame->scause)) {
    switch (static_cast<arch::Interrupt>(Code::get(frame->scause))) {
      case arch::Interrupt::SupervisorTimer:
        kern::timer_interrupt();
        return;
      case arch::Interrupt::SupervisorExternal:
        kern::irq_handle_external();
        return;
      default:
        break;
    }
  }
  kern::panic_trap(*frame);
}
