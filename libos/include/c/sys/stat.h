/* stat and fstat, mkdir. Mode type bits are Linux's. */
#ifndef _UKOS_SYS_STAT_H
#define _UKOS_SYS_STAT_H

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define S_IFMT 0170000
#define S_IFIFO 0010000
#define S_IFCHR 0020000
#define S_IFDIR 0040000
#define S_IFREG 0100000
#define S_ISDIR(m) (((m) & S_IFMT) == S_IFDIR)
#define S_ISREG(m) (((m) & S_IFMT) == S_IFREG)
#define S_ISCHR(m) (((m) & S_IFMT) == S_IFCHR)
#define S_ISFIFO(m) (((m) & S_IFMT) == S_IFIFO)

struct stat {
  ino_t st_ino;
  mode_t st_mode;
  nlink_t st_nlink;
  off_t st_size;
  blkcnt_t st_blocks;
};

int stat(const char* path, struct stat* st);
int fstat(int fd, struct stat* st);
int mkdir(const char* path, mode_t mode);

#ifdef __cplusplus
}
#endif

#endif
