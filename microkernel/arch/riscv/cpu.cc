// Trap vector installation and names for trap causes.
#include "cpu.h"

extern "C" void trap_entry();

namespace arch {

void install_trap_vector() {
  // stvec MODE (bits 1:0) = 0: direct; trap.S's entry is 4-byte aligned.
  // sscratch = 0: we are in the kernel.
  asm volatile("csrw sscratch, zero");
  write_stvec(reinterpret_cast<uint64_t>(&trap_entry));
}

const char* cause_name(uint64_t value) {
  const uint64_t code = scause::Code::get(value);
  if (scause::Interrupt::get(value)) {
    switch (static_cast<Interrupt>(code)) {
      case Interrupt::SupervisorSoftware: return "supervisor software interrupt";
      case Interrupt::SupervisorTimer: return "supervisor timer interrupt";
      case Interrupt::SupervisorExternal: return "supervisor external interrupt";
    }
    return "unknown interrupt";
  }
  switch (static_cast<Exception>(code)) {
    case Exception::InstructionMisaligned: return "instruction address misaligned";
    case Exception::InstructionAccessFault: return "instruction access fault";
    case Exception::IllegalInstruction: return "illegal instruction";
    case Exception::Breakpoint: return "breakpoint";
    case Exception::LoadMisaligned: return "load address misaligned";
    case Exception::LoadAccessFault: return "load access fault";
    case Exception::StoreMisaligned: return "store/AMO address misaligned";
    case Exception::StoreAccessFault: return "store/AMO access fault";
    case Exception::EcallFromU: return "environment call from U-mode";
    case Exception::EcallFromS: return "environment call from S-mode";
    case Exception::InstructionPageFault: return "instruction page fault";
    case Exception::LoadPageFault: return "load page fault";
    case Exception::StorePageFault: return "store/AMO page fault";
  }
  return "unknown exception";
}

}  // namespace arch
