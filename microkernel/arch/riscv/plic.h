// The platform-level interrupt controller (PLIC, RISC-V PLIC specification
// v1.0.0): per-source priority at base + 4*irq, per-context enable bits at
// base + 0x2000 + 0x80*context, threshold and claim/complete at
// base + 0x200000 + 0x1000*context. On QEMU virt the S-mode context of
// hart h is 2h + 1.
#pragma once

#include <cstdint>

namespace arch {

class Plic {
 public:
  void init(uintptr_t base, uint64_t hart_id, uint32_t source_count);
  bool ready() const { return m_base != 0; }
  uint32_t source_count() const { return m_sources; }
  void enable(uint32_t irq);
  void disable(uint32_t irq);
  uint32_t claim();              // 0: nothing pending
  void complete(uint32_t irq);

 private:
  volatile uint32_t* word(uintptr_t offset) const { return reinterpret_cast<volatile uint32_t*>(m_base + offset); }
  uintptr_t m_base = 0;
  uint64_t m_context = 0;
  uint32_t m_sources = 0;
};

}  // namespace arch
