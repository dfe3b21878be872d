// posixtest: the guest test suite of the Unix layer (fork, exec, wait,
// signals, memory, files, descriptors and pipes), run as a process.
//
//   posixtest                    every test
//   posixtest GROUP[.NAME] ...   the named groups or tests
//   posixtest -GROUP[.NAME] ...  all but those (both kinds may be mixed)
//   posixtest --list             the names, one a line
//   posixtest --policy=NAME ...  also: fail at once unless this process runs
//                                under pager policy NAME (so a pager.policy=
//                                bootarg that was ignored does not go unseen)
//   posixtest --child-exec ...   the helper the exec tests start (helper.cc)
//
// The run starts by saying which pager policy it runs under. Each test
// prints "PASS group.name" or "FAIL group.name: what", and the run ends
// with "posixtest: N passed, M failed"; the exit status is 0 only if
// nothing failed. The system tests run it as init's program
// (bootargs init.args=/bin/posixtest[,GROUP]), so that status becomes QEMU's.
//
// Every test runs in a fresh scratch directory with the default signal
// actions; afterwards the runner kills and reaps any child the test left,
// closes any descriptor it left open (those open when the run started are
// not the tests'), sets the default signal actions and the working
// directory back, and removes the scratch directory. A test that passed
// but left a child or a descriptor behind is reported as failed: the leak
// is a bug, in the test or in the system.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <ukos.h>
#include <unistd.h>

#include "posixtest.h"
#include "runner.h"

namespace pt {

namespace {

// Groups run in this order; a test of another group would run last.
constexpr const char* kGroups[] = {"process", "memory", "forkmem", "exec", "files", "shared", "pipes"};
constexpr int kGroupCount = sizeof kGroups / sizeof kGroups[0];

Test* g_first = nullptr;
Test* g_last = nullptr;

bool g_failed = false;
char g_failure[480];

char g_scratch_root[64];
char g_scratch[192];
char g_start_cwd[256];

// The tests expect the default actions (a shell may start a background
// job with SIGINT ignored): the runner sets them at start and after each test.
constexpr int kSignals[] = {SIGHUP, SIGINT, SIGQUIT, SIGPIPE, SIGTERM};

constexpr int kMaxFd = 256;
// Descriptors above 2 that were open when the run started: not the tests'.
bool g_inherited_fd[kMaxFd];

void copy(char* out, size_t size, const char* in) {
  size_t i = 0;
  for (; in[i] != '\0' && i + 1 < size; ++i) out[i] = in[i];
  out[i] = '\0';
}

int group_index(const char* group) {
  for (int i = 0; i < kGroupCount; ++i) {
    if (same_string(group, kGroups[i])) return i;
  }
  return kGroupCount;
}

// "group" or "group.name" against a test.
bool matches(const Test& t, const char* filter) {
  const char* g = t.group;
  const char* f = filter;
  while (*g != '\0' && *g == *f) ++g, ++f;
  if (*g != '\0') return false;
  if (*f == '\0') return true;
  return *f == '.' && same_string(t.name, f + 1);
}

// Filters name groups or tests to run; "-NAME" ones name what not to run.
bool selected(const Test& t, int filter_count, char** filters) {
  bool any_wanted = false, wanted = false;
  for (int i = 0; i < filter_count; ++i) {
    if (filters[i][0] == '-') {
      if (matches(t, filters[i] + 1)) return false;
    } else {
      any_wanted = true;
      wanted = wanted || matches(t, filters[i]);
    }
  }
  return wanted || !any_wanted;
}

// Removes everything below `path` and then `path`; false if something
// stays. Entries are removed one at a time and the directory reopened,
// since removing shifts readdir's positions. Best effort: it gives up at the
// first entry it cannot remove.
bool remove_tree(const char* path, int depth = 0) {
  if (depth > 64) return false;
  for (;;) {
    DIR* dir = opendir(path);
    if (dir == nullptr) break;
    char child[512] = {};
    bool found = false;
    while (struct dirent* e = readdir(dir)) {
      if (same_string(e->d_name, ".") || same_string(e->d_name, "..")) continue;
      Text t;
      t << path << '/' << e->d_name;
      copy(child, sizeof child, t.c_str());
      found = true;
      break;
    }
    (void)closedir(dir);
    if (!found) break;
    struct stat st;
    const bool removed = stat(child, &st) == 0 && S_ISDIR(st.st_mode) ? remove_tree(child, depth + 1)
                                                                       : unlink(child) == 0;
    if (!removed) return false;
  }
  return rmdir(path) == 0;
}

// Kills and reaps every child of ours; returns how many were still there.
int reap_leftover_children() {
  int left = 0;
  const pid_t me = getpid();
  struct ukos_procinfo info;
  for (pid_t cursor = 1; ukos_procinfo(cursor, &info) == 1; cursor = info.pid + 1) {
    if (info.ppid != me) continue;
    ++left;
    if (info.state != 'Z') (void)kill(info.pid, SIGKILL);
    int status;
    (void)waitpid(info.pid, &status, 0);
  }
  // Whatever ukos_procinfo did not show (if it fails), reaped if done.
  int status;
  while (waitpid(-1, &status, WNOHANG) > 0) ++left;
  return left;
}

int close_leftover_fds() {
  int left = 0;
  for (int fd = 3; fd < kMaxFd; ++fd) {
    struct stat st;
    if (!g_inherited_fd[fd] && fstat(fd, &st) == 0) {
      (void)close(fd);
      ++left;
    }
  }
  return left;
}

void run_test(Test& t, int& passed, int& failed) {
  g_failed = false;
  g_failure[0] = '\0';
  {
    Text dir;
    dir << g_scratch_root << '/' << t.group << '.' << t.name;
    copy(g_scratch, sizeof g_scratch, dir.c_str());
  }
  if (mkdir(g_scratch, 0755) != 0 && errno != EEXIST) {
    const int e = errno;
    Text m;
    m << "cannot make the scratch directory " << g_scratch << ": " << errno_name(e);
    record_failure(m.c_str());
  } else {
    t.fn();
  }

  // Clean up after the test, whatever it did.
  const int children = reap_leftover_children();
  const int fds = close_leftover_fds();
  for (int sig : kSignals) (void)signal(sig, SIG_DFL);
  (void)chdir(g_start_cwd);
  (void)remove_tree(g_scratch);
  if (!g_failed && (children > 0 || fds > 0)) {
    Text m;
    m << "left " << children << " children and " << fds << " descriptors behind";
    record_failure(m.c_str());
  }

  Line line;
  if (g_failed) {
    line << "FAIL " << t.group << '.' << t.name << ": " << g_failure;
    ++failed;
  } else {
    line << "PASS " << t.group << '.' << t.name;
    ++passed;
  }
}

// The name of the pager policy this process runs under, or "?".
const char* running_policy() {
  static char name[UKOS_POLICY_NAME_MAX];
  struct ukos_procinfo info;
  if (ukos_procinfo(getpid(), &info) != 1 || info.pid != getpid() ||
      ukos_policy_name(info.policy, name, sizeof name) != 0) {
    return "?";
  }
  return name;
}

}  // namespace

void register_test(Test& test) {
  if (g_last == nullptr) g_first = &test;
  else g_last->next = &test;
  g_last = &test;
}

void record_failure(const char* message) {
  if (g_failed) return;  // the first failure is the one to report
  g_failed = true;
  copy(g_failure, sizeof g_failure, message);
}

const char* scratch_dir() { return g_scratch; }

}  // namespace pt

int main(int argc, char** argv, char** envp) {
  using namespace pt;
  if (argc >= 2 && same_string(argv[1], "--child-exec")) return helper_main(argc, argv, envp);
  if (argc >= 2 && same_string(argv[1], "--list")) {
    for (int g = 0; g <= kGroupCount; ++g) {
      for (Test* t = g_first; t != nullptr; t = t->next) {
        if (group_index(t->group) == g) Line() << t->group << '.' << t->name;
      }
    }
    return 0;
  }
  // --policy=NAME arguments out, the filters stay.
  constexpr int kMaxFilters = 64;
  char* filters[kMaxFilters];
  int filter_count = 0;
  const char* wanted_policy = nullptr;
  for (int i = 1; i < argc; ++i) {
    constexpr char kPolicyFlag[] = "--policy=";
    if (same_bytes(argv[i], kPolicyFlag, sizeof kPolicyFlag - 1)) {
      wanted_policy = argv[i] + sizeof kPolicyFlag - 1;
    } else if (filter_count < kMaxFilters) {
      filters[filter_count++] = argv[i];
    } else {
      Line() << "posixtest: more than " << kMaxFilters << " filters";
      return 2;
    }
  }
  for (int i = 0; i < filter_count; ++i) {
    bool any = false;
    const char* name = filters[i][0] == '-' ? filters[i] + 1 : filters[i];
    for (Test* t = g_first; t != nullptr && !any; t = t->next) any = matches(*t, name);
    if (!any) {
      Line() << "posixtest: no test matches \"" << filters[i] << "\" (posixtest --list names them)";
      return 2;
    }
  }

  for (int fd = 3; fd < kMaxFd; ++fd) {
    struct stat st;
    g_inherited_fd[fd] = fstat(fd, &st) == 0;
  }
  if (getcwd(g_start_cwd, sizeof g_start_cwd) == nullptr) copy(g_start_cwd, sizeof g_start_cwd, "/");
  for (int sig : kSignals) (void)signal(sig, SIG_DFL);
  (void)mkdir("/tmp", 0755);
  {
    Text root;
    root << "/tmp/pt" << getpid();
    copy(g_scratch_root, sizeof g_scratch_root, root.c_str());
  }
  if (mkdir(g_scratch_root, 0755) != 0) {
    const int e = errno;
    Line() << "posixtest: cannot make " << g_scratch_root << ": " << errno_name(e);
    return 1;
  }
  const char* policy = running_policy();
  Line() << "posixtest: pid " << getpid() << ", pager policy " << policy << ", scratch directory "
         << g_scratch_root;
  if (wanted_policy != nullptr && !same_string(policy, wanted_policy)) {
    Line() << "posixtest: runs under pager policy " << policy << ", not " << wanted_policy
           << " as --policy asks (was pager.policy= ignored?)";
    (void)remove_tree(g_scratch_root);
    return 1;
  }

  int passed = 0, failed = 0;
  for (int g = 0; g <= kGroupCount; ++g) {
    for (Test* t = g_first; t != nullptr; t = t->next) {
      if (group_index(t->group) == g && selected(*t, filter_count, filters)) run_test(*t, passed, failed);
    }
  }
  (void)remove_tree(g_scratch_root);
  Line() << "posixtest: " << passed << " passed, " << failed << " failed";
  return failed == 0 ? 0 : 1;
}
