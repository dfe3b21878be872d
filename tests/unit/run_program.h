// Runs a host program for the tests of user/sh and user/coreutils (built
// natively against the host's libc): its stdout, stderr and status.
#pragma once

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace run_program {

struct Outcome {
  std::string out;
  std::string err;
  int status;  // exit status, or 128+signal
};

inline std::string drain(int fd) {
  std::string text;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<size_t>(n));
  return text;
}

// The absolute path of a program built beside the tests: the environment
// variable `variable` (meson test sets it), else `fallback` under the
// build directory the tests run from.
inline std::string program_path(const char* variable, const char* fallback) {
  const char* env = getenv(variable);
  char* resolved = realpath(env != nullptr ? env : fallback, nullptr);
  std::string result = resolved != nullptr ? resolved : fallback;
  free(resolved);
  return result;
}

// Runs argv (argv[0] an absolute path) in directory `cwd` with environment
// `env`, feeding `input` on stdin.
inline Outcome run(const std::vector<std::string>& argv, const std::string& input = "", const char* cwd = "/tmp",
                   const std::vector<std::string>& env = {"PATH=/bin:/usr/bin"}) {
  int out[2], err[2], in[2];
  EXPECT_EQ(pipe(out), 0);
  EXPECT_EQ(pipe(err), 0);
  EXPECT_EQ(pipe(in), 0);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) close(fd);
    if (chdir(cwd) != 0) _exit(99);
    execve(args[0], args.data(), envp.data());
    _exit(98);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  // Both pipes drain at once (stderr on a thread), so neither can fill up.
  std::string err_text;
  std::thread err_reader([&] { err_text = drain(err[0]); });
  std::thread in_writer([&] {
    (void)!write(in[1], input.data(), input.size());
    close(in[1]);
  });
  Outcome outcome{drain(out[0]), "", 0};
  err_reader.join();
  in_writer.join();
  close(out[0]);
  close(err[0]);
  int status = 0;
  EXPECT_EQ(waitpid(pid, &status, 0), pid);
  outcome.err = err_text;
  outcome.status = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
  return outcome;
}

}  // namespace run_program
