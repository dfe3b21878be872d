/* POSIX's limits. The C limits (INT_MAX, ...) are GCC's limits.h, which
 * includes this file as the C library's own (the SDK puts GCC's headers
 * before these). If this one is found first, it includes GCC's and tells
 * it there is no other to look for. */
#ifndef _UKOS_LIMITS_H
#define _UKOS_LIMITS_H

#ifndef _GCC_LIMITS_H_
#define _LIBC_LIMITS_H_
#include_next <limits.h>
#endif

/* vfs's limits (servers/vfs/memfs.h): a whole path, its NUL included, and
 * one name in a directory. A single request carries shorter paths than
 * PATH_MAX (servers/vfs/protocol.h); longer ones fail with ENAMETOOLONG. */
#define PATH_MAX 4096
#define NAME_MAX 63
/* exec's room for argv and envp, strings and pointers (kArgMax in
 * servers/procmgr/loader.h). */
#define ARG_MAX 131072
/* Writes to a pipe up to this size are atomic (kPipeAtomic, vfs/pipe.h). */
#define PIPE_BUF 512
/* Descriptors per process (kDefaultMaxFds, vfs/files.h). */
#define OPEN_MAX 256

#endif
