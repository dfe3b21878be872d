// The helper mode: `posixtest --child-exec MODE ARGS...`, the program the
// exec tests start. Each mode checks what exec must have delivered (argv,
// envp, ids, descriptors, working directory, dispositions, a fresh image)
// and exits with kHelperOk, or prints what differed and exits with 1.
#include <signal.h>
#include <unistd.h>

#include "posixtest.h"
#include "runner.h"

namespace pt {

int g_exec_marker = kExecMarkerInitial;
unsigned char g_exec_bss[4096];

namespace {

#define H_EXPECT(cond)                                                                    \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      Line() << "  (helper " << getpid() << ") " << __LINE__ << ": " << #cond << " is false"; \
      return 1;                                                                           \
    }                                                                                     \
  } while (0)

int count(char** v) {
  int n = 0;
  while (v[n] != nullptr) ++n;
  return n;
}

// argv: NAME --child-exec args alpha "two words" "" last
// envp: PT_ONE=1 "PT_TWO=two words" PT_EMPTY=
int check_args(int argc, char** argv, char** envp) {
  H_EXPECT(argc == 7);
  H_EXPECT(same_string(argv[0], "renamed-posixtest"));  // argv[0] as given, not the path
  H_EXPECT(same_string(argv[3], "alpha"));
  H_EXPECT(same_string(argv[4], "two words"));
  H_EXPECT(same_string(argv[5], ""));
  H_EXPECT(same_string(argv[6], "last"));
  H_EXPECT(argv[7] == nullptr);
  H_EXPECT(count(envp) == 3);
  H_EXPECT(same_string(envp[0], "PT_ONE=1"));
  H_EXPECT(same_string(envp[1], "PT_TWO=two words"));
  H_EXPECT(same_string(envp[2], "PT_EMPTY="));
  H_EXPECT(environ == envp);
  return kHelperOk;
}

// argv: NAME --child-exec many N a0 a1 ... a(N-1) LONG, LONG being 3000 'x'.
int check_many(int argc, char** argv) {
  long n = 0;
  H_EXPECT(argc >= 4 && parse_long(argv[3], n));
  H_EXPECT(argc == 4 + n + 1);
  for (long i = 0; i < n; ++i) {
    Text expected;
    expected << 'a' << i;
    H_EXPECT(same_string(argv[4 + i], expected.c_str()));
  }
  const char* last = argv[4 + n];
  H_EXPECT(length(last) == 3000);
  for (size_t i = 0; i < 3000; ++i) H_EXPECT(last[i] == 'x');
  return kHelperOk;
}

int check_ids(char** argv) {
  long pid = 0, ppid = 0;
  H_EXPECT(parse_long(argv[3], pid) && parse_long(argv[4], ppid));
  H_EXPECT(getpid() == pid);
  H_EXPECT(getppid() == ppid);
  return kHelperOk;
}

// An inherited descriptor still works: write argv[4] to fd argv[3].
int write_to_fd(char** argv) {
  long fd = -1;
  H_EXPECT(parse_long(argv[3], fd));
  H_EXPECT(write_all(static_cast<int>(fd), argv[4], length(argv[4])));
  return kHelperOk;
}

int check_cwd(char** argv) {
  char cwd[256];
  H_EXPECT(getcwd(cwd, sizeof cwd) != nullptr);
  H_EXPECT(same_string(cwd, argv[3]));
  return kHelperOk;
}

// The new image's data and bss are the program's, not the caller's.
int check_fresh() {
  H_EXPECT(g_exec_marker == kExecMarkerInitial);
  for (unsigned char b : g_exec_bss) H_EXPECT(b == 0);
  return kHelperOk;
}

// Reads stdin to end of file: argv[3] bytes of 'a' + i % 26.
int consume(char** argv) {
  long expected = 0;
  H_EXPECT(parse_long(argv[3], expected));
  long total = 0;
  char buf[700];
  for (;;) {
    const ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
    H_EXPECT(n >= 0);
    if (n == 0) break;
    for (ssize_t i = 0; i < n; ++i) H_EXPECT(buf[i] == 'a' + (total + i) % 26);
    total += n;
  }
  H_EXPECT(total == expected);
  return kHelperOk;
}

}  // namespace

int helper_main(int argc, char** argv, char** envp) {
  const char* mode = argc >= 3 ? argv[2] : "";
  if (same_string(mode, "args")) return check_args(argc, argv, envp);
  if (same_string(mode, "many")) return check_many(argc, argv);
  if (same_string(mode, "noenv")) {
    H_EXPECT(envp != nullptr && envp[0] == nullptr);
    H_EXPECT(environ != nullptr && environ[0] == nullptr);
    return kHelperOk;
  }
  if (same_string(mode, "ids") && argc == 5) return check_ids(argv);
  if (same_string(mode, "fd") && argc == 5) return write_to_fd(argv);
  if (same_string(mode, "cwd") && argc == 4) return check_cwd(argv);
  if (same_string(mode, "sigint")) {
    (void)raise(SIGINT);  // survives only if SIGINT is ignored
    return kHelperOk;
  }
  if (same_string(mode, "fresh")) return check_fresh();
  if (same_string(mode, "forkstats")) return fork_stats_helper();
  if (same_string(mode, "consume") && argc == 4) return consume(argv);
  if (same_string(mode, "ready") && argc == 4) {
    // Says it runs (a byte to fd argv[3]), then waits for end of file on stdin.
    long fd = -1;
    H_EXPECT(parse_long(argv[3], fd));
    H_EXPECT(send_token(static_cast<int>(fd)));
    (void)close(static_cast<int>(fd));
    char c;
    while (read(STDIN_FILENO, &c, 1) > 0) {
    }
    return kHelperOk;
  }
  if (same_string(mode, "exit") && argc == 4) {
    long code = 0;
    H_EXPECT(parse_long(argv[3], code));
    return static_cast<int>(code);
  }
  Line() << "  (helper) unknown mode \"" << mode << "\"";
  return 2;
}

}  // namespace pt
