// Driver for the NS16550A-compatible UART of QEMU's virt machine (registers
// one byte apart). Polled output for the kernel console; input comes later
// through an interrupt handed to user space.
#pragma once

#include <cstdint>
#include <optional>

namespace arch {

class Ns16550 {
 public:
  // `base` is the virtual address of the register block.
  void init(uintptr_t base);
  bool ready() const { return m_base != 0; }
  void put(char c);
  std::optional<char> get();

 private:
  volatile uint8_t* reg(unsigned index) const { return reinterpret_cast<volatile uint8_t*>(m_base + index); }
  uintptr_t m_base = 0;
};

}  // namespace arch
