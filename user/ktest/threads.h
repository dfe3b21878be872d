// Threads for tests. spawn() makes a TCB with a stack and an IPC buffer
// carved from the test's Untyped, configures it (by default in the root
// task's own CSpace and VSpace) and starts it at thread_entry, which calls
// fn(arg) and reports the result on the test's control endpoint with a Call
// that is never answered, so the thread stays blocked until the runner
// destroys it.
//
// The control endpoint is also every spawned thread's fault endpoint, each
// thread through a cap with its own badge: the root thread (priority 255,
// above every spawned thread) learns of completions and faults alike by
// receiving on it (next_event, join). A thread runs only while the root
// thread is blocked.
#pragma once

#include <cstdint>

#include "ktest.h"

namespace kt {

// Label of the completion message: mr0 = fn's result.
inline constexpr uint64_t kDoneLabel = 0x7d0;
inline constexpr uint64_t kThreadPriority = 100;
inline constexpr size_t kStackPages = 4;

using ThreadFn = uint64_t (*)(uint64_t arg);

struct ThreadOptions {
  uint64_t priority = kThreadPriority;
  uint64_t cspace = kRootCNode;   // cptrs in the root CSpace
  uint64_t vspace = kRootVSpace;  // stack and IPC buffer are mapped here
  // In a CSpace other than the root's, the slot of that CNode where spawn
  // puts the thread's control-endpoint cap (the thread's done_cap).
  uint64_t done_slot = 1;
  bool fault_handler = true;  // false: no fault endpoint (a fault suspends it)
  uint64_t fault_ep = 0;      // an endpoint cptr: the fault endpoint instead of the control endpoint
  bool start = true;          // false: configured but not resumed
};

struct Thread {
  uint64_t tcb = 0;        // cptr in the root CSpace
  uint64_t badge = 0;      // of its messages on the control endpoint
  uint64_t buffer_va = 0;  // its IPC buffer, in its VSpace
  uint64_t buffer_frame = 0;
  uint64_t stack_top = 0;
};

Result<Thread> spawn(Test& t, ThreadFn fn, uint64_t arg, const ThreadOptions& options = {});

// One message received on the control endpoint: a completion (label
// kDoneLabel) or a fault (uapi::FaultLabel, mr as in abi.h).
struct Event {
  uint64_t badge = 0;
  uint64_t label = 0;
  uint64_t length = 0;
  uint64_t mr[6] = {};
  bool is_done() const { return label == kDoneLabel; }
};
Result<Event> next_event(Test& t);

// Waits for the thread's completion and returns fn's result. A fault of
// any test thread meanwhile fails the test (with pc and address).
Result<uint64_t> join(Test& t, const Thread& thread);

// Share the root task's read-only pages (text and rodata, not data) into
// `vspace` at the same addresses, so a thread there can run the test code
// (as long as it touches no global variable).
Status share_code(uint64_t vspace);

// The entry point spawn() starts threads at (a0 fn, a1 arg, a2 done_cap).
[[noreturn]] void thread_entry(ThreadFn fn, uint64_t arg, uint64_t done_cap);

}  // namespace kt
