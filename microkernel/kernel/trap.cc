// Trap dispatch for traps taken in the kernel. Today the only expected one is
// the timer interrupt; anything else is a kernel bug and panics with the full
// register state. User-mode traps (system calls, faults delivered to a fault
// endpoint) arrive with threads.
#include "arch/riscv/cpu.h"
#include "kernel/panic.h"
#include "kernel/timer.h"

extern "C" void kernel_trap(arch::TrapFrame* frame) {
  using arch::scause::Code;
  using arch::scause::Interrupt;
  if (Interrupt::get(frame->scause) &&
      static_cast<arch::Interrupt>(Code::get(frame->scause)) == arch::Interrupt::SupervisorTimer) {
    kern::timer_interrupt();
    return;
  }
  kern::panic_trap(*frame);
}
