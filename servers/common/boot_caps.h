// What procmgr hands each boot server (pager, vfs) when it starts it from
// the boot archive: the capabilities in fixed slots of the server's own
// CNode, the fixed addresses of its stack and IPC buffers, and its start
// registers. Shared by procmgr and the servers only; nothing else may depend
// on these slots. A server gets exactly the caps listed for it here, nothing
// more (DESIGN.md §2: the pager owns page memory, vfs the console and files).
#pragma once

#include <cstdint>

namespace boot_caps {

// Every server's CSpace is one CNode of 2^radix slots (kCNodeRadix unless the
// server says otherwise; the pager's grows with its pool, see below); slots
// from kFirstFree on are empty, for the server's own use.
inline constexpr uint64_t kCNodeRadix = 8;
// vfs's: room for a Reply object per request that may wait (1024) and its
// page batches (user/vfs/kernel_objects.h).
inline constexpr uint64_t kVfsCNodeRadix = 12;
inline constexpr uint64_t kFirstFree = 16;

// Every server: the endpoint it receives its requests on (Read only: procmgr
// and processes hold badged Write copies), its own CNode and VSpace (to
// carve objects from its pool and map pages into itself), and a second
// thread, the helper: configured with the same CSpace and VSpace and the IPC
// buffer at kHelperIpcBufferVa, not started. The server writes its
// registers (a stack of its own, in the server's image) and resumes it.
inline constexpr uint64_t kServiceEndpoint = 1;
inline constexpr uint64_t kSelfCNode = 2;
inline constexpr uint64_t kSelfVSpace = 3;
inline constexpr uint64_t kHelperTcb = 4;
// A Write cap to procmgr's endpoint, badged for this server's helper
// (msg::kPagerBadge, msg::kConsoleBadge): the helper calls procmgr with it.
inline constexpr uint64_t kProcmgrEndpoint = 5;
// vfs's memory: an Untyped of 2^a0 bytes (a0 at start says the size, since
// no invocation reports it). The pager's memory is in kPagerPoolFirst.. below.
inline constexpr uint64_t kPool = 6;

// The pager: the mailbox CNode (pager/protocol.h), and the exchange area's
// frames, kPagerExchangeFirst .. + pager::protocol::kExchangePages - 1,
// which the pager maps itself at kPagerExchangeVa.
inline constexpr uint64_t kPagerMailbox = 7;
inline constexpr uint64_t kPagerExchangeFirst = 16;
// The pager's memory: a0 at start RAM Untypeds (at most kPagerMaxPools, the
// kernel's limit on boot Untypeds) in kPagerPoolFirst .. + a0 - 1, right
// after the exchange frames, largest first. They may have any size and may
// be partly used already (the pager carves what is left; no invocation
// reports an Untyped's size or watermark, and the pager needs neither).
// Slots from kPagerFirstFree on are the pager's own. Its CNode's radix is a1
// at start: room for a slot per page of the pools and the chunks' Untypeds.
inline constexpr uint64_t kPagerPoolFirst = kPagerExchangeFirst + 256;
inline constexpr uint64_t kPagerMaxPools = 96;
inline constexpr uint64_t kPagerFirstFree = kPagerPoolFirst + kPagerMaxPools;

// vfs. The UART's registers as a Frame (already mapped at kVfsUartVa), the
// UART's IrqHandler with kVfsUartNotification bound to it (vfs holds the
// notification with Read only: it waits, the kernel signals), and a Write
// cap to its own endpoint badged msg::kConsoleBadge, for the helper (the
// console input thread). The boot archive is mapped read-only at
// kVfsArchiveVa; a1 at start is its size in bytes.
inline constexpr uint64_t kVfsUartFrame = 7;
inline constexpr uint64_t kVfsUartIrq = 8;
inline constexpr uint64_t kVfsUartNotification = 9;
inline constexpr uint64_t kVfsConsoleEndpoint = 10;

// Address-space layout of a boot server: its ELF image below kStackTop -
// kStackPages pages (user.ld puts images at 64 KiB), then the stack, the
// IPC buffers above the stack's top (an unmapped guard page between), vfs's
// UART mapping, and from kServerHeapVa on what the server maps itself (the
// pager its pool, vfs its file memory), with the archive above that.
inline constexpr uint64_t kStackTop = 0x1000'0000;
inline constexpr uint64_t kStackPages = 8;
inline constexpr uint64_t kIpcBufferVa = 0x1000'1000;
inline constexpr uint64_t kHelperIpcBufferVa = 0x1000'2000;
inline constexpr uint64_t kVfsUartVa = 0x1000'3000;
inline constexpr uint64_t kServerHeapVa = 0x10'0000'0000;       // 64 GiB
inline constexpr uint64_t kPagerExchangeVa = 0x20'0000'0000;    // 128 GiB
inline constexpr uint64_t kVfsArchiveVa = 0x30'0000'0000;       // 192 GiB

}  // namespace boot_caps
