// Group "process": fork, the ids, _exit and wait's statuses, orphans,
// kill and signal dispositions, process groups.
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <ukos.h>
#include <unistd.h>

#include "posixtest.h"

namespace {

struct Pipe {
  int r = -1, w = -1;
};

// A child that waits on `gate` (a pipe whose write end the parent keeps)
// and exits with `code` when a byte or end of file comes.
template <typename Prelude>
pid_t spawn_gated(const Pipe& gate, int code, Prelude prelude) {
  return pt::spawn([&] {
    (void)close(gate.w);
    prelude();
    (void)pt::wait_token(gate.r);
    _exit(code);
  });
}

// Whether pid reaches `state` in procmgr's table ('R', 'S', 'Z') within
// about a second.
bool reaches_state(pid_t pid, char state) {
  for (int i = 0; i < 500; ++i) {
    struct ukos_procinfo info;
    if (ukos_procinfo(pid, &info) == 1 && info.pid == pid && info.state == state) return true;
    pt::pause_ms(2);
  }
  return false;
}

}  // namespace

PTEST(process, fork_returns_zero_and_pid) {
  const pid_t parent = getpid();
  Pipe p;
  CHECK_OK(pipe(&p.r));
  pid_t child = -1;
  CHECK_OK(child = fork());
  if (child == 0) {
    // fork returned 0 here; report our pid and parent.
    pt::enter_child();
    (void)close(p.r);
    const pid_t ids[2] = {getpid(), getppid()};
    _exit(pt::write_all(p.w, ids, sizeof ids) ? 7 : 1);
  }
  CHECK(child > 0);
  CHECK(child != parent);
  CHECK_EQ(getpid(), parent);  // the parent is still itself
  CHECK_OK(close(p.w));
  pid_t ids[2] = {0, 0};
  CHECK_EQ(pt::read_full(p.r, ids, sizeof ids), static_cast<long>(sizeof ids));
  CHECK_OK(close(p.r));
  CHECK_EQ(ids[0], child);   // the child's getpid() is what fork returned
  CHECK_EQ(ids[1], parent);  // and its parent is us
  CHECK_EXITS(child, 7);
}

PTEST(process, getpid_getppid) {
  const pid_t me = getpid();
  CHECK(me > 0);
  CHECK_EQ(getpid(), me);
  const pid_t parent = getppid();
  CHECK(parent > 0);
  CHECK(parent != me);
  CHECK_EQ(getppid(), parent);
  // Every child has a new pid, and this process as its parent.
  pid_t a, b;
  CHECK_OK(a = pt::spawn([&] {
    CHECK(getpid() != me);
    CHECK_EQ(getppid(), me);
  }));
  CHECK_OK(b = pt::spawn([&] { CHECK_EQ(getppid(), me); }));
  CHECK(a != b);
  CHECK_EXITS(a, 0);
  CHECK_EXITS(b, 0);
}

PTEST(process, exit_status_through_waitpid) {
  const int codes[] = {0, 1, 42, 127, 255};
  for (int code : codes) {
    pid_t child;
    CHECK_OK(child = fork());
    if (child == 0) _exit(code);
    int status = -1;
    CHECK_EQ(waitpid(child, &status, 0), child);
    CHECK_M(WIFEXITED(status) && !WIFSIGNALED(status), "status 0x" << status);
    CHECK_EQ(WEXITSTATUS(status), code);
  }
  // Only the low 8 bits of the status reach the parent.
  pid_t child;
  CHECK_OK(child = fork());
  if (child == 0) _exit(256 + 5);
  CHECK_EXITS(child, 5);
  // exit(), not just _exit(), ends the process with its status.
  CHECK_OK(child = fork());
  if (child == 0) exit(9);
  CHECK_EXITS(child, 9);
  // A null status pointer is allowed.
  CHECK_OK(child = fork());
  if (child == 0) _exit(0);
  CHECK_EQ(waitpid(child, nullptr, 0), child);
}

PTEST(process, wait_for_any) {
  pid_t pids[3];
  for (int i = 0; i < 3; ++i) {
    pid_t child;
    CHECK_OK(child = fork());
    if (child == 0) _exit(11 + i);
    pids[i] = child;
  }
  bool seen[3] = {false, false, false};
  for (int n = 0; n < 3; ++n) {
    int status = -1;
    pid_t got;
    CHECK_OK(got = wait(&status));
    int i = 0;
    while (i < 3 && pids[i] != got) ++i;
    CHECK_M(i < 3, "wait returned " << got << ", not one of our children");
    CHECK_M(!seen[i], "wait returned " << got << " twice");
    seen[i] = true;
    CHECK(WIFEXITED(status));
    CHECK_EQ(WEXITSTATUS(status), 11 + i);
  }
  CHECK_ERR(wait(nullptr), ECHILD);
}

PTEST(process, waitpid_specific_child_while_another_exits) {
  Pipe gate;
  CHECK_OK(pipe(&gate.r));
  // B exits at once; it holds the write end of `b_done` only, so end of file
  // there says it has exited.
  Pipe b_done;
  CHECK_OK(pipe(&b_done.r));
  pid_t a, b;
  CHECK_OK(a = spawn_gated(gate, 21, [&] { (void)close(b_done.w); }));
  CHECK_OK(b = pt::spawn([&] { _exit(22); }));
  CHECK_OK(close(b_done.w));
  CHECK_EQ(pt::wait_token(b_done.r), -1);  // end of file: B is exiting
  CHECK_OK(close(b_done.r));
  CHECK_M(reaches_state(b, 'Z'), "child " << b << " did not become a zombie");
  // A has not exited, so waitpid(A, WNOHANG) must not report B.
  int status = -1;
  CHECK_EQ(waitpid(a, &status, WNOHANG), 0);
  CHECK_OK(close(gate.r));
  CHECK(pt::send_token(gate.w));
  CHECK_EQ(waitpid(a, &status, 0), a);
  CHECK(WIFEXITED(status));
  CHECK_EQ(WEXITSTATUS(status), 21);
  CHECK_OK(close(gate.w));
  // B was waiting as a zombie all along.
  CHECK_EQ(waitpid(-1, &status, 0), b);
  CHECK_EQ(WEXITSTATUS(status), 22);
  CHECK_ERR(waitpid(-1, &status, 0), ECHILD);
}

PTEST(process, wnohang_with_nothing_ready) {
  Pipe gate;
  CHECK_OK(pipe(&gate.r));
  pid_t child;
  CHECK_OK(child = spawn_gated(gate, 3, [] {}));
  CHECK_OK(close(gate.r));
  int status = 12345;
  CHECK_EQ(waitpid(-1, &status, WNOHANG), 0);
  CHECK_EQ(waitpid(child, &status, WNOHANG), 0);
  CHECK_EQ(status, 12345);  // nothing reported, nothing written
  // Options other than WNOHANG are not known: EINVAL.
  CHECK_ERR(waitpid(child, &status, 0x4000), EINVAL);
  CHECK_OK(close(gate.w));  // end of file lets the child go
  CHECK_EXITS(child, 3);
}

PTEST(process, echild_without_children) {
  int status;
  CHECK_ERR(wait(&status), ECHILD);
  CHECK_ERR(waitpid(-1, &status, 0), ECHILD);
  CHECK_ERR(waitpid(-1, &status, WNOHANG), ECHILD);
  CHECK_ERR(waitpid(getpid(), &status, 0), ECHILD);   // not our own child
  CHECK_ERR(waitpid(getppid(), &status, 0), ECHILD);  // nor our parent
  CHECK_ERR(waitpid(99999, &status, 0), ECHILD);      // nor a pid nobody has
  // A child reaped once cannot be waited for again.
  pid_t child;
  CHECK_OK(child = fork());
  if (child == 0) _exit(0);
  CHECK_EXITS(child, 0);
  CHECK_ERR(waitpid(child, &status, 0), ECHILD);
  CHECK_ERR(waitpid(child, &status, WNOHANG), ECHILD);
}

PTEST(process, orphan_is_reparented_to_init) {
  // Child C forks grandchild G, waits until G has read its parent's pid,
  // and exits; G reports its parent before and after C's exit through
  // `report`.
  Pipe report;
  CHECK_OK(pipe(&report.r));
  pid_t c;
  CHECK_OK(c = pt::spawn([&] {
    (void)close(report.r);
    Pipe c_alive, g_ready;
    CHECK_OK(pipe(&c_alive.r));
    CHECK_OK(pipe(&g_ready.r));
    pid_t g;
    CHECK_OK(g = fork());
    if (g == 0) {
      (void)close(c_alive.w);
      (void)close(g_ready.r);
      pid_t ppids[2] = {getppid(), -1};
      (void)pt::send_token(g_ready.w);
      // End of file: C, the only writer, has exited.
      (void)pt::wait_token(c_alive.r);
      for (int i = 0; i < 1000 && (ppids[1] = getppid()) != 1; ++i) pt::pause_ms(1);
      _exit(pt::write_all(report.w, ppids, sizeof ppids) ? 0 : 1);
    }
    (void)close(c_alive.r);
    (void)close(g_ready.w);
    (void)close(report.w);
    CHECK_EQ(pt::wait_token(g_ready.r), '.');
    _exit(0);  // G is orphaned
  }));
  CHECK_OK(close(report.w));
  CHECK_EXITS(c, 0);
  pid_t ppids[2] = {0, 0};
  CHECK_EQ(pt::read_full(report.r, ppids, sizeof ppids), static_cast<long>(sizeof ppids));
  CHECK_OK(close(report.r));
  CHECK_EQ(ppids[0], c);  // G's parent was C
  CHECK_EQ(ppids[1], 1);  // and then init
  // G is init's child now, not ours.
  CHECK_ERR(waitpid(-1, nullptr, WNOHANG), ECHILD);
}

PTEST(process, kill_child_blocked_in_read) {
  const int signals[] = {SIGTERM, SIGKILL, SIGINT};
  for (int sig : signals) {
    Pipe data, ready;
    CHECK_OK(pipe(&data.r));
    CHECK_OK(pipe(&ready.r));
    pid_t child;
    CHECK_OK(child = pt::spawn([&] {
      (void)close(data.w);
      (void)close(ready.r);
      (void)pt::send_token(ready.w);
      char c;
      (void)read(data.r, &c, 1);  // blocks: the parent holds the write end
      _exit(5);
    }));
    CHECK_OK(close(ready.w));
    CHECK_OK(close(data.r));
    CHECK_EQ(pt::wait_token(ready.r), '.');
    CHECK_OK(close(ready.r));
    pt::pause_ms(20);  // let it reach read()
    CHECK_EQ(waitpid(child, nullptr, WNOHANG), 0);
    CHECK_OK(kill(child, sig));
    CHECK_KILLED(child, sig);
    // The dead reader's end is closed: with no reader left, a write breaks.
    CHECK(signal(SIGPIPE, SIG_IGN) != SIG_ERR);
    CHECK_ERR(write(data.w, "x", 1), EPIPE);
    CHECK(signal(SIGPIPE, SIG_DFL) != SIG_ERR);
    CHECK_OK(close(data.w));
  }
}

PTEST(process, kill_errors) {
  CHECK_ERR(kill(99999, SIGTERM), ESRCH);
  CHECK_ERR(kill(-99999, SIGTERM), ESRCH);  // no such process group
  // A reaped child's pid names nobody.
  pid_t child;
  CHECK_OK(child = fork());
  if (child == 0) _exit(0);
  CHECK_EXITS(child, 0);
  CHECK_ERR(kill(child, SIGTERM), ESRCH);
  // Bad signal numbers.
  CHECK_ERR(kill(getpid(), -1), EINVAL);
  CHECK_ERR(kill(getpid(), 32), EINVAL);
  CHECK_ERR(kill(getpid(), 1000), EINVAL);
  // Signal 0 only checks that the process exists.
  CHECK_OK(kill(getpid(), 0));
  CHECK_ERR(kill(99999, 0), ESRCH);
  // Dispositions: only SIG_DFL and SIG_IGN, and never for SIGKILL.
  CHECK_FAILS(signal(SIGKILL, SIG_IGN) == SIG_ERR, EINVAL);
  CHECK_FAILS(signal(0, SIG_IGN) == SIG_ERR, EINVAL);
  CHECK_FAILS(signal(32, SIG_IGN) == SIG_ERR, EINVAL);
  CHECK_FAILS(signal(-3, SIG_DFL) == SIG_ERR, EINVAL);
}

PTEST(process, ignored_sigint_survives_and_is_inherited) {
  // Done in a child C, so a failure cannot take the test runner down.
  Pipe gate;
  CHECK_OK(pipe(&gate.r));
  pid_t c;
  CHECK_OK(c = pt::spawn([&] {
    (void)close(gate.w);
    CHECK(signal(SIGINT, SIG_IGN) == SIG_DFL);  // the old disposition
    CHECK(signal(SIGINT, SIG_IGN) == SIG_IGN);
    CHECK_OK(kill(getpid(), SIGINT));
    CHECK_OK(raise(SIGINT));
    // A grandchild inherits the ignored SIGINT over fork.
    pid_t g;
    CHECK_OK(g = fork());
    if (g == 0) {
      (void)raise(SIGINT);
      _exit(6);
    }
    CHECK_EXITS(g, 6);
    (void)pt::wait_token(gate.r);  // the parent's SIGINT comes meanwhile
    _exit(8);
  }));
  CHECK_OK(close(gate.r));
  pt::pause_ms(20);
  CHECK_OK(kill(c, SIGINT));
  pt::pause_ms(20);
  CHECK_EQ(waitpid(c, nullptr, WNOHANG), 0);  // still alive
  CHECK(pt::send_token(gate.w));
  CHECK_OK(close(gate.w));
  CHECK_EXITS(c, 8);

  // Ignoring SIGINT leaves other signals alone, and SIG_DFL restores it.
  Pipe gate2;
  CHECK_OK(pipe(&gate2.r));
  CHECK_OK(c = pt::spawn([&] {
    (void)close(gate2.w);
    CHECK(signal(SIGINT, SIG_IGN) == SIG_DFL);
    CHECK(signal(SIGINT, SIG_DFL) == SIG_IGN);
    (void)pt::wait_token(gate2.r);
    _exit(0);
  }));
  CHECK_OK(close(gate2.r));
  pt::pause_ms(20);
  CHECK_OK(kill(c, SIGINT));
  CHECK_KILLED(c, SIGINT);
  CHECK_OK(close(gate2.w));

  // SIGTERM still kills a child that ignores SIGINT.
  Pipe gate3;
  CHECK_OK(pipe(&gate3.r));
  CHECK_OK(c = pt::spawn([&] {
    (void)close(gate3.w);
    CHECK(signal(SIGINT, SIG_IGN) != SIG_ERR);
    (void)pt::wait_token(gate3.r);
    _exit(0);
  }));
  CHECK_OK(close(gate3.r));
  pt::pause_ms(20);
  CHECK_OK(kill(c, SIGTERM));
  CHECK_KILLED(c, SIGTERM);
  CHECK_OK(close(gate3.w));
}

PTEST(process, setpgid_getpgrp) {
  const pid_t me = getpid();
  const pid_t my_group = getpgrp();
  CHECK(my_group > 0);
  // A child starts in our group; we move it to a group of its own (as a
  // shell does), then it sets the same group itself.
  Pipe ready, gate;
  CHECK_OK(pipe(&ready.r));
  CHECK_OK(pipe(&gate.r));
  pid_t child;
  CHECK_OK(child = pt::spawn([&] {
    CHECK_EQ(getpgrp(), my_group);
    CHECK(pt::send_token(ready.w));
    CHECK_EQ(pt::wait_token(gate.r), '.');
    CHECK_EQ(getpgrp(), getpid());  // the parent's setpgid
    CHECK_OK(setpgid(0, 0));
    CHECK_EQ(getpgrp(), getpid());
    CHECK_OK(setpgid(getpid(), getpid()));  // the same, said explicitly
    // No group 99999 exists to join.
    CHECK_ERR(setpgid(0, 99999), EPERM);
    CHECK_ERR(setpgid(0, -1), EINVAL);
    CHECK_EQ(getpgrp(), getpid());
  }));
  CHECK_EQ(pt::wait_token(ready.r), '.');
  CHECK_OK(setpgid(child, child));
  struct ukos_procinfo info;
  CHECK_EQ(ukos_procinfo(child, &info), 1);
  CHECK_EQ(info.pid, child);
  CHECK_EQ(info.pgid, child);
  CHECK_EQ(info.ppid, me);
  CHECK_EQ(getpgrp(), my_group);  // ours did not change
  CHECK(pt::send_token(gate.w));
  CHECK_EXITS(child, 0);
  for (int fd : {ready.r, ready.w, gate.r, gate.w}) CHECK_OK(close(fd));
  // Errors: a pid that is neither us nor our child, a negative group.
  CHECK_ERR(setpgid(99999, 0), ESRCH);
  CHECK_ERR(setpgid(getppid(), 0), ESRCH);
  CHECK_ERR(setpgid(child, child), ESRCH);  // reaped
  CHECK_ERR(setpgid(0, -5), EINVAL);
  CHECK_EQ(getpgrp(), my_group);
}

PTEST(process, kill_negative_pgid_kills_the_group) {
  Pipe gate;
  CHECK_OK(pipe(&gate.r));
  pid_t pids[3];
  for (int i = 0; i < 3; ++i) {
    CHECK_OK(pids[i] = spawn_gated(gate, 0, [] {}));
    CHECK_OK(setpgid(pids[i], pids[0]));
  }
  CHECK_OK(close(gate.r));
  // A bystander outside the group survives.
  Pipe gate2;
  CHECK_OK(pipe(&gate2.r));
  pid_t bystander;
  CHECK_OK(bystander = spawn_gated(gate2, 4, [] {}));
  CHECK_OK(close(gate2.r));
  for (pid_t pid : pids) {
    struct ukos_procinfo info;
    CHECK_EQ(ukos_procinfo(pid, &info), 1);
    CHECK_EQ(info.pgid, pids[0]);
  }
  CHECK_OK(kill(-pids[0], SIGTERM));
  for (pid_t pid : pids) CHECK_KILLED(pid, SIGTERM);
  CHECK_ERR(kill(-pids[0], SIGTERM), ESRCH);  // the group is gone
  CHECK_EQ(waitpid(bystander, nullptr, WNOHANG), 0);
  CHECK_OK(close(gate2.w));
  CHECK_EXITS(bystander, 4);
  CHECK_OK(close(gate.w));
}

PTEST(process, kill_zero_kills_own_group) {
  // C makes its own group with two grandchildren in it, reports their pids
  // and sends kill(0, SIGTERM): all three must die. The grandchildren wait
  // on `gate`, whose write end this process keeps, so they cannot end by
  // themselves; once dead, they are zombies until init reaps them.
  Pipe report, gate;
  CHECK_OK(pipe(&report.r));
  CHECK_OK(pipe(&gate.r));
  pid_t c;
  CHECK_OK(c = pt::spawn([&] {
    (void)close(report.r);
    (void)close(gate.w);
    CHECK_OK(setpgid(0, 0));
    CHECK_EQ(getpgrp(), getpid());  // never signal the runner's group
    pid_t g[2];
    for (pid_t& pid : g) {
      CHECK_OK(pid = fork());
      if (pid == 0) {
        (void)pt::wait_token(gate.r);
        _exit(0);
      }
    }
    CHECK(pt::write_all(report.w, g, sizeof g));
    pt::pause_ms(20);
    (void)kill(0, SIGTERM);
    _exit(1);  // not reached if kill(0) worked
  }));
  CHECK_OK(close(report.w));
  CHECK_OK(close(gate.r));
  pid_t g[2] = {0, 0};
  const long got = pt::read_full(report.r, g, sizeof g);
  CHECK_OK(close(report.r));
  CHECK_KILLED(c, SIGTERM);
  CHECK_EQ(got, static_cast<long>(sizeof g));
  bool gone = false;
  for (int i = 0; i < 500 && !gone; ++i) {
    struct ukos_procinfo info;
    gone = true;
    for (pid_t pid : g) {
      if (ukos_procinfo(pid, &info) == 1 && info.pid == pid && info.state != 'Z') gone = false;
    }
    if (!gone) pt::pause_ms(2);
  }
  if (!gone) {
    for (pid_t pid : g) (void)kill(pid, SIGKILL);
  }
  CHECK_OK(close(gate.w));
  CHECK_M(gone, "grandchildren " << g[0] << " and " << g[1] << " outlived kill(0, SIGTERM)");
}

PTEST(process, sigchld_default_action_is_ignore) {
  // POSIX: SIGCHLD's default action is to ignore it, not to terminate.
  Pipe gate;
  CHECK_OK(pipe(&gate.r));
  pid_t child;
  CHECK_OK(child = spawn_gated(gate, 12, [] {}));
  CHECK_OK(close(gate.r));
  pt::pause_ms(20);
  CHECK_OK(kill(child, SIGCHLD));
  pt::pause_ms(20);
  CHECK_EQ(waitpid(child, nullptr, WNOHANG), 0);
  CHECK_OK(close(gate.w));
  CHECK_EXITS(child, 12);
}

PTEST(process, kill_of_a_zombie_keeps_its_exit_status) {
  pid_t child;
  CHECK_OK(child = fork());
  if (child == 0) _exit(33);
  CHECK(reaches_state(child, 'Z'));
  CHECK_OK(kill(child, 0));  // a zombie still exists
  CHECK_OK(kill(child, SIGKILL));
  CHECK_EXITS(child, 33);
}

PTEST(process, many_zombies_then_reaped) {
  constexpr int kChildren = 200;
  static pid_t pids[kChildren];
  for (int i = 0; i < kChildren; ++i) {
    CHECK_M((pids[i] = fork()) >= 0, "fork number " << i + 1 << ": " << pt::errno_name(errno));
    if (pids[i] == 0) _exit(i & 0x7f);
  }
  for (int n = 0; n < kChildren; ++n) {
    int status = 0;
    pid_t got;
    CHECK_OK(got = wait(&status));
    int i = 0;
    while (i < kChildren && pids[i] != got) ++i;
    CHECK_M(i < kChildren, "wait returned " << got);
    CHECK_EQ(WEXITSTATUS(status), i & 0x7f);
    pids[i] = -1;
  }
  CHECK_ERR(wait(nullptr), ECHILD);
}

PTEST(process, kill_parent_blocked_in_wait) {
  // P waits for its child C, which waits on `gate`; P is killed while
  // blocked in wait(): P dies, C goes to init and lives on.
  Pipe gate, report;
  CHECK_OK(pipe(&gate.r));
  CHECK_OK(pipe(&report.r));
  pid_t p;
  CHECK_OK(p = pt::spawn([&] {
    pid_t c;
    CHECK_OK(c = fork());
    if (c == 0) {
      (void)close(gate.w);
      (void)pt::wait_token(gate.r);
      const pid_t ppid = getppid();
      _exit(pt::write_all(report.w, &ppid, sizeof ppid) ? 0 : 1);
    }
    (void)close(report.w);
    (void)wait(nullptr);
    _exit(1);  // not reached: killed meanwhile
  }));
  CHECK_OK(close(gate.r));
  CHECK_OK(close(report.w));
  CHECK(reaches_state(p, 'S'));  // waiting in wait()
  CHECK_OK(kill(p, SIGTERM));
  CHECK_KILLED(p, SIGTERM);
  CHECK(pt::send_token(gate.w));
  pid_t ppid = 0;
  CHECK_EQ(pt::read_full(report.r, &ppid, sizeof ppid), static_cast<long>(sizeof ppid));
  CHECK_EQ(ppid, 1);
  CHECK_OK(close(report.r));
  CHECK_OK(close(gate.w));
}

PTEST(process, waitpid_by_process_group) {
  // waitpid(0, ...) waits for a child in the caller's group, waitpid(-pgid,
  // ...) for one in group pgid (POSIX).
  Pipe gate;
  CHECK_OK(pipe(&gate.r));
  pid_t other, mine;
  CHECK_OK(other = spawn_gated(gate, 50, [] {}));
  CHECK_OK(setpgid(other, other));
  CHECK_OK(mine = pt::spawn([] { _exit(51); }));
  CHECK_OK(close(gate.r));
  int status = 0;
  CHECK_EQ(waitpid(0, &status, 0), mine);  // not `other`, in another group
  CHECK_EQ(WEXITSTATUS(status), 51);
  CHECK_EQ(waitpid(-other, &status, WNOHANG), 0);
  CHECK_OK(close(gate.w));
  CHECK_EQ(waitpid(-other, &status, 0), other);
  CHECK_EQ(WEXITSTATUS(status), 50);
  CHECK_ERR(waitpid(-other, &status, 0), ECHILD);
}

PTEST(process, orphaned_zombie_is_reaped_by_init) {
  // C's child G exits; C exits without waiting for it: the zombie G goes to
  // init, which reaps it, so it leaves the process table.
  Pipe report;
  CHECK_OK(pipe(&report.r));
  pid_t c;
  CHECK_OK(c = pt::spawn([&] {
    pid_t g;
    CHECK_OK(g = fork());
    if (g == 0) _exit(0);
    CHECK(reaches_state(g, 'Z'));
    CHECK(pt::write_all(report.w, &g, sizeof g));
  }));
  CHECK_OK(close(report.w));
  pid_t g = 0;
  CHECK_EQ(pt::read_full(report.r, &g, sizeof g), static_cast<long>(sizeof g));
  CHECK_OK(close(report.r));
  CHECK_EXITS(c, 0);
  bool gone = false;
  for (int i = 0; i < 500 && !gone; ++i) {
    struct ukos_procinfo info;
    gone = ukos_procinfo(g, &info) != 1 || info.pid != g;
    if (!gone) pt::pause_ms(2);
  }
  CHECK_M(gone, "zombie " << g << " is still in the table");
}

PTEST(process, procinfo_describes_processes) {
  struct ukos_procinfo info;
  CHECK_EQ(ukos_procinfo(getpid(), &info), 1);
  CHECK_EQ(info.pid, getpid());
  CHECK_EQ(info.ppid, getppid());
  CHECK_EQ(info.pgid, getpgrp());
  CHECK_EQ(info.state, 'R');
  CHECK_STREQ(info.name, "posixtest");
  // The parent, and the first process after it.
  CHECK_EQ(ukos_procinfo(getppid(), &info), 1);
  CHECK_EQ(info.pid, getppid());
  CHECK_EQ(ukos_procinfo(1, &info), 1);
  CHECK_EQ(info.pid, 1);
  CHECK_EQ(info.ppid, 0);
  // Past the last process: none. A bad buffer: EFAULT.
  CHECK_EQ(ukos_procinfo(1 << 30, &info), 0);
  CHECK_ERR(ukos_procinfo(1, reinterpret_cast<struct ukos_procinfo*>(8)), EFAULT);
  // A child waiting in wait() shows as 'S', a zombie as 'Z'.
  Pipe gate;
  CHECK_OK(pipe(&gate.r));
  pid_t waiter;
  CHECK_OK(waiter = pt::spawn([&] {
    pid_t z;
    CHECK_OK(z = spawn_gated(gate, 0, [] {}));
    (void)close(gate.w);
    CHECK_EXITS(z, 0);
  }));
  CHECK(reaches_state(waiter, 'S'));
  CHECK_OK(close(gate.w));
  CHECK_OK(close(gate.r));
  CHECK(reaches_state(waiter, 'Z'));
  CHECK_EXITS(waiter, 0);
}

PTEST(process, chain_of_30_nested_forks) {
  // Each process forks the next and exits with its child's status plus one.
  pid_t top;
  CHECK_OK(top = fork());
  if (top == 0) {
    int depth = 0;
    for (;;) {
      const pid_t next = depth < 29 ? fork() : 0;
      if (next < 0) _exit(200);
      if (next == 0) {
        if (++depth < 30) continue;  // the child goes one level deeper
        _exit(0);                    // the deepest
      }
      int status = 0;
      if (waitpid(next, &status, 0) != next || !WIFEXITED(status)) _exit(201);
      _exit(WEXITSTATUS(status) + 1);
    }
  }
  CHECK_EXITS(top, 29);
}

PTEST(process, setpgid_after_exec_is_eacces) {
  // POSIX: a parent may not change the group of a child that has exec'd.
  Pipe in, ready;
  CHECK_OK(pipe(&in.r));
  CHECK_OK(pipe(&ready.r));
  pid_t child;
  CHECK_OK(child = pt::spawn([&] {
    CHECK_EQ(dup2(in.r, STDIN_FILENO), STDIN_FILENO);
    CHECK_EQ(dup2(ready.w, 9), 9);
    for (int fd : {in.r, in.w, ready.r, ready.w}) (void)close(fd);
    char* argv[] = {const_cast<char*>("posixtest"), const_cast<char*>("--child-exec"),
                    const_cast<char*>("ready"), const_cast<char*>("9"), nullptr};
    execve(pt::self_path(), argv, environ);
    _exit(pt::kExecFailed);
  }));
  CHECK_OK(close(in.r));
  CHECK_OK(close(ready.w));
  CHECK_EQ(pt::wait_token(ready.r), '.');  // the new program runs
  CHECK_OK(close(ready.r));
  CHECK_ERR(setpgid(child, child), EACCES);
  CHECK_OK(close(in.w));
  CHECK_EXITS(child, 42);
}
