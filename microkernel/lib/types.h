// Addresses at the boundaries have their own types: a physical address cannot
// be passed where a virtual one is expected, or the other way round, without
// saying so. Both are plain 64-bit values underneath.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>

namespace kern {

inline constexpr uint64_t kPageShift = 12;
inline constexpr uint64_t kPageSize = uint64_t{1} << kPageShift;

constexpr bool is_power_of_two(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }
constexpr uint64_t align_down(uint64_t v, uint64_t align) { return v & ~(align - 1); }
constexpr uint64_t align_up(uint64_t v, uint64_t align) { return (v + align - 1) & ~(align - 1); }
constexpr bool is_aligned(uint64_t v, uint64_t align) { return (v & (align - 1)) == 0; }

template <typename Tag>
class Address {
 public:
  constexpr Address() = default;
  constexpr explicit Address(uint64_t value) : m_value(value) {}

  constexpr uint64_t value() const { return m_value; }
  constexpr Address operator+(uint64_t offset) const { return Address(m_value + offset); }
  constexpr Address operator-(uint64_t offset) const { return Address(m_value - offset); }
  constexpr uint64_t operator-(Address other) const { return m_value - other.m_value; }
  constexpr Address& operator+=(uint64_t offset) { m_value += offset; return *this; }
  constexpr auto operator<=>(const Address&) const = default;

  constexpr bool is_aligned(uint64_t align) const { return kern::is_aligned(m_value, align); }
  constexpr Address align_down(uint64_t align) const { return Address(kern::align_down(m_value, align)); }
  constexpr Address align_up(uint64_t align) const { return Address(kern::align_up(m_value, align)); }

 private:
  uint64_t m_value = 0;
};

using PhysAddr = Address<struct PhysAddrTag>;
using VirtAddr = Address<struct VirtAddrTag>;

// A half-open range [base, base + size) of physical memory.
struct PhysRange {
  PhysAddr base;
  uint64_t size = 0;

  constexpr PhysAddr end() const { return base + size; }
  constexpr bool contains(PhysAddr a) const { return a >= base && a - base < size; }
};

}  // namespace kern
