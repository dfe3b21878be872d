// See jobs.h.
#include "jobs.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "output.h"

namespace sh {

int status_of(int wait_status) {
  return WIFSIGNALED(wait_status) ? 128 + WTERMSIG(wait_status) : WEXITSTATUS(wait_status);
}

void Jobs::add(const pid_t* pids, int count) {
  if (count <= 0 || count > kMaxProcesses) return;
  for (Job& job : m_jobs) {
    if (job.count != 0) continue;
    for (int i = 0; i < count; ++i) job.pids[i] = pids[i];
    job.count = count;
    job.live = count;
    job.status = 0;
    return;
  }
}

Jobs::Job* Jobs::finished(pid_t pid, int wait_status) {
  for (Job& job : m_jobs) {
    for (int i = 0; i < job.count; ++i) {
      if (job.pids[i] != pid) continue;
      job.pids[i] = -job.pids[i];  // reaped; the sign keeps the name
      --job.live;
      if (i == job.count - 1) job.status = wait_status;
      return &job;
    }
  }
  return nullptr;
}

void Jobs::report_done(const Job& job) {
  const pid_t name = job.pids[0] < 0 ? -job.pids[0] : job.pids[0];
  if (WIFSIGNALED(job.status)) {
    say(2, "[%d] %s\n", name, strsignal(WTERMSIG(job.status)));
  } else if (WEXITSTATUS(job.status) != 0) {
    say(2, "[%d] Exit %d\n", name, WEXITSTATUS(job.status));
  } else {
    say(2, "[%d] Done\n", name);
  }
}

void Jobs::reap(bool report) {
  for (;;) {
    int wait_status = 0;
    const pid_t pid = waitpid(-1, &wait_status, WNOHANG);
    if (pid <= 0) return;
    Job* job = finished(pid, wait_status);
    if (job == nullptr || job->live > 0) continue;
    if (report) report_done(*job);
    job->count = 0;
  }
}

int Jobs::wait_for(pid_t pid) {
  int status = pid == -1 ? 0 : 127;
  for (Job& job : m_jobs) {
    if (job.count == 0) continue;
    bool selected = pid == -1;
    for (int i = 0; i < job.count; ++i) selected = selected || job.pids[i] == pid || job.pids[i] == -pid;
    if (!selected) continue;
    for (int i = 0; i < job.count; ++i) {
      if (job.pids[i] < 0) continue;
      int wait_status = 0;
      pid_t got;
      do {
        got = waitpid(job.pids[i], &wait_status, 0);
      } while (got < 0 && errno == EINTR);
      if (got < 0) wait_status = 127 << 8;  // gone already (someone else reaped it)
      finished(job.pids[i], wait_status);
    }
    status = status_of(job.status);
    job.count = 0;
  }
  return status;
}

}  // namespace sh
