// vfs's IPC protocol: labels and layouts on vfs's endpoint, the one header
// vfs, procmgr and libos share (DESIGN.md §2). Conventions (result in mr0 as
// -errno or a value, bytes packed in words after a count, badges) are in
// servers/common/message.h; flags, whence and mode bits are vfs/posix.h's
// (Linux numbers).
//
// Callers: every process, badged with its pid; procmgr (msg::kProcmgrBadge)
// for the process hooks and exec's file reads; vfs's own console thread
// (msg::kConsoleBadge) with input. A process sending a procmgr-only or
// console-only label gets -EPERM.
//
// "path" below means: mr[k] = length in bytes (1..kPathMax), then the bytes
// packed from mr[k+1]. A read or write of more than the message can carry
// moves what fits; libos loops.
#pragma once

#include <cstdint>

#include "common/message.h"

namespace vfs::protocol {

enum class Label : uint64_t {
  // mr0 = any word -> mr0 = the same word.
  Ping = 1,

  // ---- procmgr only ----
  // mr0 = pid: a new descriptor table, cwd "/", descriptors 0, 1 and 2 on
  // the console (for init). -> mr0 = 0 or -errno.
  ProcNew = 2,
  // mr0 = parent pid, mr1 = child pid: the child's table shares the
  // parent's open-file descriptions and cwd. -> mr0 = 0 or -ENOMEM.
  ProcFork = 3,
  // mr0 = pid: every descriptor closed, the table freed, any blocked
  // request of that pid dropped. -> mr0 = 0.
  ProcExit = 4,
  // mr0 = pid (whose cwd resolves the path), mr1 = offset, mr2 = path ->
  // mr0 = bytes read (0 at end of file) or -errno, the bytes from mr1.
  // A stateless read of a regular file, for exec.
  ReadPath = 5,

  // ---- processes ----
  // mr0 = flags, mr1 = path -> mr0 = fd.
  Open = 10,
  // mr0 = fd -> 0.
  Close = 11,
  // mr0 = fd, mr1 = count -> mr0 = bytes read (at most kMaxRead), bytes
  // from mr1. Blocks on an empty pipe or the console until data comes;
  // 0 = end of file.
  Read = 12,
  // mr0 = fd, mr1 = count (at most kMaxWrite), bytes from mr2 -> mr0 =
  // bytes written. Blocks on a full pipe; -EPIPE when the pipe has no
  // reader (libos then raises SIGPIPE on its own process, as Unix does).
  Write = 13,
  // mr0 = fd, mr1 = offset (signed), mr2 = whence -> mr0 = new offset.
  Lseek = 14,
  // mr0 = fd -> new fd.
  Dup = 15,
  // mr0 = fd, mr1 = new fd -> mr0 = the new fd.
  Dup2 = 16,
  // -> mr0 = 0, mr1 = read end, mr2 = write end.
  Pipe = 17,
  // mr0 = fd -> mr0 = 0, mr1 = inode, mr2 = mode, mr3 = links, mr4 = size,
  // mr5 = blocks.
  Fstat = 18,
  // mr0 = path -> as Fstat.
  Stat = 19,
  // mr0 = path -> 0.
  Unlink = 20,
  Mkdir = 21,
  Rmdir = 22,
  Chdir = 23,
  // mr0 = offset (optional, 0 when absent) -> mr0 = the cwd's whole length
  // (at most kCwdMax), then its bytes from the offset, as many as fit
  // (kMaxRead); -EINVAL for an offset beyond the length. libos asks again
  // from offset + kMaxRead until it has them all.
  Getcwd = 24,
  // mr0 = directory fd -> mr0 = 1 (an entry), 0 (end) or -errno; mr1 =
  // inode, mr2 = mode type bits, mr3 = name, as a path.
  Readdir = 25,
  // mr0 = fd -> mr0 = 1 if it is the console, else -ENOTTY.
  Isatty = 26,
  // Console foreground process group (tcsetpgrp/tcgetpgrp): Ctrl-C sends
  // SIGINT to it. mr0 = fd (the console), mr1 = pgid -> 0.
  SetForeground = 27,
  // mr0 = fd -> mr0 = pgid.
  GetForeground = 28,
  // -> mr0 = 0, mr1 = messages received from procmgr since boot, mr2 =
  // messages received from processes (this one included). For benchmarks.
  Stats = 29,

  // ---- vfs's console thread only ----
  // mr0 = count, bytes from mr1: characters typed. -> mr0 = the process
  // group to send SIGINT to (Ctrl-C was typed and a foreground group is
  // set), else 0.
  ConsoleInput = 40,
};

inline constexpr uint64_t kPathMax = msg::max_bytes_after(4);       // 480
inline constexpr uint64_t kMaxRead = msg::max_bytes_after(1);       // 504
inline constexpr uint64_t kMaxWrite = msg::max_bytes_after(2);      // 496
inline constexpr uint64_t kCwdMax = 4096;                           // PATH_MAX

}  // namespace vfs::protocol
