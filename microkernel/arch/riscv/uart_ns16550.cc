// NS16550A register use: THR/RBR at 0, IER at 1, FCR at 2, LCR at 3, LSR at 5
// (bit 0 data ready, bit 5 transmit holding register empty).
#include "uart_ns16550.h"

namespace arch {
namespace {
constexpr unsigned kData = 0, kIer = 1, kFcr = 2, kLcr = 3, kLsr = 5;
constexpr uint8_t kLsrDataReady = 1 << 0;
constexpr uint8_t kLsrThrEmpty = 1 << 5;
constexpr uint8_t kLcr8N1 = 0x03;
constexpr uint8_t kFcrEnableAndClear = 0x07;
}  // namespace

void Ns16550::init(uintptr_t base) {
  m_base = base;
  *reg(kIer) = 0;  // no interrupts until a driver asks for them
  *reg(kLcr) = kLcr8N1;
  *reg(kFcr) = kFcrEnableAndClear;
}

void Ns16550::put(char c) {
  while ((*reg(kLsr) & kLsrThrEmpty) == 0) {
  }
  *reg(kData) = static_cast<uint8_t>(c);
}

std::optional<char> Ns16550::get() {
  if ((*reg(kLsr) & kLsrDataReady) == 0) return std::nullopt;
  return static_cast<char>(*reg(kData));
}

}  // namespace arch
