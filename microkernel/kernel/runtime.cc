// The little a freestanding C++ kernel needs from a runtime: the memory
// functions GCC may emit calls to, the pure-virtual trap, and the libstdc++
// "throw" helpers that header-only code (string_view::substr, optional::value)
// calls on misuse: without exceptions, misuse is a kernel bug and panics.
#include <cstddef>
#include <cstdint>

#include "kernel/panic.h"

extern "C" {

void* memset(void* dest, int value, size_t n) {
  auto* d = static_cast<unsigned char*>(dest);
  for (size_t i = 0; i < n; ++i) d[i] = static_cast<unsigned char>(value);
  return dest;
}

void* memcpy(void* dest, const void* src, size_t n) {
  auto* d = static_cast<unsigned char*>(dest);
  const auto* s = static_cast<const unsigned char*>(src);
  for (size_t i = 0; i < n; ++i) d[i] = s[i];
  return dest;
}

void* memmove(void* dest, const void* src, size_t n) {
  auto* d = static_cast<unsigned char*>(dest);
  const auto* s = static_cast<const unsigned char*>(src);
  if (d < s) {
    for (size_t i = 0; i < n; ++i) d[i] = s[i];
  } else {
    for (size_t i = n; i > 0; --i) d[i - 1] = s[i - 1];
  }
  return dest;
}

int memcmp(const void* a, const void* b, size_t n) {
  const auto* x = static_cast<const unsigned char*>(a);
  const auto* y = static_cast<const unsigned char*>(b);
  for (size_t i = 0; i < n; ++i) {
    if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
  }
  return 0;
}

void* memchr(const void* s, int c, size_t n) {
  const auto* p = static_cast<const unsigned char*>(s);
  for (size_t i = 0; i < n; ++i) {
    if (p[i] == static_cast<unsigned char>(c)) return const_cast<unsigned char*>(p + i);
  }
  return nullptr;
}

size_t strlen(const char* s) {
  size_t n = 0;
  while (s[n] != '\0') ++n;
  return n;
}

void __cxa_pure_virtual() { kern::panic("pure virtual function called"); }

}  // extern "C"

namespace std {

[[noreturn]] void __throw_out_of_range_fmt(const char* what, ...) { kern::panic("libstdc++: {}", what); }
[[noreturn]] void __throw_out_of_range(const char* what) { kern::panic("libstdc++: {}", what); }
[[noreturn]] void __throw_length_error(const char* what) { kern::panic("libstdc++: {}", what); }
[[noreturn]] void __throw_bad_optional_access() { kern::panic("libstdc++: bad optional access"); }

}  // namespace std
