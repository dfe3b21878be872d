// The pager's IPC protocol: labels and layouts on the pager's endpoint, the
// one header the pager, procmgr and libos share (DESIGN.md §2). Conventions
// (result in mr0 as -errno or a value, badges) are in
// servers/common/message.h.
//
// Callers: procmgr (msg::kProcmgrBadge) creates, forks and releases address
// spaces; a process (badge = its address-space id) grows its heap; and the
// kernel delivers every process's faults here with badge kFaultBit | id.
#pragma once

#include <cstdint>

namespace pager::protocol {

enum class Label : uint64_t {
  // mr0 = any word -> mr0 = the same word.
  Ping = 1,

  // ---- procmgr only ----
  // Build a new address space from the ELF image at offset 0 of the exchange
  // area (mr0 = its size) and the exec block (procmgr/protocol.h) at mr1
  // (mr2 = its length): segments, heap, stack holding argv and envp, IPC
  // buffer; mr3 = the policy index (PolicyName) of the new address space
  // (-EINVAL if none is registered under it; 0 when mr3 is absent).
  // -> mr0 = id or -errno (ENOEXEC, ENOMEM, E2BIG), mr1 = entry pc,
  // mr2 = initial sp. The VSpace cap is left in slot kMailboxVSpace and the
  // IPC-buffer Frame cap in kMailboxIpcBuffer of the mailbox CNode.
  Load = 2,
  // mr0 = parent id, mr1 = the parent thread's sp (a hint for policies
  // that copy the pages about to be written; 0 = unknown) -> mr0 = child id
  // or -errno (ENOMEM), mr1 = pages copied, mr2 = pages shared. The child
  // gets the parent's policy. Caps in the mailbox as for Load.
  Fork = 3,
  // mr0 = id -> mr0 = 0 or -EINVAL. Every frame and table of the address
  // space is freed; the VSpace is destroyed (a thread still bound to it can
  // no longer run).
  Release = 4,
  // mr0 = id, mr1 = address, mr2 = length, mr3 = offset in the exchange area
  // -> mr0 = 0, or -EFAULT if any byte is outside the process's readable
  // regions, -EINVAL if it does not fit the exchange area.
  ReadUser = 5,

  // mr0 = id, mr1 = policy index -> mr0 = 0, or -EINVAL (no such address
  // space, or no policy under that index: nothing changes). Pages already
  // mapped stay as they are; the new policy handles the next fork and fault.
  SetPolicy = 7,

  // ---- anyone ----
  // -> mr0 = free bytes in the pager's pool, mr1 = total bytes.
  MemInfo = 6,
  // mr0 = index -> mr0 = length of the name of the policy registered under
  // that index (policies/policies.def order, 0 = the first), mr1.. = the
  // name's bytes packed (msg::pack, at most kPolicyNameMax); -ENOENT past
  // the last. How a name becomes an index: ask 0, 1, ... until it matches.
  PolicyName = 8,
  // mr0 = group -> mr0 = 0, mr1..mr(kStatsWords) = the group's counters
  // since boot (StatsGroup below), or -EINVAL for an unknown group.
  Stats = 9,

  // ---- a process (badge = its id) ----
  // mr0 = increment (signed) -> mr0 = the old break or -ENOMEM.
  Sbrk = 10,
};

inline constexpr uint64_t kPolicyNameMax = 15;

// Stats groups and their words, in order. Counters only grow.
enum class StatsGroup : uint64_t {
  // forks, pages copied at fork, pages shared at fork, releases,
  // address spaces alive
  Fork = 0,
  // faults resolved by: zero fill, copy (copy-on-write with a sharer),
  // making writable (copy-on-write, last sharer), nothing (spurious);
  // faults reported to procmgr
  Faults = 1,
  // messages received from procmgr, from processes (sbrk, names, stats),
  // faults delivered by the kernel
  Messages = 2,
};
inline constexpr uint64_t kStatsGroups = 3;
inline constexpr uint64_t kStatsWords = 5;

// Badge bit of fault messages: the kernel sends a process's faults through a
// cap badged kFaultBit | id, so a process cannot forge one.
inline constexpr uint64_t kFaultBit = uint64_t{1} << 61;

// The mailbox: a small CNode of procmgr's that the pager holds a cap to, for
// the caps procmgr needs to bind a new address space to a thread (replies
// carry no caps). procmgr moves them out before its next request.
inline constexpr uint64_t kMailboxRadix = 2;
inline constexpr uint64_t kMailboxVSpace = 1;
inline constexpr uint64_t kMailboxIpcBuffer = 2;

// The exchange area: frames procmgr and the pager both map, for ELF images,
// exec blocks and ReadUser (procmgr at its own address; the pager at its).
inline constexpr uint64_t kExchangePages = 256;
inline constexpr uint64_t kExchangeBytes = kExchangePages * 4096;

// Layout of every process's address space (the image is linked at 64 KiB by
// libos/user.ld). The heap starts on the page after the image and may grow
// to kHeapMax; the stack grows down from kStackTop to kStackMax below it,
// with a guard page under that; the IPC buffer sits one page above the
// stack's top.
inline constexpr uint64_t kStackTop = uint64_t{1} << 37;
inline constexpr uint64_t kStackMax = 8 * 1024 * 1024;
inline constexpr uint64_t kIpcBufferVa = kStackTop + 4096;
inline constexpr uint64_t kHeapMax = uint64_t{1} << 32;

// libos's buffer probe (libos/posix/probe.S) sits at the start of every
// process's text. A fault the pager cannot resolve with a pc in [kProbeVa,
// kProbeVa + kProbeRecover) is not a segfault: the thread resumes at
// kProbeVa + kProbeRecover, where the probe returns -1 (EFAULT).
inline constexpr uint64_t kProbeVa = 0x10000;
inline constexpr uint64_t kProbeRecover = 0x40;

}  // namespace pager::protocol
