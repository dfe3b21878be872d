// What procmgr hands each boot server (pager, vfs) when it starts it from
// the boot archive: the capabilities in fixed slots of the server's own
// CNode, the fixed addresses of its stack and IPC buffer, and its start
// argument (a0). Shared by procmgr and the servers only; nothing else may
// depend on these slots. A server gets exactly the caps listed for it here,
// nothing more (DESIGN.md §2: the pager owns memory, vfs the console).
#pragma once

#include <cstdint>

namespace boot_caps {

// Every server's CSpace is one CNode of 2^kCNodeRadix slots; slots from
// kFirstFree on are empty, for the server's own use.
inline constexpr uint64_t kCNodeRadix = 8;
inline constexpr uint64_t kFirstFree = 16;

// Both servers: the endpoint the server receives its requests on (Read
// only: procmgr and, later, libos hold the badged Write copies).
inline constexpr uint64_t kServiceEndpoint = 1;

// The pager. Its CNode and VSpace, so it can carve objects from its pool
// and map pages into itself; the pool is an Untyped of 2^a0 bytes (the
// start argument says its size, since no invocation reports it).
inline constexpr uint64_t kPagerCNode = 2;
inline constexpr uint64_t kPagerVSpace = 3;
inline constexpr uint64_t kPagerPool = 4;

// vfs. The UART's registers as a Frame (already mapped at kVfsUartVa; the
// cap lets vfs ask FrameGetInfo where the device is), the UART's
// IrqHandler with kVfsUartNotification bound to it (vfs holds the
// notification with Read only: it waits, the kernel signals).
inline constexpr uint64_t kVfsUartFrame = 2;
inline constexpr uint64_t kVfsUartIrq = 3;
inline constexpr uint64_t kVfsUartNotification = 4;

// Address-space layout of a boot server: its ELF image below kStackTop -
// kStackPages pages (user.ld puts images at 64 KiB), then the stack, the
// IPC buffer one page above the stack's top (an unmapped guard page
// between), and vfs's UART mapping.
inline constexpr uint64_t kStackTop = 0x1000'0000;
inline constexpr uint64_t kStackPages = 8;
inline constexpr uint64_t kIpcBufferVa = 0x1000'1000;
inline constexpr uint64_t kVfsUartVa = 0x1000'3000;

}  // namespace boot_caps
