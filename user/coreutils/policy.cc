// policy: the pager's fork and fault policies (docs/pager.md §6).
//
//   policy                     lists the registered policies, one a line
//   policy NAME CMD [ARG...]   runs CMD (found as the shell finds it: PATH,
//                              default /bin) under policy NAME
//   policy -p PID NAME         sets process PID's policy
//
// A process's policy is inherited by its children and kept over exec, so
// `policy -p $$ cow` sets the shell's and every later command's.
// An unknown NAME prints the registered ones and exits with status 2, having
// changed nothing; a PID that names no process gives status 1; a CMD that
// cannot be found 127, one that cannot run 126.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ukos.h>
#include <unistd.h>

namespace {

constexpr int kUsage = 2;
constexpr int kUnknownPolicy = 2;

int usage() {
  fprintf(stderr, "policy: usage: policy [NAME CMD [ARG...] | -p PID NAME]\n");
  return kUsage;
}

// Prints every registered name, `separator` between two and `last` after
// the last one. False (errno set) if the pager could not be asked.
bool print_names(FILE* out, const char* separator, const char* last) {
  char name[UKOS_POLICY_NAME_MAX];
  char next[UKOS_POLICY_NAME_MAX];
  if (ukos_policy_name(0, name, sizeof name) != 0) return errno == ENOENT;
  for (int i = 1;; ++i) {
    const bool more = ukos_policy_name(i, next, sizeof next) == 0;
    if (!more && errno != ENOENT) return false;
    fprintf(out, "%s%s", name, more ? separator : last);
    if (!more) return true;
    memcpy(name, next, sizeof name);
  }
}

int list() {
  if (!print_names(stdout, "\n", "\n")) {
    fprintf(stderr, "policy: cannot list the policies: %s\n", strerror(errno));
    return 1;
  }
  if (fflush(stdout) != 0) {
    fprintf(stderr, "policy: write error: %s\n", strerror(errno));
    return 1;
  }
  return 0;
}

// Sets pid's policy (0: ours). 0, or the status to exit with after saying why.
int set(pid_t pid, const char* pid_text, const char* name) {
  if (ukos_set_policy(pid, name) == 0) return 0;
  const int error = errno;
  if (error == EINVAL) {
    fprintf(stderr, "policy: no such policy: %s (registered: ", name);
    if (!print_names(stderr, " ", "")) fprintf(stderr, "unknown");
    fprintf(stderr, ")\n");
    return kUnknownPolicy;
  }
  if (error == ESRCH) {
    fprintf(stderr, "policy: %s: no such process\n", pid_text);
    return 1;
  }
  fprintf(stderr, "policy: cannot set policy %s: %s\n", name, strerror(error));
  return 1;
}

// A whole-string decimal process id, or -1.
pid_t parse_pid(const char* text) {
  char* end = nullptr;
  errno = 0;
  const long value = strtol(text, &end, 10);
  if (end == text || *end != '\0' || errno != 0 || value <= 0 || value > 0x7fffffffL) return -1;
  return static_cast<pid_t>(value);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 1) return list();
  if (strcmp(argv[1], "-p") == 0) {
    if (argc != 4) return usage();
    const pid_t pid = parse_pid(argv[2]);
    if (pid < 0) {
      fprintf(stderr, "policy: %s: not a process id\n", argv[2]);
      return 1;
    }
    return set(pid, argv[2], argv[3]);
  }
  if (argv[1][0] == '-' || argc < 3) return usage();
  if (const int status = set(0, "self", argv[1]); status != 0) return status;
  execvp(argv[2], argv + 2);
  const int error = errno;
  if (error == ENOENT && strchr(argv[2], '/') == nullptr) {
    fprintf(stderr, "policy: %s: not found\n", argv[2]);
    return 127;
  }
  fprintf(stderr, "policy: %s: %s\n", argv[2], strerror(error));
  return error == ENOENT ? 127 : 126;
}
