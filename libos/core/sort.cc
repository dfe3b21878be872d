// Heapsort for qsort, binary search for bsearch (see sort.h).
#include "sort.h"

namespace os::libc {
namespace {

void swap_bytes(char* a, char* b, size_t size) {
  for (size_t i = 0; i < size; ++i) {
    const char t = a[i];
    a[i] = b[i];
    b[i] = t;
  }
}

// Restores the max-heap property below `root` in the heap [0, end).
void sift_down(char* base, size_t root, size_t end, size_t size, Compare compare) {
  for (size_t child; (child = 2 * root + 1) < end; root = child) {
    if (child + 1 < end && compare(base + child * size, base + (child + 1) * size) < 0) ++child;
    if (compare(base + root * size, base + child * size) >= 0) return;
    swap_bytes(base + root * size, base + child * size, size);
  }
}

}  // namespace

void sort(void* base, size_t count, size_t size, Compare compare) {
  if (count < 2 || size == 0) return;
  auto* a = static_cast<char*>(base);
  for (size_t start = count / 2; start-- > 0;) sift_down(a, start, count, size, compare);
  for (size_t end = count - 1; end > 0; --end) {
    swap_bytes(a, a + end * size, size);
    sift_down(a, 0, end, size, compare);
  }
}

void* binary_search(const void* key, const void* base, size_t count, size_t size, Compare compare) {
  const auto* a = static_cast<const char*>(base);
  while (count > 0) {
    const char* middle = a + (count / 2) * size;
    const int order = compare(key, middle);
    if (order == 0) return const_cast<char*>(middle);
    if (order > 0) {
      a = middle + size;
      count -= count / 2 + 1;
    } else {
      count /= 2;
    }
  }
  return nullptr;
}

}  // namespace os::libc
