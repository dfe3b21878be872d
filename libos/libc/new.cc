// C++'s allocation operators over malloc, for programs built with the SDK.
// Without exceptions a failed allocation cannot throw std::bad_alloc: the
// throwing forms end the program (abort) instead, the nothrow forms return
// nullptr as C++ says.
#include <stdio.h>
#include <stdlib.h>

#include <new>

namespace {
void* allocate(size_t size) {
  void* p = malloc(size == 0 ? 1 : size);
  if (p == nullptr) {
    fprintf(stderr, "operator new: out of memory (%zu bytes)\n", size);
    abort();
  }
  return p;
}
}  // namespace

void* operator new(size_t size) { return allocate(size); }
void* operator new[](size_t size) { return allocate(size); }
void* operator new(size_t size, const std::nothrow_t&) noexcept { return malloc(size == 0 ? 1 : size); }
void* operator new[](size_t size, const std::nothrow_t&) noexcept { return malloc(size == 0 ? 1 : size); }
void operator delete(void* p) noexcept { free(p); }
void operator delete[](void* p) noexcept { free(p); }
void operator delete(void* p, size_t) noexcept { free(p); }
void operator delete[](void* p, size_t) noexcept { free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { free(p); }
