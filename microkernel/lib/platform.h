// The facts about the machine the kernel needs at boot, read from the device
// tree: RAM, what must not be allocated, the console UART, the interrupt
// controller, the timer frequency, the test finisher (for QEMU exit status)
// and bootargs. Nothing here is a compile-time constant of the board.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "bootargs.h"
#include "fdt.h"
#include "result.h"
#include "types.h"

namespace kern {

inline constexpr size_t kMaxMemoryRanges = 8;
inline constexpr size_t kMaxReservedRanges = 16;

struct Device {
  PhysRange mmio;
  uint32_t irq = 0;  // 0 when the node has no "interrupts"
};

struct PlatformInfo {
  std::array<PhysRange, kMaxMemoryRanges> memory{};
  size_t memory_count = 0;
  // /memreserve/ entries and /reserved-memory children with a "reg"
  // (OpenSBI's own region among them).
  std::array<PhysRange, kMaxReservedRanges> reserved{};
  size_t reserved_count = 0;

  std::string_view bootargs;         // /chosen bootargs, "" if absent
  uint64_t timebase_frequency = 0;   // /cpus timebase-frequency (Hz)
  size_t hart_count = 0;             // /cpus/cpu@N nodes

  std::optional<Device> uart;        // compatible "ns16550a"; /chosen stdout-path first
  std::optional<Device> plic;        // compatible "riscv,plic0" or "sifive,plic-1.0.0"
  std::optional<Device> test_finisher;  // compatible "sifive,test0"
  uint32_t plic_sources = 0;         // PLIC "riscv,ndev" + 1 (source 0 does not exist)
  // The boot archive loaded by the firmware (QEMU -initrd): /chosen
  // linux,initrd-start and linux,initrd-end, each 32 or 64 bits.
  std::optional<PhysRange> initrd;

  uint64_t total_memory() const;
};

// Errors: Malformed for a tree that lacks /memory or /cpus timebase-frequency
// or whose entries are out of range; RangeError when there are more memory or
// reserved ranges than the arrays hold.
Result<PlatformInfo> read_platform(const fdt::Fdt& tree);


}  // namespace kern
