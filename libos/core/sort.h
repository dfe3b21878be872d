// qsort and bsearch, as pure code over the caller's comparison function.
#pragma once

#include <cstddef>

namespace os::libc {

using Compare = int (*)(const void* a, const void* b);

// qsort: sorts `count` elements of `size` bytes in place, in O(n log n)
// comparisons whatever the input (heapsort: no worst case, no recursion,
// no memory). Not stable, which C allows.
void sort(void* base, size_t count, size_t size, Compare compare);

// bsearch: an element equal to *key in the sorted array, or nullptr.
void* binary_search(const void* key, const void* base, size_t count, size_t size, Compare compare);

}  // namespace os::libc
