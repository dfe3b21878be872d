#include "finisher.h"

namespace arch {

void finisher_exit(uintptr_t base, uint16_t code) {
  constexpr uint32_t kPass = 0x5555;
  constexpr uint32_t kFail = 0x3333;
  const uint32_t value = code == 0 ? kPass : (uint32_t{code} << 16) | kFail;
  *reinterpret_cast<volatile uint32_t*>(base) = value;
}

}  // namespace arch
