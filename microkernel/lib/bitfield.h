// Bit fields of hardware words (PTEs, CSRs, capability words) are declared
// once as BitField<lowest bit, width>; nobody writes the shifts by hand.
#pragma once

#include <cstdint>

namespace kern {

template <unsigned Lo, unsigned Width>
struct BitField {
  static_assert(Width > 0 && Lo + Width <= 64);
  static constexpr uint64_t kMask = (Width == 64 ? ~uint64_t{0} : ((uint64_t{1} << Width) - 1)) << Lo;

  static constexpr uint64_t get(uint64_t word) { return (word & kMask) >> Lo; }
  static constexpr uint64_t set(uint64_t word, uint64_t value) {
    return (word & ~kMask) | ((value << Lo) & kMask);
  }
  static constexpr bool fits(uint64_t value) { return ((value << Lo) >> Lo) == value && (value << Lo & ~kMask) == 0; }
};

template <unsigned Bit>
using BitFlag = BitField<Bit, 1>;

}  // namespace kern
