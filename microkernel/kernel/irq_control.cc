// IrqControl and IrqHandler invocations.
//   IrqControlGet:             mr0 irq, mr1 destination index; cap0 the
//                              destination CNode (Write). One handler per
//                              source.
//   IrqHandlerSetNotification: cap0 a Notification (Write): the interrupt
//                              will signal it; the source is enabled
//   IrqHandlerAck:             the driver handled it: the source may fire again
//   IrqHandlerClear:           unbind and disable
#include "kernel/invoke.h"
#include "kernel/irq.h"

namespace kern {

Status invoke_irq_control(Invocation& inv) {
  TRY(require_rights(inv, Rights::Write));
  const uint64_t irq = TRY(inv.mr(0));
  const uint64_t index = TRY(inv.mr(1));
  Slot* cnode = TRY(inv.extra_cap(0));
  if (cnode->cap.type() != ObjectType::CNode) return fail(Error::InvalidCapability);
  if (!uapi::has(cnode->cap.rights(), Rights::Write)) return fail(Error::IllegalOperation);
  if (irq == 0 || irq >= irq_source_count()) return fail(Error::RangeError);
  Slot* dest = TRY(cnode_lookup(cnode->cap, index));
  if (!dest->empty()) return fail(Error::DeleteFirst);
  IrqEntry& entry = irq_entry(static_cast<uint32_t>(irq));
  if (entry.issued) return fail(Error::RevokeFirst);
  entry.issued = true;
  entry.dying = 0;
  // The handler cap is a CDT root: it is not derived from IrqControl's
  // memory, and deleting its last copy frees the source for another Get.
  cdt_insert_root(*dest, irq_handler_cap(static_cast<uint32_t>(irq)));
  return {};
}

Status invoke_irq_handler(Invocation& inv) {
  TRY(require_rights(inv, Rights::Write));
  const uint32_t irq = inv.cap().irq();
  IrqEntry& entry = irq_entry(irq);
  switch (inv.label()) {
    case uapi::Label::IrqHandlerSetNotification: {
      Slot* notification = TRY(inv.extra_cap(0));
      if (notification->cap.type() != ObjectType::Notification) return fail(Error::InvalidCapability);
      if (!uapi::has(notification->cap.rights(), Rights::Write)) return fail(Error::IllegalOperation);
      if (notification->depth() >= kMaxDepth) return fail(Error::RangeError);
      cap_delete(entry.binding, object_hooks());
      (void)cap_copy(*notification, entry.binding, Rights::All);
      irq_set_enabled(irq, true);
      return {};
    }
    case uapi::Label::IrqHandlerAck:
      irq_ack(irq);
      return {};
    case uapi::Label::IrqHandlerClear:
      irq_set_enabled(irq, false);
      cap_delete(entry.binding, object_hooks());
      irq_ack(irq);
      return {};
    default:
      return fail(Error::IllegalOperation);
  }
}

}  // namespace kern
