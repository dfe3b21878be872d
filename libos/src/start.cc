// C++ start-up: constructors, then main(arg). A program that returns from
// main has nothing to return to yet (no process manager): it stops on a
// breakpoint, which the kernel reports as a fault (and suspends the thread
// if nobody handles it).
#include <cstdint>

extern "C" void (*__init_array_start[])();
extern "C" void (*__init_array_end[])();

int main(uint64_t start_arg);

extern "C" [[noreturn]] void os_start(uint64_t start_arg) {
  for (auto* ctor = __init_array_start; ctor != __init_array_end; ++ctor) (*ctor)();
  main(start_arg);
  for (;;) asm volatile("ebreak");  // FIXME: exit through procmgr once it exists
}
