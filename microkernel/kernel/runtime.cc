// The little a freestanding C++ kernel needs from a runtime beyond
// lib/freestanding_mem.cc: the pure-virtual trap, and the libstdc++
// "throw" helpers that header-only code (string_view::substr, optional::value)
// calls on misuse: without exceptions, misuse is a kernel bug and panics.
#include <cstddef>
#include <cstdint>

#include "kernel/panic.h"

extern "C" {

void __cxa_pure_virtual() { kern::panic("pure virtual function called"); }

}  // extern "C"

namespace std {

[[noreturn]] void __throw_out_of_range_fmt(const char* what, ...) { kern::panic("libstdc++: {}", what); }
[[noreturn]] void __throw_out_of_range(const char* what) { kern::panic("libstdc++: {}", what); }
[[noreturn]] void __throw_length_error(const char* what) { kern::panic("libstdc++: {}", what); }
[[noreturn]] void __throw_bad_optional_access() { kern::panic("libstdc++: bad optional access"); }

}  // namespace std
