// Endpoint, notification and fault IPC (see ipc.h). Threads wait in
// intrusive FIFO queues threaded through their TCBs; nothing is allocated.
#include "ipc.h"

#include "kernel/console.h"
#include "kernel/panic.h"
#include "kernel/sched.h"

namespace kern {
namespace {

using uapi::MessageInfo;
using arch::Reg;

constexpr size_t kRegMr0 = static_cast<size_t>(Reg::A2);

uint64_t& reg(Tcb& t, Reg r) { return t.context.regs[static_cast<size_t>(r)]; }

uapi::IpcBuffer* ipc_buffer(Tcb& t) {
  const Slot& slot = tcb_slot(t, TcbSlot::IpcBuffer);
  if (slot.empty()) return nullptr;
  return phys_to_ptr<uapi::IpcBuffer>(slot.cap.object());
}

// --- wait queues --------------------------------------------------------------

template <typename Object>
void queue_append(Object& object, Tcb& thread) {
  thread.ipc_next = nullptr;
  thread.ipc_prev = object.tail;
  if (object.tail != nullptr) object.tail->ipc_next = &thread;
  else object.head = &thread;
  object.tail = &thread;
}

template <typename Object>
void queue_remove(Object& object, Tcb& thread) {
  if (thread.ipc_prev != nullptr) thread.ipc_prev->ipc_next = thread.ipc_next;
  else object.head = thread.ipc_next;
  if (thread.ipc_next != nullptr) thread.ipc_next->ipc_prev = thread.ipc_prev;
  else object.tail = thread.ipc_prev;
  thread.ipc_next = thread.ipc_prev = nullptr;
  thread.blocked_on = PhysAddr(0);
}

template <typename Object>
Tcb* queue_pop(Object& object) {
  Tcb* head = object.head;
  if (head != nullptr) queue_remove(object, *head);
  return head;
}

// --- message transfer -------------------------------------------------------

// Move one capability named by the sender into the receiver's receive slot.
// Returns whether a cap (or an unwrapped badge) was delivered as caps[index].
bool transfer_cap(Tcb& sender, Tcb& receiver, uint64_t cptr, const Capability& endpoint, size_t index,
                  uapi::IpcBuffer& out, bool& slot_used, uint64_t& unwrapped) {
  auto source = cnode_lookup(tcb_slot(sender, TcbSlot::CSpace).cap, cptr);
  if (!source || (*source)->empty()) return false;
  const Capability& cap = (*source)->cap;
  if (cap.type() == ObjectType::Endpoint && cap.object() == endpoint.object()) {
    out.caps[index] = cap.badge();
    unwrapped |= uint64_t{1} << index;
    return true;
  }
  if (slot_used || out.receive_slot == 0) return false;
  auto dest = cnode_lookup(tcb_slot(receiver, TcbSlot::CSpace).cap, out.receive_slot);
  if (!dest || !(*dest)->empty()) return false;
  if (!cap_copy(**source, **dest, Rights::All)) return false;
  slot_used = true;
  return true;
}

// Copy `info.length` message registers (and, if allowed, extra caps) from
// sender to receiver and set the receiver's a0/a1. `mrs` is the source of
// the message registers when the kernel composes the message (a fault).
void transfer(Tcb& sender, Tcb& receiver, MessageInfo info, uint64_t badge, const Capability* endpoint,
              bool can_grant, const uint64_t* kernel_mrs) {
  uint64_t length = info.length() > uapi::kMaxMessageLength ? uapi::kMaxMessageLength : info.length();
  uapi::IpcBuffer* in = ipc_buffer(sender);
  uapi::IpcBuffer* out = ipc_buffer(receiver);
  if (kernel_mrs == nullptr && (in == nullptr || out == nullptr) && length > uapi::kMessageRegistersInCpu) {
    length = uapi::kMessageRegistersInCpu;  // no buffer on one side: registers only
  }
  for (size_t i = 0; i < length; ++i) {
    const uint64_t value = kernel_mrs != nullptr            ? kernel_mrs[i]
                           : i < uapi::kMessageRegistersInCpu ? sender.context.regs[kRegMr0 + i]
                                                             : in->mr[i];
    if (i < uapi::kMessageRegistersInCpu) receiver.context.regs[kRegMr0 + i] = value;
    else if (out != nullptr) out->mr[i] = value;
    else length = i;  // kernel message longer than the receiver can take
  }

  uint64_t caps = 0;
  uint64_t unwrapped = 0;
  if (kernel_mrs == nullptr && can_grant && in != nullptr && out != nullptr && endpoint != nullptr) {
    bool slot_used = false;
    const uint64_t wanted = info.extra_caps();
    for (size_t i = 0; i < wanted; ++i) {
      if (!transfer_cap(sender, receiver, in->caps[i], *endpoint, i, *out, slot_used, unwrapped)) break;
      ++caps;
    }
  }
  MessageInfo delivered = MessageInfo::make(info.label(), length, caps);
  delivered.raw = MessageInfo::Unwrapped::set(delivered.raw, unwrapped);
  set_result(receiver, delivered, badge);
  ++sender.counters[uapi::Counter::IpcSent];
  ++receiver.counters[uapi::Counter::IpcReceived];
}

// The sender's message (queued earlier or sent now) reaches the receiver.
// Sets up the reply link for a Call and wakes or blocks the sender.
void deliver(Tcb& sender, Tcb& receiver, MessageInfo info, uint64_t badge, const Capability& endpoint,
             bool can_grant, bool is_call, bool is_fault) {
  transfer(sender, receiver, is_fault ? sender.fault_info : info, badge, &endpoint, can_grant,
           is_fault ? sender.fault_mr : nullptr);
  if (is_call || is_fault) {
    if (receiver.reply_to != nullptr) receiver.reply_to->reply_from = nullptr;  // the old caller's reply is lost
    receiver.reply_to = &sender;
    sender.reply_from = &receiver;
    sender.awaiting_fault_reply = is_fault;
    make_blocked(sender, ThreadState::BlockedOnReply);
  } else {
    set_result(sender, MessageInfo{});
    make_runnable(sender);
  }
  sender.fault_pending = false;
}

}  // namespace

void set_result(Tcb& thread, MessageInfo info, uint64_t badge) {
  reg(thread, Reg::A0) = badge;
  reg(thread, Reg::A1) = info.raw;
}

void set_error(Tcb& thread, Error error) {
  set_result(thread, MessageInfo::error(static_cast<uapi::Error>(error)));
}

void endpoint_send(Tcb& sender, const Capability& cap, MessageInfo info, bool blocking, bool is_call) {
  Endpoint& ep = object_of<Endpoint>(cap);
  const bool can_grant = uapi::has(cap.rights(), Rights::Grant);
  if (ep.queue == Endpoint::Queue::Receivers) {
    Tcb* receiver = queue_pop(ep);
    if (ep.head == nullptr) ep.queue = Endpoint::Queue::Idle;
    make_runnable(*receiver);
    // deliver() wakes the sender for a plain send; the sender is running.
    deliver(sender, *receiver, info, cap.badge(), cap, can_grant, is_call, sender.fault_pending);
    return;
  }
  if (!blocking) {
    set_result(sender, MessageInfo{});  // NBSend with no receiver: dropped, as in seL4
    return;
  }
  // Queue the sender; its registers keep the message until a receiver comes.
  sender.send_badge = cap.badge();
  sender.send_is_call = is_call;
  sender.send_can_grant = can_grant;
  // A fault's message is in fault_info, not in the registers the thread
  // resumes with.
  if (!sender.fault_pending) reg(sender, Reg::A1) = info.raw;
  ep.queue = Endpoint::Queue::Senders;
  queue_append(ep, sender);
  sender.blocked_on = cap.object();
  make_blocked(sender, ThreadState::BlockedOnSend);
}

void endpoint_receive(Tcb& receiver, const Capability& cap, bool blocking) {
  Endpoint& ep = object_of<Endpoint>(cap);
  if (ep.queue == Endpoint::Queue::Senders) {
    Tcb* sender = queue_pop(ep);
    if (ep.head == nullptr) ep.queue = Endpoint::Queue::Idle;
    const MessageInfo info{reg(*sender, Reg::A1)};
    deliver(*sender, receiver, info, sender->send_badge, cap, sender->send_can_grant, sender->send_is_call,
            sender->fault_pending);
    return;
  }
  if (!blocking) {
    set_error(receiver, Error::WouldBlock);
    return;
  }
  ep.queue = Endpoint::Queue::Receivers;
  queue_append(ep, receiver);
  receiver.blocked_on = cap.object();
  make_blocked(receiver, ThreadState::BlockedOnReceive);
}

void reply(Tcb& replier, MessageInfo info) {
  Tcb* caller = replier.reply_to;
  if (caller == nullptr) return;  // nobody to reply to: ignored, as in seL4
  replier.reply_to = nullptr;
  caller->reply_from = nullptr;
  deliver_reply(replier, *caller, info);
}

void deliver_reply(Tcb& replier, Tcb& caller, MessageInfo info) {
  if (caller.awaiting_fault_reply) {
    // Label 0 resumes the faulted thread, at mr0 if given; anything else
    // leaves it suspended.
    caller.awaiting_fault_reply = false;
    ++replier.counters[uapi::Counter::IpcSent];
    ++caller.counters[uapi::Counter::IpcReceived];
    if (info.label() != 0) {
      caller.state = ThreadState::Inactive;
      return;
    }
    if (info.length() >= 1) caller.context.pc = reg(replier, Reg::A2);
    make_runnable(caller);
    return;
  }
  transfer(replier, caller, info, 0, nullptr, false, nullptr);
  make_runnable(caller);
}

void notification_signal(const Capability& cap) {
  Notification& n = object_of<Notification>(cap);
  // An unbadged signal still wakes: it sets bit 0.
  const uint64_t bits = cap.badge() != 0 ? cap.badge() : 1;
  if (Tcb* waiter = queue_pop(n)) {
    set_result(*waiter, MessageInfo{}, bits);
    make_runnable(*waiter);
    return;
  }
  n.word |= bits;
}

void notification_wait(Tcb& thread, const Capability& cap, bool blocking) {
  Notification& n = object_of<Notification>(cap);
  if (n.word != 0 || !blocking) {
    set_result(thread, MessageInfo{}, n.word);
    n.word = 0;
    return;
  }
  queue_append(n, thread);
  thread.blocked_on = cap.object();
  make_blocked(thread, ThreadState::BlockedOnNotification);
}

void deliver_fault(Tcb& thread, uapi::FaultLabel label, std::span<const uint64_t> mrs) {
  ++thread.counters[uapi::Counter::Faults];
  const Slot& fault_ep = tcb_slot(thread, TcbSlot::FaultEndpoint);
  if (fault_ep.empty() || fault_ep.cap.type() != ObjectType::Endpoint ||
      !uapi::has(fault_ep.cap.rights(), Rights::Write)) {
    kprint("thread {} faulted (label {}, pc {:#x}, mr1 {:#x}) with no fault endpoint: suspended\n",
           ptr_to_phys(&thread), static_cast<uint64_t>(label), thread.context.pc, mrs.size() > 1 ? mrs[1] : 0);
    make_blocked(thread, ThreadState::Inactive);
    return;
  }
  const size_t n = mrs.size() < 6 ? mrs.size() : 6;
  for (size_t i = 0; i < n; ++i) thread.fault_mr[i] = mrs[i];
  thread.fault_info = MessageInfo::make(static_cast<uint64_t>(label), n);
  thread.fault_pending = true;
  endpoint_send(thread, fault_ep.cap, thread.fault_info, true, true);
}

void cancel_ipc(Tcb& thread) {
  switch (thread.state) {
    case ThreadState::BlockedOnSend:
    case ThreadState::BlockedOnReceive: {
      Endpoint& ep = *phys_to_ptr<Endpoint>(thread.blocked_on);
      queue_remove(ep, thread);
      if (ep.head == nullptr) ep.queue = Endpoint::Queue::Idle;
      break;
    }
    case ThreadState::BlockedOnNotification:
      queue_remove(*phys_to_ptr<Notification>(thread.blocked_on), thread);
      break;
    default:
      break;
  }
  if (thread.reply_from != nullptr) {
    thread.reply_from->reply_to = nullptr;
    thread.reply_from = nullptr;
  }
  if (thread.reply_object != nullptr) {
    thread.reply_object->caller = nullptr;  // a Send on the Reply object now finds nobody
    thread.reply_object = nullptr;
  }
  if (thread.reply_to != nullptr) {
    thread.reply_to->reply_from = nullptr;  // its caller stays blocked: its reply is lost
    thread.reply_to = nullptr;
  }
  thread.awaiting_fault_reply = false;
  thread.fault_pending = false;
}

void endpoint_destroyed(Endpoint& ep) {
  while (Tcb* t = queue_pop(ep)) {
    // A queued fault is no system call: the thread's registers are its own
    // and it simply retries the faulting instruction.
    if (!t->fault_pending) set_error(*t, Error::InvalidCapability);
    t->fault_pending = false;
    make_runnable(*t);
  }
  ep.queue = Endpoint::Queue::Idle;
}

void notification_destroyed(Notification& n) {
  while (Tcb* t = queue_pop(n)) {
    set_error(*t, Error::InvalidCapability);
    make_runnable(*t);
  }
}

}  // namespace kern
