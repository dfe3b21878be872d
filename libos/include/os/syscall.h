// The system calls, as inline functions: ecall with a7 = number, a0 = cptr,
// a1 = message info, a2..a5 = message registers 0..3 (see docs/kernel.md).
// The kernel changes a0..a5 only.
#pragma once

#include <cstdint>

#include "abi/abi.h"

namespace os {

struct SyscallResult {
  uint64_t badge;          // a0
  uapi::MessageInfo info;   // a1
  uint64_t mr[4];          // a2..a5
};

inline SyscallResult syscall(uapi::Syscall number, uint64_t cptr, uapi::MessageInfo info, uint64_t mr0 = 0,
                             uint64_t mr1 = 0, uint64_t mr2 = 0, uint64_t mr3 = 0) {
  register uint64_t a0 asm("a0") = cptr;
  register uint64_t a1 asm("a1") = info.raw;
  register uint64_t a2 asm("a2") = mr0;
  register uint64_t a3 asm("a3") = mr1;
  register uint64_t a4 asm("a4") = mr2;
  register uint64_t a5 asm("a5") = mr3;
  register uint64_t a7 asm("a7") = static_cast<uint64_t>(number);
  asm volatile("ecall" : "+r"(a0), "+r"(a1), "+r"(a2), "+r"(a3), "+r"(a4), "+r"(a5) : "r"(a7) : "memory");
  return {a0, uapi::MessageInfo{a1}, {a2, a3, a4, a5}};
}

inline void debug_putc(char c) {
  syscall(uapi::Syscall::DebugPutChar, static_cast<unsigned char>(c), uapi::MessageInfo{});
}

inline void yield() { syscall(uapi::Syscall::Yield, 0, uapi::MessageInfo{}); }

}  // namespace os
