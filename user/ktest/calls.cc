// Kernel invocations and system calls for every thread of the test program
// (calls.h). The message layouts are the ones the kernel's object files
// document at their top (microkernel/kernel/*.cc).
#include "calls.h"

namespace kt {
namespace {

using uapi::MessageInfo;
using uapi::Syscall;

Error status(const os::Reply& r) { return os::error_of(r); }

// Puts words 4.. of a message into the caller's IPC buffer and returns
// words 0..3 for the registers.
MessageInfo stage(uint64_t label, std::initializer_list<uint64_t> mrs, uint64_t regs[4]) {
  uapi::IpcBuffer* buffer = my_buffer();
  size_t i = 0;
  for (uint64_t value : mrs) {
    if (i < uapi::kMessageRegistersInCpu) regs[i] = value;
    else if (i < uapi::kMaxMessageLength) buffer->mr[i] = value;
    ++i;
  }
  return MessageInfo::make(label, i < uapi::kMaxMessageLength ? i : uapi::kMaxMessageLength);
}

Message transmit(Syscall number, uint64_t cptr, uint64_t label, std::initializer_list<uint64_t> mrs) {
  uint64_t regs[4] = {};
  const MessageInfo info = stage(label, mrs, regs);
  return message_of(sys(number, cptr, info, regs[0], regs[1], regs[2], regs[3]));
}

}  // namespace

const char* error_name(Error error) {
  switch (error) {
    case Error::Ok: return "Ok";
#define X(name, number, text) \
  case Error::name:           \
    return #name;
#include "abi/errors.def"
#undef X
  }
  return "(unknown error)";
}

os::Reply call_raw(uint64_t cptr, uint64_t label, size_t length, const uint64_t* mrs, size_t caps,
                   const uint64_t* cap_cptrs) {
  return os::call_raw(my_buffer(), cptr, label, length, mrs, caps, cap_cptrs);
}

os::Reply call(uint64_t cptr, Label label, std::initializer_list<uint64_t> mrs, std::initializer_list<uint64_t> caps) {
  return call_raw(cptr, uint64_t(label), mrs.size(), mrs.begin(), caps.size(), caps.begin());
}

Error retype(uint64_t untyped, ObjectType type, uint64_t size_bits, uint64_t count, uint64_t first, uint64_t cnode) {
  return status(call(untyped, Label::UntypedRetype, {uint64_t(type), size_bits, count, first}, {cnode}));
}

Error copy(uint64_t dest, uint64_t src, Rights mask, uint64_t cnode, uint64_t src_cnode) {
  return status(call(cnode, Label::CNodeCopy, {dest, src, uint64_t(mask)}, {src_cnode}));
}

Error mint(uint64_t dest, uint64_t src, Rights mask, uint64_t badge, uint64_t cnode, uint64_t src_cnode) {
  return status(call(cnode, Label::CNodeMint, {dest, src, uint64_t(mask), badge}, {src_cnode}));
}

Error move(uint64_t dest, uint64_t src, uint64_t cnode, uint64_t src_cnode) {
  return status(call(cnode, Label::CNodeMove, {dest, src}, {src_cnode}));
}

Error del(uint64_t slot, uint64_t cnode) { return status(call(cnode, Label::CNodeDelete, {slot})); }
Error revoke(uint64_t slot, uint64_t cnode) { return status(call(cnode, Label::CNodeRevoke, {slot})); }

Error configure(uint64_t tcb, uint64_t cspace, uint64_t vspace, uint64_t buffer_frame, uint64_t buffer_va,
                uint64_t fault_ep) {
  return status(call(tcb, Label::TcbConfigure, {buffer_va, fault_ep}, {cspace, vspace, buffer_frame}));
}

Error set_priority(uint64_t tcb, uint64_t priority) { return status(call(tcb, Label::TcbSetPriority, {priority})); }
Error set_priority(uint64_t tcb, uint64_t priority, uint64_t max) {
  return status(call(tcb, Label::TcbSetPriority, {priority, max}));
}
Error resume(uint64_t tcb) { return status(call(tcb, Label::TcbResume, {})); }
Error suspend(uint64_t tcb) { return status(call(tcb, Label::TcbSuspend, {})); }
os::Reply read_registers(uint64_t tcb) { return call(tcb, Label::TcbReadRegisters, {}); }
os::Reply read_counters(uint64_t tcb) { return call(tcb, Label::TcbReadCounters, {}); }

Error set_pool(uint64_t vspace, uint64_t untyped) {
  return status(call(vspace, Label::VSpaceSetTablePool, {}, {untyped}));
}

Error map(uint64_t vspace, uint64_t va, uint64_t first_frame, uint64_t count, uint64_t perm, uint64_t cnode) {
  return status(call(vspace, Label::VSpaceMap, {va, first_frame, count, perm}, {cnode}));
}

os::Reply unmap(uint64_t vspace, uint64_t va, uint64_t length) {
  return call(vspace, Label::VSpaceUnmap, {va, length});
}

os::Reply protect(uint64_t vspace, uint64_t va, uint64_t length, uint64_t perm) {
  return call(vspace, Label::VSpaceProtect, {va, length, perm});
}

os::Reply copy_range(uint64_t src, uint64_t dst, uint64_t va, uint64_t length, uapi::CopyMode mode) {
  return call(src, Label::VSpaceCopyRange, {va, length, uint64_t(mode)}, {dst});
}

os::Reply lookup(uint64_t vspace, uint64_t va) { return call(vspace, Label::VSpaceLookup, {va}); }

os::Reply copy_page(uint64_t vspace, uint64_t va, uint64_t perm, uint64_t frame) {
  return call(vspace, Label::VSpaceCopyPage, {va, perm}, {frame});
}

os::Reply frame_info(uint64_t frame) { return call(frame, Label::FrameGetInfo, {}); }

os::Reply scan(uint64_t vspace, uint64_t va, uint64_t length, uint64_t flags, uint64_t threshold) {
  return call(vspace, Label::VSpaceScan, {va, length, flags, threshold});
}

os::Reply system_counters(uint64_t system) { return call(system, Label::SystemReadCounters, {}); }

Error irq_get(uint64_t irq, uint64_t dest, uint64_t cnode) {
  return status(call(kIrqControl, Label::IrqControlGet, {irq, dest}, {cnode}));
}
Error irq_set_notification(uint64_t handler, uint64_t notification) {
  return status(call(handler, Label::IrqHandlerSetNotification, {}, {notification}));
}
Error irq_ack(uint64_t handler) { return status(call(handler, Label::IrqHandlerAck, {})); }
Error irq_clear(uint64_t handler) { return status(call(handler, Label::IrqHandlerClear, {})); }

os::SyscallResult sys(Syscall number, uint64_t cptr, MessageInfo info, uint64_t mr0, uint64_t mr1, uint64_t mr2,
                      uint64_t mr3) {
  return os::syscall(number, cptr, info, mr0, mr1, mr2, mr3);
}

Message message_of(const os::SyscallResult& r) {
  Message m;
  m.badge = r.badge;
  m.info = r.info;
  const size_t n = r.info.length() < uapi::kMaxMessageLength ? r.info.length() : uapi::kMaxMessageLength;
  for (size_t i = 0; i < n; ++i) m.mr[i] = i < uapi::kMessageRegistersInCpu ? r.mr[i] : my_buffer()->mr[i];
  return m;
}

Message send(uint64_t cptr, uint64_t label, std::initializer_list<uint64_t> mrs) {
  return transmit(Syscall::Send, cptr, label, mrs);
}
Message nb_send(uint64_t cptr, uint64_t label, std::initializer_list<uint64_t> mrs) {
  return transmit(Syscall::NBSend, cptr, label, mrs);
}
Message ipc_call(uint64_t cptr, uint64_t label, std::initializer_list<uint64_t> mrs) {
  return transmit(Syscall::Call, cptr, label, mrs);
}
Message recv(uint64_t cptr) { return message_of(sys(Syscall::Recv, cptr)); }
Message nb_recv(uint64_t cptr) { return message_of(sys(Syscall::NBRecv, cptr)); }
Message reply_recv(uint64_t cptr, uint64_t label, std::initializer_list<uint64_t> mrs) {
  return transmit(Syscall::ReplyRecv, cptr, label, mrs);
}
Message reply(uint64_t label, std::initializer_list<uint64_t> mrs) { return transmit(Syscall::Reply, 0, label, mrs); }

// A signal is a Send on a notification; the kernel answers it at once.
Error signal(uint64_t notification) { return message_of(sys(Syscall::Send, notification)).error(); }
Message wait(uint64_t notification) { return recv(notification); }
Message poll(uint64_t notification) { return nb_recv(notification); }

}  // namespace kt
