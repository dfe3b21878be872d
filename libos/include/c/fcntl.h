/* open(2), with Linux's flag values (the vfs protocol carries them as is). */
#ifndef _UKOS_FCNTL_H
#define _UKOS_FCNTL_H

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define O_RDONLY 00
#define O_WRONLY 01
#define O_RDWR 02
#define O_ACCMODE 03
#define O_CREAT 0100
#define O_EXCL 0200
#define O_TRUNC 01000
#define O_APPEND 02000
#define O_DIRECTORY 0200000

/* mode is accepted and ignored: the file system has no owners yet. */
int open(const char* path, int flags, ...);
int creat(const char* path, mode_t mode);

#ifdef __cplusplus
}
#endif

#endif
