// The system-call layer itself: capability lookup errors, labels that do
// not belong to the invoked object, receiving on objects that are not
// endpoints or notifications, the simple calls (DebugPutChar, Yield, Reply
// with nobody to reply to) and SystemControl's error paths.
#include "ktest.h"

namespace {

using namespace kt;
using uapi::MessageInfo;
using uapi::Syscall;

KTEST(syscall, invalid_cptr) {
  const uint64_t empty = t.slot();
  const uint64_t beyond = uint64_t{1} << env().info->root_cnode_radix;
  // Slot 0 never holds a capability; lookups of it are out of range.
  CHECK_ERR(call(0, Label::TcbResume, {}), Error::RangeError);
  CHECK_ERR(call(beyond, Label::TcbResume, {}), Error::RangeError);
  CHECK_ERR(call(~uint64_t{0}, Label::TcbResume, {}), Error::RangeError);
  CHECK_ERR(call(empty, Label::TcbResume, {}), Error::FailedLookup);
  CHECK_ERR(send(empty, 1, {}), Error::FailedLookup);
  CHECK_ERR(nb_send(empty, 1, {}), Error::FailedLookup);
  CHECK_ERR(recv(empty), Error::FailedLookup);
  CHECK_ERR(nb_recv(beyond), Error::RangeError);
  CHECK_ERR(reply_recv(empty, 0, {}), Error::FailedLookup);
}

// Every object type refuses a label of another type, and labels that are
// no invocation at all.
KTEST(syscall, label_of_other_type) {
  const uint64_t tcb = KT_TRY(t.make(ObjectType::Tcb));
  const uint64_t frame = KT_TRY(t.make(ObjectType::Frame));
  const uint64_t vspace = KT_TRY(t.make(ObjectType::VSpace));
  const uint64_t cnode = KT_TRY(t.make(ObjectType::CNode, 2));
  CHECK_ERR(call(t.untyped(), Label::CNodeDelete, {1}), Error::IllegalOperation);
  CHECK_ERR(call(cnode, Label::UntypedRetype, {uint64_t(ObjectType::Frame), 0, 1, 1}, {cnode}),
            Error::IllegalOperation);
  CHECK_ERR(call(tcb, Label::VSpaceLookup, {0}), Error::IllegalOperation);
  CHECK_ERR(call(vspace, Label::TcbResume, {}), Error::IllegalOperation);
  CHECK_ERR(call(vspace, Label::FrameGetInfo, {}), Error::IllegalOperation);
  CHECK_ERR(call(frame, Label::VSpaceLookup, {0}), Error::IllegalOperation);
  CHECK_ERR(call(kIrqControl, Label::IrqHandlerAck, {}), Error::IllegalOperation);
  CHECK_ERR(call(kSystemControl, Label::TcbSuspend, {}), Error::IllegalOperation);
  CHECK_ERR(call(kRootCNode, Label::SystemShutdown, {0}), Error::IllegalOperation);
  for (uint64_t label : {uint64_t{0}, uint64_t{2}, uint64_t{999}, (uint64_t{1} << 50)}) {
    CHECK_ERR(call_raw(tcb, label, 0, nullptr), Error::IllegalOperation);
    CHECK_ERR(call_raw(kRootCNode, label, 0, nullptr), Error::IllegalOperation);
  }
}

// Only endpoints and notifications can be received on.
KTEST(syscall, receive_on_other_objects) {
  const uint64_t frame = KT_TRY(t.make(ObjectType::Frame));
  const uint64_t tcb = KT_TRY(t.make(ObjectType::Tcb));
  CHECK_ERR(nb_recv(frame), Error::InvalidCapability);
  CHECK_ERR(nb_recv(tcb), Error::InvalidCapability);
  CHECK_ERR(nb_recv(t.untyped()), Error::InvalidCapability);
  CHECK_ERR(recv(kRootCNode), Error::InvalidCapability);
}

// A Send (not a Call) to an object performs the invocation without a reply.
KTEST(syscall, send_invocation) {
  const uint64_t dest = t.slot();
  uapi::IpcBuffer* buffer = my_buffer();
  buffer->caps[0] = kRootCNode;
  const auto info = MessageInfo::make(uint64_t(Label::UntypedRetype), 4, 1);
  const Message m = message_of(sys(Syscall::Send, t.untyped(), info, uint64_t(ObjectType::Endpoint), 0, 1, dest));
  CHECK_OK(m);
  CHECK_EQ(m.info.length(), 0);
  CHECK_ERR(nb_recv(dest), Error::WouldBlock);  // the endpoint exists
  // A failed invocation by Send reports nothing either.
  const Message failed = message_of(sys(Syscall::Send, t.untyped(), info, uint64_t(ObjectType::Endpoint), 0, 1, dest));
  CHECK_OK(failed);
}

KTEST(syscall, simple_calls) {
  CHECK_OK(message_of(sys(Syscall::DebugPutChar, '\n')));
  CHECK_OK(message_of(sys(Syscall::Yield, 0)));
  // A Reply with nobody waiting for one is ignored.
  CHECK_OK(reply(0, {1, 2}));
}

KTEST(syscall, system_control_errors) {
  CHECK_ERR(call(kSystemControl, Label::SystemShutdown, {0x10000}), Error::RangeError);
  CHECK_ERR(call(kSystemControl, Label::SystemShutdown, {}), Error::TruncatedMessage);
  // The unique authorities cannot be copied.
  CHECK_ERR(copy(t.slot(), kSystemControl, Rights::All), Error::IllegalOperation);
  CHECK_ERR(copy(t.slot(), kIrqControl, Rights::All), Error::IllegalOperation);
}

}  // namespace
