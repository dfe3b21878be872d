// Background jobs: the processes of each `&` pipeline, so that the shell can
// say "[pid] Done" once all of them have finished. A job is named by its
// first process, which is also its process group when job control is on.
#pragma once

#include <sys/types.h>

namespace sh {

class Jobs {
 public:
  static constexpr int kMaxJobs = 32;
  static constexpr int kMaxProcesses = 16;

  // Records a job of `count` processes (pids[0] names it). A job that does
  // not fit is not tracked: its processes are still reaped, silently.
  void add(const pid_t* pids, int count);

  // Reaps every finished child without waiting (waitpid(-1, WNOHANG)); when
  // `report`, prints "[pid] Done" (or "Exit N", or the signal) for each job
  // whose processes have all finished.
  void reap(bool report);

  // Waits for the job that holds `pid` to finish, or for every job when pid
  // is -1. Returns the exit status (shell-style: 128+signal) of the last
  // process waited for, 127 when pid is no job of ours.
  int wait_for(pid_t pid);

 private:
  struct Job {
    pid_t pids[kMaxProcesses];
    int count;   // 0: the slot is free
    int live;    // processes not reaped yet
    int status;  // wait status of the last process, once reaped
  };

  // Marks pid reaped with its wait status; returns its job (or nullptr).
  Job* finished(pid_t pid, int wait_status);
  void report_done(const Job& job);

  Job m_jobs[kMaxJobs] = {};
};

// The shell's status for a wait status: the exit code, or 128+signal.
int status_of(int wait_status);

}  // namespace sh
