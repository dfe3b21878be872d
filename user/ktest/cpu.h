// The few machine instructions the tests need directly: the thread-pointer
// and global-pointer registers, the user-readable counters, and deliberate
// faults. Everything else goes through libos.
#pragma once

#include <cstdint>

#include "os/cpu.h"

namespace kt::cpu {

// tp holds the running thread's IPC-buffer address: every thread of the test
// program (the root thread and the ones it spawns) finds its own buffer there.
inline uint64_t read_tp() {
  uint64_t v;
  asm volatile("mv %0, tp" : "=r"(v));
  return v;
}
inline void write_tp(uint64_t v) { asm volatile("mv tp, %0" ::"r"(v)); }

// gp and the user-readable counters come from libos (os/cpu.h).
using os::read_gp;
inline uint64_t rdcycle() { return os::read_cycle(); }
inline uint64_t rdtime() { return os::read_time(); }
inline uint64_t rdinstret() { return os::read_instret(); }

// A 4-byte illegal instruction (unimp is csrrw x0, cycle, x0 without the C
// extension: a write to a read-only CSR). A handler that skips it replies
// with pc + 4.
inline constexpr uint64_t kIllegalInstructionBits = 0xc0001073;
inline void illegal_instruction() {
  asm volatile(
      ".option push\n"
      ".option norvc\n"
      "unimp\n"
      ".option pop\n" ::: "memory");
}

// ebreak, 4 bytes for the same reason.
inline void breakpoint() {
  asm volatile(
      ".option push\n"
      ".option norvc\n"
      "ebreak\n"
      ".option pop\n" ::: "memory");
}

// An ecall with a7 = number and a0 = arg, returning a0 afterwards. For
// numbers that are not system calls (the UnknownSyscall fault).
inline uint64_t ecall(uint64_t number, uint64_t arg) {
  register uint64_t a0 asm("a0") = arg;
  register uint64_t a7 asm("a7") = number;
  asm volatile("ecall" : "+r"(a0) : "r"(a7) : "a1", "a2", "a3", "a4", "a5", "memory");
  return a0;
}

}  // namespace kt::cpu
