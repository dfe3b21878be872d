// What header-only libstdc++ and the C++ ABI need from a runtime without
// exceptions: misuse (string_view::substr out of range, a pure virtual call)
// is a bug in the program; it is reported on the debug console and the
// program stops on a breakpoint (a fault its handler sees).
#include "os/print.h"

namespace {
[[noreturn]] void stop(const char* what) {
  os::print("libos: fatal: {}\n", what);
  for (;;) asm volatile("ebreak");
}
}  // namespace

extern "C" void __cxa_pure_virtual() { stop("pure virtual function called"); }

namespace std {
[[noreturn]] void __throw_out_of_range_fmt(const char* what, ...) { stop(what); }
[[noreturn]] void __throw_out_of_range(const char* what) { stop(what); }
[[noreturn]] void __throw_length_error(const char* what) { stop(what); }
[[noreturn]] void __throw_bad_optional_access() { stop("bad optional access"); }
}  // namespace std
