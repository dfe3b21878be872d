// The utilities (user/coreutils), built natively against the host's libc
// and run as programs in a scratch directory: their output, their messages
// and their exit status. ps is not here: it asks procmgr for the process
// list, which only ukos has.
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "run_program.h"

namespace {

using run_program::Outcome;

class Coreutils : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/coreutils_test.XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    m_dir = pattern;
  }
  void TearDown() override { run_program::run({"/bin/rm", "-rf", m_dir}); }

  // Runs utility `name` with `args` in the scratch directory.
  Outcome run(const std::string& name, const std::vector<std::string>& args = {}, const std::string& input = "") {
    static const std::string dir = run_program::program_path("COREUTILS_HOST_DIR", "user/coreutils");
    std::vector<std::string> argv{dir + "/" + name + "_host"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_program::run(argv, input, m_dir.c_str());
  }

  void write_file(const std::string& name, const std::string& text) {
    std::ofstream(m_dir + "/" + name) << text;
  }
  bool exists(const std::string& name) {
    struct stat st;
    return stat((m_dir + "/" + name).c_str(), &st) == 0;
  }
  bool is_dir(const std::string& name) {
    struct stat st;
    return stat((m_dir + "/" + name).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  }

  std::string m_dir;
};

TEST_F(Coreutils, TrueAndFalse) {
  EXPECT_EQ(run("true").status, 0);
  EXPECT_EQ(run("true", {"ignored", "--help"}).status, 0);
  EXPECT_EQ(run("false").status, 1);
  EXPECT_EQ(run("false").out, "");
}

TEST_F(Coreutils, Echo) {
  EXPECT_EQ(run("echo", {"hello", "a  b", "c"}).out, "hello a  b c\n");
  EXPECT_EQ(run("echo").out, "\n");
  EXPECT_EQ(run("echo", {"-n", "no", "newline"}).out, "no newline");
  EXPECT_EQ(run("echo", {"-n"}).out, "");
  EXPECT_EQ(run("echo", {"a\\nb", "-n"}).out, "a\\nb -n\n");
}

TEST_F(Coreutils, Pwd) {
  const Outcome r = run("pwd");
  char real[4096];
  ASSERT_NE(realpath(m_dir.c_str(), real), nullptr);
  EXPECT_EQ(r.out, std::string(real) + "\n");
  EXPECT_EQ(r.status, 0);
}

TEST_F(Coreutils, CatCopiesFilesAndStdin) {
  write_file("a", "alpha\n");
  write_file("b", "beta");
  EXPECT_EQ(run("cat", {"a", "b", "a"}).out, "alpha\nbetaalpha\n");
  EXPECT_EQ(run("cat", {}, "from stdin\n").out, "from stdin\n");
  EXPECT_EQ(run("cat", {"a", "-", "b"}, "middle\n").out, "alpha\nmiddle\nbeta");
  std::string big(100000, 'x');
  EXPECT_EQ(run("cat", {}, big).out, big);
}

TEST_F(Coreutils, CatReportsAMissingFileAndGoesOn) {
  write_file("a", "alpha\n");
  const Outcome r = run("cat", {"a", "missing", "a"});
  EXPECT_EQ(r.out, "alpha\nalpha\n");
  EXPECT_EQ(r.err, "cat: missing: No such file or directory\n");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(run("cat", {"."}).status, 1);  // a directory cannot be read
}

TEST_F(Coreutils, LsListsSortedWithoutDots) {
  write_file("b", "");
  write_file("a", "12345");
  ASSERT_EQ(mkdir((m_dir + "/c").c_str(), 0777), 0);
  EXPECT_EQ(run("ls").out, "a\nb\nc\n");
  EXPECT_EQ(run("ls", {"."}).out, "a\nb\nc\n");
  EXPECT_EQ(run("ls", {"-a"}).out, ".\n..\na\nb\nc\n");
  EXPECT_EQ(run("ls", {"a"}).out, "a\n");
  EXPECT_EQ(run("ls", {"c"}).out, "");
}

TEST_F(Coreutils, LsLongFormatShowsTypeAndSize) {
  write_file("a", "12345");
  ASSERT_EQ(mkdir((m_dir + "/d").c_str(), 0777), 0);
  const Outcome r = run("ls", {"-l"});
  std::istringstream lines(r.out);
  std::string line;
  ASSERT_TRUE(std::getline(lines, line));
  EXPECT_EQ(line, "-        5 a");
  ASSERT_TRUE(std::getline(lines, line));
  EXPECT_EQ(line.front(), 'd');
  EXPECT_EQ(line.substr(line.size() - 2), " d");
  EXPECT_EQ(run("ls", {"-l", "a"}).out, "-        5 a\n");
  EXPECT_EQ(run("ls", {"-la", "d"}).out.substr(0, 1), "d");
}

TEST_F(Coreutils, LsWithSeveralOperandsHeadsEachDirectory) {
  ASSERT_EQ(mkdir((m_dir + "/x").c_str(), 0777), 0);
  ASSERT_EQ(mkdir((m_dir + "/y").c_str(), 0777), 0);
  write_file("x/1", "");
  write_file("y/2", "");
  EXPECT_EQ(run("ls", {"x", "y"}).out, "x:\n1\n\ny:\n2\n");
}

TEST_F(Coreutils, LsReportsErrors) {
  write_file("a", "");
  const Outcome r = run("ls", {"missing", "a"});
  EXPECT_EQ(r.out, "a\n");
  EXPECT_EQ(r.err, "ls: missing: No such file or directory\n");
  EXPECT_EQ(r.status, 1);
  const Outcome bad = run("ls", {"-z"});
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.err.find("ls: -z: unknown option"), std::string::npos);
}

TEST_F(Coreutils, Mkdir) {
  EXPECT_EQ(run("mkdir", {"d1", "d2"}).status, 0);
  EXPECT_TRUE(is_dir("d1"));
  EXPECT_TRUE(is_dir("d2"));
  const Outcome again = run("mkdir", {"d1"});
  EXPECT_EQ(again.status, 1);
  EXPECT_EQ(again.err, "mkdir: d1: File exists\n");
  const Outcome nested = run("mkdir", {"p/q"});
  EXPECT_EQ(nested.status, 1);
  EXPECT_EQ(nested.err, "mkdir: p/q: No such file or directory\n");
  EXPECT_EQ(run("mkdir", {"-p", "p/q/r", "d1"}).status, 0);
  EXPECT_TRUE(is_dir("p/q/r"));
  EXPECT_EQ(run("mkdir").status, 1);
}

TEST_F(Coreutils, Rm) {
  write_file("f", "x");
  EXPECT_EQ(run("rm", {"f"}).status, 0);
  EXPECT_FALSE(exists("f"));
  const Outcome missing = run("rm", {"f"});
  EXPECT_EQ(missing.status, 1);
  EXPECT_EQ(missing.err, "rm: f: No such file or directory\n");
  EXPECT_EQ(run("rm", {"-f", "f"}).status, 0);
  EXPECT_EQ(run("rm", {"-f", "f"}).err, "");
}

TEST_F(Coreutils, RmDirectoriesNeedR) {
  ASSERT_EQ(run("mkdir", {"-p", "t/a/b", "t/c"}).status, 0);
  write_file("t/a/b/f1", "1");
  write_file("t/f2", "2");
  const Outcome plain = run("rm", {"t"});
  EXPECT_EQ(plain.status, 1);
  EXPECT_EQ(plain.err, "rm: t: Is a directory\n");
  EXPECT_TRUE(exists("t/f2"));
  EXPECT_EQ(run("rm", {"-r", "t"}).status, 0);
  EXPECT_FALSE(exists("t"));
}

TEST_F(Coreutils, Sleep) {
  EXPECT_EQ(run("sleep", {"0"}).status, 0);
  EXPECT_EQ(run("sleep", {"x"}).status, 1);
  EXPECT_EQ(run("sleep").status, 1);
}

// A child that waits to be killed; its wait status once it is.
class Victim {
 public:
  Victim() {
    m_pid = fork();
    if (m_pid == 0) {
      for (;;) pause();
    }
  }
  ~Victim() {
    if (m_pid > 0) {
      kill(m_pid, SIGKILL);
      waitpid(m_pid, nullptr, 0);
    }
  }
  std::string pid() const { return std::to_string(m_pid); }
  int signal_received() {
    int status = 0;
    waitpid(m_pid, &status, 0);
    m_pid = -1;
    return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  }

 private:
  pid_t m_pid;
};

TEST_F(Coreutils, KillSendsTermByDefault) {
  Victim v;
  EXPECT_EQ(run("kill", {v.pid()}).status, 0);
  EXPECT_EQ(v.signal_received(), SIGTERM);
}

TEST_F(Coreutils, KillTakesNumbersAndNames) {
  const std::vector<std::pair<std::vector<std::string>, int>> cases = {
      {{"-9"}, SIGKILL},   {{"-KILL"}, SIGKILL}, {{"-SIGKILL"}, SIGKILL}, {{"-TERM"}, SIGTERM},
      {{"-INT"}, SIGINT},  {{"-2"}, SIGINT},     {{"-s", "HUP"}, SIGHUP}, {{"-s", "15"}, SIGTERM},
  };
  for (const auto& [flags, sig] : cases) {
    Victim v;
    std::vector<std::string> args = flags;
    args.push_back(v.pid());
    EXPECT_EQ(run("kill", args).status, 0) << flags[0];
    EXPECT_EQ(v.signal_received(), sig) << flags[0];
  }
}

TEST_F(Coreutils, KillReportsErrors) {
  Outcome r = run("kill", {"-FOO", "1"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "kill: FOO: invalid signal\n");
  r = run("kill", {"abc"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "kill: abc: not a process id\n");
  r = run("kill", {"2147483000"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "kill: 2147483000: No such process\n");
  r = run("kill");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("usage"), std::string::npos);
  // One bad pid does not stop the others.
  Victim v;
  r = run("kill", {"abc", v.pid()});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(v.signal_received(), SIGTERM);
}

TEST_F(Coreutils, KillListsSignals) {
  const Outcome r = run("kill", {"-l"});
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find(" 9 KILL\n"), std::string::npos);
  EXPECT_NE(r.out.find("15 TERM\n"), std::string::npos);
}

}  // namespace
