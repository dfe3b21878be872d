// SystemControl: the root task's power over the machine.
//   SystemShutdown: mr0 exit status for the host (QEMU finisher): 0 success
//   SystemReadCounters (Read): reply mr0 instructions retired in S-mode
//                 since boot, mr1 instret now
#include "arch/riscv/cpu.h"
#include "kernel/console.h"
#include "kernel/hart.h"
#include "kernel/invoke.h"
#include "kernel/power.h"

namespace kern {

Status invoke_system(Invocation& inv) {
  if (inv.label() == uapi::Label::SystemReadCounters) {
    TRY(require_rights(inv, Rights::Read));
    const uint64_t now = arch::read_instret();
    inv.reply(0, kernel_instructions(this_hart(), now));
    inv.reply(1, now);
    return {};
  }
  TRY(require_rights(inv, Rights::Write));
  if (inv.label() != uapi::Label::SystemShutdown) return fail(Error::IllegalOperation);
  const uint64_t code = TRY(inv.mr(0));
  if (code > 0xffff) return fail(Error::RangeError);
  kprint("system shutdown requested by user space, status {}\n", code);
  power_off(static_cast<ExitCode>(code));
}

}  // namespace kern
