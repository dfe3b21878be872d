// sh: a small POSIX-style shell (see shell.h for how commands run and
// parse.h for what it understands).
//
//   sh                    commands from stdin; prompts "$ " on a console
//   sh -c 'CMD' [NAME [ARG...]]   runs CMD, with $0 NAME and $1... ARGs
//   sh FILE [ARG...]      runs the script FILE, with $0 FILE
//
// Exits with the status of the last command, 2 after a syntax error when
// not interactive, 127 when FILE cannot be opened.
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "input.h"
#include "output.h"
#include "shell.h"

namespace {

// Runs lines from fd until the end of input, gathering continuation lines
// ("> ") while the text so far is incomplete.
[[noreturn]] void run_lines(sh::Shell& shell, int fd) {
  sh::LineReader reader(fd);
  sh::Text text;
  for (;;) {
    shell.reap_jobs();
    if (shell.interactive()) sh::say(STDERR_FILENO, "$ ");
    auto line = reader.next();
    if (!line) {
      if (shell.interactive()) sh::say(STDERR_FILENO, "exit\n");  // Ctrl-D: say why the shell ends
      break;
    }
    text.clear();
    if (!text.append(*line)) {
      sh::complain("out of memory");
      continue;
    }
    while (!shell.run_if_complete(text.view())) {
      if (shell.interactive()) sh::say(STDERR_FILENO, "> ");
      auto more = reader.next();
      if (!more) {
        shell.run(text.view());  // reports what is missing
        break;
      }
      if (!text.append("\n") || !text.append(*more)) {
        sh::complain("out of memory");
        break;
      }
    }
  }
  shell.exit_shell(shell.last_status());
}

}  // namespace

int main(int argc, char** argv) {
  sh::Options options{};
  options.name = argc > 0 ? argv[0] : "sh";
  if (argc >= 2 && strcmp(argv[1], "-c") == 0) {
    if (argc < 3) {
      sh::complain("-c: option requires an argument");
      return 2;
    }
    if (argc >= 4) {
      options.name = argv[3];
      options.arguments = argv + 4;
      options.argument_count = argc - 4;
    }
    sh::Shell shell(options);
    shell.run(argv[2]);
    shell.exit_shell(shell.last_status());
  }
  if (argc >= 2 && argv[1][0] == '-' && argv[1][1] != '\0') {
    sh::complain("%s: invalid option", argv[1]);
    return 2;
  }
  int fd = STDIN_FILENO;
  if (argc >= 2) {
    options.name = argv[1];
    options.arguments = argv + 2;
    options.argument_count = argc - 2;
    fd = open(argv[1], O_RDONLY);
    if (fd < 0) {
      const int error = errno;
      sh::complain("%s: %s", argv[1], strerror(error));
      return error == ENOENT ? 127 : 126;
    }
    options.script_fd = fd;
  } else {
    options.interactive = isatty(STDIN_FILENO) == 1;
  }
  sh::Shell shell(options);
  run_lines(shell, fd);
}
