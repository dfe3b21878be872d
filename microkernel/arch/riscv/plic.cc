#include "plic.h"

namespace arch {
namespace {
constexpr uintptr_t kPriority = 0;
constexpr uintptr_t kEnable = 0x2000;
constexpr uintptr_t kEnableStride = 0x80;
constexpr uintptr_t kContext = 0x200000;
constexpr uintptr_t kContextStride = 0x1000;
constexpr uintptr_t kThreshold = 0;
constexpr uintptr_t kClaim = 4;
}  // namespace

void Plic::init(uintptr_t base, uint64_t hart_id, uint32_t source_count) {
  m_base = base;
  m_context = 2 * hart_id + 1;
  m_sources = source_count;
  for (uint32_t irq = 1; irq < m_sources; ++irq) disable(irq);
  *word(kContext + kContextStride * m_context + kThreshold) = 0;
}

void Plic::enable(uint32_t irq) {
  *word(kPriority + 4 * irq) = 1;
  volatile uint32_t* bits = word(kEnable + kEnableStride * m_context + 4 * (irq / 32));
  *bits = *bits | (1u << (irq % 32));
}

void Plic::disable(uint32_t irq) {
  volatile uint32_t* bits = word(kEnable + kEnableStride * m_context + 4 * (irq / 32));
  *bits = *bits & ~(1u << (irq % 32));
}

uint32_t Plic::claim() { return *word(kContext + kContextStride * m_context + kClaim); }
void Plic::complete(uint32_t irq) { *word(kContext + kContextStride * m_context + kClaim) = irq; }

}  // namespace arch
