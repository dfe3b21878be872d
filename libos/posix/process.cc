// The process calls, as requests to procmgr (procmgr/protocol.h) and the
// pager (pager/protocol.h).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "calls.h"
#include "os/syscall.h"
#include "pager/protocol.h"

using posix_calls::call;
using posix_calls::ret;
using posix_calls::Server;
namespace proto = procmgr::protocol;

namespace {

uint64_t label(proto::Label l) { return static_cast<uint64_t>(l); }
uint64_t label(pager::protocol::Label l) { return static_cast<uint64_t>(l); }

// The exec block is built here: static, so exec needs no heap (the heap is
// about to go) and fails with E2BIG rather than running out of stack.
alignas(8) char g_exec_block[proto::kExecBlockMax];

}  // namespace

extern "C" {

pid_t fork(void) { return static_cast<pid_t>(ret(call(Server::Procmgr, label(proto::Label::Fork), {}))); }

void _exit(int status) {
  for (;;) (void)call(Server::Procmgr, label(proto::Label::Exit), {static_cast<uint64_t>(status & 0xff)});
}

int execve(const char* path, char* const argv[], char* const envp[]) {
  if (posix_calls::path_length(path) < 0) return -1;
  auto* header = reinterpret_cast<proto::ExecHeader*>(g_exec_block);
  char* out = g_exec_block + sizeof(proto::ExecHeader);
  char* const end = g_exec_block + sizeof g_exec_block;
  bool fits = true;
  bool faulted = false;
  // Copies a string the caller passed, checking each page it reads first.
  auto put = [&](const char* s) {
    const int64_t n = posix_calls::checked_strlen(s, static_cast<size_t>(end - out));
    if (n < 0) {
      faulted = true;
      return;
    }
    if (n >= end - out) {
      fits = false;
      return;
    }
    for (int64_t i = 0; i <= n; ++i) *out++ = s[i];
  };
  // The i-th pointer of an argv or envp array, checked; null at the end or
  // on a bad array (faulted says which).
  auto entry = [&](char* const* array, size_t i) -> const char* {
    if (array == nullptr) return nullptr;
    if (posix_calls::bad_range(array + i, sizeof(char*))) {
      faulted = true;
      return nullptr;
    }
    return array[i];
  };
  put(path);
  header->argc = 0;
  for (const char* a; fits && !faulted && (a = entry(argv, header->argc)) != nullptr; ++header->argc) put(a);
  header->envc = 0;
  for (const char* e; fits && !faulted && (e = entry(envp, header->envc)) != nullptr; ++header->envc) put(e);
  if (faulted || !fits) {
    posix_calls::set_errno(faulted ? 14 : 7);  // EFAULT, E2BIG
    return -1;
  }
  const auto length = static_cast<uint64_t>(out - g_exec_block);
  // Returns only on failure.
  return static_cast<int>(ret(call(Server::Procmgr, label(proto::Label::Exec),
                                   {reinterpret_cast<uint64_t>(g_exec_block), length})));
}

int execv(const char* path, char* const argv[]) { return execve(path, argv, environ); }

int execvp(const char* file, char* const argv[]) {
  if (posix_calls::path_length(file) < 0) return -1;
  for (const char* p = file; *p != '\0'; ++p) {
    if (*p == '/') return execve(file, argv, environ);
  }
  // PATH from the environment, "/bin" without one.
  const char* path = "/bin";
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const char* v = *e;
    if (v[0] == 'P' && v[1] == 'A' && v[2] == 'T' && v[3] == 'H' && v[4] == '=') path = v + 5;
  }
  char full[512];
  int last_errno = 2;  // ENOENT
  while (true) {
    const char* colon = path;
    while (*colon != '\0' && *colon != ':') ++colon;
    size_t n = 0;
    for (const char* p = path; p < colon && n < sizeof full - 2; ++p) full[n++] = *p;
    if (n == 0) full[n++] = '.';
    full[n++] = '/';
    for (const char* p = file; *p != '\0' && n < sizeof full - 1; ++p) full[n++] = *p;
    full[n] = '\0';
    execve(full, argv, environ);
    extern int errno;
    if (errno != 2) last_errno = errno;  // a found but bad file says more than ENOENT
    if (*colon == '\0') break;
    path = colon + 1;
  }
  posix_calls::set_errno(last_errno);
  return -1;
}

pid_t getpid(void) { return static_cast<pid_t>(ret(call(Server::Procmgr, label(proto::Label::GetIds), {}))); }

pid_t getppid(void) {
  const os::Reply r = call(Server::Procmgr, label(proto::Label::GetIds), {});
  return ret(r) < 0 ? -1 : static_cast<pid_t>(r.mr[1]);
}

pid_t getpgrp(void) {
  const os::Reply r = call(Server::Procmgr, label(proto::Label::GetIds), {});
  return ret(r) < 0 ? -1 : static_cast<pid_t>(r.mr[2]);
}

int setpgid(pid_t pid, pid_t pgid) {
  return static_cast<int>(ret(call(Server::Procmgr, label(proto::Label::SetPgid),
                                   {static_cast<uint64_t>(static_cast<int64_t>(pid)),
                                    static_cast<uint64_t>(static_cast<int64_t>(pgid))})));
}

pid_t waitpid(pid_t pid, int* status, int options) {
  if (status != nullptr && posix_calls::bad_range(status, sizeof *status, true)) return -1;
  const os::Reply r = call(Server::Procmgr, label(proto::Label::Wait),
                           {static_cast<uint64_t>(static_cast<int64_t>(pid)), static_cast<uint64_t>(options)});
  const int64_t child = ret(r);
  if (child > 0 && status != nullptr) *status = static_cast<int>(r.mr[1]);
  return static_cast<pid_t>(child);
}

pid_t wait(int* status) { return waitpid(-1, status, 0); }

int kill(pid_t pid, int sig) {
  return static_cast<int>(ret(call(Server::Procmgr, label(proto::Label::Kill),
                                   {static_cast<uint64_t>(static_cast<int64_t>(pid)),
                                    static_cast<uint64_t>(static_cast<int64_t>(sig))})));
}

int raise(int sig) { return kill(getpid(), sig); }

sighandler_t signal(int sig, sighandler_t handler) {
  if (handler != SIG_DFL && handler != SIG_IGN) {
    posix_calls::set_errno(22);  // EINVAL: no handlers, only default and ignore
    return SIG_ERR;
  }
  const int64_t old = ret(call(Server::Procmgr, label(proto::Label::SetSignal),
                               {static_cast<uint64_t>(static_cast<int64_t>(sig)),
                                handler == SIG_IGN ? proto::kSigIgnore : proto::kSigDefault}));
  if (old < 0) return SIG_ERR;
  return old == static_cast<int64_t>(proto::kSigIgnore) ? SIG_IGN : SIG_DFL;
}

const char* strsignal(int sig) {
  switch (sig) {
    case SIGHUP: return "Hangup";
    case SIGINT: return "Interrupt";
    case SIGQUIT: return "Quit";
    case SIGILL: return "Illegal instruction";
    case SIGABRT: return "Aborted";
    case SIGKILL: return "Killed";
    case SIGSEGV: return "Segmentation fault";
    case SIGPIPE: return "Broken pipe";
    case SIGTERM: return "Terminated";
    case SIGCHLD: return "Child exited";
    default: return "Unknown signal";
  }
}

void* sbrk(intptr_t increment) {
  const int64_t old = ret(call(Server::Pager, label(pager::protocol::Label::Sbrk), {static_cast<uint64_t>(increment)}));
  return old < 0 ? reinterpret_cast<void*>(-1) : reinterpret_cast<void*>(old);
}

// FIXME: there is no timer service yet: sleep yields in a loop on the `time`
// counter, assuming QEMU virt's 10 MHz timebase.
unsigned int sleep(unsigned int seconds) {
  uint64_t start;
  asm volatile("rdtime %0" : "=r"(start));
  const uint64_t end = start + uint64_t{seconds} * 10'000'000;
  for (uint64_t now = start; now < end;) {
    os::yield();
    asm volatile("rdtime %0" : "=r"(now));
  }
  return 0;
}

}  // extern "C"
