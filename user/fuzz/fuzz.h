// The system-call fuzzer: shared between the root task (main.cc), which
// builds the sandbox, supervises and checks the kernel's invariants, and
// the fuzzing threads (fuzzer.cc, recipes.cc), which issue random system
// calls.
//
// The fuzzing threads run in the root task's address space (their code and
// state are the root task's) but their CSpace is the sandbox CNode, so all
// they can reach is what is in the sandbox. They never hold a capability to
// their own TCB or VSpace, so nothing they do can change their own code,
// stack or registers: their random calls act on the sandbox only. Their
// faults go to an endpoint only the root task receives on.
#pragma once

#include <cstdint>

#include "abi/abi.h"

namespace fuzz {

// The sandbox CNode: 2^kSandboxRadix slots. The objects start at these
// slots ("home" slots: the generator aims at them often, whatever they hold
// by then); the rest are empty, for copies and retypes.
inline constexpr uint64_t kSandboxRadix = 6;
inline constexpr uint64_t kSandboxSlots = uint64_t{1} << kSandboxRadix;

enum HomeSlot : uint64_t {
  kSlotSandboxCNode = 1,   // the sandbox CNode itself (a copy)
  kSlotBigUntyped = 2,     // the Untyped every sandbox object came from
  kSlotSmallUntyped = 3,
  kSlotEndpoint = 4,       // 4, 5; 6 = badged copy of 4, 7 = read-only copy of 5
  kSlotNotification = 8,   // 8, 9; 10 = badged copy of 8
  kSlotFrame = 11,         // 11..14
  kSlotVSpace = 15,        // 15 has a table pool, 16 has none
  kSlotTcb = 17,           // a thread of the sandbox (not a fuzzing thread)
  kSlotReadOnlyCNode = 18, // the sandbox CNode again, read-only
  kSlotMoreCNodes = 19,    // 19, 20: more copies of it (many calls need one)
  kSlotIrqHandler = 21,    // the handler of an interrupt no device raises
  kSlotReply = 22,         // 22, 23: Reply objects (SaveReply, Send on them)
  kFirstEmptySlot = 24,
};
// The interrupt: source 1 is the first virtio-mmio slot of QEMU's virt
// machine, with no device attached.
inline constexpr uint64_t kFuzzIrq = 1;
inline constexpr uint64_t kFrameCount = 4;

// Where the sandbox's address spaces get their mappings, mostly.
inline constexpr uint64_t kSandboxWindow = 0x4000'0000;
inline constexpr uint64_t kUserTop = uint64_t{1} << 38;

// A fuzzing thread tells the root task about progress with system-call
// numbers no kernel call has (the fault arrives as UnknownSyscall).
inline constexpr uint64_t kCheckpointSyscall = 0x46555a5a'00000001;  // "FUZZ"
inline constexpr uint64_t kDoneSyscall = 0x46555a5a'00000002;
// The partner thread made kPartnerBudget calls while the main one made
// none: the main one is blocked for good; the root task restarts both.
inline constexpr uint64_t kStalledSyscall = 0x46555a5a'00000003;
inline constexpr uint64_t kPartnerBudget = 256;

inline constexpr uint64_t kLabelSlots = 64;  // above every invocation label
inline constexpr uint64_t kKnownTypes = 12;  // object types 1..11 (Untyped .. Reply)
inline constexpr uint64_t kKnownPerType = 8;

// One fuzzing thread's state. It lives in the root task's memory: when the
// root task restarts a thread (it blocked or faulted), the thread goes on
// from here with the next call.
struct FuzzThread {
  uint64_t rng;               // xorshift64* state; the seed decides every call
  uint64_t calls;             // system calls issued
  uint64_t limit;             // stop (kDoneSyscall) after this many; 0 = never
  uint64_t checkpoint_every;  // report (kCheckpointSyscall) this often; 0 = never
  uint64_t next_checkpoint;   // calls at the next report
  uapi::IpcBuffer* buffer;     // this thread's IPC buffer
  uint64_t last_value;        // a value a reply carried, reused as an argument
  const FuzzThread* leader;   // partner: the main thread, whose progress it watches
  uint64_t leader_calls;      // partner: the main thread's calls when last seen moving
  uint64_t calls_then;        // partner: its own calls at that time
  uint64_t ok;                // replies without the error flag
  uint64_t errors;            // replies with it
  // Slots that held an object of a type when last seen (by object type;
  // 0 = none): learnt from successful calls, so that the calls keep finding
  // objects after the home slots have been emptied. The root task clears
  // it when it builds a fresh sandbox.
  uint8_t known[kKnownTypes][kKnownPerType];
  uint8_t known_next[kKnownTypes];
  // Invocations made from a template, by label, and how many succeeded.
  uint32_t label_tries[kLabelSlots];
  uint32_t label_ok[kLabelSlots];
  // SaveReply calls, and those that saved a reply.
  uint32_t save_reply_tries;
  uint32_t save_reply_ok;
};

// The entry point of a fuzzing thread (a0 = its FuzzThread).
[[noreturn]] void thread_main(FuzzThread* self);

}  // namespace fuzz
