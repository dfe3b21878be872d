// The kernel's invariant checker, behind the DebugCheckInvariants system
// call: the fuzzer (user/fuzz) and tests ask the kernel to look at its own
// data structures between random system calls. It reads only, allocates
// nothing (fixed tables in .bss), bounds every walk, and reports each
// violation as one console line starting "INVARIANT VIOLATED:".
#pragma once

#include "kernel/objects.h"

namespace kern {

// Check everything reachable from the caller's CSpace (for the root task:
// every object there is) and set the caller's result: label 0 and length 4
// if all holds, else the error Malformed (MessageInfo::IsError) with
// length 4; mr0 = violations, mr1 = capabilities visited, mr2 = threads,
// mr3 = page mappings counted.
//
// The global sums (ASIDs in use, frame mapping counts) assume the caller's
// CSpace reaches every capability, which is true of the root task's: all
// boot capabilities start there and every other derives from them.
void debug_check_invariants(Tcb& caller);

}  // namespace kern
