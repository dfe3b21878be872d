/* What this system offers beyond POSIX: the process list for ps, the
 * pager's memory figures, pager policies and the servers' counters. */
#ifndef _UKOS_UKOS_H
#define _UKOS_UKOS_H

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ukos_procinfo {
  pid_t pid;
  pid_t ppid;
  pid_t pgid;
  char state;      /* 'R' running or runnable, 'S' waiting in wait(), 'Z' zombie */
  char name[49];   /* the program's path as exec was given it */
  int policy;      /* its pager policy, an index as for ukos_policy_name */
};

/* Pager policies (docs/pager-policies.md), registered by name in the pager
 * and numbered from 0 in registration order. */
#define UKOS_POLICY_NAME_MAX 16 /* bytes, the NUL included */

/* Copies the name of policy `index` into name (size bytes, NUL-terminated).
 * 0, or -1 with errno ENOENT (no policy under that index), ERANGE (size too
 * small), or another errno if the pager cannot be asked. */
int ukos_policy_name(int index, char* name, size_t size);

/* The index of the policy called `name`, or -1 with errno EINVAL (no such
 * policy). */
int ukos_policy_index(const char* name);

/* Sets the pager policy of process pid (0: the caller) to the one called
 * `name`; its later children and the programs it execs inherit it. 0, or -1
 * with errno EINVAL (unknown name: nothing changes) or ESRCH (no such
 * process). */
int ukos_set_policy(pid_t pid, const char* name);

/* Counters since boot of the three servers and the kernel, for benchmarks.
 * Counters only grow: measure a span by the difference of two readings. */
struct ukos_stats {
  /* pager: fork and release */
  unsigned long pager_forks;
  unsigned long pager_fork_pages_copied;
  unsigned long pager_fork_pages_shared;
  unsigned long pager_releases;
  unsigned long pager_spaces;            /* alive now (not a counter) */
  /* pager: how faults were resolved */
  unsigned long pager_zero_fills;
  unsigned long pager_cow_copies;
  unsigned long pager_cow_made_writable;
  unsigned long pager_spurious_faults;
  unsigned long pager_faults_reported;   /* to procmgr: the process dies */
  /* pager: messages received */
  unsigned long pager_from_procmgr;
  unsigned long pager_from_processes;
  unsigned long pager_faults;            /* page faults and other exceptions */
  /* procmgr: messages */
  unsigned long procmgr_from_processes;
  unsigned long procmgr_calls_to_pager;
  unsigned long procmgr_calls_to_vfs;
  unsigned long procmgr_fault_reports;
  unsigned long procmgr_forks;
  /* vfs: messages received */
  unsigned long vfs_from_procmgr;
  unsigned long vfs_from_processes;
  /* instructions retired since boot */
  unsigned long instr_kernel;            /* in S-mode, on behalf of any thread */
  unsigned long instr_procmgr;           /* user mode, procmgr's threads */
  unsigned long instr_pager;             /* user mode, the pager's threads */
  unsigned long instr_vfs;               /* user mode, vfs's threads */
  unsigned long instr_total;             /* every instruction of the hart */
};

/* Fills *out. 0, or -1 with errno. Costs a few round trips to each server:
 * read it outside the span being measured. */
int ukos_stats(struct ukos_stats* out);

/* Fills *out with the process of the lowest pid >= cursor. Returns 1 when
 * one was found, 0 when there is none, -1 with errno on error. ps starts at
 * cursor 1 and continues from out->pid + 1. */
int ukos_procinfo(pid_t cursor, struct ukos_procinfo* out);

/* Free and total bytes of the pager's memory pool. 0, or -1 with errno. */
int ukos_meminfo(unsigned long* free_bytes, unsigned long* total_bytes);

#ifdef __cplusplus
}
#endif

#endif
