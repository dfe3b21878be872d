/* POSIX process and file calls, implemented by libos as requests to procmgr
 * (processes) and vfs (files). Each returns -1 and sets errno on failure. */
#ifndef _UKOS_UNISTD_H
#define _UKOS_UNISTD_H

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STDIN_FILENO 0
#define STDOUT_FILENO 1
#define STDERR_FILENO 2

#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2

extern char** environ;

pid_t fork(void);
__attribute__((noreturn)) void _exit(int status);
int execve(const char* path, char* const argv[], char* const envp[]);
int execv(const char* path, char* const argv[]);
/* Searches PATH (default "/bin") when file has no '/'. */
int execvp(const char* file, char* const argv[]);
pid_t getpid(void);
pid_t getppid(void);
pid_t getpgrp(void);
int setpgid(pid_t pid, pid_t pgid);

ssize_t read(int fd, void* buf, size_t count);
ssize_t write(int fd, const void* buf, size_t count);
int close(int fd);
off_t lseek(int fd, off_t offset, int whence);
int dup(int fd);
int dup2(int fd, int fd2);
int pipe(int fds[2]);
int unlink(const char* path);
int rmdir(const char* path);
int chdir(const char* path);
char* getcwd(char* buf, size_t size);
int isatty(int fd);
pid_t tcgetpgrp(int fd);
int tcsetpgrp(int fd, pid_t pgrp);

void* sbrk(intptr_t increment);
unsigned int sleep(unsigned int seconds);

#ifdef __cplusplus
}
#endif

#endif
