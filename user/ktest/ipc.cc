// Endpoint IPC between the root thread and spawned threads: Call with
// ReplyRecv, Send/Recv, the non-blocking variants, badges, long messages
// through the IPC buffer, capability transfer (Grant) and unwrapping, and
// what blocked threads see when their endpoint is destroyed.
#include <atomic>

#include "ktest.h"
#include "threads.h"

namespace {

using namespace kt;
using uapi::MessageInfo;
using uapi::Syscall;

constexpr uint64_t kQuit = 0x99;
constexpr uint64_t kLowPriority = kThreadPriority - 10;

// Lets every thread above kLowPriority run until it blocks: a thread at
// kLowPriority runs only then.
Status settle(Test& t) {
  ThreadOptions low;
  low.priority = kLowPriority;
  const Thread probe = TRY_RESULT(spawn(t, [](uint64_t) -> uint64_t { return 0; }, 0, low));
  TRY_RESULT(join(t, probe));
  return {};
}

// Answers each Call with label + 1 and (mr0 + 1, mr1 + 1, badge) until
// kQuit; returns how many calls it served.
uint64_t echo_server(uint64_t ep) {
  uint64_t served = 0;
  Message m = recv(ep);
  while (m.error() == Error::Ok && m.info.label() != kQuit) {
    ++served;
    m = reply_recv(ep, m.info.label() + 1, {m.mr[0] + 1, m.mr[1] + 1, m.badge});
  }
  reply(0, {});
  return served;
}

KTEST(ipc, call_reply_recv) {
  const uint64_t ep = KT_TRY(t.make(ObjectType::Endpoint));
  const Thread server = KT_TRY(spawn(t, echo_server, ep));
  for (uint64_t i = 0; i < 20; ++i) {
    const Message r = ipc_call(ep, 5 + i, {i, 2 * i});
    CHECK_OK(r);
    CHECK_EQ(r.info.label(), 6 + i);
    CHECK_EQ(r.info.length(), 3);
    CHECK_EQ(r.mr[0], i + 1);
    CHECK_EQ(r.mr[1], 2 * i + 1);
    CHECK_EQ(r.mr[2], 0);  // unbadged
    CHECK_EQ(r.badge, 0);  // a reply carries no badge
  }
  CHECK_OK(ipc_call(ep, kQuit, {}));
  CHECK_EQ(KT_TRY(join(t, server)), 20);
}

uint64_t receive_one(uint64_t ep) {
  const Message m = recv(ep);
  if (m.error() != Error::Ok) return 0xe000 | uint64_t(m.error());
  return m.info.label() << 32 | m.mr[0] << 16 | m.badge;
}

uint64_t send_one(uint64_t ep) { return uint64_t(send(ep, 0x3, {0x44}).error()); }

KTEST(ipc, send_recv) {
  const uint64_t ep = KT_TRY(t.make(ObjectType::Endpoint));
  // The root sends first and blocks until the (lower priority) thread receives.
  const Thread rx = KT_TRY(spawn(t, receive_one, ep));
  CHECK_OK(send(ep, 0x7, {0x55}));
  CHECK_EQ(KT_TRY(join(t, rx)), uint64_t{0x7} << 32 | 0x55 << 16);
  // The other way round: the thread's send waits in the queue for the root.
  const Thread tx = KT_TRY(spawn(t, send_one, ep));
  CHECK_OK(settle(t));
  const Message m = recv(ep);
  CHECK_OK(m);
  CHECK_EQ(m.info.label(), 3);
  CHECK_EQ(m.info.length(), 1);
  CHECK_EQ(m.mr[0], 0x44);
  CHECK_EQ(KT_TRY(join(t, tx)), 0);
}

KTEST(ipc, non_blocking) {
  const uint64_t ep = KT_TRY(t.make(ObjectType::Endpoint));
  // Nobody receives: NBRecv would block, NBSend is dropped without error.
  CHECK_ERR(nb_recv(ep), Error::WouldBlock);
  CHECK_OK(nb_send(ep, 1, {2}));
  CHECK_ERR(nb_recv(ep), Error::WouldBlock);
  // With a thread waiting, NBSend delivers.
  const Thread rx = KT_TRY(spawn(t, receive_one, ep));
  CHECK_OK(settle(t));
  CHECK_OK(nb_send(ep, 0x9, {0x1}));
  CHECK_EQ(KT_TRY(join(t, rx)), uint64_t{0x9} << 32 | 0x1 << 16);
  // With a thread sending, NBRecv receives.
  const Thread tx = KT_TRY(spawn(t, send_one, ep));
  CHECK_OK(settle(t));
  const Message m = nb_recv(ep);
  CHECK_OK(m);
  CHECK_EQ(m.mr[0], 0x44);
  KT_TRY(join(t, tx));
}

KTEST(ipc, rights) {
  const uint64_t ep = KT_TRY(t.make(ObjectType::Endpoint));
  const uint64_t send_only = t.slot(), recv_only = t.slot();
  CHECK_OK(copy(send_only, ep, Rights::Write));
  CHECK_OK(copy(recv_only, ep, Rights::Read));
  CHECK_ERR(recv(send_only), Error::IllegalOperation);
  CHECK_ERR(nb_recv(send_only), Error::IllegalOperation);
  CHECK_ERR(send(recv_only, 1, {}), Error::IllegalOperation);
  CHECK_ERR(ipc_call(recv_only, 1, {}), Error::IllegalOperation);
  CHECK_ERR(nb_send(recv_only, 1, {}), Error::IllegalOperation);
  CHECK_ERR(nb_recv(recv_only), Error::WouldBlock);
  CHECK_OK(nb_send(send_only, 1, {}));
}

// Each sender's badge reaches the receiver in a0; senders queue in order.
uint64_t send_label(uint64_t cap) { return uint64_t(send(cap, 0x10, {cap}).error()); }

KTEST(ipc, badges_and_order) {
  const uint64_t ep = KT_TRY(t.make(ObjectType::Endpoint));
  const uint64_t caps = t.slots(3);
  CHECK_OK(mint(caps, ep, Rights::Write, 0x1111));
  CHECK_OK(mint(caps + 1, ep, Rights::Write, 0x2222));
  CHECK_OK(copy(caps + 2, ep, Rights::Write));  // unbadged
  Thread senders[3];
  for (uint64_t i = 0; i < 3; ++i) {
    senders[i] = KT_TRY(spawn(t, send_label, caps + i));
    CHECK_OK(settle(t));  // each blocks before the next one starts
  }
  const uint64_t expected[3] = {0x1111, 0x2222, 0};
  for (uint64_t i = 0; i < 3; ++i) {
    const Message m = recv(ep);
    CHECK_OK(m);
    CHECK_EQ(m.badge, expected[i]);
    CHECK_EQ(m.mr[0], caps + i);
  }
  for (const Thread& s : senders) CHECK_EQ(KT_TRY(join(t, s)), 0);
}

// 30 and then 64 words each way: words 4.. travel between IPC buffers.
uint64_t long_echo(uint64_t ep) {
  Message m = recv(ep);
  uint64_t errors = 0;
  while (m.error() == Error::Ok && m.info.label() != kQuit) {
    const uint64_t n = m.info.length();
    for (uint64_t i = 0; i < n; ++i) {
      if (m.mr[i] != 0x1000 + i) ++errors;
    }
    // Reply with the words reversed.
    uapi::IpcBuffer* buffer = my_buffer();
    uint64_t regs[4] = {};
    for (uint64_t i = 0; i < n; ++i) {
      const uint64_t value = 0x1000 + (n - 1 - i);
      if (i < 4) regs[i] = value;
      else buffer->mr[i] = value;
    }
    m = message_of(sys(Syscall::ReplyRecv, ep, MessageInfo::make(errors, n), regs[0], regs[1], regs[2], regs[3]));
  }
  reply(0, {});
  return errors;
}

Status call_long(uint64_t ep, uint64_t n, Message& out) {
  uapi::IpcBuffer* buffer = my_buffer();
  uint64_t regs[4] = {};
  for (uint64_t i = 0; i < n; ++i) {
    if (i < 4) regs[i] = 0x1000 + i;
    else if (i < uapi::kMaxMessageLength) buffer->mr[i] = 0x1000 + i;
  }
  out = message_of(sys(Syscall::Call, ep, MessageInfo::make(1, n), regs[0], regs[1], regs[2], regs[3]));
  TRY_ERROR(out.error());
  return {};
}

// Sends (no reply) n words 0x1000 + i.
Status call_long_send(uint64_t ep, uint64_t n) {
  uapi::IpcBuffer* buffer = my_buffer();
  uint64_t regs[4] = {};
  for (uint64_t i = 0; i < n; ++i) {
    if (i < 4) regs[i] = 0x1000 + i;
    else buffer->mr[i] = 0x1000 + i;
  }
  TRY_ERROR(message_of(sys(Syscall::Send, ep, MessageInfo::make(1, n), regs[0], regs[1], regs[2], regs[3])).error());
  return {};
}

KTEST(ipc, long_messages) {
  const uint64_t ep = KT_TRY(t.make(ObjectType::Endpoint));
  const Thread server = KT_TRY(spawn(t, long_echo, ep));
  for (uint64_t n : {uint64_t{30}, uint64_t{5}, uapi::kMaxMessageLength}) {
    Message r;
    KT_TRY(call_long(ep, n, r));
    CHECK_EQ(r.info.label(), 0);  // the server saw no wrong word
    CHECK_EQ(r.info.length(), n);
    for (uint64_t i = 0; i < n; ++i) CHECK_EQ(r.mr[i], 0x1000 + (n - 1 - i));
  }
  // A length beyond the maximum is cut to the maximum.
  Message r;
  KT_TRY(call_long(ep, 100, r));
  CHECK_EQ(r.info.length(), uapi::kMaxMessageLength);
  CHECK_OK(ipc_call(ep, kQuit, {}));
  CHECK_EQ(KT_TRY(join(t, server)), 0);
}

// --- capability transfer -------------------------------------------------------

struct CapReceipt {
  uint64_t extra_caps;
  uint64_t unwrapped;
  uint64_t cap0;  // caps[0] of the buffer: the badge of an unwrapped cap
};
CapReceipt g_receipt;

// Receives one message into slot `arg` of the root CNode.
uint64_t receive_cap(uint64_t slot_and_ep) {
  const uint64_t slot = slot_and_ep >> 32, ep = slot_and_ep & 0xffffffff;
  my_buffer()->receive_slot = slot;
  const Message m = recv(ep);
  g_receipt = CapReceipt{m.info.extra_caps(), m.info.unwrapped(), my_buffer()->caps[0]};
  return uint64_t(m.error());
}

// The root sends `cap` through `through` (an endpoint cap) to a thread
// receiving on `ep` into `dest`.
Status send_cap(Test& t, uint64_t ep, uint64_t through, uint64_t cap, uint64_t dest) {
  g_receipt = CapReceipt{~uint64_t{0}, ~uint64_t{0}, ~uint64_t{0}};
  const Thread rx = TRY_RESULT(spawn(t, receive_cap, dest << 32 | ep));
  TRY_RESULT(settle(t));
  my_buffer()->caps[0] = cap;
  TRY_ERROR(message_of(sys(Syscall::Send, through, MessageInfo::make(1, 0, 1))).error());
  const uint64_t error = TRY_RESULT(join(t, rx));
  if (error != 0) return std::unexpected(Error(error));
  return {};
}

KTEST(ipc, grant_transfers_cap) {
  const uint64_t ep = KT_TRY(t.make(ObjectType::Endpoint));
  const uint64_t ntfn = KT_TRY(t.make(ObjectType::Notification));
  const uint64_t dest = t.slot();
  KT_TRY(send_cap(t, ep, ep, ntfn, dest));
  CHECK_EQ(g_receipt.extra_caps, 1);
  CHECK_EQ(g_receipt.unwrapped, 0);
  // The received cap names the same notification.
  CHECK_OK(signal(dest));
  CHECK_EQ(poll(ntfn).badge, 1);
  // It is a copy (the sender keeps its cap), derived from the sender's:
  // revoking the original removes it.
  CHECK_OK(revoke(ntfn));
  CHECK_ERR(signal(dest), Error::FailedLookup);
  CHECK_OK(signal(ntfn));
}

// Two caps sent, one receive slot: the first is transferred, the second
// is not (and the message says one).
KTEST(ipc, one_receive_slot) {
  const uint64_t ep = KT_TRY(t.make(ObjectType::Endpoint));
  const uint64_t a = KT_TRY(t.make(ObjectType::Notification));
  const uint64_t b = KT_TRY(t.make(ObjectType::Notification));
  const uint64_t dest = t.slot();
  g_receipt = CapReceipt{~uint64_t{0}, ~uint64_t{0}, ~uint64_t{0}};
  const Thread rx = KT_TRY(spawn(t, receive_cap, dest << 32 | ep));
  CHECK_OK(settle(t));
  my_buffer()->caps[0] = a;
  my_buffer()->caps[1] = b;
  CHECK_OK(message_of(sys(Syscall::Send, ep, MessageInfo::make(1, 0, 2))));
  CHECK_EQ(KT_TRY(join(t, rx)), 0);
  CHECK_EQ(g_receipt.extra_caps, 1);
  CHECK_OK(signal(dest));
  CHECK_EQ(poll(a).badge, 1);
  CHECK_EQ(poll(b).badge, 0);
}

KTEST(ipc, no_grant_no_transfer) {
  const uint64_t ep = KT_TRY(t.make(ObjectType::Endpoint));
  const uint64_t ntfn = KT_TRY(t.make(ObjectType::Notification));
  const uint64_t no_grant = t.slot();
  CHECK_OK(copy(no_grant, ep, Rights::Read | Rights::Write));
  const uint64_t dest = t.slot();
  KT_TRY(send_cap(t, ep, no_grant, ntfn, dest));
  CHECK_EQ(g_receipt.extra_caps, 0);
  CHECK_ERR(signal(dest), Error::FailedLookup);
  // With Grant but no receive slot, or an occupied one: no transfer, the
  // message still arrives.
  KT_TRY(send_cap(t, ep, ep, ntfn, 0));
  CHECK_EQ(g_receipt.extra_caps, 0);
  const uint64_t occupied = KT_TRY(t.make(ObjectType::Frame));
  KT_TRY(send_cap(t, ep, ep, ntfn, occupied));
  CHECK_EQ(g_receipt.extra_caps, 0);
  CHECK_OK(frame_info(occupied));
  // A receive slot beyond the receiver's CNode: nothing transferred.
  KT_TRY(send_cap(t, ep, ep, ntfn, uint64_t{1} << env().info->root_cnode_radix));
  CHECK_EQ(g_receipt.extra_caps, 0);
  // An empty cptr as the cap: nothing transferred either.
  KT_TRY(send_cap(t, ep, ep, t.slot(), dest));
  CHECK_EQ(g_receipt.extra_caps, 0);
  CHECK_ERR(signal(dest), Error::FailedLookup);
}

// An endpoint cap sent through that same endpoint arrives as its badge.
KTEST(ipc, unwrap) {
  const uint64_t ep = KT_TRY(t.make(ObjectType::Endpoint));
  const uint64_t badged = t.slot();
  CHECK_OK(mint(badged, ep, Rights::All, 0xabc));
  const uint64_t dest = t.slot();
  KT_TRY(send_cap(t, ep, ep, badged, dest));
  CHECK_EQ(g_receipt.extra_caps, 1);
  CHECK_EQ(g_receipt.unwrapped, 1);
  CHECK_EQ(g_receipt.cap0, 0xabc);
  CHECK_ERR(nb_recv(dest), Error::FailedLookup);  // no cap was copied
  // A cap to another endpoint is transferred, not unwrapped.
  const uint64_t other = KT_TRY(t.make(ObjectType::Endpoint));
  KT_TRY(send_cap(t, ep, ep, other, dest));
  CHECK_EQ(g_receipt.extra_caps, 1);
  CHECK_EQ(g_receipt.unwrapped, 0);
  CHECK_ERR(nb_recv(dest), Error::WouldBlock);
}

// Destroying an endpoint wakes its waiting threads with InvalidCapability.
uint64_t receive_error(uint64_t ep) { return uint64_t(recv(ep).error()); }
uint64_t send_error(uint64_t ep) { return uint64_t(send(ep, 1, {}).error()); }

KTEST(ipc, endpoint_destroyed_wakes_waiters) {
  const uint64_t ep = KT_TRY(t.make(ObjectType::Endpoint));
  const Thread a = KT_TRY(spawn(t, receive_error, ep));
  const Thread b = KT_TRY(spawn(t, receive_error, ep));
  CHECK_OK(settle(t));
  CHECK_OK(del(ep));
  CHECK_EQ(KT_TRY(join(t, a)), uint64_t(Error::InvalidCapability));
  CHECK_EQ(KT_TRY(join(t, b)), uint64_t(Error::InvalidCapability));
  // Senders too.
  const uint64_t ep2 = KT_TRY(t.make(ObjectType::Endpoint));
  const Thread c = KT_TRY(spawn(t, send_error, ep2));
  CHECK_OK(settle(t));
  CHECK_OK(del(ep2));
  CHECK_EQ(KT_TRY(join(t, c)), uint64_t(Error::InvalidCapability));
}

// The caller is destroyed while the server holds its reply: the reply
// goes nowhere, and nothing breaks.
uint64_t call_once(uint64_t ep) { return uint64_t(ipc_call(ep, 1, {}).error()); }

KTEST(ipc, caller_destroyed_before_reply) {
  const uint64_t ep = KT_TRY(t.make(ObjectType::Endpoint));
  const Thread client = KT_TRY(spawn(t, call_once, ep));
  const Message m = recv(ep);  // the root is the server now
  CHECK_OK(m);
  CHECK_OK(del(client.tcb));   // its only cap: the thread is destroyed
  CHECK_OK(reply(0, {5}));     // nobody to reply to: ignored
  CHECK_ERR(nb_recv(ep), Error::WouldBlock);
}

// A receiver without an IPC buffer gets the four register words of a
// longer message, and the length says four.
std::atomic<uint64_t> g_bufferless_length = 0;

[[noreturn]] void bufferless_receiver(uint64_t ep, uint64_t ntfn) {
  const os::SyscallResult r = sys(Syscall::Recv, ep);
  g_bufferless_length = r.info.length() | r.mr[3] << 8;
  sys(Syscall::Send, ntfn);
  for (;;) sys(Syscall::Recv, ntfn);
}

KTEST(ipc, receiver_without_buffer) {
  const uint64_t ep = KT_TRY(t.make(ObjectType::Endpoint));
  const uint64_t ntfn = KT_TRY(t.make(ObjectType::Notification));
  const uint64_t tcb = KT_TRY(t.make(ObjectType::Tcb));
  const auto stack = KT_TRY(t.map_new(1));
  CHECK_OK(call(tcb, Label::TcbConfigure, {}, {kRootCNode, kRootVSpace}));
  CHECK_OK(set_priority(tcb, kThreadPriority, kThreadPriority));
  CHECK_OK(call(tcb, Label::TcbWriteRegisters,
                {reinterpret_cast<uint64_t>(&bufferless_receiver), 0, stack.va + kPage, cpu::read_gp(), 0, 0, 0, 0,
                 0, 0, ep, ntfn}));
  CHECK_OK(resume(tcb));
  CHECK_OK(settle(t));
  KT_TRY(call_long_send(ep, 30));
  CHECK_EQ(wait(ntfn).badge, 1);
  CHECK_EQ(g_bufferless_length.load(), 4 | 0x1003 << 8);
}

}  // namespace
