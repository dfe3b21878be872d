// Synchronous IPC through endpoints, asynchronous notifications, and fault
// delivery (a fault is sent as a Call on the thread's fault endpoint).
//
// A message is up to uapi::kMaxMessageLength words: the first four travel in
// registers a2..a5, the rest between the two threads' IPC buffers, which
// the kernel reaches through the direct map (the buffer is a Frame the
// thread was configured with). With Grant on the endpoint cap, one
// capability can travel into the receiver's receive_slot; an endpoint cap
// to the receiving endpoint itself is "unwrapped" into its badge.
#pragma once

#include "abi/abi.h"
#include "kernel/objects.h"

namespace kern {

// Syscall results written into a thread's registers (a0 badge, a1 info).
void set_result(Tcb& thread, uapi::MessageInfo info, uint64_t badge = 0);
void set_error(Tcb& thread, Error error);

void endpoint_send(Tcb& sender, const Capability& endpoint, uapi::MessageInfo info, bool blocking, bool is_call);
void endpoint_receive(Tcb& receiver, const Capability& endpoint, bool blocking);
// Reply to the thread waiting on `replier` (nothing if none).
void reply(Tcb& replier, uapi::MessageInfo info);
// The reply half on its own: `caller` (BlockedOnReply, its reply links
// already cleared) gets `replier`'s message, or is resumed or stopped if it
// waits for a fault reply. Used by reply() and by a Send on a Reply object.
void deliver_reply(Tcb& replier, Tcb& caller, uapi::MessageInfo info);

void notification_signal(const Capability& notification);
void notification_wait(Tcb& thread, const Capability& notification, bool blocking);

// The thread faulted: send the fault to its fault endpoint, or suspend it
// with a console message if it has none.
void deliver_fault(Tcb& thread, uapi::FaultLabel label, std::span<const uint64_t> mrs);

// Take the thread out of any endpoint or notification queue and break its
// reply links, a saved one included (it is being suspended or destroyed).
void cancel_ipc(Tcb& thread);
// Wake every thread queued on an endpoint or notification being destroyed;
// each gets InvalidCapability.
void endpoint_destroyed(Endpoint& endpoint);
void notification_destroyed(Notification& notification);

}  // namespace kern
