// The IPC fast path: Call and ReplyRecv with a short message (at most the
// four register words, no capabilities) when the other side is already
// waiting and nothing of higher priority is ready. It does what the slow
// path would (same message, same reply links, same counters, same choice
// of thread) with fewer steps, and switches straight to the other thread.
// When a condition fails it changes nothing and the slow path handles the
// system call from the start, so the fast path never handles an error. bootargs kernel.fastpath=0 turns it off (benchmarks compare).
#pragma once

#include "kernel/objects.h"

namespace kern {

void fastpath_set_enabled(bool enabled);

}  // namespace kern

// Called by trap.S for Call and ReplyRecv with the trapping thread's saved
// context. They return the context of the thread to leave into (trap.S
// then does), or null when the fast path does not apply, having changed
// nothing (trap.S then runs the slow path, user_trap). Leaf functions: no
// calls, so no registers to save.
extern "C" arch::UserContext* fastpath_call(arch::UserContext* context);
extern "C" arch::UserContext* fastpath_reply_recv(arch::UserContext* context);

namespace kern {

}  // namespace kern
