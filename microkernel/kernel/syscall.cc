// The system-call entry: user_trap() is where every trap from user mode
// lands (trap.S). It sorts interrupts, system calls and faults, and always
// ends by scheduling and leaving the kernel.
#include "arch/riscv/cpu.h"
#include "kernel/console.h"
#include "kernel/invariants.h"
#include "kernel/invoke.h"
#include "kernel/ipc.h"
#include "kernel/irq.h"
#include "kernel/reply.h"
#include "kernel/sched.h"
#include "kernel/timer.h"

namespace kern {
namespace {

using uapi::MessageInfo;
using uapi::Syscall;
using arch::Reg;

uint64_t& reg(Tcb& t, Reg r) { return t.context.regs[static_cast<size_t>(r)]; }

Result<Slot*> lookup_nonempty(Tcb& thread, uint64_t cptr) {
  Slot* slot = TRY(cnode_lookup(tcb_slot(thread, TcbSlot::CSpace).cap, cptr));
  if (slot->empty()) return fail(Error::FailedLookup);
  return slot;
}

void do_send(Tcb& thread, uint64_t cptr, MessageInfo info, bool blocking, bool is_call) {
  auto slot = lookup_nonempty(thread, cptr);
  if (!slot) return set_error(thread, slot.error());
  const Capability cap = (*slot)->cap;
  switch (cap.type()) {
    case ObjectType::Endpoint:
      if (!uapi::has(cap.rights(), Rights::Write)) return set_error(thread, Error::IllegalOperation);
      return endpoint_send(thread, cap, info, blocking, is_call);
    case ObjectType::Notification:
      if (!uapi::has(cap.rights(), Rights::Write)) return set_error(thread, Error::IllegalOperation);
      notification_signal(cap);
      return set_result(thread, MessageInfo{});
    case ObjectType::Reply: {
      // Unlike an invocation's, its error comes back for Send and NBSend
      // too: a server learns that its client is gone.
      const Status status = send_on_reply(thread, cap, info, is_call);
      if (!status) return set_error(thread, status.error());
      return set_result(thread, MessageInfo{});
    }
    default:
      return invoke(thread, **slot, info, is_call);
  }
}

void do_receive(Tcb& thread, uint64_t cptr, bool blocking) {
  auto slot = lookup_nonempty(thread, cptr);
  if (!slot) return set_error(thread, slot.error());
  const Capability cap = (*slot)->cap;
  if (!uapi::has(cap.rights(), Rights::Read)) return set_error(thread, Error::IllegalOperation);
  switch (cap.type()) {
    case ObjectType::Endpoint:
      return endpoint_receive(thread, cap, blocking);
    case ObjectType::Notification:
      return notification_wait(thread, cap, blocking);
    default:
      return set_error(thread, Error::InvalidCapability);
  }
}

void handle_syscall(Tcb& thread) {
  ++thread.counters[uapi::Counter::Syscalls];
  const uint64_t number = reg(thread, Reg::A7);
  const uint64_t cptr = reg(thread, Reg::A0);
  const MessageInfo info{reg(thread, Reg::A1)};
  switch (static_cast<Syscall>(number)) {
    case Syscall::Call: return do_send(thread, cptr, info, true, true);
    case Syscall::Send: return do_send(thread, cptr, info, true, false);
    case Syscall::NBSend: return do_send(thread, cptr, info, false, false);
    case Syscall::Recv: return do_receive(thread, cptr, true);
    case Syscall::NBRecv: return do_receive(thread, cptr, false);
    case Syscall::Reply:
      reply(thread, info);
      return set_result(thread, MessageInfo{});
    case Syscall::ReplyRecv:
      reply(thread, info);
      return do_receive(thread, cptr, true);
    case Syscall::Yield:
      yield_current();
      return set_result(thread, MessageInfo{});
    case Syscall::Null:  // does nothing: measures kernel entry and exit
      return set_result(thread, MessageInfo{});
    case Syscall::SaveReply: {
      auto slot = lookup_nonempty(thread, cptr);
      if (!slot) return set_error(thread, slot.error());
      const Status status = save_reply(thread, (*slot)->cap);
      if (!status) return set_error(thread, status.error());
      return set_result(thread, MessageInfo{});
    }
    case Syscall::DebugCheckInvariants: return debug_check_invariants(thread);
    case Syscall::DebugPutChar: {
      const char c = static_cast<char>(cptr & 0xff);
      console_write({&c, 1});
      return set_result(thread, MessageInfo{});
    }
  }
  // Not a system call: the thread's fault handler decides (it may emulate
  // it and resume the thread after the ecall).
  const uint64_t mrs[] = {thread.context.pc - 4, number, cptr, info.raw, reg(thread, Reg::A2), reg(thread, Reg::A3)};
  deliver_fault(thread, uapi::FaultLabel::UnknownSyscall, mrs);
}

uapi::FaultAccess access_of(arch::Exception e) {
  switch (e) {
    case arch::Exception::InstructionPageFault:
    case arch::Exception::InstructionAccessFault: return uapi::FaultAccess::Execute;
    case arch::Exception::StorePageFault:
    case arch::Exception::StoreAccessFault: return uapi::FaultAccess::Write;
    default: return uapi::FaultAccess::Read;
  }
}

void handle_exception(Tcb& thread, uint64_t scause) {
  const auto code = static_cast<arch::Exception>(arch::scause::Code::get(scause));
  switch (code) {
    case arch::Exception::EcallFromU:
      thread.context.pc += 4;
      return handle_syscall(thread);
    case arch::Exception::InstructionPageFault:
    case arch::Exception::LoadPageFault:
    case arch::Exception::StorePageFault:
    case arch::Exception::InstructionAccessFault:
    case arch::Exception::LoadAccessFault:
    case arch::Exception::StoreAccessFault: {
      const uint64_t mrs[] = {thread.context.pc, arch::read_stval(), static_cast<uint64_t>(access_of(code))};
      return deliver_fault(thread, uapi::FaultLabel::PageFault, mrs);
    }
    default: {
      const uint64_t mrs[] = {thread.context.pc, scause, arch::read_stval()};
      return deliver_fault(thread, uapi::FaultLabel::Exception, mrs);
    }
  }
}

}  // namespace
}  // namespace kern

extern "C" [[noreturn]] void user_trap(arch::UserContext* context) {
  using namespace kern;
  Tcb& thread = tcb_of_context(context);
  const uint64_t scause = arch::read_scause();
  if (arch::scause::Interrupt::get(scause)) {
    switch (static_cast<arch::Interrupt>(arch::scause::Code::get(scause))) {
      case arch::Interrupt::SupervisorTimer:
        timer_interrupt();
        preempt_tick();
        break;
      case arch::Interrupt::SupervisorExternal:
        irq_handle_external();
        break;
      default:
        break;
    }
  } else {
    handle_exception(thread, scause);
  }
  schedule_and_return();
}
