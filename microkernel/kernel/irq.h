// Interrupts for user space. IrqControl hands out one IrqHandler capability
// per interrupt source; a handler is bound to a notification (a capability
// copy kept in the kernel's IRQ table, so revoking the notification unbinds
// it). When the interrupt fires the kernel claims it at the PLIC and signals
// the notification; the source stays claimed, so it cannot fire again,
// until the driver acknowledges it with IrqHandlerAck.
#pragma once

#include <cstdint>
#include <span>

#include "lib/cap.h"

namespace kern {

inline constexpr uint32_t kMaxIrqs = 128;

struct IrqEntry {
  uint64_t dying;           // for the capability core (binding is a contained slot)
  Capability dying_next;
  Slot binding;             // the notification, empty if unbound
  bool issued;              // an IrqHandler cap exists
  bool claimed;             // claimed at the PLIC, waiting for Ack
};

void irq_init(uintptr_t plic_base, uint64_t hart_id, uint32_t sources);
uint32_t irq_source_count();
IrqEntry& irq_entry(uint32_t irq);
PhysAddr irq_entry_phys(uint32_t irq);
IrqEntry& irq_entry_of(const Capability& handler);
// The IrqHandler cap of `irq`, once issued.
Capability irq_handler_cap(uint32_t irq);

void irq_handle_external();  // from the trap handlers
void irq_ack(uint32_t irq);
void irq_set_enabled(uint32_t irq, bool enabled);

}  // namespace kern
