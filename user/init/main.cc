// init, pid 1: the first process procmgr starts. It reaps every orphan the
// system hands it and keeps a shell on the console.
//
//   init                 runs /bin/sh, and starts a new one whenever it exits
//   init PROG ARGS...    runs PROG once (bootargs init.args=PROG,ARG,...),
//                        reaps until no process is left, and exits with
//                        PROG's status: procmgr then powers the machine off
//                        with that status, which is how system tests run a
//                        guest program and get its verdict.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

void say(const char* text) {
  size_t n = 0;
  while (text[n] != '\0') ++n;
  (void)write(STDOUT_FILENO, text, n);
}

void say_number(long value) {
  char digits[24];
  int n = 0;
  bool negative = value < 0;
  unsigned long v = negative ? -static_cast<unsigned long>(value) : static_cast<unsigned long>(value);
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  if (negative) digits[n++] = '-';
  char out[24];
  for (int i = 0; i < n; ++i) out[i] = digits[n - 1 - i];
  (void)write(STDOUT_FILENO, out, static_cast<size_t>(n));
}

pid_t spawn(char* const argv[], char* const envp[]) {
  const pid_t pid = fork();
  if (pid == 0) {
    execve(argv[0], argv, envp);
    say("init: cannot run ");
    say(argv[0]);
    say("\n");
    _exit(127);
  }
  return pid;
}

}  // namespace

int main(int argc, char** argv, char** envp) {
  say("init: pid ");
  say_number(getpid());
  say(", starting\n");
  if (argc > 1) {
    const pid_t child = spawn(argv + 1, envp);
    if (child < 0) {
      say("init: fork failed\n");
      return 1;
    }
    int result = 0;
    for (;;) {
      int status = 0;
      const pid_t pid = wait(&status);
      if (pid < 0) break;  // no child left
      if (pid == child) {
        result = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
    }
    say("init: ");
    say(argv[1]);
    say(" finished with status ");
    say_number(result);
    say("\n");
    return result;
  }
  char* shell[] = {const_cast<char*>("/bin/sh"), nullptr};
  for (;;) {
    const pid_t sh = spawn(shell, envp);
    if (sh < 0) {
      say("init: fork failed\n");
      return 1;
    }
    for (;;) {
      int status = 0;
      const pid_t pid = wait(&status);
      if (pid == sh || pid < 0) break;
    }
    say("init: shell exited; starting a new one\n");
  }
}
