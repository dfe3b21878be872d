// The shell's executor: runs what the parser built. Each pipeline's words
// are expanded just before it runs; its commands are forked and exec'd with
// their pipes and redirections in place, or, for a builtin alone in the
// foreground, run in the shell itself.
//
// Job control (on in an interactive shell): every job gets its own process
// group, set by both the shell and the child so neither order of running
// can leave a child in the wrong group; a foreground job owns the console
// (tcsetpgrp) while the shell waits for it, and the shell takes the console
// back afterwards. The shell ignores SIGINT and SIGQUIT; its children get
// the default actions back before exec, so Ctrl-C stops the foreground job
// and not the shell. Without job control, everything stays in the shell's
// group and background jobs ignore SIGINT and SIGQUIT, as POSIX says.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string_view>

#include "jobs.h"
#include "parse.h"

namespace sh {

struct Options {
  bool interactive;      // prompts, job reports, job control
  const char* name;      // $0
  char** arguments;      // $1...
  int argument_count;    // $#
  int script_fd = -1;    // the script being read, closed in every child
};

class Shell {
 public:
  explicit Shell(const Options& options);

  // Parses and runs text (one line, a -c string or a script's lines).
  // Returns the status of the last command. A syntax error prints a message
  // and gives 2 without running anything; a non-interactive shell exits
  // with it, as POSIX says. `exit` does not return.
  int run(std::string_view text);

  // Like run, but text that more input could complete (an open quote, a
  // trailing `|`, `&&` or `||`) runs nothing and gives nullopt: the caller
  // reads a continuation line and tries again, or calls run at the end of
  // input to report the error.
  std::optional<int> run_if_complete(std::string_view text);

  // Reaps finished background jobs, reporting them when interactive.
  void reap_jobs();

  int last_status() const { return m_last_status; }
  bool interactive() const { return m_options.interactive; }
  Jobs& jobs() { return m_jobs; }

  // The shell's own way out: the `exit` builtin and the end of input.
  [[noreturn]] void exit_shell(int status);

 private:
  int run_script(const Script& script);
  int run_list(const List& list);
  int run_background_list(const List& list);
  int run_pipeline(const Pipeline& pipeline, bool background);

  // The child side of fork for one command of a pipeline: joins the job's
  // group, restores signals, wires the pipe ends and the redirections and
  // execs. Never returns.
  [[noreturn]] void run_child(const Command& command, const Arguments& args, const char* const* targets,
                              pid_t pgid, bool background, int in_fd, int out_fd, int close_fd);
  // A builtin in the shell itself, its redirections undone afterwards.
  int run_builtin_here(const Command& command, const Arguments& args, const char* const* targets);
  int syntax_error(const ParseError& error);
  // Waits for a foreground job's processes; the status of the last one.
  int wait_foreground(const pid_t* pids, int count, pid_t pgid);
  // Gives the console to pgid (the shell's own group to take it back).
  void give_console(pid_t pgid);

  Environment environment();
  static std::string_view lookup(std::string_view name, void* context);

  Options m_options;
  bool m_job_control;
  pid_t m_shell_pid;
  pid_t m_shell_pgid;
  pid_t m_last_background = 0;
  int m_last_status = 0;
  Jobs m_jobs;
};

// Applies a command's redirections (targets already expanded) to this
// process's descriptors. False, with a message, at the first that fails.
bool apply_redirects(const Command& command, const char* const* targets);

}  // namespace sh
