// Per-hart state. Everything that is "the current X" (thread, kernel stack,
// scheduler queue, tick count) lives in the Hart of the executing hart, found
// through the tp register, so SMP later means more Harts, not a rewrite.
// One hart runs today; the others stay parked in OpenSBI.
#pragma once

#include <cstddef>
#include <cstdint>

#include "arch/riscv/cpu.h"

namespace kern {

inline constexpr size_t kMaxHarts = 8;

struct Hart {
  uint64_t kernel_stack_top = 0;  // trap.S loads sp from here (offset 0) on entry from user mode
  uint64_t id = 0;                // the hart id OpenSBI passed (mhartid)
  uint64_t timer_ticks = 0;  // timer interrupts taken; touched only by this hart
  uint64_t next_timer = 0;   // `time` value of the next tick
  struct Tcb* current = nullptr;  // the thread running (or about to), null when idle
  uint64_t current_satp = 0;      // satp of the address space loaded now
  // Instructions this hart retired in user mode, every thread's together:
  // trap.S adds each stretch on entry from user mode (UserContext).
  uint64_t user_instret = 0;
  uint64_t boot_instret = 0;      // instret when the kernel started (entry.S)
};

static_assert(offsetof(Hart, kernel_stack_top) == 0, "trap.S: HART_KSTACK");
static_assert(offsetof(Hart, user_instret) == 48, "trap.S: HART_USER_INSTRET");

// Binds the executing hart to slot 0 (the boot hart) and records its id and
// the instret that entry.S read first.
void hart_init_boot(uint64_t hart_id, uint64_t boot_instret);

// Instructions the hart retired in S-mode from the kernel's first
// instruction up to `instret_now`: everything but user mode. (Firmware
// instructions count with the mode they interrupted: an SBI call the kernel
// makes as kernel time.)
inline uint64_t kernel_instructions(const Hart& hart, uint64_t instret_now) {
  return instret_now - hart.boot_instret - hart.user_instret;
}

// The executing hart: tp points at it while in the kernel (trap.S reloads
// tp on every entry from user mode; hart_init_boot sets it at boot).
inline Hart& this_hart() { return *static_cast<Hart*>(arch::read_thread_pointer()); }

}  // namespace kern
