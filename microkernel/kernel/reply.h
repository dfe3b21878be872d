// Reply objects: a reply kept for later. A thread that received a Call (or
// a fault) owes the caller a reply, implicitly, and loses it when it
// receives the next Call. SaveReply moves that debt into a Reply object,
// which holds it until a Send on the object delivers the reply, so a server
// can keep many callers waiting while it serves others.
//
// The object holds at most one caller, linked both ways (Reply::caller and
// the caller's Tcb::reply_object). Whichever side goes first clears both:
// a caller suspended or destroyed empties the object; a Reply object
// destroyed with a caller loses that caller's reply (the caller stays
// BlockedOnReply until it is suspended or destroyed, as for a lost
// implicit reply).
#pragma once

#include "abi/abi.h"
#include "kernel/objects.h"
#include "lib/result.h"

namespace kern {

// SaveReply on `cap` (already looked up, not empty). Errors, in order:
// InvalidCapability (not a Reply), IllegalOperation (no Write), DeleteFirst
// (the object holds a caller), FailedLookup (the thread owes no reply).
Status save_reply(Tcb& thread, const Capability& cap);

// Send or NBSend (or Call) on a Reply cap: the sender's message is the
// reply to the saved caller, and the object is empty again. Errors, in
// order: IllegalOperation (no Write, or a Call), FailedLookup (no caller).
Status send_on_reply(Tcb& sender, const Capability& cap, uapi::MessageInfo info, bool is_call);

// The last cap to the object went: its caller's reply is lost.
void reply_destroyed(Reply& reply);

}  // namespace kern
