/* What this system offers beyond POSIX: the process list for ps and the
 * pager's memory figures. */
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
};

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
