// The user-visible kernel ABI, shared by the kernel and libos: system-call
// numbers, object types, invocation labels and error codes (each generated
// from its one .def list), capability rights, the message-info word, the IPC
// buffer, fault messages and the boot-info page. Nothing here depends on
// kernel internals. docs/kernel.md is the prose version. The namespace is
// uapi, not abi: <cxxabi.h> already declares `namespace abi`.
//
// Register convention (RISC-V): ecall with a7 = syscall number, a0 = the
// capability pointer (cptr) invoked, a1 = message info, a2..a5 = message
// registers 0..3; the rest of a message lives in the IPC buffer. The kernel
// returns a0 = badge of the sender (receives) or 0, a1 = message info,
// a2..a5 = message registers 0..3.
#pragma once

#include <cstddef>
#include <cstdint>

#include "lib/bitfield.h"

namespace uapi {

enum class Syscall : uint64_t {
#define X(name, number) name = number,
#include "abi/syscalls.def"
#undef X
};

enum class ObjectType : uint8_t {
#define X(name, number, size_bits) name = number,
#include "abi/object_types.def"
#undef X
};

// log2 of the fixed size of an object type, 0 if chosen at retype.
constexpr unsigned object_size_bits(ObjectType type) {
  switch (type) {
#define X(name, number, size_bits) \
  case ObjectType::name:           \
    return size_bits;
#include "abi/object_types.def"
#undef X
  }
  return 0;
}

enum class Label : uint64_t {
#define X(name, number, type) name = number,
#include "abi/invocations.def"
#undef X
};

// The object type an invocation label belongs to.
constexpr ObjectType label_object(Label label) {
  switch (label) {
#define X(name, number, type) \
  case Label::name:           \
    return ObjectType::type;
#include "abi/invocations.def"
#undef X
  }
  return ObjectType::Null;
}

// Error codes, as returned in the label of a kernel reply (with
// MessageInfo::Error set). Same numbers as kern::Error.
enum class Error : uint64_t {
  Ok = 0,
#define X(name, number, text) name = number,
#include "abi/errors.def"
#undef X
};

// Capability rights, a bit set. Read: receive on an endpoint, wait on a
// notification, map a frame readable, read an object's state. Write: send,
// signal, map writable, change an object. Grant: send capabilities through
// an endpoint.
enum class Rights : uint8_t {
  None = 0,
  Read = 1 << 0,
  Write = 1 << 1,
  Grant = 1 << 2,
  All = 0x7,
};
constexpr Rights operator|(Rights a, Rights b) { return Rights(uint8_t(a) | uint8_t(b)); }
constexpr Rights operator&(Rights a, Rights b) { return Rights(uint8_t(a) & uint8_t(b)); }
constexpr bool has(Rights set, Rights r) { return (set & r) == r; }

// Page permissions for VSpaceMap, VSpaceProtect, VSpaceCopyPage.
enum class MapPerm : uint64_t { Read = 1, Write = 2, Execute = 4 };

enum class CopyMode : uint64_t { Cow = 1, Share = 2 };

// VSpaceScan's flags (mr2): Unmap unmaps every mapped page the scan visits;
// ReportAddresses reports pages by virtual address instead of by frame.
enum class ScanFlag : uint64_t { Unmap = 1, ReportAddresses = 2 };
// The most entries one VSpaceScan reports (mr3 ..): the scan stops after
// the page that fills the reply.
inline constexpr size_t kScanMaxReport = 60;

inline constexpr size_t kMessageRegistersInCpu = 4;
inline constexpr size_t kMaxMessageLength = 64;  // message registers, in words
inline constexpr size_t kMaxExtraCaps = 3;
static_assert(3 + kScanMaxReport <= kMaxMessageLength, "VSpaceScan's reply: mr3 .. the entries");

// The message-info word (a1): what a message carries.
//   length      number of message registers used (0..kMaxMessageLength)
//   extra_caps  capabilities sent (0..kMaxExtraCaps), cptrs in IpcBuffer::caps
//   unwrapped   bit i set: received cap i was an endpoint cap to the
//               receiving endpoint, delivered as its badge in caps[i]
//   error       set by the kernel: label is an uapi::Error code
//   label       free for the sender; for invocations the operation
struct MessageInfo {
  using Length = kern::BitField<0, 7>;
  using ExtraCaps = kern::BitField<7, 2>;
  using Unwrapped = kern::BitField<9, 3>;
  using IsError = kern::BitFlag<12>;
  using Label = kern::BitField<13, 51>;

  uint64_t raw = 0;

  static constexpr MessageInfo make(uint64_t label, uint64_t length, uint64_t extra_caps = 0) {
    return {Label::set(Length::set(ExtraCaps::set(0, extra_caps), length), label)};
  }
  static constexpr MessageInfo error(Error e) {
    return {Label::set(IsError::set(0, 1), static_cast<uint64_t>(e))};
  }
  constexpr uint64_t length() const { return Length::get(raw); }
  constexpr uint64_t extra_caps() const { return ExtraCaps::get(raw); }
  constexpr uint64_t unwrapped() const { return Unwrapped::get(raw); }
  constexpr bool is_error() const { return IsError::get(raw); }
  constexpr uint64_t label() const { return Label::get(raw); }
};

// One page per thread, mapped in its address space at an address given with
// TcbConfigure. Message registers beyond the first four live here.
struct IpcBuffer {
  uint64_t mr[kMaxMessageLength];  // mr[0..3] mirror a2..a5 and are not read from here
  uint64_t caps[kMaxExtraCaps];    // send: cptrs of extra caps; receive: badges of unwrapped caps
  uint64_t receive_slot;           // receive: slot (in the root CNode) for an incoming cap, 0 = none
  uint64_t user_data;              // free for the runtime (libos keeps its thread pointer here)
};
static_assert(sizeof(IpcBuffer) <= 4096);

// Fault messages sent by the kernel to a thread's fault endpoint, labels:
enum class FaultLabel : uint64_t {
  PageFault = 1,      // mr0 = pc, mr1 = address, mr2 = access (FaultAccess)
  UnknownSyscall = 2, // mr0 = pc, mr1 = syscall number (a7), mr2..mr5 = a0..a3
  Exception = 3,      // mr0 = pc, mr1 = scause, mr2 = stval
};
enum class FaultAccess : uint64_t { Read = 1, Write = 2, Execute = 3 };

// "page fault" etc. for logs; null for a label that is no fault.
constexpr const char* fault_name(uint64_t label) {
  switch (static_cast<FaultLabel>(label)) {
    case FaultLabel::PageFault: return "page fault";
    case FaultLabel::UnknownSyscall: return "unknown syscall";
    case FaultLabel::Exception: return "exception";
  }
  return nullptr;
}
// The reply to a fault: label 0 resumes the thread at its pc (re-executing
// the instruction, or after the ecall for UnknownSyscall); with
// length >= 1, mr0 is a new pc. Any other label leaves it suspended.

// Per-thread counters returned by TcbReadCounters, in message registers in
// this order. KernelInstructions is the part of Instructions retired in
// S-mode (Instructions less those the thread retired in user mode).
enum class Counter : uint8_t {
  Syscalls, IpcSent, IpcReceived, Faults, ContextSwitches, Instructions, Cycles, KernelInstructions, Count
};

// The boot-info page the kernel maps into the root task (its address is in
// a0 at entry). It lists every capability the root task starts with; the
// fixed ones sit at the slots named by BootSlot in the root CNode.
enum class BootSlot : uint64_t {
  Null = 0,            // slot 0 of every CNode holds no capability
  RootCNode = 1,       // the root task's CSpace (a cap to itself)
  RootVSpace = 2,
  RootTcb = 3,
  IrqControl = 4,
  SystemControl = 5,
  IpcBufferFrame = 6,
  BootInfoFrame = 7,
  FaultEndpointSpare = 8,  // empty: for the root task's own use
  FirstFree = 16,      // loaded-image frames, archive frames, untypeds follow
};

inline constexpr uint64_t kBootInfoMagic = 0x6f666e69746f6f62;  // "bootinfo"
inline constexpr size_t kMaxBootUntyped = 96;

struct UntypedDesc {
  uint64_t paddr;
  uint8_t size_bits;
  uint8_t device;     // 1: device memory (MMIO, or the boot archive): frames only, never zeroed
  uint8_t reserved[6];
};

struct SlotRange {
  uint64_t first;     // slot index in the root CNode
  uint64_t count;
};

struct BootInfo {
  uint64_t magic;
  uint64_t root_cnode_radix;
  uint64_t ipc_buffer;             // user address of the root TCB's IPC buffer
  uint64_t stack_top;
  SlotRange image_frames;          // frames of the loaded root task (text, data, stack, ...)
  SlotRange archive_frames;        // frames of the boot archive, mapped read-only at archive_va
  uint64_t archive_va;
  uint64_t archive_size;
  SlotRange untyped;               // Untyped caps; untyped_list[i] describes slot untyped.first + i
  UntypedDesc untyped_list[kMaxBootUntyped];
  uint64_t first_free_slot;        // slots from here to 2^radix - 1 are empty
  uint64_t uart_paddr;             // console UART registers (device untyped among the above)
  uint64_t uart_irq;
  uint64_t plic_paddr;
  uint64_t irq_sources;            // valid IRQ numbers: 1 .. irq_sources - 1
  uint64_t timebase_frequency;
  uint64_t hart_id;
  char bootargs[256];
};
static_assert(sizeof(BootInfo) <= 4096);

// Where the kernel places the root task's pieces (below its ELF image is
// up to the linker script; these sit above any reasonable image).
inline constexpr uint64_t kRootStackTop = 0x1000'0000;   // 256 MiB; the stack grows down from here
inline constexpr uint64_t kRootStackPages = 16;
inline constexpr uint64_t kRootIpcBuffer = 0x1000'1000;
inline constexpr uint64_t kRootBootInfo = 0x1000'2000;
inline constexpr uint64_t kRootArchive = 0x2000'0000;

}  // namespace uapi
