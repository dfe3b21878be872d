// Panics: for broken kernel invariants only, never for bad input from user
// space. A panic prints the message, the hart, a register dump (for an
// unexpected trap) and a frame-pointer backtrace in a fixed format that
// scripts/symbolize.py turns into function names and source lines, then
// powers off with ExitCode::Panic.
#pragma once

#include <string_view>

#include "arch/riscv/cpu.h"
#include "kernel/console.h"

namespace kern {

[[noreturn]] void panic_report(std::string_view message, uint64_t frame_pointer);
[[noreturn]] void panic_trap(const arch::TrapFrame& frame);

template <typename... Args>
[[noreturn]] __attribute__((noinline)) void panic(std::string_view fmt, const Args&... args) {
  char buffer[256];
  BufferSink sink(buffer);
  format(sink, fmt, args...);
  panic_report(sink.view(), arch::read_frame_pointer());
}

// Broken invariant: panics with the condition and location.
#define KASSERT(cond)                                                               \
  do {                                                                              \
    if (!(cond)) ::kern::panic("assertion failed: {} at {}:{}", #cond, __FILE__, __LINE__); \
  } while (0)

}  // namespace kern
