// The process table: every process procmgr knows, found by pid, and the
// parent/children tree, with the bookkeeping half of fork, _exit, wait and
// kill. It holds no capabilities and does no IPC: the server calls it to decide
// and to record, and does the kernel and pager/vfs work itself (DESIGN.md §6).
//
// Memory comes from a RecordPool the server hands in, one 4 KiB page at a time,
// so the table is limited only by memory (no NPROC). Records live in slab
// pages carved into fixed-size slots with a per-page free list; a page goes back
// to the pool as soon as its last record is freed. The pid index is a
// three-level radix tree (8 bits a level) whose nodes are pool pages too and
// whose per-node counts let the pid search skip full subtrees, so finding the
// next free pid after wrap-around is bounded (a few hundred steps) however many
// processes exist. Pids increase, wrap to 2 at the limit, and are reused only
// once reaped: a live process or an unreaped zombie keeps its pid.
//
// Every operation checks its arguments first and changes nothing on error.
// fork is two-phase: fork() builds the child in state Building and returns a
// PendingFork guard that removes it again unless commit() is called, so the
// server's fork can fail at any later step (pager, vfs) without leaving a
// half-made child behind.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <string_view>
#include <utility>

#include "common/page_source.h"
#include "common/posix_errno.h"
#include "result.h"

namespace procmgr {

// Errors: the servers' one POSIX errno list (common/posix_errno.h).
using posix::Errno;
using posix::errno_name;
using posix::fail;
using posix::Result;
using posix::Status;
using posix::to_errno;

using Pid = int32_t;
inline constexpr Pid kInitPid = 1;
// After wrap-around the search restarts here: pid 1 is init's for good.
inline constexpr Pid kFirstRecycledPid = 2;
// Pids are 1 .. limit-1. Linux's PID_MAX_LIMIT; the radix index covers 2^24.
inline constexpr Pid kDefaultPidLimit = Pid{1} << 22;
inline constexpr Pid kMaxPidLimit = Pid{1} << 24;

// Signal numbers (Linux, asm-generic/signal.h). Constants rather than an enum
// because kill() takes any int from user space and must reject bad ones.
inline constexpr int kSigHup = 1, kSigInt = 2, kSigQuit = 3, kSigIll = 4, kSigTrap = 5, kSigAbrt = 6,
                     kSigBus = 7, kSigFpe = 8, kSigKill = 9, kSigUsr1 = 10, kSigSegv = 11, kSigUsr2 = 12,
                     kSigPipe = 13, kSigAlrm = 14, kSigTerm = 15, kSigChld = 17, kSigCont = 18, kSigStop = 19,
                     kSigTstp = 20, kSigTtin = 21, kSigTtou = 22, kSigUrg = 23, kSigWinch = 28;
// No real-time signals: 1..31, as signal.h's NSIG (32) says.
inline constexpr int kMaxSignal = 31;

// Wait statuses encoded as Linux does, so libos's W* macros are the usual
// ones: exit code in bits 8..15, or the terminating signal in bits 0..6.
namespace wstatus {
constexpr int exited(int code) { return (code & 0xff) << 8; }
constexpr int signaled(int signal) { return signal & 0x7f; }
constexpr bool if_exited(int status) { return (status & 0x7f) == 0; }
constexpr int exit_status(int status) { return (status >> 8) & 0xff; }
constexpr bool if_signaled(int status) { return (status & 0x7f) != 0 && (status & 0x7f) != 0x7f; }
constexpr int term_sig(int status) { return status & 0x7f; }
}  // namespace wstatus

// waitpid options. WUNTRACED and WCONTINUED are accepted and have no effect
// because nothing stops yet; any other bit is EINVAL.
inline constexpr int kWNoHang = 1, kWUntraced = 2, kWContinued = 8;

using servers::kPageSize;

// Where the table's memory comes from. Pages are kPageSize bytes and
// kPageSize-aligned (the table finds a slot's page by rounding its address
// down); their contents on arrival do not matter. alloc_page fails with
// NotEnoughMemory when the pool is dry.
using RecordPool = servers::PageSource;

// Building: made by fork, invisible to wait, kill and ps until committed.
// Running: alive. Zombie: exited, holding its pid and status until reaped.
enum class ProcessState : uint8_t { Building, Running, Zombie };

// What the server keeps per process; the table only copies pager_policy at
// fork (a child inherits its parent's policy) and otherwise never looks.
struct ProcessResources {
  uint64_t thread_cap = 0;  // CSpace slots in procmgr's CSpace
  uint64_t cspace_cap = 0;
  uint64_t vspace_cap = 0;
  uint64_t chunk = 0;       // the Untyped the thread and CSpace were carved from
  uint64_t aspace = 0;      // the pager's id of its address space
  uint64_t wait_reply = 0;  // a Reply object while the process is blocked in wait
  int32_t wait_selector = 0;
  uint32_t pager_policy = 0;
};

inline constexpr size_t kNameCapacity = 16;  // with the NUL, as Linux's comm

class Process {
 public:
  Pid pid() const { return m_pid; }
  Pid parent_pid() const;  // 0 for init
  Pid process_group() const { return m_pgid; }
  ProcessState state() const { return m_state; }
  int wait_status() const { return m_wait_status; }  // meaningful for zombies
  std::string_view name() const { return m_name; }

  ProcessResources resources;  // the server's; the table does not interpret it

 private:
  friend class ProcessTable;
  Process() = default;

  Pid m_pid = 0;
  Pid m_pgid = 0;
  uint64_t m_ignored = 0;
  bool m_execed = false;  // exec'd since its fork: its parent may no longer move it
  ProcessState m_state = ProcessState::Building;
  int32_t m_wait_status = 0;
  uint32_t m_children_building = 0;  // children of this one not yet committed
  Process* m_parent = nullptr;       // null only for init
  Process* m_first_child = nullptr;  // committed children (Running or Zombie)
  Process* m_next_sibling = nullptr;
  Process* m_prev_sibling = nullptr;
  char m_name[kNameCapacity] = {};
};

// wait's answer: a reaped child, or none yet (WNOHANG: reply 0; otherwise
// the server parks the caller and retries when exit() names it).
enum class WaitKind : uint8_t { Reaped, NothingYet, MustBlock };
struct WaitOutcome {
  WaitKind kind;
  Pid pid = 0;     // Reaped only
  int status = 0;  // Reaped only
};

// exit's answer: whom to wake. The parent always (it may be blocked in wait or
// may wait later); init too when zombies were handed to it.
struct ExitNotice {
  Pid parent;
  bool init_gained_zombies;
};

// kill's answer: what the server should do to the target. Terminate means: tear
// the process down and call exit(pid, wstatus::signaled(signal)).
enum class SignalAction : uint8_t { None, Terminate };

// The default action of a valid signal number (1..kMaxSignal), for callers
// that deliver to several processes (a process group).
SignalAction default_signal_action(int signal);

class ProcessTable;

// The table's page layouts, defined in process_table.cc.
namespace table_detail {
struct RadixNode;
struct SlabPage;
}  // namespace table_detail

// A child under construction. Destroying it without commit() removes the
// child and frees its pid and memory. Must not outlive its table.
class [[nodiscard]] PendingFork {
 public:
  PendingFork(PendingFork&& other) noexcept : m_table(other.m_table), m_child(std::exchange(other.m_child, nullptr)) {}
  PendingFork& operator=(PendingFork&&) = delete;
  ~PendingFork() { abort(); }

  Process& child() { return *m_child; }
  Pid pid() const { return m_child->pid(); }
  // Makes the child Running and visible to wait/kill/ps. Cannot fail.
  void commit();
  // Undoes the fork now rather than at destruction. Idempotent.
  void abort();

 private:
  friend class ProcessTable;
  PendingFork(ProcessTable* table, Process* child) : m_table(table), m_child(child) {}
  ProcessTable* m_table;
  Process* m_child;  // null once committed, aborted or moved from
};

class ProcessTable {
 public:
  // pid_limit: pids are 1 .. pid_limit-1; clamped to 3 .. kMaxPidLimit.
  explicit ProcessTable(RecordPool& pool, Pid pid_limit = kDefaultPidLimit);
  ~ProcessTable();  // returns every page; pending forks must be gone
  ProcessTable(const ProcessTable&) = delete;
  ProcessTable& operator=(const ProcessTable&) = delete;

  // Makes pid 1, Running, its own process group. Busy if init exists,
  // NoMemory if the pool is dry.
  Result<Process*> create_init(std::string_view name);

  // Starts a child of parent: new pid, name and process group and pager
  // policy copied. NoSuchProcess unless parent is Running; Again when every
  // pid is taken; NoMemory when the pool is dry.
  Result<PendingFork> fork(Pid parent);

  // pid becomes a Zombie with status (a wstatus::exited or ::signaled value);
  // its children go to init. NoSuchProcess unless Running; NotPermitted for
  // init (the server treats init's exit as fatal); Busy while a fork of
  // pid's is pending; Invalid for a status that is neither encoding.
  Result<ExitNotice> exit(Pid pid, int status);

  // waitpid(selector, options) on behalf of parent: selector > 0 is that
  // child, -1 any, 0 parent's process group, < -1 group -selector. Reaps one
  // matching zombie (its pid becomes free). NoSuchProcess unless parent is
  // Running; Invalid for unknown options; NoChild when nothing matches.
  Result<WaitOutcome> wait(Pid parent, Pid selector, int options);

  // kill(pid, signal) for pid > 0: the action to take. Signal 0 only checks
  // that pid exists. Zombies and init take no action (Linux protects init
  // from default actions). Invalid for a signal outside 0..kMaxSignal or
  // pid <= 0 (group delivery: the server walks next_after());
  // NoSuchProcess when pid is neither Running nor Zombie.
  Result<SignalAction> kill(Pid pid, int signal) const;

  // setpgid(pid, pgid) asked by caller: pid 0 means the caller, pgid 0 means
  // pid. pid must be the caller or one of its Running children
  // (NoSuchProcess otherwise); pgid must be pid itself or an existing group
  // (NotPermitted otherwise); Invalid for a negative pgid; Access for a
  // child that has exec'd since its fork (POSIX).
  Status set_process_group(Pid caller, Pid pid, Pid pgid);
  // pid has exec'd a new program (for set_process_group's rule).
  void mark_exec(Pid pid);
  // signal(signal, SIG_IGN or SIG_DFL) for pid: returns whether it was
  // ignored before. Invalid for a signal outside 1..kMaxSignal and for
  // ignoring SIGKILL; NoSuchProcess unless pid is Running.
  Result<bool> set_ignored(Pid pid, int signal, bool ignore);
  // getppid: 0 for init. NoSuchProcess unless pid is Running or Zombie.
  Result<Pid> getppid(Pid pid) const;

  // Renames pid (exec); longer names are cut to kNameCapacity-1 bytes.
  Status set_name(Pid pid, std::string_view name);

  // Running or Zombie process with this pid, else null.
  Process* find(Pid pid);
  const Process* find(Pid pid) const;

  // The Running or Zombie process with the smallest pid greater than pid:
  // ps walks the table with next_after(0), next_after(p->pid()), ...
  const Process* next_after(Pid pid) const;

  size_t record_count() const { return m_records; }  // including Building
  size_t page_count() const { return m_slab_pages + m_radix_pages; }
  Pid pid_limit() const { return m_pid_limit; }

  // Checks the tree, the pid index, the slab accounting and the states.
  // Returns "" when consistent, else what is wrong. For tests; O(n).
  std::string_view check_invariants() const;

 private:
  friend class PendingFork;
  using RadixNode = table_detail::RadixNode;
  using SlabPage = table_detail::SlabPage;

  void commit_fork(Process* child);
  void abort_fork(Process* child);
  void reap(Process* zombie);
  static void link_child(Process* parent, Process* child);
  static void unlink_child(Process* child);

  // Slab of records.
  Result<Process*> alloc_record();
  void free_record(Process* record);
  std::string_view check_slab_list(const SlabPage* list, bool full, size_t& pages, size_t& used) const;

  // Pid index.
  Process* index_find(Pid pid) const;
  Result<RadixNode*> new_radix_node();
  Status index_reserve(Pid pid);
  void index_insert(Process* record);
  void index_remove(Pid pid);
  void index_prune(Pid pid);
  std::optional<Pid> pick_pid() const;
  std::optional<Pid> first_free(const RadixNode* node, int level, uint64_t base, uint64_t from, uint64_t to) const;
  const Process* first_used(const RadixNode* node, int level, uint64_t base, uint64_t from) const;
  uint64_t capacity(uint64_t base, int level) const;
  struct CheckCounts {
    size_t nodes = 0;     // radix nodes met
    size_t listed = 0;    // entries in all child lists
    size_t building = 0;  // records being built
    size_t building_counted = 0;  // sum of m_children_building
  };
  std::string_view check_radix(const RadixNode* node, int level, uint64_t base, CheckCounts& counts,
                               size_t& pids) const;
  std::string_view check_record(const Process* p, CheckCounts& counts) const;
  void free_radix(RadixNode* node, int level);

  RecordPool& m_pool;
  Pid m_pid_limit;
  Pid m_next_pid = kFirstRecycledPid;  // where the next pid search starts
  Process* m_init = nullptr;
  RadixNode* m_root = nullptr;
  SlabPage* m_partial_pages = nullptr;  // slab pages with a free slot
  SlabPage* m_full_pages = nullptr;
  size_t m_slab_pages = 0;
  size_t m_radix_pages = 0;
  size_t m_records = 0;
};

}  // namespace procmgr

#define PROCMGR_TRY(expr) POSIX_TRY(expr)
