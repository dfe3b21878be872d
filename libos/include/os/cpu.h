// What user mode may read of the CPU: the counters the kernel lets it read
// (scounteren CY, TM, IR: cycle, time, instret) and gp, which a new thread
// in the same image must share. Under qemu -icount, instret counts
// instructions exactly; without it QEMU returns host ticks.
#pragma once

#include <cstdint>

namespace os {

inline uint64_t read_cycle() {
  uint64_t v;
  asm volatile("rdcycle %0" : "=r"(v));
  return v;
}

inline uint64_t read_time() {
  uint64_t v;
  asm volatile("rdtime %0" : "=r"(v));
  return v;
}

inline uint64_t read_instret() {
  uint64_t v;
  asm volatile("rdinstret %0" : "=r"(v));
  return v;
}

inline uint64_t read_gp() {
  uint64_t v;
  asm volatile("mv %0, gp" : "=r"(v));
  return v;
}

}  // namespace os
