// Calls into the SBI firmware (OpenSBI) with ecall. References: RISC-V SBI
// specification v1.0: Base (0x10), Timer "TIME" (0x54494D45), System Reset
// "SRST" (0x53525354), and the legacy console putchar (0x01) used only when
// no UART is known (very early boot and last-resort panic output).
#pragma once

#include <cstdint>

namespace arch::sbi {

struct Ret {
  int64_t error;  // 0 = SBI_SUCCESS
  int64_t value;
};

enum class Extension : uint64_t {
  LegacyPutchar = 0x01,
  Base = 0x10,
  Timer = 0x54494D45,
  SystemReset = 0x53525354,
};

Ret call(Extension ext, uint64_t fid, uint64_t a0 = 0, uint64_t a1 = 0, uint64_t a2 = 0);

uint64_t spec_version();    // major in bits 30:24, minor in 23:0
uint64_t impl_id();         // 1 = OpenSBI
uint64_t impl_version();    // OpenSBI: major << 16 | minor
bool has_extension(Extension ext);

// Program the next timer interrupt at absolute `time` value.
void set_timer(uint64_t when);
void legacy_putchar(char c);

enum class ResetReason : uint64_t { None = 0, SystemFailure = 1 };
// Shut the machine down. Returns only if the firmware refused.
void shutdown(ResetReason reason);

}  // namespace arch::sbi
