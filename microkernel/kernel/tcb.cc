// TCB invocations.
//   Configure:      cap0 CSpace root (CNode), cap1 VSpace, cap2 IPC-buffer
//                   Frame (each optional: as many as sent, in this order);
//                   mr0 IPC-buffer address (page aligned, user half; used
//                   when cap2 is sent); mr1 fault-endpoint cptr in the
//                   invoker's CSpace (0: leave as is, ~0: remove)
//   SetPriority:    mr0 priority, mr1 (optional) the thread's new maximum
//                   priority; both at most the invoker's own maximum. A
//                   thread may later set priorities up to its maximum
//                   (its own included), as seL4's MCP works
//   ReadRegisters:  reply mr0 = pc, mr1..mr31 = x1..x31
//   WriteRegisters: mr0 = pc, mr1.. = x1.. (as many as sent)
//   Resume, Suspend
//   ReadCounters:   reply in uapi::Counter order
// The bindings are stored as capability copies in the TCB's own slots.
#include "arch/riscv/cpu.h"
#include "kernel/invoke.h"
#include "kernel/ipc.h"
#include "kernel/sched.h"
#include "kernel/vm.h"
#include "lib/vspace.h"

namespace kern {
namespace {

constexpr uint64_t kRemoveFaultEndpoint = ~uint64_t{0};

// Old bindings wait here until every new one is in place: deleting an old
// binding may destroy its object (it was the last cap to a CNode, say), and
// that must not empty a slot a new binding is still to be copied from. The
// kernel runs one invocation at a time, so one set of slots serves.
Slot g_retired[static_cast<size_t>(TcbSlot::Count)];

// Replace a binding (or remove it, with no source). cap_move and cap_copy
// cannot fail here: the retired slot is empty, the binding is empty after
// the move, and the source's type and depth were checked.
void rebind(Tcb& tcb, TcbSlot which, Slot* source) {
  Slot& binding = tcb_slot(tcb, which);
  if (!binding.empty()) (void)cap_move(binding, g_retired[static_cast<size_t>(which)]);
  if (source != nullptr) (void)cap_copy(*source, binding, Rights::All);
}

void delete_retired_bindings() {
  for (Slot& slot : g_retired) cap_delete(slot, object_hooks());
}

Status configure(Invocation& inv, Tcb& tcb) {
  Slot* caps[3] = {nullptr, nullptr, nullptr};
  static constexpr ObjectType kTypes[3] = {ObjectType::CNode, ObjectType::VSpace, ObjectType::Frame};
  const size_t sent = inv.extra_caps();
  for (size_t i = 0; i < sent && i < 3; ++i) {
    caps[i] = TRY(inv.extra_cap(i));
    if (caps[i]->cap.type() != kTypes[i]) return fail(Error::InvalidCapability);
    if (caps[i]->depth() >= kMaxDepth) return fail(Error::RangeError);
  }
  uint64_t buffer_va = tcb.ipc_buffer_va;
  if (caps[2] != nullptr) {
    buffer_va = TRY(inv.mr(0));
    if (!is_aligned(buffer_va, kPageSize)) return fail(Error::AlignmentError);
    if (buffer_va >= kUserTop) return fail(Error::RangeError);  // as VSpaceMap: outside the user half
    if (!uapi::has(caps[2]->cap.rights(), Rights::Read | Rights::Write)) return fail(Error::IllegalOperation);
  }
  Slot* fault_ep = nullptr;
  bool remove_fault_ep = false;
  auto fault_cptr = inv.mr(1);  // optional
  if (fault_cptr && *fault_cptr != 0) {
    const uint64_t cptr = *fault_cptr;
    if (cptr == kRemoveFaultEndpoint) {
      remove_fault_ep = true;
    } else {
      fault_ep = TRY(inv.lookup(cptr));
      if (fault_ep->empty()) return fail(Error::FailedLookup);
      if (fault_ep->cap.type() != ObjectType::Endpoint) return fail(Error::InvalidCapability);
      if (!uapi::has(fault_ep->cap.rights(), Rights::Write)) return fail(Error::IllegalOperation);
      if (fault_ep->depth() >= kMaxDepth) return fail(Error::RangeError);
    }
  }

  // Checks done; from here nothing fails.
  if (caps[0] != nullptr) rebind(tcb, TcbSlot::CSpace, caps[0]);
  if (caps[1] != nullptr) {
    rebind(tcb, TcbSlot::VSpace, caps[1]);
    tcb.satp = vspace_satp(caps[1]->cap);
  }
  if (caps[2] != nullptr) {
    rebind(tcb, TcbSlot::IpcBuffer, caps[2]);
    tcb.ipc_buffer_va = buffer_va;
  }
  if (fault_ep != nullptr || remove_fault_ep) rebind(tcb, TcbSlot::FaultEndpoint, fault_ep);
  delete_retired_bindings();
  return {};
}

Status set_priority_op(Invocation& inv, Tcb& tcb) {
  const uint64_t priority = TRY(inv.mr(0));
  auto new_max = inv.mr(1);  // optional
  const uint64_t limit = inv.thread().max_priority;
  if (priority > limit || (new_max && *new_max > limit)) return fail(Error::RangeError);
  if (new_max) tcb.max_priority = static_cast<uint8_t>(*new_max);
  set_priority(tcb, static_cast<uint8_t>(priority));
  return {};
}

Status write_registers(Invocation& inv, Tcb& tcb) {
  uint64_t values[32];
  size_t length = 0;
  while (length < 32) {
    auto value = inv.mr(length);
    if (!value) break;
    values[length++] = *value;
  }
  if (length == 0) return fail(Error::TruncatedMessage);
  tcb.context.pc = values[0];
  for (size_t i = 1; i < length; ++i) tcb.context.regs[i] = values[i];
  return {};
}

// True if the thread is blocked inside a system call (Send, Call, Recv,
// ReplyRecv, a notification wait) rather than waiting for its fault to be
// handled. Such a call is restarted when the thread is resumed after a
// Suspend, as in seL4: its pc goes back to the ecall (the kernel moved it
// past the ecall on entry) and its argument registers are still intact,
// because a blocked call writes them only when it completes. A faulted
// thread's pc is already at the faulting instruction. A Call waiting for
// its reply is restarted whether the reply is still owed, saved in a Reply
// object, or lost (the receiver went, or took another Call first, or the
// Reply object was destroyed): the caller's own flag tells a Call from a
// fault.
bool blocked_in_syscall(const Tcb& tcb) {
  switch (tcb.state) {
    case ThreadState::BlockedOnSend: return !tcb.fault_pending;
    case ThreadState::BlockedOnReceive:
    case ThreadState::BlockedOnNotification: return true;
    case ThreadState::BlockedOnReply: return !tcb.awaiting_fault_reply;
    default: return false;
  }
}

}  // namespace

Status invoke_tcb(Invocation& inv) {
  Tcb& tcb = object_of<Tcb>(inv.cap());
  switch (inv.label()) {
    case uapi::Label::TcbReadRegisters:
      TRY(require_rights(inv, Rights::Read));
      inv.reply(0, tcb.context.pc);
      for (size_t i = 1; i < 32; ++i) inv.reply(i, tcb.context.regs[i]);
      return {};
    case uapi::Label::TcbReadCounters: {
      TRY(require_rights(inv, Rights::Read));
      ThreadCounters counters = tcb.counters;
      if (&tcb == current_thread()) {  // include the running slice
        counters[uapi::Counter::Instructions] += arch::read_instret() - tcb.switched_in_instret;
        counters[uapi::Counter::Cycles] += arch::read_cycle() - tcb.switched_in_cycle;
      }
      // trap.S counts the thread's user-mode instructions, all inside the
      // stretches counted as its Instructions: the rest is kernel.
      counters[uapi::Counter::KernelInstructions] =
          counters[uapi::Counter::Instructions] - tcb.context.user_instret;
      for (size_t i = 0; i < static_cast<size_t>(uapi::Counter::Count); ++i) inv.reply(i, counters.values[i]);
      return {};
    }
    default:
      break;
  }
  TRY(require_rights(inv, Rights::Write));
  switch (inv.label()) {
    case uapi::Label::TcbConfigure:
      return configure(inv, tcb);
    case uapi::Label::TcbSetPriority:
      return set_priority_op(inv, tcb);
    case uapi::Label::TcbWriteRegisters:
      return write_registers(inv, tcb);
    case uapi::Label::TcbResume:
      if (tcb_slot(tcb, TcbSlot::CSpace).empty() || tcb_slot(tcb, TcbSlot::VSpace).empty()) {
        return fail(Error::IllegalOperation);
      }
      if (tcb.state == ThreadState::Inactive) make_runnable(tcb);
      return {};
    case uapi::Label::TcbSuspend: {
      const bool restart = blocked_in_syscall(tcb);
      cancel_ipc(tcb);
      make_blocked(tcb, ThreadState::Inactive);
      if (restart) tcb.context.pc -= 4;  // ecall is 4 bytes (no compressed form)
      return {};
    }
    default:
      return fail(Error::IllegalOperation);
  }
}

}  // namespace kern
