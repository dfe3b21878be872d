// Interrupts: IrqControlGet hands out one IrqHandler per source; a handler
// is bound to a notification, which the kernel signals when the interrupt
// fires; the source stays masked until IrqHandlerAck.
//
// uart_receive goes end to end with the console UART: the test maps the
// UART's registers (a frame of the device untyped at BootInfo.uart_paddr),
// enables its receive interrupt and waits; the system test types a
// character on QEMU's stdin (run_test.py --input) once the test says it is
// waiting. It runs only when bootargs say which character to expect
// (ktest.uart_input=C), and is skipped otherwise.
#include "ktest.h"
#include "os/print.h"

namespace {

using namespace kt;

uint64_t uart_irq() { return env().info->uart_irq; }

KTEST(irq, control_errors) {
  const uint64_t sources = env().info->irq_sources;
  CHECK(sources > uart_irq());
  const uint64_t dest = t.slot();
  CHECK_ERR(irq_get(0, dest), Error::RangeError);
  CHECK_ERR(irq_get(sources, dest), Error::RangeError);
  CHECK_ERR(irq_get(uint64_t{1} << 40, dest), Error::RangeError);
  CHECK_ERR(irq_get(~uint64_t{0}, dest), Error::RangeError);
  // The destination: an empty slot of a CNode.
  CHECK_ERR(irq_get(uart_irq(), kRootTcb), Error::DeleteFirst);
  CHECK_ERR(irq_get(uart_irq(), 0), Error::RangeError);
  CHECK_ERR(irq_get(uart_irq(), uint64_t{1} << env().info->root_cnode_radix), Error::RangeError);
  const uint64_t frame = KT_TRY(t.make(ObjectType::Frame));
  CHECK_ERR(irq_get(uart_irq(), dest, frame), Error::InvalidCapability);
  CHECK_ERR(call(kIrqControl, Label::IrqControlGet, {uart_irq()}, {kRootCNode}), Error::TruncatedMessage);
  CHECK_ERR(call(kIrqControl, Label::IrqControlGet, {uart_irq(), dest}), Error::TruncatedMessage);
  CHECK_ERR(call(kIrqControl, Label::IrqHandlerAck, {}), Error::IllegalOperation);
  // The destination CNode needs Write.
  const uint64_t ro_cnode = t.slot();
  CHECK_OK(copy(ro_cnode, kRootCNode, Rights::Read));
  CHECK_ERR(irq_get(uart_irq(), dest, ro_cnode), Error::IllegalOperation);
  // None of that issued a handler.
  CHECK_OK(irq_get(uart_irq(), dest));
}

// One handler per source, until its last cap is deleted.
KTEST(irq, handler_unique) {
  const uint64_t first = t.slot(), second = t.slot(), copy_of = t.slot();
  CHECK_OK(irq_get(uart_irq(), first));
  CHECK_ERR(irq_get(uart_irq(), second), Error::RevokeFirst);
  // Another source is independent.
  const uint64_t other_irq = uart_irq() == 1 ? 2 : 1;
  CHECK_OK(irq_get(other_irq, second));
  CHECK_OK(del(second));
  // A copy keeps the source taken when the original goes.
  CHECK_OK(copy(copy_of, first, Rights::All));
  CHECK_OK(del(first));
  CHECK_ERR(irq_get(uart_irq(), second), Error::RevokeFirst);
  CHECK_OK(del(copy_of));
  CHECK_OK(irq_get(uart_irq(), second));
}

KTEST(irq, handler_errors) {
  const uint64_t handler = t.slot();
  CHECK_OK(irq_get(uart_irq(), handler));
  const uint64_t ntfn = KT_TRY(t.make(ObjectType::Notification));
  const uint64_t ep = KT_TRY(t.make(ObjectType::Endpoint));
  CHECK_ERR(irq_set_notification(handler, ep), Error::InvalidCapability);
  CHECK_ERR(irq_set_notification(handler, t.slot()), Error::FailedLookup);
  CHECK_ERR(call(handler, Label::IrqHandlerSetNotification, {}), Error::TruncatedMessage);
  const uint64_t ro_ntfn = t.slot();
  CHECK_OK(copy(ro_ntfn, ntfn, Rights::Read));
  CHECK_ERR(irq_set_notification(handler, ro_ntfn), Error::IllegalOperation);
  // A handler cap without Write can do nothing.
  const uint64_t ro = t.slot();
  CHECK_OK(copy(ro, handler, Rights::Read));
  CHECK_ERR(irq_set_notification(ro, ntfn), Error::IllegalOperation);
  CHECK_ERR(irq_ack(ro), Error::IllegalOperation);
  CHECK_ERR(irq_clear(ro), Error::IllegalOperation);
  CHECK_ERR(call(handler, Label::IrqControlGet, {1, 1}, {kRootCNode}), Error::IllegalOperation);
  // The right calls, in any order, and again.
  CHECK_OK(irq_ack(handler));
  CHECK_OK(irq_set_notification(handler, ntfn));
  CHECK_OK(irq_set_notification(handler, ntfn));  // rebinding is fine
  CHECK_OK(irq_ack(handler));
  CHECK_OK(irq_clear(handler));
  CHECK_OK(irq_clear(handler));
  // Deleting the notification unbinds it (the kernel's copy goes with a revoke).
  CHECK_OK(irq_set_notification(handler, ntfn));
  CHECK_OK(revoke(ntfn));
  CHECK_OK(del(ntfn));
}

// NS16550A registers (byte-wide): RBR at 0, IER at 1, LSR at 5.
constexpr uint64_t kRbr = 0, kIer = 1, kLsr = 5;
constexpr uint8_t kIerReceive = 1 << 0;
constexpr uint8_t kLsrDataReady = 1 << 0;

Result<uint64_t> map_uart(Test& t) {
  const uapi::BootInfo& info = *env().info;
  for (uint64_t i = 0; i < info.untyped.count; ++i) {
    const uapi::UntypedDesc& desc = info.untyped_list[i];
    if (!desc.device || desc.paddr != info.uart_paddr) continue;
    const uint64_t frame = t.slot();
    TRY_ERROR(retype(info.untyped.first + i, ObjectType::Frame, 0, 1, frame));
    const uint64_t va = t.va(1);
    TRY_ERROR(map(kRootVSpace, va, frame, 1, kRW));
    return va;
  }
  return std::unexpected(Error::NotFound);
}

KTEST(irq, uart_receive) {
  if (!env().uart_input) return t.skip("no ktest.uart_input=C in bootargs: nobody types");
  const uint64_t va = KT_TRY(map_uart(t));
  volatile uint8_t* uart = reinterpret_cast<volatile uint8_t*>(va);
  const uint64_t handler = t.slot();
  CHECK_OK(irq_get(uart_irq(), handler));
  const uint64_t ntfn = KT_TRY(t.make(ObjectType::Notification));
  CHECK_OK(irq_set_notification(handler, ntfn));
  while ((uart[kLsr] & kLsrDataReady) != 0) (void)uart[kRbr];  // nothing old
  CHECK_EQ(poll(ntfn).badge, 0);
  uart[kIer] = kIerReceive;
  os::print("ktest-user: waiting for UART input\n");
  const Message m = wait(ntfn);
  CHECK_OK(m);
  CHECK_EQ(m.badge, 1);
  CHECK((uart[kLsr] & kLsrDataReady) != 0);
  const char c = static_cast<char>(uart[kRbr]);
  uart[kIer] = 0;
  while ((uart[kLsr] & kLsrDataReady) != 0) (void)uart[kRbr];  // the rest of the line
  // Acknowledge. The PLIC may have latched the line again while the source
  // was claimed (QEMU's 16550 re-raises it on register updates), so one
  // more signal can follow the ack although the device has nothing: a
  // driver checks the device. It must settle.
  uint64_t spurious = 0;
  CHECK_OK(irq_ack(handler));
  while (poll(ntfn).badge != 0 && spurious < 4) {
    ++spurious;
    CHECK_EQ(uart[kLsr] & kLsrDataReady, 0);
    CHECK_OK(irq_ack(handler));
  }
  CHECK(spurious <= 2);
  CHECK_OK(irq_clear(handler));
  if (c != env().uart_char) {
    KT_FAIL("received {:#x}, expected {:#x}", uint64_t(uint8_t(c)), uint64_t(uint8_t(env().uart_char)));
  }
  // Cleared: nothing fires any more.
  CHECK_EQ(poll(ntfn).badge, 0);
}

}  // namespace
