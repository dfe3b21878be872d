// See builtins.h.
#include "builtins.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <optional>

#include "output.h"
#include "shell.h"

namespace sh {
namespace {

// A whole-string decimal integer (an optional sign, then digits).
std::optional<long> parse_int(const char* text) {
  char* end = nullptr;
  errno = 0;
  const long value = strtol(text, &end, 10);
  if (end == text || *end != '\0' || errno != 0) return std::nullopt;
  return value;
}

// cd [DIR]: DIR defaults to /.
int builtin_cd(Shell&, const Arguments& args) {
  if (args.argc > 2) {
    complain("cd: too many arguments");
    return 1;
  }
  const char* dir = args.argc == 2 ? args.argv[1] : "/";
  if (chdir(dir) < 0) {
    complain("cd: %s: %s", dir, strerror(errno));
    return 1;
  }
  return 0;
}

int builtin_pwd(Shell&, const Arguments&) {
  char path[1024];
  if (getcwd(path, sizeof path) == nullptr) {
    complain("pwd: %s", strerror(errno));
    return 1;
  }
  say(STDOUT_FILENO, "%s\n", path);
  return 0;
}

// exit [N]: N defaults to the last status.
int builtin_exit(Shell& shell, const Arguments& args) {
  if (args.argc > 2) {
    complain("exit: too many arguments");
    return 1;
  }
  long status = shell.last_status();
  if (args.argc == 2) {
    const auto number = parse_int(args.argv[1]);
    if (!number) complain("exit: %s: numeric argument required", args.argv[1]);
    status = number.value_or(2);
  }
  shell.exit_shell(static_cast<int>(status));
}

// wait [PID...]: waits for the given background jobs, or for all of them.
int builtin_wait(Shell& shell, const Arguments& args) {
  if (args.argc == 1) return shell.jobs().wait_for(-1);
  int status = 0;
  for (int i = 1; i < args.argc; ++i) {
    const auto pid = parse_int(args.argv[i]);
    if (!pid || *pid <= 0) {
      complain("wait: %s: not a pid", args.argv[i]);
      status = 2;
      continue;
    }
    status = shell.jobs().wait_for(static_cast<pid_t>(*pid));
  }
  return status;
}

struct Entry {
  const char* name;
  Builtin builtin;
};

constexpr Entry kBuiltins[] = {
    {"cd", builtin_cd},
    {"exit", builtin_exit},
    {"pwd", builtin_pwd},
    {"wait", builtin_wait},
};

}  // namespace

Builtin find_builtin(const char* name) {
  for (const Entry& entry : kBuiltins) {
    if (strcmp(entry.name, name) == 0) return entry.builtin;
  }
  return nullptr;
}

}  // namespace sh
