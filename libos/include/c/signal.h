/* Signals with their default actions (terminate), and ignoring them. There
 * are no handlers: signal() accepts SIG_DFL and SIG_IGN only. */
#ifndef _UKOS_SIGNAL_H
#define _UKOS_SIGNAL_H

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SIGHUP 1
#define SIGINT 2
#define SIGQUIT 3
#define SIGILL 4
#define SIGABRT 6
#define SIGKILL 9
#define SIGSEGV 11
#define SIGPIPE 13
#define SIGTERM 15
#define SIGCHLD 17
#define NSIG 32

typedef void (*sighandler_t)(int);
#define SIG_DFL ((sighandler_t)0)
#define SIG_IGN ((sighandler_t)1)
#define SIG_ERR ((sighandler_t)-1)

int kill(pid_t pid, int sig);
int raise(int sig);
/* Only SIG_DFL and SIG_IGN: any other handler gets SIG_ERR and EINVAL. */
sighandler_t signal(int sig, sighandler_t handler);
/* "Interrupt", "Killed", ...: the text a shell prints for a signal. */
const char* strsignal(int sig);

#ifdef __cplusplus
}
#endif

#endif
