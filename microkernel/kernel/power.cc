#include "power.h"

#include "arch/riscv/cpu.h"
#include "arch/riscv/finisher.h"
#include "arch/riscv/sbi.h"

namespace kern {
namespace {
uintptr_t g_finisher = 0;
}

void power_init(uintptr_t finisher_base) { g_finisher = finisher_base; }

void power_off(ExitCode code) {
  arch::disable_interrupts();
  if (g_finisher != 0) arch::finisher_exit(g_finisher, static_cast<uint16_t>(code));
  arch::sbi::shutdown(code == ExitCode::Success ? arch::sbi::ResetReason::None
                                                : arch::sbi::ResetReason::SystemFailure);
  for (;;) arch::wait_for_interrupt();
}

}  // namespace kern
