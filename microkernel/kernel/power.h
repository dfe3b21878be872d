// Stopping the machine with an exit status the host can read: through the
// QEMU finisher when the device tree has one, else SBI system reset.
#pragma once

#include <cstdint>

namespace kern {

enum class ExitCode : uint16_t {
  Success = 0,
  TestFailure = 1,
  Panic = 3,
};

// `finisher_base` is the virtual address of the finisher, 0 if none.
void power_init(uintptr_t finisher_base);
[[noreturn]] void power_off(ExitCode code);

}  // namespace kern
