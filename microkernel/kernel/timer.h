// The periodic tick: an SBI timer interrupt every 1/kTickHz seconds, counted
// per hart. The scheduler will preempt on it.
#pragma once

#include <cstdint>

namespace kern {

inline constexpr uint64_t kTickHz = 100;

// Start ticking; `timebase_hz` is the device tree's timebase-frequency.
void timer_init(uint64_t timebase_hz);
// Called from the trap handler on a supervisor timer interrupt.
void timer_interrupt();
uint64_t timer_ticks();
uint64_t timer_interval();  // `time` units per tick

}  // namespace kern
