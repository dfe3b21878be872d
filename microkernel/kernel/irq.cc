#include "irq.h"

#include "arch/riscv/cpu.h"
#include "arch/riscv/memlayout.h"
#include "arch/riscv/plic.h"
#include "kernel/ipc.h"
#include "lib/kmem.h"

namespace kern {
namespace {
arch::Plic g_plic;
IrqEntry g_irqs[kMaxIrqs];
uint64_t g_spurious = 0;
}  // namespace

void irq_init(uintptr_t plic_base, uint64_t hart_id, uint32_t sources) {
  if (sources > kMaxIrqs) sources = kMaxIrqs;
  g_plic.init(plic_base, hart_id, sources);
  arch::set_sie(arch::sie::SEIE::kMask);
}

uint32_t irq_source_count() { return g_plic.ready() ? g_plic.source_count() : 0; }
PhysAddr irq_entry_phys(uint32_t irq) { return arch::kernel_virt_to_phys(&g_irqs[irq]); }
// Always through the direct map, like every other object holding slots, so
// that a slot has one address in the CDT links.
IrqEntry& irq_entry(uint32_t irq) { return *phys_to_ptr<IrqEntry>(irq_entry_phys(irq)); }

IrqEntry& irq_entry_of(const Capability& handler) { return irq_entry(handler.irq()); }

Capability irq_handler_cap(uint32_t irq) {
  return Capability::make(ObjectType::IrqHandler, irq_entry_phys(irq), Rights::All,
                          Capability::IrqNumber::set(0, irq));
}

void irq_handle_external() {
  while (const uint32_t irq = g_plic.claim()) {
    IrqEntry& entry = irq_entry(irq < kMaxIrqs ? irq : 0);
    if (irq >= kMaxIrqs || entry.binding.empty()) {
      ++g_spurious;
      g_plic.complete(irq);
      continue;
    }
    entry.claimed = true;
    notification_signal(entry.binding.cap);
  }
}

void irq_ack(uint32_t irq) {
  IrqEntry& entry = irq_entry(irq);
  if (entry.claimed) {
    entry.claimed = false;
    g_plic.complete(irq);
  }
}

void irq_set_enabled(uint32_t irq, bool enabled) {
  if (enabled) g_plic.enable(irq);
  else g_plic.disable(irq);
}

}  // namespace kern
