// Host tests for procmgr's process table (servers/procmgr/process_table.h):
// every operation and its errors, pid allocation with wrap-around and reuse,
// orphans handed to init, out-of-memory rollback of fork, the pool returning
// to exactly its starting size, and a seeded random run against a reference
// model in a std::map. The invariant checker runs after every step.
#include <gtest/gtest.h>

#include "fake_page_source.h"

#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "procmgr/process_table.h"

namespace procmgr {
namespace {

using FakePool = servers::testing_support::FakePageSource;


class ProcessTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(table().create_init("init"));
    check();
  }

  virtual ProcessTable& table() { return m_table; }

  void check() {
    ASSERT_EQ(table().check_invariants(), "");
    ASSERT_EQ(table().page_count(), pool.outstanding());
  }

  Pid fork_ok(Pid parent) {
    auto pending = table().fork(parent);
    EXPECT_TRUE(pending) << errno_name(pending.error());
    if (!pending) return 0;
    Pid pid = pending->pid();
    pending->commit();
    check();
    return pid;
  }

  void exit_ok(Pid pid, int status) {
    auto notice = table().exit(pid, status);
    ASSERT_TRUE(notice) << errno_name(notice.error());
    check();
  }

  WaitOutcome wait_ok(Pid parent, Pid selector, int options = 0) {
    auto outcome = table().wait(parent, selector, options);
    EXPECT_TRUE(outcome) << errno_name(outcome.error());
    check();
    return outcome ? *outcome : WaitOutcome{WaitKind::MustBlock};
  }

  template <typename T>
  static void expect_errno(const Result<T>& result, Errno expected) {
    ASSERT_FALSE(result) << "succeeded, expected " << errno_name(expected);
    EXPECT_EQ(result.error(), expected) << errno_name(result.error()) << ", expected " << errno_name(expected);
  }

  FakePool pool{true};

 private:
  ProcessTable m_table{pool};
};

TEST(WaitStatus, EncodesLikePosix) {
  EXPECT_EQ(wstatus::exited(3), 0x300);
  EXPECT_TRUE(wstatus::if_exited(wstatus::exited(3)));
  EXPECT_FALSE(wstatus::if_signaled(wstatus::exited(3)));
  EXPECT_EQ(wstatus::exit_status(wstatus::exited(300)), 300 & 0xff);
  EXPECT_TRUE(wstatus::if_signaled(wstatus::signaled(kSigKill)));
  EXPECT_FALSE(wstatus::if_exited(wstatus::signaled(kSigKill)));
  EXPECT_EQ(wstatus::term_sig(wstatus::signaled(kSigTerm)), kSigTerm);
  EXPECT_STREQ(errno_name(Errno::NoChild), "ECHILD");
  EXPECT_EQ(int(Errno::NoMemory), 12);
  EXPECT_EQ(to_errno(kern::Error::NotEnoughMemory), Errno::NoMemory);
}

TEST_F(ProcessTableTest, InitIsPidOneAndUnique) {
  const Process* init = table().find(kInitPid);
  ASSERT_NE(init, nullptr);
  EXPECT_EQ(init->state(), ProcessState::Running);
  EXPECT_EQ(init->name(), "init");
  EXPECT_EQ(init->parent_pid(), 0);
  EXPECT_EQ(*table().getppid(kInitPid), 0);
  expect_errno(table().create_init("again"), Errno::Busy);
  check();
}

TEST_F(ProcessTableTest, ForkMakesAHiddenChildUntilCommit) {
  table().find(kInitPid)->resources.pager_policy = 7;
  auto pending = table().fork(kInitPid);
  ASSERT_TRUE(pending);
  Pid pid = pending->pid();
  EXPECT_EQ(pid, 2);
  EXPECT_EQ(pending->child().state(), ProcessState::Building);
  EXPECT_EQ(pending->child().resources.pager_policy, 7u);
  EXPECT_EQ(pending->child().resources.thread_cap, 0u);
  EXPECT_EQ(pending->child().name(), "init");
  check();
  // Invisible to everyone while being built.
  EXPECT_EQ(table().find(pid), nullptr);
  expect_errno(table().kill(pid, kSigKill), Errno::NoSuchProcess);
  expect_errno(table().wait(kInitPid, -1, kWNoHang), Errno::NoChild);
  EXPECT_EQ(table().next_after(kInitPid), nullptr);
  // The parent cannot exit under a pending fork (init cannot anyway).
  Pid parent = fork_ok(kInitPid);
  auto grandchild = table().fork(parent);
  ASSERT_TRUE(grandchild);
  expect_errno(table().exit(parent, 0), Errno::Busy);
  grandchild->abort();
  check();

  pending->child().resources.thread_cap = 42;
  pending->commit();
  check();
  ASSERT_NE(table().find(pid), nullptr);
  EXPECT_EQ(table().find(pid)->state(), ProcessState::Running);
  EXPECT_EQ(table().find(pid)->resources.thread_cap, 42u);
  EXPECT_EQ(*table().getppid(pid), kInitPid);
}

TEST_F(ProcessTableTest, AbandonedForkLeavesNothing) {
  size_t pages = pool.outstanding();
  {
    auto pending = table().fork(kInitPid);
    ASSERT_TRUE(pending);
    check();
  }  // destroyed without commit: rolled back
  check();
  EXPECT_EQ(pool.outstanding(), pages);
  EXPECT_EQ(table().record_count(), 1u);
  // The pid was handed out, so the next one is the one after it.
  EXPECT_EQ(fork_ok(kInitPid), 3);
}

TEST_F(ProcessTableTest, ForkErrors) {
  expect_errno(table().fork(99), Errno::NoSuchProcess);
  expect_errno(table().fork(0), Errno::NoSuchProcess);
  expect_errno(table().fork(-1), Errno::NoSuchProcess);
  Pid child = fork_ok(kInitPid);
  exit_ok(child, 0);
  expect_errno(table().fork(child), Errno::NoSuchProcess);  // zombies do not fork
  check();
}

TEST_F(ProcessTableTest, ExitMakesAZombieTheParentReaps) {
  Pid child = fork_ok(kInitPid);
  auto notice = table().exit(child, wstatus::exited(5));
  ASSERT_TRUE(notice);
  EXPECT_EQ(notice->parent, kInitPid);
  EXPECT_FALSE(notice->init_gained_zombies);
  check();
  EXPECT_EQ(table().find(child)->state(), ProcessState::Zombie);
  EXPECT_EQ(*table().getppid(child), kInitPid);
  expect_errno(table().exit(child, 0), Errno::NoSuchProcess);  // already exited
  WaitOutcome outcome = wait_ok(kInitPid, -1);
  EXPECT_EQ(outcome.kind, WaitKind::Reaped);
  EXPECT_EQ(outcome.pid, child);
  EXPECT_TRUE(wstatus::if_exited(outcome.status));
  EXPECT_EQ(wstatus::exit_status(outcome.status), 5);
  EXPECT_EQ(table().find(child), nullptr);
  expect_errno(table().getppid(child), Errno::NoSuchProcess);
}

TEST_F(ProcessTableTest, ExitErrors) {
  expect_errno(table().exit(kInitPid, 0), Errno::NotPermitted);
  expect_errno(table().exit(50, 0), Errno::NoSuchProcess);
  Pid child = fork_ok(kInitPid);
  expect_errno(table().exit(child, 0x7f), Errno::Invalid);        // "stopped" encoding
  expect_errno(table().exit(child, 0x10000), Errno::Invalid);     // bits beyond the code
  expect_errno(table().exit(child, 0x301), Errno::Invalid);       // both encodings at once
  EXPECT_EQ(table().find(child)->state(), ProcessState::Running);  // nothing changed
  check();
  exit_ok(child, wstatus::signaled(kSigSegv));
}

TEST_F(ProcessTableTest, WaitSpecificPidOrAny) {
  Pid a = fork_ok(kInitPid);
  Pid b = fork_ok(kInitPid);
  Pid c = fork_ok(kInitPid);
  exit_ok(a, wstatus::exited(1));
  exit_ok(c, wstatus::exited(3));
  // b is running: waiting for it would block, or return nothing with WNOHANG.
  EXPECT_EQ(wait_ok(kInitPid, b).kind, WaitKind::MustBlock);
  EXPECT_EQ(wait_ok(kInitPid, b, kWNoHang).kind, WaitKind::NothingYet);
  WaitOutcome got_c = wait_ok(kInitPid, c);
  EXPECT_EQ(got_c.kind, WaitKind::Reaped);
  EXPECT_EQ(got_c.pid, c);
  EXPECT_EQ(wstatus::exit_status(got_c.status), 3);
  expect_errno(table().wait(kInitPid, c, 0), Errno::NoChild);  // already reaped
  WaitOutcome got_a = wait_ok(kInitPid, -1, kWNoHang);
  EXPECT_EQ(got_a.kind, WaitKind::Reaped);
  EXPECT_EQ(got_a.pid, a);
  EXPECT_EQ(wait_ok(kInitPid, -1, kWNoHang).kind, WaitKind::NothingYet);
  exit_ok(b, wstatus::exited(2));
  EXPECT_EQ(wait_ok(kInitPid, -1).pid, b);
  expect_errno(table().wait(kInitPid, -1, 0), Errno::NoChild);
  expect_errno(table().wait(kInitPid, -1, kWNoHang), Errno::NoChild);
}

TEST_F(ProcessTableTest, WaitErrors) {
  Pid child = fork_ok(kInitPid);
  Pid grandchild = fork_ok(child);
  expect_errno(table().wait(kInitPid, grandchild, 0), Errno::NoChild);  // not its child
  expect_errno(table().wait(child, kInitPid, 0), Errno::NoChild);
  expect_errno(table().wait(grandchild, -1, kWNoHang), Errno::NoChild);
  expect_errno(table().wait(77, -1, 0), Errno::NoSuchProcess);
  expect_errno(table().wait(kInitPid, -1, 0x100), Errno::Invalid);
  expect_errno(table().wait(kInitPid, INT32_MIN, 0), Errno::NoSuchProcess);
  EXPECT_EQ(wait_ok(kInitPid, -1, kWNoHang | kWUntraced | kWContinued).kind, WaitKind::NothingYet);
  exit_ok(grandchild, 0);
  exit_ok(child, 0);
  expect_errno(table().wait(child, -1, 0), Errno::NoSuchProcess);  // a zombie does not wait
}

TEST_F(ProcessTableTest, WaitByProcessGroup) {
  // Children inherit the group; init's group is 1.
  Pid a = fork_ok(kInitPid);
  EXPECT_EQ(table().find(a)->process_group(), kInitPid);
  exit_ok(a, 0);
  expect_errno(table().wait(kInitPid, -5, 0), Errno::NoChild);
  EXPECT_EQ(wait_ok(kInitPid, -kInitPid).pid, a);
  Pid b = fork_ok(kInitPid);
  exit_ok(b, 0);
  EXPECT_EQ(wait_ok(kInitPid, 0).pid, b);
}

TEST_F(ProcessTableTest, OrphansGoToInitAndAreReaped) {
  Pid parent = fork_ok(kInitPid);
  Pid running = fork_ok(parent);
  Pid zombie = fork_ok(parent);
  Pid grandchild = fork_ok(running);
  exit_ok(zombie, wstatus::exited(9));
  auto notice = table().exit(parent, wstatus::exited(0));
  ASSERT_TRUE(notice);
  EXPECT_EQ(notice->parent, kInitPid);
  EXPECT_TRUE(notice->init_gained_zombies);
  check();
  EXPECT_EQ(*table().getppid(running), kInitPid);
  EXPECT_EQ(*table().getppid(zombie), kInitPid);
  EXPECT_EQ(*table().getppid(grandchild), running);  // only direct children move
  // init reaps all three (parent, zombie now, running after it exits).
  std::set<Pid> reaped;
  for (int i = 0; i < 2; ++i) reaped.insert(wait_ok(kInitPid, -1, kWNoHang).pid);
  EXPECT_EQ(reaped, (std::set<Pid>{parent, zombie}));
  EXPECT_EQ(wait_ok(kInitPid, -1, kWNoHang).kind, WaitKind::NothingYet);
  auto running_exit = table().exit(running, wstatus::signaled(kSigTerm));
  ASSERT_TRUE(running_exit);
  EXPECT_EQ(running_exit->parent, kInitPid);
  EXPECT_FALSE(running_exit->init_gained_zombies);  // grandchild still runs
  check();
  WaitOutcome last = wait_ok(kInitPid, running);
  EXPECT_EQ(wstatus::term_sig(last.status), kSigTerm);
  exit_ok(grandchild, 0);
  EXPECT_EQ(wait_ok(kInitPid, -1).pid, grandchild);
  EXPECT_EQ(table().record_count(), 1u);
}

TEST_F(ProcessTableTest, KillSemantics) {
  Pid child = fork_ok(kInitPid);
  EXPECT_EQ(*table().kill(child, kSigKill), SignalAction::Terminate);
  EXPECT_EQ(*table().kill(child, kSigTerm), SignalAction::Terminate);
  EXPECT_EQ(*table().kill(child, kSigInt), SignalAction::Terminate);
  EXPECT_EQ(*table().kill(child, kSigSegv), SignalAction::Terminate);
  EXPECT_EQ(*table().kill(child, kMaxSignal), SignalAction::Terminate);
  EXPECT_EQ(*table().kill(child, 0), SignalAction::None);  // existence check
  EXPECT_EQ(*table().kill(child, kSigChld), SignalAction::None);
  EXPECT_EQ(*table().kill(kInitPid, kSigKill), SignalAction::None);  // init is protected
  expect_errno(table().kill(child, -1), Errno::Invalid);
  expect_errno(table().kill(child, kMaxSignal + 1), Errno::Invalid);
  expect_errno(table().kill(0, kSigKill), Errno::Invalid);
  expect_errno(table().kill(1234, kSigKill), Errno::NoSuchProcess);
  expect_errno(table().kill(1234, 0), Errno::NoSuchProcess);
  expect_errno(table().kill(1234, 999), Errno::Invalid);  // argument checked first
  // The server acts on Terminate by exiting the process with the signal.
  exit_ok(child, wstatus::signaled(kSigInt));
  EXPECT_EQ(*table().kill(child, kSigKill), SignalAction::None);  // a zombie exists but takes nothing
  WaitOutcome outcome = wait_ok(kInitPid, child);
  EXPECT_TRUE(wstatus::if_signaled(outcome.status));
  EXPECT_EQ(wstatus::term_sig(outcome.status), kSigInt);
  expect_errno(table().kill(child, 0), Errno::NoSuchProcess);
}

TEST_F(ProcessTableTest, NamesAreCopiedAndCut) {
  Pid child = fork_ok(kInitPid);
  ASSERT_TRUE(table().set_name(child, "a-name-longer-than-fifteen"));
  EXPECT_EQ(table().find(child)->name(), "a-name-longer-t");
  ASSERT_TRUE(table().set_name(child, "sh"));
  EXPECT_EQ(table().find(child)->name(), "sh");
  EXPECT_EQ(table().find(kInitPid)->name(), "init");
  expect_errno(table().set_name(999, "x"), Errno::NoSuchProcess);
  check();
}

TEST_F(ProcessTableTest, NextAfterWalksInPidOrder) {
  Pid a = fork_ok(kInitPid);
  Pid b = fork_ok(a);
  Pid c = fork_ok(kInitPid);
  exit_ok(b, 0);
  auto pending = table().fork(kInitPid);  // Building: not listed
  ASSERT_TRUE(pending);
  std::vector<std::pair<Pid, Pid>> seen;
  for (const Process* p = table().next_after(0); p; p = table().next_after(p->pid())) {
    seen.emplace_back(p->pid(), p->parent_pid());
  }
  EXPECT_EQ(seen, (std::vector<std::pair<Pid, Pid>>{{1, 0}, {a, 1}, {b, a}, {c, 1}}));
  EXPECT_EQ(table().next_after(-5)->pid(), kInitPid);
}

TEST_F(ProcessTableTest, ThousandCyclesLeaveThePoolAsBefore) {
  Pid shell = fork_ok(kInitPid);
  size_t pages = pool.outstanding();
  size_t records = table().record_count();
  for (int i = 0; i < 1000; ++i) {
    Pid child = fork_ok(shell);
    exit_ok(child, wstatus::exited(i & 0xff));
    WaitOutcome outcome = wait_ok(shell, child);
    ASSERT_EQ(outcome.kind, WaitKind::Reaped);
    ASSERT_EQ(wstatus::exit_status(outcome.status), i & 0xff);
    ASSERT_EQ(pool.outstanding(), pages);
    ASSERT_EQ(table().record_count(), records);
  }
  // Pids kept increasing rather than reusing the one just freed.
  EXPECT_EQ(fork_ok(shell), 1003);
}

TEST_F(ProcessTableTest, ManyProcessesSpanPagesAndComeBack) {
  // Enough for several slab pages and several radix leaves.
  size_t pages = pool.outstanding();
  std::vector<Pid> pids;
  for (int i = 0; i < 700; ++i) {
    auto pending = table().fork(kInitPid);
    ASSERT_TRUE(pending);
    pids.push_back(pending->pid());
    pending->commit();
  }
  check();
  EXPECT_GT(pool.outstanding(), pages + 3);
  for (Pid pid : pids) ASSERT_TRUE(table().exit(pid, 0));
  check();
  for (size_t i = 0; i < pids.size(); ++i) ASSERT_EQ(wait_ok(kInitPid, -1, kWNoHang).kind, WaitKind::Reaped);
  EXPECT_EQ(pool.outstanding(), pages);
}

// A table with a small pid space, to reach the wrap-around.
class SmallPidSpaceTest : public ProcessTableTest {
 protected:
  ProcessTable& table() override { return m_small; }

 private:
  ProcessTable m_small{pool, 8};  // pids 1..7
};

TEST_F(SmallPidSpaceTest, PidsWrapAndSkipTheLivingAndTheUnreaped) {
  for (Pid expected = 2; expected <= 7; ++expected) EXPECT_EQ(fork_ok(kInitPid), expected);
  expect_errno(table().fork(kInitPid), Errno::Again);  // every pid taken
  check();
  exit_ok(3, 0);
  expect_errno(table().fork(kInitPid), Errno::Again);  // zombie 3 keeps its pid
  exit_ok(5, 0);
  EXPECT_EQ(wait_ok(kInitPid, 5).pid, 5);
  EXPECT_EQ(fork_ok(kInitPid), 5);  // wrapped to the bottom, 2..4 taken
  EXPECT_EQ(wait_ok(kInitPid, 3).pid, 3);
  exit_ok(6, 0);
  EXPECT_EQ(wait_ok(kInitPid, 6).pid, 6);
  // The search resumes after 5, the last pid handed out: 6 before 3.
  EXPECT_EQ(fork_ok(kInitPid), 6);
  EXPECT_EQ(fork_ok(kInitPid), 3);
  expect_errno(table().fork(kInitPid), Errno::Again);
}

TEST_F(ProcessTableTest, PidLimitIsClamped) {
  ProcessTable tiny(pool, 0);
  EXPECT_EQ(tiny.pid_limit(), 3);
  ProcessTable huge(pool, INT32_MAX);
  EXPECT_EQ(huge.pid_limit(), kMaxPidLimit);
}

TEST_F(ProcessTableTest, SetProcessGroupRules) {
  const Pid shell = fork_ok(kInitPid);
  const Pid job = fork_ok(shell);
  const Pid stranger = fork_ok(kInitPid);
  // A child into its own group, then a sibling into that group.
  ASSERT_TRUE(table().set_process_group(shell, job, 0));
  EXPECT_EQ(table().find(job)->process_group(), job);
  const Pid second = fork_ok(shell);
  ASSERT_TRUE(table().set_process_group(shell, second, job));
  EXPECT_EQ(table().find(second)->process_group(), job);
  // pid 0 is the caller.
  ASSERT_TRUE(table().set_process_group(shell, 0, 0));
  EXPECT_EQ(table().find(shell)->process_group(), shell);
  // Not a child of the caller, a group nobody has, a negative group.
  expect_errno(table().set_process_group(shell, stranger, 0), Errno::NoSuchProcess);
  expect_errno(table().set_process_group(shell, job, 4242), Errno::NotPermitted);
  expect_errno(table().set_process_group(shell, job, -3), Errno::Invalid);
  expect_errno(table().set_process_group(9999, 0, 0), Errno::NoSuchProcess);
  // Children start in their parent's group.
  const Pid grandchild = fork_ok(job);
  EXPECT_EQ(table().find(grandchild)->process_group(), job);
  // Once a child has exec'd, its parent may not move it; it still may.
  table().mark_exec(second);
  expect_errno(table().set_process_group(shell, second, 0), Errno::Access);
  ASSERT_TRUE(table().set_process_group(second, 0, 0));
  EXPECT_EQ(table().find(second)->process_group(), second);
  // A new fork starts with a clean slate.
  const Pid fresh = fork_ok(second);
  ASSERT_TRUE(table().set_process_group(second, fresh, 0));
  check();
}

TEST_F(ProcessTableTest, IgnoredSignalsAreInheritedAndSpareTheProcess) {
  const Pid shell = fork_ok(kInitPid);
  auto was = table().set_ignored(shell, kSigInt, true);
  ASSERT_TRUE(was);
  EXPECT_FALSE(*was);
  EXPECT_EQ(*table().kill(shell, kSigInt), SignalAction::None);
  EXPECT_EQ(*table().kill(shell, kSigTerm), SignalAction::Terminate);
  const Pid child = fork_ok(shell);
  EXPECT_EQ(*table().kill(child, kSigInt), SignalAction::None);
  was = table().set_ignored(child, kSigInt, false);
  ASSERT_TRUE(was);
  EXPECT_TRUE(*was);
  EXPECT_EQ(*table().kill(child, kSigInt), SignalAction::Terminate);
  expect_errno(table().set_ignored(shell, kSigKill, true), Errno::Invalid);
  expect_errno(table().set_ignored(shell, 0, true), Errno::Invalid);
  expect_errno(table().set_ignored(shell, kMaxSignal + 1, true), Errno::Invalid);
  expect_errno(table().set_ignored(777, kSigInt, true), Errno::NoSuchProcess);
  check();
}

TEST_F(ProcessTableTest, OutOfMemoryInForkRollsBackAtEveryAllocation) {
  // Fill up to pid 255 so the next fork needs a new radix leaf (and, when the
  // slab page happens to be full, a slab page): each allocation fails in turn.
  Pid shell = fork_ok(kInitPid);
  while (true) {
    auto pending = table().fork(shell);
    ASSERT_TRUE(pending);
    if (pending->pid() == 255) break;
    // Keep them: the slab fills as the pids go by.
    pending->commit();
  }
  check();
  for (size_t fail_at = 1;; ++fail_at) {
    size_t pages = pool.outstanding();
    size_t records = table().record_count();
    size_t before = pool.allocations();
    pool.fail_in(fail_at);
    auto pending = table().fork(shell);
    size_t made = pool.allocations() - before;
    if (pending) {
      pool.fail_in(0);
      EXPECT_EQ(pending->pid(), 256);  // failed attempts did not use up pids
      EXPECT_GE(made, 1u);
      pending->commit();
      check();
      EXPECT_GT(fail_at, 1u) << "the fork needed no allocation at all";
      break;
    }
    expect_errno(pending, Errno::NoMemory);
    check();
    EXPECT_EQ(pool.outstanding(), pages);
    EXPECT_EQ(table().record_count(), records);
    ASSERT_LT(fail_at, 10u);
  }
  // The pool's hard limit gives the same answer.
  pool.set_limit(pool.outstanding());
  Pid failed_at = 0;
  for (int i = 0; i < 1000 && !failed_at; ++i) {
    auto pending = table().fork(shell);
    if (!pending) {
      expect_errno(pending, Errno::NoMemory);
      failed_at = i;
    } else {
      pending->commit();
    }
    check();
  }
  EXPECT_NE(failed_at, 0);
}

TEST_F(ProcessTableTest, InitCreationFailsCleanlyWithoutMemory) {
  for (size_t fail_at = 1; fail_at <= 4; ++fail_at) {
    ProcessTable fresh(pool);
    size_t pages = pool.outstanding();
    pool.fail_in(fail_at);
    auto init = fresh.create_init("init");
    pool.fail_in(0);
    EXPECT_EQ(fresh.check_invariants(), "");
    if (!init) {
      EXPECT_EQ(init.error(), Errno::NoMemory);
      EXPECT_EQ(pool.outstanding(), pages);
      EXPECT_EQ(fresh.record_count(), 0u);
    }
  }
}

// The reference model for the random test: what POSIX says should happen,
// written the slow, obvious way.
struct ModelProcess {
  Pid ppid;
  bool zombie;
  int status;
};

class Model {
 public:
  explicit Model(Pid limit) : m_limit(limit) { procs[kInitPid] = {0, false, 0}; }

  bool running(Pid pid) const { return procs.count(pid) && !procs.at(pid).zombie; }

  std::optional<Pid> next_pid() const {
    for (Pid p = m_next; p < m_limit; ++p)
      if (!procs.count(p)) return p;
    for (Pid p = kFirstRecycledPid; p < m_next; ++p)
      if (!procs.count(p)) return p;
    return std::nullopt;
  }
  void used_pid(Pid pid) { m_next = pid + 1 < m_limit ? pid + 1 : kFirstRecycledPid; }

  // Returns whether a zombie went to init.
  bool exit(Pid pid, int status) {
    bool zombies_to_init = false;
    for (auto& [child, proc] : procs) {
      if (proc.ppid != pid) continue;
      proc.ppid = kInitPid;
      zombies_to_init |= proc.zombie;
    }
    procs[pid].zombie = true;
    procs[pid].status = status;
    return zombies_to_init;
  }

  std::map<Pid, ModelProcess> procs;

 private:
  Pid m_limit;
  Pid m_next = kFirstRecycledPid;
};

class RandomAgainstModel : public ::testing::TestWithParam<std::tuple<uint32_t, Pid>> {};

TEST_P(RandomAgainstModel, EveryStepMatches) {
  auto [seed, limit] = GetParam();
  std::mt19937 rng(seed);
  auto chance = [&](int percent) { return int(rng() % 100) < percent; };
  FakePool pool{true};
  ProcessTable table(pool, limit);
  Model model(limit);
  ASSERT_TRUE(table.create_init("init"));
  size_t init_pages = pool.outstanding();

  auto some_pid = [&]() -> Pid {
    if (chance(85)) {
      auto it = model.procs.begin();
      std::advance(it, rng() % model.procs.size());
      return it->first;
    }
    return Pid(rng() % (limit + 4)) - 2;
  };
  auto do_exit = [&](Pid pid, int status) {
    auto notice = table.exit(pid, status);
    ASSERT_TRUE(notice) << errno_name(notice.error());
    EXPECT_EQ(notice->parent, model.procs[pid].ppid);
    EXPECT_EQ(notice->init_gained_zombies, model.exit(pid, status));
  };

  for (int step = 0; step < 4000; ++step) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed << " step " << step);
    size_t pages_before = pool.outstanding();
    switch (rng() % 10) {
      case 0: case 1: case 2: case 3: {  // fork, sometimes short of memory
        Pid parent = some_pid();
        bool starve = chance(10);
        if (starve) pool.fail_in(1 + rng() % 3);
        auto pending = table.fork(parent);
        pool.fail_in(0);
        auto expected_pid = model.next_pid();
        if (!model.running(parent)) {
          ASSERT_FALSE(pending);
          EXPECT_EQ(pending.error(), Errno::NoSuchProcess);
        } else if (!expected_pid) {
          ASSERT_FALSE(pending);
          EXPECT_EQ(pending.error(), Errno::Again);
        } else if (!pending) {
          EXPECT_TRUE(starve);
          EXPECT_EQ(pending.error(), Errno::NoMemory);
          EXPECT_EQ(pool.outstanding(), pages_before);
        } else {
          EXPECT_EQ(pending->pid(), *expected_pid);
          model.used_pid(*expected_pid);
          if (chance(90)) {
            pending->commit();
            model.procs[*expected_pid] = {parent, false, 0};
          } else {
            ASSERT_EQ(table.check_invariants(), "");
            pending->abort();
            EXPECT_EQ(pool.outstanding(), pages_before);
          }
        }
        break;
      }
      case 4: case 5: {  // _exit
        Pid pid = some_pid();
        int status = chance(50) ? wstatus::exited(int(rng() % 256)) : wstatus::signaled(1 + int(rng() % kMaxSignal));
        if (!model.running(pid)) {
          EXPECT_EQ(table.exit(pid, status).error(), Errno::NoSuchProcess);
        } else if (pid == kInitPid) {
          EXPECT_EQ(table.exit(pid, status).error(), Errno::NotPermitted);
        } else {
          do_exit(pid, status);
        }
        break;
      }
      case 6: case 7: {  // waitpid
        Pid parent = some_pid();
        Pid selector = chance(50) ? -1 : chance(20) ? 0 : some_pid();
        int options = chance(50) ? kWNoHang : 0;
        auto outcome = table.wait(parent, selector, options);
        if (!model.running(parent) || selector == INT32_MIN) {
          ASSERT_FALSE(outcome);
          EXPECT_EQ(outcome.error(), Errno::NoSuchProcess);
          break;
        }
        // Everyone is in group 1 (no setpgid yet), so 0 and -1 match alike.
        std::set<Pid> matching, zombies;
        for (auto& [pid, proc] : model.procs) {
          bool match = proc.ppid == parent && (selector > 0 ? pid == selector : selector >= -1);
          if (!match) continue;
          matching.insert(pid);
          if (proc.zombie) zombies.insert(pid);
        }
        if (matching.empty()) {
          ASSERT_FALSE(outcome);
          EXPECT_EQ(outcome.error(), Errno::NoChild);
        } else if (!zombies.empty()) {
          ASSERT_TRUE(outcome);
          ASSERT_EQ(outcome->kind, WaitKind::Reaped);
          ASSERT_TRUE(zombies.count(outcome->pid)) << outcome->pid;
          EXPECT_EQ(outcome->status, model.procs[outcome->pid].status);
          model.procs.erase(outcome->pid);
        } else {
          ASSERT_TRUE(outcome);
          EXPECT_EQ(outcome->kind, options & kWNoHang ? WaitKind::NothingYet : WaitKind::MustBlock);
        }
        break;
      }
      case 8: {  // kill, and the server's follow-through on Terminate
        Pid pid = some_pid();
        int signal = int(rng() % (kMaxSignal + 5)) - 2;
        auto action = table.kill(pid, signal);
        if (signal < 0 || signal > kMaxSignal || pid <= 0) {
          EXPECT_EQ(action.error(), Errno::Invalid);
        } else if (!model.procs.count(pid)) {
          EXPECT_EQ(action.error(), Errno::NoSuchProcess);
        } else if (signal == 0 || pid == kInitPid || model.procs[pid].zombie) {
          EXPECT_EQ(*action, SignalAction::None);
        } else {
          ASSERT_TRUE(action);
          EXPECT_EQ(*action, default_signal_action(signal));
          if (*action == SignalAction::Terminate) do_exit(pid, wstatus::signaled(signal));
        }
        break;
      }
      case 9: {  // getppid
        Pid pid = some_pid();
        auto ppid = table.getppid(pid);
        if (model.procs.count(pid)) EXPECT_EQ(*ppid, model.procs[pid].ppid);
        else EXPECT_EQ(ppid.error(), Errno::NoSuchProcess);
        break;
      }
    }
    ASSERT_EQ(table.check_invariants(), "");
    ASSERT_EQ(table.page_count(), pool.outstanding());
    // The whole table, walked as ps would, equals the model.
    auto it = model.procs.begin();
    for (const Process* p = table.next_after(0); p; p = table.next_after(p->pid()), ++it) {
      ASSERT_NE(it, model.procs.end());
      ASSERT_EQ(p->pid(), it->first);
      ASSERT_EQ(p->parent_pid(), it->second.ppid);
      ASSERT_EQ(p->state(), it->second.zombie ? ProcessState::Zombie : ProcessState::Running);
      if (it->second.zombie) {
        ASSERT_EQ(p->wait_status(), it->second.status);
      }
    }
    ASSERT_EQ(it, model.procs.end());
    ASSERT_EQ(table.record_count(), model.procs.size());
  }

  // Everyone exits, init reaps: the pool is back where it started.
  for (auto& [pid, proc] : model.procs) {
    if (pid != kInitPid && !proc.zombie) {
      ASSERT_TRUE(table.exit(pid, 0));
    }
  }
  while (table.record_count() > 1) ASSERT_EQ(table.wait(kInitPid, -1, kWNoHang)->kind, WaitKind::Reaped);
  EXPECT_EQ(table.check_invariants(), "");
  EXPECT_EQ(pool.outstanding(), init_pages);
}

// Small pid spaces wrap and run out often; 600 spans several radix leaves.
INSTANTIATE_TEST_SUITE_P(Seeds, RandomAgainstModel,
                         ::testing::Combine(::testing::Values(1u, 2u, 3u, 42u, 2024u),
                                            ::testing::Values(Pid{16}, Pid{64}, Pid{600})));

}  // namespace
}  // namespace procmgr
