// The IPC fast path (see fastpath.h). trap.S calls the two entry points
// directly for Call and ReplyRecv, before anything else; everything here is
// inlined into them so that the common round trip costs as few
// instructions as possible. Whatever does not fit the fast case goes to
// user_trap(), the slow path, which handles the system call from scratch.
#include "fastpath.h"

#include "kernel/hart.h"
#include "kernel/sched.h"

namespace kern {
namespace {

using uapi::MessageInfo;
using arch::Reg;

static_assert(static_cast<uint64_t>(uapi::Syscall::Call) == 1, "trap.S: SYSCALL_CALL");
static_assert(static_cast<uint64_t>(uapi::Syscall::ReplyRecv) == 2, "trap.S: SYSCALL_REPLYRECV");

bool g_enabled = true;

constexpr size_t kA0 = static_cast<size_t>(Reg::A0);
constexpr size_t kA1 = static_cast<size_t>(Reg::A1);
constexpr size_t kA2 = static_cast<size_t>(Reg::A2);
using SatpAsid = BitField<44, 16>;

// The endpoint named by cptr in the thread's CSpace, if the cap has `right`.
[[gnu::always_inline]] inline Endpoint* endpoint_at(Tcb& thread, uint64_t cptr, Rights right, uint64_t* badge) {
  const Capability& cspace = tcb_slot(thread, TcbSlot::CSpace).cap;
  if (cspace.type() != ObjectType::CNode) return nullptr;
  if (cptr == 0 || cptr >> cspace.cnode_radix() != 0) return nullptr;
  const Capability& cap = phys_to_ptr<Slot>(cspace.object())[cptr].cap;
  if (cap.type() != ObjectType::Endpoint || !uapi::has(cap.rights(), right)) return nullptr;
  *badge = cap.badge();
  return &object_of<Endpoint>(cap);
}

[[gnu::always_inline]] inline bool can_run(Tcb& thread) {
  return !tcb_slot(thread, TcbSlot::VSpace).empty() && !tcb_slot(thread, TcbSlot::CSpace).empty();
}

// Copy exactly `length` (<= 4) message words; the receiver's other
// registers keep their own values, so nothing of the sender leaks.
[[gnu::always_inline]] inline void copy_message(const Tcb& from, Tcb& to, uint64_t length) {
  const uint64_t* in = &from.context.regs[kA2];
  uint64_t* out = &to.context.regs[kA2];
  switch (length) {
    case 4: out[3] = in[3]; [[fallthrough]];
    case 3: out[2] = in[2]; [[fallthrough]];
    case 2: out[1] = in[1]; [[fallthrough]];
    case 1: out[0] = in[0]; [[fallthrough]];
    default: break;
  }
}

// What switch_to in sched.cc does, inlined: account the outgoing thread,
// make `next` current, load its address space; trap.S then leaves.
[[gnu::always_inline]] inline arch::UserContext* switch_now(Hart& hart, Tcb& from, Tcb& next) {
  const uint64_t instret = arch::read_instret();
  const uint64_t cycle = arch::read_cycle();
  from.counters[uapi::Counter::Instructions] += instret - from.switched_in_instret;
  from.counters[uapi::Counter::Cycles] += cycle - from.switched_in_cycle;
  next.switched_in_instret = instret;
  next.switched_in_cycle = cycle;
  ++next.counters[uapi::Counter::ContextSwitches];
  hart.current = &next;
  if (next.satp != hart.current_satp) {
    arch::write_satp(next.satp);
    if (SatpAsid::get(next.satp) == 0 || SatpAsid::get(hart.current_satp) == 0) arch::sfence_vma_all();
    hart.current_satp = next.satp;
  }
  return &next.context;
}

}  // namespace

void fastpath_set_enabled(bool enabled) { g_enabled = enabled; }

}  // namespace kern

using namespace kern;

extern "C" arch::UserContext* fastpath_call(arch::UserContext* context) {
  Tcb& caller = tcb_of_context(context);
  const MessageInfo info{caller.context.regs[kA1]};
  uint64_t badge = 0;
  Endpoint* ep;
  Tcb* receiver;
  if (!g_enabled || info.length() > uapi::kMessageRegistersInCpu || info.extra_caps() != 0 ||
      (ep = endpoint_at(caller, caller.context.regs[kA0], Rights::Write, &badge)) == nullptr ||
      ep->queue != Endpoint::Queue::Receivers || !can_run(*(receiver = ep->head)) ||
      !nothing_runnable_at_or_above(receiver->run.priority)) {
    return nullptr;
  }
  caller.context.pc += 4;
  ++caller.counters[uapi::Counter::Syscalls];

  // Take the receiver off the endpoint.
  ep->head = receiver->ipc_next;
  if (ep->head != nullptr) {
    ep->head->ipc_prev = nullptr;
  } else {
    ep->tail = nullptr;
    ep->queue = Endpoint::Queue::Idle;
  }
  receiver->ipc_next = nullptr;
  receiver->blocked_on = PhysAddr(0);

  copy_message(caller, *receiver, info.length());
  receiver->context.regs[kA0] = badge;
  receiver->context.regs[kA1] = MessageInfo::make(info.label(), info.length()).raw;
  if (receiver->reply_to != nullptr) receiver->reply_to->reply_from = nullptr;
  receiver->reply_to = &caller;
  caller.reply_from = receiver;  // awaiting_fault_reply is false: the caller was running
  caller.state = ThreadState::BlockedOnReply;
  receiver->state = ThreadState::Runnable;
  ++caller.counters[uapi::Counter::IpcSent];
  ++receiver->counters[uapi::Counter::IpcReceived];
  return switch_now(this_hart(), caller, *receiver);
}

extern "C" arch::UserContext* fastpath_reply_recv(arch::UserContext* context) {
  Tcb& server = tcb_of_context(context);
  const MessageInfo info{server.context.regs[kA1]};
  Tcb* caller = server.reply_to;
  uint64_t badge = 0;
  Endpoint* ep;
  if (!g_enabled || info.length() > uapi::kMessageRegistersInCpu || info.extra_caps() != 0 || caller == nullptr ||
      caller->awaiting_fault_reply || !can_run(*caller) ||
      (ep = endpoint_at(server, server.context.regs[kA0], Rights::Read, &badge)) == nullptr ||
      ep->queue == Endpoint::Queue::Senders || !nothing_runnable_at_or_above(caller->run.priority)) {
    return nullptr;
  }
  server.context.pc += 4;
  ++server.counters[uapi::Counter::Syscalls];

  // The reply.
  copy_message(server, *caller, info.length());
  caller->context.regs[kA0] = 0;
  caller->context.regs[kA1] = MessageInfo::make(info.label(), info.length()).raw;
  server.reply_to = nullptr;
  caller->reply_from = nullptr;
  caller->state = ThreadState::Runnable;
  ++server.counters[uapi::Counter::IpcSent];
  ++caller->counters[uapi::Counter::IpcReceived];

  // The receive: the server waits at the tail of the endpoint's queue.
  server.ipc_next = nullptr;
  server.ipc_prev = ep->tail;
  if (ep->tail != nullptr) ep->tail->ipc_next = &server;
  else ep->head = &server;
  ep->tail = &server;
  ep->queue = Endpoint::Queue::Receivers;
  server.blocked_on = ptr_to_phys(ep);
  server.state = ThreadState::BlockedOnReceive;
  return switch_now(this_hart(), server, *caller);
}
