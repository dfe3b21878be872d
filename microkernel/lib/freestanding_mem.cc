// The C memory functions GCC may emit calls to, or that libstdc++'s
// header-only parts use (char_traits), for code with no libc: linked into
// the kernel and into libos (every user program). Not part of kernlib_host
// (the host has its libc). This file only gives them their C names: the
// byte loops are libos/core/cstring.cc's, the one implementation, which
// meson compiles with this file (microkernel/meson.build, freestanding_mem)
// and tests/unit/libc_core_test.cc checks against glibc on the host.
#include <cstddef>

#include "../../libos/core/cstring.h"

extern "C" {

void* memset(void* dest, int value, size_t n) { return os::libc::memset(dest, value, n); }
void* memcpy(void* dest, const void* src, size_t n) { return os::libc::memcpy(dest, src, n); }
void* memmove(void* dest, const void* src, size_t n) { return os::libc::memmove(dest, src, n); }
int memcmp(const void* a, const void* b, size_t n) { return os::libc::memcmp(a, b, n); }
void* memchr(const void* s, int c, size_t n) { return os::libc::memchr(s, c, n); }
size_t strlen(const char* s) { return os::libc::strlen(s); }

}  // extern "C"
