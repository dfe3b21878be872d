// Group "policy": the pager policies as ukos.h offers them (names and
// indices, setting a process's policy, inheritance over fork and exec) and
// the servers' counters (ukos_stats).
//
// The runner's own policy never changes: every test that sets "our" policy
// does it in a child.
#include <fcntl.h>
#include <sys/wait.h>
#include <ukos.h>
#include <unistd.h>

#include "posixtest.h"

namespace {

struct Pipe {
  int r = -1, w = -1;
};

// The policy of pid as procmgr shows it, or -1.
int policy_of(pid_t pid) {
  struct ukos_procinfo info;
  if (ukos_procinfo(pid, &info) != 1 || info.pid != pid) return -1;
  return info.policy;
}

// A registered policy other than `current`: cow, or eager when current is
// cow. -1 if neither is registered.
int other_policy(int current, const char** name) {
  const int cow = ukos_policy_index("cow");
  const int eager = ukos_policy_index("eager");
  if (cow < 0 || eager < 0) return -1;
  *name = current == cow ? "eager" : "cow";
  return current == cow ? eager : cow;
}

// Whether pid runs a program called `name` (its exec is done) within about
// two seconds.
bool runs(pid_t pid, const char* name) {
  for (int i = 0; i < 1000; ++i) {
    struct ukos_procinfo info;
    if (ukos_procinfo(pid, &info) == 1 && info.pid == pid && pt::same_string(info.name, name)) return true;
    pt::pause_ms(2);
  }
  return false;
}

}  // namespace

PTEST(policy, names_list_eager_and_cow_then_enoent) {
  char name[UKOS_POLICY_NAME_MAX];
  bool eager = false, cow = false;
  int count = 0;
  for (;; ++count) {
    errno = 0;
    if (ukos_policy_name(count, name, sizeof name) != 0) break;
    CHECK(pt::length(name) > 0);
    CHECK(pt::length(name) < UKOS_POLICY_NAME_MAX);
    eager = eager || pt::same_string(name, "eager");
    cow = cow || pt::same_string(name, "cow");
    CHECK_EQ(ukos_policy_index(name), count);  // the name leads back to its index
    CHECK_M(count < 256, "the pager names more than 256 policies");
  }
  CHECK_M(errno == ENOENT, "after " << count << " names: errno " << pt::errno_name(errno));
  CHECK(eager);
  CHECK(cow);
  CHECK_ERR(ukos_policy_name(count, name, sizeof name), ENOENT);
  CHECK_ERR(ukos_policy_name(count + 1000, name, sizeof name), ENOENT);
  CHECK_ERR(ukos_policy_name(-1, name, sizeof name), ENOENT);
}

PTEST(policy, name_needs_room_for_the_nul) {
  const int eager = ukos_policy_index("eager");
  CHECK_OK(eager);
  char name[8];
  pt::fill(name, 'x', sizeof name);
  CHECK_ERR(ukos_policy_name(eager, name, 5), ERANGE);  // "eager" and its NUL are 6 bytes
  CHECK_EQ(name[0], 'x');                               // nothing written
  CHECK_ERR(ukos_policy_name(eager, name, 0), ERANGE);
  CHECK_ERR(ukos_policy_name(eager, nullptr, 0), ERANGE);
  CHECK_OK(ukos_policy_name(eager, name, 6));
  CHECK_STREQ(name, "eager");
  CHECK_ERR(ukos_policy_name(eager, reinterpret_cast<char*>(8), 16), EFAULT);
}

PTEST(policy, index_of_an_unknown_name_is_einval) {
  CHECK_ERR(ukos_policy_index("nonsense"), EINVAL);
  CHECK_ERR(ukos_policy_index(""), EINVAL);
  CHECK_ERR(ukos_policy_index("co"), EINVAL);
  CHECK_ERR(ukos_policy_index("cowx"), EINVAL);
  CHECK_ERR(ukos_policy_index("a-name-much-longer-than-any-policy-name"), EINVAL);
  CHECK_ERR(ukos_policy_index(reinterpret_cast<const char*>(8)), EFAULT);
}

PTEST(policy, unknown_name_changes_nothing) {
  const pid_t child = pt::spawn([] {
    const int before = policy_of(getpid());
    CHECK(before >= 0);
    CHECK_ERR(ukos_set_policy(0, "nonsense"), EINVAL);
    CHECK_ERR(ukos_set_policy(getpid(), ""), EINVAL);
    CHECK_EQ(policy_of(getpid()), before);
  });
  CHECK_OK(child);
  CHECK_EXITS(child, 0);
}

PTEST(policy, set_on_self_shows_and_a_later_child_inherits_it) {
  const pid_t child = pt::spawn([] {
    const char* name = nullptr;
    const int other = other_policy(policy_of(getpid()), &name);
    CHECK(other >= 0);
    CHECK_OK(ukos_set_policy(0, name));
    CHECK_EQ(policy_of(getpid()), other);
    // Setting it again is no change and no error.
    CHECK_OK(ukos_set_policy(getpid(), name));
    CHECK_EQ(policy_of(getpid()), other);
    const pid_t grandchild = pt::spawn([other] { CHECK_EQ(policy_of(getpid()), other); });
    CHECK_OK(grandchild);
    CHECK_EXITS(grandchild, 0);
  });
  CHECK_OK(child);
  CHECK_EXITS(child, 0);
}

PTEST(policy, a_program_execed_keeps_it) {
  const char* name = nullptr;
  const int other = other_policy(policy_of(getpid()), &name);
  CHECK(other >= 0);
  Pipe gate;
  CHECK_OK(pipe(&gate.r));
  const pid_t child = fork();
  CHECK_OK(child);
  if (child == 0) {
    // cat reads the gate until the parent closes it.
    pt::enter_child();
    (void)close(gate.w);
    if (ukos_set_policy(0, name) != 0 || dup2(gate.r, 0) != 0) _exit(pt::kChildCheckFailed);
    char* argv[] = {const_cast<char*>("cat"), nullptr};
    execv("/bin/cat", argv);
    _exit(pt::kExecFailed);
  }
  CHECK_OK(close(gate.r));
  const bool execed = runs(child, "cat");
  const int seen = policy_of(child);
  CHECK_OK(close(gate.w));
  CHECK_EXITS(child, 0);
  CHECK_M(execed, "the child never ran cat");
  CHECK_EQ(seen, other);
}

PTEST(policy, set_on_a_child_by_pid) {
  const int mine = policy_of(getpid());
  const char* name = nullptr;
  const int other = other_policy(mine, &name);
  CHECK(other >= 0);
  Pipe gate;
  CHECK_OK(pipe(&gate.r));
  const pid_t child = pt::spawn([&] {
    (void)close(gate.w);
    (void)pt::wait_token(gate.r);  // the parent has set our policy
    CHECK_EQ(policy_of(getpid()), other);
    // ... and our children get it.
    const pid_t grandchild = pt::spawn([other] { CHECK_EQ(policy_of(getpid()), other); });
    CHECK_OK(grandchild);
    CHECK_EXITS(grandchild, 0);
  });
  CHECK_OK(child);
  CHECK_OK(close(gate.r));
  CHECK_EQ(policy_of(child), mine);  // born with ours
  CHECK_OK(ukos_set_policy(child, name));
  CHECK_EQ(policy_of(child), other);
  CHECK_EQ(policy_of(getpid()), mine);  // ours did not change
  CHECK(pt::send_token(gate.w));
  CHECK_OK(close(gate.w));
  CHECK_EXITS(child, 0);
}

PTEST(policy, no_such_process_is_esrch) {
  // A child that exited: first a zombie, then reaped and gone.
  const pid_t child = pt::spawn([] {});
  CHECK_OK(child);
  for (int i = 0; i < 500; ++i) {
    struct ukos_procinfo info;
    if (ukos_procinfo(child, &info) == 1 && info.pid == child && info.state == 'Z') break;
    pt::pause_ms(2);
  }
  CHECK_ERR(ukos_set_policy(child, "eager"), ESRCH);
  CHECK_EXITS(child, 0);
  CHECK_ERR(ukos_set_policy(child, "eager"), ESRCH);
  CHECK_ERR(ukos_set_policy(-5, "eager"), ESRCH);
  CHECK_ERR(ukos_set_policy((1 << 22) + 5, "eager"), ESRCH);
  // The name is checked first: nothing is asked of procmgr for it.
  CHECK_ERR(ukos_set_policy(child, "nonsense"), EINVAL);
}

// The pager's own record follows procmgr's: under cow a fork copies no
// page, under eager it copies the writable ones (pager_fork_pages_copied).
// First for a fork in the address space whose policy SetPolicy changed,
// then for one in a program exec'd afterwards (Load's policy index).
PTEST(policy, the_pager_forks_by_the_policy_set) {
  for (const char* name : {"cow", "eager"}) {
    const bool copies = pt::same_string(name, "eager");
    const pid_t child = pt::spawn([name, copies] {
      CHECK_OK(ukos_set_policy(0, name));
      struct ukos_stats before, after;
      CHECK_OK(ukos_stats(&before));
      const pid_t grandchild = pt::spawn([] {});
      CHECK_OK(grandchild);
      CHECK_EXITS(grandchild, 0);
      CHECK_OK(ukos_stats(&after));
      CHECK_EQ(after.pager_forks, before.pager_forks + 1);
      CHECK_M((after.pager_fork_pages_copied > before.pager_fork_pages_copied) == copies,
              name << ": " << (after.pager_fork_pages_copied - before.pager_fork_pages_copied) << " pages copied");
    });
    CHECK_OK(child);
    CHECK_EXITS(child, 0);

    // sh -c forks to run /bin/true, in the address space exec made.
    Pipe gate;
    CHECK_OK(pipe(&gate.r));
    const pid_t execer = fork();
    CHECK_OK(execer);
    if (execer == 0) {
      pt::enter_child();
      (void)close(gate.w);
      if (ukos_set_policy(0, name) != 0 || pt::wait_token(gate.r) < 0) _exit(pt::kChildCheckFailed);
      char* argv[] = {const_cast<char*>("sh"), const_cast<char*>("-c"), const_cast<char*>("/bin/true"), nullptr};
      execv("/bin/sh", argv);
      _exit(pt::kExecFailed);
    }
    CHECK_OK(close(gate.r));
    struct ukos_stats before, after;
    CHECK_OK(ukos_stats(&before));
    CHECK(pt::send_token(gate.w));
    CHECK_OK(close(gate.w));
    CHECK_EXITS(execer, 0);
    CHECK_OK(ukos_stats(&after));
    CHECK_EQ(after.pager_forks, before.pager_forks + 1);
    CHECK_M((after.pager_fork_pages_copied > before.pager_fork_pages_copied) == copies,
            name << " after exec: " << (after.pager_fork_pages_copied - before.pager_fork_pages_copied)
                 << " pages copied");
  }
}

PTEST(policy, stats_grow_across_a_fork) {
  struct ukos_stats before, after;
  CHECK_OK(ukos_stats(&before));
  const pid_t child = pt::spawn([] {});
  CHECK_OK(child);
  CHECK_EXITS(child, 0);
  CHECK_OK(ukos_stats(&after));
  CHECK_EQ(after.pager_forks, before.pager_forks + 1);
  CHECK_EQ(after.procmgr_forks, before.procmgr_forks + 1);
  CHECK(after.pager_releases > before.pager_releases);
  CHECK(after.procmgr_from_processes > before.procmgr_from_processes);
  CHECK(after.procmgr_calls_to_pager > before.procmgr_calls_to_pager);
  CHECK(after.procmgr_calls_to_vfs > before.procmgr_calls_to_vfs);
  CHECK(after.pager_from_procmgr > before.pager_from_procmgr);
  CHECK(after.vfs_from_procmgr > before.vfs_from_procmgr);
  CHECK(after.vfs_from_processes > before.vfs_from_processes);  // the first reading's Stats
  CHECK(after.instr_total > before.instr_total);
  CHECK(after.instr_kernel > before.instr_kernel);
  CHECK(after.instr_procmgr > before.instr_procmgr);
  CHECK(after.instr_pager > before.instr_pager);
  CHECK(before.instr_kernel > 0);
  CHECK(after.instr_total > after.instr_kernel + after.instr_procmgr + after.instr_pager + after.instr_vfs);
  CHECK_ERR(ukos_stats(reinterpret_cast<struct ukos_stats*>(8)), EFAULT);
}
