// procmgr's IPC protocol: the labels and layouts on procmgr's endpoint, the
// one header procmgr and libos share (DESIGN.md §2). Conventions (result in
// mr0 as -errno or a value, badges) are in servers/common/message.h.
//
// Every process holds a Write cap to this endpoint badged with its pid. The
// pager's reporter thread (msg::kPagerBadge) and vfs's console thread
// (msg::kConsoleBadge) call it too, with the labels marked "server only";
// a process that sends those gets -EPERM.
#pragma once

#include <cstdint>

namespace procmgr::protocol {

enum class Label : uint64_t {
  // mr0 = any word -> mr0 = the same word.
  Ping = 1,
  // -> parent: mr0 = child pid or -errno (EAGAIN, ENOMEM); the child
  // returns from the same call with mr0 = 0.
  Fork = 2,
  // mr0 = status (low 8 bits kept). No reply: the process is gone.
  Exit = 3,
  // mr0 = pid (-1 any child, > 0 that child, 0 a child in the caller's
  // group, < -1 a child in group -pid), mr1 = options (kWaitNoHang) -> mr0 =
  // pid reaped, 0 (WNOHANG and none ready) or -ECHILD/-EINVAL (also for a
  // pid that is not a 32-bit value), -ENOMEM when no Reply object is left
  // to park the caller in;
  // mr1 = wait status, encoded as Linux does (exit code << 8, or the
  // terminating signal in the low 7 bits).
  Wait = 4,
  // mr0 = pid (> 0 one process, 0 the caller's group, -1 every process but
  // init and the caller, < -1 group -pid), mr1 = signal (0..kMaxSignal; 0
  // only checks) -> mr0 = 0 or -ESRCH/-EINVAL. init is immune to every
  // signal (as on Linux), so killing it succeeds and does nothing.
  Kill = 5,
  // -> mr0 = pid, mr1 = parent pid, mr2 = process group.
  GetIds = 6,
  // mr0 = address, mr1 = length of an exec block (kExec* below) in the
  // caller's memory. No reply on success (the caller runs the new program);
  // else mr0 = -errno (ENOENT, ENOEXEC, E2BIG, EFAULT, ENOMEM, ...), and the
  // caller is as it was -- except when switching to the loaded program
  // fails after the new address space exists (the kernel refused a step):
  // then the caller is killed with SIGKILL. A directory gives EACCES.
  Exec = 7,
  // mr0 = pid (0 = caller), mr1 = pgid (0 = that pid) -> mr0 = 0 or
  // -ESRCH/-EINVAL/-EPERM (only the caller or its children).
  SetPgid = 8,
  // mr0 = signal, mr1 = disposition (kSigDefault, kSigIgnore) -> mr0 = the
  // old disposition or -EINVAL (SIGKILL cannot be ignored). Kept over fork
  // and exec, as POSIX keeps ignored signals.
  SetSignal = 9,
  // mr0 = cursor (0 to start) -> mr0 = pid of the next process with pid >=
  // cursor, 0 when there is none; mr1 = parent pid, mr2 = state
  // (ProcState) in bits 0..7 and the pager policy index (pager's
  // PolicyName) in bits 8..15, mr3 = pgid, mr4 = name length, mr5.. = name bytes (the
  // last component of the program's path, at most 15 bytes). For ps: call
  // again with pid + 1.
  ProcInfo = 10,

  // mr0 = pid (0 = caller), mr1 = pager policy index (pager's PolicyName)
  // -> mr0 = 0 or -ESRCH (no such live process) / -EINVAL (no policy under
  // that index; nothing changes). The process's next fork and faults follow
  // the new policy; its children and the programs it execs inherit it.
  SetPolicy = 11,
  // mr0 = group -> mr0 = 0, mr1..mr(kStatsWords) = counters since boot
  // (StatsGroup below), or -EINVAL for an unknown group. For benchmarks.
  Stats = 12,
  // Server only. The pager found a fault it cannot resolve in address space
  // mr0: mr1 = signal (SIGSEGV, SIGILL, SIGKILL when memory ran out), mr2 =
  // pc, mr3 = address. procmgr terminates the process -> mr0 = 0.
  Fault = 20,
};

// Stats groups and their words, in order. Counters only grow.
enum class StatsGroup : uint64_t {
  // messages received from processes, calls made to the pager, calls made
  // to vfs, fault reports received from the pager, forks done
  Messages = 0,
  // instructions retired since boot: in the kernel (all threads), in user
  // mode by procmgr's threads, by the pager's, by vfs's, in total
  Instructions = 1,
};
inline constexpr uint64_t kStatsGroups = 2;
inline constexpr uint64_t kStatsWords = 5;

// Every process's CSpace: a CNode of 2^kProcessCNodeRadix slots holding its
// Write caps to the three servers, each badged for it (libos calls through
// these slots).
inline constexpr uint64_t kProcessCNodeRadix = 4;
inline constexpr uint64_t kProcmgrSlot = 1;
inline constexpr uint64_t kVfsSlot = 2;
inline constexpr uint64_t kPagerSlot = 3;

inline constexpr uint64_t kWaitNoHang = 1;
inline constexpr uint64_t kSigDefault = 0;
inline constexpr uint64_t kSigIgnore = 1;

enum class ProcState : uint64_t { Running = 'R', Waiting = 'S', Zombie = 'Z' };

inline constexpr uint64_t kNameMax = 48;

// The exec block: header words, then NUL-terminated strings: the path, argc
// arguments, envc environment strings. At most kExecBlockMax bytes.
struct ExecHeader {
  uint64_t argc;
  uint64_t envc;
};
inline constexpr uint64_t kExecBlockMax = 64 * 1024;

// Signals procmgr knows, Linux's numbers.
inline constexpr int kSigInt = 2;
inline constexpr int kSigIll = 4;
inline constexpr int kSigKill = 9;
inline constexpr int kSigSegv = 11;
inline constexpr int kSigPipe = 13;
inline constexpr int kSigTerm = 15;
inline constexpr int kSigChld = 17;
inline constexpr int kMaxSignal = 31;

}  // namespace procmgr::protocol
