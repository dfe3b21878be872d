/* POSIX types for programs built against libos (the SDK's C headers). The
 * widths are Linux's on RV64 (LP64). */
#ifndef _UKOS_SYS_TYPES_H
#define _UKOS_SYS_TYPES_H

#include <stddef.h>
#include <stdint.h>

typedef int pid_t;
typedef long ssize_t;
typedef long off_t;
typedef unsigned int mode_t;
typedef unsigned long ino_t;
typedef unsigned long nlink_t;
typedef long blkcnt_t;
typedef long blksize_t;
typedef unsigned long dev_t;
typedef unsigned int uid_t;
typedef unsigned int gid_t;
typedef long time_t;

#endif
