// Typed access to the supervisor CSRs and the few privileged instructions the
// kernel uses. Every CSR read or write in the kernel goes through here; bit
// fields are declared with BitField, not shifted by hand. References: RISC-V
// Privileged Architecture, "Supervisor-Level ISA".
#pragma once

#include <cstdint>

#include "lib/bitfield.h"

namespace arch {

// Registers saved by trap.S, in its order: x0..x31 (x0 slot unused, x2 is the
// interrupted sp), then the trap CSRs.
struct TrapFrame {
  uint64_t regs[32];
  uint64_t sepc;
  uint64_t sstatus;
  uint64_t scause;
  uint64_t stval;
};
static_assert(sizeof(TrapFrame) == 36 * 8, "trap.S saves 36 words");

// A user thread's registers while it is not running (kept in its TCB).
// regs[0] is unused; regs[2] is the user sp. `hart` is read by trap.S to
// find the kernel's tp and stack. The last two words are trap.S's count of
// the thread's user-mode instructions: each entry from user mode adds
// instret now less `resumed_at`, which the exit set to its instret plus the
// instructions of the trap path outside the two reads.
struct UserContext {
  uint64_t regs[32];
  uint64_t pc;
  void* hart;
  uint64_t user_instret;  // instructions retired in user mode so far
  uint64_t resumed_at;    // instret at which this thread's user mode last began
};
static_assert(sizeof(UserContext) == 36 * 8,
              "trap.S: CTX_PC = 32 words, CTX_HART = 33, CTX_USER_INSTRET = 34, CTX_RESUMED_AT = 35");

// Register numbers used by the system-call convention.
enum class Reg : uint8_t { Ra = 1, Sp = 2, Gp = 3, Tp = 4, A0 = 10, A1, A2, A3, A4, A5, A6, A7 };

// Leave the kernel into the thread whose context this is (trap.S).
extern "C" [[noreturn]] void return_to_user(UserContext* context);

namespace sstatus {
using SIE = kern::BitFlag<1>;
using SPIE = kern::BitFlag<5>;
using SPP = kern::BitFlag<8>;
using SUM = kern::BitFlag<18>;
}  // namespace sstatus

namespace sie {
using SSIE = kern::BitFlag<1>;
using STIE = kern::BitFlag<5>;
using SEIE = kern::BitFlag<9>;
}  // namespace sie

namespace scause {
using Interrupt = kern::BitFlag<63>;
using Code = kern::BitField<0, 63>;
}  // namespace scause

// scause exception and interrupt codes (privileged spec, table "Supervisor
// cause register (scause) values after trap").
enum class Exception : uint64_t {
  InstructionMisaligned = 0,
  InstructionAccessFault = 1,
  IllegalInstruction = 2,
  Breakpoint = 3,
  LoadMisaligned = 4,
  LoadAccessFault = 5,
  StoreMisaligned = 6,
  StoreAccessFault = 7,
  EcallFromU = 8,
  EcallFromS = 9,
  InstructionPageFault = 12,
  LoadPageFault = 13,
  StorePageFault = 15,
};

enum class Interrupt : uint64_t {
  SupervisorSoftware = 1,
  SupervisorTimer = 5,
  SupervisorExternal = 9,
};

const char* cause_name(uint64_t scause_value);

// The CSR name must be a literal in the instruction, so each accessor is one
// line through these macros; the macros stay in this file.
#define ARCH_CSR_READ(csr)                                   \
  inline uint64_t read_##csr() {                             \
    uint64_t v;                                              \
    asm volatile("csrr %0, " #csr : "=r"(v));                \
    return v;                                                \
  }
#define ARCH_CSR_WRITE(csr)                                              \
  inline void write_##csr(uint64_t v) { asm volatile("csrw " #csr ", %0" ::"r"(v) : "memory"); } \
  inline void set_##csr(uint64_t bits) { asm volatile("csrs " #csr ", %0" ::"r"(bits) : "memory"); } \
  inline void clear_##csr(uint64_t bits) { asm volatile("csrc " #csr ", %0" ::"r"(bits) : "memory"); }

ARCH_CSR_READ(sstatus)
ARCH_CSR_WRITE(sstatus)
ARCH_CSR_READ(sie)
ARCH_CSR_WRITE(sie)
ARCH_CSR_READ(sip)
ARCH_CSR_READ(scause)
ARCH_CSR_READ(sepc)
ARCH_CSR_READ(stval)
ARCH_CSR_READ(stvec)
ARCH_CSR_WRITE(stvec)
ARCH_CSR_READ(satp)
ARCH_CSR_WRITE(satp)
ARCH_CSR_WRITE(scounteren)
ARCH_CSR_READ(time)
ARCH_CSR_READ(cycle)
ARCH_CSR_READ(instret)

#undef ARCH_CSR_READ
#undef ARCH_CSR_WRITE

inline void sfence_vma_all() { asm volatile("sfence.vma zero, zero" ::: "memory"); }
inline void sfence_vma_asid(uint64_t asid) { asm volatile("sfence.vma zero, %0" ::"r"(asid) : "memory"); }
inline void sfence_vma_page(uint64_t asid, uint64_t va) { asm volatile("sfence.vma %0, %1" ::"r"(va), "r"(asid) : "memory"); }
inline void wait_for_interrupt() { asm volatile("wfi"); }
inline void enable_interrupts() { set_sstatus(sstatus::SIE::kMask); }
inline void disable_interrupts() { clear_sstatus(sstatus::SIE::kMask); }

inline uint64_t read_stack_pointer() {
  uint64_t sp;
  asm volatile("mv %0, sp" : "=r"(sp));
  return sp;
}

// Frame pointer of the caller of this function (s0).
inline uint64_t read_frame_pointer() {
  uint64_t fp;
  asm volatile("mv %0, s0" : "=r"(fp));
  return fp;
}

// tp holds the executing hart's kern::Hart while in the kernel.
inline void write_thread_pointer(void* p) { asm volatile("mv tp, %0" ::"r"(p)); }
inline void* read_thread_pointer() {
  void* p;
  asm volatile("mv %0, tp" : "=r"(p));
  return p;
}

// Install the kernel trap vector (direct mode).
void install_trap_vector();

// Turn the FPU off (sstatus.FS = 0) so that any floating-point instruction
// in the kernel traps instead of silently clobbering user state.
inline void disable_fpu() { clear_sstatus(uint64_t{3} << 13); }

}  // namespace arch
