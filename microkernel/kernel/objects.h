// The kernel objects as they sit in memory carved from Untyped (their sizes
// are fixed by include/abi/object_types.def). Each object is named by the
// physical address in its capabilities and reached through the direct map.
//
// A TCB keeps its bindings (CSpace root, VSpace, IPC-buffer frame, fault
// endpoint) as capability copies in its own slots, as seL4 does: they are
// then ordinary children in the CDT, so revoking the memory they came from
// unbinds the thread instead of leaving a dangling pointer.
#pragma once

#include <cstddef>
#include <cstdint>

#include "abi/abi.h"
#include "arch/riscv/cpu.h"
#include "lib/cap.h"
#include "lib/kmem.h"
#include "lib/runqueue.h"
#include "lib/vspace.h"

namespace kern {

struct Hart;
struct Reply;

enum class ThreadState : uint8_t {
  Inactive,            // never resumed, or suspended
  Runnable,            // running or in the run queue
  BlockedOnSend,       // in an endpoint's send queue
  BlockedOnReceive,    // in an endpoint's receive queue
  BlockedOnReply,      // sent a Call (or a fault) and waits for the reply
  BlockedOnNotification,
};

enum class TcbSlot : uint8_t { CSpace = 0, VSpace = 1, IpcBuffer = 2, FaultEndpoint = 3, Count = 4 };

struct ThreadCounters {
  uint64_t values[static_cast<size_t>(uapi::Counter::Count)] = {};
  uint64_t& operator[](uapi::Counter c) { return values[static_cast<size_t>(c)]; }
};

struct Tcb {
  // For the capability core while the TCB is being destroyed.
  uint64_t dying;
  Capability dying_next;
  Slot slots[static_cast<size_t>(TcbSlot::Count)];

  arch::UserContext context;   // registers while not running
  RunLink run;                 // run-queue link; run.priority is the priority
  ThreadState state;
  uint8_t max_priority;        // a thread may not raise itself above this (set by the configurer)

  // IPC. While blocked on an endpoint the thread is in its queue through
  // ipc_next/ipc_prev, and blocked_on names the endpoint or notification.
  Tcb* ipc_next;
  Tcb* ipc_prev;
  PhysAddr blocked_on;
  uint64_t send_badge;         // badge of the endpoint cap it is sending through
  bool send_is_call;           // the queued send is a Call (or a fault message)
  bool send_can_grant;         // the cap used allows capability transfer
  bool fault_pending;          // the queued send is a fault message in fault_msg
  // Call/Reply. A thread that received a Call (or a fault) owes the caller
  // a reply: reply_to on its side, reply_from on the caller's. SaveReply
  // moves the debt into a Reply object: the caller's reply_object then
  // names it and reply_to/reply_from are null. Every link is cleared
  // whichever side goes first; a caller whose links are all gone stays
  // BlockedOnReply (its reply is lost).
  Tcb* reply_to;
  Tcb* reply_from;
  Reply* reply_object;
  // Caller side: the reply it waits for resumes it from a fault (set while
  // BlockedOnReply, even after its reply was lost, so that Suspend knows
  // not to restart a system call).
  bool awaiting_fault_reply;
  uint64_t ipc_buffer_va;      // where the IPC buffer frame is mapped (user address)
  uapi::MessageInfo fault_info; // pending fault message: label, length
  uint64_t fault_mr[6];

  uint64_t satp;               // satp for the bound VSpace (root + ASID), set when it is bound

  ThreadCounters counters;
  uint64_t switched_in_instret;
  uint64_t switched_in_cycle;
};
static_assert(sizeof(Tcb) <= 1024, "object_types.def: Tcb is 2^10 bytes");

struct Endpoint {
  // Threads waiting on this endpoint; all in one direction at a time.
  Tcb* head;
  Tcb* tail;
  enum class Queue : uint8_t { Idle, Senders, Receivers } queue;
};
static_assert(sizeof(Endpoint) <= 32, "object_types.def: Endpoint is 2^5 bytes");

struct Notification {
  uint64_t word;   // OR of the badges signalled since the last wait
  Tcb* head;       // waiting threads
  Tcb* tail;
};
static_assert(sizeof(Notification) <= 32, "object_types.def: Notification is 2^5 bytes");

// A saved reply (SaveReply): the caller that waits for it, or null. Whether
// it resumes a fault is the caller's awaiting_fault_reply.
struct Reply {
  Tcb* caller;
};
static_assert(sizeof(Reply) <= 32, "object_types.def: Reply is 2^5 bytes");

// A VSpace object is two pages: the root page table, then this metadata.
struct VSpaceMeta {
  uint64_t dying;           // for the capability core (pool_slot is a contained slot)
  Capability dying_next;
  TablePoolState pool;
  uint16_t asid;
  Slot pool_slot;   // the Untyped moved in with VSpaceSetTablePool (keeps the memory accounted)
  // Every VSpace with a table pool is on one list (vm.cc), so that when the
  // pool's Untyped is deleted from outside (a revoke of its parent) the
  // tables in its memory can be found and torn down.
  VSpaceMeta* pool_next;
  VSpaceMeta* pool_prev;
};
inline constexpr uint64_t kVSpaceMetaOffset = kPageSize;

template <typename T>
T& object_of(const Capability& cap) {
  return *phys_to_ptr<T>(cap.object());
}

inline Tcb& tcb_of_context(arch::UserContext* context) {
  return *reinterpret_cast<Tcb*>(reinterpret_cast<char*>(context) - offsetof(Tcb, context));
}

inline Slot& tcb_slot(Tcb& tcb, TcbSlot which) { return tcb.slots[static_cast<size_t>(which)]; }

}  // namespace kern
