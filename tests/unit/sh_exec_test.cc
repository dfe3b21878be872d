// The shell's executor (user/sh), built natively against the host's libc
// and run as a program: what it prints and the status it exits with, for
// commands, pipelines, redirections, lists, builtins, background jobs and
// signals, with the host's utilities under /bin and /usr/bin. The
// interactive mode (prompt, job reports, Ctrl-C) runs on a pseudo-terminal.
// The same code runs on ukos; this pins down its logic where it is quick to
// run.
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "run_program.h"

namespace {

using run_program::Outcome;

const char* shell_path() {
  static const std::string path = run_program::program_path("SH_HOST", "user/sh/sh_host");
  return path.c_str();
}

// Runs the shell with `args`, stdin from `input`; in the directory `cwd`.
Outcome run_shell(const std::vector<std::string>& args, const std::string& input = "", const char* cwd = "/tmp") {
  std::vector<std::string> argv{shell_path()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_program::run(argv, input, cwd, {"PATH=/bin:/usr/bin", "HOME=/home/test"});
}

Outcome sh_c(const std::string& command) { return run_shell({"-c", command}); }

class ShExec : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/sh_exec_test.XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    m_dir = pattern;
  }
  void TearDown() override { sh_c("rm -rf " + m_dir); }

  Outcome in_dir(const std::string& command) { return run_shell({"-c", command}, "", m_dir.c_str()); }

  std::string m_dir;
};

TEST_F(ShExec, SimpleCommandsAndQuoting) {
  const Outcome r = sh_c("echo hello   'a  b' \"c  d\" e\\ f");
  EXPECT_EQ(r.out, "hello a  b c  d e f\n");
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.status, 0);
}

TEST_F(ShExec, StatusOfTheLastCommandAndDollarQuestion) {
  EXPECT_EQ(sh_c("false").status, 1);
  EXPECT_EQ(sh_c("false; true").status, 0);
  EXPECT_EQ(sh_c("false; echo $?; echo $?").out, "1\n0\n");
  EXPECT_EQ(sh_c("sh_exec_no_such_program; echo $?").out, "127\n");
}

TEST_F(ShExec, NotFoundIs127WithAMessage) {
  const Outcome r = sh_c("sh_exec_no_such_program a b");
  EXPECT_EQ(r.err, "sh: sh_exec_no_such_program: not found\n");
  EXPECT_EQ(r.status, 127);
  EXPECT_EQ(sh_c("/no/such/path").err, "sh: /no/such/path: No such file or directory\n");
}

TEST_F(ShExec, DollarDollarAndPositionalParameters) {
  const Outcome r = run_shell({"-c", "echo $0 $1 $2 $#; echo $HOME", "name", "A", "B"});
  EXPECT_EQ(r.out, "name A B 2\n/home/test\n");
  EXPECT_EQ(sh_c("echo $$ | tr -d 0-9").out, "\n");
}

TEST_F(ShExec, Pipelines) {
  EXPECT_EQ(sh_c("echo one two | tr a-z A-Z | tr O 0").out, "0NE TW0\n");
  EXPECT_EQ(sh_c("true | false").status, 1);
  EXPECT_EQ(sh_c("false | true").status, 0);
  // The reader of an unread pipe is not waited for forever.
  EXPECT_EQ(sh_c("yes | head -n 2").out, "y\ny\n");
}

TEST_F(ShExec, Redirections) {
  EXPECT_EQ(in_dir("echo first > f; echo second >> f; cat < f").out, "first\nsecond\n");
  EXPECT_EQ(in_dir("echo a > f; echo b > f; cat f").out, "b\n");
  EXPECT_EQ(in_dir("ls /sh-no-such 2> err; cat err | wc -l | tr -d ' '").out, "1\n");
  EXPECT_EQ(in_dir("ls /sh-no-such 2>&1 | wc -l | tr -d ' '").out, "1\n");
  EXPECT_EQ(in_dir("echo to-err >&2").err, "to-err\n");
  EXPECT_EQ(in_dir("> empty; cat empty; echo $?").out, "0\n");
}

TEST_F(ShExec, ABadRedirectionIsStatus1AndRunsNothing) {
  const Outcome r = in_dir("echo never < missing; echo $?");
  EXPECT_EQ(r.out, "1\n");
  EXPECT_EQ(r.err, "sh: missing: No such file or directory\n");
  EXPECT_EQ(in_dir("echo x > no/such/dir/f").status, 1);
}

TEST_F(ShExec, NoDescriptorLeaksFromOneCommandToTheNext) {
  // The shell's descriptors (/proc/PID/fd), listed by a command alone: in a
  // pipeline the list would race with the shell closing its pipe ends.
  const Outcome r = in_dir(
      "ls /proc/$$/fd > before; echo a | cat | cat > f; cat < f > g 2>&1; pwd > p 3> q; cd . > p;"
      "cat < missing; true & wait; false && true | true &\n wait; ls /proc/$$/fd > after; cmp before after");
  EXPECT_EQ(r.status, 0) << r.out << r.err;
}

TEST_F(ShExec, BuiltinRedirectionsAreUndone) {
  EXPECT_EQ(in_dir("pwd > p; echo after; cat p | wc -l | tr -d ' '").out, "after\n1\n");
  // The shell's copy of stdout stays out of the way of fd 3.
  EXPECT_EQ(in_dir("pwd > p 3> q; echo after; cat p q | wc -l | tr -d ' '").out, "after\n1\n");
  EXPECT_EQ(in_dir("cd / 3>&1 > p 2>&1; pwd").out, "/\n");
}

TEST_F(ShExec, AndOrLists) {
  EXPECT_EQ(sh_c("true && echo a || echo b").out, "a\n");
  EXPECT_EQ(sh_c("false && echo a || echo b").out, "b\n");
  EXPECT_EQ(sh_c("false || false || echo $?").out, "1\n");
  EXPECT_EQ(sh_c("true || echo no; echo $?").out, "0\n");
}

TEST_F(ShExec, SyntaxErrorsAreStatus2AndRunNothing) {
  for (const char* line : {"| a", "echo a >", "echo a | | b", "echo 'open", "echo a ;; b"}) {
    const Outcome r = sh_c(line);
    EXPECT_EQ(r.status, 2) << line;
    EXPECT_EQ(r.out, "") << line;
    EXPECT_EQ(r.err.rfind("sh: syntax error", 0), 0u) << line << ": " << r.err;
  }
}

TEST_F(ShExec, CdAndPwd) {
  EXPECT_EQ(sh_c("cd /usr; pwd; cd; pwd").out, "/usr\n/\n");
  const Outcome r = sh_c("cd /sh-no-such; echo $?; pwd");
  EXPECT_EQ(r.out, "1\n/tmp\n");
  EXPECT_EQ(r.err, "sh: cd: /sh-no-such: No such file or directory\n");
}

TEST_F(ShExec, Exit) {
  EXPECT_EQ(sh_c("exit 3; echo no").status, 3);
  EXPECT_EQ(sh_c("false; exit").status, 1);
  EXPECT_EQ(sh_c("exit 256").status, 0);
  const Outcome r = sh_c("exit abc");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "sh: exit: abc: numeric argument required\n");
  EXPECT_EQ(sh_c("exit 1 2; echo still here").out, "still here\n");
  // In a pipeline, exit leaves only its own process.
  EXPECT_EQ(sh_c("exit 4 | true; echo $?").out, "0\n");
}

TEST_F(ShExec, BackgroundJobsAndWait) {
  const Outcome ok = in_dir("sleep 0.2 && echo late > f & echo now; wait; cat f");
  EXPECT_EQ(ok.out, "now\nlate\n");
  EXPECT_EQ(in_dir("echo bg > f & wait $!; cat f").out, "bg\n");
  EXPECT_EQ(sh_c("false & wait $!; echo $?").out, "1\n");
  // Non-interactive: no "[pid]" or "Done" reports.
  EXPECT_EQ(sh_c("true & wait").err, "");
}

TEST_F(ShExec, SignalledChildrenGive128PlusTheSignal) {
  Outcome r = sh_c("/bin/kill -INT $$; echo unreachable");
  EXPECT_EQ(r.status, 130);
  r = sh_c("sleep 5 & /bin/kill -KILL $!; wait $!; echo $?");
  EXPECT_EQ(r.out, "137\n");
  r = run_shell({"-c", "sh -c '/bin/kill -TERM $$'; echo $?"});
  EXPECT_EQ(r.out, "143\n");
  EXPECT_EQ(r.err, "Terminated\n");
}

TEST_F(ShExec, ScriptFilesAndStdin) {
  ASSERT_EQ(in_dir("echo 'echo script $1' > s; echo 'false' >> s; echo 'echo st=$?' >> s").status, 0);
  const Outcome r = run_shell({m_dir + "/s", "arg"});
  EXPECT_EQ(r.out, "script arg\nst=1\n");
  const Outcome missing = run_shell({m_dir + "/none"});
  EXPECT_EQ(missing.status, 127);
  const Outcome in = run_shell({}, "echo a\necho \"b\nc\"\nfalse |\n true && echo d\nexit 5\necho no\n");
  EXPECT_EQ(in.out, "a\nb\nc\nd\n");
  EXPECT_EQ(in.status, 5);
  EXPECT_EQ(in.err, "");  // not a terminal: no prompt
}

TEST_F(ShExec, AScriptStopsAtASyntaxError) {
  const Outcome r = run_shell({}, "echo a\n| b\necho not reached\n");
  EXPECT_EQ(r.out, "a\n");
  EXPECT_EQ(r.status, 2);
  const Outcome end = run_shell({}, "echo a |\n");
  EXPECT_EQ(end.status, 2);
  EXPECT_EQ(end.err, "sh: syntax error: unexpected end of input after `|'\n");
}

// The interactive shell on a pseudo-terminal: type lines, read the screen.
class Terminal {
 public:
  Terminal() {
    const char* shell = shell_path();
    m_pid = forkpty(&m_fd, nullptr, nullptr, nullptr);
    if (m_pid == 0) {
      char path[] = "PATH=/bin:/usr/bin";
      char* envp[] = {path, nullptr};
      char* argv[] = {const_cast<char*>(shell), nullptr};
      execve(argv[0], argv, envp);
      _exit(98);
    }
  }
  ~Terminal() {
    if (m_pid > 0) {
      kill(m_pid, SIGKILL);
      waitpid(m_pid, nullptr, 0);
    }
    close(m_fd);
  }
  void type(const std::string& text) { ASSERT_EQ(write(m_fd, text.data(), text.size()), static_cast<ssize_t>(text.size())); }
  // Reads until the screen so far contains `text` (or the time is up).
  bool wait_for(const std::string& text, std::chrono::milliseconds patience = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + patience;
    while (m_screen.find(text) == std::string::npos) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      pollfd p{m_fd, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      char buffer[1024];
      const ssize_t n = read(m_fd, buffer, sizeof buffer);
      if (n <= 0) return false;
      m_screen.append(buffer, static_cast<size_t>(n));
    }
    return true;
  }
  int exit_status() {
    int status = 0;
    waitpid(m_pid, &status, 0);
    m_pid = -1;
    return WEXITSTATUS(status);
  }
  const std::string& screen() const { return m_screen; }

 private:
  int m_fd = -1;
  pid_t m_pid = -1;
  std::string m_screen;
};

TEST(ShInteractive, PromptsReportsJobsAndSurvivesCtrlC) {
  Terminal t;
  ASSERT_TRUE(t.wait_for("$ "));
  t.type("echo hi\n");
  ASSERT_TRUE(t.wait_for("hi\r\n$ ")) << t.screen();
  // Ctrl-C stops the foreground job, not the shell.
  // (Typed again until it lands: the first may come before the job owns the
  // terminal, and then the shell ignores it.)
  t.type("sleep 10\n");
  ASSERT_TRUE(t.wait_for("sleep 10\r\n"));
  for (int i = 0; i < 20 && !t.wait_for("Interrupt\r\n", std::chrono::milliseconds(250)); ++i) t.type("\x03");
  ASSERT_TRUE(t.wait_for("Interrupt\r\n$ ")) << t.screen();
  t.type("echo st=$?\n");
  ASSERT_TRUE(t.wait_for("st=130")) << t.screen();
  // A background job: "[pid]" now, "[pid] Done" before a later prompt.
  t.type("sleep 0.2 &\n");
  ASSERT_TRUE(t.wait_for("]\r\n$ ")) << t.screen();
  for (int i = 0; i < 20 && !t.wait_for("] Done\r\n$ ", std::chrono::milliseconds(250)); ++i) t.type("\n");
  ASSERT_TRUE(t.wait_for("] Done\r\n$ ")) << t.screen();
  // A continuation line for an open quote.
  t.type("echo \"a\nb\"\n");
  ASSERT_TRUE(t.wait_for("> ")) << t.screen();
  ASSERT_TRUE(t.wait_for("a\r\nb\r\n$ ")) << t.screen();
  t.type("exit 7\n");
  EXPECT_EQ(t.exit_status(), 7);
}

TEST(ShInteractive, EndOfInputSaysExitAndKeepsTheStatus) {
  Terminal t;
  ASSERT_TRUE(t.wait_for("$ "));
  t.type("false\n");
  ASSERT_TRUE(t.wait_for("false\r\n$ ")) << t.screen();
  t.type("\x04");
  ASSERT_TRUE(t.wait_for("exit\r\n")) << t.screen();
  EXPECT_EQ(t.exit_status(), 1);
}

}  // namespace
