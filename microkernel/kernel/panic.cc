// Panic reports. Backtraces follow the frame-pointer chain (the kernel is
// built with -fno-omit-frame-pointer): GCC's RISC-V prologue leaves s0 at the
// caller's sp, with the return address at s0-8 and the caller's s0 at s0-16.
// A leaf function saves only s0, at s0-8, or sets up no frame at all. For a
// trap, the walker recognises the first case when the word at s0-8 points
// into the stack instead of kernel text, and takes the return address from
// the trapped ra register; for the second, s0 is still the caller's frame,
// so the trapped ra is printed as its own frame when it is not the saved
// return address the chain starts with (in a non-leaf function that has
// called something, that ra points into the function itself: a repeated
// frame, marked "(ra register)", not a wrong one). Every load
// is checked against the stack bounds first, so a corrupt chain ends the
// backtrace instead of faulting inside the panic.
#include "panic.h"

#include "kernel/hart.h"
#include "kernel/power.h"

extern "C" char __kernel_start[], __text_end[];
extern "C" char boot_stack_bottom[], boot_stack_top[];

namespace kern {
namespace {

constexpr int kMaxFrames = 32;
bool g_panicking = false;

bool in_text(uint64_t a) {
  return a >= reinterpret_cast<uint64_t>(__kernel_start) && a < reinterpret_cast<uint64_t>(__text_end);
}

bool in_stack(uint64_t a) {
  return a >= reinterpret_cast<uint64_t>(boot_stack_bottom) && a <= reinterpret_cast<uint64_t>(boot_stack_top) &&
         a % 8 == 0;
}

uint64_t load(uint64_t address) { return *reinterpret_cast<const uint64_t*>(address); }

// Prints "  #N ra 0x..." lines following the chain from `fp`.
void walk(uint64_t fp, int first_index, uint64_t trapped_ra) {
  int index = first_index;
  while (index < kMaxFrames && in_stack(fp) && in_stack(fp - 16)) {
    uint64_t slot = load(fp - 8);
    uint64_t ra = 0;
    uint64_t next = 0;
    if (trapped_ra != 0 && in_stack(slot)) {  // leaf frame: only s0 saved
      ra = trapped_ra;
      next = slot;
    } else {
      ra = slot;
      next = load(fp - 16);
    }
    if (trapped_ra != 0 && ra != trapped_ra && in_text(trapped_ra)) {
      kprint("  #{} ra {:#x} (ra register)\n", index++, trapped_ra);
    }
    trapped_ra = 0;
    if (!in_text(ra)) break;
    kprint("  #{} ra {:#x}\n", index++, ra);
    if (next <= fp) break;
    fp = next;
  }
  kprint("end of backtrace\n");
}

void begin_report() {
  arch::disable_interrupts();
  if (g_panicking) {
    kprint("\npanic while panicking; stopping\n");
    power_off(ExitCode::Panic);
  }
  g_panicking = true;
}

}  // namespace

void panic_report(std::string_view message, uint64_t frame_pointer) {
  begin_report();
  kprint("\nKERNEL PANIC on hart {}: {}\n", this_hart().id, message);
  // No trap frame here: the CPU state worth having is where the panic was
  // called from, and what the last trap left in the trap CSRs.
  kprint("  sp {:#018x}  s0 {:#018x}  sstatus {:#018x}\n", arch::read_stack_pointer(), frame_pointer,
         arch::read_sstatus());
  kprint("  last trap: scause {:#x}  sepc {:#018x}  stval {:#018x}\n", arch::read_scause(), arch::read_sepc(),
         arch::read_stval());
  kprint("backtrace:\n");
  walk(frame_pointer, 0, 0);
  power_off(ExitCode::Panic);
}

void panic_trap(const arch::TrapFrame& frame) {
  begin_report();
  kprint("\nKERNEL PANIC on hart {}: unexpected trap: {} (scause {:#x})\n", this_hart().id,
         arch::cause_name(frame.scause), frame.scause);
  kprint("  sepc {:#018x}  stval {:#018x}  sstatus {:#018x}\n", frame.sepc, frame.stval, frame.sstatus);
  static constexpr const char* kNames[32] = {
      "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5",
      "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6"};
  for (int i = 0; i < 32; i += 4) {
    kprint("  {:4} {:#018x}  {:4} {:#018x}  {:4} {:#018x}  {:4} {:#018x}\n", kNames[i], frame.regs[i],
           kNames[i + 1], frame.regs[i + 1], kNames[i + 2], frame.regs[i + 2], kNames[i + 3], frame.regs[i + 3]);
  }
  kprint("backtrace:\n");
  kprint("  #0 pc {:#x}\n", frame.sepc);
  walk(frame.regs[8], 1, frame.regs[1]);
  power_off(ExitCode::Panic);
}

}  // namespace kern
