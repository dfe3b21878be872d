// Group "exec": execve of this program in its helper mode (runner.h) with
// arguments and environment reaching main, what exec keeps (pid, parent,
// descriptors, cwd, ignored signals) and what it replaces (memory), and the
// failures: ENOENT, ENOEXEC, EACCES, E2BIG, EFAULT, each leaving the
// caller as it was.
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <ukos.h>
#include <unistd.h>

#include "posixtest.h"
#include "runner.h"

namespace {

struct Pipe {
  int r = -1, w = -1;
};

char* s(const char* text) { return const_cast<char*>(text); }

template <typename T>
T opaque(uintptr_t value) {
  asm volatile("" : "+r"(value));
  return reinterpret_cast<T>(value);
}

// A child that execs the helper with argv (argv[0] is the program's name,
// then "--child-exec" and the mode) and envp; exit kExecFailed if exec
// fails.
pid_t spawn_helper(char* const argv[], char* const envp[]) {
  return pt::spawn([&] {
    execve(pt::self_path(), argv, envp);
    pt::Line() << "  (child " << getpid() << ") execve " << pt::self_path() << ": " << pt::errno_name(errno);
    _exit(pt::kExecFailed);
  });
}

char* g_no_env[] = {nullptr};

}  // namespace

PTEST(exec, arguments_and_environment_reach_main) {
  char* argv[] = {s("renamed-posixtest"), s("--child-exec"), s("args"), s("alpha"), s("two words"), s(""), s("last"),
                  nullptr};
  char* envp[] = {s("PT_ONE=1"), s("PT_TWO=two words"), s("PT_EMPTY="), nullptr};
  pid_t child;
  CHECK_OK(child = spawn_helper(argv, envp));
  CHECK_EXITS(child, pt::kHelperOk);
}

PTEST(exec, many_and_long_arguments) {
  constexpr int kCount = 200;
  static char names[kCount][8];
  static char long_arg[3001];
  static char* argv[kCount + 6];
  int n = 0;
  argv[n++] = s("posixtest");
  argv[n++] = s("--child-exec");
  argv[n++] = s("many");
  argv[n++] = s("200");
  for (int i = 0; i < kCount; ++i) {
    pt::Text t;
    t << 'a' << i;
    for (size_t k = 0; k <= t.size(); ++k) names[i][k] = t.c_str()[k];
    argv[n++] = names[i];
  }
  pt::fill(long_arg, 'x', 3000);
  long_arg[3000] = '\0';
  argv[n++] = long_arg;
  argv[n] = nullptr;
  pid_t child;
  CHECK_OK(child = spawn_helper(argv, g_no_env));
  CHECK_EXITS(child, pt::kHelperOk);
}

PTEST(exec, empty_environment) {
  char* argv[] = {s("posixtest"), s("--child-exec"), s("noenv"), nullptr};
  pid_t child;
  CHECK_OK(child = spawn_helper(argv, g_no_env));
  CHECK_EXITS(child, pt::kHelperOk);
  // A null envp is taken as an empty one.
  CHECK_OK(child = spawn_helper(argv, nullptr));
  CHECK_EXITS(child, pt::kHelperOk);
}

PTEST(exec, keeps_pid_and_parent) {
  const pid_t me = getpid();
  pid_t child;
  CHECK_OK(child = pt::spawn([&] {
    pt::Text pid, ppid;
    pid << getpid();
    ppid << me;
    char* argv[] = {s("posixtest"), s("--child-exec"), s("ids"), const_cast<char*>(pid.c_str()),
                    const_cast<char*>(ppid.c_str()), nullptr};
    execve(pt::self_path(), argv, environ);
    _exit(pt::kExecFailed);
  }));
  CHECK_EXITS(child, pt::kHelperOk);
}

PTEST(exec, keeps_descriptors) {
  Pipe p;
  CHECK_OK(pipe(&p.r));
  pid_t child;
  CHECK_OK(child = pt::spawn([&] {
    (void)close(p.r);
    CHECK_EQ(dup2(p.w, 9), 9);
    (void)close(p.w);
    char* argv[] = {s("posixtest"), s("--child-exec"), s("fd"), s("9"), s("through fd 9"), nullptr};
    execve(pt::self_path(), argv, environ);
    _exit(pt::kExecFailed);
  }));
  CHECK_OK(close(p.w));
  char buf[32] = {};
  CHECK_EQ(pt::read_full(p.r, buf, sizeof buf), 12L);  // then end of file: the helper exited
  CHECK(pt::same_bytes(buf, "through fd 9", 12));
  CHECK_OK(close(p.r));
  CHECK_EXITS(child, pt::kHelperOk);
}

PTEST(exec, keeps_working_directory) {
  CHECK_OK(mkdir(pt::Path("here"), 0755));
  pid_t child;
  const pt::Path here("here");
  CHECK_OK(child = pt::spawn([&] {
    CHECK_OK(chdir(here));
    char* argv[] = {s("posixtest"), s("--child-exec"), s("cwd"), const_cast<char*>(here.c_str()), nullptr};
    execve(pt::self_path(), argv, environ);
    _exit(pt::kExecFailed);
  }));
  CHECK_EXITS(child, pt::kHelperOk);
}

PTEST(exec, keeps_ignored_signals) {
  char* argv[] = {s("posixtest"), s("--child-exec"), s("sigint"), nullptr};
  pid_t child;
  CHECK_OK(child = pt::spawn([&] {
    CHECK(signal(SIGINT, SIG_IGN) != SIG_ERR);
    execve(pt::self_path(), argv, environ);
    _exit(pt::kExecFailed);
  }));
  CHECK_EXITS(child, pt::kHelperOk);
  // With the default action the helper's raise(SIGINT) ends it.
  CHECK_OK(child = pt::spawn([&] {
    CHECK(signal(SIGINT, SIG_DFL) != SIG_ERR);
    execve(pt::self_path(), argv, environ);
    _exit(pt::kExecFailed);
  }));
  CHECK_KILLED(child, SIGINT);
}

PTEST(exec, replaces_memory) {
  char* argv[] = {s("posixtest"), s("--child-exec"), s("fresh"), nullptr};
  pid_t child;
  CHECK_OK(child = pt::spawn([&] {
    pt::g_exec_marker = 99;
    pt::fill(pt::g_exec_bss, 0xab, sizeof pt::g_exec_bss);
    execve(pt::self_path(), argv, environ);
    _exit(pt::kExecFailed);
  }));
  CHECK_EXITS(child, pt::kHelperOk);
}

PTEST(exec, missing_file_enoent) {
  char* argv[] = {s("nothing"), nullptr};
  CHECK_ERR(execve("/bin/no-such-program", argv, environ), ENOENT);
  CHECK_ERR(execve("/no-such-directory/program", argv, environ), ENOENT);
  CHECK_ERR(execve(pt::Path("absent"), argv, environ), ENOENT);
  CHECK_ERR(execve("", argv, environ), ENOENT);
  CHECK_ERR(execvp("no-such-program-anywhere", argv), ENOENT);
}

PTEST(exec, not_an_executable) {
  char* argv[] = {s("x"), nullptr};
  // A text file.
  // Each is executable (on a system with modes), so the format is what fails.
  CHECK(pt::make_file(pt::Path("text"), "this is not an ELF file\n", 0755));
  CHECK_ERR(execve(pt::Path("text"), argv, environ), ENOEXEC);
  // An empty file.
  CHECK(pt::make_file(pt::Path("empty"), "", 0755));
  CHECK_ERR(execve(pt::Path("empty"), argv, environ), ENOEXEC);
  // An ELF header whose program headers are missing: the first 64 bytes of
  // this very program.
  int in, out;
  CHECK_OK(in = open(pt::self_path(), O_RDONLY));
  char header[64];
  CHECK_EQ(pt::read_full(in, header, sizeof header), 64L);
  CHECK_OK(close(in));
  CHECK(pt::same_bytes(header, "\x7f" "ELF", 4));
  CHECK_OK(out = open(pt::Path("truncated"), O_WRONLY | O_CREAT | O_TRUNC, 0755));
  CHECK(pt::write_all(out, header, sizeof header));
  CHECK_OK(close(out));
  CHECK_ERR(execve(pt::Path("truncated"), argv, environ), ENOEXEC);
  // A bad magic number.
  header[3] = 'G';
  CHECK_OK(out = open(pt::Path("badmagic"), O_WRONLY | O_CREAT | O_TRUNC, 0755));
  CHECK(pt::write_all(out, header, sizeof header));
  CHECK_OK(close(out));
  CHECK_ERR(execve(pt::Path("badmagic"), argv, environ), ENOEXEC);
  // A directory is not a regular file: EACCES.
  CHECK_ERR(execve("/bin", argv, environ), EACCES);
  CHECK_ERR(execve(pt::scratch_dir(), argv, environ), EACCES);
}

PTEST(exec, failed_exec_leaves_the_process_unchanged) {
  const pt::Path text("text"), data("data");
  CHECK(pt::make_file(text, "not a program", 0755));
  CHECK(pt::make_file(data, "0123456789"));
  pid_t child;
  CHECK_OK(child = pt::spawn([&] {
    const pid_t pid = getpid();
    const pid_t ppid = getppid();
    pt::g_exec_marker = 1234;
    constexpr size_t kHeap = 20000;
    auto* heap = static_cast<unsigned char*>(malloc(kHeap));
    CHECK(heap != nullptr);
    for (size_t i = 0; i < kHeap; ++i) heap[i] = static_cast<unsigned char>(i * 7);
    int fd;
    CHECK_OK(fd = open(data, O_RDONLY));
    char c;
    CHECK_EQ(read(fd, &c, 1), 1L);
    CHECK(signal(SIGINT, SIG_IGN) != SIG_ERR);
    char cwd[256];
    CHECK(getcwd(cwd, sizeof cwd) != nullptr);

    // Too many bytes of arguments: E2BIG (one argument over Linux's 128 KiB
    // limit for a single string, and over the 64 KiB exec block here).
    constexpr size_t kBig = 200000;
    auto* big = static_cast<char*>(malloc(kBig));
    CHECK(big != nullptr);
    pt::fill(big, 'b', kBig - 1);
    big[kBig - 1] = '\0';
    char* too_big[] = {s("x"), big, nullptr};
    char* argv[] = {s("x"), nullptr};
    const char* const paths[] = {"/bin/no-such-program", text, "/bin", pt::self_path()};
    for (int round = 0; round < 4; ++round) {
      const int rc = round < 3 ? execve(paths[round], argv, environ) : execve(paths[round], too_big, environ);
      const int e = errno;
      const int expected[] = {ENOENT, ENOEXEC, EACCES, E2BIG};
      CHECK_M(rc == -1 && e == expected[round],
              "execve(" << paths[round] << ") returned " << rc << ", errno " << pt::errno_name(e));
      // Everything is as it was.
      CHECK_EQ(getpid(), pid);
      CHECK_EQ(getppid(), ppid);
      CHECK_EQ(pt::g_exec_marker, 1234);
      for (size_t i = 0; i < kHeap; ++i) CHECK_EQ(heap[i], static_cast<unsigned char>(i * 7));
      CHECK_EQ(lseek(fd, 0, SEEK_CUR), 1L);
      CHECK(signal(SIGINT, SIG_IGN) == SIG_IGN);
      char now[256];
      CHECK(getcwd(now, sizeof now) != nullptr);
      CHECK_STREQ(now, cwd);
    }
    CHECK_EQ(read(fd, &c, 1), 1L);
    CHECK_EQ(c, '1');
    CHECK_OK(close(fd));
    free(heap);
    // And it can still exec.
    char* helper[] = {s("posixtest"), s("--child-exec"), s("exit"), s("42"), nullptr};
    execve(pt::self_path(), helper, environ);
    _exit(pt::kExecFailed);
  }));
  CHECK_EXITS(child, pt::kHelperOk);
}

PTEST(exec, bad_pointers) {
  char* argv[] = {s("x"), nullptr};
  // A bad path pointer: EFAULT.
  CHECK_ERR(execve(opaque<const char*>(8), argv, environ), EFAULT);
  CHECK_ERR(execve(opaque<const char*>(0xffffffc000000000ULL), argv, environ), EFAULT);

  // A bad argv or envp pointer, or a bad string in them: EFAULT, as Linux
  // says (libos probes what it reads). Each in a child, since a libos that
  // just read them would die of SIGSEGV; the servers must survive either
  // way, and the next exec work.
  char* bad_element[] = {s("x"), opaque<char*>(16), nullptr};
  struct Case {
    const char* what;
    char* const* argv;
    char* const* envp;
  };
  const Case cases[] = {
      {"argv pointer 0x8", opaque<char* const*>(8), environ},
      {"argv pointer in unmapped user memory", opaque<char* const*>(0x1000000000ULL), environ},
      {"argv[1] pointer 0x10", bad_element, environ},
      {"envp pointer 0x8", argv, opaque<char* const*>(8)},
      {"envp[1] pointer 0x10", argv, bad_element},
  };
  for (const Case& c : cases) {
    pid_t child;
    CHECK_OK(child = pt::spawn([&] {
      errno = 0;
      const int rc = execve(pt::self_path(), c.argv, c.envp);
      const int e = errno;
      CHECK_M(rc == -1 && e == EFAULT, c.what << ": returned " << rc << ", errno " << pt::errno_name(e));
    }));
    CHECK_EXITS(child, 0);
  }
  char* helper[] = {s("posixtest"), s("--child-exec"), s("exit"), s("42"), nullptr};
  pid_t child;
  CHECK_OK(child = spawn_helper(helper, environ));
  CHECK_EXITS(child, pt::kHelperOk);
}

PTEST(exec, hundred_execs_leak_nothing) {
  char* argv[] = {s("posixtest"), s("--child-exec"), s("exit"), s("42"), nullptr};
  // One round first, so everything the first exec sets up is in place.
  pid_t child;
  CHECK_OK(child = spawn_helper(argv, environ));
  CHECK_EXITS(child, pt::kHelperOk);
  unsigned long before = 0, after = 0;
  CHECK_OK(ukos_meminfo(&before, nullptr));
  for (int i = 0; i < 100; ++i) {
    CHECK_OK(child = spawn_helper(argv, environ));
    CHECK_EXITS(child, pt::kHelperOk);
  }
  // And failed execs.
  for (int i = 0; i < 100; ++i) {
    CHECK_OK(child = pt::spawn([] {
      char* none[] = {s("x"), nullptr};
      CHECK_ERR(execve("/bin/no-such-program", none, environ), ENOENT);
      CHECK_ERR(execve("/bin", none, environ), EACCES);
    }));
    CHECK_EXITS(child, 0);
  }
  CHECK_OK(ukos_meminfo(&after, nullptr));
  pt::Line() << "  exec: free bytes before 100 execs " << before << ", after " << after;
  CHECK_EQ(after, before);
}

PTEST(exec, relative_path_and_path_search) {
  char* argv[] = {s("posixtest"), s("--child-exec"), s("exit"), s("42"), nullptr};
  pid_t child;
  CHECK_OK(child = pt::spawn([&] {
    CHECK_OK(chdir("/bin"));
    execve("posixtest", argv, environ);  // relative to the cwd
    _exit(pt::kExecFailed);
  }));
  CHECK_EXITS(child, pt::kHelperOk);
  CHECK_OK(child = pt::spawn([&] {
    CHECK_OK(chdir("/"));
    execve("./bin/../bin/posixtest", argv, environ);
    _exit(pt::kExecFailed);
  }));
  CHECK_EXITS(child, pt::kHelperOk);
  // execvp searches PATH for a name without a slash.
  CHECK_OK(child = pt::spawn([&] {
    char* env[] = {s("PATH=/nowhere:/bin"), nullptr};
    environ = env;
    execvp("posixtest", argv);
    _exit(pt::kExecFailed);
  }));
  CHECK_EXITS(child, pt::kHelperOk);
}

PTEST(exec, program_copied_into_a_file_runs) {
  // A program need not come from the boot archive: a copy in the writable
  // file system runs as well.
  const pt::Path copy("copy");
  int in, out;
  CHECK_OK(in = open(pt::self_path(), O_RDONLY));
  CHECK_OK(out = open(copy, O_WRONLY | O_CREAT | O_TRUNC, 0755));
  char buf[1000];
  long total = 0;
  for (;;) {
    const ssize_t n = read(in, buf, sizeof buf);
    CHECK(n >= 0);
    if (n == 0) break;
    CHECK(pt::write_all(out, buf, static_cast<size_t>(n)));
    total += n;
  }
  CHECK_OK(close(in));
  CHECK_OK(close(out));
  struct stat st;
  CHECK_OK(stat(pt::self_path(), &st));
  CHECK_EQ(total, st.st_size);
  char* argv[] = {s("copy"), s("--child-exec"), s("exit"), s("42"), nullptr};
  pid_t child;
  CHECK_OK(child = pt::spawn([&] {
    execve(copy, argv, environ);
    _exit(pt::kExecFailed);
  }));
  CHECK_EXITS(child, pt::kHelperOk);
}
