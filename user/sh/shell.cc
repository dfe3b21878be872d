// See shell.h. The parse tree and each pipeline's expansion live in arenas
// taken from malloc, grown (up to kMaxArena) until the text fits.
#include "shell.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "builtins.h"
#include "output.h"

namespace sh {
namespace {

constexpr size_t kMaxArena = 16 * 1024 * 1024;

// Linux stops a process that calls tcsetpgrp from a background group unless
// it ignores SIGTTOU, and a shell taking the console back is in one. ukos has
// no SIGTTOU; this keeps the shell runnable on the host, where its executor
// is tried out.
#ifdef SIGTTOU
constexpr int kTerminalOutputSignal = SIGTTOU;
#else
constexpr int kTerminalOutputSignal = 0;
#endif

// What an interactive shell ignores and gives its children back.
void set_job_signals(sighandler_t action) {
  signal(SIGINT, action);
  signal(SIGQUIT, action);
  if (kTerminalOutputSignal != 0) signal(kTerminalOutputSignal, action);
}

// The parse of one text, in an arena of its own.
class ParsedText {
 public:
  explicit ParsedText(std::string_view text) {
    for (size_t size = 4096 + 16 * text.size();; size *= 4) {
      m_memory = malloc(size);
      if (m_memory == nullptr) {
        m_result = std::unexpected(ParseError{ErrorKind::TooLong, {}, 0});
        return;
      }
      Arena arena(m_memory, size);
      m_result = parse(text, arena);
      if (m_result || m_result.error().kind != ErrorKind::TooLong || size >= kMaxArena) return;
      free(m_memory);
      m_memory = nullptr;
    }
  }
  ~ParsedText() { free(m_memory); }
  ParsedText(const ParsedText&) = delete;
  ParsedText& operator=(const ParsedText&) = delete;

  const ParseResult& result() const { return m_result; }

 private:
  void* m_memory = nullptr;
  ParseResult m_result;
};

struct ExpandedCommand {
  Arguments args;
  const char** targets;  // one per redirection; nullptr for Dup and Close
};

// A pipeline's words and redirection targets, expanded, and room for the
// pids of its processes.
class ExpandedPipeline {
 public:
  ExpandedPipeline(const Pipeline& pipeline, const Environment& env) {
    for (size_t size = 4096; size <= kMaxArena; size *= 4) {
      m_memory = malloc(size);
      if (m_memory == nullptr) return;
      Arena arena(m_memory, size);
      if (expand(pipeline, env, arena)) return;
      free(m_memory);
      m_memory = nullptr;
    }
  }
  ~ExpandedPipeline() { free(m_memory); }
  ExpandedPipeline(const ExpandedPipeline&) = delete;
  ExpandedPipeline& operator=(const ExpandedPipeline&) = delete;

  bool ok() const { return m_memory != nullptr; }
  const ExpandedCommand& operator[](size_t i) const { return m_commands[i]; }
  pid_t* pids() const { return m_pids; }

 private:
  bool expand(const Pipeline& pipeline, const Environment& env, Arena& arena) {
    const size_t count = pipeline.commands.size();
    m_commands = arena.allocate_array<ExpandedCommand>(count);
    m_pids = arena.allocate_array<pid_t>(count);
    if (m_commands == nullptr || m_pids == nullptr) return false;
    for (size_t i = 0; i < count; ++i) {
      const Command& command = pipeline.commands[i];
      m_commands[i].args = expand_argv(command, env, arena);
      if (m_commands[i].args.argv == nullptr) return false;
      m_commands[i].targets = arena.allocate_array<const char*>(command.redirects.size() + 1);
      if (m_commands[i].targets == nullptr) return false;
      for (size_t r = 0; r < command.redirects.size(); ++r) {
        const Redirect& redirect = command.redirects[r];
        const bool has_file = redirect.op != RedirectOp::Dup && redirect.op != RedirectOp::Close;
        m_commands[i].targets[r] = has_file ? expand_word(redirect.target, env, arena) : nullptr;
        if (has_file && m_commands[i].targets[r] == nullptr) return false;
      }
    }
    return true;
  }

  void* m_memory = nullptr;
  ExpandedCommand* m_commands = nullptr;
  pid_t* m_pids = nullptr;
};

// A copy of fd numbered above `floor` (there is no fcntl(F_DUPFD)): dup
// until one lands there, closing the copies below. -1 when fd is not open
// or the descriptors run out.
int dup_above(int fd, int floor) {
  constexpr int kMaxTries = 64;
  int below[kMaxTries];
  int tries = 0;
  int copy = dup(fd);
  while (copy >= 0 && copy <= floor && tries < kMaxTries) {
    below[tries++] = copy;
    copy = dup(fd);
  }
  if (copy >= 0 && copy <= floor) {
    close(copy);
    copy = -1;
  }
  for (int i = 0; i < tries; ++i) close(below[i]);
  return copy;
}

}  // namespace

bool apply_redirects(const Command& command, const char* const* targets) {
  for (size_t i = 0; i < command.redirects.size(); ++i) {
    const Redirect& r = command.redirects[i];
    int fd = -1;
    switch (r.op) {
      case RedirectOp::Input:
        fd = open(targets[i], O_RDONLY);
        break;
      case RedirectOp::Output:
        fd = open(targets[i], O_WRONLY | O_CREAT | O_TRUNC, 0666);
        break;
      case RedirectOp::Append:
        fd = open(targets[i], O_WRONLY | O_CREAT | O_APPEND, 0666);
        break;
      case RedirectOp::Dup:
        if (r.source_fd != r.fd && dup2(r.source_fd, r.fd) < 0) {
          complain("%d: %s", r.source_fd, strerror(errno));
          return false;
        }
        continue;
      case RedirectOp::Close:
        close(r.fd);
        continue;
    }
    if (fd < 0) {
      complain("%s: %s", targets[i], strerror(errno));
      return false;
    }
    if (fd != r.fd) {
      const int moved = dup2(fd, r.fd);
      const int error = errno;
      close(fd);
      if (moved < 0) {
        complain("%d: %s", r.fd, strerror(error));
        return false;
      }
    }
  }
  return true;
}

Shell::Shell(const Options& options)
    : m_options(options), m_job_control(options.interactive), m_shell_pid(getpid()), m_shell_pgid(getpgrp()) {
  if (m_options.interactive) set_job_signals(SIG_IGN);
  if (m_job_control) {
    // A group of our own, and the console with it.
    if (m_shell_pgid != m_shell_pid && setpgid(0, 0) == 0) m_shell_pgid = m_shell_pid;
    give_console(m_shell_pgid);
  }
}

void Shell::exit_shell(int status) { exit(status & 0xff); }

std::string_view Shell::lookup(std::string_view name, void* context) {
  const Shell& shell = *static_cast<const Shell*>(context);
  if (name[0] >= '0' && name[0] <= '9') {
    int index = 0;
    for (char c : name) index = index > 100000 ? index : index * 10 + (c - '0');
    if (index == 0) return shell.m_options.name;
    if (index <= shell.m_options.argument_count) return shell.m_options.arguments[index - 1];
    return {};
  }
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    if (text.size() > name.size() && text.starts_with(name) && text[name.size()] == '=') {
      return text.substr(name.size() + 1);
    }
  }
  return {};
}

Environment Shell::environment() {
  Environment env;
  env.last_status = m_last_status;
  env.shell_pid = m_shell_pid;
  env.last_background_pid = m_last_background;
  env.argument_count = m_options.argument_count;
  env.lookup = &Shell::lookup;
  env.context = this;
  return env;
}

int Shell::syntax_error(const ParseError& error) {
  char message[256];
  complain("%s", describe(error, message, sizeof message));
  m_last_status = 2;
  if (!m_options.interactive) exit_shell(2);
  return 2;
}

int Shell::run(std::string_view text) {
  const ParsedText parsed(text);
  if (!parsed.result()) return syntax_error(parsed.result().error());
  return run_script(*parsed.result());
}

std::optional<int> Shell::run_if_complete(std::string_view text) {
  const ParsedText parsed(text);
  if (parsed.result()) return run_script(*parsed.result());
  if (parsed.result().error().kind == ErrorKind::UnexpectedEnd) return std::nullopt;
  return syntax_error(parsed.result().error());
}

void Shell::reap_jobs() { m_jobs.reap(m_options.interactive); }

int Shell::run_script(const Script& script) {
  for (const List& list : script.lists) {
    m_last_status = list.background ? run_background_list(list) : run_list(list);
  }
  return m_last_status;
}

int Shell::run_list(const List& list) {
  // $? follows every pipeline, so `false || echo $?` sees 1.
  m_last_status = run_pipeline(list.pipelines[0], false);
  for (size_t i = 1; i < list.pipelines.size(); ++i) {
    const bool on_success = list.connectors[i - 1] == Connector::IfSuccess;
    if (on_success == (m_last_status == 0)) m_last_status = run_pipeline(list.pipelines[i], false);
  }
  return m_last_status;
}

int Shell::run_background_list(const List& list) {
  if (list.pipelines.size() == 1) return run_pipeline(list.pipelines[0], true);
  // `a && b &`: a subshell runs the whole list, as one job.
  const pid_t pid = fork();
  if (pid < 0) {
    complain("fork: %s", strerror(errno));
    return 1;
  }
  if (pid == 0) {
    // Its own group under job control, where Ctrl-C cannot reach it;
    // otherwise it ignores SIGINT and SIGQUIT, and so do its children.
    if (m_job_control) setpgid(0, 0);
    if (m_options.script_fd > STDERR_FILENO) close(m_options.script_fd);
    m_options.script_fd = -1;
    if (m_job_control) {
      set_job_signals(SIG_DFL);
    } else {
      signal(SIGINT, SIG_IGN);
      signal(SIGQUIT, SIG_IGN);
    }
    m_options.interactive = false;
    m_job_control = false;
    _exit(run_list(list) & 0xff);
  }
  if (m_job_control) setpgid(pid, pid);
  m_jobs.add(&pid, 1);
  m_last_background = pid;
  if (m_options.interactive) say(STDERR_FILENO, "[%d]\n", pid);
  return 0;
}

int Shell::run_builtin_here(const Command& command, const Arguments& args, const char* const* targets) {
  const Builtin builtin = find_builtin(args.argv[0]);
  if (command.redirects.empty()) return builtin(*this, args);
  // The copies must stay clear of every descriptor the redirections name
  // (`pwd >f 3>g` must not keep stdout's copy in 3).
  int highest = 0;
  for (const Redirect& r : command.redirects) highest = r.fd > highest ? r.fd : highest;
  for (const Redirect& r : command.redirects) highest = r.source_fd > highest ? r.source_fd : highest;
  constexpr size_t kMaxSaved = 16;
  int fds[kMaxSaved];
  int saved[kMaxSaved];
  size_t count = 0;
  for (const Redirect& r : command.redirects) {
    bool seen = false;
    for (size_t i = 0; i < count; ++i) seen = seen || fds[i] == r.fd;
    if (seen || count == kMaxSaved) continue;
    fds[count] = r.fd;
    saved[count++] = dup_above(r.fd, highest);
  }
  const int status = apply_redirects(command, targets) ? builtin(*this, args) : 1;
  for (size_t i = count; i-- > 0;) {
    if (saved[i] >= 0) {
      dup2(saved[i], fds[i]);
      close(saved[i]);
    } else {
      close(fds[i]);
    }
  }
  return status;
}

int Shell::run_pipeline(const Pipeline& pipeline, bool background) {
  const ExpandedPipeline expanded(pipeline, environment());
  if (!expanded.ok()) {
    complain("out of memory");
    return 1;
  }
  const size_t count = pipeline.commands.size();
  if (!background && count == 1) {
    const Arguments& args = expanded[0].args;
    if (args.argc > 0 && find_builtin(args.argv[0]) != nullptr) {
      return run_builtin_here(pipeline.commands[0], args, expanded[0].targets);
    }
  }
  pid_t* pids = expanded.pids();
  int started = 0;
  pid_t pgid = 0;
  int in_fd = -1;
  bool failed = false;
  for (size_t i = 0; i < count; ++i) {
    int ends[2] = {-1, -1};
    if (i + 1 < count && pipe(ends) < 0) {
      complain("pipe: %s", strerror(errno));
      failed = true;
      break;
    }
    const pid_t pid = fork();
    if (pid < 0) {
      complain("fork: %s", strerror(errno));
      if (ends[0] >= 0) close(ends[0]);
      if (ends[1] >= 0) close(ends[1]);
      failed = true;
      break;
    }
    if (pid == 0) {
      run_child(pipeline.commands[i], expanded[i].args, expanded[i].targets, pgid, background, in_fd, ends[1],
                ends[0]);
    }
    if (m_job_control) {
      if (pgid == 0) pgid = pid;
      setpgid(pid, pgid);
    }
    if (in_fd >= 0) close(in_fd);
    if (ends[1] >= 0) close(ends[1]);
    in_fd = ends[0];
    pids[started++] = pid;
  }
  if (in_fd >= 0) close(in_fd);
  if (started == 0) return 1;
  if (background && !failed) {
    m_jobs.add(pids, started);
    m_last_background = pids[started - 1];
    if (m_options.interactive) say(STDERR_FILENO, "[%d]\n", pids[0]);
    return 0;
  }
  const int status = wait_foreground(pids, started, pgid);
  return failed ? 1 : status;
}

void Shell::run_child(const Command& command, const Arguments& args, const char* const* targets, pid_t pgid,
                      bool background, int in_fd, int out_fd, int close_fd) {
  if (m_job_control) {
    setpgid(0, pgid);
    if (!background) give_console(pgid != 0 ? pgid : getpid());
  }
  if (m_options.interactive) set_job_signals(SIG_DFL);
  if (background && !m_job_control) {
    signal(SIGINT, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
  }
  if (close_fd >= 0) close(close_fd);
  if (m_options.script_fd > STDERR_FILENO) close(m_options.script_fd);
  if (in_fd >= 0 && in_fd != STDIN_FILENO) {
    dup2(in_fd, STDIN_FILENO);
    close(in_fd);
  }
  if (out_fd >= 0 && out_fd != STDOUT_FILENO) {
    dup2(out_fd, STDOUT_FILENO);
    close(out_fd);
  }
  if (!apply_redirects(command, targets)) _exit(1);
  if (args.argc == 0) _exit(0);
  if (const Builtin builtin = find_builtin(args.argv[0])) {
    m_options.interactive = false;
    m_job_control = false;
    _exit(builtin(*this, args) & 0xff);
  }
  execvp(args.argv[0], args.argv);
  const int error = errno;
  if (error == ENOENT && strchr(args.argv[0], '/') == nullptr) {
    complain("%s: not found", args.argv[0]);
    _exit(127);
  }
  complain("%s: %s", args.argv[0], strerror(error));
  _exit(error == ENOENT ? 127 : 126);
}

int Shell::wait_foreground(const pid_t* pids, int count, pid_t pgid) {
  if (m_job_control) give_console(pgid);
  int last = 0;
  bool have_last = false;
  for (int i = 0; i < count; ++i) {
    int wait_status = 0;
    pid_t got;
    do {
      got = waitpid(pids[i], &wait_status, 0);
    } while (got < 0 && errno == EINTR);
    if (got == pids[i] && i == count - 1) {
      last = wait_status;
      have_last = true;
    }
  }
  if (m_job_control) give_console(m_shell_pgid);
  if (!have_last) {
    complain("wait: %s", strerror(errno));
    return 1;
  }
  if (WIFSIGNALED(last) && WTERMSIG(last) != SIGPIPE) say(STDERR_FILENO, "%s\n", strsignal(WTERMSIG(last)));
  return status_of(last);
}

void Shell::give_console(pid_t pgid) {
  // Fails when stdin is no console (a pipe, a file): nothing to hand over.
  tcsetpgrp(STDIN_FILENO, pgid);
}

}  // namespace sh
