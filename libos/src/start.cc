// C++ start-up: constructors, then main(arg). A program that returns from
// main has no exit call to make yet (procmgr's protocol has no EXIT): it
// stops on a breakpoint, which the kernel reports as a fault to its fault
// handler (procmgr, for the servers), or suspends it if it has none.
#include <cstdint>

extern "C" void (*__init_array_start[])();
extern "C" void (*__init_array_end[])();

int main(uint64_t start_arg);

extern "C" [[noreturn]] void os_start(uint64_t start_arg) {
  for (auto* ctor = __init_array_start; ctor != __init_array_end; ++ctor) (*ctor)();
  main(start_arg);
  for (;;) asm volatile("ebreak");  // FIXME: exit through procmgr once it exists
}
