#include "timer.h"

#include "arch/riscv/cpu.h"
#include "arch/riscv/sbi.h"
#include "kernel/hart.h"

namespace kern {
namespace {
uint64_t g_interval = 0;
}

void timer_init(uint64_t timebase_hz) {
  g_interval = timebase_hz / kTickHz;
  Hart& hart = this_hart();
  hart.next_timer = arch::read_time() + g_interval;
  arch::sbi::set_timer(hart.next_timer);
  arch::set_sie(arch::sie::STIE::kMask);
}

void timer_interrupt() {
  Hart& hart = this_hart();
  ++hart.timer_ticks;
  // Schedule from the previous deadline so ticks do not drift; if we fell
  // behind by more than a tick, skip ahead rather than fire a burst.
  hart.next_timer += g_interval;
  const uint64_t now = arch::read_time();
  if (hart.next_timer <= now) hart.next_timer = now + g_interval;
  arch::sbi::set_timer(hart.next_timer);
}

uint64_t timer_ticks() { return this_hart().timer_ticks; }
uint64_t timer_interval() { return g_interval; }

}  // namespace kern
