// The console UART, an NS16550A as QEMU's virt machine has it (byte-wide
// registers, no register shift), mapped by procmgr at boot_caps::kVfsUartVa.
// The one place vfs touches device registers. Output is polled: vfs writes
// a character when the transmit holding register is empty, which on QEMU is
// always at once. Input is by interrupt: the console thread enables the
// receive interrupt, waits on the IRQ notification and drains the receive
// register. The main thread only writes (THR) and the console thread only
// reads (RBR); both read LSR, which is harmless.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "vfs/console.h"

namespace vfs {

class Uart final : public ConsoleOutput {
 public:
  explicit Uart(uint64_t va) : m_regs(reinterpret_cast<volatile uint8_t*>(va)) {}

  // Polled output, "\n" sent as "\r\n" (a terminal needs both).
  void write(std::span<const std::byte> bytes) override {
    for (std::byte b : bytes) {
      if (b == std::byte{'\n'}) put('\r');
      put(std::to_integer<uint8_t>(b));
    }
  }

  bool has_input() const { return (m_regs[kLsr] & kLsrDataReady) != 0; }
  uint8_t get() const { return m_regs[kRbr]; }
  // Ask for an interrupt whenever a character arrives.
  void enable_receive_interrupt() { m_regs[kIer] = kIerReceive; }

 private:
  // Register offsets; RBR (read) and THR (write) share 0.
  static constexpr size_t kRbr = 0, kThr = 0, kIer = 1, kLsr = 5;
  static constexpr uint8_t kIerReceive = 1 << 0;
  static constexpr uint8_t kLsrDataReady = 1 << 0;
  static constexpr uint8_t kLsrThrEmpty = 1 << 5;

  void put(uint8_t c) {
    while ((m_regs[kLsr] & kLsrThrEmpty) == 0) {
    }
    m_regs[kThr] = c;
  }

  volatile uint8_t* m_regs;
};

}  // namespace vfs
