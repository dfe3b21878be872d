// Reply objects (see reply.h): SaveReply, a Send on a Reply cap, and what
// destroying one does. The reply itself is delivered by ipc.cc, the same
// way as the Reply system call delivers it.
#include "kernel/reply.h"

#include "kernel/ipc.h"

namespace kern {

Status save_reply(Tcb& thread, const Capability& cap) {
  if (cap.type() != ObjectType::Reply) return fail(Error::InvalidCapability);
  if (!uapi::has(cap.rights(), Rights::Write)) return fail(Error::IllegalOperation);
  Reply& reply = object_of<Reply>(cap);
  if (reply.caller != nullptr) return fail(Error::DeleteFirst);
  Tcb* caller = thread.reply_to;
  if (caller == nullptr) return fail(Error::FailedLookup);

  // The caller stays BlockedOnReply (and keeps awaiting_fault_reply); only
  // who owes the reply changes.
  thread.reply_to = nullptr;
  caller->reply_from = nullptr;
  caller->reply_object = &reply;
  reply.caller = caller;
  return {};
}

Status send_on_reply(Tcb& sender, const Capability& cap, uapi::MessageInfo info, bool is_call) {
  if (!uapi::has(cap.rights(), Rights::Write)) return fail(Error::IllegalOperation);
  // A Call would wait for an answer nobody owes: refused rather than
  // turned into a Send, so that a mistaken Call does not silently deliver.
  if (is_call) return fail(Error::IllegalOperation);
  Reply& reply = object_of<Reply>(cap);
  Tcb* caller = reply.caller;
  if (caller == nullptr) return fail(Error::FailedLookup);

  reply.caller = nullptr;
  caller->reply_object = nullptr;
  deliver_reply(sender, *caller, info);
  return {};
}

void reply_destroyed(Reply& reply) {
  if (reply.caller == nullptr) return;
  reply.caller->reply_object = nullptr;  // it stays BlockedOnReply: its reply is lost
  reply.caller = nullptr;
}

}  // namespace kern
