// Invocation plumbing: argument access, rights check, dispatch by object
// type, and the reply.
#include "invoke.h"

#include "kernel/ipc.h"

namespace kern {
namespace {

using arch::Reg;
constexpr size_t kRegMr0 = static_cast<size_t>(Reg::A2);

uapi::IpcBuffer* ipc_buffer_of(Tcb& thread) {
  const Slot& slot = tcb_slot(thread, TcbSlot::IpcBuffer);
  return slot.empty() ? nullptr : phys_to_ptr<uapi::IpcBuffer>(slot.cap.object());
}

Status dispatch(Invocation& inv) {
  // A label must belong to the invoked object's type.
  if (uapi::label_object(inv.label()) != inv.cap().type()) return fail(Error::IllegalOperation);
  switch (inv.cap().type()) {
    case ObjectType::Untyped: return invoke_untyped(inv);
    case ObjectType::CNode: return invoke_cnode(inv);
    case ObjectType::Tcb: return invoke_tcb(inv);
    case ObjectType::VSpace: return invoke_vspace(inv);
    case ObjectType::Frame: return invoke_frame(inv);
    case ObjectType::IrqControl: return invoke_irq_control(inv);
    case ObjectType::IrqHandler: return invoke_irq_handler(inv);
    case ObjectType::SystemControl: return invoke_system(inv);
    default: return fail(Error::IllegalOperation);
  }
}

}  // namespace

Result<uint64_t> Invocation::mr(size_t i) const {
  if (i >= m_info.length() || i >= uapi::kMaxMessageLength) return fail(Error::TruncatedMessage);
  if (i < uapi::kMessageRegistersInCpu) return m_thread.context.regs[kRegMr0 + i];
  uapi::IpcBuffer* buffer = ipc_buffer_of(m_thread);
  if (buffer == nullptr) return fail(Error::TruncatedMessage);
  return buffer->mr[i];
}

Result<Slot*> Invocation::lookup(uint64_t cptr) const {
  return cnode_lookup(tcb_slot(m_thread, TcbSlot::CSpace).cap, cptr);
}

Result<Slot*> Invocation::extra_cap(size_t i) const {
  uapi::IpcBuffer* buffer = ipc_buffer_of(m_thread);
  if (i >= m_info.extra_caps() || buffer == nullptr) return fail(Error::TruncatedMessage);
  Slot* slot = TRY(lookup(buffer->caps[i]));
  if (slot->empty()) return fail(Error::FailedLookup);
  return slot;
}

void Invocation::reply(size_t i, uint64_t value) {
  if (i >= uapi::kMaxMessageLength) return;
  while (m_reply_length < i) m_reply[m_reply_length++] = 0;
  m_reply[i] = value;
  if (i + 1 > m_reply_length) m_reply_length = i + 1;
}

size_t Invocation::reply_capacity() const {
  return ipc_buffer_of(m_thread) != nullptr ? uapi::kMaxMessageLength : uapi::kMessageRegistersInCpu;
}

Status require_rights(const Invocation& inv, Rights right) {
  if (!uapi::has(inv.cap().rights(), right)) return fail(Error::IllegalOperation);
  return {};
}

void invoke(Tcb& thread, Slot& target, uapi::MessageInfo info, bool is_call) {
  Invocation inv(thread, target, info);
  const Status status = dispatch(inv);
  // The operation may have suspended or destroyed the invoker; it still gets
  // its reply in its registers for when (if) it runs again.
  if (!is_call) return set_result(thread, uapi::MessageInfo{});
  if (!status) return set_error(thread, status.error());
  size_t length = inv.reply_length();
  uapi::IpcBuffer* buffer = ipc_buffer_of(thread);
  if (buffer == nullptr && length > uapi::kMessageRegistersInCpu) length = uapi::kMessageRegistersInCpu;
  for (size_t i = 0; i < length; ++i) {
    if (i < uapi::kMessageRegistersInCpu) thread.context.regs[kRegMr0 + i] = inv.reply_mr(i);
    else buffer->mr[i] = inv.reply_mr(i);
  }
  set_result(thread, uapi::MessageInfo::make(0, length));
}

}  // namespace kern
